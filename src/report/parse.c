/* Loading the content: Markdown files -> cmark -> the kiln document model.
 * Directives are fenced code blocks whose info string is "{name} id"; their
 * bodies are "key = value" lines. Everything is checked here, before any run:
 * directive names and keys, ids, `base =` chains, references in the prose. */
#include "report/internal.h"

#include <cmark.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the directive vocabulary ------------------------------------------- */

static const char *const DIRECTIVE_NAMES[] = {"experiment", "figure", "result", "table", "lrfind", "config", "group"};
#define N_DIRECTIVES ((int)(sizeof DIRECTIVE_NAMES / sizeof DIRECTIVE_NAMES[0]))
static const char ACCEPTED_DIRECTIVES[] = "{experiment}, {figure}, {result}, {table}, {lrfind}, {config}, {group}";

/* keys of each directive besides the trainer's (experiment, lrfind) */
static const char *const FIGURE_KEYS[] = {"runs", "kind", "series", "per", "title", "xlabel", "ylabel",
                                          "caption", "labels", "xlog", "ylog", "ymin", "ymax", "xmin", "xmax",
                                          "x", "y", "by", NULL};
static const char *const TABLE_KEYS[] = {"runs", "columns", "headers", "title", "caption", "summary", NULL};
static const char *const GROUP_KEYS[] = {"runs", "label", NULL};
/* rows a table can end with, computed over its runs */
static const char *const SUMMARY_ROWS[] = {"mean", "sd", "min", "max", NULL};
static const char *const RESULT_KEYS[] = {"format", NULL};
static const char *const CONFIG_KEYS[] = {NULL};
static const char *const EXPERIMENT_META[] = {"base", "label", "checkpoint", NULL};
static const char *const LRFIND_META[] = {"base", "label", "start_lr", "end_lr", "lr_steps", "lr_epochs",
                                          "sma", "smoothing", "stop_factor", "title", "xlabel", "ylabel",
                                          "caption", NULL};
/* trainer keys a directive may not set */
/* The build decides where checkpoints go ({experiment} checkpoint = best |
 * every | no) and how many threads a run gets. */
static const char *const FORBIDDEN_TRAINER_KEYS[] = {"checkpoint_best_only", "threads", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s)) return 1;
    return 0;
}

static void join_list(sbuf *b, const char *const *list)
{
    for (int i = 0; list[i]; i++) { if (i) sb_add(b, ", "); sb_add(b, list[i]); }
}

/* ---- small text helpers --------------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

/* Split "a, b c" on commas and whitespace into arena strings. */
static int split_list(kiln_arena *a, const char *text, const char ***out)
{
    int n = 0, cap = 8;
    const char **v = ka_alloc(a, sizeof *v * (size_t)cap);
    const char *p = text;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ',')) p++;
        if (!*p) break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',') p++;
        if (n == cap) {
            const char **w = ka_alloc(a, sizeof *w * (size_t)cap * 2);
            memcpy(w, v, sizeof *v * (size_t)cap);
            v = w;
            cap *= 2;
        }
        v[n++] = ka_strndup(a, s, (size_t)(p - s));
    }
    *out = v;
    return n;
}

/* Split on commas only (legend labels and headers may hold spaces). */
static int split_commas(kiln_arena *a, const char *text, const char ***out)
{
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    const char **v = ka_alloc(a, sizeof *v * (size_t)n);
    int i = 0;
    const char *s = text;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char *t = ka_strndup(a, s, len);
        v[i++] = trim(t);
        if (!e) break;
        s = e + 1;
    }
    *out = v;
    return i;
}

static const char *kv_get(const kiln_directive *d, const char *key)
{
    for (int i = 0; i < d->n_kv; i++)
        if (!strcmp(d->kv[i].key, key)) return d->kv[i].value;
    return NULL;
}

static int kv_line(const kiln_directive *d, const char *key)
{
    for (int i = 0; i < d->n_kv; i++)
        if (!strcmp(d->kv[i].key, key)) return d->kv[i].line;
    return d->line;
}

/* A value written `{{RUN.METRIC[:FORMAT]}}` and nothing else: a trainer key
 * taken from another run's result. */
static int is_config_ref(const char *v)
{
    size_t n = strlen(v);
    return n > 4 && !strncmp(v, "{{", 2) && !strcmp(v + n - 2, "}}") && !strstr(v + 2, "{{") &&
           strstr(v + 2, "}}") == v + n - 2;
}

/* ---- loader state ----------------------------------------------------------------------- */

typedef struct loader {
    kiln_doc *doc;
    kiln_arena *a;
    kiln_diag *d;
    const kiln_build_opts *o;
    /* every directive in document order */
    kiln_directive **dirs;
    int n_dirs, cap_dirs;
    /* every inline value / ref, for checking once all runs are known */
    kiln_inline **refs;
    const char **ref_files;
    int n_refs, cap_refs;
    const char *file;     /* file being converted */
    kiln_chapter *chapter;
    /* heading anchors of the current page */
    const char **anchors;
    int n_anchors, cap_anchors;
    int first_msg;        /* d->n_msgs when loading began */
} loader;

/* " (did you mean 'NAME'?)" for word among names, or "" (arena text) */
static const char *hint(loader *L, const char *word, const char *names)
{
    char buf[160];
    return ka_strdup(L->a, kiln_did_you_mean(word, names, buf, sizeof buf));
}

static const char *list_hint(loader *L, const char *word, const char *const *list)
{
    sbuf b = {0};
    join_list(&b, list);
    const char *h = hint(L, word, b.s ? b.s : "");
    sb_free(&b);
    return h;
}

static const char *format_hint(loader *L, const char *fmt)
{
    char buf[160];
    return ka_strdup(L->a, kr_format_hint(fmt, buf, sizeof buf));
}

static void push_dir(loader *L, kiln_directive *x)
{
    if (L->n_dirs == L->cap_dirs) {
        L->cap_dirs = L->cap_dirs ? L->cap_dirs * 2 : 32;
        L->dirs = realloc(L->dirs, sizeof *L->dirs * (size_t)L->cap_dirs);
        if (!L->dirs) abort();
    }
    L->dirs[L->n_dirs++] = x;
}

static void push_ref(loader *L, kiln_inline *in)
{
    if (L->n_refs == L->cap_refs) {
        L->cap_refs = L->cap_refs ? L->cap_refs * 2 : 64;
        L->refs = realloc(L->refs, sizeof *L->refs * (size_t)L->cap_refs);
        L->ref_files = realloc(L->ref_files, sizeof *L->ref_files * (size_t)L->cap_refs);
        if (!L->refs || !L->ref_files) abort();
    }
    L->ref_files[L->n_refs] = L->file;
    L->refs[L->n_refs++] = in;
}

/* ---- inlines ------------------------------------------------------------------------------ */

static kiln_inline *new_inline(loader *L, enum kiln_inline_kind k, int line)
{
    kiln_inline *in = ka_alloc(L->a, sizeof *in);
    in->kind = k;
    in->text = in->url = in->title = "";
    in->run_id = in->metric = in->format = "";
    in->line = line;
    return in;
}

/* Parse the inside of {{ }} into a VALUE or REF inline. */
/* "RUN.METRIC" or "RUN.METRIC:FORMAT" (s trimmed) into its parts, allocated
 * in the arena; format "" when absent. Returns -1 when there is no RUN or no
 * METRIC. Shared by values in the prose and values in an experiment. */
