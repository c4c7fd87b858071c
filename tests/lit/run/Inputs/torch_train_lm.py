#!/usr/bin/env python3
"""The reference for accel-run on safetensors data: trains a TorchScript
module with torch.optim on the batches of a safetensors dataset in file
order (batch i = samples i*B .. (i+1)*B - 1), passing the named columns to
forward in order, and prints one JSON line per step with its loss. Forward
returns the loss (the GPT example), or with --target the logits, whose
cross-entropy against that column is the loss (the CNN example).

    torch_train_lm.py MODEL.pt DATA.safetensors --columns idx,targets
        --batch B --steps N --lr X --optimizer sgd|adam|adamw
        [--target y] [--momentum M] [--weight-decay W] [--clip-norm C]
"""
import argparse
import json
import struct

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("data")
p.add_argument("--columns", required=True)
p.add_argument("--batch", type=int, required=True)
p.add_argument("--steps", type=int, required=True)
p.add_argument("--lr", type=float, required=True)
p.add_argument("--optimizer", required=True)
p.add_argument("--weight-decay", type=float, default=None)
p.add_argument("--clip-norm", type=float, default=None)
p.add_argument("--target", default=None)
p.add_argument("--momentum", type=float, default=0.0)
args = p.parse_args()

DTYPES = {"I64": "<i8", "F32": "<f4"}
with open(args.data, "rb") as f:
    raw = f.read()
(length,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + length])
columns = []
names = args.columns.split(",") + ([args.target] if args.target else [])
for name in names:
    entry = header[name]
    begin, end = entry["data_offsets"]
    array = np.frombuffer(raw[8 + length + begin:8 + length + end],
                          dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    columns.append(torch.from_numpy(array.copy()))

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
