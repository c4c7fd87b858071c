"""accel's training step against the current PyTorch's, on the same
machine in the same run (bench/run_all.sh builds what it needs and runs
this with the reference environment's Python).

For each model of bench_models.py: exports it with torch.export, imports
it with accel-import (cross-entropy appended where the model returns
logits), compiles its AdamW step with accel-opt, and starts one process
per contender, each holding the same parameters (accel-import's) and the
same batch: accel (accel_step_server), and PyTorch eager (foreach AdamW),
fused AdamW, torch.compile + fused AdamW, and Accelerate
(torch_step_server.py). After a warm-up (which absorbs torch.compile's
compilation, reported separately), the contenders run in alternating
rounds, the order rotated every round, so that a noisy neighbour or a
clock change hits all alike. Reports medians with the spread of the
rounds, accel's speed-up over the fastest PyTorch mode, and accel's
GFLOP/s (the step's forward and backward FLOPs, counted by PyTorch's
FlopCounterMode) against the machine's fp32 product rate (1024x1024x1024,
the same threads: the faster of torch.mm and accel's own products, as
accel_step_server measures them), and how close accel comes to the
step's roofline: its products at that rate plus the bytes its other
kernels must stream (each operand read and each result written once, as
accel_step_server counts them) at the machine's copy bandwidth (torch's
copy of 256 MiB, the same threads).

    run_all.py --threads T [--models mlp,gpt,gpt-mid,resnet18] [--rounds 5]
        [--work DIR] [--json OUT.json] [--markdown OUT.md]

The accel tools are $ACCEL_BIN/<package>/<tool> when ACCEL_BIN is set,
else bazel-bin of this checkout."""
import argparse
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..")
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(root, "tests", "lit", "precision", "Inputs"))
from bench_models import MODELS, build, loss_of, make_batch, model_inputs  # noqa: E402
from reference_io import write_safetensors  # noqa: E402

MODES = ["eager", "fused", "compile", "accelerate"]
LABELS = {"accel": "accel", "eager": "torch eager", "fused": "fused AdamW",
          "compile": "torch.compile + fused", "accelerate": "Accelerate"}


def tool(package, name):
    base = os.environ.get("ACCEL_BIN") or os.path.join(root, "bazel-bin")
    path = os.path.join(base, package, name)
    if not os.access(path, os.X_OK):
        sys.exit(f"run_all.py: {path} is not built (bench/run_all.sh builds it)")
    return path


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"run_all.py: {' '.join(cmd)} failed:\n{done.stderr}")


def sgemm_gflops(threads):
    torch.set_num_threads(threads)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10):
            torch.mm(a, b)
        best = min(best, (time.perf_counter() - start) / 10)
    return 2 * 1024 ** 3 / best / 1e9


def copy_gbps(threads):
    """Bytes read plus bytes written per second by a large copy."""
    torch.set_num_threads(threads)
    src = torch.ones(64 * 2 ** 20)
    dst = torch.empty_like(src)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        dst.copy_(src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.numel() * 4 / best / 1e9


class Worker:
    """A contender's process, driven line by line."""

    def __init__(self, name, cmd, threads):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env)
        ready = self.expect("ready")
        self.parameters = int(ready[0])
        # accel's server also says how many bytes its step streams.
        self.streamed_bytes = int(ready[1]) if len(ready) > 1 else None

    def expect(self, word):
        """The words after `word` on the worker's next line."""
        line = self.proc.stdout.readline()
        if not line.startswith(word + " "):
            self.proc.kill()
            sys.exit(f"run_all.py: {self.name} answered {line!r} (expected '{word} ...')")
        return line.split()[1:]

    def gemm(self):
        """accel's own product rate, GFLOP/s (accel_step_server only)."""
        self.proc.stdin.write("gemm\n")
        self.proc.stdin.flush()
        return float(self.expect("gflops")[0])

    def run(self, steps):
        self.proc.stdin.write(f"run {steps}\n")
        self.proc.stdin.flush()
        return float(self.expect("ms")[0])

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait()


def shape_arg(name, shape, dtype):
    suffix = "f32" if dtype == torch.float32 else "i64"
    return f"{name}={'x'.join(map(str, shape))}x{suffix}"


