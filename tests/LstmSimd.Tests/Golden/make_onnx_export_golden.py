"""Multi-layer nn.LSTM exported to ONNX by PyTorch itself (one LSTM node per layer, joined by Squeeze or
Transpose + Reshape), with PyTorch's float64 results: onnx-pytorch-export/NAME.onnx + NAME.safetensors.
Run with Debian's python3-torch (1.13): /usr/bin/python3 make_onnx_export_golden.py [out_dir]."""
import json
import struct
import sys

import torch

out = sys.argv[1] if len(sys.argv) > 1 else "onnx-pytorch-export"
torch.manual_seed(7)
for name, layers, bidirectional in [("stacked", 2, False), ("stacked_bidirectional", 2, True), ("stacked_three", 3, False)]:
    module = torch.nn.LSTM(5, 6, num_layers=layers, bidirectional=bidirectional)
    x = torch.randn(4, 3, 5)
    torch.onnx.export(module, (x,), f"{out}/{name}.onnx", input_names=["X"], output_names=["Y", "Y_h", "Y_c"], opset_version=14)
    with torch.no_grad():
        y, (h, c) = module.double()(x.double())
    tensors = {"input": x, "output": y, "h_n": h, "c_n": c}
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[key] = {"dtype": "F32" if t.dtype == torch.float32 else "F64", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"config": json.dumps({"num_layers": layers, "bidirectional": bidirectional, "torch": torch.__version__})}
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(f"{out}/{name}.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for data in blobs:
            f.write(data)
    print(name, "written")
