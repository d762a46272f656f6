/* Ids of directives: they become file names, so they cannot leave out/. */
#include "doc/doc.h"
#include <string.h>

int kr_valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48 || s[0] == '-') return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}
