#!/bin/sh
# make bench: kiln's trainer against PyTorch on the same machine, side by side,
# plus the machine's FP32 FMA peak, the plotter and the cached report build.
#   THREADS=2 BENCH_EPOCHS=1 sh tests/bench.sh
# Figures drift with machine load: read the ratios, measured in one run.
set -eu
THREADS=${THREADS:-2}
EPOCHS=${BENCH_EPOCHS:-1}
DATA=${KILN_DATA_DIR:-out/data}
SHARED=${KILN_SHARED:-../shared}
BUILD=build/release
# FLOP per epoch of the article's network (48,000 trained + 12,000 evaluated
# images): forward 5,674,240 FLOP/image, training 3x forward minus conv1's
# input gradient = 16,633,344 FLOP/image.
EPOCH_FLOP=866498560000

echo "== kiln: the article's baseline, $EPOCHS epoch(s), batch 250, $THREADS threads"
/usr/bin/time -f 'peak_rss_kb %M' -o $BUILD/bench-time.txt \
    bin/kiln train epochs=$EPOCHS threads=$THREADS test_limit=1000 --data "$DATA" | tee $BUILD/bench-kiln.txt
kiln_s=$(grep '^epoch' $BUILD/bench-kiln.txt | sed 's/.*(\([0-9.]*\) s)/\1/' | sort -n | head -1)
rss_kb=$(sed -n 's/peak_rss_kb //p' $BUILD/bench-time.txt)

torch_s=""
if [ -f "$SHARED/bench/peer_pytorch.py" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "== PyTorch peer ($SHARED/bench/peer_pytorch.py), 1 epoch, $THREADS threads"
    /usr/bin/python3 "$SHARED/bench/peer_pytorch.py" "$DATA" 1 "$THREADS" | tee $BUILD/bench-torch.txt
    torch_s=$(sed -n 's/^epoch 1: \([0-9.]*\) s.*/\1/p' $BUILD/bench-torch.txt)
else
    echo "== PyTorch peer skipped (needs $SHARED/bench/peer_pytorch.py and python3-torch)"
fi

peak=""
if [ -f "$SHARED/bench/peak_fma.c" ]; then
    cc -O2 -march=native -fopenmp "$SHARED/bench/peak_fma.c" -o $BUILD/peak_fma
    peak=$(OMP_NUM_THREADS=$THREADS $BUILD/peak_fma | sed -n 's/.*  \([0-9.]*\) GFLOP\/s.*/\1/p')
fi

plot=""
if [ -f tests/bench_plot.c ]; then
    make --no-print-directory -s $BUILD/tests/bench_plot && plot=$($BUILD/tests/bench_plot)
fi

report=""
if bin/kiln build --help >/dev/null 2>&1 && [ -d out/cache ]; then
    bin/kiln build --no-run >/dev/null 2>&1 || true   # warm the page cache
    t0=$(date +%s.%N)
    if bin/kiln build --no-run >/dev/null 2>&1; then
        report=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    fi
fi

echo
echo "== summary"
awk -v s="$kiln_s" -v f=$EPOCH_FLOP -v t="$torch_s" -v p="$peak" -v r="$rss_kb" -v th="$THREADS" 'BEGIN {
    printf "kiln:     %.2f s/epoch, %.0f images/s, %.1f GFLOP/s, peak RSS %.0f MB (%d threads)\n", s, 60000 / s, f / s / 1e9, r / 1024, th
    if (t != "") printf "PyTorch:  %.2f s/epoch  -> kiln is %.2fx faster\n", t, t / s
    if (p != "") printf "FMA peak: %.1f GFLOP/s -> kiln runs at %.0f%% of peak\n", p, 100 * f / s / 1e9 / p
}'
[ -n "$plot" ] && echo "$plot"
[ -n "$report" ] && printf 'report:   cached build (kiln build --no-run) %.3f s\n' "$report"
exit 0
