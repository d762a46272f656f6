/* The math library: TeX subset -> tree -> MathML Core (structure checked by
 * parsing the MathML with libxml2 and asking XPath), and every error. */
#include "kiln/math.h"
#include "testutil.h"

#include "pdf/internal.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <math.h>

/* Parse TeX, render MathML, parse that as XML; NULL document on failure. */
static xmlDocPtr mml(const char *tex, int display)
{
    km_error e;
    km_node *n = km_parse(tex, strlen(tex), &e);
    ck_assert_msg(n != NULL, "%s: %d:%d: %s", tex, e.line, e.column, e.msg);
    char *m = km_mathml(n, display, tex);
    km_free(n);
    ck_assert_ptr_nonnull(m);
    xmlDocPtr d = xmlReadMemory(m, (int)strlen(m), "math.xml", "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR);
    ck_assert_msg(d != NULL, "not well-formed: %s", m);
    free(m);
    return d;
}

static double xnum(xmlDocPtr d, const char *xpath)
{
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)xpath, c);
    ck_assert_msg(o != NULL, "bad xpath %s", xpath);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    return v;
}

static char *xstr(xmlDocPtr d, const char *xpath)
{
    xmlXPathContextPtr c = xmlXPathNewContext(d);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)xpath, c);
    ck_assert_msg(o != NULL, "bad xpath %s", xpath);
    char *s = (char *)xmlXPathCastToString(o);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(c);
    return s;
}

#define COUNT(d, xp, want) ck_assert_msg(xnum(d, "count(" xp ")") == (want), "%s: %g, want %d", xp, xnum(d, "count(" xp ")"), (int)(want))
#define STR(d, xp, want) do { char *s_ = xstr(d, xp); ck_assert_str_eq(s_, want); xmlFree(s_); } while (0)

START_TEST(fractions_scripts_roots)
{
    xmlDocPtr d = mml("\\frac{a+1}{2} + x_i^2 + \\sqrt{x} + \\sqrt[3]{y} + \\binom{n}{k}", 0);
    COUNT(d, "/math/mrow/mfrac[not(@linethickness)]", 1);
    COUNT(d, "/math/mrow/mfrac/*", 2);
    STR(d, "/math/mrow/mfrac/*[2]", "2");
    COUNT(d, "/math/mrow/mfrac/mrow/mo[.='+']", 1);
    COUNT(d, "/math/mrow/msubsup/*", 3);
    STR(d, "/math/mrow/msubsup/mi[1]", "x");
    STR(d, "/math/mrow/msubsup/*[3]", "2");
    COUNT(d, "/math/mrow/msqrt/mi[.='x']", 1);
    STR(d, "/math/mrow/mroot/*[1]", "y");
    STR(d, "/math/mrow/mroot/*[2]", "3");
    COUNT(d, "//mfrac[@linethickness='0']", 1);
    COUNT(d, "//mrow[mfrac[@linethickness='0']]/mo[@fence='true']", 2);
    xmlFreeDoc(d);
    d = mml("\\dfrac{1}{2}\\tfrac{3}{4}", 0);
    COUNT(d, "//mstyle[@displaystyle='true']/mfrac", 1);
    COUNT(d, "//mstyle[@displaystyle='false']/mfrac", 1);
    xmlFreeDoc(d);
}
END_TEST

START_TEST(greek_and_symbols)
{
    xmlDocPtr d = mml("\\alpha\\eta\\Gamma\\Delta \\cdot \\times \\le \\approx \\infty x - y * z", 0);
    STR(d, "/math/mrow/mi[1]", "α");
    STR(d, "/math/mrow/mi[2]", "η");
    COUNT(d, "/math/mrow/mi[not(@mathvariant)]", 5);    /* α η x y z */
    COUNT(d, "/math/mrow/mi[@mathvariant='normal']", 3); /* Γ Δ ∞ */
    COUNT(d, "/math/mrow/mo[.='⋅']", 1);
    COUNT(d, "/math/mrow/mo[.='×']", 1);
    COUNT(d, "/math/mrow/mo[.='≤']", 1);
    COUNT(d, "/math/mrow/mo[.='≈']", 1);
    COUNT(d, "/math/mrow/mo[.='−']", 1);   /* a minus sign, not a hyphen */
    COUNT(d, "/math/mrow/mo[.='∗']", 1);
    xmlFreeDoc(d);
}
END_TEST

START_TEST(large_operators_and_functions)
{
    xmlDocPtr d = mml("\\sum_{i=1}^{n} x_i \\prod_k y \\int_0^1 f \\sum\\nolimits_j \\int\\limits_a^b", 1);
    COUNT(d, "/math[@display='block']", 1);
    COUNT(d, "/math/mrow/munderover[mo='∑']/*", 3);
    STR(d, "/math/mrow/munderover[mo='∑']/*[3]", "n");
    COUNT(d, "/math/mrow/munderover[mo='∑']/mrow/mo[.='=']", 1);
    COUNT(d, "/math/mrow/munder[mo='∏']", 1);
    COUNT(d, "/math/mrow/msubsup[mo='∫']", 1);         /* \int: limits at the side */
    COUNT(d, "/math/mrow/msub[mo='∑']", 1);            /* \nolimits */
    COUNT(d, "/math/mrow/munderover[mo='∫']", 1);      /* \limits */
    COUNT(d, "/math/mrow/munderover/mo[.='∫' and @movablelimits='false']", 1);   /* stays under in text style */
    COUNT(d, "/math/mrow/munderover/mo[.='∑' and not(@movablelimits)]", 1);
    xmlFreeDoc(d);
    d = mml("\\max_{x} f(x) + \\min_y g + \\lim_{t \\to \\infty} h + \\log x + \\exp(t) + \\operatorname{sgn} x + \\operatorname*{arg\\,max}_w L", 0);
    COUNT(d, "/math/mrow/munder/mo[@movablelimits='true' and .='max']", 1);
    COUNT(d, "/math/mrow/munder/mo[@movablelimits='true' and .='min']", 1);
    COUNT(d, "/math/mrow/munder[mo='lim']/mrow/mo[.='→']", 1);
    COUNT(d, "/math/mrow/mi[.='log']", 1);
    COUNT(d, "/math/mrow/mi[.='log']/following-sibling::*[1][self::mo and .='\xe2\x81\xa1']", 1);
    COUNT(d, "/math/mrow/mi[.='exp']", 1);
    COUNT(d, "/math/mrow/mi[.='sgn']/following-sibling::*[1][self::mo and .='\xe2\x81\xa1']", 1);
    COUNT(d, "/math/mrow/munder/mo[@movablelimits='true' and .='arg\xe2\x80\x89max']", 1);
    xmlFreeDoc(d);
}
END_TEST

