/* kiln build: see cli.h. */
#include "cli/cli.h"

#include <stdio.h>

int kiln_cmd_build(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "kiln build: not built yet\n");
    return 2;
}
