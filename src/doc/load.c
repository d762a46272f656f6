/* Loading the content: Markdown files -> cmark -> the kiln document model.
 * Everything is checked here, before any run: directive names and keys, ids,
 * `base =` chains, references in the prose. */
#include "doc/loader.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- entry points ------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static kiln_doc *new_doc(const kiln_build_opts *o)
{
    kiln_arena *a = ka_new();
    kiln_doc *doc = ka_alloc(a, sizeof *doc);
    doc->arena = a;
    doc->opts = *o;
    doc->smoke = o->smoke;
    doc->title = "";
    doc->index_file = "";
    doc->data_digest = "";
    doc->trainer_fingerprint = kiln_trainer_fingerprint();
    return doc;
}

static int finish(loader *L, kiln_doc **out)
{
    check_all(L);
    /* the messages in file and line order: index.md, then the chapters */
    kiln_doc *doc = L->doc;
    const char **files = malloc(sizeof *files * (size_t)(doc->n_chapters + 1));
    if (!files) abort();
    int nf = 0;
    if (doc->index_file[0]) files[nf++] = doc->index_file;
    for (int i = 0; i < doc->n_chapters; i++) files[nf++] = doc->chapters[i].file;
    kd_sort(L->d, L->first_msg, files, nf);
    free(files);
    free(L->dirs);
    free(L->refs);
    free(L->ref_files);
    free(L->anchors);
    if (L->d->n_errors) {
        kiln_doc_free(L->doc);
        *out = NULL;
        return L->d->worst ? L->d->worst : KILN_REPORT_EINPUT;
    }
    *out = L->doc;
    return 0;
}

static void setup_chapter(loader *L, kiln_chapter *ch, const char *file, const char *name, kiln_block *blocks)
{
    size_t n = strlen(name);
    ch->file = ka_strdup(L->a, file);
    ch->slug = ka_strndup(L->a, name, n - 3);
    ch->page = ka_printf(L->a, "%s.html", ch->slug);
    ch->blocks = blocks;
    kiln_block *h;
    char *t = (char *)first_h1(blocks, &h);
    ch->title = t ? ka_strdup(L->a, t) : ch->slug;
    free(t);
    if (!t) kd_warn(L->d, file, 1, "no '# title' heading; the chapter is called '%s'", ch->slug);
}

int kiln_doc_load_text(kiln_doc **out, const char *file, const char *markdown, const kiln_build_opts *o, kiln_diag *d)
{
    loader L = {0};
    L.doc = new_doc(o);
    L.a = L.doc->arena;
    L.d = d;
    L.first_msg = d->n_msgs;
    L.o = o;
    const char *slash = strrchr(file, '/');
    const char *name = slash ? slash + 1 : file;
    char *nm = (strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".md")) ? ka_strdup(L.a, name)
                                                                           : ka_printf(L.a, "%s.md", name);
    kiln_chapter *ch = ka_alloc(L.a, sizeof *ch);
    L.chapter = ch;
    kiln_block *blocks = parse_markdown(&L, ka_strdup(L.a, file), markdown, strlen(markdown));
    setup_chapter(&L, ch, file, nm, blocks);
    L.doc->chapters = ch;
    L.doc->n_chapters = 1;
    L.doc->title = ch->title;
    return finish(&L, out);
}

int kiln_doc_load(kiln_doc **out, const kiln_build_opts *o, kiln_diag *d)
{
    *out = NULL;
    const char *dir = o->content_dir ? o->content_dir : "content";
    DIR *dp = opendir(dir);
    if (!dp) {
        kd_error(d, KILN_REPORT_EINPUT, dir, 0, "cannot open the content folder: %s (give one with --content DIR; it holds index.md and the chapters NN-name.md)",
                 strerror(errno));
        return KILN_REPORT_EINPUT;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".md") || e->d_name[0] == '.') continue;
        names = realloc(names, sizeof *names * (size_t)(n + 1));
        if (!names) abort();
        names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_str);

    loader L = {0};
    L.doc = new_doc(o);
    L.a = L.doc->arena;
    L.d = d;
    L.first_msg = d->n_msgs;
    L.o = o;
    kiln_doc *doc = L.doc;
    doc->chapters = ka_alloc(L.a, sizeof *doc->chapters * (size_t)(n ? n : 1));
    int have_index = 0;
    for (int i = 0; i < n; i++) {
        char *path = ka_printf(L.a, "%s/%s", dir, names[i]);
        size_t len;
        char *text = kr_read_file(path, &len);
        if (!text) {
            kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot read: %s", strerror(errno));
            continue;
        }
        if (!strcmp(names[i], "index.md")) {
            have_index = 1;
            L.chapter = NULL;
            kiln_block *blocks = parse_markdown(&L, path, text, len);
            kiln_block *h;
            char *t = (char *)first_h1(blocks, &h);
            doc->title = t ? ka_strdup(L.a, t) : "";
            free(t);
            doc->index_file = path;
            /* the front matter is everything but the title heading */
            kiln_block **pp = &blocks;
            while (*pp && *pp != h) pp = &(*pp)->next;
            if (*pp) *pp = h->next;
            doc->front = blocks;
            if (!doc->title[0]) kd_error(d, KILN_REPORT_EINPUT, path, 1, "index.md needs a '# Title' heading (the article's title)");
        } else {
            kiln_chapter *ch = &doc->chapters[doc->n_chapters];
            ch->index = doc->n_chapters++;
            L.chapter = ch;
            kiln_block *blocks = parse_markdown(&L, path, text, len);
            setup_chapter(&L, ch, path, names[i], blocks);
        }
        free(text);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (!have_index)
        kd_error(d, KILN_REPORT_EINPUT, dir, 0, "no index.md: the content folder needs index.md (title and summary) and chapters NN-name.md");
    if (!doc->n_chapters) kd_error(d, KILN_REPORT_EINPUT, dir, 0, "no chapters: add NN-name.md files next to index.md");
    return finish(&L, out);
}

void kiln_doc_free(kiln_doc *doc)
{
    if (!doc) return;
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (r->ok && r->kind == KILN_RUN_TRAIN) kiln_history_free(&r->history);
        if (r->ok && r->kind == KILN_RUN_LRFIND) kiln_lrfind_free(&r->lrfind);
    }
    ka_free(doc->arena);
}

kiln_directive *kr_find_group(const kiln_doc *doc, const char *id)
{
    for (int i = 0; i < doc->n_groups; i++)
        if (!strcmp(doc->groups[i]->id, id)) return doc->groups[i];
    return NULL;
}

kiln_run *kr_find_run(const kiln_doc *doc, const char *id)
{
    for (int i = 0; i < doc->n_runs; i++)
        if (!strcmp(doc->runs[i]->id, id)) return doc->runs[i];
    return NULL;
}

kiln_directive *kr_find_target(const kiln_doc *doc, const char *kind, const char *id)
{
    int tab = !strcmp(kind, "table");
    int n = tab ? doc->n_tables : doc->n_figures;
    kiln_directive **v = tab ? doc->tables : doc->figures;
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i]->id, id)) return v[i];
    return NULL;
}
