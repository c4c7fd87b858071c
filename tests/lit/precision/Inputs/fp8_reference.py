#!/usr/bin/env python3
"""The FP8 training reference for accel: torchao's float8 training
(`Float8LinearConfig.from_recipe_name(RECIPE)` with emulate=True, then
convert_to_float8_training) on the CPU, applied to the example model
rebuilt in eager mode and loaded with accel's initial parameters. See
docs/fp8-recipes.md for what it computes.

    fp8_reference.py MODE --model mlp|gpt [--hidden 64[,32...]]
        --params INIT.safetensors DATA --batch B [--columns A,B --target T]
        --recipe tensorwise|rowwise|rowwise_with_gw_hp --report REPORT.json

--report is accel's precision report: torchao converts exactly the linears
listed in report["fp8"]["linears"] with "converted": true. --model mlp is
examples/mlp/export.py's make_mlp(784, HIDDEN, 10, relu, no dropout);
--model gpt is examples/gpt/model.py's GPT with export.py's defaults and
dropout 0 (--examples DIR overrides the examples directory). DATA,
--columns and --target are as in autocast_reference.py.

    capture --out CALLS.safetensors
  One training step (batch 0) recording every float8 cast torchao makes.
  Call i is stored as `{i}.input` (F32 [R, C]), `{i}.data` (F8_E4M3 or
  F8_E5M2 [R, C]) and `{i}.scale` (F32: [] tensorwise, [R, 1] axiswise),
  laid out so that each row is one axiswise scaling group. The metadata
  gives `{i}.cast` ("e4m3fn|e5m2 tensorwise|rowwise[ pow2]"), `{i}.role`
  (input, weight, grad_output), `{i}.linear` (the module), `{i}.gemm`
  (output, grad_input, grad_weight) and `calls`.

    mx-blocks --out CALLS.safetensors
  torchao's MX cast (to_mx: E4M3FN elements, E8M0 scales, blocks of 32)
  of crafted and random blocks, stored as capture stores its calls (the
  scales as U8 codes, `{i}.cast` "e4m3fn mx").

    check-quantize --calls CALLS.safetensors --accel ACCEL.safetensors
  Compares accel's quantisation of every `{i}.input` (`{i}.data`,
  `{i}.scale`) with torchao's bit for bit (NaN codes match any NaN).

    grads --accel-grads GRADS.safetensors --accel-metrics METRICS.jsonl
  One step's loss and parameter gradients at the initial parameters:
  accel's must be within 1e-5 relative (L2) of torchao's, or within twice
  the noise floor: torchao's own distance when its high-precision
  arithmetic runs in f64, or when its cast inputs move by a few ulps.

    train --steps N --lr X [--optimizer adamw|sgd --momentum M]
        --accel-metrics METRICS.jsonl
  Training (torch's optimizer defaults but lr and momentum), batches in
  file order: the mean relative deviation of accel's losses from torchao's
  must be within 1e-3, or within twice the noise floor's.

Run it with the reference environment's Python (tools/setup-reference.sh).
"""
import argparse
import contextlib
import dataclasses
import importlib.util
import inspect
import json
import os
import sys

import numpy as np
import torch

from reference_io import fashion_mnist, read_safetensors, report, write_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))

p = argparse.ArgumentParser()
p.add_argument("mode", choices=["capture", "mx-blocks", "check-quantize", "grads", "train"])
p.add_argument("data", nargs="?")
p.add_argument("--model", choices=["mlp", "gpt"])
p.add_argument("--hidden", default="1024,1024")
p.add_argument("--examples", default=os.path.join(REPO, "examples"))
p.add_argument("--params")
p.add_argument("--batch", type=int)
p.add_argument("--columns", default="images")
p.add_argument("--target", default="labels")
p.add_argument("--recipe", choices=["tensorwise", "rowwise", "rowwise_with_gw_hp"])
p.add_argument("--report")
p.add_argument("--out")
p.add_argument("--calls")
p.add_argument("--accel")
p.add_argument("--accel-grads")
p.add_argument("--accel-metrics")
p.add_argument("--steps", type=int, default=1)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw",
               help="train: the optimizer, as accel-opt's kind (torch defaults otherwise)")
