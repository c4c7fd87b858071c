"""Delayed FP8 scaling checked against TransformerEngine's update rule,
written here in numpy (TransformerEngine itself needs a GPU).

  make-data: STEPS x BATCH samples for Inputs/delayed-mlp.mlir and its
    initial parameters, with crafted batches: one all zero (the first
    layer's input amax is 0), one with an infinite element (amax inf) and
    one with a NaN (amax NaN, and every later amax with it, as the NaN
    reaches the weights).
  check: reads the checkpoint accel-run wrote after every step and checks
    each `accel.fp8_state` pair (amax history, scale), step by step and bit
    for bit, against the rule applied to the previous step's pair:

      h = history; h[0] = amax                 (the step's amax)
      a = max(h) (NaN if any is) | amax        (amax-algo max | most_recent)
      scale' = f32(fp8_max / a) / 2^margin     if a is finite and > 0
             = scale                           otherwise (0, inf, NaN)
             (an infinite scale' is the largest f32)
      history' = roll(h, -1); history'[0] = 0

    The step's amax is the newest entry of the new history. Where the test
    can compute it independently it must equal that entry too: the first
    layer's input (max |batch|, from the dataset, NaN propagating) and
    every weight (max |W| of the previous checkpoint's parameters).

TransformerEngine behaviours covered: the roll of the history and where
the newest amax lands, `max` and `most_recent`, the margin, the initial
scale of 1 and empty history, keeping the scale on an amax of 0, inf or NaN
(TE's `isfinite(amax) && amax > 0`), the f32 quotient of the CUDA update
kernel, forward operands (input, weight) updated after the forward and the
gradient after the backward of every step. Not covered: amax reduction
across ranks, and TE's fused kernel reading the history with fmaxf (which
skips NaN where the documented torch.max rule, followed here, propagates
it)."""
import argparse
import glob
import os

import numpy as np

import reference_io as rio

FP8_MAX = {"e4m3": np.float32(448.0), "e5m2": np.float32(57344.0)}


def make_data(args):
    """Inputs of Inputs/delayed-mlp.mlir: x drawn from N(0, 1), labels
    from x's first 16 columns' argmax, a = b = 0 except in the crafted
    batches; and its initial parameters."""
    rng = np.random.default_rng(0)
    n = args.steps * args.batch
    x = rng.standard_normal((n, 16)).astype(np.float32)
    y = x.argmax(axis=1).astype(np.int64)
    a = np.zeros((n, 16), np.float32)
    b = np.zeros((n, 16), np.float32)

    def rows(step):  # 1-based step -> its batch's rows
        return slice((step - 1) * args.batch, step * args.batch)

    x[rows(args.zero_step)] = 0.0
    a[rows(args.inf_step).start + 3, 7] = 100.0             # exp(100) = inf
    a[rows(args.nan_step).start + 5, 2] = 100.0             # inf - inf = NaN
    b[rows(args.nan_step).start + 5, 2] = 100.0
    rio.write_safetensors(args.out, {"x": ("F32", x), "a": ("F32", a), "b": ("F32", b),
                                     "y": ("I64", y)}, {})
    bound1, bound2 = 1 / np.sqrt(16), 1 / np.sqrt(32)
    params = {"fc1.weight": rng.uniform(-bound1, bound1, (32, 16)),
              "fc1.bias": rng.uniform(-bound1, bound1, (32,)),
              "fc2.weight": rng.uniform(-bound2, bound2, (16, 32))}
    rio.write_safetensors(args.params, {k: ("F32", v.astype(np.float32)) for k, v in params.items()}, {})


def first_input(data, rows):
    """The first linear's input as the model computes it: x where a = b (an
    exp subtracted from itself is 0 whatever its rounding), inf or NaN where
    exp(100) overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        return data["x"][rows] + np.exp(data["a"][rows]) - np.exp(data["b"][rows])


def same(a, b):
    """Bit for bit, except that any NaN equals any NaN."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b)) and
                np.array_equal(a[~nan].view(np.uint32), b[~nan].view(np.uint32)))


def expected_update(history, scale, amax, algo, margin, fp8_max):
    h = history.copy()
    h[0] = amax
    if algo == "max":
        a = np.float32(np.nan) if np.isnan(h).any() else h.max()
    else:
        a = np.float32(amax)
    new_scale = np.float32(scale)
    if np.isfinite(a) and a > 0:
        with np.errstate(over="ignore", divide="ignore"):
            new_scale = np.float32(np.float32(fp8_max / a) / np.float32(2.0 ** margin))
        if np.isinf(new_scale):
            new_scale = np.finfo(np.float32).max
    new_history = np.roll(h, -1)
    new_history[0] = 0
    return new_history, new_scale


