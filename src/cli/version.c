/* kiln version (and kiln --version): the version and the trainer's
 * fingerprint, the hash of the training code that every cache key holds. */
#include "kiln/train.h"
#include "cli/cli.h"

#include <stdio.h>

static const kiln_cmd CMD = {
    "version", "", "Print kiln's version and the trainer fingerprint (part of every cache key).", NULL, NULL};

int kiln_cmd_version(int argc, char **argv)
{
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    const char *v;
    int id = kiln_args_next(&a, &v);
    if (id == KILN_ARG_OPERAND) {
        fprintf(stderr, "kiln version: unexpected argument '%s'\n", v);
        return 2;
    }
    if (id != KILN_ARG_END) return KILN_ARG_EXIT(id);
    printf("kiln %s, trainer %s\n", kiln_version(), kiln_trainer_fingerprint());
    return 0;
}
