/* kiln preview: the site served on 127.0.0.1 and rebuilt on every save.
 * See src/preview/ and README.md ("Previewing while you write"). */
#include "cli/cli.h"
#include "kiln/preview.h"

#include <stdio.h>
#include <stdlib.h>

enum { O_PORT, O_HOST, O_SMOKE, O_CONTENT, O_OUT, O_CACHE, O_DATA, O_TEMPLATES, O_NO_RUN, O_ALLOW_HTML, O_JOBS,
       O_THREADS };
static const kiln_opt OPTS[] = {
    {"port", 'p', "N", "the port (default 8000, or the next free one up to 8099; 0: any free one)", O_PORT},
    {"host", 0, "ADDR", "the address to listen on (default 127.0.0.1, this machine only; another\n"
                        "address, e.g. 0.0.0.0, serves the site to the network: on purpose only)", O_HOST},
    {"smoke", 0, NULL, "shrink every run (2000 images, 2 epochs), with kiln build --smoke's cache", O_SMOKE},
    {"content", 0, "DIR", "the chapters (default content/)", O_CONTENT},
    {"out", 0, "DIR", "where the previewed site is written (default build/preview/; never out/)", O_OUT},
    {"cache", 0, "DIR", "the run cache (default CONTENT/cache/)", O_CACHE},
    {"data", 0, "DIR", "the MNIST IDX files (read only when a run must train)", O_DATA},
    {"templates", 0, "DIR", "layout.html and style.css (as for kiln build)", O_TEMPLATES},
    {"no-run", 0, NULL, "never train: a run without a result is shown as an error", O_NO_RUN},
    {"allow-html", 0, NULL, "pass raw HTML in the content through", O_ALLOW_HTML},
    {"jobs", 'j', "N", "when runs train, N at once", O_JOBS},
    {"threads", 0, "N", "trainer threads in all (default: every core)", O_THREADS},
    {NULL, 0, NULL, NULL, 0},
};
static const kiln_cmd CMD = {
    "preview", "[options]",
    "Serve the article's site on http://127.0.0.1:PORT/ and rebuild it on every save of\n"
    "content/ or templates/; open pages reload by themselves (keeping their place), show\n"
    "a content error over the last good version, and the progress of runs that train.\n"
    "The PDF is left out (kiln build writes it); the site goes to build/preview/.",
    OPTS,
    "exit status: 0 stopped (Ctrl-C), 1 could not start (the port, the folders), 2 bad\n"
    "options\n"};

int kiln_cmd_preview(int argc, char **argv)
{
    kiln_preview_opts o = {0};
    o.port = -1;
    o.build.jobs = 1;
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    const char *v;
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        switch (id) {
        case O_PORT: if (kiln_args_int(&a, v, 0, 65535, &o.port)) return 2; break;
        case O_HOST: o.host = v; break;
        case O_SMOKE: o.build.smoke = 1; break;
        case O_CONTENT: o.build.content_dir = v; break;
        case O_OUT: o.build.out_dir = v; break;
        case O_CACHE: o.build.cache_dir = v; break;
        case O_DATA: o.build.data_dir = v; break;
        case O_TEMPLATES: o.build.template_dir = v; break;
        case O_NO_RUN: o.no_train = 1; break;
        case O_ALLOW_HTML: o.build.allow_html = 1; break;
        case O_JOBS: if (kiln_args_int(&a, v, 1, 1024, &o.build.jobs)) return 2; break;
        case O_THREADS: if (kiln_args_int(&a, v, 1, 1024, &o.build.threads)) return 2; break;
        case KILN_ARG_OPERAND:
            fprintf(stderr, "kiln preview: unexpected argument '%s' (kiln preview takes options only)\n", v);
            return 2;
        default: return KILN_ARG_EXIT(id);
        }
    }
    if (!o.build.template_dir) o.build.template_dir = kiln_cli_template_dir();
    return kiln_preview_run(&o);
}
