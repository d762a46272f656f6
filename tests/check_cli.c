/* The command line and its messages: "did you mean", numbers in their
 * shortest form, errors in file and line order, and bin/kiln itself (named
 * by $KILN_BIN, as `make check` does). */
#include "kiln/report.h"
#include "testutil.h"

#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- running bin/kiln -------------------------------------------------------------------- */

typedef struct result {
    int status;       /* exit status, -1 if it did not exit */
    char *out, *err;  /* what it wrote (never NULL) */
} result;

static const char *kiln_bin(void)
{
    const char *b = getenv("KILN_BIN");
    ck_assert_msg(b && *b, "KILN_BIN names the kiln binary (make check sets it)");
    static char abs_path[4096];
    if (b[0] == '/') return b;
    ck_assert_ptr_nonnull(realpath(b, abs_path));
    return abs_path;
}

/* Run `kiln ARGS` (a shell fragment) in folder dir (NULL: here), with env
 * (a shell fragment of assignments, or NULL) in front. */
static result run_in(const char *dir, const char *env, const char *args)
{
    char tmp[64];
    ck_assert_ptr_nonnull(test_tmpdir(tmp));
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s%s%s %s '%s' %s >'%s/out' 2>'%s/err' </dev/null", dir ? "cd '" : "", dir ? dir : "",
             dir ? "' && " : "", env ? env : "", kiln_bin(), args, tmp, tmp);
    int st = system(cmd);
    result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char p[128];
    snprintf(p, sizeof p, "%s/out", tmp);
    r.out = test_read_file(p, NULL);
    unlink(p);
    snprintf(p, sizeof p, "%s/err", tmp);
    r.err = test_read_file(p, NULL);
    unlink(p);
    rmdir(tmp);
    if (!r.out) r.out = strdup("");
    if (!r.err) r.err = strdup("");
    return r;
}

static result run(const char *args) { return run_in(NULL, NULL, args); }

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

#define ck_has(text, needle) ck_assert_msg(strstr((text), (needle)), "'%s' not in:\n%s", (needle), (text))
#define ck_lacks(text, needle) ck_assert_msg(!strstr((text), (needle)), "'%s' unexpectedly in:\n%s", (needle), (text))

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ck_assert_int_eq(test_write_file(p, text, strlen(text)), 0);
}

/* ---- did you mean ------------------------------------------------------------------------ */

START_TEST(test_suggest)
{
    char b[64];
    const char *keys = "learning_rate, optimizer schedule epochs";
    ck_assert_int_eq(kiln_suggest("lerning_rate", keys, b, sizeof b), 1);
    ck_assert_str_eq(b, "learning_rate");
    ck_assert_int_eq(kiln_suggest("optimiser", keys, b, sizeof b), 1);
    ck_assert_str_eq(b, "optimizer");
    ck_assert_int_eq(kiln_suggest("shcedule", keys, b, sizeof b), 1); /* a swap is one edit */
    ck_assert_str_eq(b, "schedule");
    ck_assert_int_eq(kiln_suggest("EPOCHS", keys, b, sizeof b), 1);   /* case ignored */
    ck_assert_str_eq(b, "epochs");
    ck_assert_int_eq(kiln_suggest("learn", keys, b, sizeof b), 1);    /* the only name it begins */
    ck_assert_str_eq(b, "learning_rate");
    ck_assert_int_eq(kiln_suggest("epochs", keys, b, sizeof b), 0);   /* accepted: nothing to suggest */
    ck_assert_int_eq(kiln_suggest("banana", keys, b, sizeof b), 0);   /* nothing near */
    ck_assert_int_eq(kiln_suggest("x", "d sci", b, sizeof b), 0);     /* one letter is not a slip of another */
    ck_assert_int_eq(kiln_suggest("", keys, b, sizeof b), 0);
    ck_assert_str_eq(kiln_did_you_mean("figur", "{experiment}, {figure}", b, sizeof b), " (did you mean 'figure'?)");
    ck_assert_str_eq(kiln_did_you_mean("zzzzzz", "{experiment}, {figure}", b, sizeof b), "");
}
END_TEST

