/* The HTML writer: pages from templates/layout.html, the stylesheet,
 * results.json. Everything inserted into a page is escaped here; raw HTML
 * from the content passes only with allow_html.
 *
 * Template placeholders ({{name}}; anything else in {{ }} is an error):
 *   title        page title (text)          site_title   the article's title
 *   description  summary for <meta>         content      the page body (HTML)
 *   toc          chapter list (HTML <ol>),  nav          previous / next links
 *                the page's sections under its own entry
 *   pdf_link     link to the PDF, or ""     footer       version, fingerprint
 *   stylesheet   "style.css"                page         this page's file name
 *   author       the authors, ", " (text)   lang         the language tag ("en")
 *   notice       a smoke build's note (HTML), "" otherwise
 *   root         the site's folder as the page sees it: "" on the site's own
 *                pages, "../out/" on kiln diff's page (kiln_html_page); links
 *                to index.html and kiln.js go through it (stylesheet has it)
 *
 * Beside the pages: style.css and kiln.js (copied from the templates; the
 * script only when the templates have one), search-index.js (search.c). */
#include "kiln/html.h"
#include "html/internal.h"
#include "kiln/math.h"
#include "base/base.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a smoke build says about itself (the PDF's title page says the same). */
#define SMOKE_NOTE "Smoke build: shrunk experiments, numbers are not the article&#8217;s"

static const char *const PLACEHOLDERS[] = {"title", "site_title", "description", "content", "toc", "nav",
                                           "pdf_link", "footer", "stylesheet", "page", "author", "lang",
                                           "notice", "root", NULL};
#define N_PH 14

typedef struct piece {
    int ph;               /* -1 = literal */
    const char *s;
    size_t n;
} piece;

typedef struct tmpl {
    char *text;
    piece *p;
    int n;
} tmpl;

static int load_template(const char *path, tmpl *t, kiln_diag *d)
{
    memset(t, 0, sizeof *t);
    t->text = kr_read_file(path, NULL);
    if (!t->text) {
        kd_error(d, KILN_REPORT_EINPUT, path, 0, "cannot read the page template: %s (give --templates DIR)", strerror(errno));
        return KILN_REPORT_EINPUT;
    }
    int cap = 0, bad = 0;
    const char *s = t->text;
    int line = 1;
    while (*s) {
        const char *o = strstr(s, "{{");
        const char *lit_end = o ? o : s + strlen(s);
        KR_GROW(t->p, cap, t->n + 2);
        t->p[t->n++] = (piece){-1, s, (size_t)(lit_end - s)};
        for (const char *q = s; q < lit_end; q++) line += *q == '\n';
        if (!o) break;
        const char *c = strstr(o + 2, "}}");
        if (!c) {
            kd_error(d, KILN_REPORT_EINPUT, path, line, "'{{' without '}}' in the template");
            bad = 1;
            break;
        }
        const char *a = o + 2, *b = c;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        int ph = -1;
        for (int i = 0; PLACEHOLDERS[i]; i++)
            if ((size_t)(b - a) == strlen(PLACEHOLDERS[i]) && !strncmp(a, PLACEHOLDERS[i], (size_t)(b - a))) ph = i;
        if (ph < 0) {
            kd_error(d, KILN_REPORT_EINPUT, path, line,
                     "unknown placeholder '{{%.*s}}'; accepted: title, site_title, description, content, toc, nav, "
                     "pdf_link, footer, stylesheet, page, author, lang, notice, root",
                     (int)(b - a), a);
            bad = 1;
        }
        t->p[t->n++] = (piece){ph, NULL, 0};
        s = c + 2;
    }
    int has_content = 0;
    for (int i = 0; i < t->n; i++) has_content |= t->p[i].ph == 3;
    if (!bad && !has_content) {
        kd_error(d, KILN_REPORT_EINPUT, path, line, "the page template has no {{content}} (where each page's body goes)");
        bad = 1;
    }
    if (bad) {
        free(t->text);
        free(t->p);
        memset(t, 0, sizeof *t);
        return KILN_REPORT_EINPUT;
    }
    return 0;
}

static void free_template(tmpl *t)
{
    free(t->text);
    free(t->p);
}

/* ---- rendering -------------------------------------------------------------------------- */

typedef struct writer {
    const kiln_doc *doc;
    const kiln_chapter *ch;
    int allow_html;
} writer;

static void html_inlines(writer *w, sbuf *b, const kiln_inline *in);

void kh_plain(sbuf *b, const kiln_inline *in)
{
    for (; in; in = in->next) {
        if (in->kind == KILN_IN_SOFTBREAK || in->kind == KILN_IN_LINEBREAK) sb_addc(b, ' ');
        else if (in->kind == KILN_IN_HTML || in->kind == KILN_IN_FOOTREF) continue;
        else if (in->kind == KILN_IN_MATH && in->math) {   /* values filled in by now */
            char *p = km_plain(in->math);
            sb_add(b, p);
            free(p);
        } else if (in->children) kh_plain(b, in->children);
        else sb_add(b, in->text);
    }
}

