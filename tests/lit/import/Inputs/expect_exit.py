#!/usr/bin/env python3
"""Usage: expect_exit.py CODE COMMAND...

Runs COMMAND and passes when it exits with exactly CODE and prints no
sanitizer report: a bad input must end in a clean error, not a crash (which
`not` alone would accept). Forwards the command's output."""
import subprocess
import sys

code = int(sys.argv[1])
result = subprocess.run(sys.argv[2:], capture_output=True, text=True)
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
if "Sanitizer" in result.stderr:
    sys.exit("expect_exit: the command reported a sanitizer error")
if result.returncode != code:
    sys.exit("expect_exit: exit code %d, expected %d" % (result.returncode, code))
