#!/usr/bin/env python3
"""Builds a character-level language-modelling dataset for the GPT example.

    python3 examples/gpt/make_dataset.py --out text.safetensors --block 16
        [--text /usr/share/common-licenses/GPL-3] [--vocab 64]

Each sample is a window of BLOCK characters (`idx`, i64) and the same
window shifted by one (`targets`, i64): the tensors are named after the
GPT step's inputs, first dimension = samples, as accel-run --data expects.
Windows start every BLOCK characters. Characters are numbered by frequency
(most frequent first); the rarest ones share the last id when the text has
more distinct characters than --vocab. The default text ships with every
Debian system.
"""
import argparse
import collections
import json
import struct

import numpy as np


def write_safetensors(path, tensors):
    """Writes {name: (dtype, array)} with the format's rules (8-byte header
    length, JSON header, contiguous data in header order)."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, array) in tensors.items():
        data = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--block", type=int, default=16)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--text", default="/usr/share/common-licenses/GPL-3")
    args = p.parse_args()

    text = open(args.text, encoding="utf-8").read()
    ranked = [c for c, _ in collections.Counter(text).most_common()]
    ids = {c: min(i, args.vocab - 1) for i, c in enumerate(ranked)}
    tokens = np.array([ids[c] for c in text], dtype="<i8")
    n = (len(tokens) - 1) // args.block
    idx = tokens[:n * args.block].reshape(n, args.block)
    targets = tokens[1:n * args.block + 1].reshape(n, args.block)
    write_safetensors(args.out, {"idx": ("I64", idx), "targets": ("I64", targets)})
    print("%s: %d samples of %d tokens, %d distinct characters (vocab %d)"
          % (args.out, n, args.block, len(ranked), args.vocab))


if __name__ == "__main__":
    main()
