"""A small GPT-style decoder, written the way such models usually are.

Token and position embeddings, pre-LayerNorm blocks of causal multi-head
self-attention (matmul, transpose, view, masked_fill, softmax) and a GELU
MLP, residual connections, dropout, and a head tied to the token embedding
or not. forward(idx, targets) returns the mean cross-entropy loss.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, embd: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(embd, embd)
        self.key = nn.Linear(embd, embd)
        self.value = nn.Linear(embd, embd)
        self.proj = nn.Linear(embd, embd)
        self.attn_drop = nn.Dropout(dropout)
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.size()
        hs = C // self.heads
        q = self.query(x).view(B, T, self.heads, hs).transpose(1, 2)
        k = self.key(x).view(B, T, self.heads, hs).transpose(1, 2)
        v = self.value(x).view(B, T, self.heads, hs).transpose(1, 2)
        att = q @ k.transpose(-2, -1) / math.sqrt(hs)
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        att = att.masked_fill(causal, float("-inf"))
        att = self.attn_drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.proj(y))


class Block(nn.Module):
    def __init__(self, embd: int, heads: int, dropout: float):
        super().__init__()
        self.ln1 = nn.LayerNorm(embd)
        self.attn = CausalSelfAttention(embd, heads, dropout)
        self.ln2 = nn.LayerNorm(embd)
        self.fc = nn.Linear(embd, 4 * embd)
        self.act = nn.GELU()
        self.out = nn.Linear(4 * embd, embd)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.drop(self.out(self.act(self.fc(self.ln2(x)))))
        return x


class GPT(nn.Module):
    def __init__(self, vocab: int = 64, block: int = 16, embd: int = 32,
                 heads: int = 4, layers: int = 2, dropout: float = 0.1,
                 tied: bool = True):
        super().__init__()
        self.tok = nn.Embedding(vocab, embd)
        self.pos = nn.Embedding(block, embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*[Block(embd, heads, dropout) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(embd)
        self.head = nn.Linear(embd, vocab, bias=False)
        if tied:
            self.head.weight = self.tok.weight

    def forward(self, idx, targets):
        B, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long).unsqueeze(0)
        x = self.drop(self.tok(idx) + self.pos(pos))
        x = self.ln_f(self.blocks(x))
        logits = self.head(x)
        return F.cross_entropy(logits.view(B * T, logits.size(-1)), targets.view(B * T))
