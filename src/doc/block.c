/* Block Markdown -> kiln blocks (paragraphs, headings, lists, code,
 * directives), one file at a time. */
#include "doc/loader.h"
#include "kiln/math.h"
#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- blocks ------------------------------------------------------------------------------ */

static kiln_block *convert_blocks(loader *L, cmark_node *first);

/* A display ($$...$$) becomes a block of its own between the parts of the
 * paragraph around it (the breaks next to it dropped). */
static kiln_block *display_block(loader *L, kiln_inline *m)
{
    kiln_block *d = ka_alloc(L->a, sizeof *d);
    d->kind = KILN_BL_MATH;
    d->line = m->line;
    d->text = m->text;
    d->info = "";
    d->anchor = "";
    d->math = m->math;
    d->chapter = L->chapter;
    if (strcmp(m->title, "display")) {   /* labelled: eq:ID */
        const char *id = m->title + 3;
        d->anchor = ka_printf(L->a, "eq-%s", id);
        kiln_doc *doc = L->doc;
        int *at = kr_strmap_get(&L->eq_ix, d->anchor + 3);   /* the labels so far, by id */
        if (*at) {
            const kiln_block *e = doc->equations[*at - 1];
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, d->line, "duplicate equation label {#eq:%s} (also at line %d of %s)", id,
                     e->line, e->chapter ? e->chapter->file : "index.md");
            return d;
        }
        *at = doc->n_equations + 1;
        d->number = ++L->n_equations;
        grow_ptrs((void ***)&doc->equations, doc->n_equations);
        doc->equations[doc->n_equations++] = d;
    }
    return d;
}

static kiln_block *split_displays(loader *L, kiln_block *b)
{
    kiln_block *head = NULL, *tail = NULL;
    kiln_inline *start = b->inlines, *prev = NULL;
#define ADD_BLOCK(x) do { kiln_block *x_ = (x); if (tail) tail->next = x_; else head = x_; tail = x_; } while (0)
    for (kiln_inline *in = b->inlines; in;) {
        kiln_inline *next = in->next;
        if (in->kind == KILN_IN_MATH && *in->title) {
            if (prev) {   /* the paragraph so far, without a trailing break */
                prev->next = NULL;
                kiln_inline **pp = &start;
                while (*pp && (*pp)->next) pp = &(*pp)->next;
                if (*pp && ((*pp)->kind == KILN_IN_SOFTBREAK || (*pp)->kind == KILN_IN_LINEBREAK)) *pp = NULL;
                if (start) {
                    kiln_block *p = ka_alloc(L->a, sizeof *p);
                    *p = *b;
                    p->next = NULL;
                    p->inlines = start;
                    p->line = start->line;
                    ADD_BLOCK(p);
                }
            }
            ADD_BLOCK(display_block(L, in));
            while (next && (next->kind == KILN_IN_SOFTBREAK || next->kind == KILN_IN_LINEBREAK)) next = next->next;
            start = next;
            prev = NULL;
            in = next;
            continue;
        }
        prev = in;
        in = next;
    }
    if (!head) return b;
    if (start) {
        b->inlines = start;
        b->line = start->line;
        b->next = NULL;
        ADD_BLOCK(b);
    }
#undef ADD_BLOCK
    return head;
}

/* GitHub's callouts: a quote whose first line is [!NOTE], [!TIP],
 * [!IMPORTANT], [!WARNING] or [!CAUTION] alone. */
