/* The reproducibility appendix, an ordinary chapter of the resolved
 * document (doc->appendix): the build's facts, then one section per run the
 * article uses (its provenance and settings), then the runs declared but not
 * trained. Built once here; the HTML and PDF writers render its blocks like
 * any chapter's (FACTS and SECTION are the two block kinds only it uses). */
#include "resolve/resolve.h"

#include <stdio.h>
#include <string.h>

/* ---- inlines and blocks in the document's arena ------------------------------------------ */

typedef struct inl_list {
    kiln_inline *first, *last;
} inl_list;

static kiln_inline *inl(kiln_doc *doc, inl_list *l, enum kiln_inline_kind kind, const char *text)
{
    kiln_inline *in = ka_alloc(doc->arena, sizeof *in);
    in->kind = kind;
    in->text = ka_strdup(doc->arena, text);
    in->url = in->title = in->run_id = in->metric = in->format = in->src = "";
    if (l->last) l->last->next = in;
    else l->first = in;
    l->last = in;
    return in;
}

static kiln_block *block(kiln_doc *doc, enum kiln_block_kind kind, kiln_block ***tail)
{
    kiln_block *b = ka_alloc(doc->arena, sizeof *b);
    b->kind = kind;
    b->text = b->info = b->anchor = "";
    **tail = b;
    *tail = &b->next;
    return b;
}

/* A FACTS block's row: the name, then its value (code or text); returns the
 * value's cell. */
static kiln_block *fact(kiln_doc *doc, kiln_block ***rows, const char *name, const char *value, int code)
{
    kiln_block *row = block(doc, KILN_BL_ROW, rows);
    kiln_block **cells = &row->children;
    inl_list n = {0}, v = {0};
    inl(doc, &n, KILN_IN_TEXT, name);
    inl(doc, &v, code ? KILN_IN_CODE : KILN_IN_TEXT, value ? value : "");
    block(doc, KILN_BL_CELL, &cells)->inlines = n.first;
    kiln_block *cell = block(doc, KILN_BL_CELL, &cells);
    cell->inlines = v.first;
    return cell;
}

/* ---- the parts ------------------------------------------------------------------------------ */


/* The cache folder as the published page names it: a path relative to where
 * the build ran (content/cache) as it is; an absolute one, or one that climbs
 * out with "..", would tell the reader about the build machine's folders
 * (/tmp/..., a home directory), so it is shown as CACHE. */
static const char *shown_cache_dir(const char *dir)
{
    if (!dir || !*dir) return "cache";
    if (dir[0] == '/' || !strncmp(dir, "..", 2) || strstr(dir, "/..")) return "CACHE";
    return dir;
}
static void intro(kiln_doc *doc, kiln_block ***tail)
{
    inl_list t = {0};
    inl(doc, &t, KILN_IN_TEXT, KILN_APPENDIX_TITLE);
    kiln_block *h = block(doc, KILN_BL_HEADING, tail);
    h->level = 1;
    h->anchor = "reproducibility-appendix";
    h->inlines = t.first;
    inl_list p = {0};
    inl(doc, &p, KILN_IN_TEXT,
        "Every run behind this article, as the build found it. The cache key is the XXH3-128 hash of the "
        "canonical configuration, the trainer's fingerprint and the data digest; the entry ");
    inl(doc, &p, KILN_IN_CODE, ka_printf(doc->arena, "%s/KEY.json", shown_cache_dir(doc->opts.cache_dir)));
    inl(doc, &p, KILN_IN_TEXT, " holds the full history. Rebuild with ");
    inl(doc, &p, KILN_IN_CODE, doc->smoke ? "kiln build --smoke" : "make report");
    inl(doc, &p, KILN_IN_TEXT, ".");
    block(doc, KILN_BL_PARAGRAPH, tail)->inlines = p.first;
    kiln_block *f = block(doc, KILN_BL_FACTS, tail);
    kiln_block **rows = &f->children;
    fact(doc, &rows, "Trainer fingerprint", doc->trainer_fingerprint, 1);
    int digest = doc->data_digest && doc->data_digest[0];
    fact(doc, &rows, "Data digest (SHA-256)", digest ? doc->data_digest : "not computed", digest);
    fact(doc, &rows, "kiln", kiln_version(), 0);
    if (doc->smoke) fact(doc, &rows, "Scale", "smoke (every run shrunk; numbers are not the article's)", 0);
}

static const char *wall_time(kiln_doc *doc, const kiln_run *r)
{
    const char *s = ka_printf(doc->arena, r->seconds >= 100 ? "%.0f s" : "%.1f s", r->seconds);
    if (!r->host_threads || !r->host_threads[0]) return s;
    return ka_printf(doc->arena, "%s on %s thread%s", s, r->host_threads, strcmp(r->host_threads, "1") ? "s" : "");
}

/* The facts of one run: where it is declared, its key and provenance, its
 * history file (OUT/runs/ID.json, which the HTML writer writes). */
