/* The citation library: .bib reading (btparse), pandoc's citation syntax,
 * author-year text, the reference list, and every error with its line. */
#include "kiln/cite.h"
#include "testutil.h"

static const char *BIB =
    "% the works an article on learning rates draws on\n"
    "@string{arxiv = \"arXiv preprint\"}\n"
    "@article{smith2017,\n"
    "  author = {Smith, Leslie N.},\n"
    "  title = {Cyclical Learning Rates for Training Neural Networks},\n"
    "  journal = {2017 IEEE Winter Conference on Applications of Computer Vision (WACV)},\n"
    "  pages = {464--472},\n"
    "  year = 2017,\n"
    "  doi = {10.1109/WACV.2017.58}\n"
    "}\n"
    "\n"
    "@misc{smith2017super,\n"
    "  author = {Smith, Leslie N. and Topin, Nicholay},\n"
    "  title = {Super-Convergence: Very Fast Training of Neural Networks Using Large Learning Rates},\n"
    "  howpublished = arxiv # { 1708.07120},\n"
    "  year = {2017},\n"
    "  url = {https://arxiv.org/abs/1708.07120}\n"
    "}\n"
    "@article{kingma2014,\n"
    "  author = {Kingma, Diederik P. and Ba, Jimmy and Someone, Else},\n"
    "  title = {Adam: A Method for Stochastic Optimization},\n"
    "  year = {2014},\n"
    "  url = {https://arxiv.org/abs/1412.6980}\n"
    "}\n"
    "@manual{keras,\n"
    "  author = {{Keras Team}},\n"
    "  title = {Keras documentation: {LearningRateScheduler}},\n"
    "  year = {2024},\n"
    "  url = {https://keras.io/api/callbacks/learning_rate_scheduler/}\n"
    "}\n"
    "@misc{unused, author = {Nobody, A.}, year = {2000}, title = {Never cited}}\n"
    "@misc{smith2017b, author = {Smith, Leslie N.}, year = {2017}, title = {Another one}}\n";

static char dir[64];

static const char *write_bib(const char *name, const char *text)
{
    static char path[256];
    if (!dir[0]) test_tmpdir(dir);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(test_write_file(path, text, strlen(text)), 0);
    return path;
}

static cite_bib *load(void)
{
    cite_error e;
    cite_bib *b = cite_load(write_bib("refs.bib", BIB), &e);
    ck_assert_msg(b != NULL, "%s:%d: %s", e.file, e.line, e.msg);
    return b;
}

START_TEST(bib_fields_and_names)
{
    cite_bib *b = load();
    ck_assert_int_eq(b->n, 6);
    cite_entry *s = cite_find(b, "smith2017");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->type, "article");
    ck_assert_int_eq(s->line, 3);
    ck_assert_str_eq(s->names, "Smith");
    ck_assert_str_eq(s->authors, "Smith, L. N.");
    ck_assert_str_eq(s->year, "2017");
    ck_assert_str_eq(s->pages, "464–472");
    ck_assert_str_eq(s->doi, "10.1109/WACV.2017.58");
    cite_entry *t = cite_find(b, "smith2017super");
    ck_assert_str_eq(t->names, "Smith and Topin");
    ck_assert_str_eq(t->authors, "Smith, L. N. and N. Topin");
    ck_assert_str_eq(t->container, "arXiv preprint 1708.07120");   /* @string expanded and pasted */
    cite_entry *k = cite_find(b, "kingma2014");
    ck_assert_str_eq(k->names, "Kingma et al.");
    ck_assert_str_eq(k->authors, "Kingma, D. P., J. Ba, and E. Someone");
    cite_entry *kt = cite_find(b, "keras");
    ck_assert_str_eq(kt->names, "Keras Team");   /* a braced corporate author stays whole */
    ck_assert_str_eq(kt->title, "Keras documentation: LearningRateScheduler");
    ck_assert_ptr_null(cite_find(b, "nope"));
    cite_free(b);
}
END_TEST

static cite_cite scan1(const char *text)
{
    size_t pos = 0;
    cite_cite c;
    ck_assert_msg(cite_scan(text, strlen(text), &pos, &c) == 1, "no citation in %s", text);
    return c;
}

