"""Saves, with the current PyTorch, a TorchScript module that calls
F.scaled_dot_product_attention, an op LibTorch 1.13 does not know."""
import sys

import torch
from torch.nn import functional as F


class Attention(torch.nn.Module):
    def forward(self, x):
        return F.scaled_dot_product_attention(x, x, x, is_causal=True).sum()


torch.jit.script(Attention()).save(sys.argv[1])
