#!/usr/bin/env bash
# Times LstmSimd (lstmsimd bench) and the peers of ../shared/peers (oneDNN, ONNX Runtime through onnxruntime-node,
# PyTorch) and of perf/dotnet-peers (ONNX Runtime's C# API, TorchSharp: what .NET code calls in-process) on the
# standard workloads, interleaved workload by workload and round by round, so that a shared, noisy machine loads every
# implementation alike; summarize-peers.py then takes each implementation's best median over the rounds.
# The peers must be installed first: bash ../shared/peers/run-peers.sh install (as root; the nodejs/npm packages
# conflict with a NodeSource node, in which case install the other packages and onnxruntime-node by hand).
# dotnet-peers is built once at the start; its restore pulls about 1.2 GB (TorchSharp's LibTorch) the first time.
# Raw lines name its impls ortcs, ortcs-iobinding, ortcs-naive and torchsharp (onnxruntime-node's are 'ort').
# usage: perf/compare-peers.sh [rounds] > raw.txt     env: THREADS (default 1),
#        SECONDS_PER_RUN (of timed calls, LstmSimd's and dotnet-peers', default 1.5),
#        WORKLOADS (space-separated names, default all), PEERS_DIR (default /tmp/lstm-peers), SHARED (default ../shared),
#        WEIGHTS (LstmSimd's weight format for the inference workloads: fp32 (default), fp16, bf16 or int8; peers stay fp32),
#        DOTNET_PEERS=0 (skip the .NET peers), DOTNET_PEERS_CACHE (their weights and models, default PEERS_DIR/dotnet-peers)
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
[[ -d $shared/peers ]] || shared=/work/shared
peers=$shared/peers
work=${PEERS_DIR:-/tmp/lstm-peers}
threads=${THREADS:-1}
rounds=${1:-3}
seconds=${SECONDS_PER_RUN:-1.5}
weights=${WEIGHTS:-fp32}
mkdir -p "$work"
[[ -x $work/onednn_lstm ]] || g++ -O2 -std=c++17 -o "$work/onednn_lstm" "$peers/onednn_lstm.cpp" -ldnnl || exit 1
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads ORT_NODE=$work/node_modules/onnxruntime-node

cli=$repo/src/LstmSimd.Cli/bin/Release/net10.0/LstmSimd.Cli
[[ -x $cli ]] || dotnet build "$repo/src/LstmSimd.Cli" -c Release -v q -nologo >&2 || exit 1

dotnet_peers=${DOTNET_PEERS:-1}
if [[ $dotnet_peers != 0 ]]; then
  dotnet build "$repo/perf/dotnet-peers" -c Release -v q -nologo >&2 || exit 1
  export DOTNET_PEERS_CACHE=${DOTNET_PEERS_CACHE:-$work/dotnet-peers}
fi
dotnet_peers_dll=$repo/perf/dotnet-peers/bin/Release/net10.0/dotnet-peers.dll
# Runs one dotnet-peers impl (ort, ort-iobinding, ort-naive, torchsharp) on a workload and prints its line under the
# raw name LABEL; dotnet-peers prints "WORKLOAD IMPL median_us=...", whose first two words are replaced.
# usage: dotnet_peer ROUND WORKLOAD IMPL LABEL
dotnet_peer() {
  local line
  if line=$(dotnet "$dotnet_peers_dll" "$3" "$2" "$seconds" "$threads"); then
    echo "$1 $2 $4 ${line#* * }"
  else
    echo "dotnet-peers $3 $2 failed in round $1" >&2
  fi
}

# name T B I H, as in run-peers.sh and DESIGN.md
all=("seq-h32 100 1 32 32" "seq-h64 100 1 64 64" "seq-h128 100 1 128 128" "seq-h256 100 1 256 256"
  "seq-h512 25 1 512 512" "seq-b4-h1024 25 4 1024 1024" "seq-b64-h512 50 64 512 512"
  "step-h64 1 1 64 64" "step-h256 1 1 256 256")
