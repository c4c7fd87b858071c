#!/usr/bin/env python3
"""The FSDP reference for accel's `shard=fsdp`: trains the example MLP
(nn.Sequential of Linear and ReLU, parameters from accel-import's
--params-out file) with PyTorch's FSDP2 (`fully_shard` on every Linear and
on the root, gloo on CPU) on N processes, AdamW. Batch i is Fashion-MNIST
samples i*B .. (i+1)*B - 1, rank r takes its r-th contiguous B/N of them,
as accel-run's ranks do. Prints one JSON line per step with the loss
averaged over the ranks (the whole batch's). Needs a current PyTorch (the
reference environment).

With --param-dtype bf16|fp16 the forward runs as accel's
`precision=...` does: FSDP2's MixedPrecisionPolicy gathers the parameters
in that type (reduce_dtype from --reduce-dtype, default fp32) and
torch.autocast on the CPU chooses each op's type.

    torch_fsdp_train.py PARAMS.safetensors FASHION_MNIST_DIR --ranks N
        --batch B --steps S --lr X [--param-dtype T] [--reduce-dtype T]
"""
import contextlib
import argparse
import gzip
import json
import os
import struct
import tempfile

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", name
        begin, end = entry["data_offsets"]
        data = np.frombuffer(raw[8 + length + begin:8 + length + end], dtype="<f4")
        tensors[name] = torch.from_numpy(data.reshape(entry["shape"]).copy())
    return tensors


def build_mlp(params):
    """nn.Sequential(Linear, ReLU, ..., Linear) with the file's weights."""
    indices = sorted(int(name.split(".")[0]) for name in params
                     if name.endswith(".weight"))
    assert indices == list(range(0, 2 * len(indices), 2)), indices
    layers = []
    for index in indices:
        if layers:
            layers.append(torch.nn.ReLU())
        weight = params[f"{index}.weight"]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(params[f"{index}.bias"])
        layers.append(linear)
    return torch.nn.Sequential(*layers)


def fashion_mnist(directory):
    with gzip.open(directory + "/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)
    with gzip.open(directory + "/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read()[8:], dtype=np.uint8)
    return (torch.from_numpy(images.astype(np.float32) / 255.0),
            torch.from_numpy(labels.astype(np.int64)))


def train(rank, args, store, results):
    dist.init_process_group("gloo", init_method="file://" + store, rank=rank,
                            world_size=args.ranks)
    torch.set_num_threads(1)
    mesh = init_device_mesh("cpu", (args.ranks,))
    model = build_mlp(read_safetensors(args.params))
    policy = MixedPrecisionPolicy(param_dtype=DTYPES[args.param_dtype],
                                  reduce_dtype=DTYPES[args.reduce_dtype])
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            fully_shard(layer, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    autocast = (contextlib.nullcontext() if args.param_dtype == "fp32" else
                torch.autocast("cpu", dtype=DTYPES[args.param_dtype]))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    images, labels = fashion_mnist(args.data)
    local = args.batch // args.ranks
    per_epoch = images.shape[0] // args.batch
    losses = []
    for step in range(args.steps):
        first = (step % per_epoch) * args.batch + rank * local
        opt.zero_grad()
        with autocast:
            loss = torch.nn.functional.cross_entropy(
                model(images[first:first + local]),
                labels[first:first + local])
        loss.backward()
        opt.step()
        whole = loss.detach().clone()
        dist.all_reduce(whole)
        losses.append(whole.item() / args.ranks)
    if rank == 0:
        results.put(losses)
    # Every rank done with its collectives before any tears its group down:
    # a rank that destroys its group while another's gloo threads still
    # talk to it can end that one with std::terminate (seen once under
    # load: "terminate called without an active exception").
    dist.barrier()
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("params")
    p.add_argument("data")
    p.add_argument("--ranks", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--param-dtype", choices=DTYPES, default="fp32")
    p.add_argument("--reduce-dtype", choices=DTYPES, default="fp32")
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
