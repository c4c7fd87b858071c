"""Checks near_ties.py (run by tests/lit/import/near-ties.test).

1. pool_windows' windows are PyTorch's: the largest element of every
   window is where F.max_pool2d's indices say, for kernel, stride,
   padding, dilation and ceil-mode combinations.
2. explain finds a planted near tie: gradients computed on the other side
   of a max-pool window's tie (and, separately, of a ReLU input near zero)
   are explained by exactly that flip; gradients off for another reason
   are not explained."""
import copy
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from near_ties import explain, pool_windows  # noqa: E402

torch.manual_seed(0)

# 1. Window geometry.
for kernel, stride, padding, dilation, ceil in [(3, 2, 0, 1, True), (3, 2, 1, 1, False),
                                                (2, 2, 0, 1, True), (3, 1, 1, 2, False),
                                                (3, 2, 1, 1, True), (2, 3, 0, 1, True),
                                                ((3, 2), (2, 1), (1, 0), 1, True)]:
    for size in (7, 13, 14):
        pool = torch.nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=ceil)
        x = torch.randn(2, 3, size, size + 1, dtype=torch.float64)
        _, expected = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=ceil,
                                   return_indices=True)
        margin, first, _ = pool_windows(x, pool)
        plane = torch.arange(6).view(-1, 1) * (size * (size + 1))
        got = first - plane
        assert got.shape == expected.view(6, -1).shape, (kernel, stride, size, got.shape)
        assert torch.equal(got, expected.view(6, -1)), (kernel, stride, padding, dilation, ceil, size)
        assert bool((margin >= 0).all())
print("pool windows match F.max_pool2d")


# 2. The search. The "fp32" model is the float64 model with its first
# bias moved by 1e-7: PyTorch's error on every decided tensor is then
# 1e-7, so decisions within 4e-7 count as near.
def check(model, x, plant, flip_call, flip, expect):
    model = model.double()
    with torch.no_grad():
        conv = model[0]
        conv.weight.fill_(1.0)
        conv.bias.zero_()
        plant(x)
    model32 = copy.deepcopy(model)
    with torch.no_grad():
        model32[0].bias.add_(1e-7)
    y = torch.tensor([0, 2])

    def step(m, double):
        m.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        return loss.detach(), {n: p.grad.detach().clone() for n, p in m.named_parameters()}

    # accel's gradients: the float64 model's on the other side of the tie.
    flipped = copy.deepcopy(model)
    flipped[flip_call].register_forward_pre_hook(lambda mod, args: (flip(args[0].clone()),))
    accel_loss, accel = step(flipped, True)

    def score(loss, grads):
        rows = [(n, (accel[n] - g).norm().item() / g.norm().item(), 0.0) for n, g in grads.items()]
        return max(r[1] for r in rows) / 1e-6, rows

    result = explain(model32, model, step, score)
    assert result is not None, "the planted tie was not found"
    rows, ties = result
    assert len(ties) == 1 and expect in ties[0], ties
    print("found:", ties[0])

    # Gradients off in a way no tie explains.
    accel[[n for n in accel if n.endswith("weight")][-1]] += 1e-3
    assert explain(model32, model, step, score) is None
    print("unexplained difference: none found")


def plant_pool(x):
    x.uniform_(-1.0, 0.5)
    x[0, 0, 0, 0] = 0.9
    x[0, 0, 0, 1] = 0.9 + 1e-8


def flip_pool(t):
    t[0, 0, 0, 0] += 2e-8  # the runner-up of window (0, 0) becomes its max
    return t


pool_model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(3, 2, ceil_mode=True), torch.nn.Flatten(),
                                 torch.nn.Linear(9, 3))
check(pool_model, torch.empty(2, 1, 7, 7, dtype=torch.float64), plant_pool, 2, flip_pool,
      "2 (MaxPool2d)")


def plant_relu(x):
    x.uniform_(0.1, 1.0)
    x[1, 0, 3, 3] = 1e-8


def flip_relu(t):
    t[1, 0, 3, 3] = -1e-8
    return t


relu_model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(49, 3))
check(relu_model, torch.empty(2, 1, 7, 7, dtype=torch.float64), plant_relu, 1, flip_relu,
      "1 (ReLU)")
