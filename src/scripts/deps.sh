#!/bin/sh
# Install the Debian packages kiln needs, if any are missing.
# As root: apt-get installs them. Otherwise: print the exact command and fail.
#   deps.sh [DIR]    what the build and `make check` need, plus what the data
#                    sets of the article in DIR (default content/) need:
#                    data = fashion-mnist needs dataset-fashion-mnist
#   deps.sh slurm    what the Slurm tests need (tests/slurm/: a two-node Slurm
#                    cluster on this machine); the build never needs them
#   deps.sh bench    what `make bench` adds: Debian's PyTorch for the two peers
#                    (../shared/bench/) and time(1) for peak memory
#   deps.sh browser  what the browser tests (tests/browser/, part of make
#                    check) need: Debian's chromium and npm, then the npm
#                    packages (playwright-core, axe-core, pinned by
#                    package-lock.json) into the ignored
#                    tests/browser/node_modules by `npm ci`, when they are
#                    missing or the lock file is newer
set -eu
if [ "${1:-}" = browser ]; then
    PKGS="chromium npm"
elif [ "${1:-}" = slurm ]; then
    PKGS="munge slurmctld slurmd slurm-client iproute2 util-linux procps jq"
elif [ "${1:-}" = bench ]; then
    PKGS="python3-torch time"
else
CONTENT=${1:-content}
PKGS="build-essential pkg-config libcmark-gfm-dev libcmark-gfm-extensions-dev libhpdf-dev libpng-dev zlib1g-dev check \
libjansson-dev libxxhash-dev libssl-dev libfreetype-dev fonts-dejavu-core fonts-dejavu-extra \
libxml2-dev poppler-utils time npm git libbtparse-dev groff-base man-db libmicrohttpd-dev"
if [ -d "$CONTENT" ] && grep -qsE '^[[:space:]]*data[[:space:]]*=[[:space:]]*fashion-mnist[[:space:]]*$' "$CONTENT"/*.md; then
    PKGS="$PKGS dataset-fashion-mnist"
fi
fi
# the browser tests' npm packages, once Chromium and npm are there
npm_packages() {
    [ "${1:-}" = browser ] || return 0
    B=$(dirname "$0")/../../tests/browser
    if [ -f "$B/node_modules/.package-lock.json" ] && [ ! "$B/package-lock.json" -nt "$B/node_modules/.package-lock.json" ]; then
        return 0
    fi
    echo "kiln: installing the browser tests' npm packages (npm ci in tests/browser)"
    (cd "$B" && npm ci --no-audit --no-fund --loglevel=error)
}
missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) # npm may come from outside Debian (nodesource, nvm): accept a working binary
           if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
           missing="$missing $p" ;;
    esac
done
if [ -z "$missing" ]; then npm_packages "${1:-}"; exit 0; fi
if [ "$(id -u)" = 0 ]; then
    echo "kiln: installing missing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
    npm_packages "${1:-}"
else
    echo "kiln: missing Debian packages:$missing" >&2
    echo "kiln: run as root:  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
