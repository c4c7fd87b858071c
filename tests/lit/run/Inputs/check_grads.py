#!/usr/bin/env python3
"""check_grads.py MODEL.pt INIT.safetensors GRADS.safetensors AFTER.safetensors DATA_DIR BATCH LR

Checks accel-run's --dump-grads against PyTorch autograd on the first batch
(file order) and that one plain SGD step moved every parameter by -LR * grad.
Reads safetensors with the format's own rules (no safetensors package)."""
import gzip
import json
import struct
import sys

import numpy as np
import torch


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        dtype = {"F32": "<f4", "I64": "<i8"}[t["dtype"]]
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(t["shape"])
    return out


model_path, init_path, grads_path, after_path, data_dir = sys.argv[1:6]
batch, lr = int(sys.argv[6]), float(sys.argv[7])
init, grads, after = read(init_path), read(grads_path), read(after_path)

with gzip.open(data_dir + "/train-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read()[16:16 + batch * 784], dtype=np.uint8)
with gzip.open(data_dir + "/train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read()[8:8 + batch], dtype=np.uint8)
x = torch.from_numpy(x.reshape(batch, 784).astype(np.float32) / 255.0)
y = torch.from_numpy(y.astype(np.int64))

model = torch.jit.load(model_path)
torch.nn.functional.cross_entropy(model(x), y).backward()
worst = 0.0
for name, p in model.named_parameters():
    ref = p.grad.numpy()
    err = np.abs(grads[name] - ref).max() / np.abs(ref).max()
    worst = max(worst, err)
    step = np.abs(after[name] - (init[name] - lr * grads[name])).max()
    if step > 1e-6 * max(1.0, np.abs(init[name]).max()):
        sys.exit("%s: the SGD step is not -lr * grad (off by %g)" % (name, step))
print("gradients vs autograd: largest relative error %.3g" % worst)
if worst > 1e-5:
    sys.exit("check_grads: above 1e-5")
print("PASS")
