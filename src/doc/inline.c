/* Inline Markdown -> kiln inlines: text, emphasis, links (URLs checked and
 * .md links rewritten), and the {{...}} values and references in the prose. */
#include "doc/loader.h"
#include "doc/md_math.h"
#include "kiln/math.h"
#include "kiln/cite.h"
#include <cmark-gfm.h>
#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include <setjmp.h>
#include <sys/stat.h>

static void push_ref(loader *L, kiln_inline *in)
{
    KR_GROW(L->refs, L->cap_refs, L->n_refs + 1);
    L->refs[L->n_refs++] = (struct loader_ref){in, L->file};
}

/* ---- inlines ------------------------------------------------------------------------------ */

kiln_inline *new_inline(loader *L, enum kiln_inline_kind k, int line)
{
    kiln_inline *in = ka_alloc(L->a, sizeof *in);
    in->kind = k;
    in->text = in->url = in->title = "";
    in->run_id = in->metric = in->format = "";
    in->line = line;
    return in;
}

/* Parse the inside of {{ }} into a VALUE or REF inline. */
/* "RUN.METRIC" or "RUN.METRIC:FORMAT" (s trimmed) into its parts, allocated
 * in the arena; format "" when absent. Returns -1 when there is no RUN or no
 * METRIC. Shared by values in the prose and values in an experiment. */
int split_value_ref(kiln_arena *a, const char *s, const char **run, const char **metric, const char **format)
{
    const char *dot = strchr(s, '.');
    if (!dot || dot == s || !dot[1] || dot[1] == ':') return -1;
    *run = ka_strndup(a, s, (size_t)(dot - s));
    const char *m = dot + 1;
    const char *c = strchr(m, ':');
    *metric = c ? ka_strndup(a, m, (size_t)(c - m)) : ka_strdup(a, m);
    *format = c ? ka_strdup(a, c + 1) : "";
    return 0;
}

static kiln_inline *parse_reference(loader *L, const char *inner, size_t n, int line)
{
    char *s = trim(ka_strndup(L->a, inner, n));
    const char *colon = strchr(s, ':');
    const char *dot = strchr(s, '.');
    if (colon && (!dot || colon < dot)) {
        /* fig:ID / table:ID */
        char *kind = ka_strndup(L->a, s, (size_t)(colon - s));
        const char *id = colon + 1;
        if (strcmp(kind, "fig") && strcmp(kind, "figure") && strcmp(kind, "table") && strcmp(kind, "eq") && strcmp(kind, "sec")) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                     "reference '{{%s}}': unknown kind '%s'%s; accepted: {{fig:ID}}, {{table:ID}}, {{eq:ID}}, {{sec:ID}}, {{RUN.METRIC[:FORMAT]}}", s, kind,
                     hint(L, kind, "fig table eq sec"));
            return NULL;
        }
        kiln_inline *in = new_inline(L, KILN_IN_REF, line);
        in->metric = !strcmp(kind, "table") ? "table" : !strcmp(kind, "eq") ? "eq" : !strcmp(kind, "sec") ? "sec" : "fig";
        in->run_id = ka_strdup(L->a, id);
        in->text = ka_printf(L->a, "{{%s}}", s);
        push_ref(L, in);
        return in;
    }
    const char *run, *metric, *format;
    if (split_value_ref(L->a, s, &run, &metric, &format)) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                 "malformed reference '{{%s}}'; accepted: {{RUN.METRIC}}, {{RUN.METRIC:FORMAT}} (e.g. {{baseline.test_loss:.3f}}), {{fig:ID}}, {{table:ID}}", s);
        return NULL;
    }
    kiln_inline *in = new_inline(L, KILN_IN_VALUE, line);
    in->run_id = run;
    in->metric = metric;
    in->format = format;
    in->text = ka_printf(L->a, "{{%s}}", s);
    push_ref(L, in);
    return in;
}

/* A run of plain text, with its citations ([@key], @key) made CITE inlines;
 * without a bibliography a bracketed citation is an error, an @name is text. */
