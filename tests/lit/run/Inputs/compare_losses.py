#!/usr/bin/env python3
"""compare_losses.py ACCEL.jsonl TORCH.jsonl RTOL: every step's loss must agree
within RTOL relative; prints the largest error."""
import json
import sys

ours = [json.loads(l)["loss"] for l in open(sys.argv[1])]
ref = [json.loads(l)["loss"] for l in open(sys.argv[2])]
rtol = float(sys.argv[3])
if len(ours) != len(ref):
    sys.exit("compare_losses: %d steps vs %d" % (len(ours), len(ref)))
worst = max(abs(a - b) / abs(b) for a, b in zip(ours, ref))
print("steps %d, largest relative loss difference %.3g" % (len(ours), worst))
if worst > rtol:
    sys.exit("compare_losses: above %g" % rtol)
print("PASS")
