#!/usr/bin/env python3
"""The mixed-precision reference for accel: a current PyTorch's
torch.autocast and torch.amp.GradScaler on the CPU, run on the same
TorchScript module and Fashion-MNIST batches (file order) as accel-run.

    autocast_reference.py grads MODEL.pt DATA --batch B --dtype bf16|fp16
        --accel-grads GRADS.safetensors --accel-metrics METRICS.jsonl
  Compares one step's loss (the first line of accel-run's metrics) and gradients: accel's, and torch.autocast's,
  each against the float64 result. Passes when, for the loss and every
  gradient, accel's relative L2 error is at most twice torch's and the
  losses agree within 1%.

    autocast_reference.py train MODEL.pt DATA --batch B --dtype bf16|fp16
        --steps N --lr X --accel-metrics METRICS.jsonl
        [--init-scale S --growth-interval G]
  Trains with AdamW under autocast (and GradScaler for fp16) and compares
  with accel-run's metrics: mean relative loss deviation at most 2%, and
  with loss scaling the same scale and skipped-step sequence.

Run it with the reference environment's Python (tools/setup-reference.sh).
"""
import argparse
import gzip
import json
import struct
import sys

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("mode", choices=["grads", "train"])
p.add_argument("model")
p.add_argument("data")
p.add_argument("--batch", type=int, required=True)
p.add_argument("--dtype", choices=["bf16", "fp16"], required=True)
p.add_argument("--accel-grads")
p.add_argument("--steps", type=int, default=1)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--accel-metrics")
p.add_argument("--init-scale", type=float, default=65536.0)
p.add_argument("--growth-interval", type=int, default=2000)
args = p.parse_args()
torch.manual_seed(0)
low = torch.bfloat16 if args.dtype == "bf16" else torch.float16


def fashion_mnist(directory, count):
    with gzip.open(directory + "/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)
    with gzip.open(directory + "/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read()[8:], dtype=np.uint8)
    x = torch.from_numpy(images[:count].astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[:count].astype(np.int64))
    return x, y


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", entry
        begin, end = entry["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(
            raw[8 + length + begin:8 + length + end], dtype="<f4").reshape(entry["shape"]).copy())
    return out


def loss_of(model, x, y):
    return torch.nn.functional.cross_entropy(model(x), y)


def relative_error(value, exact):
    exact = exact.double()
    norm = exact.norm().item()
    diff = (value.double() - exact).norm().item()
    return diff / norm if norm > 0 else diff


def gradients(model, x, y, autocast, scale=None):
    model.zero_grad()
    with torch.autocast("cpu", dtype=low, enabled=autocast):
        loss = loss_of(model, x, y)
    (loss * scale if scale else loss).backward()
    grads = {n: (p.grad / scale if scale else p.grad).clone()
             for n, p in model.named_parameters()}
    return loss.detach(), grads


def compare_grads():
    model = torch.jit.load(args.model)
    model.train()
    x, y = fashion_mnist(args.data, args.batch)
    accel = read_safetensors(args.accel_grads)
    with open(args.accel_metrics) as f:
        accel_loss = json.loads(f.readline())["loss"]
    # fp16 gradients are computed with the loss scaled by GradScaler's
    # first scale and unscaled, as accel-run --dump-grads does.
    scale = args.init_scale if args.dtype == "fp16" else None
    torch_loss, torch_grads = gradients(model, x, y, autocast=True, scale=scale)
    exact = torch.jit.load(args.model).double()
    exact.train()
    exact_loss, exact_grads = gradients(exact, x.double(), y, autocast=False)
    ok = True
    rows = [("loss", relative_error(torch.tensor(accel_loss), exact_loss),
             relative_error(torch_loss, exact_loss))]
    for name in exact_grads:
        rows.append((name, relative_error(accel[name], exact_grads[name]),
                     relative_error(torch_grads[name], exact_grads[name])))
    print(f"{'tensor':<16} {'accel vs f64':>14} {'torch vs f64':>14} {'ratio':>7}")
    for name, mine, theirs in rows:
        ratio = mine / theirs if theirs > 0 else (0.0 if mine == 0 else float("inf"))
        good = mine <= 2 * theirs or mine <= 1e-7
        ok &= good
        print(f"{name:<16} {mine:14.3e} {theirs:14.3e} {ratio:7.2f}{'' if good else '  FAIL'}")
    loss_gap = abs(accel_loss - torch_loss.item()) / abs(torch_loss.item())
    print(f"loss: accel {accel_loss:.6f} torch {torch_loss.item():.6f} "
          f"gap {100 * loss_gap:.4f}%")
    ok &= loss_gap <= 0.01
    print("PASS" if ok else "FAIL")
    return ok


def train():
    model = torch.jit.load(args.model)
    model.train()
    x, y = fashion_mnist(args.data, args.batch * args.steps)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    scaler = torch.amp.GradScaler("cpu", init_scale=args.init_scale,
                                  growth_interval=args.growth_interval,
                                  enabled=args.dtype == "fp16")
    ours = [json.loads(line) for line in open(args.accel_metrics)]
    ours = [m for m in ours if "loss" in m]
    if len(ours) != args.steps:
        print(f"FAIL: accel-run reported {len(ours)} steps, expected {args.steps}")
        return False
    deviations, scale_mismatch, skipped_total = [], 0, 0
    for step in range(args.steps):
        xb = x[step * args.batch:(step + 1) * args.batch]
        yb = y[step * args.batch:(step + 1) * args.batch]
        opt.zero_grad()
        with torch.autocast("cpu", dtype=low):
            loss = loss_of(model, xb, yb)
        before = scaler.get_scale() if scaler.is_enabled() else 1.0
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        if scaler.is_enabled():
            after = scaler.get_scale()
            skipped = after < before
            skipped_total += skipped
            mine = ours[step]
            if mine.get("loss_scale") != after or mine.get("skipped") != skipped:
                scale_mismatch += 1
                if scale_mismatch <= 5:
                    print(f"step {step + 1}: torch scale {after} skipped {skipped}, "
                          f"accel scale {mine.get('loss_scale')} skipped {mine.get('skipped')}")
        theirs = loss.item()
        mine = ours[step]["loss"]
        deviations.append(abs(mine - theirs) / abs(theirs))
    mean = sum(deviations) / len(deviations)
    print(f"steps {args.steps}: mean relative loss deviation {100 * mean:.3f}%, "
          f"max {100 * max(deviations):.3f}%; final loss accel {ours[-1]['loss']:.4f} "
          f"torch {loss.item():.4f}")
    if scaler.is_enabled():
        print(f"loss scale: {skipped_total} skipped steps, final scale "
              f"{scaler.get_scale()}, {scale_mismatch} steps differ from accel")
    ok = mean <= 0.02 and scale_mismatch == 0
    print("PASS" if ok else "FAIL")
    return ok


sys.exit(0 if (compare_grads() if args.mode == "grads" else train()) else 1)
