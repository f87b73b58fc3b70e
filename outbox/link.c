/*
 * link.c - the DEALER to the coordinator; see link.h.
 */
#include "link.h"

#include "error.h"
#include "log.h"
#include "ratelog.h"
#include "util.h"
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest wait before retrying after a refused handshake: short enough that
 * an agent whose key was just allowed is in within seconds, long enough to
 * cost the coordinator little while it is refused. */
#define S_RELINK_MAX_MS 5000
#define S_HANDSHAKE_LOG_MS 30000
/* Small: on shutdown everything unsent is in the spool anyway. */
#define S_LINGER_MS 100
/* Above the outbox's default window; beyond it sends fail, which is fine,
 * because the spool keeps the events and the outbox sends them later. */
#define S_SNDHWM 1000

struct tc_link_t {
    zloop_t *loop;
    char endpoint[256];
    const tc_client_keys_t *keys;
    int64_t heartbeat_ms;
    tc_link_event_fn *on_event;
    tc_link_msg_fn *on_msg;
    void *arg;
    zsock_t *dealer;
    zsock_t *monitor;
    bool connected;
    int64_t relink_at_ms;      /* rebuild the socket then (0: no) */
    int64_t relink_backoff_ms; /* grows to S_RELINK_MAX_MS while refused */
    tc_ratelog_t handshake_log;
    tc_ratelog_t garbage_log;
    tc_msg_t msg; /* decoded message, too big for the stack of a callback */
};

__attribute__((format(printf, 3, 4))) static void s_why(char *why, size_t whylen, const char *fmt,
                                                        ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

int tc_link_send(tc_link_t *l, const uint8_t *data, size_t len)
{
    if (!l->dealer)
        return -1;
    return zmq_send(zsock_resolve(l->dealer), data, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

int tc_link_send_msg(tc_link_t *l, const tc_msg_t *m)
{
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_msg(m, &buf, &len) != 0) {
        tc_error("cannot encode a %s message: out of memory", tc_msg_kind_name(m->kind));
        return -1;
    }
    int rc = tc_link_send(l, buf, len);
    free(buf);
    return rc;
}

static int s_on_message(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_link_t *l = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    if (zmsg_size(msg) != 1) {
        tc_ratelog(&l->garbage_log, TC_LOG_WARN,
                   "ignoring a %zu-frame message from the coordinator", zmsg_size(msg));
        zmsg_destroy(&msg);
        return 0;
    }
    zframe_t *f = zmsg_first(msg);
    int rc = tc_wire_decode_msg(zframe_data(f), zframe_size(f), &l->msg);
    zmsg_destroy(&msg);
    if (rc != 0) {
        tc_ratelog(&l->garbage_log, TC_LOG_WARN,
                   "ignoring an undecodable frame from the coordinator: %s", tc_strerror(rc));
        return 0;
    }
    char why[160];
    if (tc_msg_validate(&l->msg, why, sizeof why) != 0) {
        tc_ratelog(&l->garbage_log, TC_LOG_WARN,
                   "ignoring an invalid %s message from the coordinator: %s",
                   tc_msg_kind_name(l->msg.kind), why);
        return 0;
    }
    l->on_msg(&l->msg, l->arg);
    return 0;
}

/* Connection events tell us when in-flight messages may have been lost:
 * after a reconnection everything must be re-synchronised with a Hello. */
static int s_on_monitor(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_link_t *l = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    zframe_t *f = zmsg_first(msg);
    uint16_t ev = 0;
    if (f && zframe_size(f) >= 2)
        memcpy(&ev, zframe_data(f), sizeof ev);
    zmsg_destroy(&msg);
    if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        tc_info("connected to coordinator %s", l->endpoint);
        l->relink_backoff_ms = 0;
        l->connected = true;
        tc_ratelog_reset(&l->handshake_log);
        l->on_event(TC_LINK_UP, l->arg);
    } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
               ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        if (!l->relink_at_ms) {
            l->relink_backoff_ms = l->relink_backoff_ms ? 2 * l->relink_backoff_ms : 1000;
            if (l->relink_backoff_ms > S_RELINK_MAX_MS)
                l->relink_backoff_ms = S_RELINK_MAX_MS;
            l->relink_at_ms = tc_mono_ms() + l->relink_backoff_ms;
        }
        tc_ratelog(&l->handshake_log, TC_LOG_WARN,
                   !l->keys ? "handshake with coordinator %s failed (does it require CURVE "
                              "security? this sender runs with --insecure)"
                            : "handshake with coordinator %s failed (is this sender's key "
                              "allowed and bound to its id, and is --server-key the "
                              "coordinator's?)",
                   l->endpoint);
    } else if (ev == ZMQ_EVENT_DISCONNECTED) {
        /* Only a connection we had is news; failed attempts repeat. */
        bool was = l->connected;
        l->connected = false;
        if (was)
            l->on_event(TC_LINK_DOWN, l->arg);
    }
    return 0;
}

