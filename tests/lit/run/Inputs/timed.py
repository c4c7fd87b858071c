#!/usr/bin/env python3
"""timed.py SECONDS COMMAND...: runs COMMAND, passing on its output and exit
status; prints "timed: exited within the limit" if it ended within SECONDS,
else kills it and fails (a hang must not pass as an error exit)."""
import subprocess
import sys

limit = float(sys.argv[1])
proc = subprocess.Popen(sys.argv[2:])
try:
    code = proc.wait(timeout=limit)
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
    print("timed: still running after %g s, killed" % limit, flush=True)
    sys.exit(125)
print("timed: exited within the limit", flush=True)
sys.exit(code)
