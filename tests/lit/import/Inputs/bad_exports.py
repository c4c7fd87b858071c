"""Writes torch.export archives (.pt2) that accel-import must refuse with
one clear error: an exported nn.Linear(20, 4) program saved by torch, then
one record of the zip rewritten or left out.

  json.pt2      models/model.json is not JSON
  schema.pt2    the program's schema major version is 99
  dtype.pt2     the weight's dtype code is 99
  short.pt2     the weight's record holds 8 of its 320 bytes
  pickle.pt2    the weight is marked as pickled
  missing.pt2   the bias's record is absent
  escape.pt2    the weight's record name leaves its folder ("../x")
  overload.pt2  the linear node calls aten::linear.nonsense, an overload
                neither LibTorch nor accel knows (the fuzzer's "using_nits")
  cumsum.pt2    a program using aten::cumsum, which accel does not import
  dynamic.pt2   a program exported with a dynamic batch dimension
  script.pt2    a TorchScript archive under a .pt2 name
  linear.pt2    the unmodified program (exported at input 4x20)

Usage: bad_exports.py OUT_DIR (with the reference environment's Python)"""
import json
import os
import sys
import zipfile

import torch


def rewrite(source, target, edit):
    """Copies the zip `source` to `target`, passing each record's bytes
    through edit(name, data); a record for which edit returns None is left
    out."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as new:
        for name in old.namelist():
            data = edit(name, old.read(name))
            if data is not None:
                new.writestr(name, data)


def edit_json(suffix, change):
    """An edit that applies change(object) to the JSON record `suffix`."""
    def edit(name, data):
        if not name.endswith(suffix):
            return data
        value = json.loads(data)
        change(value)
        return json.dumps(value).encode()
    return edit


def weight_entry(config):
    return config["config"]["weight"]


class CumSum(torch.nn.Module):
    def forward(self, x):
        return torch.cumsum(x, dim=1).sum()


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    model = torch.nn.Linear(20, 4)
    base = os.path.join(out, "linear.pt2")
    torch.export.save(torch.export.export(model, (torch.randn(4, 20),)), base)
    weights = "data/weights/model_weights_config.json"
    path_of = {}
    with zipfile.ZipFile(base) as z:
        for name in z.namelist():
            if name.endswith(weights):
                config = json.loads(z.read(name))["config"]
                path_of = {k: v["path_name"] for k, v in config.items()}
    edits = {
        "json.pt2": lambda n, d: b"{not json" if n.endswith("models/model.json") else d,
        "schema.pt2": edit_json("models/model.json",
                                lambda v: v["schema_version"].update(major=99)),
        "dtype.pt2": edit_json(weights, lambda v: weight_entry(v)["tensor_meta"].update(dtype=99)),
        "short.pt2": lambda n, d: d[:8] if n.endswith("weights/" + path_of["weight"]) else d,
        "pickle.pt2": edit_json(weights, lambda v: weight_entry(v).update(use_pickle=True)),
        "missing.pt2": lambda n, d: None if n.endswith("weights/" + path_of["bias"]) else d,
        "escape.pt2": edit_json(weights, lambda v: weight_entry(v).update(path_name="../x")),
        "overload.pt2": lambda n, d: d.replace(b'"torch.ops.aten.linear.default"',
                                               b'"torch.ops.aten.linear.nonsense"')
        if n.endswith("models/model.json") else d,
    }
    for name, edit in edits.items():
        rewrite(base, os.path.join(out, name), edit)

    torch.export.save(torch.export.export(CumSum(), (torch.randn(4, 20),)),
                      os.path.join(out, "cumsum.pt2"))
    batch = torch.export.Dim("batch", min=2)
    torch.export.save(torch.export.export(model, (torch.randn(4, 20),),
                                          dynamic_shapes=({0: batch},)),
                      os.path.join(out, "dynamic.pt2"))
    torch.jit.script(model).save(os.path.join(out, "script.pt2"))


if __name__ == "__main__":
    main()
