/* A figure's PNG, drawn or taken from the build's memo (kiln preview): the
 * memo key is a hash over every input of the plotter (texts, axes, ranges,
 * sizes, the theme and type size of the variant, the font, every series'
 * points and style), so a figure whose inputs
 * did not change is the same PNG and is not drawn again. Without a memo it
 * is drawn every time. The file is written atomically, fsync'd unless the
 * build says no_fsync. */
#include "resolve/resolve.h"
#include "base/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct png_bytes {
    unsigned char *data;
    size_t len;
} png_bytes;

static void png_free(void *p)
{
    png_bytes *b = p;
    free(b->data);
    free(b);
}

static void h_str(XXH3_state_t *h, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) + 1 : 0; /* NULL and "" differ */
    XXH3_128bits_update(h, &n, sizeof n);
    if (s) XXH3_128bits_update(h, s, n);
}

static void h_mem(XXH3_state_t *h, const void *p, size_t n)
{
    XXH3_128bits_update(h, p, n);
}

void kr_figure_key(const kiln_plot *p, char *out, size_t n)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_128bits_reset(h);
    h_str(h, p->title), h_str(h, p->xlabel), h_str(h, p->ylabel);
    /* the variant too: theme (light, dark) and type size (the narrow figure) */
    int ints[7] = {p->xlog, p->ylog, p->xinteger, p->width, p->height, p->legend, p->theme};
    double nums[6] = {p->xmin, p->xmax, p->ymin, p->ymax, p->scale, p->text_scale};
    h_mem(h, ints, sizeof ints);
    h_mem(h, nums, sizeof nums);
    h_str(h, p->provenance), h_str(h, p->font_path), h_str(h, p->font_path ? NULL : getenv("KILN_FONT"));
    h_mem(h, &p->n_series, sizeof p->n_series);
    for (size_t i = 0; i < p->n_series; i++) {
        const kiln_series *s = &p->series[i];
        h_str(h, s->label);
        int st[3] = {s->style, s->marker, s->x != NULL};
        h_mem(h, st, sizeof st);
        h_mem(h, &s->color, sizeof s->color);
        h_mem(h, &s->width, sizeof s->width);
        h_mem(h, &s->n, sizeof s->n);
        if (s->x) h_mem(h, s->x, s->n * sizeof *s->x);
        if (s->y) h_mem(h, s->y, s->n * sizeof *s->y);
    }
    XXH128_hash_t k = XXH3_128bits_digest(h);
    XXH3_freeState(h);
    snprintf(out, n, "figure:%016llx%016llx", (unsigned long long)k.high64, (unsigned long long)k.low64);
}

int kr_figure_png(const kiln_doc *doc, const kiln_plot *p, const char *path, int *height, char *err, size_t n)
{
    kiln_memo *memo = doc->opts.memo;
    char key[64];
    kr_figure_key(p, key, sizeof key);
    const png_bytes *b = kr_memo_get(memo, key);
    png_bytes *made = NULL;
    if (!b) {
        made = kb_xmalloc(sizeof *made);
        if (kiln_plot_render_png_mem(p, &made->data, &made->len, err, n)) {
            free(made);
            return -1;
        }
        b = made;
    }
    /* the image's height in logical px, from IHDR (a legend below the plot
     * makes it taller than p->height) */
    if (height && b->len >= 24) {
        double sc = p->scale == 0 ? 2 : p->scale;
        uint32_t hp = (uint32_t)b->data[20] << 24 | (uint32_t)b->data[21] << 16 | (uint32_t)b->data[22] << 8 | b->data[23];
        *height = (int)(hp / sc + 0.5);
    }
    int rc = kr_write_file(path, b->data, b->len, !doc->opts.no_fsync);
    if (rc) snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
    if (made) kr_memo_put(memo, key, made, png_free); /* without a memo: freed */
    return rc ? -1 : 0;
}
