#!/usr/bin/env python3
"""compare_state.py A.safetensors B.safetensors RTOL: every tensor of B is in
A with the same shape, and agrees within RTOL relative to B's largest
magnitude; prints each tensor's error, then PASS."""
import json
import struct
import sys

import numpy as np


def load(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": "<f4", "I64": "<i8"}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + begin:8 + n + end],
                                  dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return out


if __name__ == "__main__":
    ours, ref = load(sys.argv[1]), load(sys.argv[2])
    rtol = float(sys.argv[3])
    worst = 0.0
    for name, want in sorted(ref.items()):
        got = ours.get(name)
        if got is None or got.shape != want.shape:
            sys.exit("compare_state: %s missing or of another shape" % name)
        scale = max(float(np.abs(want).max()), 1e-30)
        error = float(np.abs(got.astype(np.float64) - want).max()) / scale
        print("%s %.3g" % (name, error))
        worst = max(worst, error)
    if worst > rtol:
        sys.exit("compare_state: largest error %.3g above %g" % (worst, rtol))
    print("PASS")
