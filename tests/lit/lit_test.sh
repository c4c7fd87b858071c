#!/usr/bin/env bash
# Runs one lit test file from Bazel's runfiles: the RUN lines see the accel
# tools built by Bazel (those in the test's data) and FileCheck, not, count
# (from LLVM 22) on their PATH. Further arguments go to lit: to see every
# command's output (the parity tests print their measurements),
#   bazel test //tests/lit/precision:gpt-parity.test.test --test_arg=-a --test_output=all
set -euo pipefail
root="${TEST_SRCDIR:?run under bazel test}"
export FILECHECK_OPTS=--enable-var-scope
exec "$root/llvm/bin/lit" --verbose \
  --path "$root/accel/tools/accel-opt" \
  --path "$root/accel/tools/accel-import" \
  --path "$root/accel/tools/accel-run" \
  --path "$root/accel/tools/accel-plot" \
  --path "$root/accel/tools/accel-checkpoint" \
  --path "$root/accel/tests/parity" \
  --path "$root/accel/tests/runtime" \
  --path "$root/accel/runtime/hal/plugins/cuda" \
  --path "$root/llvm/bin" \
  "$root/accel/$1" "${@:2}"
