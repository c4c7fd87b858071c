#!/usr/bin/env bash
# The GPT example trained in fp32, bf16 and fp16 (dynamic loss scaling) on
# the same data, seed and dropout masks: each step's planned arena, the
# precision report's totals, the final losses, and one plot of the three
# loss curves (docs/precision.md shows it).
#
#   examples/gpt/train_precision.sh [OUT_DIR] [STEPS]   (default: out/gpt-precision 300)
#
# Run from the repository root after `bazel build //...`.
set -euo pipefail
out=${1:-out/gpt-precision}
steps=${2:-300}
bin=bazel-bin/tools
mkdir -p "$out"

/usr/bin/python3 examples/gpt/export.py --mode script --vocab 64 --block 64 \
  --embd 128 --heads 4 --layers 2 --dropout 0.1 --out "$out/gpt.pt"
/usr/bin/python3 examples/gpt/make_dataset.py --block 64 --out "$out/text.safetensors"
"$bin/accel-import/accel-import" "$out/gpt.pt" --input idx=16x64xi64 \
  --input targets=16x64xi64 -o "$out/gpt.mlir" --params-out "$out/init.safetensors"

runs=()
for precision in fp32 bf16 fp16; do
  "$bin/accel-opt/accel-opt" "$out/gpt.mlir" \
    --accel-train-pipeline="kind=adamw lr=3e-3 precision=$precision" \
    --accel-precision-report="output=$out/report-$precision.txt" \
    -o "$out/step-$precision.mlir"
  arena=$("$bin/accel-opt/accel-opt" "$out/step-$precision.mlir" --inline \
    --accel-fuse-elementwise --accel-plan-memory -o /dev/null 2>&1 |
    sed -n 's/.*remark: arena of \([0-9]*\) bytes.*/\1/p')
  echo "== $precision: planned arena $arena bytes"
  tail -4 "$out/report-$precision.txt"
  "$bin/accel-run/accel-run" "$out/step-$precision.mlir" \
    --params "$out/init.safetensors" --data "$out/text.safetensors" \
    --steps "$steps" --seed 0 --metrics "$out/metrics-$precision.jsonl" | tail -2
  runs+=("$precision=$out/metrics-$precision.jsonl")
done
"$bin/accel-plot/accel-plot" "${runs[@]}" -o "$out/curves.svg" --log-loss \
  --title "GPT example: AdamW, fp32 / bf16 / fp16 (dynamic loss scaling)"
echo "loss curves: $out/curves.svg"
