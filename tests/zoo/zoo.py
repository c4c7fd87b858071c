"""The torchvision coverage table: each model of models.py through each
front end (TorchScript saved by Debian's torch 1.13 and torchvision 0.14;
torch.export saved by the reference environment's torch), checked the way
a user would meet it:

  import   accel-import reads the file (cross-entropy loss added);
  grads    one step's loss and gradients from accel-run against the
           current PyTorch's, both measured against float64 (reference.py:
           accel's error at most 4x PyTorch fp32's own; where accel took
           the other side of a max pool's or ReLU's near tie, the float64
           result on that side, the tie named: near_ties.py);
  train    20 AdamW steps of the model as built (dropout and stochastic
           depth on) through accel-run, every loss finite, then accel-run's
           evaluation pass (dropout's expectation). For models without
           randomness, the largest relative deviation of the 20 losses
           from torch.optim.AdamW's in float64 on the same batches, next
           to PyTorch fp32's own.

    zoo.py --work DIR [--models a,b] [--fronts script,export]
        [--json OUT.json] [--markdown OUT.md]

Run it with the reference environment's Python. The accel tools are
$ACCEL_BIN/NAME/NAME when ACCEL_BIN is set, else the first on PATH, else
bazel-bin/tools of this checkout. Exits non-zero when any cell fails.
The table in docs/import.md is this script's --markdown output for all
models (about 25 minutes on 2 cores); tests/lit/import/zoo.test runs two."""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "lit", "precision", "Inputs"))
from models import MODELS, CLASSES  # noqa: E402
from reference_io import write_safetensors  # noqa: E402

BATCH, STEPS, SAMPLES = 4, 20, 80
DEBIAN_PYTHON = "/usr/bin/python3"


def tool(name):
    if os.environ.get("ACCEL_BIN"):
        return os.path.join(os.environ["ACCEL_BIN"], name, name)
    return shutil.which(name) or os.path.join(here, "..", "..", "bazel-bin", "tools", name, name)


class CellFailure(Exception):
    pass


def run(cmd, log):
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
        f.write(done.stderr)
    if done.returncode != 0:
        lines = [l for l in done.stderr.strip().splitlines() if l.strip()]
        if lines and lines[0].startswith("Traceback"):
            lines = lines[-1:]  # a Python error: its last line says what
        raise CellFailure(lines[0][:300] if lines else f"{os.path.basename(cmd[0])} exited {done.returncode}")


def write_data(path, image):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, 3, image, image), dtype=np.float32)
    y = rng.integers(0, CLASSES, SAMPLES).astype(np.int64)
    write_safetensors(path, {"x": ("F32", x), "y": ("I64", y)}, {})


