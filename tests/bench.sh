#!/bin/sh
# make bench: kiln's trainer against both PyTorch peers on the same machine,
# side by side, with the machine's FP32 FMA peak measured in the same run,
# plus the plotter and the cached report build.
#   THREADS=2 BENCH_EPOCHS=2 sh tests/bench.sh
# Each system trains the article's network (batch 250, 48,000 train + 12,000
# validation images); kiln's figure is its fastest epoch. The peak probe runs
# before and after the trainers and its best reading counts. Wall-clock
# figures drift with machine load: read the ratios, measured in one run.
set -eu
THREADS=${THREADS:-2}
EPOCHS=${BENCH_EPOCHS:-2}
DATA=${KILN_DATA:-${KILN_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln/mnist}}
# the shared bench/ folder: next to the main checkout (../shared) or, from a
# worktree under wt/, two levels up
SHARED=${KILN_SHARED:-}
if [ -z "$SHARED" ]; then
    SHARED=../shared
    [ -d "$SHARED/bench" ] || [ ! -d ../../shared/bench ] || SHARED=../../shared
fi
BUILD=build/release
PY=/usr/bin/python3
# FLOP per epoch of the article's network (48,000 trained + 12,000 evaluated
# images), direct-convolution count: forward 5,674,240 FLOP/image, training
# 3x forward minus conv1's input gradient = 16,633,344 FLOP/image.
EPOCH_FLOP=866498560000

# peak: the best of kiln's probe (tests/bench_peak.c, chains sized to the
# register file) and the shared one ($SHARED/bench/peak_fma.c; on AVX2 its
# sixteen chains spill three to the stack and it reads low)
cc -O2 -march=native -fopenmp tests/bench_peak.c -o $BUILD/bench_peak
have_shared_probe=0
if [ -f "$SHARED/bench/peak_fma.c" ] && cc -O2 -march=native -fopenmp "$SHARED/bench/peak_fma.c" -o $BUILD/peak_fma; then
    have_shared_probe=1
fi
: > $BUILD/bench-peak.txt
probe() {
    echo "== FMA peak, $THREADS threads ($1)"
    OMP_NUM_THREADS=$THREADS $BUILD/bench_peak | sed 's/^/bench_peak: /' | tee -a $BUILD/bench-peak.txt
    if [ $have_shared_probe = 1 ]; then
        OMP_NUM_THREADS=$THREADS $BUILD/peak_fma | sed 's/^/peak_fma:   /' | tee -a $BUILD/bench-peak.txt
    fi
}
probe before

# run NAME COMMAND...: time it, keep its output and peak RSS
run() {
    name=$1; shift
    /usr/bin/time -f 'peak_rss_kb %M' -o $BUILD/bench-$name.time "$@" | tee $BUILD/bench-$name.txt
}

echo "== kiln: the article's baseline, $EPOCHS epoch(s), batch 250, $THREADS threads"
run kiln bin/kiln train epochs=$EPOCHS threads=$THREADS test_limit=1000 --data "$DATA" --json $BUILD/bench-kiln.json
# kiln waits at its OpenMP barriers passively (it sets OMP_WAIT_POLICY=passive:
# a shared machine); the peers run libgomp's default, which spins about 3 ms
# (GOMP_SPINCOUNT=300000) before it sleeps. The same waiting, for kiln:
echo "== kiln: the same, spinning at barriers as the peers do (GOMP_SPINCOUNT=300000)"
run kiln-spin env GOMP_SPINCOUNT=300000 bin/kiln train epochs=$EPOCHS threads=$THREADS test_limit=1000 --data "$DATA" \
    --json $BUILD/bench-kiln-spin.json

torch_ok=0
if [ -f "$SHARED/bench/peer_pytorch.py" ] && $PY -c 'import torch' 2>/dev/null; then
    torch_ok=1
    echo "== PyTorch peer, oneDNN-tuned ($SHARED/bench/peer_pytorch_onednn.py), 1 epoch, $THREADS threads"
    run onednn $PY "$SHARED/bench/peer_pytorch_onednn.py" "$DATA" 1 "$THREADS"
    echo "== PyTorch peer, plain ($SHARED/bench/peer_pytorch.py), 1 epoch, $THREADS threads"
    run torch $PY "$SHARED/bench/peer_pytorch.py" "$DATA" 1 "$THREADS"
else
    echo "== PyTorch peers skipped (need $SHARED/bench/ and Debian's python3-torch: sh src/scripts/deps.sh bench)"
