"""Writes golden GRU cases as safetensors files (Debian python3-torch 1.13, numpy, onnx; onnxruntime-node for a check).

Each file holds the weights under PyTorch's nn.GRU names (gate order r, z, n), the inputs, and the outputs and h_n in
float64 from the same float32 weights; grad cases add float64 gradients of loss = sum(output*grad_output) +
sum(h_n*grad_h_n) under "grad.NAME". Cases with linear_before_reset = 1 come from nn.GRU itself. PyTorch has no cell
with the reset gate applied before the recurrent product (ONNX's default, linear_before_reset = 0), so those cases
come from the ONNX GRU equations written out in torch operations, differentiated by autograd, and the script checks
their forward pass against ONNX Runtime (onnxruntime-node) before it writes them.

usage: make_gru_golden.py OUT_DIR [PATH_TO_NODE_MODULES]"""
import json, os, subprocess, sys, tempfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(__file__))
import golden_safetensors


def packed_run(module, x, h0, lengths, batch_first, T):
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
    out, hn = module(packed, h0)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    return out, hn


class OriginalGru(torch.nn.Module):
    """The GRU of Cho et al. (ONNX linear_before_reset = 0) from its equations, with nn.GRU's parameter names."""

    def __init__(self, gru):
        super().__init__()
        self.L, self.H, self.D, self.bias = gru.num_layers, gru.hidden_size, 2 if gru.bidirectional else 1, gru.bias
        for name, p in gru.named_parameters():
            self.register_parameter(name, torch.nn.Parameter(p.detach().clone()))

    def forward(self, x, h0, lengths):  # x [T, B, I] time-major
        T, B, H = x.shape[0], x.shape[1], self.H
        hn = []
        for layer in range(self.L):
            outs = []
            for d in range(self.D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                w_ih, w_hh = getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx)
                b_ih = getattr(self, "bias_ih" + sfx) if self.bias else torch.zeros(3 * H, dtype=x.dtype)
                b_hh = getattr(self, "bias_hh" + sfx) if self.bias else torch.zeros(3 * H, dtype=x.dtype)
                rows, last = [[None] * B for _ in range(T)], []
                for b in range(B):
                    h = h0[layer * self.D + d, b]
                    n_steps = lengths[b]
                    for s in range(n_steps):
                        t = s if d == 0 else n_steps - 1 - s
                        gi = w_ih @ x[t, b] + b_ih
                        r = torch.sigmoid(gi[:H] + w_hh[:H] @ h + b_hh[:H])
                        z = torch.sigmoid(gi[H:2 * H] + w_hh[H:2 * H] @ h + b_hh[H:2 * H])
                        n = torch.tanh(gi[2 * H:] + w_hh[2 * H:] @ (r * h) + b_hh[2 * H:])
                        h = (1 - z) * n + z * h
                        rows[t][b] = h
                    last.append(h)
                zero = torch.zeros(H, dtype=x.dtype)
                outs.append(torch.stack([torch.stack([rows[t][b] if rows[t][b] is not None else zero for b in range(B)]) for t in range(T)]))
                hn.append(torch.stack(last))
            x = torch.cat(outs, dim=2)
        return x, torch.stack(hn)


