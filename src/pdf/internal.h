/* Private to the PDF writer (src/pdf/): fonts, paragraphs and the page
 * layout. The writer works in three steps over the resolved document:
 *
 *   measure   font.c    the DejaVu fonts: which file each role uses, widths
 *                       from FreeType (the same 1/1000 em units libharu writes
 *                       into the PDF), glyph coverage and the fallback /
 *                       replacement chain, lazy embedding through libharu's
 *                       UTF-8 path.
 *             text.c    inline text -> words of styled segments -> lines
 *                       (total-fit line breaking, justified or aligned),
 *                       over-long words split; one-line labels.
 *   lay out   blocks.c  blocks (headings, lists, code, notes, figures, the
 *                       directives) -> a flow of unbreakable vertical items,
 *                       each with its drawing operations.
 *             table.c   tables: cells measured, column widths, rows as items.
 *             layout.c  the items and their operations; pagination (keeps,
 *                       forced breaks, floating figures, repeated table heads).
 *             pdf.c     the title page, contents, chapters and appendix laid
 *                       out, paginated (lay_out), then
 *   draw      pdf.c     pages, every item's operations, running heads, links,
 *                       the outline and the metadata (draw), saved atomically.
 *             math.c    a typeset formula drawn on a page.
 *
 * layout.c never calls text.c: text.c and blocks.c append operations to the
 * items layout.c keeps. Units are PostScript points; layout y grows
 * downwards from the top of the text area (converted when drawing). */
#ifndef KILN_REPORT_PDF_INTERNAL_H
#define KILN_REPORT_PDF_INTERNAL_H

#include "base/base.h"
#include "kiln/pdf.h"
#include "kiln/math.h"

#include <hpdf.h>
#include <stdint.h>

/* ---- fonts ------------------------------------------------------------------ */

enum {
    PF_SERIF, PF_SERIF_B, PF_SERIF_I, PF_SERIF_BI,
    PF_SANS, PF_SANS_B, PF_SANS_I, PF_SANS_BI,
    PF_MONO, PF_MONO_B,
    PF_MATH,            /* DejaVu Math TeX Gyre, for typeset math */
    PF_COUNT
};
/* style bits -> font: family (PF_SERIF / PF_SANS / PF_MONO) + bold + italic */
#define PS_BOLD 1
#define PS_ITALIC 2
int pf_style_font(int family, int bits);

typedef struct pf_set pf_set;
/* Find the font files (dir: $KILN_FONT_DIR, else Debian's DejaVu folder).
 * NULL with a message when DejaVu Sans itself is missing. */
pf_set *pf_new(HPDF_Doc pdf, char *err, size_t n);
void pf_free(pf_set *s);
/* Advance width of a code point in 1/1000 em, or -1 when the font has no
 * glyph for it. Code points above U+FFFF are always -1 (libharu's UTF-8
 * path is 16-bit). */
int pf_width(pf_set *s, int font, uint32_t cp);
/* The font and code point that print cp in `font`: the font itself, then the
 * DejaVu Sans of the same style, then Sans regular; a code point none has
 * becomes U+FFFD (or '?'). Control characters become U+FFFD too. */
void pf_resolve(pf_set *s, int font, uint32_t cp, int *font_out, uint32_t *cp_out);
/* The libharu font (loaded and embedded on first use), NULL on failure. */
HPDF_Font pf_hpdf(pf_set *s, int font);
const char *pf_path(const pf_set *s, int font);

/* Draw a typeset formula with its baseline's left end at (x, y), in PDF
 * coordinates (y up); math.c. */
void pm_draw(HPDF_Page pg, pf_set *fonts, km_font *kf, const km_box *b, double x, double y, uint32_t color);

/* Encode a code point for libharu's UTF-8 path, which is 16-bit: one above
 * U+FFFF becomes U+FFFD. Returns the byte count (at most 3). */
static inline int pu_put(char *out, uint32_t cp) { return kb_utf8_put(out, cp > 0xFFFF ? 0xFFFD : cp); }

