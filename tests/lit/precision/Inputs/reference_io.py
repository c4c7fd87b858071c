"""Readers and writers the reference scripts share (run with the reference
environment's Python): safetensors files written by hand (8-byte header
length, JSON header, data), Fashion-MNIST's training split, and a report
line that goes to stdout and stderr."""
import gzip
import json
import struct
import sys

import numpy as np
import torch


def report(*values, **kwargs):
    """Prints a line of the comparison; a copy goes to stderr so that lit's
    -a shows the numbers while FileCheck reads stdout."""
    print(*values, **kwargs)
    print(*values, file=sys.stderr, **kwargs)


# safetensors dtypes: FP8 codes stay raw bytes (uint8), BF16 widens to F32.
NUMPY = {"F32": "<f4", "I64": "<i8", "BF16": "<u2", "F8_E4M3": "u1", "F8_E5M2": "u1", "U8": "u1"}


def read_safetensors(path):
    """Returns ({name: tensor}, {name: safetensors dtype}, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    tensors, dtypes = {}, {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(raw[8 + length + begin:8 + length + end],
                              dtype=NUMPY[entry["dtype"]]).reshape(entry["shape"])
        if entry["dtype"] == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = torch.from_numpy(array.copy())
        dtypes[name] = entry["dtype"]
    return tensors, dtypes, header.get("__metadata__", {})


def write_safetensors(path, tensors, metadata):
    """Writes {name: (dtype, array)}: 8-byte header length, JSON header,
    contiguous data in header order."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, (dtype, array) in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def fashion_mnist(directory):
    with gzip.open(directory + "/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)
    with gzip.open(directory + "/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read()[8:], dtype=np.uint8)
    return {"images": torch.from_numpy(images.astype(np.float32) / 255.0),
            "labels": torch.from_numpy(labels.astype(np.int64))}
