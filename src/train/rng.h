/* Private: the pieces of the counter-based generator, for hot loops that draw
 * many values from one stream. kiln_rng(s, p, a, b) ==
 * kiln_rng_at(kiln_rng_stream(s, p, a), b). */
#ifndef KILN_TRAIN_RNG_H
#define KILN_TRAIN_RNG_H
#include <stdint.h>

static inline uint64_t kiln_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
uint64_t kiln_rng_stream(uint64_t seed, uint64_t purpose, uint64_t a);
static inline uint64_t kiln_rng_at(uint64_t stream, uint64_t b)
{
    return kiln_mix64(stream ^ (b * 0xd1342543de82ef95ull));
}
#endif
