/* Tests of the PDF writer (kiln_pdf_write): documents from a Markdown fixture
 * (through kiln_doc_load_text) and hand-built models with fake runs, figures
 * rendered by the plot module, tables and result lines; the PDFs are read
 * back with poppler-utils (pdftotext, pdfinfo, pdffonts, pdfimages).
 * KILN_PDF_KEEP=/some/dir keeps every PDF written, to look at. */
#include "testutil.h"

#include "kiln/plot.h"
#include "kiln/report.h"
#include "resolve/resolve.h" /* kr_build_appendix, for the hand-made documents */

#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers: commands, files ------------------------------------------------------ */

static char tmpdir[64];

static void setup(void)
{
    ck_assert_ptr_nonnull(test_tmpdir(tmpdir));
}

/* Run a shell command, return its stdout (malloc'd) and exit status. */
static char *sh(int *status, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 2) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

/* Whitespace runs (form feeds too) -> one space. */
static char *squash(const char *s)
{
    char *o = malloc(strlen(s) + 1), *q = o;
    int sp = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\f' || *s == '\r') { sp = 1; continue; }
        if (sp && q > o) *q++ = ' ';
        sp = 0;
        *q++ = *s;
    }
    *q = 0;
    return o;
}

static void keep_copy(const char *path, const char *name)
{
    const char *dir = getenv("KILN_PDF_KEEP");
    if (!dir || !*dir) return;
    int st;
    free(sh(&st, "mkdir -p '%s' && cp '%s' '%s/%s.pdf'", dir, path, dir, name));
}

/* The body text (running header and footer cropped away), squashed. */
static char *body_text(const char *pdf)
{
    int st;
    char *t = sh(&st, "pdftotext -q -layout -x 60 -y 72 -W 476 -H 702 '%s' -", pdf);
    ck_assert_int_eq(st, 0);
    char *s = squash(t);
    free(t);
    return s;
}

/* Every needle, in order. */
static void assert_in_order(const char *hay, const char *const *needles, int n)
{
    const char *at = hay;
    for (int i = 0; i < n; i++) {
        char *nd = squash(needles[i]);
        const char *f = strstr(at, nd);
        ck_assert_msg(f != NULL, "'%s' missing (or out of order) in the PDF text", nd);
        at = f + strlen(nd);
        free(nd);
    }
}

/* pdfinfo: a valid PDF; returns the page count. */
static int pdf_pages(const char *pdf, char **info_out)
{
    int st;
    char *info = sh(&st, "pdfinfo '%s' 2>&1", pdf);
    ck_assert_msg(st == 0, "pdfinfo failed: %s", info);
    const char *p = strstr(info, "\nPages:");
    ck_assert_ptr_nonnull(p);
    int n = atoi(p + 7);
    if (info_out) *info_out = info;
    else free(info);
    return n;
}

/* Every word inside the page's text area (the body plus the bands of the
 * running header and footer): A4, 72 pt side margins. */
static void assert_words_inside(const char *pdf)
{
    int st;
    char *x = sh(&st, "pdftotext -q -bbox '%s' -", pdf);
    ck_assert_int_eq(st, 0);
    double pw = 0, ph = 0;
    int words = 0;
    for (const char *p = x; (p = strchr(p, '<'));) {
        p++;
        if (!strncmp(p, "page ", 5)) {
            const char *a = strstr(p, "width=\""), *b = strstr(p, "height=\"");
            pw = atof(a + 7);
            ph = atof(b + 8);
        } else if (!strncmp(p, "word ", 5)) {
            double x0 = atof(strstr(p, "xMin=\"") + 6), y0 = atof(strstr(p, "yMin=\"") + 6);
            double x1 = atof(strstr(p, "xMax=\"") + 6), y1 = atof(strstr(p, "yMax=\"") + 6);
            const char *t = strchr(p, '>') + 1;
            int tl = (int)(strchr(t, '<') - t);
            ck_assert_msg(x0 >= 72 - 1.0 && x1 <= pw - 72 + 1.0 && y0 >= 28 && y1 <= ph - 28,
                          "word '%.*s' at x %.1f..%.1f, y %.1f..%.1f is outside the text area of a %.0f x %.0f page",
                          tl, t, x0, x1, y0, y1, pw, ph);
            words++;
        }
    }
    ck_assert_int_gt(words, 0);
    free(x);
}

static void assert_fonts_embedded(const char *pdf, int min_fonts)
{
    int st;
    char *f = sh(&st, "pdffonts '%s' 2>&1", pdf);
    ck_assert_int_eq(st, 0);
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(f, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "name", 4) || !strncmp(line, "----", 4)) continue;
        char *tok[16];
        int k = 0;
        for (char *s2 = NULL, *t = strtok_r(line, " ", &s2); t && k < 16; t = strtok_r(NULL, " ", &s2)) tok[k++] = t;
        ck_assert_int_ge(k, 7);
        ck_assert_msg(!strcmp(tok[k - 5], "yes"), "font %s is not embedded", tok[0]);
        ck_assert_msg(!strncmp(tok[0] + 7, "DejaVu", 6), "font %s is not DejaVu", tok[0]);
        n++;
    }
    ck_assert_int_ge(n, min_fonts);
    free(f);
}

static int count_images(const char *pdf)
{
    int st;
    char *l = sh(&st, "pdfimages -list '%s'", pdf);
    ck_assert_int_eq(st, 0);
    int lines = 0;
    for (char *p = l; *p; p++) lines += *p == '\n';
    free(l);
    return lines - 2;
}

/* A hand-made document (no arena) gets the appendix the resolver would give
 * it, for one write; returns whether it did. */
static int add_appendix(kiln_doc *doc)
{
    if (doc->arena) return 0;
    doc->arena = ka_new();
    kr_build_appendix(doc);
    return 1;
}

static void drop_appendix(kiln_doc *doc)
{
    ka_free(doc->arena);
    doc->arena = NULL;
    doc->appendix = NULL;
}

