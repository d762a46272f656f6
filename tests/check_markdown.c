/* What a writer puts in the Markdown beyond CommonMark (issue 17): math,
 * equation references, ... Each feature is built into a real site and PDF
 * through kiln_report_build and checked in both: the HTML parsed with
 * libxml2 and asked with XPath, the PDF read back with pdftotext. Every error
 * is checked for its FILE:LINE:. */
#include "kiln/report.h"
#include "testutil.h"

#include <libxml/HTMLparser.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libxml/xpath.h>

static kiln_build_opts opts(const char *root)
{
    static char content[256], out[256], cache[256];
    snprintf(content, sizeof content, "%s/content", root);
    snprintf(out, sizeof out, "%s/out", root);
    snprintf(cache, sizeof cache, "%s/cache", root);
    kiln_build_opts o = {0};
    o.quiet = 1;
    o.content_dir = content;
    o.out_dir = out;
    o.cache_dir = cache;
    o.data_dir = test_data_dir();
    o.template_dir = "templates";
    o.no_run = 1;
    return o;
}

static void put(const char *root, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, name);
    ck_assert_int_eq(test_write_file(p, text, strlen(text)), 0);
}

/* Build a one-chapter article (chapter text md) in a fresh folder. */
static const char *build(char root[64], const char *md, kiln_diag *d)
{
    test_tmpdir(root);
    char p[256];
    snprintf(p, sizeof p, "%s/content", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    put(root, "content/index.md", "# An article\n\nIts summary.\n");
    put(root, "content/01-ch.md", md);
    kiln_build_opts o = opts(root);
    kiln_build_stats st;
    memset(d, 0, sizeof *d);
    ck_assert_msg(kiln_report_build(&o, &st, d) == 0, "build failed: %s", d->text ? d->text : "");
    return root;
}

static xmlDocPtr page(const char *root, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/out/%s", root, name);
    xmlDocPtr h = htmlReadFile(p, "UTF-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    ck_assert_msg(h != NULL, "cannot parse %s", p);
    return h;
}

static double xnum(xmlDocPtr d, const char *xpath)
{
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)xpath, c);
    ck_assert_msg(o != NULL, "bad xpath %s", xpath);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    return v;
}

static char *xstr(xmlDocPtr d, const char *xpath)
{
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)xpath, c);
    char *s = (char *)xmlXPathCastToString(o);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    return s;
}

#define COUNT(d, xp, want) ck_assert_msg(xnum(d, "count(" xp ")") == (want), "%s: %g, want %d", xp, xnum(d, "count(" xp ")"), (int)(want))
#define STR(d, xp, want) do { char *s_ = xstr(d, xp); ck_assert_msg(!strcmp(s_, want), "%s: '%s', want '%s'", xp, s_, want); xmlFree(s_); } while (0)

