/* Directives: fenced code blocks whose info string is "{name} id"; their
 * bodies are "key = value" lines, checked against each directive's keys. */
#include "doc/loader.h"
#include "doc/md_math.h"
#include <cmark-gfm.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- the directive vocabulary ------------------------------------------- */

static const char *const DIRECTIVE_NAMES[] = {"experiment", "figure", "result", "table", "lrfind", "config", "group", "compare"};

#define N_DIRECTIVES ((int)(sizeof DIRECTIVE_NAMES / sizeof DIRECTIVE_NAMES[0]))

static const char ACCEPTED_DIRECTIVES[] = "{experiment}, {figure}, {result}, {table}, {lrfind}, {config}, {group}, {compare}";

/* keys of each directive besides the trainer's (experiment, lrfind) */
static const char *const FIGURE_KEYS[] = {"runs", "kind", "series", "per", "title", "xlabel", "ylabel",
                                          "caption", "labels", "xlog", "ylog", "ymin", "ymax", "xmin", "xmax",
                                          "x", "y", "by", NULL};

static const char *const TABLE_KEYS[] = {"runs", "columns", "headers", "title", "caption", "summary", NULL};

static const char *const GROUP_KEYS[] = {"runs", "label", NULL};

static const char *const COMPARE_KEYS[] = {"a", "b", "metric", "spread", NULL};

/* rows a table can end with, computed over its runs */
const char *const SUMMARY_ROWS[] = {"mean", "sd", "min", "max", NULL};

static const char *const RESULT_KEYS[] = {"format", NULL};

static const char *const CONFIG_KEYS[] = {NULL};

const char *const EXPERIMENT_META[] = {"base", "label", "checkpoint", "data", NULL};

const char *const LRFIND_META[] = {"base", "label", "data", "start_lr", "end_lr", "lr_steps", "lr_epochs",
                                          "sma", "smoothing", "stop_factor", "title", "xlabel", "ylabel",
                                          "caption", NULL};

/* trainer keys a directive may not set */
/* The build decides where checkpoints go ({experiment} checkpoint = best |
 * every | no) and how many threads a run gets. */
static const char *const FORBIDDEN_TRAINER_KEYS[] = {"checkpoint_best_only", "threads", NULL};

/* ---- directives ------------------------------------------------------------------------ */

/* "name = ..." with a name of letters, digits and '_' */
static int starts_with_key(const char *t)
{
    const char *eq = strchr(t, '=');
    if (!eq || eq == t) return 0;
    const char *e = eq;
    while (e > t && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (e == t) return 0;
    for (const char *p = t; p < e; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') return 0;
    return 1;
}

static int parse_body(loader *L, kiln_directive *x, const char *body, int first_line)
{
    int n = 0, cap = 8, bad = 0;
    kiln_kv *kv = ka_alloc(L->a, sizeof *kv * (size_t)cap);
    char *copy = ka_strdup(L->a, body);
    int line = first_line;
    for (char *s = copy; s && *s; line++) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        char *raw = s;
        s = nl ? nl + 1 : NULL;
        char *t = trim(raw);
        if (!*t || *t == '#') continue;
        if ((raw[0] == ' ' || raw[0] == '\t') && n > 0 && !starts_with_key(t)) {
            /* an indented line continues the previous value (unless it reads
             * "key = ...": prose like "(k = 0.1)" continues it too) */
            kv[n - 1].value = ka_printf(L->a, "%s %s", kv[n - 1].value, t);
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                     "{%s}: expected 'key = value', got '%s'", x->name, t);
            bad = 1;
            continue;
        }
        *eq = 0;
        char *k = trim(t), *v = trim(eq + 1);
        if (!*k) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "{%s}: a key is missing before '='", x->name);
            bad = 1;
            continue;
        }
        for (int i = 0; i < n; i++)
            if (!strcmp(kv[i].key, k)) {
                kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "{%s}: key '%s' given twice (first on line %d)",
                         x->name, k, kv[i].line);
                bad = 1;
            }
        if (n == cap) {
            kiln_kv *w = ka_alloc(L->a, sizeof *w * (size_t)cap * 2);
            memcpy(w, kv, sizeof *kv * (size_t)cap);
            kv = w;
            cap *= 2;
        }
        kv[n] = (kiln_kv){ka_strdup(L->a, k), ka_strdup(L->a, v), line, NULL};
        kv[n].shown = kv[n].value;
        n++;
    }
    x->kv = kv;
    x->n_kv = n;
    return bad;
}

/* Check a directive's keys against its vocabulary. Trainer keys are checked
 * later, when configs are built. */