static void text_with_cites(loader *L, const char *t, size_t n, int line, kiln_inline **head, kiln_inline **tail)
{
#define APPEND(x) do { kiln_inline *x_ = (x); if (x_) { if (*tail) (*tail)->next = x_; else *head = x_; *tail = x_; } } while (0)
    /* a footnote reference cmark left as text has no definition */
    for (const char *f = t; (f = memchr(f, '[', (size_t)(t + n - f))) && f + 2 < t + n; f++) {
        if (f[1] != '^') continue;
        size_t k = 2;
        while (f + k < t + n && f[k] != ']' && f[k] != '[' && !isspace((unsigned char)f[k])) k++;
        if (f + k < t + n && f[k] == ']' && k > 2)
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "footnote '%.*s' has no definition: add a line '%.*s: text' to the file",
                     (int)k + 1, f, (int)k + 1, f);
    }
    size_t pos = 0, done = 0;
    cite_cite c;
    while (!L->in_link && cite_scan(t, n, &pos, &c)) {
        if (!L->bib) {
            if (!c.narrative && !L->bib_failed)
                kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                         "citation '%.*s' but there is no bibliography: add content/references.bib (BibTeX)", (int)(c.end - c.start),
                         t + c.start);
            cite_cite_free(&c);
            continue;
        }
        char msg[512];
        if (cite_use(L->bib, &c, msg, sizeof msg)) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "%s", msg);
            cite_cite_free(&c);
            continue;
        }
        if (c.start > done) {
            kiln_inline *tx = new_inline(L, KILN_IN_TEXT, line);
            tx->text = ka_strndup(L->a, t + done, c.start - done);
            APPEND(tx);
        }
        kiln_inline *ci = new_inline(L, KILN_IN_CITE, line);
        ci->text = ka_strndup(L->a, t + c.start, c.end - c.start);   /* until the bibliography is finished */
        APPEND(ci);
        if (L->n_cites == L->cap_cites) {
            L->cap_cites = L->cap_cites ? 2 * L->cap_cites : 16;
            L->cites = realloc(L->cites, sizeof *L->cites * (size_t)L->cap_cites);
            L->cite_data = realloc(L->cite_data, sizeof *L->cite_data * (size_t)L->cap_cites);
            if (!L->cites || !L->cite_data) abort();
        }
        L->cites[L->n_cites] = ci;
        L->cite_data[L->n_cites++] = c;
        done = c.end;
    }
    if (done < n) {
        kiln_inline *tx = new_inline(L, KILN_IN_TEXT, line);
        tx->text = ka_strndup(L->a, t + done, n - done);
        APPEND(tx);
    }
#undef APPEND
}

/* Turn one run of text into TEXT / VALUE / REF / CITE inlines. */
void split_text(loader *L, const char *t, int line, kiln_inline **head, kiln_inline **tail)
{
#define APPEND(x) do { kiln_inline *x_ = (x); if (x_) { if (*tail) (*tail)->next = x_; else *head = x_; *tail = x_; } } while (0)
    const char *p = t;
    while (*p) {
        const char *o = strstr(p, "{{");
        if (!o) break;
        const char *c = strstr(o + 2, "}}");
        if (!c) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "'{{' without a closing '}}'; write {{RUN.METRIC}} or {{fig:ID}}");
            break;
        }
        if (o > p) text_with_cites(L, p, (size_t)(o - p), line, head, tail);
        APPEND(parse_reference(L, o + 2, (size_t)(c - o - 2), line));
        p = c + 2;
    }
    if (*p) text_with_cites(L, p, strlen(p), line, head, tail);
#undef APPEND
}

/* A URL as a browser's URL parser reads it (WHATWG URL Standard): cmark has
 * already decoded entities and backslash escapes; leading and trailing C0
 * controls and spaces are stripped, tabs and newlines anywhere removed.
 * Then the scheme (an ASCII letter, then letters, digits, '+', '-', '.', up
 * to ':') must be on the allow-list; no scheme is a relative URL. Returns the
 * URL as the page will hold it (remaining controls, spaces and DEL
 * percent-encoded); scheme is "" or the refused scheme. */
#define MAX_URL_BYTES 32768
static const char *const LINK_SCHEMES[] = {"http", "https", "mailto", NULL};
static const char *const IMAGE_SCHEMES[] = {"http", "https", NULL};

