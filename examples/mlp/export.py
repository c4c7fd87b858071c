#!/usr/bin/env python3
"""Exports an MLP classifier as TorchScript for accel-import.

    python3 examples/mlp/export.py --out mlp.pt [--mode script|trace]
        [--hidden 1024,1024] [--activation relu|gelu|tanh] [--dropout 0.1]

The default is the Fashion-MNIST model, 784-1024-1024-10 with ReLU:
nn.Sequential(Linear, ReLU, Linear, ReLU, Linear), so parameters are named
0.weight, 0.bias, 2.weight, ... Import it with

    accel-import mlp.pt --input input=128x784xf32 --loss cross-entropy \\
        --target y=128xi64 -o mlp.mlir --params-out mlp.safetensors
"""
import argparse

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


def make_mlp(inputs, hidden, classes, activations, dropout):
    layers = []
    width = inputs
    for i, h in enumerate(hidden):
        layers.append(nn.Linear(width, h))
        layers.append(ACTIVATIONS[activations[i % len(activations)]]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--mode", choices=["script", "trace", "export"], default="script",
                   help="export: torch.export.save, a .pt2 archive (needs torch 2.x)")
    p.add_argument("--script-out",
                   help="with --mode export: also save the same module as TorchScript here")
    p.add_argument("--inputs", type=int, default=784)
    p.add_argument("--hidden", default="1024,1024")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--activation", default="relu",
                   help="comma-separated, cycled over the hidden layers")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=2, help="example batch for tracing")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    model = make_mlp(args.inputs, [int(h) for h in args.hidden.split(",")],
                     args.classes, args.activation.split(","), args.dropout)
    model.train()
    if args.mode == "export":
        if args.script_out:
            torch.jit.script(model).save(args.script_out)
        program = torch.export.export(model, (torch.randn(args.batch, args.inputs),))
        torch.export.save(program, args.out)
        return
    if args.mode == "script":
        exported = torch.jit.script(model)
    else:
        exported = torch.jit.trace(model, torch.randn(args.batch, args.inputs),
                                   check_trace=False)
    exported.save(args.out)


if __name__ == "__main__":
    main()
