#!/usr/bin/env bash
# GPT training steps on an NVIDIA GPU: accel-run --device cuda against
# PyTorch on the same GPU (eager, fused AdamW, torch.compile, bf16
# autocast), same model shape, batch and dropout; prints ms per step and
# accel's speed-up over each.
#
#   bench/gpu_gpt_bench.sh STEP.accelprog PARAMS.safetensors DATA.safetensors
#
# STEP: the GPT lowered for the batch (bench/gpu_gpt_prepare.sh makes the
# GPT-2-124M-sized one: vocab 50257, ctx 1024, width 768, 12 heads, 12
# layers, batch 8). Uses accel-run from $ACCEL_RUN (default: bazel-bin's),
# the cuda driver from $ACCEL_DRIVER_PATH, and python3 with torch.
# Environment: STEPS (timed steps, default 20), WARMUP (default 5), BATCH
# (the step's batch, default 8), and the model shape for PyTorch as
# MODEL_ARGS (default the 124M one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
step=${1:?STEP.accelprog}; params=${2:?PARAMS.safetensors}; data=${3:?DATA.safetensors}
run=${ACCEL_RUN:-$here/../bazel-bin/tools/accel-run/accel-run}
export ACCEL_DRIVER_PATH=${ACCEL_DRIVER_PATH:-$here/../bazel-bin/runtime/hal/plugins/cuda}
steps=${STEPS:-20}; warmup=${WARMUP:-5}; batch=${BATCH:-8}
model_args=${MODEL_ARGS:-"--vocab 50257 --block 1024 --embd 768 --heads 12 --layers 12 --dropout 0.1 --batch 8"}
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT

# accel: the time between the end of the warm-up and the last step, from
# the metrics' cumulative samples/s (loading and compiling excluded).
"$run" "$step" --device cuda --params "$params" --data "$data" \
  --steps $((warmup + steps)) --lr 3e-4 --metrics "$scratch/m.jsonl" > "$scratch/log" 2>&1 ||
  { cat "$scratch/log"; exit 1; }
accel_ms=$(python3 - "$scratch/m.jsonl" "$warmup" "$batch" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l]
warmup, batch = int(sys.argv[2]), int(sys.argv[3])
# samples_per_s = steps * batch / seconds since the first step.
seconds = lambda r: r["step"] * batch / r["samples_per_s"]
a, b = rows[warmup - 1], rows[-1]
print("%.2f" % (1000 * (seconds(b) - seconds(a)) / (b["step"] - a["step"])))
PY
)
grep -m1 "device:" "$scratch/log" || true
echo "| mode | ms/step | accel speed-up | warm-up s |"
echo "|---|---|---|---|"
echo "| accel (cuda, fp32) | $accel_ms | 1.00 | |"
for mode in eager fused compile bf16; do
  if out=$(python3 "$here/torch_gpu_step.py" $mode $model_args --steps "$steps" --warmup "$warmup" 2>"$scratch/$mode.err"); then
    read -r _ ms warm <<<"$out"
    echo "| torch $mode | $ms | $(python3 -c "print('%.2f' % ($ms / $accel_ms))") | $warm |"
  else
    echo "| torch $mode | failed: $(grep -E 'Error|error' "$scratch/$mode.err" | tail -1) | | |"
  fi
done
