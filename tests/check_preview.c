/* kiln preview's pieces (src/preview/): path resolution, content types, the
 * server's methods, headers and refusals over real sockets, the event
 * stream, the watcher, and the incremental rebuild (memo, errors, training
 * in the background) on small articles in /tmp. The browser test
 * (tests/browser/preview.mjs) drives the whole of it from Chromium. */
#include "testutil.h"
#include "preview/preview.h"
#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ck_assert_int_eq(test_write_file(p, text, strlen(text)), 0);
}

static void sub(char *out, size_t n, const char *dir, const char *name)
{
    ck_assert_int_lt(snprintf(out, n, "%s/%s", dir, name), (int)n);
}

/* a site folder: pages, a stylesheet, an image, folders with and without an
 * index, a dot-file, and symlinks that stay inside and that leave */
static const char *make_site(char tmp[64], char *root, size_t n)
{
    ck_assert_ptr_nonnull(test_tmpdir(tmp));
    sub(root, n, tmp, "site");
    char p[512];
    ck_assert_int_eq(mkdir(root, 0755), 0);
    put(root, "index.html", "<!doctype html><html><body><p>front</p></body></html>\n");
    put(root, "a.html", "<html><body>a page</body></html>");
    put(root, "style.css", "body{}");
    put(root, "results.json", "{}");
    put(root, "report.pdf", "%PDF-1.4");
    put(root, ".secret", "no");
    put(tmp, "outside.txt", "outside the site");
    sub(p, sizeof p, root, "img"); ck_assert_int_eq(mkdir(p, 0755), 0);
    put(root, "img/f.png", "\x89PNG");
    sub(p, sizeof p, root, "sub"); ck_assert_int_eq(mkdir(p, 0755), 0);
    put(root, "sub/index.html", "<html><body>sub</body></html>");
    sub(p, sizeof p, root, "in.html"); ck_assert_int_eq(symlink("a.html", p), 0);
    sub(p, sizeof p, root, "out.txt"); ck_assert_int_eq(symlink("../outside.txt", p), 0);
    sub(p, sizeof p, root, "etc"); ck_assert_int_eq(symlink("/etc", p), 0);
    sub(p, sizeof p, root, "noindex"); ck_assert_int_eq(mkdir(p, 0755), 0);
    sub(p, sizeof p, root, "noindex/index.html"); ck_assert_int_eq(symlink("../../outside.txt", p), 0);
    char real[4096];
    ck_assert_ptr_nonnull(realpath(root, real));
    snprintf(root, n, "%s", real);
    return root;
}

