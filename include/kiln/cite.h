/* kiln cite: a BibTeX database read with btparse, pandoc's citation syntax
 * found in prose, author-year citations and a sorted reference list of
 * exactly the works cited.
 *
 *   [@smith2017]              (Smith 2017)
 *   [@smith2017, p. 3]        (Smith 2017, p. 3)
 *   [see @lau2017; @smith2017] (see Lau 2017; Smith 2017)
 *   [-@smith2017]             (2017)
 *   @smith2017                Smith (2017)
 *   @smith2017 [p. 3]         Smith (2017, p. 3) */
#ifndef KILN_CITE_H
#define KILN_CITE_H

#include <stddef.h>

typedef struct cite_error {
    char file[512];
    int line;              /* 0 when no line applies */
    char msg[512];
} cite_error;

typedef struct cite_entry {
    char *key, *type;      /* type lower case: article, inproceedings, misc ... */
    int line;              /* where the entry starts in the .bib */
    char *names;           /* for the text: "Smith", "Smith and Topin", "Kingma et al." */
    char *authors;         /* for the list: "Smith, L. N., and N. Topin" */
    char *year;            /* with a disambiguating letter once finished: "2017a" */
    char *title, *container, *volume, *number, *pages, *publisher, *doi, *url, *note;
    int cited;             /* order of first citation, 0 = not cited */
} cite_entry;

typedef struct cite_bib {
    char *path;
    cite_entry *e;
    int n;
    int n_cited;
    int *slot;      /* the keys' hash table: index + 1 in e, 0 empty */
    size_t cap;     /* its size, a power of two, at least twice n */
} cite_bib;

typedef struct cite_errors {
    cite_error *e;         /* malloc'd; free(e) */
    int n;
} cite_errors;

/* Read a .bib file: each entry needs a key, author (or editor) and year;
 * @string macros are expanded, @comment and @preamble are skipped. NULL
 * with every error in *errs (FILE:LINE, in file order: an unreadable file,
 * a syntax error, a duplicate key, a missing author or year; the entries
 * after an error are still read). cite_load gives the first one only. */
cite_bib *cite_load_all(const char *path, cite_errors *errs);
cite_bib *cite_load(const char *path, cite_error *err);
void cite_free(cite_bib *b);
cite_entry *cite_find(cite_bib *b, const char *key);

/* One citation in prose. */
typedef struct cite_item {
    char *key, *prefix, *locator;   /* prefix "see", locator "p. 3"; "" when none */
    int suppress_author;            /* [-@key] */
} cite_item;

typedef struct cite_cite {
    cite_item *item;
    int n;
    int narrative;                  /* @key, not in brackets */
    size_t start, end;              /* byte span in the text scanned */
} cite_cite;

/* The next citation in text[*pos..len): 1 and *out (free with
 * cite_cite_free), *pos after it; 0 when there is none. A bracket that is not
 * a citation ([a link], [see @ x]) or an e-mail address (a@b.org) is left
 * alone. */
int cite_scan(const char *text, size_t len, size_t *pos, cite_cite *out);
void cite_cite_free(cite_cite *c);

/* Mark the cited entries (in citation order); -1 and a message naming the
 * key when one is not in the bibliography. */
int cite_use(cite_bib *b, const cite_cite *c, char *msg, size_t n);
/* After every cite_use: years of works with the same names and year get
 * letters (2017a, 2017b) in reference-list order. */
void cite_finish(cite_bib *b);
/* The in-text form of a citation, malloc'd: "(Smith 2017, p. 3)",
 * "Smith (2017)". Call after cite_finish. */
char *cite_text(cite_bib *b, const cite_cite *c);
/* Whether item i of a bracketed citation follows one by the same authors
 * and so prints as its year only, "(Surmenok 2018, 2019)": neither has a
 * prefix, a locator or a suppressed author. */
int cite_same_authors(cite_bib *b, const cite_cite *c, int i);
/* The cited entries in reference-list order (names, year, title); n out. */
cite_entry **cite_cited(cite_bib *b, int *n);
/* An entry's anchor id for links: "ref-" + key, with characters outside
 * [A-Za-z0-9_-] as '-'. */
char *cite_anchor(const cite_entry *e);

/* One reference of the list as styled parts: plain, italic (the container
 * or a book's title) and link (DOI or URL; url holds the target). */
typedef struct cite_part { int style; char *text; char *url; } cite_part;
enum { CITE_PLAIN, CITE_ITALIC, CITE_LINK };
int cite_reference(const cite_entry *e, cite_part **parts);   /* count; free with cite_parts_free */
void cite_parts_free(cite_part *p, int n);

#endif
