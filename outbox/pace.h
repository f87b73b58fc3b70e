/*
 * pace.h - how fast a sender may send: a token bucket whose rate backs off
 * when the coordinator throttles and grows back while it does not.
 *
 * The coordinator limits each peer (rate_limit, 5000/s by default) and
 * drops what exceeds it. A sender that bursts into that limit loses frames
 * and must resend them, so it paces itself below it: the bucket refills at
 * `rate` events per second and holds at most 50 ms worth, so the sender
 * never runs far ahead of its pace. After a THROTTLED reply the rate halves
 * (down to 10/s); once nothing was throttled for 2 s it grows by a tenth per
 * tick back to its configured maximum, so a sender under a tighter limit
 * settles near it.
 *
 * Plain arithmetic on monotonic times the caller passes; no clock, no
 * I/O. Threading: its owner's.
 */
#ifndef TC_OUTBOX_PACE_H
#define TC_OUTBOX_PACE_H

#include <stdint.h>

typedef struct tc_pace_t tc_pace_t;

/* A pace of at most `rate_max` events per second (> 0), full at `now_ms`.
 * Caller owns the result (tc_pace_destroy()); NULL when out of memory. */
tc_pace_t *tc_pace_new(double rate_max, int64_t now_ms);

/* NULL-safe; nulls *ppace. */
void tc_pace_destroy(tc_pace_t **ppace);

/* How many events may go now (0 if none). */
uint64_t tc_pace_allowed(tc_pace_t *p, int64_t now_ms);

/* Records that `n` of the allowed events went. */
void tc_pace_spend(tc_pace_t *p, uint64_t n);

/* Milliseconds until the next event may go (at least 1). */
int64_t tc_pace_wait_ms(const tc_pace_t *p);

/* The coordinator throttled us: halve the rate and empty the bucket. */
void tc_pace_throttled(tc_pace_t *p, int64_t now_ms);

/* Called periodically: grows the rate back once calm. */
void tc_pace_tick(tc_pace_t *p, int64_t now_ms);

/* The current rate, events per second. */
double tc_pace_rate(const tc_pace_t *p);

#endif
