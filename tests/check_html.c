/* The HTML writer (src/html): escaping, raw HTML, template placeholders,
 * every page of a site parsed by libxml2 with its links and images, the
 * pages' contents lists, the search index, and the article's headings and
 * alt texts. */
#include "kiln/plot.h"
#include "kiln/report.h"
#include "resolve/resolve.h" /* kr_figure_run_color */
#include "run/run.h" /* kr_thread_share */
#include "testreport.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* CONTENT/records/NAME.txt (kiln diff's text): listed in the appendix with
 * its summary line and linked, copied into the site; other names there are
 * left alone, and a record without a summary shows its first line. */
START_TEST(test_records_in_appendix)
{
    char dir[64], out[128], p[256];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_text(dir, "index.md", "# Records\n\nSummary.\n");
    write_text(dir, "01-a.md", "# A\n\nText.\n");
    snprintf(p, sizeof p, "%s/records", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_text(dir, "records/2026-12-03-trainer.txt",
               "kiln diff: OLD (old) -> NEW (new)\n  trainer a -> b\n\n5 runs: 5 identical, 0 within noise, 0 changed\n");
    write_text(dir, "records/a-note.txt", "a first line\nno summary here\n");
    write_text(dir, "records/skipped name.txt", "ignored: a space in the name\n");
    write_text(dir, "records/notes.md", "ignored: not .txt\n");
    kiln_build_opts o = quiet_opts();
    o.content_dir = dir;
    o.out_dir = out;
    kiln_diag d = {0};
    kiln_build_stats st;
    ck_assert_msg(kiln_report_build(&o, &st, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    snprintf(p, sizeof p, "%s/appendix.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "id=\"records-of-changes\""));
    const char *a = strstr(html, "<a href=\"records/2026-12-03-trainer.txt\"><code>2026-12-03-trainer.txt</code></a></dt><dd>5 runs: 5 identical");
    const char *b = strstr(html, "<a href=\"records/a-note.txt\"><code>a-note.txt</code></a></dt><dd>a first line</dd>");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert(a < b); /* in name order: digits sort before letters */
    /* the appendix names the cache folder without the build machine's path */
    ck_assert_ptr_nonnull(strstr(html, "<code>CACHE/KEY.json</code>"));
    ck_assert_ptr_null(strstr(html, dir));
    ck_assert_ptr_null(strstr(html, "skipped"));
    ck_assert_ptr_null(strstr(html, "notes.md"));
    free(html);
    snprintf(p, sizeof p, "%s/records/2026-12-03-trainer.txt", out);
    char *copy = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(copy);
    ck_assert_ptr_nonnull(strstr(copy, "5 runs: 5 identical"));
    free(copy);
    snprintf(p, sizeof p, "%s/records/notes.md", out);
    ck_assert_int_ne(access(p, F_OK), 0);
}
END_TEST

START_TEST(test_escaping_and_raw_html)
{
    char dir[64], out[128];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_text(dir, "index.md", "# A 1 < 2 & <i>x</i>\n\nSummary <script>alert(1)</script> and [x](https://example.org/?a=1&b=2).\n\n<div class=\"raw\">raw block</div>\n");
    write_text(dir, "01-c.md", "# Chapter <b>one</b>\n\nText with `<code>` and <span class=\"raw\">inline html</span>.\n\n[next](02-d.md)\n");
    write_text(dir, "02-d.md", "# Two\n\n[back](01-c.md#chapter-one)\n");
    kiln_build_opts o = quiet_opts();
    o.content_dir = dir;
    o.out_dir = out;
    kiln_diag d = {0};
    kiln_build_stats st;
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    ck_assert_ptr_nonnull(strstr(d.text, "--allow-html"));
    kiln_diag_free(&d);
    char p[256];
    snprintf(p, sizeof p, "%s/index.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_null(strstr(html, "<script>alert")); /* the layout has a script of its own (the theme) */
    ck_assert_ptr_null(strstr(html, "javascript:"));
    ck_assert_ptr_null(strstr(html, "<div class=\"raw\">"));
    ck_assert_ptr_nonnull(strstr(html, "A 1 &lt; 2 &amp; "));
    ck_assert_ptr_null(strstr(html, "<i>x</i>"));
    free(html);
    snprintf(p, sizeof p, "%s/01-c.html", out);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "<code>&lt;code&gt;</code>"));
    ck_assert_ptr_null(strstr(html, "<span class=\"raw\">"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"02-d.html\""));
    free(html);
    /* with --allow-html the raw HTML passes, but never a script */
    o.allow_html = 1;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "index.md:3: raw HTML '<script>' refused: it holds an element that runs or loads code"), "%s", d.text);
    kiln_diag_free(&d);
    write_text(dir, "index.md", "# A 1 < 2 & <i>x</i>\n\nSummary and [x](https://example.org/?a=1&b=2).\n\n<div class=\"raw\">raw block</div>\n");
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    kiln_diag_free(&d);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "<span class=\"raw\">"));
    free(html);
}
END_TEST