/* The PDF's text (pdftotext; -layout when asked), malloc'd. */
static char *pdf_text(const char *root, const char *flags)
{
    char cmd[1200], out[512];
    snprintf(out, sizeof out, "%s/pdf.txt", root);
    snprintf(cmd, sizeof cmd, "pdftotext -q %s '%s/out/report.pdf' '%s'", flags, root, out);
    ck_assert_int_eq(system(cmd), 0);
    char *t = test_read_file(out, NULL);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* Expect a content error holding each needle (FILE:LINE: among them). */
static void expect_error(const char *md, const char *n1, const char *n2)
{
    kiln_build_opts o = {0};
    o.quiet = 1;
    o.template_dir = "templates";
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    int rc = kiln_doc_load_text(&doc, "ch.md", md, &o, &d);
    ck_assert_msg(rc == KILN_REPORT_EINPUT, "loaded: %s", md);
    ck_assert_ptr_null(doc);
    ck_assert_msg(d.text && strstr(d.text, n1), "'%s' not in: %s", n1, d.text ? d.text : "");
    if (n2) ck_assert_msg(strstr(d.text, n2), "'%s' not in: %s", n2, d.text);
    kiln_diag_free(&d);
}

static const char *MATH_MD =
    "# Schedules\n"
    "\n"
    "## Step decay\n"
    "\n"
    "The rate at epoch $t$ is $\\eta_t = \\eta_0 \\gamma^{\\lfloor t/s \\rfloor}$, as {{eq:step}} says;\n"
    "`$x$` is code and \\$5 is money.\n"
    "\n"
    "$$\n"
    "\\eta_t = \\eta_0 \\cdot \\gamma^{\\lfloor t / s \\rfloor}\n"
    "$$ {#eq:step}\n"
    "\n"
    "Adam keeps two averages\n"
    "$$\n"
    "\\begin{aligned}\n"
    "m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t \\\\\n"
    "v_t &= \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2\n"
    "\\end{aligned}\n"
    "$$ {#eq:adam}\n"
    "and steps by\n"
    "$$ \\theta_t = \\theta_{t-1} - \\frac{\\eta \\hat{m}_t}{\\sqrt{\\hat{v}_t} + \\epsilon} $$\n"
    "(unnumbered), after {{eq:adam}}.\n";

START_TEST(math_in_both_outputs)
{
    char root[64];
    kiln_diag d;
    build(root, MATH_MD, &d);
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "01-ch.html");
    /* inline math: MathML inside the paragraph, no TeX left in the text */
    COUNT(h, "//p[1]//math[not(@display)]", 2);
    COUNT(h, "//p[1]//math/mrow/msub[mi='η']", 2);
    STR(h, "(//p[1]//math)[2]/@alttext", "\\eta_t = \\eta_0 \\gamma^{\\lfloor t/s \\rfloor}");
    COUNT(h, "//p[1]/code[.='$x$']", 1);
    ck_assert(xnum(h, "count(//p[1][contains(., '$5 is money')])") == 1);
    /* displays: their own blocks with ids and numbers; the unnumbered one has neither */
    COUNT(h, "//div[@class='equation']", 3);
    COUNT(h, "//div[@class='equation' and @id='eq-step']/math[@display='block']", 1);
    STR(h, "//div[@id='eq-step']/span[@class='eqno']", "(1)");
    STR(h, "//div[@id='eq-adam']/span[@class='eqno']", "(2)");
    COUNT(h, "//div[@class='equation' and not(@id)]/span", 0);
    COUNT(h, "//div[@id='eq-adam']//mtable/mtr", 2);
    /* the paragraph around a display is split, its parts kept */
    COUNT(h, "//p[contains(., 'Adam keeps two averages')]", 1);
    COUNT(h, "//p[contains(., 'and steps by')]", 1);
    COUNT(h, "//p[contains(., '(unnumbered), after')]", 1);
    /* references */
    STR(h, "//a[@class='ref' and @href='#eq-step']", "Equation 1");
    STR(h, "//a[@class='ref' and @href='#eq-adam']", "Equation 2");
    ck_assert(xnum(h, "count(//body[contains(., '$$') or contains(., '\\frac')])") == 0);
    xmlFreeDoc(h);

    char *t = pdf_text(root, "");
    ck_assert_ptr_nonnull(strstr(t, "Equation 1"));
    ck_assert_ptr_nonnull(strstr(t, "(1)"));
    ck_assert_ptr_nonnull(strstr(t, "(2)"));
    ck_assert_ptr_nonnull(strstr(t, "γ"));
    ck_assert_ptr_nonnull(strstr(t, "β"));
    ck_assert_ptr_null(strstr(t, "\\frac"));
    ck_assert_ptr_null(strstr(t, "\\eta"));
    ck_assert_ptr_null(strstr(t, "$$"));
    ck_assert_ptr_nonnull(strstr(t, "$5 is money"));
    free(t);
    /* positions: the display's η is centred (well right of the margin), its
     * number at the right margin */
    t = pdf_text(root, "-bbox");
    const char *num = strstr(t, ">(1)<");
    ck_assert_ptr_nonnull(num);
    const char *tag = num;
    while (tag > t && strncmp(tag, "<word", 5)) tag--;
    double x0, y0, x1, y1;
    ck_assert_int_eq(sscanf(tag, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\"", &x0, &y0, &x1, &y1), 4);
    ck_assert_msg(x1 > 480 && x1 < 560, "the number ends at %g", x1);
    free(t);
}
END_TEST