/* Write doc as TMP/NAME.pdf. */
static int write_pdf(kiln_doc *doc, const char *name, char *path, size_t n, kiln_diag *d)
{
    snprintf(path, n, "%s/%s.pdf", tmpdir, name);
    int hand_made = add_appendix(doc);
    int rc = kiln_pdf_write(doc, path, d);
    if (hand_made) drop_appendix(doc);
    if (!rc) keep_copy(path, name);
    else fprintf(stderr, "kiln_pdf_write(%s): %s", name, d->text ? d->text : "(no message)\n");
    return rc;
}

/* ---- a document from Markdown ----------------------------------------------------------- */

static kiln_doc *load_md(const char *name, const char *md)
{
    kiln_build_opts o = {0};
    kiln_diag d = {0};
    kiln_doc *doc = NULL;
    int rc = kiln_doc_load_text(&doc, name, md, &o, &d);
    ck_assert_msg(rc == 0 && doc, "load failed: %s", d.text ? d.text : "");
    ck_assert_int_eq(kiln_doc_resolve(doc, NULL, &d), 0);
    kiln_diag_free(&d);
    return doc;
}

START_TEST(markdown_fixture)
{
    char *md = test_read_file("tests/fixtures/pdf/typesetting.md", NULL);
    ck_assert_ptr_nonnull(md);
    kiln_doc *doc = load_md("typesetting.md", md);
    char path[256];
    kiln_diag d = {0};
    ck_assert_int_eq(write_pdf(doc, "typesetting", path, sizeof path, &d), 0);
    char *info = NULL;
    int pages = pdf_pages(path, &info);
    ck_assert_int_ge(pages, 4); /* title, contents, the chapter (2+), appendix */
    ck_assert_int_le(pages, 8);
    ck_assert_ptr_nonnull(strstr(info, "Title:           Typesetting “everything” — a café test"));
    ck_assert_ptr_nonnull(strstr(info, "Author:"));
    ck_assert_ptr_nonnull(strstr(info, "CreationDate:"));
    ck_assert_ptr_nonnull(strstr(info, "Producer:        kiln"));
    free(info);
    char *t = body_text(path);
    static const char *const order[] = {
        "Typesetting “everything” — a café test",
        "This chapter exercises the PDF writer with emphasis, strong text, both at once, inline code, a link to "
        "the Debian site and a link to a section below.",
        "Accents: naïve, façade, Ångström, Øresund; dashes – and —; curly quotes ‘single’ and “double”;",
        "arithmetic 3×10⁻⁵ ≈ 0.00003 and α = 0.5.",
        "A hard line break follows", "and this text starts on a new line.",
        "1.1 Lists and quotes",
        "The first ordered item, long enough to wrap onto a second line",
        "an unordered child;", "a third-level child;", "and one more.", "The third item.",
        "A block quote with strong words.", "an inner quotation, indented twice.",
        "1.2 Code", "/* a code block: monospace on a shaded background */",
        "A paragraph with a very long word:",
        "1.2.1 A third-level heading", "The end of the chapter.",
        "Reproducibility appendix",
    };
    assert_in_order(t, order, (int)(sizeof order / sizeof *order));
    free(t);
    assert_words_inside(path);
    assert_fonts_embedded(path, 5);
    /* links: the external one as a URI action, the internal one as a GoTo */
    char *raw = test_read_file(path, NULL);
    ck_assert_ptr_nonnull(raw);
    size_t len = 0;
    free(raw);
    raw = test_read_file(path, &len);
    ck_assert_ptr_nonnull(memmem(raw, len, "/URI (https:\\057\\057www.debian.org\\057)", strlen("/URI (https:\\057\\057www.debian.org\\057)")));
    ck_assert_ptr_nonnull(memmem(raw, len, "/Outlines", 9));
    ck_assert_ptr_nonnull(memmem(raw, len, "/Dest", 5));
    free(raw);
    free(md);
    kiln_diag_free(&d);
    kiln_doc_free(doc);
}
END_TEST

/* ---- hand-built documents ---------------------------------------------------------------- */

/* A bump allocator for the models (freed at the end of each test). */
static char *pool;
static size_t pool_used, pool_cap;
static void *P(size_t n)
{
    if (!pool) {
        pool_cap = 1 << 22;
        pool = malloc(pool_cap);
    }
    n = (n + 15) & ~(size_t)15;
    ck_assert(pool_used + n <= pool_cap);
    void *p = pool + pool_used;
    memset(p, 0, n);
    pool_used += n;
    return p;
}
static void pool_reset(void)
{
    free(pool);
    pool = NULL;
    pool_used = 0;
}
static const char *S(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *p = P(strlen(buf) + 1);
    strcpy(p, buf);
    return p;
}

static kiln_inline *IN(enum kiln_inline_kind k, const char *text, kiln_inline *children)
{
    kiln_inline *i = P(sizeof *i);
    i->kind = k;
    i->text = text ? text : "";
    i->url = i->title = i->run_id = i->metric = i->format = "";
    i->children = children;
    return i;
}
static kiln_inline *chain(kiln_inline *first, ...)
{
    va_list ap;
    va_start(ap, first);
    kiln_inline *prev = first;
    for (kiln_inline *n; (n = va_arg(ap, kiln_inline *));) {
        prev->next = n;
        prev = n;
    }
    va_end(ap);
    return first;
}
static kiln_inline *TXT(const char *s) { return IN(KILN_IN_TEXT, s, NULL); }
static kiln_inline *VAL(const char *s) { return IN(KILN_IN_VALUE, s, NULL); }

