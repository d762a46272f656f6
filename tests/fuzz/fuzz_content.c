/* libFuzzer target: one Markdown chapter with directives, as kiln reads it
 * (cmark, then kiln's directives, ids, keys, references, base chains), then
 * resolved (values, tables, labels) and written as HTML pages into a scratch
 * folder. No run has a result: values show as n/a, as before any training.
 * Built by `make fuzz`. */
#include "kiln/report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char site[64];

static void remove_site(void)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", site);
    if (system(cmd)) { /* best effort */ }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!site[0]) {
        snprintf(site, sizeof site, "/tmp/kiln-fuzz-content-%ld", (long)getpid());
        mkdir(site, 0777);
        atexit(remove_site);
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    kiln_build_opts o = {0};
    o.quiet = 1;
    o.template_dir = KILN_FUZZ_TEMPLATES;
    o.allow_html = size && (data[0] & 1);
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    if (kiln_doc_load_text(&doc, "fuzz.md", text, &o, &d) == 0 && doc) {
        if (kiln_doc_resolve(doc, NULL, &d) == 0) kiln_html_write(doc, site, &d);
        kiln_doc_free(doc);
    }
    kiln_diag_free(&d);
    free(text);
    return 0;
}
