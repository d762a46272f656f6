/* kiln keys: every experiment key with its accepted values, its default and
 * what it does, in aligned columns. Everything comes from the trainer's API:
 * the key table (kiln_config_keys), the full lists of names
 * (kiln_key_choices) and the defaults, read from the canonical text of a
 * default config (kiln_config_canonical), which lists only the keys that
 * matter for the chosen optimizer and schedule: so it is read for each
 * optimizer, each schedule and with early stopping on. */
#include "kiln/report.h"
#include "kiln/train.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const kiln_cmd CMD = {
    "keys", "",
    "List every key an {experiment} (and kiln train, kiln lr-find) takes: its\n"
    "accepted values, its default (the article's baseline) and what it does.",
    NULL, NULL};

#define MAX_VARIANTS 32
#define ACCEPTED_WIDTH 44

typedef struct variant {
    char label[64];   /* "" for the default config, else "sgd", "plateau", ... */
    const char *key;  /* the key the variant sets, NULL for the default config */
    char *canonical;
} variant;

/* The value of key in a canonical text ("key=value\n" lines), or NULL. */
static const char *canonical_value(const char *text, const char *key, char *buf, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            snprintf(buf, n, "%.*s", (int)(len - kl - 1), p + kl + 1);
            return buf;
        }
        if (!e) break;
        p = e + 1;
    }
    return NULL;
}

/* A value as a user writes it: numbers shortest, booleans as words. */
static void shown(const kiln_key_info *k, const char *v, char *buf, size_t n)
{
    char *end;
    double x = strtod(v, &end);
    if (!strcmp(k->type, "bool")) snprintf(buf, n, "%s", strcmp(v, "0") ? "true" : "false");
    else if (*v && !*end && strcmp(k->type, "text")) kiln_shortest(x, buf, n);
    else snprintf(buf, n, "%s", v);
}

static int add_variant(variant *v, int n, const char *label, const char *key, const char *value)
{
    kiln_config c;
    kiln_config_init(&c);
    char err[1024];
    if (key && kiln_config_set(&c, key, value, err, sizeof err)) return n;
    snprintf(v[n].label, sizeof v[n].label, "%s", label);
    v[n].key = key;
    v[n].canonical = kiln_config_canonical(&c);
    return n + 1;
}

/* Keys no canonical text holds (they change no result): from the default
 * config itself. */
static int unlisted_default(const char *key, const kiln_config *c, char *buf, size_t n)
{
    if (!strcmp(key, "model")) snprintf(buf, n, "%s", c->model); /* the canonical text spells the network out */
    else if (!strcmp(key, "checkpoint")) snprintf(buf, n, "%s", c->checkpoint[0] ? c->checkpoint : "(off)");
    else if (!strcmp(key, "checkpoint_best_only")) snprintf(buf, n, "%s", c->checkpoint_best_only ? "true" : "false");
    else if (!strcmp(key, "threads")) snprintf(buf, n, "%d (all cores)", c->threads);
    else return -1;
    return 0;
}

/* "0.001, sgd: 0.01": the default config's value, then the optimizers or
 * schedules that give another. */
static void default_text(const kiln_key_info *k, const variant *v, int nv, const kiln_config *c, char *out, size_t n)
{
    out[0] = 0;
    if (!unlisted_default(k->name, c, out, n)) return;
    char main_v[512] = "", val[512], s[512];
    int have_main = 0;
    size_t len = 0;
    for (int i = 0; i < nv; i++) {
        if (v[i].key && !strcmp(v[i].key, k->name)) continue; /* its own default is the one to show */
        if (!canonical_value(v[i].canonical, k->name, val, sizeof val)) continue;
        if (!have_main) {
            snprintf(main_v, sizeof main_v, "%s", val);
            have_main = 1;
            shown(k, val, s, sizeof s);
            len += (size_t)snprintf(out + len, n - len, "%s%s%s", v[i].label, v[i].label[0] ? ": " : "", s);
        } else if (strcmp(val, main_v)) {
            shown(k, val, s, sizeof s);
            if (len + strlen(s) + 8 < n) len += (size_t)snprintf(out + len, n - len, ", %s: %s", v[i].label, s);
        }
    }
}

/* The accepted values, in full, cut into lines of at most width columns. */
static int wrap(const char *text, int width, char lines[][ACCEPTED_WIDTH + 1], int max_lines)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max_lines) {
        int len = (int)strlen(p);
        if (len > width) {
            len = width;
            while (len > 0 && p[len] != ' ') len--;
            if (len == 0) len = width;
        }
        snprintf(lines[n++], ACCEPTED_WIDTH + 1, "%.*s", len, p);
        p += len;
        while (*p == ' ') p++;
    }
    return n;
}

int kiln_cmd_keys(int argc, char **argv)
{
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    const char *v;
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        if (id == KILN_ARG_OPERAND) {
            fprintf(stderr, "kiln keys: unexpected argument '%s' (kiln keys takes none)\n", v);
            return 2;
        }
        return KILN_ARG_EXIT(id);
    }
    variant vars[MAX_VARIANTS];
    int nv = add_variant(vars, 0, "", NULL, NULL);
    char names[1024];
    static const char *const LISTS[] = {"optimizer", "schedule"};
    for (int l = 0; l < 2; l++) {
        if (kiln_key_choices(LISTS[l], names, sizeof names)) continue;
        for (char *w = strtok(names, " "); w && nv < MAX_VARIANTS - 1; w = strtok(NULL, " "))
            nv = add_variant(vars, nv, w, LISTS[l], w);
    }
    nv = add_variant(vars, nv, "early_stopping", "early_stopping", "true");
    kiln_config c;
    kiln_config_init(&c);

    int nk;
    const kiln_key_info *ki = kiln_config_keys(&nk);
    int wk = (int)strlen("KEY"), wd = (int)strlen("DEFAULT"), wa = (int)strlen("ACCEPTED");
    char (*defaults)[512] = calloc((size_t)nk, sizeof *defaults);
    char (*accepted)[1100] = calloc((size_t)nk, sizeof *accepted);
    if (!defaults || !accepted) return 1;
    for (int i = 0; i < nk; i++) {
        default_text(&ki[i], vars, nv, &c, defaults[i], sizeof defaults[i]);
        if (!kiln_key_choices(ki[i].name, names, sizeof names)) snprintf(accepted[i], sizeof accepted[i], "one of: %s", names);
        else snprintf(accepted[i], sizeof accepted[i], "%s", ki[i].accepted);
        if ((int)strlen(ki[i].name) > wk) wk = (int)strlen(ki[i].name);
        if ((int)strlen(defaults[i]) > wd) wd = (int)strlen(defaults[i]);
        int la = (int)strlen(accepted[i]);
        if (la > wa) wa = la > ACCEPTED_WIDTH ? ACCEPTED_WIDTH : la;
    }
    printf("%-*s  %-*s  %-*s  %s\n", wk, "KEY", wa, "ACCEPTED", wd, "DEFAULT", "MEANING");
    for (int i = 0; i < nk; i++) {
        char lines[8][ACCEPTED_WIDTH + 1];
        int nl = wrap(accepted[i], wa, lines, 8);
        printf("%-*s  %-*s  %-*s  %s\n", wk, ki[i].name, wa, nl ? lines[0] : "", wd, defaults[i], ki[i].help);
        for (int l = 1; l < nl; l++) printf("%-*s  %s\n", wk, "", lines[l]);
    }
    free(defaults);
    free(accepted);
    for (int i = 0; i < nv; i++) free(vars[i].canonical);
    return 0;
}
