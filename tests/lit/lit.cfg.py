# lit configuration for accel's IR tests (tests/lit/**/*.mlir).
import os

import lit.formats

config.name = "accel"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
# Runfiles are read-only in spirit; scratch files (%t) go to the test's tmpdir.
config.test_exec_root = os.path.join(
    os.environ.get("TEST_TMPDIR", "/tmp"), "accel-lit")
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

# Example models are exported at test time with Debian's Python and PyTorch
# (python3-torch), the same LibTorch 1.13 that accel-import links.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(
    ("%examples", os.path.join(os.path.dirname(__file__), "..", "..", "examples")))

# Driver plugins (runtime/hal/plugins) and the test fixtures among them
# (tests/hal), for ACCEL_DRIVER_PATH.
root = os.path.join(os.path.dirname(__file__), "..", "..")
config.substitutions.append(
    ("%drivers", os.path.join(root, "runtime", "hal", "plugins")))
config.substitutions.append(("%testdrivers", os.path.join(root, "tests", "hal")))

# The CUDA toolkit's assembler, for the CUDA driver's offline kernel check;
# and whether this machine has an NVIDIA GPU (tests that need one say
# `REQUIRES: cuda-device` and are reported UNSUPPORTED without).
config.substitutions.append(("%ptxas", "/usr/local/cuda/bin/ptxas"))
if os.path.exists("/dev/nvidiactl") or os.path.exists("/dev/nvidia0"):
    config.available_features.add("cuda-device")
else:
    lit_config.note("no NVIDIA GPU here: tests that REQUIRE cuda-device are "
                    "skipped")

# The reference environment (tools/setup-reference.sh): a current PyTorch
# from PyPI, for semantics LibTorch 1.13 lacks (CPU fp16 autocast,
# GradScaler on the CPU). Tests that need it say `REQUIRES: reference` and
# are reported UNSUPPORTED, with the reason below, where it is absent.
reference_dir = os.environ.get("ACCEL_REFERENCE_DIR") or os.path.join(
    os.environ.get("HOME", "/root"), ".cache", "accel", "reference")
reference_python = os.path.join(reference_dir, "bin", "python")
if os.access(reference_python, os.X_OK):
    config.available_features.add("reference")
else:
    lit_config.note("no reference environment at " + reference_dir +
                    " (run tools/setup-reference.sh): tests that REQUIRE "
                    "reference are skipped")
config.substitutions.append(("%refpython", reference_python))

# `bazel test --config=asan` builds the tools with AddressSanitizer and says
# so here: the few tests that cannot run under it (an address-space limit)
# are marked `UNSUPPORTED: asan`.
if os.environ.get("ACCEL_SANITIZERS"):
    config.available_features.add("asan")
# torch writes caches under HOME; keep them in the test's scratch space.
config.environment["HOME"] = os.environ.get("TEST_TMPDIR", "/tmp")
