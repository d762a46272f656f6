/* Shared helpers for the Check suites. */
#ifndef KILN_TESTUTIL_H
#define KILN_TESTUTIL_H

#include <check.h>
#include "kiln/report.h"
#include "kiln/train.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The MNIST folder, as kiln finds it: $KILN_DATA, else the per-user cache
 * (make check exports KILN_DATA and fetches the data there first). */
static inline const char *test_data_dir(void)
{
    static char buf[4096];
    return kiln_mnist_dir(NULL, buf, sizeof buf);
}

/* Read a whole file into a NUL-terminated buffer (NULL if unreadable). */
static inline char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = 0; if (len) *len = (size_t)n; }
    return buf;
}

/* Write bytes to a file; returns 0 on success. */
static inline int test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) != 0 || w != len);
}

/* A fresh temporary directory (mkdtemp); the caller may leave it behind. */
static inline const char *test_tmpdir(char buf[64])
{
    strcpy(buf, "/tmp/kiln-test-XXXXXX");
    return mkdtemp(buf);
}

/* Whether the committed cache (content/cache) holds this build's results:
 * its entries are keyed on the release build's trainer fingerprint, and a
 * sanitizer or debug build has its own, so it finds none of them. Says so
 * on stdout when not. */
static inline int test_committed_cache_is_ours(void)
{
    char *man = test_read_file("content/cache/manifest/build.json", NULL);
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", kiln_trainer_fingerprint());
    int ours = man && strstr(man, want);
    free(man);
    if (!ours)
        printf("committed cache: another trainer's results (this build is %s, a different build mode): "
               "the article is not built here\n", kiln_trainer_fingerprint());
    return ours;
}

/* Run a suite with the environment's CK_ settings; exit status for main(). */
static inline int test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
