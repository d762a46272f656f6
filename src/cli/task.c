/* kiln task CACHE KEY: one run of a Slurm build, on a node (see
 * kiln_task_run in kiln/report.h and README, "Building on a Slurm cluster").
 * The build's batch script runs it; it is not meant to be typed. */
#include "cli/cli.h"
#include "kiln/report.h"

#include <stdio.h>

static const kiln_cmd CMD = {
    "task", "CACHE KEY",
    "One run of a Slurm build (kiln build --executor slurm), on a node: train the run\n"
    "whose spec the build wrote to CACHE/slurm/spec/KEY.json and store CACHE/KEY.json.",
    NULL,
    "exit status: 0 stored (or already there), 1 the run failed, 2 a bad or missing\n"
    "spec, 3 this node cannot compute the run as the build keyed it (another trainer\n"
    "fingerprint, other data)\n"};

int kiln_cmd_task(int argc, char **argv)
{
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    const char *v, *operand[2] = {NULL, NULL};
    int n = 0;
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        if (id != KILN_ARG_OPERAND) return KILN_ARG_EXIT(id);
        if (n == 2) {
            fprintf(stderr, "kiln task: unexpected argument '%s' (usage: kiln task CACHE KEY)\n", v);
            return 2;
        }
        operand[n++] = v;
    }
    if (n < 2) {
        fprintf(stderr, "kiln task: needs CACHE and KEY (usage: kiln task CACHE KEY)\n");
        return 2;
    }
    char err[2048];
    int rc = kiln_task_run(operand[0], operand[1], stdout, err, sizeof err);
    fflush(stdout);
    if (rc) fprintf(stderr, "kiln task: %s\n", err);
    return rc;
}
