/* The kiln subcommands. src/main.c dispatches; each command lives in its own
 * file here and stays thin over the libraries. Each returns the process exit
 * status: 0 success, 1 failure while working, 2 bad input (usage, keys,
 * content errors). argv excludes the program and command names. */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stdio.h>

#include "kiln/train.h"

int kiln_cmd_train(int argc, char **argv);
int kiln_cmd_lr_find(int argc, char **argv);
int kiln_cmd_build(int argc, char **argv);
int kiln_cmd_diff(int argc, char **argv);
int kiln_cmd_keys(int argc, char **argv);
int kiln_cmd_new(int argc, char **argv);
int kiln_cmd_preview(int argc, char **argv);
int kiln_cmd_version(int argc, char **argv);
int kiln_cmd_task(int argc, char **argv);

/* ---- the option parser (src/cli/opts.c), one for every command ---------- */

typedef struct kiln_opt {
    const char *name;    /* long name without "--"; NULL ends a table */
    char short_name;     /* -x, or 0 */
    const char *arg;     /* the value's name in the usage ("DIR"), NULL for a flag */
    const char *help;    /* one line, or several separated by '\n' */
    int id;              /* what kiln_args_next returns for it (>= 0) */
} kiln_opt;

typedef struct kiln_cmd {
    const char *name;     /* "build" */
    const char *synopsis; /* after "usage: kiln NAME " */
    const char *summary;  /* what it does, one or more lines */
    const kiln_opt *opts; /* NULL-name terminated, or NULL */
    const char *more;     /* printed after the options ("" or NULL for none) */
} kiln_cmd;

/* The usage text: synopsis, summary, every option with its help, -h/--help
 * and `more`. Returns 0 when printed to stdout (asked for), else 2. */
int kiln_cli_usage(const kiln_cmd *c, FILE *f);

typedef struct kiln_args {
    const kiln_cmd *cmd;
    int argc, i;
    char **argv;
    int operands_only;   /* after "--" */
    const kiln_opt *opt; /* the option last returned */
    unsigned long long given; /* options with a value seen so far (bit = table index) */
    const char *keys[256];    /* the keys of the key=value operands seen (kiln_args_key_once) */
    int n_keys;
} kiln_args;

enum {
    KILN_ARG_END = -1,     /* no more arguments */
    KILN_ARG_OPERAND = -2, /* *value is an argument that is not an option */
    KILN_ARG_HELP = -3,    /* -h/--help: the usage is printed; exit 0 */
    KILN_ARG_ERROR = -4,   /* a bad option: the message is printed; exit 2 */
};

void kiln_args_init(kiln_args *a, const kiln_cmd *c, int argc, char **argv);
/* The key of the operand kv ("key = value") was not given before: 0; else
 * "kiln CMD: key 'K' is given twice" and KILN_ARG_ERROR (the last would
 * silently win otherwise). An option with a value given twice is refused
 * the same way by kiln_args_next. */
int kiln_args_key_once(kiln_args *a, const char *kv);
/* The next argument: an option's id (its value, if it takes one, in *value:
 * from "--name=V", "--name V", "-xV" or "-x V"), or one of KILN_ARG_*. An
 * unknown option or a missing value is reported on stderr with the nearest
 * option's name. */
int kiln_args_next(kiln_args *a, const char **value);
/* The value of the option just returned as an integer in lo..hi / a number
 * >= lo; else a message on stderr and KILN_ARG_ERROR. */
int kiln_args_int(kiln_args *a, const char *v, long lo, long hi, int *out);
int kiln_args_number(kiln_args *a, const char *v, double lo, double *out);
/* What a command returns for a KILN_ARG_* status: 0 for help, 2 else. */
#define KILN_ARG_EXIT(st) ((st) == KILN_ARG_HELP ? 0 : 2)

/* ---- shared helpers (src/cli/common.c) ---------------------------------- */

/* Load the data set `data=VALUE` names (NULL: mnist, found at --data
 * mnist_opt, else $KILN_DATA, else the per-user cache) for a model spec;
 * prints the error as "kiln CMD: ...". Returns 0, 1 (cannot load) or 2 (bad
 * value, or the model does not fit the images). */
int kiln_cli_load_data(const char *cmd, const char *value, const char *mnist_opt, const char *spec,
                       kiln_dataset *train, kiln_dataset *test);
/* kiln_write_file_atomic (libkiln_report): 0 = ok, else 1 with errno set. */
int kiln_cli_write_file(const char *path, const char *text);
/* The folder of the templates: $KILN_TEMPLATES, else templates/ when the
 * current folder has one (a source tree), else the folder the installed
 * kiln was built for (KILN_TEMPLATE_DIR, $(PREFIX)/share/kiln/templates). */
const char *kiln_cli_template_dir(void);
#endif