static void html_inlines(writer *w, sbuf *b, const kiln_inline *in)
{
    for (; in; in = in->next) {
        switch (in->kind) {
        case KILN_IN_TEXT: sb_html(b, in->text); break;
        case KILN_IN_CODE: sb_add(b, "<code>"); sb_html(b, in->text); sb_add(b, "</code>"); break;
        case KILN_IN_EMPH: sb_add(b, "<em>"); html_inlines(w, b, in->children); sb_add(b, "</em>"); break;
        case KILN_IN_STRONG: sb_add(b, "<strong>"); html_inlines(w, b, in->children); sb_add(b, "</strong>"); break;
        case KILN_IN_LINK:
            sb_add(b, "<a href=\"");
            sb_html(b, in->url);
            sb_addc(b, '"');
            if (in->title[0]) { sb_add(b, " title=\""); sb_html(b, in->title); sb_addc(b, '"'); }
            sb_addc(b, '>');
            html_inlines(w, b, in->children);
            sb_add(b, "</a>");
            break;
        case KILN_IN_IMAGE: {
            sb_add(b, "<img src=\"");
            sb_html(b, in->url);
            sb_add(b, "\" alt=\"");
            sbuf alt = {0};
            kh_plain(&alt, in->children);
            sb_html(b, alt.s ? alt.s : "");
            sb_free(&alt);
            sb_addc(b, '"');
            if (in->title[0]) { sb_add(b, " title=\""); sb_html(b, in->title); sb_addc(b, '"'); }
            sb_add(b, ">");
            break;
        }
        case KILN_IN_SOFTBREAK: sb_addc(b, '\n'); break;
        case KILN_IN_LINEBREAK: sb_add(b, "<br>\n"); break;
        case KILN_IN_HTML: if (w->allow_html) sb_add(b, in->text); break;
        case KILN_IN_VALUE:
            sb_add(b, "<span class=\"value\" title=\"");
            sb_html(b, in->run_id);
            sb_addc(b, '.');
            sb_html(b, in->metric);
            sb_add(b, "\">");
            sb_html(b, in->text);
            sb_add(b, "</span>");
            break;
        case KILN_IN_REF:
            sb_add(b, "<a class=\"ref\" href=\"");
            sb_html(b, in->url);
            sb_add(b, "\">");
            sb_html(b, in->text);
            sb_add(b, "</a>");
            break;
        case KILN_IN_STRIKE: sb_add(b, "<del>"); html_inlines(w, b, in->children); sb_add(b, "</del>"); break;
        case KILN_IN_FOOTREF:
            sb_add(b, "<sup class=\"fnref\"><a href=\"");
            sb_html(b, in->url);
            sb_add(b, "\">");
            sb_html(b, in->text);
            sb_add(b, "</a></sup>");
            break;
        case KILN_IN_CITE:
            sb_add(b, "<span class=\"cite\">");
            html_inlines(w, b, in->children);
            sb_add(b, "</span>");
            break;
        case KILN_IN_MATH: {
            char *m = in->math ? km_mathml(in->math, 0, in->text) : NULL;
            if (m) sb_add(b, m);
            else { sb_add(b, "<code>"); sb_html(b, in->text); sb_add(b, "</code>"); }
            free(m);
            break;
        }
        }
    }
}

static void html_blocks(writer *w, sbuf *b, const kiln_block *bl, int tight);

/* One <source> of a figure's <picture>: the variant beside img/ID.png. The
 * dark ones say screen, so print takes the light image; data-dark lets the
 * page's theme toggle (templates/layout.html) force them on or off. */
static void figure_source(sbuf *b, const char *stem, const char *suffix, int narrow, int dark, int wd, int ht)
{
    sb_add(b, "<source");
    if (dark) sb_printf(b, " data-dark=\"%s\"", narrow ? "screen and (max-width: " KILN_NARROW_MAX ")" : "screen");
    sb_printf(b, " media=\"%s%s%s\" srcset=\"", dark ? "screen and (prefers-color-scheme: dark)" : "",
              dark && narrow ? " and " : "", narrow ? "(max-width: " KILN_NARROW_MAX ")" : "");
    sb_html(b, stem);
    sb_printf(b, "%s.png\" width=\"%d\" height=\"%d\">\n", suffix, wd, ht);
}

static void figure_html(writer *w, sbuf *b, const kiln_directive *x)
{
    int fw = x->image_width ? x->image_width : 720, fh = x->image_height ? x->image_height : 420;
    sb_add(b, "<figure class=\"figure\" id=\"");
    sb_html(b, x->anchor);
    sb_add(b, "\">\n<picture>\n");
    /* the variants (the resolver drew them beside img/ID.png): narrow for
     * phones, dark for a dark page; the <img> is the light one */
    size_t sl = strlen(x->image);
    char *stem = kr_xstrdup(x->image);
    if (sl > 4 && !strcmp(stem + sl - 4, ".png")) stem[sl - 4] = 0;
    if (x->narrow_width) {
        figure_source(b, stem, "-narrow-dark", 1, 1, x->narrow_width, x->narrow_height);
        figure_source(b, stem, "-narrow", 1, 0, x->narrow_width, x->narrow_height);
        figure_source(b, stem, "-dark", 0, 1, fw, fh);
    }
    free(stem);
    sb_add(b, "<img src=\"");
    sb_html(b, x->image);
    sb_printf(b, "\" width=\"%d\" height=\"%d\" loading=\"lazy\" alt=\"", fw, fh);
    sbuf alt = {0};
    /* the alt text is the caption (what the figure shows), else its title */
    if (x->caption) kh_plain(&alt, x->caption);
    if (!alt.len && x->title[0]) sb_add(&alt, x->title);
    if (!alt.len) sb_printf(&alt, "Figure %d", x->number);
    sb_html(b, alt.s);
    sb_free(&alt);
    sb_add(b, "\">\n</picture>\n<figcaption><span class=\"label\">");
    sb_printf(b, "Figure %d.</span> ", x->number);
    if (x->caption) html_inlines(w, b, x->caption);
    else sb_html(b, x->title);
    sb_add(b, "</figcaption>\n</figure>\n");
    if (x->kind == KILN_DIR_LRFIND && x->text[0]) {
        sb_add(b, "<p class=\"suggestions\">");
        sb_html(b, x->text);
        sb_add(b, "</p>\n");
    }
}