fi
probe after

plot=""
if [ -f tests/bench_plot.c ]; then
    make --no-print-directory -s $BUILD/tests/bench_plot && plot=$($BUILD/tests/bench_plot)
fi

report=""
if bin/kiln build --help >/dev/null 2>&1 && [ -d content/cache ]; then
    bin/kiln build --no-run >/dev/null 2>&1 || true   # warm the page cache
    t0=$(date +%s.%N)
    if bin/kiln build --no-run >/dev/null 2>&1; then
        report=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    fi
fi

epoch_s() { sed -n 's/^epoch [0-9/]*[^:]*: .*(\([0-9.]*\) s)$/\1/p; s/^epoch [0-9]*: \([0-9.]*\) s .*/\1/p' "$1" | sort -n | head -1; }
rss_mb() { awk '/peak_rss_kb/ { printf "%.0f", $2 / 1024 }' "$1"; }
# kiln's fastest epoch to the nanosecond from its history (the printed
# line rounds to 0.1 s, 3% of an epoch), else from that line
kiln_epoch_s() {
    $PY -c 'import json, sys; print(min(json.load(open(sys.argv[1]))["epochs"]["seconds"]))' "$1.json" 2>/dev/null ||
        epoch_s "$1.txt"
}
kiln_s=$(kiln_epoch_s $BUILD/bench-kiln)
spin_s=$(kiln_epoch_s $BUILD/bench-kiln-spin)
peak=$(sed -n 's/^[a-z_]*: *\([0-9.]*\) GFLOP\/s.*/\1/p; s/^peak_fma: .*  \([0-9.]*\) GFLOP\/s.*/\1/p' $BUILD/bench-peak.txt | sort -n | tail -1)
onednn_s=""; torch_s=""
if [ $torch_ok = 1 ]; then
    onednn_s=$(epoch_s $BUILD/bench-onednn.txt); torch_s=$(epoch_s $BUILD/bench-torch.txt)
fi

echo
echo "== summary ($THREADS threads, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(grep -o -m1 'avx512f' /proc/cpuinfo || echo avx2))"
awk -v s="$kiln_s" -v f=$EPOCH_FLOP -v p="$peak" -v r="$(rss_mb $BUILD/bench-kiln.time)" 'BEGIN {
    printf "FMA peak:        %7.1f GFLOP/s (best probe reading of this run)\n", p
    printf "kiln:            %7.2f s/epoch  %6.1f GFLOP/s  %4.1f%% of peak  peak RSS %s MB\n", s, f / s / 1e9, 100 * f / s / 1e9 / p, r
}'
awk -v s="$spin_s" -v f=$EPOCH_FLOP -v p="$peak" -v r="$(rss_mb $BUILD/bench-kiln-spin.time)" 'BEGIN {
    printf "kiln, spinning:  %7.2f s/epoch  %6.1f GFLOP/s  %4.1f%% of peak  peak RSS %s MB\n", s, f / s / 1e9, 100 * f / s / 1e9 / p, r
}'
if [ $torch_ok = 1 ]; then
    awk -v s="$kiln_s" -v f=$EPOCH_FLOP -v p="$peak" -v name="PyTorch oneDNN:" -v t="$onednn_s" -v r="$(rss_mb $BUILD/bench-onednn.time)" 'BEGIN {
        printf "%-16s %7.2f s/epoch  %6.1f GFLOP/s  %4.1f%% of peak  peak RSS %s MB  -> kiln %.2fx faster\n", name, t, f / t / 1e9, 100 * f / t / 1e9 / p, r, t / s }'
    awk -v s="$kiln_s" -v f=$EPOCH_FLOP -v p="$peak" -v name="PyTorch plain:" -v t="$torch_s" -v r="$(rss_mb $BUILD/bench-torch.time)" 'BEGIN {
        printf "%-16s %7.2f s/epoch  %6.1f GFLOP/s  %4.1f%% of peak  peak RSS %s MB  -> kiln %.2fx faster\n", name, t, f / t / 1e9, 100 * f / t / 1e9 / p, r, t / s }'
    awk -v s="$spin_s" -v a="$onednn_s" -v b="$torch_s" 'BEGIN {
        printf "kiln, spinning:  %.2fx the oneDNN peer, %.2fx the plain one (all three waiting the same way)\n", a / s, b / s }'
fi
[ -n "$plot" ] && echo "$plot"
[ -n "$report" ] && printf 'report:   cached build (kiln build --no-run) %.3f s\n' "$report"
exit 0
