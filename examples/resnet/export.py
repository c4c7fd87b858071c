#!/usr/bin/env python3
"""Exports torchvision's ResNet-18 as TorchScript for accel-import.

    python3 examples/resnet/export.py --out resnet18.pt [--mode script|trace]
        [--classes 10] [--image 32]

The model is in training mode, so BatchNorm uses batch statistics and
updates its running statistics (the imported function returns them).
"""
import argparse

import torch
import torchvision


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--mode", choices=["script", "trace", "export"], default="script",
                   help="export: torch.export.save, a .pt2 archive (needs torch 2.x)")
    p.add_argument("--script-out",
                   help="with --mode export: also save the same module as TorchScript here")
    p.add_argument("--batch", type=int, default=2, help="example batch for --mode export")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--image", type=int, default=32, help="image size for tracing")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    model = torchvision.models.resnet18(num_classes=args.classes)
    model.train()
    if args.mode == "export":
        if args.script_out:
            torch.jit.script(model).save(args.script_out)
        program = torch.export.export(model, (torch.randn(args.batch, 3, args.image, args.image),))
        torch.export.save(program, args.out)
        return
    if args.mode == "script":
        exported = torch.jit.script(model)
    else:
        example = torch.randn(2, 3, args.image, args.image)
        exported = torch.jit.trace(model, example, check_trace=False)
        # Tracing ran one forward pass; undo its running-statistic update so
        # both exports start from the same state.
        for m in exported.modules():
            if hasattr(m, "running_mean"):
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                m.num_batches_tracked.zero_()
    exported.save(args.out)


if __name__ == "__main__":
    main()
