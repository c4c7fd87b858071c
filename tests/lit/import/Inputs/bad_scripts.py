#!/usr/bin/env python3
"""Scripted modules the importer must refuse with a message at the line:
bernoulli with a probability outside [0, 1], and a list of tensors sliced
with step 0.

    bad_random.py OUT_DIR   (writes probability.pt and zero_step.pt)"""
import os
import sys
import torch
from torch import nn


class Probability(nn.Module):
    def forward(self, x):
        return x * torch.empty([4, 8]).bernoulli_(1.5)


class ZeroStep(nn.Module):
    def forward(self, x):
        return torch.cat([x, x][::0], 1)


for name, module in [("probability", Probability()), ("zero_step", ZeroStep())]:
    torch.jit.script(module).save(os.path.join(sys.argv[1], name + ".pt"))
