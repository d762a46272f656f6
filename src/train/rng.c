/* Counter-based random numbers: every draw is a pure function of
 * (seed, purpose, a, b), so any element of any stream can be computed
 * independently, in any order, on any thread. The mixing function is the
 * SplitMix64 finaliser (Steele, Lea & Flood 2014) applied once per key word. */
#include "kiln/train.h"
#include "rng.h"

uint64_t kiln_rng_stream(uint64_t seed, uint64_t purpose, uint64_t a)
{
    uint64_t h = kiln_mix64(seed ^ 0x6b696c6e5f726e67ull); /* "kiln_rng" */
    h = kiln_mix64(h ^ purpose);
    return kiln_mix64(h ^ a);
}

uint64_t kiln_rng(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    return kiln_rng_at(kiln_rng_stream(seed, purpose, a), b);
}

float kiln_rng_uniform(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    return (float)(kiln_rng(seed, purpose, a, b) >> 40) * 0x1p-24f;
}
