#!/usr/bin/env python3
"""set_value.py IN.safetensors OUT.safetensors NAME POSITION VALUE: copies a
safetensors file with element POSITION (flat) of the i64 tensor NAME set to
VALUE, to make index data out of range."""
import json
import struct
import sys

src, dst, name, pos, value = sys.argv[1:6]
raw = bytearray(open(src, "rb").read())
(length,) = struct.unpack("<Q", raw[:8])
begin = json.loads(raw[8:8 + length])[name]["data_offsets"][0]
at = 8 + length + begin + 8 * int(pos)
raw[at:at + 8] = struct.pack("<q", int(value))
open(dst, "wb").write(bytes(raw))
