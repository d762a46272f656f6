/* Model: a spec string parsed into a list of layers with their shapes, one
 * parameter buffer and one gradient buffer, Keras' initialisation, and the
 * weights file format. */
#include "kiln/train.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *kind_name(enum kiln_layer_kind k)
{
    switch (k) {
    case KILN_CONV: return "conv";
    case KILN_POOL: return "pool";
    case KILN_DROP: return "drop";
    case KILN_RELU: return "relu";
    case KILN_FLATTEN: return "flatten";
    case KILN_DENSE: return "dense";
    }
    return "?";
}

#define SPEC_HELP "accepted layers: conv:OUTxK, pool:2, drop:P, relu, flatten, dense:N"

int kiln_model_shape(kiln_model *m, const char *spec, int in_h, int in_w, int in_c, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!spec || !*spec || strcmp(spec, "seed") == 0) spec = KILN_SEED_SPEC;
    if (strlen(spec) >= KILN_SPEC_MAX)
        return kiln_fail(err, errlen, "model: spec longer than %d characters", KILN_SPEC_MAX - 1);
    char buf[KILN_SPEC_MAX];
    strcpy(buf, spec);
    int c = in_c, h = in_h, w = in_w;
    size_t params = 0, acts = 0;
    int idx = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), idx++) {
        while (*tok == ' ') tok++;
        if (m->n_layers == KILN_MAX_LAYERS)
            return kiln_fail(err, errlen, "model: more than %d layers", KILN_MAX_LAYERS);
        kiln_layer *L = &m->layers[m->n_layers];
        memset(L, 0, sizeof *L);
        L->index = idx;
        L->in_c = c; L->in_h = h; L->in_w = w;
        char *end;
        if (strncmp(tok, "conv:", 5) == 0) {
            long oc = strtol(tok + 5, &end, 10);
            long k = (*end == 'x') ? strtol(end + 1, &end, 10) : -1;
            if (oc < 1 || oc > 4096 || k < 1 || k > 15 || *end)
                return kiln_fail(err, errlen, "model: layer %d '%s': expected conv:OUTxK with OUT in 1..4096, K in 1..15",
                                 idx + 1, tok);
            if (h == 1 && w == 1 && c > 0 && m->n_layers && m->layers[m->n_layers - 1].kind == KILN_DENSE)
                return kiln_fail(err, errlen, "model: layer %d '%s': a convolution cannot follow a dense layer", idx + 1, tok);
            if (k > h || k > w)
                return kiln_fail(err, errlen, "model: layer %d '%s': kernel %ldx%ld does not fit the %dx%dx%d input",
                                 idx + 1, tok, k, k, h, w, c);
            L->kind = KILN_CONV;
            L->k = (int)k;
            h = h - (int)k + 1; w = w - (int)k + 1; c = (int)oc;
            L->n_w = (size_t)k * k * L->in_c * oc;
            L->n_b = (size_t)oc;
        } else if (strncmp(tok, "pool:", 5) == 0 || strcmp(tok, "pool") == 0) {
            long k = tok[4] == ':' ? strtol(tok + 5, &end, 10) : 2;
            if (tok[4] == ':' && (*end || k != 2))
                return kiln_fail(err, errlen, "model: layer %d '%s': only 2x2 max pooling (pool:2) is supported", idx + 1, tok);
            if (h < 2 || w < 2)
                return kiln_fail(err, errlen, "model: layer %d '%s': a %dx%d input is too small to pool 2x2", idx + 1, tok, h, w);
            L->kind = KILN_POOL;
            L->k = 2;
            h /= 2; w /= 2;
        } else if (strncmp(tok, "drop:", 5) == 0) {
            double p = strtod(tok + 5, &end);
            if (*end || !(p >= 0.0 && p < 1.0))
                return kiln_fail(err, errlen, "model: layer %d '%s': expected drop:P with 0 <= P < 1", idx + 1, tok);
            L->kind = KILN_DROP;
            L->p = (float)p;
        } else if (strcmp(tok, "relu") == 0) {
            L->kind = KILN_RELU;
        } else if (strcmp(tok, "flatten") == 0) {
            L->kind = KILN_FLATTEN;
            c = c * h * w; h = 1; w = 1;
        } else if (strncmp(tok, "dense:", 6) == 0) {
            long n = strtol(tok + 6, &end, 10);
            if (n < 1 || n > 65536 || *end)
                return kiln_fail(err, errlen, "model: layer %d '%s': expected dense:N with N in 1..65536", idx + 1, tok);
            L->kind = KILN_DENSE;
            L->in_c = c * h * w; L->in_h = 1; L->in_w = 1; /* implicit flatten */
            c = (int)n; h = 1; w = 1;
            L->n_w = (size_t)L->in_c * n;
            L->n_b = (size_t)n;
        } else {
            return kiln_fail(err, errlen, "model: layer %d '%s' is unknown; " SPEC_HELP, idx + 1, tok);
        }
        L->out_c = c; L->out_h = h; L->out_w = w;
        L->w_off = params;
        params += L->n_w;
        L->b_off = params;
        params += L->n_b;
        L->act_off = acts;
        acts += (size_t)c * h * w;
        m->n_layers++;
    }
    if (m->n_layers == 0) return kiln_fail(err, errlen, "model: empty spec; " SPEC_HELP);
    const kiln_layer *last = &m->layers[m->n_layers - 1];
    if (last->kind != KILN_DENSE || last->out_c != 10)
        return kiln_fail(err, errlen, "model: the last layer must be dense:10 (10 classes), not '%s' with %d outputs",
                         kind_name(last->kind), last->out_c * last->out_h * last->out_w);
    m->in_c = in_c; m->in_h = in_h; m->in_w = in_w;
    m->n_classes = 10;
    m->n_params = params;
    m->n_acts = acts;
    return 0;
}