START_TEST(test_err_template_placeholder)
{
    char dir[64], tdir[128], out[128];
    test_tmpdir(dir);
    snprintf(tdir, sizeof tdir, "%s/templates", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(tdir, 0777);
    write_text(tdir, "layout.html", "<!DOCTYPE html>\n<title>{{title}}</title>\n<body>\n{{contnet}}\n</body>\n");
    write_text(tdir, "style.css", "body{}\n");
    write_text(dir, "index.md", "# T\n\nS.\n");
    write_text(dir, "01-c.md", "# C\n\nText.\n");
    kiln_build_opts o = quiet_opts();
    o.content_dir = dir;
    o.out_dir = out;
    o.template_dir = tdir;
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_report_build(&o, NULL, &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "layout.html:4: unknown placeholder '{{contnet}}'"), "%s", d.text);
    ck_assert_ptr_nonnull(strstr(d.text, "accepted: title, site_title"));
    kiln_diag_free(&d);
}
END_TEST

START_TEST(test_html_parses_and_links)
{
    char dir[64], content[128], out[128];
    test_paths(dir, content, sizeof content, out, sizeof out, NULL, 0);
    char *html = build_chapter(content, out, "Links: [appendix](appendix.html), [home](index.md).");
    ck_assert_int_eq(check_site(out), 3); /* index, chapter, appendix */
    char p[256];
    ck_assert_ptr_nonnull(strstr(html, "<a class=\"ref\" href=\"#fig-curves\">Figure 1</a>"));
    ck_assert_ptr_nonnull(strstr(html, "<a class=\"ref\" href=\"#table-both\">Table 1</a>"));
    ck_assert_ptr_nonnull(strstr(html, "Test loss: "));
    ck_assert_ptr_null(strstr(html, "{{"));
    free(html);
    snprintf(p, sizeof p, "%s/results.json", out);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "\"test_accuracy\""));
    free(html);
    snprintf(p, sizeof p, "%s/img/curves.png", out);
    struct stat s;
    ck_assert_int_eq(stat(p, &s), 0);
}
END_TEST

/* a PNG read back as 8-bit RGB (malloc'd), its size in pixels */
static unsigned char *read_rgb(const char *path, int *w, int *h)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&im, path), "%s: %s", path, im.message);
    im.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(im));
    ck_assert_msg(png_image_finish_read(&im, NULL, px, 0, NULL), "%s: %s", path, im.message);
    *w = (int)im.width, *h = (int)im.height;
    return px;
}

/* a figure's four images (light, -dark, -narrow, -narrow-dark) and the
 * <picture> that offers them: the sizes the <source>s say are the files'
 * (at scale 2), a dark image's background is the dark page colour and most
 * of it is dark, a light one's white; the page has the theme toggle and the
 * script that sets the theme before the page is drawn */
