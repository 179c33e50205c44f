#!/usr/bin/env bash
# The opt-in weight formats beside fp32 in one run of the lstmsimd tool: rounds interleave fp32, fp16 and bf16 workload by
# workload, and the table takes each format's best median over the rounds. The target: fp16 and bf16 never slower than fp32.
# usage: perf/compare-weights.sh CLI_DLL [rounds] > table.md
#        env: WORKLOADS (space-separated, default below), SECONDS_PER_RUN (default 1), CLOCK (wall, the default, or cpu)
set -u
dll=$1 rounds=${2:-3}
seconds=${SECONDS_PER_RUN:-1}
workloads=${WORKLOADS:-seq-h32 seq-h64 seq-h128 seq-h256 seq-h512 seq-b4-h1024 seq-b64-h512 step-h64 step-h256 gru-seq-h64 gru-seq-h256 gru-seq-b64-h512 gru-step-h256}
raw=$(mktemp)
for ((round = 0; round < rounds; round++)); do
  for w in $workloads; do
    for format in fp32 fp16 bf16; do
      dotnet "$dll" bench --weights "$format" --clock "${CLOCK:-wall}" --seconds "$seconds" --workload "$w" --json 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(sys.argv[1], r["workload"], r["median_us"], r["allocated_bytes"])' "$format" >> "$raw"
    done
  done
done
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of ${seconds} s per workload and format, ${CLOCK:-wall} clock."
echo
python3 - "$raw" <<'PY'
import sys, collections
best = collections.defaultdict(dict); alloc = collections.defaultdict(int)
for line in open(sys.argv[1]):
    fmt, w, us, allocated = line.split()
    best[w][fmt] = min(best[w].get(fmt, float("inf")), float(us)); alloc[w] = max(alloc[w], int(allocated))
print("| workload | fp32 µs | fp16 µs | bf16 µs | fp16 / fp32 | bf16 / fp32 | bytes per call |")
print("|---|---:|---:|---:|---:|---:|---:|")
def us(x): return f"{x:,.0f}" if x >= 1000 else f"{x:.4g}"
for w, d in best.items():
    print(f"| {w} | {us(d['fp32'])} | {us(d['fp16'])} | {us(d['bf16'])} | {d['fp16'] / d['fp32']:.2f} | {d['bf16'] / d['fp32']:.2f} | {alloc[w]} |")
PY
rm -f "$raw"
