/* kiln lr-find: see cli.h. */
#include "cli/cli.h"

#include <stdio.h>

int kiln_cmd_lr_find(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "kiln lr-find: not built yet\n");
    return 2;
}
