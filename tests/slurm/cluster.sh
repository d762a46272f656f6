#!/bin/sh
# A Slurm cluster of two simulated nodes on this machine, for kiln's Slurm
# tests and for trying `kiln build --executor slurm` by hand. Needs root and
# Debian's slurmctld, slurmd, slurm-client and munge; starts no system
# service: munged, slurmctld and one slurmd per node run from DIR, with
# their sockets, state, logs and key there, talking over 127.0.0.1 only.
#
#   cluster.sh up [DIR]         start what is not running (idempotent); prints
#                               the line to eval: export SLURM_CONF=DIR/slurm.conf
#   cluster.sh down [DIR]       stop every daemon of DIR (and the jobs' processes)
#                               and remove DIR
#   cluster.sh status [DIR]     sinfo and squeue of the cluster
#   cluster.sh kill-node NODE [DIR]
#                               the node dies: its slurmd and every process of
#                               its jobs are killed (SIGKILL), as if the machine
#                               lost power; `up` starts its slurmd again
#
# DIR defaults to $KILN_SLURM_DIR, else ${TMPDIR:-/tmp}/kiln-slurm-$(id -u).
# Network: where `unshare --net` works, the daemons run in a network namespace
# of their own that has only the loopback device (nothing outside this
# machine, or outside the namespace, can reach them; slurmctld and slurmd
# listen on every address of the namespace they run in), and clients must
# enter it:
#   cluster.sh run CMD ARGS...  (DIR from $KILN_SLURM_DIR or the default)
# runs CMD there with SLURM_CONF set. Elsewhere they run on the host's
# network, addressed as 127.0.0.1, and `run` just sets SLURM_CONF.
# Ports: 6817-6819 in the namespace; on the host three free TCP ports chosen
# at the first `up` and kept in DIR/ports.
# The daemons carry KILN_SLURM_NODE=DIR:NODE in their environment, the jobs'
# processes SLURMD_NODENAME=NODE and SLURM_CONF=DIR/slurm.conf; kill-node and
# down find them by those marks and kill them by process id.
set -eu

NODES="n1 n2"
CPUS=${KILN_SLURM_CPUS:-2}     # per simulated node (config_overrides: may exceed the cores)
MEM=2048                       # MB per node; DefMemPerCPU lets tasks share a node

die() { echo "cluster.sh: $*" >&2; exit 1; }

cmd=${1:-}
[ -n "$cmd" ] || die "usage: cluster.sh up|down|status [DIR] | kill-node NODE [DIR]"
shift
node_arg=
if [ "$cmd" = kill-node ]; then
    node_arg=${1:-}
    [ -n "$node_arg" ] || die "kill-node needs a node name ($NODES)"
    shift