static void check_keys(loader *L, kiln_directive *x)
{
    const char *const *own = NULL;
    int trainer = 0;
    switch (x->kind) {
    case KILN_DIR_EXPERIMENT: own = EXPERIMENT_META; trainer = 1; break;
    case KILN_DIR_LRFIND: own = LRFIND_META; trainer = 1; break;
    case KILN_DIR_FIGURE: own = FIGURE_KEYS; break;
    case KILN_DIR_TABLE: own = TABLE_KEYS; break;
    case KILN_DIR_RESULT: own = RESULT_KEYS; break;
    case KILN_DIR_CONFIG: own = CONFIG_KEYS; break;
    case KILN_DIR_GROUP: own = GROUP_KEYS; break;
    case KILN_DIR_COMPARE: own = COMPARE_KEYS; break;
    }
    /* the names a misspelt key is compared with */
    sbuf names = {0};
    join_list(&names, own);
    if (trainer) {
        int n_keys;
        const kiln_key_info *ki = kiln_config_keys(&n_keys);
        for (int j = 0; j < n_keys; j++)
            if (!in_list(FORBIDDEN_TRAINER_KEYS, ki[j].name)) { sb_addc(&names, ' '); sb_add(&names, ki[j].name); }
    }
    for (int i = 0; i < x->n_kv; i++) {
        const char *k = x->kv[i].key;
        if (in_list(own, k)) continue;
        if (trainer && in_list(FORBIDDEN_TRAINER_KEYS, k)) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, x->kv[i].line,
                     "{%s} %s: key '%s' cannot be set in the article (the build chooses thread counts; use checkpoint = best or every for checkpoints)",
                     x->name, x->id, k);
            continue;
        }
        if (trainer && is_config_ref(x->kv[i].value)) {
            int n_keys, known = 0;
            const kiln_key_info *ki = kiln_config_keys(&n_keys);
            for (int j = 0; j < n_keys; j++) known |= !strcmp(ki[j].name, k);
            if (x->kind == KILN_DIR_LRFIND)
                kd_error(L->d, KILN_REPORT_EINPUT, L->file, x->kv[i].line,
                         "{lrfind} %s: key '%s' takes its value from a run (%s); only an {experiment} can do that",
                         x->id, k, x->kv[i].value);
            else if (!known)
                kd_error(L->d, KILN_REPORT_EINPUT, L->file, x->kv[i].line,
                         "{%s} %s: unknown key '%s'%s (see kiln keys for the trainer's keys)", x->name, x->id, k,
                         hint(L, k, names.s));
            continue;
        }
        if (trainer) {
            kiln_config probe;
            kiln_config_init(&probe);
            char err[4096];
            if (kiln_config_set_hinted(&probe, k, x->kv[i].value, err, sizeof err) == 0) continue;
            /* is it the key or the value? */
            int n_keys;
            const kiln_key_info *ki = kiln_config_keys(&n_keys);
            int known = 0;
            for (int j = 0; j < n_keys; j++) known |= !strcmp(ki[j].name, k);
            if (known) {
                kd_error(L->d, KILN_REPORT_EINPUT, L->file, x->kv[i].line, "{%s} %s: %s", x->name, x->id, err);
                continue;
            }
            sbuf b = {0};
            join_list(&b, own);
            sb_add(&b, ", and the trainer's keys (kiln keys): ");
            for (int j = 0; j < n_keys; j++) {
                if (in_list(FORBIDDEN_TRAINER_KEYS, ki[j].name)) continue;
                if (j) sb_add(&b, ", ");
                sb_add(&b, ki[j].name);
            }
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, x->kv[i].line, "{%s} %s: unknown key '%s'%s; accepted: %s",
                     x->name, x->id, k, hint(L, k, names.s), b.s);
            sb_free(&b);
            continue;
        }
        sbuf b = {0};
        join_list(&b, own);
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, x->kv[i].line, "{%s}: unknown key '%s'%s; accepted: %s", x->name, k,
                 hint(L, k, names.s ? names.s : ""), b.len ? b.s : "(none: this directive takes no keys)");
        sb_free(&b);
    }
    sb_free(&names);
}

static void push_dir(loader *L, kiln_directive *x)
{
    KR_GROW(L->dirs, L->cap_dirs, L->n_dirs + 1);
    L->dirs[L->n_dirs++] = x;
}
/* A caption: inline Markdown with math, as in the prose. Its math is taken
 * out first (md_math.h) and converted with the caption's own spans in
 * place of the chapter's; lines count from the caption's key line. */