START_TEST(delimiters)
{
    xmlDocPtr d = mml("\\left( \\frac{a}{b} \\middle| c \\right] + \\left. x \\right\\} + \\big( y \\Big) + (z)", 0);
    COUNT(d, "/math/mrow/mrow/mo[@fence='true' and @form='prefix' and .='(']", 1);
    COUNT(d, "/math/mrow/mrow/mo[@fence='true' and @form='postfix' and .=']']", 1);
    COUNT(d, "/math/mrow/mrow/mo[@stretchy='true' and .='|' and not(@fence)]", 1);
    COUNT(d, "/math/mrow/mrow[2]/mo", 1);   /* \left. draws nothing */
    STR(d, "/math/mrow/mrow[2]/mo", "}");
    COUNT(d, "/math/mrow/mo[@minsize='1.2em' and @maxsize='1.2em' and .='(']", 1);
    COUNT(d, "/math/mrow/mo[@minsize='1.8em' and .=')']", 1);
    COUNT(d, "/math/mrow/mo[@stretchy='false' and .='(']", 1);   /* plain parentheses do not grow */
    xmlFreeDoc(d);
    d = mml("|x| + a/b", 0);
    COUNT(d, "/math/mrow/mo[@lspace='0' and @rspace='0' and (.='|' or .='/')]", 3);   /* ordinary, as in TeX */
    COUNT(d, "/math/mrow/mo[.='+' and not(@lspace)]", 1);
    xmlFreeDoc(d);
}
END_TEST

START_TEST(accents_text_fonts)
{
    xmlDocPtr d = mml("\\hat{\\theta} + \\bar x + \\tilde{y} + \\overline{ab} + \\text{ if } t < 5 \\mathrm{d}t \\mathbf{x} \\mathrm{lr}", 0);
    COUNT(d, "/math/mrow/mover[@accent='true']", 3);
    STR(d, "/math/mrow/mover[1]/mi", "θ");
    STR(d, "/math/mrow/mover[1]/mo", "ˆ");   /* U+02C6: TeX's small hat, where ^ is wide */
    STR(d, "/math/mrow/mover[mi='y']/mo", "˜");
    COUNT(d, "/math/mrow/mover[mi='x']/mo[@stretchy='false']", 1);
    /* \overline: no bar glyph stretches in Chromium, a border over the base does */
    COUNT(d, "/math/mrow/mrow[contains(@style,'border-top:')]/mrow[mi[1]='a' and mi[2]='b']", 1);
    STR(d, "/math/mrow/mtext", "\xc2\xa0if\xc2\xa0");
    COUNT(d, "/math/mrow/mo[.='<']", 1);
    COUNT(d, "/math/mrow/mi[@mathvariant='normal' and .='d']", 1);
    COUNT(d, "/math/mrow/mi[.='\xf0\x9d\x90\xb1']", 1);   /* U+1D431 bold x */
    COUNT(d, "/math/mrow/mi[.='lr']", 1);                 /* one upright name */
    STR(d, "/math/@alttext", "\\hat{\\theta} + \\bar x + \\tilde{y} + \\overline{ab} + \\text{ if } t < 5 \\mathrm{d}t \\mathbf{x} \\mathrm{lr}");
    xmlFreeDoc(d);
    /* primes follow the base at full size (U+2032 is raised already), as in
     * the PDF; with a superscript they stay in it */
    d = mml("f'(x) + g'' + h'^2", 0);
    COUNT(d, "/math/mrow/mrow[mi='f']/mo[.='′' and @lspace='0' and @rspace='0']", 1);
    COUNT(d, "/math/mrow/mrow[mi='g']/mo[.='′']", 2);
    COUNT(d, "//msup", 1);
    COUNT(d, "/math/mrow/msup[mi='h']/mrow[mo='′' and mn='2']", 1);
    xmlFreeDoc(d);
    /* \widehat: the combining circumflex, the one the fonts have wide variants of */
    d = mml("\\vec{v}", 0);
    COUNT(d, "//mover/mo[.='→' and @mathsize='70%']", 1);
    xmlFreeDoc(d);
    d = mml("\\widehat{xy} \\widetilde{ab}", 0);
    STR(d, "/math/mrow/mover[1]/mo[@stretchy='true']", "\xcc\x82");
    STR(d, "/math/mrow/mover[2]/mo[@stretchy='true']", "~");
    xmlFreeDoc(d);
    /* bold: the mathematical alphanumerics, Greek too; \boldsymbol keeps the
     * letter's slant (capital Greek upright), \mathbf sets upright */
    d = mml("\\boldsymbol{\\beta x \\Gamma} \\mathbf{\\Gamma \\alpha 2}", 0);
    COUNT(d, "//mi[.='\xf0\x9d\x9c\xb7']", 1);   /* U+1D737 bold italic beta */
    COUNT(d, "//mi[.='\xf0\x9d\x92\x99']", 1);   /* U+1D499 bold italic x */
    COUNT(d, "//mi[.='\xf0\x9d\x9a\xaa']", 2);   /* U+1D6AA bold capital Gamma */
    COUNT(d, "//mi[.='\xf0\x9d\x9b\x82']", 1);   /* U+1D6C2 bold alpha */
    COUNT(d, "//mn[.='\xf0\x9d\x9f\x90']", 1);   /* U+1D7D0 bold 2 */
    COUNT(d, "//mi[.='β' or .='Γ' or .='α']", 0);
    xmlFreeDoc(d);
}
END_TEST

