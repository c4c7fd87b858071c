"""Modules whose scripted code takes the paths torchvision's models and
nn.MultiheadAttention take, saved as TorchScript (Debian's torch 1.13):

  dense:     a DenseNet-style block: a list of feature maps grown with
             append and concatenated by every layer (aten::append), then
             reversed by a slice (aten::slice.t);
  attention: nn.MultiheadAttention (self-attention, batch second), whose
             scripted forward asks for dtypes, devices, `query is key`,
             formats strings and tests a fast path training never takes
             (prim::dtype, aten::__is__, aten::format, bmm, a tuple
             holding None);
  depth:     torchvision's StochasticDepth ("row" mode) around a residual
             branch (aten::empty + aten::bernoulli_: a per-sample mask).

Each forward returns a loss: MSE against t, or (depth) the cross-entropy of
labels y, so that accel-run can evaluate its accuracy.

    scripted_paths.py --out-dir DIR [--data DATA.safetensors]
        (dense x [4,3,6,6]; attention x [5,4,8]; depth x [4,8], and the data:
        64 samples of x [8], labels y = argmax(x))"""
import argparse
import os
import sys
from typing import List

import torch
import torchvision
from torch import nn
from torch.nn import functional as F


class Dense(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.Conv2d(3 + 2 * i, 2, 3, padding=1) for i in range(3)])

    def forward(self, x, t):
        features: List[torch.Tensor] = [x]
        for layer in self.layers:
            features.append(F.relu(layer(torch.cat(features, 1))))
        # A slice of the list (aten::slice.t), newest feature map first.
        return F.mse_loss(torch.cat(features[::-1], 1).mean((2, 3)), t)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2)

    def forward(self, x, t):
        y, _ = self.attn(x, x, x, need_weights=False)
        return F.mse_loss(y, t)


class Depth(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch = nn.Linear(8, 8)
        self.drop = torchvision.ops.StochasticDepth(0.5, "row")

    def forward(self, x, y):
        return F.cross_entropy(x + self.drop(self.branch(x)), y)


p = argparse.ArgumentParser()
p.add_argument("--out-dir", required=True)
p.add_argument("--data")
args = p.parse_args()
torch.manual_seed(0)
for name, module in [("dense", Dense()), ("attention", Attention()), ("depth", Depth())]:
    module.train()
    torch.jit.script(module).save(os.path.join(args.out_dir, name + ".pt"))
if args.data:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "precision", "Inputs"))
    from reference_io import write_safetensors
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 8, generator=g)
    write_safetensors(args.data, {"x": ("F32", x.numpy()),
                                  "y": ("I64", x.argmax(1).numpy())}, {})
