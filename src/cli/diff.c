/* kiln diff: see cli.h. */
#include "cli/cli.h"

#include <stdio.h>

int kiln_cmd_diff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "kiln diff: not built yet\n");
    return 2;
}
