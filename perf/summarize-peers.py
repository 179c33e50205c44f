#!/usr/bin/env python3
"""Turns compare-peers.sh output into a markdown table: each implementation's best median over the rounds,
LstmSimd's time as a ratio to the best of all peers (oneDNN, ONNX Runtime through Node and through its C# API,
PyTorch, TorchSharp), the per-round ratio range, and the target ratio. Raw files from before the .NET peers were
timed show "—" in their columns.
usage: summarize-peers.py raw.txt [raw2.txt ...] [--threads N]   (several files: their rounds are pooled)"""
import re
import sys
from collections import defaultdict

TARGETS_1T = {"seq-h32": 0.25, "step-h64": 0.25, "seq-h64": 0.35, "seq-h128": 0.6, "seq-h256": 0.8, "seq-h512": 0.8,
              "step-h256": 0.55, "seq-b4-h1024": 0.75, "seq-b64-h512": 0.9}
TARGETS_2T = {"seq-b64-h512": 0.9, "seq-b4-h1024": 0.9}
FLOP = {"seq-h32": (100, 1, 32), "seq-h64": (100, 1, 64), "seq-h128": (100, 1, 128), "seq-h256": (100, 1, 256),
        "seq-h512": (25, 1, 512), "seq-b4-h1024": (25, 4, 1024), "seq-b64-h512": (50, 64, 512),
        "step-h64": (1, 1, 64), "step-h256": (1, 1, 256), "train-b32-h256": (50, 32, 256), "train-b1-h64": (100, 1, 64)}
# Every peer's raw name; "best peer" is the fastest of them all. ort is onnxruntime-node, ortcs* ONNX Runtime's C# API.
PEERS = ["onednn", "ort", "torch-seq", "torch-train", "ortcs-iobinding", "ortcs", "ortcs-naive", "torchsharp"]
# The in-process .NET peers, for the line comparing LstmSimd with the best of them.
DOTNET_PEERS = ["ortcs-iobinding", "ortcs", "ortcs-naive", "torchsharp"]
HEADERS = ["oneDNN µs", "ONNX Runtime (Node) µs", "PyTorch µs", "ONNX Runtime C# µs (IO-binding / plain)", "TorchSharp µs"]


def fmt(us):
    """Four significant digits, thousands separated."""
    return f"{us:,.0f}" if us >= 1000 else f"{us:.4g}"


def peer_cells(best):
    """The peer columns of one row, in HEADERS' order, from each impl's best median ("—" where it did not run)."""
    def cell(*impls):
        found = [best[i] for i in impls if i in best]
        return fmt(found[0]) if found else "—"
    ortcs = "—" if "ortcs-iobinding" not in best and "ortcs" not in best else \
        f"{cell('ortcs-iobinding')} / {cell('ortcs')}"
    return [cell("onednn"), cell("ort"), cell("torch-seq", "torch-train"), ortcs, cell("torchsharp")]


def main():
    args = sys.argv[1:]
    threads = 1
    if "--threads" in args:
        at = args.index("--threads")
        threads = int(args[at + 1])
        del args[at:at + 2]
    targets = TARGETS_2T if threads == 2 else TARGETS_1T
    runs = defaultdict(lambda: defaultdict(dict))  # workload -> impl -> round -> us
    isa, alloc, header = {}, {}, []
    lines = [(index, line) for index, path in enumerate(args) for line in open(path, encoding="utf-8")]
    for index, line in lines:
        if line.startswith("#"):
            header.append(line[1:].strip())
            continue
        m = re.match(r"(\d+) (\S+) (\S+) .*median_us=([0-9.eE+-]+)", line)
        if not m:
            continue
        rnd, workload, impl, us = (index, int(m[1])), m[2], m[3], float(m[4])
        runs[workload][impl][rnd] = us
        if impl == "lstmsimd":
            isa[workload] = re.search(r"isa=(\S+)", line)[1]
            alloc[workload] = max(alloc.get(workload, 0), int(re.search(r"allocated_bytes=(\d+)", line)[1]))
    for h in header:
        print(f"<!-- {h} -->")
    print(f"| workload | LstmSimd µs | GFLOP/s | {' | '.join(HEADERS)} | ratio to best peer (rounds) | target | |")
    print("|---|---:|---:|" + "---:|" * len(HEADERS) + "---:|---:|---|")
    dotnet_ratios = []
    for workload in FLOP:
        if workload not in runs:
            continue
        impls = runs[workload]
        best = {impl: min(rounds.values()) for impl, rounds in impls.items()}
        cells = peer_cells(best)
        if "lstmsimd" not in impls:
            print(f"| {workload} | — | — | {' | '.join(cells)} | — | {'≤ ' + format(targets[workload], '.2f') if workload in targets else '—'} | not run |")
            continue
        peer_best = min(best[p] for p in PEERS if p in best)
        dotnet_best = [(best[p], p) for p in DOTNET_PEERS if p in best]
        if dotnet_best:
            us, impl = min(dotnet_best)
            dotnet_ratios.append(f"{workload} {best['lstmsimd'] / us:.2f} ({impl})")
        per_round = []
        for rnd, ours in impls["lstmsimd"].items():
            peers = [impls[p][rnd] for p in PEERS if rnd in impls.get(p, {})]
            if peers:
                per_round.append(ours / min(peers))
        ratio = best["lstmsimd"] / peer_best
        t, b, h = FLOP[workload]
        gflops = (3 if workload.startswith("train-") else 1) * 2 * t * b * 4 * h * 2 * h / best["lstmsimd"] / 1e3
        target = targets.get(workload)
        verdict = "" if target is None else ("met" if ratio <= target else f"missed ×{ratio / target:.2f}")
        spread = f" ({min(per_round):.2f}–{max(per_round):.2f})" if len(per_round) > 1 else ""
        print(f"| {workload} | {fmt(best['lstmsimd'])} | {gflops:.1f} | {' | '.join(cells)} | **{ratio:.2f}**{spread} | "
              f"{'≤ ' + format(target, '.2f') if target else '—'} | {verdict} |")
    if dotnet_ratios:
        print()
        print("LstmSimd's time over the best in-process .NET peer's (ONNX Runtime C# or TorchSharp): " + ", ".join(dotnet_ratios))
    scaling = [(w, min(runs[w]["lstmsimd-1t"].values()) / min(runs[w]["lstmsimd"].values()))
               for w in FLOP if w in runs and "lstmsimd-1t" in runs[w] and "lstmsimd" in runs[w]]
    if scaling:
        print()
        print(f"LstmSimd speed-up over its own one-thread time in the same run (target ≥ 1.8×): "
              + ", ".join(f"{w} {s:.2f}×" for w, s in scaling))
    print()
    print(f"LstmSimd ISA path: {', '.join(sorted(set(isa.values())))}; bytes allocated per call: "
          + ", ".join(f"{w} {a}" for w, a in alloc.items()))


if __name__ == "__main__":
    main()