def bench(name, args, work, rates, bandwidth):
    spec = MODELS[name]
    print(f"== {name}: {spec['description']}", flush=True)
    base = os.path.join(work, name)
    batch = make_batch(name)
    model = build(name)
    program = torch.export.export(model, tuple(model_inputs(name, batch)))
    torch.export.save(program, base + ".pt2")
    import_cmd = [tool("tools/accel-import", "accel-import"), base + ".pt2"]
    for input_name, (shape, dtype) in spec["inputs"].items():
        if spec["returns_loss"] or input_name != "y":
            import_cmd += ["--input", shape_arg(input_name, shape, dtype)]
    if not spec["returns_loss"]:
        shape, dtype = spec["inputs"]["y"]
        import_cmd += ["--loss", "cross-entropy", "--target", shape_arg("y", shape, dtype)]
    run(import_cmd + ["-o", base + ".mlir", "--params-out", base + ".safetensors"])
    start = time.perf_counter()
    run([tool("tools/accel-opt", "accel-opt"), base + ".mlir",
         f"--accel-train-pipeline=kind=adamw lr={args.lr}", "-o", base + ".step.mlir"])
    compile_s = time.perf_counter() - start
    write_safetensors(base + ".batch.safetensors",
                      {n: ("F32" if t.dtype == torch.float32 else "I64", t.numpy())
                       for n, t in batch.items()}, {})

    # FLOPs of one forward and backward (the optimizer's are negligible).
    counter = FlopCounterMode(display=False)
    with counter:
        loss_of(name, build(name), batch).backward()
    flops = counter.get_total_flops()

    workers = [Worker("accel", [tool("bench", "accel_step_server"), "--step", base + ".step.mlir",
                                "--params", base + ".safetensors",
                                "--batch", base + ".batch.safetensors",
                                f"--threads={args.threads}", f"--lr={args.lr}"], args.threads)]
    for mode in args.modes:
        workers.append(Worker(mode, [sys.executable, os.path.join(here, "torch_step_server.py"),
                                     name, mode, "--params", base + ".safetensors",
                                     "--batch", base + ".batch.safetensors",
                                     "--threads", str(args.threads), "--lr", str(args.lr)],
                              args.threads))
    if "accel_gemm" not in rates:
        rates["accel_gemm"] = workers[0].gemm()
    peak = max(rates["torch_mm"], rates["accel_gemm"])
    warmup_s = {}
    for w in workers:
        start = time.perf_counter()
        w.run(spec["warmup"])
        warmup_s[w.name] = time.perf_counter() - start
    times = {w.name: [] for w in workers}
    for r in range(args.rounds):
        for w in workers[r % len(workers):] + workers[:r % len(workers)]:
            times[w.name].append(w.run(spec["steps"]))
    for w in workers:
        w.close()

    result = {"model": name, "description": spec["description"],
              "parameters": workers[0].parameters, "flops": flops,
              "steps_per_round": spec["steps"], "rounds": args.rounds,
              "accel_compile_s": compile_s, "ms": times}
    medians = {k: statistics.median(v) for k, v in times.items()}
    result["median_ms"] = medians
    best = min(args.modes, key=lambda m: medians[m])
    result["best_torch"] = best
    result["speedup"] = medians[best] / medians["accel"]
    result["accel_gflops"] = flops / (medians["accel"] / 1000) / 1e9
    result["sgemm_gflops"] = peak
    result["accel_peak_fraction"] = result["accel_gflops"] / peak
    result["streamed_bytes"] = workers[0].streamed_bytes
    result["roofline_ms"] = (flops / (peak * 1e9)
                             + workers[0].streamed_bytes / (bandwidth * 1e9)) * 1000
    result["roofline_fraction"] = result["roofline_ms"] / medians["accel"]
    if "compile" in warmup_s:
        # The warm-up's time beyond its steps at the measured speed.
        result["torch_compile_s"] = warmup_s["compile"] - spec["warmup"] * medians["compile"] / 1000
    for k in times:
        print(f"  {LABELS[k]:24} {medians[k]:9.2f} ms/step  "
              f"({min(times[k]):.2f}-{max(times[k]):.2f})", flush=True)
    print(f"  accel vs {LABELS[best]}: {result['speedup']:.2f}x; accel "
          f"{result['accel_gflops']:.1f} GFLOP/s ({100 * result['accel_peak_fraction']:.0f}% of "
          f"sgemm); roofline {result['roofline_ms']:.2f} ms "
          f"({workers[0].streamed_bytes / 1e6:.1f} MB streamed): "
          f"{100 * result['roofline_fraction']:.0f}% of it reached", flush=True)
    return result


