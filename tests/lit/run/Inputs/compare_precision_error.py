#!/usr/bin/env python3
"""compare_precision_error.py REFERENCE.jsonl BASELINE.jsonl CANDIDATE.jsonl
RATIO: the mean relative deviation of CANDIDATE's losses from REFERENCE's
(an f32 run) must be at most RATIO times BASELINE's (the same reduced
precision run another way, e.g. on one rank): where bf16 rounding noise
dominates, the candidate may be no less accurate than the baseline,
measured the same way. Records without a loss (evaluation) are skipped."""
import json
import sys


def losses(path):
    return [r["loss"] for r in map(json.loads, open(path)) if "loss" in r]


def deviation(run, reference):
    if len(run) != len(reference):
        sys.exit("compare_precision_error: %d steps vs %d" % (len(run), len(reference)))
    return sum(abs(a - b) / abs(b) for a, b in zip(run, reference)) / len(run)


reference = losses(sys.argv[1])
baseline = deviation(losses(sys.argv[2]), reference)
candidate = deviation(losses(sys.argv[3]), reference)
ratio = float(sys.argv[4])
print("mean relative deviation from the reference: baseline %.3g, candidate %.3g"
      % (baseline, candidate))
if candidate > ratio * baseline:
    sys.exit("compare_precision_error: above %g times the baseline's" % ratio)
print("PASS")
