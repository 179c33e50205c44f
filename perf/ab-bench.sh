#!/usr/bin/env bash
# A/B of two builds of the lstmsimd tool on the standard workloads: rounds alternate the order (A B, then B A) workload by
# workload, so a shared, noisy machine loads both alike; the summary takes each side's best median over the rounds.
# usage: perf/ab-bench.sh BEFORE_CLI_DLL AFTER_CLI_DLL [rounds] > table.md
#        env: SECONDS_PER_RUN (default 1), THREADS (default 1), WORKLOADS (space-separated, default all), CPU (taskset core),
#             CLOCK (wall, the default, or cpu: each call's thread CPU time, for one thread on a machine shared with other work;
#             both builds must know bench --clock)
set -u
before=$1 after=$2 rounds=${3:-3}
seconds=${SECONDS_PER_RUN:-1} threads=${THREADS:-1}
workloads=${WORKLOADS:-seq-h32 seq-h64 seq-h128 seq-h256 seq-h512 seq-b4-h1024 seq-b64-h512 step-h64 step-h256 train-b32-h256 train-b1-h64}
pin=(); [[ -n ${CPU:-} ]] && pin=(taskset -c "$CPU")
clock=(); [[ ${CLOCK:-wall} != wall ]] && clock=(--clock "$CLOCK")
raw=$(mktemp)
run() { # side dll workload
  "${pin[@]}" dotnet "$2" bench --workload "$3" --seconds "$seconds" --threads "$threads" "${clock[@]}" --json 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(sys.argv[1], r["workload"], r["median_us"], r["allocated_bytes"])' "$1" >> "$raw"
}
for ((round = 0; round < rounds; round++)); do
  for w in $workloads; do
    if ((round % 2 == 0)); then run before "$before" "$w"; run after "$after" "$w"; else run after "$after" "$w"; run before "$before" "$w"; fi
  done
done
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of ${seconds} s per workload and side, $threads thread(s), ${CLOCK:-wall} clock."
echo
python3 - "$raw" <<'PY'
import sys, collections
best = collections.defaultdict(dict); alloc = collections.defaultdict(int); order = []
for line in open(sys.argv[1]):
    side, w, us, allocated = line.split()
    if w not in order: order.append(w)
    best[w][side] = min(best[w].get(side, float('inf')), float(us))
    alloc[w] = max(alloc[w], int(allocated))
print("| workload | before µs | after µs | after / before | bytes per call |")
print("|---|---:|---:|---:|---:|")
for w in order:
    b, a = best[w].get('before'), best[w].get('after')
    fmt = lambda us: f"{us:,.0f}" if us >= 1000 else f"{us:.4g}"
    print(f"| {w} | {fmt(b)} | {fmt(a)} | {a / b:.3f} | {alloc[w]} |")
PY
rm -f "$raw"
