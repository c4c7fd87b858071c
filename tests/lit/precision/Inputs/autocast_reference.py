#!/usr/bin/env python3
"""The mixed-precision reference for accel: a current PyTorch's
torch.autocast and torch.amp.GradScaler on the CPU (Debian's PyTorch 1.13
serves bf16 gradients; fp16 and GradScaler need 2.x), run on the same
TorchScript module and Fashion-MNIST batches (file order) as accel-run.

    autocast_reference.py grads MODEL.pt DATA --batch B --dtype bf16|fp16
        [--columns A,B --target T]
        --accel-grads GRADS.safetensors --accel-metrics METRICS.jsonl
  Compares the losses accel-run reported (run it with --lr 0 for several
  steps: each batch's loss at the initial parameters) and its --dump-grads and gradients: accel's, and torch.autocast's,
  each against the float64 result. Passes when, for the loss and every
  gradient, accel's relative L2 error is at most twice torch's and the
  losses agree within 1%.

    autocast_reference.py train MODEL.pt DATA --batch B --dtype bf16|fp16
        --steps N --lr X --accel-metrics METRICS.jsonl
        [--init-scale S --growth-interval G]
  Trains with AdamW under autocast (and GradScaler for fp16) and compares
  with accel-run's metrics: mean relative loss deviation at most 2%, and
  with loss scaling the same scale and skipped-step sequence.

DATA is a Fashion-MNIST directory (columns `images`, `labels`) or a
safetensors file of columns; --columns go to forward in order, and with
--target forward returns logits whose cross-entropy against that column is
the loss (default: images -> labels); without it forward returns the loss.

Run it with the reference environment's Python (tools/setup-reference.sh).
"""
import argparse
import json
import math
import os
import sys

import torch

from reference_io import fashion_mnist, read_safetensors, report

p = argparse.ArgumentParser()
p.add_argument("mode", choices=["grads", "train"])
p.add_argument("model")
p.add_argument("data")
p.add_argument("--batch", type=int, required=True)
p.add_argument("--columns", default="images")
p.add_argument("--target", default="labels")
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


data = fashion_mnist(args.data) if os.path.isdir(args.data) else read_safetensors(args.data)[0]
inputs = [data[c] for c in args.columns.split(",")]
target = data[args.target] if args.target else None


def batch(step):
    rows = slice(step * args.batch, (step + 1) * args.batch)
    return [c[rows] for c in inputs], (target[rows] if target is not None else None)


def loss_of(model, xs, y, double=False):
    if double:
        xs = [x.double() if x.is_floating_point() else x for x in xs]
    out = model(*xs)
    return torch.nn.functional.cross_entropy(out, y) if y is not None else out


def relative_error(value, exact, scale=None):
    exact = exact.double()
    norm = scale if scale is not None else exact.norm().item()
    diff = (value.double() - exact).norm().item()
    return diff / norm if norm > 0 else diff


def gradients(model, xs, y, autocast, scale=None, double=False):
    model.zero_grad()
    with torch.autocast("cpu", dtype=low, enabled=autocast):
        loss = loss_of(model, xs, y, double)
    (loss * scale if scale else loss).backward()
    grads = {n: (p.grad / scale if scale else p.grad).clone()
             for n, p in model.named_parameters()}
    return loss.detach(), grads


