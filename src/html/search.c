/* The site's search index, built with the pages from the same resolved
 * document: DIR/search-index.js holds every section of every page (from one
 * h1, h2 or h3 to the next) as JSON
 *
 *   {"pages": [{"page": "01-x.html", "title": "..."}, ..., {"page": "appendix.html", ..., "appendix": true}],
 *    "sections": [{"page": 1, "anchor": "...", "heading": "...", "text": "..."}, ...]}
 *
 * ("page" indexes "pages"), wrapped in a call, kilnIndex(...);, so that a
 * <script> loads it where fetch() cannot: a site opened from file://. The
 * text is what a reader sees, as plain text: prose, lists, quotes, tables'
 * cells, captions, comparisons, results, code; no markup, no run settings
 * and none of the appendix's keys and digests (a run is found by its id and
 * label, in its heading).
 * templates/kiln.js matches the words typed against it. */
#include "html/internal.h"
#include "kiln/math.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct index_state {
    json_t *sections;
    int page;
    const char *anchor;   /* the section being filled; NULL before the first */
    char *heading;
    sbuf text;
    int bad;              /* a string jansson refused (not UTF-8) */
    const kiln_block *notes; /* the page's footnotes: each indexed where it is referred to */
    int in_note;          /* indexing a footnote (one inside it is not followed) */
} index_state;

/* s with every run of white space as one space, trimmed (malloc'd) */
static char *one_line(const char *s)
{
    sbuf b = {0};
    int space = 0;
    for (; s && *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') { space = b.len > 0; continue; }
        if (space) sb_addc(&b, ' ');
        space = 0;
        sb_addc(&b, *s);
    }
    return sb_take(&b);
}

static void flush_section(index_state *x)
{
    if (x->anchor) {
        char *t = one_line(x->text.s);
        json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "page", x->page, "anchor", x->anchor, "heading",
                              x->heading ? x->heading : "", "text", t);
        if (o) json_array_append_new(x->sections, o);
        else x->bad = 1;
        free(t);
    }
    sb_free(&x->text);
    free(x->heading);
    x->heading = NULL;
    x->anchor = NULL;
}

static void start_section(index_state *x, const char *anchor, const kiln_inline *heading, const char *heading_text)
{
    flush_section(x);
    sbuf h = {0};
    if (heading) kh_plain(&h, heading);
    else sb_add(&h, heading_text);
    x->heading = one_line(h.s);
    sb_free(&h);
    x->anchor = anchor;
}

static void add_blocks(index_state *x, const kiln_block *bl, int split);

/* the footnotes referred to in inlines in, into the section that refers to
 * them (a search for a word of a footnote opens the section that has it) */
static void add_footnotes_of(index_state *x, const kiln_inline *in)
{
    for (; in; in = in->next) {
        if (in->kind == KILN_IN_FOOTREF && x->notes && !x->in_note) {
            int n = atoi(in->text);
            for (const kiln_block *it = x->notes->children; it; it = it->next)
                if (it->number == n) {
                    x->in_note = 1;
                    add_blocks(x, it->children, 0);
                    x->in_note = 0;
                }
        }
        add_footnotes_of(x, in->children);
    }
}

static void add_inlines(index_state *x, const kiln_inline *in)
{
    kh_plain(&x->text, in);
    sb_addc(&x->text, ' ');
    add_footnotes_of(x, in);
}

/* a page's footnotes block (at its end), or NULL */
static const kiln_block *footnotes_of(const kiln_block *bl)
{
    for (; bl; bl = bl->next)
        if (bl->kind == KILN_BL_FOOTNOTES) return bl;
    return NULL;
}

static void add_text(index_state *x, const char *s)
{
    if (s) sb_add(&x->text, s);
    sb_addc(&x->text, ' ');
}

static void add_directive(index_state *x, const kiln_directive *dx)
{
    switch (dx->kind) {
    case KILN_DIR_FIGURE:
    case KILN_DIR_LRFIND:
    case KILN_DIR_TABLE:
        sb_printf(&x->text, "%s %d. ", dx->kind == KILN_DIR_TABLE ? "Table" : "Figure", dx->number);
        if (dx->caption) add_inlines(x, dx->caption);
        else add_text(x, dx->title);
        if (dx->kind == KILN_DIR_LRFIND) add_text(x, dx->text);
        break;
    case KILN_DIR_RESULT:
    case KILN_DIR_COMPARE:
        add_text(x, dx->text);
        break;
    default: /* an experiment's settings, a listing, a group: not prose */
        break;
    }
}

