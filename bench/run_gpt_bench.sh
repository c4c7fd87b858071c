#!/usr/bin/env bash
# Compiles the GPT example's AdamW step at a small size and times it against
# LibTorch:  bench/run_gpt_bench.sh [THREADS]   (from the repository root)
# Size: vocab 64, context 64, width 128, 4 heads, 2 layers, dropout 0.1,
# batch 16 (override with GPT_ARGS / BATCH).
set -euo pipefail
threads=${1:-2}
batch=${BATCH:-16}
read -r -a gpt <<< "${GPT_ARGS:---vocab 64 --block 64 --embd 128 --heads 4 --layers 2 --dropout 0.1}"
vocab=64 block=64
for ((i = 0; i < ${#gpt[@]}; i++)); do
  case "${gpt[i]}" in --vocab) vocab=${gpt[i+1]} ;; --block) block=${gpt[i+1]} ;; esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bazel build //bench:gpt_step_bench //tools/accel-import //tools/accel-opt >/dev/null
/usr/bin/python3 examples/gpt/export.py --mode script "${gpt[@]}" --out "$work/gpt.pt"
bazel-bin/tools/accel-import/accel-import "$work/gpt.pt" \
  --input "idx=${batch}x${block}xi64" --input "targets=${batch}x${block}xi64" \
  -o "$work/gpt.mlir" --params-out "$work/init.safetensors"
bazel-bin/tools/accel-opt/accel-opt "$work/gpt.mlir" \
  --accel-train-pipeline="kind=adamw" -o "$work/step.mlir"
bazel-bin/bench/gpt_step_bench --model "$work/gpt.pt" --step "$work/step.mlir" \
  --params "$work/init.safetensors" --batch "$batch" --block "$block" \
  --vocab "$vocab" --threads "$threads"
