/* kiln_pdf_write: the resolved document as one PDF (see kiln/pdf.h).
 *
 * Three flows are laid out and paginated separately: the title page (title,
 * subtitle, build facts, the summary from index.md), the contents (needs the
 * body's page numbers, so it is laid out last) and the body (each chapter on
 * a new page, then the reproducibility appendix, doc->appendix, laid out like
 * any chapter). Then every page is created, the items' operations drawn,
 * links and the outline resolved against the destinations the layout
 * recorded, the metadata set, and the file written through the one fsync'd
 * atomic write (kr_write_atomic).
 *
 * Pages: A4, 1 inch side margins; body pages carry a running header (the
 * chapter, the article's title) except where a chapter opens, and a centred
 * page number. The front pages are numbered i, ii, ... and the body 1, 2, ...,
 * in the footers and in the PDF's page labels alike. */
#include "pdf/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { FLOW_TITLE, FLOW_TOC, FLOW_BODY };

typedef struct hpdf_err {
    HPDF_STATUS code, detail;
    int count;
} hpdf_err;

static void on_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
    hpdf_err *e = user;
    if (getenv("KILN_PDF_DEBUG")) fprintf(stderr, "libharu error 0x%04X detail %u\n", (unsigned)code, (unsigned)detail);
    if (!e->count++) {
        e->code = code;
        e->detail = detail;
    }
}

static void set_flow(pw *w, int flow, int chapter)
{
    w->flow = flow;
    w->chapter = chapter;
}

/* ---- the title page -------------------------------------------------------------- */

/* The date the report gives: SOURCE_DATE_EPOCH when set, else the newest
 * result the article uses (the date its cache entry records), else the
 * newest content file: taken from the inputs, never the clock, so two builds
 * of the same inputs give the same bytes. */
static void build_date(const kiln_doc *doc, time_t *t, struct tm *tm)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *end = NULL;
    long long v = sde && *sde ? strtoll(sde, &end, 10) : -1;
    if (v >= 0 && end && !*end) *t = (time_t)v;
    else {
        *t = 0;
        for (int i = 0; i < doc->n_runs; i++) {
            const kiln_run *r = doc->runs[i];
            struct tm rt = {0};
            const char *e = r->ok && r->date ? strptime(r->date, "%Y-%m-%dT%H:%M:%SZ", &rt) : NULL;
            time_t rv = e && !*e ? timegm(&rt) : 0;
            if (rv > *t) *t = rv;
        }
        struct stat st;
        if (!*t && doc->index_file && !stat(doc->index_file, &st)) *t = st.st_mtime;
        for (int i = 0; i < doc->n_chapters && !doc->n_runs; i++)
            if (!stat(doc->chapters[i].file, &st) && st.st_mtime > *t) *t = st.st_mtime;
    }
    gmtime_r(t, tm);
}

/* What a smoke build says about itself, on the title page and the site. */
#define SMOKE_NOTE "Smoke build: shrunk experiments, numbers are not the article\xe2\x80\x99s"

static const char *or_empty(const char *s) { return s ? s : ""; }

/* One line or more of text in a style, lead and space above. */
static void title_text(pw *w, ctx *c, int family, int bits, float size, uint32_t color, float lead, float pre,
                       const char *text)
{
    pstyle st = ps_make(family, bits, size, color);
    ppara p;
    pp_init(&p, w);
    pp_text(&p, &st, text);
    emit_lines(w, c, &p, c->x, c->width, lead, size, PA_LEFT, pre, 1, NULL);
    pp_free(&p);
}

/* The title page: title, subtitle, the smoke note, authors, date, abstract
 * (index.md's front matter), then the build's facts; the summary (the rest
 * of index.md) follows, on a page of its own after an abstract. */