START_TEST(math_errors)
{
    /* the line and the column inside the file */
    expect_error("# T\n\nText\nand $x + \\foo$ here.\n", "ch.md:4:", "column 10: unknown command \\foo");
    expect_error("# T\n\n$$\na = b\n\\frac{1}{2\n$$\n", "ch.md:5:", "'{' is not closed");
    expect_error("# T\n\n$$\nx\n\nmore\n", "ch.md:3:", "display math '$$' is not closed");
    expect_error("# T\n\n$$ x $$ {#fig:a}\n", "ch.md:3:", "{#eq:ID}");
    expect_error("# T\n\n$$ x $$ and more\n", "ch.md:3:", "text after a display's closing '$$'");
    expect_error("# T\n\nSee {{eq:nope}}.\n\n$$ x $$ {#eq:yes}\n", "ch.md:3:", "no display with the label {#eq:nope}; labelled: yes");
    expect_error("# T\n\n$$ x $$ {#eq:a}\n\n$$ y $$ {#eq:a}\n", "ch.md:5:", "duplicate equation label {#eq:a}");
    expect_error("# T\n\n$\\eta = {{nosuch.learning_rate}}$\n", "ch.md:3:", "nosuch");
    expect_error("# T\n\n$x = {{fig:a}}$\n", "ch.md:3:", "inside math only values");
    /* a display's error does not stop the file: the rest is read, its other
     * errors listed, its title found */
    const char *md = "# Title\n\n$$ x $$ {#fig:a}\n\n$$ y $$ more\n\n$\\foo$ and [@k]\n\n$$\nopen\n";
    expect_error(md, "ch.md:3: a display's label is written {#eq:ID}", "ch.md:5: text after a display's closing '$$'");
    expect_error(md, "ch.md:7: math, column 2: unknown command \\foo", "ch.md:9: display math '$$' is not closed");
    kiln_build_opts o = {.quiet = 1, .template_dir = "templates"};
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_doc_load_text(&doc, "ch.md", md, &o, &d), KILN_REPORT_EINPUT);
    ck_assert_msg(!strstr(d.text, "title"), "%s", d.text);
    kiln_diag_free(&d);
}
END_TEST

START_TEST(math_values)
{
    char root[64];
    kiln_diag d;
    build(root,
          "# V\n\n```{experiment} base\nlearning_rate = 0.01\nepochs = 1\n```\n\n"
          "The rate is $\\eta_0 = {{base.learning_rate}}$ and $10^{-3}$.\n\n"
          "```{figure} s\nkind = schedule\nruns = base\ncaption = At $\\eta = {{base.learning_rate}}$, as $x^2$ says.\n```\n",
          &d);
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "01-ch.html");
    COUNT(h, "//p//math//mn[.='0.01']", 1);
    COUNT(h, "//p//math//*[contains(., '{{')]", 0);
    /* a caption holds math too, values filled in */
    COUNT(h, "//figcaption//math[mrow/mi='η']//mn[.='0.01']", 1);
    COUNT(h, "//figcaption//math//msup", 1);
    COUNT(h, "//figcaption[contains(., '$')]", 0);
    /* the figure's alt text is the caption as plain text, the value in */
    COUNT(h, "//img[starts-with(@src, 'img/') and @alt='At η = 0.01, as x² says.']", 1);
    xmlFreeDoc(h);
    char *t = pdf_text(root, "");
    ck_assert_ptr_nonnull(strstr(t, "0.01"));
    ck_assert_ptr_null(strstr(t, "{{"));
    ck_assert_msg(strstr(t, "At η = 0.01, as x"), "%s", t);
    free(t);
    /* a caption's math error is at the caption's line */
    expect_error("# V\n\n```{experiment} base\nepochs = 1\n```\n\n```{table} t\nruns = base\ncaption = See $\\foo$.\n```\n",
                 "ch.md:9: math, column", "unknown command \\foo");
}
END_TEST

static const char *BIB =
    "@inproceedings{smith2017,\n"
    "  author = {Smith, Leslie N.},\n"
    "  title = {Cyclical Learning Rates for Training Neural Networks},\n"
    "  booktitle = {2017 IEEE Winter Conference on Applications of Computer Vision (WACV)},\n"
    "  pages = {464--472},\n"
    "  year = {2017},\n"
    "  doi = {10.1109/WACV.2017.58}\n"
    "}\n"
    "@misc{smith2017super,\n"
    "  author = {Smith, Leslie N. and Topin, Nicholay},\n"
    "  title = {Super-Convergence},\n"
    "  year = {2017},\n"
    "  url = {https://arxiv.org/abs/1708.07120}\n"
    "}\n"
    "@misc{kingma2014, author = {Kingma, Diederik P. and Ba, Jimmy}, title = {Adam}, year = {2014},\n"
    "  url = {https://arxiv.org/abs/1412.6980}}\n"
    "@misc{unused, author = {Nobody, A.}, year = {2000}, title = {Never cited}}\n";