fi
if [ "$cmd" = run ]; then
    [ $# -gt 0 ] || die "run needs a command"
    set -- "${KILN_SLURM_DIR:-${TMPDIR:-/tmp}/kiln-slurm-$(id -u)}" "$@"
fi
DIR=${1:-${KILN_SLURM_DIR:-${TMPDIR:-/tmp}/kiln-slurm-$(id -u)}}
case "$DIR" in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
CONF=$DIR/slurm.conf

# a pid file whose process runs (a zombie does not count)
alive() {
    p=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$p" ] && [ -r "/proc/$p/stat" ] || return 1
    st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
    [ -n "$st" ] && [ "$st" != Z ]
}

# pids of the processes of node $1 ("" = every node) of this cluster: the
# daemons (and slurmstepd) carry KILN_SLURM_NODE=DIR:NODE, the jobs' own
# processes SLURMD_NODENAME=NODE and this cluster's SLURM_CONF
marked() {
    n=${1:-[a-z0-9]*}
    for e in /proc/[0-9]*/environ; do
        p=${e#/proc/}; p=${p%/environ}
        [ "$p" = "$$" ] && continue
        env=$( { tr '\0' '\n' <"$e"; } 2>/dev/null) || continue
        if printf '%s\n' "$env" | grep -qx "KILN_SLURM_NODE=$DIR:$n" ||
            { printf '%s\n' "$env" | grep -qx "SLURM_CONF=$CONF" && printf '%s\n' "$env" | grep -qx "SLURMD_NODENAME=$n"; }; then
            echo "$p"
        fi
    done
}

# the command prefix that enters the cluster's network ("" on the host's)
ns() {
    [ "$(cat "$DIR/netmode" 2>/dev/null)" = netns ] || return 0
    alive "$DIR/run/netns.pid" || die "the cluster's network namespace is gone (run: cluster.sh down, then up)"
    echo "nsenter --net=/proc/$(cat "$DIR/run/netns.pid")/ns/net"
}

start_netns() {
    if [ ! -s "$DIR/netmode" ]; then
        if [ "${KILN_SLURM_NETNS:-1}" != 0 ] && unshare --net true 2>/dev/null; then echo netns >"$DIR/netmode"
        else echo host >"$DIR/netmode"; fi
    fi
    [ "$(cat "$DIR/netmode")" = netns ] || return 0
    alive "$DIR/run/netns.pid" && return 0
    [ ! -f "$DIR/run/slurmctld.pid" ] || ! alive "$DIR/run/slurmctld.pid" \
        || die "daemons run but their network namespace holder is gone (run: cluster.sh down, then up)"
    rm -f "$DIR/run/netns.pid"
    # the namespace lives as long as this holder (and the daemons) do; the
    # second loopback address is there because getaddrinfo(AI_ADDRCONFIG),
    # which slurmctld uses to listen, finds no IPv4 address in a namespace
    # that has only 127.0.0.1
    setsid env KILN_SLURM_NODE="$DIR:netns" unshare --net sh -c \
        'ip link set lo up && ip addr add 127.0.0.2/8 dev lo && echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec sleep 2147483647' sh "$DIR/run/netns.pid" \
        </dev/null >/dev/null 2>&1 &
    i=0
    until alive "$DIR/run/netns.pid"; do
        i=$((i + 1)); [ "$i" -lt 100 ] || die "could not start a network namespace"
        sleep 0.05
    done
}

port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

pick_ports() {
    # three consecutive free ports above 20000, starting from a spot that
    # depends on this process, so two clusters at once do not collide
    base=$((20000 + ($$ * 7) % 30000))
    tries=0
    while :; do
        if port_free "$base" && port_free $((base + 1)) && port_free $((base + 2)); then
            echo "$base $((base + 1)) $((base + 2))"; return
        fi
        base=$((base + 3)); tries=$((tries + 1))
        [ "$tries" -lt 500 ] || die "no three free TCP ports found"
    done
}

write_conf() {
    set -- $(cat "$DIR/ports")
    cat >"$CONF" <<EOF
# written by kiln's tests/slurm/cluster.sh; state and logs in $DIR
ClusterName=kiln-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$1
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=128
SlurmdParameters=config_overrides
ReturnToService=2
SlurmdTimeout=5
SlurmctldTimeout=10
InactiveLimit=0
KillWait=2
MinJobAge=600
MessageTimeout=5
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
NodeName=n1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$2 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
NodeName=n2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$3 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
}

up() {
    [ "$(id -u)" = 0 ] || die "must run as root (slurmd starts jobs as their users)"
    for b in munged mungekey slurmctld slurmd sinfo; do
        command -v "$b" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
        command -v "$b" >/dev/null 2>&1 || die "$b not found (apt-get install munge slurmctld slurmd slurm-client)"
    done
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    mkdir -p "$DIR/munge" "$DIR/ctld" "$DIR/run" "$DIR/log" "$DIR/spool"
    chmod 700 "$DIR/munge"
    start_netns
    NS=$(ns)
    if [ ! -s "$DIR/ports" ]; then
        if [ -n "$NS" ]; then echo "6817 6818 6819" >"$DIR/ports"; else pick_ports >"$DIR/ports"; fi
    fi
    write_conf

    if ! alive "$DIR/run/munged.pid"; then
        [ -s "$DIR/munge/munge.key" ] || mungekey --create --keyfile="$DIR/munge/munge.key" >/dev/null
        chmod 600 "$DIR/munge/munge.key"
        # --force: munged runs as root here (its own key, socket and files in DIR)
        munged --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
            --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
            --seed-file="$DIR/munge/munged.seed" 2>>"$DIR/log/munged.log" \
            || die "munged did not start; see $DIR/log/munged.log"
    fi
    export SLURM_CONF="$CONF"
    if ! alive "$DIR/run/slurmctld.pid"; then
        $NS slurmctld -f "$CONF" -i || die "slurmctld did not start; see $DIR/log/slurmctld.log"
    fi
    for n in $NODES; do
        alive "$DIR/run/slurmd-$n.pid" && continue
        mkdir -p "$DIR/spool/$n"
        env KILN_SLURM_NODE="$DIR:$n" $NS slurmd -f "$CONF" -N "$n" \
            || die "slurmd $n did not start; see $DIR/log/slurmd-$n.log"
    done
    # wait (up to 60 s) until both nodes take jobs
    t_end=$(($(date +%s) + 60))
    while :; do
        alive "$DIR/run/slurmctld.pid" || die "slurmctld died; see $DIR/log/slurmctld.log"
        st=$(timeout 5 $NS sinfo -h -N -o '%N %t' 2>/dev/null | sort -u || true)
        ready=0
        for n in $NODES; do
            case "$st" in *"$n idle"*|*"$n mix"*|*"$n alloc"*) ready=$((ready + 1)) ;; esac
        done
        [ "$ready" -eq 2 ] && break
        # a node that was down (killed) is resumed once its slurmd is back
        for n in $NODES; do
            case "$st" in *"$n down"*) $NS scontrol update nodename="$n" state=resume 2>/dev/null || true ;; esac
        done
        [ "$(date +%s)" -lt "$t_end" ] || die "nodes not idle after 60 s: $st (logs in $DIR/log)"
        sleep 0.2
    done
    echo "export SLURM_CONF=$CONF"
    [ -z "$NS" ] || echo "# clients run in the cluster's network: KILN_SLURM_DIR=$DIR $0 run CMD ..."
}

