/* tests/check_isa.sh: train the article's network briefly and print a digest
 * of the history and the weights, for comparing builds of the trainer that
 * run different micro-kernels (AVX2, AVX-512, portable).
 *   isa_digest DATA_DIR */
#include "kiln/train.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: isa_digest DATA_DIR\n"); return 2; }
    char err[512];
    kiln_dataset train, test;
    if (kiln_mnist_load(argv[1], &train, &test, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    kiln_config c;
    kiln_config_init(&c);
    const char *keys[] = {"train_limit=2000", "test_limit=200", "epochs=1", "batch_size=100", "threads=2"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (kiln_config_set_kv(&c, keys[i], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    kiln_history h;
    kiln_model m;
    if (kiln_train(&c, &train, &test, &h, &m, NULL, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    uint64_t d = fnv(0xcbf29ce484222325ull, h.steps, sizeof(kiln_step_log) * h.n_steps);
    d = fnv(d, m.params, sizeof(float) * m.n_params);
    printf("%016llx test_loss %.9g\n", (unsigned long long)d, h.test_loss);
    kiln_history_free(&h);
    kiln_model_free(&m);
    kiln_dataset_free(&train);
    kiln_dataset_free(&test);
    return 0;
}
