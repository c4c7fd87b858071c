"""The models of bench/run_all.py, built the same way for accel (exported
with torch.export) and for each PyTorch mode, in training mode (dropout
on where the model has it).

Each entry: a builder (seeded), the step's inputs by name (shape, dtype),
whether the forward returns its loss (else cross-entropy of its logits
against the input `y`), and the steps per timing round and warm-up steps
(a round of about a second on the 2-core machine)."""
import importlib.util
import os

import torch
import torch.nn.functional as F

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _example(path):
    """A module of examples/ by path (two of them are named export.py)."""
    spec = importlib.util.spec_from_file_location(path.replace("/", "_")[:-3],
                                                  os.path.join(root, "examples", path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mlp():
    return _example("mlp/export.py").make_mlp(784, [1024, 1024], 10, ["relu"], 0.0)


def _gpt(**kw):
    return lambda: _example("gpt/model.py").GPT(**kw)


def _resnet18():
    import torchvision

    return torchvision.models.resnet18(num_classes=10)


MODELS = {
    # name: dict(build, inputs, returns_loss, steps, warmup, description)
    "mlp": dict(build=_mlp, returns_loss=False, steps=20, warmup=5,
                inputs={"input": ([128, 784], torch.float32), "y": ([128], torch.int64)},
                description="MLP 784-1024-1024-10, batch 128"),
    "gpt": dict(build=_gpt(vocab=64, block=64, embd=128, heads=4, layers=2, dropout=0.1),
                returns_loss=True, steps=10, warmup=3,
                inputs={"idx": ([16, 64], torch.int64), "targets": ([16, 64], torch.int64)},
                description="GPT example: vocab 64, ctx 64, width 128, 4 heads, 2 layers, "
                            "dropout 0.1, batch 16"),
    "gpt-mid": dict(build=_gpt(vocab=64, block=128, embd=384, heads=6, layers=6, dropout=0.1),
                    returns_loss=True, steps=2, warmup=2,
                    inputs={"idx": ([8, 128], torch.int64), "targets": ([8, 128], torch.int64)},
                    description="GPT: vocab 64, ctx 128, width 384, 6 heads, 6 layers, "
                                "dropout 0.1, batch 8"),
    "resnet18": dict(build=_resnet18, returns_loss=False, steps=2, warmup=2,
                     inputs={"x": ([32, 3, 32, 32], torch.float32), "y": ([32], torch.int64)},
                     description="ResNet-18 (torchvision), 32x32 images, 10 classes, batch 32"),
}

VOCAB = 64
CLASSES = 10


def build(name):
    torch.manual_seed(0)
    model = MODELS[name]["build"]()
    model.train()
    return model


def make_batch(name):
    """A fixed random batch: the same tensors for accel and every mode."""
    g = torch.Generator().manual_seed(1)
    batch = {}
    for input_name, (shape, dtype) in MODELS[name]["inputs"].items():
        if dtype == torch.float32:
            batch[input_name] = torch.randn(shape, generator=g)
        else:
            high = CLASSES if input_name == "y" else VOCAB
            batch[input_name] = torch.randint(0, high, shape, generator=g)
    return batch


def model_inputs(name, batch):
    """The forward's arguments (all inputs but the labels of an appended
    cross-entropy)."""
    spec = MODELS[name]
    return [batch[n] for n in spec["inputs"] if spec["returns_loss"] or n != "y"]


def loss_of(name, model, batch):
    out = model(*model_inputs(name, batch))
    return out if MODELS[name]["returns_loss"] else F.cross_entropy(out, batch["y"])