static void title_page(pw *w, const struct tm *tm)
{
    const kiln_doc *doc = w->doc;
    set_flow(w, FLOW_TITLE, -1);
    ctx c = {0};
    c.x = w->margin_l;
    c.width = w->text_w;
    pl_item(w, doc->abstract ? 40 : 110, 0)->keep = 1;
    title_text(w, &c, PF_SANS, PS_BOLD, 26.f, HEAD_COLOR, 32.f, 0,
               doc->title && doc->title[0] ? doc->title : "Untitled report");
    const char *sub = or_empty(doc->subtitle);
    title_text(w, &c, PF_SANS, 0, 13.f, GRAY_COLOR, 18.f, 10,
               *sub ? sub : "Every figure, table and number regenerated from real training runs by kiln");
    if (doc->smoke) title_text(w, &c, PF_SANS, PS_BOLD, 11.f, 0xB3261Eu, 15.f, 12, SMOKE_NOTE);
    for (int i = 0; i < doc->n_authors; i++) {
        const kiln_author *au = &doc->authors[i];
        title_text(w, &c, PF_SANS, PS_BOLD, 11.f, HEAD_COLOR, 15.f, i ? 6 : 18, or_empty(au->name));
        if (au->affiliation && au->affiliation[0])
            title_text(w, &c, PF_SANS, 0, 9.5f, GRAY_COLOR, 13.f, 0, au->affiliation);
    }
    if (doc->date_text && doc->date_text[0])
        title_text(w, &c, PF_SANS, 0, 10.f, GRAY_COLOR, 14.f, doc->n_authors ? 10 : 18, doc->date_text);
    new_item(w, &c, 22, 14, 0)->keep = 1;
    pl_line(w, c.x, 4, c.x + c.width, 4, 1.2f, HEAD_COLOR);
    if (doc->abstract) {
        title_text(w, &c, PF_SANS, PS_BOLD, 11.f, HEAD_COLOR, 16.f, 4, "Abstract");
        layout_blocks(w, &c, doc->abstract, NULL);
    }

    static const char *const months[12] = {"January", "February", "March", "April", "May", "June",
                                           "July", "August", "September", "October", "November", "December"};
    char date[64];
    snprintf(date, sizeof date, "%d %s %d", tm->tm_mday, months[tm->tm_mon % 12], tm->tm_year + 1900);
    const char *facts[5][2] = {
        {"Build date", date},
        {"kiln", kiln_version()},
        {"Trainer fingerprint", doc->trainer_fingerprint ? doc->trainer_fingerprint : ""},
        {"Data digest", doc->data_digest && doc->data_digest[0] ? doc->data_digest : "not computed"},
        {"Scale", doc->smoke ? "smoke: every run shrunk, the numbers are not the article's" : "full"},
    };
    const char *cells[10];
    for (int i = 0; i < 5; i++) {
        cells[2 * i] = facts[i][0];
        cells[2 * i + 1] = facts[i][1];
    }
    ctx fc = c;
    fc.left_tables = 1;
    table_block(w, &fc, &(ptable_spec){.nr = 5, .nc = 2, .cells = cells, .bold_first_col = 1, .pre = doc->abstract ? 18 : 0});
    if (doc->front) {
        if (doc->abstract) {
            pl_item(w, 0, 0)->new_page = 1; /* the summary: the rest of index.md */
        } else {
            new_item(w, &c, 16, 26, 12)->keep = 1;
            pstyle hs = ps_make(PF_SANS, PS_BOLD, 11.f, HEAD_COLOR);
            pp_label(w, &hs, c.x, 12, "Summary");
        }
        layout_blocks(w, &c, doc->front, NULL);
    }
}

/* ---- the body ----------------------------------------------------------------------- */

/* A chapter (or the appendix, label "Appendix"): its title opens a page,
 * its blocks follow. */
static void chapter(pw *w, const kiln_chapter *ch, const char *label)
{
    int ci = ch->index;
    set_flow(w, FLOW_BODY, ci);
    memset(w->sec, 0, sizeof w->sec);
    const kiln_block *title = NULL;
    for (const kiln_block *b = ch->blocks; b; b = b->next)
        if (b->kind == KILN_BL_HEADING && b->level == 1) { title = b; break; }
    const char *tt = ch->title && ch->title[0] ? ch->title : ch->slug && ch->slug[0] ? ch->slug : "Untitled";
    chapter_head(w, label, w->chap_num[ci], title ? title->inlines : NULL, tt, title ? title->anchor : "");
    ctx c = {0};
    c.x = w->margin_l;
    c.width = w->text_w;
    layout_blocks(w, &c, ch->blocks, title);
}

/* ---- contents ------------------------------------------------------------------------ */

static void contents(pw *w, int body_first_page)
{
    set_flow(w, FLOW_TOC, -1);
    ctx c = {0};
    c.x = w->margin_l;
    c.width = w->text_w;
    pstyle hs = ps_make(PF_SANS, PS_BOLD, 22.f, HEAD_COLOR);
    pitem *it = pl_item(w, 40, 0);
    it->keep = 1;
    pp_label(w, &hs, c.x, 28, "Contents");
    pl_item(w, 18, 0)->keep = 1;
    pl_line(w, c.x, 4, c.x + c.width, 4, 0.8f, RULE_COLOR);
    const float numw = 30, pagew = 28;
    for (int i = 0; i < w->ndest; i++) {
        const pdest *d = &w->dest[i];
        if (d->flow != FLOW_BODY || !d->toc || d->level < 1 || d->level > 2 || d->page < 0) continue;
        int chap = d->level == 1;
        pstyle st = chap ? ps_make(PF_SANS, PS_BOLD, 10.5f, HEAD_COLOR) : ps_make(PF_SERIF, 0, 10.f, TEXT_COLOR);
        float lead = chap ? 16.f : 14.f, size = st.size;
        float x = c.x + (chap ? 0 : numw);
        float tx = x + (chap ? numw : 30);
        float tw = c.x + c.width - pagew - 8 - tx;
        ppara p;
        pp_init(&p, w);
        pp_text(&p, &st, d->title);
        pline *ls = NULL;
        int n = pp_break(&p, tw, &ls);
        if (n == 0) { pp_free(&p); free(ls); continue; }
        float base = baseline_of(lead, size);
        char page[16];
        snprintf(page, sizeof page, "%d", d->page - body_first_page + 1);
        for (int k = 0; k < n; k++) {
            pitem *li = new_item(w, &c, lead, k == 0 ? (chap ? 10 : 1) : 0, base);
            li->keep = k < n - 1;
            li->toc_entry = k == 0;
            if (k == 0) pp_label(w, &st, x, base, d->number);
            pp_emit_line(&p, &ls[k], tx, base, tw, PA_LEFT);
            if (k == n - 1) {
                float pwid = pp_label_width(w, &st, page);
                float end = tx + ls[k].natural + 4;
                float px = c.x + c.width - pwid;
                if (!chap && px - end > 12) {
                    pdop *o = pl_op(w, OP_LINE);
                    o->x = end + 4;
                    o->y = base - 0.5f;
                    o->w = px - 6 - o->x;
                    o->h = 0;
                    o->size = 0.9f;
                    o->color = 0x9AA0A6u;
                    o->ref = 1;
                }
                pp_label(w, &st, px, base, page);
            }
            pdop *o = pl_op(w, OP_LINK);
            o->x = x;
            o->y = 0;
            o->w = c.x + c.width - x;
            o->h = lead;
            o->ref = i;
        }
        free(ls);
        pp_free(&p);
    }
}

