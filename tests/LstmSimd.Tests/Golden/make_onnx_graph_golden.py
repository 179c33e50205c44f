"""Whole PyTorch modules around nn.LSTM exported to ONNX by torch.onnx.export (opsets 11-17), as users export them:
dynamic axes, batch_first, several layers, bidirectional, dropout, learned or given initial states, an embedding in
front, linear heads, softmax. Each case is onnx-graph/NAME.onnx + NAME.safetensors; the .safetensors holds every graph
input under its ONNX name (float32, or int64 token ids) and PyTorch's float64 result for every graph output under the
output's ONNX name, plus __metadata__.config (JSON: opset, steps, batch, dynamic, description).
Run with Debian's python3-torch (1.13): /usr/bin/python3 make_onnx_graph_golden.py [out_dir]."""
import sys

import torch
from torch import nn

from golden_safetensors import save

out = sys.argv[1] if len(sys.argv) > 1 else "onnx-graph"
T, B, I, H = 5, 3, 4, 6


class Lstm(nn.Module):
    """nn.LSTM returning (output, h_n, c_n)."""

    def __init__(self, **kw):
        super().__init__()
        self.lstm = nn.LSTM(I, H, **kw)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return y, h, c


class LearnedState(nn.Module):
    """Initial state as parameters [L, 1, H], expanded to the batch."""

    def __init__(self, layers):
        super().__init__()
        self.lstm = nn.LSTM(I, H, num_layers=layers)
        self.h0 = nn.Parameter(torch.randn(layers, 1, H))
        self.c0 = nn.Parameter(torch.randn(layers, 1, H))

    def forward(self, x):
        b = x.shape[1]
        y, (h, c) = self.lstm(x, (self.h0.expand(-1, b, -1).contiguous(), self.c0.expand(-1, b, -1).contiguous()))
        return y, h, c


class GivenState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(I, H, num_layers=2)

    def forward(self, x, h0, c0):
        y, (h, c) = self.lstm(x, (h0, c0))
        return y, h, c


class Tagger(nn.Module):
    """Embedding -> LSTM -> Linear on every step (token ids [T, B])."""

    def __init__(self, vocabulary=11):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, I)
        self.lstm = nn.LSTM(I, H)
        self.head = nn.Linear(H, 3)

    def forward(self, tokens):
        y, _ = self.lstm(self.embedding(tokens))
        return self.head(y)