def cell(name, front, work):
    image, random = MODELS[name]
    base = os.path.join(work, f"{name}.{front}")
    log = base + ".log"
    open(log, "w").close()
    suffix = ".pt" if front == "script" else ".pt2"
    python = DEBIAN_PYTHON if front == "script" else sys.executable
    data = os.path.join(work, f"data{image}.safetensors")
    if not os.path.exists(data):
        write_data(data, image)
    shapes = ["--input", f"x={BATCH}x3x{image}x{image}xf32", "--loss", "cross-entropy",
              "--target", f"y={BATCH}xi64"]
    result = {"model": name, "front": front}
    stage = "export"
    try:
        # The gradient check: the model without randomness.
        det = base + ".det"
        run([python, os.path.join(here, "export_model.py"), name, "--front", front,
             "--deterministic", "--batch", str(BATCH), "--out", det + suffix], log)
        stage = "import"
        run([tool("accel-import"), det + suffix, *shapes, "-o", det + ".mlir",
             "--params-out", det + ".safetensors"], log)
        result["import"] = True
        stage = "grads"
        run([tool("accel-opt"), det + ".mlir", "--accel-train-pipeline=kind=sgd",
             "-o", det + ".sgd.mlir"], log)
        run([tool("accel-run"), det + ".sgd.mlir", "--params", det + ".safetensors",
             "--data", data, "--steps", "1", "--lr", "0", "--no-shuffle",
             "--dump-grads", det + ".grads.safetensors", "--metrics", det + ".grads.jsonl"], log)
        # The training run: the model as built, dropout and all.
        train = base + ".train" if random else det
        if random:
            stage = "export"
            run([python, os.path.join(here, "export_model.py"), name, "--front", front,
                 "--batch", str(BATCH), "--out", train + suffix], log)
            stage = "import"
            run([tool("accel-import"), train + suffix, *shapes, "-o", train + ".mlir",
                 "--params-out", train + ".safetensors"], log)
        stage = "train"
        run([tool("accel-opt"), train + ".mlir", "--accel-train-pipeline=kind=adamw lr=1e-3",
             "-o", train + ".adamw.mlir"], log)
        run([tool("accel-run"), train + ".adamw.mlir", "--params", train + ".safetensors",
             "--data", data, "--steps", str(STEPS), "--no-shuffle", "--eval-data", data,
             "--metrics", train + ".jsonl", "--max-nonfinite-steps", "1"], log)
        losses = [r["loss"] for r in map(json.loads, open(train + ".jsonl")) if "loss" in r]
        if len(losses) < STEPS or not all(math.isfinite(l) for l in losses):
            raise CellFailure(f"{len(losses)} finite losses of {STEPS}")
        evals = [r["eval_accuracy"] for r in map(json.loads, open(train + ".jsonl"))
                 if "eval_accuracy" in r]
        if not evals:
            raise CellFailure("accel-run's evaluation pass reported no accuracy")
        result["train"] = True
        result["losses"] = [losses[0], losses[STEPS - 1]]
        result["eval_accuracy"] = evals[-1]
        stage = "grads"
        compare = [sys.executable, os.path.join(here, "reference.py"), name, data,
                   "--batch", str(BATCH), "--params", det + ".safetensors",
                   "--accel-grads", det + ".grads.safetensors",
                   "--accel-metrics", det + ".grads.jsonl", "--json", base + ".check.json"]
        if not random:
            compare += ["--train-metrics", train + ".jsonl", "--steps", str(STEPS), "--lr", "1e-3"]
        try:
            run(compare, log)
        except CellFailure:
            if not os.path.exists(base + ".check.json"):
                raise
        check = json.load(open(base + ".check.json"))
        result.update(check)
        if not check["grads_ok"]:
            raise CellFailure(f"{len(check['failing'])} gradient(s) off: "
                              + ", ".join(check["failing"][:3]))
    except CellFailure as e:
        result["failed"] = stage
        result["why"] = str(e)
    return result


def markdown(results, fronts):
    label = {"script": "TorchScript (torch 1.13)", "export": "torch.export (torch 2.15)"}
    lines = ["| model | " + " | ".join(label[f] for f in fronts) + " |",
             "|---|" + "---|" * len(fronts)]
    by = {(r["model"], r["front"]): r for r in results}
    for name in dict.fromkeys(r["model"] for r in results):
        cells = []
        for f in fronts:
            r = by.get((name, f))
            if r is None:
                cells.append("not run")
            elif "failed" in r:
                cells.append(f"fails at {r['failed']}: {r['why']}")
            else:
                w = r["worst"]
                text = (f"pass: {r['tensors']} tensors, error ≤ {w['ratio']:.2f}× torch's; "
                        f"loss {r['losses'][0]:.3f} → {r['losses'][1]:.3f}, "
                        f"eval {100 * r['eval_accuracy']:.0f}%")
                for tie in r.get("near_ties", []):
                    text += f"; gradients on the other side of a near tie: {tie}"
                if "train_deviation" in r:
                    text += (f"; 20 losses within {r['train_deviation']:.0e} of float64 "
                             f"(torch {r['torch_train_deviation']:.0e})")
                cells.append(text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--fronts", default="script,export")
    p.add_argument("--json")
    p.add_argument("--markdown")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    fronts = args.fronts.split(",")
    results = []
    for name in args.models.split(","):
        for front in fronts:
            start = time.time()
            r = cell(name, front, args.work)
            r["seconds"] = round(time.time() - start, 1)
            status = "pass" if "failed" not in r else f"FAIL at {r['failed']}: {r['why']}"
            print(f"{name:22} {front:7} {status} ({r['seconds']} s)", flush=True)
            results.append(r)
    passed = sum("failed" not in r for r in results)
    print(f"{passed} of {len(results)} cells pass")
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)
    if args.markdown:
        open(args.markdown, "w").write(markdown(results, fronts))
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
