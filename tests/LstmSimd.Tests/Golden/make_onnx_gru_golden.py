"""ONNX GRU nodes for the graph runner: nn.GRU modules exported by torch.onnx.export (Debian's python3-torch 1.13, opset 14)
and hand-built single GRU nodes (python3-onnx) for what an export never writes: direction reverse, sequence_lens, layout 1,
no bias. Every export has linear_before_reset = 1 (PyTorch's cell; what torch.onnx.export writes for nn.GRU); the
node_original_* cases have linear_before_reset = 0 (the original cell, ONNX's default).

Each case is onnx-gru/NAME.onnx + NAME.safetensors holding every graph input under its ONNX name (float32; sequence_lens
int32) and the expected value of every graph output under the output's ONNX name, in float64:
- export_*: PyTorch's own nn.GRU run in float64 on the same float32 weights and inputs;
- node_*: the ONNX GRU equations (gate order z, r, h; B = [Wb, Rb]; steps past a sequence's length give zeros in Y and
  keep the state; reverse reads each sequence from its last valid step) in numpy float64. With onnxruntime-node's folder
  as second argument every node case is also run there and must agree to 1e-5 (ONNX Runtime refuses layout 1, so a layout
  1 case runs its layout 0 twin there and the results are transposed).
__metadata__.config gives steps, batch and a description. The generator is seeded: a rerun writes the same files.
usage: /usr/bin/python3 make_onnx_gru_golden.py [out_dir] [node_modules_dir]"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_safetensors import save  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx-gru")
ort = sys.argv[2] if len(sys.argv) > 2 else None
os.makedirs(out, exist_ok=True)
T, B, I, H = 5, 3, 4, 6


# ------------------------------------------------------------------------------------------------ torch.onnx.export


class Gru(nn.Module):
    """nn.GRU returning (output, h_n)."""

    def __init__(self, **kw):
        super().__init__()
        self.gru = nn.GRU(I, H, **kw)

    def forward(self, x):
        return self.gru(x)


class GivenState(nn.Module):
    """nn.GRU with h0 a graph input."""

    def __init__(self, **kw):
        super().__init__()
        self.gru = nn.GRU(I, H, **kw)

    def forward(self, x, h0):
        return self.gru(x, h0)


class GruHead(nn.Module):
    """nn.GRU, then a linear layer on every step's output."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(I, H, batch_first=True)
        self.head = nn.Linear(H, 2)

    def forward(self, x):
        y, _ = self.gru(x)
        return self.head(y)


def export(name, seed, module, batch_first=False, given_state=False, dynamic=False, description=""):
    torch.manual_seed(seed)
    m = module().eval()
    x = torch.randn((B, T, I) if batch_first else (T, B, I))
    args, input_names = (x,), ["input"]
    if given_state:
        gru = m.gru
        h0 = torch.randn((gru.num_layers * (2 if gru.bidirectional else 1), B, H))
        args, input_names = (x, h0), ["input", "h0"]
    with torch.no_grad():
        result = m.double()(*[a.double() for a in args])
    m = m.float()
    outputs = list(result) if isinstance(result, tuple) else [result]
    output_names = ["output", "h_n"][: len(outputs)] if len(outputs) == 2 else ["output"]
    axes = None
    if dynamic:
        axes = {"input": {0: "B", 1: "T"} if batch_first else {0: "T", 1: "B"}}
    torch.onnx.export(m, args, f"{out}/{name}.onnx", input_names=input_names, output_names=output_names, opset_version=14,
                      dynamic_axes=axes)
    tensors = {n: a.numpy() for n, a in zip(input_names, args)}
    tensors.update({n: o.numpy() for n, o in zip(output_names, outputs)})
    save(f"{out}/{name}.safetensors", tensors, {"steps": T, "batch": B, "description": description})
    print(name, "written")


export("export_one_layer", 1, Gru, dynamic=True, description="nn.GRU(4, 6), dynamic axes")
export("export_two_layers_bidirectional", 2, lambda: Gru(num_layers=2, bidirectional=True),
       description="nn.GRU(4, 6, num_layers=2, bidirectional=True)")
export("export_batch_first_given_state", 3, lambda: GivenState(batch_first=True, num_layers=2), batch_first=True, given_state=True,
       description="nn.GRU(4, 6, num_layers=2, batch_first=True) with h0 a graph input")
export("export_no_bias_bidirectional_given_state", 4, lambda: GivenState(bias=False, bidirectional=True), given_state=True,
       description="nn.GRU(4, 6, bias=False, bidirectional=True) with h0 a graph input")
