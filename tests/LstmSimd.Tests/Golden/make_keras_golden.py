"""Writes golden Keras model files and their expected outputs, without TensorFlow or Keras.

Each model file is laid out exactly as Keras saves it:
- Keras 3 `.keras` (keras/src/saving/saving_lib.py): a zip of metadata.json ({"keras_version", "date_saved"}),
  config.json (serialize_keras_object of the model: module / class_name / config / registered_name / build_config)
  and model.weights.h5 (H5IOStore: one `vars` group per saveable, variables named "0", "1", ... in creation order;
  layers under `layers/<snake_case class name>[_n]`, an LSTM's weights under its `cell`, a Bidirectional's under
  `forward_layer` / `backward_layer`).
- legacy `.h5` (legacy_h5_format.py, Keras 2 and Keras 3's model.save("m.h5")): root attributes keras_version,
  backend and model_config (JSON), group model_weights with attribute layer_names and one group per layer whose
  attribute weight_names lists its datasets in order (Keras 2: "lstm/lstm_cell/kernel:0", Keras 3 "lstm/lstm_cell/kernel").

Expected outputs are computed here in numpy float64 from the Keras equations (gate order i, f, c, o; kernel [I, 4H];
one bias; c = f*c + i*act(z_c); h = o*act(c)), with hard_sigmoid as the file's Keras version defines it. GRU layers
(reset_after=True: kernel [I, 3H] and recurrent_kernel [H, 3H] in gate order z, r, h, bias [2, 3H] of input and recurrent
biases; h = z*h + (1-z)*tanh(x_h + r*(h@R_h + b_rh))) are computed the same way and checked against PyTorch's nn.GRU (the
same cell) given the same weights, within 1e-12; TensorFlow.js refuses reset_after=True, so it does not check them.
The LSTM outputs follow hard_sigmoid as the file's Keras version defines it:
Keras 2 clip(0.2x + 0.5, 0, 1), Keras 3 clip(x/6 + 0.5, 0, 1). Where TensorFlow.js can express the model (everything
but Keras 3's hard_sigmoid) the same weights are also run by @tensorflow/tfjs's layers API (keras_tfjs_reference.js,
pure-JS CPU backend) and must agree within 1e-5; set TFJS_NODE_MODULES to the node_modules folder holding
@tensorflow/tfjs (npm install @tensorflow/tfjs@4.22.0), or leave it unset to skip that check.

For each case NAME: keras/NAME.keras or keras/NAME.h5, and keras/NAME.expected.safetensors holding `input` (float32;
token ids as float32 for Embedding models) and each model output under its name (float64), with __metadata__.config
giving the output names in order. Refusal fixtures (keras/refuse_*.{keras,h5}) have no expected file; the reason
they must be refused is in the summary printed at the end (and in KerasRefusalTests).
Deterministic (seeded, fixed zip timestamps).
usage: /usr/bin/python3 tests/LstmSimd.Tests/Golden/make_keras_golden.py [OUT_DIR]   (default: keras next to this script)"""
import copy, io, json, os, subprocess, sys, tempfile, zipfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "keras")
B, T = 2, 5
rng = np.random.default_rng(20261206)
summary = []

# ----------------------------------------------------------------- float64 reference from Keras's equations


def activation(name, keras_major):
    if name == "sigmoid":
        return lambda x: 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh
    if name == "relu":
        return lambda x: np.maximum(x, 0.0)
    if name == "linear":
        return lambda x: x
    if name == "softmax":
        def softmax(x):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        return softmax
    if name == "hard_sigmoid":
        if keras_major >= 3:
            return lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0)
        return lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0)
    raise ValueError(name)


