/*
 * util.h - small helpers shared by every tocsin process: time, durations,
 * endpoints, files.
 */
#ifndef TC_UTIL_H
#define TC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds since the Unix epoch. */
int64_t tc_now_ms(void);

/* Monotonic clock in milliseconds, for timers and timeouts. */
int64_t tc_mono_ms(void);

/* Formats `ms` as RFC 3339 UTC with milliseconds, "2026-11-24T08:00:00.123Z".
 * `cap` must be at least 25. Returns dst. */
char *tc_time_format(int64_t ms, char *dst, size_t cap);

/* Parses a duration: a non-negative integer followed by ms, s, m, h or d
 * ("250ms", "5s", "2m"); a bare number means seconds. Returns 0 and sets
 * *ms, or TC_EINVAL. Values above 30 days are TC_EINVAL. */
int tc_duration_parse(const char *s, int64_t *ms);

/* Writes a compact duration: "250ms", "2500ms" (under a minute, sub-second
 * precision is kept), "5s", "2m5s", "3h4m", "2d3h".
 * Negative values (clock skew between hosts) are shown as "0s". `cap` >= 16.
 * Returns dst. */
char *tc_duration_compact(int64_t ms, char *dst, size_t cap);

/* Parses a point in time for operators: RFC 3339 ("2026-12-01T22:00:00Z",
 * "2026-12-01T23:00+01:00"; seconds optional, a space may stand for the
 * T), "now", or "+DURATION" (from now, see tc_duration_parse). `now_ms` is
 * the clock those are relative to. Returns 0 and sets *ms, or TC_EINVAL. */
int tc_when_parse(const char *s, int64_t now_ms, int64_t *ms);

/* Parses a decimal unsigned integer with no sign, spaces or trailing text.
 * Returns 0 or TC_EINVAL (also on overflow above `max`). */
int tc_u64_parse(const char *s, uint64_t max, uint64_t *out);

/* True if `ep` is a ZeroMQ endpoint tocsin accepts: tcp://HOST:PORT or
 * ipc://PATH. */
bool tc_endpoint_valid(const char *ep);

/* True if `ep` is tcp:// on a loopback address (127.0.0.0/8, localhost, ::1)
 * or an ipc:// endpoint. */
bool tc_endpoint_is_loopback(const char *ep);

/* Creates directory `path` and its parents with mode 0750 if missing.
 * Returns 0 or TC_ESYS. */
int tc_mkdir_p(const char *path);

/* A growable byte buffer; the caller owns `data` (free() it). Zero it to
 * start. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} tc_buf_t;

/* Makes room for `more` bytes after len. Returns 0 or TC_ENOMEM. */
int tc_buf_reserve(tc_buf_t *b, size_t more);

#endif