static void table_html(writer *w, sbuf *b, const kiln_directive *x)
{
    const kiln_table *t = x->table;
    /* summary rows (mean, sd, ...) are set apart; the first column then
     * names the rows and is left-aligned even when it holds numbers */
    int n_sum = t ? t->n_summary : 0;
    if (t && n_sum >= t->n_rows) n_sum = 0;
    int first_sum = t ? t->n_rows - n_sum : 0;
    sb_add(b, "<figure class=\"table\" id=\"");
    sb_html(b, x->anchor);
    sb_add(b, "\">\n<figcaption id=\"");
    sb_html(b, x->anchor);
    sb_add(b, "-caption\"><span class=\"label\">");
    sb_printf(b, "Table %d.</span> ", x->number);
    if (x->caption) html_inlines(w, b, x->caption);
    else sb_html(b, x->title);
    /* a table wider than the column scrolls in its wrapper, which a keyboard
       must reach (tabindex) and a screen reader names (the caption) */
    sb_add(b, "</figcaption>\n<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"");
    sb_html(b, x->anchor);
    sb_add(b, "-caption\"><table>\n<thead><tr>");
    for (int j = 0; t && j < t->n_cols; j++) {
        sb_add(b, t->numeric[j] && !(n_sum && j == 0) ? "<th class=\"num\">" : "<th>");
        sb_html(b, t->header[j]);
        sb_add(b, "</th>");
    }
    sb_add(b, "</tr></thead>\n<tbody>\n");
    for (int i = 0; t && i < t->n_rows; i++) {
        int sum = n_sum && i >= first_sum;
        sb_add(b, !sum ? "<tr>" : i == first_sum ? "<tr class=\"stat first\">" : "<tr class=\"stat\">");
        for (int j = 0; j < t->n_cols; j++) {
            if (sum && j == 0) sb_add(b, "<th scope=\"row\">");
            else sb_add(b, t->numeric[j] && !(n_sum && j == 0) ? "<td class=\"num\">" : "<td>");
            sb_html(b, t->cells[i * t->n_cols + j]);
            sb_add(b, sum && j == 0 ? "</th>" : "</td>");
        }
        sb_add(b, "</tr>\n");
    }
    sb_add(b, "</tbody></table></div>\n</figure>\n");
}

static void directive_html(writer *w, sbuf *b, const kiln_directive *x)
{
    switch (x->kind) {
    case KILN_DIR_EXPERIMENT: {
        sb_add(b, "<details class=\"experiment\" id=\"run-");
        sb_html(b, x->id);
        sb_add(b, "\"><summary>Experiment <code>");
        sb_html(b, x->id);
        sb_add(b, "</code>");
        int shown = 0;
        for (int i = 0; i < x->n_kv; i++) {
            if (!strcmp(x->kv[i].key, "label")) continue;
            sb_add(b, shown++ ? ", " : ": ");
            sb_html(b, x->kv[i].key);
            sb_add(b, " = ");
            sb_html(b, x->kv[i].shown);
        }
        sb_add(b, "</summary>\n<pre class=\"config\"><code>");
        if (x->run && x->run->display) sb_html(b, x->run->display);
        sb_add(b, "</code></pre></details>\n");
        break;
    }
    case KILN_DIR_FIGURE:
    case KILN_DIR_LRFIND:
        figure_html(w, b, x);
        break;
    case KILN_DIR_RESULT:
        sb_add(b, "<pre class=\"result\"><code>");
        sb_html(b, x->text);
        sb_add(b, "</code></pre>\n");
        break;
    case KILN_DIR_TABLE:
        table_html(w, b, x);
        break;
    case KILN_DIR_GROUP: /* only its values show, where the prose quotes them */
        break;
    case KILN_DIR_COMPARE: /* one quiet sentence: what, how much, the evidence, the verdict */
        sb_add(b, "<p class=\"compare\" id=\"cmp-");
        sb_html(b, x->id);
        sb_add(b, "\">");
        sb_html(b, x->text);
        sb_add(b, "</p>\n");
        break;
    case KILN_DIR_CONFIG:
        sb_add(b, "<pre class=\"config\"><code>");
        sb_html(b, x->text);
        sb_add(b, "</code></pre>\n");
        break;
    }
}

static void html_blocks(writer *w, sbuf *b, const kiln_block *bl, int tight);

static void html_heading(writer *w, sbuf *b, const kiln_block *bl)
{
    sb_printf(b, "<h%d id=\"", bl->level);
    sb_html(b, bl->anchor);
    sb_add(b, "\">");
    html_inlines(w, b, bl->inlines);
    if (bl->level > 1) {
        sb_add(b, " <a class=\"anchor\" href=\"#");
        sb_html(b, bl->anchor);
        sb_add(b, "\" aria-label=\"link to this section\">#</a>");
    }
    sb_printf(b, "</h%d>\n", bl->level);
}

/* the References section: one entry per child, each with its anchor */
static void html_references(writer *w, sbuf *b, const kiln_block *bl)
{
    sb_add(b, "<ol class=\"references\">\n");
    for (const kiln_block *e = bl->children; e; e = e->next) {
        sb_add(b, "<li id=\"");
        sb_html(b, e->anchor);
        sb_add(b, "\">");
        html_inlines(w, b, e->inlines);
        sb_add(b, "</li>\n");
    }
    sb_add(b, "</ol>\n");
}

/* a display: MathML Core, the number at the right */
static void html_math(sbuf *b, const kiln_block *bl)
{
    sb_add(b, "<div class=\"equation\"");
    if (bl->anchor[0]) { sb_add(b, " id=\""); sb_html(b, bl->anchor); sb_addc(b, '"'); }
    sb_addc(b, '>');
    char *m = bl->math ? km_mathml(bl->math, 1, bl->text) : NULL;
    if (m) sb_add(b, m);
    free(m);
    if (bl->number) sb_printf(b, "<span class=\"eqno\">(%d)</span>", bl->number);
    sb_add(b, "</div>\n");
}

static void html_callout(writer *w, sbuf *b, const kiln_block *bl)
{
    static const char *const names[][2] = {{"note", "Note"}, {"tip", "Tip"}, {"important", "Important"},
                                           {"warning", "Warning"}, {"caution", "Caution"}};
    const char *title = "Note";
    for (int i = 0; i < 5; i++)
        if (!strcmp(bl->info, names[i][0])) title = names[i][1];
    sb_printf(b, "<div class=\"callout callout-%s\" role=\"note\">\n<p class=\"callout-title\">%s</p>\n", bl->info, title);
    html_blocks(w, b, bl->children, 0);
    sb_add(b, "</div>\n");
}

static void html_list(writer *w, sbuf *b, const kiln_block *bl)
{
    if (bl->ordered) {
        if (bl->start != 1) sb_printf(b, "<ol start=\"%d\">\n", bl->start);
        else sb_add(b, "<ol>\n");
    } else {
        sb_add(b, "<ul>\n");
    }
    for (const kiln_block *it = bl->children; it; it = it->next) {
        if (it->task) sb_printf(b, "<li class=\"task\"><input type=\"checkbox\" disabled%s> ", it->task == 2 ? " checked" : "");
        else sb_add(b, "<li>");
        html_blocks(w, b, it->children, bl->tight);
        sb_add(b, "</li>\n");
    }
    sb_add(b, bl->ordered ? "</ol>\n" : "</ul>\n");
}

/* a pipe table: the header row (ordered = 1), then the body; bl->info holds
   one alignment letter per column (l, c, r or -) */
static void html_grid(writer *w, sbuf *b, const kiln_block *bl)
{
    sb_add(b, "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"table\"><table class=\"grid\">\n");
    int body = 0;
    for (const kiln_block *r = bl->children; r; r = r->next) {
        if (!r->ordered && !body) { sb_add(b, "<tbody>\n"); body = 1; }
        if (r->ordered) sb_add(b, "<thead>\n");
        sb_add(b, "<tr>");
        int k = 0;
        for (const kiln_block *cell = r->children; cell; cell = cell->next, k++) {
            char al = k < bl->level ? bl->info[k] : '-';
            const char *tag = r->ordered ? "th" : "td";
            if (al == 'l' || al == 'c' || al == 'r')
                sb_printf(b, "<%s style=\"text-align:%s\">", tag, al == 'l' ? "left" : al == 'c' ? "center" : "right");
            else
                sb_printf(b, "<%s>", tag);
            html_inlines(w, b, cell->inlines);
            sb_printf(b, "</%s>", tag);
        }
        sb_add(b, "</tr>\n");
        if (r->ordered) sb_add(b, "</thead>\n");
    }
    if (body) sb_add(b, "</tbody>\n");
    sb_add(b, "</table></div>\n");
}

/* name/value rows (the appendix's facts about a run) */
static void html_facts(writer *w, sbuf *b, const kiln_block *bl)
{
    sb_add(b, "<dl class=\"facts\">\n");
    for (const kiln_block *r = bl->children; r; r = r->next) {
        if (!r->children || !r->children->next) continue;
        sb_add(b, "<dt>");
        html_inlines(w, b, r->children->inlines);
        sb_add(b, "</dt><dd>");
        html_inlines(w, b, r->children->next->inlines);
        sb_add(b, "</dd>\n");
    }
    sb_add(b, "</dl>\n");
}

static void html_footnotes(writer *w, sbuf *b, const kiln_block *bl)
{
    sb_add(b, "<section class=\"footnotes\">\n<ol>\n");
    for (const kiln_block *it = bl->children; it; it = it->next) {
        sb_add(b, "<li id=\"");
        sb_html(b, it->anchor);
        sb_add(b, "\">");
        html_blocks(w, b, it->children, 0);
        sb_add(b, "</li>\n");
    }
    sb_add(b, "</ol>\n</section>\n");
}

/* a fenced or indented code block; the info string's first word names the language */
static void html_code(sbuf *b, const kiln_block *bl)
{
    /* a long line scrolls: focusable and named, like a wide table */
    sb_add(b, "<pre tabindex=\"0\" role=\"region\" aria-label=\"code\"><code");
    if (bl->info[0]) {
        size_t n = strcspn(bl->info, " \t");
        char lang[64];
        snprintf(lang, sizeof lang, "%.*s", (int)(n < 63 ? n : 63), bl->info);
        sb_add(b, " class=\"language-");
        sb_html(b, lang);
        sb_addc(b, '"');
    }
    sb_addc(b, '>');
    sb_html(b, bl->text);
    sb_add(b, "</code></pre>\n");
}

/* a wrapper element around child blocks */
static void html_wrap(writer *w, sbuf *b, const char *open, const kiln_block *children, const char *close)
{
    sb_add(b, open);
    html_blocks(w, b, children, 0);
    sb_add(b, close);
}

static void html_blocks(writer *w, sbuf *b, const kiln_block *bl, int tight)
{
    for (; bl; bl = bl->next) {
        switch (bl->kind) {
        case KILN_BL_PARAGRAPH:
            if (!tight) sb_add(b, "<p>");
            html_inlines(w, b, bl->inlines);
            sb_add(b, tight ? "\n" : "</p>\n");
            break;
        case KILN_BL_HEADING:    html_heading(w, b, bl); break;
        case KILN_BL_REFERENCES: html_references(w, b, bl); break;
        case KILN_BL_MATH:       html_math(b, bl); break;
        case KILN_BL_CALLOUT:    html_callout(w, b, bl); break;
        case KILN_BL_QUOTE:      html_wrap(w, b, "<blockquote>\n", bl->children, "</blockquote>\n"); break;
        case KILN_BL_LIST:       html_list(w, b, bl); break;
        case KILN_BL_GRID:       html_grid(w, b, bl); break;
        case KILN_BL_FACTS:      html_facts(w, b, bl); break;
        case KILN_BL_SECTION:
            sb_add(b, "<section class=\"");
            sb_html(b, bl->info);
            html_wrap(w, b, "\">\n", bl->children, "</section>\n");
            break;
        case KILN_BL_ROW:
        case KILN_BL_CELL:
            break;   /* inside a GRID or FACTS only */
        case KILN_BL_FOOTNOTES:  html_footnotes(w, b, bl); break;
        case KILN_BL_ITEM:
            sb_add(b, "<li>");
            html_blocks(w, b, bl->children, tight);
            sb_add(b, "</li>\n");
            break;
        case KILN_BL_CODE:       html_code(b, bl); break;
        case KILN_BL_HTML:
            if (w->allow_html) sb_add(b, bl->text);
            break;
        case KILN_BL_RULE:       sb_add(b, "<hr>\n"); break;
        case KILN_BL_DIRECTIVE:  directive_html(w, b, bl->directive); break;
        }
    }
}

/* ---- pages ---------------------------------------------------------------------------------- */

#define RUNS_DIR "runs" /* OUT/runs/ID.json: every run's history, for readers */

int kh_chapter_heads(const kiln_block *bl, const kiln_block **out, int n, int n_max)
{
    for (; bl; bl = bl->next) {
        if (bl->kind == KILN_BL_HEADING && (bl->level == 2 || bl->level == 3)) {
            if (n < n_max) out[n] = bl;
            n++;
        } else if (bl->kind == KILN_BL_SECTION) {
            n = kh_chapter_heads(bl->children, out, n, n_max);
        }
    }
    return n;
}

static void toc_link(sbuf *b, const char *href, const char *current, const char *title)
{
    sb_add(b, "<a href=\"");
    sb_html(b, href);
    sb_addc(b, '"');
    if (current) sb_printf(b, " aria-current=\"%s\"", current);
    sb_addc(b, '>');
    sb_html(b, title);
    sb_add(b, "</a>");
}

/* the contents of the page: its h2s, each with its h3s (an h3 before any
 * h2 stands at the top) */
static void toc_sections(sbuf *b, const kiln_chapter *ch)
{
    int n = kh_chapter_heads(ch->blocks, NULL, 0, 0);
    if (!n) return;
    const kiln_block **h = kr_xmalloc(sizeof *h * (size_t)n);
    kh_chapter_heads(ch->blocks, h, 0, n);
    sb_add(b, "\n<ol class=\"sections\">\n");
    int in_h2 = 0, in_sub = 0; /* an h2's <li> is open; its <ol> of h3s too */
    for (int i = 0; i < n; i++) {
        if (h[i]->level == 2) {
            if (in_sub) sb_add(b, "</ol>");
            if (in_h2) sb_add(b, "</li>\n");
            in_sub = 0;
            in_h2 = 1;
        } else if (in_h2 && !in_sub) {
            sb_add(b, "\n<ol>\n");
            in_sub = 1;
        }
        sbuf t = {0}, href = {0};
        kh_plain(&t, h[i]->inlines);
        sb_printf(&href, "#%s", h[i]->anchor);
        sb_add(b, "<li>");
        toc_link(b, href.s, NULL, t.s ? t.s : "");
        if (h[i]->level == 3) sb_add(b, "</li>\n");
        sb_free(&t);
        sb_free(&href);
    }
    if (in_sub) sb_add(b, "</ol>");
    if (in_h2) sb_add(b, "</li>\n");
    sb_add(b, "</ol>\n");
    free(h);
}

/* the chapters, and under the current one (ch, or NULL) its sections */
/* the chapter list; root: the site's folder as the page sees it ("" on the
 * site's pages). A document only loaded (kiln diff's page) has no appendix
 * yet: its entry is the one resolving makes. */
static void toc_html(const kiln_doc *doc, sbuf *b, const char *current, const kiln_chapter *ch, const char *root)
{
    sb_add(b, "<ol class=\"toc\">\n");
    for (int i = 0; i <= doc->n_chapters; i++) {
        const kiln_chapter *c = i < doc->n_chapters ? &doc->chapters[i] : doc->appendix;
        const char *page = c ? c->page : KILN_APPENDIX_PAGE, *title = c ? c->title : KILN_APPENDIX_TITLE;
        int cur = current && !strcmp(current, page);
        sb_add(b, i < doc->n_chapters ? "<li>" : "<li class=\"appendix\">");
        sbuf href = {0};
        sb_printf(&href, "%s%s", root, page);
        toc_link(b, href.s, cur ? "page" : NULL, title);
        sb_free(&href);
        if (c && c == ch) toc_sections(b, c);
        sb_add(b, "</li>\n");
    }
    sb_add(b, "</ol>\n");
}

static void nav_link(sbuf *b, const char *rel, const char *href, const char *title)
{
    sb_printf(b, "<a class=\"%s\" rel=\"%s\" href=\"", rel, rel);
    sb_html(b, href);
    sb_printf(b, "\"><span class=\"dir\">%s</span> ", !strcmp(rel, "prev") ? "← Previous" : "Next →");
    sb_html(b, title);
    sb_add(b, "</a>");
}

typedef struct page_vars {
    const char *v[N_PH];
} page_vars;

static int write_page_at(const char *path, const tmpl *t, page_vars *pv, kiln_diag *d)
{
    sbuf out = {0};
    for (int i = 0; i < t->n; i++) {
        if (t->p[i].ph < 0) sb_addn(&out, t->p[i].s, t->p[i].n);
        else sb_add(&out, pv->v[t->p[i].ph] ? pv->v[t->p[i].ph] : "");
    }
    int rc = kr_write_atomic(path, out.s, out.len);
    sb_free(&out);
    if (rc) kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write: %s", strerror(errno));
    return rc ? KILN_REPORT_EFAIL : 0;
}

static int write_page(const char *dir, const char *name, const tmpl *t, page_vars *pv, kiln_diag *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return write_page_at(path, t, pv, d);
}

static char *escaped(const char *s)
{
    sbuf b = {0};
    sb_html(&b, s);
    return sb_take(&b);
}

/* A number for results.json, which people read: a whole number as one (144,
 * not 144.0), NaN and the infinities as null. Reals keep 10 digits, the
 * precision of the cache entries they come from, so they are exact. */
static json_t *json_for_people(double v)
{
    if (!isfinite(v)) return json_null();
    if (v == floor(v) && fabs(v) < 9007199254740992.0) return json_integer((json_int_t)v);
    return json_real(v);
}

/* A run's history as runs/ID.json's text (malloc'd, NULL when it cannot
 * be made), or with a memo (kiln preview) the text made for the same run
 * before: the same id, label, key, config, data and stored result (the
 * entry's date tells a result computed again from the one before). */
static char *history_text(const kiln_doc *doc, const kiln_run *r)
{
    char *key = NULL;
    if (doc->opts.memo) {
        key = ka_printf(doc->arena, "history:%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", r->id, r->label, r->key,
                        r->canonical, r->data_digest, r->fingerprint ? r->fingerprint : "", r->date ? r->date : "");
        const char *hit = kr_memo_get(doc->opts.memo, key);
        if (hit) return kr_xstrdup(hit);
    }
    json_t *h = r->kind == KILN_RUN_TRAIN ? kiln_history_json(&r->history) : kiln_lrfind_json(&r->lrfind);
    json_t *root = h ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", r->id, "label", r->label, "kind",
                                 r->kind == KILN_RUN_TRAIN ? "train" : "lrfind", "key", r->key, "config",
                                 r->canonical, "data", r->data_digest, "result", h)
                     : NULL;
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    if (text && key) kr_memo_put(doc->opts.memo, key, kr_xstrdup(text), free);
    return text;
}