static kiln_block *BL(enum kiln_block_kind k)
{
    kiln_block *b = P(sizeof *b);
    b->kind = k;
    b->text = b->info = b->anchor = "";
    return b;
}
static kiln_block *PARA(kiln_inline *in)
{
    kiln_block *b = BL(KILN_BL_PARAGRAPH);
    b->inlines = in;
    return b;
}
static kiln_block *HEAD(int level, const char *text, const char *anchor)
{
    kiln_block *b = BL(KILN_BL_HEADING);
    b->level = level;
    b->inlines = TXT(text);
    b->anchor = anchor;
    return b;
}
static kiln_block *blocks(kiln_block *first, ...)
{
    va_list ap;
    va_start(ap, first);
    kiln_block *prev = first;
    for (kiln_block *n; (n = va_arg(ap, kiln_block *));) {
        prev->next = n;
        while (prev->next) prev = prev->next;
    }
    va_end(ap);
    return first;
}

static kiln_run *RUN(const char *id, const char *label)
{
    kiln_run *r = P(sizeof *r);
    r->id = id;
    r->label = label;
    r->file = "content/01-test.md";
    r->line = 12;
    r->base = "";
    r->canonical = S("id = %s\nlearning_rate = 0.001\n", id);
    r->display = S("optimizer = adam\nlearning_rate = 0.001\nepochs = 25\nbatch_size = 250\n");
    snprintf(r->key, sizeof r->key, "%032x", (unsigned)strlen(id) * 12345u);
    r->needed = r->cached = r->ok = 1;
    r->kiln_version = "0.1.0";
    r->fingerprint = "0123456789abcdef";
    r->data_digest = "feedc0de";
    r->compiler = "cc 12.2";
    r->cpu = "Test CPU";
    r->date = "2025-01-01T00:00:00Z";
    r->host_threads = "2";
    r->seconds = 123.4;
    return r;
}

static kiln_block *DIRB(kiln_directive *x)
{
    kiln_block *b = BL(KILN_BL_DIRECTIVE);
    b->directive = x;
    return b;
}

static kiln_directive *DIR(enum kiln_directive_kind k, const char *id)
{
    kiln_directive *x = P(sizeof *x);
    x->kind = k;
    x->id = id;
    x->name = "";
    x->file = "content/01-test.md";
    x->anchor = "";
    x->title = "";
    x->image = "";
    x->text = "";
    x->xlabel = x->ylabel = "";
    return x;
}

/* A real figure PNG from the plot module: 640 x 400 logical px at scale 2. */
static const char *make_png(const char *name, int seed)
{
    double y1[25], y2[25];
    for (int i = 0; i < 25; i++) {
        y1[i] = 0.3 * exp(-0.2 * i) + 0.02 * seed;
        y2[i] = 0.35 * exp(-0.15 * i) + 0.03;
    }
    kiln_series s[2] = {{.label = "training", .y = y1, .n = 25}, {.label = "validation", .y = y2, .n = 25}};
    kiln_plot p;
    kiln_plot_init(&p);
    p.title = "Loss per epoch";
    p.xlabel = "epoch";
    p.ylabel = "loss";
    p.series = s;
    p.n_series = 2;
    const char *path = S("%s/%s.png", tmpdir, name);
    char err[256];
    ck_assert_msg(kiln_plot_render_png(&p, path, err, sizeof err) == 0, "%s", err);
    return path;
}

static kiln_directive *FIG(const char *id, int number, const char *caption)
{
    kiln_directive *x = DIR(KILN_DIR_FIGURE, id);
    x->number = number;
    x->anchor = S("fig-%s", id);
    x->caption = chain(TXT(caption), TXT(" Final loss "), VAL(S("0.0%d42", number)), TXT("."), NULL);
    x->image = S("img/%s.png", id);
    x->image_file = make_png(id, number);
    x->image_width = 640;
    x->image_height = 400;
    return x;
}

static kiln_table *TABLE(int nr, int nc, const char *const *header, const char *const *cells, const int *numeric)
{
    kiln_table *t = P(sizeof *t);
    t->n_rows = nr;
    t->n_cols = nc;
    t->header = (const char **)header;
    t->cells = (const char **)cells;
    t->numeric = (int *)numeric;
    return t;
}

static kiln_doc *DOC(const char *title, int n_chapters)
{
    kiln_doc *d = P(sizeof *d);
    d->title = title;
    d->chapters = P(sizeof *d->chapters * (size_t)(n_chapters ? n_chapters : 1));
    d->n_chapters = n_chapters;
    d->trainer_fingerprint = "0123456789abcdef";
    d->data_digest = "feedc0de00112233";
    d->index_file = "content/index.md";
    for (int i = 0; i < n_chapters; i++) {
        kiln_chapter *c = &d->chapters[i];
        c->index = i;
        c->file = S("content/%02d-ch.md", i + 1);
        c->slug = S("%02d-ch", i + 1);
        c->page = S("%02d-ch.html", i + 1);
        c->title = "";
    }
    return d;
}

