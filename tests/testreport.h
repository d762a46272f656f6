/* Helpers of the report suites (check_doc, check_html, check_run,
 * check_report): loading a Markdown text, expecting an error, test articles
 * in a temporary folder, a build, the site parsed by libxml2. */
#ifndef KILN_TESTREPORT_H
#define KILN_TESTREPORT_H

#include "kiln/report.h"
#include "testutil.h"

#include <dirent.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static inline kiln_build_opts quiet_opts(void)
{
    kiln_build_opts o = {0};
    o.quiet = 1;
    o.data_dir = test_data_dir();
    o.template_dir = "templates";
    o.jobs = 1;
    o.threads = 2;
    return o;
}

/* Run $KILN_BIN with the arguments (fmt with one %s), output dropped; its
 * exit status. */
static inline int cli_status(const char *fmt, const char *arg)
{
    char args[1024], cmd[1200];
    snprintf(args, sizeof args, fmt, arg);
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", getenv("KILN_BIN"), args);
    int st = system(cmd);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* Load one chapter from text; returns the status, fills diag. */
static inline int load_text(const char *md, kiln_doc **doc, kiln_diag *d)
{
    kiln_build_opts o = quiet_opts();
    memset(d, 0, sizeof *d);
    return kiln_doc_load_text(doc, "ch.md", md, &o, d);
}

/* Expect a content error whose text holds each of the needles. */
static inline void expect_error(const char *md, const char *n1, const char *n2)
{
    kiln_doc *doc = NULL;
    kiln_diag d;
    int rc = load_text(md, &doc, &d);
    ck_assert_int_eq(rc, KILN_REPORT_EINPUT);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_nonnull(d.text);
    ck_assert_msg(strstr(d.text, n1), "'%s' not in: %s", n1, d.text);
    if (n2) ck_assert_msg(strstr(d.text, n2), "'%s' not in: %s", n2, d.text);
    kiln_diag_free(&d);
}

static inline void write_text(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ck_assert_int_eq(test_write_file(p, text, strlen(text)), 0);
}

/* A fresh temporary folder DIR and the paths DIR/content, DIR/out and,
 * when cache is not NULL, DIR/content/cache, the default cache (none of them
 * made). */
static inline void test_paths(char *dir, char *content, size_t nc, char *out, size_t no, char *cache, size_t ncache)
{
    test_tmpdir(dir);
    snprintf(content, nc, "%s/content", dir);
    snprintf(out, no, "%s/out", dir);
    if (cache) snprintf(cache, ncache, "%s/cache", content);
}

/* A fresh temporary folder DIR with DIR/content/index.md (text) and the
 * path DIR/out for the site. */
static inline void article_dirs(char *dir, char *content, size_t nc, char *out, size_t no, const char *index)
{
    test_paths(dir, content, nc, out, no, NULL, 0);
    ck_assert_int_eq(mkdir(content, 0777), 0);
    write_text(content, "index.md", index);
}

static inline int count_files(const char *dir, const char *suffix)
{
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        if (l > s && !strcmp(e->d_name + l - s, suffix)) n++;
    }
    closedir(dp);
    return n;
}

/* A tiny article: two experiments a few hundred images each (well under a
 * second each), a figure, a table, a result, values. */

static inline void write_article(const char *dir, const char *prose, int epochs)
{
    static const char INDEX_MD[] = "# Tiny article\n\nA summary with a value: {{a.test_accuracy:.1%}}.\n";
    static const char CHAPTER_FMT[] =
    "# Chapter one\n\n%s\n\n"
    "```{experiment} a\nlabel = run a\ntrain_limit = 300\ntest_limit = 100\nepochs = %d\nbatch_size = 50\n```\n\n"
    "```{experiment} b\nbase = a\nlearning_rate = 0.01\n```\n\n"
    "See {{fig:curves}} and {{table:both}}; a reached {{a.test_loss:.3f}} <b>bold</b>.\n\n"
    "```{figure} curves\nruns = a, b\nseries = loss, val_loss\ncaption = Loss of *a* and b, {{b.learning_rate}}.\n```\n\n"
    "```{result} a\n```\n\n"
    "```{table} both\nruns = a, b\ncolumns = label, learning_rate, test_loss:.4f, test_accuracy:.2%%\n```\n\n"
    "```{config} b\n```\n";
    mkdir(dir, 0777);
    write_text(dir, "index.md", INDEX_MD);
    char buf[4096];
    snprintf(buf, sizeof buf, CHAPTER_FMT, prose, epochs);
    write_text(dir, "01-one.md", buf);
}

static inline int build(const char *content, const char *out, kiln_build_stats *st, kiln_diag *d)
{
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;
    memset(d, 0, sizeof *d);
    return kiln_report_build(&o, st, d);
}

/* The article with this prose (one epoch) built into out, which must
 * succeed: its chapter page's text (malloc'd). */
