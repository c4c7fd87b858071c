#!/usr/bin/env bash
# Fuzzes accel's input readers with libFuzzer, AddressSanitizer and UBSan
# (clang 14 from Debian: clang-14, libclang-rt-14-dev): the safetensors
# reader, the IDX/gzip reader, checkpoint manifests, program files
# (step.accelprog), the bracket-depth
# check that guards the MLIR and TorchScript parsers, accel-run's program
# loader on MLIR text and accel-import's archive readers (TorchScript and
# torch.export)
# (tests/fuzz/*Fuzzer.cpp).
#
# The last two need the whole compiler: bazel builds it as usual, and only
# the code under test (the loader; the importer) is compiled here with
# clang, instrumented for coverage and the sanitizers, then linked against
# bazel's libraries.
#
# Each target starts from its seed corpus (tests/fuzz/corpus/<target>/, copied,
# so the repository is not changed) and runs for SECONDS. A crash stops the
# script with the input's path: add that input under
# tests/fuzz/regressions/<target>/, where `bazel test //tests/fuzz/...`
# replays it for good, and fix the reader.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]     (default: 60 s each, every target)
#   FUZZ_RUNS=N tools/fuzz.sh SECONDS ...  (also stop after N executions)
#   FUZZ_FORK=J tools/fuzz.sh SECONDS ...  (J processes at once, libFuzzer's
#                                           -fork=J: one corpus, one count)
#
# Prints each target's executions; docs/reliability.md has a measured run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx manifest programfile nesting program archive)

cxx=${FUZZ_CXX:-clang++-14}
llvm=/usr/lib/llvm-22
out=${FUZZ_OUT:-${TMPDIR:-/tmp}/accel-fuzz}
mkdir -p "$out"
# No vptr checks: they need the typeinfo of every polymorphic class the code
# touches, and LibTorch 1.13 exports none for some (c10::DynamicType), as
# the --config=asan build found too.
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize=vptr
       -fno-sanitize-recover=undefined -I. -I"$llvm/include")
libs=(-L"$llvm/lib" -lLLVM-22 -Wl,-rpath,"$llvm/lib" -lz)

sources_for() {
  case $1 in
    safetensors) echo runtime/io/Safetensors.cpp runtime/io/BoundedJson.cpp ;;
    idx) echo runtime/io/Idx.cpp ;;
    manifest) echo runtime/io/Checkpoint.cpp runtime/io/Safetensors.cpp runtime/io/BoundedJson.cpp ;;
    programfile) echo runtime/io/ProgramFile.cpp runtime/executor/ProgramCheck.cpp runtime/executor/InstructionCheck.cpp ;;
    nesting) echo compiler/support/Nesting.cpp ;;
    program) echo compiler/lowering/ProgramLoader.cpp ;;
    archive) echo compiler/import/TorchScriptImporter.cpp compiler/import/ExportedProgramImporter.cpp compiler/import/GraphLowering.cpp compiler/import/GraphImporter.cpp compiler/import/AtenOps.cpp compiler/import/LoadProbe.cpp ;;
    *) echo "fuzz.sh: unknown target '$1' (safetensors, idx, manifest, programfile, nesting, program, archive)" >&2; exit 2 ;;
  esac
}

# For the targets built on bazel's libraries: the library their
# instrumented sources replace. The program-file reader's checks
# (ProgramCheck, InstructionCheck) are compiled in instrumented too; their
# uninstrumented copies in the executor's library, which the reader links
# for its kernels' table, are overridden by the binary's own.
replaced_library() {
  case $1 in
    programfile) echo runtime_Sio_Slibprogram_Ufile ;;
    program) echo compiler_Slowering_Slibprogram_Uloader ;;
    archive) echo compiler_Simport_Slibimport ;;
  esac
}

# Compiler and linker flags that put a target on bazel's build of the rest:
# its generated headers, and the shared libraries of the replay test's link
# (bazel-bin/tests/fuzz/<target>_fuzzer_replay-2.params) less the
# replay driver and the replaced library.
bazel_flags() {
  local target=$1 bin params
  bazel build --noshow_progress //tests/fuzz:"$target"_fuzzer_replay >&2
  bin=$(bazel info bazel-bin 2>/dev/null)
  params="$bin/tests/fuzz/${target}_fuzzer_replay-2.params"
  echo "-I$bin -I/usr/include/torch/csrc/api/include -L$bin/_solib_k8 -Wl,-rpath,$bin/_solib_k8"
  grep -E '^-l' "$params" | grep -v -e replay_Umain -e "$(replaced_library "$target")" | tr '\n' ' '
}

status=0
for target in "${targets[@]}"; do
  source=tests/fuzz/$(tr '[:lower:]' '[:upper:]' <<< "${target:0:1}")${target:1}Fuzzer.cpp
  [ "$target" = idx ] && source=tests/fuzz/IdxFuzzer.cpp
  [ "$target" = programfile ] && source=tests/fuzz/ProgramFileFuzzer.cpp
  binary="$out/$target-fuzzer"
  extra=""
  [ -n "$(replaced_library "$target")" ] && extra="-DNDEBUG $(bazel_flags "$target")"
  # shellcheck disable=SC2046,SC2086
  "$cxx" "${flags[@]}" "$source" $(sources_for "$target") $extra "${libs[@]}" -o "$binary"
  corpus="$out/$target-corpus"
  rm -rf "$corpus" && mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$target"/* "$corpus"/
  [ -d tests/fuzz/regressions/"$target" ] && cp tests/fuzz/regressions/"$target"/* "$corpus"/
  log="$out/$target.log"
  dict=()
  [ -f tests/fuzz/"$target".dict ] && dict=(-dict="$PWD/tests/fuzz/$target.dict")
  # LibTorch 1.13 leaks on some error paths of its TorchScript compiler
  # (the reports stop inside libtorch_cpu): no leak detection for the
  # importer, as in tests/lit/import/errors-asan.test.
  # The importer forks a helper process per archive (LoadProbe.cpp), and a
  # fork copies the page tables of all the memory the process holds: a
  # 16 MiB quarantine of freed memory instead of 256 halves the fuzzer's.
  # Nor does it record where each block was allocated and freed (a stack
  # walk per malloc and free, of which LibTorch makes many: 20% of the
  # time); a crash's input replays with full reports.
  asan=detect_leaks=1
  [ "$target" = archive ] &&
    asan=detect_leaks=0:quarantine_size_mb=16:malloc_context_size=0
  runs=()
  [ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
  [ -n "${FUZZ_FORK:-}" ] && runs+=(-fork="$FUZZ_FORK")
  start=$SECONDS
  if (cd "$out" && ASAN_OPTIONS=$asan "$binary" "$corpus" "${dict[@]}" \
        -max_total_time="$seconds" "${runs[@]}" -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$out/$target-" >"$log" 2>&1); then
    # One process says "Done N runs"; with -fork the last "#N:" line counts.
    done_runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' ||
                  grep -o '^#[0-9]*:' "$log" | tail -1 | tr -dc '0-9' || echo '?')
    echo "fuzz: $target: $done_runs executions in $((SECONDS - start)) s, no crash"
  else
    echo "fuzz: $target: CRASH (log: $log); the input:" >&2
    ls "$out/$target-"crash-* "$out/$target-"leak-* "$out/$target-"timeout-* 2>/dev/null >&2 || true
    tail -30 "$log" >&2
    status=1
  fi
done
exit $status
