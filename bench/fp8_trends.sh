#!/usr/bin/env bash
# FP8 training trends against bf16: the GPT example (character-level text)
# and the Fashion-MNIST MLP, each trained under fp32, bf16 and bf16 with
# every FP8 recipe (accel-fp8, Accelerate's default layer filter: the first
# and last linear stay in bf16), on the same data order and seed. Prints
# and writes a table (bench/fp8_trends_table.py: final loss, mean |Δloss|
# against bf16 over the last 20% of steps, loss reduction and excess loss
# relative to bf16's, eval accuracy, ms/step) and one plot of every curve
# per model. docs/benchmarks.md shows a run.
#
#   bench/fp8_trends.sh [OUT_DIR] [GPT_STEPS] [MLP_EPOCHS]
#       (default: out/fp8-trends 500 2; from the repository root)
#
# The FP8 GEMMs are emulated on the CPU (quantise, dequantise, f32 GEMM),
# so FP8 runs are slower than bf16 here: ms/step is the emulation's cost,
# not an FP8 speedup. The GPT's eval accuracy is next-character accuracy
# on its training text (the example has no held-out text).
set -euo pipefail
out=${1:-out/fp8-trends}
gpt_steps=${2:-500}
mlp_epochs=${3:-2}
bin=bazel-bin/tools
mkdir -p "$out"
bazel build //tools/accel-import //tools/accel-opt //tools/accel-run //tools/accel-plot >/dev/null

configs=("fp32:precision=fp32" "bf16:precision=bf16")
for recipe in tensorwise rowwise rowwise-gw-hp mxfp8 delayed; do
  configs+=("fp8-$recipe:precision=bf16 fp8=$recipe")
done

# train MODEL LABEL PIPELINE DATA EVAL STEPS_OR_EPOCHS...
train() {
  local model=$1 label=$2 pipeline=$3
  shift 3
  "$bin/accel-opt/accel-opt" "$out/$model.mlir" \
    --accel-train-pipeline="kind=adamw lr=3e-3 $pipeline" \
    --accel-precision-report="output=$out/$model-$label-report.txt" \
    -o "$out/$model-$label.mlir"
  echo "== $model $label ($pipeline)"
  "$bin/accel-run/accel-run" "$out/$model-$label.mlir" \
    --params "$out/$model-init.safetensors" --seed 0 \
    --metrics "$out/$model-$label.jsonl" "$@" | tail -2
}

/usr/bin/python3 examples/gpt/export.py --mode script --vocab 64 --block 64 \
  --embd 128 --heads 4 --layers 2 --dropout 0 --out "$out/gpt.pt"
/usr/bin/python3 examples/gpt/make_dataset.py --block 64 --out "$out/text.safetensors"
"$bin/accel-import/accel-import" "$out/gpt.pt" --input idx=16x64xi64 \
  --input targets=16x64xi64 -o "$out/gpt.mlir" --params-out "$out/gpt-init.safetensors"
/usr/bin/python3 examples/mlp/export.py --hidden 512,512 --out "$out/mlp.pt"
"$bin/accel-import/accel-import" "$out/mlp.pt" --input input=128x784xf32 \
  --loss cross-entropy --target y=128xi64 -o "$out/mlp.mlir" \
  --params-out "$out/mlp-init.safetensors"

for model in gpt mlp; do
  runs=()
  for config in "${configs[@]}"; do
    label=${config%%:*} pipeline=${config#*:}
    if [ "$model" = gpt ]; then
      train gpt "$label" "$pipeline" --data "$out/text.safetensors" \
        --eval-data "$out/text.safetensors" --steps "$gpt_steps"
    else
      train mlp "$label" "$pipeline" --data /usr/share/datasets/fashion-mnist \
        --eval-data /usr/share/datasets/fashion-mnist --epochs "$mlp_epochs"
    fi
    runs+=("$label=$out/$model-$label.jsonl")
  done
  "$bin/accel-plot/accel-plot" "${runs[@]}" -o "$out/$model-curves.svg" --log-loss --no-evals \
    --title "$model: AdamW lr 3e-3, fp32 / bf16 / bf16 + FP8 recipes"
done

/usr/bin/python3 bench/fp8_trends_table.py "$out" "${configs[@]%%:*}" | tee "$out/trends.md"
echo "table: $out/trends.md  plots: $out/gpt-curves.svg $out/mlp-curves.svg"