/* ---- drawing ----------------------------------------------------------------------- */

typedef struct img_cache {
    const char *path;
    HPDF_Image img;
} img_cache;

static int find_chapter_by_page(const kiln_doc *doc, const char *page, size_t n)
{
    for (int i = 0; i < doc->n_chapters; i++) {
        const char *pg = doc->chapters[i].page ? doc->chapters[i].page : "";
        const char *fl = doc->chapters[i].file ? doc->chapters[i].file : "";
        const char *base = strrchr(fl, '/');
        base = base ? base + 1 : fl;
        if ((strlen(pg) == n && !strncmp(pg, page, n)) || (strlen(base) == n && !strncmp(base, page, n))) return i;
    }
    if (strlen(doc->appendix->page) == n && !strncmp(page, doc->appendix->page, n)) return doc->n_chapters;
    return -2;
}

/* The first placed destination under key, else -2. */
static int dest_named(pw *w, const char *key)
{
    if (!w->dest_ix_made) {
        w->dest_ix_made = 1;
        for (int i = 0; i < w->ndest; i++) {
            const pdest *d = &w->dest[i];
            if (d->page < 0) continue;
            const char *k[3] = {d->level == 1 ? ka_printf(w->a, "%d", d->chapter) : NULL,
                                d->anchor[0] ? ka_printf(w->a, "%d#%s", d->chapter, d->anchor) : NULL,
                                d->anchor[0] ? ka_printf(w->a, "#%s", d->anchor) : NULL};
            for (int j = 0; j < 3; j++) {
                if (!k[j]) continue;
                int *v = kr_strmap_get(&w->dest_ix, k[j]);
                if (!*v) *v = i + 1;
            }
        }
    }
    return kr_strmap_has(&w->dest_ix, key) ? *kr_strmap_get(&w->dest_ix, key) - 1 : -2;
}

/* A link's destination index, or -1 for an external URI, -2 for nowhere:
 * the chapter's start, else the anchor in that chapter, else the first
 * anywhere (looked up, so that many links to many headings stay linear). */
static int resolve_link(pw *w, const char *url, int chapter)
{
    if (!url || !*url) return -2;
    size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (scheme > 0 && url[scheme] == ':') return -1;
    const char *hash = strchr(url, '#');
    size_t pn = hash ? (size_t)(hash - url) : strlen(url);
    int ch = pn ? find_chapter_by_page(w->doc, url, pn) : chapter;
    if (ch == -2) return -2;
    const char *anchor = hash ? hash + 1 : "";
    if (!*anchor) return dest_named(w, ka_printf(w->a, "%d", ch));
    int i = dest_named(w, ka_printf(w->a, "%d#%s", ch, anchor));
    return i >= 0 ? i : dest_named(w, ka_printf(w->a, "#%s", anchor));
}

static void set_rgb_fill(HPDF_Page pg, uint32_t c)
{
    HPDF_Page_SetRGBFill(pg, (float)(c >> 16 & 255) / 255.f, (float)(c >> 8 & 255) / 255.f, (float)(c & 255) / 255.f);
}

static void set_rgb_stroke(HPDF_Page pg, uint32_t c)
{
    HPDF_Page_SetRGBStroke(pg, (float)(c >> 16 & 255) / 255.f, (float)(c >> 8 & 255) / 255.f,
                           (float)(c & 255) / 255.f);
}

/* [page /XYZ left top null]: keep the reader's zoom (libharu's SetXYZ
 * insists on a zoom factor, so the array is written here). */
static HPDF_Destination xyz_dest(HPDF_Page page, float top)
{
    HPDF_Destination dst = HPDF_Page_CreateDestination(page);
    if (!dst) return NULL;
    HPDF_Array a = (HPDF_Array)dst;
    HPDF_Array_Clear(a);
    HPDF_Array_Add(a, page);
    HPDF_Array_AddName(a, "XYZ");
    HPDF_Array_AddReal(a, 0);
    HPDF_Array_AddReal(a, top);
    HPDF_Array_Add(a, HPDF_Null_New(a->mmgr));
    return dst;
}

static HPDF_Destination make_dest(pw *w, HPDF_Page *pages, const pdest *d)
{
    float top = w->page_h - w->margin_t - d->y + 24;
    return xyz_dest(pages[d->page], top > w->page_h ? w->page_h : top);
}

typedef struct drawer {
    pw *w;
    HPDF_Page *pages;
    img_cache *imgs;
    int nimg, capimg;
    hpdf_err *err;
} drawer;

static HPDF_STATUS write_flate_filter(HPDF_Dict obj, HPDF_Stream stream)
{
    (void)obj;
    return HPDF_Stream_WriteStr(stream, "/Filter /FlateDecode\012");
}

/* A PNG's IDAT data is a zlib stream of predictor-filtered rows: exactly what
 * a FlateDecode stream with /Predictor 15 holds. For 8-bit RGB or grey PNGs
 * without interlacing (what the plot module writes) the bytes go into the PDF
 * as they are, instead of libharu decoding and deflating them again (most of
 * the writer's time otherwise). libharu drops a /Filter entry from a stream
 * it does not filter itself, so the entry is written by the dict's write
 * hook. NULL: not such a PNG (the caller falls back to libharu). */