const char *clean_url(kiln_arena *a, const char *url, int image, char *scheme, size_t ns)
{
    const unsigned char *s = (const unsigned char *)url, *e = s + strlen(url);
    while (s < e && *s <= 0x20) s++;
    while (e > s && e[-1] <= 0x20) e--;
    sbuf b = {0};
    for (const unsigned char *p = s; p < e; p++) {
        if (*p == '\t' || *p == '\n' || *p == '\r') continue;
        if (*p < 0x20 || *p == ' ' || *p == 0x7f) sb_printf(&b, "%%%02X", *p);
        else sb_addc(&b, (char)*p);
    }
    const char *u = b.s ? b.s : "";
    size_t k = 0;
    scheme[0] = 0;
    if (isalpha((unsigned char)u[0]))
        while (isalnum((unsigned char)u[k]) || u[k] == '+' || u[k] == '-' || u[k] == '.') k++;
    if (k && u[k] == ':') {
        int ok = 0;
        for (const char *const *l = image ? IMAGE_SCHEMES : LINK_SCHEMES; *l && !ok; l++)
            ok = strlen(*l) == k && !strncasecmp(u, *l, k);
        if (!ok) snprintf(scheme, ns, "%.*s", (int)(k < 40 ? k : 40), u);
    }
    const char *r = ka_strdup(a, u);
    sb_free(&b);
    return r;
}

/* ---- raw HTML kept with --allow-html: no script in it -------------------------------------- */

/* One character of a tag at *p, entities decoded (&#106; &#x6A; &colon; ...),
 * lower case; *p moves past it. */
static int tag_char(const char **p)
{
    const char *s = *p;
    if (*s == '&') {
        static const struct { const char *name; int c; } NAMED[] = {
            {"colon;", ':'}, {"tab;", '\t'}, {"newline;", '\n'}, {"lpar;", '('}, {"rpar;", ')'}, {"sol;", '/'},
            {"equals;", '='}, {"quot;", '"'}, {"apos;", '\''}, {"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}};
        if (s[1] == '#') {
            int hex = s[2] == 'x' || s[2] == 'X';
            char *e;
            long v = strtol(s + 2 + hex, &e, hex ? 16 : 10);
            if (e > s + 2 + hex) {
                *p = *e == ';' ? e + 1 : e;
                return v > 0 && v < 128 ? tolower((int)v) : v > 0 ? 0x80 : ' ';
            }
        }
        for (size_t i = 0; i < sizeof NAMED / sizeof *NAMED; i++)
            if (!strncasecmp(s + 1, NAMED[i].name, strlen(NAMED[i].name))) {
                *p = s + 1 + strlen(NAMED[i].name);
                return NAMED[i].c;
            }
    }
    *p = s + 1;
    return tolower((unsigned char)*s);
}

/* Why a piece of raw HTML may not be kept, or NULL. Inside each tag, with
 * entities decoded and case ignored: no element that runs or loads code
 * (script, iframe, object, embed, frame, base, meta, link, style), no event
 * attribute (on...=), no srcdoc, and no javascript:, vbscript: or data:
 * address, however spaced (a deny-list over the whole tag: stricter than a
 * browser, never looser). Text between tags is left alone. */
const char *html_refused(const char *html)
{
    static const char *const TAGS[] = {"script", "iframe", "object", "embed", "frame", "frameset", "base", "meta", "link",
                                       "style", "applet", "portal", NULL};
    for (const char *p = html; (p = strchr(p, '<'));) {
        /* the tag, up to a '>' outside quotes, decoded, without spaces and controls */
        /* t: without spaces; sp: spaces kept as ' '; nm: sp without quoted
         * values (each a ' '), where attribute names are looked for */
        sbuf t = {0}, sp = {0}, nm = {0};
        char q = 0;
        const char *r = p + 1;
        while (*r && (q || *r != '>')) {
            int quote = (q && *r == q) || (!q && (*r == '"' || *r == '\''));
            if (q && *r == q) q = 0;
            else if (!q && (*r == '"' || *r == '\'')) q = *r;
            int inside = q && !quote;
            int c = tag_char(&r);
            if (quote) sb_addc(&nm, ' ');
            if (c <= ' ' || c == 0x7f) {
                sb_addc(&sp, ' ');
                if (!inside) sb_addc(&nm, ' ');
                continue;
            }
            sb_addc(&t, (char)c);
            sb_addc(&sp, (char)c);
            if (!inside && !quote) sb_addc(&nm, (char)c);
        }
        const char *why = NULL;
        const char *name = sp.s ? sp.s : "";
        while (*name == ' ' || *name == '/') name++;
        for (int i = 0; TAGS[i] && !why; i++) {
            size_t n = strlen(TAGS[i]);
            if (!strncmp(name, TAGS[i], n) && !isalnum((unsigned char)name[n])) why = "an element that runs or loads code";
        }
        if (!why && t.s && (strstr(t.s, "javascript:") || strstr(t.s, "vbscript:") || strstr(t.s, "data:")))
            why = "a javascript:, vbscript: or data: address";
        if (!why && t.s && strstr(t.s, "srcdoc")) why = "a srcdoc attribute";
        /* an attribute on...= after a space, a '/' or a quoted value */
        for (const char *a = nm.s; !why && a && (a = strstr(a, "on")); a += 2) {
            char before = a > nm.s ? a[-1] : 0;
            if (before != ' ' && before != '/') continue;
            const char *e = a + 2;
            while (isalpha((unsigned char)*e)) e++;
            while (*e == ' ') e++;
            if (e > a + 2 && *e == '=') why = "an event attribute (on...=)";
        }
        sb_free(&t);
        sb_free(&sp);
        sb_free(&nm);
        if (why) return why;
        p = *r ? r + 1 : r;
    }
    return NULL;
}

/* A link to "02-decay.md#x" becomes "02-decay.html#x" when that chapter is
 * part of the article. */
static const char *rewrite_url(loader *L, const char *url0, int line, int image)
{
    char scheme[48];
    const char *url = clean_url(L->a, url0, image, scheme, sizeof scheme);
    if (scheme[0]) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line,
                 "%s '%.200s' refused: its scheme '%s:' is not allowed; accepted: %s and relative URLs", image ? "image" : "link",
                 url, scheme, image ? "http:, https:" : "http:, https:, mailto:");
        return "#";
    }
    /* the PDF's link annotations hold at most 65,535 bytes (libharu failed
     * the whole build on a longer one, exit 1) */
    if (strlen(url) > MAX_URL_BYTES) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "%s '%.60s...' is %zu bytes long; a URL may hold at most %d",
                 image ? "image" : "link", url, strlen(url), MAX_URL_BYTES);
        return "#";
    }
    if (strstr(url, "://") || url[0] == '#' || url[0] == '/') return url;
    const char *hash = strchr(url, '#');
    size_t n = hash ? (size_t)(hash - url) : strlen(url);
    if (n > 3 && !strncmp(url + n - 3, ".md", 3)) {
        const char *base = url;
        for (size_t i = 0; i < n; i++)
            if (url[i] == '/') base = url + i + 1;
        size_t bn = (size_t)(url + n - base);
        if (bn == 8 && !strncmp(base, "index.md", 8)) return ka_printf(L->a, "index.html%s", hash ? hash : "");
        return ka_printf(L->a, "%.*s.html%s", (int)(bn - 3), base, hash ? hash : "");
    }
    return ka_strdup(L->a, url);
}

