#!/usr/bin/env python3
"""The reference for accel-run: trains a TorchScript MLP with torch.optim on
Fashion-MNIST batches in file order (batch i = samples i*B .. (i+1)*B - 1)
and prints one JSON line per step with its loss.

    torch_train.py MODEL.pt DATA_DIR --batch B --steps N --lr X
        --optimizer sgd|adam|adamw [--momentum M] [--weight-decay W]
"""
import argparse
import gzip
import json

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("data")
p.add_argument("--batch", type=int, required=True)
p.add_argument("--steps", type=int, required=True)
p.add_argument("--lr", type=float, required=True)
p.add_argument("--optimizer", required=True)
p.add_argument("--momentum", type=float, default=0.0)
p.add_argument("--weight-decay", type=float, default=None)
args = p.parse_args()

with gzip.open(args.data + "/train-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)
with gzip.open(args.data + "/train-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read()[8:], dtype=np.uint8)

model = torch.jit.load(args.model)
params = list(model.parameters())
if args.optimizer == "sgd":
    opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum,
                          weight_decay=args.weight_decay or 0.0)
elif args.optimizer == "adam":
    opt = torch.optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay or 0.0)
else:
    opt = torch.optim.AdamW(params, lr=args.lr,
                            weight_decay=0.01 if args.weight_decay is None else args.weight_decay)
per_epoch = len(labels) // args.batch
for step in range(args.steps):
    i = step % per_epoch
    x = torch.from_numpy(images[i * args.batch:(i + 1) * args.batch].astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[i * args.batch:(i + 1) * args.batch].astype(np.int64))
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    print(json.dumps({"step": step + 1, "loss": loss.item()}))
