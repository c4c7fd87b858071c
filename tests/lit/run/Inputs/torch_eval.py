#!/usr/bin/env python3
"""torch_eval.py MODEL.pt STATE.safetensors DATA.safetensors INPUT LABELS:
the classification accuracy of the TorchScript model in eval mode (batch
norm on its running statistics) with the parameters and buffers of STATE
(accel-run --save-params), over the whole dataset, printed as accel-run
prints its evaluations."""
import sys

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from compare_state import load  # noqa: E402

model_path, state_path, data_path, input_name, labels_name = sys.argv[1:6]
model = torch.jit.load(model_path)
state = {k: torch.from_numpy(v.copy()) for k, v in load(state_path).items()}
model.load_state_dict(state, strict=True)
model.eval()
data = load(data_path)
x = torch.from_numpy(data[input_name].copy())
y = torch.from_numpy(data[labels_name].copy())
with torch.no_grad():
    predicted = model(x).argmax(dim=1)
accuracy = float((predicted == y).double().mean())
print("eval accuracy %.2f%% on %d samples" % (100 * accuracy, len(y)))
