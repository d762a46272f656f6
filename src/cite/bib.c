/* Reading a .bib file with btparse. btparse reports syntax errors on
 * stderr in its own words; they are caught in a temporary file and given
 * back as FILE:LINE: messages. */
#include "cite/internal.h"

#include <btparse.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CITE_MAX_BYTES (16 << 20)

static void set_err(cite_errors *es, const char *file, int line, const char *fmt, const char *a, const char *b)
{
    cite_error *t = realloc(es->e, sizeof *t * (size_t)(es->n + 1));
    if (!t) return;   /* out of memory: the errors before stand */
    es->e = t;
    cite_error *e = &t[es->n++];
    snprintf(e->file, sizeof e->file, "%s", file);
    e->line = line;
    snprintf(e->msg, sizeof e->msg, fmt, a ? a : "", b ? b : "");
}

/* TeX text as plain UTF-8: braces dropped, a few escapes and accents read,
 * "--" as an en dash, "~" as a space. */
char *cite_plain(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *q = o;
    if (!o) return NULL;
    static const struct { const char *tex, *utf; } acc[] = {
        {"\\\"a", "ä"}, {"\\\"o", "ö"}, {"\\\"u", "ü"}, {"\\\"A", "Ä"}, {"\\\"O", "Ö"}, {"\\\"U", "Ü"},
        {"\\'e", "é"}, {"\\'a", "á"}, {"\\'o", "ó"}, {"\\'i", "í"}, {"\\`e", "è"}, {"\\`a", "à"},
        {"\\^o", "ô"}, {"\\~n", "ñ"}, {"\\c{c}", "ç"}, {"\\ss", "ß"}, {"\\o", "ø"}, {"\\aa", "å"},
        {"\\&", "&"}, {"\\%", "%"}, {"\\_", "_"}, {"\\$", "$"}, {"\\#", "#"},
    };
    for (size_t i = 0; i < n;) {
        int hit = 0;
        if (s[i] == '\\') {
            for (size_t k = 0; k < sizeof acc / sizeof acc[0]; k++) {
                size_t l = strlen(acc[k].tex);
                if (!strncmp(s + i, acc[k].tex, l)) {
                    strcpy(q, acc[k].utf);
                    q += strlen(acc[k].utf);
                    i += l;
                    hit = 1;
                    break;
                }
            }
            if (!hit && i + 3 < n && s[i + 2] == '{' && s[i + 1] != '{') {
                /* \"{o} and the like: drop the command, keep the letter */
                i += 2;
                hit = 1;
            }
        }
        if (hit) continue;
        if (s[i] == '{' || s[i] == '}') { i++; continue; }
        if (s[i] == '~') { *q++ = ' '; i++; continue; }
        if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
            strcpy(q, "–");
            q += strlen("–");
            i += (i + 2 < n && s[i + 2] == '-') ? 3 : 2;
            continue;
        }
        *q++ = s[i++];
    }
    *q = 0;
    return o;
}

/* "Smith, Leslie N. and Topin, Nicholay" -> names for the text and the list. */
static int names(char *field, const char *path, int line, char **text, char **list)
{
    bt_stringlist *l = bt_split_list(field, "and", (char *)path, line, "name");
    if (!l || l->num_items == 0) { if (l) bt_free_list(l); return -1; }
    sbuf t, li;
    sb_open(&t);
    sb_open(&li);
    for (int i = 0; i < l->num_items; i++) {
        bt_name *nm = bt_split_name(l->items[i] ? l->items[i] : "", (char *)path, line, i);
        sbuf last, first;
        sb_open(&last);
        sb_open(&first);
        for (int part = BTN_VON; part <= BTN_LAST; part++)
            for (int k = 0; nm && k < nm->part_len[part]; k++) {
                if (n_of(&last)) sb_puts(&last, " ");
                sb_puts(&last, nm->parts[part][k]);
            }
        for (int k = 0; nm && k < nm->part_len[BTN_FIRST]; k++) {
            const char *tok = nm->parts[BTN_FIRST][k];
            /* initials: "Leslie N." -> "L. N."; "Jean-Luc" -> "J.-L." */
            if (n_of(&first)) sb_puts(&first, " ");
            for (const char *p = tok; *p;) {
                while (*p == '{' || *p == '}' || *p == '\\') p++;
                if (!*p) break;
                const char *start = p;
                p++;
                while (*p && ((unsigned char)*p & 0xC0) == 0x80) p++;   /* the whole UTF-8 letter */
                sb_put(&first, start, (size_t)(p - start));
                sb_puts(&first, ".");
                while (*p && *p != '-') p++;
                if (*p == '-') { sb_puts(&first, "-"); p++; }
            }
        }
        if (nm) bt_free_name(nm);
        char *ls = sb_done(&last), *fs = sb_done(&first);
        char *lp = cite_plain(ls ? ls : ""), *fp = cite_plain(fs ? fs : "");
        free(ls);
        free(fs);
        if (!lp || !fp) { free(lp); free(fp); continue; }
        /* the text: Smith / Smith and Topin / Kingma et al. (three or more) */
        if (i == 0) sb_puts(&t, lp);
        else if (i == 1 && l->num_items == 2) { sb_puts(&t, " and "); sb_puts(&t, lp); }
        else if (i == 1) sb_puts(&t, " et al.");
        /* the list: "Smith, L. N." first, then "N. Topin" */
        if (i > 0) sb_puts(&li, i == l->num_items - 1 ? (l->num_items > 2 ? ", and " : " and ") : ", ");
        if (i == 0) {
            sb_puts(&li, lp);
            if (*fp) { sb_puts(&li, ", "); sb_puts(&li, fp); }
        } else {
            if (*fp) { sb_puts(&li, fp); sb_puts(&li, " "); }
            sb_puts(&li, lp);
        }
        free(lp);
        free(fp);
    }
    bt_free_list(l);
    *text = sb_done(&t);
    *list = sb_done(&li);
    if (!*text || !*list) { free(*text); free(*list); return -1; }
    return 0;
}

