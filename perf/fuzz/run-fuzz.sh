#!/usr/bin/env bash
# Coverage-guided fuzzing of LstmSimd's model-file loaders with AFL++ through SharpFuzz: builds perf/LstmSimd.Fuzz,
# instruments LstmSimd.dll, makes seed corpora from the golden files, and runs each target for a bounded time.
#
#   perf/fuzz/run-fuzz.sh [SECONDS_PER_TARGET=300] [TARGET...]      targets: safetensors modelfile onnx torchpickle keras tfjs (default: all)
#   FUZZ_EXECS=10000000 perf/fuzz/run-fuzz.sh 0 onnx                  stop after that many executions instead of a time
#   perf/fuzz/run-fuzz.sh 120 planted-crash planted-hang              check that the harness reports planted faults
#   FUZZ_INSTRUMENT_PUREHDF=0 perf/fuzz/run-fuzz.sh 600 keras         leave the HDF5 reader uninstrumented (faster, blinder)
#
# Needs afl-fuzz (apt-get install afl++) and the sharpfuzz tool
# (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0). Work files go to $FUZZ_WORK
# (default perf/fuzz/work, git-ignored); findings/<target>/default/{crashes,hangs} keep what AFL++ found, and a
# summary line per target (executions, crashes, hangs) is printed at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors modelfile onnx torchpickle keras tfjs)
work=${FUZZ_WORK:-$here/work}
bin=$work/bin
golden=$repo/tests/LstmSimd.Tests/Golden
export PATH="$PATH:$HOME/.dotnet/tools"

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 1; }
command -v sharpfuzz >/dev/null || { echo "sharpfuzz not found: dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0" >&2; exit 1; }

rm -rf "$bin"
dotnet build "$repo/perf/LstmSimd.Fuzz/LstmSimd.Fuzz.csproj" -c Release -o "$bin" -nologo -v quiet

# Seed corpora: the golden files small enough for AFL++ to mutate quickly (under 8 KB; 32 KB for the state_dicts
# that become model files, most of which are larger).
small() { find "$@" -maxdepth 1 -type f -size "-${SEED_KB:-8}k"; }
for t in safetensors modelfile onnx torchpickle keras tfjs; do rm -rf "$work/corpus/$t"; mkdir -p "$work/corpus/$t"; done
small "$golden/pytorch" "$golden/onnx" -name '*.safetensors' | while read -r f; do cp "$f" "$work/corpus/safetensors/"; done
SEED_KB=32 small "$golden/pytorch" -name '*.safetensors' | while read -r f; do
    dotnet "$bin/LstmSimd.Fuzz.dll" seed-modelfile "$f" "$work/corpus/modelfile/$(basename "$f")" || true # not every file is a state_dict
done
small "$golden/onnx" "$golden/onnx-pytorch-export" -name '*.onnx' | while read -r f; do cp "$f" "$work/corpus/onnx/"; done
# The torchpickle target takes a torch.save file's data.pkl (the harness zips it with zero storages).
for f in "$golden"/pytorch-pt/*.pt; do
    name=$(basename "$f" .pt)
    python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.stdout.buffer.write(z.read([n for n in z.namelist() if n.endswith("/data.pkl")][0]))' "$f" > "$work/corpus/torchpickle/$name.pkl" 2>/dev/null || rm -f "$work/corpus/torchpickle/$name.pkl"
done

# The keras target takes whole .keras and .h5 files (the golden ones are 15–25 KB).
SEED_KB=32 small "$golden/keras" \( -name 'k*.keras' -o -name 'k*.h5' \) | while read -r f; do cp "$f" "$work/corpus/keras/"; done

# The tfjs target takes a model.json and its one weight shard packed into one input (see FuzzPipeline.PackTensorFlowJs).
for d in "$golden"/tfjs/*/; do
    dotnet "$bin/LstmSimd.Fuzz.dll" seed-tfjs "$d" "$work/corpus/tfjs/$(basename "$d").tfjs" || true # models of several shards are left out
done

# Instrumented code reports coverage to AFL++'s shared memory, so it runs only under afl-fuzz: instrument after the seeds.
sharpfuzz "$bin/LstmSimd.dll"
sharpfuzz "$bin/LstmSimd.Keras.dll"
# PureHDF (the HDF5 reader under the keras target) is instrumented too unless FUZZ_INSTRUMENT_PUREHDF=0: its coverage
# guides mutations into HDF5's structures, at a large cost in executions per second; without it, only LstmSimd's own
# code guides them.
[[ ${FUZZ_INSTRUMENT_PUREHDF:-1} == 0 ]] || sharpfuzz "$bin/PureHDF.dll"

# The target is a managed program (no compile-time instrumentation for afl-fuzz to find); crashes are exceptions,
# so core dumps are not needed.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
# The tfjs target writes each input to two files: in memory rather than on disk where there is a tmpfs.
[[ -d /dev/shm && -w /dev/shm ]] && export TMPDIR=/dev/shm
for t in "${targets[@]}"; do
    rm -rf "$work/findings/$t"
    mkdir -p "$work/findings"
    case $t in planted-*) corpus=$work/corpus/safetensors ;; *) corpus=$work/corpus/$t ;; esac
    if [ -n "${FUZZ_EXECS:-}" ]; then bound=(-E "$FUZZ_EXECS"); else bound=(-V "$seconds"); fi
    # Instrumented PureHDF is far slower than native on some damaged HDF5 files (inputs refused in 0.2 s natively took
    # 4 s and more under AFL++), so the keras target gets a longer limit; a finding still needs checking natively.
    case $t in keras|tfjs) limit=20000 ;; *) limit=5000 ;; esac
    afl-fuzz -i "$corpus" -o "$work/findings/$t" "${bound[@]}" -t "$limit" -m none -- "$(command -v dotnet)" "$bin/LstmSimd.Fuzz.dll" "$t" \
        > "$work/afl-$t.log" 2>&1 || { echo "afl-fuzz failed for $t; see $work/afl-$t.log" >&2; tail -20 "$work/afl-$t.log" >&2; exit 1; }
done

# A real target passes with no crash and no hang; a planted one passes only when AFL++ reported its fault.
verdict=0
for t in "${targets[@]}"; do
    stats=$work/findings/$t/default/fuzzer_stats
    value() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
    crashes=$(value saved_crashes) hangs=$(value saved_hangs)
    case $t in
        planted-crash) ok=$([ "$crashes" -gt 0 ] && echo found || echo MISSED) ;;
        planted-hang) ok=$([ "$hangs" -gt 0 ] && echo found || echo MISSED) ;;
        *) ok=$([ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ] && echo clean || echo FINDINGS) ;;
    esac
    case $ok in MISSED|FINDINGS) verdict=1 ;; esac
    echo "$t: $(value execs_done) executions in $(value run_time) s, $(value corpus_count) corpus entries, $crashes crashes, $hangs hangs, stability $(value stability): $ok"
done
exit $verdict
