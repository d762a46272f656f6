#!/bin/sh
# The longest C functions under the given folders (default src):
#   sh tests/funclen.sh [-n N] [DIR...]    # N rows (default 10): lines, file:line, name
# A function is counted from the line that names it to its closing brace in
# column 0 (kiln's style: the opening brace of a function alone in column 0).
n=10
[ "${1:-}" = -n ] && { n=$2; shift 2; }
[ $# -eq 0 ] && set -- src
find "$@" -name '*.c' | sort | xargs awk '
    FNR == 1 { inf = 0 }
    !inf && /^[A-Za-z_].*\(/ && !/;[ \t]*$/ { sig = FNR; name = $0 }
    !inf && /^\{/ { inf = 1; start = sig ? sig : FNR; fname = name; next }
    inf && /^\}/ {
        inf = 0
        sub(/\(.*/, "", fname); k = split(fname, w, /[ *]+/)
        printf "%d %s:%d %s\n", FNR - start + 1, FILENAME, start, w[k]
        sig = 0
    }' | sort -rn | head -n "$n"
