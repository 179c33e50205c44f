"""Writes the golden bag-of-words baselines as a safetensors file (numpy only; no scikit-learn).

A handmade corpus of token-id texts (ids 1..V-1; 1 is the unknown token, 0 padding never occurs) with 3 classes, and
from the formulas, written here independently of the C#:
- multinomial naive Bayes with Laplace smoothing (alpha 1): "nb.log_prior" [C], "nb.log_likelihood" [C, V] (column 0 unused, 0);
- TF-IDF (smoothed idf = ln((1 + N) / (1 + df)) + 1, counts times idf, rows scaled to unit L2 norm): "idf" [V];
- L2-regularised multinomial logistic regression on it (mean cross-entropy + lambda/2 |W|^2, bias not decayed), solved
  to its unique optimum by plain gradient descent run until the gradient's norm is below 1e-12: "lr.weight" [C, V],
  "lr.bias" [C]; and the test texts' predictions by both ("nb.predicted", "lr.predicted").

usage: make_baselines_golden.py OUT_DIR"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import golden_safetensors

V, C, LAMBDA = 9, 3, 0.05
TRAIN = [([2, 3, 3, 4], 0), ([2, 2, 5], 0), ([3, 4, 1], 0), ([6, 7, 6], 1), ([7, 8, 6, 6, 1], 1), ([5, 6], 1), ([8, 8, 8, 2], 2), ([8, 1, 1], 2)]
TEST = [[2, 3], [6, 6, 7], [8, 5], [1], [4, 7, 8, 8]]


def tfidf(texts, idf):
    x = np.zeros((len(texts), V))
    for i, t in enumerate(texts):
        for w in t:
            x[i, w] += 1
    x *= idf
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def main(out_dir):
    texts, labels = [t for t, _ in TRAIN], np.array([c for _, c in TRAIN])
    counts = np.zeros((C, V))
    for t, c in TRAIN:
        for w in t:
            counts[c, w] += 1
    log_prior = np.log(np.bincount(labels, minlength=C) / len(TRAIN))
    likelihood = np.zeros((C, V))
    likelihood[:, 1:] = np.log((counts[:, 1:] + 1) / (counts[:, 1:].sum(axis=1, keepdims=True) + (V - 1)))
    nb_scores = [log_prior + np.array([likelihood[:, w] for w in t]).sum(axis=0) if t else log_prior for t in TEST]

    df = np.zeros(V)
    for t in texts:
        for w in set(t):
            df[w] += 1
    idf = np.log((1 + len(texts)) / (1 + df)) + 1
    idf[0] = 0
    x = tfidf(texts, idf)
    onehot = np.eye(C)[labels]
    w, b = np.zeros((C, V)), np.zeros(C)
    for _ in range(2_000_000):
        z = x @ w.T + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        r = (p - onehot) / len(texts)
        gw, gb = r.T @ x + LAMBDA * w, r.sum(axis=0)
        if np.sqrt((gw ** 2).sum() + (gb ** 2).sum()) < 1e-12:
            break
        w -= 0.5 * gw
        b -= 0.5 * gb
    lr_scores = tfidf(TEST, idf) @ w.T + b

    flat = lambda rows: np.array([i for r in rows for i in r], dtype=np.int64)
    arrays = {
        "train.ids": flat(texts), "train.lengths": np.array([len(t) for t in texts], dtype=np.int64), "train.labels": labels.astype(np.int64),
        "test.ids": flat(TEST), "test.lengths": np.array([len(t) for t in TEST], dtype=np.int64),
        "nb.log_prior": log_prior, "nb.log_likelihood": likelihood, "nb.predicted": np.array([int(np.argmax(s)) for s in nb_scores], dtype=np.int64),
        "idf": idf, "lr.weight": w, "lr.bias": b, "lr.predicted": np.argmax(lr_scores, axis=1).astype(np.int64),
    }
    golden_safetensors.save(os.path.join(out_dir, "baselines.safetensors"), arrays, dict(features=V, classes=C, lambda_=LAMBDA))


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    main(sys.argv[1])