START_TEST(test_figure_variants)
{
    char dir[64], content[128], out[128];
    test_paths(dir, content, sizeof content, out, sizeof out, NULL, 0);
    char *html = build_chapter(content, out, "Figures in four variants.");
    char p[256];
    const char *fig = strstr(html, "<figure class=\"figure\" id=\"fig-curves\">\n<picture>\n");
    ck_assert_ptr_nonnull(fig);
    int nh = 0;
    const char *src = strstr(fig, "<source data-dark=\"screen and (max-width: 560px)\" media=\"screen and "
                                  "(prefers-color-scheme: dark) and (max-width: 560px)\" srcset=\"img/curves-narrow-dark.png\" "
                                  "width=\"400\" height=\"");
    ck_assert_msg(src == fig + strlen("<figure class=\"figure\" id=\"fig-curves\">\n<picture>\n"), "%.900s", fig);
    ck_assert_int_eq(sscanf(strstr(src, "height=\"") + 8, "%d", &nh), 1);
    ck_assert_int_ge(nh, 300); /* the legend below the plot makes it taller */
    char want[1024];
    snprintf(want, sizeof want,
             "height=\"%d\">\n<source media=\"(max-width: 560px)\" srcset=\"img/curves-narrow.png\" width=\"400\" height=\"%d\">\n"
             "<source data-dark=\"screen\" media=\"screen and (prefers-color-scheme: dark)\" srcset=\"img/curves-dark.png\" "
             "width=\"720\" height=\"420\">\n<img src=\"img/curves.png\" width=\"720\" height=\"420\" loading=\"lazy\" alt=\"",
             nh, nh);
    ck_assert_msg(strstr(src, want) != NULL, "%.900s", fig);
    /* the toggle (shown by kiln.js) and the theme set in <head>, before the body */
    const char *body = strstr(html, "<body>");
    ck_assert_ptr_nonnull(strstr(html, "<label class=\"theme\" hidden>"));
    const char *set = strstr(html, "localStorage.getItem('kiln-theme')");
    ck_assert_msg(set && body && set < body, "the theme is not set in <head>");
    free(html);
    static const struct { const char *suffix; int w, h, dark; } var[4] = {
        {"", 720, 420, 0}, {"-dark", 720, 420, 1}, {"-narrow", 400, 0, 0}, {"-narrow-dark", 400, 0, 1}};
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/img/curves%s.png", out, var[k].suffix);
        int w, h;
        unsigned char *px = read_rgb(p, &w, &h);
        ck_assert_int_eq(w, 2 * var[k].w);
        ck_assert_int_eq(h, 2 * (var[k].h ? var[k].h : nh));
        uint32_t corner = (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2];
        ck_assert_msg(corner == (var[k].dark ? KILN_DARK_BG : 0xFFFFFFu), "%s: background %06x", p, (unsigned)corner);
        double lum = 0;
        for (long i = 0; i < (long)w * h; i++)
            lum += (0.2126 * px[3 * i] + 0.7152 * px[3 * i + 1] + 0.0722 * px[3 * i + 2]) / 255;
        lum /= (double)w * h;
        ck_assert_msg(var[k].dark ? lum < 0.15 : lum > 0.85, "%s: mean luminance %.3f", p, lum);
        free(px);
    }
}
END_TEST

/* The reproducibility appendix is a chapter of the resolved document: its
 * title, the build's facts, a section per run the article uses (heading
 * run-ID, facts, settings) and the runs only declared; the HTML writer
 * renders those blocks and nothing of its own. */
START_TEST(test_appendix_is_a_resolved_chapter)
{
    const char *md = "# T\n\n```{experiment} a\nlabel = run a\nepochs = 1\n```\n\n"
                     "```{experiment} b\nbase = a\n```\n\n```{result} a\n```\n";
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_int_eq(load_text(md, &doc, &d), 0);
    ck_assert_int_eq(kiln_doc_resolve(doc, NULL, &d), 0);
    const kiln_chapter *a = doc->appendix;
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->index, doc->n_chapters);
    ck_assert_str_eq(a->page, "appendix.html");
    const kiln_block *b = a->blocks;
    ck_assert_int_eq(b->kind, KILN_BL_HEADING);
    ck_assert_str_eq(b->anchor, "reproducibility-appendix");
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_PARAGRAPH);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_FACTS);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_SECTION); /* a, the one run needed */
    ck_assert_str_eq(b->children->anchor, "run-a");
    ck_assert_int_eq(b->children->next->kind, KILN_BL_FACTS);
    ck_assert_int_eq(b->children->next->next->directive->kind, KILN_DIR_CONFIG);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_PARAGRAPH); /* b: declared, not trained */
    ck_assert_ptr_null(b->next);
    char dir[64];
    test_tmpdir(dir);
    ck_assert_int_eq(kiln_html_write(doc, dir, &d), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/appendix.html", dir);
    char *html = test_read_file(path, NULL);
    ck_assert_ptr_nonnull(html);
    static const char *const order[] = {
        "<h1 id=\"reproducibility-appendix\">Reproducibility appendix</h1>", "Rebuild with <code>make report</code>",
        "<dl class=\"facts\">\n<dt>Trainer fingerprint</dt>", "<section class=\"run\">\n<h2 id=\"run-a\"><code>a</code> (run a)",
        "<dt>History</dt><dd><a href=\"runs/a.json\">a.json</a> (every epoch and step)</dd>",
        "<pre class=\"config\"><code>", "</section>", "Declared but not trained", "<code>b</code>.</p>"};
    const char *at = html;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const char *f = strstr(at, order[i]);
        ck_assert_msg(f, "'%s' not found (in order) in: %s", order[i], html);
        at = f + strlen(order[i]);
    }
    free(html);
    kiln_diag_free(&d);
    kiln_doc_free(doc);
}
END_TEST

