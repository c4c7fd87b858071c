"""Trains a TorchScript module (or a torch.export program, .pt2) with torch.optim.AdamW in fp32 on the same
batches accel-run took (file order, --no-shuffle) and compares the losses
with accel-run's metrics: each step's loss must agree to a relative 1e-4
(fp32 rounding differences between kernels compound over the steps; a
wrong kernel is off by far more).

    train_reference.py MODEL.pt DATA.safetensors --batch B --steps N
        --lr X --params PARAMS.safetensors --accel-metrics METRICS.jsonl

forward takes the data's columns as named by --columns (in order) and
returns the loss. Any torch reads a TorchScript module; a .pt2 program needs
the reference environment's."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "precision", "Inputs"))
from reference_io import read_safetensors, report  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("data")
p.add_argument("--columns", required=True)
p.add_argument("--batch", type=int, required=True)
p.add_argument("--steps", type=int, required=True)
p.add_argument("--lr", type=float, required=True)
p.add_argument("--params", required=True)
p.add_argument("--accel-metrics", required=True)
args = p.parse_args()

if args.model.endswith(".pt2"):
    sys.path.insert(0, os.path.dirname(__file__))
    from exported import load_module
    model = load_module(args.model)
else:
    model = torch.jit.load(args.model)
params, _, _ = read_safetensors(args.params)
with torch.no_grad():
    for name, value in list(model.named_parameters()) + list(model.named_buffers()):
        value.copy_(params[name])
if not args.model.endswith(".pt2"):
    model.train()  # an exported program is already the training graph
data = read_safetensors(args.data)[0]
columns = [data[c] for c in args.columns.split(",")]
optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
accel = [json.loads(line)["loss"] for line in open(args.accel_metrics)]
worst = 0.0
samples = columns[0].shape[0]
for step in range(args.steps):
    start = (step * args.batch) % (samples - samples % args.batch)
    batch = [c[start:start + args.batch] for c in columns]
    optimizer.zero_grad()
    loss = model(*batch)
    loss.backward()
    optimizer.step()
    deviation = abs(accel[step] - loss.item()) / abs(loss.item())
    worst = max(worst, deviation)
report(f"steps {args.steps}: torch {loss.item():.6f}, accel {accel[args.steps - 1]:.6f}, "
       f"largest relative loss deviation {worst:.2e}")
report("PASS" if worst <= 1e-4 else "FAIL")
sys.exit(0 if worst <= 1e-4 else 1)
