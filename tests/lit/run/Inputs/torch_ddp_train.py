#!/usr/bin/env python3
"""The data-parallel reference for accel-run --ranks N: trains a TorchScript
module with torch.nn.parallel.DistributedDataParallel (gloo, CPU) on N
processes. Batch i is samples i*B .. (i+1)*B - 1 of the file, rank r takes
its r-th contiguous B/N of them, as accel-run's ranks do. Prints one JSON
line per step with the loss averaged over the ranks (the whole batch's).

    torch_ddp_train.py MODEL.pt DATA --ranks N --columns A[,B...]
        [--target T] --batch B --steps S --lr X --optimizer sgd|adamw
"""
import argparse
import json
import os
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp



def train(rank, args, store, results):
    dist.init_process_group("gloo", init_method="file://" + store, rank=rank,
                            world_size=args.ranks)
    torch.set_num_threads(1)
    data = load_columns(args)
    model = torch.jit.load(args.model)
    model.train()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=args.momentum)
    else:
        opt = torch.optim.AdamW(ddp.parameters(), lr=args.lr)
    local = args.batch // args.ranks
    per_epoch = data[0].shape[0] // args.batch
    losses = []
    for step in range(args.steps):
        first = (step % per_epoch) * args.batch + rank * local
        batch = [c[first:first + local] for c in data]
        opt.zero_grad()
        if args.target:
            loss = torch.nn.functional.cross_entropy(ddp(*batch[:-1]), batch[-1])
        else:
            loss = ddp(*batch)
        loss.backward()
        opt.step()
        whole = loss.detach().clone()
        dist.all_reduce(whole)
        losses.append(whole.item() / args.ranks)
    if rank == 0:
        results.put(losses)
    # As torch_fsdp_train.py: every rank done before any tears its group
    # down.
    dist.barrier()
    dist.destroy_process_group()


def load_columns(args):
    import gzip
    import struct
    import numpy as np
    if os.path.isdir(args.data):
        with gzip.open(args.data + "/train-images-idx3-ubyte.gz") as f:
            images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)
        with gzip.open(args.data + "/train-labels-idx1-ubyte.gz") as f:
            labels = np.frombuffer(f.read()[8:], dtype=np.uint8)
        table = {"images": images.astype(np.float32) / 255.0,
                 "labels": labels.astype(np.int64)}
    else:
        with open(args.data, "rb") as f:
            raw = f.read()
        (length,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + length])
        dtypes = {"I64": "<i8", "F32": "<f4"}
        table = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            table[name] = np.frombuffer(raw[8 + length + begin:8 + length + end],
                                        dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    names = args.columns.split(",") + ([args.target] if args.target else [])
    return [torch.from_numpy(table[n].copy()) for n in names]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--ranks", type=int, required=True)
    p.add_argument("--columns", required=True)
    p.add_argument("--target", default=None)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--optimizer", default="adamw")
    p.add_argument("--momentum", type=float, default=0.0)
    args = p.parse_args()
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    with tempfile.TemporaryDirectory() as tmp:
        ctx = mp.get_context("spawn")
        results = ctx.SimpleQueue()
        mp.spawn(train, args=(args, os.path.join(tmp, "store"), results),
                 nprocs=args.ranks, join=True)
        losses = results.get()
    for step, loss in enumerate(losses):
        print(json.dumps({"step": step + 1, "loss": loss}))


if __name__ == "__main__":
    main()