echo "# date=$(date -u +%FT%TZ) threads=$threads rounds=$rounds weights=$weights cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# dotnet=$(dotnet --version) onednn=$(dpkg-query -W -f '${Version}' libdnnl-dev 2>/dev/null) torch=$(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null) onnxruntime-node=$(node -p "require('$ORT_NODE/package.json').version" 2>/dev/null) openblas=$(dpkg-query -W -f '${Version}' libopenblas0-pthread 2>/dev/null)"
if [[ $dotnet_peers != 0 ]]; then
  echo "# dotnet-peers: $(dotnet "$dotnet_peers_dll" versions | paste -sd ';' | sed 's/;/; /g')"
  # Every .NET peer against ONNX Runtime on the same weights and input: a peer that computes something else is not timed.
  check=$(dotnet "$dotnet_peers_dll" check); status=$?
  sed 's/^/# dotnet-peers /' <<< "$check"
  (( status == 0 )) || { echo "dotnet-peers check failed" >&2; exit 1; }
fi
for round in $(seq 1 "$rounds"); do
  for w in "${all[@]}"; do
    set -- $w; name=$1; shift
    [[ -n ${WORKLOADS:-} && " $WORKLOADS " != *" $name "* ]] && continue
    reps=50; (( $2 * $3 * $4 > 1000000 )) && reps=10
    if ours=$("$cli" bench --workload "$name" --threads "$threads" --weights "$weights" --seconds "$seconds" --json | tr -d ' \n'); then
      us=$(sed -E 's/.*"median_us":([0-9.eE+-]+).*/\1/' <<< "$ours"); isa=$(sed -E 's/.*"isa":"([a-z0-9]+)".*/\1/' <<< "$ours")
      alloc=$(sed -E 's/.*"allocated_bytes":([0-9]+).*/\1/' <<< "$ours")
      echo "$round $name lstmsimd median_us=$us isa=$isa allocated_bytes=$alloc"
    fi
    # With more threads, our own one-thread time in the same round gives the scaling.
    if (( threads > 1 )); then
      one=$("$cli" bench --workload "$name" --threads 1 --seconds "$seconds" --json | tr -d ' \n')
      echo "$round $name lstmsimd-1t median_us=$(sed -E 's/.*"median_us":([0-9.eE+-]+).*/\1/' <<< "$one")"
    fi
    /usr/bin/python3 "$peers/make_onnx_lstm.py" "$3" "$4" "$work/m_$3_$4.onnx"
    echo "$round $name $(node "$peers/ort_lstm.js" "$work/m_$3_$4.onnx" "$@" $reps "$threads")"
    echo "$round $name $("$work/onednn_lstm" "$@" $reps)"
    echo "$round $name $(/usr/bin/python3 "$peers/torch_lstm.py" "$@" $reps "$threads")"
    if [[ $dotnet_peers != 0 ]]; then
      dotnet_peer "$round" "$name" ort ortcs
      dotnet_peer "$round" "$name" ort-iobinding ortcs-iobinding
      dotnet_peer "$round" "$name" ort-naive ortcs-naive
      dotnet_peer "$round" "$name" torchsharp torchsharp
    fi
  done
  for w in "train-b32-h256 50 32 256 256" "train-b1-h64 100 1 64 64"; do
    set -- $w; name=$1; shift
    [[ -n ${WORKLOADS:-} && " $WORKLOADS " != *" $name "* ]] && continue
    ours=$("$cli" bench --workload "$name" --seconds "$seconds" --json | tr -d ' \n')
    echo "$round $name lstmsimd median_us=$(sed -E 's/.*"median_us":([0-9.eE+-]+).*/\1/' <<< "$ours") isa=$(sed -E 's/.*"isa":"([a-z0-9]+)".*/\1/' <<< "$ours") allocated_bytes=$(sed -E 's/.*"allocated_bytes":([0-9]+).*/\1/' <<< "$ours")"
    echo "$round $name $(/usr/bin/python3 "$peers/torch_lstm_train.py" "$@" 10 "$threads")"
    [[ $dotnet_peers != 0 ]] && dotnet_peer "$round" "$name" torchsharp torchsharp
  done
done