def lstm_forward(x, kernel, recurrent, bias, act, rec_act, go_backwards):
    """x [B, T, I] → outputs [B, T, H] in processing order, final h and c [B, H]."""
    b, t, _ = x.shape
    hidden = recurrent.shape[0]
    h = np.zeros((b, hidden))
    c = np.zeros((b, hidden))
    steps = range(t - 1, -1, -1) if go_backwards else range(t)
    outputs = []
    for s in steps:
        z = x[:, s, :] @ kernel + h @ recurrent + (bias if bias is not None else 0.0)
        zi, zf, zc, zo = np.split(z, 4, axis=1)
        i, f, o = rec_act(zi), rec_act(zf), rec_act(zo)
        c = f * c + i * act(zc)
        h = o * act(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def gru_forward(x, kernel, recurrent, bias, go_backwards, rec_act=lambda v: 1.0 / (1.0 + np.exp(-v))):
    """Keras GRU with reset_after=True, x [B, T, I] → outputs [B, T, H] in processing order and the final h [B, H]."""
    b, t, _ = x.shape
    hidden = recurrent.shape[0]
    input_bias, recurrent_bias = (bias[0], bias[1]) if bias is not None else (0.0, 0.0)
    h = np.zeros((b, hidden))
    steps = range(t - 1, -1, -1) if go_backwards else range(t)
    outputs = []
    for s in steps:
        xz, xr, xh = np.split(x[:, s, :] @ kernel + input_bias, 3, axis=1)
        hz, hr, hh = np.split(h @ recurrent + recurrent_bias, 3, axis=1)
        z, r = rec_act(xz + hz), rec_act(xr + hr)
        h = z * h + (1 - z) * np.tanh(xh + r * hh)
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def torch_gru(x, kernel, recurrent, bias, go_backwards):
    """The same layer through PyTorch's nn.GRU in float64 (gate blocks z, r, h reordered to r, z, n, matrices transposed)."""
    import torch
    hidden = recurrent.shape[0]
    order = np.concatenate([np.arange(hidden, 2 * hidden), np.arange(0, hidden), np.arange(2 * hidden, 3 * hidden)])
    gru = torch.nn.GRU(kernel.shape[0], hidden, batch_first=True, bias=bias is not None).double()
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(kernel.T[order].copy()))
        gru.weight_hh_l0.copy_(torch.from_numpy(recurrent.T[order].copy()))
        if bias is not None:
            gru.bias_ih_l0.copy_(torch.from_numpy(bias[0][order].copy()))
            gru.bias_hh_l0.copy_(torch.from_numpy(bias[1][order].copy()))
        seq, h = gru(torch.from_numpy(x[:, ::-1, :].copy() if go_backwards else x))
    return seq.numpy(), h[0].numpy()


def run_gru(cfg, weights, x, major):
    """A GRU layer from Keras's equations; with sigmoid gates also through PyTorch's nn.GRU (PyTorch has no hard_sigmoid GRU)."""
    bias = weights[2].astype(np.float64) if cfg["use_bias"] else None
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    seq, h = gru_forward(x, kernel, recurrent, bias, cfg["go_backwards"], activation(cfg["recurrent_activation"], major))
    if cfg["recurrent_activation"] == "sigmoid":
        torch_seq, torch_h = torch_gru(x, kernel, recurrent, bias, cfg["go_backwards"])
        worst = max(np.abs(seq - torch_seq).max(), np.abs(h - torch_h).max())
        if not worst <= 1e-12:
            raise SystemExit(f"PyTorch's nn.GRU disagrees with the Keras GRU equations by {worst}")
    out = seq if cfg["return_sequences"] else h
    return [out, h] if cfg["return_state"] else [out]


def run_lstm(cfg, weights, x, major):
    act, rec = activation(cfg["activation"], major), activation(cfg["recurrent_activation"], major)
    bias = weights[2].astype(np.float64) if cfg["use_bias"] else None
    seq, h, c = lstm_forward(x, weights[0].astype(np.float64), weights[1].astype(np.float64), bias, act, rec, cfg["go_backwards"])
    out = seq if cfg["return_sequences"] else h
    return [out, h, c] if cfg["return_state"] else [out]


def run_layer(layer, weights, x, major):
    kind, cfg = layer["class_name"], layer["config"]
    if kind == "LSTM":
        return run_lstm(cfg, weights, x, major)
    if kind == "GRU":
        return run_gru(cfg, weights, x, major)
    if kind == "Bidirectional":
        inner = cfg["layer"]["config"]
        n = len(weights) // 2
        back = dict(inner, go_backwards=not inner["go_backwards"])
        run = (lambda c, w, v: run_gru(c, w, v, major)) if cfg["layer"]["class_name"] == "GRU" else lambda c, w, v: run_lstm(c, w, v, major)
        fw = run(inner, weights[:n], x)
        bw = run(back, weights[n:], x)
        y, y_rev = fw[0], bw[0]
        if inner["return_sequences"]:
            y_rev = y_rev[:, ::-1, :]  # Keras aligns the backward sequence with the forward one
        mode = cfg["merge_mode"]
        merged = {"concat": lambda: np.concatenate([y, y_rev], axis=-1), "sum": lambda: y + y_rev,
                  "mul": lambda: y * y_rev, "ave": lambda: (y + y_rev) / 2}[mode]()
        return [merged] + fw[1:] + bw[1:] if inner["return_state"] else [merged]
    if kind == "Dense":
        y = x @ weights[0].astype(np.float64)
        if cfg["use_bias"]:
            y = y + weights[1].astype(np.float64)
        return [activation(cfg["activation"], major)(y)]
    if kind == "Embedding":
        return [weights[0].astype(np.float64)[x.astype(np.int64)]]
    if kind == "Dropout":
        return [x]
    raise ValueError(kind)

