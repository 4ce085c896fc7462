"""Reads a float32 safetensors file into PyTorch tensors, for the PyTorch peers:
returns ({name: tensor}, {metadata key: value})."""
import json
import struct

import torch


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        assert entry["dtype"] == "F32"
        tensors[name] = torch.frombuffer(bytearray(data[8 + n + begin:8 + n + end]), dtype=torch.float32).reshape(entry["shape"])
    return tensors, header.get("__metadata__", {})