/* Build with a bibliography; status returned, diag filled. */
static int build_cited(char root[64], const char *md, const char *bib, kiln_diag *d)
{
    test_tmpdir(root);
    char p[256];
    snprintf(p, sizeof p, "%s/content", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    put(root, "content/index.md", bib ? "# An article\n\nIts summary, after [@kingma2014].\n" : "# An article\n\nIts summary.\n");
    put(root, "content/01-ch.md", md);
    if (bib) put(root, "content/references.bib", bib);
    kiln_build_opts o = opts(root);
    kiln_build_stats st;
    memset(d, 0, sizeof *d);
    return kiln_report_build(&o, &st, d);
}

START_TEST(citations_in_both_outputs)
{
    char root[64];
    kiln_diag d;
    int rc = build_cited(root,
                         "# Cyclical rates\n\n"
                         "Cyclical rates [@smith2017] were refined by @smith2017super [p. 3] and used\n"
                         "with Adam [see @kingma2014, sec. 2; -@smith2017]. Mail a@b.org; a [link with @smith2017](https://example.org).\n"
                         "Code `[@smith2017]` stays. Twice [@smith2017super; @smith2017; @smith2017].\n",
                         BIB, &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "01-ch.html");
    COUNT(h, "//span[@class='cite']", 4);
    STR(h, "(//span[@class='cite'])[1]", "(Smith 2017)");
    STR(h, "(//span[@class='cite'])[2]", "Smith and Topin (2017, p. 3)");
    STR(h, "(//span[@class='cite'])[3]", "(see Kingma and Ba 2014, sec. 2; 2017)");
    COUNT(h, "(//span[@class='cite'])[3]/a", 2);
    STR(h, "(//span[@class='cite'])[3]/a[1]/@href", "references.html#ref-kingma2014");
    STR(h, "(//span[@class='cite'])[3]/a[2]/@href", "references.html#ref-smith2017");
    COUNT(h, "//a[@href='https://example.org' and .='link with @smith2017']", 1);
    COUNT(h, "//code[.='[@smith2017]']", 1);
    STR(h, "(//span[@class='cite'])[4]", "(Smith and Topin 2017; Smith 2017, 2017)");
    COUNT(h, "(//span[@class='cite'])[4]/a", 3);   /* each year its own link */
    STR(h, "(//span[@class='cite'])[4]/a[3]", "2017");
    COUNT(h, "//p[contains(., 'a@b.org')]", 1);
    xmlFreeDoc(h);
    /* the References page: exactly the works cited (the index's too), sorted, linked */
    h = page(root, "references.html");
    COUNT(h, "//ol[@class='references']/li", 3);
    STR(h, "//ol[@class='references']/li[1]/@id", "ref-kingma2014");
    STR(h, "//ol[@class='references']/li[2]/@id", "ref-smith2017");
    STR(h, "//ol[@class='references']/li[3]/@id", "ref-smith2017super");
    COUNT(h, "//li[@id='ref-smith2017']/a[@href='https://doi.org/10.1109/WACV.2017.58']", 1);
    COUNT(h, "//li[@id='ref-smith2017']/em", 1);
    COUNT(h, "//li[contains(., 'Never cited')]", 0);
    xmlFreeDoc(h);
    h = page(root, "index.html");
    STR(h, "//span[@class='cite']/a/@href", "references.html#ref-kingma2014");
    xmlFreeDoc(h);
    char *t = pdf_text(root, "");
    ck_assert_ptr_nonnull(strstr(t, "(Smith 2017)"));
    ck_assert_ptr_nonnull(strstr(t, "Smith and Topin (2017, p. 3)"));
    ck_assert_ptr_nonnull(strstr(t, "References"));
    ck_assert_ptr_nonnull(strstr(t, "https://doi.org/10.1109/WACV.2017.58"));
    ck_assert_ptr_null(strstr(t, "Never cited"));
    ck_assert_ptr_null(strstr(t, "[see @"));
    ck_assert_ptr_null(strstr(t, "@smith2017super"));
    const char *k = strstr(t, "Kingma, D. P."), *s1 = strstr(t, "Smith, L. N. (2017)");
    ck_assert(k && s1 && k < s1);   /* sorted */
    free(t);
}
END_TEST

START_TEST(citation_errors)
{
    char root[64];
    kiln_diag d;
    ck_assert_int_eq(build_cited(root, "# T\n\nText\n\nas [@nosuch2020] shows.\n", BIB, &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "01-ch.md:5:") && strstr(d.text, "unknown citation key '@nosuch2020'"), "%s", d.text);
    kiln_diag_free(&d);
    ck_assert_int_eq(build_cited(root, "# T\n\nas [@smith2017] shows.\n", NULL, &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "01-ch.md:3:") && strstr(d.text, "no bibliography"), "%s", d.text);
    kiln_diag_free(&d);
    ck_assert_int_eq(build_cited(root, "# T\n\nas [@smith2017] shows.\n", "@misc{a, author = {X, Y}, year = {2000}}\n\n@misc{b,\n  title = {T},\n  year = 2001}\n", &d),
                     KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "references.bib:3:") && strstr(d.text, "entry 'b' has no author"), "%s", d.text);
    ck_assert_msg(!strstr(d.text, "no bibliography"), "one error, not two: %s", d.text);
    kiln_diag_free(&d);
    ck_assert_int_eq(build_cited(root, "# T\n\nx\n", "@misc{a, author = {X, Y}, year = {2000}}\n@misc{b\n author = {X}}\n", &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "references.bib:3:") && strstr(d.text, "malformed BibTeX entry"), "%s", d.text);
    kiln_diag_free(&d);
    /* every error of the .bib, not only the first */
    ck_assert_int_eq(build_cited(root, "# T\n\nx\n", "@misc{a, year = {2000}}\n@misc{b, author = {X}}\n", &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "references.bib:1: entry 'a' has no author") && strstr(d.text, "references.bib:2: entry 'b' has no year"),
                  "%s", d.text);
    kiln_diag_free(&d);
    /* an @name with no bibliography is just text */
    ck_assert_int_eq(build_cited(root, "# T\n\nping @everyone here.\n", NULL, &d), 0);
    kiln_diag_free(&d);
}
END_TEST

