/* Helpers shared by the subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *kiln_cli_data_dir(const char *opt)
{
    if (opt) return opt;
    const char *e = getenv("KILN_DATA_DIR");
    return e && *e ? e : "out/data";
}

int kiln_cli_write_file(const char *path, const char *text)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return 1;
    int ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) { unlink(tmp); return 1; }
    return 0;
}
