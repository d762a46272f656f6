/* IDX files (the MNIST format): a big-endian header — magic 0x0000 08 NN
 * (unsigned bytes, NN dimensions) then NN u32 sizes — followed by the data.
 * Images are N x ROWS x COLS (grey) or N x ROWS x COLS x CHANNELS (colour,
 * channels last); any size the header gives is taken, and the model is
 * checked against it.
 * Files may be gzipped; zlib reads plain files through the same calls. Every
 * size is checked against the header so a truncated or wrong file is named,
 * never half-read. */
#include "kiln/train.h"
#include "internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Read a whole (possibly gzipped) file into memory. */
static int slurp(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    gzFile f = gzopen(path, "rb");
    if (!f) return kiln_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = kiln_xmalloc(cap);
    for (;;) {
        if (n == cap) { cap *= 2; buf = kiln_xrealloc(buf, cap); }
        int got = gzread(f, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        if (got < 0) {
            /* the message lives in f: format it before gzclose frees it */
            int e;
            kiln_fail(err, errlen, "%s: read error: %s", path, gzerror(f, &e));
            gzclose(f);
            free(buf);
            return 1;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    gzclose(f);
    *out = buf;
    *len = n;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Largest accepted sizes: examples, image side, channels; and bytes of
 * pixels in all (so that a hostile header cannot ask for terabytes). */
#define IDX_MAX_N 100000000u
#define IDX_MAX_SIDE 4096u
#define IDX_MAX_CHANNELS 64u
#define IDX_MAX_BYTES ((size_t)16 << 30)

/* Check an IDX header: a number of dimensions from ndim_lo to ndim_hi
 * (*ndim gets it), each size, and that the file holds exactly header +
 * product(sizes) bytes. */
static int check_idx(const char *path, const uint8_t *buf, size_t len, int ndim_lo, int ndim_hi,
                     int *ndim, uint32_t dims[4], char *err, size_t errlen)
{
    if (len < 4) return kiln_fail(err, errlen, "%s: too short for an IDX file (%zu bytes)", path, len);
    uint32_t magic = be32(buf);
    int nd = (int)(magic & 0xffu);
    if ((magic & ~0xffu) != 0x800u || nd < ndim_lo || nd > ndim_hi) {
        if (ndim_lo == ndim_hi)
            return kiln_fail(err, errlen,
                             "%s: wrong magic number 0x%08x (expected 0x%08x: unsigned bytes, %d dimension%s)",
                             path, magic, 0x800u | (uint32_t)ndim_lo, ndim_lo, ndim_lo == 1 ? "" : "s");
        return kiln_fail(err, errlen,
                         "%s: wrong magic number 0x%08x (expected 0x%08x or 0x%08x: unsigned bytes, N x ROWS x COLS "
                         "or N x ROWS x COLS x CHANNELS)",
                         path, magic, 0x800u | (uint32_t)ndim_lo, 0x800u | (uint32_t)ndim_hi);
    }
    *ndim = nd;
    size_t hdr = 4 + 4 * (size_t)nd;
    if (len < hdr) return kiln_fail(err, errlen, "%s: truncated header (%zu bytes)", path, len);
    size_t total = 1;
    static const char *const what[] = {"examples", "rows", "columns", "channels"};
    for (int i = 0; i < nd; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        uint32_t max = i == 0 ? IDX_MAX_N : i == 3 ? IDX_MAX_CHANNELS : IDX_MAX_SIDE;
        if (dims[i] == 0 || dims[i] > max)
            return kiln_fail(err, errlen, "%s: implausible number of %s (dimension %d): %u; accepted: 1..%u", path,
                             nd == 1 ? "labels" : what[i], i, dims[i], max);
        total *= dims[i];
        if (total > IDX_MAX_BYTES)
            return kiln_fail(err, errlen, "%s: the header promises more than %zu bytes of data", path, IDX_MAX_BYTES);
    }
    if (len != hdr + total)
        return kiln_fail(err, errlen, "%s: %s: holds %zu bytes of data, the header promises %zu",
                         path, len < hdr + total ? "truncated" : "trailing bytes",
                         len - hdr, total);
    return 0;
}

int kiln_idx_load(const char *images_path, const char *labels_path,
                  kiln_dataset *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    uint8_t *ib = NULL, *lb = NULL;
    size_t il, ll;
    uint32_t idims[4] = {0, 0, 0, 1}, ldims[4] = {0};
    int ind = 0, lnd = 0;
    if (slurp(images_path, &ib, &il, err, errlen)) return 1;
    if (check_idx(images_path, ib, il, 3, 4, &ind, idims, err, errlen)) goto fail;
    if (slurp(labels_path, &lb, &ll, err, errlen)) goto fail;
    if (check_idx(labels_path, lb, ll, 1, 1, &lnd, ldims, err, errlen)) goto fail;
    if (idims[0] != ldims[0]) {
        kiln_fail(err, errlen, "%s holds %u images but %s holds %u labels", images_path,
                  idims[0], labels_path, ldims[0]);
        goto fail;
    }
    for (uint32_t i = 0; i < ldims[0]; i++)
        if (lb[8 + i] > 9) {
            kiln_fail(err, errlen, "%s: label %u of example %u is outside 0..9", labels_path,
                      lb[8 + i], i);
            goto fail;
        }
    out->n = (int)idims[0];
    out->rows = (int)idims[1];
    out->cols = (int)idims[2];
    out->channels = (int)idims[3];
    /* Keep the pixels and labels without their headers. */
    const size_t ih = 4 + 4 * (size_t)ind;
    memmove(ib, ib + ih, il - ih);
    memmove(lb, lb + 8, ll - 8);
    out->images = ib;
    out->labels = lb;
    out->owns = 1;
    return 0;
fail:
    free(ib);
    free(lb);
    return 1;
}

static void join(char *dst, size_t cap, const char *dir, const char *name)
{
    snprintf(dst, cap, "%s/%s", dir, name);
}

/* path if it exists, else path.gz if that exists, else path (for the error). */
static void pick(char *dst, size_t cap, const char *dir, const char *name)
{
    join(dst, cap, dir, name);
    FILE *f = fopen(dst, "rb");
    if (f) { fclose(f); return; }
    char gz[4096];
    snprintf(gz, sizeof gz, "%s/%s.gz", dir, name);
    f = fopen(gz, "rb");
    if (f) { fclose(f); snprintf(dst, cap, "%s", gz); }
}

int kiln_mnist_load(const char *dir, kiln_dataset *train, kiln_dataset *test,
                    char *err, size_t errlen)
{
    char a[4096], b[4096];
    pick(a, sizeof a, dir, "train-images-idx3-ubyte");
    pick(b, sizeof b, dir, "train-labels-idx1-ubyte");
    if (kiln_idx_load(a, b, train, err, errlen)) return 1;
    pick(a, sizeof a, dir, "t10k-images-idx3-ubyte");
    pick(b, sizeof b, dir, "t10k-labels-idx1-ubyte");
    if (kiln_idx_load(a, b, test, err, errlen)) { kiln_dataset_free(train); return 1; }
    if (train->rows != test->rows || train->cols != test->cols || train->channels != test->channels) {
        kiln_fail(err, errlen, "%s: training images are %dx%dx%d but test images %dx%dx%d", dir,
                  train->rows, train->cols, train->channels, test->rows, test->cols, test->channels);
        kiln_dataset_free(train);
        kiln_dataset_free(test);
        return 1;
    }
    return 0;
}

void kiln_dataset_free(kiln_dataset *d)
{
    if (d->owns) { free(d->images); free(d->labels); }
    memset(d, 0, sizeof *d);
}

void kiln_dataset_digest(const kiln_dataset *train, const kiln_dataset *test, char out[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    const kiln_dataset *ds[2] = {train, test};
    for (int i = 0; i < 2; i++) {
        const kiln_dataset *d = ds[i];
        /* grey images hash as they always have; colour ones add their channels */
        const int ch = d->channels > 0 ? d->channels : 1;
        uint32_t shape[4] = {(uint32_t)d->n, (uint32_t)d->rows, (uint32_t)d->cols, (uint32_t)ch};
        EVP_DigestUpdate(ctx, shape, ch == 1 ? 3 * sizeof shape[0] : sizeof shape);
        EVP_DigestUpdate(ctx, d->images, (size_t)d->n * d->rows * d->cols * ch);
        EVP_DigestUpdate(ctx, d->labels, (size_t)d->n);
    }
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", md[i]);
    out[64] = 0;
}
