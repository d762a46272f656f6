/* Reading an OpenType MATH table (private to src/math). Values are in font
 * units. */
#ifndef KILN_MATH_OTMATH_H
#define KILN_MATH_OTMATH_H

#include <stddef.h>
#include <stdint.h>

typedef struct ot_math {
    const unsigned char *data;
    size_t len;
    size_t constants, glyph_info, variants;   /* offsets, 0 = absent */
} ot_math;

/* MathConstants, in the table's order from mathLeading on. */
typedef enum {
    OT_SCRIPT_PERCENT = -5, OT_SCRIPTSCRIPT_PERCENT, OT_DELIM_MIN_HEIGHT, OT_DISPLAY_OP_MIN_HEIGHT,
    OT_RADICAL_DEGREE_RAISE,
    OT_MATH_LEADING = 0, OT_AXIS_HEIGHT, OT_ACCENT_BASE_HEIGHT, OT_FLATTENED_ACCENT_BASE_HEIGHT,
    OT_SUB_SHIFT_DOWN, OT_SUB_TOP_MAX, OT_SUB_BASELINE_DROP_MIN, OT_SUP_SHIFT_UP, OT_SUP_SHIFT_UP_CRAMPED,
    OT_SUP_BOTTOM_MIN, OT_SUP_BASELINE_DROP_MAX, OT_SUB_SUP_GAP_MIN, OT_SUP_BOTTOM_MAX_WITH_SUB,
    OT_SPACE_AFTER_SCRIPT, OT_UPPER_LIMIT_GAP_MIN, OT_UPPER_LIMIT_BASELINE_RISE_MIN, OT_LOWER_LIMIT_GAP_MIN,
    OT_LOWER_LIMIT_BASELINE_DROP_MIN, OT_STACK_TOP_SHIFT_UP, OT_STACK_TOP_DISPLAY_SHIFT_UP,
    OT_STACK_BOTTOM_SHIFT_DOWN, OT_STACK_BOTTOM_DISPLAY_SHIFT_DOWN, OT_STACK_GAP_MIN, OT_STACK_DISPLAY_GAP_MIN,
    OT_STRETCH_STACK_TOP_SHIFT_UP, OT_STRETCH_STACK_BOTTOM_SHIFT_DOWN, OT_STRETCH_STACK_GAP_ABOVE_MIN,
    OT_STRETCH_STACK_GAP_BELOW_MIN, OT_FRAC_NUM_SHIFT_UP, OT_FRAC_NUM_DISPLAY_SHIFT_UP,
    OT_FRAC_DEN_SHIFT_DOWN, OT_FRAC_DEN_DISPLAY_SHIFT_DOWN, OT_FRAC_NUM_GAP_MIN, OT_FRAC_NUM_DISPLAY_GAP_MIN,
    OT_FRAC_RULE_THICKNESS, OT_FRAC_DEN_GAP_MIN, OT_FRAC_DEN_DISPLAY_GAP_MIN, OT_SKEWED_H_GAP,
    OT_SKEWED_V_GAP, OT_OVERBAR_GAP, OT_OVERBAR_THICKNESS, OT_OVERBAR_EXTRA_ASCENDER, OT_UNDERBAR_GAP,
    OT_UNDERBAR_THICKNESS, OT_UNDERBAR_EXTRA_DESCENDER, OT_RADICAL_GAP, OT_RADICAL_DISPLAY_GAP,
    OT_RADICAL_RULE_THICKNESS, OT_RADICAL_EXTRA_ASCENDER, OT_RADICAL_KERN_BEFORE_DEGREE,
    OT_RADICAL_KERN_AFTER_DEGREE
} ot_const;

typedef struct ot_variant { unsigned glyph; int advance; } ot_variant;
typedef struct ot_part { unsigned glyph; int start, end, full, extender; } ot_part;

/* 0 when data holds a MATH table (version 1.x) with its constants. */
int ot_open(ot_math *m, const unsigned char *data, size_t len);
int ot_constant(const ot_math *m, ot_const c);
int ot_italic(const ot_math *m, unsigned glyph);
/* 1 and *x when the font gives the glyph a top accent attachment. */
int ot_top_accent(const ot_math *m, unsigned glyph, int *x);
/* Size variants of a glyph (the glyph itself first), growing. */
int ot_variants(const ot_math *m, unsigned glyph, int vertical, ot_variant *out, int max);
/* The parts of a glyph assembly (bottom to top, or left to right). */
int ot_assembly(const ot_math *m, unsigned glyph, int vertical, ot_part *out, int max);
int ot_min_overlap(const ot_math *m);

#endif