/* One line of plain text for titles and outlines. */
START_TEST(plain_text)
{
    struct { const char *tex, *want; } cases[] = {
        {"\\eta_t", "ηₜ"}, {"x^2 + y_{i+1}", "x² + yᵢ₊₁"}, {"x^{k+y}", "x^(k+y)"}, {"f'(x)", "f′(x)"},
        {"\\frac{a+b}{2}", "(a + b)/2"}, {"\\sqrt{x}", "√x"}, {"\\log x + \\exp(y)", "log x + exp(y)"},
        {"\\hat{\\theta} \\in \\left[ 0, 1 \\right]", "θ ∈ [0,1]"}, {"\\text{rate } r", "rate r"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        km_node *n = km_parse(cases[i].tex, strlen(cases[i].tex), NULL);
        ck_assert_ptr_nonnull(n);
        char *t = km_plain(n);
        ck_assert_msg(!strcmp(t, cases[i].want), "%s: '%s', want '%s'", cases[i].tex, t, cases[i].want);
        free(t);
        km_free(n);
    }
}
END_TEST

/* Binary operators and relations in scripts get no space, as in TeX's
 * script styles (Chromium spaces them unless told); outside they keep it. */
START_TEST(script_spacing)
{
    xmlDocPtr d = mml("A_{i-1} + x^{a=1} + \\sqrt[n+1]{y} + \\sum_{k=1}^{n} k", 1);
    COUNT(d, "/math/mrow/msub/mrow/mo[.='−' and @lspace='0' and @rspace='0']", 1);
    COUNT(d, "/math/mrow/msup/mrow/mo[.='=' and @lspace='0' and @rspace='0']", 1);
    COUNT(d, "/math/mrow/mroot/mrow/mo[.='+' and @lspace='0']", 1);
    COUNT(d, "/math/mrow/munderover/mrow/mo[.='=' and @lspace='0']", 1);
    COUNT(d, "/math/mrow/mo[.='+' and not(@lspace)]", 3);   /* the row's own: spaced */
    COUNT(d, "/math/mrow/munderover/mo[.='∑' and not(@lspace)]", 1);
    xmlFreeDoc(d);
}
END_TEST

/* MathML Core gives the function application operator no space: the thin
 * spaces TeX puts around a function name next to an ordinary atom are
 * written out, and none before a parenthesis. */
START_TEST(function_spacing)
{
    xmlDocPtr d = mml("\\det A + \\exp(x) + a \\cos b + \\max_x f", 1);
    COUNT(d, "/math/mrow/mo[.='\xe2\x81\xa1']", 4);
    COUNT(d, "/math/mrow/mo[.='\xe2\x81\xa1' and @rspace='0.1667em']", 3);   /* det A, cos b, max f */
    COUNT(d, "/math/mrow/mi[.='exp']/following-sibling::mo[1][.='\xe2\x81\xa1' and not(@rspace)]", 1);
    COUNT(d, "/math/mrow/mi[.='cos']/preceding-sibling::*[1][self::mspace and @width='0.1667em']", 1);
    COUNT(d, "/math/mrow/mi[.='det']/preceding-sibling::mspace", 0);
    COUNT(d, "/math/mrow/munder/mo[.='max' and @lspace='0' and @rspace='0']", 1);
    xmlFreeDoc(d);
}
END_TEST

START_TEST(aligned_and_matrices)
{
    xmlDocPtr d = mml("\\begin{aligned} \\eta_t &= \\eta_0 \\gamma^t \\\\ &\\approx 0.01 & t &\\le 5 \\\\ \\end{aligned}", 1);
    COUNT(d, "/math/mrow/mtable/mtr", 2);   /* a trailing \\ adds no row */
    COUNT(d, "/math/mrow/mtable/mtr[1]/mtd", 2);
    COUNT(d, "/math/mrow/mtable/mtr[2]/mtd", 4);
    COUNT(d, "/math/mrow/mtable/mtr/mtd[1][@columnalign='right']", 2);
    /* Chromium right-aligns a cell's math only with -webkit-right */
    COUNT(d, "/math/mrow/mtable/mtr/mtd[1][contains(@style,'text-align:-webkit-right')]", 2);
    COUNT(d, "/math/mrow/mtable/mtr/mtd[2][@columnalign='left']", 2);
    COUNT(d, "/math/mrow/mtable/mtr[1]/mtd[2]/mrow/*[1][self::mi and .='']", 1);   /* "&=" keeps = a relation */
    STR(d, "/math/mrow/mtable/mtr[1]/mtd[2]/mrow/mo[1]", "=");
    STR(d, "/math/mrow/mtable/mtr[2]/mtd[2]/mrow/mn", "0.01");
    xmlFreeDoc(d);
    d = mml("\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix} \\begin{bmatrix} a \\end{bmatrix} \\begin{matrix} x & y \\end{matrix}", 1);
    COUNT(d, "/math/mrow/mrow[1]/mo[.='(']", 1);
    COUNT(d, "/math/mrow/mrow[1]/mo[.=')']", 1);
    COUNT(d, "/math/mrow/mrow[1]/mtable/mtr", 2);
    COUNT(d, "/math/mrow/mrow[1]/mtable/mtr/mtd", 4);
    COUNT(d, "/math/mrow/mrow[2]/mo[.='[' or .=']']", 2);
    COUNT(d, "/math/mrow/mtable/mtr/mtd", 2);
    xmlFreeDoc(d);
    d = mml("|x| = \\begin{cases} x & x \\ge 0 \\\\ -x & \\text{otherwise} \\end{cases}", 1);
    COUNT(d, "/math/mrow/mrow/mo[.='{']", 1);
    COUNT(d, "/math/mrow/mrow/mo", 1);
    COUNT(d, "/math/mrow/mrow/mtable/mtr/mtd[@columnalign='left']", 4);
    xmlFreeDoc(d);
}
END_TEST

static int fill_one(km_node *v, void *arg)
{
    int *count = arg;
    ck_assert_str_eq(v->text, "baseline.learning_rate");
    km_fill(v, "0.01");
    (*count)++;
    return 0;
}

static int stop_at(km_node *v, void *arg) { (void)v; (void)arg; return 7; }

START_TEST(values_inside_math)
{
    const char *tex = "\\eta_0 = {{baseline.learning_rate}} + {x}";
    km_error e;
    km_node *n = km_parse(tex, strlen(tex), &e);
    ck_assert_ptr_nonnull(n);
    char *m = km_mathml(n, 0, NULL);
    ck_assert_ptr_nonnull(strstr(m, "<mtext>{{baseline.learning_rate}}</mtext>"));
    free(m);
    ck_assert_int_eq(km_each_value(n, stop_at, NULL), 7);
    int count = 0;
    ck_assert_int_eq(km_each_value(n, fill_one, &count), 0);
    ck_assert_int_eq(count, 1);
    m = km_mathml(n, 0, NULL);
    ck_assert_ptr_nonnull(strstr(m, "<mo>=</mo><mn>0.01</mn>"));
    ck_assert_ptr_null(strstr(m, "{{"));
    ck_assert_ptr_null(strstr(m, "alttext"));
    free(m);
    km_free(n);
}
END_TEST

static int fill_text(km_node *v, void *text)
{
    km_fill(v, (const char *)text);
    return 0;
}

static int fill_next(km_node *v, void *count)
{
    int *k = count;
    char t[16];
    snprintf(t, sizeof t, "v%d", *k);
    km_fill(v, *k == 1 ? "2.5 × 10⁻³" : t);
    ++*k;
    return 0;
}

static xmlDocPtr filled(const char *value, char **mathml)
{
    km_node *n = km_parse("a = {{r.x:sci}}", strlen("a = {{r.x:sci}}"), NULL);
    ck_assert_ptr_nonnull(n);
    km_each_value(n, fill_text, (void *)value);
    *mathml = km_mathml(n, 0, NULL);
    km_free(n);
    xmlDocPtr d = xmlReadMemory(*mathml, (int)strlen(*mathml), "m.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(d);
    return d;
}

/* A value in sci form is set as math (mantissa, ×, 10 with a superscript),
 * a negative one with the minus sign; others stay one number. */
START_TEST(values_sci_form)
{
    char *m;
    xmlDocPtr d = filled("2.5 × 10⁻³", &m);
    STR(d, "/math/mrow/mrow/mn[1]", "2.5");
    STR(d, "/math/mrow/mrow/mo", "×");
    STR(d, "/math/mrow/mrow/msup/mn", "10");
    STR(d, "/math/mrow/mrow/msup/mrow/mo", "−");
    STR(d, "/math/mrow/mrow/msup/mrow/mn", "3");
    COUNT(d, "//mn[contains(., '⁻')]", 0);
    xmlFreeDoc(d);
    free(m);
    d = filled("10⁻¹²", &m);
    STR(d, "/math/mrow/msup/mn", "10");
    STR(d, "/math/mrow/msup/mrow/mn", "12");
    xmlFreeDoc(d);
    free(m);
    d = filled("-0.5", &m);
    STR(d, "/math/mrow/mrow/mo", "−");
    STR(d, "/math/mrow/mrow/mn", "0.5");
    xmlFreeDoc(d);
    free(m);
    d = filled("−10⁴", &m);
    STR(d, "/math/mrow/mrow/mo", "−");
    STR(d, "/math/mrow/mrow/msup/mn[2]", "4");
    COUNT(d, "/math/mrow/mrow/msup//mo", 0);
    xmlFreeDoc(d);
    free(m);
    /* the alttext is the source with the values as the prose has them */
    const char *src = "{{r.a}} + {{r.b:sci}} = {{r.a}}";
    km_node *n = km_parse(src, strlen(src), NULL);
    ck_assert_ptr_nonnull(n);
    int k = 0;
    ck_assert_int_eq(km_each_value(n, fill_next, &k), 0);
    m = km_mathml(n, 1, src);
    km_free(n);
    ck_assert_msg(strstr(m, "alttext=\"v0 + 2.5 × 10⁻³ = v2\""), "%s", m);
    free(m);
    static const char *plain[] = {"0.001", "99.19%", "adam", "10", "10⁻", "1 × 10", "10⁻⁻3"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        d = filled(plain[i], &m);
        COUNT(d, "//msup", 0);
        STR(d, "/math/mrow/mn", plain[i]);
        xmlFreeDoc(d);
        free(m);
    }
}
END_TEST

START_TEST(escaping)
{
    xmlDocPtr d = mml("a < b \\& c > \\{d\\}", 0);
    COUNT(d, "/math/mrow/mo[.='<']", 1);
    COUNT(d, "/math/mrow/mo[.='&']", 1);
    COUNT(d, "/math/mrow/mo[.='>']", 1);
    COUNT(d, "/math/mrow/mo[.='{']", 1);
    STR(d, "/math/@alttext", "a < b \\& c > \\{d\\}");
    xmlFreeDoc(d);
}
END_TEST

/* Every error: the message and where it points (line, column). */
static const struct { const char *tex, *msg; int line, col; } errors[] = {
    {"x + \\foo y", "unknown command \\foo", 1, 5},
    {"\\frac{a}{b", "'{' is not closed", 1, 9},
    {"a}", "'}' without a matching '{'", 1, 2},
    {"x_1_2", "double subscript", 1, 4},
    {"x^1^2", "double superscript", 1, 4},
    {"x^2'", "a prime after a superscript", 1, 4},
    {"\\left( x", "\\left without a matching \\right", 1, 1},
    {"x \\right)", "\\right without a matching \\left", 1, 3},
    {"x \\middle|", "\\middle outside", 1, 3},
    {"\\left< x \\right)", "\\left needs a delimiter", 1, 6},
    {"a & b", "'&' outside an environment", 1, 3},
    {"a \\\\ b", "'\\\\' outside an environment", 1, 3},
    {"\\begin{foo} x \\end{foo}", "unknown environment 'foo'", 1, 7},
    {"\\begin{aligned} x \\end{matrix}", "\\end{matrix} does not match \\begin{aligned}", 1, 19},
    {"\\begin{aligned} x", "\\begin{aligned} without \\end{aligned}", 1, 1},
    {"x \\end{aligned}", "\\end without a matching \\begin", 1, 3},
    {"\\frac{a}", "\\frac needs an argument", 1, 9},
    {"\\sqrt", "\\sqrt needs an argument", 1, 6},
    {"\\sqrt[3 x", "'[' of \\sqrt is not closed", 1, 6},
    {"x^", "'^' needs an argument", 1, 3},
    {"_x", "'_' without a base", 1, 1},
    {"\\text x", "\\text needs an argument in braces", 1, 7},
    {"\\text{abc", "'{' of \\text is not closed", 1, 6},
    {"\\operatorname{abc", "'{' of \\operatorname is not closed", 1, 14},
    {"x \\limits", "\\limits must follow a large operator", 1, 3},
    {"a $ b", "'$' in math", 1, 3},
    {"a # b", "'#' in math", 1, 3},
    {"\\hat", "\\hat needs an argument", 1, 5},
    {"x\\", "a lone backslash", 1, 2},
    {"\\big x", "\\big needs a delimiter", 1, 6},
    {"\\begin{aligned}\na &= b \\\\\nc &= \\unknown\n\\end{aligned}", "unknown command \\unknown", 3, 6},
    {"\\eta = \\sqrt{\\αβ}", "unknown command", 1, 14},
    {"x = `y", "unexpected character '`'", 1, 5},
};

START_TEST(every_error)
{
    const char *tex = errors[_i].tex;
    km_error e;
    km_node *n = km_parse(tex, strlen(tex), &e);
    ck_assert_msg(n == NULL, "%s parsed", tex);
    ck_assert_msg(strstr(e.msg, errors[_i].msg) != NULL, "%s: '%s' lacks '%s'", tex, e.msg, errors[_i].msg);
    ck_assert_msg(e.line == errors[_i].line && e.column == errors[_i].col, "%s: at %d:%d, want %d:%d (%s)", tex, e.line,
                  e.column, errors[_i].line, errors[_i].col, e.msg);
}
END_TEST

/* Deep nesting is refused, not a stack overflow. */
START_TEST(deep_nesting)
{
    char *s = malloc(20001);
    for (int i = 0; i < 10000; i++) { s[i] = '{'; s[19999 - i] = '}'; }
    s[20000] = 0;
    km_error e;
    ck_assert_ptr_null(km_parse(s, 20000, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "nested too deeply"));
    free(s);
}
END_TEST

/* Every prefix of a rich formula either parses to well-formed MathML or
 * fails with a message and a column inside the source. */
START_TEST(prefixes_never_crash)
{
    const char *tex = "\\left( \\sum_{i=1}^{n} \\frac{\\hat{x}_i^2}{\\sqrt[3]{y}} \\right) \\begin{aligned} a &= "
                      "\\max_x \\text{ok} \\\\ b &\\le {{run.acc}} \\end{aligned} \\operatorname*{lim}";
    size_t len = strlen(tex);
    for (size_t k = 0; k <= len; k++) {
        km_error e;
        km_node *n = km_parse(tex, k, &e);
        if (!n) {
            ck_assert_msg(e.msg[0] != 0, "prefix %zu: no message", k);
            ck_assert_msg(e.offset <= k, "prefix %zu: error at %zu", k, e.offset);
            continue;
        }
        char *m = km_mathml(n, 1, NULL);
        xmlDocPtr d = xmlReadMemory(m, (int)strlen(m), "m.xml", "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR);
        ck_assert_msg(d != NULL, "prefix %zu: %s", k, m);
        xmlFreeDoc(d);
        free(m);
        km_free(n);
    }
}
END_TEST


/* ---- layout for the PDF ------------------------------------------------------ */

#define FONT_DIR "/usr/share/fonts/truetype/dejavu"
static km_font *font;
static void font_setup(void)
{
    char err[256];
    font = km_font_open(FONT_DIR, err, sizeof err);
    ck_assert_msg(font != NULL, "%s", err);
}
static void font_teardown(void) { km_font_close(font); }

static km_box lay(const char *tex, int display)
{
    km_error e;
    km_node *n = km_parse(tex, strlen(tex), &e);
    ck_assert_msg(n != NULL, "%s: %s", tex, e.msg);
    km_box b;
    ck_assert_int_eq(km_layout(font, n, display, 10, &b), 0);
    km_free(n);
    return b;
}

/* The k-th (0-based) item drawing code point cp, glyph or outline. */
static const km_item *find(const km_box *b, unsigned cp, int k)
{
    for (int i = 0; i < b->n; i++)
        if ((b->item[i].kind == KM_GLYPH || b->item[i].kind == KM_OUTLINE) && b->item[i].cp == cp && k-- == 0)
            return &b->item[i];
    ck_abort_msg("U+%04X not drawn", cp);
    return NULL;
}

static int count_kind(const km_box *b, unsigned kind)
{
    int n = 0;
    for (int i = 0; i < b->n; i++) n += (unsigned)b->item[i].kind == kind;
    return n;
}

START_TEST(layout_fraction_and_scripts)
{
    km_box b = lay("\\frac{a}{b}", 1);
    const km_item *a = find(&b, 'a', 0), *bb = find(&b, 'b', 0);
    ck_assert(a->y > 0 && bb->y < 0);
    ck_assert_int_eq(count_kind(&b, KM_RULE), 1);
    const km_item *r = NULL;
    for (int i = 0; i < b.n; i++) if (b.item[i].kind == KM_RULE) r = &b.item[i];
    ck_assert(r->y > bb->y && r->y < a->y && r->h > 0 && r->w > 0);
    ck_assert(fabs(r->y + r->h / 2 - 2.75) < 0.01);   /* on the math axis: 275/1000 em at 10 pt */
    ck_assert(b.height > 0 && b.depth > 0);
    km_box_free(&b);
    b = lay("x_i^2", 0);
    const km_item *x = find(&b, 'x', 0), *i = find(&b, 'i', 0), *two = find(&b, '2', 0);
    ck_assert(two->y > x->y && i->y < x->y);
    ck_assert(two->x > x->x && i->x > x->x);
    ck_assert(two->size < x->size && fabs(two->size - 8.0) < 1e-9);   /* scriptPercentScaleDown 80 */
    km_box_free(&b);
    b = lay("x^{y^{z}}", 0);
    ck_assert(fabs(find(&b, 'z', 0)->size - 6.5) < 1e-9);   /* scriptScriptPercentScaleDown 65 */
    km_box_free(&b);
}
END_TEST

START_TEST(layout_large_operators)
{
    km_box t = lay("\\sum_{i=1}^{n} x", 0), d = lay("\\sum_{i=1}^{n} x", 1);
    const km_item *st = find(&t, 0x2211, 0), *sd = find(&d, 0x2211, 0);
    ck_assert_int_eq(st->kind, KM_GLYPH);
    ck_assert_int_eq(sd->kind, KM_OUTLINE);   /* the display size variant */
    ck_assert(d.height > t.height && d.depth > t.depth);
    /* display: limits above and below, centred on the operator */
    const km_item *n = find(&d, 'n', 0), *i = find(&d, 'i', 0);
    ck_assert(n->y > 8 && i->y < -8);
    ck_assert(fabs(n->x - find(&d, 'x', 0)->x) > 5);
    /* text style: at the side */
    ck_assert(find(&t, 'n', 0)->x > st->x + 5 && find(&t, 'i', 0)->x > st->x + 5);
    km_box_free(&t);
    km_box_free(&d);
    km_box m = lay("\\max_{x} y", 1);
    ck_assert(find(&m, 'x', 0)->y < -3);   /* under "max" */
    ck_assert(find(&m, 'x', 0)->x > find(&m, 'm', 0)->x && find(&m, 'x', 0)->x < find(&m, 'y', 0)->x - 5);
    km_box_free(&m);
}
END_TEST

START_TEST(layout_delimiters_grow)
{
    double prev = 0;
    const char *f[] = {"\\left( x \\right)", "\\left( \\frac{a}{b} \\right)", "\\left( \\frac{\\frac{a}{b}}{\\frac{c}{d}} \\right)",
                       "\\left( \\frac{\\frac{\\frac{a}{b}}{c}}{\\frac{\\frac{a}{b}}{c}} \\right)"};
    for (int k = 0; k < 4; k++) {
        km_box b = lay(f[k], 1);
        ck_assert_msg(b.height + b.depth > prev, "%s: %g not taller than %g", f[k], b.height + b.depth, prev);
        prev = b.height + b.depth;
        find(&b, '(', 0);
        find(&b, ')', 0);
        km_box_free(&b);
    }
    /* beyond the largest variant: an assembly of pieces */
    km_box big = lay("\\left( \\begin{matrix} 1 \\\\ 2 \\\\ 3 \\\\ 4 \\\\ 5 \\\\ 6 \\\\ 7 \\\\ 8 \\end{matrix} \\right)", 1);
    ck_assert(big.height + big.depth > 30);
    ck_assert(count_kind(&big, KM_OUTLINE) >= 6);   /* two ends and extenders on each side */
    km_box_free(&big);
}
END_TEST

START_TEST(layout_radical_accent_aligned)
{
    km_box b = lay("\\sqrt{x}", 0);
    ck_assert_int_eq(count_kind(&b, KM_RULE), 1);
    const km_item *x = find(&b, 'x', 0), *r = NULL;
    for (int i = 0; i < b.n; i++) if (b.item[i].kind == KM_RULE) r = &b.item[i];
    ck_assert(r->y > 4 && r->x <= x->x + 0.01 && r->x + r->w >= x->x + 5);
    find(&b, 0x221A, 0);
    km_box_free(&b);
    b = lay("\\sqrt[3]{x}", 0);
    ck_assert(find(&b, '3', 0)->x < find(&b, 0x221A, 0)->x + 3 && find(&b, '3', 0)->y > 0);
    km_box_free(&b);
    b = lay("\\hat{x}", 0);
    ck_assert_int_eq(count_kind(&b, KM_OUTLINE), 1);   /* the accent */
    ck_assert(b.height > 6);
    km_box_free(&b);
    b = lay("\\begin{aligned} \\eta_t &= a + b \\\\ &\\approx 0.01 \\end{aligned}", 1);
    ck_assert(fabs(find(&b, '=', 0)->x - find(&b, 0x2248, 0)->x) < 1e-6);   /* aligned at & */
    /* rows a strut and \jot apart, as amsmath sets them: 1.5 em at 10 pt,
     * more than the text's own leading */
    ck_assert_msg(find(&b, '=', 0)->y - find(&b, 0x2248, 0)->y > 15 - 1e-6, "rows %g pt apart",
                  find(&b, '=', 0)->y - find(&b, 0x2248, 0)->y);
    km_box_free(&b);
    b = lay("\\begin{aligned} a &= b \\\\ &\\approx c \\end{aligned}", 1);
    ck_assert(fabs(find(&b, '=', 0)->y - find(&b, 0x2248, 0)->y - 15) < 1e-6);   /* struts only */
    km_box_free(&b);
    b = lay("\\begin{cases} 1 & a \\\\ 2 & b \\end{cases}", 1);
    ck_assert(fabs(find(&b, '1', 0)->y - find(&b, '2', 0)->y - 14.4) < 1e-6);   /* arraystretch 1.2 */
    km_box_free(&b);
    b = lay("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", 1);
    ck_assert(fabs(find(&b, '1', 0)->y - find(&b, '2', 0)->y) < 1e-6);
    ck_assert(fabs(find(&b, '1', 0)->x - find(&b, '3', 0)->x) < 0.5);
    ck_assert(find(&b, '2', 0)->x > find(&b, '1', 0)->x + 8);
    km_box_free(&b);
}
END_TEST

START_TEST(layout_spacing_and_faces)
{
    km_box b = lay("a+b", 0), s = lay("{a}^{a+b}", 0);
    /* medium space around a binary + in text style, none in script style */
    double gap = find(&b, 'b', 0)->x - find(&b, 'a', 0)->x;
    ck_assert(gap > 10);
    const km_item *a0 = find(&b, 'a', 0);
    ck_assert_int_eq(a0->face, KM_FACE_ITALIC);
    ck_assert_int_eq(find(&b, '+', 0)->face, KM_FACE_MATH);
    km_box_free(&b);
    km_box_free(&s);
    b = lay("\\log x \\text{ if } \\mathbf{v} 2", 0);
    ck_assert_int_eq(find(&b, 'l', 0)->face, KM_FACE_MATH);
    ck_assert_int_eq(find(&b, 'i', 0)->face, KM_FACE_TEXT);
    ck_assert_int_eq(find(&b, 'v', 0)->face, KM_FACE_BOLD);
    ck_assert_int_eq(find(&b, '2', 0)->face, KM_FACE_MATH);
    km_box_free(&b);
    b = lay("\\boldsymbol{\\beta w} \\mathbf{\\beta}", 0);
    ck_assert_int_eq(find(&b, 0x3B2, 0)->face, KM_FACE_BOLDITALIC);
    ck_assert_int_eq(find(&b, 'w', 0)->face, KM_FACE_BOLDITALIC);
    ck_assert_int_eq(find(&b, 0x3B2, 1)->face, KM_FACE_BOLD);
    km_box_free(&b);
}
END_TEST

START_TEST(font_missing)
{
    char err[256];
    ck_assert_ptr_null(km_font_open("/nonexistent", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/DejaVuMathTeXGyre.ttf"));
    ck_assert_ptr_nonnull(strstr(err, "fonts-dejavu-extra"));
    /* a font without a MATH table */
    char tmp[64];
    test_tmpdir(tmp);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "for f in DejaVuSerif-Italic DejaVuSerif DejaVuSerif-Bold; do ln -s " FONT_DIR "/$f.ttf %s/; done; "
             "ln -s " FONT_DIR "/DejaVuSans-Bold.ttf %s/DejaVuMathTeXGyre.ttf", tmp, tmp);
    ck_assert_int_eq(system(cmd), 0);
    /* the bold italic face (\boldsymbol) is missing: named, with its package */
    ck_assert_ptr_null(km_font_open(tmp, err, sizeof err));
    ck_assert_msg(strstr(err, "DejaVuSerif-BoldItalic.ttf") && strstr(err, "fonts-dejavu-extra"), "%s", err);
    snprintf(cmd, sizeof cmd, "ln -s " FONT_DIR "/DejaVuSerif-BoldItalic.ttf %s/", tmp);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_ptr_null(km_font_open(tmp, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "no usable OpenType MATH table"));
}
END_TEST

/* The PDF side: pm_draw puts the glyphs where the layout says; pdftotext
 * reads them back (variants through their invisible text) with no TeX left. */
START_TEST(pdf_drawing)
{
    HPDF_Doc pdf = HPDF_New(NULL, NULL);
    HPDF_UseUTFEncodings(pdf);
    HPDF_SetCurrentEncoder(pdf, "UTF-8");
    char err[256];
    pf_set *fs = pf_new(pdf, err, sizeof err);
    ck_assert_msg(fs != NULL, "%s", err);
    HPDF_Page pg = HPDF_AddPage(pdf);
    HPDF_Page_SetWidth(pg, 400);
    HPDF_Page_SetHeight(pg, 300);
    km_box b = lay("\\eta_t = \\sum_{i=1}^{n} \\frac{\\alpha}{\\sqrt{\\hat{v}_t} + \\epsilon}", 1);
    pm_draw(pg, fs, font, &b, 50, 200, 0);
    char tmp[64], path[128];
    test_tmpdir(tmp);
    snprintf(path, sizeof path, "%s/m.pdf", tmp);
    ck_assert_int_eq(HPDF_SaveToFile(pdf, path), HPDF_OK);
    pf_free(fs);
    HPDF_Free(pdf);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "pdftotext -q -bbox %s -", path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char line[512];
    int words = 0, eta = 0, sum = 0;
    const km_item *e = find(&b, 0x03B7, 0);
    while (fgets(line, sizeof line, p)) {
        double x0, y0, x1, y1;
        char w[128];
        if (sscanf(line, " <word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\">%127[^<]", &x0, &y0, &x1, &y1, w) != 5) continue;
        words++;
        ck_assert_msg(!strchr(w, '\\') && !strchr(w, '{') && !strchr(w, '^'), "raw TeX in the PDF: %s", w);
        if (!strncmp(w, "η", strlen("η"))) {
            eta = 1;
            ck_assert_msg(fabs(x0 - (50 + e->x)) < 1.0, "η at x %g, laid out at %g", x0, 50 + e->x);
        }
        if (strstr(w, "∑")) sum = 1;
    }
    pclose(p);
    ck_assert(words >= 4 && eta && sum);
    snprintf(cmd, sizeof cmd, "pdffonts %s | grep -c 'DejaVuMathTeXGyre.*yes'", path);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, p));
    pclose(p);
    ck_assert_int_ge(atoi(line), 1);   /* embedded */
    km_box_free(&b);
}
END_TEST

/* The one UTF-8 decoder (src/base), as the math parser uses it on a
 * source that need not end in NUL: a sequence the end cuts short is U+FFFD
 * and no byte past the end is read; bad forms are U+FFFD. */
START_TEST(utf8_decoder_bounds)
{
    const char *s = "\xC3\xA9x", *q = s;
    ck_assert_uint_eq(kb_utf8_next_in(&q, s + 1), 0xFFFD);
    ck_assert_ptr_eq(q, s + 1);
    q = s;
    ck_assert_uint_eq(kb_utf8_next_in(&q, s + 3), 0xE9);
    ck_assert_ptr_eq(q, s + 2);
    q = s;
    ck_assert_uint_eq(kb_utf8_next(&q), 0xE9);
    const char *overlong = "\xC0\x80", *sur = "\xED\xA0\x80", *big = "\xF4\x90\x80\x80";
    ck_assert_uint_eq(kb_utf8_next(&overlong), 0xFFFD);
    ck_assert_uint_eq(kb_utf8_next(&sur), 0xFFFD);
    ck_assert_uint_eq(kb_utf8_next(&big), 0xFFFD);
    char out[4];
    ck_assert_int_eq(kb_utf8_put(out, 0x1D400), 4);
    const char *o = out;
    ck_assert_uint_eq(kb_utf8_next_in(&o, out + 4), 0x1D400);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("math");
    TCase *t = tcase_create("mathml");
    tcase_add_test(t, fractions_scripts_roots);
    tcase_add_test(t, utf8_decoder_bounds);
    tcase_add_test(t, greek_and_symbols);
    tcase_add_test(t, large_operators_and_functions);
    tcase_add_test(t, delimiters);
    tcase_add_test(t, accents_text_fonts);
    tcase_add_test(t, function_spacing);
    tcase_add_test(t, script_spacing);
    tcase_add_test(t, plain_text);
    tcase_add_test(t, aligned_and_matrices);
    tcase_add_test(t, values_inside_math);
    tcase_add_test(t, values_sci_form);
    tcase_add_test(t, escaping);
    suite_add_tcase(s, t);
    TCase *er = tcase_create("errors");
    tcase_add_loop_test(er, every_error, 0, (int)(sizeof errors / sizeof errors[0]));
    tcase_add_test(er, deep_nesting);
    tcase_add_test(er, prefixes_never_crash);
    suite_add_tcase(s, er);
    TCase *ly = tcase_create("layout");
    tcase_add_unchecked_fixture(ly, font_setup, font_teardown);
    tcase_add_test(ly, layout_fraction_and_scripts);
    tcase_add_test(ly, layout_large_operators);
    tcase_add_test(ly, layout_delimiters_grow);
    tcase_add_test(ly, layout_radical_accent_aligned);
    tcase_add_test(ly, layout_spacing_and_faces);
    tcase_add_test(ly, font_missing);
    tcase_add_test(ly, pdf_drawing);
    suite_add_tcase(s, ly);
    return test_run_suite(s);
}
