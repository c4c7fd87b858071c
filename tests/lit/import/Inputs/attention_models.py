"""Writes torch.export archives of attention models that only the .pt2 path
can import (LibTorch 1.13 does not know scaled_dot_product_attention), and
a data file for them.

  nanogpt.pt2       a nanoGPT-style decoder: qkv from one linear split in
                    three, F.scaled_dot_product_attention(is_causal=True),
                    GELU MLP, tied head, cross-entropy computed in forward;
                    forward(idx, targets)
  encoder.pt2       nn.TransformerEncoderLayer (batch_first=True) under a
                    linear head, MSE in forward; forward(x, t)
  encoder-seq.pt2   the same with batch_first=False: the layer sees
                    [T, B, C] (forward transposes its [B, T, C] inputs)
  data.safetensors  idx, targets [64, 8] (int64 < 32); x, t [64, 8, 16]

Usage: attention_models.py OUT_DIR (torch 2.x: the reference environment)."""
import os
import sys

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "precision", "Inputs"))
from reference_io import write_safetensors  # noqa: E402


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.out = nn.Linear(4 * width, width)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class NanoGPT(nn.Module):
    def __init__(self, vocab=32, block=8, width=16, heads=2, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(block, width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, idx, targets):
        B, T = idx.size()
        x = self.tok(idx) + self.pos(torch.arange(T, dtype=torch.long))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


class Encoder(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0,
                                                batch_first=batch_first)
        self.head = nn.Linear(16, 16)
        self.batch_first = batch_first

    def forward(self, x, t):
        if self.batch_first:
            y = self.layer(x)
        else:
            y = self.layer(x.transpose(0, 1)).transpose(0, 1)
        return F.mse_loss(self.head(y), t)


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(0, 32, (64, 8), generator=g)
    targets = torch.randint(0, 32, (64, 8), generator=g)
    x, t = torch.randn(64, 8, 16, generator=g), torch.randn(64, 8, 16, generator=g)
    write_safetensors(os.path.join(out, "data.safetensors"), {
        "idx": ("I64", idx.numpy()), "targets": ("I64", targets.numpy()),
        "x": ("F32", x.numpy()), "t": ("F32", t.numpy())}, {})
    models = {
        "nanogpt": (NanoGPT(), (idx[:4], targets[:4])),
        "encoder": (Encoder(True), (x[:4], t[:4])),
        "encoder-seq": (Encoder(False), (x[:4], t[:4])),
    }
    for name, (model, example) in models.items():
        program = torch.export.export(model.train(), example)
        torch.export.save(program, os.path.join(out, name + ".pt2"))


if __name__ == "__main__":
    main()
