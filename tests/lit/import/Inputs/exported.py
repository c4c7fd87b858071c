"""Loads a torch.export archive as a trainable module, as accel sees it
(the reference environment's PyTorch)."""
import json
import zipfile

import torch


def tie_shared_weights(module, archive):
    """The unlifted module gives tied parameters (a head sharing the
    embedding's weight) one Parameter each; the archive stores them in one
    record, and accel keeps them as one parameter under the first name.
    Ties them again, so that both uses accumulate into one gradient."""
    with zipfile.ZipFile(archive) as z:
        name = next(n for n in z.namelist() if n.endswith("model_weights_config.json"))
        config = json.loads(z.read(name))["config"]
    first = {}
    for fqn, entry in config.items():
        key = (entry["path_name"], json.dumps(entry["tensor_meta"], sort_keys=True))
        if key not in first:
            first[key] = fqn
            continue
        owner, _, attr = fqn.rpartition(".")
        setattr(module.get_submodule(owner), attr, module.get_parameter(first[key]))


def load_module(archive):
    """torch.export.load(archive).module(), its tied parameters tied."""
    module = torch.export.load(archive).module()
    tie_shared_weights(module, archive)
    return module