START_TEST(test_key_choices_in_full)
{
    /* the trainer's key table cuts long lists of names; kiln_key_choices has all */
    char b[1024];
    ck_assert_int_eq(kiln_key_choices("schedule", b, sizeof b), 0);
    ck_has(b, "one_cycle plateau");
    ck_assert_int_eq(kiln_key_choices("optimizer", b, sizeof b), 0);
    ck_has(b, "sgd adam");
    ck_assert_int_eq(kiln_key_choices("epochs", b, sizeof b), -1);
    kiln_config c;
    kiln_config_init(&c);
    char err[4096];
    ck_assert_int_ne(kiln_config_set_hinted(&c, "schedule", "platau", err, sizeof err), 0);
    ck_has(err, "'platau' (did you mean 'plateau'?) is not accepted");
    ck_assert_int_ne(kiln_config_set_kv_hinted(&c, "lerning_rate=0.1", err, sizeof err), 0);
    ck_has(err, "unknown key 'lerning_rate' (did you mean 'learning_rate'?)");
    ck_assert_int_eq(kiln_config_set_kv_hinted(&c, "schedule=plateau", err, sizeof err), 0);
    ck_assert_str_eq(c.schedule, "plateau");
}
END_TEST

START_TEST(test_shortest)
{
    char b[64];
    ck_assert_str_eq(kiln_shortest(0.921, b, sizeof b), "0.921");
    ck_assert_str_eq(kiln_shortest(0.1 + 0.2, b, sizeof b), "0.30000000000000004");
    ck_assert_str_eq(kiln_shortest(1e-7, b, sizeof b), "1e-07");
    ck_assert_str_eq(kiln_shortest(25, b, sizeof b), "25");
    ck_assert_str_eq(kiln_shortest(NAN, b, sizeof b), "nan");
    ck_assert_str_eq(kiln_shortest(-INFINITY, b, sizeof b), "-inf");
    /* it reads back exactly, for awkward values too */
    double v[] = {1.0 / 3, 2.0 / 3, 9868.0 / 10000, 0.0099999999999999985, 5e-324, 1.7976931348623157e308};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        kiln_shortest(v[i], b, sizeof b);
        ck_assert_msg(strtod(b, NULL) == v[i], "%s does not read back as %.17g", b, v[i]);
        /* and one significant digit fewer does not */
        int digits = 0, lead = 1;
        for (const char *p = b; *p && *p != 'e'; p++) {
            if (*p < '0' || *p > '9') continue;
            if (lead && *p == '0') continue;
            lead = 0;
            digits++;
        }
        if (digits > 1) {
            char shorter[320];
            snprintf(shorter, sizeof shorter, "%.*g", digits - 1, v[i]);
            ck_assert_msg(strtod(shorter, NULL) != v[i], "%s is shorter than %s and exact", shorter, b);
        }
    }
}
END_TEST

/* ---- content errors through `kiln build` ------------------------------------------------- */

START_TEST(test_build_errors_in_order_with_suggestions)
{
    char root[64];
    ck_assert_ptr_nonnull(test_tmpdir(root));
    char c[128];
    snprintf(c, sizeof c, "%s/content", root);
    ck_assert_int_eq(mkdir(c, 0755), 0);
    write_file(c, "index.md", "# T\n\nSummary {{bas.test_accuracy}}.\n");
    /* errors found by the first pass (directives) and the second (values,
     * runs) alternate down the file */
    write_file(c, "01-a.md",
               "# A\n\nSee {{base.test_acuracy:3f}}.\n\n"
               "```{experiment} base\noptimiser = adam\nschedule = platau\nepochs = 1\n```\n\n"
               "```{figur} f1\nruns = base\n```\n\n"
               "```{figure} f2\nruns = bse\nkind = histroy\nper = epochs\nseries = val_los\n```\n");
    write_file(c, "02-b.md", "# B\n\n{{base.test_los}}\n\n```{tabel} t\n```\n");
    char args[512];
    snprintf(args, sizeof args, "build --content '%s' --out '%s/out' -q", c, root);
    result r = run(args);
    ck_assert_int_eq(r.status, 2);
    static const char *const want[] = {
        "index.md:3: {{bas.test_accuracy}}: unknown run 'bas' (did you mean 'base'?)",
        "01-a.md:3: {{base.test_acuracy:3f}}: unknown metric 'test_acuracy' of run 'base' (did you mean 'test_accuracy'?)",
        "01-a.md:3: {{base.test_acuracy:3f}}: unknown format '3f' (did you mean '.3f'?)",
        "01-a.md:6: {experiment} base: unknown key 'optimiser' (did you mean 'optimizer'?)",
        "01-a.md:7: {experiment} base: key 'schedule': 'platau' (did you mean 'plateau'?)",
        "01-a.md:11: unknown directive '{figur}' (did you mean 'figure'?)",
        "01-a.md:16: {figure} f2: unknown run 'bse' (did you mean 'base'?)",
        "01-a.md:17: {figure} f2: kind 'histroy' is not accepted (did you mean 'history'?)",
        "01-a.md:18: {figure} f2: per 'epochs' is not accepted (did you mean 'epoch'?)",
        "01-a.md:19: {figure} f2: series 'val_los' is not accepted per epoch (did you mean 'val_loss'?)",
        "02-b.md:3: {{base.test_los}}: unknown metric 'test_los' of run 'base' (did you mean 'test_loss'?)",
        "02-b.md:5: unknown directive '{tabel}' (did you mean 'table'?)",
    };
    const char *at = r.err;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *p = strstr(at, want[i]);
        ck_assert_msg(p, "'%s' not found (in this order) in:\n%s", want[i], r.err);
        at = p + strlen(want[i]);
    }
    result_free(&r);
}
END_TEST

