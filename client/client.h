/*
 * client.h - a client of the coordinator's API socket.
 *
 * One request, one reply: the client sends a single-frame ApiRequest from a
 * DEALER socket and waits, with a timeout, for the single-frame ApiReply.
 * The protocol carries no request id, so after a timeout the socket is
 * thrown away and a new one connected ("Lazy Pirate", ZeroMQ guide ch. 4):
 * a late answer to an abandoned request can then never be mistaken for the
 * answer to the next one.
 *
 * A client is used from one thread, the one that made it.
 */
#ifndef TC_CLIENT_H
#define TC_CLIENT_H

#include "keys.h"
#include "wire.h"

#include <stdint.h>

typedef struct tc_client tc_client_t;

/* Connects to `endpoint` (copied; see tc_endpoint_valid) with `keys`
 * (copied; see keys.h). Connecting does
 * not wait for the coordinator to exist. Caller owns the result; NULL if
 * the endpoint is invalid or a socket cannot be made. */
tc_client_t *tc_client_new(const char *endpoint, const tc_client_keys_t *keys);

/* Closes the socket and frees the client; NULL-safe; nulls *pself. */
void tc_client_destroy(tc_client_t **pself);

/* The endpoint given to tc_client_new(). Borrowed, valid as long as the
 * client. */
const char *tc_client_endpoint(const tc_client_t *self);

/* Sends `req` (borrowed) and waits up to `timeout_ms` for the reply.
 * On success returns 0 and sets *preply to a reply the caller owns (free
 * with tc_api_reply_destroy); that includes replies with ok == false, which
 * carry the coordinator's error text. Otherwise *preply is NULL and the
 * result is TC_ETIMEOUT (no answer in time), TC_EAUTH (no answer, and the
 * handshake failed: key refused or CURVE/plaintext mismatch), TC_EDECODE (the answer was not
 * one ApiReply frame), TC_ENOMEM, TC_EIO (the socket failed), or TC_ESYS
 * when SIGINT/SIGTERM arrived while waiting (czmq's zsys_interrupted is
 * then set and the caller should stop). */
int tc_client_call(tc_client_t *self, const tc_api_request_t *req, int64_t timeout_ms,
                   tc_api_reply_t **preply);

#endif
