/* reseal_cache FILE...: rewrite format-1 cache entries as format 2 (whole
 * entry check), keeping keys, configs and results; refuses a damaged entry.
 * Used once, to migrate the committed cache (make reseal-cache). */
#include "kiln/report.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    int bad = 0, done = 0, kept = 0;
    for (int i = 1; i < argc; i++) {
        char err[1024];
        int rc = kiln_cache_reseal(argv[i], err, sizeof err);
        if (rc < 0) { fprintf(stderr, "reseal_cache: %s\n", err); bad = 1; }
        else if (rc == 0) done++;
        else kept++;
    }
    printf("reseal_cache: %d resealed, %d already format 2%s\n", done, kept, bad ? ", some refused" : "");
    return bad ? 2 : 0;
}