static HPDF_Image png_passthrough(HPDF_Doc pdf, const char *path)
{
    size_t len = 0;
    unsigned char *b = (unsigned char *)kr_read_file(path, &len);
    if (!b) return NULL;
    HPDF_Image img = NULL;
    unsigned char *idat = NULL;
    if (len < 45 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) || memcmp(b + 12, "IHDR", 4)) goto out;
    uint32_t width = kb_be32(b + 16), height = kb_be32(b + 20);
    int depth = b[24], ctype = b[25];
    if (depth != 8 || (ctype != 2 && ctype != 0) || b[26] || b[27] || b[28] || !width || !height || width > 65535 ||
        height > 65535)
        goto out;
    idat = malloc(len);
    if (!idat) goto out;
    size_t n = 0;
    for (size_t p = 8; p + 12 <= len;) {
        uint32_t cl = kb_be32(b + p);
        if (cl > len - p - 12) goto out;
        if (!memcmp(b + p + 4, "IDAT", 4)) {
            memcpy(idat + n, b + p + 8, cl);
            n += cl;
        } else if (!memcmp(b + p + 4, "IEND", 4)) {
            break;
        }
        p += 12 + (size_t)cl;
    }
    if (!n) goto out;
    static const HPDF_BYTE white[3] = {255, 255, 255};
    img = HPDF_LoadRawImageFromMem(pdf, white, 1, 1, ctype == 2 ? HPDF_CS_DEVICE_RGB : HPDF_CS_DEVICE_GRAY, 8);
    if (!img) goto out;
    HPDF_Dict d = (HPDF_Dict)img;
    HPDF_Dict parms = HPDF_Dict_New(d->mmgr);
    if (!parms || !d->stream) { img = NULL; goto out; }
    HPDF_Dict_AddNumber(parms, "Predictor", 15);
    HPDF_Dict_AddNumber(parms, "Colors", ctype == 2 ? 3 : 1);
    HPDF_Dict_AddNumber(parms, "BitsPerComponent", 8);
    HPDF_Dict_AddNumber(parms, "Columns", (HPDF_INT32)width);
    HPDF_Dict_Add(d, "DecodeParms", parms);
    HPDF_Dict_AddNumber(d, "Width", (HPDF_INT32)width);
    HPDF_Dict_AddNumber(d, "Height", (HPDF_INT32)height);
    HPDF_MemStream_FreeData(d->stream);
    HPDF_Stream_Write(d->stream, idat, (HPDF_UINT)n);
    d->filter = HPDF_STREAM_FILTER_NONE;
    d->write_fn = write_flate_filter;
out:
    free(idat);
    free(b);
    return img;
}

static HPDF_Image load_image(drawer *dr, const char *path)
{
    for (int i = 0; i < dr->nimg; i++)
        if (!strcmp(dr->imgs[i].path, path)) return dr->imgs[i].img;
    unsigned char magic[3] = {0};
    FILE *mf = fopen(path, "rb");
    if (mf) {
        if (fread(magic, 1, 3, mf) != 3) magic[0] = 0;
        fclose(mf);
    }
    int jpeg = magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF;
    HPDF_Image img = jpeg ? HPDF_LoadJpegImageFromFile(dr->w->pdf, path) : png_passthrough(dr->w->pdf, path);
    if (!img && !jpeg) {
        HPDF_ResetError(dr->w->pdf);
        dr->err->count = 0;
        img = HPDF_LoadPngImageFromFile(dr->w->pdf, path);
    }
    if (!img) {
        HPDF_ResetError(dr->w->pdf);
        dr->err->count = 0;
        kd_warn(dr->w->diag, path, 0, "PDF: cannot embed this image; its place is left blank");
    }
    KR_GROW(dr->imgs, dr->capimg, dr->nimg + 1);
    dr->imgs[dr->nimg].path = path;
    dr->imgs[dr->nimg++].img = img;
    return img;
}

static void draw_op(drawer *dr, HPDF_Page pg, const pdop *o, float top)
{
    pw *w = dr->w;
    float y = top - o->y; /* PDF y of the op's reference line */
    switch (o->kind) {
    case OP_TEXT: {
        HPDF_Font f = pf_hpdf(w->fonts, o->font);
        if (!f || !o->len) break;
        set_rgb_fill(pg, o->color);
        HPDF_Page_BeginText(pg);
        HPDF_Page_SetFontAndSize(pg, f, o->size);
        HPDF_Page_TextOut(pg, o->x, y, o->s);
        HPDF_Page_EndText(pg);
        break;
    }
    case OP_RECT:
        set_rgb_fill(pg, o->color);
        HPDF_Page_Rectangle(pg, o->x, y - o->h, o->w, o->h);
        HPDF_Page_Fill(pg);
        break;
    case OP_LINE:
        set_rgb_stroke(pg, o->color);
        HPDF_Page_SetLineWidth(pg, o->size);
        if (o->ref == 1) {
            HPDF_UINT16 pat[2] = {1, 3};
            HPDF_Page_SetLineCap(pg, HPDF_ROUND_END);
            HPDF_Page_SetDash(pg, pat, 2, 0);
        }
        HPDF_Page_MoveTo(pg, o->x, y);
        HPDF_Page_LineTo(pg, o->x + o->w, y - o->h);
        HPDF_Page_Stroke(pg);
        if (o->ref == 1) {
            HPDF_Page_SetDash(pg, NULL, 0, 0);
            HPDF_Page_SetLineCap(pg, HPDF_BUTT_END);
        }
        break;
    case OP_IMAGE: {
        HPDF_Image img = load_image(dr, o->s);
        if (img) HPDF_Page_DrawImage(pg, img, o->x, y - o->h, o->w, o->h);
        break;
    }
    case OP_MATH:
        if (o->box && w->kfont) pm_draw(pg, w->fonts, w->kfont, o->box, o->x, y, o->color);
        break;
    case OP_LINK: {
        int di = o->ref >= 0 ? o->ref : resolve_link(w, o->s, o->chapter);
        if (di == -2) break;
        HPDF_Rect r = {o->x, y - o->h, o->x + o->w, y};
        HPDF_Annotation a = NULL;
        if (di == -1) a = HPDF_Page_CreateURILinkAnnot(pg, r, o->s);
        else if (w->dest[di].page >= 0) a = HPDF_Page_CreateLinkAnnot(pg, r, make_dest(w, dr->pages, &w->dest[di]));
        if (a) HPDF_LinkAnnot_SetBorderStyle(a, 0, 0, 0);
        break;
    }
    }
}