/* DIR/runs/ID.json: each run's whole history, offered to readers as data
 * (linked from the appendix): id, label, kind, cache key, canonical config,
 * data digest and the result as the cache stores it. */
static int write_histories(const kiln_doc *doc, const char *dir, kiln_diag *d)
{
    char rd[4096];
    snprintf(rd, sizeof rd, "%s/" RUNS_DIR, dir);
    if (kr_mkdirs(rd)) { kd_error(d, KILN_REPORT_EFAIL, rd, 0, "cannot create: %s", strerror(errno)); return KILN_REPORT_EFAIL; }
    for (int i = 0; i < doc->n_runs; i++) {
        const kiln_run *r = doc->runs[i];
        if (!r->needed || !r->ok) continue;
        char *text = history_text(doc, r);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.json", rd, r->id);
        int rc = text ? kr_write_atomic(path, text, strlen(text)) : -1;
        free(text);
        if (rc) { kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write the run's history"); return KILN_REPORT_EFAIL; }
    }
    return 0;
}

static int write_results_json(const kiln_doc *doc, const char *dir, kiln_diag *d)
{
    json_t *runs = json_object();
    for (int i = 0; i < doc->n_runs; i++) {
        const kiln_run *r = doc->runs[i];
        if (!r->needed) continue;
        json_t *m = json_object();
        for (int k = 0; k < r->n_metrics; k++) {
            double v = r->metrics[k].value;
            json_object_set_new(m, r->metrics[k].name, json_for_people(v));
        }
        json_object_set_new(runs, r->id,
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:s, s:s}", "kind",
                                      r->kind == KILN_RUN_TRAIN ? "train" : "lrfind", "label", r->label, "key", r->key,
                                      "config", r->config_line, "canonical",
                                      r->canonical, "cached", r->cached, "metrics", m, "trainer", r->fingerprint, "data",
                                      r->data_digest));
    }
    json_t *root = json_pack("{s:s, s:s, s:s, s:b, s:o}", "kiln", kiln_version(), "trainer", doc->trainer_fingerprint,
                             "data", doc->data_digest, "smoke", doc->smoke, "runs", runs);
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    json_decref(root);
    char path[4096];
    snprintf(path, sizeof path, "%s/results.json", dir);
    int rc = text ? kr_write_atomic(path, text, strlen(text)) : -1;
    free(text);
    if (rc) kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write");
    return rc ? KILN_REPORT_EFAIL : 0;
}