static char *field_text(AST *entry, const char *want)
{
    char *name = NULL;
    for (AST *f = bt_next_field(entry, NULL, &name); f; f = bt_next_field(entry, f, &name))
        if (name && !strcmp(name, want)) {
            char *v = bt_get_text(f);   /* malloc'd */
            char *p = v ? cite_plain(v) : NULL;
            free(v);
            return p;
        }
    return NULL;
}

static char *raw_field(AST *entry, const char *want)
{
    char *name = NULL;
    for (AST *f = bt_next_field(entry, NULL, &name); f; f = bt_next_field(entry, f, &name))
        if (name && !strcmp(name, want)) {
            return bt_get_text(f);   /* malloc'd */
        }
    return NULL;
}

/* The first "line N" in btparse's messages, and the message after it. */
/* btparse's message about the entry just read (its stderr goes to cap),
 * and its line; cap is emptied for the next one. */
static int captured(FILE *cap, char *msg, size_t n)
{
    char buf[2048];
    fflush(stderr);
    fflush(cap);
    rewind(cap);
    size_t got = fread(buf, 1, sizeof buf - 1, cap);
    buf[got] = 0;
    /* stderr shares cap's file offset (dup2): both start again at 0 */
    if (ftruncate(fileno(cap), 0) == 0) lseek(fileno(cap), 0, SEEK_SET);
    rewind(cap);
    int line = 0;
    const char *l = strstr(buf, "line ");
    if (l) line = atoi(l + 5);
    const char *m = l ? strchr(l, ':') : NULL;
    m = m ? m + 1 : buf;
    while (*m == ' ') m++;
    size_t len = strcspn(m, "\n");
    snprintf(msg, n, "%.*s", (int)len, m);
    return line;
}

static void entry_free(cite_entry *e)
{
    free(e->key); free(e->type); free(e->names); free(e->authors); free(e->year); free(e->title);
    free(e->container); free(e->volume); free(e->number); free(e->pages); free(e->publisher);
    free(e->doi); free(e->url); free(e->note);
}

void cite_free(cite_bib *b)
{
    if (!b) return;
    for (int i = 0; i < b->n; i++) entry_free(&b->e[i]);
    free(b->e);
    free(b->slot);
    free(b->path);
    free(b);
}

/* The slot of key in b's table (FNV-1a, linear probing): its entry's or an empty one. */
static size_t key_slot(const cite_bib *b, const char *key)
{
    size_t h = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) h = (h ^ *p) * 1099511628211u;
    size_t i = h & (b->cap - 1);
    while (b->slot[i] && strcmp(b->e[b->slot[i] - 1].key, key)) i = (i + 1) & (b->cap - 1);
    return i;
}

/* e[n - 1] was just added: into the table, grown to keep it half empty */
static int index_last(cite_bib *b)
{
    if (2 * (size_t)b->n > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        int *slot = calloc(cap, sizeof *slot);
        if (!slot) return -1;
        free(b->slot);
        b->slot = slot;
        b->cap = cap;
        for (int i = 0; i < b->n - 1; i++) b->slot[key_slot(b, b->e[i].key)] = i + 1;
    }
    b->slot[key_slot(b, b->e[b->n - 1].key)] = b->n;
    return 0;
}

cite_entry *cite_find(cite_bib *b, const char *key)
{
    if (!b->cap) return NULL;
    int k = b->slot[key_slot(b, key)];
    return k ? &b->e[k - 1] : NULL;
}

