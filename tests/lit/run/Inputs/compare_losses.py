#!/usr/bin/env python3
"""compare_losses.py ACCEL.jsonl TORCH.jsonl RTOL [--resumed]: every step's
loss must agree within RTOL relative; prints the largest error. With
--resumed, ACCEL holds the steps of a resumed run, compared with the
reference's steps of the same numbers. Records without a loss (evaluation)
are skipped."""
import json
import sys

ours = [r for r in map(json.loads, open(sys.argv[1])) if "loss" in r]
ref = [r for r in map(json.loads, open(sys.argv[2])) if "loss" in r]
rtol = float(sys.argv[3])
if "--resumed" in sys.argv[4:]:
    by_step = {r["step"]: r for r in ref}
    if not ours or any(o.get("step") not in by_step for o in ours):
        sys.exit("compare_losses: the resumed steps are not all in the reference")
    ref = [by_step[o["step"]] for o in ours]
ours = [o["loss"] for o in ours]
ref = [r["loss"] for r in ref]
if len(ours) != len(ref):
    sys.exit("compare_losses: %d steps vs %d" % (len(ours), len(ref)))
worst = max(abs(a - b) / abs(b) for a, b in zip(ours, ref))
print("steps %d, largest relative loss difference %.3g" % (len(ours), worst))
if worst > rtol:
    sys.exit("compare_losses: above %g" % rtol)
print("PASS")
