#!/usr/bin/env python3
"""Exports a model whose second layer does not fit the first: the import
must fail at the line of the mismatching op."""
import sys

import torch
from torch import nn

torch.jit.script(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(12, 4))).save(sys.argv[1])
