#!/usr/bin/env python3
"""Exports a small CNN that exercises every convolution and pooling option
accel imports: bias, stride, padding, dilation, groups, BatchNorm, max and
average pooling (with ceil_mode), adaptive pooling, flatten and a residual.

    python3 examples/cnn/export.py --out cnn.pt [--mode script|trace]
    accel-import cnn.pt --input x=4x3x20x20xf32 --loss cross-entropy \\
        --target y=4xi64 -o cnn.mlir --params-out cnn.safetensors
"""
import argparse

import torch
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=1, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(8)
        self.grouped = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2, bias=False)
        self.depthwise = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.avg = nn.AvgPool2d(2, stride=1, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool2d((2, 2))
        self.fc = nn.Linear(8 * 2 * 2, classes)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = x + self.grouped(x)
        x = self.pool(torch.relu(self.depthwise(x)))
        x = self.gap(self.avg(x))
        return self.fc(torch.flatten(x, 1))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--mode", choices=["script", "trace", "export"], default="script",
                   help="export: torch.export.save, a .pt2 archive (needs torch 2.x)")
    p.add_argument("--script-out",
                   help="with --mode export: also save the same module as TorchScript here")
    p.add_argument("--batch", type=int, default=2, help="example batch for --mode export")
    p.add_argument("--image", type=int, default=20, help="example image size for --mode export")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = SmallCNN().train()
    if args.mode == "export":
        if args.script_out:
            torch.jit.script(model).save(args.script_out)
        program = torch.export.export(model, (torch.randn(args.batch, 3, args.image, args.image),))
        torch.export.save(program, args.out)
        return
    if args.mode == "script":
        exported = torch.jit.script(model)
    else:
        exported = torch.jit.trace(model, torch.randn(2, 3, 20, 20), check_trace=False)
        # Undo the running-statistic update of the tracing pass.
        exported.bn.running_mean.zero_()
        exported.bn.running_var.fill_(1.0)
        exported.bn.num_batches_tracked.zero_()
    exported.save(args.out)


if __name__ == "__main__":
    main()
