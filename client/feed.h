/*
 * feed.h - what every follower of the coordinator's broadcasts does with
 * them: fetch a page over the API and keep only broadcasts that pass
 * validation, and check a live one the same way. tocsin-sub,
 * tocsin-statuspage and tocsin-notify each wrap this in their own retry
 * policy (block and retry, keep rendering meanwhile, retry on the next
 * tick).
 */
#ifndef TC_FEED_H
#define TC_FEED_H

#include "client.h"
#include "msg.h"
#include "wire.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

/* How long a follower's SUB socket may hear nothing before it is made
 * again. The coordinator publishes a heartbeat every second, so silence
 * means it is down or our connection is dead: libzmq never retries a
 * connection whose handshake was refused (a key not yet allowed), so a
 * follower started before its key was allowed would stay deaf forever. */
#define TC_FEED_RESUBSCRIBE_MS 5000

/* A SUB socket subscribed to everything on `endpoint` with `keys` (both
 * borrowed), connected, with the options every follower uses (no linger,
 * a deep queue, 1 MiB messages at most). Subscribe before fetching, so no
 * broadcast falls between. Caller owns the result; NULL (logged) if it
 * cannot be made or connected. */
zsock_t *tc_feed_subscribe(const char *endpoint, const tc_client_keys_t *keys);

/* True if `m` (borrowed) is a valid broadcast with a sequence; otherwise
 * logs a warning naming `where` (an endpoint) and returns false. */
bool tc_feed_usable(const tc_msg_t *m, const char *where);

/* One attempt at a page of broadcasts from `from` (at most `limit`) through
 * `api`, waiting up to `timeout_ms`. Returns 0 with *preply a reply the
 * caller owns (free with tc_api_reply_destroy), its broadcasts the usable
 * ones in order (the follower reports the hole a dropped one leaves). If the
 * coordinator refused (an error is logged), returns TC_EIO with *refused set:
 * retrying will not help. Otherwise the client's error (tc_client_call),
 * with *refused false. */
int tc_feed_fetch(tc_client_t *api, uint64_t from, uint32_t limit, int64_t timeout_ms,
                  tc_api_reply_t **preply, bool *refused);

#endif