/* ---- drawing operations and vertical items ------------------------------------ */

enum { OP_TEXT, OP_RECT, OP_LINE, OP_IMAGE, OP_LINK, OP_MATH };

typedef struct pdop {
    int kind;
    float x, y, w, h;   /* y relative to the item's top; TEXT: y = baseline */
    int font;           /* TEXT */
    float size;         /* TEXT: font size; LINE: width */
    uint32_t color;     /* 0xRRGGBB */
    const char *s;      /* TEXT: UTF-8 (valid, BMP); LINK: url; IMAGE: file */
    int len;            /* TEXT: bytes */
    int ref;            /* LINK: destination index, or -1 to resolve `s`
                           as a url; LINE: 1 = dotted */
    int chapter;        /* LINK: the chapter a relative url is read from */
    const km_box *box;  /* MATH: a typeset formula, x/y its baseline's left end */
} pdop;

typedef struct pitem {
    float h;            /* height */
    float pre;          /* space above, dropped at the top of a page */
    int keep;           /* no page break between this item and the next */
    int new_page;       /* a page break before this item */
    int op0, nop;       /* its drawing operations */
    int chapter;        /* chapter index (running header), -1 none */
    int fl;             /* PI_FLOAT / PI_TEXT */
    int hdr;            /* a table row: 1 + the index of its table's header
                           row, repeated at the top of a continuation page;
                           0 none */
    int listing;        /* an item of a code listing: 1 + the index of the
                           listing's first item; 0 none */
    int toc_entry;      /* a contents entry's first line */
    /* placement */
    int page;
    float y;
} pitem;

/* A figure that does not fit at the bottom of a page may float to the top
 * of the next one while the text (paragraph lines, not headings) after it
 * fills the page. */
#define PI_FLOAT 1
#define PI_TEXT 2

/* A table header row drawn again at the top of a page (item, where). */
typedef struct prepeat {
    int item, page;
    float y;
} prepeat;

typedef struct pflow {
    pitem *it;
    int n, cap;
    prepeat *rep;       /* set by pl_paginate */
    int nrep, caprep;
} pflow;

/* A destination: a heading, figure, table or chapter start. */
typedef struct pdest {
    int chapter;                 /* -1 = not in a chapter */
    const char *anchor;          /* heading anchor / "fig-x" ("" none) */
    const kiln_directive *dir;   /* figure / table, or NULL */
    int level;                   /* heading level (1 = chapter), 0 = not a heading */
    const char *number;          /* "1.2" or "" */
    const char *title;           /* plain text */
    int flow, item;              /* where it was laid out */
    int page;                    /* absolute page index after pagination */
    float y;                     /* layout y of its item's top */
    int toc;                     /* listed in the contents and the outline */
} pdest;

/* ---- the writer's state ------------------------------------------------------------ */

typedef struct pw {
    const kiln_doc *doc;
    kiln_arena *a;               /* strings and arrays of this writer */
    pf_set *fonts;
    HPDF_Doc pdf;
    float page_w, page_h, margin_l, margin_r, margin_t, margin_b;
    float text_w, text_h;
    pdop *op;
    int nop, capop;
    pdest *dest;
    int ndest, capdest;
    kr_strmap dest_ix;           /* "CH#anchor", "#anchor", "CH" -> index + 1 in dest (pdf.c, once paginated) */
    int dest_ix_made;
    pflow flows[3];              /* title page, contents, body */
    int flow;                    /* the flow being laid out */
    int chapter;                 /* current chapter index (-1 none) */
    int warned_missing;          /* count of replaced characters */
    int sec[7];                  /* heading numbers within the chapter */
    const char **chap_label;     /* running-header text per chapter (+ appendix) */
    const char **chap_num;       /* "1", "2", ..., "A" */
    kiln_diag *diag;
    km_font *kfont;              /* the math fonts, opened on first use */
    int kfont_failed;
    km_box **boxes;              /* every formula laid out (freed at the end) */
    int nboxes;
} pw;

