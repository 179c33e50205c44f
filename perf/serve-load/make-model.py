#!/usr/bin/env python3
"""Writes a random PyTorch-style LSTM state_dict with an nn.Linear head ('fc.') as safetensors, using only the
standard library: the model the service load test serves. Usage: make-model.py OUT [inputs] [hidden] [seed]."""
import json
import random
import struct
import sys

out = sys.argv[1]
inputs = int(sys.argv[2]) if len(sys.argv) > 2 else 8
hidden = int(sys.argv[3]) if len(sys.argv) > 3 else 64
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
bound = hidden ** -0.5  # PyTorch's default init range for nn.LSTM
tensors = {
    "weight_ih_l0": [4 * hidden, inputs],
    "weight_hh_l0": [4 * hidden, hidden],
    "bias_ih_l0": [4 * hidden],
    "bias_hh_l0": [4 * hidden],
    "fc.weight": [1, hidden],
    "fc.bias": [1],
}
header, blobs, offset = {}, [], 0
for name, shape in tensors.items():
    count = 1
    for d in shape:
        count *= d
    blob = struct.pack(f"<{count}f", *(rng.uniform(-bound, bound) for _ in range(count)))
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
    blobs.append(blob)
    offset += len(blob)
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
