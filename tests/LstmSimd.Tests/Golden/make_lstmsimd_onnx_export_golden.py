"""Exports LSTM models to ONNX with LstmSimd's exporter and records what ONNX Runtime computes from the exported files.

For each case NAME this writes, in lstmsimd-onnx-export/ next to this script:
- NAME.pt (a PyTorch state_dict from torch.save, Debian's python3-torch 1.13) or NAME.safetensors (an LstmSimd model
  file with a cell PyTorch has no module for: peepholes, clip, input_forget, other activations), or it names a Keras
  golden file and one of its LSTM layers;
- NAME.onnx, written by `lstmsimd export` (the tool's DLL is the first argument);
- NAME.expected.safetensors: the `input` (float32 [T, B, I]), `sequence_lens` (int32, where the case has them) and ONNX
  Runtime's outputs (`output`, `h_n`, `c_n`, `head_output`) as float64 of its float32 results; __metadata__.config names
  the case, the source, the export options and the ONNX Runtime version.

Every exported file must pass onnx.checker.check_model(full_check=True) (Debian's python3-onnx) and run in ONNX Runtime
(npm's onnxruntime-node, CPU). For the PyTorch cases, ONNX Runtime's results must also agree with PyTorch's own float64
forward pass within 1e-5 (printed), so the export is checked against the model's framework too.

usage: /usr/bin/python3 tests/LstmSimd.Tests/Golden/make_lstmsimd_onnx_export_golden.py \\
           src/LstmSimd.Cli/bin/Release/net10.0/LstmSimd.Cli.dll /folder/with/node_modules (holding onnxruntime-node@1.30.0)"""
import json, os, struct, subprocess, sys, tempfile

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "lstmsimd-onnx-export")
TOOL, NODE_MODULES = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(20261206)


def export(source, onnx_path, *options):
    subprocess.run(["dotnet", TOOL, "export", "--model", source, "--onnx", onnx_path, *options], check=True, stdout=subprocess.DEVNULL)
    onnx.checker.check_model(onnx.load(onnx_path), full_check=True)


def run_ort(onnx_path, x, lengths):
    """ONNX Runtime's outputs by name, and its version."""
    with tempfile.TemporaryDirectory() as tmp:
        feeds = f"input: new ort.Tensor('float32', new Float32Array({json.dumps(x.flatten().tolist())}), {list(x.shape)})"
        if lengths is not None:
            feeds += f", sequence_lens: new ort.Tensor('int32', new Int32Array({json.dumps(list(map(int, lengths)))}), [{len(lengths)}])"
        script = f"""
const ort = require({json.dumps(os.path.join(NODE_MODULES, 'onnxruntime-node'))});
const fs = require('fs');
(async () => {{
  const s = await ort.InferenceSession.create({json.dumps(onnx_path)});
  const r = await s.run({{ {feeds} }});
  const out = {{ version: ort.env.versions.common }};
  for (const name of s.outputNames) out[name] = {{ dims: r[name].dims, data: Array.from(r[name].data) }};
  fs.writeFileSync({json.dumps(os.path.join(tmp, 'out.json'))}, JSON.stringify(out));
}})();
"""
        subprocess.run(["node", "-e", script], check=True)
        with open(os.path.join(tmp, "out.json")) as f:
            out = json.load(f)
    version = out.pop("version")
    return {k: np.array(v["data"], dtype=np.float64).reshape(v["dims"]) for k, v in out.items()}, version


def record(name, source, options, x, lengths, ort_out, version):
    arrays = {"input": x.astype(np.float32)}
    if lengths is not None:
        arrays["sequence_lens"] = np.array(lengths, dtype=np.int32)
    arrays.update(ort_out)
    golden_safetensors.save(os.path.join(OUT, name + ".expected.safetensors"), arrays,
                            {"case": name, "source": source, "export_options": options, "onnxruntime": version})
    print(f"{name}: ONNX Runtime {version}, outputs {', '.join(ort_out)}")


class Stacked(torch.nn.Module):
    def __init__(self, I, H, L, bidirectional, bias, outputs, head_bias):
        super().__init__()
        self.lstm = torch.nn.LSTM(I, H, num_layers=L, bidirectional=bidirectional, bias=bias)
        self.fc = torch.nn.Linear(H * (2 if bidirectional else 1), outputs, bias=head_bias) if outputs else None


