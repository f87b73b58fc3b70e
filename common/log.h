/*
 * log.h - leveled, one-line-per-event logging to stderr.
 *
 * Text lines look like:
 *   2026-11-24T08:00:00.123Z INFO  tocsin-coordinator: listening on ...
 * JSON lines (--log-format json) are one object each:
 *   {"time":"2026-11-24T08:00:00.123Z","level":"info","program":"tocsin-coordinator",
 *    "message":"listening on ..."}
 *
 * Under systemd, when stderr is the journal (JOURNAL_STREAM names stderr's
 * device and inode, as systemd.exec(5) documents), every line starts with
 * its syslog priority, "<3>" for errors to "<7>" for debug, which journald
 * strips and stores as PRIORITY (so `journalctl -p err` works), and text
 * lines carry neither time nor program name: the journal records both
 * already. JSON lines keep every field, so that a machine reading the
 * journal's MESSAGE gets the same object as one reading a file.
 *
 * The level threshold, format, program name and journal flag are
 * process-wide settings written once at start-up by main() (before any
 * thread starts) and read-only afterwards; that is the one exception to "no
 * global mutable state", because threading a logger through every function
 * would buy nothing.
 */
#ifndef TC_LOG_H
#define TC_LOG_H

#include <stdbool.h>

typedef enum {
    TC_LOG_DEBUG = 0,
    TC_LOG_INFO = 1,
    TC_LOG_WARN = 2,
    TC_LOG_ERROR = 3,
} tc_log_level_t;

typedef enum {
    TC_LOG_TEXT = 0, /* the default */
    TC_LOG_JSON = 1, /* one JSON object per line */
} tc_log_format_t;

/* Sets program name (borrowed; must outlive the process, e.g. a literal) and
 * threshold, and looks at JOURNAL_STREAM to decide whether stderr is the
 * journal. Call once from main(), before any thread starts; may be called
 * again (also before threads) when the configuration changes the level. */
void tc_log_init(const char *program, tc_log_level_t threshold);

/* Chooses text or JSON lines. Same rules as tc_log_init(). */
void tc_log_set_format(tc_log_format_t format);

/* Parses "debug", "info", "warn" (or "warning"), "error". Returns 0 or
 * TC_EINVAL. */
int tc_log_level_parse(const char *s, tc_log_level_t *out);

/* Parses "text" or "json". Returns 0 or TC_EINVAL. */
int tc_log_format_parse(const char *s, tc_log_format_t *out);

/* True if tc_log_init() found stderr connected to the journal. */
bool tc_log_to_journal(void);

void tc_log(tc_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tc_debug(...) tc_log(TC_LOG_DEBUG, __VA_ARGS__)
#define tc_info(...) tc_log(TC_LOG_INFO, __VA_ARGS__)
#define tc_warn(...) tc_log(TC_LOG_WARN, __VA_ARGS__)
#define tc_error(...) tc_log(TC_LOG_ERROR, __VA_ARGS__)

#endif