/* ---- the contents of a page, the search index, headings and alt text ----------------------- */

/* the headings of a parsed page in order: "2 id" per heading into b */
static void heading_list(xmlNode *n, sbuf *b)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        const char *e = (const char *)n->name;
        if (e[0] == 'h' && e[1] >= '1' && e[1] <= '6' && !e[2]) {
            xmlChar *id = xmlGetProp(n, (const xmlChar *)"id");
            sb_printf(b, "%c %s\n", e[1], id ? (const char *)id : "");
            xmlFree(id);
        }
        heading_list(n->children, b);
    }
}

static xmlNode *find_class(xmlNode *n, const char *elem, const char *cls)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        xmlChar *c = xmlGetProp(n, (const xmlChar *)"class");
        int hit = !xmlStrcmp(n->name, (const xmlChar *)elem) && c && !strcmp((const char *)c, cls);
        xmlFree(c);
        if (hit) return n;
        xmlNode *in = find_class(n->children, elem, cls);
        if (in) return in;
    }
    return NULL;
}

/* the contents list of a page (ol.sections) as "DEPTH #anchor TEXT" lines,
   depth 1 for its items, 2 for the lists in them */
static void sections_list(xmlNode *ol, int depth, sbuf *b)
{
    for (xmlNode *li = ol ? ol->children : NULL; li; li = li->next) {
        if (li->type != XML_ELEMENT_NODE) continue;
        ck_assert_str_eq((const char *)li->name, "li");
        for (xmlNode *c = li->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE) continue;
            if (!xmlStrcmp(c->name, (const xmlChar *)"a")) {
                xmlChar *h = xmlGetProp(c, (const xmlChar *)"href"), *t = xmlNodeGetContent(c);
                sb_printf(b, "%d %s %s\n", depth, (const char *)h, (const char *)t);
                xmlFree(h);
                xmlFree(t);
            } else if (!xmlStrcmp(c->name, (const xmlChar *)"ol")) {
                sections_list(c, depth + 1, b);
            }
        }
    }
}

static htmlDocPtr parse_page(const char *dir, const char *page)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, page);
    htmlDocPtr doc = htmlReadFile(p, "utf-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    ck_assert_msg(doc != NULL, "%s does not parse", p);
    return doc;
}

/* DIR/search-index.js: kilnIndex(JSON); checked and the JSON returned */
static json_t *load_index(const char *dir, size_t *size)
{
    char p[512];
    snprintf(p, sizeof p, "%s/search-index.js", dir);
    size_t n = 0;
    char *js = test_read_file(p, &n);
    ck_assert_ptr_nonnull(js);
    ck_assert_msg(n > 13 && !strncmp(js, "kilnIndex(", 10) && !strcmp(js + n - 3, ");\n"), "%s is not kilnIndex(...);", p);
    json_error_t je;
    json_t *ix = json_loadb(js + 10, n - 13, 0, &je);
    ck_assert_msg(ix != NULL, "%s: not JSON: %s at %d", p, je.text, je.position);
    ck_assert(json_is_array(json_object_get(ix, "pages")));
    ck_assert(json_is_array(json_object_get(ix, "sections")));
    free(js);
    if (size) *size = n;
    return ix;
}

/* the index's section (page, anchor): its text, or NULL; every section is
   checked to be well formed on the way, its text free of markup */
static const char *index_text(json_t *ix, const char *page, const char *anchor, const char **heading)
{
    json_t *pages = json_object_get(ix, "pages"), *s;
    size_t i;
    const char *found = NULL;
    json_array_foreach(json_object_get(ix, "sections"), i, s) {
        json_int_t pi = json_integer_value(json_object_get(s, "page"));
        ck_assert(json_is_integer(json_object_get(s, "page")) && pi >= 0 && (size_t)pi < json_array_size(pages));
        const char *pg = json_string_value(json_object_get(json_array_get(pages, (size_t)pi), "page"));
        const char *a = json_string_value(json_object_get(s, "anchor"));
        const char *h = json_string_value(json_object_get(s, "heading"));
        const char *t = json_string_value(json_object_get(s, "text"));
        ck_assert(pg && a && a[0] && h && h[0] && t);
        static const char *const markup[] = {"<em>", "<code", "<a ", "</", "<span", "<math", "&amp;", "&lt;", "&#", "  ", "\n"};
        for (size_t k = 0; k < sizeof markup / sizeof *markup; k++)
            ck_assert_msg(!strstr(t, markup[k]) && !strstr(h, markup[k]), "section %s#%s holds '%s': %s", pg, a, markup[k], t);
        if (!strcmp(pg, page) && !strcmp(a, anchor)) {
            ck_assert_msg(!found, "%s#%s twice in the index", page, anchor);
            found = t;
            if (heading) *heading = h;
        }
    }
    return found;
}