/* ---- the conventions of every command ------------------------------------------------- */

static const char *const COMMANDS[] = {"build", "new", "preview", "train", "lr-find", "diff", "keys", "version", NULL};

START_TEST(test_help_for_every_command)
{
    for (int i = 0; COMMANDS[i]; i++) {
        static const char *const forms[] = {"--help", "-h"};
        for (int f = 0; f < 2; f++) {
            char args[64], head[64];
            snprintf(args, sizeof args, "%s %s", COMMANDS[i], forms[f]);
            result r = run(args);
            ck_assert_msg(r.status == 0, "kiln %s: exit %d", args, r.status);
            snprintf(head, sizeof head, "usage: kiln %s", COMMANDS[i]);
            ck_assert_msg(!strncmp(r.out, head, strlen(head)), "kiln %s printed:\n%s", args, r.out);
            ck_has(r.out, "-h, --help");
            ck_assert_str_eq(r.err, "");
            result_free(&r);
        }
        /* kiln help COMMAND is the same text */
        char args[64];
        snprintf(args, sizeof args, "%s --help", COMMANDS[i]);
        result a = run(args);
        snprintf(args, sizeof args, "help %s", COMMANDS[i]);
        result b = run(args);
        ck_assert_int_eq(b.status, 0);
        ck_assert_str_eq(a.out, b.out);
        result_free(&a);
        result_free(&b);
    }
    result r = run("--help");
    ck_assert_int_eq(r.status, 0);
    for (int i = 0; COMMANDS[i]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s ", COMMANDS[i]);
        ck_has(r.out, line);
    }
    result_free(&r);
    r = run("");
    ck_assert_int_eq(r.status, 2); /* no command: usage on stderr */
    ck_has(r.err, "usage: kiln COMMAND");
    result_free(&r);
}
END_TEST

START_TEST(test_version)
{
    static const char *const forms[] = {"--version", "-V", "version"};
    for (int f = 0; f < 3; f++) {
        result r = run(forms[f]);
        ck_assert_int_eq(r.status, 0);
        char want[128];
        snprintf(want, sizeof want, "kiln %s, trainer %s\n", kiln_version(), kiln_trainer_fingerprint());
        ck_assert_str_eq(r.out, want);
        ck_assert_uint_eq(strlen(kiln_trainer_fingerprint()), 16);
        result_free(&r);
    }
}
END_TEST

