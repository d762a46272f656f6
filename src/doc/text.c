/* Small text helpers of the loader: lists, trimming, a directive's keys. */
#include "doc/loader.h"
#include <ctype.h>
#include <string.h>

int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s)) return 1;
    return 0;
}

void join_list(sbuf *b, const char *const *list)
{
    for (int i = 0; list[i]; i++) { if (i) sb_add(b, ", "); sb_add(b, list[i]); }
}

/* ---- small text helpers --------------------------------------------------------- */

char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

/* Split "a, b c" on commas and whitespace into arena strings. */
int split_list(kiln_arena *a, const char *text, const char ***out)
{
    int n = 0, cap = 8;
    const char **v = ka_alloc(a, sizeof *v * (size_t)cap);
    const char *p = text;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ',')) p++;
        if (!*p) break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',') p++;
        if (n == cap) {
            const char **w = ka_alloc(a, sizeof *w * (size_t)cap * 2);
            memcpy(w, v, sizeof *v * (size_t)cap);
            v = w;
            cap *= 2;
        }
        v[n++] = ka_strndup(a, s, (size_t)(p - s));
    }
    *out = v;
    return n;
}

/* Split on commas only (legend labels and headers may hold spaces). */
int split_commas(kiln_arena *a, const char *text, const char ***out)
{
    int n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    const char **v = ka_alloc(a, sizeof *v * (size_t)n);
    int i = 0;
    const char *s = text;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char *t = ka_strndup(a, s, len);
        v[i++] = trim(t);
        if (!e) break;
        s = e + 1;
    }
    *out = v;
    return i;
}

const char *kv_get(const kiln_directive *d, const char *key)
{
    for (int i = 0; i < d->n_kv; i++)
        if (!strcmp(d->kv[i].key, key)) return d->kv[i].value;
    return NULL;
}

int kv_line(const kiln_directive *d, const char *key)
{
    for (int i = 0; i < d->n_kv; i++)
        if (!strcmp(d->kv[i].key, key)) return d->kv[i].line;
    return d->line;
}

/* A value written `{{RUN.METRIC[:FORMAT]}}` and nothing else: a trainer key
 * taken from another run's result. */
int is_config_ref(const char *v)
{
    size_t n = strlen(v);
    return n > 4 && !strncmp(v, "{{", 2) && !strcmp(v + n - 2, "}}") && !strstr(v + 2, "{{") &&
           strstr(v + 2, "}}") == v + n - 2;
}

/* " (did you mean 'NAME'?)" for word among names, or "" (arena text) */
const char *hint(loader *L, const char *word, const char *names)
{
    char buf[160];
    return ka_strdup(L->a, kiln_did_you_mean(word, names, buf, sizeof buf));
}

const char *list_hint(loader *L, const char *word, const char *const *list)
{
    sbuf b = {0};
    join_list(&b, list);
    const char *h = hint(L, word, b.s ? b.s : "");
    sb_free(&b);
    return h;
}

const char *format_hint(loader *L, const char *fmt)
{
    char buf[160];
    return ka_strdup(L->a, kr_format_hint(fmt, buf, sizeof buf));
}
