#!/usr/bin/env bash
# Fuzzes accel's input readers with libFuzzer, AddressSanitizer and UBSan
# (clang 14 from Debian: clang-14, libclang-rt-14-dev): the safetensors
# reader, the IDX/gzip reader, checkpoint manifests and the bracket-depth
# check that guards the MLIR and TorchScript parsers (tests/fuzz/*Fuzzer.cpp).
# Each target starts from its seed corpus (tests/fuzz/corpus/<target>/, copied,
# so the repository is not changed) and runs for SECONDS. A crash stops the
# script with the input's path: add that input under
# tests/fuzz/regressions/<target>/, where `bazel test //tests/fuzz/...`
# replays it for good, and fix the reader.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]     (default: 60 s each, every target)
#
# Prints each target's executions; docs/reliability.md has a measured run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx manifest nesting)

cxx=${FUZZ_CXX:-clang++-14}
llvm=/usr/lib/llvm-22
out=${FUZZ_OUT:-${TMPDIR:-/tmp}/accel-fuzz}
mkdir -p "$out"
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I. -I"$llvm/include")
libs=(-L"$llvm/lib" -lLLVM-22 -Wl,-rpath,"$llvm/lib" -lz)

sources_for() {
  case $1 in
    safetensors) echo runtime/io/Safetensors.cpp runtime/io/BoundedJson.cpp ;;
    idx) echo runtime/io/Idx.cpp ;;
    manifest) echo runtime/io/Checkpoint.cpp runtime/io/Safetensors.cpp runtime/io/BoundedJson.cpp ;;
    nesting) echo compiler/support/Nesting.cpp ;;
    *) echo "fuzz.sh: unknown target '$1' (safetensors, idx, manifest, nesting)" >&2; exit 2 ;;
  esac
}

status=0
for target in "${targets[@]}"; do
  source=tests/fuzz/$(tr '[:lower:]' '[:upper:]' <<< "${target:0:1}")${target:1}Fuzzer.cpp
  [ "$target" = idx ] && source=tests/fuzz/IdxFuzzer.cpp
  binary="$out/$target-fuzzer"
  # shellcheck disable=SC2046
  "$cxx" "${flags[@]}" "$source" $(sources_for "$target") "${libs[@]}" -o "$binary"
  corpus="$out/$target-corpus"
  rm -rf "$corpus" && mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$target"/* "$corpus"/
  [ -d tests/fuzz/regressions/"$target" ] && cp tests/fuzz/regressions/"$target"/* "$corpus"/
  log="$out/$target.log"
  if (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "$binary" "$corpus" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$out/$target-" >"$log" 2>&1); then
    runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || echo '?')
    echo "fuzz: $target: $runs executions in ${seconds} s, no crash"
  else
    echo "fuzz: $target: CRASH (log: $log); the input:" >&2
    ls "$out/$target-"crash-* "$out/$target-"leak-* "$out/$target-"timeout-* 2>/dev/null >&2 || true
    tail -30 "$log" >&2
    status=1
  fi
done
exit $status
