/* The front matter of index.md: the title, subtitle, authors, date,
 * abstract and language, as a block of YAML between two "---" lines at the
 * very top of the file (what Pandoc, Quarto, Jekyll and Hugo read, and what
 * GitHub shows as a table). Only the subset documented in the README is
 * read; anything else is an error at its line, never silently ignored:
 *
 *   key: plain text        # a comment
 *   key: "quoted: text"    (or 'single', '' for a quote)
 *   key: |                 (or >: the indented lines below, Markdown for
 *     lines of text         the abstract; one line of text for the others)
 *   author:
 *     - A Name             (or `author: A Name` for one)
 *     - name: Other Name
 *       affiliation: Where
 *
 * The block's lines are blanked in the text before cmark reads it, so the
 * Markdown after it keeps its line numbers. */
#include "doc/loader.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const KEYS[] = {"title", "subtitle", "author", "date", "abstract", "lang", NULL};
static const char *const AUTHOR_KEYS[] = {"name", "affiliation", NULL};

typedef struct fline {
    const char *s;   /* the line without its end (and without a '\r') */
    int len, no;     /* length, line number in the file */
    int indent;      /* leading spaces; -1 for a blank line */
    int comment;     /* its first character after the spaces is '#' */
} fline;

/* Nothing to read on it: blank, or a comment (outside a block of lines). */
static int skip(const fline *l) { return l->indent < 0 || l->comment; }

typedef struct fm {
    loader *L;
    const char *file;
    fline *ln;
    int n;
    int bad;
} fm;

#define FM_ERR(F, line, ...) (kd_error((F)->L->d, KILN_REPORT_EINPUT, (F)->file, (line), "front matter: " __VA_ARGS__), (F)->bad = 1)

