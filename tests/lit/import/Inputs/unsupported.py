#!/usr/bin/env python3
"""Exports a module that uses ops accel does not import, in several places,
and control flow on a tensor's value: accel-import must list them all."""
import sys

import torch
from torch import nn


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        h = torch.cumsum(self.fc(x), dim=1)
        h = torch.sort(h, dim=1)[0] + torch.cumsum(h, dim=0)
        if bool(h.sum() > 0):
            h = h * 2.0
        return h.mean()


torch.jit.script(Unsupported()).save(sys.argv[1])
