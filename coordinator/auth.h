/*
 * auth.h - the coordinator's ZAP handler: who may connect to which socket.
 *
 * libzmq asks a ZAP handler (RFC 27) at inproc://zeromq.zap.01 about every
 * CURVE handshake. This one runs on the coordinator's event loop and answers
 * from the keyring, per ZAP domain: "agents" admits agent keys, "api"
 * operator and subscriber keys, "publish" subscriber and operator keys (or
 * any CURVE client when the feed is configured open). The reply's user id is
 * the client's Z85 public key, which libzmq attaches to every message from
 * that connection as the "User-Id" property; the coordinator looks it up
 * again per message, so a revoked key is refused even on a live connection.
 *
 * czmq's zauth is not used because it ignores the ZAP domain: it cannot
 * admit a key to one socket and refuse it on another.
 */
#ifndef TC_AUTH_H
#define TC_AUTH_H

#include "keys.h"

#include <czmq.h>
#include <stdbool.h>

#define TC_ZAP_AGENTS "agents"
#define TC_ZAP_API "api"
#define TC_ZAP_PUBLISH "publish"

typedef struct tc_auth tc_auth_t;

/* A refused handshake, reported to the caller for counting and audit. */
typedef struct {
    char domain[32];
    char address[64];
    char public_txt[TC_KEY_TXT];
    const char *reason; /* static text */
} tc_auth_denial_t;

typedef void(tc_auth_denied_fn)(const tc_auth_denial_t *d, void *ctx);

/* Binds the ZAP endpoint. Must run before any CURVE server socket binds;
 * those sockets must set ZMQ_ZAP_ENFORCE_DOMAIN so that a missing handler
 * fails closed. `kr` is borrowed and must outlive the handler. Caller owns
 * *out. TC_EIO if the endpoint cannot be bound (another handler exists). */
int tc_auth_new(const tc_keyring_t *kr, bool open_publish, tc_auth_denied_fn *denied, void *ctx,
                tc_auth_t **out);

/* The REP socket to register with the event loop. Borrowed. */
zsock_t *tc_auth_socket(tc_auth_t *a);

/* Answers one pending ZAP request. */
void tc_auth_handle(tc_auth_t *a);

/* True if a key of class `cls` may use the socket of ZAP domain `domain`. */
bool tc_auth_allows(const char *domain, tc_key_class_t cls, bool open_publish);

/* NULL-safe; nulls *pa. */
void tc_auth_destroy(tc_auth_t **pa);

#endif