/* The article's shape: two chapters with figures, results, a table, values. */
static kiln_doc *article(int *n_figs, const char ***numbers, int *n_numbers)
{
    kiln_doc *doc = DOC("Fixed and decaying learning rates, measured", 2);
    doc->front = PARA(TXT("How large a step should gradient descent take? This article answers the question with "
                          "experiments rather than opinions."));
    kiln_run *runs[3] = {RUN("baseline", "baseline, lr 0.001"), RUN("huge", "lr 0.5"), RUN("tiny", "lr 1e-07")};
    doc->runs = P(sizeof(kiln_run *) * 3);
    for (int i = 0; i < 3; i++) doc->runs[i] = runs[i];
    doc->n_runs = 3;
    static const char *nums[] = {"0.0312", "0.9921", "2.3026", "0.1135", "60000", "48000"};
    *numbers = nums;
    *n_numbers = 6;
    int fig = 0;
    for (int ci = 0; ci < 2; ci++) {
        kiln_chapter *c = &doc->chapters[ci];
        c->title = ci == 0 ? "Fixed learning rates" : "Decaying learning rates";
        kiln_block *first = HEAD(1, c->title, ci == 0 ? "fixed-learning-rates" : "decaying-learning-rates");
        kiln_block *last = first;
        for (int s = 0; s < 4; s++) {
            kiln_block *h = HEAD(2, S("Section %d of chapter %d", s + 1, ci + 1), S("s%d", s));
            kiln_block *p1 = PARA(chain(TXT("The model trains on "), VAL("60000"), TXT(" images, of which "),
                                        VAL("48000"), TXT(" remain after the validation split. "),
                                        TXT("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
                                            "tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim "
                                            "veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
                                            "commodo consequat."),
                                        NULL));
            kiln_directive *f = FIG(S("f%d", fig + 1), fig + 1, S("Training and validation loss, figure %d.", fig + 1));
            fig++;
            kiln_directive *r = DIR(KILN_DIR_RESULT, "baseline");
            r->run = runs[0];
            r->text = "Test loss: 0.0312 / Test accuracy: 0.9921";
            /* the resolved result: its line, and the same values as a one-row table */
            static const char *const rhdr[] = {"Run", "Test loss", "Test accuracy"};
            const char **rcells = P(3 * sizeof *rcells);
            rcells[0] = runs[0]->label, rcells[1] = "0.0312", rcells[2] = "0.9921";
            static const int rnum[] = {0, 1, 1};
            r->table = TABLE(1, 3, rhdr, rcells, rnum);
            kiln_block *p2 = PARA(chain(TXT("The huge rate ends at a loss of "), VAL("2.3026"),
                                        TXT(" and an accuracy of "), VAL("0.1135"), TXT(" — chance level."), NULL));
            last->next = blocks(h, p1, DIRB(f), DIRB(r), p2, NULL);
            while (last->next) last = last->next;
        }
        if (ci == 1) {
            static const char *hdr[] = {"Run", "Learning rate", "Test loss", "Test accuracy"};
            static const char *cells[] = {"baseline", "0.001", "0.0312", "0.9921", "huge", "0.5", "2.3026", "0.1135",
                                          "tiny", "1e-07", "1.9870", "0.6012"};
            static const int numeric[] = {0, 1, 1, 1};
            kiln_directive *t = DIR(KILN_DIR_TABLE, "compare");
            t->number = 1;
            t->anchor = "table-compare";
            t->caption = TXT("The runs compared on the test set.");
            t->table = TABLE(3, 4, hdr, cells, numeric);
            kiln_directive *cf = DIR(KILN_DIR_CONFIG, "baseline");
            cf->text = runs[0]->display;
            cf->run = runs[0];
            kiln_block *ref = PARA(chain(TXT("See "), IN(KILN_IN_REF, "Table 1", NULL), TXT(" and "),
                                         IN(KILN_IN_REF, "Figure 1", NULL), TXT("."), NULL));
            ref->inlines->next->url = "#table-compare";
            ref->inlines->next->next->next->url = "01-ch.html#fig-f1";
            last->next = blocks(DIRB(t), ref, DIRB(cf), NULL);
        }
        c->blocks = first;
    }
    *n_figs = fig;
    return doc;
}

START_TEST(article_model)
{
    pool_reset();
    int n_figs, n_numbers;
    const char **numbers;
    kiln_doc *doc = article(&n_figs, &numbers, &n_numbers);
    char path[256];
    kiln_diag d = {0};
    /* No time budget here: tests never depend on timing (a loaded machine
     * made a 300 ms budget fail at 2.5 s); `make bench` measures the PDF. */
    ck_assert_int_eq(write_pdf(doc, "article", path, sizeof path, &d), 0);
    int pages = pdf_pages(path, NULL);
    ck_assert_int_ge(pages, 2 + n_figs / 2);
    ck_assert_int_le(pages, 2 + n_figs * 2);
    ck_assert_int_eq(count_images(path), n_figs);
    char *t = body_text(path);
    for (int i = 0; i < n_numbers; i++) ck_assert_msg(strstr(t, numbers[i]), "number %s missing", numbers[i]);
    static const char *const order[] = {
        "Fixed learning rates", "1.1 Section 1 of chapter 1", "The model trains on 60000 images",
        "Figure 1. Training and validation loss, figure 1. Final loss 0.0142.",
        "Run Test loss Test accuracy", "baseline, lr 0.001 0.0312 0.9921", "chance level.",
        "1.4 Section 4 of chapter 1", "Decaying learning rates", "2.1 Section 1 of chapter 2",
        "Figure 8. Training and validation loss, figure 8.", "Table 1. The runs compared on the test set.",
        "Run Learning rate Test loss Test accuracy", "huge 0.5 2.3026 0.1135", "See Table 1 and Figure 1.",
        "optimizer = adam", "Reproducibility appendix", "Trainer fingerprint 0123456789abcdef",
    };
    assert_in_order(t, order, (int)(sizeof order / sizeof *order));
    free(t);
    /* the contents lists chapters and sections with page numbers */
    int st;
    char *toc = sh(&st, "pdftotext -q -f 2 -l 2 -layout '%s' -", path);
    ck_assert_ptr_nonnull(strstr(toc, "Contents"));
    ck_assert_ptr_nonnull(strstr(toc, "1.1"));
    ck_assert_ptr_nonnull(strstr(toc, "Reproducibility appendix"));
    free(toc);
    assert_words_inside(path);
    assert_fonts_embedded(path, 4);
    kiln_diag_free(&d);
    pool_reset();
}
END_TEST

