/* The script every page the preview serves gets (the files in the site stay
 * as kiln build writes them: it is put in as the page is sent). It follows
 * /__kiln/events:
 *   ok N       build N is good: a page from another build reloads, keeping
 *              its scroll position (sessionStorage, per path)
 *   broken     a content error: FILE:LINE: and the message over the page
 *              (the last good version), until the next good build
 *   progress   a run is training: its status line at the bottom
 * ("error" is EventSource's own name for a lost connection, hence
 * "broken".) Messages are set as text, never as HTML. */
#include "preview/preview.h"
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char kp_live_js[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var me = document.currentScript;\n"
    "  var build = me ? me.getAttribute('data-build') : '';\n"
    "  var key = 'kiln-preview-scroll:' + location.pathname;\n"
    "  var y = sessionStorage.getItem(key);\n"
    "  if (y !== null) {\n"
    "    sessionStorage.removeItem(key);\n"
    "    var back = function () { window.scrollTo(0, +y); };\n"
    "    if (document.readyState === 'complete') back(); else window.addEventListener('load', back);\n"
    "  }\n"
    "  function box(id, css) {\n"
    "    var b = document.getElementById(id);\n"
    "    if (!b) {\n"
    "      b = document.createElement('div');\n"
    "      b.id = id;\n"
    "      b.setAttribute('role', 'status');\n"
    "      b.style.cssText = 'position:fixed;left:0;right:0;z-index:2147483647;margin:0;' +\n"
    "        'font:14px/1.4 ui-monospace,monospace;white-space:pre-wrap;' + css;\n"
    "      document.body.appendChild(b);\n"
    "    }\n"
    "    return b;\n"
    "  }\n"
    "  function drop(id) { var b = document.getElementById(id); if (b) b.remove(); }\n"
    "  function broken(text) {\n"
    "    var b = box('kiln-preview-error', 'top:0;max-height:60vh;overflow:auto;padding:1em 1.5em;' +\n"
    "      'background:#fff4f4;color:#7a0000;border-bottom:3px solid #c00;box-shadow:0 2px 12px rgba(0,0,0,.3);');\n"
    "    b.setAttribute('role', 'alert');\n"
    "    b.textContent = '';\n"
    "    var h = document.createElement('strong');\n"
    "    h.textContent = 'kiln preview: the build failed; below is the last good version.\\n\\n';\n"
    "    b.appendChild(h);\n"
    "    b.appendChild(document.createTextNode(text));\n"
    "  }\n"
    "  function progress(text) {\n"
    "    box('kiln-preview-progress', 'bottom:0;padding:.5em 1.5em;background:#1d2b3a;color:#fff;')\n"
    "      .textContent = text;\n"
    "  }\n"
    "  var es = new EventSource('/__kiln/events');\n"
    "  es.addEventListener('ok', function (e) {\n"
    "    if (e.data !== build) {\n"
    "      sessionStorage.setItem(key, String(window.scrollY));\n"
    "      location.reload();\n"
    "    } else { drop('kiln-preview-error'); drop('kiln-preview-progress'); }\n"
    "  });\n"
    "  es.addEventListener('broken', function (e) { drop('kiln-preview-progress'); broken(e.data); });\n"
    "  es.addEventListener('progress', function (e) { progress(e.data); });\n"
    "})();\n";

/* the tag, with the number of the build the page comes from */
static const char TAG_FMT[] = "<script src=\"/__kiln/live.js\" data-build=\"%lu\"></script>\n";

static const char *last_body_end(const char *page, size_t len)
{
    for (size_t i = len; i >= 7; i--)
        if (!strncasecmp(page + i - 7, "</body>", 7)) return page + i - 7;
    return NULL;
}

char *kp_inject_build(const char *page, size_t len, unsigned long build, size_t *out_len)
{
    char tag[128];
    int tl = snprintf(tag, sizeof tag, TAG_FMT, build);
    const char *at = last_body_end(page, len);
    size_t head = at ? (size_t)(at - page) : len;
    char *out = kb_xmalloc(len + (size_t)tl + 1);
    memcpy(out, page, head);
    memcpy(out + head, tag, (size_t)tl);
    memcpy(out + head + tl, page + head, len - head);
    out[len + tl] = 0;
    *out_len = len + (size_t)tl;
    return out;
}