/* ---- paragraphs (text.c) ------------------------------------------------------- */

typedef struct pstyle {
    int family;          /* PF_SERIF / PF_SANS / PF_MONO */
    int bits;            /* PS_BOLD | PS_ITALIC */
    float size;
    uint32_t color;
    int code;            /* inline code: mono at code size, shaded */
    const char *url;     /* link destination (NULL none) */
    int chapter;         /* for resolving relative links */
    int strike;          /* ~~struck through~~ */
} pstyle;

typedef struct pseg {
    int font;
    float size;
    uint32_t color;
    int code;
    const char *url;
    int chapter;
    char *s;             /* UTF-8, arena */
    int len;
    float w;             /* points */
    const km_box *math;  /* an inline formula (s NULL), w its width */
    int strike;
} pseg;

typedef struct pword {
    int s0, ns;          /* segments */
    float w;             /* points */
    float sp;            /* space after (points; 0 = none: a break without a gap) */
    int hard;            /* a forced line break after this word */
} pword;

typedef struct ppara {
    pw *w;
    pseg *seg;
    int nseg, capseg;
    pword *wd;
    int nwd, capwd;
    int open;            /* the last word is still being built */
    float last_space;    /* width of a space in the current style */
} ppara;

enum { PA_JUSTIFY, PA_LEFT, PA_CENTER, PA_RIGHT };

typedef struct pline {
    int w0, w1;          /* words [w0, w1) */
    float natural;       /* natural width */
    int last;            /* last line of the paragraph or before a hard break */
} pline;

/* Inline markdown as plain text (what a heading says, for the outline). */
void pp_plain(sbuf *b, const kiln_inline *in);
void pp_init(ppara *p, pw *w);
void pp_free(ppara *p);
/* Add text in a style: spaces separate words, '\n' too (a soft break). */
void pp_text(ppara *p, const pstyle *st, const char *text);
/* Add text that is one word whatever it holds (spaces kept as no-break). */
void pp_word(ppara *p, const pstyle *st, const char *text);
void pp_space(ppara *p, const pstyle *st);
void pp_hard_break(ppara *p);
/* Inline markdown into the paragraph, starting from a base style. */
void pp_inlines(ppara *p, const pstyle *base, const kiln_inline *in);
/* Break into lines of `width` points. Returns the line count; *lines is
 * malloc'd. Words wider than the line are split first. */
int pp_break(ppara *p, float width, pline **lines);
/* Widest word (points): the narrowest the paragraph can be set. */
float pp_min_width(const ppara *p);
/* Natural width on one line. */
float pp_natural_width(const ppara *p);
/* Emit one line's text operations into the current item at (x, baseline),
 * set in `width` with the alignment. */
void pp_emit_line(ppara *p, const pline *ln, float x, float baseline, float width, int align);
/* A one-line run of text in a style at x (no wrapping); returns its width. */
float pp_label(pw *w, const pstyle *st, float x, float baseline, const char *text);
float pp_label_width(pw *w, const pstyle *st, const char *text);

/* ---- layout (layout.c) ---------------------------------------------------------- */

pitem *pl_item(pw *w, float h, float pre);        /* append to the current flow */
pdop *pl_op(pw *w, int kind);                     /* append to the last item */
void pl_text_op(pw *w, int font, float size, uint32_t color, float x, float y, const char *s, int len);
void pl_rect(pw *w, float x, float y, float wd, float h, uint32_t color);
void pl_line(pw *w, float x0, float y0, float x1, float y1, float width, uint32_t color);
int pl_dest(pw *w, int chapter, const char *anchor, const kiln_directive *dir, int level,
            const char *number, const char *title, int toc);
/* Paginate a flow: sets page (from first_page) and y of every item and the
 * repeated table headers; returns the number of pages (at least 1). */
int pl_paginate(pw *w, pflow *f, int first_page);
void pl_flow_free(pflow *f);

