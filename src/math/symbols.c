/* The commands that stand for one symbol or name, accents, delimiters. See
 * internal.h. */
#include "math/internal.h"

#include <string.h>

static const sym syms[] = {
    /* Greek, lower case (italic) */
    {"alpha", SYM_IDENT, "α", 0, 0}, {"beta", SYM_IDENT, "β", 0, 0}, {"gamma", SYM_IDENT, "γ", 0, 0},
    {"delta", SYM_IDENT, "δ", 0, 0}, {"epsilon", SYM_IDENT, "ϵ", 0, 0}, {"varepsilon", SYM_IDENT, "ε", 0, 0},
    {"zeta", SYM_IDENT, "ζ", 0, 0}, {"eta", SYM_IDENT, "η", 0, 0}, {"theta", SYM_IDENT, "θ", 0, 0},
    {"vartheta", SYM_IDENT, "ϑ", 0, 0}, {"iota", SYM_IDENT, "ι", 0, 0}, {"kappa", SYM_IDENT, "κ", 0, 0},
    {"lambda", SYM_IDENT, "λ", 0, 0}, {"mu", SYM_IDENT, "μ", 0, 0}, {"nu", SYM_IDENT, "ν", 0, 0},
    {"xi", SYM_IDENT, "ξ", 0, 0}, {"pi", SYM_IDENT, "π", 0, 0}, {"varpi", SYM_IDENT, "ϖ", 0, 0},
    {"rho", SYM_IDENT, "ρ", 0, 0}, {"varrho", SYM_IDENT, "ϱ", 0, 0}, {"sigma", SYM_IDENT, "σ", 0, 0},
    {"varsigma", SYM_IDENT, "ς", 0, 0}, {"tau", SYM_IDENT, "τ", 0, 0}, {"upsilon", SYM_IDENT, "υ", 0, 0},
    {"phi", SYM_IDENT, "ϕ", 0, 0}, {"varphi", SYM_IDENT, "φ", 0, 0}, {"chi", SYM_IDENT, "χ", 0, 0},
    {"psi", SYM_IDENT, "ψ", 0, 0}, {"omega", SYM_IDENT, "ω", 0, 0},
    /* Greek, capitals (upright, as TeX sets them) */
    {"Gamma", SYM_IDENT, "Γ", 1, 0}, {"Delta", SYM_IDENT, "Δ", 1, 0}, {"Theta", SYM_IDENT, "Θ", 1, 0},
    {"Lambda", SYM_IDENT, "Λ", 1, 0}, {"Xi", SYM_IDENT, "Ξ", 1, 0}, {"Pi", SYM_IDENT, "Π", 1, 0},
    {"Sigma", SYM_IDENT, "Σ", 1, 0}, {"Upsilon", SYM_IDENT, "Υ", 1, 0}, {"Phi", SYM_IDENT, "Φ", 1, 0},
    {"Psi", SYM_IDENT, "Ψ", 1, 0}, {"Omega", SYM_IDENT, "Ω", 1, 0},
    /* letter-like */
    {"infty", SYM_IDENT, "∞", 1, 0}, {"partial", SYM_IDENT, "∂", 1, 0}, {"nabla", SYM_IDENT, "∇", 1, 0},
    {"ell", SYM_IDENT, "ℓ", 1, 0}, {"emptyset", SYM_IDENT, "∅", 1, 0},
    /* binary operators */
    {"cdot", SYM_OP, "⋅", 0, 0}, {"times", SYM_OP, "×", 0, 0}, {"div", SYM_OP, "÷", 0, 0},
    {"pm", SYM_OP, "±", 0, 0}, {"mp", SYM_OP, "∓", 0, 0}, {"ast", SYM_OP, "∗", 0, 0},
    {"circ", SYM_OP, "∘", 0, 0}, {"odot", SYM_OP, "⊙", 0, 0}, {"oplus", SYM_OP, "⊕", 0, 0},
    {"otimes", SYM_OP, "⊗", 0, 0}, {"cup", SYM_OP, "∪", 0, 0}, {"cap", SYM_OP, "∩", 0, 0},
    {"setminus", SYM_OP, "∖", 0, 0}, {"wedge", SYM_OP, "∧", 0, 0}, {"vee", SYM_OP, "∨", 0, 0},
    /* relations */
    {"le", SYM_OP, "≤", 0, 0}, {"leq", SYM_OP, "≤", 0, 0}, {"ge", SYM_OP, "≥", 0, 0},
    {"geq", SYM_OP, "≥", 0, 0}, {"ne", SYM_OP, "≠", 0, 0}, {"neq", SYM_OP, "≠", 0, 0},
    {"approx", SYM_OP, "≈", 0, 0}, {"sim", SYM_OP, "∼", 0, 0}, {"simeq", SYM_OP, "≃", 0, 0},
    {"equiv", SYM_OP, "≡", 0, 0}, {"propto", SYM_OP, "∝", 0, 0}, {"ll", SYM_OP, "≪", 0, 0},
    {"gg", SYM_OP, "≫", 0, 0}, {"in", SYM_OP, "∈", 0, 0}, {"notin", SYM_OP, "∉", 0, 0},
    {"subset", SYM_OP, "⊂", 0, 0}, {"subseteq", SYM_OP, "⊆", 0, 0}, {"coloneqq", SYM_OP, "≔", 0, 0},
    {"to", SYM_OP, "→", 0, 0}, {"rightarrow", SYM_OP, "→", 0, 0}, {"leftarrow", SYM_OP, "←", 0, 0},
    {"gets", SYM_OP, "←", 0, 0}, {"mapsto", SYM_OP, "↦", 0, 0}, {"Rightarrow", SYM_OP, "⇒", 0, 0},
    {"Leftarrow", SYM_OP, "⇐", 0, 0}, {"iff", SYM_OP, "⟺", 0, 0}, {"implies", SYM_OP, "⟹", 0, 0},
    /* punctuation, dots, fences */
    {"ldots", SYM_OP, "…", 0, 0}, {"dots", SYM_OP, "…", 0, 0}, {"cdots", SYM_OP, "⋯", 0, 0},
    {"vdots", SYM_OP, "⋮", 0, 0}, {"ddots", SYM_OP, "⋱", 0, 0}, {"colon", SYM_OP, ":", 0, 0},
    {"prime", SYM_OP, "′", 0, 0}, {"mid", SYM_OP, "∣", 0, 0}, {"|", SYM_OP, "‖", 0, 0},
    {"{", SYM_OP, "{", 0, 0}, {"}", SYM_OP, "}", 0, 0}, {"langle", SYM_OP, "⟨", 0, 0},
    {"rangle", SYM_OP, "⟩", 0, 0}, {"lfloor", SYM_OP, "⌊", 0, 0}, {"rfloor", SYM_OP, "⌋", 0, 0},
    {"lceil", SYM_OP, "⌈", 0, 0}, {"rceil", SYM_OP, "⌉", 0, 0}, {"lvert", SYM_OP, "|", 0, 0},
    {"rvert", SYM_OP, "|", 0, 0}, {"lVert", SYM_OP, "‖", 0, 0}, {"rVert", SYM_OP, "‖", 0, 0},
    /* escaped characters */
    {"%", SYM_OP, "%", 0, 0}, {"$", SYM_IDENT, "$", 1, 0}, {"&", SYM_OP, "&", 0, 0},
    {"#", SYM_OP, "#", 0, 0}, {"_", SYM_IDENT, "_", 1, 0},
    /* large operators */
    {"sum", SYM_LARGE, "∑", 0, 0}, {"prod", SYM_LARGE, "∏", 0, 0}, {"coprod", SYM_LARGE, "∐", 0, 0},
    {"bigcup", SYM_LARGE, "⋃", 0, 0}, {"bigcap", SYM_LARGE, "⋂", 0, 0},
    {"int", SYM_LARGE, "∫", 0, 1}, {"iint", SYM_LARGE, "∬", 0, 1}, {"oint", SYM_LARGE, "∮", 0, 1},
    /* function names */
    {"log", SYM_FUNC, "log", 0, 0}, {"ln", SYM_FUNC, "ln", 0, 0}, {"lg", SYM_FUNC, "lg", 0, 0},
    {"exp", SYM_FUNC, "exp", 0, 0}, {"sin", SYM_FUNC, "sin", 0, 0}, {"cos", SYM_FUNC, "cos", 0, 0},
    {"tan", SYM_FUNC, "tan", 0, 0}, {"tanh", SYM_FUNC, "tanh", 0, 0}, {"sinh", SYM_FUNC, "sinh", 0, 0},
    {"cosh", SYM_FUNC, "cosh", 0, 0}, {"arg", SYM_FUNC, "arg", 0, 0}, {"dim", SYM_FUNC, "dim", 0, 0},
    {"deg", SYM_FUNC, "deg", 0, 0}, {"ker", SYM_FUNC, "ker", 0, 0},
    {"max", SYM_LIMFUNC, "max", 0, 0}, {"min", SYM_LIMFUNC, "min", 0, 0}, {"lim", SYM_LIMFUNC, "lim", 0, 0},
    {"sup", SYM_LIMFUNC, "sup", 0, 0}, {"inf", SYM_LIMFUNC, "inf", 0, 0}, {"det", SYM_LIMFUNC, "det", 0, 0},
    {"gcd", SYM_LIMFUNC, "gcd", 0, 0}, {"Pr", SYM_LIMFUNC, "Pr", 0, 0},
    {"liminf", SYM_LIMFUNC, "lim inf", 0, 0}, {"limsup", SYM_LIMFUNC, "lim sup", 0, 0},
    {"argmax", SYM_LIMFUNC, "arg max", 0, 0}, {"argmin", SYM_LIMFUNC, "arg min", 0, 0},
};