START_TEST(test_option_forms)
{
    /* --opt=value and --opt value are the same; -jN and -j N too */
    static const char *const same[][2] = {
        {"build -q --content=/nonexistent/kiln-x --out /tmp/kiln-none", "build -q --content /nonexistent/kiln-x --out=/tmp/kiln-none"},
        {"build -q -j0", "build -q --jobs=0"},
        {"build -q -j 0", "build -q --jobs 0"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        result a = run(same[i][0]), b = run(same[i][1]);
        ck_assert_int_eq(a.status, 2);
        ck_assert_int_eq(b.status, 2);
        ck_assert_str_eq(a.err, b.err);
        result_free(&a);
        result_free(&b);
    }
    result r = run("build -q --content=/nonexistent/kiln-x --out /tmp/kiln-none");
    ck_has(r.err, "/nonexistent/kiln-x");
    result_free(&r);
    r = run("build -j0");
    ck_has(r.err, "--jobs needs an integer 1..1024, got '0'");
    result_free(&r);
    r = run("build --quiet=yes");
    ck_assert_int_eq(r.status, 2);
    ck_has(r.err, "'--quiet' takes no value");
    result_free(&r);
    r = run("build --content");
    ck_assert_int_eq(r.status, 2);
    ck_has(r.err, "'--content' needs a value");
    result_free(&r);
    /* after --, an argument that starts with '-' is an operand */
    r = run("diff -- --not-an-option");
    ck_assert_int_eq(r.status, 2);
    ck_lacks(r.err, "unknown option");
    result_free(&r);
}
END_TEST

START_TEST(test_unknown_names)
{
    for (int i = 0; COMMANDS[i]; i++) {
        char args[64];
        snprintf(args, sizeof args, "%s --bogus-option", COMMANDS[i]);
        result r = run(args);
        ck_assert_msg(r.status == 2, "kiln %s: exit %d", args, r.status);
        ck_has(r.err, "unknown option '--bogus-option'");
        ck_assert_str_eq(r.out, "");
        result_free(&r);
    }
    static const char *const cases[][2] = {
        {"build --smok", "unknown option '--smok' (did you mean '--smoke'?)"},
        {"build --no-rn", "(did you mean '--no-run'?)"},
        {"diff --acc-tl=1", "unknown option '--acc-tl=1' (did you mean '--acc-tol'?)"},
        {"buidl", "unknown command 'buidl' (did you mean 'build'?)"},
        {"lr-fnd", "(did you mean 'lr-find'?)"},
        {"train lerning_rate=0.1", "unknown key 'lerning_rate' (did you mean 'learning_rate'?)"},
        {"train optimizer=adma", "'adma' (did you mean 'adam'?) is not accepted"},
        {"lr-find strat_lr=1e-6", "unknown key 'strat_lr' (did you mean 'start_lr'?)"},
        {"lr-find schedule=platau", "(did you mean 'plateau'?)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result r = run(cases[i][0]);
        ck_assert_msg(r.status == 2, "kiln %s: exit %d", cases[i][0], r.status);
        ck_has(r.err, cases[i][1]);
        result_free(&r);
    }
}
END_TEST

/* ---- kiln keys ------------------------------------------------------------------------- */

START_TEST(test_keys_table)
{
    result r = run("keys");
    ck_assert_int_eq(r.status, 0);
    /* the header gives the columns; every key's line has its default there */
    const char *nl = strchr(r.out, '\n');
    ck_assert_ptr_nonnull(nl);
    const char *h = r.out;
    ck_assert(!strncmp(h, "KEY ", 4));
    int col_acc = (int)(strstr(h, "ACCEPTED") - h), col_def = (int)(strstr(h, "DEFAULT") - h),
        col_mean = (int)(strstr(h, "MEANING") - h);
    ck_assert(col_acc > 0 && col_def > col_acc && col_mean > col_def);
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++) {
        char start[80];
        snprintf(start, sizeof start, "\n%s ", ki[i].name);
        const char *line = strstr(r.out, start);
        ck_assert_msg(line, "key %s not listed", ki[i].name);
        line++;
        const char *end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        int len = (int)(end - line);
        ck_assert_msg(len > col_mean, "line of %s too short: %.*s", ki[i].name, len, line);
        /* each column starts where the header's does, after a space */
        ck_assert_msg(line[col_acc - 1] == ' ' && line[col_acc] != ' ', "%s: accepted column", ki[i].name);
        ck_assert_msg(line[col_def - 1] == ' ' && line[col_def] != ' ', "%s: no default: %.*s", ki[i].name, len, line);
        ck_assert_msg(line[col_mean - 1] == ' ' && line[col_mean] != ' ', "%s: meaning column", ki[i].name);
        ck_assert_msg(!strncmp(line + col_mean, ki[i].help, strlen(ki[i].help)), "%s: meaning", ki[i].name);
    }
    /* names in full (the trainer's own text cuts this one), defaults as written */
    ck_has(r.out, "one_cycle plateau\n");
    static const char *const defaults[][2] = {{"batch_size", "250"}, {"learning_rate", "0.001, sgd: 0.01"},
                                              {"schedule", "constant"}, {"epsilon", "1e-07"},
                                              {"optimizer", "adam"}, {"shuffle", "true"}, {"model", "seed"}};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        char start[80];
        snprintf(start, sizeof start, "\n%s ", defaults[i][0]);
        const char *line = strstr(r.out, start) + 1;
        ck_assert_msg(!strncmp(line + col_def, defaults[i][1], strlen(defaults[i][1])) &&
                          line[col_def + strlen(defaults[i][1])] == ' ',
                      "default of %s is not %s", defaults[i][0], defaults[i][1]);
    }
    result_free(&r);
}
END_TEST