p.add_argument("--momentum", type=float, default=0.0, help="train: SGD momentum")
# DATA may come after options (and is absent for check-quantize).
args = p.parse_intermixed_args()

# FP8 quantisation is discontinuous: a value one f32 ulp to either side of
# an FP8 rounding boundary quantises one FP8 step apart. The quantisation is
# identical (see capture), but torchao's emulated GEMMs are MKL's sgemm and
# accel's OpenBLAS's, so the results agree only as closely as two valid f32
# summation orders let them: within one step, where such a flip upstream
# moves every gradient below it; over a run, from the first flip on.
# Measured the same way, torchao against itself with its high-precision
# arithmetic in f64 (f64_arithmetic: the noise floor): accel passes within the tolerance or within
# NOISE_FACTOR times the floor.
GRAD_TOLERANCE = 1e-5
TRAIN_TOLERANCE = 1e-3
NOISE_FACTOR = 2.0
PERTURB_ULPS = 4


def fail(message):
    report(f"FAIL: {message}")
    sys.exit(1)


torch.manual_seed(0)

FORMATS = {torch.float8_e4m3fn: ("e4m3fn", "F8_E4M3"), torch.float8_e5m2: ("e5m2", "F8_E5M2")}


def require(*names):
    for name in names:
        if getattr(args, name) is None:
            fail(f"{args.mode} needs --{name.replace('_', '-')}")


def load_data():
    require("data", "batch")
    data = fashion_mnist(args.data) if os.path.isdir(args.data) else read_safetensors(args.data)[0]
    return [data[c] for c in args.columns.split(",")], (data[args.target] if args.target else None)


def batch(step):
    rows = slice(step * args.batch, (step + 1) * args.batch)
    return [c[rows] for c in inputs], (target[rows] if target is not None else None)


def loss_of(model, xs, y):
    out = model(*xs)
    return torch.nn.functional.cross_entropy(out, y) if y is not None else out