START_TEST(test_contents_and_search_index)
{
    char dir[64], content[128], out[128];
    test_paths(dir, content, sizeof content, out, sizeof out, NULL, 0);
    mkdir(content, 0777);
    write_text(content, "index.md", "# Tiny\n\nThe summary.\n\n## About this\n\nFront words.\n");
    write_text(content, "01-one.md",
               "# Chapter one\n\nIntro with *emphasis* and <b>raw</b> HTML.\n\n"
               "## First part\n\nAlpha text, `code words` and $x^2$ math.[^n]\n\n[^n]: A footnote.\n\n"
               "### A detail\n\nBeta text.\n\n#### Deeper\n\nGamma text (an h4: in the detail's section, not listed).\n\n"
               "```{experiment} stepped\nschedule = step\nstep_drop = 0.5\nstep_every = 1\nepochs = 3\n```\n\n"
               "```{figure} sched\nkind = schedule\nruns = stepped\nper = epoch\ncaption = The *stepped* rate, "
               "halved each epoch.\n```\n\n"
               "## Second part with `code`\n\n> [!NOTE]\n> Delta in a callout.\n\n| a | b |\n|---|---|\n| epsilon | 2 |\n");
    write_text(content, "02-two.md", "# Chapter two\n\n## Other part\n\nZeta.\n");
    kiln_build_stats st;
    kiln_diag d;
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    check_site(out);

    /* the chapter's contents: its h2s, each with its h3s, no h4; another
       chapter's sections not there, none on the front page */
    htmlDocPtr doc = parse_page(out, "01-one.html");
    sbuf b = {0};
    sections_list(find_class(xmlDocGetRootElement(doc), "ol", "sections"), 1, &b);
    ck_assert_str_eq(b.s, "1 #first-part First part\n2 #a-detail A detail\n1 #second-part-with-code Second part with code\n");
    sb_free(&b);
    xmlFreeDoc(doc);
    char *html = test_read_file(strcat(strcpy((char[256]){0}, out), "/01-one.html"), NULL);
    ck_assert_ptr_null(strstr(html, "#other-part"));
    ck_assert_ptr_nonnull(strstr(html, "<script src=\"kiln.js\" defer></script>"));
    ck_assert_ptr_nonnull(strstr(html, "<form class=\"search\" role=\"search\" hidden>"));
    /* the site's own pages link it from where they are ({{root}} is "") */
    ck_assert_ptr_nonnull(strstr(html, "<a class=\"home\" href=\"index.html\">"));
    ck_assert_ptr_nonnull(strstr(html, "<link rel=\"stylesheet\" href=\"style.css\">"));
    /* a run's settings: a <details> holding pre.config, which the print
       style (and kiln.js at beforeprint) opens */
    const char *run = strstr(html, "<details class=\"experiment\" id=\"run-stepped\"><summary>Experiment <code>stepped</code>");
    ck_assert_msg(run && strstr(run, "<pre class=\"config\"><code>"), "%s", html);
    ck_assert(strstr(run, "</summary>\n<pre class=\"config\">") && strstr(run, "</code></pre></details>"));
    /* the figure's alt text is its caption as plain text */
    ck_assert_msg(strstr(html, "alt=\"The stepped rate, halved each epoch.\""), "%s", html);
    free(html);
    html = test_read_file(strcat(strcpy((char[256]){0}, out), "/index.html"), NULL);
    ck_assert_ptr_null(strstr(html, "class=\"sections\""));
    free(html);
    char p[256];
    snprintf(p, sizeof p, "%s/kiln.js", out);
    ck_assert_int_eq(access(p, R_OK), 0);

    /* the index: every page, every section once, plain text where it belongs */
    json_t *ix = load_index(out, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(ix, "pages")), 4); /* index, two chapters, appendix */
    const char *h = NULL, *t = index_text(ix, "01-one.html", "chapter-one", &h);
    ck_assert_str_eq(h, "Chapter one");
    ck_assert_str_eq(t, "Intro with emphasis and raw HTML."); /* the tags left out */
    /* a footnote's text in the section that refers to it (it was the last section's) */
    ck_assert_str_eq(index_text(ix, "01-one.html", "first-part", NULL), "Alpha text, code words and x² math. A footnote.");
    t = index_text(ix, "01-one.html", "a-detail", NULL);
    ck_assert_msg(t && strstr(t, "Beta text. Deeper Gamma text") && strstr(t, "Figure 1. The stepped rate, halved each epoch."),
                  "%s", t);
    ck_assert_msg(!strstr(t, "step_drop"), "run settings in the index: %s", t);
    index_text(ix, "01-one.html", "second-part-with-code", &h);
    ck_assert_str_eq(h, "Second part with code");
    ck_assert_str_eq(index_text(ix, "01-one.html", "second-part-with-code", NULL), "Delta in a callout. a b epsilon 2");
    ck_assert_str_eq(index_text(ix, "02-two.html", "other-part", NULL), "Zeta.");
    ck_assert_str_eq(index_text(ix, "index.html", "top", NULL), "The summary.");
    ck_assert_str_eq(index_text(ix, "index.html", "about-this", NULL), "Front words.");
    ck_assert_str_eq(index_text(ix, "index.html", "chapters", NULL), "Chapter one Chapter two Reproducibility appendix");
    ck_assert_ptr_nonnull(index_text(ix, "appendix.html", "reproducibility-appendix", NULL));
    ck_assert_ptr_null(index_text(ix, "01-one.html", "deeper", NULL));
    json_decref(ix);
}
END_TEST

