#!/bin/sh
# Print the compiler and linker flags of kiln's libraries as make variables
# (build/pkg.mk, written after deps.sh has installed the packages). Each
# library is asked on its own, so one that pkg-config does not know is named
# and stops the build instead of blanking every flag.
set -eu
PKGS="libcmark-gfm jansson libpng freetype2 libxxhash libcrypto libmicrohttpd"
CHECK_PKGS="check libxml-2.0"
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
flags() { # $1 = --cflags or --libs, then the packages
    opt=$1; shift
    out=""
    for p in "$@"; do
        if ! f=$($PKG_CONFIG "$opt" "$p" 2>/dev/null); then
            echo "kiln: pkg-config does not know '$p' (is its -dev package installed? src/scripts/deps.sh installs them)" >&2
            exit 1
        fi
        out="$out $f"
    done
    echo "$out"
}
cflags=$(flags --cflags $PKGS)
libs=$(flags --libs $PKGS)
check_cflags=$(flags --cflags $CHECK_PKGS)
check_libs=$(flags --libs $CHECK_PKGS)
echo "# made by src/scripts/pkg-flags.sh after src/scripts/deps.sh; delete it to ask pkg-config again"
echo "PKG_CFLAGS :=$cflags"
echo "PKG_LIBS :=$libs -lcmark-gfm-extensions -lhpdf -lbtparse -lz -lm"
echo "CHECK_CFLAGS :=$check_cflags"
echo "CHECK_LIBS :=$check_libs"