static int split_value_ref(kiln_arena *a, const char *s, const char **run, const char **metric, const char **format)
{
    const char *dot = strchr(s, '.');
    if (!dot || dot == s || !dot[1] || dot[1] == ':') return -1;
    *run = ka_strndup(a, s, (size_t)(dot - s));
    const char *m = dot + 1;
    const char *c = strchr(m, ':');
    *metric = c ? ka_strndup(a, m, (size_t)(c - m)) : ka_strdup(a, m);
    *format = c ? ka_strdup(a, c + 1) : "";
    return 0;
}

static kiln_inline *parse_reference(loader *L, const char *inner, size_t n, int line)
{
    char *s = trim(ka_strndup(L->a, inner, n));
    const char *colon = strchr(s, ':');
    const char *dot = strchr(s, '.');
    if (colon && (!dot || colon < dot)) {
        /* fig:ID / table:ID */
        char *kind = ka_strndup(L->a, s, (size_t)(colon - s));
        const char *id = colon + 1;
        if (strcmp(kind, "fig") && strcmp(kind, "figure") && strcmp(kind, "table")) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                     "reference '{{%s}}': unknown kind '%s'%s; accepted: {{fig:ID}}, {{table:ID}}, {{RUN.METRIC[:FORMAT]}}", s, kind,
                     hint(L, kind, "fig table"));
            return NULL;
        }
        kiln_inline *in = new_inline(L, KILN_IN_REF, line);
        in->metric = !strcmp(kind, "table") ? "table" : "fig";
        in->run_id = ka_strdup(L->a, id);
        in->text = ka_printf(L->a, "{{%s}}", s);
        push_ref(L, in);
        return in;
    }
    const char *run, *metric, *format;
    if (split_value_ref(L->a, s, &run, &metric, &format)) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                 "malformed reference '{{%s}}'; accepted: {{RUN.METRIC}}, {{RUN.METRIC:FORMAT}} (e.g. {{baseline.test_loss:.3f}}), {{fig:ID}}, {{table:ID}}", s);
        return NULL;
    }
    kiln_inline *in = new_inline(L, KILN_IN_VALUE, line);
    in->run_id = run;
    in->metric = metric;
    in->format = format;
    in->text = ka_printf(L->a, "{{%s}}", s);
    push_ref(L, in);
    return in;
}

/* Turn one run of text into TEXT / VALUE / REF inlines. */
static void split_text(loader *L, const char *t, int line, kiln_inline **head, kiln_inline **tail)
{
#define APPEND(x) do { kiln_inline *x_ = (x); if (x_) { if (*tail) (*tail)->next = x_; else *head = x_; *tail = x_; } } while (0)
    const char *p = t;
    while (*p) {
        const char *o = strstr(p, "{{");
        if (!o) break;
        const char *c = strstr(o + 2, "}}");
        if (!c) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "'{{' without a closing '}}'; write {{RUN.METRIC}} or {{fig:ID}}");
            break;
        }
        if (o > p) {
            kiln_inline *tx = new_inline(L, KILN_IN_TEXT, line);
            tx->text = ka_strndup(L->a, p, (size_t)(o - p));
            APPEND(tx);
        }
        APPEND(parse_reference(L, o + 2, (size_t)(c - o - 2), line));
        p = c + 2;
    }
    if (*p) {
        kiln_inline *tx = new_inline(L, KILN_IN_TEXT, line);
        tx->text = ka_strdup(L->a, p);
        APPEND(tx);
    }
#undef APPEND
}

static int is_dangerous_url(const char *u)
{
    while (isspace((unsigned char)*u)) u++;
    static const char *const bad[] = {"javascript:", "vbscript:", "file:", "data:", NULL};
    for (int i = 0; bad[i]; i++)
        if (!strncasecmp(u, bad[i], strlen(bad[i]))) {
            if (i == 3 && (!strncasecmp(u, "data:image/png", 14) || !strncasecmp(u, "data:image/jpeg", 15) ||
                           !strncasecmp(u, "data:image/gif", 14) || !strncasecmp(u, "data:image/webp", 15)))
                return 0;
            return 1;
        }
    return 0;
}

/* A link to "02-decay.md#x" becomes "02-decay.html#x" when that chapter is
 * part of the article. */
static const char *rewrite_url(loader *L, const char *url, int line)
{
    if (is_dangerous_url(url)) {
        kd_warn(L->d, L->file, line, "link '%s' removed: javascript:, vbscript:, file: and data: URLs are not allowed", url);
        return "#";
    }
    if (strstr(url, "://") || url[0] == '#' || url[0] == '/') return ka_strdup(L->a, url);
    const char *hash = strchr(url, '#');
    size_t n = hash ? (size_t)(hash - url) : strlen(url);
    if (n > 3 && !strncmp(url + n - 3, ".md", 3)) {
        const char *base = url;
        for (size_t i = 0; i < n; i++)
            if (url[i] == '/') base = url + i + 1;
        size_t bn = (size_t)(url + n - base);
        if (bn == 8 && !strncmp(base, "index.md", 8)) return ka_printf(L->a, "index.html%s", hash ? hash : "");
        return ka_printf(L->a, "%.*s.html%s", (int)(bn - 3), base, hash ? hash : "");
    }
    return ka_strdup(L->a, url);
}

static kiln_inline *convert_inlines(loader *L, cmark_node *first, int *line);

static kiln_inline *convert_inline(loader *L, cmark_node *n, int *line, kiln_inline **tail_out)
{
    cmark_node_type t = cmark_node_get_type(n);
    kiln_inline *in = NULL;
    switch (t) {
    case CMARK_NODE_CODE:
        in = new_inline(L, KILN_IN_CODE, *line);
        in->text = ka_strdup(L->a, cmark_node_get_literal(n));
        break;
    case CMARK_NODE_SOFTBREAK:
        in = new_inline(L, KILN_IN_SOFTBREAK, *line);
        ++*line;
        break;
    case CMARK_NODE_LINEBREAK:
        in = new_inline(L, KILN_IN_LINEBREAK, *line);
        ++*line;
        break;
    case CMARK_NODE_HTML_INLINE:
        in = new_inline(L, KILN_IN_HTML, *line);
        in->text = ka_strdup(L->a, cmark_node_get_literal(n));
        if (!L->o->allow_html)
            kd_warn(L->d, L->file, *line, "raw HTML '%s' is left out (pass --allow-html to keep it)", in->text);
        break;
    case CMARK_NODE_EMPH:
    case CMARK_NODE_STRONG:
    case CMARK_NODE_LINK:
    case CMARK_NODE_IMAGE: {
        enum kiln_inline_kind k = t == CMARK_NODE_EMPH ? KILN_IN_EMPH : t == CMARK_NODE_STRONG ? KILN_IN_STRONG
                                  : t == CMARK_NODE_LINK ? KILN_IN_LINK : KILN_IN_IMAGE;
        in = new_inline(L, k, *line);
        if (k == KILN_IN_LINK || k == KILN_IN_IMAGE) {
            in->url = rewrite_url(L, cmark_node_get_url(n) ? cmark_node_get_url(n) : "", *line);
            in->title = ka_strdup(L->a, cmark_node_get_title(n));
        }
        in->children = convert_inlines(L, cmark_node_first_child(n), line);
        break;
    }
    default: /* custom inline: ignore */
        return NULL;
    }
    *tail_out = in;
    return in;
}

