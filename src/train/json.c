/* JSON numbers and arrays shared by the history and the range test: a
 * non-finite number is written as null and read back as NaN. */
#include "internal.h"

#include <jansson.h>
#include <math.h>

json_t *kiln_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *kiln_json_series(const double *v, long n)
{
    json_t *a = json_array();
    for (long i = 0; i < n; i++) json_array_append_new(a, kiln_json_num(v[i]));
    return a;
}

double kiln_json_get(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}
