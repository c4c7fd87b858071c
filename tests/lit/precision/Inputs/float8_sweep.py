#!/usr/bin/env python3
"""Prints, for a sweep of floats, "FLOAT_BITS E4M3_CODE E5M2_CODE" in hex as
the current PyTorch converts them on the CPU (x.to(torch.float8_e4m3fn),
x.to(torch.float8_e5m2)): every FP8 value, the midpoints between
neighbours and the floats just beside them, the overflow edges, zeros,
infinities, NaN, and log-uniform random values of both signs."""
import numpy as np
import torch

values = []
for dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
    codes = torch.arange(256, dtype=torch.uint8).view(dtype).float()
    finite = torch.unique(codes[torch.isfinite(codes)].abs()).double().numpy()
    mids = (finite[:-1] + finite[1:]) / 2
    for v in np.concatenate([finite, mids, [finite[-1] * 1.0625, finite[-1] * 1.125]]):
        f = np.float32(v)
        values += [f, np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(0))]
values += [np.float32(x) for x in (0.0, 464.0, 465.0, 480.0, 500.0, 1e6, 57344.0,
                                   59392.0, 61439.0, 61440.0, 65504.0, 3.4e38,
                                   np.inf, np.nan, 1e-30, 2.0 ** -10, 2.0 ** -17)]
rng = np.random.default_rng(0)
values += list((10.0 ** rng.uniform(-12, 8, 20000)).astype(np.float32))
x = np.array(values, dtype=np.float32)
x = np.concatenate([x, -x])
t = torch.from_numpy(x)
e4m3 = t.to(torch.float8_e4m3fn).view(torch.uint8).numpy()
e5m2 = t.to(torch.float8_e5m2).view(torch.uint8).numpy()
for bits, a, b in zip(x.view(np.uint32), e4m3, e5m2):
    print(f"{bits:08x} {a:02x} {b:02x}")