/* The memory a model asks for is refused before anything is allocated: a
 * spec such as flatten,dense:65536,dense:65536 (4.3 billion parameters)
 * would otherwise take the machine's memory in the first check of a config. */
static int params_fit(const kiln_model *m, char *err, size_t errlen)
{
    if (m->n_params <= KILN_MAX_MODEL_PARAMS) return 0;
    return kiln_fail(err, errlen, "model: %zu parameters (%.1f GB with their gradients and the optimizer's state); at most %d million",
                     m->n_params, m->n_params * 16.0 / 1e9, KILN_MAX_MODEL_PARAMS / 1000000);
}

int kiln_model_check(const char *spec, int in_h, int in_w, int in_c, int batch, char *err, size_t errlen)
{
    kiln_model m;
    if (kiln_model_shape(&m, spec, in_h, in_w, in_c, err, errlen) || params_fit(&m, err, errlen)) return 1;
    const size_t b = (size_t)(batch > 0 ? batch : 1), per_batch = m.n_acts * b;
    if (per_batch > KILN_MAX_BATCH_ACTIVATIONS)
        return kiln_fail(err, errlen, "model: %zu activations per image, %zu per batch of %zu (%.1f GB); at most %d million per batch "
                         "(a smaller batch_size or fewer filters)", m.n_acts, per_batch, b, per_batch * 8.0 / 1e9,
                         KILN_MAX_BATCH_ACTIVATIONS / 1000000);
    return 0;
}

int kiln_model_build(kiln_model *m, const char *spec, int in_h, int in_w,
                     int in_c, char *err, size_t errlen)
{
    if (kiln_model_shape(m, spec, in_h, in_w, in_c, err, errlen)) return 1;
    if (params_fit(m, err, errlen)) {
        memset(m, 0, sizeof *m);
        return 1;
    }
    m->params = kiln_aligned_alloc(sizeof(float) * m->n_params);
    m->grads = kiln_aligned_alloc(sizeof(float) * m->n_params);
    return 0;
}

void kiln_model_free(kiln_model *m)
{
    free(m->params);
    free(m->grads);
    memset(m, 0, sizeof *m);
}

/* glorot_uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). */
void kiln_model_init(kiln_model *m, uint64_t seed)
{
    for (int l = 0; l < m->n_layers; l++) {
        const kiln_layer *L = &m->layers[l];
        if (!L->n_w) continue;
        double fan_in, fan_out;
        if (L->kind == KILN_CONV) {
            fan_in = (double)L->k * L->k * L->in_c;
            fan_out = (double)L->k * L->k * L->out_c;
        } else {
            fan_in = L->in_c;
            fan_out = L->out_c;
        }
        float limit = (float)sqrt(6.0 / (fan_in + fan_out));
        float *w = m->params + L->w_off;
        for (size_t i = 0; i < L->n_w; i++)
            w[i] = (2.0f * kiln_rng_uniform(seed, KILN_RNG_INIT, (uint64_t)l, i) - 1.0f) * limit;
        memset(m->params + L->b_off, 0, sizeof(float) * L->n_b);
    }
}