static int copy_file(const char *from, const char *to)
{
    size_t n;
    char *s = kr_read_file(from, &n);
    if (!s) return -1;
    int rc = kr_write_atomic(to, s, n);
    free(s);
    return rc;
}

int kiln_templates_check(const char *tdir, kiln_diag *d)
{
    if (!tdir) tdir = "templates";
    char path[4096];
    snprintf(path, sizeof path, "%s/layout.html", tdir);
    tmpl t;
    int rc = load_template(path, &t, d);
    if (!rc) free_template(&t);
    snprintf(path, sizeof path, "%s/style.css", tdir);
    char *css = kr_read_file(path, NULL);
    if (!css) {
        kd_error(d, KILN_REPORT_EINPUT, path, 0, "cannot read the stylesheet: %s (give --templates DIR)", strerror(errno));
        rc = KILN_REPORT_EINPUT;
    }
    free(css);
    /* the script is optional, but one that is there must be readable now,
     * not found broken once the runs have trained */
    snprintf(path, sizeof path, "%s/kiln.js", tdir);
    char *js = access(path, F_OK) == 0 ? kr_read_file(path, NULL) : NULL;
    if (access(path, F_OK) == 0 && !js) {
        kd_error(d, KILN_REPORT_EINPUT, path, 0, "cannot read the script: %s (give --templates DIR)", strerror(errno));
        rc = KILN_REPORT_EINPUT;
    }
    free(js);
    return rc;
}

