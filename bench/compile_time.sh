#!/usr/bin/env bash
# Compile time against model depth: the GPT example (examples/gpt, default
# size: vocab 64, context 16, width 32, 4 heads, dropout 0.1, batch 8) at
# several layer counts, through accel-opt's AdamW training pipeline and then
# the lowering accel-run's loader does (inline, fuse, plan memory). Prints
# seconds (best of 3) and seconds per layer, which stay flat when compile
# time is linear in depth.
#
#   bench/compile_time.sh [LAYERS...]     (default: 6 24 48)
set -euo pipefail
cd "$(dirname "$0")/.."
layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(6 24 48)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bazel build --noshow_progress //tools/accel-import //tools/accel-opt >/dev/null 2>&1
opt=bazel-bin/tools/accel-opt/accel-opt

# Best of three wall times of a command, in seconds.
best_of_3() {
  local best="" start end t
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  printf '%.3f' "$best"
}

echo "| layers | accel ops (forward, gradient, step) | train pipeline s | lowering s | total s | s per layer |"
echo "|---|---|---|---|---|---|"
for n in "${layers[@]}"; do
  /usr/bin/python3 examples/gpt/export.py --mode script --layers "$n" --out "$work/gpt$n.pt" >/dev/null
  bazel-bin/tools/accel-import/accel-import "$work/gpt$n.pt" --input idx=8x16xi64 \
    --input targets=8x16xi64 -o "$work/gpt$n.mlir"
  train=$(best_of_3 "$opt" "$work/gpt$n.mlir" --accel-train-pipeline="kind=adamw" -o "$work/step$n.mlir")
  "$opt" "$work/gpt$n.mlir" --accel-train-pipeline="kind=adamw" -o "$work/step$n.mlir"
  lower=$(best_of_3 "$opt" "$work/step$n.mlir" -o "$work/planned$n.mlir" \
    --pass-pipeline="builtin.module(inline,func.func(accel-fuse-elementwise),accel-plan-memory{entry=train_step})")
  ops=$(grep -c ' = accel\.' "$work/step$n.mlir" || true)
  total=$(echo "$train + $lower" | bc -l)
  printf '| %s | %s | %s | %s | %.3f | %.4f |\n' "$n" "$ops" "$train" "$lower" "$total" \
    "$(echo "$total / $n" | bc -l)"
done
