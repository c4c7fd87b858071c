#!/usr/bin/env python3
"""make_data.py OUT.safetensors SAMPLES FEATURES [TARGETS]: a safetensors
dataset with f32 'input' [SAMPLES, FEATURES] and i64 'y' [SAMPLES] (class
labels), or with TARGETS f32 'y' [SAMPLES, TARGETS] (regression targets),
written with the format's rules (8-byte length, JSON header, contiguous
data)."""
import json
import struct
import sys

import numpy as np

out, n, f = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.random.default_rng(0).standard_normal((n, f)).astype("<f4").tobytes()
if len(sys.argv) > 4:
    t = int(sys.argv[4])
    y = np.random.default_rng(1).standard_normal((n, t)).astype("<f4").tobytes()
    target = {"dtype": "F32", "shape": [n, t]}
else:
    y = (np.arange(n) % 10).astype("<i8").tobytes()
    target = {"dtype": "I64", "shape": [n]}
header = {"input": {"dtype": "F32", "shape": [n, f], "data_offsets": [0, len(x)]},
          "y": dict(target, data_offsets=[len(x), len(x) + len(y)])}
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(out, "wb") as fh:
    fh.write(struct.pack("<Q", len(text)) + text + x + y)
