#!/bin/sh
# Install the Debian packages kiln needs, if any are missing.
# As root: apt-get installs them. Otherwise: print the exact command and fail.
#   deps.sh          what the build and `make check` need
#   deps.sh slurm    what the Slurm tests need (tests/slurm/: a two-node Slurm
#                    cluster on this machine); the build never needs them
#   deps.sh bench    what `make bench` adds: Debian's PyTorch for the two peers
#                    (../shared/bench/) and time(1) for peak memory
set -eu
if [ "${1:-}" = slurm ]; then
    PKGS="munge slurmctld slurmd slurm-client iproute2 util-linux procps"
elif [ "${1:-}" = bench ]; then
    PKGS="python3-torch time"
else
PKGS="build-essential pkg-config libcmark-dev libhpdf-dev libpng-dev zlib1g-dev check \
libjansson-dev libxxhash-dev libssl-dev libfreetype-dev fonts-dejavu-core fonts-dejavu-extra \
libxml2-dev poppler-utils time npm libbtparse-dev"
fi
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
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "kiln: installing missing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "kiln: missing Debian packages:$missing" >&2
    echo "kiln: run as root:  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