static kiln_inline *convert_inlines(loader *L, cmark_node *first, int *line)
{
    kiln_inline *head = NULL, *tail = NULL;
    sbuf text = {0};
    int text_line = *line;
    for (cmark_node *n = first;; n = cmark_node_next(n)) {
        if (n && cmark_node_get_type(n) == CMARK_NODE_TEXT) {
            if (!text.len) text_line = *line;
            sb_add(&text, cmark_node_get_literal(n));
            continue;
        }
        if (text.len) {
            split_text(L, text.s, text_line, &head, &tail);
            text.len = 0;
            text.s[0] = 0;
        }
        if (!n) break;
        kiln_inline *t2 = NULL;
        kiln_inline *in = convert_inline(L, n, line, &t2);
        if (!in) continue;
        if (tail) tail->next = in;
        else head = in;
        tail = t2;
    }
    sb_free(&text);
    return head;
}

/* Plain text of inlines (for titles, anchors, alt text). */
static void plain_text(sbuf *b, const kiln_inline *in)
{
    for (; in; in = in->next) {
        switch (in->kind) {
        case KILN_IN_SOFTBREAK: case KILN_IN_LINEBREAK: sb_addc(b, ' '); break;
        case KILN_IN_HTML: break;
        default:
            if (in->children) plain_text(b, in->children);
            else sb_add(b, in->text);
        }
    }
}

static const char *make_anchor(loader *L, const char *text)
{
    sbuf b = {0};
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p)) sb_addc(&b, (char)tolower(*p));
        else if ((*p == ' ' || *p == '-' || *p == '_') && b.len && b.s[b.len - 1] != '-') sb_addc(&b, '-');
    }
    while (b.len && b.s[b.len - 1] == '-') b.s[--b.len] = 0;
    if (!b.len) sb_add(&b, "section");
    char *base = ka_strdup(L->a, b.s);
    sb_free(&b);
    const char *cand = base;
    for (int k = 2;; k++) {
        int clash = 0;
        for (int i = 0; i < L->n_anchors; i++)
            if (!strcmp(L->anchors[i], cand)) { clash = 1; break; }
        /* figure/table anchors use the fig- / table- prefix */
        if (!clash && (!strncmp(cand, "fig-", 4) || !strncmp(cand, "table-", 6))) clash = 1;
        if (!clash) break;
        cand = ka_printf(L->a, "%s-%d", base, k);
    }
    if (L->n_anchors == L->cap_anchors) {
        L->cap_anchors = L->cap_anchors ? L->cap_anchors * 2 : 16;
        L->anchors = realloc(L->anchors, sizeof *L->anchors * (size_t)L->cap_anchors);
        if (!L->anchors) abort();
    }
    L->anchors[L->n_anchors++] = cand;
    return cand;
}

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
        kv[n++] = (kiln_kv){ka_strdup(L->a, k), ka_strdup(L->a, v), line};
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

static kiln_directive *parse_directive(loader *L, const char *info, const char *body, int line)
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
    if ((t = kv_get(x, "caption"))) {
        /* captions are inline Markdown */
        cmark_node *root = cmark_parse_document(t, strlen(t), CMARK_OPT_SMART);
        cmark_node *para = cmark_node_first_child(root);
        int cl = kv_line(x, "caption");
        if (para && cmark_node_get_type(para) == CMARK_NODE_PARAGRAPH)
            x->caption = convert_inlines(L, cmark_node_first_child(para), &cl);
        cmark_node_free(root);
    }
    if (x->kind == KILN_DIR_FIGURE || x->kind == KILN_DIR_LRFIND) x->anchor = ka_printf(L->a, "fig-%s", x->id);
    if (x->kind == KILN_DIR_TABLE) x->anchor = ka_printf(L->a, "table-%s", x->id);
    push_dir(L, x);
    return x;
}

/* ---- blocks ------------------------------------------------------------------------------ */

static kiln_block *convert_blocks(loader *L, cmark_node *first);

static kiln_block *convert_block(loader *L, cmark_node *n)
{
    kiln_block *b = ka_alloc(L->a, sizeof *b);
    b->line = cmark_node_get_start_line(n);
    b->text = b->info = b->anchor = "";
    int line = b->line;
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_PARAGRAPH:
        b->kind = KILN_BL_PARAGRAPH;
        b->inlines = convert_inlines(L, cmark_node_first_child(n), &line);
        break;
    case CMARK_NODE_HEADING: {
        b->kind = KILN_BL_HEADING;
        b->level = cmark_node_get_heading_level(n);
        b->inlines = convert_inlines(L, cmark_node_first_child(n), &line);
        sbuf t = {0};
        plain_text(&t, b->inlines);
        b->anchor = make_anchor(L, t.s ? t.s : "");
        sb_free(&t);
        break;
    }
    case CMARK_NODE_BLOCK_QUOTE:
        b->kind = KILN_BL_QUOTE;
        b->children = convert_blocks(L, cmark_node_first_child(n));
        break;
    case CMARK_NODE_LIST:
        b->kind = KILN_BL_LIST;
        b->ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
        b->start = cmark_node_get_list_start(n);
        b->tight = cmark_node_get_list_tight(n);
        b->children = convert_blocks(L, cmark_node_first_child(n));
        break;
    case CMARK_NODE_ITEM:
        b->kind = KILN_BL_ITEM;
        b->children = convert_blocks(L, cmark_node_first_child(n));
        break;
    case CMARK_NODE_CODE_BLOCK: {
        const char *info = cmark_node_get_fence_info(n);
        while (info && isspace((unsigned char)*info)) info++;
        if (info && info[0] == '{') {
            b->kind = KILN_BL_DIRECTIVE;
            b->directive = parse_directive(L, info, cmark_node_get_literal(n), b->line);
            if (!b->directive) return NULL;
        } else {
            b->kind = KILN_BL_CODE;
            b->text = ka_strdup(L->a, cmark_node_get_literal(n));
            b->info = ka_strdup(L->a, info);
        }
        break;
    }
    case CMARK_NODE_HTML_BLOCK:
        b->kind = KILN_BL_HTML;
        b->text = ka_strdup(L->a, cmark_node_get_literal(n));
        if (!L->o->allow_html)
            kd_warn(L->d, L->file, b->line, "a raw HTML block is left out (pass --allow-html to keep it)");
        break;
    case CMARK_NODE_THEMATIC_BREAK:
        b->kind = KILN_BL_RULE;
        break;
    default:
        return NULL;
    }
    return b;
}

static kiln_block *convert_blocks(loader *L, cmark_node *first)
{
    kiln_block *head = NULL, *tail = NULL;
    for (cmark_node *n = first; n; n = cmark_node_next(n)) {
        kiln_block *b = convert_block(L, n);
        if (!b) continue;
        if (tail) tail->next = b;
        else head = b;
        tail = b;
    }
    return head;
}

/* ---- one file --------------------------------------------------------------------------- */

static kiln_block *parse_markdown(loader *L, const char *file, const char *text, size_t len)
{
    L->file = file;
    L->n_anchors = 0;
    cmark_node *root = cmark_parse_document(text, len, CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8);
    kiln_block *blocks = convert_blocks(L, cmark_node_first_child(root));
    cmark_node_free(root);
    return blocks;
}