START_TEST(syntax)
{
    cite_cite c = scan1("as shown [@smith2017].");
    ck_assert_int_eq(c.n, 1);
    ck_assert_str_eq(c.item[0].key, "smith2017");
    ck_assert_int_eq(c.narrative, 0);
    ck_assert_int_eq((int)c.start, 9);
    ck_assert_int_eq((int)c.end, 21);
    cite_cite_free(&c);
    c = scan1("[@smith2017, p. 3]");
    ck_assert_str_eq(c.item[0].locator, "p. 3");
    cite_cite_free(&c);
    c = scan1("[see @lau2017; @smith2017, pp. 3-5; -@keras]");
    ck_assert_int_eq(c.n, 3);
    ck_assert_str_eq(c.item[0].prefix, "see");
    ck_assert_str_eq(c.item[0].key, "lau2017");
    ck_assert_str_eq(c.item[1].locator, "pp. 3-5");
    ck_assert_int_eq(c.item[2].suppress_author, 1);
    ck_assert_str_eq(c.item[2].key, "keras");
    cite_cite_free(&c);
    c = scan1("as @smith2017 showed");
    ck_assert_int_eq(c.narrative, 1);
    ck_assert_str_eq(c.item[0].key, "smith2017");
    ck_assert_int_eq((int)c.end, 13);
    cite_cite_free(&c);
    c = scan1("@smith2017 [p. 3] says");
    ck_assert_str_eq(c.item[0].locator, "p. 3");
    ck_assert_int_eq((int)c.end, 17);
    cite_cite_free(&c);
    c = scan1("see @smith2017.");   /* the full stop ends the sentence, not the key */
    ck_assert_str_eq(c.item[0].key, "smith2017");
    cite_cite_free(&c);
    c = scan1("keys may hold punctuation: @doe:2020/x-1, like this");
    ck_assert_str_eq(c.item[0].key, "doe:2020/x-1");
    cite_cite_free(&c);
    /* not citations */
    const char *none[] = {"mail me at a@b.org", "[a link](x.md)", "[not @ a cite]", "[plain text]", "x@y", "[@key](url)",
                          "an @ sign", "[unclosed @key"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        size_t pos = 0;
        cite_cite d;
        int found = cite_scan(none[i], strlen(none[i]), &pos, &d);
        ck_assert_msg(!found || (d.narrative && strcmp(none[i], "[unclosed @key") == 0), "'%s' read as a citation", none[i]);
        if (found) cite_cite_free(&d);
    }
    /* several in one text, in order */
    const char *t = "@smith2017 and [@kingma2014] and [@keras]";
    size_t pos = 0;
    int n = 0;
    cite_cite d;
    while (cite_scan(t, strlen(t), &pos, &d)) { n++; cite_cite_free(&d); }
    ck_assert_int_eq(n, 3);
}
END_TEST

static char *render(cite_bib *b, const char *text)
{
    cite_cite c = scan1(text);
    char msg[256];
    ck_assert_int_eq(cite_use(b, &c, msg, sizeof msg), 0);
    cite_finish(b);
    char *s = cite_text(b, &c);
    cite_cite_free(&c);
    return s;
}

