/* Pandoc's citation syntax in prose, author-year text and the reference
 * list. See kiln/cite.h. */
#include "cite/internal.h"

#include <ctype.h>
#include <strings.h>

static int key_start(int c) { return isalnum(c) || c == '_'; }
static int key_char(int c) { return isalnum(c) || c == '_' || (c && strchr(":.#$%&-+?<>~/", c)); }

/* A key at s[i..): its end (trailing punctuation is not part of it). */
static size_t key_end(const char *s, size_t i, size_t len)
{
    size_t j = i;
    while (j < len && key_char((unsigned char)s[j])) j++;
    while (j > i && !isalnum((unsigned char)s[j - 1]) && s[j - 1] != '_') j--;
    return j;
}

static char *dup_trim(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    char *o = malloc(n + 1);
    if (!o) return NULL;
    memcpy(o, s, n);
    o[n] = 0;
    return o;
}

void cite_cite_free(cite_cite *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->item[i].key);
        free(c->item[i].prefix);
        free(c->item[i].locator);
    }
    free(c->item);
    memset(c, 0, sizeof *c);
}

static int add_item(cite_cite *c, const char *s, size_t pre_a, size_t pre_b, size_t ka, size_t kb, size_t la, size_t lb, int suppress)
{
    cite_item *t = realloc(c->item, sizeof *t * (size_t)(c->n + 1));
    if (!t) return -1;
    c->item = t;
    cite_item *it = &c->item[c->n++];
    it->prefix = dup_trim(s + pre_a, pre_b - pre_a);
    it->key = dup_trim(s + ka, kb - ka);
    /* the locator: after a comma, or whatever text follows the key */
    while (la < lb && (s[la] == ',' || isspace((unsigned char)s[la]))) la++;
    it->locator = dup_trim(s + la, lb - la);
    it->suppress_author = suppress;
    return it->prefix && it->key && it->locator ? 0 : -1;
}

/* [prefix @key, locator; ...] at s[a] == '['; the citation or 0. */
static int bracketed(const char *s, size_t a, size_t len, cite_cite *out)
{
    size_t b = a + 1;
    while (b < len && s[b] != ']' && s[b] != '[') b++;
    if (b >= len || s[b] != ']') return 0;
    if (b + 1 < len && (s[b + 1] == '(' || s[b + 1] == '[')) return 0;   /* a link */
    cite_cite c = {0};
    size_t i = a + 1;
    while (i <= b) {
        size_t e = i;
        while (e < b && s[e] != ';') e++;
        /* one item s[i..e): prefix, [-]@key, locator */
        size_t at = i;
        while (at < e && !(s[at] == '@' && (at == i || isspace((unsigned char)s[at - 1]) || s[at - 1] == '-'))) at++;
        if (at >= e || at + 1 >= e || !key_start((unsigned char)s[at + 1])) { cite_cite_free(&c); return 0; }
        int suppress = at > i && s[at - 1] == '-';
        size_t ke = key_end(s, at + 1, e);
        if (add_item(&c, s, i, suppress ? at - 1 : at, at + 1, ke, ke, e, suppress)) { cite_cite_free(&c); return 0; }
        i = e + 1;
    }
    c.start = a;
    c.end = b + 1;
    *out = c;
    return 1;
}

int cite_scan(const char *s, size_t len, size_t *pos, cite_cite *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = *pos; i < len; i++) {
        if (s[i] == '[') {
            if (bracketed(s, i, len, out)) { *pos = out->end; return 1; }
            size_t b = i + 1;   /* a link's text cites nothing: [see @x](url) */
            while (b < len && s[b] != ']' && s[b] != '[') b++;
            if (b + 1 < len && s[b] == ']' && (s[b + 1] == '(' || s[b + 1] == '[')) i = b;
            continue;
        }
        if (s[i] != '@' || i + 1 >= len || !key_start((unsigned char)s[i + 1])) continue;
        if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '.')) continue;   /* an e-mail */
        size_t ke = key_end(s, i + 1, len);
        size_t j = ke, la = ke, lb = ke;
        while (j < len && s[j] == ' ') j++;
        if (j < len && s[j] == '[') {   /* @key [p. 3] */
            size_t k = j + 1;
            while (k < len && s[k] != ']' && s[k] != '@' && s[k] != '[') k++;
            if (k < len && s[k] == ']') { la = j + 1; lb = k; j = k + 1; }
            else j = ke;
        } else {
            j = ke;
        }
        cite_cite c = {0};
        if (add_item(&c, s, i, i, i + 1, ke, la, lb, 0)) { cite_cite_free(&c); return 0; }
        c.narrative = 1;
        c.start = i;
        c.end = j;
        *out = c;
        *pos = j;
        return 1;
    }
    *pos = len;
    return 0;
}

