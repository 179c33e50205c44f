#!/usr/bin/env bash
# Times LstmSimd's GRU (lstmsimd bench, the gru-* workloads) beside the GRU peers, interleaved workload by workload and
# round by round so that a shared, noisy machine loads every implementation alike: oneDNN's GRU primitives (onednn_gru.cpp;
# Debian libdnnl-dev), ONNX Runtime's GRU operator through onnxruntime-node (make_onnx_gru.py, ort_gru.js) and PyTorch's
# nn.GRU (torch_gru.py; Debian python3-torch). The gru-* workloads run PyTorch's cell (the reset gate after the recurrent
# product: oneDNN's lbr_gru, ONNX linear_before_reset=1); the gru-original-* ones the original cell (reset before: oneDNN's
# gru, ONNX linear_before_reset=0), which PyTorch does not have. GFLOP/s count the GRU's own 2·T·B·3H·(I+H), which
# LstmSimd's three-gate GRU panels compute too.
# summarize.py turns the output into a table.
# usage: perf/gru-peers/compare-gru-peers.sh [rounds] > raw.txt
#   env: THREADS (default 1), SECONDS_PER_RUN (LstmSimd's timed calls per workload, default 1.5), WORKLOADS (space-separated
#        names, default all), PEERS_DIR (scratch folder, default /tmp/gru-peers), ORT_NODE (onnxruntime-node's folder,
#        default PEERS_DIR/node_modules/onnxruntime-node)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${PEERS_DIR:-/tmp/gru-peers}
threads=${THREADS:-1}
rounds=${1:-3}
seconds=${SECONDS_PER_RUN:-1.5}
mkdir -p "$work"
[[ $work/onednn_gru -nt $here/onednn_gru.cpp ]] || g++ -O2 -std=c++17 -o "$work/onednn_gru" "$here/onednn_gru.cpp" -ldnnl || exit 1
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads ORT_NODE=${ORT_NODE:-$work/node_modules/onnxruntime-node}
cli=$repo/src/LstmSimd.Cli/bin/Release/net10.0/LstmSimd.Cli
[[ -x $cli ]] || dotnet build "$repo/src/LstmSimd.Cli" -c Release -v q -nologo >&2 || exit 1

# name T B I H, as StandardWorkload names them
all=("gru-seq-h64 100 1 64 64" "gru-seq-h256 100 1 256 256" "gru-seq-b64-h512 50 64 512 512" "gru-step-h64 1 1 64 64" "gru-step-h256 1 1 256 256"
     "gru-original-seq-h256 100 1 256 256" "gru-original-seq-b64-h512 50 64 512 512" "gru-original-step-h256 1 1 256 256")
echo "# date=$(date -u +%FT%TZ) threads=$threads rounds=$rounds cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "# dotnet=$(dotnet --version) onednn=$(dpkg-query -W -f '${Version}' libdnnl-dev 2>/dev/null) torch=$(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null) onnxruntime-node=$(node -p "require('$ORT_NODE/package.json').version" 2>/dev/null) openblas=$(dpkg-query -W -f '${Version}' 'libopenblas0*' 2>/dev/null | head -1)"
for round in $(seq 1 "$rounds"); do
  for w in "${all[@]}"; do
    set -- $w; name=$1; shift
    [[ -n ${WORKLOADS:-} && " $WORKLOADS " != *" $name "* ]] && continue
    reps=50; (( $2 * $3 * $4 > 1000000 )) && reps=10
    cell=; [[ $name == gru-original-* ]] && cell=original
    if ours=$("$cli" bench --workload "$name" --threads "$threads" --seconds "$seconds" --json | tr -d ' \n'); then
      us=$(sed -E 's/.*"median_us":([0-9.eE+-]+).*/\1/' <<< "$ours"); isa=$(sed -E 's/.*"isa":"([a-z0-9]+)".*/\1/' <<< "$ours")
      alloc=$(sed -E 's/.*"allocated_bytes":([0-9]+).*/\1/' <<< "$ours")
      echo "$round $name lstmsimd median_us=$us isa=$isa allocated_bytes=$alloc"
    fi
    /usr/bin/python3 "$here/make_onnx_gru.py" "$3" "$4" "$work/g_$3_$4$cell.onnx" $cell
    echo "$round $name $(node "$here/ort_gru.js" "$work/g_$3_$4$cell.onnx" "$@" $reps "$threads")"
    echo "$round $name $("$work/onednn_gru" "$@" $reps $cell)"
    [[ -z $cell ]] && echo "$round $name $(/usr/bin/python3 "$here/torch_gru.py" "$@" $reps "$threads")"
  done
done