class EveryStep(nn.Module):
    def __init__(self, batch_first=False):
        super().__init__()
        self.lstm = nn.LSTM(I, H, batch_first=batch_first)
        self.head = nn.Linear(H, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(y)


class LastStep(nn.Module):
    """Classifier on the last step: Linear -> ReLU -> Linear -> softmax (or log-softmax)."""

    def __init__(self, log=False, bidirectional=False):
        super().__init__()
        self.lstm = nn.LSTM(I, H, num_layers=2, bidirectional=bidirectional, dropout=0.25)
        d = 2 if bidirectional else 1
        self.hidden = nn.Linear(d * H, 5)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(5, 3)
        self.log = log

    def forward(self, x):
        y, _ = self.lstm(x)
        z = self.out(self.drop(torch.relu(self.hidden(y[-1]))))
        return torch.log_softmax(z, dim=-1) if self.log else torch.softmax(z, dim=-1)


class StateHead(nn.Module):
    """Sigmoid(Linear(h_n of the top layer)) and tanh of the last step, batch-first."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(I, H, num_layers=2, batch_first=True)
        self.head = nn.Linear(H, 2)

    def forward(self, x):
        y, (h, _) = self.lstm(x)
        return torch.sigmoid(self.head(h[-1])), torch.tanh(y[:, -1, :]) * 0.5 - 0.25


class Mixer(nn.Module):
    """The operators the other cases lack, around a batch-first LSTM: Split, LeakyRelu, Div, Flatten, Range and Cast
    from a dynamic length, broadcast Mul, and a MatMul of two run-time operands with batch dims."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(I, H, batch_first=True)

    def forward(self, x):
        y, (h, _) = self.lstm(x)
        a, b = torch.split(y, [2, H - 2], dim=2)
        z = torch.nn.functional.leaky_relu(b, 0.1) / 2.0
        flat = torch.flatten(h.transpose(0, 1), 1)
        ramp = torch.arange(x.shape[1]).float() / 4.0
        w = a * ramp[None, :, None]
        q = torch.matmul(a, a.transpose(1, 2))
        return z, flat, w, q


def axes(names, batch_first=False, extra=None):
    time, batch = (1, 0) if batch_first else (0, 1)
    table = {}
    for n in names:
        table[n] = {time: "T", batch: "B"}
    table.update(extra or {})
    return table


# name, module, inputs (name -> tensor), output names, opset, dynamic axes (or None); seeded first, so every run writes the same files
torch.manual_seed(11)
x_tm, x_bf = torch.randn(T, B, I), torch.randn(B, T, I)
CASES = [
    ("dynamic_axes", Lstm(), {"X": x_tm}, ["Y", "Y_h", "Y_c"], 11,
     axes(["X", "Y"], extra={"Y_h": {1: "B"}, "Y_c": {1: "B"}})),
    ("static_one_layer", Lstm(), {"X": x_tm}, ["Y", "Y_h", "Y_c"], 17, None),
    ("batch_first_one_layer", Lstm(batch_first=True), {"X": x_bf}, ["Y", "Y_h", "Y_c"], 13,
     axes(["X", "Y"], batch_first=True, extra={"Y_h": {1: "B"}, "Y_c": {1: "B"}})),
    ("batch_first_two_layers", Lstm(batch_first=True, num_layers=2), {"X": x_bf}, ["Y", "Y_h", "Y_c"], 14, None),
    ("three_layers_dynamic", Lstm(num_layers=3), {"X": x_tm}, ["Y", "Y_h", "Y_c"], 12,
     axes(["X", "Y"], extra={"Y_h": {1: "B"}, "Y_c": {1: "B"}})),
    ("bidirectional_dynamic", Lstm(num_layers=2, bidirectional=True), {"X": x_tm}, ["Y", "Y_h", "Y_c"], 15,
     axes(["X", "Y"], extra={"Y_h": {1: "B"}, "Y_c": {1: "B"}})),
    ("dropout_eval", Lstm(num_layers=2, dropout=0.5), {"X": x_tm}, ["Y", "Y_h", "Y_c"], 16, None),
    ("learned_state_one_layer", LearnedState(1), {"X": x_tm}, ["Y", "Y_h", "Y_c"], 14, axes(["X", "Y"])),
    ("learned_state_two_layers", LearnedState(2), {"X": x_tm}, ["Y", "Y_h", "Y_c"], 17, None),
    ("given_state", GivenState(), {"X": x_tm, "h0": torch.randn(2, B, H), "c0": torch.randn(2, B, H)}, ["Y", "Y_h", "Y_c"], 13,
     axes(["X", "Y"], extra={n: {1: "B"} for n in ["h0", "c0", "Y_h", "Y_c"]})),
    ("embedding_tagger", Tagger(), {"tokens": torch.randint(0, 11, (T, B))}, ["scores"], 13, axes(["tokens", "scores"])),
    ("linear_every_step_batch_first", EveryStep(batch_first=True), {"X": x_bf}, ["scores"], 11, None),
    ("linear_last_step_softmax", LastStep(), {"X": x_tm}, ["probabilities"], 13, {"X": {0: "T", 1: "B"}, "probabilities": {0: "B"}}),
    ("bidirectional_last_step_log_softmax", LastStep(log=True, bidirectional=True), {"X": x_tm}, ["log_probabilities"], 11, None),
    ("state_head_batch_first", StateHead(), {"X": x_bf}, ["gate", "last"], 15, {"X": {0: "B", 1: "T"}, "gate": {0: "B"}, "last": {0: "B"}}),
    ("initializers_as_inputs", EveryStep(), {"X": x_tm}, ["scores"], 11, axes(["X", "scores"])),
    ("mixer_ops", Mixer(), {"X": x_bf}, ["z", "flat", "w", "q"], 13,
     {"X": {0: "B", 1: "T"}, "z": {0: "B", 1: "T"}, "flat": {0: "B"}, "w": {0: "B", 1: "T"}, "q": {0: "B", 1: "T", 2: "T"}}),
    ("mixer_ops_opset11", Mixer(), {"X": x_bf}, ["z", "flat", "w", "q"], 11, None),
]
KEEP_INITIALIZERS_AS_INPUTS = {"initializers_as_inputs"}


for name, module, inputs, outputs, opset, dynamic in CASES:
    module.eval()
    args = tuple(inputs.values())
    torch.onnx.export(module, args, f"{out}/{name}.onnx", input_names=list(inputs), output_names=outputs, opset_version=opset,
                      dynamic_axes=dynamic, keep_initializers_as_inputs=name in KEEP_INITIALIZERS_AS_INPUTS)
    with torch.no_grad():
        module.double()
        result = module(*[t.double() if t.is_floating_point() else t for t in args])
    result = result if isinstance(result, tuple) else (result,)
    tensors = dict(inputs)
    tensors.update({n: r for n, r in zip(outputs, result)})
    steps, batch = (inputs[next(iter(inputs))].shape[:2])
    batch_first = "batch_first" in name or name.startswith("mixer_ops")
    if batch_first:
        steps, batch = batch, steps
    save(f"{out}/{name}.safetensors", {k: t.contiguous().numpy() for k, t in tensors.items()}, {"opset": opset, "steps": int(steps), "batch": int(batch), "dynamic": dynamic is not None,
                                                 "module": type(module).__name__, "torch": torch.__version__})
    print(name, "opset", opset, "written")