/* One file of the content copied into the site: src to DIR/url, url inside
 * DIR/sub (what: "image", "record", for the message). */
static int copy_into_site(const char *dir, const char *sub, const char *src, const char *url, const char *what, kiln_diag *d)
{
    char path[4096];
    size_t n;
    char *data = kr_read_file(src, &n);
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (!data || kr_mkdirs(path)) {
        kd_error(d, KILN_REPORT_EFAIL, src, 0, "cannot copy the %s into the site: %s", what, strerror(errno));
        free(data);
        return KILN_REPORT_EFAIL;
    }
    snprintf(path, sizeof path, "%s/%s", dir, url);
    int wr = kiln_write_file_atomic(path, data, n);
    free(data);
    if (wr) {
        kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write: %s", strerror(errno));
        return KILN_REPORT_EFAIL;
    }
    return 0;
}

/* local images (DIR/media/, where their url points) and the records of
 * changes the appendix links (CONTENT/records/NAME.txt -> DIR/records/) */
static int copy_images(const kiln_doc *doc, const char *dir, kiln_diag *d)
{
    for (int i = 0; i < doc->n_images; i++)
        if (copy_into_site(dir, "media", doc->images[i]->src, doc->images[i]->url, "image", d)) return KILN_REPORT_EFAIL;
    return 0;
}

static int copy_records(const kiln_doc *doc, const char *dir, kiln_diag *d)
{
    for (int i = 0; i < doc->n_records; i++)
        if (copy_into_site(dir, "records", doc->records[i].src, doc->records[i].url, "record", d)) return KILN_REPORT_EFAIL;
    return 0;
}