static void roman(int n, char *buf, size_t cap)
{
    static const int v[] = {1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1};
    static const char *const s[] = {"m", "cm", "d", "cd", "c", "xc", "l", "xl", "x", "ix", "v", "iv", "i"};
    buf[0] = 0;
    for (int i = 0; i < 13 && n > 0; i++)
        while (n >= v[i] && strlen(buf) + 3 < cap) {
            strcat(buf, s[i]);
            n -= v[i];
        }
}

/* Shorten a label with an ellipsis until it fits in `width`. */
static const char *fit(pw *w, const pstyle *st, const char *s, float width)
{
    if (pp_label_width(w, st, s) <= width) return s;
    /* the longest proper prefix (at a character's start) that fits with
     * "…": looked for by halving among the first 2,048 characters (no line
     * holds more), so that a title of 40,000 words is not measured 40,000
     * times on every page */
    enum { MAXC = 2048 };
    size_t len = strlen(s), off[MAXC];
    int m = 0;
    for (size_t i = 0; i < len && m < MAXC; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) off[m++] = i;
    int lo = -1, hi = m - 1; /* the answer is off[lo]; fits(off[j]) falls from true to false as j grows */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        const char *t = ka_printf(w->a, "%.*s\xe2\x80\xa6", (int)off[mid], s);
        if (pp_label_width(w, st, t) <= width) lo = mid;
        else hi = mid - 1;
    }
    return lo < 0 ? "" : ka_printf(w->a, "%.*s\xe2\x80\xa6", (int)off[lo], s);
}

/* Header and footer of one page, as items of a scratch flow drawn at once. */
static void page_furniture(drawer *dr, HPDF_Page pg, int page, int kind, int label_no, int chap, int opening)
{
    pw *w = dr->w;
    int save_flow = w->flow, save_nop = w->nop;
    pflow scratch = {0};
    pflow keep = w->flows[FLOW_TITLE];
    w->flows[FLOW_TITLE] = scratch;
    w->flow = FLOW_TITLE;
    pstyle fs = ps_make(PF_SANS, 0, 8.5f, GRAY_COLOR);
    pl_item(w, 0, 0);
    char num[32];
    if (kind == FLOW_BODY) snprintf(num, sizeof num, "%d", label_no);
    else roman(label_no, num, sizeof num);
    float nw = pp_label_width(w, &fs, num);
    /* footer: 40 pt above the bottom edge, as an offset from the text top */
    float foot = w->page_h - w->margin_t - 40;
    if (kind != FLOW_TITLE) pp_label(w, &fs, w->margin_l + (w->text_w - nw) / 2, foot, num);
    if (kind == FLOW_BODY && !opening && chap >= 0) {
        pstyle hs = ps_make(PF_SANS, 0, 8.f, GRAY_COLOR);
        pstyle ht = ps_make(PF_SANS, PS_ITALIC, 8.f, GRAY_COLOR);
        float head = -(w->margin_t - 40);
        const char *left = w->chap_label[chap];
        const char *right = w->doc->title ? w->doc->title : "";
        float lw = pp_label_width(w, &hs, left);
        if (lw > w->text_w * 0.6f) {
            left = fit(w, &hs, left, w->text_w * 0.6f);
            lw = pp_label_width(w, &hs, left);
        }
        right = fit(w, &ht, right, w->text_w - lw - 24);
        pp_label(w, &hs, w->margin_l, head, left);
        if (*right) pp_label(w, &ht, w->margin_l + w->text_w - pp_label_width(w, &ht, right), head, right);
        pl_line(w, w->margin_l, head + 5, w->margin_l + w->text_w, head + 5, 0.4f, 0xBDC1C6u);
    }
    float top = w->page_h - w->margin_t;
    for (int i = save_nop; i < w->nop; i++) draw_op(dr, pg, &w->op[i], top);
    (void)page;
    free(w->flows[FLOW_TITLE].it);
    w->flows[FLOW_TITLE] = keep;
    w->nop = save_nop;
    w->flow = save_flow;
}

/* ---- the whole ------------------------------------------------------------------------ */

/* libharu fails the whole document on a string over 65,535 bytes: the
 * metadata and the outline keep at most this many, cut at a character */
#define PDF_TEXT_MAX 2000
static char *clipped(const char *s)
{
    size_t n = strlen(s);
    if (n > PDF_TEXT_MAX)
        for (n = PDF_TEXT_MAX; n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; n--) {}
    return strndup(s, n);
}

