/* The kiln subcommands. src/main.c dispatches; each command lives in its own
 * file here and stays thin over the libraries. Each returns the process exit
 * status: 0 success, 1 failure while working, 2 bad input (usage, keys,
 * content errors). argv excludes the program and command names. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

int kiln_cmd_lr_find(int argc, char **argv);
int kiln_cmd_build(int argc, char **argv);
int kiln_cmd_diff(int argc, char **argv);

/* Shared helpers (src/cli/common.c). */
const char *kiln_cli_data_dir(const char *opt);       /* --data, KILN_DATA_DIR, out/data */
/* kiln_write_file_atomic (libkiln_report): 0 = ok, else 1 with errno set. */
int kiln_cli_write_file(const char *path, const char *text);
#endif