def accel_products():
    """The library accel's products run on (oneDNN's sgemm, or OpenBLAS
    with ACCEL_GEMM=openblas), as the table states it."""
    if os.environ.get("ACCEL_GEMM") != "openblas":
        return "oneDNN's sgemm"
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
    except OSError:
        return "OpenBLAS (ACCEL_GEMM=openblas)"
    lib.openblas_get_corename.restype = ctypes.c_char_p
    name = lib.openblas_get_corename().decode()
    how = (f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}"
           if os.environ.get("OPENBLAS_CORETYPE") else "detected")
    return f"OpenBLAS, {name} kernels ({how}; ACCEL_GEMM=openblas)"


def markdown(results, modes, threads, rates, bandwidth):
    cols = ["accel"] + modes
    peak = max(rates["torch_mm"], rates.get("accel_gemm", 0))
    lines = [f"{threads} thread(s); sgemm 1024³: torch.mm {rates['torch_mm']:.1f}, "
             f"accel {rates.get('accel_gemm', 0):.1f} GFLOP/s; copy "
             f"bandwidth {bandwidth:.1f} GB/s; accel's products: "
             f"{accel_products()}. Medians of the rounds, ms/step (fastest–slowest "
             f"round). Roofline: the products at the faster sgemm rate ({peak:.1f} "
             "GFLOP/s) plus the bytes accel's other kernels stream at the copy "
             "bandwidth.", "",
             "| model | " + " | ".join(LABELS[c] for c in cols)
             + " | accel vs fastest PyTorch | accel GFLOP/s (% of sgemm) "
             "| roofline ms (MB streamed; % reached) |",
             "|---|" + "---|" * (len(cols) + 3)]
    for r in results:
        cells = []
        for c in cols:
            t = r["ms"][c]
            cell = f"{statistics.median(t):.1f} ({min(t):.1f}–{max(t):.1f})"
            if c == "compile" and "torch_compile_s" in r:
                cell += f"; compile {r['torch_compile_s']:.0f} s"
            cells.append(cell)
        lines.append(f"| {r['description']} | " + " | ".join(cells)
                     + f" | {r['speedup']:.2f}× ({LABELS[r['best_torch']]}) | "
                     f"{r['accel_gflops']:.1f} ({100 * r['accel_peak_fraction']:.0f}%) | "
                     f"{r['roofline_ms']:.1f} ({r['streamed_bytes'] / 1e6:.0f} MB; "
                     f"{100 * r['roofline_fraction']:.0f}%) |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--work")
    p.add_argument("--json")
    p.add_argument("--markdown")
    args = p.parse_args()
    args.modes = args.modes.split(",")
    unknown = [m for m in args.models.split(",") if m not in MODELS] + \
              [m for m in args.modes if m not in MODES]
    if unknown:
        sys.exit(f"run_all.py: unknown model or mode: {', '.join(unknown)}")
    work = args.work or tempfile.mkdtemp(prefix="accel-bench-")
    os.makedirs(work, exist_ok=True)
    rates = {"torch_mm": sgemm_gflops(args.threads)}
    bandwidth = copy_gbps(args.threads)
    print(f"sgemm (torch.mm, 1024^3, {args.threads} thread(s)): {rates['torch_mm']:.1f} GFLOP/s; "
          f"copy bandwidth {bandwidth:.1f} GB/s", flush=True)
    results = [bench(name, args, work, rates, bandwidth) for name in args.models.split(",")]
    table = markdown(results, args.modes, args.threads, rates, bandwidth)
    print(table)
    if args.json:
        json.dump({"threads": args.threads, "sgemm_gflops": rates, "copy_gbps": bandwidth,
                   "results": results}, open(args.json, "w"), indent=1)
    if args.markdown:
        open(args.markdown, "w").write(table)
    if not args.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