/* Headings never end a page: many short sections of random length. */
START_TEST(heading_keeps)
{
    pool_reset();
    kiln_doc *doc = DOC("Keeps", 1);
    kiln_block *first = HEAD(1, "Keeps", "keeps"), *last = first;
    unsigned seed = 7;
    for (int s = 0; s < 60; s++) {
        last->next = HEAD(2 + s % 2, S("Hsec%d heading", s), S("h%d", s));
        last = last->next;
        seed = seed * 1103515245u + 12345u;
        int words = 10 + (int)(seed >> 16) % 120;
        char buf[2048] = "";
        for (int k = 0; k < words; k++) strcat(buf, k % 9 == 8 ? "words. " : "word ");
        last->next = PARA(TXT(S("%s", buf)));
        last = last->next;
    }
    doc->chapters[0].blocks = first;
    doc->chapters[0].title = "Keeps";
    char path[256];
    kiln_diag d = {0};
    ck_assert_int_eq(write_pdf(doc, "keeps", path, sizeof path, &d), 0);
    int pages = pdf_pages(path, NULL);
    ck_assert_int_gt(pages, 4);
    /* the last body line of every page is not a heading */
    int st;
    for (int pg = 1; pg <= pages; pg++) {
        char *x = sh(&st, "pdftotext -q -f %d -l %d -x 60 -y 72 -W 476 -H 702 -layout '%s' -", pg, pg, path);
        char *end = x + strlen(x);
        while (end > x && (end[-1] == '\n' || end[-1] == '\f' || end[-1] == ' ')) *--end = 0;
        char *line = strrchr(x, '\n');
        line = line ? line + 1 : x;
        ck_assert_msg(!strstr(line, "Hsec"), "page %d ends with a heading: '%s'", pg, line);
        free(x);
    }
    kiln_diag_free(&d);
    pool_reset();
}
END_TEST

/* The body text of one page (the running header and the footer cut off). */
static char *page_body(const char *pdf, int pg)
{
    int st;
    char *x = sh(&st, "pdftotext -q -f %d -l %d -x 60 -y 72 -W 476 -H 702 -layout '%s' -", pg, pg, pdf);
    ck_assert_int_eq(st, 0);
    return x;
}

/* The first page (1-based, from `from` on) whose body holds `needle`, 0 none. */
static int page_from(const char *pdf, int pages, const char *needle, int from)
{
    for (int pg = from; pg <= pages; pg++) {
        char *x = page_body(pdf, pg);
        int hit = strstr(x, needle) != NULL;
        free(x);
        if (hit) return pg;
    }
    return 0;
}
static int page_of(const char *pdf, int pages, const char *needle) { return page_from(pdf, pages, needle, 1); }

/* A figure that does not fit under a nearly full page floats: the paragraphs
 * after it fill that page, it opens the next one, and it does not float past
 * the next heading. A long table repeats its header on every page it spans;
 * a row taller than a page breaks across pages inside the text area. */
START_TEST(floats_and_long_tables)
{
    pool_reset();
    kiln_doc *doc = DOC("Floats", 2);
    const char *filler = "Filler words fill this paragraph so that the page is nearly full before the figure "
                         "comes, and then some more words follow to make the lines long enough to justify.";
    kiln_block *first = HEAD(1, "Floats", "floats"), *last = first;
    for (int k = 0; k < 8; k++) {
        last->next = PARA(TXT(S("Pre%d. %s %s", k, filler, filler)));
        last = last->next;
    }
    last->next = DIRB(FIG("floater", 1, "The floating figure."));
    last = last->next;
    for (int k = 0; k < 3; k++) {
        last->next = PARA(TXT(S("After%d: see Figure 1. %s", k, filler)));
        last = last->next;
    }
    last->next = HEAD(2, "Nextsec heading", "nextsec");
    last = last->next;
    last->next = PARA(TXT(S("Closing. %s", filler)));
    doc->chapters[0].blocks = first;
    doc->chapters[0].title = "Floats";

    enum { NR = 90 };
    static const char *hdr[3] = {"HdrAlpha", "HdrBeta", "HdrGamma"};
    static const char *cells[NR * 3];
    static int numeric[3] = {0, 0, 1};
    char *tall = P(20000);
    tall[0] = 0;
    strcat(tall, "Tallstart");
    for (int k = 0; k < 900; k++) strcat(tall, " tallword");
    strcat(tall, " Tallend");
    for (int r = 0; r < NR; r++) {
        cells[r * 3] = S("Row%02d", r);
        cells[r * 3 + 1] = r == 40 ? tall : "a plain cell";
        cells[r * 3 + 2] = S("%d.%03d", r, r * 7);
    }
    kiln_directive *t = DIR(KILN_DIR_TABLE, "long");
    t->number = 1;
    t->anchor = "table-long";
    t->caption = TXT("A table longer than a page.");
    t->table = TABLE(NR, 3, hdr, cells, numeric);
    doc->chapters[1].title = "Long table";
    doc->chapters[1].blocks = blocks(HEAD(1, "Long table", "longtab"), PARA(TXT("Before the table.")), DIRB(t),
                                     PARA(TXT("After the table.")), NULL);

    char path[256];
    kiln_diag d = {0};
    ck_assert_int_eq(write_pdf(doc, "floats", path, sizeof path, &d), 0);
    int pages = pdf_pages(path, NULL);
    ck_assert_int_eq(count_images(path), 1);
    assert_words_inside(path);

    /* the figure */
    int fp = page_of(path, pages, "Figure 1. The floating");
    int pre_last = page_of(path, pages, "Pre7.");
    ck_assert_int_gt(fp, 0);
    ck_assert_msg(pre_last == fp - 1, "the text before the figure is on page %d, the figure on %d (a float "
                                      "setup needs them on consecutive pages)", pre_last, fp);
    ck_assert_msg(page_of(path, pages, "After0:") == fp - 1,
                  "the paragraph after the figure did not float onto page %d (it is on %d)", fp - 1,
                  page_of(path, pages, "After0:"));
    /* the caption is the first text of its page, in the top part */
    char *x = page_body(path, fp);
    const char *q = x;
    while (*q == ' ' || *q == '\n') q++;
    ck_assert_msg(!strncmp(q, "Figure 1.", 9), "page %d does not open with the figure: '%.60s'", fp, q);
    int st;
    char *bb = sh(&st, "pdftotext -q -bbox -f %d -l %d '%s' -", fp, fp, path);
    const char *w = strstr(bb, ">Figure<");
    ck_assert_ptr_nonnull(w);
    while (w > bb && strncmp(w, "yMin=\"", 6)) w--;
    double cap_y = atof(w + 6);
    ck_assert_msg(cap_y < 842.0 / 2, "the caption of the floated figure is at y %.1f, not near the top", cap_y);
    free(bb);
    /* it does not float past the next heading, which follows it */
    int hp = page_from(path, pages, "Nextsec heading", fp - 1); /* not the contents' entry */
    ck_assert_int_ge(hp, fp);
    if (hp == fp) ck_assert_ptr_nonnull(strstr(strstr(x, "Figure 1."), "Nextsec heading"));
    free(x);
    char *tx = body_text(path);
    const char *flow_order[] = {"Pre7.", "After0:", "After1:", "After2:", "Nextsec heading", "Closing."};
    assert_in_order(tx, flow_order, 6);
    free(tx);

    /* the table: the header on every page with a row of it */
    int rows_seen = 0, tall_pages = 0;
    for (int pg = 1; pg <= pages; pg++) {
        char *y = page_body(path, pg);
        int rows = 0;
        for (int r = 0; r < NR; r++)
            if (strstr(y, S("Row%02d", r))) rows++;
        int tallp = strstr(y, "tallword") != NULL;
        if (rows || tallp) {
            ck_assert_msg(strstr(y, "HdrAlpha") && strstr(y, "HdrGamma"),
                          "page %d holds table rows but not the header", pg);
            char *after = strstr(y, "HdrAlpha");
            ck_assert_msg(!strstr(y, "Row") || strstr(y, "Row") > after, "page %d: a row above the header", pg);
        }
        rows_seen += rows;
        tall_pages += tallp;
        free(y);
    }
    ck_assert_int_eq(rows_seen, NR);
    ck_assert_msg(tall_pages >= 2, "the tall row should span pages (%d)", tall_pages);
    tx = body_text(path);
    const char *tab_order[] = {"Before the table.", "Row00", "Row39", "Row40", "Tallstart", "Tallend",
                               "Row41", "Row89", "After the table."};
    assert_in_order(tx, tab_order, 9);
    free(tx);
    kiln_diag_free(&d);
    pool_reset();
}
END_TEST

