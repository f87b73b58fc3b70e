/*
 * log.h - leveled, one-line-per-event logging to stderr.
 *
 * Lines look like:
 *   2026-11-24T08:00:00.123Z INFO  tocsin-coordinator: listening on ...
 * The level threshold and program name are process-wide settings written once
 * at start-up by main() (before any thread starts) and read-only afterwards;
 * that is the one exception to "no global mutable state", because threading
 * a logger through every function would buy nothing.
 */
#ifndef TC_LOG_H
#define TC_LOG_H

typedef enum {
    TC_LOG_DEBUG = 0,
    TC_LOG_INFO = 1,
    TC_LOG_WARN = 2,
    TC_LOG_ERROR = 3,
} tc_log_level_t;

/* Sets program name (borrowed; must outlive the process, e.g. a literal) and
 * threshold. Call once from main(). */
void tc_log_init(const char *program, tc_log_level_t threshold);

/* Parses "debug", "info", "warn", "error". Returns 0 or TC_EINVAL. */
int tc_log_level_parse(const char *s, tc_log_level_t *out);

void tc_log(tc_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tc_debug(...) tc_log(TC_LOG_DEBUG, __VA_ARGS__)
#define tc_info(...) tc_log(TC_LOG_INFO, __VA_ARGS__)
#define tc_warn(...) tc_log(TC_LOG_WARN, __VA_ARGS__)
#define tc_error(...) tc_log(TC_LOG_ERROR, __VA_ARGS__)

#endif
