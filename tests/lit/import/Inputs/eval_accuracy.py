"""Checks accel-run's evaluation accuracy (the last eval_accuracy of its
metrics, from a run with --lr 0) against the TorchScript module's own in
eval mode, on the same data: forward(x, y) returns the cross-entropy of
logits x + ..., so the logits are recomputed by the module's submodules.

    eval_accuracy.py MODEL.pt DATA.safetensors METRICS.jsonl

Run with Debian's torch (reads the safetensors file itself)."""
import json
import struct
import sys

import numpy as np
import torch

model_path, data_path, metrics_path = sys.argv[1:4]
raw = open(data_path, "rb").read()
(length,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + length])


def column(name, dtype):
    begin, end = header[name]["data_offsets"]
    array = np.frombuffer(raw[8 + length + begin:8 + length + end], dtype=dtype)
    return torch.from_numpy(array.copy()).reshape(header[name]["shape"])


x, y = column("x", "<f4"), column("y", "<i8")
model = torch.jit.load(model_path)
model.eval()
with torch.no_grad():
    logits = x + model.drop(model.branch(x))
torch_accuracy = (logits.argmax(1) == y).double().mean().item()
accel = [r["eval_accuracy"] for r in map(json.loads, open(metrics_path)) if "eval_accuracy" in r]
print(f"eval accuracy: accel {100 * accel[-1]:.2f}%, torch {100 * torch_accuracy:.2f}%")
sys.exit(0 if abs(accel[-1] - torch_accuracy) < 1e-9 else 1)
