#include "log.h"

#include "error.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

/* Written once by tc_log_init() before threads exist; see log.h. */
static const char *s_program = "tocsin";
static tc_log_level_t s_threshold = TC_LOG_INFO;

void tc_log_init(const char *program, tc_log_level_t threshold)
{
    s_program = program;
    s_threshold = threshold;
}

int tc_log_level_parse(const char *s, tc_log_level_t *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (tc_log_level_t)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = TC_LOG_WARN;
        return 0;
    }
    return TC_EINVAL;
}

void tc_log(tc_log_level_t level, const char *fmt, ...)
{
    static const char *tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    if (level < s_threshold)
        return;
    char when[40];
    tc_time_format(tc_now_ms(), when, sizeof when);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so concurrent writers never interleave mid-line. */
    fprintf(stderr, "%s %s %s: %s\n", when, tags[level], s_program, line);
}