static void set_info(HPDF_Doc pdf, const kiln_doc *doc, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    HPDF_Date d = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 'Z', 0, 0};
    char *title = clipped(doc->title && doc->title[0] ? doc->title : "Untitled report");
    HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, title);
    free(title);
    const char *author = getenv("KILN_AUTHOR");
    sbuf names = {0};
    for (int i = 0; i < doc->n_authors; i++) {
        if (i) sb_add(&names, ", ");
        sb_add(&names, or_empty(doc->authors[i].name));
    }
    char *who = clipped(names.s ? names.s : author && *author ? author : "kiln");
    HPDF_SetInfoAttr(pdf, HPDF_INFO_AUTHOR, who);
    free(who);
    sb_free(&names);
    char buf[256];
    snprintf(buf, sizeof buf, "Experiments regenerated by kiln; trainer %s%s",
             doc->trainer_fingerprint ? doc->trainer_fingerprint : "", doc->smoke ? "; smoke scale" : "");
    HPDF_SetInfoAttr(pdf, HPDF_INFO_SUBJECT, buf);
    HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "kiln build");
    snprintf(buf, sizeof buf, "kiln %s (libharu %s)", kiln_version(), HPDF_GetVersion());
    HPDF_SetInfoAttr(pdf, HPDF_INFO_PRODUCER, buf);
    HPDF_SetInfoDateAttr(pdf, HPDF_INFO_CREATION_DATE, d);
    HPDF_SetInfoDateAttr(pdf, HPDF_INFO_MOD_DATE, d);
}

static void outline(pw *w, HPDF_Page *pages, int toc_page)
{
    HPDF_Encoder enc = HPDF_GetEncoder(w->pdf, "UTF-8");
    HPDF_Outline parent[4] = {NULL, NULL, NULL, NULL};
    if (toc_page >= 0) {
        HPDF_Outline o = HPDF_CreateOutline(w->pdf, NULL, "Contents", enc);
        HPDF_Destination dst = xyz_dest(pages[toc_page], w->page_h);
        if (o && dst) HPDF_Outline_SetDestination(o, dst);
    }
    for (int i = 0; i < w->ndest; i++) {
        const pdest *d = &w->dest[i];
        if (d->flow != FLOW_BODY || !d->toc || d->level < 1 || d->level > 3 || d->page < 0) continue;
        HPDF_Outline up = d->level > 1 ? parent[d->level - 1] : NULL;
        if (d->level > 1 && !up) continue;
        char *title = d->number[0] ? ka_printf(w->a, "%s %s", d->number, d->title) : ka_strdup(w->a, d->title);
        /* the outline's text goes through the same 16-bit path: keep it valid */
        sbuf t = {0};
        for (const char *q = title; *q && t.len < PDF_TEXT_MAX;) {
            uint32_t cp = kb_utf8_next(&q);
            char b[4];
            if (cp < 0x20) cp = ' ';
            sb_addn(&t, b, (size_t)pu_put(b, cp));
        }
        HPDF_Outline o = HPDF_CreateOutline(w->pdf, up, t.s ? t.s : " ", enc);
        sb_free(&t);
        if (!o) continue;
        HPDF_Outline_SetOpened(o, d->level == 1);
        HPDF_Outline_SetDestination(o, make_dest(w, pages, d));
        parent[d->level] = o;
        for (int k = d->level + 1; k < 4; k++) parent[k] = NULL;
    }
}

/* ---- the writer: set up, lay out, draw, save ------------------------------------------- */

/* The pages of the three flows once they are paginated. */
typedef struct pages {
    int n_title, n_toc, n_body;
    int body_first, total;
    HPDF_Page *pg;
} pages;

/* libharu, the fonts, the page geometry, the chapters' labels. */
static int pw_open(pw *w, const kiln_doc *doc, const char *path, hpdf_err *herr, kiln_diag *d)
{
    memset(w, 0, sizeof *w);
    w->pdf = HPDF_New(on_error, herr);
    if (!w->pdf) {
        kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot start libharu");
        return KILN_REPORT_EFAIL;
    }
    char err[512] = "";
    w->doc = doc;
    w->diag = d;
    w->a = ka_new();
    w->fonts = pf_new(w->pdf, err, sizeof err);
    if (!w->fonts) {
        kd_error(d, KILN_REPORT_EFAIL, path, 0, "%s", err);
        HPDF_Free(w->pdf);
        ka_free(w->a);
        return KILN_REPORT_EFAIL;
    }
    HPDF_UseUTFEncodings(w->pdf);
    HPDF_SetCurrentEncoder(w->pdf, "UTF-8");
    HPDF_SetCompressionMode(w->pdf, HPDF_COMP_ALL);
    HPDF_SetPageMode(w->pdf, HPDF_PAGE_MODE_USE_OUTLINE);
    w->page_w = 595.276f;
    w->page_h = 841.89f;
    w->margin_l = w->margin_r = 72.f;
    w->margin_t = 74.f;
    w->margin_b = 70.f;
    w->text_w = w->page_w - w->margin_l - w->margin_r;
    w->text_h = w->page_h - w->margin_t - w->margin_b;
    int nch = doc->n_chapters;
    w->chap_label = ka_alloc(w->a, sizeof *w->chap_label * (size_t)(nch + 1));
    w->chap_num = ka_alloc(w->a, sizeof *w->chap_num * (size_t)(nch + 1));
    for (int i = 0; i < nch; i++) {
        const kiln_chapter *ch = &doc->chapters[i];
        w->chap_num[i] = ka_printf(w->a, "%d", i + 1);
        const char *tt = ch->title && ch->title[0] ? ch->title : ch->slug ? ch->slug : "";
        w->chap_label[i] = ka_printf(w->a, "%d  %s", i + 1, tt);
    }
    w->chap_num[nch] = "A";
    w->chap_label[nch] = ka_printf(w->a, "A  %s", doc->appendix->title);
    return 0;
}

