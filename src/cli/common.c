/* Helpers shared by the subcommands. */
#include "cli/cli.h"
#include "kiln/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kiln_cli_data_dir(const char *opt)
{
    if (opt) return opt;
    const char *e = getenv("KILN_DATA_DIR");
    return e && *e ? e : "out/data";
}

int kiln_cli_write_file(const char *path, const char *text)
{
    return kiln_write_file_atomic(path, text, strlen(text)) ? 1 : 0;
}
