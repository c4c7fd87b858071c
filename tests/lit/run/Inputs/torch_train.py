#!/usr/bin/env python3
"""The reference for accel-run: trains a TorchScript module with torch.optim
on batches in file order (batch i = samples i*B .. (i+1)*B - 1) and prints
one JSON line per step with its loss.

    torch_train.py MODEL.pt DATA --columns A[,B...] [--target T]
        --batch B --steps N --lr X --optimizer sgd|adam|adamw
        [--momentum M] [--weight-decay W] [--clip-norm C]

DATA is a safetensors file (columns by tensor name) or a Fashion-MNIST
directory (columns `images`, [N, 784] f32 in [0, 1], and `labels`). The
named columns go to forward in order. Forward returns the loss (the GPT
example), or with --target the logits, whose cross-entropy against that
column is the loss (MLP, CNN).
"""
import argparse
import gzip
import json
import os
import struct

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("data")
p.add_argument("--columns", required=True)
p.add_argument("--target", default=None)
p.add_argument("--batch", type=int, required=True)
p.add_argument("--steps", type=int, required=True)
p.add_argument("--lr", type=float, required=True)
p.add_argument("--optimizer", required=True)
p.add_argument("--momentum", type=float, default=0.0)
p.add_argument("--weight-decay", type=float, default=None)
p.add_argument("--clip-norm", type=float, default=None)
args = p.parse_args()


def fashion_mnist(directory):
    with gzip.open(directory + "/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)
    with gzip.open(directory + "/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read()[8:], dtype=np.uint8)
    return {"images": images.astype(np.float32) / 255.0, "labels": labels.astype(np.int64)}


def safetensors(path):
    dtypes = {"I64": "<i8", "F32": "<f4"}
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(raw[8 + length + begin:8 + length + end],
                                      dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors


data = fashion_mnist(args.data) if os.path.isdir(args.data) else safetensors(args.data)
names = args.columns.split(",") + ([args.target] if args.target else [])
columns = [torch.from_numpy(data[name].copy()) for name in names]

model = torch.jit.load(args.model)
model.train()
params = list(model.parameters())
if args.optimizer == "sgd":
    opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum,
                          weight_decay=args.weight_decay or 0.0)
elif args.optimizer == "adam":
    opt = torch.optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay or 0.0)
else:
    opt = torch.optim.AdamW(params, lr=args.lr,
                            weight_decay=0.01 if args.weight_decay is None else args.weight_decay)
per_epoch = columns[0].shape[0] // args.batch
for step in range(args.steps):
    i = step % per_epoch
    batch = [c[i * args.batch:(i + 1) * args.batch] for c in columns]
    opt.zero_grad()
    if args.target:
        loss = torch.nn.functional.cross_entropy(model(*batch[:-1]), batch[-1])
    else:
        loss = model(*batch)
    loss.backward()
    if args.clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(params, args.clip_norm)
    opt.step()
    print(json.dumps({"step": step + 1, "loss": loss.item()}))
