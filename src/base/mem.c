/* Allocation that never fails quietly. */
#include "base/base.h"
#include <stdio.h>
#include <stdlib.h>

void *kb_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fputs("kiln: out of memory\n", stderr); abort(); }
    return p;
}