/* ---- math ---------------------------------------------------------------------------- */

void grow_ptrs(void ***v, int n)
{
    if ((n & (n - 1)) == 0) {   /* at 0, 1, 2, 4, ...: double */
        *v = realloc(*v, sizeof **v * (size_t)(n ? 2 * n : 1));
        if (!*v) abort();
    }
}

static int fill_value_ref(km_node *v, void *ctx)
{
    loader *L = ctx;
    kiln_doc *doc = L->doc;
    kiln_inline *in = parse_reference(L, v->text, strlen(v->text), L->math_line);
    if (!in) return 0;
    if (in->kind != KILN_IN_VALUE) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, in->line, "inside math only values {{RUN.METRIC[:FORMAT]}} are allowed, not %s", in->text);
        return 0;
    }
    grow_ptrs((void ***)&doc->math_values, doc->n_math_values);
    grow_ptrs((void ***)&doc->math_value_nodes, doc->n_math_values);
    doc->math_values[doc->n_math_values] = in;
    doc->math_value_nodes[doc->n_math_values++] = v;
    return 0;
}

/* Parse span i of the current file; NULL after reporting the error. */
static km_node *parse_math(loader *L, int i)
{
    const md_math *m = &L->math[i];
    km_error e;
    km_node *t = km_parse(m->tex, strlen(m->tex), &e);
    if (!t) {
        int line = m->line + e.line - 1, col = e.line == 1 ? m->column + e.column - 1 : e.column;
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, line, "math, column %d: %s", col, e.msg);
        return NULL;
    }
    kiln_doc *doc = L->doc;
    grow_ptrs((void ***)&doc->maths, doc->n_maths);
    doc->maths[doc->n_maths++] = t;
    /* {{values}} inside: checked and resolved like those in the prose */
    L->math_line = m->line;
    km_each_value(t, fill_value_ref, L);
    return t;
}

