#!/bin/sh
# How kiln's OpenMP threads should wait at barriers: seconds per epoch of
# `kiln train epochs=2 threads=2` alone and with two trainings sharing the
# cores, for passive waiting and five spin counts, ROUNDS rounds interleaved.
#   sh tests/bench_wait.sh [ROUNDS]      (after make; KILN_DATA as for make)
# A benchmark, not a test: it asserts nothing. The README's table came from it.
set -u
ROUNDS=${1:-3}
DATA=${KILN_DATA:-$HOME/.cache/kiln/mnist}
BIN=${KILN_BIN:-bin/kiln}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
epochs() { grep -o '([0-9.]* s)' "$1" | tr -d '()s' | tr '\n' ' '; }
train() { env "$1" "$BIN" train epochs=2 threads=2 test_limit=1000 --data "$DATA" > "$2" 2>&1; }
echo "round waiting: alone | two at once (seconds per epoch)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for e in OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=1000 GOMP_SPINCOUNT=3000 GOMP_SPINCOUNT=10000 \
             GOMP_SPINCOUNT=30000 GOMP_SPINCOUNT=300000; do
        train "$e" "$T/a"
        train "$e" "$T/b" & train "$e" "$T/c"; wait
        echo "$r $e: $(epochs "$T/a")| $(epochs "$T/b") $(epochs "$T/c")"
    done
    r=$((r + 1))
done