static void s_close(tc_link_t *l)
{
    if (l->monitor)
        zloop_reader_end(l->loop, l->monitor);
    if (l->dealer) {
        zloop_reader_end(l->loop, l->dealer);
        zmq_socket_monitor(zsock_resolve(l->dealer), NULL, 0);
    }
    zsock_destroy(&l->monitor);
    zsock_destroy(&l->dealer);
    l->connected = false;
}

static int s_open(tc_link_t *l, char *why, size_t whylen)
{
    char ep[96];
    int rc = TC_EIO;
    l->dealer = zsock_new(ZMQ_DEALER);
    if (!l->dealer) {
        s_why(why, whylen, "cannot create ZeroMQ socket");
        return TC_ENOMEM;
    }
    zsock_set_linger(l->dealer, S_LINGER_MS);
    /* Queue only to a live connection: while the coordinator is away, a
     * send fails at once and the spool keeps the event, instead of the
     * event sitting in a queue that a restart would lose. */
    zsock_set_immediate(l->dealer, 1);
    if (l->keys)
        tc_client_keys_apply(l->keys, l->dealer);
    /* Only the coordinator talks to us; anything near this size is not it. */
    zsock_set_maxmsgsize(l->dealer, 64 * 1024);
    zsock_set_sndhwm(l->dealer, S_SNDHWM);
    zsock_set_reconnect_ivl(l->dealer, 100);
    zsock_set_reconnect_ivl_max(l->dealer, 5000);
    /* ZMTP heartbeats notice a coordinator host that vanished without
     * closing the connection, which our one-way heartbeats cannot. */
    int ivl = l->heartbeat_ms < 1000 ? 1000 : (int)l->heartbeat_ms;
    zsock_set_heartbeat_ivl(l->dealer, ivl);
    zsock_set_heartbeat_timeout(l->dealer, 3 * ivl);

    /* Unique per socket ever made: libzmq unbinds a closed monitor's
     * endpoint asynchronously, and a new link may get the old one's
     * address, so neither the address nor a counter is enough. */
    zuuid_t *uuid = zuuid_new();
    if (!uuid) {
        s_why(why, whylen, "out of memory");
        s_close(l);
        return TC_ENOMEM;
    }
    snprintf(ep, sizeof ep, "inproc://tocsin-link-monitor-%s", zuuid_str(uuid));
    zuuid_destroy(&uuid);
    if (zmq_socket_monitor(zsock_resolve(l->dealer), ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
        s_why(why, whylen, "cannot monitor ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    l->monitor = zsock_new(ZMQ_PAIR);
    if (!l->monitor || zsock_connect(l->monitor, "%s", ep) != 0) {
        s_why(why, whylen, "cannot connect ZeroMQ socket monitor");
        goto fail;
    }
    if (zsock_connect(l->dealer, "%s", l->endpoint) != 0) {
        s_why(why, whylen, "cannot connect to %s: %s", l->endpoint, zmq_strerror(zmq_errno()));
        rc = TC_EINVAL;
        goto fail;
    }
    if (zloop_reader(l->loop, l->dealer, s_on_message, l) != 0 ||
        zloop_reader(l->loop, l->monitor, s_on_monitor, l) != 0) {
        s_why(why, whylen, "out of memory");
        rc = TC_ENOMEM;
        goto fail;
    }
    return 0;
fail:
    s_close(l);
    return rc;
}

int tc_link_new(zloop_t *loop, const tc_link_config_t *cfg, tc_link_t **out, char *why,
                size_t whylen)
{
    *out = NULL;
    tc_link_t *l = calloc(1, sizeof *l);
    if (!l)
        return TC_ENOMEM;
    l->loop = loop;
    if (snprintf(l->endpoint, sizeof l->endpoint, "%s", cfg->endpoint) >= (int)sizeof l->endpoint) {
        s_why(why, whylen, "endpoint too long");
        free(l);
        return TC_EINVAL;
    }
    l->keys = cfg->keys;
    l->heartbeat_ms = cfg->heartbeat_ms;
    l->on_event = cfg->on_event;
    l->on_msg = cfg->on_msg;
    l->arg = cfg->arg;
    l->handshake_log.interval_ms = S_HANDSHAKE_LOG_MS;
    l->garbage_log.interval_ms = 10000;
    int rc = s_open(l, why, whylen);
    if (rc != 0) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void tc_link_destroy(tc_link_t **plink)
{
    if (!plink || !*plink)
        return;
    s_close(*plink);
    free(*plink);
    *plink = NULL;
}

int tc_link_tick(tc_link_t *l, char *why, size_t whylen)
{
    if (!l->relink_at_ms || tc_mono_ms() < l->relink_at_ms)
        return 0;
    l->relink_at_ms = 0;
    bool was = l->connected;
    s_close(l);
    if (was)
        l->on_event(TC_LINK_DOWN, l->arg);
    int rc = s_open(l, why, whylen);
    if (rc == 0)
        tc_info("reconnecting to coordinator %s after a refused handshake", l->endpoint);
    return rc;
}

bool tc_link_connected(const tc_link_t *l)
{
    return l->connected;
}