static const char *first_h1(kiln_block *b, kiln_block **h)
{
    for (; b; b = b->next)
        if (b->kind == KILN_BL_HEADING && b->level == 1) {
            *h = b;
            sbuf t = {0};
            plain_text(&t, b->inlines);
            return t.s ? t.s : strdup("");
        }
    *h = NULL;
    return NULL;
}

/* ---- checks once everything is parsed ------------------------------------------------------ */

static kiln_directive *find_dir(loader *L, int kind1, int kind2, const char *id, const kiln_directive *before)
{
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        if (x == before) return NULL;
        if (((int)x->kind == kind1 || (int)x->kind == kind2) && !strcmp(x->id, id)) return x;
    }
    return NULL;
}

static void list_runs(sbuf *b, const kiln_doc *doc)
{
    for (int i = 0; i < doc->n_runs; i++) { if (i) sb_add(b, ", "); sb_add(b, doc->runs[i]->id); }
    if (!doc->n_runs) sb_add(b, "(none declared)");
}

/* Keys that apply only with some schedules, optimizers or early stopping
 * (mirrors the key table's relevance in src/train/config.c, which
 * kiln_config_validate enforces for keys that were set). */
/* schedules that run from base_lr/max_lr, never from learning_rate */
static const char NO_LEARNING_RATE_SCHEDULES[] = "triangular triangular2 exp_range one_cycle";

static int word_in_list(const char *w, const char *list)
{
    size_t n = strlen(w);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, w, n)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Clear the set bit of a trainer key; returns whether it was set. */
static int unset_key(kiln_config *c, const char *name)
{
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++) {
        if (strcmp(ki[i].name, name)) continue;
        uint64_t bit = 1ull << (i % 64);
        int was = (c->set_mask[i / 64] & bit) != 0;
        c->set_mask[i / 64] &= ~bit;
        return was;
    }
    return 0;
}

/* After `base =`: keys the child inherited but that do not apply to its own
 * schedule, optimizer or early stopping count as not set, so switching the
 * schedule in a derived run is not refused for the base's settings. Keys the
 * directive sets itself stay set, so a contradiction within one directive
 * is still an error. An inherited learning_rate under a schedule that never
 * reads it goes back to the optimizer's default, as if the run had been
 * written out without it (the same config, the same cache key). */
static void drop_ref(kiln_run *r, const char *key)
{
    for (int i = 0; i < r->n_refs; i++)
        if (!strcmp(r->refs[i].key, key)) {
            r->refs[i] = r->refs[--r->n_refs];
            return;
        }
}

static void drop_inherited_irrelevant(kiln_config *c, const kiln_directive *x, kiln_run *r)
{
    /* the trainer says where each key applies (kiln_key_info.scope) */
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++) {
        const char *name = ki[i].name, *sc = ki[i].scope;
        if (strncmp(sc, "opt=", 4) && strncmp(sc, "sched=", 6) && strcmp(sc, "es")) continue;
        if (kv_get(x, name) || kiln_config_key_applies(c, name)) continue;
        unset_key(c, name);
        drop_ref(r, name);
    }
    if (!kv_get(x, "learning_rate") && word_in_list(c->schedule, NO_LEARNING_RATE_SCHEDULES)) {
        drop_ref(r, "learning_rate");
        if (unset_key(c, "learning_rate")) c->learning_rate = NAN;
    }
}

/* `key = {{RUN.METRIC[:FORMAT]}}` in an {experiment}: remembered, applied by
 * kiln_doc_run once RUN has a result. */
static int add_config_ref(loader *L, kiln_run *r, const kiln_directive *x, const kiln_kv *kv)
{
    size_t n = strlen(kv->value);
    char *s = trim(ka_strndup(L->a, kv->value + 2, n - 4));
    const char *run, *metric, *format;
    if (split_value_ref(L->a, s, &run, &metric, &format)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv->line,
                 "{%s} %s: key '%s': malformed reference '%s'; accepted: {{RUN.METRIC}} or {{RUN.METRIC:FORMAT}}, "
                 "e.g. {{sweep.suggested_max_lr:.3g}}",
                 x->name, x->id, kv->key, kv->value);
        return 1;
    }
    drop_ref(r, kv->key);
    /* an inherited array was allocated with room for this directive's keys */
    if (!r->refs) r->refs = ka_alloc(L->a, sizeof *r->refs * (size_t)x->n_kv);
    kiln_config_ref *f = &r->refs[r->n_refs++];
    memset(f, 0, sizeof *f);
    f->key = kv->key;
    f->run_id = run;
    f->metric = metric;
    f->format = format;
    f->file = x->file;
    f->line = kv->line;
    f->text = "";
    return 0;
}

