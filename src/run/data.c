/* Data sets at run time: a folder's digest (for its runs' keys) and the
 * loading for training, checked against the digest the keys were made with
 * (see src/doc/data.c for the names, the folders and the shapes). */
#include "run/run.h"

#include <stdio.h>
#include <string.h>

int kiln_data_digest(kiln_data_info *di, char *err, size_t n)
{
    if (di->digest[0]) return 0; /* a named set: known */
    kiln_dataset train, test;
    int loaded = 0;
    if (kc_data_digest(di->dir, di->digest, &train, &test, &loaded, err, n)) { di->digest[0] = 0; return -1; }
    if (loaded) { kiln_dataset_free(&train); kiln_dataset_free(&test); }
    return 0;
}

int kiln_data_load(const kiln_data_info *di, kiln_dataset *train, kiln_dataset *test, char *err, size_t n)
{
    char e[1024], digest[65], p[4200];
    int named = strcmp(di->name, "folder") != 0;
    for (int i = 0; i < 4; i++)
        if (kiln_data_file(di->dir, KILN_DATA_FILES[i], p, sizeof p)) {
            snprintf(err, n, "%s has no %s (nor %s.gz)%s", di->dir, KILN_DATA_FILES[i], KILN_DATA_FILES[i],
                     !strcmp(di->name, "mnist") ? ": 'make data' fetches and verifies MNIST there (or set KILN_DATA or "
                                                 "--data to a folder that holds it)"
                     : named ? ": install Debian's dataset-fashion-mnist" : "");
            return -2;
        }
    if (kiln_mnist_load(di->dir, train, test, e, sizeof e)) {
        snprintf(err, n, "%s%s", e,
                 !strcmp(di->name, "mnist") ? " (run 'make data', or set KILN_DATA or --data to a folder of the MNIST IDX files)"
                 : named ? " (install it: apt-get install dataset-fashion-mnist)" : "");
        return -1;
    }
    kiln_dataset_digest(train, test, digest);
    if (di->digest[0] && strcmp(di->digest, digest)) {
        kiln_dataset_free(train);
        kiln_dataset_free(test);
        snprintf(err, n, "%s: %s (data digest %.16s, expected %.16s); %s", di->dir,
                 named ? "these files are not the verified data set" : "the files changed while the build ran", digest,
                 di->digest,
                 !strcmp(di->name, "mnist") ? "delete them and run 'make data' to fetch and verify MNIST again"
                 : named ? "reinstall dataset-fashion-mnist" : "build again");
        return -1;
    }
    return 0;
}
