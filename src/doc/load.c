/* Loading the content: Markdown files -> cmark -> the kiln document model.
 * Everything is checked here, before any run: directive names and keys, ids,
 * `base =` chains, references in the prose. */
#include "doc/loader.h"
#include "kiln/math.h"
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- entry points ------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The default folders of a build: content "content", out "out" ("out/smoke"
 * with smoke), cache CONTENT/cache (OUT/cache with smoke: smoke results are
 * not committed). */
static void default_dirs(kiln_build_opts *o, kiln_arena *a)
{
    if (!o->content_dir) o->content_dir = "content";
    if (!o->out_dir) o->out_dir = o->smoke ? "out/smoke" : "out";
    if (!o->cache_dir) o->cache_dir = ka_printf(a, "%s/cache", o->smoke ? o->out_dir : o->content_dir);
}

static kiln_doc *new_doc(const kiln_build_opts *o)
{
    kiln_arena *a = ka_new();
    kiln_doc *doc = ka_alloc(a, sizeof *doc);
    doc->arena = a;
    doc->opts = *o;
    default_dirs(&doc->opts, a);
    doc->smoke = o->smoke;
    doc->title = doc->subtitle = doc->date = doc->date_text = "";
    doc->lang = "en";
    doc->index_file = "";
    doc->data_digest = "";
    doc->trainer_fingerprint = kiln_trainer_fingerprint();
    return doc;
}

/* ---- citations and the references ------------------------------------------------------- */

static kiln_inline *text_inline(loader *L, const char *t, int line)
{
    kiln_inline *x = new_inline(L, KILN_IN_TEXT, line);
    x->text = ka_strdup(L->a, t);
    return x;
}

static kiln_inline *link_inline(loader *L, const char *url, kiln_inline *child, int line)
{
    kiln_inline *x = new_inline(L, KILN_IN_LINK, line);
    x->url = url;
    x->children = child;
    return x;
}

/* A citation's text and its parts, each work linked to its entry. */
static void cite_inlines(loader *L, kiln_inline *ci, const cite_cite *c, const char *page)
{
    char *all = cite_text(L->bib, c);
    ci->text = ka_strdup(L->a, all ? all : "");
    free(all);
    kiln_inline *head = NULL, *tail = NULL;
#define ADD(x) do { kiln_inline *x_ = (x); if (tail) tail->next = x_; else head = x_; tail = x_; } while (0)
    for (int i = 0; i < c->n; i++) {
        const cite_item *it = &c->item[i];
        cite_entry *e = cite_find(L->bib, it->key);
        char *anchor = cite_anchor(e);
        const char *url = ka_printf(L->a, "%s#%s", page, anchor);
        free(anchor);
        const char *loc = *it->locator ? ka_printf(L->a, ", %s", it->locator) : "";
        if (c->narrative) {
            ADD(link_inline(L, url, text_inline(L, ka_printf(L->a, "%s (%s%s)", e->names, e->year, loc), ci->line), ci->line));
            break;
        }
        if (cite_same_authors(L->bib, c, i)) {   /* (Surmenok 2018, 2019) */
            ADD(text_inline(L, ", ", ci->line));
            ADD(link_inline(L, url, text_inline(L, e->year, ci->line), ci->line));
            continue;
        }
        ADD(text_inline(L, i ? "; " : "(", ci->line));
        if (*it->prefix) ADD(text_inline(L, ka_printf(L->a, "%s ", it->prefix), ci->line));
        const char *t = it->suppress_author ? ka_printf(L->a, "%s%s", e->year, loc) : ka_printf(L->a, "%s %s%s", e->names, e->year, loc);
        ADD(link_inline(L, url, text_inline(L, t, ci->line), ci->line));
    }
    if (!c->narrative) ADD(text_inline(L, ")", ci->line));
#undef ADD
    ci->children = head;
}

/* The References chapter: the works cited, sorted, each a paragraph with
 * its anchor; appended after the last chapter (its slot is reserved). */
