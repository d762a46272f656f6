/* Number formats: .3f, .2e, .4g, .1%, d, sci, repr; the shortest exact
 * spelling of a number. */
#include "doc/doc.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kiln_shortest(double v, char *buf, size_t n)
{
    if (isnan(v)) snprintf(buf, n, "nan");
    else if (isinf(v)) snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, n, "%.0f", v); /* 250, not 2.5e+02 */
    else
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, n, "%.*g", p, v);
            if (strtod(buf, NULL) == v) break;
        }
    return buf;
}

static const char *const SUP[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};

int kiln_format_value(double v, const char *fmt, char *buf, size_t n)
{
    if (!fmt) fmt = "";
    int digits = -1;
    char conv = 0;
    if (!*fmt) conv = 0;
    else if (!strcmp(fmt, "d")) conv = 'd';
    else if (!strcmp(fmt, "sci")) conv = 's';
    else if (!strcmp(fmt, "repr")) conv = 'r';
    else if (!strcmp(fmt, "%")) { conv = '%'; digits = 1; }
    else if (fmt[0] == '.') {
        char *end;
        long d = strtol(fmt + 1, &end, 10);
        if (end == fmt + 1 || d < 0 || d > 17 || end[0] == 0 || end[1] != 0) return -1;
        if (!strchr("feg%", end[0])) return -1;
        digits = (int)d;
        conv = end[0];
    } else
        return -1;
    if (isnan(v)) { snprintf(buf, n, "n/a"); return 0; }
    if (isinf(v)) { snprintf(buf, n, v > 0 ? "∞" : "−∞"); return 0; }
    switch (conv) {
    case 0:
        if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, n, "%.0f", v);
        else snprintf(buf, n, "%.4g", v);
        break;
    case 'd': snprintf(buf, n, "%.0f", v); break;
    case 'f': snprintf(buf, n, "%.*f", digits, v); break;
    case 'e': snprintf(buf, n, "%.*e", digits, v); break;
    case 'g': snprintf(buf, n, "%.*g", digits ? digits : 1, v); break;
    case '%': snprintf(buf, n, "%.*f%%", digits, v * 100.0); break;
    case 'r': kiln_shortest(v, buf, n); break;
    case 's': {
        if (v == 0) { snprintf(buf, n, "0"); break; }
        int e = (int)floor(log10(fabs(v)));
        double m = v / pow(10, e);
        if (fabs(m) >= 9.9995) { m /= 10; e++; }
        char mant[64] = "";
        char mt[32];
        snprintf(mt, sizeof mt, "%.3g", m);
        if (strcmp(mt, "1") && strcmp(mt, "-1")) snprintf(mant, sizeof mant, "%s × ", mt);
        else if (!strcmp(mt, "-1")) snprintf(mant, sizeof mant, "−");
        char ex[64] = "";
        if (e < 0) strcat(ex, "⁻");
        char digs[16];
        snprintf(digs, sizeof digs, "%d", abs(e));
        for (char *p = digs; *p; p++) strcat(ex, SUP[*p - '0']);
        if (e == 0) snprintf(buf, n, "%s", mt);
        else snprintf(buf, n, "%s10%s", mant, ex);
        break;
    }
    }
    return 0;
}

const char *kr_format_hint(const char *fmt, char *buf, size_t n)
{
    char fixed[64], probe[64];
    const char *f = fmt[0] == '%' && fmt[1] ? fmt + 1 : fmt;
    snprintf(fixed, sizeof fixed, "%s%s", f[0] == '.' ? "" : ".", f);
    if (strcmp(fixed, fmt) && kiln_format_value(1.0, fixed, probe, sizeof probe) == 0) {
        snprintf(buf, n, " (did you mean '%s'?)", fixed);
        return buf;
    }
    return kiln_did_you_mean(fmt, "d sci repr %", buf, n);
}
