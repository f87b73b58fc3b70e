/*
 * json.h - a small streaming JSON writer into a growable buffer.
 *
 * The writer inserts commas and colons itself, so a caller only says what
 * comes next: tc_json_object_begin(j); tc_json_key(j, "id"); tc_json_uint(j,
 * 3); tc_json_object_end(j). Output is compact (no spaces or newlines).
 *
 * Strings are escaped per RFC 8259: '"', '\\' and every control character
 * (C0, DEL and C1) are escaped, and ill-formed UTF-8 is replaced by U+FFFD
 * (one per maximal ill-formed subsequence), so the output is always valid
 * UTF-8 JSON and safe on a terminal whatever bytes a remote host sent.
 * U+2028 and U+2029 are escaped as well so the output is safe to embed in
 * JavaScript. Short escapes (\n, \t, ...) are used where JSON has them.
 *
 * Errors are sticky: after an allocation failure every call is a no-op and
 * tc_json_error() reports TC_ENOMEM, so callers check once at the end.
 * Misuse (a value where a key is expected, unbalanced ends, nesting deeper
 * than TC_JSON_DEPTH_MAX) is a caller bug and asserts.
 *
 * A writer is not thread-safe; use one per thread.
 */
#ifndef TC_JSON_H
#define TC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_JSON_DEPTH_MAX 32

typedef struct tc_json tc_json_t;

/* Returns a new, empty writer; caller owns it. NULL on allocation failure. */
tc_json_t *tc_json_new(void);

/* Frees the writer; NULL-safe; nulls *pself. */
void tc_json_destroy(tc_json_t **pself);

/* Empties the buffer and the nesting state, keeping the allocation, so one
 * writer can produce many documents (one per output line). Clears the
 * sticky error. */
void tc_json_reset(tc_json_t *self);

void tc_json_object_begin(tc_json_t *self);
void tc_json_object_end(tc_json_t *self);
void tc_json_array_begin(tc_json_t *self);
void tc_json_array_end(tc_json_t *self);

/* Writes an object key; must be followed by exactly one value. `key` is
 * escaped like any string. */
void tc_json_key(tc_json_t *self, const char *key);

/* Scalar values. tc_json_string(NULL) writes null. */
void tc_json_string(tc_json_t *self, const char *s);
/* Same for `len` bytes that need not be NUL-terminated (NUL bytes inside
 * are escaped as \u0000). */
void tc_json_string_n(tc_json_t *self, const char *s, size_t len);
void tc_json_int(tc_json_t *self, int64_t v);
void tc_json_uint(tc_json_t *self, uint64_t v);
/* Shortest form that reads back as the same double; NaN and infinities,
 * which JSON cannot represent, are written as null. */
void tc_json_double(tc_json_t *self, double v);
void tc_json_bool(tc_json_t *self, bool v);
void tc_json_null(tc_json_t *self);
/* A point in time, `ms` milliseconds since the epoch, as an RFC 3339 UTC
 * string with milliseconds ("2026-11-24T08:00:00.123Z", see
 * tc_time_format()); 0, tocsin's "not set", is written as null. */
void tc_json_time(tc_json_t *self, int64_t ms);

/* The document so far, NUL-terminated. Borrowed: valid until the next call
 * on this writer. Never NULL (an empty string before the first value). */
const char *tc_json_data(const tc_json_t *self);
size_t tc_json_len(const tc_json_t *self);

/* 0, or TC_ENOMEM if any allocation failed since the last reset. */
int tc_json_error(const tc_json_t *self);

/* True when every begun object and array has been ended and at least one
 * value was written: the buffer holds one complete document. */
bool tc_json_complete(const tc_json_t *self);

#endif