/* ---- kiln new ---------------------------------------------------------------------------- */

START_TEST(test_new_refuses_to_overwrite)
{
    char root[64];
    ck_assert_ptr_nonnull(test_tmpdir(root));
    write_file(root, "mine.md", "# mine\n");
    char args[256];
    snprintf(args, sizeof args, "new '%s'", root);
    result r = run(args);
    ck_assert_int_eq(r.status, 2);
    ck_has(r.err, "is not empty");
    result_free(&r);
    char p[128];
    snprintf(p, sizeof p, "%s/mine.md", root);
    char *t = test_read_file(p, NULL);
    ck_assert_str_eq(t, "# mine\n");
    free(t);
    snprintf(p, sizeof p, "%s/content", root);
    ck_assert_int_ne(access(p, F_OK), 0);
    /* a file in the way */
    snprintf(args, sizeof args, "new '%s/mine.md'", root);
    r = run(args);
    ck_assert_int_eq(r.status, 2);
    result_free(&r);
    r = run("new");
    ck_assert_int_eq(r.status, 2);
    result_free(&r);
}
END_TEST

START_TEST(test_new_article_builds)
{
    char root[64];
    ck_assert_ptr_nonnull(test_tmpdir(root));
    /* into an empty folder that exists, from a folder with no templates */
    char art[128], env[4200];
    snprintf(art, sizeof art, "%s/art", root);
    ck_assert_int_eq(mkdir(art, 0755), 0);
    result r = run_in(root, NULL, "new art");
    ck_assert_msg(r.status == 0, "kiln new: %s", r.err);
    ck_has(r.out, "cd art && kiln build");
    result_free(&r);
    char data[4096];
    ck_assert_ptr_nonnull(realpath(test_data_dir(), data));
    snprintf(env, sizeof env, "KILN_DATA='%s'", data);
    r = run_in(art, env, "build");
    ck_assert_msg(r.status == 0, "kiln build of the new article: %s", r.err);
    ck_has(r.err, "1 run: 0 cached, 1 run, 0 failed");
    result_free(&r);
    char p[256];
    snprintf(p, sizeof p, "%s/out/01-first-experiment.html", art);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_has(html, "Figure 1");
    ck_has(html, "img/first-loss.png");
    ck_has(html, "Test loss: ");
    ck_lacks(html, "{{"); /* every value in the prose is filled in */
    free(html);
    /* the starter's front matter: its title and abstract */
    snprintf(p, sizeof p, "%s/out/index.html", art);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_has(html, "<h1 id=\"top\">My first kiln article</h1>");
    ck_has(html, "<h2 id=\"abstract\">Abstract</h2>");
    free(html);
    static const char *const files[] = {"out/index.html", "out/img/first-loss.png", "out/report.pdf", "out/style.css"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", art, files[i]);
        ck_assert_msg(access(p, F_OK) == 0, "%s missing", p);
    }
    /* the second build takes the run from the cache */
    r = run_in(art, env, "build");
    ck_assert_int_eq(r.status, 0);
    ck_has(r.err, "1 run: 1 cached, 0 run");
    result_free(&r);
}
END_TEST

/* ---- make install, and the installed kiln ------------------------------------------------- */