START_TEST(gfm_in_both_outputs)
{
    char root[64];
    kiln_diag d;
    build(root,
          "# Tables and notes\n\n"
          "| Schedule | Rate | Note |\n"
          "|:---|---:|:-:|\n"
          "| step -- decay | 0.01 | \"quoted\" |\n"
          "| ~~cyclic~~ | 1e-3 | `x\\|y` |\n"
          "\n"
          "A footnote[^a] and another[^b], www.example.com and https://keras.io autolinked,\n"
          "~~struck~~ text.\n"
          "\n"
          "- [ ] open task\n"
          "- [x] done task\n"
          "\n"
          "[^a]: The first note.\n"
          "[^b]: The second, with *emphasis*.\n",
          &d);
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "01-ch.html");
    COUNT(h, "//table[@class='grid']/thead/tr/th", 3);
    COUNT(h, "//table[@class='grid']/tbody/tr", 2);
    STR(h, "//table[@class='grid']/thead/tr/th[2]/@style", "text-align:right");
    STR(h, "//table[@class='grid']/thead/tr/th[3]/@style", "text-align:center");
    STR(h, "//table[@class='grid']/tbody/tr[1]/td[1]", "step – decay");      /* smart punctuation in cells */
    STR(h, "//table[@class='grid']/tbody/tr[1]/td[3]", "“quoted”");
    STR(h, "//table[@class='grid']/tbody/tr[2]/td[1]/del", "cyclic");
    STR(h, "//table[@class='grid']/tbody/tr[2]/td[3]/code", "x|y");
    ck_assert(xnum(h, "count(//body[contains(., '|---') or contains(., '|—') or contains(., '|:')])") == 0);
    COUNT(h, "//a[@href='http://www.example.com' and .='www.example.com']", 1);
    COUNT(h, "//a[@href='https://keras.io']", 1);
    COUNT(h, "//p/del[.='struck']", 1);
    COUNT(h, "//li[@class='task']/input[@type='checkbox' and @disabled and not(@checked)]", 1);
    COUNT(h, "//li[@class='task']/input[@checked]", 1);
    STR(h, "//sup[@class='fnref'][1]/a/@href", "#fn-1");
    STR(h, "//sup[@class='fnref'][2]/a", "2");
    COUNT(h, "//section[@class='footnotes']/ol/li", 2);
    STR(h, "//section[@class='footnotes']/ol/li[1]/@id", "fn-1");
    COUNT(h, "//section[@class='footnotes']/ol/li[2]//em[.='emphasis']", 1);
    ck_assert(xnum(h, "count(//body[contains(., '[^') or contains(., '[x]') or contains(., '~~')])") == 0);
    xmlFreeDoc(h);
    char *t = pdf_text(root, "-layout");
    ck_assert_ptr_nonnull(strstr(t, "Schedule"));
    ck_assert_ptr_nonnull(strstr(t, "step – decay"));
    ck_assert_ptr_nonnull(strstr(t, "footnote¹"));
    ck_assert_ptr_nonnull(strstr(t, "another²"));
    ck_assert_ptr_nonnull(strstr(t, "☐ open task"));
    ck_assert_ptr_nonnull(strstr(t, "☑ done task"));
    ck_assert_ptr_nonnull(strstr(t, "1. The first note."));
    ck_assert_ptr_null(strstr(t, "[^"));
    ck_assert_ptr_null(strstr(t, "~~"));
    ck_assert_ptr_null(strstr(t, "|---"));
    free(t);
}
END_TEST