export("export_linear_head_batch_first", 5, GruHead, batch_first=True, description="nn.GRU(4, 6, batch_first=True) then nn.Linear(6, 2) on every step")


# ------------------------------------------------------------------------------------------------ hand-built nodes

rng = np.random.default_rng(2026)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def hard_sigmoid(alpha, beta):
    return lambda v: np.clip(alpha * v + beta, 0.0, 1.0)


def gru(x, w, r, b, lengths, h0, direction, linear_before_reset=1, f=sigmoid):
    """ONNX GRU, layout 0, gate activation f (g = Tanh), in float64: Y [T, D, B, H], Y_h [D, B, H]."""
    steps, batch, _ = x.shape
    dirs, hidden = w.shape[0], r.shape[2]
    y, y_h = np.zeros((steps, dirs, batch, hidden)), np.zeros((dirs, batch, hidden))
    for d in range(dirs):
        wz, wr, wh = np.split(w[d], 3)
        rz, rr, rh = np.split(r[d], 3)
        wbz, wbr, wbh, rbz, rbr, rbh = np.split(b[d], 6)
        backwards = direction == "reverse" or d == 1
        for n in range(batch):
            h = h0[d, n].copy()
            order = reversed(range(lengths[n])) if backwards else range(lengths[n])
            for t in order:
                xt = x[t, n]
                z = f(wz @ xt + rz @ h + wbz + rbz)
                rt = f(wr @ xt + rr @ h + wbr + rbr)
                if linear_before_reset:
                    hh = np.tanh(wh @ xt + rt * (rh @ h + rbh) + wbh)
                else:
                    hh = np.tanh(wh @ xt + rh @ (rt * h) + rbh + wbh)
                h = (1 - z) * hh + z * h
                y[t, d, n] = h
            y_h[d, n] = h
    return y, y_h


def node(name, steps, batch, inputs, hidden, direction="forward", lengths=None, state=True, bias=True, layout=0, description="",
         linear_before_reset=1, hard_sigmoid_gates=None):
    """hard_sigmoid_gates: None for ONNX's default activations, or (alpha, beta) of f = HardSigmoid, written as the node's
    activations list (HardSigmoid, Tanh per direction) with alpha and beta given only where they differ from ONNX's."""
    dirs = 2 if direction == "bidirectional" else 1
    f32 = lambda *shape: (rng.standard_normal(shape) * 0.5).astype(np.float32)
    w, r, b = f32(dirs, 3 * hidden, inputs), f32(dirs, 3 * hidden, hidden), f32(dirs, 6 * hidden)
    x = f32(steps, batch, inputs) * 2
    h0 = f32(dirs, batch, hidden) * 2
    values = {"X": x}
    names = ["X", "W", "R", "B" if bias else "", "sequence_lens" if lengths is not None else "", "initial_h" if state else ""]
    while names[-1] == "":
        names.pop()
    if lengths is not None:
        values["sequence_lens"] = np.array(lengths, dtype=np.int32)
    if state:
        values["initial_h"] = h0
    initializers = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(r, "R")] + ([numpy_helper.from_array(b, "B")] if bias else [])

    def build(lay, feeds):
        attrs = dict(hidden_size=hidden, direction=direction)
        if linear_before_reset:
            attrs["linear_before_reset"] = 1
        if hard_sigmoid_gates is not None:
            attrs["activations"] = ["HardSigmoid", "Tanh"] * dirs
            if hard_sigmoid_gates != (0.2, 0.5):
                attrs["activation_alpha"] = [hard_sigmoid_gates[0]] * dirs
                attrs["activation_beta"] = [hard_sigmoid_gates[1]] * dirs
        if lay:
            attrs["layout"] = 1
        n = helper.make_node("GRU", names, ["Y", "Y_h"], name="gru", **attrs)
        graph_inputs = [helper.make_tensor_value_info(k, TensorProto.INT32 if k == "sequence_lens" else TensorProto.FLOAT, list(v.shape))
                        for k, v in feeds.items()]
        y_shape = [batch, steps, dirs, hidden] if lay else [steps, dirs, batch, hidden]
        h_shape = [batch, dirs, hidden] if lay else [dirs, batch, hidden]
        graph_outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, y_shape), helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, h_shape)]
        model = helper.make_model(helper.make_graph([n], name, graph_inputs, graph_outputs, initializers), opset_imports=[helper.make_opsetid("", 14)])
        model.ir_version = 7
        onnx.checker.check_model(model)
        return model

    y, y_h = gru(x.astype(np.float64), w.astype(np.float64), r.astype(np.float64), b.astype(np.float64) if bias else np.zeros((dirs, 6 * hidden)),
                 lengths if lengths is not None else [steps] * batch, h0.astype(np.float64) if state else np.zeros((dirs, batch, hidden)), direction,
                 linear_before_reset, sigmoid if hard_sigmoid_gates is None else hard_sigmoid(np.float32(hard_sigmoid_gates[0]).item(), np.float32(hard_sigmoid_gates[1]).item()))
    if ort is not None:
        twin = f"{out}/{name}.layout0.onnx"
        onnx.save(build(0, values), twin)
        check_with_onnxruntime(name, twin, values, {"Y": y, "Y_h": y_h})
        os.remove(twin)
    feeds = dict(values)
    if layout:
        feeds["X"] = x.transpose(1, 0, 2).copy()
        if state:
            feeds["initial_h"] = h0.transpose(1, 0, 2).copy()
        y, y_h = y.transpose(2, 0, 1, 3), y_h.transpose(1, 0, 2)
    onnx.save(build(layout, feeds), f"{out}/{name}.onnx")
    tensors = dict(feeds)
    tensors.update({"Y": np.ascontiguousarray(y), "Y_h": np.ascontiguousarray(y_h)})
    save(f"{out}/{name}.safetensors", tensors, {"steps": steps, "batch": batch, "description": description})
    print(name, "written")


