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