/* Long words, long code lines, a table wider than the page, an empty chapter,
 * a chapter of one heading, characters no font has, broken UTF-8. */
START_TEST(edge_cases)
{
    pool_reset();
    kiln_doc *doc = DOC("Edge cases \xF0\x9F\x98\x80 and \xFF bytes", 4);
    /* 1: empty */
    doc->chapters[0].title = "";
    doc->chapters[0].blocks = NULL;
    /* 2: one heading */
    doc->chapters[1].title = "Only a heading";
    doc->chapters[1].blocks = HEAD(1, "Only a heading", "only");
    /* 3: long things */
    doc->chapters[2].title = "Long things";
    char word[1600];
    for (int i = 0; i < 1500; i++) word[i] = (char)('a' + i % 26);
    word[1500] = 0;
    kiln_block *code = BL(KILN_BL_CODE);
    char cl[3000];
    snprintf(cl, sizeof cl, "short line\n\tindented with a tab\n%s\n\nafter an empty line\n", word);
    code->text = S("%s", cl);
    static const char *hdr[12], *cells[36];
    static int numeric[12];
    for (int j = 0; j < 12; j++) {
        hdr[j] = S("Column header number %d", j + 1);
        numeric[j] = j % 2;
        for (int r = 0; r < 3; r++) cells[r * 12 + j] = j == 5 ? S("%s", word) : S("%d.%04d", r, j * 37);
    }
    kiln_directive *t = DIR(KILN_DIR_TABLE, "wide");
    t->number = 1;
    t->anchor = "table-wide";
    t->caption = TXT("A table far wider than the page.");
    t->table = TABLE(3, 12, hdr, cells, numeric);
    kiln_directive *miss = DIR(KILN_DIR_FIGURE, "missing");
    miss->number = 1;
    miss->anchor = "fig-missing";
    miss->caption = TXT("A figure whose PNG does not exist.");
    miss->image_file = "/nonexistent/kiln/missing.png";
    kiln_block *h1 = HEAD(1, "Long things", "long");
    h1->next = blocks(PARA(chain(TXT("Before "), TXT(S("%s", word)), TXT(" after."), NULL)), code, DIRB(t),
                      DIRB(miss), PARA(TXT("Unknown to every font: \xF0\x9F\x98\x80 \xEE\x80\x80 \xF4\x8F\xBF\xBF; "
                                           "broken UTF-8: \xC3\x28 \xFF\xFE end; control \x01 char.")),
                      NULL);
    doc->chapters[2].blocks = h1;
    /* 4: a heading with nothing after it, at the very end */
    doc->chapters[3].title = "Ends with a heading";
    doc->chapters[3].blocks = blocks(HEAD(1, "Ends with a heading", "ends"), PARA(TXT("Text.")),
                                     HEAD(2, "The last heading", "last"), NULL);
    char path[256];
    kiln_diag d = {0};
    ck_assert_int_eq(write_pdf(doc, "edges", path, sizeof path, &d), 0);
    ck_assert_msg(d.n_warnings >= 2, "expected warnings for the missing figure and the replaced characters");
    ck_assert_ptr_nonnull(strstr(d.text, "replacement character"));
    int pages = pdf_pages(path, NULL);
    ck_assert_int_ge(pages, 6);
    char *tx = body_text(path);
    ck_assert_ptr_nonnull(strstr(tx, "Only a heading"));
    ck_assert_ptr_nonnull(strstr(tx, "01-ch")); /* an empty chapter is named by its file */
    ck_assert_ptr_nonnull(strstr(tx, "Unknown to every font: \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD;"));
    ck_assert_ptr_nonnull(strstr(tx, "end; control \xEF\xBF\xBD char."));
    ck_assert_ptr_nonnull(strstr(tx, "Column"));
    ck_assert_ptr_nonnull(strstr(tx, "The last heading"));
    free(tx);
    assert_words_inside(path);
    assert_fonts_embedded(path, 3);
    kiln_diag_free(&d);
    pool_reset();
}
END_TEST

