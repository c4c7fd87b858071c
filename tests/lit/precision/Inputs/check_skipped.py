#!/usr/bin/env python3
"""Checks a checkpoint taken after one skipped step (a loss-scale overflow):
every parameter has the initial bytes, optimizer state is untouched (zeros,
optimizer.step 0), and the scale has backed off once.

    check_skipped.py INIT.safetensors STATE.safetensors EXPECTED_SCALE
"""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    body = raw[8 + length:]
    return {name: (entry["dtype"], body[entry["data_offsets"][0]:entry["data_offsets"][1]])
            for name, entry in header.items() if name != "__metadata__"}


init, state, expected = tensors(sys.argv[1]), tensors(sys.argv[2]), float(sys.argv[3])
ok = True
for name, (dtype, data) in init.items():
    same = state[name] == (dtype, data)
    ok &= same
    print(f"{name}: {'identical' if same else 'CHANGED'}")
for name, (dtype, data) in state.items():
    if name in init or name.startswith("loss_scale"):
        continue
    zero = not any(data)
    ok &= zero
    print(f"{name}: {'untouched' if zero else 'CHANGED'}")
(scale,) = struct.unpack("<f", state["loss_scale"][1])
(tracker,) = struct.unpack("<q", state["loss_scale.growth_tracker"][1])
print(f"loss_scale {scale:g} growth_tracker {tracker}")
ok &= scale == expected and tracker == 0
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
