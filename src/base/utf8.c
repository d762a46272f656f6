/* UTF-8: the one decoder and encoder of kiln's libraries. */
#include "base/base.h"

uint32_t kb_utf8_next(const char **ps) { return kb_utf8_next_in(ps, NULL); }

uint32_t kb_utf8_next_in(const char **ps, const char *end)
{
    const unsigned char *s = (const unsigned char *)*ps;
    uint32_t c = s[0];
    int n;
    if (c < 0x80) {
        *ps += 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3;
        c &= 0x07;
    } else {
        *ps += 1;
        return 0xFFFD;
    }
    for (int i = 1; i <= n; i++) {
        if ((end && (const char *)s + i >= end) || (s[i] & 0xC0) != 0x80) { /* includes the terminating NUL */
            *ps += i;
            return 0xFFFD;
        }
        c = c << 6 | (s[i] & 0x3F);
    }
    *ps += n + 1;
    static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0xFFFD;
    return c;
}

int kb_utf8_put(char *o, uint32_t c)
{
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}