def onnx_gru_output(gru, x, h0, node_modules):
    """The ONNX GRU (linear_before_reset = 0) run by onnxruntime-node on float32 values: [T, B, D*H] and h_n."""
    H, D, I = gru.hidden_size, 2 if gru.bidirectional else 1, gru.input_size
    order = np.concatenate([np.arange(H, 2 * H), np.arange(0, H), np.arange(2 * H, 3 * H)])  # r, z, n -> z, r, h
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in gru.state_dict().items()}
    sfx = ["_l0", "_l0_reverse"][:D]
    W = np.stack([sd["weight_ih" + s][order] for s in sfx])
    R = np.stack([sd["weight_hh" + s][order] for s in sfx])
    Bias = np.stack([np.concatenate([sd["bias_ih" + s][order], sd["bias_hh" + s][order]]) for s in sfx])
    T, B = x.shape[0], x.shape[1]
    graph = helper.make_graph(
        [helper.make_node("GRU", ["X", "W", "R", "B", "", "initial_h"], ["Y", "Y_h"], hidden_size=H,
                          direction="bidirectional" if D == 2 else "forward", linear_before_reset=0)],
        "gru", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, B, I]),
                helper.make_tensor_value_info("initial_h", TensorProto.FLOAT, [D, B, H])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [T, D, B, H]),
         helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [D, B, H])],
        [helper.make_tensor(n, TensorProto.FLOAT, a.shape, a.flatten()) for n, a in (("W", W), ("R", R), ("B", Bias))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(model, os.path.join(tmp, "gru.onnx"))
        np.save(os.path.join(tmp, "x.npy"), x.astype(np.float32))
        script = f"""
const ort = require({json.dumps(os.path.join(node_modules, 'onnxruntime-node'))});
const fs = require('fs');
(async () => {{
  const s = await ort.InferenceSession.create({json.dumps(os.path.join(tmp, 'gru.onnx'))});
  const x = new Float32Array({json.dumps(x.astype(np.float32).flatten().tolist())});
  const h = new Float32Array({json.dumps(h0.astype(np.float32).flatten().tolist())});
  const r = await s.run({{ X: new ort.Tensor('float32', x, {list(x.shape)}), initial_h: new ort.Tensor('float32', h, {list(h0.shape)}) }});
  fs.writeFileSync({json.dumps(os.path.join(tmp, 'out.json'))}, JSON.stringify({{ y: Array.from(r.Y.data), h: Array.from(r.Y_h.data) }}));
}})();
"""
        subprocess.run(["node", "-e", script], check=True)
        with open(os.path.join(tmp, "out.json")) as f:
            out = json.load(f)
    y = np.array(out["y"]).reshape(T, D, B, H).transpose(0, 2, 1, 3).reshape(T, B, D * H)
    return y, np.array(out["h"]).reshape(D, B, H)


def case(out_dir, name, seed, I, H, L=1, B=2, T=5, bidir=False, bias=True, batch_first=False, lengths=None,
         grad=False, linear_before_reset=True, node_modules=None):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(I, H, num_layers=L, bias=bias, batch_first=batch_first, bidirectional=bidir)
    D = 2 if bidir else 1
    x = torch.randn((B, T, I) if batch_first else (T, B, I))
    h0 = torch.randn((D * L, B, H))
    t = {k: v.detach().numpy().astype(np.float32) for k, v in gru.state_dict().items()}
    t.update(input=x.numpy(), h0=h0.numpy())
    xd, h0d = (v.double().requires_grad_(grad) for v in (x, h0))
    if linear_before_reset:
        m = gru.double()
        if lengths is not None:
            out, hn = packed_run(m, xd, h0d, lengths, batch_first, T)
        else:
            out, hn = m(xd, h0d)
        params = dict(m.named_parameters())
    else:
        assert not batch_first
        m = OriginalGru(gru.double())
        out, hn = m(xd, h0d, lengths if lengths is not None else [T] * B)
        params = dict(m.named_parameters())
        if L == 1 and lengths is None:
            y, yh = onnx_gru_output(gru.float(), x.numpy(), h0.numpy(), node_modules)
            np.testing.assert_allclose(out.detach().numpy(), y, atol=2e-5)
            np.testing.assert_allclose(hn.detach().numpy(), yh, atol=2e-5)
    if lengths is not None:
        t["lengths"] = np.array(lengths, dtype=np.int64)
    t["output"], t["h_n"] = out.detach().numpy(), hn.detach().numpy()
    if grad:
        g = torch.Generator().manual_seed(seed + 1)
        loss = 0
        for key, v in (("output", out), ("h_n", hn)):
            gv = torch.randn(v.shape, generator=g, dtype=torch.float64)
            t["grad_" + key] = gv.numpy()
            loss = loss + (v * gv).sum()
        loss.backward()
        for k, p in params.items():
            t["grad." + k] = p.grad.numpy()
        for k, v in (("input", xd), ("h0", h0d)):
            t["grad." + k] = v.grad.numpy()
    config = dict(input_size=I, hidden_size=H, num_layers=L, bidirectional=bidir, bias=bias, batch_first=batch_first,
                  linear_before_reset=linear_before_reset, steps=T, batch=B)
    golden_safetensors.save(os.path.join(out_dir, name + ".safetensors"), t, config)


if __name__ == "__main__":
    out = sys.argv[1]
    node_modules = sys.argv[2] if len(sys.argv) > 2 else "/tmp/lstm-peers/node_modules"
    os.makedirs(out, exist_ok=True)
    case(out, "single_layer", 1, I=3, H=4)
    case(out, "two_layer_bidirectional", 2, I=4, H=5, L=2, B=3, T=4, bidir=True)
    case(out, "batch_first_no_bias", 3, I=3, H=4, B=2, T=6, bias=False, batch_first=True)
    case(out, "variable_lengths", 4, I=3, H=4, B=3, T=5, lengths=[5, 2, 1])
    case(out, "grad_two_layer_bidirectional", 5, I=4, H=5, L=2, B=3, T=3, bidir=True, grad=True)
    case(out, "grad_variable_lengths", 6, I=3, H=4, B=3, T=4, lengths=[4, 1, 3], grad=True)
    case(out, "original_single_layer", 7, I=3, H=4, linear_before_reset=False, node_modules=node_modules)
    case(out, "original_bidirectional", 8, I=3, H=4, B=2, T=4, bidir=True, linear_before_reset=False, node_modules=node_modules)
    case(out, "grad_original_two_layer", 9, I=3, H=4, L=2, B=2, T=3, bidir=True, grad=True, linear_before_reset=False)
    case(out, "grad_original_lengths", 10, I=3, H=4, B=3, T=4, lengths=[4, 2, 1], grad=True, linear_before_reset=False)
