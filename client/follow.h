/*
 * follow.h - the ordering half of tocsin-sub: turns live broadcasts, which
 * may arrive late, twice or with holes, into one gap-free, duplicate-free,
 * increasing sequence (ZeroMQ guide, "Clone" pattern).
 *
 * The follower remembers the last broadcast sequence it passed on. A live
 * broadcast at or below it is dropped; one further ahead first makes the
 * follower fetch the missing range from the coordinator's API, in pages,
 * and pass those on. Fetching and emitting are callbacks, so this module
 * does no I/O of its own: tocsin-sub supplies an API client with retry and
 * stdout, tests supply arrays.
 *
 * Every broadcast handed to `emit` has seq == previous + 1, except where the
 * coordinator itself no longer has the missing range; then the follower
 * logs a warning naming the lost sequences and moves on, because stopping
 * the feed forever would be worse than a reported hole.
 */
#ifndef TC_FOLLOW_H
#define TC_FOLLOW_H

#include "msg.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

/* Fetches broadcasts with seq >= `from` (one page, in increasing order).
 * Returns 0 and a reply with ok == true that the follower then owns and
 * destroys, or a non-zero code, which the follower passes back to its
 * caller unchanged. Retrying, turning ok == false into an error and
 * validating the broadcasts are the callback's business: the follower
 * trusts what it is given. */
typedef int(tc_follow_fetch_fn)(void *arg, uint64_t from, tc_api_reply_t **preply);

/* Passes one broadcast on (borrowed for the call). Returns 0 to go on, a
 * positive value to stop (for example --count reached), which the follower
 * returns at once, or a negative error code, likewise returned. */
typedef int(tc_follow_emit_fn)(void *arg, const tc_msg_t *m);

typedef struct tc_follow tc_follow_t;

/* Caller owns the result; NULL on allocation failure. `arg` is borrowed and
 * given to both callbacks. The follower starts without a position: the
 * first live broadcast sets it (no catch-up), unless tc_follow_start_at()
 * is called first. */
tc_follow_t *tc_follow_new(tc_follow_fetch_fn *fetch, tc_follow_emit_fn *emit, void *arg);

/* Frees the follower; NULL-safe; nulls *pself. */
void tc_follow_destroy(tc_follow_t **pself);

/* Makes `from` the first sequence wanted (0 and 1 both mean "from the first
 * broadcast"). Call before tc_follow_catch_up(). */
void tc_follow_start_at(tc_follow_t *self, uint64_t from);

/* Fetches and emits everything after the current position, page by page,
 * until the coordinator says there is no more. Returns 0, or the first
 * non-zero value of a callback. Does nothing without a position. */
int tc_follow_catch_up(tc_follow_t *self);

/* Handles one live broadcast `m` (borrowed; kind TC_MSG_BROADCAST, seq > 0):
 * drops it if already emitted, fills any gap before it through `fetch`,
 * then emits it. Returns 0, or the first non-zero value of a callback. */
int tc_follow_live(tc_follow_t *self, const tc_msg_t *m);

/* The last sequence passed to `emit` or skipped as lost; 0 before any. */
/* Handles the publisher's heartbeat, which says the newest broadcast is
 * `latest`: anything after the current position that never arrived live
 * (lost while the subscriber was reconnecting, with nothing published
 * since) is fetched and emitted. Without a position yet, the feed starts
 * after `latest`. Returns 0, or the first non-zero value of a callback. */
int tc_follow_heartbeat(tc_follow_t *self, uint64_t latest);

uint64_t tc_follow_last(const tc_follow_t *self);

/* True once a position is known. */
bool tc_follow_started(const tc_follow_t *self);

#endif
