#!/usr/bin/env bash
# Compiles the 784-1024-1024-10 MLP's AdamW step and times it against
# LibTorch eager:  bench/run_mlp_bench.sh [THREADS]   (from the repository root)
set -euo pipefail
threads=${1:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bazel build //bench:mlp_step_bench //tools/accel-import //tools/accel-opt >/dev/null
/usr/bin/python3 examples/mlp/export.py --out "$work/mlp.pt"
bazel-bin/tools/accel-import/accel-import "$work/mlp.pt" --input input=128x784xf32 \
  --loss cross-entropy --target y=128xi64 -o "$work/mlp.mlir" \
  --params-out "$work/init.safetensors"
bazel-bin/tools/accel-opt/accel-opt "$work/mlp.mlir" \
  --accel-train-pipeline="kind=adamw" -o "$work/step.mlir"
bazel-bin/bench/mlp_step_bench --step "$work/step.mlir" \
  --params "$work/init.safetensors" --threads "$threads"
