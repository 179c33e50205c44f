"""Writes whole text classifiers (embedding -> LSTM -> pooling -> linear head) as PyTorch, ONNX and Keras save them, with
the framework's own outputs, for LstmSimd.Text's ImportedClassifier (/usr/bin/python3: Debian's python3-torch 1.13, onnx,
h5py, numpy; Keras itself is not needed).

Every case has NAME.expected.safetensors holding the texts as token ids ("ids", int64, the texts one after another),
their "lengths" (int64) and the expected "logits" [texts, classes] and "probabilities" (softmax of the logits), float64.
- PyTorch: an nn.Module of nn.Embedding (with padding_idx), nn.LSTM and nn.Linear ("head"), saved as torch.save's
  state_dict (NAME.pt) and as safetensors (NAME.safetensors, the same names). Each text is run alone, unpadded, in
  float64 from the float32 weights; a text may hold the padding id, which nn.Embedding reads as its (zero) row.
- ONNX: the same kind of module exported by torch.onnx.export (opset 13, the steps axis dynamic, batch 1) to NAME.onnx;
  expected outputs are PyTorch's float64 forward of each text.
- Keras: Embedding(mask_zero=True) -> Bidirectional(LSTM) (concat, the last step) -> Dense(softmax), or a Dense(1,
  sigmoid) binary head, written as Keras 3 .keras and Keras 2 .h5 by make_keras_golden.py's writers. The expected
  outputs are Keras's equations in numpy float64 with Keras's masking: a step whose token id is 0 leaves both directions'
  states as they were. For the sigmoid head "probabilities" is [1 - p, p] and "logits" [0, z].

usage: /usr/bin/python3 make_classifier_import_golden.py [OUT_DIR]   (default: this script's folder)"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
OUT = sys.argv[1] if len(sys.argv) > 1 else HERE
sys.argv = sys.argv[:1]  # make_keras_golden reads its own output folder from the command line
import golden_safetensors  # noqa: E402
import make_keras_golden as keras_golden  # noqa: E402


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def save_expected(name, texts, logits, probabilities, config):
    golden_safetensors.save(os.path.join(OUT, name + ".expected.safetensors"),
                            {"ids": np.concatenate([np.asarray(t, dtype=np.int64) for t in texts]),
                             "lengths": np.array([len(t) for t in texts], dtype=np.int64),
                             "logits": np.asarray(logits, dtype=np.float64),
                             "probabilities": np.asarray(probabilities, dtype=np.float64)}, config)


class Classifier(torch.nn.Module):
    def __init__(self, vocabulary, dimension, hidden, layers, bidirectional, classes, pooling, padding_idx):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, dimension, padding_idx=padding_idx)
        self.lstm = torch.nn.LSTM(dimension, hidden, num_layers=layers, bidirectional=bidirectional)
        self.head = torch.nn.Linear(hidden * (2 if bidirectional else 1), classes)
        self.pooling, self.hidden, self.bidirectional = pooling, hidden, bidirectional

    def forward(self, ids):  # ids [T, 1]
        out, _ = self.lstm(self.embedding(ids))
        out = out[:, 0]
        if self.pooling == "last":
            row = torch.cat([out[-1, :self.hidden], out[0, self.hidden:]]) if self.bidirectional else out[-1]
        elif self.pooling == "mean":
            row = out.mean(dim=0)
        else:
            row = out.max(dim=0).values
        return self.head(row.unsqueeze(0))


def texts_for(vocabulary, padding_idx, generator):
    lengths = [1, 4, 9, 6, 13]
    texts = [torch.randint(0, vocabulary, (n,), generator=generator).tolist() for n in lengths]
    texts[2][3] = padding_idx  # the padding id inside a text reads as the zero row
    return texts


def pytorch_case(name, seed, vocabulary, dimension, hidden, layers, bidirectional, classes, pooling, padding_idx, formats):
    torch.manual_seed(seed)
    model = Classifier(vocabulary, dimension, hidden, layers, bidirectional, classes, pooling, padding_idx).eval()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if "pt" in formats:
        torch.save(state, os.path.join(OUT, name + ".pt"))
    if "safetensors" in formats:
        golden_safetensors.save(os.path.join(OUT, name + ".safetensors"), {k: v.numpy().astype(np.float32) for k, v in state.items()},
                                {"padding_idx": padding_idx, "pooling": pooling})
    texts = texts_for(vocabulary, padding_idx, torch.Generator().manual_seed(seed))
    if "onnx" in formats:
        torch.onnx.export(model, (torch.tensor(texts[1]).unsqueeze(1),), os.path.join(OUT, name + ".onnx"), input_names=["tokens"],
                          output_names=["logits"], opset_version=13, dynamic_axes={"tokens": {0: "T"}})
    model = model.double()
    with torch.no_grad():
        logits = np.stack([model(torch.tensor(t).unsqueeze(1))[0].numpy() for t in texts])
    save_expected(name, texts, logits, softmax(logits), {"framework": "pytorch", "padding_idx": padding_idx, "pooling": pooling,
                                                         "formats": formats})
    print(f"{name}: {formats}, V={vocabulary} E={dimension} H={hidden} L={layers} bidirectional={bidirectional} {pooling}")


def keras_lstm_masked(x, mask, kernel, recurrent, bias, backwards):
    """Keras's LSTM (gates i, f, c, o; sigmoid, tanh) over x [T, I] reading the steps where mask is true; returns the last h."""
    units = recurrent.shape[0]
    h, c = np.zeros(units), np.zeros(units)
    steps = range(len(x) - 1, -1, -1) if backwards else range(len(x))
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))
    for t in steps:
        z = x[t] @ kernel + h @ recurrent + bias
        i, f, g, o = sigmoid(z[:units]), sigmoid(z[units:2 * units]), np.tanh(z[2 * units:3 * units]), sigmoid(z[3 * units:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        if mask[t]:
            h, c = h_new, c_new
    return h


def keras_case(name, fmt, keras_version, vocabulary, dimension, units, classes):
    head = keras_golden.dense("dense", classes, "softmax") if classes > 1 else keras_golden.dense("dense", 1, "sigmoid")
    model = {"kind": "Sequential", "batch_shape": [None, keras_golden.T], "input_dtype": "int32",
             "layers": [keras_golden.embedding("embedding", vocabulary, dimension, mask_zero=True),
                        keras_golden.bidirectional("bidirectional", keras_golden.lstm("lstm", units)), head]}
    weights = keras_golden.build(model)
    path = os.path.join(OUT, name + (".keras" if fmt == "keras" else ".h5"))
    if fmt == "keras":
        keras_golden.write_keras3(path, model, weights, keras_version)
    else:
        keras_golden.write_legacy_h5(path, model, weights, keras_version)
    table = weights[0][0].astype(np.float64)
    forward, backward = [[a.astype(np.float64) for a in w] for w in (weights[1][:3], weights[1][3:])]
    kernel, bias = (a.astype(np.float64) for a in weights[2])
    rng = np.random.default_rng(7)
    texts = [rng.integers(1, vocabulary, n).tolist() for n in (1, 3, 5, 8, 2)]
    texts[3][4] = 0  # a masked step inside a text: Keras skips it
    logits = []
    for text in texts:
        x, mask = table[np.array(text)], np.array(text) != 0
        merged = np.concatenate([keras_lstm_masked(x, mask, *forward, False), keras_lstm_masked(x, mask, *backward, True)])
        z = merged @ kernel + bias
        logits.append(z if classes > 1 else np.array([0.0, z[0]]))
    logits = np.stack(logits)
    save_expected(name, texts, logits, softmax(logits), {"framework": "keras", "format": fmt, "keras_version": keras_version})
    print(f"{name}: Keras {keras_version} {fmt}, mask_zero, V={vocabulary} E={dimension} units={units} classes={classes}")


def main():
    os.makedirs(OUT, exist_ok=True)
    pytorch_case("torch_bidirectional_max", 11, vocabulary=17, dimension=5, hidden=6, layers=1, bidirectional=True, classes=3,
                 pooling="max", padding_idx=0, formats=["pt", "safetensors"])
    pytorch_case("torch_two_layer_last_padding3", 12, vocabulary=23, dimension=4, hidden=5, layers=2, bidirectional=False, classes=2,
                 pooling="last", padding_idx=3, formats=["pt"])
    pytorch_case("torch_mean", 13, vocabulary=11, dimension=3, hidden=4, layers=1, bidirectional=True, classes=4,
                 pooling="mean", padding_idx=0, formats=["safetensors"])
    pytorch_case("onnx_bidirectional_last", 14, vocabulary=19, dimension=5, hidden=6, layers=1, bidirectional=True, classes=3,
                 pooling="last", padding_idx=0, formats=["onnx"])
    pytorch_case("onnx_max", 15, vocabulary=13, dimension=4, hidden=5, layers=1, bidirectional=False, classes=2,
                 pooling="max", padding_idx=0, formats=["onnx"])
    keras_case("keras3_mask_zero_softmax", "keras", "3.6.0", vocabulary=15, dimension=4, units=5, classes=3)
    keras_case("keras2_mask_zero_sigmoid", "h5", "2.15.0", vocabulary=12, dimension=3, units=4, classes=1)


if __name__ == "__main__":
    main()
