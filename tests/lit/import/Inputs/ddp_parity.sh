#!/bin/sh
# ddp_parity.sh DIR MODEL "INPUT..." RANKS: imports DIR/MODEL.pt2, trains it
# for 30 shuffled AdamW steps on one rank and on RANKS ranks (accel-shard
# ddp), and compares the losses (1e-5 relative).
set -e
dir=$1 model=$2 inputs=$3 ranks=$4
flags=""
for i in $inputs; do flags="$flags --input $i"; done
accel-import "$dir/$model.pt2" $flags -o "$dir/$model.mlir" --params-out "$dir/$model.safetensors"
accel-opt "$dir/$model.mlir" --accel-train-pipeline="kind=adamw" -o "$dir/$model.1.mlir"
accel-opt "$dir/$model.mlir" --accel-train-pipeline="kind=adamw shard=ddp ranks=$ranks" -o "$dir/$model.$ranks.mlir"
for n in 1 "$ranks"; do
  accel-run "$dir/$model.$n.mlir" --params "$dir/$model.safetensors" \
    --data "$dir/data.safetensors" --steps 30 --seed 3 --threads 2 \
    --metrics "$dir/$model.$n.jsonl"
done
python3 "$(dirname "$0")/../../run/Inputs/compare_losses.py" \
  "$dir/$model.$ranks.jsonl" "$dir/$model.1.jsonl" 1e-5