static void add_references(loader *L)
{
    kiln_doc *doc = L->doc;
    if (!L->bib || !L->n_cites) return;
    cite_finish(L->bib);
    kiln_chapter *ch = &doc->chapters[doc->n_chapters];
    ch->index = doc->n_chapters++;
    ch->file = ka_strdup(L->a, L->bib->path);
    ch->slug = "references";
    ch->page = "references.html";
    ch->title = "References";
    doc->references = ch;
    for (int i = 0; i < L->n_cites; i++) cite_inlines(L, L->cites[i], &L->cite_data[i], ch->page);
    kiln_block *h = ka_alloc(L->a, sizeof *h);
    h->kind = KILN_BL_HEADING;
    h->level = 1;
    h->line = 1;
    h->text = h->info = "";
    h->anchor = "references";
    h->inlines = text_inline(L, "References", 1);
    kiln_block *list = ka_alloc(L->a, sizeof *list);
    list->kind = KILN_BL_REFERENCES;
    list->text = list->info = list->anchor = "";
    h->next = list;
    int n;
    cite_entry **v = cite_cited(L->bib, &n);
    kiln_block *tail = NULL;
    for (int i = 0; i < n; i++) {
        kiln_block *p = ka_alloc(L->a, sizeof *p);
        p->kind = KILN_BL_PARAGRAPH;
        p->line = v[i]->line;
        p->text = p->info = "";
        char *a = cite_anchor(v[i]);
        p->anchor = ka_strdup(L->a, a);
        free(a);
        cite_part *parts;
        int np = cite_reference(v[i], &parts);
        kiln_inline *ih = NULL, *it = NULL;
        for (int k = 0; k < np; k++) {
            kiln_inline *x = text_inline(L, parts[k].text, p->line);
            if (parts[k].style == CITE_ITALIC) {
                kiln_inline *em = new_inline(L, KILN_IN_EMPH, p->line);
                em->children = x;
                x = em;
            } else if (parts[k].style == CITE_LINK) {
                /* url = / doi = of the .bib: the same allow-list as a link in the prose */
                char scheme[48];
                const char *url = clean_url(L->a, parts[k].url, 0, scheme, sizeof scheme);
                if (scheme[0] || (strncasecmp(url, "http:", 5) && strncasecmp(url, "https:", 6)) || strlen(url) > 32768)
                    kd_error(L->d, KILN_REPORT_EINPUT, L->bib->path, v[i]->line,
                             "entry '%s': url '%.200s' refused: a reference links to an http: or https: address of at most 32 KB",
                             v[i]->key, url);
                else
                    x = link_inline(L, url, x, p->line);
            }
            if (it) it->next = x;
            else ih = x;
            it = x;
        }
        cite_parts_free(parts, np);
        p->inlines = ih;
        if (tail) tail->next = p;
        else list->children = p;
        tail = p;
    }
    free(v);
    ch->blocks = h;
}

static int finish(loader *L, kiln_doc **out)
{
    add_references(L);
    for (int i = 0; i < L->n_cites; i++) cite_cite_free(&L->cite_data[i]);
    free(L->cites);
    free(L->cite_data);
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
    kr_strmap_free(&L->anchors);
    kr_strmap_free(&L->target_ix);
    kr_strmap_free(&L->eq_ix);
    free(L->targets);
    if (L->d->n_errors) {
        kiln_doc_free(L->doc);
        *out = NULL;
        return L->d->worst ? L->d->worst : KILN_REPORT_EINPUT;
    }
    *out = L->doc;
    return 0;
}

/* A page's headings are its outline (the contents list, screen readers'
 * heading navigation): one level-1 title, and no level skipped on the way
 * down. Warnings only: the page is still written. */
static void check_heading_order(loader *L, const char *file, const kiln_block *b)
{
    int prev = 1, titles = 0;
    for (; b; b = b->next) {
        if (b->kind != KILN_BL_HEADING) continue;
        if (b->level == 1 && titles++)
            kd_warn(L->d, file, b->line, "a second '# ' heading: a page has one title (make this one '## ')");
        else if (b->level > prev + 1)
            kd_warn(L->d, file, b->line,
                    "a level-%d heading after a level-%d one skips a level (headings are the page's outline: make it %.*s)",
                    b->level, prev, prev + 1, "######");
        prev = b->level;
    }
}

