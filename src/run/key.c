/* The cache key of a run. */
#include "run/run.h"
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

void kiln_cache_key(const char *kind, const char *canonical, const char *fingerprint, const char *data_digest,
                    char out[33])
{
    XXH3_state_t *st = XXH3_createState();
    XXH3_128bits_reset(st);
    static const char magic[] = "kiln-run-1\n";
    XXH3_128bits_update(st, magic, sizeof magic - 1);
    const char *parts[] = {"kind=", kind, "\n", canonical, "trainer=", fingerprint, "\ndata=", data_digest, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) XXH3_128bits_update(st, parts[i], strlen(parts[i]));
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}
