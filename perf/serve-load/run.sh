#!/usr/bin/env bash
# Load test of `lstmsimd serve` on loopback, bounded in time (about 7×SECONDS + SOAK + 60 s in all). A model of
# 8 inputs, hidden 64 and a 1-output head serves; wrk (Debian package 'wrk') POSTs one stream step per request for a
# key chosen at random among 1, 100 and 10,000 streams (step.lua), over 64 connections from one wrk thread:
#   1. sustained rate and latency (wrk's, from the client) at each stream count, with the server's batch sizes;
#      every request must be answered 200, and the server's count of answered steps must match wrk's;
#   2. open loop (perf/LstmSimd.LoadGenerator): requests due at 25, 50 and 75 % of the sustained rate at 100 streams,
#      each latency measured from when its request was due, so a stall is not hidden by a client waiting on it;
#   3. back-pressure: 512 connections against a queue of 64 requests: beyond what the queue holds, 429 and nothing else;
#   4. a soak of SOAK seconds at 100 streams, open loop at half the sustained rate, with the state saved every second:
#      the process's resident memory, sampled every 10 s;
#   5. kill -9 while saving every 0.1 s under load: the restarted service must restore the last completed save;
#   6. a forecaster checkpoint (trained here for a few epochs on the bundled CO2 series: window 24, horizon 12, hidden 64)
#      with --threshold 4: sustained rate and latency at 1, 100 and 10,000 streams, each request one value of one stream,
#      every stream given a full window first, so that every answer is a forecast with its anomaly score (a sample of
#      20 streams is checked after each run).
# Usage: perf/serve-load/run.sh [SECONDS per run, default 15]   (env SOAK: soak seconds, default 120;
#        PARTS=forecaster runs only parts 1 and 6)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
soak=${SOAK:-120}
parts=${PARTS:-all}
dll=src/LstmSimd.Cli/bin/Release/net10.0/LstmSimd.Cli.dll
generator=perf/LstmSimd.LoadGenerator/bin/Release/net10.0/LstmSimd.LoadGenerator.dll
[[ -f $dll ]] || dotnet build src/LstmSimd.Cli -c Release -warnaserror
[[ $parts == forecaster || -f $generator ]] || dotnet build perf/LstmSimd.LoadGenerator -c Release -warnaserror # not used by part 6
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill -KILL "$pid" 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT
python3 perf/serve-load/make-model.py "$work/model.safetensors" 8 64
export INPUTS=8