/* ---- page breaks: listing tails, the contents' pages ------------------------------------ */

/* kiln_pdf_page_hook's report of the last write. */
static kiln_pdf_page_stat page_stat[512];
static int n_page_stat;
static void on_pages(const kiln_pdf_page_stat *pg, int n, void *user)
{
    (void)user;
    n_page_stat = n < 512 ? n : 512;
    memcpy(page_stat, pg, sizeof *pg * (size_t)n_page_stat);
}

/* No page holds only the end of a listing; contents pages hold at least
 * min_toc entries each. */
static void assert_pages_sound(const char *what, int min_toc)
{
    ck_assert_int_gt(n_page_stat, 0);
    for (int i = 0; i < n_page_stat; i++) {
        const kiln_pdf_page_stat *s = &page_stat[i];
        ck_assert_msg(!s->listing_tail, "%s: page %d holds only the last %d lines of a listing", what, i + 1,
                      s->listing_items);
        if (s->part == 1)
            ck_assert_msg(s->toc_entries >= min_toc, "%s: contents page %d lists %d entries", what, i + 1,
                          s->toc_entries);
    }
}

/* A chapter whose last listing does not fit under its text: wherever the
 * break falls, the listing's end never sits alone on a page before the next
 * chapter (the listing moves whole, with the line introducing it); followed
 * by a paragraph, it still breaks, two lines or more on each side. */
START_TEST(listing_tails)
{
    kiln_pdf_page_hook = on_pages;
    char code[2048] = "";
    for (int k = 0; k < 22; k++) strcat(code, k ? "key_number = value\n" : "# the configuration\n");
    int moved = 0, split = 0;
    for (int tail = 0; tail < 2; tail++)
        for (int n = 26; n < 50; n++) {
            pool_reset();
            kiln_doc *doc = DOC("Listings", 2);
            kiln_block *first = HEAD(1, "Listings", "listings"), *last = first;
            for (int k = 0; k < n; k++) {
                last->next = PARA(TXT(S("Line%d of one line.", k)));
                last = last->next;
            }
            last->next = PARA(TXT("The configuration that ran:"));
            last = last->next;
            kiln_block *cb = BL(KILN_BL_CODE);
            cb->text = code;
            last->next = cb;
            last = last->next;
            if (tail) last->next = PARA(TXT("Closing words after the listing."));
            doc->chapters[0].blocks = first;
            doc->chapters[0].title = "Listings";
            doc->chapters[1].title = "Next";
            doc->chapters[1].blocks = blocks(HEAD(1, "Next", "next"), PARA(TXT("Text.")), NULL);
            char path[256];
            kiln_diag d = {0};
            n_page_stat = 0;
            ck_assert_int_eq(write_pdf(doc, "listings", path, sizeof path, &d), 0);
            kiln_diag_free(&d);
            assert_pages_sound(S("%d lines, %s", n, tail ? "then a paragraph" : "then a chapter"), 1);
            /* the body pages with listing lines */
            int with = 0, first_pg = -1;
            for (int i = 0; i < n_page_stat; i++)
                if (page_stat[i].listing_items) { with++; if (first_pg < 0) first_pg = i; }
            ck_assert_int_ge(with, 1);
            if (with > 1) {
                split++;
                ck_assert_msg(tail, "%d lines: the listing before a chapter was split", n);
                ck_assert_int_ge(page_stat[first_pg].listing_items, 3);     /* padding + 2 lines */
                ck_assert_int_ge(page_stat[first_pg + 1].listing_items, 3);
            }
            if (!tail && with == 1 && page_stat[first_pg].items == page_stat[first_pg].listing_items + 2) {
                /* the listing and its introduction (one line, and the one
                 * keeping with it) opened the page */
                moved++;
                char *x = page_body(path, first_pg + 1);
                const char *q = x;
                while (*q == ' ' || *q == '\n') q++;
                ck_assert_msg(!strncmp(q, "Line", 4) || !strncmp(q, "The configuration", 17), "page %d: '%.40s'",
                              first_pg + 1, q);
                ck_assert_ptr_nonnull(strstr(x, "The configuration that ran:"));
                free(x);
            }
        }
    ck_assert_msg(moved > 0, "no case moved a listing to the next page");
    ck_assert_msg(split > 0, "no case split a listing followed by a paragraph");
    kiln_pdf_page_hook = NULL;
    pool_reset();
}
END_TEST

/* A chapter whose text ends a line or two into a page: the break moves back
 * so that its last page holds more (four lines' height; three lines or more
 * were left as they fell). */
START_TEST(short_chapter_tails)
{
    kiln_pdf_page_hook = on_pages;
    int seen = 0;
    for (int n = 24; n < 44; n++) {
        pool_reset();
        kiln_doc *doc = DOC("Tails", 2);
        kiln_block *first = HEAD(1, "Tails", "tails"), *last = first;
        for (int k = 0; k < n; k++) {
            last->next = PARA(TXT(S("Line%d of one line.", k)));
            last = last->next;
        }
        doc->chapters[0].blocks = first;
        doc->chapters[0].title = "Tails";
        doc->chapters[1].title = "Next";
        doc->chapters[1].blocks = blocks(HEAD(1, "Next", "next"), PARA(TXT("Text.")), NULL);
        char path[256];
        kiln_diag d = {0};
        n_page_stat = 0;
        ck_assert_int_eq(write_pdf(doc, "tails", path, sizeof path, &d), 0);
        kiln_diag_free(&d);
        int pages = pdf_pages(path, NULL);
        int next = page_of(path, pages, "Chapter 2");
        ck_assert_int_gt(next, 1);
        const kiln_pdf_page_stat *s = &page_stat[next - 2];
        ck_assert_int_eq(s->part, 2);
        if (page_of(path, pages, "Line0 ") < next - 1) {
            seen++;
            ck_assert_msg(s->items >= 3, "%d lines: the chapter's last page holds %d", n, s->items);
        }
    }
    ck_assert_msg(seen > 8, "only %d cases ran over a page", seen);
    kiln_pdf_page_hook = NULL;
    pool_reset();
}
END_TEST

