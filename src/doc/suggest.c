/* "did you mean ...?": the accepted name nearest a misspelt one, for every
 * message about an unknown key, directive, value, format or command. */
#include "kiln/report.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 64

static int name_char(int c) { return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '%'; }

/* Edit distance with swaps of neighbours (optimal string alignment), case
 * ignored; a and b at most WORD_MAX bytes. */
static int distance(const char *a, size_t la, const char *b, size_t lb)
{
    int d[WORD_MAX + 1][WORD_MAX + 1];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) && tolower((unsigned char)a[i - 2]) == cb &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

static int near_enough(size_t len)
{
    return len <= 4 ? 1 : len <= 8 ? 2 : 3;
}

int kiln_suggest(const char *word, const char *names, char *buf, size_t n)
{
    size_t lw = strlen(word);
    if (!lw || lw > WORD_MAX || !names) return 0;
    const char *best = NULL, *prefix = NULL;
    size_t best_len = 0, prefix_len = 0;
    int best_d = near_enough(lw) + 1, n_prefix = 0;
    for (const char *p = names; *p;) {
        while (*p && !name_char((unsigned char)*p)) p++;
        const char *s = p;
        while (*p && name_char((unsigned char)*p)) p++;
        size_t ln = (size_t)(p - s);
        if (!ln || ln > WORD_MAX) continue;
        if (ln == lw && !strncmp(s, word, ln)) return 0; /* it is accepted: nothing to suggest */
        int dd = distance(word, lw, s, ln);
        if (dd < best_d && dd < (int)lw) { best_d = dd; best = s; best_len = ln; }
        if (lw >= 3 && ln > lw && !strncasecmp(s, word, lw)) {
            /* the same name listed twice is one candidate */
            if (!prefix || prefix_len != ln || strncmp(prefix, s, ln)) n_prefix++;
            prefix = s;
            prefix_len = ln;
        }
    }
    if (!best && n_prefix == 1) { best = prefix; best_len = prefix_len; }
    if (!best) return 0;
    snprintf(buf, n, "%.*s", (int)best_len, best);
    return 1;
}

const char *kiln_did_you_mean(const char *word, const char *names, char *buf, size_t n)
{
    char s[WORD_MAX + 1];
    if (n) buf[0] = 0;
    if (kiln_suggest(word, names, s, sizeof s)) snprintf(buf, n, " (did you mean '%s'?)", s);
    return buf;
}

/* The trainer's message for a name it does not accept ends with the whole
 * list ("... is not accepted; accepted values: a b c"); kiln_key_info's
 * `accepted` text is cut to a fixed length, so the list is taken from there. */
static const char VALUES_TAG[] = "accepted values: ";

int kiln_key_choices(const char *key, char *buf, size_t n)
{
    int nk;
    const kiln_key_info *ki = kiln_config_keys(&nk);
    for (int i = 0; i < nk; i++) {
        if (strcmp(ki[i].name, key) || strcmp(ki[i].type, "name")) continue;
        kiln_config c;
        kiln_config_init(&c);
        char err[2048];
        if (!kiln_config_set(&c, key, "", err, sizeof err)) return -1;
        const char *v = strstr(err, VALUES_TAG);
        if (!v) return -1;
        snprintf(buf, n, "%s", v + sizeof VALUES_TAG - 1);
        return 0;
    }
    return -1;
}

static const char *key_list(char *buf, size_t n)
{
    int nk;
    const kiln_key_info *ki = kiln_config_keys(&nk);
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < nk && len + 1 < n; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i ? " " : "", ki[i].name);
        if (w < 0) break;
        len += (size_t)w;
    }
    return buf;
}

int kiln_config_set_hinted(kiln_config *c, const char *key, const char *value, char *err, size_t n)
{
    if (!kiln_config_set(c, key, value, err, n)) return 0;
    char names[4096], hint[WORD_MAX + 32];
    int nk, known = 0;
    const kiln_key_info *ki = kiln_config_keys(&nk);
    for (int i = 0; i < nk; i++) known |= !strcmp(ki[i].name, key);
    if (!known) kiln_did_you_mean(key, key_list(names, sizeof names), hint, sizeof hint);
    else if (!kiln_key_choices(key, names, sizeof names)) {
        const char *v = value;
        while (isspace((unsigned char)*v)) v++;
        kiln_did_you_mean(v, names, hint, sizeof hint);
    } else
        hint[0] = 0;
    if (!hint[0]) return 1;
    /* after the quoted word the message is about: "unknown key 'x'" or
     * "key 'k': 'v' is not accepted"; at the end when it is not there */
    char quoted[WORD_MAX * 2 + 8];
    snprintf(quoted, sizeof quoted, "'%s'", known ? value : key);
    size_t skip = known ? strlen(key) + 6 : 0, lq = strlen(quoted), l = strlen(err);
    char *at = l > skip ? strstr(err + skip, quoted) : NULL;
    if (!at) {
        snprintf(err + l, n > l ? n - l : 0, "%s", hint);
        return 1;
    }
    char tail[4096];
    snprintf(tail, sizeof tail, "%s", at + lq);
    snprintf(at + lq, n - (size_t)(at + lq - err), "%s%s", hint, tail);
    return 1;
}

int kiln_config_set_kv_hinted(kiln_config *c, const char *kv, char *err, size_t n)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return kiln_config_set_kv(c, kv, err, n);
    char key[WORD_MAX + 1];
    size_t kn = (size_t)(eq - kv);
    while (kn && isspace((unsigned char)kv[kn - 1])) kn--;
    if (kn > WORD_MAX) return kiln_config_set_kv(c, kv, err, n);
    memcpy(key, kv, kn);
    key[kn] = 0;
    return kiln_config_set_hinted(c, key, eq + 1, err, n);
}
