"""One training step's loss and gradients of a torch.export program, by
the current PyTorch, against accel-run's (run with --lr 0 --steps 1
--no-shuffle --dump-grads --metrics). Each is measured against the float64
result (the program run on float64 parameters and inputs): accel's
relative L2 error must be at most 4x PyTorch fp32's own, or within 1e-6
where PyTorch's is below that (rounding noise of a few ulps).

    export_reference.py MODEL.pt2 DATA.safetensors --columns a,b --batch B
        --params PARAMS.safetensors --accel-grads GRADS.safetensors
        --accel-metrics METRICS.jsonl

forward takes the columns in order and returns the loss. Run it with the
reference environment's Python."""
import argparse
import copy
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "precision", "Inputs"))
from reference_io import read_safetensors, report  # noqa: E402
from exported import load_module  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("data")
p.add_argument("--columns", required=True)
p.add_argument("--batch", type=int, required=True)
p.add_argument("--params", required=True)
p.add_argument("--accel-grads", required=True)
p.add_argument("--accel-metrics", required=True)
args = p.parse_args()

module = load_module(args.model)
params, _, _ = read_safetensors(args.params)
with torch.no_grad():
    for name, value in list(module.named_parameters()) + list(module.named_buffers()):
        value.copy_(params[name])
data = read_safetensors(args.data)[0]
batch = [data[c][:args.batch] for c in args.columns.split(",")]


def step(model, double):
    inputs = [b.double() if double and b.is_floating_point() else b for b in batch]
    model.zero_grad()
    loss = model(*inputs)
    loss.backward()
    return loss.detach().double(), {n: q.grad.detach().double() for n, q in model.named_parameters()}


loss32, grads32 = step(module, False)
module64 = copy.deepcopy(module).double()
loss64, grads64 = step(module64, True)
accel_grads, _, _ = read_safetensors(args.accel_grads)
accel_loss = json.loads(open(args.accel_metrics).readline())["loss"]


def rel(value, exact):
    norm = exact.norm().item()
    return (value - exact).norm().item() / (norm if norm > 0 else 1.0)


failures = 0
report(f"{'tensor':40} {'accel vs f64':>14} {'torch vs f64':>14}")
rows = [("loss", rel(torch.tensor(accel_loss, dtype=torch.float64), loss64), rel(loss32, loss64))]
for name, exact in grads64.items():
    if name not in accel_grads:
        report(f"FAIL {name}: accel-run wrote no gradient for it")
        failures += 1
        continue
    rows.append((name, rel(accel_grads[name].double(), exact), rel(grads32[name], exact)))
for name, ours, theirs in rows:
    ok = ours <= max(4 * theirs, 1e-6)
    failures += not ok
    report(f"{'ok  ' if ok else 'FAIL'} {name:35} {ours:14.3e} {theirs:14.3e}")
report("PASS" if not failures else f"FAIL: {failures} tensor(s)")
sys.exit(1 if failures else 0)
