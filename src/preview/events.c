/* Server-Sent Events: one state (the last build's outcome, or the
 * training's progress) that every open page follows. Each page's stream is a
 * libmicrohttpd content reader in its own connection thread, which waits on
 * a condition variable for the state to change and then sends it; a page
 * that connects later gets the current state at once. Between changes a
 * comment line every 15 s keeps proxies and the browser from timing out. */
#include "preview/preview.h"
#include "base/base.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kp_events {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long gen;  /* bumped on every change */
    char *kind, *data;
    unsigned long build; /* good builds so far */
    int closed;
};

typedef struct stream {
    kp_events *ev;
    unsigned long seen;
    sbuf out;           /* the bytes not yet handed to the server */
    size_t off;
} stream;

kp_events *kp_events_new(void)
{
    kp_events *ev = kb_xmalloc(sizeof *ev);
    memset(ev, 0, sizeof *ev);
    pthread_mutex_init(&ev->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ev->cv, &ca);
    pthread_condattr_destroy(&ca);
    return ev;
}

void kp_events_free(kp_events *ev)
{
    if (!ev) return;
    pthread_mutex_destroy(&ev->mu);
    pthread_cond_destroy(&ev->cv);
    free(ev->kind);
    free(ev->data);
    free(ev);
}

void kp_events_set(kp_events *ev, const char *kind, const char *data)
{
    pthread_mutex_lock(&ev->mu);
    free(ev->kind);
    free(ev->data);
    ev->kind = kr_xstrdup(kind);
    if (!strcmp(kind, "ok")) {
        char n[32];
        snprintf(n, sizeof n, "%lu", ++ev->build);
        ev->data = kr_xstrdup(n);
    } else
        ev->data = kr_xstrdup(data ? data : "");
    ev->gen++;
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
}

void kp_events_close(kp_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    ev->closed = 1;
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
}

unsigned long kp_events_generation(kp_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    unsigned long g = ev->gen;
    pthread_mutex_unlock(&ev->mu);
    return g;
}

void kp_events_current(kp_events *ev, char *kind, size_t kn, char *data, size_t dn)
{
    pthread_mutex_lock(&ev->mu);
    snprintf(kind, kn, "%s", ev->kind ? ev->kind : "");
    snprintf(data, dn, "%s", ev->data ? ev->data : "");
    pthread_mutex_unlock(&ev->mu);
}

unsigned long kp_events_build(kp_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    unsigned long b = ev->build;
    pthread_mutex_unlock(&ev->mu);
    return b;
}

/* "event: KIND\ndata: LINE\n" for each line of data, then a blank line. A
 * line ends at LF or CR, as EventSource reads them (a CR inside a message
 * would otherwise start a field of its own: "\revent: ok"). */
static void format_event(sbuf *b, const char *kind, const char *data)
{
    sb_printf(b, "event: %s\n", kind);
    const char *p = data;
    do {
        size_t l = strcspn(p, "\r\n");
        const char *e = p[l] ? p + l : NULL;
        sb_add(b, "data: ");
        sb_addn(b, p, l);
        sb_addc(b, '\n');
        p = e ? e + 1 : p + l;
    } while (*p);
    sb_addc(b, '\n');
}

/* Wait for a change (or 15 s) and queue what to send; 0, or -1 at the end. */
static int next_event(stream *s)
{
    kp_events *ev = s->ev;
    pthread_mutex_lock(&ev->mu);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 15;
    int timed_out = 0;
    while (!ev->closed && ev->gen == s->seen && !timed_out)
        timed_out = pthread_cond_timedwait(&ev->cv, &ev->mu, &until) != 0;
    int rc = 0;
    s->out.len = 0;
    s->off = 0;
    if (ev->closed) rc = -1;
    else if (ev->gen == s->seen) sb_add(&s->out, ": still here\n\n");
    else {
        format_event(&s->out, ev->kind, ev->data);
        s->seen = ev->gen;
    }
    pthread_mutex_unlock(&ev->mu);
    return rc;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *s = cls;
    if (s->off >= s->out.len && next_event(s)) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t k = s->out.len - s->off;
    if (k > max) k = max;
    memcpy(buf, s->out.s + s->off, k);
    s->off += k;
    return (ssize_t)k;
}

static void stream_free(void *cls)
{
    stream *s = cls;
    sb_free(&s->out);
    free(s);
}

struct MHD_Response *kp_events_response(kp_events *ev)
{
    stream *s = kb_xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->ev = ev;
    /* reconnect quickly after the preview restarts */
    sb_add(&s->out, "retry: 300\n\n");
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, stream_free);
    if (!r) stream_free(s);
    return r;
}