static int load_entry(cite_bib *b, AST *ast, const char *path, cite_errors *err)
{
    const char *key = bt_entry_key(ast);
    int line = ast->line;
    if (!key || !*key) { set_err(err, path, line, "a @%s entry without a key", bt_entry_type(ast), NULL); return -1; }
    if (cite_find(b, key)) { set_err(err, path, line, "duplicate key '%s'", key, NULL); return -1; }
    cite_entry e = {0};
    e.key = strdup(key);
    e.type = strdup(bt_entry_type(ast));
    e.line = line;
    for (char *p = e.type; p && *p; p++) *p = (char)tolower((unsigned char)*p);
    char *who = raw_field(ast, "author");
    if (!who) who = raw_field(ast, "editor");
    e.year = field_text(ast, "year");
    if (!who || !*who || names(who, path, line, &e.names, &e.authors)) {
        free(who);
        entry_free(&e);
        set_err(err, path, line, "entry '%s' has no author (or editor): add author = {Last, First and Last, First}", key, NULL);
        return -1;
    }
    free(who);
    if (!e.year || !*e.year) {
        entry_free(&e);
        set_err(err, path, line, "entry '%s' has no year: add year = {2017}", key, NULL);
        return -1;
    }
    e.title = field_text(ast, "title");
    e.container = field_text(ast, "journal");
    if (!e.container) e.container = field_text(ast, "booktitle");
    if (!e.container) e.container = field_text(ast, "howpublished");
    e.volume = field_text(ast, "volume");
    e.number = field_text(ast, "number");
    e.pages = field_text(ast, "pages");
    e.publisher = field_text(ast, "publisher");
    if (!e.publisher) e.publisher = field_text(ast, "organization");
    if (!e.publisher) e.publisher = field_text(ast, "institution");
    e.doi = raw_field(ast, "doi");
    e.url = raw_field(ast, "url");
    e.note = field_text(ast, "note");
    cite_entry *t = (b->n & (b->n - 1)) ? b->e : realloc(b->e, sizeof *t * (size_t)(b->n ? 2 * b->n : 1)); /* doubled at 0, 1, 2, 4, ... */
    if (!t || !e.key || !e.type) { entry_free(&e); set_err(err, path, line, "out of memory", NULL, NULL); return -1; }
    b->e = t;
    b->e[b->n++] = e;
    if (index_last(b)) { set_err(err, path, line, "out of memory", NULL, NULL); return -1; }
    return 0;
}

cite_bib *cite_load(const char *path, cite_error *err)
{
    cite_errors es = {0};
    cite_bib *b = cite_load_all(path, &es);
    memset(err, 0, sizeof *err);
    if (es.n) *err = es.e[0];
    else if (!b) snprintf(err->msg, sizeof err->msg, "out of memory");
    free(es.e);
    return b;
}

static cite_bib *load_all_locked(const char *path, cite_errors *err);

/* btparse keeps its lexer and macros in globals, and its messages are caught
 * by pointing the process's stderr at a temporary file for the length of a
 * parse: one parse at a time (kiln preview builds on save while a build
 * that trains loads the same article). */
cite_bib *cite_load_all(const char *path, cite_errors *err)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    cite_bib *b = load_all_locked(path, err);
    pthread_mutex_unlock(&mu);
    return b;
}

static cite_bib *load_all_locked(const char *path, cite_errors *err)
{
    memset(err, 0, sizeof *err);
    /* without blocking, and a regular file only: btparse reading a FIFO, a
     * device or a folder never ends */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) { set_err(err, path, 0, "cannot read the bibliography: %s", strerror(errno), NULL); return NULL; }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CITE_MAX_BYTES) {
        set_err(err, path, 0, "%s", !S_ISREG(st.st_mode) ? "the bibliography is not a regular file (a .bib must be a BibTeX file)"
                                                        : "the bibliography is larger than 16 MB", NULL);
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "r");
    if (!f) { close(fd); set_err(err, path, 0, "cannot read the bibliography: %s", strerror(errno), NULL); return NULL; }
    static int initialised;
    if (!initialised) {
        bt_initialize();
        bt_set_stringopts(BTE_REGULAR, BTO_FULL);
        bt_set_stringopts(BTE_MACRODEF, BTO_MACRO);
        initialised = 1;
    }
    bt_delete_all_macros();
    cite_bib *b = calloc(1, sizeof *b);
    FILE *cap = tmpfile();
    if (!b || !cap || !(b->path = strdup(path))) {
        set_err(err, path, 0, "out of memory", NULL, NULL);
        fclose(f);
        if (cap) fclose(cap);
        cite_free(b);
        return NULL;
    }
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(cap), 2);
    /* every entry is read (btparse skips to the next '@' after an error, and
     * keeps its lexer state until it has read to the end), every error kept */
    for (;;) {
        boolean ok = 1;
        AST *ast = bt_parse_entry(f, (char *)path, 0, &ok);
        if (!ok) {
            char msg[400];
            int line = captured(cap, msg, sizeof msg);
            set_err(err, path, line ? line : ast ? ast->line : 0, "malformed BibTeX entry: %s%s", msg, NULL);
            if (ast) bt_free_ast(ast);
            continue;
        }
        if (!ast) break;
        if (bt_entry_metatype(ast) == BTE_REGULAR) load_entry(b, ast, path, err);
        bt_free_ast(ast);
    }
    int failed = err->n > 0;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(cap);
    fclose(f);
    if (failed) { cite_free(b); return NULL; }
    return b;
}