static int is_marker(const char *s, int len, const char *m)
{
    int k = (int)strlen(m);
    if (len < k || strncmp(s, m, (size_t)k)) return 0;
    for (int i = k; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

/* "key:" at the start of s (followed by a space or the end); its length, 0
 * when s does not start so. */
static int key_len(const char *s, int len)
{
    int i = 0;
    if (len < 2 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
    while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-')) i++;
    if (i >= len || s[i] != ':' || (i + 1 < len && s[i + 1] != ' ')) return 0;
    return i;
}

static const char *keys_list(fm *F, const char *const *keys)
{
    sbuf b = {0};
    join_list(&b, keys);
    const char *s = ka_strdup(F->L->a, b.s ? b.s : "");
    sb_free(&b);
    return s;
}

/* A plain (unquoted) value's text: a " #" comment cut, spaces trimmed. */
static void plain_part(sbuf *b, const char *s, int len)
{
    for (int i = 0; i < len; i++)
        if (s[i] == '#' && (i == 0 || s[i - 1] == ' ')) { len = i; break; }
    while (len > 0 && s[len - 1] == ' ') len--;
    while (len > 0 && *s == ' ') s++, len--;
    if (!len) return;
    if (b->len && b->s[b->len - 1] != '\n') sb_addc(b, ' ');
    sb_addn(b, s, (size_t)len);
}

/* A value that starts on line `at` (text from s) and goes on over lines
 * (at, end) more indented than `col`: plain, quoted or a block scalar.
 * md: keep the lines (Markdown), else one line of text. Returns the text in
 * the arena, NULL after an error; *first the line its text starts on. */
static const char *value(fm *F, int at, const char *s, int len, int end, int col, int md, const char *what, int *first)
{
    while (len > 0 && *s == ' ') s++, len--;
    while (len > 0 && s[len - 1] == ' ') len--;
    int no = F->ln[at].no;
    *first = no;
    sbuf b = {0};
    const char *out = NULL;
    if (len && (*s == '|' || *s == '>')) {
        /* a block scalar: |, >, with - or + (chomping, which changes nothing
         * here); the indented lines below, less their common indentation */
        int k = 1;
        if (k < len && (s[k] == '-' || s[k] == '+')) k++;
        while (k < len && s[k] == ' ') k++;
        if (k < len && s[k] != '#') {
            FM_ERR(F, no, "%s: only '|' or '>' (with '-' or '+') may follow the key for a block of lines, not '%.*s'",
                   what, len, s);
            return NULL;
        }
        int ind = -1;
        for (int i = at + 1; i < end; i++)
            if (!skip(&F->ln[i]) && F->ln[i].indent > col) { ind = F->ln[i].indent; *first = F->ln[i].no; break; }
        if (ind < 0) {
            FM_ERR(F, no, "%s: '%c' needs indented lines below it", what, *s);
            return NULL;
        }
        for (int i = at + 1; i < end; i++) {
            const fline *l = &F->ln[i];
            /* a '#' line at the block's indentation is text (a Markdown
             * heading); one to the left of it a comment */
            int text = l->indent >= ind;
            if (!text && !skip(l)) {
                FM_ERR(F, l->no, "%s: this line is indented less than the first line of the block (%d spaces)", what, ind);
                sb_free(&b);
                return NULL;
            }
            if (md) {
                if (b.len || text) sb_addn(&b, text ? l->s + ind : "", text ? (size_t)(l->len - ind) : 0);
                if (b.len) sb_addc(&b, '\n');
            } else if (text) {
                if (b.len) sb_addc(&b, ' ');
                sb_addn(&b, l->s + ind, (size_t)(l->len - ind));
            }
        }
    } else if (len && (*s == '"' || *s == '\'')) {
        /* quoted: may go on over the following lines (joined with a space) */
        sbuf raw = {0};
        sb_addn(&raw, s, (size_t)len);
        for (int i = at + 1; i < end; i++) {
            if (skip(&F->ln[i])) continue;
            sb_addc(&raw, ' ');
            sb_addn(&raw, F->ln[i].s + F->ln[i].indent, (size_t)(F->ln[i].len - F->ln[i].indent));
        }
        char q = raw.s[0];
        const char *p = raw.s + 1;
        int closed = 0;
        while (*p) {
            if (q == '\'' && p[0] == '\'' && p[1] == '\'') { sb_addc(&b, '\''); p += 2; continue; }
            if (*p == q) { closed = 1; p++; break; }
            if (q == '"' && *p == '\\') {
                static const char esc[] = "\"\\/nt";
                static const char rep[] = "\"\\/\n\t";
                const char *e = p[1] ? strchr(esc, p[1]) : NULL;
                if (!e) {
                    FM_ERR(F, no, "%s: the escape '\\%c' is not read (only \\\" \\\\ \\/ \\n \\t)", what, p[1] ? p[1] : ' ');
                    sb_free(&raw);
                    sb_free(&b);
                    return NULL;
                }
                sb_addc(&b, rep[e - esc]);
                p += 2;
                continue;
            }
            sb_addc(&b, *p++);
        }
        while (*p == ' ') p++;
        if (!closed || (*p && *p != '#')) {
            if (closed) FM_ERR(F, no, "%s: text after the closing quote", what);
            else FM_ERR(F, no, "%s: the quote is not closed", what);
            sb_free(&raw);
            sb_free(&b);
            return NULL;
        }
        sb_free(&raw);
        if (!md)
            for (size_t i = 0; i < b.len; i++)
                if (b.s[i] == '\n' || b.s[i] == '\t') b.s[i] = ' ';
    } else {
        if (len && strchr("[{", *s)) {
            FM_ERR(F, no, "%s: lists and maps in brackets ('[...]', '{...}') are not read; write a list as '- ' lines", what);
            return NULL;
        }
        if (len && strchr("&*!@`%", *s)) {
            FM_ERR(F, no, "%s: a value may not start with '%c' (anchors, aliases and tags are not read); put it in quotes", what, *s);
            return NULL;
        }
        if (len >= 2 && s[0] == '-' && s[1] == ' ') {
            FM_ERR(F, no, "%s takes one text, not a list", what);
            return NULL;
        }
        if (md) {
            /* the lines as they are, for Markdown to join */
            plain_part(&b, s, len);
            for (int i = at + 1; i < end; i++) {
                sb_addc(&b, '\n');
                if (!skip(&F->ln[i])) plain_part(&b, F->ln[i].s, F->ln[i].len);
            }
        } else {
            plain_part(&b, s, len);
            for (int i = at + 1; i < end; i++)
                if (!skip(&F->ln[i])) plain_part(&b, F->ln[i].s, F->ln[i].len);
        }
        for (size_t i = 0; b.s && i + 1 < b.len; i++)
            if (b.s[i] == ':' && b.s[i + 1] == ' ') {
                FM_ERR(F, no, "%s: ': ' inside a value without quotes; put the value in quotes (\"...\")", what);
                sb_free(&b);
                return NULL;
            }
    }
    size_t n = b.len;
    while (n && (b.s[n - 1] == '\n' || b.s[n - 1] == ' ')) n--;
    if (!n && !md) {
        FM_ERR(F, no, "%s has no value", what);
        sb_free(&b);
        return NULL;
    }
    out = ka_strndup(F->L->a, b.s ? b.s : "", n);
    sb_free(&b);
    return out;
}

/* The end of the value starting at line i: the next line at column col or
 * less that is not blank (with lists: not a "- " item either, for
 * `author:` followed by items at the margin). */
static int value_end(const fm *F, int i, int col, int items_at_col)
{
    int j = i + 1;
    for (; j < F->n; j++) {
        const fline *l = &F->ln[j];
        if (skip(l) || l->indent > col) continue;
        if (items_at_col && l->indent == col && l->len > col && l->s[col] == '-' &&
            (l->len == col + 1 || l->s[col + 1] == ' '))
            continue;
        break;
    }
    return j;
}

static int valid_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return 0;
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (*y % 4 == 0 && *y % 100) || *y % 400 == 0;
    return *m >= 1 && *m <= 12 && *d >= 1 && *d <= days[*m - 1] + (*m == 2 && leap);
}

/* BCP 47 in the shape that matters here: a 2-3 letter language, then
 * subtags of 1-8 letters or digits (en, en-GB, pt-BR, zh-Hant). */
static int valid_lang(const char *s)
{
    int i = 0;
    while (isalpha((unsigned char)s[i])) i++;
    if (i < 2 || i > 3) return 0;
    while (s[i] == '-') {
        int k = ++i;
        while (isalnum((unsigned char)s[i])) i++;
        if (i - k < 1 || i - k > 8) return 0;
    }
    return !s[i];
}

/* The authors under `author:` (lines (i, end)), or one written on its line. */
static void authors(fm *F, int i, const char *rest, int rlen, int end)
{
    kiln_doc *doc = F->L->doc;
    kiln_author *v = NULL;
    int n = 0, cap = 0, first;
    while (rlen > 0 && *rest == ' ') rest++, rlen--;
    if (rlen && *rest != '#') {
        const char *name = value(F, i, rest, rlen, end, 0, 0, "author", &first);
        if (!name) return;
        v = ka_alloc(F->L->a, sizeof *v);
        v->name = name;
        v->affiliation = "";
        doc->authors = v;
        doc->n_authors = 1;
        return;
    }
    int col = -1;
    for (int j = i + 1; j < end;) {
        const fline *l = &F->ln[j];
        if (skip(l)) { j++; continue; }
        const char *s = l->s + l->indent;
        int len = l->len - l->indent;
        if (!(len >= 1 && s[0] == '-' && (len == 1 || s[1] == ' '))) {
            FM_ERR(F, l->no, "author: each author is a line '- Name' or '- name: Name' (with 'affiliation: ...' below it)");
            return;
        }
        if (col < 0) col = l->indent;
        if (l->indent != col) {
            FM_ERR(F, l->no, "author: the '- ' items are not in one column (the first is at column %d)", col + 1);
            return;
        }
        /* the item: its lines up to the next item at this column */
        int e = j + 1;
        while (e < end && (skip(&F->ln[e]) || F->ln[e].indent > col)) e++;
        int c2 = col + 2;
        while (c2 - col < len && s[c2 - col] == ' ') c2++;
        const char *t = l->s + c2;
        int tl = l->len - c2;
        if (tl < 0) tl = 0;
        kiln_author a = {"", ""};
        if (tl == 0 || !key_len(t, tl)) {
            const char *name = tl ? value(F, j, t, tl, e, col, 0, "author", &first) : NULL;
            if (!tl) FM_ERR(F, l->no, "author: an empty '- ' item");
            if (!name) return;
            a.name = name;
        } else {
            /* a map: name and affiliation, each at the first key's column */
            int have[2] = {0, 0};
            for (int k = j; k < e;) {
                const fline *m = &F->ln[k];
                int mc = k == j ? c2 : m->indent;
                if (k > j && skip(m)) { k++; continue; }
                if (k > j && mc != c2) {
                    FM_ERR(F, m->no, "author: '%.*s' is not under the author's first key (column %d)", m->len - m->indent,
                           m->s + m->indent, c2 + 1);
                    return;
                }
                const char *ks = m->s + mc;
                int kl = key_len(ks, m->len - mc);
                if (!kl) {
                    FM_ERR(F, m->no, "author: not 'key: value'; an author's keys are %s", keys_list(F, AUTHOR_KEYS));
                    return;
                }
                const char *key = ka_strndup(F->L->a, ks, (size_t)kl);
                int ke = k + 1;
                while (ke < e && (skip(&F->ln[ke]) || F->ln[ke].indent > c2)) ke++;
                int which = !strcmp(key, "name") ? 0 : !strcmp(key, "affiliation") ? 1 : -1;
                if (which < 0) {
                    FM_ERR(F, m->no, "unknown key '%s' for an author%s; an author's keys are %s", key,
                           list_hint(F->L, key, AUTHOR_KEYS), keys_list(F, AUTHOR_KEYS));
                    return;
                }
                if (have[which]) {
                    FM_ERR(F, m->no, "author: '%s' is given twice for one author", key);
                    return;
                }
                have[which] = 1;
                const char *val = value(F, k, ks + kl + 1, m->len - mc - kl - 1, ke, c2, 0,
                                        which ? "author's affiliation" : "author's name", &first);
                if (!val) return;
                if (which) a.affiliation = val;
                else a.name = val;
                k = ke;
            }
            if (!have[0]) {
                FM_ERR(F, l->no, "author: an author without 'name:'");
                return;
            }
        }
        KR_GROW(v, cap, n + 1);
        v[n++] = a;
        j = e;
    }
    if (!n) {
        FM_ERR(F, F->ln[i].no, "author has no value: write 'author: Name', or '- Name' lines below it");
        free(v);
        return;
    }
    kiln_author *arr = ka_alloc(F->L->a, sizeof *arr * (size_t)n);
    memcpy(arr, v, sizeof *arr * (size_t)n);
    free(v);
    doc->authors = arr;
    doc->n_authors = n;
}

/* The abstract's Markdown, parsed as if it stood at its lines of the file
 * (so its messages name them): newlines first, then the text. */
static void abstract(fm *F, const char *md, int first)
{
    sbuf b = {0};
    for (int i = 1; i < first; i++) sb_addc(&b, '\n');
    sb_add(&b, md);
    sb_addc(&b, '\n');
    F->L->doc->abstract = parse_markdown(F->L, F->file, b.s, b.len);
    sb_free(&b);
}

int front_matter(loader *L, const char *file, char *text, size_t len)
{
    kiln_doc *doc = L->doc;
    /* the lines, up to the closing "---" (or "...") */
    fm F = {L, file, NULL, 0, 0};
    int cap = 0, close = -1;
    char *p = text, *end = text + len;
    for (int no = 1; p < end; no++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        int l = (int)(e - p);
        if (l && p[l - 1] == '\r') l--;
        if (no == 1) {
            if (!is_marker(p, l, "---")) return 0;
        } else if (is_marker(p, l, "---") || is_marker(p, l, "...")) {
            close = no;
            break;
        } else {
            KR_GROW(F.ln, cap, F.n + 1);
            fline *fl = &F.ln[F.n++];
            fl->s = p;
            fl->len = l;
            fl->no = no;
            int k = 0;
            while (k < l && p[k] == ' ') k++;
            fl->indent = k == l ? -1 : k;
            fl->comment = k < l && p[k] == '#';
            if (k < l && p[k] == '\t') {
                FM_ERR(&F, no, "a tab in the indentation (front matter is indented with spaces)");
                fl->indent = -1;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (close < 0) {
        kd_error(L->d, KILN_REPORT_EINPUT, file, 1,
                 "front matter: the '---' on the first line opens a front matter block that no '---' line closes");
        free(F.ln);
        return 1;
    }
    int seen[6] = {0};
    for (int i = 0; i < F.n;) {
        const fline *l = &F.ln[i];
        if (skip(l)) { i++; continue; }
        if (l->indent > 0) {
            FM_ERR(&F, l->no, "an indented line where a key should start (keys start at the beginning of the line)");
            i = value_end(&F, i, 0, 0);
            continue;
        }
        int kl = key_len(l->s, l->len);
        if (!kl) {
            FM_ERR(&F, l->no, "not 'key: value'; accepted keys: %s", keys_list(&F, KEYS));
            i = value_end(&F, i, 0, 0);
            continue;
        }
        const char *key = ka_strndup(L->a, l->s, (size_t)kl);
        int k = 0;
        while (KEYS[k] && strcmp(KEYS[k], key)) k++;
        int end_i = value_end(&F, i, 0, k == 2);
        if (!KEYS[k]) {
            FM_ERR(&F, l->no, "unknown key '%s'%s; accepted keys: %s", key, list_hint(L, key, KEYS), keys_list(&F, KEYS));
            i = end_i;
            continue;
        }
        if (seen[k]) {
            FM_ERR(&F, l->no, "key '%s' is given twice (first on line %d)", key, seen[k]);
            i = end_i;
            continue;
        }
        seen[k] = l->no;
        const char *rest = l->s + kl + 1;
        int rlen = l->len - kl - 1, first;
        if (k == 2) {
            authors(&F, i, rest, rlen, end_i);
        } else {
            const char *v = value(&F, i, rest, rlen, end_i, 0, k == 4, key, &first);
            if (v && k == 0) doc->title = v;
            else if (v && k == 1) doc->subtitle = v;
            else if (v && k == 3) {
                int y, m, d;
                static const char *const months[12] = {"January", "February", "March", "April", "May", "June", "July",
                                                       "August", "September", "October", "November", "December"};
                if (!valid_date(v, &y, &m, &d))
                    FM_ERR(&F, l->no, "date '%s' is not a date written YYYY-MM-DD (e.g. 2026-12-03)", v);
                else {
                    doc->date = v;
                    doc->date_text = ka_printf(L->a, "%d %s %d", d, months[m - 1], y);
                }
            } else if (v && k == 4) {
                if (!*v) FM_ERR(&F, l->no, "abstract has no text");
                else abstract(&F, v, first);
            } else if (v && k == 5) {
                if (!valid_lang(v)) FM_ERR(&F, l->no, "lang '%s' is not a language tag (en, en-GB, de, fr, pt-BR, ...)", v);
                else doc->lang = v;
            }
        }
        i = end_i;
    }
    /* blank the block (its line ends stay) so cmark starts after it */
    for (char *q = text; q < text + len; q++) {
        if (*q == '\n' && --close == 0) break;
        if (*q != '\n') *q = ' ';
    }
    free(F.ln);
    return F.bad;
}