/* Build each run's config, following base = chains. state: 0 new, 1 busy, 2 done. */
static int build_config(loader *L, kiln_run *r, kiln_directive *x, int *state, int depth, sbuf *chain)
{
    int idx = -1;
    for (int i = 0; i < L->doc->n_runs; i++)
        if (L->doc->runs[i] == r) idx = i;
    if (state[idx] == 2) return 0;
    if (state[idx] == 1) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "base"), "a cycle in 'base =': %s -> %s", chain->s, r->id);
        return 1;
    }
    state[idx] = 1;
    if (chain->len) sb_add(chain, " -> ");
    sb_add(chain, r->id);
    kiln_config_init(&r->config);
    const char *base = kv_get(x, "base");
    if (base) {
        kiln_run *b = kr_find_run(L->doc, base);
        if (!b) {
            sbuf m = {0};
            list_runs(&m, L->doc);
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "base"), "{%s} %s: base '%s' is not a run; declared runs: %s",
                     x->name, x->id, base, m.s);
            sb_free(&m);
            state[idx] = 2;
            return 1;
        }
        kiln_directive *bx = find_dir(L, KILN_DIR_EXPERIMENT, KILN_DIR_LRFIND, base, NULL);
        if (build_config(L, b, bx, state, depth + 1, chain)) { state[idx] = 2; return 1; }
        r->config = b->config;
        if (!kv_get(x, "label") && b->label != b->id) r->label = b->label;
        r->base = b->id;
        r->checkpoint = b->checkpoint;
        /* inherited references, except for keys this directive sets itself */
        if (b->n_refs) r->refs = ka_alloc(L->a, sizeof *r->refs * (size_t)(b->n_refs + x->n_kv));
        for (int i = 0; i < b->n_refs; i++)
            if (!kv_get(x, b->refs[i].key)) r->refs[r->n_refs++] = b->refs[i];
    }
    int bad = 0;
    for (int i = 0; i < x->n_kv; i++) {
        const kiln_kv *kv = &x->kv[i];
        if (in_list(EXPERIMENT_META, kv->key) || in_list(LRFIND_META, kv->key)) continue;
        if (is_config_ref(kv->value)) {
            if (x->kind == KILN_DIR_LRFIND) { bad = 1; continue; } /* reported by check_keys */
            bad |= add_config_ref(L, r, x, kv);
            continue;
        }
        char err[4096];
        if (kiln_config_set(&r->config, kv->key, kv->value, err, sizeof err)) bad = 1; /* reported by check_keys */
    }
    const char *ck = kv_get(x, "checkpoint");
    if (ck) {
        if (x->kind == KILN_DIR_LRFIND || (strcmp(ck, "best") && strcmp(ck, "every") && strcmp(ck, "no"))) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "checkpoint"),
                     x->kind == KILN_DIR_LRFIND ? "{lrfind} %s: a range test keeps no checkpoints (checkpoint = %s)"
                                                : "{experiment} %s: checkpoint = '%s'; accepted: best (the weights of the "
                                                  "epoch with the lowest val_loss), every (the last epoch's), no",
                     x->id, ck);
            bad = 1;
        }
        r->checkpoint = !strcmp(ck, "best") ? 1 : !strcmp(ck, "every") ? 2 : 0;
        if (r->checkpoint == 1 && r->config.validation_split <= 0) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "checkpoint"),
                     "{experiment} %s: checkpoint = best needs val_loss, but validation_split is 0", x->id);
            bad = 1;
        }
    }
    if (base) drop_inherited_irrelevant(&r->config, x, r);
    if (r->kind == KILN_RUN_LRFIND && r->n_refs) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line,
                 "{lrfind} %s: its base takes '%s' from run '%s'; a range test's settings must be written out", x->id,
                 r->refs[0].key, r->refs[0].run_id);
        bad = 1;
    }
    char err[1024];
    /* a config with references is validated once they are applied */
    if (!bad && !r->n_refs && kiln_config_validate(&r->config, err, sizeof err)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "{%s} %s: %s", x->name, x->id, err);
        bad = 1;
    }
    if (r->kind == KILN_RUN_LRFIND) {
        kiln_lrfind_opts_init(&r->lrfind_opts);
        static const char *const num[] = {"start_lr", "end_lr", "lr_steps", "lr_epochs", "sma", "smoothing", "stop_factor"};
        for (int i = 0; i < 7; i++) {
            const char *v = kv_get(x, num[i]);
            if (!v) continue;
            char *end;
            double d = strtod(v, &end);
            if (!*v || *end || !isfinite(d) || d <= 0 || (i >= 2 && i <= 4 && d != floor(d)) || (i == 5 && d >= 1) ||
                (i == 6 && d <= 1)) {
                kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, num[i]),
                         "{lrfind} %s: key '%s': '%s' is not a %s", x->id, num[i], v,
                         i >= 2 && i <= 4 ? "positive integer" : i == 5 ? "number in (0, 1)"
                         : i == 6 ? "number > 1 (the loss may grow to stop_factor times its best)" : "positive number");
                bad = 1;
                continue;
            }
            switch (i) {
            case 0: r->lrfind_opts.start_lr = d; break;
            case 1: r->lrfind_opts.end_lr = d; break;
            case 2: r->lrfind_opts.steps = (long)d; break;
            case 3: r->lrfind_opts.epochs = (int)d; break;
            case 4: r->lrfind_opts.sma = (int)d; break;
            case 5: r->lrfind_opts.beta = d; break;
            case 6: r->lrfind_opts.stop_factor = d; break;
            }
        }
        if (kv_get(x, "lr_steps") && kv_get(x, "lr_epochs")) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "lr_epochs"),
                     "{lrfind} %s: give lr_steps or lr_epochs, not both", x->id);
            bad = 1;
        }
        if (r->lrfind_opts.start_lr >= r->lrfind_opts.end_lr) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "{lrfind} %s: start_lr (%g) must be below end_lr (%g)",
                     x->id, r->lrfind_opts.start_lr, r->lrfind_opts.end_lr);
            bad = 1;
        }
    }
    state[idx] = 2;
    chain->len = 0;
    if (chain->s) chain->s[0] = 0;
    (void)depth;
    return bad;
}

static int check_run_ref(loader *L, const char *file, int line, const char *what, const char *id, kiln_run **out)
{
    kiln_run *r = kr_find_run(L->doc, id);
    if (!r) {
        sbuf m = {0};
        list_runs(&m, L->doc);
        kd_error(L->d, KILN_REPORT_EINPUT, file, line, "%s: unknown run '%s'%s; declared runs: %s", what, id,
                 hint(L, id, m.s ? m.s : ""), m.s);
        sb_free(&m);
        return 1;
    }
    *out = r;
    return 0;
}

static void check_metric(loader *L, const char *file, int line, const char *what, kiln_run *r, const char *metric,
                         const char *fmt)
{
    double v;
    const char *s;
    int k = kiln_run_value(r, metric, &v, &s);
    if (k < 0) {
        sbuf m = {0};
        kr_metric_words(&m);
        kd_error(L->d, KILN_REPORT_EINPUT, file, line, "%s: unknown metric '%s' of run '%s'%s; accepted: %s", what, metric,
                 r->id, hint(L, metric, m.s), kiln_metric_names());
        sb_free(&m);
    }
    char buf[64];
    if (fmt && *fmt && kiln_format_value(1.0, fmt, buf, sizeof buf) < 0)
        kd_error(L->d, KILN_REPORT_EINPUT, file, line,
                 "%s: unknown format '%s'%s; accepted: .Nf, .Ne, .Ng, .N%% (percent), d, sci, repr (N = digits)", what, fmt,
                 format_hint(L, fmt));
}

/* metrics that need a trained result (config keys and names do not) */
static int needs_result(const char *metric)
{
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(ki[i].name, metric)) return 0;
    return strcmp(metric, "id") && strcmp(metric, "label") && strcmp(metric, "key");
}

/* {{GROUP.STAT_METRIC}}: the statistic is known and every run of the group
 * has the metric; the runs are needed when it is a result. */
static void check_group_metric(loader *L, const char *file, int line, const char *what, kiln_directive *g,
                               const char *name, const char *fmt)
{
    if (g->n_runs < 1) return; /* reported with the group */
    double v;
    const char *s;
    if (kiln_group_value(g, name, &v, &s) < 0) {
        kd_error(L->d, KILN_REPORT_EINPUT, file, line,
                 "%s: unknown value '%s' of {group} %s; accepted: n, id, label, or mean_M, sd_M, min_M, max_M, range_M, sum_M "
                 "for a metric M of its runs (e.g. mean_test_accuracy)",
                 what, name, g->id);
        return;
    }
    const char *us = strchr(name, '_');
    if (us) {
        for (int i = 0; i < g->n_runs; i++) {
            check_metric(L, file, line, what, g->runs[i], us + 1, fmt);
            if (needs_result(us + 1)) g->runs[i]->needed = 1;
        }
    } else {
        check_metric(L, file, line, what, g->runs[0], "id", fmt);
    }
}

/* Keys taken from other runs' results: the run exists, has no references of
 * its own (one level only, so there are no cycles), and the metric is a
 * result. A run that is needed needs the runs it takes values from. */
static void check_config_refs(loader *L)
{
    kiln_doc *doc = L->doc;
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        for (int j = 0; j < r->n_refs; j++) {
            kiln_config_ref *f = &r->refs[j];
            char what[256];
            snprintf(what, sizeof what, "{experiment} %s: key '%s'", r->id, f->key);
            kiln_run *t;
            if (check_run_ref(L, f->file, f->line, what, f->run_id, &t)) continue;
            if (t == r || t->n_refs) {
                kd_error(L->d, KILN_REPORT_EINPUT, f->file, f->line,
                         "%s: run '%s' %s; a value can only come from a run whose settings are all written out", what,
                         t->id, t == r ? "is this run itself" : "takes values from other runs itself");
                continue;
            }
            int before = L->d->n_errors;
            check_metric(L, f->file, f->line, what, t, f->metric, f->format);
            if (L->d->n_errors != before) continue;
            if (!needs_result(f->metric)) {
                kd_error(L->d, KILN_REPORT_EINPUT, f->file, f->line,
                         "%s: '%s' is a setting of '%s', not a result; use 'base = %s' to share settings", what,
                         f->metric, t->id, t->id);
                continue;
            }
            f->from = t;
            if (r->needed) t->needed = 1;
        }
    }
}