/* what every page shares */
typedef struct {
    writer w;
    tmpl t;
    const char *dir;
    char *site_title, *description, *author, *lang;
    const char *pdf_link, *notice;
    sbuf footer;
} site;

static void site_open(site *s, const kiln_doc *doc, const char *dir)
{
    s->w = (writer){doc, NULL, doc->opts.allow_html};
    s->dir = dir;
    s->site_title = escaped(doc->title);
    sbuf *f = &s->footer;
    *f = (sbuf){0};
    sb_printf(f, "Built by kiln %s from real runs; trainer <code>%s</code>", kiln_version(), doc->trainer_fingerprint);
    if (doc->smoke) sb_add(f, "; <strong>smoke scale</strong>: every run shrunk, the numbers are not the article's");
    sb_add(f, ". <a href=\"results.json\">results.json</a> · <a href=\"");
    sb_html(f, doc->appendix->page);
    sb_add(f, "\">runs</a>");
    sbuf desc = {0}, names = {0};
    for (const kiln_block *b = doc->abstract ? doc->abstract : doc->front; b; b = b->next)
        if (b->kind == KILN_BL_PARAGRAPH) { kh_plain(&desc, b->inlines); break; }
    for (int i = 0; i < doc->n_authors; i++) {
        if (i) sb_add(&names, ", ");
        sb_add(&names, doc->authors[i].name ? doc->authors[i].name : "");
    }
    s->author = escaped(names.s ? names.s : "");
    sb_free(&names);
    s->lang = escaped(doc->lang && doc->lang[0] ? doc->lang : "en");
    s->notice = doc->smoke ? "<p class=\"smoke-note\" role=\"note\">" SMOKE_NOTE "</p>" : "";
    s->description = escaped(desc.s ? desc.s : "");
    sb_free(&desc);
    char path[4096];
    snprintf(path, sizeof path, "%s/report.pdf", dir);
    struct stat st;
    s->pdf_link = stat(path, &st) == 0 ? "<a class=\"pdf\" href=\"report.pdf\">PDF</a>" : "";
}

static void site_close(site *s)
{
    free_template(&s->t);
    free(s->site_title);
    free(s->description);
    free(s->author);
    free(s->lang);
    sb_free(&s->footer);
}

/* one page from the layout: its title, body, contents and pager */
static int site_page(site *s, const char *page, const char *title, const char *body, const char *toc, const char *nav,
                     kiln_diag *d)
{
    page_vars pv = {{0}};
    pv.v[0] = title;
    pv.v[1] = s->site_title;
    pv.v[2] = s->description;
    pv.v[3] = body;
    pv.v[4] = toc;
    pv.v[5] = nav;
    pv.v[6] = s->pdf_link;
    pv.v[7] = s->footer.s;
    pv.v[8] = "style.css";
    pv.v[9] = page;
    pv.v[10] = s->author;
    pv.v[11] = s->lang;
    pv.v[12] = s->notice;
    pv.v[13] = "";
    return write_page(s->dir, page, &s->t, &pv, d);
}

/* The index page's head: the title, subtitle, authors and date of index.md's
 * front matter (a smoke build's note is in every page's header), the
 * abstract. */
static void title_block(site *s, sbuf *b, const kiln_doc *doc)
{
    sb_add(b, "<header class=\"title-block\">\n<h1 id=\"top\">");
    sb_html(b, doc->title);
    sb_add(b, "</h1>\n");
    if (doc->subtitle && doc->subtitle[0]) {
        sb_add(b, "<p class=\"subtitle\">");
        sb_html(b, doc->subtitle);
        sb_add(b, "</p>\n");
    }
    if (doc->n_authors) {
        sb_add(b, "<ul class=\"authors\">");
        for (int i = 0; i < doc->n_authors; i++) {
            const kiln_author *a = &doc->authors[i];
            sb_add(b, "<li><span class=\"author\">");
            sb_html(b, a->name ? a->name : "");
            sb_add(b, "</span>");
            if (a->affiliation && a->affiliation[0]) {
                sb_add(b, " <span class=\"affiliation\">");
                sb_html(b, a->affiliation);
                sb_add(b, "</span>");
            }
            sb_add(b, "</li>");
        }
        sb_add(b, "</ul>\n");
    }
    if (doc->date && doc->date[0]) {
        sb_add(b, "<p class=\"date\"><time datetime=\"");
        sb_html(b, doc->date);
        sb_add(b, "\">");
        sb_html(b, doc->date_text ? doc->date_text : doc->date);
        sb_add(b, "</time></p>\n");
    }
    sb_add(b, "</header>\n");
    if (doc->abstract) {
        sb_add(b, "<section class=\"abstract\" aria-labelledby=\"abstract\">\n<h2 id=\"abstract\">Abstract</h2>\n");
        html_blocks(&s->w, b, doc->abstract, 0);
        sb_add(b, "</section>\n");
    }
}

static int write_index(site *s, const kiln_doc *doc, kiln_diag *d)
{
    sbuf body = {0}, toc = {0};
    toc_html(doc, &toc, "index.html", NULL, "");
    title_block(s, &body, doc);
    sb_add(&body, "<div class=\"summary\">\n");
    html_blocks(&s->w, &body, doc->front, 0);
    sb_add(&body, "</div>\n<h2 id=\"" KH_CHAPTERS_ID "\">" KH_CHAPTERS_TITLE "</h2>\n");
    sb_add(&body, toc.s);
    if (s->pdf_link[0]) sb_add(&body, "<p>The whole article as one <a href=\"report.pdf\">PDF</a>.</p>\n");
    char *title = NULL;
    if (doc->subtitle && doc->subtitle[0]) {
        sbuf t = {0};
        sb_printf(&t, "%s: %s", doc->title, doc->subtitle);
        title = escaped(t.s);
        sb_free(&t);
    }
    int rc = site_page(s, "index.html", title ? title : s->site_title, body.s, toc.s, "", d);
    free(title);
    sb_free(&body);
    sb_free(&toc);
    return rc;
}

