#!/usr/bin/env python3
"""make_images.py OUT.safetensors SAMPLES CHANNELS SIZE CLASSES: random f32
images 'x' [SAMPLES, CHANNELS, SIZE, SIZE] whose class 'y' (i64) is the
channel-mean brightness bucket, so a CNN has something to learn."""
import json
import struct
import sys

import numpy as np

out, n, c, s, k = sys.argv[1], *map(int, sys.argv[2:6])
x = np.random.default_rng(0).standard_normal((n, c, s, s)).astype("<f4")
y = np.digitize(x.mean(axis=(1, 2, 3)), np.quantile(x.mean(axis=(1, 2, 3)),
                np.linspace(0, 1, k + 1)[1:-1])).astype("<i8")
xb, yb = x.tobytes(), y.tobytes()
header = {"x": {"dtype": "F32", "shape": list(x.shape), "data_offsets": [0, len(xb)]},
          "y": {"dtype": "I64", "shape": [n], "data_offsets": [len(xb), len(xb) + len(yb)]}}
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(out, "wb") as fh:
    fh.write(struct.pack("<Q", len(text)) + text + xb + yb)