static void pw_close(pw *w)
{
    for (int f = 0; f < 3; f++) pl_flow_free(&w->flows[f]);
    free(w->op);
    free(w->dest);
    kr_strmap_free(&w->dest_ix);
    pm_free_all(w);
    pf_free(w->fonts);
    HPDF_Free(w->pdf);
    ka_free(w->a);
}

/* Each destination's page and position from its item. */
static void place_dests(pw *w)
{
    for (int i = 0; i < w->ndest; i++) {
        pdest *de = &w->dest[i];
        pflow *f = &w->flows[de->flow];
        if (de->flow == FLOW_TOC) continue;
        if (de->item < f->n) {
            de->page = f->it[de->item].page;
            de->y = f->it[de->item].y;
        } else if (f->n) {
            de->page = f->it[f->n - 1].page;
            de->y = f->it[f->n - 1].y + f->it[f->n - 1].h;
        }
    }
}

/* A flow of n > 1 pages set again as the same n pages, each filled alike
 * (the shortest text height that still gives n pages), so that its last page
 * is not left with an entry or two. */
static void balance(pw *w, pflow *f, int first_page, int n)
{
    if (n < 2) return;
    float full = w->text_h, lo = full / (float)n, hi = full;
    for (int k = 0; k < 24 && hi - lo > 0.5f; k++) {
        w->text_h = (lo + hi) / 2;
        if (pl_paginate(w, f, first_page) == n) hi = w->text_h;
        else lo = w->text_h;
    }
    w->text_h = hi;
    pl_paginate(w, f, first_page);
    w->text_h = full;
}

/* Lay out and paginate: the title page, the body, then the contents (which
 * needs the body's page numbers). */
static void lay_out(pw *w, const struct tm *tm, pages *pp)
{
    title_page(w, tm);
    for (int i = 0; i < w->doc->n_chapters; i++) chapter(w, &w->doc->chapters[i], "Chapter");
    chapter(w, w->doc->appendix, "Appendix");
    pp->n_title = pl_paginate(w, &w->flows[FLOW_TITLE], 0);
    /* the contents' length depends only on the number of entries: lay it out
     * with placeholder pages first, then again with the real ones */
    pp->body_first = pp->n_title + 1;
    pp->n_toc = 1;
    for (int pass = 0; pass < 3; pass++) {
        pp->n_body = pl_paginate(w, &w->flows[FLOW_BODY], pp->body_first);
        place_dests(w);
        /* the contents is rebuilt each pass (its ops are appended anew) */
        pl_flow_free(&w->flows[FLOW_TOC]);
        contents(w, pp->body_first);
        int n = pl_paginate(w, &w->flows[FLOW_TOC], pp->n_title);
        if (n == pp->n_toc) break;
        pp->n_toc = n;
        pp->body_first = pp->n_title + pp->n_toc;
    }
    balance(w, &w->flows[FLOW_TOC], pp->n_title, pp->n_toc);
    pp->total = pp->n_title + pp->n_toc + pp->n_body;
}

/* Every item's operations (and the repeated table headers) on its page. */
static void draw_items(drawer *dr, const pages *pp)
{
    pw *w = dr->w;
    float top = w->page_h - w->margin_t;
    for (int f = 0; f < 3; f++) {
        pflow *fl = &w->flows[f];
        for (int i = 0; i < fl->n; i++) {
            const pitem *it = &fl->it[i];
            if (it->page < 0 || it->page >= pp->total) continue;
            for (int k = 0; k < it->nop; k++) draw_op(dr, pp->pg[it->page], &w->op[it->op0 + k], top - it->y);
        }
        for (int r = 0; r < fl->nrep; r++) {
            const prepeat *rp = &fl->rep[r];
            const pitem *it = &fl->it[rp->item];
            if (rp->page < 0 || rp->page >= pp->total) continue;
            for (int k = 0; k < it->nop; k++) draw_op(dr, pp->pg[rp->page], &w->op[it->op0 + k], top - rp->y);
        }
    }
}

/* Running heads and page numbers. */
static void draw_furniture(drawer *dr, const pages *pp)
{
    pflow *fl = &dr->w->flows[FLOW_BODY];
    int i = 0;
    for (int pg = 0; pg < pp->total; pg++) {
        int kind = pg < pp->n_title ? FLOW_TITLE : pg < pp->body_first ? FLOW_TOC : FLOW_BODY;
        int chap = -1, opening = 0;
        if (kind == FLOW_BODY) {
            while (i < fl->n && fl->it[i].page < pg) i++;
            if (i < fl->n && fl->it[i].page == pg) {
                chap = fl->it[i].chapter;
                opening = fl->it[i].new_page;
            } else if (i > 0) {
                chap = fl->it[i - 1].chapter;
            }
        }
        int label = kind == FLOW_BODY ? pg - pp->body_first + 1 : pg + 1;
        page_furniture(dr, pp->pg[pg], pg, kind, label, chap, opening);
    }
}

void (*kiln_pdf_page_hook)(const kiln_pdf_page_stat *pages, int n, void *user);
void *kiln_pdf_page_hook_user;