static void check_all(loader *L)
{
    kiln_doc *doc = L->doc;
    /* runs: unique ids, configs */
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        kiln_directive *prev = NULL;
        if (x->kind == KILN_DIR_EXPERIMENT || x->kind == KILN_DIR_LRFIND)
            prev = find_dir(L, KILN_DIR_EXPERIMENT, KILN_DIR_LRFIND, x->id, x);
        else if (x->kind == KILN_DIR_FIGURE)
            prev = find_dir(L, KILN_DIR_FIGURE, KILN_DIR_LRFIND, x->id, x);
        else if (x->kind == KILN_DIR_TABLE)
            prev = find_dir(L, KILN_DIR_TABLE, KILN_DIR_TABLE, x->id, x);
        if (x->kind == KILN_DIR_LRFIND && !prev) prev = find_dir(L, KILN_DIR_FIGURE, KILN_DIR_FIGURE, x->id, x);
        if (prev) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "duplicate id '%s': {%s} %s is already declared at %s:%d",
                     x->id, prev->name, prev->id, prev->file, prev->line);
            continue;
        }
        if (x->kind == KILN_DIR_EXPERIMENT || x->kind == KILN_DIR_LRFIND) {
            kiln_run *r = ka_alloc(L->a, sizeof *r);
            r->id = x->id;
            r->kind = x->kind == KILN_DIR_LRFIND ? KILN_RUN_LRFIND : KILN_RUN_TRAIN;
            r->file = x->file;
            r->line = x->line;
            r->base = "";
            const char *lab = kv_get(x, "label");
            r->label = lab ? lab : x->id;
            r->kiln_version = r->fingerprint = r->data_digest = r->compiler = r->cpu = r->date = r->host_threads = "";
            x->run = r;
            doc->runs = realloc(doc->runs, sizeof *doc->runs * (size_t)(doc->n_runs + 1));
            if (!doc->runs) abort();
            doc->runs[doc->n_runs++] = r;
        }
    }
    ka_own(L->a, doc->runs);
    int *state = calloc((size_t)doc->n_runs + 1, sizeof *state);
    sbuf chain = {0};
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        if (!x->run || (x->kind != KILN_DIR_EXPERIMENT && x->kind != KILN_DIR_LRFIND)) continue;
        chain.len = 0;
        if (chain.s) chain.s[0] = 0;
        build_config(L, x->run, x, state, 0, &chain);
    }
    sb_free(&chain);
    free(state);
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (L->o->smoke) kiln_smoke_shrink(&r->config);
        if (r->kind == KILN_RUN_LRFIND) {
            r->needed = 1;
            if (L->o->smoke) {
                if (r->lrfind_opts.steps <= 0 || r->lrfind_opts.steps > 40) r->lrfind_opts.steps = 40;
            }
        }
        r->canonical = "";
    }

    /* the other directives */
    int n_fig = 0, n_tab = 0;
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        char what[160];
        snprintf(what, sizeof what, "{%s} %s", x->name, x->id);
        switch (x->kind) {
        case KILN_DIR_EXPERIMENT:
            break;
        case KILN_DIR_LRFIND:
            x->number = ++n_fig;
            x->figure_kind = KILN_FIG_RANGE;
            x->runs = ka_alloc(L->a, sizeof *x->runs);
            if (x->run) { x->runs[0] = x->run; x->n_runs = 1; }
            break;
        case KILN_DIR_RESULT:
        case KILN_DIR_CONFIG: {
            kiln_run *r;
            if (check_run_ref(L, x->file, x->line, what, x->id, &r)) break;
            x->run = r;
            if (x->kind == KILN_DIR_RESULT) {
                if (r->kind != KILN_RUN_TRAIN)
                    kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "%s: '%s' is a range test; {result} takes an {experiment}",
                             what, r->id);
                r->needed = 1;
                const char *f = kv_get(x, "format");
                char buf[64];
                if (f && kiln_format_value(1.0, f, buf, sizeof buf) < 0)
                    kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "format"),
                             "%s: unknown format '%s'%s; accepted: .Nf, .Ne, .Ng, .N%%, d, sci, repr", what, f,
                             format_hint(L, f));
            }
            break;
        }
        case KILN_DIR_GROUP: {
            if (kr_find_run(doc, x->id) || kr_find_group(doc, x->id)) {
                kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "duplicate id '%s': a run or {group} has it already",
                         x->id);
                break;
            }
            const char *runs = kv_get(x, "runs");
            const char **ids;
            int n = runs ? split_list(L->a, runs, &ids) : 0;
            if (!n) {
                kd_error(L->d, KILN_REPORT_EINPUT, x->file, runs ? kv_line(x, "runs") : x->line,
                         "%s: key 'runs' is required (a list of run ids)", what);
                break;
            }
            x->runs = ka_alloc(L->a, sizeof *x->runs * (size_t)n);
            for (int j = 0; j < n; j++) {
                kiln_run *r;
                if (check_run_ref(L, x->file, kv_line(x, "runs"), what, ids[j], &r)) continue;
                x->runs[x->n_runs++] = r;
            }
            doc->groups = realloc(doc->groups, sizeof *doc->groups * (size_t)(doc->n_groups + 1));
            if (!doc->groups) abort();
            doc->groups[doc->n_groups++] = x;
            break;
        }
        case KILN_DIR_FIGURE:
        case KILN_DIR_TABLE: {
            if (x->kind == KILN_DIR_FIGURE) x->number = ++n_fig;
            else x->number = ++n_tab;
            const char *runs = kv_get(x, "runs");
            if (!runs) {
                kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "%s: key 'runs' is required (a list of run ids)", what);
                break;
            }
            const char **ids;
            int n = split_list(L->a, runs, &ids);
            x->runs = ka_alloc(L->a, sizeof *x->runs * (size_t)(n ? n : 1));
            for (int j = 0; j < n; j++) {
                kiln_run *r;
                if (check_run_ref(L, x->file, kv_line(x, "runs"), what, ids[j], &r)) continue;
                x->runs[x->n_runs++] = r;
            }
            if (!n) kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "runs"), "%s: 'runs' is empty", what);
            if (x->kind == KILN_DIR_TABLE && kv_get(x, "summary")) {
                const char **sv;
                int ns = split_list(L->a, kv_get(x, "summary"), &sv);
                for (int j = 0; j < ns; j++)
                    if (!in_list(SUMMARY_ROWS, sv[j]))
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "summary"),
                                 "%s: summary row '%s'%s; accepted: mean, sd (sample standard deviation), min, max", what,
                                 sv[j], list_hint(L, sv[j], SUMMARY_ROWS));
            }
            if (x->kind == KILN_DIR_TABLE) {
                const char *cols = kv_get(x, "columns");
                if (!cols) cols = "label, test_loss, test_accuracy";
                const char **cv;
                int nc = split_list(L->a, cols, &cv);
                for (int j = 0; j < nc; j++) {
                    char *name = ka_strdup(L->a, cv[j]);
                    char *c = strchr(name, ':');
                    if (c) *c++ = 0;
                    for (int k = 0; k < x->n_runs; k++) {
                        check_metric(L, x->file, kv_line(x, "columns"), what, x->runs[k], name, c);
                        if (needs_result(name)) x->runs[k]->needed = 1;
                    }
                }
                const char *hd = kv_get(x, "headers");
                if (hd) {
                    const char **hv;
                    int nh = split_commas(L->a, hd, &hv);
                    if (nh != nc)
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "headers"),
                                 "%s: %d headers for %d columns; give one header per column", what, nh, nc);
                }
            } else {
                const char *kind = kv_get(x, "kind");
                x->figure_kind = KILN_FIG_HISTORY;
                if (kind) {
                    if (!strcmp(kind, "history")) x->figure_kind = KILN_FIG_HISTORY;
                    else if (!strcmp(kind, "range")) x->figure_kind = KILN_FIG_RANGE;
                    else if (!strcmp(kind, "schedule")) x->figure_kind = KILN_FIG_SCHEDULE;
                    else if (!strcmp(kind, "sweep")) x->figure_kind = KILN_FIG_SWEEP;
                    else
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "kind"),
                                 "%s: kind '%s' is not accepted%s; accepted: history, range, schedule, sweep", what, kind,
                                 hint(L, kind, "history range schedule sweep"));
                }
                static const char *const sweep_keys[] = {"x", "y", "by"};
                for (int j = 0; j < 3; j++) {
                    const char *v = kv_get(x, sweep_keys[j]);
                    if (!v) continue;
                    if (x->figure_kind != KILN_FIG_SWEEP) {
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, sweep_keys[j]),
                                 "%s: '%s' applies to kind = sweep only", what, sweep_keys[j]);
                        continue;
                    }
                    for (int k = 0; k < x->n_runs; k++) {
                        check_metric(L, x->file, kv_line(x, sweep_keys[j]), what, x->runs[k], v, NULL);
                        if (needs_result(v)) x->runs[k]->needed = 1;
                    }
                }
                const char *per = kv_get(x, "per");
                int step = 0;
                if (per) {
                    if (!strcmp(per, "step")) step = 1;
                    else if (strcmp(per, "epoch"))
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "per"),
                                 "%s: per '%s' is not accepted%s; accepted: epoch, step", what, per,
                                 hint(L, per, "epoch step"));
                }
                const char *series = kv_get(x, "series");
                if (series) {
                    if (x->figure_kind != KILN_FIG_HISTORY && x->figure_kind != KILN_FIG_RANGE)
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "series"),
                                 "%s: 'series' applies to kind = history and kind = range only", what);
                    const char **sv;
                    int ns = split_list(L->a, series, &sv);
                    if (x->figure_kind == KILN_FIG_RANGE) {
                        if (ns != 1 || (strcmp(sv[0], "loss") && strcmp(sv[0], "derivative")))
                            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "series"),
                                     "%s: series '%s' is not accepted for a range test; accepted: loss (the batch "
                                     "and smoothed loss, the default) or derivative (its rate of change)",
                                     what, series);
                        ns = 0;
                    }
                    for (int j = 0; j < ns; j++) {
                        static const char *const ep[] = {"loss", "val_loss", "accuracy", "val_accuracy", "lr", NULL};
                        static const char *const st[] = {"loss", "lr", NULL};
                        if (!in_list(step ? st : ep, sv[j]))
                            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "series"),
                                     "%s: series '%s' is not accepted per %s%s; accepted: %s", what, sv[j],
                                     step ? "step" : "epoch", list_hint(L, sv[j], step ? st : ep),
                                     step ? "loss, lr" : "loss, val_loss, accuracy, val_accuracy, lr");
                    }
                }
                for (int j = 0; j < x->n_runs; j++) {
                    kiln_run *r = x->runs[j];
                    int want_lrfind = x->figure_kind == KILN_FIG_RANGE;
                    if (x->figure_kind == KILN_FIG_SWEEP && !kv_get(x, "y")) r->needed = 1; /* test_accuracy */
                    if (want_lrfind != (r->kind == KILN_RUN_LRFIND) && x->figure_kind != KILN_FIG_SCHEDULE)
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "runs"),
                                 "%s: run '%s' is %s; kind = %s needs %s", what, r->id,
                                 r->kind == KILN_RUN_LRFIND ? "a range test" : "an experiment",
                                 want_lrfind ? "range" : x->figure_kind == KILN_FIG_SWEEP ? "sweep" : "history",
                                 want_lrfind ? "{lrfind} runs" : "{experiment} runs");
                    if (x->figure_kind != KILN_FIG_SCHEDULE && x->figure_kind != KILN_FIG_SWEEP) r->needed = 1;
                    else if (!strcmp(r->config.schedule, "plateau"))
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "runs"),
                                 "%s: run '%s' uses schedule = plateau, whose rate depends on the validation loss, "
                                 "so it cannot be drawn without training; draw it from the run's history instead "
                                 "(kind = history, series = lr)", what, r->id);
                }
                /* a sweep's labels name its lines, counted when it is drawn */
                if (x->labels && x->n_labels != x->n_runs && x->figure_kind != KILN_FIG_SWEEP)
                    kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "labels"),
                             "%s: %d labels for %d runs; give one label per run", what, x->n_labels, x->n_runs);
                static const char *const bools[] = {"xlog", "ylog"};
                for (int j = 0; j < 2; j++) {
                    const char *v = kv_get(x, bools[j]);
                    if (v && strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0"))
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, bools[j]),
                                 "%s: %s '%s' is not accepted; accepted: true, false", what, bools[j], v);
                }
                static const char *const nums[] = {"ymin", "ymax", "xmin", "xmax"};
                for (int j = 0; j < 4; j++) {
                    const char *v = kv_get(x, nums[j]);
                    char *end;
                    if (v && (strtod(v, &end), !*v || *end))
                        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, nums[j]),
                                 "%s: %s '%s' is not a number", what, nums[j], v);
                }
            }
            break;
        }
        }
    }
    if (doc->groups) ka_own(L->a, doc->groups);
    /* figure and table lists in number order */
    doc->figures = ka_alloc(L->a, sizeof *doc->figures * (size_t)(n_fig + 1));
    doc->tables = ka_alloc(L->a, sizeof *doc->tables * (size_t)(n_tab + 1));
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        if ((x->kind == KILN_DIR_FIGURE || x->kind == KILN_DIR_LRFIND) && x->number) doc->figures[doc->n_figures++] = x;
        if (x->kind == KILN_DIR_TABLE && x->number) doc->tables[doc->n_tables++] = x;
    }

    /* inline values and references */
    for (int i = 0; i < L->n_refs; i++) {
        kiln_inline *in = L->refs[i];
        const char *file = L->ref_files[i];
        if (in->kind == KILN_IN_REF) {
            kiln_directive *t = kr_find_target(doc, in->metric, in->run_id);
            if (!t) {
                sbuf m = {0};
                int is_tab = !strcmp(in->metric, "table");
                int n = is_tab ? doc->n_tables : doc->n_figures;
                for (int j = 0; j < n; j++) {
                    if (j) sb_add(&m, ", ");
                    sb_add(&m, (is_tab ? doc->tables : doc->figures)[j]->id);
                }
                kd_error(L->d, KILN_REPORT_EINPUT, file, in->line, "reference %s: no %s with id '%s'; declared: %s", in->text,
                         is_tab ? "{table}" : "{figure} or {lrfind}", in->run_id, n ? m.s : "(none)");
                sb_free(&m);
                continue;
            }
            in->target = t;
            continue;
        }
        kiln_directive *g = kr_find_group(doc, in->run_id);
        if (g) {
            check_group_metric(L, file, in->line, in->text, g, in->metric, in->format);
            continue;
        }
        kiln_run *r;
        if (check_run_ref(L, file, in->line, in->text, in->run_id, &r)) continue;
        check_metric(L, file, in->line, in->text, r, in->metric, in->format);
        if (needs_result(in->metric)) r->needed = 1;
    }
    check_config_refs(L);
}

