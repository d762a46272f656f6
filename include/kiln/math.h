/* kiln math: a TeX math subset parsed into one tree, rendered as MathML Core
 * (for the HTML) and laid out as positioned glyphs and rules with the
 * OpenType MATH table of an OpenType math font (for the PDF).
 *
 * The subset (README, "Math"): letters, numbers, operators; _ ^ ' ;
 * {groups}; \frac \dfrac \tfrac \binom; \sqrt[n]{x}; Greek; large operators
 * (\sum \prod \int ...) and function names (\log \exp \max \min \lim
 * \operatorname{..} \operatorname*{..}) with \limits / \nolimits;
 * \left X ... \middle X ... \right X and \big..\Bigg; accents (\hat \bar
 * \tilde \vec \dot \ddot \overline \widehat \widetilde); \text \mathrm
 * \mathbf \mathit; relations and binary operators (\cdot \times \le
 * \approx ...); spaces (\, \: \; \quad \qquad \!); environments aligned,
 * matrix, pmatrix, bmatrix, Bmatrix, vmatrix, Vmatrix, cases; and kiln's
 * own {{RUN.METRIC}} value placeholders, filled in before rendering. */
#ifndef KILN_MATH_H
#define KILN_MATH_H

#include <stddef.h>

typedef enum {
    KM_ROW,     /* kid[0..n): a horizontal list */
    KM_IDENT,   /* text: a variable (italic when one letter) or a name */
    KM_NUMBER,  /* text: digits */
    KM_OP,      /* text: an operator, relation, fence or punctuation */
    KM_TEXT,    /* text: \text{...} */
    KM_SPACE,   /* width in em (negative for \!) */
    KM_FRAC,    /* kid[0] over kid[1]; flags: KM_F_NOBAR (binom), style */
    KM_SQRT,    /* kid[0] under the radical, kid[1] the index or NULL */
    KM_SCRIPT,  /* kid[0] base, kid[1] sub or NULL, kid[2] sup or NULL */
    KM_ACCENT,  /* kid[0] base; text: the accent; KM_F_STRETCH: wide */
    KM_FENCED,  /* kid[0] the row; text: open, text2: close ("" = none) */
    KM_TABLE,   /* kid[] rows (KM_ROW of cells, each a KM_ROW); env */
    KM_VALUE    /* text: RUN.METRIC[:FMT] placeholder, not yet filled */
} km_kind;

/* flags */
#define KM_F_UPRIGHT   1   /* IDENT: upright (Greek capitals, \mathrm, names) */
#define KM_F_BOLD      2   /* IDENT / NUMBER: bold (\mathbf) */
#define KM_F_LARGEOP   4   /* OP / IDENT: a large operator or a limits name */
#define KM_F_LIMITS    8   /* SCRIPT over a large op: limits above / below in display */
#define KM_F_NOLIMITS 16   /* \nolimits given explicitly */
#define KM_F_FUNC     32   /* IDENT: a function name (\log, \operatorname) */
#define KM_F_NOBAR    64   /* FRAC: no rule (\binom) */
#define KM_F_DISPLAY 128   /* FRAC: \dfrac */
#define KM_F_TEXTST  256   /* FRAC: \tfrac */
#define KM_F_STRETCH 512   /* ACCENT: wide (\overline \widehat \widetilde);
                              OP: a stretchy fence (\middle) */
#define KM_F_ITALIC 1024   /* IDENT: italic even when several letters (\mathit) */
#define KM_F_FORCELIM 2048 /* SCRIPT: \limits given: limits in text style too */

/* environment of a KM_TABLE */
typedef enum { KM_ENV_ALIGNED, KM_ENV_MATRIX, KM_ENV_CASES } km_env;

typedef struct km_node {
    km_kind kind;
    int flags;
    char *text;             /* UTF-8, owned */
    char *text2;            /* FENCED: close */
    double size;            /* SPACE: em; OP: \big.. size in em (0 = normal) */
    km_env env;             /* TABLE */
    struct km_node **kid;   /* owned */
    int n;
    size_t pos;             /* byte offset of the node in the source */
} km_node;

