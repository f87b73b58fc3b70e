/* libFuzzer target: plugin output and perfdata come from arbitrary
 * programs; the parser must cope with any bytes. */
#include "nagios.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_check_result_t *res = calloc(1, sizeof *res);
    if (!res)
        return 0;
    (void)tc_nagios_parse((const char *)data, size, res);
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
        tc_perf_t perf[TC_PERF_MAX];
        size_t n = 0;
        (void)tc_nagios_parse_perfdata(s, perf, TC_PERF_MAX, &n);
        free(s);
    }
    free(res);
    return 0;
}
