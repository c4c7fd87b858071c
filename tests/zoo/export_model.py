"""Saves one model of models.py for accel-import.

    export_model.py NAME --front script|export --out FILE [--deterministic]
        [--batch B] [--seed S]

script: torch.jit.script with the running Python's torch (Debian's 1.13);
export: torch.export.save (the reference environment's torch 2.x). The
model returns logits; accel-import adds the cross-entropy loss."""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from models import MODELS, build  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("name", choices=sorted(MODELS))
p.add_argument("--front", choices=["script", "export"], required=True)
p.add_argument("--out", required=True)
p.add_argument("--deterministic", action="store_true")
p.add_argument("--batch", type=int, default=4)
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()

torch.manual_seed(args.seed)
model = build(args.name, args.deterministic)
if args.front == "script":
    torch.jit.script(model).save(args.out)
else:
    image = MODELS[args.name][0]
    example = (torch.randn(args.batch, 3, image, image),)
    torch.export.save(torch.export.export(model, example), args.out)
