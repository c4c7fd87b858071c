#!/usr/bin/env python3
"""Rewrites one F32 tensor of a safetensors file as BF16 (its upper 16 bits),
for the dtype-mismatch test.

    retype_params.py IN.safetensors OUT.safetensors NAME
"""
import json
import struct
import sys

src, dst, target = sys.argv[1:4]
with open(src, "rb") as f:
    raw = f.read()
(length,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + length])
body = raw[8 + length:]
out_header, chunks, offset = {}, [], 0
for name, entry in header.items():
    if name == "__metadata__":
        out_header[name] = entry
        continue
    data = body[entry["data_offsets"][0]:entry["data_offsets"][1]]
    dtype = entry["dtype"]
    if name == target:
        data = b"".join(data[i + 2:i + 4] for i in range(0, len(data), 4))
        dtype = "BF16"
    out_header[name] = {"dtype": dtype, "shape": entry["shape"],
                        "data_offsets": [offset, offset + len(data)]}
    chunks.append(data)
    offset += len(data)
encoded = json.dumps(out_header).encode()
encoded += b" " * (-len(encoded) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))
