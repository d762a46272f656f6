/* The preview's builds, both through the orchestrator (kiln_report_build).
 *
 * On save: the quick build. It never trains (no_run, and no_cache_lock so a
 * training build elsewhere does not hold it up), leaves the PDF out, writes
 * the site without fsync, writes no manifest (kiln build's builds are the
 * ones kiln diff compares) and keeps parsed cache entries and drawn figures
 * in the builder's memo, so a prose edit re-reads one chapter's worth of
 * work. Its outcome goes to the pages: "ok" (they reload), or "broken" with
 * the FILE:LINE: messages over the last good version.
 *
 * When the only trouble is runs without a result, the background build
 * trains them: the same options but training allowed, into a folder of its
 * own beside the site (so the site being served is never locked or
 * half-written), its progress lines sent to the pages as "progress". When
 * it ends, the next quick build finds every result in the cache and the
 * pages reload. One training build at a time; an edit meanwhile is built
 * quickly as usual (and shows the progress again if it still lacks runs). */
#include "preview/preview.h"
#include "base/base.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kp_builder {
    kiln_preview_opts o;
    kp_events *ev;
    kiln_memo *memo;
    FILE *log;
    pthread_mutex_t mu;
    pthread_t th;
    int training;      /* the background build is running */
    int joinable;      /* it ran: join it before the next */
    int trained;       /* it ended well: a quick build is due */
    char train_out[4096];
    sbuf line;         /* the progress line being written */
};

kp_builder *kp_builder_new(const kiln_preview_opts *o, kp_events *ev)
{
    kp_builder *b = kb_xmalloc(sizeof *b);
    memset(b, 0, sizeof *b);
    b->o = *o;
    b->ev = ev;
    b->memo = kiln_memo_new();
    b->log = o->log ? o->log : stderr;
    pthread_mutex_init(&b->mu, NULL);
    snprintf(b->train_out, sizeof b->train_out, "%s.train", o->build.out_dir);
    return b;
}

void kp_builder_free(kp_builder *b)
{
    if (!b) return;
    if (b->joinable) pthread_join(b->th, NULL); /* a training build is never cut short */
    kr_rmtree(b->train_out);
    kiln_memo_free(b->memo);
    pthread_mutex_destroy(&b->mu);
    sb_free(&b->line);
    free(b);
}

/* ---- the training build's progress, one line at a time --------------------- */
static ssize_t progress_write(void *cookie, const char *buf, size_t n)
{
    kp_builder *b = cookie;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '\n' && buf[i] != '\r') { sb_addc(&b->line, buf[i]); continue; }
        if (!b->line.len) continue;
        fprintf(b->log, "%s\n", b->line.s);
        kp_events_set(b->ev, "progress", b->line.s);
        b->line.len = 0;
        b->line.s[0] = 0;
    }
    return (ssize_t)n;
}

static void *train_main(void *arg)
{
    kp_builder *b = arg;
    cookie_io_functions_t io = {NULL, progress_write, NULL, NULL};
    FILE *f = fopencookie(b, "w", io);
    setvbuf(f, NULL, _IOLBF, 0);
    kiln_build_opts o = b->o.build;
    o.out_dir = b->train_out;
    o.no_run = 0;
    o.no_pdf = 1;
    o.no_manifest = 1;
    o.no_fsync = 1;
    o.quiet = 0;
    o.log = f;
    kiln_diag d = {0};
    kiln_build_stats st;
    int rc = kiln_report_build(&o, &st, &d);
    fclose(f);
    kr_rmtree(b->train_out);
    if (rc) {
        fprintf(b->log, "kiln preview: training failed:\n%s", d.text ? d.text : "");
        kp_events_set(b->ev, "broken", d.text ? d.text : "training failed");
    } else {
        fprintf(b->log, "kiln preview: trained %d run%s in %.1f s\n", st.runs_trained, st.runs_trained == 1 ? "" : "s",
                st.seconds_total);
    }
    kiln_diag_free(&d);
    pthread_mutex_lock(&b->mu);
    b->training = 0;
    b->trained = !rc;
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void start_training(kp_builder *b, int missing)
{
    pthread_mutex_lock(&b->mu);
    int busy = b->training;
    if (!busy) {
        if (b->joinable) pthread_join(b->th, NULL);
        b->training = b->joinable = 1;
    }
    pthread_mutex_unlock(&b->mu);
    if (busy) return;
    char msg[160];
    snprintf(msg, sizeof msg, "kiln preview: %d run%s to train; the page updates when %s done", missing,
             missing == 1 ? "" : "s", missing == 1 ? "it is" : "they are");
    fprintf(b->log, "%s\n", msg);
    kp_events_set(b->ev, "progress", msg);
    if (pthread_create(&b->th, NULL, train_main, b)) {
        pthread_mutex_lock(&b->mu);
        b->training = b->joinable = 0;
        pthread_mutex_unlock(&b->mu);
        kp_events_set(b->ev, "broken", "kiln preview: cannot start the training build");
    }
}

int kp_builder_training(kp_builder *b)
{
    pthread_mutex_lock(&b->mu);
    int t = b->training;
    pthread_mutex_unlock(&b->mu);
    return t;
}

void kp_builder_memo_counts(kp_builder *b, long *hits, long *misses)
{
    kiln_memo_counts(b->memo, hits, misses, NULL);
}

int kp_builder_trained(kp_builder *b)
{
    pthread_mutex_lock(&b->mu);
    int t = b->trained;
    b->trained = 0;
    pthread_mutex_unlock(&b->mu);
    return t;
}

int kp_builder_build(kp_builder *b, double *ms)
{
    double t0 = kr_now();
    kiln_build_opts o = b->o.build;
    o.no_run = 1;
    o.no_cache_lock = 1;
    o.no_pdf = 1;
    o.no_manifest = 1;
    o.no_fsync = 1;
    o.quiet = 1;
    o.memo = b->memo;
    o.log = b->log;
    kiln_diag d = {0};
    kiln_build_stats st;
    int rc = kiln_report_build(&o, &st, &d);
    double took = (kr_now() - t0) * 1000;
    if (ms) *ms = took;
    /* runs without a result, and nothing else wrong: train them */
    int only_missing = rc && st.runs_missing > 0 && d.n_errors == st.runs_missing && !b->o.no_train;
    if (!rc) {
        kp_events_set(b->ev, "ok", NULL);
        fprintf(b->log, "kiln preview: built in %.0f ms\n", took);
    } else if (only_missing) {
        start_training(b, st.runs_missing);
    } else {
        fprintf(b->log, "%s", d.text ? d.text : "kiln preview: the build failed\n");
        kp_events_set(b->ev, "broken", d.text ? d.text : "the build failed");
    }
    kiln_diag_free(&d);
    return rc;
}