int cite_use(cite_bib *b, const cite_cite *c, char *msg, size_t n)
{
    for (int i = 0; i < c->n; i++) {
        cite_entry *e = cite_find(b, c->item[i].key);
        if (!e) {
            snprintf(msg, n, "unknown citation key '@%s' (not in %s)", c->item[i].key, b->path);
            return -1;
        }
        if (!e->cited) e->cited = ++b->n_cited;
    }
    return 0;
}

/* Years in order, a letter suffix (2017a, n.d.-b, 2017aa) after its base:
 * the bases compared as text, then the suffixes shorter first (z before aa). */
static int year_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), sa = la, sb = lb;
    while (sa && islower((unsigned char)a[sa - 1])) sa--;
    while (sb && islower((unsigned char)b[sb - 1])) sb--;
    if (sa == 0) sa = la; /* all letters: no base, compared whole */
    if (sb == 0) sb = lb;
    int r = strncmp(a, b, sa < sb ? sa : sb);
    if (r || sa != sb) return r ? r : (sa < sb ? -1 : 1);
    if (la - sa != lb - sb) return la - sa < lb - sb ? -1 : 1;
    return strcmp(a + sa, b + sb);
}

static int ref_order(const void *pa, const void *pb)
{
    const cite_entry *a = *(cite_entry *const *)pa, *b = *(cite_entry *const *)pb;
    int r = strcasecmp(a->authors, b->authors);
    if (!r) r = year_cmp(a->year, b->year);
    if (!r) r = strcasecmp(a->title ? a->title : "", b->title ? b->title : "");
    if (!r) r = strcmp(a->key, b->key);
    return r;
}

cite_entry **cite_cited(cite_bib *b, int *n)
{
    cite_entry **v = malloc(sizeof *v * (size_t)(b->n_cited + 1));
    *n = 0;
    if (!v) return NULL;
    for (int i = 0; i < b->n; i++)
        if (b->e[i].cited) v[(*n)++] = &b->e[i];
    qsort(v, (size_t)*n, sizeof *v, ref_order);
    return v;
}

/* The k-th letter suffix (k from 0): a .. z, then aa, ab .. zz, aaa ..
 * (bijective base 26), so works past the 26th keep distinct labels. */
static void year_suffix(char *out, int k)
{
    char rev[8];
    int n = 0;
    for (k++; k > 0 && n < 7; k = (k - 1) / 26) rev[n++] = (char)('a' + (k - 1) % 26);
    for (int i = 0; i < n; i++) out[i] = rev[n - 1 - i];
    out[n] = 0;
}

void cite_finish(cite_bib *b)
{
    int n;
    cite_entry **v = cite_cited(b, &n);
    if (!v) return;
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && !strcmp(v[j]->names, v[i]->names) && !strcmp(v[j]->year, v[i]->year)) j++;
        for (int k = i; j - i > 1 && k < j; k++) {
            /* 2017a, but n.d.-a (APA): a letter after a year that does not
             * end in a digit is set off by a hyphen */
            size_t l = strlen(v[k]->year);
            int dash = l && !isdigit((unsigned char)v[k]->year[l - 1]);
            char *y = realloc(v[k]->year, l + 10);
            if (!y) continue;
            if (dash) y[l++] = '-';
            year_suffix(y + l, k - i);
            v[k]->year = y;
        }
        i = j;
    }
    free(v);
}

