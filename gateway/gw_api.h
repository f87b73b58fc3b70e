/*
 * gw_api.h - the coordinator's API, asked without blocking the gateway's
 * loop: the HTTP request that needs an answer (an acknowledgement link)
 * waits, suspended, while alerts keep being taken in.
 *
 * One request is in flight at a time (the API carries no request ids, so
 * a second would not know its answer); the others wait in order. A request
 * not answered within its timeout is answered TC_ETIMEOUT, and the socket
 * is thrown away and made again ("Lazy Pirate", like client/client.h), so
 * a late answer can never be taken for the next request's.
 *
 * The loop's thread only.
 */
#ifndef TC_GW_API_H
#define TC_GW_API_H

#include "keys.h"
#include "wire.h"

#include <czmq.h>
#include <stdint.h>

typedef struct tc_gw_api tc_gw_api_t;

/* Called once per request with 0 and the reply (the callee owns it:
 * tc_api_reply_destroy), or an error (TC_ETIMEOUT, TC_EDECODE, TC_ESYS
 * when the gateway stops) and NULL. */
typedef void(tc_gw_api_done_fn)(void *arg, int rc, tc_api_reply_t *reply);

/* A client of `endpoint` with `keys` (both copied) on `loop` (borrowed;
 * outlives it). Caller owns the result; NULL on failure. */
tc_gw_api_t *tc_gw_api_new(zloop_t *loop, const char *endpoint, const tc_client_keys_t *keys);

/* Answers every waiting request TC_ESYS, closes the socket. NULL-safe;
 * nulls *pself. */
void tc_gw_api_destroy(tc_gw_api_t **pself);

/* Queues `req` (copied); done(arg, ...) is called later, from the loop.
 * Returns 0 or TC_ENOMEM (then done is never called). */
int tc_gw_api_call(tc_gw_api_t *self, const tc_api_request_t *req, int64_t timeout_ms,
                   tc_gw_api_done_fn *done, void *arg);

/* Requests waiting or in flight. */
size_t tc_gw_api_pending(const tc_gw_api_t *self);

/* Wall time of the last answer (0: none yet). */
int64_t tc_gw_api_last_answer(const tc_gw_api_t *self);

#endif