static void callout(loader *L, kiln_block *b)
{
    kiln_block *p = b->children;
    if (!p || p->kind != KILN_BL_PARAGRAPH || !p->inlines || p->inlines->kind != KILN_IN_TEXT) return;
    const char *t = p->inlines->text;
    if (strncmp(t, "[!", 2)) return;
    const char *e = strchr(t, ']');
    if (!e) return;
    static const char *const kinds[] = {"note", "tip", "important", "warning", "caution"};
    char kind[16] = "";
    size_t n = (size_t)(e - t - 2);
    for (size_t i = 0; i < n && i < sizeof kind - 1; i++) kind[i] = (char)tolower((unsigned char)t[2 + i]);
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (n == strlen(kinds[i]) && !strcmp(kind, kinds[i])) k = i;
    const char *rest = e + 1;
    while (*rest == ' ' || *rest == '\t') rest++;
    kiln_inline *next = p->inlines->next;
    int alone = !*rest && (!next || next->kind == KILN_IN_SOFTBREAK || next->kind == KILN_IN_LINEBREAK);
    if (!alone) return;   /* "[!x] text" on one line is an ordinary quote */
    if (k < 0) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, p->line, "unknown callout '%.*s'; accepted: [!NOTE], [!TIP], [!IMPORTANT], [!WARNING], [!CAUTION]",
                 (int)(e - t + 1), t);
        return;
    }
    b->kind = KILN_BL_CALLOUT;
    b->info = kinds[k];
    /* drop the marker (and the break after it); an empty paragraph goes */
    p->inlines = next ? next->next : NULL;
    if (!p->inlines) b->children = p->next;
    else p->line++;
}

/* A heading that ends in {#id}, as pandoc and Quarto write it, takes that id
 * (for links and {{sec:id}}); the attribute leaves the heading's text. NULL
 * when there is none or it is refused (an error: taken, or a prefix that
 * figures, tables, equations, notes and references own). */
static const char *heading_id(loader *L, kiln_block *b)
{
    kiln_inline *last = b->inlines;
    while (last && last->next) last = last->next;
    if (!last || last->kind != KILN_IN_TEXT) return NULL;
    const char *t = last->text, *open = strstr(t, "{#");
    size_t len = strlen(t);
    while (len && t[len - 1] == ' ') len--;
    if (!open) return NULL;
    while (strstr(open + 1, "{#")) open = strstr(open + 1, "{#");
    if (!len || t[len - 1] != '}' || (open > t && open[-1] != ' ')) return NULL;
    const char *id = open + 2, *end = t + len - 1;
    if (id == end) return NULL;
    for (const char *q = id; q < end; q++)
        if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' && *q != '.' && *q != ':') return NULL;
    char *own = ka_strndup(L->a, id, (size_t)(end - id));
    size_t keep = (size_t)(open - t);
    while (keep && t[keep - 1] == ' ') keep--;
    last->text = ka_strndup(L->a, t, keep);
    static const char *owned[] = {"fig-", "table-", "eq-", "ref-", "fn-", "run-"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (!strncmp(own, owned[i], strlen(owned[i]))) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, b->line,
                     "heading id {#%s}: ids starting with '%s' are kiln's own (figures, tables, equations, notes, references, runs)",
                     own, owned[i]);
            return NULL;
        }
    if (kr_strmap_has(&L->anchors, own)) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, b->line, "heading id {#%s}: an earlier heading of this chapter has that id", own);
        return NULL;
    }
    kr_strmap_get(&L->anchors, own);
    return own;
}

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
        return split_displays(L, b);
    case CMARK_NODE_HEADING: {
        b->kind = KILN_BL_HEADING;
        b->level = cmark_node_get_heading_level(n);
        b->inlines = convert_inlines(L, cmark_node_first_child(n), &line);
        const char *own = heading_id(L, b);
        sbuf t = {0};
        plain_text_as(&t, b->inlines, 1);   /* an id from the math's TeX: \eta_t -> eta-t */
        b->anchor = own ? own : make_anchor(L, t.s ? t.s : "");
        b->chapter = L->chapter;
        sb_free(&t);
        break;
    }
    case CMARK_NODE_BLOCK_QUOTE:
    case CMARK_NODE_LIST:
    case CMARK_NODE_ITEM:
        if (cmark_node_get_type(n) == CMARK_NODE_BLOCK_QUOTE) {
            b->kind = KILN_BL_QUOTE;
        } else if (cmark_node_get_type(n) == CMARK_NODE_ITEM) {
            b->kind = KILN_BL_ITEM;
            const char *ts = cmark_node_get_type_string(n);
            if (ts && !strcmp(ts, "tasklist")) b->task = cmark_gfm_extensions_get_tasklist_item_checked(n) ? 2 : 1;
        } else {
            b->kind = KILN_BL_LIST;
            b->ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
            b->start = cmark_node_get_list_start(n);
            b->tight = cmark_node_get_list_tight(n);
        }
        /* a list and its item are one level of nesting (as a writer sees
           it), so the item is not counted again: 100 lists deep is 200
           calls, which the stack bears */
        if (b->kind == KILN_BL_ITEM) {
            b->children = convert_blocks(L, cmark_node_first_child(n));
        } else if (nest_in(L, b->line, "block quotes and lists")) {
            b->children = convert_blocks(L, cmark_node_first_child(n));
            L->depth--;
        }
        if (b->kind == KILN_BL_QUOTE) callout(L, b);
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
        else if (html_refused(b->text)) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, b->line, "a raw HTML block refused: it holds %s", html_refused(b->text));
            b->text = "";
        }
        break;
    case CMARK_NODE_THEMATIC_BREAK:
        b->kind = KILN_BL_RULE;
        break;
    case CMARK_NODE_FOOTNOTE_DEFINITION:
        /* cmark-gfm puts the referenced definitions at the end, in number order */
        b->kind = KILN_BL_ITEM;
        b->number = ++L->n_footnotes;
        b->anchor = ka_printf(L->a, "fn-%d", b->number);
        b->children = convert_blocks(L, cmark_node_first_child(n));
        break;
    default: {
        const char *ts = cmark_node_get_type_string(n);
        if (!ts) return NULL;
        if (!strcmp(ts, "table")) {
            b->kind = KILN_BL_GRID;
            int nc = cmark_gfm_extensions_get_table_columns(n);
            const uint8_t *al = cmark_gfm_extensions_get_table_alignments(n);
            char *info = ka_alloc(L->a, (size_t)nc + 1);
            for (int i = 0; i < nc; i++) info[i] = al && al[i] ? (char)al[i] : '-';
            b->info = info;
            b->level = nc;
            b->children = convert_blocks(L, cmark_node_first_child(n));
        } else if (!strcmp(ts, "table_header") || !strcmp(ts, "table_row")) {
            b->kind = KILN_BL_ROW;
            b->ordered = !strcmp(ts, "table_header");
            b->children = convert_blocks(L, cmark_node_first_child(n));
        } else if (!strcmp(ts, "table_cell")) {
            b->kind = KILN_BL_CELL;
            b->inlines = convert_inlines(L, cmark_node_first_child(n), &line);
        } else {
            return NULL;
        }
        break;
    }
    }
    return b;
}

