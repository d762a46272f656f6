/* The {compare} verdicts of two builds: the manifests' "compares" (one per
 * comparison, by id), old against new. A verdict that changed ("better" ->
 * "within noise") is a change of the article's claims, as a changed run is. */
#include "diff/internal.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const json_t *find_cmp(const side *s, const char *id)
{
    const json_t *a = json_object_get(s->root, "compares"), *o;
    size_t i;
    json_array_foreach(a, i, o)
    {
        const json_t *v = json_object_get(o, "id");
        if (json_is_string(v) && !strcmp(json_string_value(v), id)) return o;
    }
    return NULL;
}

static const char *cstr(const json_t *o, const char *k)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

static double cnum(const json_t *o, const char *k)
{
    const json_t *v = o ? json_object_get(o, k) : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* what happened to comparison id: 0 same verdict, 1 verdict changed, 2 added,
 * 3 removed */
static int cmp_state(const json_t *o, const json_t *n)
{
    if (!o) return 2;
    if (!n) return 3;
    return strcmp(cstr(o, "verdict"), cstr(n, "verdict")) != 0;
}

static const char *const STATE_WORDS[] = {"same verdict", "verdict changed", "added", "removed"};

/* each comparison of either build once: the new build's order, then the old
 * build's that the new one lacks; calls f for each */
static void each_cmp(const side *so, const side *sn, void (*f)(const char *id, const json_t *o, const json_t *n, void *arg),
                     void *arg)
{
    const json_t *x;
    size_t i;
    json_array_foreach(json_object_get(sn->root, "compares"), i, x)
    {
        const char *id = cstr(x, "id");
        f(id, find_cmp(so, id), x, arg);
    }
    json_array_foreach(json_object_get(so->root, "compares"), i, x)
    {
        const char *id = cstr(x, "id");
        if (!find_cmp(sn, id)) f(id, x, NULL, arg);
    }
}

typedef struct acc {
    FILE *f;
    int n, changed;
    json_t *json;
} acc;

static void one_line(const char *id, const json_t *o, const json_t *n, void *arg)
{
    acc *a = arg;
    int st = cmp_state(o, n);
    a->n++;
    a->changed += st != 0;
    if (a->f) {
        char d[96];
        change_text(d, sizeof d, cnum(o, "diff"), cnum(n, "diff"), "%+.4f", "%+.4f", 0);
        const char *ov = o ? cstr(o, "verdict") : "-", *nv = n ? cstr(n, "verdict") : "-";
        char v[160];
        if (st == 0) snprintf(v, sizeof v, "%s", nv);
        else snprintf(v, sizeof v, "%s -> %s", ov, nv);
        char p[96];
        change_text(p, sizeof p, cnum(o, "p"), cnum(n, "p"), "%.3f", "%+.3f", 0);
        fprintf(a->f, "  %-22s %-16s %-40s diff %s, p %s\n", id, STATE_WORDS[st], v, d, p);
    }
    if (a->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "state", STATE_WORDS[st], "old_verdict",
                              o ? cstr(o, "verdict") : "", "new_verdict", n ? cstr(n, "verdict") : "");
        json_object_set_new(j, "diff", change_json(cnum(o, "diff"), cnum(n, "diff")));
        json_object_set_new(j, "p", change_json(cnum(o, "p"), cnum(n, "p")));
        json_array_append_new(a->json, j);
    }
}

/* one row of diff.html's comparisons table */
static void one_row(const char *id, const json_t *o, const json_t *n, void *arg)
{
    sbuf *b = arg;
    int st = cmp_state(o, n);
    char d[96], p[96];
    change_text(d, sizeof d, cnum(o, "diff"), cnum(n, "diff"), "%+.4f", "%+.4f", 0);
    change_text(p, sizeof p, cnum(o, "p"), cnum(n, "p"), "%.3f", "%+.3f", 0);
    sb_add(b, "<tr><td>");
    sb_html(b, id);
    sb_printf(b, "</td><td class=\"v-%s\">%s</td><td>", st ? "changed" : "identical", STATE_WORDS[st]);
    if (st == 0) {
        sb_html(b, cstr(n, "verdict"));
    } else {
        sb_html(b, o ? cstr(o, "verdict") : "-");
        sb_add(b, " → ");
        sb_html(b, n ? cstr(n, "verdict") : "-");
    }
    sb_add(b, "</td><td>");
    sb_html(b, d);
    sb_add(b, "</td><td>");
    sb_html(b, p);
    sb_add(b, "</td></tr>\n");
}

void diff_compares_html(const side *so, const side *sn, sbuf *b)
{
    if (!json_array_size(json_object_get(so->root, "compares")) && !json_array_size(json_object_get(sn->root, "compares")))
        return;
    sb_add(b, "<h2 id=\"comparisons\">Comparisons</h2>\n<p>The article's <code>{compare}</code> verdicts, old against "
              "new: a verdict that changed is a claim of the prose to read again.</p>\n"
              "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"comparisons\">"
              "<table class=\"diff\">\n<thead><tr><th>Comparison</th><th>State</th><th>Verdict</th>"
              "<th>Difference of means</th><th>p</th></tr></thead>\n<tbody>\n");
    each_cmp(so, sn, one_row, b);
    sb_add(b, "</tbody>\n</table></div>\n");
}

int diff_compares(const side *so, const side *sn, FILE *table, json_t **json)
{
    acc a = {table, 0, 0, json ? json_array() : NULL};
    int any = json_array_size(json_object_get(so->root, "compares")) + json_array_size(json_object_get(sn->root, "compares"));
    if (any && table) fprintf(table, "\ncomparisons ({compare} verdicts, old -> new):\n");
    each_cmp(so, sn, one_line, &a);
    if (any && table) fprintf(table, "%d comparisons: %d with a changed verdict (or added or removed)\n", a.n, a.changed);
    if (json) *json = a.json;
    return a.changed;
}
