"""The torchvision classification models of the coverage table, as both
PyTorches build them (Debian's torch 1.13 with torchvision 0.14 for
TorchScript, the reference environment's for torch.export).

Each entry: the image size (the smallest the architecture takes
comfortably, to keep a CPU step short) and whether the model draws random
numbers in training (dropout, stochastic depth). The gradient check needs a
deterministic model (accel's random masks are not PyTorch's), so it sets
their probabilities to 0; the training run uses the model as built."""

MODELS = {
    # name: (image size, random in training)
    "resnet18": (32, False),
    "resnet50": (32, False),
    "mobilenet_v2": (32, True),
    "mobilenet_v3_small": (32, True),
    "efficientnet_b0": (32, True),
    "shufflenet_v2_x0_5": (32, False),
    "squeezenet1_0": (64, True),
    "densenet121": (32, False),
    "vgg11_bn": (32, True),
    "regnet_y_400mf": (32, False),
    "convnext_tiny": (32, True),
    "vit_b_16": (32, False),
}

CLASSES = 10


def build(name, deterministic):
    """The model in training mode, with CLASSES outputs."""
    import torchvision

    image, _ = MODELS[name]
    kwargs = {"num_classes": CLASSES}
    if name.startswith("vit"):
        kwargs["image_size"] = image
    model = getattr(torchvision.models, name)(**kwargs)
    if deterministic:
        # nn.Dropout and torchvision's StochasticDepth both keep `p`
        # (builder arguments for them differ between torchvision versions).
        for m in model.modules():
            if type(m).__name__ in ("Dropout", "StochasticDepth"):
                m.p = 0.0
    model.train()
    return model