START_TEST(test_resolve)
{
    char tmp[64], root[4096], out[4096], want[4200];
    make_site(tmp, root, sizeof root);
    struct { const char *url; const char *file; } ok[] = {
        {"/", "index.html"}, {"/index.html", "index.html"}, {"/a.html", "a.html"}, {"//a.html", "a.html"},
        {"/img/f.png", "img/f.png"}, {"/sub", "sub/index.html"}, {"/sub/", "sub/index.html"},
        {"/in.html", "a.html"}, /* a symlink that stays inside */
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        ck_assert_msg(kp_resolve(root, ok[i].url, out, sizeof out) == 0, "%s", ok[i].url);
        snprintf(want, sizeof want, "%s/%s", root, ok[i].file);
        ck_assert_str_eq(out, want);
    }
    const char *bad[] = {
        "", "a.html", "/../outside.txt", "/img/../../outside.txt", "/img/../a.html", "/./a.html", "/..",
        "/sub/..", "/.secret", "/img/", "/img", "/noindex/", "/missing.html", "/out.txt", "/etc/passwd",
        "/etc/", "/a.html/", "/img\\..\\..\\outside.txt", "/..%2f..%2foutside.txt",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(kp_resolve(root, bad[i], out, sizeof out) == -1, "'%s' resolved to %s", bad[i], out);
    /* a name longer than any path */
    char longurl[6000];
    memset(longurl, 'a', sizeof longurl - 1);
    longurl[0] = '/';
    longurl[sizeof longurl - 1] = 0;
    ck_assert_int_eq(kp_resolve(root, longurl, out, sizeof out), -1);
    /* a buffer too small for the answer */
    ck_assert_int_eq(kp_resolve(root, "/a.html", out, 8), -1);
}
END_TEST

START_TEST(test_unescape)
{
    struct { const char *in, *out; } t[] = {
        {"/a%20b", "/a b"}, {"/%2e%2E/x", "/../x"}, {"/a%2Fb", "/a/b"}, {"/a%00.png", "/a%00.png"},
        {"/%zz%4", "/%zz%4"}, {"/%", "/%"}, {"/plain", "/plain"}, {"/%25", "/%"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char b[64];
        snprintf(b, sizeof b, "%s", t[i].in);
        ck_assert_uint_eq(kp_unescape(b), strlen(t[i].out));
        ck_assert_str_eq(b, t[i].out);
    }
}
END_TEST

START_TEST(test_content_types)
{
    struct { const char *name, *type; } t[] = {
        {"a.html", "text/html; charset=utf-8"}, {"A.HTML", "text/html; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"}, {"x.js", "text/javascript; charset=utf-8"},
        {"img/f.png", "image/png"}, {"p.jpg", "image/jpeg"}, {"p.jpeg", "image/jpeg"}, {"p.svg", "image/svg+xml"},
        {"report.pdf", "application/pdf"}, {"results.json", "application/json"}, {"f.woff2", "font/woff2"},
        {"README", "application/octet-stream"}, {"x.exe", "application/octet-stream"},
        {"dir.html/file", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) ck_assert_str_eq(kp_content_type(t[i].name), t[i].type);
    ck_assert(kp_is_html("/x/a.htm"));
    ck_assert(!kp_is_html("/x/a.css"));
}
END_TEST

START_TEST(test_inject)
{
    size_t n;
    char *s = kp_inject_build("<html><body>x</body></html>", 27, 7, &n);
    ck_assert_str_eq(s, "<html><body>x<script src=\"/__kiln/live.js\" data-build=\"7\"></script>\n</body></html>");
    ck_assert_uint_eq(n, strlen(s));
    free(s);
    s = kp_inject_build("<p>no body end", 14, 1, &n); /* at the end */
    ck_assert_str_eq(s, "<p>no body end<script src=\"/__kiln/live.js\" data-build=\"1\"></script>\n");
    free(s);
    s = kp_inject_build("<BODY></BODY><!-- </body> -->", 29, 2, &n); /* the last one */
    ck_assert_ptr_nonnull(strstr(s, "<!-- <script"));
    free(s);
}
END_TEST

/* ---- a raw HTTP client: what a browser would send, and what it must not ---- */
static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* the whole answer to one request (the server closes after it) */
static char *http(int port, const char *method, const char *path, const char *host)
{
    int fd = connect_to(port);
    char req[8192];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n", method, path,
                     host ? host : "127.0.0.1", !strcmp(method, "POST") ? "Content-Length: 3\r\n" : "");
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    if (!strcmp(method, "POST")) ck_assert_int_eq(write(fd, "a=b", 3), 3);
    sbuf b = {0};
    char buf[4096];
    for (ssize_t k; (k = read(fd, buf, sizeof buf)) > 0;) sb_addn(&b, buf, (size_t)k);
    close(fd);
    return sb_take(&b);
}

static int status_of(const char *resp)
{
    int st = 0;
    sscanf(resp, "HTTP/1.%*d %d", &st);
    return st;
}

static void expect(int port, const char *method, const char *path, int status, const char *needle)
{
    char *r = http(port, method, path, NULL);
    ck_assert_msg(status_of(r) == status, "%s %s: %d, not %d:\n%s", method, path, status_of(r), status, r);
    if (needle) ck_assert_msg(strcasestr(r, needle) != NULL, "%s %s: no '%s' in\n%s", method, path, needle, r);
    free(r);
}

START_TEST(test_server)
{
    char tmp[64], root[4096];
    make_site(tmp, root, sizeof root);
    kp_events *ev = kp_events_new();
    char err[256];
    kp_server *s = kp_server_start(root, NULL, 0, ev, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    int port = kp_server_port(s);
    ck_assert_int_gt(port, 0);
    expect(port, "GET", "/", 200, "Content-Type: text/html; charset=utf-8");
    expect(port, "GET", "/", 200, "<script src=\"/__kiln/live.js\" data-build=\"0\"></script>\n</body>");
    expect(port, "GET", "/a.html", 200, "X-Content-Type-Options: nosniff");
    expect(port, "GET", "/a.html", 200, "Cache-Control: no-store");
    expect(port, "GET", "/style.css", 200, "Content-Type: text/css");
    expect(port, "GET", "/img/f.png", 200, "Content-Type: image/png");
    expect(port, "GET", "/report.pdf", 200, "Content-Type: application/pdf");
    expect(port, "GET", "/results.json", 200, "Content-Type: application/json");
    expect(port, "GET", "/sub/", 200, "sub");
    expect(port, "GET", "/__kiln/live.js", 200, "new EventSource('/__kiln/events')");
    expect(port, "GET", "/__kiln/live.js", 200, "Content-Type: text/javascript");
    /* HEAD: the headers, no body */
    char *r = http(port, "HEAD", "/a.html", NULL);
    ck_assert_int_eq(status_of(r), 200);
    ck_assert_ptr_null(strstr(r, "a page"));
    free(r);
    /* every other method: 405 with Allow */
    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) expect(port, methods[i], "/a.html", 405, "Allow: GET, HEAD");
    /* out of the folder, encoded or not; listings; dot-files; symlinks out */
    const char *gone[] = {"/../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E%2Foutside.txt", "/img/%2e%2e/%2e%2e/outside.txt",
                          "/..%2foutside.txt", "/%2e%2e%5coutside.txt", "/img/", "/img", "/noindex/", "/.secret",
                          "/%2esecret", "/out.txt", "/etc/passwd", "/etc/", "/missing", "/__kiln/", "/__kiln/other",
                          "/a.html%00.png", "/%252e%252e/outside.txt"};
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++) {
        r = http(port, "GET", gone[i], NULL);
        ck_assert_msg(status_of(r) == 404 || status_of(r) == 400, "GET %s: %d\n%s", gone[i], status_of(r), r);
        ck_assert_msg(!strstr(r, "outside the site") && !strstr(r, "root:"), "GET %s leaked:\n%s", gone[i], r);
        free(r);
    }
    /* a page that is not there still follows the builds; anything else is plain */
    expect(port, "GET", "/missing.html", 404, "<script src=\"/__kiln/live.js\"");
    expect(port, "GET", "/missing/", 404, "Content-Type: text/html");
    expect(port, "GET", "/img/missing.png", 404, "Content-Type: text/plain");
    /* a Host that is not this machine (DNS rebinding): refused */
    r = http(port, "GET", "/", "evil.example");
    ck_assert_int_eq(status_of(r), 403);
    free(r);
    char host[64];
    snprintf(host, sizeof host, "localhost:%d", port);
    r = http(port, "GET", "/", host);
    ck_assert_int_eq(status_of(r), 200);
    free(r);
    /* the port is taken: asked for it by number, a clear error */
    kp_server *again = kp_server_start(root, NULL, port, ev, err, sizeof err);
    ck_assert_ptr_null(again);
    ck_assert_ptr_nonnull(strstr(err, "in use"));
    /* named loopback: the Host check stays; another address: it is the user's choice */
    kp_server *named = kp_server_start(root, "127.0.0.1", 0, ev, err, sizeof err);
    ck_assert_ptr_nonnull(named);
    r = http(kp_server_port(named), "GET", "/", "evil.example");
    ck_assert_int_eq(status_of(r), 403);
    free(r);
    kp_server_stop(named);
    kp_server *wide = kp_server_start(root, "0.0.0.0", 0, ev, err, sizeof err);
    ck_assert_ptr_nonnull(wide);
    r = http(kp_server_port(wide), "GET", "/", "preview.example");
    ck_assert_int_eq(status_of(r), 200);
    free(r);
    kp_server_stop(wide);
    /* no such address, no such folder */
    ck_assert_ptr_null(kp_server_start(root, "no.such.host.invalid", 0, ev, err, sizeof err));
    /* an address of no interface here (TEST-NET-1): named as such, not as a busy port */
    ck_assert_ptr_null(kp_server_start(root, "192.0.2.1", -1, ev, err, sizeof err));
    ck_assert_msg(strstr(err, "'192.0.2.1': not an address of this machine"), "%s", err);
    ck_assert_ptr_null(kp_server_start("/no/such/folder", NULL, 0, ev, err, sizeof err));
    kp_server_stop(s);
    kp_events_free(ev);
}
END_TEST

START_TEST(test_default_port)
{
    char tmp[64], root[4096], err[256];
    make_site(tmp, root, sizeof root);
    kp_events *ev = kp_events_new();
    kp_server *a = kp_server_start(root, NULL, -1, ev, err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    kp_server *b = kp_server_start(root, NULL, -1, ev, err, sizeof err);
    ck_assert_msg(b != NULL, "%s", err);
    ck_assert_int_ge(kp_server_port(a), 8000);
    ck_assert_int_le(kp_server_port(b), 8099);
    ck_assert_int_gt(kp_server_port(b), kp_server_port(a)); /* the next free one */
    kp_server_stop(b);
    kp_server_stop(a);
    kp_events_free(ev);
}
END_TEST

/* read the event stream until needle (or 10 s) */
static char *stream_until(int fd, const char *needle)
{
    sbuf b = {0};
    char buf[4096];
    double until = kr_now() + 10;
    while (kr_now() < until && !(b.s && strstr(b.s, needle))) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t k = read(fd, buf, sizeof buf);
        if (k <= 0) break;
        sb_addn(&b, buf, (size_t)k);
    }
    return sb_take(&b);
}

START_TEST(test_events)
{
    char tmp[64], root[4096], err[256];
    make_site(tmp, root, sizeof root);
    kp_events *ev = kp_events_new();
    kp_server *s = kp_server_start(root, NULL, 0, ev, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    kp_events_set(ev, "ok", NULL);
    int fd = connect_to(kp_server_port(s));
    const char *req = "GET /__kiln/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    /* a page that connects gets the state at once */
    char *got = stream_until(fd, "data: 1\n\n");
    ck_assert_ptr_nonnull(strstr(got, "Content-Type: text/event-stream"));
    ck_assert_ptr_nonnull(strstr(got, "retry: 300"));
    ck_assert_ptr_nonnull(strstr(got, "event: ok\ndata: 1\n\n"));
    free(got);
    /* a content error, several lines: one data: line each */
    kp_events_set(ev, "broken", "content/01-a.md:7: {figure} f: bad\ncontent/01-a.md:9: second");
    got = stream_until(fd, "second\n\n");
    ck_assert_ptr_nonnull(strstr(got, "event: broken\ndata: content/01-a.md:7: {figure} f: bad\ndata: content/01-a.md:9: second\n\n"));
    free(got);
    /* a CR ends a line for EventSource too: never a field of its own */
    kp_events_set(ev, "broken", "content/01-a.md:7: x\revent: ok\rdata: 9");
    got = stream_until(fd, "data: 9\n\n");
    ck_assert_ptr_nonnull(strstr(got, "event: broken\ndata: content/01-a.md:7: x\ndata: event: ok\ndata: data: 9\n\n"));
    free(got);
    /* a page is labelled with the good build it comes from */
    kp_events_set(ev, "ok", "ignored");
    ck_assert_uint_eq(kp_events_build(ev), 2);
    got = stream_until(fd, "data: 2\n\n");
    ck_assert_ptr_nonnull(strstr(got, "event: ok\ndata: 2\n\n"));
    free(got);
    char *page = http(kp_server_port(s), "GET", "/", NULL);
    ck_assert_ptr_nonnull(strstr(page, "data-build=\"2\""));
    free(page);
    char kind[32], data[256];
    kp_events_current(ev, kind, sizeof kind, data, sizeof data);
    ck_assert_str_eq(kind, "ok");
    ck_assert_str_eq(data, "2");
    close(fd);
    kp_server_stop(s); /* with a stream still open: it ends */
    kp_events_free(ev);
}
END_TEST

START_TEST(test_watch)
{
    char tmp[64], dir[256], cache[256], p[512], err[256];
    ck_assert_ptr_nonnull(test_tmpdir(tmp));
    sub(dir, sizeof dir, tmp, "content");
    sub(cache, sizeof cache, dir, "cache");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(mkdir(cache, 0755), 0);
    const char *dirs[] = {dir};
    const char *skip[] = {cache};
    kp_watch *w = kp_watch_open(dirs, 1, skip, 1, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    const char *what = NULL;
    ck_assert_int_eq(kp_watch_wait(w, 50, 10, &what), 0);
    put(dir, "01-a.md", "# A\n");
    ck_assert_int_eq(kp_watch_wait(w, 2000, 20, &what), 1);
    ck_assert_str_eq(what, "01-a.md");
    /* an editor's litter and the cache the build writes: nothing */
    put(dir, ".01-a.md.swp", "x");
    put(dir, "01-a.md~", "x");
    put(dir, "4913", "x");
    put(cache, "0123.json", "{}");
    ck_assert_int_eq(kp_watch_wait(w, 200, 10, &what), 0);
    /* saved by rename over (how many editors save) */
    put(dir, "new.tmp", "# B\n");
    char from[512];
    sub(from, sizeof from, dir, "new.tmp");
    sub(p, sizeof p, dir, "02-b.md");
    ck_assert_int_eq(rename(from, p), 0);
    int r = kp_watch_wait(w, 2000, 20, &what);
    ck_assert_int_eq(r, 1);
    ck_assert_str_eq(what, "02-b.md");
    /* a new folder (of images) is watched too */
    sub(p, sizeof p, dir, "pics");
    ck_assert_int_eq(mkdir(p, 0755), 0);
    ck_assert_int_eq(kp_watch_wait(w, 2000, 20, &what), 1);
    put(p, "x.png", "png");
    ck_assert_int_eq(kp_watch_wait(w, 2000, 20, &what), 1);
    ck_assert_str_eq(what, "x.png");
    /* a deletion counts */
    sub(p, sizeof p, dir, "01-a.md");
    ck_assert_int_eq(unlink(p), 0);
    ck_assert_int_eq(kp_watch_wait(w, 2000, 20, &what), 1);
    kp_watch_close(w);
    /* nothing to watch */
    const char *none[] = {"/no/such/folder"};
    ck_assert_ptr_null(kp_watch_open(none, 1, NULL, 0, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/no/such/folder"));
}
END_TEST

/* ---- the builds ---------------------------------------------------------- */
static const char *INDEX_MD = "# Preview test\n\nA small article.\n";
static const char *CHAPTER_MD =
    "# Schedules\n\nThe WORD paragraph.\n\n"
    "```{experiment} stepped\nschedule = step\nstep_drop = 0.5\nstep_every = 1\nepochs = 3\n```\n\n"
    "```{figure} sched\nkind = schedule\nruns = stepped\nper = epoch\ntitle = TITLE\n```\n\n"
    "See {{fig:sched}}.\n";

static void chapter(const char *content, const char *word, const char *title)
{
    sbuf b = {0};
    for (const char *p = CHAPTER_MD; *p;) {
        if (!strncmp(p, "WORD", 4)) { sb_add(&b, word); p += 4; }
        else if (!strncmp(p, "TITLE", 5)) { sb_add(&b, title); p += 5; }
        else sb_addc(&b, *p++);
    }
    put(content, "01-s.md", b.s);
    sb_free(&b);
}

typedef struct article {
    char tmp[64], content[256], out[256], page[300];
} article;

static void make_article(article *a, kiln_preview_opts *o)
{
    ck_assert_ptr_nonnull(test_tmpdir(a->tmp));
    sub(a->content, sizeof a->content, a->tmp, "content");
    sub(a->out, sizeof a->out, a->tmp, "site");
    sub(a->page, sizeof a->page, a->out, "01-s.html");
    ck_assert_int_eq(mkdir(a->content, 0755), 0);
    put(a->content, "index.md", INDEX_MD);
    chapter(a->content, "first", "Steps");
    memset(o, 0, sizeof *o);
    o->build.content_dir = a->content;
    o->build.out_dir = a->out;
    o->build.template_dir = "templates";
    o->build.data_dir = test_data_dir();
    o->log = fopen("/dev/null", "w");
}

static void state(kp_events *ev, char *kind, char *data, size_t dn)
{
    kp_events_current(ev, kind, 32, data, dn);
}

START_TEST(test_incremental)
{
    article a;
    kiln_preview_opts o;
    make_article(&a, &o);
    ck_assert_int_eq(mkdir(a.out, 0755), 0);
    kp_events *ev = kp_events_new();
    kp_builder *b = kp_builder_new(&o, ev);
    char kind[32], data[4096];
    double ms;
    ck_assert_int_eq(kp_builder_build(b, &ms), 0);
    state(ev, kind, data, sizeof data);
    ck_assert_str_eq(kind, "ok");
    ck_assert_str_eq(data, "1");
    char *html = test_read_file(a.page, NULL);
    ck_assert_ptr_nonnull(strstr(html, "first"));
    free(html);
    char pdf[300];
    sub(pdf, sizeof pdf, a.out, "report.pdf");
    ck_assert_int_ne(access(pdf, F_OK), 0); /* the preview leaves the PDF out */
    char manifest[300];
    sub(manifest, sizeof manifest, a.content, "cache/manifest/build.json");
    ck_assert_int_ne(access(manifest, F_OK), 0); /* and the manifest */
    /* a prose edit: the figure is not drawn again */
    long hits0, misses0, hits1, misses1;
    chapter(a.content, "second", "Steps");
    ck_assert_int_eq(kp_builder_build(b, &ms), 0);
    kp_builder_memo_counts(b, &hits0, &misses0);
    html = test_read_file(a.page, NULL);
    ck_assert_ptr_nonnull(strstr(html, "second"));
    ck_assert_ptr_null(strstr(html, "first"));
    free(html);
    ck_assert_int_ge(hits0, 1);
    /* the figure's title changed: drawn again, once in each of its four
       variants (light, dark, narrow, narrow dark) */
    chapter(a.content, "second", "Other steps");
    ck_assert_int_eq(kp_builder_build(b, &ms), 0);
    kp_builder_memo_counts(b, &hits1, &misses1);
    ck_assert_int_eq(misses1, misses0 + 4);
    /* a broken directive: the messages go to the pages, the site stays */
    put(a.content, "01-s.md", "# Schedules\n\nBroken.\n\n```{figure} sched\nkind = histroy\nruns = nobody\n```\n");
    ck_assert_int_eq(kp_builder_build(b, &ms), 2);
    state(ev, kind, data, sizeof data);
    ck_assert_str_eq(kind, "broken");
    ck_assert_msg(strstr(data, "01-s.md:6: ") != NULL, "%s", data);
    ck_assert_ptr_nonnull(strstr(data, "did you mean 'history'?"));
    html = test_read_file(a.page, NULL);
    ck_assert_ptr_nonnull(strstr(html, "second")); /* the last good version */
    free(html);
    /* fixed: a good build again */
    chapter(a.content, "third", "Steps");
    ck_assert_int_eq(kp_builder_build(b, &ms), 0);
    state(ev, kind, data, sizeof data);
    ck_assert_str_eq(kind, "ok");
    ck_assert_str_eq(data, "4"); /* the fourth good build */
    kp_builder_free(b);
    kp_events_free(ev);
    fclose(o.log);
}
END_TEST

/* A run without a result trains in the background (a tiny one: 300 images,
 * one epoch), its progress goes to the pages, and the next build has it. */
START_TEST(test_background_training)
{
    char data_ok[4200];
    snprintf(data_ok, sizeof data_ok, "%s/train-images-idx3-ubyte.gz", test_data_dir());
    char alt[4200];
    snprintf(alt, sizeof alt, "%s/train-images-idx3-ubyte", test_data_dir());
    if (access(data_ok, R_OK) && access(alt, R_OK)) {
        fprintf(stderr, "check_preview: SKIP background training: no MNIST in %s (make check fetches it)\n", test_data_dir());
        return;
    }
    article a;
    kiln_preview_opts o;
    make_article(&a, &o);
    ck_assert_int_eq(mkdir(a.out, 0755), 0);
    put(a.content, "02-t.md", "# Tiny\n\n```{experiment} tiny\ntrain_limit = 300\ntest_limit = 100\nepochs = 1\n"
                              "batch_size = 50\n```\n\nIt reached {{tiny.test_accuracy:.1%}}.\n");
    kp_events *ev = kp_events_new();
    kp_builder *b = kp_builder_new(&o, ev);
    char kind[32], data[4096];
    ck_assert_int_ne(kp_builder_build(b, NULL), 0);
    state(ev, kind, data, sizeof data);
    ck_assert_str_eq(kind, "progress");
    ck_assert_ptr_nonnull(strstr(data, "1 run to train"));
    /* meanwhile a prose edit is built at once (and still lacks the run) */
    chapter(a.content, "meanwhile", "Steps");
    double t0 = kr_now();
    ck_assert_int_ne(kp_builder_build(b, NULL), 0);
    ck_assert_double_lt(kr_now() - t0, 5);
    int seen_epoch = 0;
    while (kp_builder_training(b) && kr_now() - t0 < 120) {
        state(ev, kind, data, sizeof data);
        if (!strcmp(kind, "progress") && strstr(data, "epoch")) seen_epoch = 1;
        usleep(1000);
    }
    ck_assert(!kp_builder_training(b));
    ck_assert(kp_builder_trained(b));
    (void)seen_epoch; /* one epoch may come and go between two looks */
    ck_assert_int_eq(kp_builder_build(b, NULL), 0);
    char page[300];
    sub(page, sizeof page, a.out, "02-t.html");
    char *html = test_read_file(page, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "It reached "));
    free(html);
    char train_out[300];
    snprintf(train_out, sizeof train_out, "%s.train", a.out);
    ck_assert_int_ne(access(train_out, F_OK), 0); /* the training build's folder is gone */
    kp_builder_free(b);
    kp_events_free(ev);
    fclose(o.log);
}
END_TEST

/* kiln_preview_run end to end: served, an edit shows without asking */
typedef struct run_arg {
    kiln_preview_opts o;
    volatile int stop;
    volatile int port;
    int rc;
} run_arg;

static void on_ready(int port, void *arg)
{
    ((run_arg *)arg)->port = port;
}

static void *run_thread(void *arg)
{
    run_arg *r = arg;
    r->rc = kiln_preview_run(&r->o);
    return NULL;
}

START_TEST(test_preview_run)
{
    article a;
    run_arg r;
    memset(&r, 0, sizeof r);
    make_article(&a, &r.o);
    r.o.port = 0;
    r.o.stop = &r.stop;
    r.o.ready = on_ready;
    r.o.ready_arg = &r;
    pthread_t th;
    pthread_create(&th, NULL, run_thread, &r);
    double t0 = kr_now();
    while (!r.port && kr_now() - t0 < 30) usleep(10000);
    ck_assert_int_gt(r.port, 0);
    char *page = http(r.port, "GET", "/01-s.html", NULL);
    ck_assert_int_eq(status_of(page), 200);
    ck_assert_ptr_nonnull(strstr(page, "first"));
    free(page);
    chapter(a.content, "edited", "Steps");
    t0 = kr_now();
    int seen = 0;
    while (!seen && kr_now() - t0 < 10) {
        page = http(r.port, "GET", "/01-s.html", NULL);
        seen = strstr(page, "edited") != NULL;
        free(page);
        if (!seen) usleep(5000);
    }
    ck_assert(seen);
    fprintf(stderr, "check_preview: save to served in %.0f ms\n", (kr_now() - t0) * 1000);
    r.stop = 1;
    pthread_join(th, NULL);
    ck_assert_int_eq(r.rc, 0);
    fclose(r.o.log);
    /* a content folder that is not there: bad options */
    kiln_preview_opts bad = {0};
    bad.build.content_dir = "/no/such/content";
    bad.log = fopen("/dev/null", "w");
    ck_assert_int_eq(kiln_preview_run(&bad), 2);
    fclose(bad.log);
}
END_TEST

static Suite *preview_suite(void)
{
    Suite *s = suite_create("preview");
    TCase *t = tcase_create("server");
    tcase_add_test(t, test_resolve);
    tcase_add_test(t, test_unescape);
    tcase_add_test(t, test_content_types);
    tcase_add_test(t, test_inject);
    tcase_add_test(t, test_server);
    tcase_add_test(t, test_default_port);
    tcase_add_test(t, test_events);
    tcase_add_test(t, test_watch);
    suite_add_tcase(s, t);
    TCase *b = tcase_create("builds");
    tcase_set_timeout(b, 300);
    tcase_add_test(b, test_incremental);
    tcase_add_test(b, test_background_training);
    tcase_add_test(b, test_preview_run);
    suite_add_tcase(s, b);
    return s;
}

int main(void)
{
    return test_run_suite(preview_suite());
}