static int sh(const char *fmt, const char *a, const char *b, const char *c)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b, c);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_install_and_uninstall)
{
    const char *mode = getenv("KILN_MODE");
    if (!mode || !*mode) mode = "release";
    char root[64];
    ck_assert_ptr_nonnull(test_tmpdir(root));
    char stage[128];
    snprintf(stage, sizeof stage, "%s/stage", root);
    ck_assert_int_eq(sh("make -s --no-print-directory install MODE=%s PREFIX=/usr/local DESTDIR='%s' >'%s/make.log' 2>&1", mode,
                        stage, root),
                     0);
    static const char *const files[] = {"bin/kiln", "share/kiln/templates/layout.html", "share/kiln/templates/style.css",
                                        "share/kiln/templates/new/index.md",
                                        "share/kiln/templates/new/01-first-experiment.md", "share/man/man1/kiln.1"};
    char p[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/usr/local/%s", stage, files[i]);
        ck_assert_msg(access(p, R_OK) == 0, "not installed: %s", p);
    }
    /* the installed kiln, run from a folder whose templates/ would break a
     * build, reads the installed ones */
    char work[128], bin[256];
    snprintf(work, sizeof work, "%s/work", root);
    ck_assert_int_eq(mkdir(work, 0755), 0);
    snprintf(p, sizeof p, "%s/templates", work);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_file(p, "layout.html", "{{no_such_placeholder}}\n");
    snprintf(p, sizeof p, "%s/content", work);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_file(p, "index.md", "# Tiny\n\nA tiny article.\n");
    write_file(p, "01-one.md", "# One\n\nNo experiments, so no data is needed.\n");
    snprintf(bin, sizeof bin, "%s/usr/local/bin/kiln", stage);
    ck_assert_int_eq(sh("cd '%s' && env -u KILN_TEMPLATES '%s' build -q >'%s/build.log' 2>&1", work, bin, root), 0);
    snprintf(p, sizeof p, "%s/out/01-one.html", work);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_has(html, "No experiments");
    free(html);
    snprintf(p, sizeof p, "%s/out/style.css", work);
    char *css = test_read_file(p, NULL), *want = test_read_file("templates/style.css", NULL);
    ck_assert_ptr_nonnull(css);
    ck_assert_ptr_nonnull(want);
    ck_assert_str_eq(css, want);
    free(css);
    free(want);
    /* kiln new from the installed templates */
    ck_assert_int_eq(sh("cd '%s' && env -u KILN_TEMPLATES '%s' new fresh >/dev/null", work, bin, NULL), 0);
    snprintf(p, sizeof p, "%s/fresh/content/01-first-experiment.md", work);
    ck_assert_int_eq(access(p, R_OK), 0);
    /* the man page it installed renders without a warning */
    snprintf(p, sizeof p, "%s/usr/local/share/man/man1/kiln.1", stage);
    ck_assert_int_eq(sh("groff -man -ww -z '%s' 2>'%s/groff.log' && ! test -s '%s/groff.log'", p, root, root), 0);
    /* uninstall leaves no file behind */
    ck_assert_int_eq(sh("make -s --no-print-directory uninstall MODE=%s PREFIX=/usr/local DESTDIR='%s' >>'%s/make.log' 2>&1",
                        mode, stage, root),
                     0);
    ck_assert_int_eq(sh("test -z \"$(find '%s' ! -type d)\"", stage, NULL, NULL), 0);
    snprintf(p, sizeof p, "%s/usr/local/share/kiln", stage);
    ck_assert_int_ne(access(p, F_OK), 0);
}
END_TEST

/* ---- the manual ---------------------------------------------------------------------------- */

static char *man_source(void)
{
    char *m = test_read_file("src/man/kiln.1", NULL);
    ck_assert_ptr_nonnull(m);
    /* roff escapes a hyphen as \- : compare the text as a reader sees it */
    char *w = m;
    for (const char *r = m; *r; r++) {
        if (r[0] == '\\' && r[1] == '-') continue;
        *w++ = *r;
    }
    *w = 0;
    return m;
}

