/* kiln diff: two builds compared run by run.
 *
 * Each side is a build manifest (manifest.c) - a file, a cache folder, or a
 * git revision whose CACHE/manifest/build.json is read with `git show` - and
 * the cache entries its keys name. Runs are matched by experiment id:
 *
 *   same key            identical: the same config, trainer and data, so the
 *                       same stored result (nothing to compare)
 *   histories equal     identical: every per-epoch and per-step value, the test
 *                       metrics and how the run ended equal bit for bit as
 *                       stored (wall times aside) - a deterministic trainer
 *                       gives this after any pure refactor
 *   within tolerances   within noise: |d test_accuracy| <= acc_tol and
 *                       |d test_loss| <= loss_tol * |old test_loss|
 *   otherwise           changed
 *
 * plus runs added and removed, and runs whose canonical config changed (the
 * keys that changed are listed). Then the {compare} verdicts (compares.c): a
 * comparison whose verdict changed, or that was added or removed, is a
 * change too. Range tests have no test metrics: they are
 * within noise when their suggested rates (steepest descent, minimum of the
 * smoothed loss) move by at most loss_tol, relatively.
 *
 * Entries are looked for in the side's own folder (a manifest given as a
 * file), for the old side then in the new side's folder (an old manifest
 * copied aside, then the same cache rebuilt), then in the working tree's
 * cache, then at the side's git revision;
 * each is checked (key, check sum) before it is used. An entry found nowhere
 * leaves that run compared by its manifest metrics only (said so, never
 * "identical"). Nothing here writes to a cache: the only files written are
 * the HTML page, its images and the JSON the caller asked for. */
#include "diff/internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the whole comparison ------------------------------------------------------------------ */

int kiln_diff(const char *old_src, const char *new_src, const kiln_diff_opts *o0, kiln_diag *d)
{
    kiln_diff_opts o;
    if (o0) o = *o0;
    else kiln_diff_opts_init(&o);
    if (!o.cache_dir) o.cache_dir = "content/cache";
    if (!(o.acc_tol >= 0) || !(o.loss_tol >= 0)) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "tolerances must be numbers >= 0 (acc_tol %g, loss_tol %g)", o.acc_tol, o.loss_tol);
        return KILN_REPORT_EINPUT;
    }
    char cur[4200];
    snprintf(cur, sizeof cur, "%s/%s", o.cache_dir, KILN_MANIFEST_FILE);
    side so = {.role = "old", .cache = o.cache_dir}, sn = {.role = "new", .cache = o.cache_dir};
    int rc = open_side(&so, old_src ? old_src : "HEAD", d);
    if (!rc) rc = open_side(&sn, new_src ? new_src : cur, d);
    /* the old build's entries may sit in the new one's cache: its manifest was
     * copied aside and the same cache rebuilt */
    if (!rc) snprintf(so.peer, sizeof so.peer, "%s", sn.dir);
    if (!rc && strcmp(so.data, sn.data)) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0,
                 "the two builds used different data (old data digest %.16s..., new %.16s...): their runs are not "
                 "comparable; rebuild one of them on the same MNIST files",
                 so.data, sn.data);
        rc = -1;
    }
    if (!rc && strcmp(so.scale, sn.scale)) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "the old build is at %s scale and the new one at %s scale: compare builds of one scale",
                 so.scale, sn.scale);
        rc = -1;
    }
    if (rc) {
        close_side(&so);
        close_side(&sn);
        return KILN_REPORT_EINPUT;
    }

    /* rows: the new build's runs in its order, then the runs it no longer has */
    row *rows = calloc((size_t)(so.n + sn.n) + 1, sizeof *rows);
    int n = 0;
    for (int i = 0; i < sn.n; i++) {
        row *r = &rows[n++];
        r->n = &sn.runs[i];
        for (int j = 0; j < so.n; j++)
            if (!strcmp(so.runs[j].id, r->n->id)) r->o = &so.runs[j];
    }
    for (int j = 0; j < so.n; j++) {
        int found = 0;
        for (int i = 0; i < sn.n; i++) found |= !strcmp(so.runs[j].id, sn.runs[i].id);
        if (!found) rows[n++].o = &so.runs[j];
    }
    int count[6] = {0}, changed = 0;
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        const mrun *m = r->n ? r->n : r->o;
        r->id = m->id;
        r->kind = m->kind;
        r->label = m->label;
        compare(r, &so, &sn, &o, d);
        count[r->verdict]++;
        count[5] += r->config_changed;
        changed |= r->verdict != KILN_VERDICT_IDENTICAL && r->verdict != KILN_VERDICT_NOISE;
    }

    int bad = 0;
    if (o.table) print_table(o.table, rows, n, &so, &sn, &o, count);
    json_t *cj = NULL;
    if (diff_compares(&so, &sn, o.table, o.json_path ? &cj : NULL)) changed = 1;
    if (o.json_path) {
        json_t *j = diff_json(rows, n, &so, &sn, &o, count, changed);
        if (j) json_object_set_new(j, "compares", cj);
        else json_decref(cj);
        char *text = j ? json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
        json_decref(j);
        if (!text) {
            kd_error(d, KILN_REPORT_EINPUT, o.json_path, 0, "cannot serialise the diff");
            bad = 1;
        } else if (!strcmp(o.json_path, "-")) {
            printf("%s\n", text);
            fflush(stdout);
        } else {
            sbuf t = {0};
            sb_add(&t, text);
            sb_addc(&t, '\n');
            if (kr_write_atomic(o.json_path, t.s, t.len)) {
                kd_error(d, KILN_REPORT_EINPUT, o.json_path, 0, "cannot write: %s", strerror(errno));
                bad = 1;
            }
            sb_free(&t);
        }
        free(text);
    }
    if (o.html_path && write_html(rows, n, &so, &sn, &o, count, d)) bad = 1;

    for (int i = 0; i < n; i++) {
        entry_free(&rows[i].eo);
        entry_free(&rows[i].en);
        sb_free(&rows[i].config_diff);
    }
    free(rows);
    close_side(&so);
    close_side(&sn);
    return bad ? KILN_REPORT_EINPUT : changed ? 1 : 0;
}
