#!/bin/sh
# Build the article (full scale, from the committed cache) and the smoke
# article with a fixed SOURCE_DATE_EPOCH, and keep or compare the outputs.
#
#   sh tests/same-output.sh save  DIR   # write the builds into DIR (the baseline)
#   sh tests/same-output.sh check DIR   # build again and compare with DIR, byte for byte
#
# Every file the builds write is compared (HTML pages, PNGs, the PDF,
# results.json, style.css); the cache folders are not part of it. The smoke
# runs are trained once into build/same-output/smoke-cache and served from
# there afterwards, so a check compares the writers, not the trainer.
# Used to show that a refactoring of src/ changed no output.
set -eu
mode=${1:?usage: same-output.sh save|check DIR}
dir=${2:?usage: same-output.sh save|check DIR}
bin=${KILN_BIN:-bin/kiln}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600}
export KILN_DATA=${KILN_DATA:-${KILN_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln/mnist}}
smoke_cache=build/same-output/smoke-cache
mkdir -p "$smoke_cache"

build_into() {
    rm -rf "$1"
    mkdir -p "$1"
    "$bin" build -q --no-run --cache content/cache --out "$1/full"
    # twice: the first build may train (results.json says "cached": false),
    # the second is served from the cache like every later one
    "$bin" build -q --smoke -j 2 --cache "$smoke_cache" --out "$1/smoke"
    "$bin" build -q --smoke -j 2 --cache "$smoke_cache" --out "$1/smoke"
}

case $mode in
save)
    build_into "$dir"
    echo "same-output: baseline in $dir ($(find "$dir" -type f | wc -l) files)"
    ;;
check)
    [ -d "$dir/full" ] || { echo "same-output: no baseline in $dir (run: $0 save $dir)" >&2; exit 2; }
    new=build/same-output/new
    build_into "$new"
    if diff -r "$dir" "$new" >build/same-output/diff.txt; then
        echo "same-output: identical ($(find "$new" -type f | wc -l) files)"
    else
        cat build/same-output/diff.txt >&2
        echo "same-output: outputs differ from $dir" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: same-output.sh save|check DIR" >&2
    exit 2
    ;;
esac
