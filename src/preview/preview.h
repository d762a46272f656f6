/* kiln preview's private header: the pieces of the preview server, one file
 * each.
 *
 *   path.c     a request's path -> a file inside the site folder, or 404
 *   mime.c     content types by file name
 *   events.c   Server-Sent Events: the build's state, sent to every open page
 *   live.c     the script each served page gets (reload, overlay, progress)
 *   server.c   the HTTP server (libmicrohttpd): GET/HEAD of the site, the
 *              script and the event stream
 *   watch.c    inotify on content/, templates/ and the bibliography
 *   rebuild.c  one rebuild through kiln_report_build, and the background one
 *              that trains
 *   preview.c  kiln_preview_run: the loop that ties them together */
#ifndef KILN_PREVIEW_INTERNAL_H
#define KILN_PREVIEW_INTERNAL_H

#include "kiln/preview.h"

#include <stddef.h>

/* ---- path.c ---------------------------------------------------------------- */
/* The file url (a request's path, already percent-decoded by the server)
 * names inside root (a real path: no symlink, no trailing '/'): written to
 * out, 0. -1 (404) when it names nothing, a folder without index.html, a
 * name starting with '.', a segment "..", a NUL, or (through a symlink)
 * anything outside root. A folder's index.html is served for the folder. */
int kp_resolve(const char *root, const char *url, char *out, size_t n);
/* Percent-decode s in place (the server's unescape callback): %XX becomes
 * the byte, except %00, which stays as written (so a NUL cannot cut a name
 * short: "a.html%00.png" names no file). Returns the new length. */
size_t kp_unescape(char *s);

/* ---- mime.c ---------------------------------------------------------------- */
/* "text/html; charset=utf-8", "image/png", ...; application/octet-stream for
 * a name it does not know. */
const char *kp_content_type(const char *path);
int kp_is_html(const char *path);

/* ---- events.c -------------------------------------------------------------- */
typedef struct kp_events kp_events;
kp_events *kp_events_new(void);
void kp_events_free(kp_events *ev);
/* The state every page shows: kind "ok" (a good build: data is ignored, the
 * build's number is sent),
 * "error" (data = the FILE:LINE: messages, shown over the last good page),
 * "progress" (data = the training's status line). Sent to each open page,
 * and to each page that connects later. "reload" comes with every new good
 * build. */
void kp_events_set(kp_events *ev, const char *kind, const char *data);
/* Stop every stream (the server is going down). */
void kp_events_close(kp_events *ev);
/* A stream for one page (MHD content reader), in server.c's terms. */
struct MHD_Response *kp_events_response(kp_events *ev);
/* The generation counter of the state (tests wait on it). */
unsigned long kp_events_generation(kp_events *ev);
/* The state now (kind "" before the first), copied. */
void kp_events_current(kp_events *ev, char *kind, size_t kn, char *data, size_t dn);
/* The number of the last good build (0 before the first), which pages are
 * labelled with; kp_events_set(ev, "ok", ...) is how it moves. */
unsigned long kp_events_build(kp_events *ev);

/* ---- live.c ---------------------------------------------------------------- */
extern const char kp_live_js[];
/* page with the script's tag (data-build="BUILD": the good build the page
 * comes from) put in before the last </body>, else at the end; malloc'd,
 * *out_len set. */
char *kp_inject_build(const char *page, size_t len, unsigned long build, size_t *out_len);

/* ---- server.c -------------------------------------------------------------- */
typedef struct kp_server kp_server;
/* Serve root on host:port (host NULL: 127.0.0.1; port 0: any free one; port
 * < 0: 8000 or the next free one up to 8099). NULL and a message in err. */
kp_server *kp_server_start(const char *root, const char *host, int port, kp_events *ev, char *err, size_t n);
int kp_server_port(const kp_server *s);
/* Closes ev's streams (kp_events_close), then stops; ev stays the caller's. */
void kp_server_stop(kp_server *s);

/* ---- watch.c --------------------------------------------------------------- */
typedef struct kp_watch kp_watch;
/* Watch dirs (and their subfolders, but none named in skip: real paths) for
 * files written, moved or deleted. NULL and a message in err. */
kp_watch *kp_watch_open(const char *const *dirs, int n_dirs, const char *const *skip, int n_skip, char *err,
                        size_t n);
/* Wait up to timeout_ms for a change (then up to settle_ms more while the
 * editor goes on writing): 1 changed, 0 nothing, -1 error. The name that
 * changed last is in *what (static, until the next call). */
int kp_watch_wait(kp_watch *w, int timeout_ms, int settle_ms, const char **what);
/* The file descriptor to poll (tests), and closing. */
int kp_watch_fd(const kp_watch *w);
void kp_watch_close(kp_watch *w);

/* ---- rebuild.c ------------------------------------------------------------- */
typedef struct kp_builder kp_builder;
kp_builder *kp_builder_new(const kiln_preview_opts *o, kp_events *ev);
void kp_builder_free(kp_builder *b);
/* Build now (from the builder's own thread or the caller's): the site from
 * the cache only; a run to train goes to the background build, whose
 * progress the pages show. Returns the orchestrator's code of the quick
 * build; *ms its wall time. */
int kp_builder_build(kp_builder *b, double *ms);
/* The background training build is running. */
int kp_builder_training(kp_builder *b);
/* It ended well since the last call (then a quick build is due). */
int kp_builder_trained(kp_builder *b);
/* The memo's lookups so far that found something / did not (tests). */
void kp_builder_memo_counts(kp_builder *b, long *hits, long *misses);
#endif