char *cite_text(cite_bib *b, const cite_cite *c)
{
    sbuf o;
    sb_open(&o);
    if (c->narrative && c->n == 1) {
        const cite_item *it = &c->item[0];
        const cite_entry *e = cite_find(b, it->key);
        if (!e) { free(sb_done(&o)); return NULL; }
        sb_puts(&o, e->names);
        sb_puts(&o, " (");
        sb_puts(&o, e->year);
        if (*it->locator) { sb_puts(&o, ", "); sb_puts(&o, it->locator); }
        sb_puts(&o, ")");
        return sb_done(&o);
    }
    sb_puts(&o, "(");
    for (int i = 0; i < c->n; i++) {
        const cite_item *it = &c->item[i];
        const cite_entry *e = cite_find(b, it->key);
        if (!e) { free(sb_done(&o)); return NULL; }
        if (cite_same_authors(b, c, i)) { sb_puts(&o, ", "); sb_puts(&o, e->year); continue; }
        if (i) sb_puts(&o, "; ");
        if (*it->prefix) { sb_puts(&o, it->prefix); sb_puts(&o, " "); }
        if (!it->suppress_author) { sb_puts(&o, e->names); sb_puts(&o, " "); }
        sb_puts(&o, e->year);
        if (*it->locator) { sb_puts(&o, ", "); sb_puts(&o, it->locator); }
    }
    sb_puts(&o, ")");
    return sb_done(&o);
}

int cite_same_authors(cite_bib *b, const cite_cite *c, int i)
{
    if (c->narrative || i <= 0 || i >= c->n) return 0;
    const cite_item *p = &c->item[i - 1], *it = &c->item[i];
    if (*p->prefix || *p->locator || p->suppress_author || *it->prefix || *it->locator || it->suppress_author) return 0;
    const cite_entry *a = cite_find(b, p->key), *e = cite_find(b, it->key);
    return a && e && !strcmp(a->names, e->names);
}

char *cite_anchor(const cite_entry *e)
{
    size_t n = strlen(e->key);
    char *a = malloc(n + 5);
    if (!a) return NULL;
    memcpy(a, "ref-", 4);
    for (size_t i = 0; i < n; i++) {
        char ch = e->key[i];
        a[4 + i] = isalnum((unsigned char)ch) || ch == '_' || ch == '-' ? ch : '-';
    }
    a[4 + n] = 0;
    return a;
}

static int part(cite_part **p, int *n, int style, const char *text, const char *url)
{
    if (!text || !*text) return 0;
    cite_part *t = realloc(*p, sizeof *t * (size_t)(*n + 1));
    if (!t) return -1;
    *p = t;
    t[*n].style = style;
    t[*n].text = strdup(text);
    t[*n].url = url ? strdup(url) : NULL;
    (*n)++;
    return 0;
}

/* text ending in a full stop, or with one added */
static void sentence(cite_part **p, int *n, int style, const char *text)
{
    if (!text || !*text) return;
    size_t l = strlen(text);
    part(p, n, style, text, NULL);
    part(p, n, CITE_PLAIN, strchr(".?!", text[l - 1]) ? " " : ". ", NULL);
}

int cite_reference(const cite_entry *e, cite_part **out)
{
    cite_part *p = NULL;
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s (%s). ", e->authors, e->year);
    part(&p, &n, CITE_PLAIN, buf, NULL);
    int book = !strcmp(e->type, "book") || !strcmp(e->type, "manual") || !strcmp(e->type, "software");
    sentence(&p, &n, book ? CITE_ITALIC : CITE_PLAIN, e->title);
    if (e->container) {
        part(&p, &n, CITE_ITALIC, e->container, NULL);
        buf[0] = 0;
        if (e->volume) {
            snprintf(buf, sizeof buf, ", %s%s%s%s", e->volume, e->number ? "(" : "", e->number ? e->number : "",
                     e->number ? ")" : "");
        }
        if (e->pages) snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", %s", e->pages);
        strncat(buf, ". ", sizeof buf - strlen(buf) - 1);
        part(&p, &n, CITE_PLAIN, buf, NULL);
    }
    if (e->publisher) sentence(&p, &n, CITE_PLAIN, e->publisher);
    if (e->note) sentence(&p, &n, CITE_PLAIN, e->note);
    if (e->doi) {
        const char *d = e->doi;
        if (!strncmp(d, "https://doi.org/", 16)) d += 16;
        snprintf(buf, sizeof buf, "https://doi.org/%s", d);
        part(&p, &n, CITE_LINK, buf, buf);
    } else if (e->url) {
        part(&p, &n, CITE_LINK, e->url, e->url);
    }
    /* no trailing space */
    if (n && p[n - 1].style == CITE_PLAIN) {
        size_t l = strlen(p[n - 1].text);
        while (l && p[n - 1].text[l - 1] == ' ') p[n - 1].text[--l] = 0;
    }
    *out = p;
    return n;
}

void cite_parts_free(cite_part *p, int n)
{
    for (int i = 0; i < n; i++) { free(p[i].text); free(p[i].url); }
    free(p);
}
