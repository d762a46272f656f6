/* libFuzzer target: the trainer's IDX reader (kiln_idx_load), plain or
 * gzipped. The input is split into an images file and a labels file: its
 * first byte (mod 256) times the input length / 256 is where the labels
 * start. Built by `make fuzz`. */
#include "kiln/train.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int put(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) || w != n ? -1 : 0;
}

static char ip[64], lp[64];

static void remove_files(void)
{
    unlink(ip);
    unlink(lp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!ip[0]) {
        snprintf(ip, sizeof ip, "/tmp/kiln-fuzz-idx-%ld-images", (long)getpid());
        snprintf(lp, sizeof lp, "/tmp/kiln-fuzz-idx-%ld-labels", (long)getpid());
        atexit(remove_files);
    }
    size_t rest = size - 1, cut = (size_t)data[0] * rest / 256;
    if (put(ip, data + 1, cut) || put(lp, data + 1 + cut, rest - cut)) return 0;
    kiln_dataset ds;
    char err[512];
    if (kiln_idx_load(ip, lp, &ds, err, sizeof err) == 0) {
        /* every example is readable and every label in range */
        unsigned sum = 0;
        for (long i = 0; i < (long)ds.n * ds.rows * ds.cols; i++) sum += ds.images[i];
        for (int i = 0; i < ds.n; i++)
            if (ds.labels[i] > 9) abort();
        (void)sum;
        kiln_dataset_free(&ds);
    } else if (!err[0]) {
        abort(); /* a failure must say why */
    }
    return 0;
}
