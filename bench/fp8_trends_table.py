#!/usr/bin/env python3
"""The table of bench/fp8_trends.sh from its runs' metrics:

    fp8_trends_table.py OUT_DIR LABEL...

reads OUT_DIR/{gpt,mlp}-LABEL.jsonl (accel-run --metrics; "bf16" must be
one of the labels) and prints, per model, one Markdown row per run: final
loss; mean loss over the last 20% of steps; mean |loss - bf16's loss| over
those steps; the loss reduction (step 1 to the last 20%) as a share of
bf16's; the excess of the last-20% mean loss over bf16's; the last eval
accuracy; the median ms/step.
"""
import json
import statistics
import sys

BATCH = {"gpt": 16, "mlp": 128}

out, labels = sys.argv[1], sys.argv[2:]
for model in ("gpt", "mlp"):
    runs = {}
    for label in labels:
        lines = [json.loads(l) for l in open(f"{out}/{model}-{label}.jsonl")]
        steps = [l for l in lines if "loss" in l]
        evals = [l["eval_accuracy"] for l in lines if "eval_accuracy" in l]
        runs[label] = dict(
            loss=[l["loss"] for l in steps],
            eval=evals[-1] if evals else float("nan"),
            ms=statistics.median(1000 * BATCH[model] / l["samples_per_s"] for l in steps))
    bf16 = runs["bf16"]["loss"]
    n = len(bf16)
    tail = slice(n - n // 5, n)
    first = bf16[0]
    bf16_tail = statistics.mean(bf16[tail])
    print(f"\n{model}: {n} steps, loss at step 1 {first:.4f}\n")
    print("| run | final loss | mean loss, last 20% | mean abs. loss diff. vs bf16, last 20% "
          "| loss reduction vs bf16 | excess loss vs bf16, last 20% | eval accuracy | ms/step |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in runs.items():
        loss = r["loss"]
        mean = statistics.mean(loss[tail])
        diff = statistics.mean(abs(a - b) for a, b in zip(loss[tail], bf16[tail]))
        share = (first - mean) / (first - bf16_tail)
        excess = (mean - bf16_tail) / bf16_tail
        print(f"| {label} | {loss[-1]:.4f} | {mean:.4f} | {diff:.4f} | {100 * share:.1f}% "
              f"| {100 * excess:+.2f}% | {100 * r['eval']:.2f}% | {r['ms']:.1f} |")