def example(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(args.examples, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_model():
    """The example model with accel's initial parameters, its reported
    linears converted to torchao's Float8Linear."""
    require("model", "params", "recipe", "report")
    from torchao.float8 import Float8LinearConfig, convert_to_float8_training
    from torchao.float8.float8_linear import Float8Linear
    if args.model == "mlp":
        hidden = [int(h) for h in args.hidden.split(",")]
        model = example("mlp_export", "mlp/export.py").make_mlp(784, hidden, 10, ["relu"], 0.0)
    else:
        model = example("gpt_model", "gpt/model.py").GPT(dropout=0.0)
    params, _, _ = read_safetensors(args.params)
    # A parameter shared by several modules (the GPT's tied head) is
    # present when the file has it under any of its names.
    aliases = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        aliases.setdefault(id(param), []).append(name)
    missing = [names[0] for names in aliases.values() if not any(n in params for n in names)]
    if missing:
        fail(f"{args.params} lacks parameters {', '.join(missing)}")
    unexpected = model.load_state_dict(params, strict=False).unexpected_keys
    if unexpected:
        print(f"note: ignored {', '.join(unexpected)} in {args.params}", file=sys.stderr)

    with open(args.report) as f:
        converted = {lin["name"] for lin in json.load(f)["fp8"]["linears"] if lin["converted"]}
    modules = dict(model.named_modules())
    for name in sorted(converted):
        if not isinstance(modules.get(name), torch.nn.Linear):
            fail(f"the report converts {name!r}, which is not an nn.Linear of the {args.model} model")
    config = dataclasses.replace(Float8LinearConfig.from_recipe_name(args.recipe), emulate=True)
    convert_to_float8_training(model, config=config, module_filter_fn=lambda mod, fqn: fqn in converted)
    swapped = {n for n, m in model.named_modules() if isinstance(m, Float8Linear)}
    if swapped != converted:
        fail(f"torchao converted {sorted(swapped)}, the report {sorted(converted)}")
    model.train()
    return model


def capture():
    require("out")
    import torchao.float8.float8_scaling_utils as scaling
    from torchao.float8.float8_linear import Float8Linear, matmul_with_hp_or_float8_args as mm

    model = build_model()
    calls = []
    # Which linear and which GEMM a cast belongs to: set by a forward
    # pre-hook and by wrappers of the autograd function's forward/backward.
    where = {"linear": None, "backward": False, "grad_outputs": 0}
    for name, module in model.named_modules():
        if isinstance(module, Float8Linear):
            module.register_forward_pre_hook(lambda m, a, name=name: where.update(linear=name))
    forward, backward = mm.forward, mm.backward

    def mm_forward(ctx, *a):
        ctx.linear = where["linear"]
        where["backward"] = False
        return forward(ctx, *a)

    def mm_backward(ctx, *a):
        where.update(linear=ctx.linear, backward=True, grad_outputs=0)
        return backward(ctx, *a)

    mm.forward, mm.backward = staticmethod(mm_forward), staticmethod(mm_backward)

    original = scaling.hp_tensor_to_float8_dynamic
    signature = inspect.signature(original)

    def recording(*a, **kw):
        out = original(*a, **kw)
        bound = signature.bind(*a, **kw)
        bound.apply_defaults()
        a = bound.arguments
        role = a["gemm_input_role"].value
        if not where["backward"]:
            gemm = "output"
        elif role == "grad_output":
            where["grad_outputs"] += 1
            gemm = "grad_input" if where["grad_outputs"] == 1 else "grad_weight"
        else:
            gemm = "grad_input" if role == "weight" else "grad_weight"
        calls.append(dict(input=a["hp_tensor"].detach().clone(), dtype=a["float8_dtype"],
                          axis=a["axiswise_dim"], pow2=a["round_scales_to_power_of_2"],
                          role=role, linear=where["linear"] or "", gemm=gemm,
                          data=out._data.detach().clone(), scale=out._scale.detach().clone()))
        return out

    # float8_linear.py (and any other module) imports the function by name.
    for module in list(sys.modules.values()):
        if (getattr(module, "__name__", "") or "").startswith("torchao") and \
                getattr(module, "hp_tensor_to_float8_dynamic", None) is original:
            module.hp_tensor_to_float8_dynamic = recording

    xs, y = batch(0)
    loss_of(model, xs, y).backward()

    tensors, metadata = {}, {"calls": str(len(calls))}
    for i, c in enumerate(calls):
        x, data, scale, axis = c["input"], c["data"].view(torch.uint8), c["scale"], c["axis"]
        if x.dtype != torch.float32:
            fail(f"call {i} casts a {x.dtype} tensor; these tests expect float32")
        if axis is not None:
            axis %= x.dim()
            if x.dim() > 2 and axis != x.dim() - 1:
                fail(f"call {i}: axiswise dim {c['axis']} of a rank-{x.dim()} tensor")
        # Rows are scaling groups: flatten to [-1, last] (scales [-1, 1]);
        # scales over dim 0 ([1, C]) group columns, so transpose.
        x, data = x.reshape(-1, x.shape[-1]), data.reshape(-1, x.shape[-1])
        if axis is not None and x.dim() < c["input"].dim():
            scale = scale.reshape(-1, 1)
        if axis == 0:
            x, data, scale = x.t(), data.t(), scale.t()
        if axis is not None and list(scale.shape) != [x.shape[0], 1]:
            fail(f"call {i}: scale shape {list(scale.shape)} for input {list(x.shape)}")
        fmt, st_dtype = FORMATS[c["dtype"]]
        cast = f"{fmt} {'rowwise' if axis is not None else 'tensorwise'}" + (" pow2" if c["pow2"] else "")
        tensors[f"{i}.input"] = ("F32", x.contiguous().numpy())
        tensors[f"{i}.data"] = (st_dtype, data.contiguous().numpy())
        tensors[f"{i}.scale"] = ("F32", scale.float().contiguous().numpy())
        metadata.update({f"{i}.cast": cast, f"{i}.role": c["role"],
                         f"{i}.linear": c["linear"], f"{i}.gemm": c["gemm"]})
        report(f"call {i}: {c['linear']} {c['gemm']} {c['role']} {cast} {'x'.join(map(str, x.shape))}")
    write_safetensors(args.out, tensors, metadata)
    report(f"captured {len(calls)} calls")
    return True


def fp8_nan(codes, fmt):
    if fmt == "e4m3fn":
        return (codes & 0x7F) == 0x7F
    return (((codes >> 2) & 0x1F) == 0x1F) & ((codes & 0x3) != 0)


def check_quantize():
    require("calls", "accel")
    ref, ref_dtypes, metadata = read_safetensors(args.calls)
    ours, our_dtypes, _ = read_safetensors(args.accel)
    count = int(metadata["calls"])
    ok, data_total, scale_total = True, 0, 0
    for i in range(count):
        cast = metadata[f"{i}.cast"]
        shape = "x".join(map(str, ref[f"{i}.input"].shape))
        names = [f"{i}.data", f"{i}.scale"]
        if not all(n in ours for n in names):
            report(f"call {i} {cast} {shape}: missing from {args.accel}")
            ok = False
            continue
        if our_dtypes[names[0]] != ref_dtypes[names[0]] or \
                our_dtypes[names[1]] != ref_dtypes[names[1]] or \
                any(ours[n].shape != ref[n].shape for n in names):
            report(f"call {i} {cast} {shape}: accel's dtypes or shapes differ "
                   f"({our_dtypes[names[0]]} {list(ours[names[0]].shape)}, "
                   f"{our_dtypes[names[1]]} {list(ours[names[1]].shape)})")
            ok = False
            continue
        a, r = ours[names[0]].numpy(), ref[names[0]].numpy()
        fmt = cast.split()[0]
        differ = (a != r) & ~(fp8_nan(a, fmt) & fp8_nan(r, fmt))
        if ref_dtypes[names[1]] == "U8":
            # MX: E8M0 codes. A block whose scale is NaN (0xff) is NaN
            # whatever its element codes hold (OCP MX 6.3), so only the
            # scale is compared there.
            nan_block = np.repeat(ref[names[1]].numpy() == 0xFF, MX_BLOCK, axis=1)
            differ &= ~nan_block
            scale_bad = int(np.sum(ours[names[1]].numpy() != ref[names[1]].numpy()))
        else:
            sa, sr = ours[names[1]].numpy(), ref[names[1]].numpy()
            scale_bad = int(np.sum((sa.view(np.uint32) != sr.view(np.uint32)) &
                                   ~(np.isnan(sa) & np.isnan(sr))))
        data_bad = int(np.sum(differ))
        report(f"call {i} {cast} {shape}: data mismatches {data_bad}, scale mismatches {scale_bad}")
        data_total += data_bad
        scale_total += scale_bad
    report(f"calls {count}, data mismatches {data_total}, scale mismatches {scale_total}")
    return ok and count > 0 and data_total == 0 and scale_total == 0


MX_BLOCK = 32


def mx_blocks():
    """torchao's MX cast (to_mx, FLOOR scales, E4M3FN elements) of crafted
    and random 32-element blocks, written like capture's calls with U8
    E8M0 scale codes: zeros, f32 subnormals, E4M3 subnormal elements, the
    largest E4M3 value, normal overflow, NaN and infinity, and random
    blocks over many orders of magnitude. Blocks whose amax lies in
    [2^-127, 2^-118) are left out: torchao divides them by 2^-126 but
    stores the scale 2^-127 (it clamps its f32 divisor to the smallest
    normal), so its elements do not dequantise to the input; accel follows
    the OCP definition there (tests/unit/Float8KernelsTest.cpp)."""
    require("out")
    from torchao.prototype.mx_formats.mx_tensor import to_mx
    g = torch.Generator().manual_seed(0)
    tiny = 2.0 ** -140
    crafted = [
        torch.zeros(MX_BLOCK),
        torch.full((MX_BLOCK,), tiny),                          # f32 subnormals
        torch.cat([torch.tensor([1.0]), torch.full((MX_BLOCK - 1,), 3 * 2.0 ** -17)]),
        torch.cat([torch.tensor([448.0, -448.0]), torch.linspace(-1, 1, MX_BLOCK - 2)]),
        torch.cat([torch.tensor([500.0, -479.0]), torch.ones(MX_BLOCK - 2)]),
        torch.cat([torch.tensor([float("nan")]), torch.ones(MX_BLOCK - 1)]),
        torch.cat([torch.tensor([float("inf")]), torch.ones(MX_BLOCK - 1)]),
        torch.cat([torch.tensor([-float("inf")]), -torch.ones(MX_BLOCK - 1)]),
    ]
    rows = torch.stack(crafted).reshape(-1, 2 * MX_BLOCK)
    random = torch.randn(64, 4 * MX_BLOCK, generator=g) * \
        torch.exp2(torch.randint(-60, 60, (64, 1), generator=g).float())
    tensors, metadata = {}, {}
    for i, x in enumerate([rows, random]):
        scale, data = to_mx(x.contiguous(), torch.float8_e4m3fn, MX_BLOCK)
        tensors[f"{i}.input"] = ("F32", x.numpy())
        tensors[f"{i}.data"] = ("F8_E4M3", data.view(torch.uint8).numpy())
        tensors[f"{i}.scale"] = ("U8", scale.view(torch.uint8).reshape(x.shape[0], -1).numpy())
        metadata[f"{i}.cast"] = "e4m3fn mx"
        report(f"call {i}: e4m3fn mx {x.shape[0]}x{x.shape[1]}")
    metadata["calls"] = "2"
    write_safetensors(args.out, tensors, metadata)
    return True


def accel_losses():
    require("accel_metrics")
    with open(args.accel_metrics) as f:
        return [m["loss"] for m in map(json.loads, f) if "loss" in m]


def relative_error(value, exact):
    value, exact = value.double(), exact.double()
    norm = exact.norm().item()
    diff = (value - exact).norm().item()
    return diff / norm if norm > 0 else diff


@contextlib.contextmanager
def f64_arithmetic():
    """Makes the model's high-precision arithmetic run in f64, rounded once
    to f32: every torch.mm (the emulated FP8 GEMMs, and grad_weight under
    rowwise_with_gw_hp), the high-precision linears and products, layer
    norm, GELU and softmax (forward, and their backward through autograd).
    The FP8 casts are untouched. This is the same recipe computed another
    valid way, to measure how far that alone moves the results (the noise
    floor)."""
    F = torch.nn.functional
    saved = {(torch, "mm"): torch.mm, (torch.Tensor, "__matmul__"): torch.Tensor.__matmul__,
             (F, "linear"): F.linear, (F, "layer_norm"): F.layer_norm,
             (F, "gelu"): F.gelu, (F, "softmax"): F.softmax}

    def in_f64(original):
        def run(*a, **kw):
            # Float8TrainingTensor arguments dispatch to torchao's op table,
            # which calls torch.mm again with plain tensors.
            tensors = [t for t in a if isinstance(t, torch.Tensor)]
            if any(type(t) is not torch.Tensor for t in tensors):
                return original(*a, **kw)
            dtype = tensors[0].dtype
            wide = [t.double() if isinstance(t, torch.Tensor) and t.is_floating_point() else t
                    for t in a]
            return original(*wide, **kw).to(dtype)
        return run

    for (owner, name), original in saved.items():
        setattr(owner, name, in_f64(original))
    try:
        yield
    finally:
        for (owner, name), original in saved.items():
            setattr(owner, name, original)


@contextlib.contextmanager
def perturbed_casts(ulps=PERTURB_ULPS):
    """Moves every element a float8 cast reads by up to `ulps` f32 ulps at
    random (seeded), before torchao scales and rounds it: an implementation
    whose high-precision kernels (layer norm and its gradient, GELU,
    softmax, ...) round differently by a few ulps, which is all two correct
    f32 implementations promise. The FP8 values it flips are the noise
    floor's second source."""
    import torchao.float8.float8_scaling_utils as scaling
    original = scaling.hp_tensor_to_float8_dynamic
    generator = torch.Generator().manual_seed(0)

    def perturbing(hp_tensor, *a, **kw):
        k = torch.randint(-ulps, ulps + 1, hp_tensor.shape, generator=generator)
        nudged = hp_tensor * (1 + k.to(hp_tensor.dtype) * 2.0 ** -24)
        return original(nudged.detach() + (hp_tensor - hp_tensor.detach()), *a, **kw)

    patched = [m for m in list(sys.modules.values())
               if (getattr(m, "__name__", "") or "").startswith("torchao")
               and getattr(m, "hp_tensor_to_float8_dynamic", None) is original]
    for m in patched:
        m.hp_tensor_to_float8_dynamic = perturbing
    try:
        yield
    finally:
        for m in patched:
            m.hp_tensor_to_float8_dynamic = original


def torchao_grads():
    """The loss and {parameter: (names, gradient)} of one step on batch 0."""
    model = build_model()
    xs, y = batch(0)
    loss = loss_of(model, xs, y)
    loss.backward()
    grads = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        grad = param.grad if param.grad is not None else torch.zeros_like(param)
        grads.setdefault(id(param), ([], grad))[0].append(name)
    return loss.detach(), list(grads.values())


def compare_grads():
    require("accel_grads")
    losses = accel_losses()
    accel, _, _ = read_safetensors(args.accel_grads)
    loss, grads = torchao_grads()
    with f64_arithmetic():
        wide_loss, wide_grads = torchao_grads()
    with perturbed_casts():
        nudged_loss, nudged_grads = torchao_grads()

    def floor(theirs, wide, nudged):
        return max(relative_error(wide, theirs), relative_error(nudged, theirs))

    rows = [("loss", relative_error(torch.tensor(losses[0]), loss),
             floor(loss, wide_loss, nudged_loss))]
    for (names, grad), (_, wide), (_, nudged) in zip(grads, wide_grads, nudged_grads):
        found = [n for n in names if n in accel]
        rows.append((names[0], relative_error(accel[found[0]], grad) if found else None,
                     floor(grad, wide, nudged)))
    report(f"{'tensor':<28} {'accel':>10} {'floor':>10}   (relative error against torchao; floor: torchao in f64, or with its cast inputs nudged)")
    ok = True
    for name, error, floor in rows:
        good = error is not None and error <= max(GRAD_TOLERANCE, NOISE_FACTOR * floor)
        ok &= good
        shown = "missing" if error is None else f"{error:.3e}"
        report(f"{name:<28} {shown:>10} {floor:10.3e}{'' if good else '  FAIL'}")
    report(f"loss: accel {losses[0]:.6f} torchao {loss.item():.6f}")
    return ok


def torchao_losses():
    """torchao's loss at each step of the run."""
    model = build_model()
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    per_epoch = inputs[0].shape[0] // args.batch
    losses = []
    for step in range(args.steps):
        xb, yb = batch(step % per_epoch)
        opt.zero_grad()
        loss = loss_of(model, xb, yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def train():
    ours = accel_losses()
    if len(ours) != args.steps:
        fail(f"accel-run reported {len(ours)} steps, expected {args.steps}")
    theirs = torchao_losses()
    with f64_arithmetic():
        wide = torchao_losses()
    with perturbed_casts():
        nudged = torchao_losses()

    def deviation(a, b):
        d = [abs(x - y) / abs(y) for x, y in zip(a, b)]
        return max(d), sum(d) / len(d)

    worst, mean = deviation(ours, theirs)
    floor_worst, floor_mean = max(deviation(wide, theirs), deviation(nudged, theirs),
                                  key=lambda d: d[1])
    report(f"steps {args.steps}: accel vs torchao: max relative loss deviation "
           f"{worst:.3e}, mean {mean:.3e}; final loss accel {ours[-1]:.6f} "
           f"torchao {theirs[-1]:.6f}")
    report(f"noise floor, torchao in f64 or with nudged casts vs torchao: max {floor_worst:.3e}, "
           f"mean {floor_mean:.3e}")
    return mean <= max(TRAIN_TOLERANCE, NOISE_FACTOR * floor_mean)


if args.mode not in ("check-quantize", "mx-blocks"):
    inputs, target = load_data()
mode = {"capture": capture, "mx-blocks": mx_blocks, "check-quantize": check_quantize,
        "grads": compare_grads, "train": train}[args.mode]
passed = mode()
if args.mode not in ("capture", "mx-blocks"):
    report("PASS" if passed else "FAIL")
sys.exit(0 if passed else 1)