/* ---- entry points ------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static kiln_doc *new_doc(const kiln_build_opts *o)
{
    kiln_arena *a = ka_new();
    kiln_doc *doc = ka_alloc(a, sizeof *doc);
    doc->arena = a;
    doc->opts = *o;
    doc->smoke = o->smoke;
    doc->title = "";
    doc->index_file = "";
    doc->data_digest = "";
    doc->trainer_fingerprint = kiln_trainer_fingerprint();
    return doc;
}

static int finish(loader *L, kiln_doc **out)
{
    check_all(L);
    /* the messages in file and line order: index.md, then the chapters */
    kiln_doc *doc = L->doc;
    const char **files = malloc(sizeof *files * (size_t)(doc->n_chapters + 1));
    if (!files) abort();
    int nf = 0;
    if (doc->index_file[0]) files[nf++] = doc->index_file;
    for (int i = 0; i < doc->n_chapters; i++) files[nf++] = doc->chapters[i].file;
    kd_sort(L->d, L->first_msg, files, nf);
    free(files);
    free(L->dirs);
    free(L->refs);
    free(L->ref_files);
    free(L->anchors);
    if (L->d->n_errors) {
        kiln_doc_free(L->doc);
        *out = NULL;
        return L->d->worst ? L->d->worst : KILN_REPORT_EINPUT;
    }
    *out = L->doc;
    return 0;
}

