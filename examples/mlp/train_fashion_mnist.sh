#!/usr/bin/env bash
# The whole path on a real model: export the 784-1024-1024-10 MLP from
# PyTorch, import it, compile an AdamW training step, and train it for two
# epochs on Fashion-MNIST with evaluation on the test set.
#
#   examples/mlp/train_fashion_mnist.sh [OUT_DIR]      (default: out/mlp-fashion-mnist)
#
# Run from the repository root after `bazel build //...`.
set -euo pipefail
out=${1:-out/mlp-fashion-mnist}
bin=bazel-bin/tools
data=/usr/share/datasets/fashion-mnist
mkdir -p "$out"

/usr/bin/python3 examples/mlp/export.py --out "$out/mlp.pt"
"$bin/accel-import/accel-import" "$out/mlp.pt" --input input=128x784xf32 \
  --loss cross-entropy --target y=128xi64 \
  -o "$out/mlp.mlir" --params-out "$out/init.safetensors"
"$bin/accel-opt/accel-opt" "$out/mlp.mlir" \
  --accel-train-pipeline="kind=adamw lr=1e-3" -o "$out/step.mlir"
"$bin/accel-run/accel-run" "$out/step.mlir" --params "$out/init.safetensors" \
  --data "$data" --eval-data "$data" --epochs 2 --lr 1e-3 --seed 0 \
  --metrics "$out/metrics.jsonl" --checkpoint-dir "$out/checkpoints" \
  --checkpoint-every 500 --save-params "$out/trained.safetensors"
echo "trained parameters: $out/trained.safetensors"