const sym *sym_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (strlen(syms[i].name) == len && !memcmp(syms[i].name, name, len)) return &syms[i];
    return NULL;
}

static const struct { const char *name, *text; int wide; } accents[] = {
    {"hat", "^", 0}, {"bar", "¯", 0}, {"tilde", "~", 0}, {"vec", "→", 0}, {"dot", "˙", 0},
    {"ddot", "¨", 0}, {"check", "ˇ", 0}, {"breve", "˘", 0}, {"acute", "´", 0}, {"grave", "`", 0},
    {"widehat", "^", 1}, {"widetilde", "~", 1}, {"overline", "¯", 1},
};

const char *sym_accent(const char *name, size_t len, int *wide)
{
    for (size_t i = 0; i < sizeof accents / sizeof accents[0]; i++)
        if (strlen(accents[i].name) == len && !memcmp(accents[i].name, name, len)) {
            *wide = accents[i].wide;
            return accents[i].text;
        }
    return NULL;
}

const char *sym_delim(const char *s, size_t len, size_t *used)
{
    static const char *plain[][2] = {{"(", "("}, {")", ")"}, {"[", "["}, {"]", "]"}, {"|", "|"},
                                     {"/", "/"}, {".", ""}};
    static const char *named[][2] = {{"{", "{"}, {"}", "}"}, {"|", "‖"}, {"langle", "⟨"}, {"rangle", "⟩"},
                                     {"lfloor", "⌊"}, {"rfloor", "⌋"}, {"lceil", "⌈"}, {"rceil", "⌉"},
                                     {"lvert", "|"}, {"rvert", "|"}, {"lVert", "‖"}, {"rVert", "‖"},
                                     {"vert", "|"}, {"Vert", "‖"}};
    if (!len) return NULL;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (s[0] == plain[i][0][0]) { *used = 1; return plain[i][1]; }
    if (s[0] != '\\' || len < 2) return NULL;
    size_t n = 1;
    if ((s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z'))
        while (1 + n < len && ((s[1 + n] >= 'a' && s[1 + n] <= 'z') || (s[1 + n] >= 'A' && s[1 + n] <= 'Z'))) n++;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strlen(named[i][0]) == n && !memcmp(named[i][0], s + 1, n)) { *used = 1 + n; return named[i][1]; }
    return NULL;
}
