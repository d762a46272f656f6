/* libFuzzer target: the plotter (kiln_plot_render + PNG encoding) on
 * figures decoded from the input: sizes, scale, log axes, fixed ranges and
 * up to 8 series of any doubles (NaN, infinities, huge, tiny, negative on a
 * log axis), styles, markers, widths and UTF-8 labels. Built by `make fuzz`. */
#include "kiln/plot.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader { const uint8_t *p; size_t n; } reader;

static unsigned byte(reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

/* a double: mostly small "nice" values, sometimes raw bits */
static double number(reader *r)
{
    unsigned k = byte(r);
    if (k < 200) return ((double)byte(r) - 128) * pow(10, (double)(k % 25) - 12) + byte(r) / 256.0;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u = u << 8 | byte(r);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* a short string from the input (may be invalid UTF-8) */
static char *text(reader *r, char *buf, size_t cap)
{
    size_t n = byte(r) % 24;
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) buf[i] = (char)byte(r);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (!buf[i]) buf[i] = 'x';
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    kiln_plot p;
    kiln_plot_init(&p);
    char title[32], xl[32], yl[32], labels[8][32];
    unsigned flags = byte(&r);
    p.width = 32 + (int)(byte(&r) * 3);
    p.height = 32 + (int)(byte(&r) * 2);
    if (flags & 0x80) p.width = (int)(byte(&r) << 8 | byte(&r)) - 100; /* out of range too */
    p.scale = 0.25 + byte(&r) % 12 * 0.25;
    p.xlog = flags & 1;
    p.ylog = (flags >> 1) & 1;
    p.xinteger = (flags >> 2) & 1;
    p.legend = flags & 8 ? -1 : 0;
    if (flags & 16) { p.xmin = number(&r); p.xmax = number(&r); }
    if (flags & 32) { p.ymin = number(&r); p.ymax = number(&r); }
    if (flags & 64) {
        p.title = text(&r, title, sizeof title);
        p.xlabel = text(&r, xl, sizeof xl);
        p.ylabel = text(&r, yl, sizeof yl);
    }
    kiln_series s[8];
    double *xs[8] = {0}, *ys[8] = {0};
    size_t ns = byte(&r) % 9;
    for (size_t i = 0; i < ns; i++) {
        memset(&s[i], 0, sizeof s[i]);
        unsigned f = byte(&r);
        size_t n = byte(&r) % 200;
        xs[i] = f & 1 ? malloc(sizeof(double) * (n ? n : 1)) : NULL;
        ys[i] = malloc(sizeof(double) * (n ? n : 1));
        for (size_t k = 0; k < n; k++) {
            if (xs[i]) xs[i][k] = number(&r);
            ys[i][k] = number(&r);
        }
        s[i].x = xs[i];
        s[i].y = ys[i];
        s[i].n = n;
        s[i].style = (f >> 1) % 5;    /* 4 is not a style: must be refused or ignored */
        s[i].marker = (f >> 4) % 6;
        s[i].color = f & 0x80 ? KILN_PALETTE(byte(&r)) : 0;
        s[i].width = (double)(byte(&r) % 40) / 4;
        s[i].label = text(&r, labels[i], sizeof labels[i]);
    }
    p.series = s;
    p.n_series = ns;
    unsigned char *png = NULL;
    size_t len = 0;
    char err[256];
    if (kiln_plot_render_png_mem(&p, &png, &len, err, sizeof err) == 0) {
        if (len < 8 || memcmp(png, "\x89PNG", 4)) abort();
        free(png);
    }
    for (size_t i = 0; i < ns; i++) { free(xs[i]); free(ys[i]); }
    return 0;
}