/* What each page holds, for kiln_pdf_page_hook. */
static void report_pages(const pw *w, const pages *pp)
{
    kiln_pdf_page_stat *st = calloc((size_t)pp->total, sizeof *st);
    int *listing = calloc((size_t)pp->total, sizeof *listing);
    if (!st || !listing) abort();
    for (int pg = 0; pg < pp->total; pg++) {
        st[pg].part = pg < pp->n_title ? 0 : pg < pp->body_first ? 1 : 2;
        st[pg].listing_tail = 1;
        listing[pg] = -1;
    }
    for (int fl = 0; fl < 3; fl++) {
        const pflow *f = &w->flows[fl];
        for (int i = 0; i < f->n; i++) {
            const pitem *it = &f->it[i];
            if (it->page < 0 || it->page >= pp->total) continue;
            kiln_pdf_page_stat *s = &st[it->page];
            s->items++;
            s->toc_entries += it->toc_entry;
            s->listing_items += it->listing != 0;
            int from_before = it->listing && f->it[it->listing - 1].page < it->page;
            if (!from_before || (listing[it->page] >= 0 && listing[it->page] != it->listing)) s->listing_tail = 0;
            listing[it->page] = it->listing;
        }
    }
    for (int pg = 0; pg < pp->total; pg++)
        if (!st[pg].items) st[pg].listing_tail = 0;
    kiln_pdf_page_hook(st, pp->total, kiln_pdf_page_hook_user);
    free(listing);
    free(st);
}

/* The language the PDF is in (the catalog's /Lang, which libharu has no
 * call for): read aloud and searched in that language. */
static void set_lang(HPDF_Doc pdf, const char *lang)
{
    HPDF_Dict_Add(pdf->catalog, "Lang", HPDF_String_New(pdf->mmgr, lang && *lang ? lang : "en", NULL));
}

/* The pages, what is drawn on them, the outline and the metadata. */
static void draw(pw *w, pages *pp, hpdf_err *herr, time_t now)
{
    pp->pg = calloc((size_t)pp->total, sizeof *pp->pg);
    if (!pp->pg) abort();
    for (int i = 0; i < pp->total; i++) {
        pp->pg[i] = HPDF_AddPage(w->pdf);
        HPDF_Page_SetWidth(pp->pg[i], w->page_w);
        HPDF_Page_SetHeight(pp->pg[i], w->page_h);
    }
    HPDF_AddPageLabel(w->pdf, 0, HPDF_PAGE_NUM_STYLE_LOWER_ROMAN, 1, NULL);
    HPDF_AddPageLabel(w->pdf, (HPDF_UINT)pp->body_first, HPDF_PAGE_NUM_STYLE_DECIMAL, 1, NULL);
    drawer dr = {w, pp->pg, NULL, 0, 0, herr};
    draw_items(&dr, pp);
    draw_furniture(&dr, pp);
    outline(w, pp->pg, pp->n_title < pp->total ? pp->n_title : -1);
    set_info(w->pdf, w->doc, now);
    set_lang(w->pdf, w->doc->lang);
    if (kiln_pdf_page_hook) report_pages(w, pp);
    free(dr.imgs);
}

/* The PDF into memory, then atomically (fsync'd) to path. */
static int save(pw *w, const char *path, const hpdf_err *herr, kiln_diag *d)
{
    if (herr->count) {
        kd_error(d, KILN_REPORT_EFAIL, path, 0, "libharu error 0x%04X (detail %u) while making the PDF",
                 (unsigned)herr->code, (unsigned)herr->detail);
        return KILN_REPORT_EFAIL;
    }
    if (HPDF_SaveToStream(w->pdf) != HPDF_OK) {
        kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write the PDF (libharu error 0x%04X)", (unsigned)herr->code);
        return KILN_REPORT_EFAIL;
    }
    HPDF_UINT32 n = HPDF_GetStreamSize(w->pdf);
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) abort();
    HPDF_UINT32 got = n;
    HPDF_ResetStream(w->pdf);
    HPDF_STATUS st = HPDF_ReadFromStream(w->pdf, buf, &got);
    int rc = 0;
    if ((st != HPDF_OK && st != HPDF_STREAM_EOF) || got != n) {
        kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write the PDF (libharu error 0x%04X)", (unsigned)st);
        rc = KILN_REPORT_EFAIL;
    } else if (kr_write_atomic(path, buf, n)) {
        kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write: %s", strerror(errno));
        rc = KILN_REPORT_EFAIL;
    }
    free(buf);
    return rc;
}

int kiln_pdf_write(const kiln_doc *doc, const char *path, kiln_diag *d)
{
    if (!doc || !path) return KILN_REPORT_EFAIL;
    double t0 = kr_now();
    hpdf_err herr = {0};
    pw w;
    int rc = pw_open(&w, doc, path, &herr, d);
    if (rc) return rc;
    time_t now;
    struct tm tm;
    build_date(doc, &now, &tm);
    pages pp = {0};
    lay_out(&w, &tm, &pp);
    draw(&w, &pp, &herr, now);
    if (w.warned_missing)
        kd_warn(d, path, 0, "PDF: %d character(s) no font has were printed as the replacement character",
                w.warned_missing);
    rc = save(&w, path, &herr, d);
    free(pp.pg);
    pw_close(&w);
    if (getenv("KILN_PDF_DEBUG")) fprintf(stderr, "kiln_pdf_write: %s in %.1f ms\n", path, (kr_now() - t0) * 1e3);
    return rc;
}
