"""A model that uses the ops real models do beyond the examples': a qkv
projection split in three (split), heads unbound from a stacked tensor
(unbind), chunk, select, squeeze/unsqueeze, expand/expand_as,
broadcast_tensors, and the activations of MobileNets and EfficientNets
(SiLU, ReLU6, hardtanh, hardswish, hardsigmoid). forward(x, t) returns an
MSE loss whose target broadcasts.

    model_ops.py --mode script|export --out M [--script-out M.pt]
        [--data DATA.safetensors]   (64 samples: x [5, 12], t [5, 1])

script needs any torch (Debian's 1.13 too); export needs torch 2.x."""
import argparse
import os
import sys

import torch
from torch import nn
from torch.nn import functional as F


class ModelOps(nn.Module):
    def __init__(self, width: int = 12):
        super().__init__()
        self.qkv = nn.Linear(width, 3 * width)
        self.mix = nn.Linear(width, width)
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, width))

    def forward(self, x, t):
        q, k, v = self.qkv(x).split(x.size(-1), dim=-1)
        a, b = torch.chunk(q * k, 2, dim=-1)
        stacked = torch.stack([a, b], dim=0)
        first, second = torch.unbind(stacked, dim=0)
        h = torch.cat([F.silu(first), F.relu6(4 * second)], dim=-1) + v
        h = F.hardswish(h) + F.hardtanh(h, -0.5, 0.5) * F.hardsigmoid(v)
        row = h.select(1, 0).unsqueeze(1)               # [B, 1, W]
        h = h + row.expand(-1, h.size(1), -1)
        s = self.scale.unsqueeze(0).unsqueeze(0).expand_as(h)
        y = self.mix(h * s).unsqueeze(2).squeeze(2)
        y, target = torch.broadcast_tensors(y, t)
        return F.mse_loss(y, target)


def write_data(path):
    """Columns x [64, 5, 12] and t [64, 5, 1] as safetensors."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "precision", "Inputs"))
    from reference_io import write_safetensors
    g = torch.Generator().manual_seed(1)
    write_safetensors(path, {"x": ("F32", torch.randn(64, 5, 12, generator=g).numpy()),
                             "t": ("F32", torch.randn(64, 5, 1, generator=g).numpy())}, {})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["script", "export"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--script-out")
    p.add_argument("--data")
    args = p.parse_args()
    torch.manual_seed(0)
    model = ModelOps()
    if args.data:
        write_data(args.data)
    if args.mode == "script":
        torch.jit.script(model).save(args.out)
        return
    if args.script_out:
        torch.jit.script(model).save(args.script_out)
    example = (torch.randn(2, 5, 12), torch.randn(1, 5, 12))
    torch.export.save(torch.export.export(model, example), args.out)


if __name__ == "__main__":
    main()