/* ---- blocks (blocks.c) ----------------------------------------------------------- */

#define BODY_SIZE 10.f
#define BODY_LEAD 14.f
#define CODE_SIZE 8.3f
#define CODE_LEAD 11.f
#define SMALL_SIZE 8.5f
#define SMALL_LEAD 11.5f
#define TEXT_COLOR 0x1A1A1Au
#define HEAD_COLOR 0x111111u
#define GRAY_COLOR 0x5F6368u
#define RULE_COLOR 0x8C8C8Cu
#define ACCENT_COLOR 0x2A5D9Fu
#define CODE_COLOR 0x202124u
#define CODE_BG 0xF2F3F5u
#define NOTE_BG 0xF4F7FBu

/* Where blocks go: a column, with quote bars and a pending list marker. */
typedef struct ctx {
    float x, width;
    int nbars;
    float bar_x[8];
    const char **marker;   /* list marker waiting for the item's first line */
    float marker_right;
    float *pre_boost;      /* space a list asks for above its first line */
    int tight;
    int list_depth;
    uint32_t color;
    int left_tables;       /* tables start at x instead of being centred */
    int in_section;        /* inside a SECTION (an appendix run) */
} ctx;

/* A band behind lines: a tint from x over w, and an accent bar (0 = none). */
typedef struct pband {
    float x, w;
    uint32_t color, bar;
} pband;

/* The current flow's last item, and item i of it. */
static inline int item_index(pw *w) { return w->flows[w->flow].n - 1; }
static inline pitem *item_at(pw *w, int i) { return &w->flows[w->flow].it[i]; }

pstyle ps_make(int family, int bits, float size, uint32_t color);
float baseline_of(float lead, float size);
pitem *new_item(pw *w, ctx *c, float h, float pre, float baseline);
void emit_lines(pw *w, ctx *c, ppara *p, float x, float width, float lead, float size, int align, float pre,
                int keep_all, const pband *band);
void chapter_head(pw *w, const char *label, const char *number, const kiln_inline *title, const char *title_text,
                  const char *anchor);
void code_block(pw *w, ctx *c, const char *text, float pre);
/* A caption's text style and that of its bold label ("Figure 2.", "Table 1."). */
void caption_styles(pw *w, pstyle *text, pstyle *label);
/* ---- tables (table.c) ---- */
/* A table of plain cells, as table_block sets it. */
typedef struct ptable_spec {
    int nr, nc;                   /* body rows, columns */
    const char *const *header;    /* nc texts, or NULL for none */
    const char *const *cells;     /* nr * nc texts, row-major */
    const int *numeric;           /* nc flags (right-aligned), or NULL */
    int bold_first_col;
    int n_sum;                    /* the last n_sum rows are summary rows (mean, sd, ...) */
    const char *caption_label;    /* "Table 2.", or NULL for no caption */
    const kiln_inline *caption;   /* the caption's inlines, else caption_text */
    const char *caption_text;
    float pre;                    /* space above */
} ptable_spec;
void table_block(pw *w, ctx *c, const ptable_spec *t);
/* A Markdown (GFM) table: its cells as plain text, a header row. */
void grid_block(pw *w, ctx *c, const kiln_block *b);
/* A FACTS block: two columns, the names in bold, from the column's left. */
void facts_block(pw *w, ctx *c, const kiln_block *b);
void layout_blocks(pw *w, ctx *c, const kiln_block *b, const kiln_block *skip);
int png_size(const char *path, float *wpt, float *hpt);

/* ---- math (pdf_math.c, pdf_text.c) ------------------------------------------------ */

/* A formula laid out at size pt (display or inline), owned by the writer;
 * NULL (with a warning) when the math fonts cannot be opened. */
const km_box *pm_box(pw *w, const struct km_node *n, int display, float pt);
void pm_free_all(pw *w);
/* An inline formula in a paragraph: part of the word it touches. */
void pp_math(ppara *p, const pstyle *st, const km_box *b);

#endif