static kiln_block *convert_blocks(loader *L, cmark_node *first)
{
    kiln_block *head = NULL, *tail = NULL, *notes = NULL;
    for (cmark_node *n = first; n; n = cmark_node_next(n)) {
        if (cmark_node_get_type(n) == CMARK_NODE_FOOTNOTE_DEFINITION) {
            /* the definitions (all at the end) go into one FOOTNOTES block */
            kiln_block *def = convert_block(L, n);
            if (!notes) {
                notes = ka_alloc(L->a, sizeof *notes);
                notes->kind = KILN_BL_FOOTNOTES;
                notes->line = def->line;
                notes->text = notes->info = notes->anchor = "";
                if (tail) tail->next = notes;
                else head = notes;
                tail = notes;
            }
            kiln_block **pp = &notes->children;
            while (*pp) pp = &(*pp)->next;
            *pp = def;
            continue;
        }
        kiln_block *b = convert_block(L, n);
        if (!b) continue;
        if (tail) tail->next = b;
        else head = b;
        tail = b;
        while (tail->next) tail = tail->next;   /* a paragraph split by a display */
    }
    return head;
}

/* ---- one file --------------------------------------------------------------------------- */

/* GitHub's cmark with its extensions: pipe tables, ~~strikethrough~~,
 * autolinks (www.x.org, https://...), task lists, footnotes. Smart
 * punctuation does not reach code, fenced blocks (directives) or a table's
 * delimiter row, which the table extension consumes. */