/* ------------------------------------------------------------ weights file */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 0x100000001b3ull; }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull
#define WEIGHTS_MAGIC "KILNWTS1"
#define WEIGHTS_VERSION 1u

/* Layout (little-endian): "KILNWTS1", u32 version, u32 n_params, u32 spec
 * length, spec bytes, n_params floats, u64 FNV-1a-64 of all preceding bytes. */
int kiln_weights_save(const kiln_model *m, const char *path, char *err, size_t errlen)
{
    char spec[KILN_SPEC_MAX * 2] = "";
    for (int l = 0; l < m->n_layers; l++) {
        const kiln_layer *L = &m->layers[l];
        char one[64];
        switch (L->kind) {
        case KILN_CONV: snprintf(one, sizeof one, "conv:%dx%d", L->out_c, L->k); break;
        case KILN_POOL: snprintf(one, sizeof one, "pool:2"); break;
        case KILN_DROP: snprintf(one, sizeof one, "drop:%g", (double)L->p); break;
        case KILN_RELU: snprintf(one, sizeof one, "relu"); break;
        case KILN_FLATTEN: snprintf(one, sizeof one, "flatten"); break;
        case KILN_DENSE: snprintf(one, sizeof one, "dense:%d", L->out_c); break;
        }
        if (l) strcat(spec, ",");
        strcat(spec, one);
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return kiln_fail(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
    uint32_t hdr[3] = {WEIGHTS_VERSION, (uint32_t)m->n_params, (uint32_t)strlen(spec)};
    uint64_t h = FNV_INIT;
    h = fnv1a(h, WEIGHTS_MAGIC, 8);
    h = fnv1a(h, hdr, sizeof hdr);
    h = fnv1a(h, spec, hdr[2]);
    h = fnv1a(h, m->params, sizeof(float) * m->n_params);
    int ok = fwrite(WEIGHTS_MAGIC, 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1 &&
             fwrite(spec, 1, hdr[2], f) == hdr[2] &&
             fwrite(m->params, sizeof(float), m->n_params, f) == m->n_params &&
             fwrite(&h, sizeof h, 1, f) == 1;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return kiln_fail(err, errlen, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

/* Load into a model built from the same spec (shapes must agree). */
int kiln_weights_load(kiln_model *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return kiln_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    char magic[8];
    uint32_t hdr[3];
    int rc = 1;
    char *spec = NULL;
    float *w = NULL;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, WEIGHTS_MAGIC, 8) != 0) {
        kiln_fail(err, errlen, "%s: not a kiln weights file (magic %s expected)", path, WEIGHTS_MAGIC);
        goto out;
    }
    if (fread(hdr, sizeof hdr, 1, f) != 1) { kiln_fail(err, errlen, "%s: truncated header", path); goto out; }
    if (hdr[0] != WEIGHTS_VERSION) {
        kiln_fail(err, errlen, "%s: weights format version %u, this kiln reads version %u", path, hdr[0], WEIGHTS_VERSION);
        goto out;
    }
    if (hdr[1] != m->n_params) {
        kiln_fail(err, errlen, "%s: holds %u parameters, the model has %zu", path, hdr[1], m->n_params);
        goto out;
    }
    if (hdr[2] > 65536) { kiln_fail(err, errlen, "%s: corrupt header", path); goto out; }
    spec = kiln_xmalloc(hdr[2] + 1);
    w = kiln_xmalloc(sizeof(float) * (m->n_params ? m->n_params : 1));
    uint64_t stored;
    if (fread(spec, 1, hdr[2], f) != hdr[2] || fread(w, sizeof(float), m->n_params, f) != m->n_params ||
        fread(&stored, sizeof stored, 1, f) != 1) {
        kiln_fail(err, errlen, "%s: truncated", path);
        goto out;
    }
    uint64_t h = FNV_INIT;
    h = fnv1a(h, WEIGHTS_MAGIC, 8);
    h = fnv1a(h, hdr, sizeof hdr);
    h = fnv1a(h, spec, hdr[2]);
    h = fnv1a(h, w, sizeof(float) * m->n_params);
    if (h != stored) { kiln_fail(err, errlen, "%s: checksum mismatch (corrupt file)", path); goto out; }
    memcpy(m->params, w, sizeof(float) * m->n_params);
    rc = 0;
out:
    free(spec);
    free(w);
    fclose(f);
    return rc;
}