START_TEST(test_man_page)
{
    ck_assert_int_eq(sh("man -l src/man/kiln.1 >/dev/null 2>&1 </dev/null%s%s%s", "", "", ""), 0);
    ck_assert_int_eq(sh("groff -man -ww -z src/man/kiln.1 2>/tmp/kiln-groff.$$ && ! test -s /tmp/kiln-groff.$$; "
                        "st=$?; rm -f /tmp/kiln-groff.$$; exit $st%s%s%s", "", "", ""),
                     0);
    char *m = man_source();
    /* every command, and every option each one's --help lists */
    for (int i = 0; COMMANDS[i]; i++) {
        char want[64];
        snprintf(want, sizeof want, ".SS kiln %s", COMMANDS[i]);
        ck_has(m, want);
        char args[64];
        snprintf(args, sizeof args, "%s --help", COMMANDS[i]);
        result r = run(args);
        for (const char *o = strstr(r.out, "--"); o; o = strstr(o + 2, "--")) {
            char name[64];
            int n = 0;
            while (n < 60 && (o[n] == '-' || (o[n] >= 'a' && o[n] <= 'z'))) { name[n] = o[n]; n++; }
            name[n] = 0;
            if (n <= 2) continue;
            ck_assert_msg(strstr(m, name), "kiln %s: option %s is not in the man page", COMMANDS[i], name);
        }
        result_free(&r);
    }
    /* every directive: the accepted list comes from the loader's own message */
    char root[64];
    ck_assert_ptr_nonnull(test_tmpdir(root));
    write_file(root, "index.md", "# T\n\n```{nonesuch} x\n```\n");
    char args[256];
    snprintf(args, sizeof args, "build -q --content '%s' --out '%s/out'", root, root);
    result r = run(args);
    const char *acc = strstr(r.err, "accepted: ");
    ck_assert_ptr_nonnull(acc);
    int n_dir = 0;
    for (const char *d = strchr(acc, '{'); d && d < strchr(acc, '\n'); d = strchr(d + 1, '{')) {
        const char *e = strchr(d, '}');
        char name[64];
        snprintf(name, sizeof name, ".BI %.*s", (int)(e - d + 1), d);
        ck_assert_msg(strstr(m, name), "directive %.*s is not in the man page", (int)(e - d + 1), d);
        n_dir++;
    }
    ck_assert_int_ge(n_dir, 7);
    result_free(&r);
    /* every environment variable the code reads */
    FILE *g = popen("grep -rhoE 'getenv\\(\"[A-Z_]+\"\\)' src | sort -u", "r");
    ck_assert_ptr_nonnull(g);
    char line[128];
    int n_env = 0;
    while (fgets(line, sizeof line, g)) {
        char *q = strchr(line, '"'), *e = q ? strchr(q + 1, '"') : NULL;
        if (!e) continue;
        *e = 0;
        char want[96];
        snprintf(want, sizeof want, ".B %s\n", q + 1);
        ck_assert_msg(strstr(m, want), "environment variable %s is not in the man page's ENVIRONMENT", q + 1);
        n_env++;
    }
    pclose(g);
    ck_assert_int_ge(n_env, 5);
    free(m);
}
END_TEST

/* ---- progress --------------------------------------------------------------------------------- */

/* A build whose runs train (a range test and a run that takes its
 * suggestion, so both phases), with stderr not a terminal: plain lines, one
 * counter through both phases, no bar, no 'ep 3/2', no 'nan' */
START_TEST(test_progress_without_a_terminal)
{
    char root[64];
    ck_assert_ptr_nonnull(test_tmpdir(root));
    write_file(root, "index.md", "# T\n\nSummary.\n");
    write_file(root, "01-a.md",
               "# A\n\n```{lrfind} sweep\ntrain_limit = 400\nlr_steps = 8\nbatch_size = 50\n```\n\n"
               "```{experiment} a\ntrain_limit = 300\ntest_limit = 100\nepochs = 2\nbatch_size = 50\n```\n\n"
               "```{experiment} b\nbase = a\nlearning_rate = {{sweep.steepest_lr:.2g}}\n```\n\n"
               "{{a.test_accuracy}} {{b.test_accuracy}} {{sweep.steps}}\n");
    char data[4096], args[8192];
    ck_assert_ptr_nonnull(realpath(test_data_dir(), data));
    snprintf(args, sizeof args, "build --content '%s' --out '%s/out' --data '%s'", root, root, data);
    result r = run(args);
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_lacks(r.err, "\r");
    ck_lacks(r.err, "\033");
    ck_lacks(r.err, "nan");
    ck_lacks(r.err, "ETA ?");
    ck_lacks(r.err, "epoch 3/2");
    /* one counter: [0/3] ... [3/3], never restarting */
    ck_has(r.err, "[0/3] running sweep");
    ck_has(r.err, "[3/3] b done");
    int last = -1;
    for (const char *p = strstr(r.err, "kiln: ["); p; p = strstr(p + 1, "kiln: [")) {
        int done = atoi(p + 7);
        ck_assert_msg(done >= last, "the counter went back from %d to %d:\n%s", last, done, r.err);
        last = done;
    }
    ck_assert_int_eq(last, 3);
    ck_has(r.err, ", ETA ");
    result_free(&r);
}
END_TEST

/* The same build on a terminal (script(1) gives it one): a status line
 * redrawn in place, with the counter, an ETA and per-run bars whose epoch
 * never passes the run's last */
