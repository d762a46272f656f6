/* Tick selection and labels.
 *
 * Linear: the step is the smallest of {1, 2, 2.5, 5} x 10^k such that the
 * multiples of the step inside [lo, hi] number at most max_ticks (Heckbert's
 * "nice numbers", with the range left as the caller padded it rather than
 * widened to the ticks). Ticks are integer multiples of the step, computed as
 * k * step, never by accumulation, so they print exactly.
 *
 * Log: decades when at least two fit (every 2nd, 3rd, 5th, 10th... if there
 * are too many), else 1-2-5 values, else linear ticks on the range. */
#include "plot_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 10^e, correctly rounded (strtod is; pow need not be). */
static double p10(int e)
{
    char b[16];
    snprintf(b, sizeof b, "1e%d", e);
    return strtod(b, NULL);
}

static int put(double *t, int cap, int n, double v)
{
    if (n < cap) t[n] = v;
    return n + 1;
}

static int linear_ticks(double lo, double hi, int maxn, double *t, int cap)
{
    double mag = fmax(fabs(lo), fabs(hi));
    double span = hi - lo;
    if (!isfinite(span)) span = DBL_MAX;
    if (span == 0 || span <= mag * 1e-12) {
        if (cap > 0) t[0] = lo / 2 + hi / 2;
        return cap > 0 ? 1 : 0;
    }
    static const double M[4] = {1, 2, 2.5, 5};
    double raw = span / maxn, le = raw > 0 ? floor(log10(raw)) : -330;
    int e = (int)(le < -330 ? -330 : le > 310 ? 310 : le) - 1;
    double prev = 0; /* the last step that gave too many ticks */
    for (int guard = 0; guard < 8; guard++, e++) {
        double base = p10(e);
        for (int i = 0; i < 4; i++) {
            double step = M[i] * base, stride = 1, k0 = 0, k1 = -1, count = 0;
            if (!isfinite(step) || step <= 0) {
                if (!(prev > 0)) goto single;
            } else {
                k0 = ceil(lo / step - 1e-9);
                k1 = floor(hi / step + 1e-9);
                count = k1 - k0 + 1;
            }
            if (count > maxn) {
                prev = step;
                continue;
            }
            if (count < 2 && maxn >= 2 && prev > 0) {
                /* e.g. [-1, 1] with 2 ticks: every other multiple of the
                 * finer step (-1, 1) rather than a lone 0 */
                step = prev;
                k0 = ceil(lo / step - 1e-9);
                k1 = floor(hi / step + 1e-9);
                stride = ceil((k1 - k0 + 1) / maxn);
                if (k0 + stride > k1) stride = k1 - k0;
                if (stride < 1) stride = 1;
            }
            if (count < 1 && stride == 1) goto single;
            int n = 0;
            for (double k = k0; k <= k1 && n < maxn; k += stride) {
                double v = k * step;
                if (fabs(v) < step * 1e-9) v = 0;
                n = put(t, cap, n, v);
            }
            return n < cap ? n : cap;
        }
    }
single:
    if (cap > 0) t[0] = lo / 2 + hi / 2;
    return cap > 0 ? 1 : 0;
}

static int log_ticks(double lo, double hi, int maxn, double *t, int cap)
{
    double e0 = log10(lo), e1 = log10(hi);
    int d0 = (int)ceil(e0 - 1e-9), d1 = (int)floor(e1 + 1e-9);
    int nd = d1 - d0 + 1;
    if (nd >= 2 || (nd == 1 && maxn == 1)) {
        static const int S[] = {1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000};
        for (size_t i = 0; i < sizeof S / sizeof S[0]; i++) {
            int s = S[i];
            /* multiples of s in [d0, d1] */
            int k0 = (int)ceil((double)d0 / s), k1 = (int)floor((double)d1 / s);
            int count = k1 - k0 + 1;
            if (count > maxn) continue;
            if (count < 2 && maxn >= 2) break; /* too sparse: fall through */
            int n = 0;
            for (int k = k0; k <= k1; k++) n = put(t, cap, n, p10(k * s));
            return n < cap ? n : cap;
        }
    }
    /* 1-2-5 values */
    double v125[64];
    int n = 0;
    for (int d = (int)floor(e0) - 1; d <= (int)ceil(e1) && n < 64; d++) {
        static const int M[3] = {1, 2, 5};
        for (int i = 0; i < 3 && n < 64; i++) {
            double v = M[i] * p10(d);
            if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) v125[n++] = v;
        }
    }
    if (n >= 2 && n <= maxn) {
        int m = n < cap ? n : cap;
        if (m > 0) memcpy(t, v125, (size_t)m * sizeof *t);
        return m;
    }
    n = linear_ticks(lo, hi, maxn, t, cap);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (t[i] > 0) t[m++] = t[i];
    if (m == 0) {
        double c = p10((int)lrint((e0 + e1) / 2));
        t[0] = c >= lo && c <= hi ? c : lo;
        m = 1;
    }
    return m;
}