/* chapter i, or the appendix for i == n_chapters */
static int write_chapter(site *s, const kiln_doc *doc, int i, kiln_diag *d)
{
    const kiln_chapter *c = i < doc->n_chapters ? &doc->chapters[i] : doc->appendix;
    sbuf body = {0}, toc = {0}, nav = {0};
    toc_html(doc, &toc, c->page, c, "");
    s->w.ch = c;
    html_blocks(&s->w, &body, c->blocks, 0);
    sb_add(&nav, "<nav class=\"pager\" aria-label=\"chapters\">");
    if (i > 0) nav_link(&nav, "prev", doc->chapters[i - 1].page, doc->chapters[i - 1].title);
    else nav_link(&nav, "prev", "index.html", doc->title);
    const kiln_chapter *next = i + 1 < doc->n_chapters ? &doc->chapters[i + 1] : i < doc->n_chapters ? doc->appendix : NULL;
    if (next) nav_link(&nav, "next", next->page, next->title);
    sb_add(&nav, "</nav>");
    char *title = escaped(c->title);
    int rc = site_page(s, c->page, title, body.s, toc.s, nav.s, d);
    free(title);
    sb_free(&body);
    sb_free(&toc);
    sb_free(&nav);
    return rc;
}

int kiln_html_write(const kiln_doc *doc, const char *dir, kiln_diag *d)
{
    const char *tdir = doc->opts.template_dir ? doc->opts.template_dir : "templates";
    char path[4096];
    snprintf(path, sizeof path, "%s/layout.html", tdir);
    site s = {0};
    int rc = load_template(path, &s.t, d);
    if (rc) return rc;
    if ((rc = copy_images(doc, dir, d)) || (rc = copy_records(doc, dir, d))) {
        free_template(&s.t);
        return rc;
    }
    site_open(&s, doc, dir);
    rc |= write_index(&s, doc, d);
    for (int i = 0; i <= doc->n_chapters; i++)
        rc |= write_chapter(&s, doc, i, d);
    site_close(&s);

    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/style.css", tdir);
    snprintf(to, sizeof to, "%s/style.css", dir);
    if (copy_file(from, to)) {
        kd_error(d, KILN_REPORT_EINPUT, from, 0, "cannot copy the stylesheet: %s", strerror(errno));
        rc = KILN_REPORT_EINPUT;
    }
    /* the pages' script (the contents' highlight, the search), when the
       templates have one; the index it searches */
    snprintf(from, sizeof from, "%s/kiln.js", tdir);
    snprintf(to, sizeof to, "%s/kiln.js", dir);
    if (access(from, F_OK) == 0 && copy_file(from, to)) {
        kd_error(d, KILN_REPORT_EINPUT, from, 0, "cannot copy the script: %s", strerror(errno));
        rc = KILN_REPORT_EINPUT;
    }
    rc |= kh_write_search_index(doc, dir, d);
    rc |= write_results_json(doc, dir, d);
    rc |= write_histories(doc, dir, d);
    return rc ? (d->worst ? d->worst : KILN_REPORT_EFAIL) : 0;
}

/* A page of its own in the site's layout (kiln diff's page): the header, the
 * chapter list and the footer's links of the site at root. */
int kiln_html_page(const kiln_doc *doc, const char *root, const char *title, const char *body, const char *path,
                   kiln_diag *d)
{
    const char *tdir = doc->opts.template_dir ? doc->opts.template_dir : "templates";
    char tpath[4096];
    snprintf(tpath, sizeof tpath, "%s/layout.html", tdir);
    tmpl t;
    int rc = load_template(tpath, &t, d);
    if (rc) return rc;
    if (!root) root = "";
    sbuf toc = {0}, foot = {0}, css = {0}, pdf = {0}, where = {0};
    toc_html(doc, &toc, NULL, NULL, root);
    char *e_root = escaped(root), *site_title = escaped(doc->title ? doc->title : ""), *e_title = escaped(title);
    sb_printf(&css, "%sstyle.css", e_root);
    sbuf names = {0}, author = {0};
    for (int i = 0; i < doc->n_authors; i++) {
        if (i) sb_add(&names, ", ");
        sb_add(&names, doc->authors[i].name ? doc->authors[i].name : "");
    }
    if (names.s) sb_html(&author, names.s);
    sb_free(&names);
    char *lang = escaped(doc->lang && doc->lang[0] ? doc->lang : "en");
    /* the PDF link when the site has one: root from the page's folder */
    const char *slash = strrchr(path, '/');
    if (slash) sb_printf(&where, "%.*s/", (int)(slash - path), path);
    sb_printf(&where, "%sreport.pdf", root);
    struct stat st;
    if (stat(where.s, &st) == 0) sb_printf(&pdf, "<a class=\"pdf\" href=\"%sreport.pdf\">PDF</a>", e_root);
    sb_printf(&foot, "Written by kiln %s (kiln diff), beside the site it compares: <a href=\"%sresults.json\">results.json</a>"
                     " · <a href=\"%s" KILN_APPENDIX_PAGE "\">runs</a>", kiln_version(), e_root, e_root);
    page_vars pv = {{0}};
    pv.v[0] = e_title;
    pv.v[1] = site_title;
    pv.v[2] = e_title;
    pv.v[3] = body;
    pv.v[4] = toc.s;
    pv.v[5] = "";
    pv.v[6] = pdf.s ? pdf.s : "";
    pv.v[7] = foot.s;
    pv.v[8] = css.s;
    pv.v[9] = slash ? slash + 1 : path;
    pv.v[10] = author.s ? author.s : "";
    pv.v[11] = lang;
    pv.v[12] = "";
    pv.v[13] = e_root;
    rc = write_page_at(path, &t, &pv, d);
    free_template(&t);
    free(e_root);
    free(site_title);
    free(e_title);
    free(lang);
    sb_free(&author);
    sb_free(&toc);
    sb_free(&foot);
    sb_free(&css);
    sb_free(&pdf);
    sb_free(&where);
    return rc;
}
