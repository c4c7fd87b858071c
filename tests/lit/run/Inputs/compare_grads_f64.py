#!/usr/bin/env python3
"""compare_grads_f64.py MODEL.pt INIT.safetensors DATA.safetensors BATCH
BASELINE.safetensors CANDIDATE.safetensors RATIO

For nets where rounding noise dominates (deep batch-norm nets): computes
the first batch's gradients (columns 'x' and 'y', file order, training
mode) with PyTorch autograd in float64 and measures each run's
--dump-grads against them (per tensor, the largest error relative to the
tensor's largest magnitude; then the worst tensor). The candidate (say, a
device driver's run) may be at most RATIO times as far from float64 as
the baseline (the cpu driver's run of the same program)."""
import sys

import torch

from compare_state import load

model_path, init_path, data_path = sys.argv[1:4]
batch = int(sys.argv[4])
baseline, candidate = load(sys.argv[5]), load(sys.argv[6])
ratio = float(sys.argv[7])

init, data = load(init_path), load(data_path)
model = torch.jit.load(model_path)
model.train()
model.double()
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(init[name].copy()))
    for name, b in model.named_buffers():
        if name in init:
            b.copy_(torch.from_numpy(init[name].copy()))
x = torch.from_numpy(data["x"][:batch].copy()).double()
y = torch.from_numpy(data["y"][:batch].copy())
torch.nn.functional.cross_entropy(model(x), y).backward()


def worst(run):
    error = 0.0
    for name, p in model.named_parameters():
        ref = p.grad
        scale = ref.abs().max().item()
        if scale == 0:
            continue
        got = torch.from_numpy(run[name].copy()).double()
        error = max(error, (got - ref).abs().max().item() / scale)
    return error


b, c = worst(baseline), worst(candidate)
print("largest relative gradient error vs float64: baseline %.3g, candidate %.3g"
      % (b, c))
if c > ratio * b:
    sys.exit("compare_grads_f64: above %g times the baseline's" % ratio)
print("PASS")
