/*
 * ratelog.c - rate-limited log lines; see ratelog.h.
 */
#include "ratelog.h"

#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#define S_DEFAULT_INTERVAL_MS 10000

bool tc_ratelog(tc_ratelog_t *r, tc_log_level_t level, const char *fmt, ...)
{
    int64_t now = tc_mono_ms();
    int64_t interval = r->interval_ms > 0 ? r->interval_ms : S_DEFAULT_INTERVAL_MS;
    if (r->last_ms && now - r->last_ms < interval) {
        r->held++;
        return false;
    }
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r->held)
        tc_log(level, "%s (%" PRIu64 " similar lines suppressed)", line, r->held);
    else
        tc_log(level, "%s", line);
    r->held = 0;
    r->last_ms = now;
    return true;
}

void tc_ratelog_reset(tc_ratelog_t *r)
{
    r->last_ms = 0;
    r->held = 0;
}