# ----------------------------------------------------------------- model descriptions


def lstm(name, units, **kw):
    cfg = {"name": name, "units": units, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
           "return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
           "unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0}
    cfg.update(kw)
    return {"class_name": "LSTM", "config": cfg}


def bidirectional(name, inner, merge_mode="concat"):
    return {"class_name": "Bidirectional", "config": {"name": name, "layer": inner, "merge_mode": merge_mode}}


def dense(name, units, activation_name="linear", use_bias=True):
    return {"class_name": "Dense", "config": {"name": name, "units": units, "activation": activation_name, "use_bias": use_bias}}


def embedding(name, input_dim, output_dim, mask_zero=False):
    return {"class_name": "Embedding", "config": {"name": name, "input_dim": input_dim, "output_dim": output_dim, "mask_zero": mask_zero}}


def dropout(name, rate=0.25):
    return {"class_name": "Dropout", "config": {"name": name, "rate": rate}}


def gru(name, units, **kw):
    cfg = {"name": name, "units": units, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
           "return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
           "reset_after": True, "dropout": 0.0, "recurrent_dropout": 0.0}
    cfg.update(kw)
    return {"class_name": "GRU", "config": cfg}


def gru_weights(inputs, units, use_bias, reset_after=True):
    k = rng.uniform(-0.5, 0.5, (inputs, 3 * units)).astype(np.float32)
    r = rng.uniform(-0.5, 0.5, (units, 3 * units)).astype(np.float32)
    bias_shape = (2, 3 * units) if reset_after else (3 * units,)  # reset_after=False: one bias
    return [k, r, rng.uniform(-0.3, 0.3, bias_shape).astype(np.float32)] if use_bias else [k, r]


def lstm_weights(inputs, units, use_bias, unit_forget_bias=True):
    k = rng.uniform(-0.6, 0.6, (inputs, 4 * units)).astype(np.float32)
    r = rng.uniform(-0.6, 0.6, (units, 4 * units)).astype(np.float32)
    if not use_bias:
        return [k, r]
    b = rng.uniform(-0.3, 0.3, 4 * units).astype(np.float32)
    return [k, r, b]


def make_weights(layer, inputs):
    """Random weights for a layer fed `inputs` features; returns (weights, output features)."""
    kind, cfg = layer["class_name"], layer["config"]
    if kind == "GRU":
        return gru_weights(inputs, cfg["units"], cfg["use_bias"], cfg["reset_after"]), cfg["units"]
    if kind == "LSTM":
        return lstm_weights(inputs, cfg["units"], cfg["use_bias"]), cfg["units"]
    if kind == "Bidirectional":
        inner = cfg["layer"]["config"]
        cell_weights = gru_weights if cfg["layer"]["class_name"] == "GRU" else lstm_weights
        w = cell_weights(inputs, inner["units"], inner["use_bias"]) + cell_weights(inputs, inner["units"], inner["use_bias"])
        return w, inner["units"] * (2 if cfg["merge_mode"] == "concat" else 1)
    if kind == "Dense":
        k = rng.uniform(-0.8, 0.8, (inputs, cfg["units"])).astype(np.float32)
        return ([k, rng.uniform(-0.3, 0.3, cfg["units"]).astype(np.float32)] if cfg["use_bias"] else [k]), cfg["units"]
    if kind == "Embedding":
        return [rng.uniform(-1, 1, (cfg["input_dim"], cfg["output_dim"])).astype(np.float32)], cfg["output_dim"]
    return [], inputs

# ----------------------------------------------------------------- Keras 3 serialization (.keras config.json)


def k3_dtype():
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def k3_layer(layer, input_shape):
    cfg = dict(layer["config"], trainable=True, dtype=k3_dtype())
    if layer["class_name"] == "Bidirectional":
        inner = dict(layer["config"]["layer"])
        cfg["layer"] = {"module": "keras.layers", "class_name": inner["class_name"],
                        "config": dict(inner["config"], trainable=True, dtype=k3_dtype()), "registered_name": None}
    out = {"module": "keras.layers", "class_name": layer["class_name"], "config": cfg, "registered_name": None}
    if input_shape is not None:
        out["build_config"] = {"input_shape": input_shape}
    return out


def k3_input_layer(name, batch_shape, dtype):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": batch_shape, "dtype": dtype, "sparse": False, "name": name}, "registered_name": None}


def snake(class_name):
    return {"LSTM": "lstm", "GRU": "gru", "Bidirectional": "bidirectional", "Dense": "dense", "Embedding": "embedding",
            "Dropout": "dropout", "InputLayer": "input_layer"}[class_name]


def k3_weights_h5(layers, weights, functional):
    """model.weights.h5 bytes as H5IOStore writes them (saving_lib._save_state walking model.layers)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        used = {}
        container = (["InputLayer"] if functional else []) + [l["class_name"] for l in layers]
        all_weights = ([[]] if functional else []) + weights
        for class_name, w in zip(container, all_weights):
            name = snake(class_name)
            if name in used:
                used[name] += 1
                name = f"{name}_{used[name]}"
            else:
                used[name] = 0
            path = "layers/" + name
            f.create_group(path + "/vars")
            if class_name in ("LSTM", "GRU"):
                cell = f.create_group(path + "/cell/vars")
                for i, a in enumerate(w):
                    cell[str(i)] = a
            elif class_name == "Bidirectional":
                n = len(w) // 2
                for side, part in (("backward_layer", w[n:]), ("forward_layer", w[:n])):
                    f.create_group(f"{path}/{side}/vars")
                    cell = f.create_group(f"{path}/{side}/cell/vars")
                    for i, a in enumerate(part):
                        cell[str(i)] = a
            elif class_name == "Dropout":
                f.create_group(path + "/seed_generator/vars")["0"] = np.array([1337, 0], dtype=np.uint32)
            else:
                g = f[path + "/vars"]
                for i, a in enumerate(w):
                    g[str(i)] = a
    return buffer.getvalue()


def write_keras3(path, model, weights, keras_version="3.6.0"):
    functional = model["kind"] == "Functional"
    config = k3_model_config(model)
    with zipfile.ZipFile(path, "w") as z:
        for entry, data in (("metadata.json", json.dumps({"keras_version": keras_version, "date_saved": "2026-12-06@12:00:00"})),
                            ("config.json", json.dumps(config)), ("model.weights.h5", k3_weights_h5(model["layers"], weights, functional))):
            z.writestr(zipfile.ZipInfo(entry, date_time=(2026, 12, 6, 12, 0, 0)), data)


def k3_model_config(model):
    shapes = model["shapes"]
    if model["kind"] == "Sequential":
        layers = [k3_input_layer("input_layer", model["batch_shape"], model["input_dtype"])]
        layers += [k3_layer(l, s) for l, s in zip(model["layers"], shapes)]
        return {"module": "keras", "class_name": "Sequential",
                "config": {"name": "sequential", "trainable": True, "dtype": k3_dtype(), "layers": layers},
                "registered_name": None, "build_config": {"input_shape": model["batch_shape"]}, "compile_config": None}
    layers = [dict(k3_input_layer("input_layer", model["batch_shape"], model["input_dtype"]), name="input_layer", inbound_nodes=[])]
    for l, s, (src, idx) in zip(model["layers"], shapes, model["inbound"]):
        entry = k3_layer(l, s)
        entry["name"] = l["config"]["name"]
        history = [src, 0, idx]
        entry["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": s, "dtype": "float32", "keras_history": history}}],
                                   "kwargs": {"training": False} if l["class_name"] == "Dropout" else {}}]
        layers.append(entry)
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "functional", "trainable": True, "layers": layers,
                       "input_layers": [["input_layer", 0, 0]],
                       "output_layers": [[n, 0, i] for n, i in model["outputs"]]},
            "registered_name": "Functional", "build_config": {"input_shape": None}, "compile_config": None}

# ----------------------------------------------------------------- legacy .h5 (Keras 2 layout, or Keras 3's legacy save)


def k2_layer(layer, batch_input_shape=None):
    cfg = dict(layer["config"], trainable=True, dtype="float32")
    if layer["class_name"] in ("LSTM", "GRU"):
        cfg.update(time_major=False, implementation=2)
    if layer["class_name"] == "Bidirectional":
        inner = layer["config"]["layer"]
        cfg["layer"] = {"class_name": inner["class_name"], "config": dict(inner["config"], trainable=True, dtype="float32", time_major=False, implementation=2)}
    if batch_input_shape is not None:
        cfg["batch_input_shape"] = batch_input_shape
    return {"class_name": layer["class_name"], "config": cfg}


def legacy_weight_names(layer, count, keras_major, counters):
    """Variable names as Keras saves them (Keras 2 with ':0', Keras 3 paths without)."""
    kind, name = layer["class_name"], layer["config"]["name"]
    suffix = ":0" if keras_major < 3 else ""

    def cell_name(cell="lstm_cell"):
        n = counters.get(cell, 0)
        counters[cell] = n + 1
        return cell if n == 0 or keras_major >= 3 else f"{cell}_{n}"

    if kind in ("LSTM", "GRU"):
        c = cell_name(kind.lower() + "_cell")
        return [f"{name}/{c}/{v}{suffix}" for v in ["kernel", "recurrent_kernel", "bias"][:count]]
    if kind == "Bidirectional":
        inner = layer["config"]["layer"]["config"]["name"]
        half = count // 2
        names = []
        for side in ("forward", "backward"):
            c = cell_name(layer["config"]["layer"]["class_name"].lower() + "_cell")
            names += [f"{name}/{side}_{inner}/{c}/{v}{suffix}" for v in ["kernel", "recurrent_kernel", "bias"][:half]]
        return names
    if kind == "Dense":
        return [f"{name}/{v}{suffix}" for v in ["kernel", "bias"][:count]]
    if kind == "Embedding":
        return [f"{name}/embeddings{suffix}"]
    return []


def write_legacy_h5(path, model, weights, keras_version):
    major = int(keras_version.split(".")[0])
    if major >= 3:
        config = k3_model_config(model)
    elif model["kind"] == "Sequential":
        first = [{"class_name": "InputLayer", "config": {"batch_input_shape": model["batch_shape"], "dtype": model["input_dtype"],
                                                          "sparse": False, "ragged": False, "name": model["layers"][0]["config"]["name"] + "_input"}}]
        config = {"class_name": "Sequential", "config": {"name": "sequential",
                                                         "layers": first + [k2_layer(l, model["batch_shape"] if i == 0 else None) for i, l in enumerate(model["layers"])]}}
    else:
        layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": model["batch_shape"], "dtype": model["input_dtype"], "sparse": False,
                                                          "ragged": False, "name": "input_1"}, "name": "input_1", "inbound_nodes": []}]
        for l, (src, idx) in zip(model["layers"], model["inbound"]):
            entry = k2_layer(l)
            entry["name"] = l["config"]["name"]
            entry["inbound_nodes"] = [[["input_1" if src == "input_layer" else src, 0, idx, {}]]]
            layers.append(entry)
        config = {"class_name": "Functional", "config": {"name": "model", "layers": layers, "input_layers": [["input_1", 0, 0]],
                                                         "output_layers": [[n, 0, i] for n, i in model["outputs"]]}}
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = keras_version.encode()
        f.attrs["model_config"] = json.dumps(config).encode()
        mw = f.create_group("model_weights")
        names = ([] if model["kind"] == "Sequential" else ["input_1" if major < 3 else "input_layer"]) + [l["config"]["name"] for l in model["layers"]]
        all_weights = ([] if model["kind"] == "Sequential" else [[]]) + weights
        all_layers = ([] if model["kind"] == "Sequential" else [{"class_name": "InputLayer", "config": {"name": names[0]}}]) + model["layers"]
        mw.attrs["layer_names"] = np.asarray([n.encode() for n in names])
        mw.attrs["backend"] = b"tensorflow"
        mw.attrs["keras_version"] = keras_version.encode()
        counters = {}
        weight_names = [legacy_weight_names(l, len(w), major, counters) for l, w in zip(all_layers, all_weights)]
        for name, layer, w, wn in sorted(zip(names, all_layers, all_weights, weight_names), key=lambda e: e[0]):
            g = mw.create_group(name)
            g.attrs["weight_names"] = np.asarray([n.encode() for n in wn])  # empty: float64, as np.asarray([]) saves it
            for n, a in zip(wn, w):
                g.create_dataset(n, data=a)

# ----------------------------------------------------------------- cases


def build(model):
    """Fills weights and per-layer input shapes; returns weights list."""
    features = model["batch_shape"][-1] if model["input_dtype"] == "float32" else None
    produced = {"input_layer": [features]}
    weights, shapes = [], []
    inbound = model.get("inbound") or [(prev["config"]["name"] if i else "input_layer", 0)
                                       for i, prev in enumerate([None] + model["layers"][:-1])]
    model["inbound"] = inbound
    for layer, (src, idx) in zip(model["layers"], inbound):
        fin = produced[src][idx]
        w, fout = make_weights(layer, fin)
        weights.append(w)
        shapes.append([None, T] + ([fin] if fin is not None else []))
        n_out = 1
        cfg = layer["config"].get("layer", layer)["config"] if layer["class_name"] == "Bidirectional" else layer["config"]
        if cfg.get("return_state"):
            states = 1 if "GRU" in (layer["class_name"], layer["config"].get("layer", {}).get("class_name")) else 2
            n_out = 1 + states * (2 if layer["class_name"] == "Bidirectional" else 1)
        produced[layer["config"]["name"]] = [fout] + [None] * (n_out - 1)
    model["shapes"] = shapes
    if "outputs" not in model:
        last = model["layers"][-1]
        model["outputs"] = [(last["config"]["name"], 0)]
    return weights


def forward(model, weights, x, major):
    tensors = {"input_layer": [x]}
    for layer, w, (src, idx) in zip(model["layers"], weights, model["inbound"]):
        tensors[layer["config"]["name"]] = run_layer(layer, w, tensors[src][idx], major)
    return [tensors[n][i] for n, i in model["outputs"]]


def output_names(model):
    names = []
    for n, i in model["outputs"]:
        names.append(n if i == 0 else f"{n}:{i}")
    return names


def make_input(model):
    if model["input_dtype"] == "float32":
        return rng.uniform(-1.5, 1.5, (B, T, model["batch_shape"][-1])).astype(np.float32)
    vocab = model["layers"][0]["config"]["input_dim"]
    return rng.integers(0, vocab, (B, T)).astype(np.float32)


def case(name, model, fmt, keras_version, tfjs=True):
    weights = build(model)
    major = int(keras_version.split(".")[0])
    ext = ".keras" if fmt == "keras" else ".h5"
    path = os.path.join(OUT, name + ext)
    (write_keras3 if fmt == "keras" else lambda p, m, w, v: write_legacy_h5(p, m, w, v))(path, model, weights, keras_version)
    x = make_input(model)
    outputs = forward(model, weights, x.astype(np.float64), major)
    arrays = {"input": x}
    for n, y in zip(output_names(model), outputs):
        arrays[n] = np.ascontiguousarray(y, dtype=np.float64)
    golden_safetensors.save(os.path.join(OUT, name + ".expected.safetensors"), arrays,
                            {"outputs": output_names(model), "keras_version": keras_version, "format": fmt})
    check = tfjs_check(model, weights, x, outputs) if tfjs is True else f"not expressible in TF.js ({tfjs or 'Keras 3 hard_sigmoid'})"
    summary.append(f"{name}{ext}: Keras {keras_version}, outputs {', '.join(f'{n} {list(y.shape)}' for n, y in zip(output_names(model), outputs))}; TF.js: {check}")


TFJS_PENDING = []
GRU_NOT_IN_TFJS = "its GRU refuses reset_after=True; checked against PyTorch's nn.GRU instead"


def tfjs_check(model, weights, x, outputs):
    if not os.environ.get("TFJS_NODE_MODULES"):
        return "skipped (TFJS_NODE_MODULES unset)"
    spec = {"batch_shape": model["batch_shape"], "input_dtype": model["input_dtype"], "layers": model["layers"],
            "inbound": model["inbound"], "outputs": model["outputs"], "weights": [[a.tolist() for a in w] for w in weights],
            "input": x.tolist()}
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        env = dict(os.environ, NODE_PATH=os.environ["TFJS_NODE_MODULES"])
        subprocess.run(["node", os.path.join(HERE, "keras_tfjs_reference.js"), spec_path, out_path], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out_path) as f:
            got = json.load(f)
    worst = max(float(np.max(np.abs(np.asarray(g, dtype=np.float64) - y))) for g, y in zip(got, outputs))
    if not worst <= 1e-5:
        raise SystemExit(f"TF.js disagrees with the float64 reference by {worst}")
    return f"agrees, max |diff| {worst:.1e}"


def refusal(name, model, fmt, keras_version, reason, tweak=None):
    weights = build(model)
    if tweak:
        tweak(model)
    path = os.path.join(OUT, name + (".keras" if fmt == "keras" else ".h5"))
    if fmt == "keras":
        write_keras3(path, model, weights, keras_version)
    else:
        write_legacy_h5(path, model, weights, keras_version)
    summary.append(f"{os.path.basename(path)}: refused ({reason})")


def main():
    os.makedirs(OUT, exist_ok=True)
    # Keras 3 .keras: stacked LSTMs, the last returning its final step, softmax head.
    case("k3_stacked_softmax", {"kind": "Sequential", "batch_shape": [None, T, 3], "input_dtype": "float32",
                                "layers": [lstm("lstm", 4, return_sequences=True), lstm("lstm_1", 3), dense("dense", 2, "softmax")]},
         "keras", "3.6.0")
    # Keras 3 .keras: Bidirectional with Keras 3's hard_sigmoid (x/6 + 1/2), merge sum, dropout, Dense per time step.
    case("k3_bidirectional_sum_hard_sigmoid", {"kind": "Sequential", "batch_shape": [None, T, 3], "input_dtype": "float32",
                                               "layers": [bidirectional("bidirectional", lstm("lstm", 4, recurrent_activation="hard_sigmoid", return_sequences=True), "sum"),
                                                          dropout("dropout"), dense("dense", 3, "tanh")]},
         "keras", "3.6.0", tfjs=False)
    # Keras 3 .keras functional: Embedding, go_backwards LSTM without bias returning sequences and state, Dense on the sequence.
    case("k3_functional_embedding_state", {"kind": "Functional", "batch_shape": [None, T], "input_dtype": "int32",
                                           "layers": [embedding("embedding", 11, 4),
                                                      lstm("lstm", 5, return_sequences=True, return_state=True, go_backwards=True, use_bias=False),
                                                      dense("dense", 2, "sigmoid")],
                                           "inbound": [("input_layer", 0), ("embedding", 0), ("lstm", 0)],
                                           "outputs": [("dense", 0), ("lstm", 1), ("lstm", 2)]},
         "keras", "3.6.0")
    # Keras 2 legacy .h5: hard_sigmoid (0.2x + 1/2) and relu, then Bidirectional concat returning the last step, Dense.
    case("k2_hard_sigmoid_bidirectional", {"kind": "Sequential", "batch_shape": [None, T, 3], "input_dtype": "float32",
                                           "layers": [lstm("lstm", 4, recurrent_activation="hard_sigmoid", activation="relu", return_sequences=True),
                                                      bidirectional("bidirectional", lstm("lstm_1", 3), "concat"), dense("dense", 1)]},
         "h5", "2.15.0")
    # Keras 2 legacy .h5 functional: Bidirectional ave returning sequences and states, sigmoid Dense; outputs include states.
    case("k2_functional_bidirectional_ave_state", {"kind": "Functional", "batch_shape": [None, T, 2], "input_dtype": "float32",
                                                   "layers": [bidirectional("bidirectional", lstm("lstm", 3, return_sequences=True, return_state=True), "ave"),
                                                              dense("dense", 2, "sigmoid")],
                                                   "inbound": [("input_layer", 0), ("bidirectional", 0)],
                                                   "outputs": [("dense", 0), ("bidirectional", 1), ("bidirectional", 4)]},
         "h5", "2.15.0")
    # Keras 2 legacy .h5: Bidirectional mul over the last step.
    case("k2_bidirectional_mul", {"kind": "Sequential", "batch_shape": [None, T, 3], "input_dtype": "float32",
                                  "layers": [bidirectional("bidirectional", lstm("lstm", 3, recurrent_activation="tanh"), "mul")]},
         "h5", "2.15.0")
    # Keras 3's legacy .h5 (model.save("m.h5")): Keras 3 config and weight paths, Keras 3 hard_sigmoid, go_backwards.
    case("k3_legacy_h5_go_backwards", {"kind": "Sequential", "batch_shape": [None, T, 3], "input_dtype": "float32",
                                       "layers": [lstm("lstm", 3, recurrent_activation="hard_sigmoid", go_backwards=True, return_sequences=True),
                                                  dense("dense", 2, "relu")]},
         "h5", "3.6.0", tfjs=False)

    # GRUs (reset_after=True), checked against PyTorch's nn.GRU; TF.js refuses reset_after=True.
    # Keras 3 .keras: stacked GRUs (the first without bias, returning sequences), softmax head.
    case("k3_gru_stacked_softmax", {"kind": "Sequential", "batch_shape": [None, T, 3], "input_dtype": "float32",
                                    "layers": [gru("gru", 4, return_sequences=True, use_bias=False), gru("gru_1", 5), dense("dense", 2, "softmax")]},
         "keras", "3.6.0", tfjs=GRU_NOT_IN_TFJS)
    # Keras 3 .keras functional: go_backwards GRU returning sequences and its state, Bidirectional(GRU) sum over the sequence.
    case("k3_gru_functional_backwards_state", {"kind": "Functional", "batch_shape": [None, T, 2], "input_dtype": "float32",
                                               "layers": [gru("gru", 3, return_sequences=True, return_state=True, go_backwards=True),
                                                          bidirectional("bidirectional", gru("gru_1", 4, return_sequences=True), "sum")],
                                               "inbound": [("input_layer", 0), ("gru", 0)],
                                               "outputs": [("bidirectional", 0), ("gru", 1)]},
         "keras", "3.6.0", tfjs=GRU_NOT_IN_TFJS)
    # Keras 2 legacy .h5: Bidirectional(GRU) concat returning the last step and both states, then Dense.
    case("k2_gru_bidirectional_state", {"kind": "Functional", "batch_shape": [None, T, 3], "input_dtype": "float32",
                                        "layers": [bidirectional("bidirectional", gru("gru", 4, return_state=True), "concat"), dense("dense", 2, "tanh")],
                                        "inbound": [("input_layer", 0), ("bidirectional", 0)],
                                        "outputs": [("dense", 0), ("bidirectional", 1), ("bidirectional", 2)]},
         "h5", "2.15.0", tfjs=GRU_NOT_IN_TFJS)
    # Keras 2 legacy .h5: Embedding, GRU over the tokens, Bidirectional(GRU) ave.
    case("k2_gru_embedding_bidirectional_ave", {"kind": "Sequential", "batch_shape": [None, T], "input_dtype": "int32",
                                                "layers": [embedding("embedding", 9, 3), gru("gru", 4, return_sequences=True),
                                                           bidirectional("bidirectional", gru("gru_1", 3), "ave")]},
         "h5", "2.15.0", tfjs=GRU_NOT_IN_TFJS)

    base = lambda **kw: {"kind": "Sequential", "batch_shape": [None, T, 3], "input_dtype": "float32", **kw}
    refusal("refuse_stateful", base(layers=[lstm("lstm", 3, stateful=True)]), "h5", "2.15.0", "lstm: stateful")
    refusal("refuse_gru_reset_before", base(layers=[gru("gru", 3, reset_after=False)]), "keras", "3.6.0", "gru: reset_after=False")
    refusal("refuse_mask_zero", {"kind": "Sequential", "batch_shape": [None, T], "input_dtype": "int32",
                                 "layers": [embedding("embedding", 7, 3, mask_zero=True), lstm("lstm", 3)]}, "keras", "3.6.0", "embedding: mask_zero")
    refusal("refuse_merge_none", base(layers=[bidirectional("bidirectional", lstm("lstm", 3), "concat")]), "h5", "2.15.0",
            "bidirectional: merge_mode None",
            tweak=lambda m: m["layers"][0]["config"].update(merge_mode=None))
    refusal("refuse_linear_activation", base(layers=[lstm("lstm", 3, activation="linear")]), "keras", "3.6.0", "lstm: activation linear")
    refusal("refuse_keras2_zip", base(layers=[lstm("lstm", 3)]), "keras", "2.15.0", ".keras written by Keras 2")
    # GRUs with hard_sigmoid gates (the saving Keras's definition), from Keras's equations only: PyTorch's GRU runs sigmoid
    # gates, and TF.js refuses reset_after=True. Last, so that the seeded weights of the cases above stay as they were.
    hard = "hard_sigmoid GRU gates: from Keras's equations only"
    case("k2_gru_hard_sigmoid", base(layers=[gru("gru", 4, recurrent_activation="hard_sigmoid", return_sequences=True), dense("dense", 2)]),
         "h5", "2.15.0", tfjs=hard)
    case("k3_gru_hard_sigmoid_bidirectional", base(layers=[bidirectional("bidirectional", gru("gru", 3, recurrent_activation="hard_sigmoid", return_sequences=True), "concat")]),
         "keras", "3.6.0", tfjs=hard)
    print("\n".join(summary))


if __name__ == "__main__":
    main()