start_server() { # extra serve options...
  start_serving --model "$work/model.safetensors" --head fc. "$@"
}
start_serving() { # serve options...
  dotnet "$dll" serve --port 0 "$@" > "$work/serve.out" 2> "$work/serve.err" &
  pid=$!
  for _ in $(seq 600); do
    url=$(sed -nE 's/^listening on (http:\/\/[^ ]+).*/\1/p' "$work/serve.out")
    [[ -n $url ]] && return 0
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  echo "serve did not start: $(cat "$work/serve.out" "$work/serve.err")" >&2
  exit 1
}
stop_server() { kill -TERM "$pid"; wait "$pid" || true; pid=; }
metric() { curl -s "$url/metrics" | python3 -c "import json,sys; m=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
load() { # streams connections seconds
  STREAMS=$1 wrk -t1 -c"$2" -d"$3"s --timeout 10s -s perf/serve-load/step.lua "$url" | grep '^RESULT'
}

sustained_part() {
  echo "## 1. sustained rate, 64 connections"
  for streams in 1 100 10000; do
    start_server --capacity 10000 --queue 4096
    load "$streams" 64 3 > /dev/null
    before=$(metric 'm["requests"]')
    result=$(load "$streams" 64 "$seconds")
    sleep 0.5
    answered=$(( $(metric 'm["requests"]') - before ))
    [[ $streams == 100 ]] && sustained=$(sed -nE 's/.* ok_per_s=([0-9]+).*/\1/p' <<< "$result")
    echo "$result server_answered=$answered mean_batch_rows=$(metric 'm["meanBatchRows"]') server_p50_us=$(metric 'm["latencyMicroseconds"]["p50"]') server_p99_us=$(metric 'm["latencyMicroseconds"]["p99"]') server_p999_us=$(metric 'm["latencyMicroseconds"]["p999"]') streams_held=$(metric 'm["streams"]')"
    stop_server
  done
}

prefill() { # streams values: posts that many values to each of the streams s1…sN, 200 streams per request
  python3 - "$url" "$1" "$2" <<'PY'
import http.client, json, sys, urllib.parse
url, streams, values = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
connection = http.client.HTTPConnection(url.hostname, url.port)
for v in range(values):
    for first in range(1, streams + 1, 200):
        body = json.dumps({"steps": [{"key": f"s{k}", "input": [-0.2]} for k in range(first, min(first + 200, streams + 1))]})
        connection.request("POST", "/step", body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200: sys.exit(f"prefill: {answer.status}")
PY
}

forecaster_part() {
  echo "## 6. forecaster checkpoint (CO2, window 24, horizon 12, hidden 64, --threshold 4), 64 connections, one value per request"
  dotnet "$dll" train --hidden 64 --epochs 5 --seed 1 -o "$work/co2.lstm" > "$work/train.out"
  for streams in 1 100 10000; do
    start_serving --model "$work/co2.lstm" --threshold 4 --capacity 10000 --queue 4096
    prefill "$streams" 24 # every stream holds a full window: every measured answer is a forecast
    INPUTS=1 load "$streams" 64 3 > /dev/null
    before=$(metric 'm["requests"]')
    result=$(INPUTS=1 load "$streams" 64 "$seconds")
    sleep 0.5
    answered=$(( $(metric 'm["requests"]') - before ))
    # one more request per stream shows whether the windows were full: a forecast, or how many values were still needed
    full=$(for k in $(seq "$streams" | shuf -n 20 --random-source=<(yes)); do curl -s "$url/step" -d "{\"key\":\"s$k\",\"input\":[0.1]}"; echo; done | grep -c '"forecast":\[' || true)
    echo "$result server_answered=$answered mean_batch_rows=$(metric 'm["meanBatchRows"]') server_p50_us=$(metric 'm["latencyMicroseconds"]["p50"]') server_p99_us=$(metric 'm["latencyMicroseconds"]["p99"]') server_p999_us=$(metric 'm["latencyMicroseconds"]["p999"]') streams_held=$(metric 'm["streams"]') sampled_streams_with_a_forecast=$full/$(( streams < 20 ? streams : 20 ))"
    stop_server
  done
}

echo "# lstmsimd serve under load, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) logical cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $parts == forecaster ]]; then
  echo "model of part 1 (the baseline of part 6 in the same run): 8 inputs, hidden 64, 1 layer, a 64→1 head, fp32 weights; wrk -t1 (one client thread), $seconds s per run after a 3 s warm-up"
  echo
  sustained_part
  echo
  forecaster_part
  exit 0
fi
echo "model: 8 inputs, hidden 64, 1 layer, a 64→1 head, fp32 weights; wrk -t1 (one client thread), $seconds s per run after a 3 s warm-up"
echo
sustained_part
echo
echo "## 2. open loop at 25, 50 and 75 % of the sustained rate (${sustained}/s at 100 streams), 64 connections"
for percent in 25 50 75; do
  start_server --capacity 10000 --queue 4096
  rate=$(( sustained * percent / 100 ))
  dotnet "$generator" "$url" "$rate" 3 100 8 64 > /dev/null || true # warm-up
  echo "$(dotnet "$generator" "$url" "$rate" "$seconds" 100 8 64) mean_batch_rows=$(metric 'm["meanBatchRows"]')"
  stop_server
done
echo
echo "## 3. back-pressure: 512 connections, queue of 64 requests, 100 streams"
start_server --capacity 10000 --queue 64
load 100 512 3 > /dev/null
echo "$(load 100 512 "$seconds") rejected=$(metric 'm["rejected"]') health=$(curl -s -o /dev/null -w '%{http_code}' "$url/health")"
stop_server
echo
echo "## 4. soak: $soak s at 100 streams, open loop at half the sustained rate, 64 connections, state saved every second"
start_server --capacity 10000 --queue 4096 --state "$work/soak.state" --save-every 1
dotnet "$generator" "$url" $(( sustained / 2 )) 3 100 8 64 > /dev/null || true # warm-up
dotnet "$generator" "$url" $(( sustained / 2 )) "$soak" 100 8 64 "$pid" || true
stop_server
tail -1 "$work/serve.out"
echo
echo "## 5. kill -9 under load while saving every 0.1 s (10,000 streams), then restart"
start_server --capacity 10000 --queue 4096 --state "$work/crash.state" --save-every 0.1
STREAMS=10000 wrk -t1 -c64 -d5s --timeout 10s -s perf/serve-load/step.lua "$url" > /dev/null &
wrk_pid=$!
sleep 4.$((RANDOM % 10))
kill -KILL "$pid"; wait "$pid" 2> /dev/null || true; pid=
wait "$wrk_pid" || true
ls -la "$work" | grep -c 'lstmsimd-tmp' | xargs echo "temporary files left by the killed save:"
start_server --capacity 10000 --state "$work/crash.state"
grep '^restored' "$work/serve.out"
stop_server
echo
forecaster_part
