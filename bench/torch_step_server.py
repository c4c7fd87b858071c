"""One PyTorch mode's side of bench/run_all.py: builds a model, takes the
parameters accel-import wrote and the driver's batch, and times AdamW
training steps when asked, with the protocol of accel_step_server:

  <- ready PARAMETERS
  -> run N             <- ms MS_PER_STEP
  -> quit

    torch_step_server.py MODEL MODE --params P.safetensors
        --batch B.safetensors --threads T

Modes: eager (torch.optim.AdamW's default, foreach), fused (AdamW with
fused=True), compile (torch.compile(model) and fused AdamW; the graph is
compiled by the first steps, which the driver's warm-up absorbs and
reports), accelerate (Hugging Face Accelerate's prepare()d model and
optimizer on the CPU, accelerator.backward)."""
import argparse
import os
import sys
import time

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "tests", "lit", "precision", "Inputs"))
from bench_models import build, loss_of  # noqa: E402
from reference_io import read_safetensors  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("mode", choices=["eager", "fused", "compile", "accelerate"])
p.add_argument("--params", required=True)
p.add_argument("--batch", required=True)
p.add_argument("--threads", type=int, required=True)
p.add_argument("--lr", type=float, default=1e-3)
args = p.parse_args()

torch.set_num_threads(args.threads)
model = build(args.model)
params = read_safetensors(args.params)[0]
with torch.no_grad():
    for name, value in (dict(model.named_parameters()) | dict(model.named_buffers())).items():
        if name in params:
            value.copy_(params[name])
batch = read_safetensors(args.batch)[0]

backward = None
if args.mode == "accelerate":
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    model, optimizer = accelerator.prepare(model, torch.optim.AdamW(model.parameters(), lr=args.lr))
    backward = accelerator.backward
else:
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, fused=args.mode != "eager")
    if args.mode == "compile":
        model = torch.compile(model)


def step():
    optimizer.zero_grad()
    loss = loss_of(args.model, model, batch)
    if backward:
        backward(loss)
    else:
        loss.backward()
    optimizer.step()


unique = {id(q): q for q in model.parameters()}
print(f"ready {sum(q.numel() for q in unique.values())}", flush=True)
for line in sys.stdin:
    verb, *rest = line.split()
    if verb == "quit":
        break
    n = int(rest[0])
    start = time.perf_counter()
    for _ in range(n):
        step()
    print(f"ms {1000 * (time.perf_counter() - start) / n}", flush=True)
