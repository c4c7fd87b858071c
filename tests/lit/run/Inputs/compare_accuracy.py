#!/usr/bin/env python3
"""compare_accuracy.py A.jsonl B.jsonl MAXDIFF: both runs evaluated at the
same steps, and their accuracies differ by at most MAXDIFF (a fraction of
the samples: two runs whose parameters agree within rounding may disagree
on a sample whose two largest logits are that close)."""
import json
import sys


def evals(path):
    return [(r["step"], r["eval_accuracy"])
            for r in map(json.loads, open(path)) if "eval_accuracy" in r]


a, b = evals(sys.argv[1]), evals(sys.argv[2])
if not a or [s for s, _ in a] != [s for s, _ in b]:
    sys.exit("compare_accuracy: evaluated at steps %s vs %s"
             % ([s for s, _ in a], [s for s, _ in b]))
worst = max(abs(x - y) for (_, x), (_, y) in zip(a, b))
print("evaluations %d, accuracies %s vs %s, largest difference %.4f"
      % (len(a), [x for _, x in a], [y for _, y in b], worst))
if worst > float(sys.argv[3]):
    sys.exit("compare_accuracy: above %s" % sys.argv[3])
print("PASS")