static void setup_chapter(loader *L, kiln_chapter *ch, const char *file, const char *name, kiln_block *blocks)
{
    size_t n = strlen(name);
    ch->file = ka_strdup(L->a, file);
    ch->slug = ka_strndup(L->a, name, n - 3);
    ch->page = ka_printf(L->a, "%s.html", ch->slug);
    ch->blocks = blocks;
    kiln_block *h;
    char *t = (char *)first_h1(blocks, &h);
    ch->title = t ? ka_strdup(L->a, t) : ch->slug;
    free(t);
    if (!t) kd_warn(L->d, file, 1, "no '# title' heading; the chapter is called '%s'", ch->slug);
}

int kiln_doc_load_text(kiln_doc **out, const char *file, const char *markdown, const kiln_build_opts *o, kiln_diag *d)
{
    loader L = {0};
    L.doc = new_doc(o);
    L.a = L.doc->arena;
    L.d = d;
    L.first_msg = d->n_msgs;
    L.o = o;
    const char *slash = strrchr(file, '/');
    const char *name = slash ? slash + 1 : file;
    char *nm = (strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".md")) ? ka_strdup(L.a, name)
                                                                           : ka_printf(L.a, "%s.md", name);
    kiln_chapter *ch = ka_alloc(L.a, sizeof *ch);
    L.chapter = ch;
    kiln_block *blocks = parse_markdown(&L, ka_strdup(L.a, file), markdown, strlen(markdown));
    setup_chapter(&L, ch, file, nm, blocks);
    L.doc->chapters = ch;
    L.doc->n_chapters = 1;
    L.doc->title = ch->title;
    return finish(&L, out);
}

int kiln_doc_load(kiln_doc **out, const kiln_build_opts *o, kiln_diag *d)
{
    *out = NULL;
    const char *dir = o->content_dir ? o->content_dir : "content";
    DIR *dp = opendir(dir);
    if (!dp) {
        kd_error(d, KILN_REPORT_EINPUT, dir, 0, "cannot open the content folder: %s (give one with --content DIR; it holds index.md and the chapters NN-name.md)",
                 strerror(errno));
        return KILN_REPORT_EINPUT;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".md") || e->d_name[0] == '.') continue;
        names = realloc(names, sizeof *names * (size_t)(n + 1));
        if (!names) abort();
        names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_str);

    loader L = {0};
    L.doc = new_doc(o);
    L.a = L.doc->arena;
    L.d = d;
    L.first_msg = d->n_msgs;
    L.o = o;
    kiln_doc *doc = L.doc;
    doc->chapters = ka_alloc(L.a, sizeof *doc->chapters * (size_t)(n ? n : 1));
    int have_index = 0;
    for (int i = 0; i < n; i++) {
        char *path = ka_printf(L.a, "%s/%s", dir, names[i]);
        size_t len;
        char *text = kr_read_file(path, &len);
        if (!text) {
            kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot read: %s", strerror(errno));
            continue;
        }
        if (!strcmp(names[i], "index.md")) {
            have_index = 1;
            L.chapter = NULL;
            kiln_block *blocks = parse_markdown(&L, path, text, len);
            kiln_block *h;
            char *t = (char *)first_h1(blocks, &h);
            doc->title = t ? ka_strdup(L.a, t) : "";
            free(t);
            doc->index_file = path;
            /* the front matter is everything but the title heading */
            kiln_block **pp = &blocks;
            while (*pp && *pp != h) pp = &(*pp)->next;
            if (*pp) *pp = h->next;
            doc->front = blocks;
            if (!doc->title[0]) kd_error(d, KILN_REPORT_EINPUT, path, 1, "index.md needs a '# Title' heading (the article's title)");
        } else {
            kiln_chapter *ch = &doc->chapters[doc->n_chapters];
            ch->index = doc->n_chapters++;
            L.chapter = ch;
            kiln_block *blocks = parse_markdown(&L, path, text, len);
            setup_chapter(&L, ch, path, names[i], blocks);
        }
        free(text);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (!have_index)
        kd_error(d, KILN_REPORT_EINPUT, dir, 0, "no index.md: the content folder needs index.md (title and summary) and chapters NN-name.md");
    if (!doc->n_chapters) kd_error(d, KILN_REPORT_EINPUT, dir, 0, "no chapters: add NN-name.md files next to index.md");
    return finish(&L, out);
}

void kiln_doc_free(kiln_doc *doc)
{
    if (!doc) return;
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (r->ok && r->kind == KILN_RUN_TRAIN) kiln_history_free(&r->history);
        if (r->ok && r->kind == KILN_RUN_LRFIND) kiln_lrfind_free(&r->lrfind);
    }
    ka_free(doc->arena);
}

kiln_directive *kr_find_group(const kiln_doc *doc, const char *id)
{
    for (int i = 0; i < doc->n_groups; i++)
        if (!strcmp(doc->groups[i]->id, id)) return doc->groups[i];
    return NULL;
}

kiln_run *kr_find_run(const kiln_doc *doc, const char *id)
{
    for (int i = 0; i < doc->n_runs; i++)
        if (!strcmp(doc->runs[i]->id, id)) return doc->runs[i];
    return NULL;
}

kiln_directive *kr_find_target(const kiln_doc *doc, const char *kind, const char *id)
{
    int tab = !strcmp(kind, "table");
    int n = tab ? doc->n_tables : doc->n_figures;
    kiln_directive **v = tab ? doc->tables : doc->figures;
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i]->id, id)) return v[i];
    return NULL;
}
