#!/bin/sh
# What the Slurm tests' tasks run in place of kiln (--slurm-kiln): wait until
# the file $KILN_TEST_GATE exists (so a test can cancel a task or kill a node
# while the task runs, whatever the machine's speed), then run the real kiln,
# $KILN_TEST_KILN; on node $KILN_TEST_ODD_NODE run $KILN_TEST_ODD_KILN, a
# kiln built another way, instead.
while [ ! -e "$KILN_TEST_GATE" ]; do sleep 0.1; done
if [ -n "${KILN_TEST_ODD_NODE:-}" ] && [ "${SLURMD_NODENAME:-}" = "$KILN_TEST_ODD_NODE" ]; then
    exec "$KILN_TEST_ODD_KILN" "$@"
fi
exec "$KILN_TEST_KILN" "$@"