static cmark_node *gfm_parse(const char *text, size_t len)
{
    cmark_gfm_core_extensions_ensure_registered();
    cmark_parser *p = cmark_parser_new(CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8 | CMARK_OPT_FOOTNOTES);
    static const char *const ext[] = {"table", "strikethrough", "autolink", "tasklist"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        cmark_syntax_extension *e = cmark_find_syntax_extension(ext[i]);
        if (e) cmark_parser_attach_syntax_extension(p, e);
    }
    cmark_parser_feed(p, text, len);
    cmark_node *root = cmark_parser_finish(p);
    cmark_parser_free(p);
    return root;
}


/* Debian 12's cmark-gfm (0.29.0.gfm.6) takes time quadratic in the number of
 * images with links in their text in one paragraph ("![[]()" repeated:
 * 80,000 took 19 s; CVE-2023-22486, fixed upstream in gfm.7). No paragraph
 * of an article holds a thousand images, so more is refused before cmark
 * reads it: the line of the paragraph, or 0. Fenced blocks are skipped
 * (cmark reads no inlines there). */
#define MAX_IMAGES_PER_PARAGRAPH 1000
int too_many_images(const char *md, size_t len)
{
    int line = 1, start = 1, n = 0;
    char fence = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && md[e] != '\n') e++;
        size_t k = i;
        while (k < e && k - i < 3 && md[k] == ' ') k++;
        if (k + 3 <= e && (md[k] == '`' || md[k] == '~') && md[k + 1] == md[k] && md[k + 2] == md[k]) {
            if (!fence) fence = md[k];
            else if (fence == md[k]) fence = 0;
        } else if (!fence) {
            int blank = 1;
            for (size_t j = i; j < e && blank; j++) blank = md[j] == ' ' || md[j] == '\t' || md[j] == '\r';
            if (blank) n = 0, start = line + 1;
            for (size_t j = i; j + 1 < e; j++)
                if (md[j] == '!' && md[j + 1] == '[' && ++n > MAX_IMAGES_PER_PARAGRAPH) return start;
        }
        i = e + 1;
        line++;
    }
    return 0;
}

kiln_block *parse_markdown(loader *L, const char *file, const char *text, size_t len)
{
    L->file = file;
    kr_strmap_free(&L->anchors);
    L->depth = L->too_deep = 0;
    /* math first: cmark would read _ ^ and \ inside it */
    char *src = ka_strndup(L->a, text, len);
    md_math_error *errs = NULL;
    int n_errs = 0;
    char *md = md_math_extract(src, &L->math, &L->n_math, &errs, &n_errs);
    for (int i = 0; i < n_errs; i++) kd_error(L->d, KILN_REPORT_EINPUT, file, errs[i].line, "%s", errs[i].msg);
    free(errs);
    if (!md) {
        kd_error(L->d, KILN_REPORT_EFAIL, file, 0, "out of memory");
        return NULL;
    }
    int slow = too_many_images(md, strlen(md));
    if (slow) {
        kd_error(L->d, KILN_REPORT_EINPUT, file, slow,
                 "more than %d images in one paragraph: the Markdown parser would take minutes on it; split the paragraph",
                 MAX_IMAGES_PER_PARAGRAPH);
        free(md);
        md_math_free(L->math, L->n_math);
        L->math = NULL;
        L->n_math = 0;
        return NULL;
    }
    cmark_node *root = gfm_parse(md, strlen(md));
    L->n_footnotes = 0;
    kiln_block *blocks = convert_blocks(L, cmark_node_first_child(root));
    cmark_node_free(root);
    free(md);
    md_math_free(L->math, L->n_math);
    L->math = NULL;
    L->n_math = 0;
    return blocks;
}

const char *first_h1(kiln_block *b, kiln_block **h)
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

int nest_in(loader *L, int line, const char *what)
{
    if (L->depth >= KR_MAX_NESTING) {
        if (!L->too_deep)
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                     "%s nested more than %d deep; block quotes, lists, emphasis and links may be nested at most %d levels",
                     what, KR_MAX_NESTING, KR_MAX_NESTING);
        L->too_deep = 1;
        return 0;
    }
    L->depth++;
    return 1;
}
