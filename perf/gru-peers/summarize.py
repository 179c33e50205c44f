#!/usr/bin/env python3
"""Turns compare-gru-peers.sh output into a markdown table: each implementation's best median over the rounds, LstmSimd's
time as a ratio to the best peer's and the range of the per-round ratios, GFLOP/s counting the GRU's own three gates
(what LstmSimd's three-gate panels compute), and LstmSimd's bytes allocated per call. oneDNN runs lbr_gru for PyTorch's
cell and gru for the original one (the gru-original-* workloads), which PyTorch does not have.
usage: summarize.py raw.txt"""
import re
import sys
from collections import defaultdict

SHAPES = {"gru-seq-h64": (100, 1, 64), "gru-seq-h256": (100, 1, 256), "gru-seq-b64-h512": (50, 64, 512),
          "gru-step-h64": (1, 1, 64), "gru-step-h256": (1, 1, 256),
          "gru-original-seq-h256": (100, 1, 256), "gru-original-seq-b64-h512": (50, 64, 512), "gru-original-step-h256": (1, 1, 256)}
PEERS = {"onednn": "oneDNN µs", "ort": "ONNX Runtime (Node) µs", "torch-seq": "PyTorch nn.GRU µs"}


def fmt(us):
    return f"{us:,.0f}" if us >= 1000 else f"{us:.4g}"


def main():
    runs = defaultdict(lambda: defaultdict(dict))  # workload -> impl -> round -> µs
    alloc, isa = {}, {}
    for line in open(sys.argv[1], encoding="utf-8"):
        if line.startswith("#"):
            print(f"<!-- {line[1:].strip()} -->")
            continue
        m = re.match(r"(\d+) (\S+) (\S+) .*median_us=([0-9.eE+-]+)", line)
        if not m:
            continue
        runs[m[2]][m[3]][int(m[1])] = float(m[4])
        if m[3] == "lstmsimd":
            alloc[m[2]] = max(alloc.get(m[2], 0), int(re.search(r"allocated_bytes=(\d+)", line)[1]))
            isa[m[2]] = re.search(r"isa=(\S+)", line)[1]
    print(f"| workload | LstmSimd µs | GFLOP/s (3 gates) | {' | '.join(PEERS.values())} | ratio to best peer (rounds) | bytes/call |")
    print("|---|---:|---:|" + "---:|" * len(PEERS) + "---:|---:|")
    for workload, (t, b, h) in SHAPES.items():
        impls = runs.get(workload)
        if not impls or "lstmsimd" not in impls:
            continue
        best = {impl: min(r.values()) for impl, r in impls.items()}
        ours = best["lstmsimd"]
        peer = min((best[p], p) for p in PEERS if p in best)
        rounds = sorted(impls["lstmsimd"][r] / min(impls[p][r] for p in PEERS if p in impls and r in impls[p])
                        for r in impls["lstmsimd"] if any(r in impls[p] for p in PEERS if p in impls))
        gflops = 2.0 * t * b * 3 * h * 2 * h / (ours * 1e3)
        cells = [fmt(best[p]) if p in best else "—" for p in PEERS]
        print(f"| {workload} | {fmt(ours)} | {gflops:.1f} | {' | '.join(cells)} | {ours / peer[0]:.2f} ({PEERS[peer[1]].removesuffix(' µs')}; "
              f"{rounds[0]:.2f}–{rounds[-1]:.2f}) | {alloc[workload]} |")
    print(f"\nLstmSimd ran on {', '.join(sorted(set(isa.values())))}. A ratio below 1 is LstmSimd faster. LstmSimd's GRU panels "
          "hold its three gates: it computes the multiply-adds the GFLOP/s column counts.")


main()