def pytorch_case(name, I, H, L=1, bidirectional=False, bias=True, outputs=0, head_bias=True, T=5, B=3, lengths=None, seed=0):
    torch.manual_seed(seed)
    m = Stacked(I, H, L, bidirectional, bias, outputs, head_bias)
    source = os.path.join(OUT, name + ".pt")
    torch.save(m.state_dict(), source)
    options = ["--prefix", "lstm."] + (["--head", "fc."] if outputs else []) + (["--sequence-lengths"] if lengths is not None else [])
    export(source, os.path.join(OUT, name + ".onnx"), *options)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    ort_out, version = run_ort(os.path.join(OUT, name + ".onnx"), x, lengths)

    # PyTorch's float64 forward pass (packed when there are lengths: zeros past each length, states at the last valid step).
    md = m.double()
    xd = torch.from_numpy(x.astype(np.float64))
    with torch.no_grad():
        if lengths is not None:
            packed = torch.nn.utils.rnn.pack_padded_sequence(xd, torch.tensor(lengths), enforce_sorted=False)
            y, (hn, cn) = md.lstm(packed)
            y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, total_length=T)
        else:
            y, (hn, cn) = md.lstm(xd)
        expected = {"output": y, "h_n": hn, "c_n": cn}
        if outputs:
            expected["head_output"] = md.fc(y)
    worst = max(np.abs(ort_out[k] - v.numpy()).max() for k, v in expected.items())
    assert worst < 1e-5, f"{name}: ONNX Runtime and PyTorch differ by {worst}"
    print(f"{name}: ONNX Runtime agrees with PyTorch float64 to {worst:.1e}")
    record(name, os.path.basename(source), options, x, lengths, ort_out, version)


def bits(value):
    """LstmModelFile's float notation: the float32's bits in hex, a space, and its value."""
    return "%08X %r" % (struct.unpack("<I", struct.pack("<f", value))[0], float(np.float32(value)))


def activation(kind, alpha=0.2, beta=0.5):
    return {"kind": kind, "alpha": bits(alpha), "beta": bits(beta)}


def lstmsimd_case(name, I, H, L, bidirectional, cell, outputs, T=4, B=2, lengths=None):
    """An LstmSimd model file (LstmModelFile's layout: PyTorch's names, peephole_l{k}[_reverse] in order i, f, o, head.*)."""
    D = 2 if bidirectional else 1
    arrays = {}
    for layer in range(L):
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            inputs = I if layer == 0 else D * H
            arrays["weight_ih" + sfx] = rng.uniform(-0.6, 0.6, (4 * H, inputs)).astype(np.float32)
            arrays["weight_hh" + sfx] = rng.uniform(-0.6, 0.6, (4 * H, H)).astype(np.float32)
            arrays["bias_ih" + sfx] = rng.uniform(-0.6, 0.6, 4 * H).astype(np.float32)
            arrays["bias_hh" + sfx] = rng.uniform(-0.6, 0.6, 4 * H).astype(np.float32)
            if cell["peepholes"]:
                arrays["peephole" + sfx] = rng.uniform(-0.6, 0.6, 3 * H).astype(np.float32)
    if outputs:
        arrays["head.weight"] = rng.uniform(-0.6, 0.6, (outputs, D * H)).astype(np.float32)
        arrays["head.bias"] = rng.uniform(-0.6, 0.6, outputs).astype(np.float32)
    spec = {"input_size": I, "hidden_size": H, "num_layers": L, "bidirectional": bidirectional, "proj_size": 0, "bias": True, "cell": cell}
    source = os.path.join(OUT, name + ".safetensors")
    golden_safetensors.save(source, arrays, None, {"format": "lstmsimd", "format_version": "1", "spec": json.dumps(spec)})
    options = ["--sequence-lengths"] if lengths is not None else []
    export(source, os.path.join(OUT, name + ".onnx"), *options)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    ort_out, version = run_ort(os.path.join(OUT, name + ".onnx"), x, lengths)
    record(name, os.path.basename(source), options, x, lengths, ort_out, version)


def keras_case(name, keras_file, layer, T=5, B=2, I=None):
    source = os.path.join(HERE, "keras", keras_file)
    export(source, os.path.join(OUT, name + ".onnx"), "--layer", layer)
    model = onnx.load(os.path.join(OUT, name + ".onnx"))
    I = model.graph.input[0].type.tensor_type.shape.dim[2].dim_value
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    ort_out, version = run_ort(os.path.join(OUT, name + ".onnx"), x, None)
    record(name, "keras/" + keras_file, ["--layer", layer], x, None, ort_out, version)


os.makedirs(OUT, exist_ok=True)
pytorch_case("pytorch_stacked_bidirectional_head", I=4, H=5, L=2, bidirectional=True, outputs=3, seed=1)
pytorch_case("pytorch_one_layer_lengths", I=3, H=6, lengths=[5, 2, 4], seed=2)
pytorch_case("pytorch_three_layers_no_bias_head_without_bias", I=3, H=4, L=3, bias=False, outputs=2, head_bias=False, seed=3)
lstmsimd_case("lstmsimd_bidirectional_peepholes_clip_input_forget", I=3, H=4, L=1, bidirectional=True, outputs=2, lengths=[4, 1],
              cell={"peepholes": True, "clip": bits(0.75), "input_forget": True,
                    "gate": activation("Sigmoid"), "candidate": activation("Tanh"), "output": activation("Tanh")})
lstmsimd_case("lstmsimd_two_layers_hard_sigmoid_relu", I=2, H=3, L=2, bidirectional=False, outputs=0,
              cell={"peepholes": False, "clip": bits(0.0), "input_forget": False,
                    "gate": activation("HardSigmoid", 0.25, 0.45), "candidate": activation("Relu"), "output": activation("Tanh")})
keras_case("keras2_hard_sigmoid_bidirectional_layer", "k2_hard_sigmoid_bidirectional.h5", "bidirectional")
