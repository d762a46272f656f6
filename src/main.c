/* kiln: the command line, thin over the libraries. This file dispatches;
 * every command is in src/cli/ (cli.h), and they all read their options
 * through src/cli/opts.c.
 *
 *   kiln build [options]               the article (HTML + PDF)
 *   kiln new DIR                       start an article of your own
 *   kiln preview [options]             serve the site, rebuilt on every save
 *   kiln train key=value ... [options] one experiment
 *   kiln lr-find key=value ... [options]  a learning-rate range test
 *   kiln diff [OLD] [NEW] [options]    what changed between two builds
 *   kiln keys                          every experiment key
 *   kiln version                       version and trainer fingerprint
 *   kiln task CACHE KEY                one run of a Slurm build, on a node
 */
#include "cli/cli.h"
#include "kiln/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"build", kiln_cmd_build, "build the article (HTML site and PDF) from content/ into out/"},
    {"new", kiln_cmd_new, "start a new article in a folder: an index and one chapter with an experiment"},
    {"preview", kiln_cmd_preview, "serve the site on 127.0.0.1, rebuilt and reloaded on every save"},
    {"train", kiln_cmd_train, "train one experiment given as key=value settings"},
    {"lr-find", kiln_cmd_lr_find, "learning-rate range test; prints the suggested rates"},
    {"diff", kiln_cmd_diff, "compare two builds' results (default: the last commit against now)"},
    {"keys", kiln_cmd_keys, "list every experiment key, its accepted values and its default"},
    {"version", kiln_cmd_version, "print the version and the trainer fingerprint"},
    {"task", kiln_cmd_task, "one run of a Slurm build, on a node (kiln build --executor slurm submits it)"},
};
#define N_COMMANDS ((int)(sizeof COMMANDS / sizeof COMMANDS[0]))

static int usage(FILE *f)
{
    fprintf(f, "usage: kiln COMMAND [ARGS]   (kiln COMMAND --help for its options)\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "  %-9s %s\n", "help", "this list, or kiln help COMMAND for a command's options");
    fprintf(f, "\noptions:\n  -h, --help     this list\n  -V, --version  the same as kiln version\n"
               "\nThe manual: man kiln.\n");
    return f == stdout ? 0 : 2;
}

static const command *find(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(COMMANDS[i].name, name)) return &COMMANDS[i];
    return NULL;
}

static int unknown(const char *name)
{
    char names[256] = "help", hint[128]; /* "help" first, for the suggestion only */
    for (int i = 0; i < N_COMMANDS; i++) {
        strcat(names, " ");
        strcat(names, COMMANDS[i].name);
    }
    fprintf(stderr, "kiln: unknown command '%s'%s; commands: %s (kiln --help says what each does)\n", name,
            kiln_did_you_mean(name, names, hint, sizeof hint), names + 5);
    return 2;
}

/* OpenMP threads that spin at barriers stall badly when the machine is
 * shared (a -j build, another job): a spinning thread holds a core its
 * partner needs. libgomp reads OMP_WAIT_POLICY once, at load, so when the
 * user has not chosen a policy kiln sets "passive" and re-executes itself. */
static void choose_wait_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv); /* on failure, go on with the default */
}

int main(int argc, char **argv)
{
    choose_wait_policy(argv);
    if (argc < 2) return usage(stderr);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return usage(stdout);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) return kiln_cmd_version(0, NULL);
    if (!strcmp(cmd, "help")) {
        if (argc < 3) return usage(stdout);
        const command *c = find(argv[2]);
        if (!c) return unknown(argv[2]);
        char *help[] = {"--help", NULL};
        return c->run(1, help);
    }
    if (cmd[0] == '-') {
        char hint[128];
        fprintf(stderr, "kiln: unknown option '%s'%s; a command comes first\n", cmd,
                kiln_did_you_mean(cmd, "--help --version", hint, sizeof hint));
        return usage(stderr);
    }
    const command *c = find(cmd);
    if (!c) return unknown(cmd);
    return c->run(argc - 2, argv + 2);
}
