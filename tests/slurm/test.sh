#!/bin/sh
# kiln build --executor slurm against a real Slurm: a two-node cluster on
# this machine (cluster.sh), the small article in tests/slurm/article/ (six
# runs in phase 1, one that takes a value from the range test in phase 2).
#
#   (each build has its own cache, OUT/cache, never the article's content/cache)
#   1. a Slurm build from an empty cache: tasks on both nodes, every cache
#      entry equal to a local build's (same keys, same numbers; wall times
#      aside), and a second build submits nothing;
#   2. one task cancelled (scancel) and node n2 killed while tasks run: each
#      reported by run id with job id, state, node and log; exit 1; the
#      previous site kept; no entry for those runs; then the node comes back
#      and the next build (KILN_EXECUTOR=slurm) submits only what is missing
#      and ends equal to the local build;
#   3. SIGINT on a waiting build cancels its job;
#   4. a node whose kiln has another trainer fingerprint (the debug build)
#      refuses, naming itself.
#
# Needs root, Debian's Slurm and munge (src/scripts/deps.sh slurm), jq.
# Prints "SKIP: ..." and exits 0 where they are not to be had.
# Env: KILN_BIN (default bin/kiln), KILN_DEBUG_BIN (default bin/kiln-debug),
# KILN_DATA (the MNIST files), KILN_SLURM_TEST_LOGS (see cleanup).
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