START_TEST(callouts)
{
    char root[64];
    kiln_diag d;
    build(root,
          "# Notes\n\n"
          "> [!NOTE]\n> Plain note.\n\n"
          "> [!tip]\n> Lower case works.\n\n"
          "> [!IMPORTANT]\n> One.\n\n"
          "> [!WARNING]\n> A rate of $1.0$ diverges.\n>\n> Second paragraph.\n\n"
          "> [!CAUTION]\n> Last.\n\n"
          "> [!NOTE] with text after the marker is a quote.\n\n"
          "> An ordinary quote.\n",
          &d);
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "01-ch.html");
    COUNT(h, "//div[contains(@class, 'callout ')]", 5);
    const char *kinds[] = {"note", "tip", "important", "warning", "caution"}, *titles[] = {"Note", "Tip", "Important", "Warning", "Caution"};
    for (int i = 0; i < 5; i++) {
        char xp[160];
        snprintf(xp, sizeof xp, "count(//div[@class='callout callout-%s']/p[@class='callout-title' and .='%s'])", kinds[i], titles[i]);
        ck_assert_msg(xnum(h, xp) == 1, "%s", xp);
    }
    COUNT(h, "//div[@class='callout callout-warning']/p[not(@class)]", 2);
    COUNT(h, "//div[@class='callout callout-warning']//math", 1);
    COUNT(h, "//blockquote", 2);
    ck_assert(xnum(h, "count(//div[contains(@class, 'callout')][contains(., '[!')])") == 0);
    xmlFreeDoc(h);
    char *t = pdf_text(root, "");
    ck_assert_ptr_nonnull(strstr(t, "Warning\n"));
    ck_assert_ptr_nonnull(strstr(t, "Caution\n"));
    ck_assert_ptr_nonnull(strstr(t, "Second paragraph."));
    ck_assert_ptr_null(strstr(t, "[!WARNING]"));
    free(t);
}
END_TEST