/* letters only, lower case: what an alt text and a caption set as HTML (its
   math as MathML) share */
static void letters(const char *s, sbuf *b)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) sb_addc(b, (char)(*s | 0x20));
}

/* the first element named `name` at or under n and its siblings, depth first */
static xmlNode *find_element(xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (!xmlStrcmp(n->name, (const xmlChar *)name)) return n;
        xmlNode *f = find_element(n->children, name);
        if (f) return f;
    }
    return NULL;
}

/* the figures of a page: each image's alt text is its caption's */
static int check_figures(xmlNode *n, const char *page)
{
    int seen = 0;
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        xmlChar *cls = xmlGetProp(n, (const xmlChar *)"class");
        if (!xmlStrcmp(n->name, (const xmlChar *)"figure") && cls && !strcmp((const char *)cls, "figure")) {
            xmlNode *img = NULL, *cap = NULL;
            for (xmlNode *c = n->children; c; c = c->next) {
                if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, (const xmlChar *)"img")) img = c;
                /* the image is in a <picture>, after its dark and narrow <source>s
                   (which libxml2's HTML 4 parser, not knowing <source> is
                   void, nests in each other) */
                if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, (const xmlChar *)"picture"))
                    img = find_element(c->children, "img");
                if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, (const xmlChar *)"figcaption")) cap = c;
            }
            ck_assert_msg(img && cap, "%s: a figure without its image or caption", page);
            xmlChar *alt = xmlGetProp(img, (const xmlChar *)"alt"), *ct = xmlNodeGetContent(cap);
            const char *c = strchr((const char *)ct, '.'); /* after "Figure N." */
            sbuf a = {0}, k = {0};
            letters((const char *)alt, &a);
            letters(c ? c + 1 : "", &k);
            ck_assert_msg(a.len > 10 && k.len && !strcmp(a.s, k.s), "%s: alt '%s' is not the caption '%s'", page,
                          (const char *)alt, (const char *)ct);
            sb_free(&a);
            sb_free(&k);
            xmlFree(alt);
            xmlFree(ct);
            seen++;
        }
        xmlFree(cls);
        seen += check_figures(n->children, page);
    }
    return seen;
}

/* The article itself, built from the committed results (a copy of the
 * cache; the release build's trainer only, whose results they are): on
 * every page one h1 and no heading level skipped, every figure's alt text
 * its caption, every chapter's contents listing each of its h2 and h3, and
 * each of those in the search index, whose size stays small. */