/* Contents of a little more than a page: its pages hold about as many
 * entries each, never one or two on the last. */
START_TEST(contents_balanced)
{
    kiln_pdf_page_hook = on_pages;
    int two = 0;
    for (int n = 36; n < 60; n += 2) {
        pool_reset();
        kiln_doc *doc = DOC("Contents", 1);
        kiln_block *first = HEAD(1, "Many sections", "many"), *last = first;
        for (int k = 0; k < n; k++) {
            last->next = blocks(HEAD(2, S("Section %d", k), S("sec%d", k)), PARA(TXT("Text.")), NULL);
            while (last->next) last = last->next;
        }
        doc->chapters[0].blocks = first;
        doc->chapters[0].title = "Many sections";
        char path[256];
        kiln_diag d = {0};
        n_page_stat = 0;
        ck_assert_int_eq(write_pdf(doc, "contents", path, sizeof path, &d), 0);
        kiln_diag_free(&d);
        int pages = 0, lo = 1 << 30, hi = 0, total = 0;
        for (int i = 0; i < n_page_stat; i++)
            if (page_stat[i].part == 1) {
                pages++;
                total += page_stat[i].toc_entries;
                if (page_stat[i].toc_entries < lo) lo = page_stat[i].toc_entries;
                if (page_stat[i].toc_entries > hi) hi = page_stat[i].toc_entries;
            }
        ck_assert_int_eq(total, n + 2); /* the sections, the chapter, the appendix */
        if (pages < 2) continue;
        two++;
        /* filled alike by height: the first page also holds the heading */
        ck_assert_msg(lo >= 8 && 3 * lo >= 2 * hi, "%d sections: contents pages of %d and %d entries", n, hi, lo);
    }
    ck_assert_msg(two > 0, "no case needed two contents pages");
    kiln_pdf_page_hook = NULL;
    pool_reset();
}
END_TEST

/* The article of this repository, built from a copy of its committed cache
 * (nothing trains): no page holds only a listing's end, its contents pages
 * are filled alike, and the catalog records the language. */
START_TEST(real_article)
{
    if (!test_committed_cache_is_ours()) return;
    kiln_pdf_page_hook = on_pages;
    int st;
    free(sh(&st, "cp -a content/cache '%s/cache'", tmpdir));
    ck_assert_int_eq(st, 0);
    kiln_build_opts o = {0};
    o.content_dir = "content";
    o.out_dir = S("%s/out", tmpdir);
    o.cache_dir = S("%s/cache", tmpdir);
    o.template_dir = "templates";
    o.data_dir = test_data_dir();
    o.no_run = 1;
    o.quiet = 1;
    kiln_diag d = {0};
    kiln_build_stats bs;
    n_page_stat = 0;
    int rc = kiln_report_build(&o, &bs, &d);
    ck_assert_msg(rc == 0, "the article's build failed: %s", d.text ? d.text : "");
    kiln_diag_free(&d);
    const char *pdf = S("%s/out/report.pdf", tmpdir);
    keep_copy(pdf, "real-article");
    ck_assert_int_eq(pdf_pages(pdf, NULL), n_page_stat);
    int toc = 0;
    for (int i = 0; i < n_page_stat; i++) toc += page_stat[i].part == 1;
    ck_assert_int_ge(toc, 2);
    assert_pages_sound("the article", 12);
    size_t len;
    char *bytes = test_read_file(pdf, &len);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_ptr_nonnull(memmem(bytes, len, "/Lang (en)", 10));
    free(bytes);
    /* the title page from index.md's front matter */
    char *info, *t = sh(&st, "pdftotext -q -l 1 '%s' - | tr -s ' \\n' '  '", pdf);
    static const char *const title_page[] = {"Fixed and decaying learning rates, measured", "The kiln authors",
                                             "3 December 2026", "Abstract", "How large a step should gradient descent take?",
                                             "Build date", "Trainer fingerprint"};
    for (size_t i = 0; i < sizeof title_page / sizeof *title_page; i++)
        ck_assert_msg(strstr(t, title_page[i]), "'%s' not on the title page: %s", title_page[i], t);
    ck_assert_ptr_null(strstr(t, "TECHNICAL REPORT"));
    free(t);
    pdf_pages(pdf, &info);
    ck_assert_msg(strstr(info, "Author:          The kiln authors"), "%s", info);
    free(info);
    kiln_pdf_page_hook = NULL;
    pool_reset();
}
END_TEST

/* A document with no chapters at all, and an unwritable path. */
START_TEST(degenerate)
{
    pool_reset();
    kiln_doc *doc = DOC("", 0);
    char path[256];
    kiln_diag d = {0};
    ck_assert_int_eq(write_pdf(doc, "nothing", path, sizeof path, &d), 0);
    ck_assert_int_ge(pdf_pages(path, NULL), 3);
    add_appendix(doc);
    ck_assert_int_eq(kiln_pdf_write(doc, "/nonexistent/dir/x.pdf", &d), KILN_REPORT_EFAIL);
    drop_appendix(doc);
    ck_assert_ptr_nonnull(d.text);
    kiln_diag_free(&d);
    pool_reset();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pdf");
    TCase *tc = tcase_create("pdf");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, markdown_fixture);
    tcase_add_test(tc, article_model);
    tcase_add_test(tc, heading_keeps);
    tcase_add_test(tc, edge_cases);
    tcase_add_test(tc, floats_and_long_tables);
    tcase_add_test(tc, degenerate);
    tcase_add_test(tc, listing_tails);
    tcase_add_test(tc, contents_balanced);
    tcase_add_test(tc, short_chapter_tails);
    tcase_add_test(tc, real_article);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(suite()); }
