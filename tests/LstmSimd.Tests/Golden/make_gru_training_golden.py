"""Writes golden GRU training steps as safetensors files (Debian python3-torch 1.13, numpy).

Each file holds an nn.GRU and an nn.Linear head (float32, under their state_dict names, the head as head.weight and
head.bias), an input with packed-sequence lengths (and h0, zeros) and targets, and what one training step of PyTorch computes from them
in float64: the MSE loss of the head on each sequence's last valid output, every parameter's gradient ("grad.NAME"),
the global gradient norm before clipping (clip_grad_norm_ to max_norm), and every parameter after one SGD step
("after.NAME"). The original cell (linear_before_reset = 0), which PyTorch lacks, runs as make_gru_golden.py's
OriginalGru: its equations in torch operations under autograd.

usage: make_gru_training_golden.py OUT_DIR"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import golden_safetensors
from make_gru_golden import OriginalGru


def case(out_dir, name, seed, I, H, L, bidir, B, T, lengths, outputs, max_norm, learning_rate, linear_before_reset=True):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(I, H, num_layers=L, bidirectional=bidir)
    D = 2 if bidir else 1
    head = torch.nn.Linear(D * H, outputs)
    x = torch.randn(T, B, I)
    target = torch.randn(B, outputs)
    t = {k: v.detach().numpy().astype(np.float32) for k, v in gru.state_dict().items()}
    t.update({"head." + k: v.detach().numpy().astype(np.float32) for k, v in head.state_dict().items()})
    h0 = np.zeros((D * L, B, H), dtype=np.float32)  # nn.GRU's default
    t.update(input=x.numpy(), h0=h0, target=target.numpy(), lengths=np.array(lengths, dtype=np.int64))

    gru, head = gru.double(), head.double()
    if linear_before_reset:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x.double(), torch.tensor(lengths), enforce_sorted=False)
        out, _ = gru(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    else:
        gru = OriginalGru(gru)
        out, _ = gru(x.double(), torch.zeros((D * L, B, H), dtype=torch.float64), lengths)
    last = torch.stack([out[lengths[b] - 1, b] for b in range(B)])  # each sequence's last valid step, both directions
    loss = torch.nn.functional.mse_loss(head(last), target.double())
    loss.backward()
    params = [(k, p) for k, p in gru.named_parameters()] + [("head." + k, p) for k, p in head.named_parameters()]
    for k, p in params:
        t["grad." + k] = p.grad.numpy().copy()
    norm = torch.nn.utils.clip_grad_norm_([p for _, p in params], max_norm)
    torch.optim.SGD([p for _, p in params], lr=learning_rate).step()
    for k, p in params:
        t["after." + k] = p.detach().numpy()
    t["loss"] = np.array([loss.item()])
    t["grad_norm"] = np.array([norm.item()])
    config = dict(input_size=I, hidden_size=H, num_layers=L, bidirectional=bidir, bias=True, batch_first=False,
                  linear_before_reset=linear_before_reset, steps=T, batch=B, outputs=outputs, max_norm=max_norm, learning_rate=learning_rate)
    golden_safetensors.save(os.path.join(out_dir, name + ".safetensors"), t, config)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    # A norm above max_norm, so that clipping acts; and one below it, so that it does not.
    case(out, "train_step_two_layer_bidirectional", 11, I=3, H=5, L=2, bidir=True, B=4, T=6, lengths=[6, 2, 4, 1], outputs=2,
         max_norm=0.5, learning_rate=0.1)
    case(out, "train_step_single_layer", 12, I=4, H=9, L=1, bidir=False, B=3, T=5, lengths=[5, 5, 3], outputs=1,
         max_norm=100.0, learning_rate=0.1)
    case(out, "train_step_original_bidirectional", 13, I=3, H=5, L=2, bidir=True, B=4, T=6, lengths=[6, 2, 4, 1], outputs=2,
         max_norm=0.5, learning_rate=0.1, linear_before_reset=False)