START_TEST(author_year_text)
{
    cite_bib *b = load();
    struct { const char *in, *out; } cases[] = {
        {"[@kingma2014]", "(Kingma et al. 2014)"},
        {"[@smith2017super, p. 3]", "(Smith and Topin 2017, p. 3)"},
        {"@kingma2014", "Kingma et al. (2014)"},
        {"@kingma2014 [sec. 2]", "Kingma et al. (2014, sec. 2)"},
        {"[see @keras; -@kingma2014]", "(see Keras Team 2024; 2014)"},
        /* works by the same authors in a row print their years only, unless
         * a locator or prefix is in the way (last: it adds the letters) */
        {"[@smith2017; @smith2017b; @smith2017super; @smith2017b, p. 4; @smith2017]",
         "(Smith 2017b, 2017a; Smith and Topin 2017; Smith 2017a, p. 4; Smith 2017b)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = render(b, cases[i].in);
        ck_assert_str_eq(s, cases[i].out);
        free(s);
    }
    cite_free(b);
}
END_TEST

START_TEST(reference_list)
{
    cite_bib *b = load();
    const char *cites[] = {"[@smith2017b]", "[@smith2017super]", "[@kingma2014]", "[@smith2017]", "[@smith2017]"};
    char msg[256];
    for (size_t i = 0; i < sizeof cites / sizeof cites[0]; i++) {
        cite_cite c = scan1(cites[i]);
        ck_assert_int_eq(cite_use(b, &c, msg, sizeof msg), 0);
        cite_cite_free(&c);
    }
    cite_finish(b);
    int n;
    cite_entry **v = cite_cited(b, &n);
    ck_assert_int_eq(n, 4);   /* exactly the cited works, each once */
    ck_assert_str_eq(v[0]->key, "kingma2014");
    /* Smith 2017 twice: letters in list order (by title) */
    ck_assert_str_eq(v[1]->key, "smith2017b");
    ck_assert_str_eq(v[1]->year, "2017a");
    ck_assert_str_eq(v[2]->key, "smith2017");
    ck_assert_str_eq(v[2]->year, "2017b");
    ck_assert_str_eq(v[3]->key, "smith2017super");
    ck_assert_str_eq(v[3]->year, "2017");   /* Smith and Topin: different names, no letter */
    cite_part *p;
    int np = cite_reference(v[2], &p);
    char all[2048] = "";
    int links = 0, italics = 0;
    for (int i = 0; i < np; i++) {
        strcat(all, p[i].text);
        if (p[i].style == CITE_LINK) { links++; ck_assert_str_eq(p[i].url, "https://doi.org/10.1109/WACV.2017.58"); }
        if (p[i].style == CITE_ITALIC) italics++;
    }
    ck_assert_str_eq(all, "Smith, L. N. (2017b). Cyclical Learning Rates for Training Neural Networks. "
                          "2017 IEEE Winter Conference on Applications of Computer Vision (WACV), 464–472. "
                          "https://doi.org/10.1109/WACV.2017.58");
    ck_assert_int_eq(links, 1);
    ck_assert_int_eq(italics, 1);
    cite_parts_free(p, np);
    np = cite_reference(v[3], &p);
    ck_assert_int_eq(p[np - 1].style, CITE_LINK);
    ck_assert_str_eq(p[np - 1].url, "https://arxiv.org/abs/1708.07120");
    cite_parts_free(p, np);
    char *a = cite_anchor(v[0]);
    ck_assert_str_eq(a, "ref-kingma2014");
    free(a);
    free(v);
    cite_free(b);
}
END_TEST

/* Undated works (n.d.) by the same author get n.d.-a, n.d.-b (APA). */
START_TEST(undated_letters)
{
    cite_error e;
    cite_bib *b = cite_load(write_bib("nd.bib",
        "@manual{k1, author = {{Keras Team}}, year = {n.d.}, title = {Callbacks}}\n"
        "@manual{k2, author = {{Keras Team}}, year = {n.d.}, title = {Optimizers}}\n"), &e);
    ck_assert_msg(b != NULL, "%s:%d: %s", e.file, e.line, e.msg);
    char msg[256];
    cite_cite c = scan1("[@k2; @k1]");
    ck_assert_int_eq(cite_use(b, &c, msg, sizeof msg), 0);
    cite_cite_free(&c);
    cite_finish(b);
    int n;
    cite_entry **v = cite_cited(b, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(v[0]->key, "k1");
    ck_assert_str_eq(v[0]->year, "n.d.-a");
    ck_assert_str_eq(v[1]->year, "n.d.-b");
    free(v);
    cite_free(b);
}
END_TEST

/* Past the 26th work of one author and year the letters go on as aa, ab,
 * ... (they wrapped to a, b: two works with one label). */
START_TEST(many_letters)
{
    char bib[8192] = "";
    for (int i = 0; i < 30; i++) {
        char one[160];
        snprintf(one, sizeof one, "@misc{w%02d, author = {Smith, A}, year = {2020}, title = {T%02d}}\n", i, i);
        strcat(bib, one);
    }
    cite_error e;
    cite_bib *b = cite_load(write_bib("many.bib", bib), &e);
    ck_assert_msg(b != NULL, "%s:%d: %s", e.file, e.line, e.msg);
    char msg[256];
    for (int i = 0; i < 30; i++) {
        char key[16];
        snprintf(key, sizeof key, "[@w%02d]", i);
        cite_cite c = scan1(key);
        ck_assert_int_eq(cite_use(b, &c, msg, sizeof msg), 0);
        cite_cite_free(&c);
    }
    cite_finish(b);
    int n;
    cite_entry **v = cite_cited(b, &n);
    ck_assert_int_eq(n, 30);
    ck_assert_str_eq(v[0]->year, "2020a");
    ck_assert_str_eq(v[25]->year, "2020z");
    ck_assert_str_eq(v[26]->year, "2020aa");
    ck_assert_str_eq(v[29]->year, "2020ad");
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) ck_assert_str_ne(v[i]->year, v[j]->year);
    free(v);
    cite_free(b);
}
END_TEST

START_TEST(unknown_key)
{
    cite_bib *b = load();
    cite_cite c = scan1("[@smith2017; @nosuch2020]");
    char msg[256];
    ck_assert_int_eq(cite_use(b, &c, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "unknown citation key '@nosuch2020'"));
    ck_assert_ptr_nonnull(strstr(msg, "refs.bib"));
    cite_cite_free(&c);
    cite_free(b);
}
END_TEST

/* Every error in a .bib: the message and its line. */
static const struct { const char *bib, *msg; int line; } bad[] = {
    {"@article{a, author = {X, Y}, year = {2000}}\n\n@article{b,\n  title = {No author},\n  year = {2001}\n}\n",
     "entry 'b' has no author", 3},
    {"@article{a,\n  author = {X, Y},\n  title = {No year}\n}\n", "entry 'a' has no year", 1},
    {"@article{a, author = {X, Y}, year = 2000}\n@article{a, author = {Z, W}, year = 2001}\n", "duplicate key 'a'", 2},
    {"@article{a, author = {X, Y}, year = 2000}\n\n@article{b,\n  author = {X, Y},\n  year = {2000\n}\n", "malformed BibTeX entry", 0},
    {"@article{a, author = {X, Y}, year = 2000}\n@article{b\n  author = {X}, year = 1}\n", "malformed BibTeX entry", 0},
    {"@article{ok, author = {X, Y}, year = 2000}\n@article{a, author = {X, Y}, year = 2000, title = \"unclosed}\n", "malformed BibTeX entry", 0},
};

START_TEST(bib_errors)
{
    char name[32];
    snprintf(name, sizeof name, "bad%d.bib", _i);
    const char *path = write_bib(name, bad[_i].bib);
    cite_error e;
    ck_assert_ptr_null(cite_load(path, &e));
    ck_assert_msg(strstr(e.msg, bad[_i].msg) != NULL, "case %d: '%s' lacks '%s'", _i, e.msg, bad[_i].msg);
    ck_assert_str_eq(e.file, path);
    if (bad[_i].line) ck_assert_int_eq(e.line, bad[_i].line);
    else ck_assert_int_gt(e.line, 1);   /* a syntax error points past the good first entry */
    /* the next file reads normally: btparse's state was reset */
    cite_bib *b = load();
    cite_free(b);
}
END_TEST

/* Every error of a .bib is listed, in file order: the entries after a bad
 * one (a syntax error included) are still read. */
START_TEST(every_bib_error)
{
    const char *path = write_bib("many.bib",
        "@misc{a, author = {X, Y}, year = {2000}, title = {T}}\n"
        "@misc{b, title = {No author}, year = {2001}}\n"
        "@misc{c, author = {Z}, title = {No year}}\n"
        "@misc{d, author = {Z} year = {1}}\n"
        "@misc{a, author = {Q}, year = {3}}\n"
        "@misc{e, author = {W}, year = {4}}\n");
    cite_errors es;
    ck_assert_ptr_null(cite_load_all(path, &es));
    ck_assert_int_eq(es.n, 4);
    const int lines[] = {2, 3, 4, 5};
    const char *msgs[] = {"entry 'b' has no author", "entry 'c' has no year", "malformed BibTeX entry", "duplicate key 'a'"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(es.e[i].line, lines[i]);
        ck_assert_msg(strstr(es.e[i].msg, msgs[i]), "%d: %s", i, es.e[i].msg);
        ck_assert_str_eq(es.e[i].file, path);
    }
    free(es.e);
    cite_bib *b = load();
    cite_free(b);
}
END_TEST

START_TEST(unreadable)
{
    cite_error e;
    ck_assert_ptr_null(cite_load("/nonexistent/refs.bib", &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "cannot read the bibliography"));
    ck_assert_str_eq(e.file, "/nonexistent/refs.bib");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cite");
    TCase *t = tcase_create("cite");
    tcase_add_test(t, bib_fields_and_names);
    tcase_add_test(t, syntax);
    tcase_add_test(t, author_year_text);
    tcase_add_test(t, reference_list);
    tcase_add_test(t, undated_letters);
    tcase_add_test(t, many_letters);
    tcase_add_test(t, unknown_key);
    tcase_add_loop_test(t, bib_errors, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(t, every_bib_error);
    tcase_add_test(t, unreadable);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
