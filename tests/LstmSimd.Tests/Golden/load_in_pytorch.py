"""Loads an LstmSimd export into torch.nn.LSTM with load_state_dict(strict=True) and runs it.

usage: python3 load_in_pytorch.py EXPORT.safetensors GOLDEN.safetensors
Reads safetensors by hand (no safetensors package needed): 8-byte little-endian header length, JSON header, raw data.
Builds nn.LSTM from the golden file's config, loads the export strictly, and prints the max |output| difference
between PyTorch on the exported weights and the golden output (large if the weights changed, e.g. after training).
"""
import json, struct, sys
import torch

def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[info["dtype"]]) if end > begin else torch.empty(0, dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"])
    return tensors, header.get("__metadata__", {})

export, _ = read(sys.argv[1])
golden, meta = read(sys.argv[2])
c = json.loads(meta["config"])
lstm = torch.nn.LSTM(c["input_size"], c["hidden_size"], c["num_layers"], bias=c["bias"], batch_first=c["batch_first"],
                     bidirectional=c["bidirectional"], proj_size=c["proj_size"])
missing = lstm.load_state_dict(export, strict=True)
print("load_state_dict(strict=True):", missing)
out, _ = lstm(golden["input"], (golden["h0"], golden["c0"]))
print("max |pytorch(export) - golden output|:", (out.double() - golden["output"]).abs().max().item())