/* Two chapters; status returned. */
static int build2(char root[64], const char *md1, const char *md2, kiln_diag *d)
{
    test_tmpdir(root);
    char p[256];
    snprintf(p, sizeof p, "%s/content", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    put(root, "content/index.md", "# An article\n\nIts summary; see [the first chapter](01-one.md).\n");
    put(root, "content/01-one.md", md1);
    put(root, "content/02-two.md", md2);
    kiln_build_opts o = opts(root);
    kiln_build_stats st;
    memset(d, 0, sizeof *d);
    return kiln_report_build(&o, &st, d);
}

START_TEST(links_and_sections)
{
    char root[64];
    kiln_diag d;
    int rc = build2(root, "# One\n\n## Intro\n\n### Detail\n\n$$ x $$ {#eq:x}\n\nSee [two](02-two.md#step-decay) and [here](#detail).\n",
                    "# Two\n\n## Warm-up\n\n## Step decay\n\nBack to {{sec:detail}}, {{sec:intro}}, {{sec:step-decay}}, {{sec:one}}; "
                    "[the equation](01-one.md#eq-x).\n",
                    &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "02-two.html");
    STR(h, "//a[@class='ref'][1]", "Section 1.1.1");
    STR(h, "//a[@class='ref'][1]/@href", "01-one.html#detail");
    STR(h, "//a[@class='ref'][2]", "Section 1.1");
    STR(h, "//a[@class='ref'][3]", "Section 2.2");
    STR(h, "//a[@class='ref'][3]/@href", "#step-decay");
    STR(h, "//a[@class='ref'][4]", "Chapter 1");
    COUNT(h, "//a[@href='01-one.html#eq-x']", 1);
    xmlFreeDoc(h);
    char *t = pdf_text(root, "");
    ck_assert_ptr_nonnull(strstr(t, "Section 1.1.1"));
    ck_assert_ptr_nonnull(strstr(t, "2.2 Step decay"));   /* the PDF's own numbering agrees */
    ck_assert_ptr_nonnull(strstr(t, "1.1.1 Detail"));
    free(t);
    /* broken ones */
    ck_assert_int_eq(build2(root, "# One\n\n## Intro\n", "# Two\n\nA\n\n[x](01-one.md#nope) and [y](03-none.md), [z](#gone).\n", &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "02-two.md:5: link to '01-one.md#nope': no heading, figure, table or equation 'nope' there; its headings: intro"), "%s", d.text);
    ck_assert_msg(strstr(d.text, "02-two.md:5: link to '03-none.md': no such chapter; chapters: index.md, 01-one.md, 02-two.md"), "%s", d.text);
    ck_assert_msg(strstr(d.text, "02-two.md:5: link to '#gone'"), "%s", d.text);
    kiln_diag_free(&d);
    ck_assert_int_eq(build2(root, "# One\n", "# Two\n\n{{sec:nope}}\n", &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "02-two.md:3: reference {{sec:nope}}: no heading with the id 'nope'"), "%s", d.text);
    kiln_diag_free(&d);
}
END_TEST

/* A heading's own id, as pandoc and Quarto write it: ## Title {#id} */
START_TEST(heading_ids)
{
    char root[64];
    kiln_diag d;
    int rc = build2(root, "# One {#sec-one}\n\n## The *set-up* {#setup}\n\n## Setup\n\nSee [it](#setup).\n",
                    "# Two\n\n## Not an id {x}\n\n## Also not{#y}\n\n{{sec:setup}}, {{sec:sec-one}}, {{sec:setup-2}}, "
                    "[link](01-one.md#setup).\n", &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "01-one.html");
    COUNT(h, "//h2[@id='setup']", 1);
    COUNT(h, "//h2[@id='setup-2']", 1);   /* the later heading "Setup" steps aside */
    COUNT(h, "//h1[@id='sec-one']", 1);
    COUNT(h, "//h2[contains(., '{#')]", 0);
    COUNT(h, "//h2[@id='setup']/em[.='set-up']", 1);
    xmlFreeDoc(h);
    h = page(root, "02-two.html");
    STR(h, "//a[@class='ref'][1]", "Section 1.1");
    STR(h, "//a[@class='ref'][1]/@href", "01-one.html#setup");
    STR(h, "//a[@class='ref'][2]", "Chapter 1");
    STR(h, "//a[@class='ref'][3]", "Section 1.2");
    COUNT(h, "//h2[starts-with(., 'Not an id {x}')]", 1);   /* not an attribute: text */
    COUNT(h, "//h2[contains(., 'Also not{#y}')]", 1);
    xmlFreeDoc(h);
    char *t = pdf_text(root, "");
    ck_assert_ptr_nonnull(strstr(t, "1.1 The set-up"));
    ck_assert_ptr_null(strstr(t, "{#setup}"));
    ck_assert_ptr_null(strstr(t, "{#sec-one}"));
    free(t);
    /* math in a title: plain text where no math can be set (the <title>,
     * the contents, the PDF's contents), the id from its TeX */
    rc = build2(root, "# The rate $\\eta_t$\n\n## With $x^2$\n", "# Two\n\n{{sec:with-x2}}\n", &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    h = page(root, "01-one.html");
    COUNT(h, "//title[contains(., 'The rate ηₜ')]", 1);
    COUNT(h, "//h2[@id='with-x2']//math", 1);
    xmlFreeDoc(h);
    h = page(root, "index.html");
    COUNT(h, "//a[.='The rate ηₜ']", 2);   /* the contents, beside and in the page */
    COUNT(h, "//*[contains(., '\\eta')]", 0);
    xmlFreeDoc(h);
    t = pdf_text(root, "");
    ck_assert_ptr_null(strstr(t, "\\eta"));
    ck_assert_ptr_nonnull(strstr(t, "With x²"));   /* the PDF's contents */
    free(t);
    /* letters beyond ASCII stay in an id made from the text, as on GitHub */
    rc = build2(root, "# One\n\n## Über die Rate — kurz\n\n## Ρυθμός\n", "# Two\n\n{{sec:über-die-rate-kurz}}, {{sec:ρυθμός}}\n", &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    h = page(root, "01-one.html");
    COUNT(h, "//h2[@id='über-die-rate-kurz']", 1);
    COUNT(h, "//h2[@id='ρυθμός']", 1);
    xmlFreeDoc(h);
    /* refused: an id taken in the chapter, one of kiln's own prefixes */
    ck_assert_int_eq(build2(root, "# One\n\n## A\n\n## B {#a}\n\n## C {#eq-c}\n", "# Two\n", &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "01-one.md:5: heading id {#a}: an earlier heading of this chapter has that id"), "%s", d.text);
    ck_assert_msg(strstr(d.text, "01-one.md:7: heading id {#eq-c}: ids starting with 'eq-' are kiln's own"), "%s", d.text);
    kiln_diag_free(&d);
}
END_TEST

/* Copy a fixture into the article's content folder. */
static void fixture(const char *root, const char *name, const char *as)
{
    char from[256];
    snprintf(from, sizeof from, "tests/fixtures/%s", name);
    size_t n;
    char *data = test_read_file(from, &n);
    ck_assert_ptr_nonnull(data);
    char to[256];
    snprintf(to, sizeof to, "%s/content/%s", root, as);
    ck_assert_int_eq(test_write_file(to, data, n), 0);
    free(data);
}

/* The fixtures are 64 x 48 gradients made with ImageMagick
 * (convert -size 64x48 gradient:red-blue -strip x.png; green-yellow, quality 70, x.jpg). */
START_TEST(images)
{
    char root[64];
    test_tmpdir(root);
    char p[256];
    snprintf(p, sizeof p, "%s/content", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/content/pics", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    fixture(root, "gradient-64x48.png", "pics/curve.png");
    fixture(root, "gradient-64x48.jpg", "photo.jpg");
    put(root, "content/index.md", "# An article\n\nIts summary.\n");
    put(root, "content/01-ch.md", "# Pictures\n\n![A red-blue gradient](pics/curve.png)\n\n![A photo](photo.jpg)\n\n"
                                  "Inline ![the same photo](photo.jpg) and a remote ![remote](https://example.org/x.png).\n");
    kiln_build_opts o = opts(root);
    kiln_build_stats st;
    kiln_diag d = {0};
    ck_assert_msg(kiln_report_build(&o, &st, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    xmlDocPtr h = page(root, "01-ch.html");
    STR(h, "//img[@alt='A red-blue gradient']/@src", "media/curve.png");
    STR(h, "//img[@alt='A photo']/@src", "media/photo.jpg");
    STR(h, "//img[@alt='the same photo']/@src", "media/photo.jpg");   /* one copy per file */
    STR(h, "//img[@alt='remote']/@src", "https://example.org/x.png");
    xmlFreeDoc(h);
    /* the copies are the files */
    size_t a = 0, b = 0;
    char *orig = test_read_file("tests/fixtures/gradient-64x48.jpg", &a);
    snprintf(p, sizeof p, "%s/out/media/photo.jpg", root);
    char *copy = test_read_file(p, &b);
    ck_assert(orig && copy && a == b && !memcmp(orig, copy, a));
    free(orig);
    free(copy);
    snprintf(p, sizeof p, "%s/out/media/curve.png", root);
    ck_assert_int_eq(access(p, R_OK), 0);
    /* the PDF embeds both block images (PNG and JPEG) at their size */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdfimages -list '%s/out/report.pdf' | awk 'NR>2 {print $4 \"x\" $5 \" \" $9}' > '%s/img.txt'", root, root);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/img.txt", root);
    char *list = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(list);
    ck_assert_msg(strstr(list, "64x48 image") && strstr(list, "64x48 jpeg"), "pdfimages: %s", list);
    free(list);
    char *t = pdf_text(root, "");
    ck_assert_ptr_nonnull(strstr(t, "[image: the same photo]"));   /* an inline image: its alt text */
    free(t);
}
END_TEST

START_TEST(image_errors)
{
    char root[64];
    kiln_diag d;
    ck_assert_int_eq(build2(root, "# One\n\n![a missing file](nope.png)\n", "# Two\n", &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "01-one.md:3: image 'nope.png': cannot read") && strstr(d.text, "No such file"), "%s", d.text);
    kiln_diag_free(&d);
    ck_assert_int_eq(build2(root, "# One\n\nText.\n\n![](https://example.org/x.png)\n", "# Two\n", &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "01-one.md:5: image 'https://example.org/x.png' has no alt text"), "%s", d.text);
    kiln_diag_free(&d);
    test_tmpdir(root);
    char p[256];
    snprintf(p, sizeof p, "%s/content", root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    put(root, "content/index.md", "# A\n\nS.\n");
    put(root, "content/fake.png", "GIF89a not a png");
    put(root, "content/01-one.md", "# One\n\n![a fake](fake.png)\n");
    kiln_build_opts o = opts(root);
    kiln_build_stats st;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "01-one.md:3: image 'fake.png'") && strstr(d.text, "is not a PNG or JPEG file"), "%s", d.text);
    kiln_diag_free(&d);
}
END_TEST

START_TEST(gfm_errors)
{
    expect_error("# T\n\n> [!DANGER]\n> Boom.\n", "ch.md:3:", "unknown callout '[!DANGER]'; accepted: [!NOTE], [!TIP], [!IMPORTANT], [!WARNING], [!CAUTION]");
    expect_error("# T\n\nA note[^nope] without its text.\n", "ch.md:3:", "footnote '[^nope]' has no definition");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("markdown");
    TCase *t = tcase_create("math");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, math_in_both_outputs);
    tcase_add_test(t, math_errors);
    tcase_add_test(t, math_values);
    suite_add_tcase(s, t);
    TCase *g = tcase_create("gfm");
    tcase_set_timeout(g, 120);
    tcase_add_test(g, gfm_in_both_outputs);
    tcase_add_test(g, callouts);
    tcase_add_test(g, links_and_sections);
    tcase_add_test(g, heading_ids);
    tcase_add_test(g, images);
    tcase_add_test(g, image_errors);
    tcase_add_test(g, gfm_errors);
    suite_add_tcase(s, g);
    TCase *c = tcase_create("citations");
    tcase_set_timeout(c, 120);
    tcase_add_test(c, citations_in_both_outputs);
    tcase_add_test(c, citation_errors);
    suite_add_tcase(s, c);
    return test_run_suite(s);
}
