/* kiln_preview_run: the first build, the server, then the watcher's loop:
 * every save (and the end of a training build) is one quick build, and the
 * pages follow its outcome. Ctrl-C stops; a second one while a run trains
 * kills the process outright (cache entries are only renamed into place, so
 * nothing half-written is left to be mistaken for a result). */
#include "preview/preview.h"
#include "base/base.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
    signalled = 1;
    signal(sig, SIG_DFL); /* the second one kills */
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int stopping(const kiln_preview_opts *o)
{
    return o->stop ? *o->stop : signalled;
}

static void defaults(kiln_preview_opts *o, char *cache, size_t n)
{
    kiln_build_opts *b = &o->build;
    if (!b->content_dir) b->content_dir = "content";
    if (!b->template_dir) b->template_dir = "templates";
    if (!b->out_dir) b->out_dir = b->smoke ? "build/preview/smoke" : "build/preview";
    /* the cache kiln build uses, named, so that the training build (into a
     * folder of its own) stores its results where the quick builds look */
    if (!b->cache_dir) {
        if (b->smoke) snprintf(cache, n, "out/smoke/cache");
        else snprintf(cache, n, "%s/cache", b->content_dir);
        b->cache_dir = cache;
    }
    if (o->settle_ms <= 0) o->settle_ms = 20;
    if (!o->log) o->log = stderr;
}

static kp_watch *watch_sources(const kiln_preview_opts *o, const char *train_out, FILE *log)
{
    const kiln_build_opts *b = &o->build;
    const char *dirs[] = {b->content_dir, b->template_dir};
    const char *skip[] = {b->cache_dir, b->out_dir, train_out};
    char err[512];
    kp_watch *w = kp_watch_open(dirs, 2, skip, 3, err, sizeof err);
    if (!w) fprintf(log, "kiln preview: %s\n", err);
    return w;
}

static void watch_loop(const kiln_preview_opts *o, kp_watch *w, kp_builder *b)
{
    while (!stopping(o)) {
        const char *what = NULL;
        int r = kp_watch_wait(w, 100, o->settle_ms, &what);
        if (r < 0) {
            fprintf(o->log, "kiln preview: the watcher failed: %s\n", strerror(errno));
            break;
        }
        int trained = kp_builder_trained(b);
        if (r == 0 && !trained) continue;
        if (r > 0) fprintf(o->log, "kiln preview: %s changed\n", what && *what ? what : "a file");
        kp_builder_build(b, NULL);
    }
}

int kiln_preview_run(const kiln_preview_opts *o0)
{
    kiln_preview_opts o = *o0;
    char cache[4200];
    defaults(&o, cache, sizeof cache);
    struct stat st;
    if (stat(o.build.content_dir, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(o.log, "kiln preview: %s: not a folder (--content DIR names the article's chapters)\n",
                o.build.content_dir);
        return 2;
    }
    if (kr_mkdirs(o.build.out_dir)) {
        fprintf(o.log, "kiln preview: cannot create %s: %s\n", o.build.out_dir, strerror(errno));
        return 1;
    }
    if (!o.stop) catch_signals();
    kp_events *ev = kp_events_new();
    kp_builder *b = kp_builder_new(&o, ev);
    double ms = 0;
    kp_builder_build(b, &ms);
    char err[512];
    kp_server *srv = kp_server_start(o.build.out_dir, o.host, o.port, ev, err, sizeof err);
    char train_out[4200];
    snprintf(train_out, sizeof train_out, "%s.train", o.build.out_dir);
    kp_watch *w = srv ? watch_sources(&o, train_out, o.log) : NULL;
    int rc = 0;
    if (!srv || !w) {
        if (!srv) fprintf(o.log, "kiln preview: %s\n", err);
        rc = 1;
    } else {
        int port = kp_server_port(srv);
        const char *h = o.host ? o.host : "127.0.0.1";
        fprintf(o.log, "kiln preview: serving %s at http://%s%s%s:%d/ ; watching %s and %s ; Ctrl-C stops\n",
                o.build.out_dir, strchr(h, ':') ? "[" : "", h, strchr(h, ':') ? "]" : "", port, o.build.content_dir,
                o.build.template_dir);
        fflush(o.log);
        if (o.ready) o.ready(port, o.ready_arg);
        watch_loop(&o, w, b);
        if (kp_builder_training(b))
            fprintf(o.log, "kiln preview: waiting for the run that trains to finish (Ctrl-C again stops it now)\n");
    }
    kp_watch_close(w);
    kp_server_stop(srv);
    kp_builder_free(b);
    kp_events_free(ev);
    return rc;
}
