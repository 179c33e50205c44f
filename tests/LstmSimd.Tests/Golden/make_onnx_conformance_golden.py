"""LSTM nodes laid out as ONNX's own conformance tests (onnx/backend/test/data/node/test_lstm_*) lay them out: X, W, R, B
(and P, sequence_lens, initial_h, initial_c) all graph inputs, no initializer. Each case is onnx-graph/NAME.onnx +
NAME.safetensors holding every graph input under its ONNX name and the expected Y, Y_h, Y_c in float64, computed here
with numpy from the ONNX LSTM equations (gate order i, o, f, c; P in order i, o, f; B = [Wb, Rb]; steps past a
sequence's length give zeros in Y and keep the state). If a second argument names a folder with onnxruntime-node, each
case is also run there and must agree to 1e-5.
Run with /usr/bin/python3 (onnx and numpy): python3 make_onnx_conformance_golden.py [out_dir] [node_modules_dir]."""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

from golden_safetensors import save

out = sys.argv[1] if len(sys.argv) > 1 else "onnx-graph"
ort = sys.argv[2] if len(sys.argv) > 2 else None
rng = np.random.default_rng(5)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm(x, w, r, b, p, lengths, h0, c0, directions):
    """ONNX LSTM, layout 0, default activations, in float64."""
    steps, batch, _ = x.shape
    hidden = r.shape[2]
    y = np.zeros((steps, directions, batch, hidden))
    y_h, y_c = np.zeros((directions, batch, hidden)), np.zeros((directions, batch, hidden))
    for d in range(directions):
        wi, wo, wf, wc = np.split(w[d], 4)
        ri, ro, rf, rc = np.split(r[d], 4)
        wb, rb = np.split(b[d], 2)
        bi, bo, bf, bc = np.split(wb + rb, 4)
        pi, po, pf = np.split(p[d], 3)
        for n in range(batch):
            h, c = h0[d, n].copy(), c0[d, n].copy()
            order = range(lengths[n]) if d == 0 else reversed(range(lengths[n]))
            for t in order:
                xt = x[t, n]
                i = sigmoid(wi @ xt + ri @ h + pi * c + bi)
                f = sigmoid(wf @ xt + rf @ h + pf * c + bf)
                g = np.tanh(wc @ xt + rc @ h + bc)
                c = f * c + i * g
                o = sigmoid(wo @ xt + ro @ h + po * c + bo)
                h = o * np.tanh(c)
                y[t, d, n] = h
            y_h[d, n], y_c[d, n] = h, c
    return y, y_h, y_c


def case(name, steps, batch, inputs, hidden, directions, peepholes, lengths, state):
    f32 = lambda *shape: (rng.standard_normal(shape) * 0.5).astype(np.float32)
    values = {"X": f32(steps, batch, inputs), "W": f32(directions, 4 * hidden, inputs), "R": f32(directions, 4 * hidden, hidden),
              "B": f32(directions, 8 * hidden)}
    names = ["X", "W", "R", "B"]
    if lengths is not None:
        values["sequence_lens"] = np.array(lengths, dtype=np.int32)
    if state:
        values["initial_h"], values["initial_c"] = f32(directions, batch, hidden), f32(directions, batch, hidden)
    if peepholes:
        values["P"] = f32(directions, 3 * hidden)
    names += ["sequence_lens" if lengths is not None else "", "initial_h" if state else "", "initial_c" if state else ""]
    names += ["P"] if peepholes else []
    while names[-1] == "":
        names.pop()
    direction = "bidirectional" if directions == 2 else "forward"
    node = helper.make_node("LSTM", names, ["Y", "Y_h", "Y_c"], name="lstm", hidden_size=hidden, direction=direction)
    graph_inputs = [helper.make_tensor_value_info(k, TensorProto.INT32 if k == "sequence_lens" else TensorProto.FLOAT, list(v.shape))
                    for k, v in values.items()]
    graph_outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [steps, directions, batch, hidden]),
                     helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [directions, batch, hidden]),
                     helper.make_tensor_value_info("Y_c", TensorProto.FLOAT, [directions, batch, hidden])]
    model = helper.make_model(helper.make_graph([node], name, graph_inputs, graph_outputs), opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, f"{out}/{name}.onnx")

    d = lambda k, shape: values[k].astype(np.float64) if k in values else np.zeros(shape)
    y, y_h, y_c = lstm(d("X", None), d("W", None), d("R", None), d("B", None), d("P", (directions, 3 * hidden)),
                       lengths if lengths is not None else [steps] * batch,
                       d("initial_h", (directions, batch, hidden)), d("initial_c", (directions, batch, hidden)), directions)
    expected = {"Y": y, "Y_h": y_h, "Y_c": y_c}
    if ort is not None:
        check_with_onnxruntime(name, values, expected)
    tensors = dict(values)
    tensors.update(expected)
    save(f"{out}/{name}.safetensors", tensors, {"steps": steps, "batch": batch, "hidden": hidden, "directions": directions,
                                                 "dynamic": False, "description": "ONNX conformance layout: weights as graph inputs"})
    print(name, "written")


def check_with_onnxruntime(name, values, expected):
    """Runs the saved model in onnxruntime-node and compares its float32 outputs with the float64 reference."""
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
    spec = {"model": os.path.abspath(f"{out}/{name}.onnx"),
            "inputs": {k: {"int": v.dtype == np.int32, "shape": list(v.shape), "data": v.ravel().tolist()} for k, v in values.items()}}
    result = json.loads(subprocess.run(["node", "-e", script, ort], input=json.dumps(spec), capture_output=True, text=True, check=True).stdout)
    for k, v in expected.items():
        worst = np.abs(np.array(result[k]) - v.ravel()).max()
        assert worst < 1e-5, f"{name} {k}: onnxruntime differs by {worst}"
        print(f"  {k}: onnxruntime agrees within {worst:.1e}")


case("conformance_forward_weights_as_inputs", steps=4, batch=2, inputs=3, hidden=5, directions=1, peepholes=False, lengths=None, state=False)
case("conformance_bidirectional_peepholes_lengths_state", steps=5, batch=3, inputs=2, hidden=4, directions=2, peepholes=True,
     lengths=[5, 2, 3], state=True)