static void check_image(loader *L, kiln_inline *in, const char *raw);

/* A link to a chapter (x.md, x.md#anchor) or to a heading of this page
 * (#anchor), remembered for check_links. */
static void note_link(loader *L, kiln_inline *in, const char *raw)
{
    size_t scheme = strspn(raw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (scheme && raw[scheme] == ':') return;
    const char *hash = strchr(raw, '#');
    size_t n = hash ? (size_t)(hash - raw) : strlen(raw);
    if (!(raw[0] == '#' || (n > 3 && !strncmp(raw + n - 3, ".md", 3)))) return;
    if (L->n_links == L->cap_links) {
        L->cap_links = L->cap_links ? 2 * L->cap_links : 32;
        L->links = realloc(L->links, sizeof *L->links * (size_t)L->cap_links);
        L->link_raw = realloc(L->link_raw, sizeof *L->link_raw * (size_t)L->cap_links);
        L->link_files = realloc(L->link_files, sizeof *L->link_files * (size_t)L->cap_links);
        L->link_from = realloc(L->link_from, sizeof *L->link_from * (size_t)L->cap_links);
        if (!L->links || !L->link_raw || !L->link_files || !L->link_from) abort();
    }
    L->links[L->n_links] = in;
    L->link_raw[L->n_links] = ka_strdup(L->a, raw);
    L->link_files[L->n_links] = L->file;
    L->link_from[L->n_links++] = L->chapter;
}

/* ---- images: read once, checked whole ----------------------------------------------------- */

#define IMAGE_MAX_BYTES (64u << 20)
#define IMAGE_MAX_SIDE 20000u
#define IMAGE_MAX_PIXELS (64u << 20)

typedef struct {
    const unsigned char *p;
    size_t n, at;
    char *why;
    size_t nwhy;
} png_mem;

static void png_fail(png_structp png, png_const_charp msg)
{
    png_mem *m = png_get_io_ptr(png);
    snprintf(m->why, m->nwhy, "its PNG data is damaged (%s)", msg);
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void png_mem_read(png_structp png, png_bytep out, size_t n)
{
    png_mem *m = png_get_io_ptr(png);
    if (n > m->n - m->at) png_error(png, "the file ends early");
    memcpy(out, m->p + m->at, n);
    m->at += n;
}

/* The whole PNG decoded, a row at a time (libpng's own checks: chunk CRCs,
 * the zlib stream, every row's filter), within the size limits: what the
 * PDF writer's libpng would otherwise abort on. 0 when fine. */
static int png_ok(const unsigned char *b, size_t n, char *why, size_t nwhy)
{
    png_mem m = {b, n, 0, why, nwhy};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *volatile row = NULL;
    int rc = -1;
    if (!info) { snprintf(why, nwhy, "out of memory"); goto out; }
    png_set_read_fn(png, &m, png_mem_read);
    png_set_error_fn(png, &m, png_fail, png_quiet);
    if (setjmp(png_jmpbuf(png))) goto out;
    png_set_user_limits(png, IMAGE_MAX_SIDE, IMAGE_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((unsigned long long)w * h > IMAGE_MAX_PIXELS) {
        snprintf(why, nwhy, "%ux%u pixels, more than kiln takes (%u megapixels)", (unsigned)w, (unsigned)h, IMAGE_MAX_PIXELS >> 20);
        goto out;
    }
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    row = malloc(png_get_rowbytes(png, info));
    if (!row) { snprintf(why, nwhy, "out of memory"); goto out; }
    for (int p = 0; p < passes; p++)
        for (png_uint_32 y = 0; y < h; y++) png_read_row(png, row, NULL);
    png_read_end(png, NULL);
    rc = 0;
out:
    free(row);
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    return rc;
}

/* A JPEG: markers up to a frame header with a size inside the limits. */
static int jpeg_ok(const unsigned char *b, size_t n, char *why, size_t nwhy)
{
    for (size_t p = 2; p + 4 <= n;) {
        if (b[p] != 0xFF) break;
        int mk = b[p + 1];
        size_t len = (size_t)b[p + 2] << 8 | b[p + 3];
        if (len < 2 || p + 2 + len > n) break;
        if (mk >= 0xC0 && mk <= 0xCF && mk != 0xC4 && mk != 0xC8 && mk != 0xCC) {
            unsigned h = len >= 7 ? (unsigned)b[p + 5] << 8 | b[p + 6] : 0, w = len >= 7 ? (unsigned)b[p + 7] << 8 | b[p + 8] : 0;
            if (!w || !h) break;
            if ((unsigned long long)w * h > IMAGE_MAX_PIXELS) {
                snprintf(why, nwhy, "%ux%u pixels, more than kiln takes (%u megapixels)", w, h, IMAGE_MAX_PIXELS >> 20);
                return -1;
            }
            return 0;
        }
        p += 2 + len;
    }
    snprintf(why, nwhy, "its JPEG data has no readable frame header");
    return -1;
}

/* Read the image (a regular file inside the content folder, opened without
 * blocking) and check it whole; 0 when it is a usable PNG or JPEG, else why. */
static int image_ok(loader *L, const char *path, char *why, size_t nwhy)
{
    struct stat st;
    if (stat(path, &st)) { snprintf(why, nwhy, "cannot read %s: %s", path, strerror(errno)); return -1; }
    if (!S_ISREG(st.st_mode)) { snprintf(why, nwhy, "%s is not a regular file", path); return -1; }
    if (!in_content_dir(L, path)) {
        snprintf(why, nwhy, "%s lies outside the content folder (through '..' or a symbolic link): the site would publish it", path);
        return -1;
    }
    if ((unsigned long long)st.st_size > IMAGE_MAX_BYTES) {
        snprintf(why, nwhy, "%s is %lld bytes, more than kiln takes (%u MB)", path, (long long)st.st_size, IMAGE_MAX_BYTES >> 20);
        return -1;
    }
    size_t n = 0;
    unsigned char *b = (unsigned char *)kr_read_file(path, &n);
    if (!b) { snprintf(why, nwhy, "cannot read %s: %s", path, strerror(errno)); return -1; }
    int rc = -1;
    char sub[200] = "";
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) rc = png_ok(b, n, sub, sizeof sub);
    else if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) rc = jpeg_ok(b, n, sub, sizeof sub);
    free(b);
    if (rc && !sub[0]) snprintf(why, nwhy, "%s is not a PNG or JPEG file", path);
    else if (rc) snprintf(why, nwhy, "%s: %s", path, sub);
    return rc;
}

/* ![alt](file): alt text required; a local file (relative to the chapter)
 * must be a readable PNG or JPEG; it gets a name under media/ in the site. */
static void check_image(loader *L, kiln_inline *in, const char *raw)
{
    sbuf alt = {0};
    plain_text(&alt, in->children);
    int has_alt = alt.len > 0 && strspn(alt.s, " \t") < alt.len;
    sb_free(&alt);
    if (!has_alt)
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, in->line, "image '%s' has no alt text: write ![what it shows](%s)", raw, raw);
    in->src = "";
    size_t scheme = strspn(raw, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if ((scheme && raw[scheme] == ':') || raw[0] == '/' || !raw[0]) return;
    size_t rn = strcspn(raw, "?#");
    const char *slash = strrchr(L->file, '/');
    const char *path = slash ? ka_printf(L->a, "%.*s/%.*s", (int)(slash - L->file), L->file, (int)rn, raw)
                             : ka_strndup(L->a, raw, rn);
    char why[512];
    if (image_ok(L, path, why, sizeof why)) {
        kd_error(L->d, KILN_REPORT_EINPUT, L->file, in->line, "image '%s': %s", raw, why);
        return;
    }
    in->src = path;
    kiln_doc *doc = L->doc;
    for (int i = 0; i < doc->n_images; i++)
        if (!strcmp(doc->images[i]->src, path)) { in->url = doc->images[i]->url; return; }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *name = ka_printf(L->a, "media/%s", base);
    for (int k = 2;; k++) {
        int clash = 0;
        for (int i = 0; i < doc->n_images; i++) clash |= !strcmp(doc->images[i]->url, name);
        if (!clash) break;
        name = ka_printf(L->a, "media/%d-%s", k, base);
    }
    in->url = name;
    grow_ptrs((void ***)&doc->images, doc->n_images);
    doc->images[doc->n_images++] = in;
}

static kiln_inline *convert_inline(loader *L, cmark_node *n, int *line, kiln_inline **tail_out)
{
    cmark_node_type t = cmark_node_get_type(n);
    kiln_inline *in = NULL;
    switch (t) {
    case CMARK_NODE_CODE: {
        int mi = md_math_index(cmark_node_get_literal(n));
        if (mi >= 0 && mi < L->n_math) {
            /* math taken out before cmark (md_math.h); a display inside a
             * paragraph is split out of it by convert_block */
            in = new_inline(L, KILN_IN_MATH, L->math[mi].line);
            in->text = trim(ka_strdup(L->a, L->math[mi].tex));   /* the alt text */
            in->math = parse_math(L, mi);
            if (in->math) {
                char *p = km_plain(in->math);
                in->plain = ka_strdup(L->a, p);
                free(p);
            }
            if (L->math[mi].display) in->title = ka_strdup(L->a, L->math[mi].label ? L->math[mi].label : "display");
            break;
        }
        in = new_inline(L, KILN_IN_CODE, *line);
        in->text = ka_strdup(L->a, cmark_node_get_literal(n));
        break;
    }
    case CMARK_NODE_SOFTBREAK:
        in = new_inline(L, KILN_IN_SOFTBREAK, *line);
        ++*line;
        break;
    case CMARK_NODE_LINEBREAK:
        in = new_inline(L, KILN_IN_LINEBREAK, *line);
        ++*line;
        break;
    case CMARK_NODE_HTML_INLINE:
        in = new_inline(L, KILN_IN_HTML, *line);
        in->text = ka_strdup(L->a, cmark_node_get_literal(n));
        if (!L->o->allow_html)
            kd_warn(L->d, L->file, *line, "raw HTML '%s' is left out (pass --allow-html to keep it)", in->text);
        else if (html_refused(in->text)) {
            kd_error(L->d, KILN_REPORT_EINPUT, L->file, *line, "raw HTML '%.200s' refused: it holds %s", in->text, html_refused(in->text));
            in->text = "";
        }
        break;
    case CMARK_NODE_EMPH:
    case CMARK_NODE_STRONG:
    case CMARK_NODE_LINK:
    case CMARK_NODE_IMAGE: {
        enum kiln_inline_kind k = t == CMARK_NODE_EMPH ? KILN_IN_EMPH : t == CMARK_NODE_STRONG ? KILN_IN_STRONG
                                  : t == CMARK_NODE_LINK ? KILN_IN_LINK : KILN_IN_IMAGE;
        in = new_inline(L, k, *line);
        if (k == KILN_IN_LINK || k == KILN_IN_IMAGE) {
            const char *raw = cmark_node_get_url(n) ? cmark_node_get_url(n) : "";
            in->url = rewrite_url(L, raw, *line, k == KILN_IN_IMAGE);
            if (k == KILN_IN_LINK) note_link(L, in, raw);
            in->title = ka_strdup(L->a, cmark_node_get_title(n));
        }
        L->in_link++;
        if (nest_in(L, *line, "emphasis and links")) {
            in->children = convert_inlines(L, cmark_node_first_child(n), line);
            L->depth--;
        }
        L->in_link--;
        if (k == KILN_IN_IMAGE) check_image(L, in, cmark_node_get_url(n) ? cmark_node_get_url(n) : "");
        break;
    }
    case CMARK_NODE_FOOTNOTE_REFERENCE:
        in = new_inline(L, KILN_IN_FOOTREF, *line);
        in->text = ka_strdup(L->a, cmark_node_get_literal(n));   /* its number */
        in->url = ka_printf(L->a, "#fn-%s", in->text);
        break;
    default: {
        const char *ts = cmark_node_get_type_string(n);
        if (ts && !strcmp(ts, "strikethrough")) {
            in = new_inline(L, KILN_IN_STRIKE, *line);
            in->children = convert_inlines(L, cmark_node_first_child(n), line);
            break;
        }
        return NULL;   /* another custom inline: ignore */
    }
    }
    *tail_out = in;
    return in;
}

kiln_inline *convert_inlines(loader *L, cmark_node *first, int *line)
{
    kiln_inline *head = NULL, *tail = NULL;
    sbuf text = {0};
    int text_line = *line;
    for (cmark_node *n = first;; n = cmark_node_next(n)) {
        if (n && cmark_node_get_type(n) == CMARK_NODE_TEXT) {
            if (!text.len) text_line = *line;
            sb_add(&text, cmark_node_get_literal(n));
            continue;
        }
        if (text.len) {
            split_text(L, text.s, text_line, &head, &tail);
            text.len = 0;
            text.s[0] = 0;
        }
        if (!n) break;
        kiln_inline *t2 = NULL;
        kiln_inline *in = convert_inline(L, n, line, &t2);
        if (!in) continue;
        if (tail) tail->next = in;
        else head = in;
        tail = t2;
    }
    sb_free(&text);
    return head;
}

/* Plain text of inlines (for titles, anchors, alt text). */
void plain_text_as(sbuf *b, const kiln_inline *in, int tex)
{
    for (; in; in = in->next) {
        switch (in->kind) {
        case KILN_IN_SOFTBREAK: case KILN_IN_LINEBREAK: sb_addc(b, ' '); break;
        case KILN_IN_HTML: break;
        case KILN_IN_MATH: sb_add(b, !tex && in->plain ? in->plain : in->text); break;
        default:
            if (in->children) plain_text_as(b, in->children, tex);
            else sb_add(b, in->text);
        }
    }
}

void plain_text(sbuf *b, const kiln_inline *in) { plain_text_as(b, in, 0); }

/* A letter beyond ASCII that a heading's id keeps (Latin-1 and Latin
 * Extended, Greek, Cyrillic), lower-cased where it has a simple lower case;
 * 0 for anything else (punctuation, symbols, dashes are dropped). */
static uint32_t id_letter(uint32_t c)
{
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3A9) || (c >= 0x410 && c <= 0x42F)) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    if ((c >= 0xDF && c <= 0x24F && c != 0xF7) || (c >= 0x3AA && c <= 0x3FF) || (c >= 0x430 && c <= 0x4FF)) return c;
    return 0;
}