int kiln_ticks(double lo, double hi, int max_ticks, int log, double *ticks, int cap)
{
    if (!ticks || cap <= 0 || !isfinite(lo) || !isfinite(hi)) return 0;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (max_ticks < 1) max_ticks = 1;
    if (max_ticks > 1000) max_ticks = 1000;
    if (log) {
        if (!(lo > 0)) return 0;
        if (lo == hi || hi / lo < 1 + 1e-12) {
            ticks[0] = lo;
            return 1;
        }
        return log_ticks(lo, hi, max_ticks, ticks, cap);
    }
    return linear_ticks(lo, hi, max_ticks, ticks, cap);
}

int log_minor_ticks(double lo, double hi, double *t, int cap)
{
    if (!(lo > 0) || !(hi > lo) || !isfinite(hi)) return 0;
    int d0 = (int)floor(log10(lo)), d1 = (int)ceil(log10(hi));
    if (d1 - d0 > 12) return 0;
    int n = 0;
    for (int d = d0; d <= d1; d++) {
        double base = p10(d);
        for (int m = 2; m <= 9; m++) {
            double v = m * base;
            if (v > lo && v < hi && n < cap) t[n++] = v;
        }
    }
    return n;
}

/* Append s, bounded. */
static void cat(char *buf, size_t n, size_t *at, const char *s)
{
    size_t l = strlen(s);
    if (*at + l + 1 > n) return;
    memcpy(buf + *at, s, l + 1);
    *at += l;
}

static void superscript_int(char *buf, size_t n, size_t *at, int e)
{
    static const char *sup[10] = {"\u2070", "\u00b9", "\u00b2", "\u00b3", "\u2074",
                                   "\u2075", "\u2076", "\u2077", "\u2078", "\u2079"};
    char d[16];
    snprintf(d, sizeof d, "%d", e < 0 ? -e : e);
    if (e < 0) cat(buf, n, at, "\u207b");
    for (char *p = d; *p; p++) cat(buf, n, at, sup[*p - '0']);
}

/* Copy src replacing a leading '-' with U+2212 (a true minus sign). */
static void with_minus(char *buf, size_t n, const char *src)
{
    size_t at = 0;
    buf[0] = 0;
    if (src[0] == '-') {
        cat(buf, n, &at, "\u2212");
        src++;
    }
    cat(buf, n, &at, src);
}

void kiln_tick_label(double v, double step, int log_decade, char *buf, size_t n)
{
    if (!buf || n == 0) return;
    buf[0] = 0;
    if (!isfinite(v)) {
        snprintf(buf, n, "%s", isnan(v) ? "NaN" : v > 0 ? "\u221e" : "\u2212\u221e");
        return;
    }
    if (log_decade && v > 0) {
        size_t at = 0;
        cat(buf, n, &at, "10");
        superscript_int(buf, n, &at, (int)lrint(log10(v)));
        return;
    }
    if (!(step > 0) || !isfinite(step)) step = v != 0 ? fabs(v) : 1;
    if (fabs(v) < step * 1e-6) v = 0;
    int es = (int)floor(log10(step) + 1e-9);
    double sm = step / p10(es);
    int extra = fabs(sm - 2.5) < 1e-6 ? 1 : 0;
    char tmp[64];
    int sci = step >= 1e5 || (step < 1e-4 && fabs(v) < 1);
    if (v == 0 && sci) {
        snprintf(buf, n, "0");
        return;
    }
    if (sci) {
        int ev = (int)floor(log10(fabs(v)));
        int digits = ev - es + extra;
        if (digits < 0) digits = 0;
        if (digits > 16) digits = 16;
        snprintf(tmp, sizeof tmp, "%.*e", digits, v);
        /* more digits if the step's precision is not enough for v (ticks
         * thinned to every other multiple of a finer step) */
        while (digits < 16 && fabs(strtod(tmp, NULL) - v) > step * 1e-6)
            snprintf(tmp, sizeof tmp, "%.*e", ++digits, v);
        /* tidy: strip mantissa zeros, '+' and exponent leading zeros */
        char *e = strchr(tmp, 'e');
        if (e) {
            char mant[40], expo[16];
            size_t ml = (size_t)(e - tmp);
            if (ml >= sizeof mant) ml = sizeof mant - 1;
            memcpy(mant, tmp, ml);
            mant[ml] = 0;
            if (strchr(mant, '.')) {
                char *z = mant + strlen(mant) - 1;
                while (*z == '0') *z-- = 0;
                if (*z == '.') *z = 0;
            }
            int ex = atoi(e + 1);
            snprintf(expo, sizeof expo, "e%d", ex);
            snprintf(tmp, sizeof tmp, "%s%s", mant, expo);
        }
    } else {
        int dec = -es + extra;
        if (dec < 0) dec = 0;
        if (dec > 17) dec = 17;
        snprintf(tmp, sizeof tmp, "%.*f", dec, v);
        while (dec < 17 && fabs(strtod(tmp, NULL) - v) > step * 1e-6) snprintf(tmp, sizeof tmp, "%.*f", ++dec, v);
    }
    with_minus(buf, n, tmp);
}
