"""Writes a .safetensors file from numpy arrays (F32, F64, I32, I64) with __metadata__.config as JSON (or the given
__metadata__ entries), for the golden scripts."""
import json
import struct

import numpy as np

DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int32"): "I32", np.dtype("int64"): "I64"}


def save(path, arrays, config, metadata=None):
    header, blobs, offset = {}, [], 0
    for key, a in arrays.items():
        data = np.ascontiguousarray(a).tobytes()
        header[key] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = metadata if metadata is not None else {"config": json.dumps(config)}
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for data in blobs:
            f.write(data)
