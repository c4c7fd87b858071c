"""Writes the archive fuzzer's seed corpus (tests/fuzz/corpus/archive/):
small TorchScript archives and torch.export programs saved by torch, each
as the record list ArchiveFuzzer.cpp reads (its members, then the import's
options).

  mlp-script    nn.Sequential(Linear, ReLU, Linear) scripted; mse against a target
  mlp-trace     the same traced; cross-entropy with class labels
  conv-bn       Conv2d, BatchNorm2d (running statistics), ReLU, pooling, Linear, traced
  attention     a single-head self-attention block (softmax, matmul, layer norm), scripted
  export-*      the same three models through torch.export (torch 2.x only;
                export-mlp has a dynamic batch dimension)

Run with Debian's torch for the TorchScript seeds (the importer's LibTorch
is 1.13), and with the reference environment's for the torch.export ones:
  /usr/bin/python3 tests/fuzz/make_archive_corpus.py tests/fuzz/corpus/archive
  ~/.cache/accel/reference/bin/python tests/fuzz/make_archive_corpus.py tests/fuzz/corpus/archive"""
import io
import os
import sys
import zipfile

import torch
from torch import nn

MARKER = b"#record "


class ConvBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2 * 2 * 2, 3)

    def forward(self, x):
        y = nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(y, 1))


class Attention(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.qkv = nn.Linear(width, 3 * width)
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        weights = torch.softmax(q @ k.transpose(-2, -1) * 0.35, dim=-1)
        return self.norm(x + weights @ v)


def records(module, options, save=torch.jit.save):
    buffer = io.BytesIO()
    save(module, buffer)
    out = []
    with zipfile.ZipFile(buffer) as archive:
        for name in archive.namelist():
            # The writer in the fuzzer adds the archive's top directory.
            member = name.split("/", 1)[1]
            out.append(MARKER + member.encode() + b"\n" + archive.read(name))
    for name, lines in options.items():
        out.append(MARKER + b"accel/" + name.encode() + b"\n" + "\n".join(lines).encode())
    return b"\n".join(out)


def export_seeds(mlp):
    """The torch.export seeds: {name: (program, options)}."""
    export = torch.export
    batch = export.Dim("batch", min=1)
    return {
        "export-mlp": (export.export(mlp, (torch.randn(2, 4),), dynamic_shapes=({0: batch},)),
                       {"input": ["input=3x4xf32"], "target": ["t=3x3xf32"], "loss": ["mse"]}),
        "export-conv-bn": (export.export(ConvBn().train(), (torch.randn(2, 1, 4, 4),)),
                           {"input": ["x=2x1x4x4xf32"], "target": ["y=2xi64"],
                            "loss": ["cross-entropy"]}),
        "export-attention": (export.export(Attention(), (torch.randn(2, 5, 8),)),
                             {"input": ["x=2x5x8xf32"], "target": ["t=2x5x8xf32"],
                              "loss": ["mse"]}),
    }


def main():
    torch.manual_seed(0)
    out = sys.argv[1]
    mlp = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    if hasattr(torch, "export"):
        for name, (program, options) in export_seeds(mlp).items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(records(program, options, save=torch.export.save))
        return
    seeds = {
        "mlp-script": (torch.jit.script(mlp),
                       {"input": ["input=2x4xf32"], "target": ["t=2x3xf32"], "loss": ["mse"]}),
        "mlp-trace": (torch.jit.trace(mlp, torch.randn(2, 4)),
                      {"input": ["input=2x4xf32"], "target": ["y=2xi64"], "loss": ["cross-entropy"]}),
        "conv-bn": (torch.jit.trace(ConvBn().train(), torch.randn(2, 1, 4, 4)),
                    {"input": ["x=2x1x4x4xf32"], "target": ["y=2xi64"], "loss": ["cross-entropy"]}),
        "attention": (torch.jit.script(Attention()),
                      {"input": ["x=2x5x8xf32"]}),
    }
    for name, (module, options) in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(records(module, options))


if __name__ == "__main__":
    main()