skip() { echo "SKIP: Slurm tests: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root (the test cluster's daemons must run as root)"
sh src/scripts/deps.sh slurm || skip "the Slurm packages are missing and could not be installed"
command -v jq >/dev/null 2>&1 || skip "jq is missing (src/scripts/deps.sh slurm installs it)"

abs() { case "$1" in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
K=$(abs "${KILN_BIN:-bin/kiln}")
[ -x "$K" ] || { echo "FAIL: no kiln binary at $K"; exit 1; }
# a kiln built another way (-O0): another trainer fingerprint
if [ -z "${KILN_DEBUG_BIN:-}" ]; then
    ${MAKE:-make} --no-print-directory MODE=debug all >/dev/null || { echo "FAIL: make MODE=debug all"; exit 1; }
fi
KD=$(abs "${KILN_DEBUG_BIN:-bin/kiln-debug}")
[ -x "$KD" ] || { echo "FAIL: no debug kiln at $KD"; exit 1; }
export KILN_DATA="$(abs "${KILN_DATA:-${KILN_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln/mnist}}")"
ART=$ROOT/tests/slurm/article
T=$(mktemp -d "${TMPDIR:-/tmp}/kiln-slurm-test.XXXXXX")
export KILN_SLURM_DIR=$T/cluster
C=$ROOT/tests/slurm/cluster.sh
# KILN_SLURM_TEST_LOGS=DIR keeps the builds' output there
cleanup() {
    [ -z "${KILN_SLURM_TEST_LOGS:-}" ] || { mkdir -p "$KILN_SLURM_TEST_LOGS" && cp "$T"/*.log "$KILN_SLURM_TEST_LOGS"/; }
    "$C" down "$KILN_SLURM_DIR" >/dev/null 2>&1 || "$C" down "$KILN_SLURM_DIR"
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$C" up "$KILN_SLURM_DIR" >"$T/up.log" 2>&1; then
    cat "$T/up.log"
    tail -n 5 "$KILN_SLURM_DIR"/log/*.log 2>/dev/null
    skip "a Slurm cluster could not be started on this machine (see above)"
fi
R="$C run"
export KILN_SLURM_POLL=0.3
export KILN_TEST_KILN=$K
export KILN_TEST_GATE=$T/gate
GATED=$ROOT/tests/slurm/gated-kiln.sh

failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# check DESC COMMAND...: passes when the command succeeds
check() { d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
has() { grep -q -- "$2" "$1"; }
show() { echo "---- $1"; cat "$1"; echo "----"; }

# the numbers of a cache entry, without wall times
numbers() { jq -cS '.key, .kind, .config, (.result | del(.seconds) | if .epochs then .epochs |= del(.seconds) else . end)' "$1"; }
# every entry of cache $2 equals the local build's ($T/local/cache), and there are as many
same_as_local() {
    n=0
    for f in "$T"/local/cache/*.json; do
        k=$(basename "$f")
        [ -f "$1/$k" ] || { echo "missing $k in $1"; return 1; }
        [ "$(numbers "$f")" = "$(numbers "$1/$k")" ] || { echo "$k differs"; return 1; }
        n=$((n + 1))
    done
    [ "$n" -eq 7 ] && [ "$(ls "$1"/*.json | wc -l)" -eq 7 ]
}
# wait up to $1 s for the command to succeed
wait_until() { t=$1; shift; i=0; while ! "$@"; do i=$((i + 1)); [ "$i" -lt $((t * 5)) ] || return 1; sleep 0.2; done; }
job_of() { sed -n 's/.*submitted to Slurm as job array \([0-9]*\).*/\1/p' "$1" | head -n 1; }
tasks() { $R squeue -h -r -t all -j "$1" -o '%i %T %N'; }
n_running() { [ "$(tasks "$1" | grep -c ' RUNNING ')" -ge "$2" ]; }
submitted() { [ -n "$(job_of "$1")" ]; }
# start_gated NAME N: a Slurm build of the article into $T/NAME whose tasks
# wait at the gate (closed); returns once N of them run; sets pid and job
start_gated() {
    rm -f "$T/gate"
    $R "$K" build --executor slurm --slurm-kiln "$GATED" --content "$ART" --out "$T/$1" --cache "$T/$1/cache" >"$T/$1.log" 2>&1 &
    pid=$!
    wait_until 60 submitted "$T/$1.log" || fail "the build did not submit"
    job=$(job_of "$T/$1.log")
    wait_until 60 n_running "$job" "$2" || fail "$2 tasks did not start"
}

t0=$(date +%s)
# ---- the local reference and 1. a Slurm build from an empty cache ----------------
"$K" build -q -j 2 --content "$ART" --out "$T/local" --cache "$T/local/cache" || { echo "FAIL: the local build"; exit 1; }
$R "$K" build --executor slurm --content "$ART" --out "$T/s1" --cache "$T/s1/cache" >"$T/s1.log" 2>&1
check "a Slurm build succeeds" [ $? -eq 0 ]
check "it trains all 7 runs there" has "$T/s1.log" "7 runs: 0 cached, 7 run, 0 failed"
check "phase 1 is one job array of 6 tasks" has "$T/s1.log" "6 runs submitted to Slurm as job array [0-9]* (6 tasks"
check "phase 2 is submitted after it" has "$T/s1.log" "1 run with values from earlier runs submitted to Slurm"
check "a progress line per phase" has "$T/s1.log" "Slurm job [0-9]* (phase 1): [0-9]* queued, [0-9]* running, [0-9]* done, 0 failed, ETA"
check "phase 1's tasks ran on both nodes" grep -q "6 of 6 runs stored; tasks ran on n[12] ([0-9]), n[12] (" "$T/s1.log"
check "every entry equals the local build's" same_as_local "$T/s1/cache"
check "the site is written" [ -s "$T/s1/index.html" ]
check "nothing trained on the submitting host (no 'epoch' lines in the build's output)" sh -c "! grep -q ' epoch ' '$T/s1.log'"
$R "$K" build --executor slurm --content "$ART" --out "$T/s1" --cache "$T/s1/cache" >"$T/s1b.log" 2>&1
check "a second build submits nothing" sh -c "grep -q '7 runs: 7 cached, 0 run' '$T/s1b.log' && ! grep -q submitted '$T/s1b.log'"
[ "$failures" -eq 0 ] || show "$T/s1.log"

# ---- 2. a cancelled task and a lost node ---------------------------------------------
mkdir -p "$T/s2"
cp "$T"/local/*.html "$T/s2/"        # the previous site
start_gated s2 4
tasks "$job" >"$T/s2.tasks"
cancel=$(awk '$2 == "RUNNING" && $3 == "n1" {print $1; exit}' "$T/s2.tasks")
lost=$(awk '$2 == "RUNNING" && $3 == "n2" {print $1}' "$T/s2.tasks" | tr '\n' ' ')
$R scancel "$cancel"
"$C" kill-node n2 "$KILN_SLURM_DIR"
lost_failed() { for j in $lost; do tasks "$job" | grep -q "^$j NODE_FAIL" || return 1; done; }
wait_until 90 lost_failed || fail "the killed node's tasks did not end NODE_FAIL"
touch "$T/gate"
wait "$pid"
rc=$?
check "the build fails (exit 1)" [ "$rc" -eq 1 ]
run_of() { i=${1#*_}; sed -n "s/^# $i: \([^ ]*\) .*/\1/p" "$T"/s2/cache/slurm/jobs/phase1-*.sh; }
check "the cancelled task is reported by run, job id, state, node and log" \
    grep -q "run '$(run_of "$cancel")' failed on Slurm: job $cancel, state CANCELLED, node n1, log $T/s2/cache/slurm/logs/$cancel.log" "$T/s2.log"
for j in $lost; do
    check "the lost node's task $j is reported" \
        grep -q "run '$(run_of "$j")' failed on Slurm: job $j, state NODE_FAIL, node n2, log " "$T/s2.log"
done
check "phase 2 is not submitted" sh -c "! grep -q 'values from earlier runs submitted' '$T/s2.log'"
check "the previous site is kept" cmp -s "$T/local/index.html" "$T/s2/index.html"
stored=$(ls "$T"/s2/cache/*.json 2>/dev/null | wc -l)
check "the other 3 runs are stored, the failed 3 not" [ "$stored" -eq 3 ]
check "no partial entry" sh -c "! ls '$T/s2/cache' | grep -q tmp"
"$C" up "$KILN_SLURM_DIR" >/dev/null 2>&1 || fail "the cluster does not come back"
KILN_EXECUTOR=slurm $R "$K" build --content "$ART" --out "$T/s2" --cache "$T/s2/cache" >"$T/s2b.log" 2>&1
check "the next build succeeds" [ $? -eq 0 ]
check "it submits only the 3 missing runs, then phase 2" \
    sh -c "grep -q '3 runs submitted to Slurm' '$T/s2b.log' && grep -q '7 runs: 3 cached, 4 run, 0 failed' '$T/s2b.log'"
check "and ends equal to the local build" same_as_local "$T/s2/cache"
[ "$failures" -eq 0 ] || { show "$T/s2.log"; show "$T/s2b.log"; }

# ---- 3. Ctrl-C cancels the job ---------------------------------------------------------
start_gated s3 1
kill -INT "$pid"
wait "$pid"
rc=$?
check "an interrupted build fails" [ "$rc" -ne 0 ]
check "it says it cancelled the job" has "$T/s3.log" "interrupted: cancelled Slurm job $job"
all_cancelled() { [ "$(tasks "$job" | grep -vc ' CANCELLED ')" -eq 0 ] && [ "$(tasks "$job" | wc -l)" -eq 6 ]; }
check "every task of the job is cancelled" wait_until 30 all_cancelled
check "nothing is stored" sh -c "! ls '$T'/s3/cache/*.json >/dev/null 2>&1"
touch "$T/gate"

# ---- 4. a node with another trainer fingerprint ------------------------------------------
export KILN_TEST_ODD_NODE=n2 KILN_TEST_ODD_KILN="$KD"
start_gated s4 4
unset KILN_TEST_ODD_NODE KILN_TEST_ODD_KILN
touch "$T/gate"
wait "$pid"
rc=$?
check "a build with a mismatched node fails" [ "$rc" -eq 1 ]
check "the node refuses, naming itself and both fingerprints" \
    grep -q "state FAILED, node n2, .*node n2 refuses run '[a-z0-9-]*': its kiln has trainer fingerprint [0-9a-f]*, the build's is [0-9a-f]*" "$T/s4.log"
refused=$(grep -c "failed on Slurm: job .*node n2 refuses" "$T/s4.log")
others=$(grep -c "failed on Slurm" "$T/s4.log")
stored=$(ls "$T"/s4/cache/*.json 2>/dev/null | wc -l)
check "every run n2 got is refused (at least its 2), every other run stored" \
    [ "$refused" -ge 2 ] && [ "$others" -eq "$refused" ] && [ $((stored + refused)) -eq 6 ]
[ "$failures" -eq 0 ] || { show "$T/s3.log"; show "$T/s4.log"; }

echo "Slurm tests: $failures failed, in $(($(date +%s) - t0)) s (cluster in $KILN_SLURM_DIR)"
[ "$failures" -eq 0 ]
