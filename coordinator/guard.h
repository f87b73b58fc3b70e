/*
 * guard.h - limits on what one peer can make the coordinator do: frames per
 * message and messages per second.
 *
 * One misbehaving agent must not starve the others: ROUTER sockets already
 * fair-queue between connections, and these limits bound what a single
 * connection or key can cost (memory for a message with hundreds of frames,
 * CPU and disk for a flood).
 */
#ifndef TC_GUARD_H
#define TC_GUARD_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

/* Receives one multipart message keeping at most `max_frames` frames; the
 * rest are read and dropped so the socket stays in step, and *truncated is
 * set. Caller owns the result; NULL when nothing could be read. */
zmsg_t *tc_guard_recv(zsock_t *sock, size_t max_frames, bool *truncated);

typedef struct tc_ratelimit tc_ratelimit_t;

/* Token bucket per peer: `rate` messages per second on average, bursts of up
 * to `burst`. Caller owns the result; NULL on allocation failure. */
tc_ratelimit_t *tc_ratelimit_new(double rate, double burst);

/* Takes one token for `peer` at monotonic time `now_ms`. False if the peer
 * is over its rate: the caller drops the message. */
bool tc_ratelimit_take(tc_ratelimit_t *rl, const char *peer, int64_t now_ms);

/* After tc_ratelimit_take() refused `peer`: true if the peer should be told
 * now (once per wait, so that the replies cannot become a flood of their
 * own), with how long it should pause in *retry_after_ms. */
bool tc_ratelimit_tell(tc_ratelimit_t *rl, const char *peer, int64_t now_ms,
                       uint32_t *retry_after_ms);

/* Forgets peers not seen for `idle_ms`, so the table does not grow with
 * every connection ever made. */
void tc_ratelimit_prune(tc_ratelimit_t *rl, int64_t now_ms, int64_t idle_ms);

/* NULL-safe; nulls *prl. */
void tc_ratelimit_destroy(tc_ratelimit_t **prl);

#endif