static inline char *build_chapter(const char *content, const char *out, const char *prose)
{
    write_article(content, prose, 1);
    kiln_build_stats st;
    kiln_diag d;
    int rc = build(content, out, &st, &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    char p[256];
    snprintf(p, sizeof p, "%s/01-one.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    return html;
}

/* ---- the HTML: parses, links and images resolve ---------------------------------------------- */

typedef struct html_errs {
    int n;
    char first[512];
} html_errs;

static inline void on_html_error(void *ud, xmlErrorPtr e)
{
    html_errs *h = ud;
    /* libxml2's HTML parser predates HTML5: <figure>, <nav>, <main> ... are
     * "unknown tags" to it, which is not an error in the page */
    if (e->code == XML_HTML_UNKNOWN_TAG) return;
    if (!h->n++) snprintf(h->first, sizeof h->first, "line %d: %s", e->line, e->message);
}

static inline int has_id(xmlNode *n, const char *id)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            xmlChar *v = xmlGetProp(n, (const xmlChar *)"id");
            int hit = v && !strcmp((const char *)v, id);
            xmlFree(v);
            if (hit || has_id(n->children, id)) return 1;
        }
    }
    return 0;
}

static inline void check_refs(const char *dir, const char *page, xmlNode *root, xmlNode *n, int *checked)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        const char *attr = !xmlStrcmp(n->name, (const xmlChar *)"img") ? "src"
                         : (!xmlStrcmp(n->name, (const xmlChar *)"a") || !xmlStrcmp(n->name, (const xmlChar *)"link")) ? "href"
                         : NULL;
        xmlChar *v = attr ? xmlGetProp(n, (const xmlChar *)attr) : NULL;
        if (v && !strstr((const char *)v, "://")) {
            char target[512], frag[256] = "";
            snprintf(target, sizeof target, "%s", (const char *)v);
            char *h = strchr(target, '#');
            if (h) { snprintf(frag, sizeof frag, "%s", h + 1); *h = 0; }
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, target[0] ? target : page);
            struct stat st;
            ck_assert_msg(stat(path, &st) == 0 && st.st_size > 0, "%s: broken %s '%s'", page, attr, (const char *)v);
            if (frag[0]) {
                int found;
                if (!target[0] || !strcmp(target, page)) found = has_id(root, frag);
                else {
                    htmlDocPtr other = htmlReadFile(path, "utf-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
                    found = other && has_id(xmlDocGetRootElement(other), frag);
                    xmlFreeDoc(other);
                }
                ck_assert_msg(found, "%s: link '%s' points to a missing anchor", page, (const char *)v);
            }
            ++*checked;
        }
        xmlFree(v);
        check_refs(dir, page, root, n->children, checked);
    }
}

/* Every .html page in dir parses without errors and has no broken links or
 * images. Returns the number of pages. */
static inline int check_site(const char *dir)
{
    DIR *dp = opendir(dir);
    ck_assert_ptr_nonnull(dp);
    struct dirent *e;
    int pages = 0, refs = 0;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".html")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        html_errs errs = {0};
        xmlSetStructuredErrorFunc(&errs, on_html_error);
        htmlDocPtr doc = htmlReadFile(path, "utf-8", HTML_PARSE_NONET);
        xmlSetStructuredErrorFunc(NULL, NULL);
        ck_assert_msg(doc != NULL, "%s does not parse", path);
        ck_assert_msg(errs.n == 0, "%s: %d HTML errors, first %s", path, errs.n, errs.first);
        xmlNode *root = xmlDocGetRootElement(doc);
        check_refs(dir, e->d_name, root, root, &refs);
        xmlFreeDoc(doc);
        pages++;
    }
    closedir(dp);
    ck_assert_int_gt(refs, 0);
    return pages;
}

/* Load md, compute every run's key without training (a --no-run pass over an
 * empty cache: the keys are set even though nothing is found). */
static inline kiln_doc *load_with_keys(const char *md)
{
    char dir[64];
    test_tmpdir(dir);
    kiln_build_opts o = quiet_opts();
    o.cache_dir = dir;
    o.no_run = 1;
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    ck_assert_msg(kiln_doc_load_text(&doc, "ch.md", md, &o, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    memset(&d, 0, sizeof d);
    kiln_build_stats st = {0};
    kiln_doc_run(doc, &st, &d); /* fails: nothing is cached; the keys are set first */
    kiln_diag_free(&d);
    for (int i = 0; i < doc->n_runs; i++) ck_assert_int_eq((int)strlen(doc->runs[i]->key), 32);
    return doc;
}

static inline kiln_run *find_run_by_id(const kiln_doc *doc, const char *id)
{
    for (int i = 0; i < doc->n_runs; i++)
        if (!strcmp(doc->runs[i]->id, id)) return doc->runs[i];
    ck_abort_msg("no run '%s'", id);
    return NULL;
}

static inline const char *key_of(const kiln_doc *doc, const char *id) { return find_run_by_id(doc, id)->key; }

/* The text of the first <span ... title="TITLE">TEXT</span> in html. */
static inline char *span_text(const char *html, const char *title)
{
    char needle[128];
    snprintf(needle, sizeof needle, "title=\"%s\">", title);
    const char *p = strstr(html, needle);
    ck_assert_msg(p != NULL, "no value %s in the page", title);
    p += strlen(needle);
    const char *e = strstr(p, "</span>");
    ck_assert_ptr_nonnull(e);
    return strndup(p, (size_t)(e - p));
}

static inline int file_exists(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat s;
    return stat(p, &s) == 0;
}

#endif