/* blocks into the sections; split: an h1-h3 here starts one (the page's top
 * level and its sections), elsewhere (a quote, a list) it is text */
static void add_blocks(index_state *x, const kiln_block *bl, int split)
{
    for (; bl; bl = bl->next) {
        switch (bl->kind) {
        case KILN_BL_HEADING:
            if (split && bl->level <= 3 && bl->anchor && bl->anchor[0]) start_section(x, bl->anchor, bl->inlines, NULL);
            else add_inlines(x, bl->inlines);
            break;
        case KILN_BL_SECTION: add_blocks(x, bl->children, split); break;
        case KILN_BL_PARAGRAPH:
        case KILN_BL_CELL: add_inlines(x, bl->inlines); break;
        case KILN_BL_QUOTE:
        case KILN_BL_CALLOUT:
        case KILN_BL_LIST:
        case KILN_BL_ITEM:
        case KILN_BL_GRID:
        case KILN_BL_ROW:
        case KILN_BL_REFERENCES: add_blocks(x, bl->children, 0); break;
        case KILN_BL_MATH: {
            char *p = bl->math ? km_plain(bl->math) : NULL;
            add_text(x, p);
            free(p);
            break;
        }
        case KILN_BL_CODE: add_text(x, bl->text); break;
        case KILN_BL_DIRECTIVE: add_directive(x, bl->directive); break;
        case KILN_BL_FOOTNOTES: /* indexed where each is referred to (add_footnotes_of) */
        case KILN_BL_FACTS: /* the appendix's keys and digests: a run is found by its heading */
        case KILN_BL_HTML:  /* raw HTML: not indexed, as not always shown */
        case KILN_BL_RULE: break;
        }
    }
}

static void add_page(index_state *x, json_t *pages, const char *page, const char *title, int appendix)
{
    flush_section(x);
    x->page = (int)json_array_size(pages);
    json_t *o = json_pack("{s:s, s:s}", "page", page, "title", title);
    if (o && appendix) json_object_set_new(o, "appendix", json_true()); /* its runs are listed last */
    if (o) json_array_append_new(pages, o);
    else x->bad = 1;
}

int kh_write_search_index(const kiln_doc *doc, const char *dir, kiln_diag *d)
{
    json_t *pages = json_array();
    index_state x = {json_array(), 0, NULL, NULL, {0}, 0, NULL, 0};
    add_page(&x, pages, "index.html", doc->title, 0);
    start_section(&x, "top", NULL, doc->title);
    if (doc->subtitle) add_text(&x, doc->subtitle);
    for (int i = 0; i < doc->n_authors; i++) add_text(&x, doc->authors[i].name);
    if (doc->abstract) {
        start_section(&x, "abstract", NULL, "Abstract"); /* the front matter's, as the page shows it */
        add_blocks(&x, doc->abstract, 1);
    }
    x.notes = footnotes_of(doc->front);
    add_blocks(&x, doc->front, 1);
    start_section(&x, KH_CHAPTERS_ID, NULL, KH_CHAPTERS_TITLE); /* the page's list of them */
    for (int i = 0; i <= doc->n_chapters; i++) add_text(&x, i < doc->n_chapters ? doc->chapters[i].title : doc->appendix->title);
    for (int i = 0; i <= doc->n_chapters; i++) {
        const kiln_chapter *c = i < doc->n_chapters ? &doc->chapters[i] : doc->appendix;
        add_page(&x, pages, c->page, c->title, c == doc->appendix);
        x.notes = footnotes_of(c->blocks);
        add_blocks(&x, c->blocks, 1);
    }
    flush_section(&x);
    json_t *root = json_pack("{s:o, s:o}", "pages", pages, "sections", x.sections);
    char *js = root && !x.bad ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    char path[4096];
    snprintf(path, sizeof path, "%s/search-index.js", dir);
    sbuf out = {0};
    if (js) {
        sb_add(&out, "kilnIndex(");
        sb_add(&out, js);
        sb_add(&out, ");\n");
    }
    int rc = js ? kr_write_atomic(path, out.s, out.len) : -1;
    if (rc) kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write the search index%s", js ? "" : " (text not UTF-8)");
    free(js);
    sb_free(&out);
    return rc ? KILN_REPORT_EFAIL : 0;
}