def compare_grads():
    model = torch.jit.load(args.model)
    model.train()
    xs, y = batch(0)
    accel = read_safetensors(args.accel_grads)[0]
    with open(args.accel_metrics) as f:
        accel_losses = [m["loss"] for m in map(json.loads, f) if "loss" in m]
    accel_loss = accel_losses[0]
    # fp16 gradients are computed with the loss scaled by GradScaler's
    # first scale and unscaled, as accel-run --dump-grads does.
    scale = args.init_scale if args.dtype == "fp16" else None
    torch_loss, torch_grads = gradients(model, xs, y, autocast=True, scale=scale)
    exact = torch.jit.load(args.model).double()
    exact.train()
    exact_loss, exact_grads = gradients(exact, xs, y, autocast=False, double=True)
    # A scalar's rounding error is one draw, and a gradient that is zero in
    # exact arithmetic (a softmax's shift invariance makes the attention
    # key bias's so) is pure rounding noise: those rows are measured at the
    # model's largest gradient and also pass below a tenth of the format's
    # unit roundoff, where the two results cannot be told apart.
    unit = 2.0 ** -8 if args.dtype == "bf16" else 2.0 ** -11
    largest = max(g.double().norm().item() for g in exact_grads.values())
    # The loss: root-mean-square relative error over every batch accel-run
    # reported (a run with lr 0 gives each batch's loss at the same
    # parameters), so one scalar's rounding does not decide.
    mine_sq, theirs_sq = [], []
    for k, ours in enumerate(accel_losses):
        if k == 0:
            reference, exact_value = torch_loss, exact_loss
        else:
            xk, yk = batch(k)
            with torch.no_grad():
                with torch.autocast("cpu", dtype=low):
                    reference = loss_of(model, xk, yk)
                exact_value = loss_of(exact, xk, yk, double=True)
        mine_sq.append(relative_error(torch.tensor(ours), exact_value) ** 2)
        theirs_sq.append(relative_error(reference, exact_value) ** 2)
    ok = True
    rows = [(f"loss ({len(accel_losses)} batches)",
             (sum(mine_sq) / len(mine_sq)) ** 0.5,
             (sum(theirs_sq) / len(theirs_sq)) ** 0.5, True)]
    for name, exact_grad in exact_grads.items():
        zero = exact_grad.double().norm().item() <= 1e-10 * largest
        at = largest if zero else None
        rows.append((name + (" (0)" if zero else ""),
                     relative_error(accel[name], exact_grad, at),
                     relative_error(torch_grads[name], exact_grad, at), zero))
    report(f"{'tensor':<28} {'accel vs f64':>12} {'torch vs f64':>12} {'ratio':>6}")
    for name, mine, theirs, noisy in rows:
        ratio = mine / theirs if theirs > 0 else (0.0 if mine == 0 else float("inf"))
        # A non-finite error is an overflow (of the scaled fp16 gradients):
        # never a pass; compare at a smaller --init-scale.
        good = math.isfinite(mine) and (mine <= 2 * theirs or (noisy and mine <= 0.1 * unit))
        ok &= good
        report(f"{name:<28} {mine:12.3e} {theirs:12.3e} {ratio:6.2f}{'' if good else '  FAIL'}")
    loss_gap = abs(accel_loss - torch_loss.item()) / abs(torch_loss.item())
    report(f"loss: accel {accel_loss:.6f} torch {torch_loss.item():.6f} "
          f"gap {100 * loss_gap:.4f}%")
    ok &= loss_gap <= 0.01
    report("PASS" if ok else "FAIL")
    return ok


def train():
    model = torch.jit.load(args.model)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    scaler = torch.amp.GradScaler("cpu", init_scale=args.init_scale,
                                  growth_interval=args.growth_interval,
                                  enabled=args.dtype == "fp16")
    ours = [json.loads(line) for line in open(args.accel_metrics)]
    ours = [m for m in ours if "loss" in m]
    if len(ours) != args.steps:
        report(f"FAIL: accel-run reported {len(ours)} steps, expected {args.steps}")
        return False
    deviations, scale_mismatch, skipped_total = [], 0, 0
    for step in range(args.steps):
        per_epoch = inputs[0].shape[0] // args.batch
        xb, yb = batch(step % per_epoch)
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
                    report(f"step {step + 1}: torch scale {after} skipped {skipped}, "
                          f"accel scale {mine.get('loss_scale')} skipped {mine.get('skipped')}")
        theirs = loss.item()
        mine = ours[step]["loss"]
        deviations.append(abs(mine - theirs) / abs(theirs))
    mean = sum(deviations) / len(deviations)
    report(f"steps {args.steps}: mean relative loss deviation {100 * mean:.3f}%, "
          f"max {100 * max(deviations):.3f}%; final loss accel {ours[-1]['loss']:.4f} "
          f"torch {loss.item():.4f}")
    if scaler.is_enabled():
        report(f"loss scale: {skipped_total} skipped steps, final scale "
              f"{scaler.get_scale()}, {scale_mismatch} steps differ from accel")
    ok = mean <= 0.02 and scale_mismatch == 0
    report("PASS" if ok else "FAIL")
    return ok


sys.exit(0 if (compare_grads() if args.mode == "grads" else train()) else 1)
