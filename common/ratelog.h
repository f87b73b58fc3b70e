/*
 * ratelog.h - at most one log line per interval for a recurring condition,
 * with the count of the lines it held back.
 *
 * A daemon that logs every occurrence of a persistent problem (a full
 * spool, a full disk, a flood of bad frames) writes megabytes that bury the
 * one line an operator needs. A tc_ratelog_t stands for one kind of line:
 * the first occurrence is logged at once, later ones within `interval_ms`
 * are counted, and the next line that gets through says how many were
 * left out.
 *
 * The struct is small and meant to be embedded by value in its owner's
 * context (zero it, then set interval_ms); its fields are private to
 * ratelog.c. One thread uses a given ratelog.
 */
#ifndef TC_RATELOG_H
#define TC_RATELOG_H

#include "log.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t interval_ms; /* set by the owner; 0 means 10 s */
    int64_t last_ms;     /* private: monotonic time of the last line */
    uint64_t held;       /* private: lines held back since then */
} tc_ratelog_t;

/* Logs the printf-style line at `level` if the interval has passed since
 * the last one of `r` (or there was none), appending "(N similar lines
 * suppressed)" when some were held back; otherwise only counts it.
 * Returns true if the line was written. */
bool tc_ratelog(tc_ratelog_t *r, tc_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Forgets the last line, so that the next occurrence is logged at once
 * (after the condition cleared). Lines still held back are dropped. */
void tc_ratelog_reset(tc_ratelog_t *r);

#endif
