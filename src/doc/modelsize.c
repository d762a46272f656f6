/* How much memory a model spec asks for, before anything is built.
 *
 * kiln_model_build (src/train/model.c) allocates and zeroes the parameter
 * and gradient buffers as it builds, and every check of a config builds the
 * model, so `model = flatten,dense:65536,dense:65536` (4.3 billion
 * parameters) took all of a 24 GB machine's memory in the first check and
 * was killed. This walk follows the trainer's shapes (conv:OUTxK, pool,
 * drop, relu, flatten, dense:N) to count parameters and activations, and
 * refuses a model over the limits; anything it does not recognise is left to
 * the trainer's own check, which names the error. tests/check_doc.c checks
 * that its counts are the trainer's. (The limit belongs in the trainer; it
 * moves there with the next trainer change, whose rerun retires the cache.) */
#include "doc/doc.h"
#include "kiln/doc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kiln_model_size(const char *spec, int in_h, int in_w, int in_c, size_t *params, size_t *acts)
{
    *params = *acts = 0;
    if (!spec || !*spec || !strcmp(spec, "seed") || strlen(spec) >= 256) return -1;
    char buf[256];
    strcpy(buf, spec);
    size_t c = (size_t)in_c, h = (size_t)in_h, w = (size_t)in_w;
    char *save = NULL, *end;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!strncmp(tok, "conv:", 5)) {
            long oc = strtol(tok + 5, &end, 10);
            long k = *end == 'x' ? strtol(end + 1, &end, 10) : -1;
            if (oc < 1 || k < 1 || *end || (size_t)k > h || (size_t)k > w) return -1;
            *params += (size_t)k * k * c * oc + oc;
            h -= k - 1, w -= k - 1, c = oc;
        } else if (!strncmp(tok, "pool", 4)) {
            h /= 2, w /= 2;
        } else if (!strcmp(tok, "flatten")) {
            c *= h * w, h = w = 1;
        } else if (!strncmp(tok, "dense:", 6)) {
            long n = strtol(tok + 6, &end, 10);
            if (n < 1 || *end) return -1;
            *params += c * h * w * n + n;
            c = n, h = w = 1;
        } else if (strcmp(tok, "relu") && strncmp(tok, "drop:", 5)) {
            return -1;
        }
        *acts += c * h * w;
    }
    return 0;
}

int kiln_model_size_check(const char *spec, int in_h, int in_w, int in_c, int batch, char *err, size_t n)
{
    size_t params, acts;
    if (kiln_model_size(spec, in_h, in_w, in_c, &params, &acts)) return 0; /* the trainer's check says why */
    size_t per_batch = acts * (size_t)(batch > 0 ? batch : 1);
    if (params > KILN_MAX_MODEL_PARAMS) {
        snprintf(err, n, "model: %zu parameters (%.1f GB with their gradients and the optimizer's state); at most %d million",
                 params, params * 16.0 / 1e9, KILN_MAX_MODEL_PARAMS / 1000000);
        return -1;
    }
    if (per_batch > KILN_MAX_BATCH_ACTIVATIONS) {
        snprintf(err, n, "model: %zu activations per image, %zu per batch of %d (%.1f GB); at most %d million per batch "
                 "(a smaller batch_size or fewer filters)", acts, per_batch, batch, per_batch * 8.0 / 1e9,
                 KILN_MAX_BATCH_ACTIVATIONS / 1000000);
        return -1;
    }
    return 0;
}