def check_with_onnxruntime(name, model, values, expected):
    """Runs the layout 0 model in onnxruntime-node and compares its float32 outputs with the float64 reference."""
    script = """
const ort = require(process.argv[1] + '/onnxruntime-node');
const spec = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  const session = await ort.InferenceSession.create(spec.model);
  const feeds = {};
  for (const [k, v] of Object.entries(spec.inputs))
    feeds[k] = new ort.Tensor(v.int ? 'int32' : 'float32', v.int ? Int32Array.from(v.data) : Float32Array.from(v.data), v.shape);
  const result = await session.run(feeds);
  const out = {};
  for (const k of Object.keys(result)) out[k] = Array.from(result[k].data);
  console.log(JSON.stringify(out));
})();
"""
    spec = {"model": os.path.abspath(model),
            "inputs": {k: {"int": v.dtype == np.int32, "shape": list(v.shape), "data": v.ravel().tolist()} for k, v in values.items()}}
    result = json.loads(subprocess.run(["node", "-e", script, ort], input=json.dumps(spec), capture_output=True, text=True, check=True).stdout)
    for k, v in expected.items():
        worst = np.abs(np.array(result[k]) - v.ravel()).max()
        assert worst < 1e-5, f"{name} {k}: onnxruntime differs by {worst}"
        print(f"  {k}: onnxruntime agrees within {worst:.1e}")


node("node_forward_initial_h", 5, 2, 3, 4, description="forward, initial_h, W R B initializers")
node("node_reverse", 6, 3, 3, 5, direction="reverse", description="reverse, initial_h")
node("node_reverse_lengths_no_bias", 5, 3, 2, 4, direction="reverse", lengths=[5, 2, 1], bias=False, description="reverse, sequence_lens 5, 2, 1, no B")
node("node_bidirectional_lengths", 6, 3, 3, 5, direction="bidirectional", lengths=[6, 4, 1], description="bidirectional, sequence_lens 6, 4, 1, initial_h")
node("node_layout_batch_first_bidirectional", 4, 3, 3, 4, direction="bidirectional", layout=1, description="layout 1, bidirectional, initial_h")
node("node_layout_batch_first_lengths", 5, 2, 3, 17, lengths=[3, 5], state=False, layout=1, description="layout 1, sequence_lens 3, 5, no initial_h, H 17")
node("node_original_bidirectional_lengths", 6, 3, 3, 5, direction="bidirectional", lengths=[6, 4, 1], linear_before_reset=0,
     description="the original cell (linear_before_reset absent: 0), bidirectional, sequence_lens 6, 4, 1, initial_h")
node("node_original_layout_batch_first_no_bias", 5, 2, 3, 4, bias=False, layout=1, linear_before_reset=0,
     description="the original cell, layout 1, no B, initial_h")
node("node_hard_sigmoid_reverse", 6, 3, 3, 5, direction="reverse", hard_sigmoid_gates=(0.25, 0.45),
     description="f = HardSigmoid (alpha 0.25, beta 0.45), reverse, initial_h")
node("node_original_hard_sigmoid_bidirectional_lengths", 6, 3, 3, 5, direction="bidirectional", lengths=[6, 4, 1], linear_before_reset=0,
     hard_sigmoid_gates=(0.2, 0.5), description="the original cell, f = HardSigmoid (ONNX's alpha 0.2, beta 0.5), bidirectional, sequence_lens 6, 4, 1")
