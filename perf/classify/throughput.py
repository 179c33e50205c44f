"""Training throughput of the same text classifier as throughput.cs in PyTorch 1.13 (Debian python3-torch) on one thread:
embedding 64 (vocabulary 20,000) -> LSTM 128 -> last step -> 2 classes; batches of 32 texts of 200 tokens; Adam, clipping
at norm 1, cross-entropy; one full step per batch. Prints the best of ROUNDS rounds of STEPS steps after a warm-up.

usage: /usr/bin/python3 perf/classify/throughput.py [STEPS] [ROUNDS]"""
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(1)
V, E, H, B, T, C = 20_000, 64, 128, 32, 200, 2
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E, padding_idx=0)
        self.lstm = torch.nn.LSTM(E, H)
        self.head = torch.nn.Linear(H, C)

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.head(out[-1])


model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
ids = torch.randint(1, V, (T, B))
labels = torch.arange(B) % C


def step():
    loss = torch.nn.functional.cross_entropy(model(ids), labels)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


for _ in range(5):
    step()
best = float("inf")
for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    best = min(best, (time.perf_counter() - start) * 1000 / steps)
print(f"PyTorch {torch.__version__}: {best:.2f} ms per training step (batch {B} x {T} tokens), {B * 1000 / best:.0f} texts/s, 1 thread")
