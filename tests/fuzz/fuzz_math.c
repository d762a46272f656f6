/* libFuzzer target: the TeX-subset math parser (km_parse) and both
 * renderers, MathML Core (km_mathml) and the PDF layout (km_layout with
 * DejaVu Math TeX Gyre, every outline it places drawn through km_outline).
 * The input's first byte chooses inline or display and whether the
 * {{...}} values are filled in (with a number, as the resolver does) or
 * left as placeholders; the rest is the TeX source. A failed parse must say
 * why, at a position inside the source; a successful one must render in
 * both. Built by `make fuzz`. */
#include "kiln/math.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static km_font *font;

static void close_font(void)
{
    km_font_close(font);
}

static int fill(km_node *value, void *ctx)
{
    km_fill(value, (const char *)ctx);
    return 0;
}

static void p_move(void *c, double x, double y) { (void)c; (void)x; (void)y; }
static void p_line(void *c, double x, double y) { (void)c; (void)x; (void)y; }
static void p_cubic(void *c, double a, double b, double d, double e, double x, double y)
{
    (void)c; (void)a; (void)b; (void)d; (void)e; (void)x; (void)y;
}

static void render(km_node *n, int display)
{
    char *mml = km_mathml(n, display, "alt \"text\" <&>");
    if (!mml || strncmp(mml, "<math", 5)) abort();
    free(mml);
    km_box b = {0};
    if (km_layout(font, n, display, display ? 11 : 9.5, &b) == 0) {
        static const km_path_ops ops = {p_move, p_line, p_cubic, NULL};
        for (int i = 0; i < b.n; i++)
            if (b.item[i].kind == KM_OUTLINE) km_outline(font, b.item[i].glyph, b.item[i].size, b.item[i].x, b.item[i].y, &ops, NULL);
        if (b.width != b.width || b.height != b.height || b.depth != b.depth) abort(); /* NaN */
    }
    km_box_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!font) {
        char err[256];
        font = km_font_open("/usr/share/fonts/truetype/dejavu", err, sizeof err);
        if (!font) { fprintf(stderr, "fuzz_math: %s\n", err); abort(); }
        atexit(close_font);
    }
    int display = data[0] & 1, filled = data[0] & 2;
    const char *src = (const char *)data + 1;
    size_t len = size - 1;
    km_error e;
    memset(&e, 0, sizeof e);
    km_node *n = km_parse(src, len, &e);
    if (!n) {
        if (!e.msg[0] || e.offset > len || e.line < 1 || e.column < 1) abort();
        return 0;
    }
    if (filled) km_each_value(n, fill, (void *)"-1.5e-07");
    render(n, display);
    km_free(n);
    return 0;
}
