#!/usr/bin/env bash
# accel's training step against the current PyTorch (torch 2.15 eager,
# fused AdamW, torch.compile, Accelerate) on the MLP, the GPT example, a
# mid-size GPT and ResNet-18, in alternating rounds in the same run
# (bench/run_all.py says how). Needs the reference environment
# (tools/setup-reference.sh).
#
#   bench/run_all.sh [THREADS] [run_all.py options: --models, --rounds,
#       --json, --markdown, --work]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
shift || true
python=${ACCEL_REFERENCE_DIR:-$HOME/.cache/accel/reference}/bin/python
if [ ! -x "$python" ]; then
  echo "bench/run_all.sh: no reference environment at $python (run tools/setup-reference.sh)" >&2
  exit 1
fi
bazel build --noshow_progress //bench:accel_step_server //tools/accel-import //tools/accel-opt
exec "$python" bench/run_all.py --threads "$threads" "$@"
