/* Content types by file name: what kiln writes into a site (pages, the
 * stylesheet, figures, the PDF, JSON data) and what a chapter may link
 * (its images, fonts, scripts). Anything else is application/octet-stream,
 * which a browser downloads instead of guessing (the server also says
 * X-Content-Type-Options: nosniff). */
#include "preview/preview.h"

#include <string.h>
#include <strings.h>

static const struct { const char *ext, *type; } TYPES[] = {
    {"html", "text/html; charset=utf-8"},  {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},          {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},            {"svg", "image/svg+xml"},
    {"png", "image/png"},                  {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},                {"gif", "image/gif"},
    {"webp", "image/webp"},                {"ico", "image/x-icon"},
    {"pdf", "application/pdf"},            {"woff", "font/woff"},
    {"woff2", "font/woff2"},               {"ttf", "font/ttf"},
    {"otf", "font/otf"},                   {"wasm", "application/wasm"},
};

static const char *ext_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    return dot ? dot + 1 : "";
}

const char *kp_content_type(const char *path)
{
    const char *e = ext_of(path);
    for (size_t i = 0; i < sizeof TYPES / sizeof *TYPES; i++)
        if (!strcasecmp(e, TYPES[i].ext)) return TYPES[i].type;
    return "application/octet-stream";
}

int kp_is_html(const char *path)
{
    return !strncmp(kp_content_type(path), "text/html", 9);
}