static void setup_chapter(loader *L, kiln_chapter *ch, const char *file, const char *name, kiln_block *blocks)
{
    check_heading_order(L, file, blocks);
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

/* A loader over a new, empty document. */
static void loader_init(loader *L, const kiln_build_opts *o, kiln_diag *d)
{
    memset(L, 0, sizeof *L);
    L->doc = new_doc(o);
    L->a = L->doc->arena;
    L->d = d;
    L->first_msg = d->n_msgs;
    L->o = o;
}

int kiln_doc_load_text(kiln_doc **out, const char *file, const char *markdown, const kiln_build_opts *o, kiln_diag *d)
{
    loader L;
    loader_init(&L, o, d);
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

/* ---- records of changes (CONTENT/records/NAME.txt) -------------------------------------- */

/* A record's name: letters, digits, '.', '_', '-', ending in ".txt". */
static int record_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len < 5 || n[0] == '.' || strcmp(n + len - 4, ".txt")) return 0;
    for (const char *c = n; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-') return 0;
    return 1;
}

int in_content_dir(loader *L, const char *path)
{
    char root[PATH_MAX], real[PATH_MAX];
    if (!realpath(L->o->content_dir ? L->o->content_dir : "content", root) || !realpath(path, real)) return 0;
    size_t n = strlen(root);
    return !strncmp(real, root, n) && real[n] == '/';
}

#define MAX_MARKDOWN_BYTES (64 << 20)

/* A chapter's file name: letters (beyond ASCII too), digits, '.', '_', '-'. */
static int page_name_ok(const char *n)
{
    for (const unsigned char *c = (const unsigned char *)n; *c; c++)
        if (!isalnum(*c) && *c < 0x80 && *c != '.' && *c != '_' && *c != '-') return 0;
    return 1;
}

/* The line of text starting at p, as a string in the arena. */
static const char *line_at(loader *L, const char *p)
{
    size_t n = strcspn(p, "\n");
    if (n && p[n - 1] == '\r') n--;
    return ka_strndup(L->a, p, n);
}

/* Every regular file NAME.txt of DIR/records, in name order, with its first
 * line and its summary line (the first that reads "N runs: "). Other names
 * there are left alone; a record that cannot be read, or is over 4 MB, is
 * an input error. */
static void load_records(loader *L, const char *dir)
{
    char *rdir = ka_printf(L->a, "%s/records", dir);
    DIR *dp = opendir(rdir);
    if (!dp) return;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (!record_name_ok(e->d_name)) continue;
        KR_GROW(names, cap, n + 1);
        names[n++] = kr_xstrdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    kiln_record *r = ka_alloc(L->a, sizeof *r * (size_t)(n ? n : 1));
    int k = 0;
    for (int i = 0; i < n; i++) {
        char *path = ka_printf(L->a, "%s/%s", rdir, names[i]);
        struct stat st;
        if (stat(path, &st) || !S_ISREG(st.st_mode)) {
            free(names[i]);
            continue;
        }
        if (!in_content_dir(L, path)) {   /* copied into the site as it is: never from elsewhere */
            kd_error(L->d, KILN_REPORT_EINPUT, path, 0,
                     "the record lies outside the content folder (a symbolic link): the site would publish it");
            free(names[i]);
            continue;
        }
        size_t len = 0;
        char *text = st.st_size <= 4 << 20 ? kr_read_file(path, &len) : NULL;
        if (!text) {
            if (st.st_size > 4 << 20)
                kd_error(L->d, KILN_REPORT_EINPUT, path, 0, "a record may hold at most 4 MB (this one: %lld bytes)",
                         (long long)st.st_size);
            else
                kd_error(L->d, KILN_REPORT_EINPUT, path, 0, "cannot read the record: %s", strerror(errno));
            free(names[i]);
            continue;
        }
        r[k].name = ka_strdup(L->a, names[i]);
        r[k].src = path;
        r[k].url = ka_printf(L->a, "records/%s", names[i]);
        r[k].title = line_at(L, text);
        r[k].summary = "";
        for (const char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
            char *end;
            long v = strtol(p, &end, 10);
            if (isdigit((unsigned char)*p) && v >= 0 && !strncmp(end, " runs: ", 7)) {
                r[k].summary = line_at(L, p);
                break;
            }
        }
        free(text);
        free(names[i]);
        k++;
    }
    free(names);
    L->doc->records = r;
    L->doc->n_records = k;
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
    int n = 0, cap_names = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".md") || e->d_name[0] == '.') continue;
        KR_GROW(names, cap_names, n + 1);
        names[n++] = kr_xstrdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_str);

    loader L;
    loader_init(&L, o, d);
    kiln_doc *doc = L.doc;
    /* one slot more than the files: index.md is no chapter, the References may be */
    doc->chapters = ka_alloc(L.a, sizeof *doc->chapters * (size_t)(n + 1));
    char *bib = ka_printf(L.a, "%s/references.bib", dir);
    if (access(bib, F_OK) == 0) {
        cite_errors ce;
        L.bib = cite_load_all(bib, &ce);
        for (int i = 0; i < ce.n; i++) kd_error(d, KILN_REPORT_EINPUT, ce.e[i].file, ce.e[i].line, "%s", ce.e[i].msg);
        if (!L.bib) {
            if (!ce.n) kd_error(d, KILN_REPORT_EFAIL, bib, 0, "out of memory");
            L.bib_failed = 1;
        }
        free(ce.e);
        doc->bib = L.bib;
    }
    load_records(&L, dir);
    int have_index = 0;
    for (int i = 0; i < n; i++) {
        char *path = ka_printf(L.a, "%s/%s", dir, names[i]);
        /* the generated pages own these names (content links to
         * appendix.html, kiln diff writes diff.html): a chapter of that name
         * is refused rather than renamed, so those links keep meaning what
         * they say */
        if (!strcmp(names[i], "appendix.md") || !strcmp(names[i], "diff.md")) {
            kd_error(d, KILN_REPORT_EINPUT, path, 0,
                     "a chapter may not be called %s: its page %.*s.html is kiln's own (%s); rename it, e.g. 08-%s", names[i],
                     (int)strlen(names[i]) - 3, names[i],
                     names[i][0] == 'a' ? "the reproducibility appendix" : "kiln diff's overlay plots", names[i]);
            continue;
        }
        /* a chapter's name is its page's address in every link to it: a
         * ':' would make "javascript:x.html" a script, '#', '?', '%' and
         * spaces would break the links */
        if (!page_name_ok(names[i])) {
            kd_error(d, KILN_REPORT_EINPUT, path, 0,
                     "a chapter's file name becomes its page's address: use letters, digits, '-', '_' and '.' only "
                     "(e.g. 02-decay.md)");
            continue;
        }
        struct stat fst;
        if (stat(path, &fst) == 0 && !S_ISREG(fst.st_mode)) {
            kd_error(d, KILN_REPORT_EINPUT, path, 0, "not a regular file (a chapter must be a Markdown file)");
            continue;
        }
        if (stat(path, &fst) == 0 && fst.st_size > MAX_MARKDOWN_BYTES) { /* a sparse 8 GB file was read whole */
            kd_error(d, KILN_REPORT_EINPUT, path, 0, "%lld bytes: a Markdown file may hold at most %d MB",
                     (long long)fst.st_size, MAX_MARKDOWN_BYTES >> 20);
            continue;
        }
        size_t len;
        char *text = kr_read_file(path, &len);
        if (!text) {
            kd_error(d, KILN_REPORT_EINPUT, path, 0, "cannot read: %s", strerror(errno));
            continue;
        }
        if (!strcmp(names[i], "index.md")) {
            have_index = 1;
            L.chapter = NULL;
            int bad_front = front_matter(&L, path, text, len);
            kiln_block *blocks = parse_markdown(&L, path, text, len);
            check_heading_order(&L, path, blocks);
            kiln_block *h;
            char *t = (char *)first_h1(blocks, &h);
            if (t && doc->title[0] && strcmp(t, doc->title))
                kd_error(d, KILN_REPORT_EINPUT, path, h->line,
                         "the title is given twice: '%s' in the front matter and '# %s' here; keep one", doc->title, t);
            else if (t)
                doc->title = ka_strdup(L.a, t);
            free(t);
            doc->index_file = path;
            /* the summary is everything but the title heading */
            kiln_block **pp = &blocks;
            while (*pp && *pp != h) pp = &(*pp)->next;
            if (*pp) *pp = h->next;
            doc->front = blocks;
            if (!doc->title[0] && !bad_front)
                kd_error(d, KILN_REPORT_EINPUT, path, 1,
                         "index.md needs the article's title: a '# Title' heading or 'title:' in its front matter");
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
    cite_free(doc->bib);
    for (int i = 0; i < doc->n_maths; i++) km_free(doc->maths[i]);
    free(doc->maths);
    free(doc->equations);
    free(doc->math_values);
    free(doc->math_value_nodes);
    free(doc->images);
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
