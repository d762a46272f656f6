/* The preview's HTTP server (libmicrohttpd, a thread per connection, so an
 * event stream may wait and a slow client holds up no one else).
 *
 * Safe by default: it listens on 127.0.0.1 unless told otherwise, and on a
 * loopback address answers only requests whose Host is the loopback (a page
 * elsewhere cannot reach it through DNS rebinding); GET and HEAD only (anything else 405,
 * with Allow); a path names a file inside the site folder or nothing
 * (kp_resolve: 404, never a listing); every answer has its content type,
 * nosniff and no-store. /__kiln/live.js and /__kiln/events are the
 * preview's own; a page is sent with the script's tag put in. */
#include "preview/preview.h"
#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct kp_server {
    struct MHD_Daemon *d;
    char root[PATH_MAX];
    kp_events *ev;
    int port;
    int loopback_only; /* check Host */
};

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result q = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return q;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct MHD_Response *r, const char *type)
{
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return q;
}

/* Host: 127.0.0.1[:port], localhost[:port], [::1][:port] */
static int host_is_loopback(const char *h)
{
    if (!h) return 0;
    static const char *const NAMES[] = {"127.0.0.1", "localhost", "[::1]"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(NAMES[i]);
        if (strncasecmp(h, NAMES[i], l)) continue;
        const char *p = h + l;
        if (!*p) return 1;
        if (*p++ != ':' || !*p) continue;
        while (*p >= '0' && *p <= '9') p++;
        if (!*p) return 1;
    }
    return 0;
}

/* A page that is not there (yet: the first build failed, or a chapter was
 * renamed) is a 404 that still follows the builds, so the error shows over
 * it and it reloads once the page is made; anything else a plain 404. */
static enum MHD_Result not_found(kp_server *s, struct MHD_Connection *c, const char *url)
{
    const char *base = strrchr(url, '/');
    base = base ? base + 1 : url;
    if (!kp_is_html(url) && strchr(base, '.')) return send_text(c, MHD_HTTP_NOT_FOUND, "404 not found\n");
    static const char PAGE[] = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>"
                               "</head>\n<body><h1>Not found</h1><p>The site has no such page (yet).</p></body></html>\n";
    size_t len;
    char *out = kp_inject_build(PAGE, sizeof PAGE - 1, kp_events_build(s->ev), &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, out, MHD_RESPMEM_MUST_FREE);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
    MHD_destroy_response(r);
    return q;
}

static enum MHD_Result serve_file(kp_server *s, struct MHD_Connection *c, const char *url)
{
    char path[PATH_MAX];
    if (kp_resolve(s->root, url, path, sizeof path)) return not_found(s, c, url);
    const char *type = kp_content_type(path);
    if (kp_is_html(path)) {
        unsigned long build = kp_events_build(s->ev); /* before the read: at worst one reload too many */
        size_t len = 0;
        char *page = kr_read_file(path, &len);
        if (!page) return send_text(c, MHD_HTTP_NOT_FOUND, "404 not found\n");
        size_t out_len;
        char *out = kp_inject_build(page, len, build, &out_len);
        free(page);
        return send_response(c, MHD_create_response_from_buffer(out_len, out, MHD_RESPMEM_MUST_FREE), type);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        if (fd >= 0) close(fd);
        return send_text(c, MHD_HTTP_NOT_FOUND, "404 not found\n");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) close(fd);
    return send_response(c, r, type);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **req)
{
    kp_server *s = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed: GET and HEAD only\n");
    if (s->loopback_only && !host_is_loopback(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host")))
        return send_text(c, MHD_HTTP_FORBIDDEN, "403 forbidden: this preview answers only to 127.0.0.1 / localhost\n");
    if (!strcmp(url, "/__kiln/live.js"))
        return send_response(c, MHD_create_response_from_buffer(strlen(kp_live_js), (void *)kp_live_js,
                                                                MHD_RESPMEM_PERSISTENT),
                             "text/javascript; charset=utf-8");
    if (!strcmp(url, "/__kiln/events")) return send_response(c, kp_events_response(s->ev), "text/event-stream");
    if (!strncmp(url, "/__kiln/", 8)) return send_text(c, MHD_HTTP_NOT_FOUND, "404 not found\n");
    return serve_file(s, c, url);
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    return kp_unescape(s);
}

/* host (NULL: 127.0.0.1) and port as a socket address; 0, or -1 */
static int address(const char *host, int port, struct sockaddr_storage *sa, int *v6)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host ? host : "127.0.0.1", ps, &hints, &res) || !res) return -1;
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

static struct MHD_Daemon *start_on(kp_server *s, const char *host, int port)
{
    struct sockaddr_storage sa;
    int v6 = 0;
    if (address(host, port, &sa, &v6)) return NULL;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0);
    return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                            MHD_OPTION_END);
}

kp_server *kp_server_start(const char *root, const char *host, int port, kp_events *ev, char *err, size_t n)
{
    kp_server *s = kb_xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->ev = ev;
    if (!realpath(root, s->root)) {
        snprintf(err, n, "%s: %s", root, strerror(errno));
        free(s);
        return NULL;
    }
    struct sockaddr_storage sa;
    int v6;
    if (address(host, 0, &sa, &v6)) {
        snprintf(err, n, "cannot listen on '%s': not an address of this machine", host);
        free(s);
        return NULL;
    }
    /* an address no interface of this machine has (--host 192.0.2.1): said
       so, not taken for a busy port */
    int probe = socket(sa.ss_family, SOCK_STREAM, 0);
    socklen_t len = sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int notavail = probe >= 0 && bind(probe, (struct sockaddr *)&sa, len) && errno == EADDRNOTAVAIL;
    if (probe >= 0) close(probe);
    if (notavail) {
        snprintf(err, n, "cannot listen on '%s': not an address of this machine", host ? host : "127.0.0.1");
        free(s);
        return NULL;
    }
    /* bound to the loopback (by default or by name): answer only to it */
    s->loopback_only = (sa.ss_family == AF_INET && ((unsigned char *)&((struct sockaddr_in *)&sa)->sin_addr)[0] == 127) ||
                       (sa.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&sa)->sin6_addr));
    int first = port < 0 ? 8000 : port, last = port < 0 ? 8099 : port;
    for (int p = first; p <= last && !s->d; p++) s->d = start_on(s, host, p);
    if (!s->d) {
        if (port < 0) snprintf(err, n, "no free port from 8000 to 8099 on %s", host ? host : "127.0.0.1");
        else snprintf(err, n, "cannot listen on %s port %d (in use?)", host ? host : "127.0.0.1", port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = i ? i->port : first;
    return s;
}

int kp_server_port(const kp_server *s)
{
    return s->port;
}

void kp_server_stop(kp_server *s)
{
    if (!s) return;
    kp_events_close(s->ev); /* the streams end, so their threads can be joined */
    MHD_stop_daemon(s->d);
    free(s);
}