down() {
    [ -d "$DIR" ] || return 0
    [ -f "$CONF" ] || die "$DIR has no slurm.conf: not a cluster.sh folder, left alone"
    for f in "$DIR"/run/slurmd-*.pid "$DIR/run/slurmctld.pid" "$DIR/run/munged.pid" "$DIR/run/netns.pid"; do
        alive "$f" && kill "$(cat "$f")" 2>/dev/null || true
    done
    # what the jobs left running, and daemons that ignored SIGTERM
    i=0
    while :; do
        left=""
        for f in "$DIR"/run/*.pid; do alive "$f" && left="$left $(cat "$f")"; done
        left="$left $(marked)"
        [ -z "$(echo $left)" ] && break
        i=$((i + 1))
        if [ "$i" -ge 25 ]; then for p in $left; do kill -9 "$p" 2>/dev/null || true; done; fi
        [ "$i" -lt 50 ] || die "processes still alive:$left"
        sleep 0.2
    done
    rm -rf "$DIR"
}

kill_node() {
    case " $NODES " in *" $node_arg "*) ;; *) die "no node $node_arg (nodes: $NODES)" ;; esac
    pids=$(marked "$node_arg")
    [ -n "$pids" ] || die "node $node_arg has no processes"
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    rm -f "$DIR/run/slurmd-$node_arg.pid"
}

case "$cmd" in
up) up ;;
down) down ;;
status) NS=$(ns); SLURM_CONF=$CONF $NS sinfo -N; SLURM_CONF=$CONF $NS squeue -t all ;;
run) shift; NS=$(ns); SLURM_CONF=$CONF exec $NS "$@" ;;
kill-node) kill_node ;;
*) die "unknown command '$cmd' (up, down, status, run, kill-node)" ;;
esac