static kiln_inline *caption_inlines(loader *L, const char *text, int line)
{
    md_math *spans = NULL, *chapter = L->math;
    int n = 0, n_chapter = L->n_math, n_errs = 0;
    md_math_error *errs = NULL;
    char *md = md_math_extract(text, &spans, &n, &errs, &n_errs);
    for (int i = 0; i < n_errs; i++) kd_error(L->d, KILN_REPORT_EINPUT, L->file, line + errs[i].line - 1, "caption: %s", errs[i].msg);
    free(errs);
    for (int i = 0; i < n; i++) spans[i].line += line - 1;
    L->math = spans;
    L->n_math = n;
    const char *src = md ? md : text;
    if (too_many_images(src, strlen(src))) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "caption: more than a thousand images: the Markdown parser would take minutes on it");
        src = "";
    }
    cmark_node *root = cmark_parse_document(src, strlen(src), CMARK_OPT_SMART);
    cmark_node *para = cmark_node_first_child(root);
    kiln_inline *in = NULL;
    if (para && cmark_node_get_type(para) == CMARK_NODE_PARAGRAPH) in = convert_inlines(L, cmark_node_first_child(para), &line);
    cmark_node_free(root);
    L->math = chapter;
    L->n_math = n_chapter;
    md_math_free(spans, n);
    free(md);
    return in;
}


kiln_directive *parse_directive(loader *L, const char *info, const char *body, int line)
{
    /* info: "{name} id" */
    const char *close = strchr(info, '}');
    if (!close) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "directive '%s': missing '}'; accepted: %s", info, ACCEPTED_DIRECTIVES);
        return NULL;
    }
    char *name = trim(ka_strndup(L->a, info + 1, (size_t)(close - info - 1)));
    int kind = -1;
    for (int i = 0; i < N_DIRECTIVES; i++)
        if (!strcmp(name, DIRECTIVE_NAMES[i])) kind = i;
    if (kind < 0) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "unknown directive '{%s}'%s; accepted: %s", name,
                 hint(L, name, ACCEPTED_DIRECTIVES), ACCEPTED_DIRECTIVES);
        return NULL;
    }
    kiln_directive *x = ka_alloc(L->a, sizeof *x);
    x->kind = (enum kiln_directive_kind)kind;
    x->name = DIRECTIVE_NAMES[kind];
    x->id = trim(ka_strdup(L->a, close + 1));
    x->file = L->file;
    x->line = line;
    x->chapter = L->chapter;
    x->anchor = x->title = x->xlabel = x->ylabel = x->image = x->image_file = x->text = "";
    if (!*x->id) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "{%s} needs an id after the name, e.g. '```{%s} baseline'",
                 x->name, x->name);
        return NULL;
    }
    if (strchr(x->id, ' ') || !kr_valid_id(x->id)) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                 "{%s} id '%s': ids are 1 to 48 of the characters A-Z a-z 0-9 _ - (not starting with '-')", x->name, x->id);
        return NULL;
    }
    if (parse_body(L, x, body, line + 1)) return NULL;
    check_keys(L, x);
    const char *t;
    if ((t = kv_get(x, "title"))) {
        /* titles are plain text that may hold {{RUN.METRIC[:FORMAT]}} values
         * (checked with the other values once every run is known) */
        x->title = t;
        kiln_inline *tail = NULL;
        split_text(L, t, kv_line(x, "title"), &x->title_parts, &tail);
    }
    if (x->kind == KILN_DIR_FIGURE && (t = kv_get(x, "labels"))) {
        /* legend labels, one per run (counted in check_all), each with values */
        x->n_labels = split_commas(L->a, t, &x->labels);
        x->label_parts = ka_alloc(L->a, sizeof *x->label_parts * (size_t)x->n_labels);
        for (int i = 0; i < x->n_labels; i++) {
            kiln_inline *tail = NULL;
            split_text(L, x->labels[i], kv_line(x, "labels"), &x->label_parts[i], &tail);
        }
    }
    if ((t = kv_get(x, "xlabel"))) x->xlabel = t;
    if ((t = kv_get(x, "ylabel"))) x->ylabel = t;
    if ((t = kv_get(x, "caption"))) x->caption = caption_inlines(L, t, kv_line(x, "caption"));
    if (x->kind == KILN_DIR_FIGURE || x->kind == KILN_DIR_LRFIND) x->anchor = ka_printf(L->a, "fig-%s", x->id);
    if (x->kind == KILN_DIR_TABLE) x->anchor = ka_printf(L->a, "table-%s", x->id);
    push_dir(L, x);
    return x;
}
