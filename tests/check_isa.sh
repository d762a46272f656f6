#!/bin/sh
# make check-isa: the trainer built for different micro-kernels gives the
# same bytes. Builds src/train three ways, trains the article's network on
# 2,000 images with each and compares digests of the per-step history and
# the final weights:
#   native    -march=native (the AVX-512 12x32 or AVX2 6x16 kernel)
#   portable  -march=native without AVX2/AVX-512: the plain C kernel, 6x16
#   wide      the plain C kernel with AVX-512's 12x32 tile
# Every product element is one fused multiply-add chain in a fixed order, so
# the tile shape and instruction set must not change a bit.
#   sh tests/check_isa.sh DATA_DIR
set -eu
DATA=${1:-${KILN_DATA:-$HOME/.cache/kiln/mnist}}
OUT=build/isa
CC=${CC:-cc}
LIBS="-lm $(pkg-config --libs jansson libxxhash zlib libcrypto 2>/dev/null || true)"
mkdir -p $OUT
digest() {
    name=$1; shift
    mkdir -p $OUT/$name
    for f in src/train/*.c; do
        $CC -std=c11 -O3 -fopenmp -fno-math-errno -ffp-contract=off -Iinclude -Isrc -Ibuild/release/gen -D_GNU_SOURCE "$@" \
            -c "$f" -o $OUT/$name/$(basename "$f" .c).o
    done
    $CC -std=c11 -O3 -fopenmp -ffp-contract=off -Iinclude "$@" tests/isa_digest.c $OUT/$name/*.o $LIBS -o $OUT/$name/isa_digest
    d=$(OMP_WAIT_POLICY=passive $OUT/$name/isa_digest "$DATA")
    echo "$name: $d"
    echo "$d" > $OUT/$name.digest
}
digest native -march=native
digest portable -march=native -mno-avx2 -mno-avx512f
digest wide -march=native -mno-avx2 -mno-avx512f -DKILN_PORTABLE_WIDE
if cmp -s $OUT/native.digest $OUT/portable.digest && cmp -s $OUT/native.digest $OUT/wide.digest; then
    echo "check_isa: native, portable and wide builds agree"
else
    echo "check_isa: FAIL: the builds differ" >&2
    exit 1
fi
