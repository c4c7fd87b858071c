"""Writes TorchScript archives whose contents LibTorch trusts: a scripted
nn.Linear(4, 4) saved by torch, then one record of the zip rewritten.

  truncated.pt  the weight's storage cut to 2 of its 16 floats
  offset.pt     the weight starts at storage offset -1 (data.pkl edited)
  stride.pt     the weight's row stride is 65535 (data.pkl edited)
  deep.pt       the module's code holds 50,000 nested parentheses
  meta.pt       the module's tensors are on the meta device (no data)
  string.pt     a string in data.pkl claims 4,160,749,568 bytes (LibTorch
                would reserve them before reading)
  memo.pt       data.pkl stores into memo slot 4,026,531,840 (LibTorch would
                grow its memo table to that many entries)
  crash.pt      a scripted Conv2d whose code says `__pArameters__`, on which
                LibTorch 1.13's type parser dies with SIGSEGV
  shared.pt     nn.Sequential(Linear(4, 2), Linear(2, 4)) whose second weight
                (8 floats) names the first bias's storage (2 floats): LibTorch
                builds a storage of 8 floats over the record of 2

Usage: bad_archives.py OUT_DIR"""
import os
import sys
import zipfile

import torch


def rewrite(source, target, edit):
    """Copies the zip `source` to `target`, passing each record's bytes
    through edit(name, data)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as new:
        for name in old.namelist():
            new.writestr(name, edit(name, old.read(name)))


def replace_once(data, old, new):
    assert data.count(old) == 1, (old, data.count(old))
    return data.replace(old, new)


def main():
    out = sys.argv[1]
    base = os.path.join(out, "linear.pt")
    torch.jit.script(torch.nn.Linear(4, 4)).save(base)
    # data.pkl rebuilds the weight as (storage, offset 0, size (4, 4),
    # stride (4, 1)): BINPERSID, BINPUT 7, BININT1 0, then the tuples.
    offset = (b"Qq\x07K\x00", b"Qq\x07J\xff\xff\xff\xff")       # BININT -1
    stride = (b"(K\x04K\x04t(K\x04K\x01t", b"(K\x04K\x04t(M\xff\xffK\x01t")  # BININT2 65535
    edits = {
        "truncated.pt": lambda n, d: d[:8] if n.endswith("data/0") else d,
        "offset.pt": lambda n, d: replace_once(d, *offset) if n.endswith("data.pkl") else d,
        "stride.pt": lambda n, d: replace_once(d, *stride) if n.endswith("data.pkl") else d,
        "string.pt": lambda n, d: replace_once(d, b"X\x08\x00\x00\x00training", b"X\x00\x00\x00\xf8training")
        if n.endswith("data.pkl") else d,
        "memo.pt": lambda n, d: replace_once(d, offset[0], b"Qr\x00\x00\x00\xf0K\x00") if n.endswith("data.pkl") else d,
        "deep.pt": lambda n, d: d + b"\ndef deep(x):\n  return " + b"(" * 50000 + b"x" + b")" * 50000 + b"\n"
        if n.endswith("linear.py") else d,
    }
    for name, edit in edits.items():
        rewrite(base, os.path.join(out, name), edit)
    torch.jit.script(torch.nn.Linear(4, 4, device="meta")).save(os.path.join(out, "meta.pt"))
    two = os.path.join(out, "two.pt")
    torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Linear(2, 4))).save(two)
    rewrite(two, os.path.join(out, "shared.pt"),
            lambda n, d: replace_once(d, b"X\x01\x00\x00\x002q", b"X\x01\x00\x00\x001q")
            if n.endswith("data.pkl") else d)
    conv = os.path.join(out, "conv.pt")
    torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))).save(conv)
    rewrite(conv, os.path.join(out, "crash.pt"),
            lambda n, d: replace_once(d, b"__parameters__ = [", b"__pArameters__ = [") if n.endswith("conv.py") else d)


if __name__ == "__main__":
    main()