def load(path):
    return {k: v.numpy() for k, v in rio.read_safetensors(path)[0].items()}


def check(args):
    dirs = sorted(glob.glob(os.path.join(args.checkpoints, "step-*")),
                  key=lambda d: int(os.path.basename(d)[5:]))
    states = [load(os.path.join(d, "state.safetensors")) for d in dirs]
    if len(states) != args.steps:
        raise SystemExit("expected %d checkpoints, found %d" % (args.steps, len(states)))
    params = load(args.init)
    data = load(args.data)
    pairs = sorted(k[:-len(".scale")] for k in states[0] if k.endswith(".fp8.input.scale") or
                   k.endswith(".fp8.weight.scale") or k.endswith(".fp8.grad_output.scale"))
    first_layer = min((p.split(".fp8.")[0] for p in pairs), key=lambda n: (len(n), n))
    length = states[0][pairs[0] + ".amax_history"].shape[0]
    previous = {p: (np.zeros(length, np.float32), np.float32(1.0)) for p in pairs}
    mismatches = independent = 0
    kinds = {"zero": 0, "inf": 0, "nan": 0}
    for step, state in enumerate(states, 1):
        batch = first_input(data, slice((step - 1) * args.batch, step * args.batch))
        for p in pairs:
            layer, operand = p.split(".fp8.")
            fp8_max = FP8_MAX["e5m2" if operand == "grad_output" and args.format == "hybrid" else "e4m3"]
            history, scale = state[p + ".amax_history"], state[p + ".scale"]
            amax = history[-1]
            want_history, want_scale = expected_update(*previous[p], amax, args.algo, args.margin, fp8_max)
            if not (same(history, want_history) and same(scale, want_scale)):
                mismatches += 1
                rio.report("step %d %s: history %s scale %r, expected %s %r" % (
                    step, p, history[-4:], float(scale), want_history[-4:], float(want_scale)))
            known = None
            if operand == "input" and layer == first_layer:
                known = np.float32(np.nan) if np.isnan(batch).any() else np.abs(batch).max()
            elif operand == "weight":
                w = params[layer + ".weight"]
                known = np.float32(np.nan) if np.isnan(w).any() else np.abs(w).max()
            if known is not None:
                independent += 1
                if not same(amax, known):
                    mismatches += 1
                    rio.report("step %d %s: amax %r, but the tensor's is %r" % (step, p, float(amax), float(known)))
            kinds["zero"] += bool(amax == 0)
            kinds["inf"] += bool(np.isinf(amax))
            kinds["nan"] += bool(np.isnan(amax))
            previous[p] = (history, scale)
        params = state
    rio.report("steps %d, state pairs %d, amaxes checked independently %d" % (len(states), len(pairs), independent))
    rio.report("steps with amax 0: %d, inf: %d, NaN: %d" % (kinds["zero"], kinds["inf"], kinds["nan"]))
    rio.report("mismatches %d" % mismatches)
    rio.report("PASS" if mismatches == 0 and all(kinds.values()) else "FAIL")


def compare(args):
    """Every tensor of two state files, bit for bit."""
    a, b = load(args.a), load(args.b)
    differing = [k for k in a if k not in b or not same(a[k], b[k])] + [k for k in b if k not in a]
    fp8 = sum(".fp8." in k for k in a)
    rio.report("tensors %d (fp8 state %d), differing %d %s" % (len(a), fp8, len(differing), differing[:5]))
    rio.report("PASS" if not differing and fp8 else "FAIL")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("make-data")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--zero-step", type=int, required=True)
    p.add_argument("--inf-step", type=int, required=True)
    p.add_argument("--nan-step", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--params", required=True)
    p = sub.add_parser("check")
    p.add_argument("--checkpoints", required=True)
    p.add_argument("--init", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--algo", choices=["max", "most_recent"], default="max")
    p.add_argument("--margin", type=int, default=0)
    p.add_argument("--format", choices=["hybrid", "e4m3"], default="hybrid")
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    args = parser.parse_args()
    {"make-data": make_data, "check": check, "compare": compare}[args.mode](args)


if __name__ == "__main__":
    main()
