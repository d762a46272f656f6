/* The one option parser of every subcommand (see cli.h): --name VALUE,
 * --name=VALUE, -x VALUE, -xVALUE, flags, "--" before operands that start
 * with '-', -h / --help, and usage text made from the same table. */
#include "cli/cli.h"
#include "kiln/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void option_label(const kiln_opt *o, char *buf, size_t n)
{
    char s[8] = "";
    if (o->short_name) snprintf(s, sizeof s, "-%c, ", o->short_name);
    snprintf(buf, n, "%s--%s%s%s", s, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

int kiln_cli_usage(const kiln_cmd *c, FILE *f)
{
    fprintf(f, "usage: kiln %s %s\n%s\n", c->name, c->synopsis, c->summary);
    int w = 0;
    char label[96];
    for (const kiln_opt *o = c->opts; o && o->name; o++) {
        option_label(o, label, sizeof label);
        if ((int)strlen(label) > w) w = (int)strlen(label);
    }
    if (c->opts && c->opts[0].name) fputs("\noptions:\n", f);
    for (const kiln_opt *o = c->opts; o && o->name; o++) {
        option_label(o, label, sizeof label);
        /* the help text may run over several lines: indent the others */
        fprintf(f, "  %-*s  ", w, label);
        for (const char *p = o->help; *p; p++) {
            fputc(*p, f);
            if (*p == '\n' && p[1]) fprintf(f, "  %-*s  ", w, "");
        }
        fputc('\n', f);
    }
    fprintf(f, "  %-*s  %s\n", w, "-h, --help", "print this help and exit");
    if (c->more && *c->more) fprintf(f, "\n%s", c->more);
    return f == stdout ? 0 : 2;
}

void kiln_args_init(kiln_args *a, const kiln_cmd *c, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->cmd = c;
    a->argc = argc;
    a->argv = argv;
}

static int fail(kiln_args *a, const char *fmt, const char *x, const char *y)
{
    fprintf(stderr, "kiln %s: ", a->cmd->name);
    fprintf(stderr, fmt, x, y);
    fprintf(stderr, "\n(kiln %s --help lists the options)\n", a->cmd->name);
    return KILN_ARG_ERROR;
}

static int unknown(kiln_args *a, const char *arg)
{
    char names[2048] = "", hint[160];
    size_t len = 0;
    for (const kiln_opt *o = a->cmd->opts; o && o->name && len + 64 < sizeof names; o++)
        len += (size_t)snprintf(names + len, sizeof names - len, "--%s ", o->name);
    snprintf(names + len, sizeof names - len, "--help");
    /* compare the name without its value */
    char word[96];
    snprintf(word, sizeof word, "%s", arg);
    char *eq = strchr(word, '=');
    if (eq) *eq = 0;
    kiln_did_you_mean(word, names, hint, sizeof hint);
    return fail(a, "unknown option '%s'%s", arg, hint);
}

int kiln_args_next(kiln_args *a, const char **value)
{
    *value = NULL;
    if (a->i >= a->argc) return KILN_ARG_END;
    const char *arg = a->argv[a->i++];
    if (a->operands_only || arg[0] != '-' || !arg[1]) { *value = arg; return KILN_ARG_OPERAND; }
    if (!strcmp(arg, "--")) {
        a->operands_only = 1;
        return kiln_args_next(a, value);
    }
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
        kiln_cli_usage(a->cmd, stdout);
        return KILN_ARG_HELP;
    }
    const kiln_opt *hit = NULL;
    const char *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        for (const kiln_opt *o = a->cmd->opts; o && o->name && !hit; o++)
            if (strlen(o->name) == n && !strncmp(o->name, name, n)) hit = o;
        if (!hit) return unknown(a, arg);
        if (eq) {
            if (!hit->arg) return fail(a, "option '--%s' takes no value (got '%s')", hit->name, eq + 1);
            inline_value = eq + 1;
        }
    } else {
        for (const kiln_opt *o = a->cmd->opts; o && o->name && !hit; o++)
            if (o->short_name == arg[1]) hit = o;
        if (!hit) return unknown(a, arg);
        if (arg[2]) {
            if (!hit->arg) return fail(a, "option '-%s' takes no value (got '%s')", (char[]){hit->short_name, 0}, arg);
            inline_value = arg + 2;
        }
    }
    a->opt = hit;
    if (!hit->arg) return hit->id;
    if (inline_value) { *value = inline_value; return hit->id; }
    if (a->i >= a->argc) {
        char label[96];
        option_label(hit, label, sizeof label);
        return fail(a, "option '%s' needs a value (%s)", arg, label);
    }
    *value = a->argv[a->i++];
    return hit->id;
}

int kiln_args_int(kiln_args *a, const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi) {
        char range[64];
        snprintf(range, sizeof range, "an integer %ld..%ld", lo, hi);
        fprintf(stderr, "kiln %s: --%s needs %s, got '%s'\n", a->cmd->name, a->opt->name, range, v);
        return KILN_ARG_ERROR;
    }
    *out = (int)x;
    return 0;
}

int kiln_args_number(kiln_args *a, const char *v, double lo, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(x) || x < lo) {
        char b[32];
        fprintf(stderr, "kiln %s: --%s needs a number >= %s, got '%s'\n", a->cmd->name, a->opt->name,
                kiln_shortest(lo, b, sizeof b), v);
        return KILN_ARG_ERROR;
    }
    *out = x;
    return 0;
}