typedef struct km_error {
    int line, column;       /* 1-based, within the math source (columns
                               count characters) */
    size_t offset;          /* byte offset */
    char msg[256];
} km_error;

/* Parse TeX math (len bytes of src). NULL with *err filled on an error:
 * an unknown command (named, with the accepted ones pointed to), an
 * unbalanced brace, a missing argument, & or \\ outside an environment,
 * an unknown environment or mismatched \end, \right without \left ... */
km_node *km_parse(const char *src, size_t len, km_error *err);
void km_free(km_node *n);

/* Call fn for every KM_VALUE placeholder (key in node->text). fn may fill it
 * in with km_fill (the node becomes a KM_NUMBER). Returns the first nonzero
 * return of fn, else 0. */
int km_each_value(km_node *n, int (*fn)(km_node *value, void *ctx), void *ctx);
void km_fill(km_node *value, const char *text);

/* The formula as one line of plain text, malloc'd: "\\eta_t" -> "ηₜ",
 * "x^2" -> "x²", "\\frac{a}{b}" -> "a/b" (for titles, contents, outlines). */
char *km_plain(const km_node *n);

/* MathML Core for a parsed tree: "<math>...</math>" (display: block, with
 * displaystyle), malloc'd, NULL on out of memory. alttext: the TeX source
 * for the math element's alttext attribute, or NULL. Unfilled values are
 * rendered as their {{key}}. */
char *km_mathml(const km_node *n, int display, const char *alttext);

/* ---- layout for the PDF ---------------------------------------------------- */

/* The fonts for the layout: the OpenType math font DejaVuMathTeXGyre.ttf
 * (its MATH table gives the constants, italic corrections, variants and
 * assemblies; it sets digits, upright names and every symbol) and four
 * DejaVu Serif faces of the same design: italic for italic letters (libharu
 * draws only the Basic Multilingual Plane, so not the math italic block),
 * regular for \text, bold for \mathbf, bold italic for \boldsymbol. dir: the folder holding them
 * (Debian: /usr/share/fonts/truetype/dejavu). NULL with a message. */
typedef struct km_font km_font;
km_font *km_font_open(const char *dir, char *err, size_t errlen);
void km_font_close(km_font *f);

enum { KM_FACE_MATH, KM_FACE_ITALIC, KM_FACE_TEXT, KM_FACE_BOLD, KM_FACE_BOLDITALIC };

/* One drawing operation, positions in points relative to the box's origin
 * (left end of the baseline), y growing upwards. */
typedef struct km_item {
    enum { KM_GLYPH, KM_RULE, KM_OUTLINE } kind;
    double x, y;
    double size;            /* GLYPH / OUTLINE: font size in points */
    int face;               /* GLYPH: KM_FACE_* (OUTLINE: always the math face) */
    unsigned cp;            /* GLYPH: the code point (BMP) */
    unsigned glyph;         /* OUTLINE: glyph index in the math font (a
                               size variant or assembly part without a
                               code point of its own) */
    double w, h;            /* RULE: width and thickness (x, y: lower left) */
} km_item;

typedef struct km_box {
    double width, height, depth;   /* points; height above, depth below the baseline */
    km_item *item;
    int n, cap;
} km_box;

/* Lay out a tree at size pt (display: display style, limits under big
 * operators). Unfilled values are set as their key. 0 on success. */
int km_layout(km_font *f, const km_node *n, int display, double pt, km_box *out);
void km_box_free(km_box *b);
/* The outline of a math-font glyph as a path in points at size pt, origin at
 * (x, y), for a drawing backend: move/line/cubic callbacks. */
typedef struct km_path_ops {
    void (*move)(void *ctx, double x, double y);
    void (*line)(void *ctx, double x, double y);
    void (*cubic)(void *ctx, double x1, double y1, double x2, double y2, double x3, double y3);
    void (*close)(void *ctx);
} km_path_ops;
int km_outline(km_font *f, unsigned glyph, double pt, double x, double y, const km_path_ops *ops, void *ctx);
/* The path of the file behind a face (for the PDF writer to embed). */
const char *km_font_path(const km_font *f, int face);

#endif