START_TEST(test_progress_on_a_terminal)
{
    if (system("command -v script >/dev/null 2>&1") != 0) return; /* util-linux */
    char root[64];
    ck_assert_ptr_nonnull(test_tmpdir(root));
    write_file(root, "index.md", "# T\n\nSummary.\n");
    write_file(root, "01-a.md",
               "# A\n\n```{experiment} a\ntrain_limit = 300\ntest_limit = 100\nepochs = 2\nbatch_size = 20\n```\n\n"
               "{{a.test_accuracy}}\n");
    char data[4096], cmd[12288];
    ck_assert_ptr_nonnull(realpath(test_data_dir(), data));
    snprintf(cmd, sizeof cmd,
             "script -qec \"'%s' build --content '%s' --out '%s/out' --data '%s'\" /dev/null >'%s/tty.txt' 2>&1 </dev/null",
             kiln_bin(), root, root, data, root);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 0);
    char p[128];
    snprintf(p, sizeof p, "%s/tty.txt", root);
    char *t = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(t);
    ck_has(t, "\r\033[K[0/1] a [");
    ck_has(t, "ETA ");
    ck_lacks(t, "nan");
    ck_lacks(t, "ETA ?");
    int n_ep = 0;
    for (const char *e = strstr(t, "] ep "); e; e = strstr(e + 1, "] ep ")) {
        int ep, of;
        ck_assert_int_eq(sscanf(e, "] ep %d/%d", &ep, &of), 2);
        ck_assert_msg(ep >= 1 && ep <= of, "ep %d/%d on the status line", ep, of);
        n_ep++;
    }
    ck_assert_int_gt(n_ep, 0);
    ck_has(t, "1 run: 0 cached, 1 run, 0 failed");
    free(t);
}
END_TEST

/* kiln train: an ETA on each epoch line but the last, and the test result
 * in its shortest exact form */
START_TEST(test_train_output)
{
    char data[4096], args[8192];
    ck_assert_ptr_nonnull(realpath(test_data_dir(), data));
    snprintf(args, sizeof args, "train epochs=2 train_limit=200 test_limit=100 batch_size=50 --data='%s'", data);
    result r = run(args);
    ck_assert_msg(r.status == 0, "%s", r.err);
    /* the format tests/bench.sh reads: "epoch N/M: ... (X s)" */
    const char *e1 = strstr(r.out, "epoch 1/2: loss "), *e2 = strstr(r.out, "epoch 2/2: loss ");
    ck_assert_ptr_nonnull(e1);
    ck_assert_ptr_nonnull(e2);
    const char *eol = strchr(e1, '\n');
    ck_assert_msg(strstr(e1, ", ETA ") && strstr(e1, ", ETA ") < eol, "no ETA: %s", r.out);
    ck_assert(eol[-1] == ')' && strstr(e1, " s)") == eol - 3);
    eol = strchr(e2, '\n');
    ck_assert_msg(!strstr(e2, "ETA") || strstr(e2, "ETA") > eol, "an ETA after the last epoch: %s", r.out);
    ck_lacks(r.err, "\r"); /* no bar: stderr is not a terminal */
    const char *t = strstr(r.out, "Test loss: ");
    ck_assert_ptr_nonnull(t);
    char loss[64], acc[64];
    ck_assert_int_eq(sscanf(t, "Test loss: %63s / Test accuracy: %63s", loss, acc), 2);
    char b[64];
    ck_assert_str_eq(kiln_shortest(strtod(loss, NULL), b, sizeof b), loss);
    ck_assert_str_eq(kiln_shortest(strtod(acc, NULL), b, sizeof b), acc);
    ck_assert_uint_le(strlen(acc), 5); /* 100 test images: at most 0.xx */
    result_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli");
    TCase *m = tcase_create("messages");
    tcase_add_test(m, test_suggest);
    tcase_add_test(m, test_key_choices_in_full);
    tcase_add_test(m, test_shortest);
    tcase_add_test(m, test_build_errors_in_order_with_suggestions);
    suite_add_tcase(s, m);
    TCase *c = tcase_create("commands");
    tcase_set_timeout(c, 600); /* the new article trains one small run */
    tcase_add_test(c, test_help_for_every_command);
    tcase_add_test(c, test_version);
    tcase_add_test(c, test_option_forms);
    tcase_add_test(c, test_unknown_names);
    tcase_add_test(c, test_keys_table);
    tcase_add_test(c, test_new_refuses_to_overwrite);
    tcase_add_test(c, test_new_article_builds);
    tcase_add_test(c, test_install_and_uninstall);
    tcase_add_test(c, test_man_page);
    tcase_add_test(c, test_progress_without_a_terminal);
    tcase_add_test(c, test_progress_on_a_terminal);
    tcase_add_test(c, test_train_output);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
