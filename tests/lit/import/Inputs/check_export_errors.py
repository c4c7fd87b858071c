"""Runs accel-import-asan on every bad archive of bad_exports.py (and the
truncated and text ones the test writes): each must exit 1 with one error
line and no sanitizer report, and write no output; the good archive must
import cleanly. Usage: check_export_errors.py DIR"""
import os
import subprocess
import sys

d = sys.argv[1]
env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
failures = 0
for name in sorted(os.listdir(d)):
    if not name.endswith(".pt2"):
        continue
    good = name in ("linear.pt2", "dynamic.pt2")
    out = os.path.join(d, "asan-" + name + ".mlir")
    inputs = ["--input", ("x" if name == "cumsum.pt2" else "input") + "=4x20xf32"]
    if good:
        inputs += ["--loss", "mse", "--target", "t=4x4xf32"]
    run = subprocess.run(["accel-import-asan", os.path.join(d, name), *inputs,
                          "-o", out, "--params-out", out + ".safetensors"],
                         env=env, capture_output=True, text=True)
    expected = 0 if good else 1
    clean = "Sanitizer" not in run.stderr and "runtime error" not in run.stderr
    written = os.path.exists(out) or os.path.exists(out + ".safetensors")
    if run.returncode != expected or not clean or written != good:
        failures += 1
        print(f"FAIL {name}: exit {run.returncode}, written {written}\n{run.stderr}")
    else:
        print(f"ok   {name}: exit {run.returncode}")
sys.exit(1 if failures else 0)
