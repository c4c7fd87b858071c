#!/usr/bin/env python3
"""Exports the GPT model of model.py as TorchScript for accel-import.

    python3 examples/gpt/export.py --out gpt.pt [--mode script|trace]
        [--vocab 64 --block 16 --embd 32 --heads 4 --layers 2]
        [--dropout 0.1] [--untied]

forward(idx, targets) returns the loss. Import it with

    accel-import gpt.pt --input idx=4x16xi64 --input targets=4x16xi64 \\
        -o gpt.mlir --params-out gpt.safetensors
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import GPT  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--mode", choices=["script", "trace", "export"], default="script",
                   help="export: torch.export.save, a .pt2 archive (needs torch 2.x)")
    p.add_argument("--script-out",
                   help="with --mode export: also save the same module as TorchScript here")
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--block", type=int, default=16)
    p.add_argument("--embd", type=int, default=32)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--untied", action="store_true")
    p.add_argument("--batch", type=int, default=2, help="example batch for tracing")
    p.add_argument("--dynamic-batch", action="store_true",
                   help="with --mode export: any batch size imports")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    model = GPT(args.vocab, args.block, args.embd, args.heads, args.layers,
                args.dropout, tied=not args.untied)
    model.train()
    if args.mode == "export":
        if args.script_out:
            torch.jit.script(model).save(args.script_out)
        # Two distinct tensors: export would alias the inputs of one.
        idx = torch.zeros(args.batch, args.block, dtype=torch.long)
        dynamic = None
        if args.dynamic_batch:
            batch = torch.export.Dim("batch", min=1)
            dynamic = ({0: batch}, {0: batch})
        program = torch.export.export(model, (idx, idx.clone()), dynamic_shapes=dynamic)
        torch.export.save(program, args.out)
        return
    if args.mode == "script":
        exported = torch.jit.script(model)
    else:
        idx = torch.randint(0, args.vocab, (args.batch, args.block))
        exported = torch.jit.trace(model, (idx, idx), check_trace=False)
    exported.save(args.out)


if __name__ == "__main__":
    main()
