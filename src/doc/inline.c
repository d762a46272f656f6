/* Inline Markdown -> kiln inlines: text, emphasis, links (URLs checked and
 * .md links rewritten), and the {{...}} values and references in the prose. */
#include "doc/loader.h"
#include <cmark.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
int split_value_ref(kiln_arena *a, const char *s, const char **run, const char **metric, const char **format)
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
void split_text(loader *L, const char *t, int line, kiln_inline **head, kiln_inline **tail)
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

kiln_inline *convert_inlines(loader *L, cmark_node *first, int *line)
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
void plain_text(sbuf *b, const kiln_inline *in)
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

const char *make_anchor(loader *L, const char *text)
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
