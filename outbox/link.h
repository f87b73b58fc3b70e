/*
 * link.h - a sender's connection to the coordinator: one DEALER socket
 * (CURVE unless plaintext), its handshake monitor, and rebuilding it after
 * a refused handshake.
 *
 * The link registers its sockets on the caller's zloop and reports what
 * happens through two callbacks: connection events (up after a completed
 * handshake, down when the connection is lost) and each valid message from
 * the coordinator (decoded and checked with tc_msg_validate(); anything
 * else is logged at WARN, rate-limited, and dropped). What to send and when
 * is the outbox's business; the link only sends without blocking.
 *
 * libzmq does not retry a connection whose handshake was refused (a key not
 * yet allowed, a CURVE/plaintext mismatch), so the link rebuilds its socket
 * after a back-off (1 s doubling to 5 s) when tc_link_tick() is called
 * after it; the warning is logged at most every 30 s.
 *
 * Threading: the loop's thread only.
 */
#ifndef TC_OUTBOX_LINK_H
#define TC_OUTBOX_LINK_H

#include "keys.h"
#include "msg.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_link_t tc_link_t;

typedef enum {
    TC_LINK_UP,   /* handshake completed: say Hello */
    TC_LINK_DOWN, /* a connection we had is gone: what was in flight may be lost */
} tc_link_event_t;

typedef void(tc_link_event_fn)(tc_link_event_t ev, void *arg);
/* `m` is borrowed for the call. */
typedef void(tc_link_msg_fn)(const tc_msg_t *m, void *arg);

typedef struct {
    const char *endpoint;         /* copied */
    const tc_client_keys_t *keys; /* borrowed, must outlive the link; NULL: plaintext */
    int64_t heartbeat_ms;         /* ZMTP heartbeats at max(1 s, this) */
    tc_link_event_fn *on_event;
    tc_link_msg_fn *on_msg;
    void *arg;
} tc_link_config_t;

/* Creates the socket, connects it to cfg->endpoint and puts it on `loop`
 * (borrowed; must outlive the link). On success *out is the caller's
 * (tc_link_destroy()). Returns 0, TC_EINVAL (bad endpoint) or TC_ENOMEM,
 * with a reason in `why` (may be NULL). */
int tc_link_new(zloop_t *loop, const tc_link_config_t *cfg, tc_link_t **out, char *why,
                size_t whylen);

/* Takes the socket off the loop and closes it (unsent frames are dropped
 * after a 100 ms linger). NULL-safe; nulls *plink. */
void tc_link_destroy(tc_link_t **plink);

/* Sends one frame of `len` bytes (borrowed) without waiting. Returns 0, or
 * -1 when ZeroMQ would have to queue or block (no connection, high-water
 * mark): the caller keeps the data and tries later. */
int tc_link_send(tc_link_t *l, const uint8_t *data, size_t len);

/* Encodes `m` (borrowed) and sends it like tc_link_send(). */
int tc_link_send_msg(tc_link_t *l, const tc_msg_t *m);

/* Rebuilds the socket if a refused handshake asked for it and the back-off
 * has passed. Returns 0, or an error with a reason in `why` if the socket
 * cannot be rebuilt (the caller should stop). */
int tc_link_tick(tc_link_t *l, char *why, size_t whylen);

/* True between TC_LINK_UP and TC_LINK_DOWN. */
bool tc_link_connected(const tc_link_t *l);

#endif
