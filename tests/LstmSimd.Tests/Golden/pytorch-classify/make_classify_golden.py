"""Writes golden text-classifier gradients as safetensors files (Debian python3-torch 1.13, numpy).

Each file holds an nn.Embedding (padding_idx 0), an nn.LSTM and an nn.Linear head (float32, under the names
embedding.weight, lstm.<state_dict name>, head.weight, head.bias), a padded batch of token ids ("ids", [T, B], 0 past
each length), "lengths", "labels" and "class_weights", and what PyTorch's autograd computes from them in float64: the
class-weighted CrossEntropyLoss ("loss") of the head on the pooled LSTM outputs of the packed sequences, and every
parameter's gradient ("grad.NAME"). Pooling: "last" takes the forward direction's output at each sequence's last valid
step and the reverse direction's at step 0; "mean" and "max" pool over the valid steps.

usage: make_classify_golden.py OUT_DIR"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import golden_safetensors


def pool(out, lengths, kind, hidden, bidirectional):
    rows = []
    for b, n in enumerate(lengths):
        valid = out[:n, b]
        if kind == "last":
            row = valid[n - 1]
            if bidirectional:
                row = torch.cat([valid[n - 1, :hidden], valid[0, hidden:]])
        elif kind == "mean":
            row = valid.mean(dim=0)
        else:
            row = valid.max(dim=0).values
        rows.append(row)
    return torch.stack(rows)


def case(out_dir, name, seed, V, E, H, L, bidir, lengths, classes, pooling, class_weights):
    torch.manual_seed(seed)
    T, B = max(lengths), len(lengths)
    embedding = torch.nn.Embedding(V, E, padding_idx=0)
    lstm = torch.nn.LSTM(E, H, num_layers=L, bidirectional=bidir)
    D = 2 if bidir else 1
    head = torch.nn.Linear(D * H, classes)
    ids = torch.zeros(T, B, dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[:n, b] = torch.randint(1, V, (n,))
    ids[0, 0] = 1  # the unknown id like any other
    labels = torch.randint(0, classes, (B,))
    t = {"embedding.weight": embedding.weight.detach().numpy().astype(np.float32)}
    t.update({"lstm." + k: v.detach().numpy().astype(np.float32) for k, v in lstm.state_dict().items()})
    t.update({"head." + k: v.detach().numpy().astype(np.float32) for k, v in head.state_dict().items()})
    t.update(ids=ids.numpy(), lengths=np.array(lengths, dtype=np.int64), labels=labels.numpy().astype(np.int64),
             class_weights=np.array(class_weights, dtype=np.float32))

    embedding, lstm, head = embedding.double(), lstm.double(), head.double()
    x = embedding(ids)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    out, _ = lstm(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    logits = head(pool(out, lengths, pooling, H, bidir))
    loss = torch.nn.functional.cross_entropy(logits, labels, weight=torch.tensor(class_weights, dtype=torch.float64))
    loss.backward()
    params = [("embedding." + k, p) for k, p in embedding.named_parameters()] + [("lstm." + k, p) for k, p in lstm.named_parameters()] + \
             [("head." + k, p) for k, p in head.named_parameters()]
    for k, p in params:
        t["grad." + k] = p.grad.numpy().copy()
    t["loss"] = np.array([loss.item()])
    config = dict(vocabulary=V, embedding=E, hidden_size=H, num_layers=L, bidirectional=bidir, classes=classes, pooling=pooling,
                  steps=T, batch=B)
    golden_safetensors.save(os.path.join(out_dir, name + ".safetensors"), t, config)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    case(out, "bidirectional_last", 21, V=9, E=4, H=5, L=1, bidir=True, lengths=[6, 3, 1, 4], classes=3, pooling="last", class_weights=[0.5, 2.0, 1.0])
    case(out, "bidirectional_mean", 22, V=9, E=4, H=5, L=1, bidir=True, lengths=[5, 2, 5], classes=2, pooling="mean", class_weights=[1.0, 3.0])
    case(out, "two_layer_max", 23, V=11, E=3, H=6, L=2, bidir=False, lengths=[7, 1, 4, 7, 2], classes=4, pooling="max", class_weights=[1.0, 1.0, 1.0, 1.0])
    case(out, "bidirectional_max_repeated_ids", 24, V=5, E=4, H=3, L=1, bidir=True, lengths=[8, 6], classes=2, pooling="max", class_weights=[2.0, 0.5])