static void run_facts(kiln_doc *doc, const kiln_run *r, kiln_block ***tail)
{
    kiln_block *f = block(doc, KILN_BL_FACTS, tail);
    kiln_block **rows = &f->children;
    fact(doc, &rows, "Declared", ka_printf(doc->arena, "%s:%d", r->file ? r->file : "", r->line), 0);
    fact(doc, &rows, "Cache key", r->key, 1);
    fact(doc, &rows, "Trainer fingerprint",
         r->fingerprint && r->fingerprint[0] ? r->fingerprint : doc->trainer_fingerprint, 1);
    fact(doc, &rows, "Data digest", r->data_digest, 1);
    fact(doc, &rows, "Wall time", wall_time(doc, r), 0);
    fact(doc, &rows, "Computed",
         ka_printf(doc->arena, "%s, %s, %s, kiln %s", r->date ? r->date : "", r->cpu ? r->cpu : "",
                   r->compiler ? r->compiler : "", r->kiln_version ? r->kiln_version : ""), 0);
    kiln_block *history = fact(doc, &rows, "History", "", 0);
    inl_list v = {0};
    kiln_inline *a = inl(doc, &v, KILN_IN_LINK, "");
    a->url = ka_printf(doc->arena, "runs/%s.json", r->id);
    inl_list name = {0};
    inl(doc, &name, KILN_IN_TEXT, ka_printf(doc->arena, "%s.json", r->id));
    a->children = name.first;
    inl(doc, &v, KILN_IN_TEXT, r->kind == KILN_RUN_TRAIN ? " (every epoch and step)" : " (every step of the range test)");
    history->inlines = v.first;
}

/* A run's section: a heading (its id, its label), its facts, its settings
 * as a {config} of it would list them. */
static void run_section(kiln_doc *doc, kiln_run *r, kiln_block ***tail)
{
    kiln_block *s = block(doc, KILN_BL_SECTION, tail);
    s->info = "run";
    kiln_block **in = &s->children;
    inl_list t = {0};
    inl(doc, &t, KILN_IN_CODE, r->id);
    if (r->label && strcmp(r->label, r->id)) inl(doc, &t, KILN_IN_TEXT, ka_printf(doc->arena, " (%s)", r->label));
    kiln_block *h = block(doc, KILN_BL_HEADING, &in);
    h->level = 2;
    h->anchor = ka_printf(doc->arena, "run-%s", r->id);
    h->inlines = t.first;
    run_facts(doc, r, &in);
    kiln_directive *x = ka_alloc(doc->arena, sizeof *x);
    x->kind = KILN_DIR_CONFIG;
    x->name = "config";
    x->id = r->id;
    x->file = r->file;
    x->line = r->line;
    x->run = r;
    x->text = r->display && r->display[0] ? r->display : r->canonical;
    x->title = x->anchor = "";
    block(doc, KILN_BL_DIRECTIVE, &in)->directive = x;
}

static void not_trained(kiln_doc *doc, kiln_block ***tail)
{
    inl_list p = {0};
    for (int i = 0; i < doc->n_runs; i++) {
        if (doc->runs[i]->needed) continue;
        inl(doc, &p, KILN_IN_TEXT,
            p.first ? ", " : "Declared but not trained (used only as a base, a listing or a schedule curve): ");
        inl(doc, &p, KILN_IN_CODE, doc->runs[i]->id);
    }
    if (!p.first) return;
    inl(doc, &p, KILN_IN_TEXT, ".");
    block(doc, KILN_BL_PARAGRAPH, tail)->inlines = p.first;
}

/* The committed records of what changes did to the results (kiln diff's
 * text, CONTENT/records/): each linked to the site's copy, with its summary. */
static void records(kiln_doc *doc, kiln_block ***tail)
{
    if (!doc->n_records) return;
    inl_list t = {0};
    inl(doc, &t, KILN_IN_TEXT, "Records of changes");
    kiln_block *h = block(doc, KILN_BL_HEADING, tail);
    h->level = 2;
    h->anchor = "records-of-changes";
    h->inlines = t.first;
    inl_list p = {0};
    inl(doc, &p, KILN_IN_TEXT, "What a change to the trainer (or to the runs) did to these results, as ");
    inl(doc, &p, KILN_IN_CODE, "kiln diff");
    inl(doc, &p, KILN_IN_TEXT, " compared the cached results before and after it, run by run: which stayed identical, "
                               "which moved within noise and which changed.");
    block(doc, KILN_BL_PARAGRAPH, tail)->inlines = p.first;
    kiln_block *f = block(doc, KILN_BL_FACTS, tail);
    kiln_block **rows = &f->children;
    for (int i = 0; i < doc->n_records; i++) {
        const kiln_record *r = &doc->records[i];
        kiln_block *row = block(doc, KILN_BL_ROW, &rows);
        kiln_block **cells = &row->children;
        inl_list n = {0}, v = {0}, lt = {0};
        kiln_inline *link = inl(doc, &n, KILN_IN_LINK, "");
        inl(doc, &lt, KILN_IN_CODE, r->name);
        link->url = r->url;
        link->children = lt.first;
        inl(doc, &v, KILN_IN_TEXT, r->summary[0] ? r->summary : r->title);
        block(doc, KILN_BL_CELL, &cells)->inlines = n.first;
        block(doc, KILN_BL_CELL, &cells)->inlines = v.first;
    }
}

void kr_build_appendix(kiln_doc *doc)
{
    kiln_chapter *ch = ka_alloc(doc->arena, sizeof *ch);
    ch->index = doc->n_chapters;
    ch->file = "";
    ch->slug = "appendix";
    ch->page = KILN_APPENDIX_PAGE;
    ch->title = KILN_APPENDIX_TITLE;
    kiln_block **tail = &ch->blocks;
    intro(doc, &tail);
    records(doc, &tail);
    for (int i = 0; i < doc->n_runs; i++)
        if (doc->runs[i]->needed) run_section(doc, doc->runs[i], &tail);
    not_trained(doc, &tail);
    doc->appendix = ch;
}