START_TEST(test_article_headings_alt_and_index)
{
    json_error_t je;
    json_t *man = json_load_file("content/cache/manifest/build.json", 0, &je);
    ck_assert_msg(man != NULL, "content/cache/manifest/build.json: %s", je.text);
    int same = !strcmp(json_string_value(json_object_get(man, "trainer")), kiln_trainer_fingerprint());
    json_decref(man);
    if (!same) {
        printf("committed cache: another trainer's results (a different build mode): the article is not checked here\n");
        return;
    }
    char dir[64], out[128], cmd[512];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cmd, sizeof cmd, "cp -R content/cache '%s/cache'", dir);
    ck_assert_int_eq(system(cmd), 0);
    kiln_build_opts o = quiet_opts();
    o.content_dir = "content";
    o.out_dir = out;
    snprintf(cmd, sizeof cmd, "%s/cache", dir);
    o.cache_dir = cmd;
    o.no_run = 1;
    kiln_diag d = {0};
    kiln_build_stats st;
    ck_assert_msg(kiln_report_build(&o, &st, &d) == 0, "%.1500s", d.text ? d.text : "");
    kiln_diag_free(&d);
    size_t size;
    json_t *ix = load_index(out, &size);
    ck_assert_msg(size < 150 * 1024, "the search index is %zu bytes", size);
    int pages = 0, figures = 0, sections = 0;
    DIR *dp = opendir(out);
    for (struct dirent *e; (e = readdir(dp));) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".html")) continue;
        htmlDocPtr doc = parse_page(out, e->d_name);
        xmlNode *root = xmlDocGetRootElement(doc);
        sbuf hs = {0}, toc = {0};
        heading_list(root, &hs);
        int prev = 0, h1 = 0, listed = 0;
        for (char *save = NULL, *line = strtok_r(hs.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            int lv = line[0] - '0';
            ck_assert_msg(lv <= prev + 1, "%s: h%d #%s after h%d", e->d_name, lv, line + 2, prev);
            h1 += lv == 1;
            prev = lv;
            if (lv == 2 || lv == 3) {
                ck_assert_msg(index_text(ix, e->d_name, line + 2, NULL), "%s#%s is not in the search index", e->d_name, line + 2);
                listed++;
            }
        }
        ck_assert_msg(h1 == 1, "%s has %d h1", e->d_name, h1);
        sections_list(find_class(root, "ol", "sections"), 1, &toc);
        int in_toc = 0;
        for (size_t i = 0; i < toc.len; i++) in_toc += toc.s[i] == '\n';
        if (strcmp(e->d_name, "index.html")) {
            ck_assert_msg(in_toc == listed, "%s: %d sections in its contents, %d h2/h3", e->d_name, in_toc, listed);
            sections += in_toc;
        }
        figures += check_figures(root, e->d_name);
        sb_free(&hs);
        sb_free(&toc);
        xmlFreeDoc(doc);
        pages++;
    }
    closedir(dp);
    json_decref(ix);
    printf("the article: %d pages, %d figures, %d sections in the contents, search index %zu bytes\n", pages, figures,
           sections, size);
    ck_assert_int_gt(pages, 8);
    ck_assert_int_gt(figures, 15);
    ck_assert_int_gt(sections, 60);
}
END_TEST

/* headings out of order are warned of at their line (the page is written) */
START_TEST(test_heading_order_warned)
{
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_int_eq(load_text("# A\n\n## B\n\n### C\n\n## D\n\nText.\n", &doc, &d), 0);
    ck_assert_msg(!d.text || !strstr(d.text, "heading"), "%s", d.text);
    kiln_diag_free(&d);
    kiln_doc_free(doc);
    ck_assert_int_eq(load_text("# A\n\n## B\n\n#### C\n\n# D\n\n### E\n", &doc, &d), 0);
    ck_assert_ptr_nonnull(d.text);
    ck_assert_msg(strstr(d.text, "ch.md:5: warning: a level-4 heading after a level-2 one skips a level (headings are the "
                                 "page's outline: make it ###)"), "%s", d.text);
    ck_assert_msg(strstr(d.text, "ch.md:7: warning: a second '# ' heading: a page has one title (make this one '## ')"), "%s", d.text);
    ck_assert_msg(strstr(d.text, "ch.md:9: warning: a level-3 heading after a level-1 one"), "%s", d.text);
    kiln_diag_free(&d);
    kiln_doc_free(doc);
}
END_TEST

/* index.md's front matter on the site: the index page's head (title,
 * subtitle, authors, date, abstract), every page's <html lang>, <meta
 * name=author> and description; a smoke build says so in every header and
 * on the PDF's title page. */