const char *make_anchor(loader *L, const char *text)
{
    sbuf b = {0};
    for (const char *p = text; *p;) {
        unsigned char a = (unsigned char)*p;
        if (a >= 0x80) {   /* as GitHub does: letters stay, "Über" -> über */
            uint32_t c = id_letter(kb_utf8_next(&p));
            char u[4];
            if (c) sb_addn(&b, u, (size_t)kb_utf8_put(u, c));
            continue;
        }
        p++;
        if (isalnum(a)) sb_addc(&b, (char)tolower(a));
        else if ((a == ' ' || a == '-' || a == '_') && b.len && b.s[b.len - 1] != '-') sb_addc(&b, '-');
    }
    while (b.len && b.s[b.len - 1] == '-') b.s[--b.len] = 0;
    if (!b.len) sb_add(&b, "section");
    /* figures, tables, equations and references own the fig-, table-, eq-
     * and ref- prefixes: a heading such as "Table 1" gets section-table-1 */
    int owned = !strncmp(b.s, "fig-", 4) || !strncmp(b.s, "table-", 6) || !strncmp(b.s, "eq-", 3) ||
                !strncmp(b.s, "ref-", 4);
    char *base = owned ? ka_printf(L->a, "section-%s", b.s) : ka_strdup(L->a, b.s);
    sb_free(&b);
    /* the first heading of a text takes it as it is, later ones -2, -3, ...
     * skipping numbers an earlier heading took as its own text; each base
     * remembers its last number, so n equal headings cost O(n) */
    if (!kr_strmap_has(&L->anchors, base)) {
        kr_strmap_get(&L->anchors, base);
        return base;
    }
    int *last = kr_strmap_get(&L->anchors, base);
    const char *cand;
    int k = *last > 1 ? *last : 1;
    do cand = ka_printf(L->a, "%s-%d", base, ++k);
    while (kr_strmap_has(&L->anchors, cand));
    *kr_strmap_get(&L->anchors, base) = k; /* the map may have grown: look it up again */
    kr_strmap_get(&L->anchors, cand);
    return cand;
}
