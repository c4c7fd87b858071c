"""PyTorch's side of bench/gpu_gpt_bench.sh: times GPT training steps
(examples/gpt/model.py, AdamW) on a CUDA device in one mode and prints
`MODE MS_PER_STEP COMPILE_SECONDS`.

    torch_gpu_step.py MODE [--vocab 50257 --block 1024 --embd 768
                       --heads 12 --layers 12 --dropout 0.1 --batch 8]
                      [--steps 20 --warmup 5]

Modes: eager (AdamW's default, foreach; fp32 products with TF32 off, as
accel's), fused (fused=True AdamW), compile (torch.compile(model) with
fused AdamW; the warm-up steps compile, their time is printed apart),
bf16 (eager under torch.autocast(dtype=bfloat16), fused AdamW)."""
import argparse
import importlib.util
import os
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("mode", choices=["eager", "fused", "compile", "bf16"])
p.add_argument("--vocab", type=int, default=50257)
p.add_argument("--block", type=int, default=1024)
p.add_argument("--embd", type=int, default=768)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--layers", type=int, default=12)
p.add_argument("--dropout", type=float, default=0.1)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--warmup", type=int, default=5)
p.add_argument("--lr", type=float, default=3e-4)
args = p.parse_args()

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
spec = importlib.util.spec_from_file_location(
    "gpt_model", os.path.join(root, "examples", "gpt", "model.py"))
model_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model_module)

# The model makes its position indices with torch.arange: on the GPU too.
torch.set_default_device("cuda")
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0)
model = model_module.GPT(vocab=args.vocab, block=args.block, embd=args.embd,
                         heads=args.heads, layers=args.layers,
                         dropout=args.dropout).cuda().train()
optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                              fused=args.mode != "eager")
forward = torch.compile(model) if args.mode == "compile" else model
idx = torch.randint(0, args.vocab, (args.batch, args.block))
targets = torch.randint(0, args.vocab, (args.batch, args.block))


def step():
    optimizer.zero_grad(set_to_none=True)
    if args.mode == "bf16":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = forward(idx, targets)
    else:
        loss = forward(idx, targets)
    loss.backward()
    optimizer.step()


start = time.perf_counter()
for _ in range(args.warmup):
    step()
torch.cuda.synchronize()
warm = time.perf_counter() - start
start = time.perf_counter()
for _ in range(args.steps):
    step()
torch.cuda.synchronize()
ms = 1000 * (time.perf_counter() - start) / args.steps
print(f"{args.mode} {ms:.2f} {warm:.1f}", flush=True)