START_TEST(test_front_matter_site)
{
    char dir[64], out[128];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_text(dir, "index.md", "---\ntitle: Rates & more\nsubtitle: \"A test: of the head\"\nauthor:\n"
                                "  - name: Ada Example\n    affiliation: Somewhere\n  - Second Person\n"
                                "date: 2024-02-29\nlang: de\nabstract: |\n  The *abstract* says this.\n\n  And more.\n---\n\n"
                                "## Summary section\n\nThe summary.\n");
    write_text(dir, "01-c.md", "# C\n\nText.\n");
    kiln_build_opts o = quiet_opts();
    o.content_dir = dir;
    o.out_dir = out;
    kiln_diag d = {0};
    kiln_build_stats st;
    ck_assert_msg(kiln_report_build(&o, &st, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    ck_assert_int_eq(check_site(out), 3);
    char p[256];
    snprintf(p, sizeof p, "%s/index.html", out);
    char *html = test_read_file(p, NULL);
    static const char *const want[] = {
        "<html lang=\"de\">",
        "<meta name=\"author\" content=\"Ada Example, Second Person\">",
        "<meta name=\"description\" content=\"The abstract says this.\">",
        "<title>Rates &amp; more: A test: of the head</title>",
        "<h1 id=\"top\">Rates &amp; more</h1>\n<p class=\"subtitle\">A test: of the head</p>",
        "<li><span class=\"author\">Ada Example</span> <span class=\"affiliation\">Somewhere</span></li>"
        "<li><span class=\"author\">Second Person</span></li>",
        "<time datetime=\"2024-02-29\">29 February 2024</time>",
        "<h2 id=\"abstract\">Abstract</h2>\n<p>The <em>abstract</em> says this.</p>",
        "Summary section",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ck_assert_msg(strstr(html, want[i]), "'%s' not in index.html", want[i]);
    ck_assert_ptr_null(strstr(html, "smoke-note"));
    free(html);
    snprintf(p, sizeof p, "%s/01-c.html", out);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "<html lang=\"de\">"));
    ck_assert_ptr_nonnull(strstr(html, "<meta name=\"author\" content=\"Ada Example, Second Person\">"));
    free(html);
    /* the PDF's title page and its metadata */
    int rc;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftotext -q -l 1 -layout %s/report.pdf - | tr -s ' \\n' '  '", out);
    FILE *f = popen(cmd, "r");
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    rc = pclose(f);
    ck_assert_int_eq(rc, 0);
    static const char *const page1[] = {"Rates & more", "A test: of the head", "Ada Example", "Somewhere",
                                        "Second Person", "29 February 2024", "Abstract", "The abstract says this."};
    for (size_t i = 0; i < sizeof page1 / sizeof *page1; i++)
        ck_assert_msg(strstr(text, page1[i]), "'%s' not on the PDF's title page: %s", page1[i], text);
    ck_assert_ptr_null(strstr(text, "TECHNICAL REPORT"));
    ck_assert_ptr_null(strstr(text, "Smoke build"));
    ck_assert_ptr_null(strstr(text, "Summary section")); /* the summary: on the next page */

    /* at smoke scale: every page's header and the title page say so */
    o.smoke = 1;
    memset(&d, 0, sizeof d);
    ck_assert_msg(kiln_report_build(&o, &st, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    static const char *const pages[] = {"index.html", "01-c.html", "appendix.html"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", out, pages[i]);
        html = test_read_file(p, NULL);
        const char *hd = strstr(html, "<header class=\"site\">");
        ck_assert_ptr_nonnull(hd);
        const char *note = strstr(hd, "<p class=\"smoke-note\" role=\"note\">Smoke build: shrunk experiments, numbers are not the article");
        ck_assert_msg(note && note < strstr(hd, "</header>"), "%s: no smoke note in the header", pages[i]);
        free(html);
    }
    f = popen(cmd, "r");
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    pclose(f);
    ck_assert_msg(strstr(text, "Smoke build: shrunk experiments, numbers are not the article\xe2\x80\x99s"), "%s", text);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("html");
    TCase *t0 = tcase_create("write");
    tcase_set_timeout(t0, 300);
    tcase_add_test(t0, test_escaping_and_raw_html);
    tcase_add_test(t0, test_records_in_appendix);
    tcase_add_test(t0, test_err_template_placeholder);
    tcase_add_test(t0, test_html_parses_and_links);
    tcase_add_test(t0, test_appendix_is_a_resolved_chapter);
    tcase_add_test(t0, test_contents_and_search_index);
    tcase_add_test(t0, test_figure_variants);
    tcase_add_test(t0, test_article_headings_alt_and_index);
    tcase_add_test(t0, test_heading_order_warned);
    tcase_add_test(t0, test_front_matter_site);
    suite_add_tcase(s, t0);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
