/*
 * gw_api.c - the coordinator's API on the loop; see gw_api.h.
 */
#include "gw_api.h"

#include "error.h"
#include "log.h"
#include "util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_call {
    tc_api_request_t req;
    int64_t timeout_ms;
    tc_gw_api_done_fn *done;
    void *arg;
    struct s_call *next;
} s_call_t;

struct tc_gw_api {
    zloop_t *loop;
    char *endpoint;
    tc_client_keys_t keys;
    zsock_t *sock;
    s_call_t *head, *tail; /* head is in flight once sent */
    bool in_flight;
    int timer;
    size_t pending;
    int64_t last_answer_ms;
};

static int s_on_reply(zloop_t *loop, zsock_t *sock, void *arg);

static int s_connect(tc_gw_api_t *a)
{
    a->sock = zsock_new(ZMQ_DEALER);
    if (!a->sock)
        return TC_ENOMEM;
    zsock_set_linger(a->sock, 0);
    zsock_set_maxmsgsize(a->sock, 16 << 20);
    tc_client_keys_apply(&a->keys, a->sock);
    if (zsock_connect(a->sock, "%s", a->endpoint) != 0 ||
        zloop_reader(a->loop, a->sock, s_on_reply, a) != 0) {
        zsock_destroy(&a->sock);
        return TC_EIO;
    }
    return 0;
}

/* Lazy Pirate: a fresh socket, so that nothing late arrives on it. */
static void s_reconnect(tc_gw_api_t *a)
{
    if (a->sock) {
        zloop_reader_end(a->loop, a->sock);
        zsock_destroy(&a->sock);
    }
    if (s_connect(a) != 0)
        tc_warn("cannot connect to the coordinator's API at %s", a->endpoint);
}

static s_call_t *s_pop(tc_gw_api_t *a)
{
    s_call_t *c = a->head;
    if (c) {
        a->head = c->next;
        if (!a->head)
            a->tail = NULL;
        a->pending--;
    }
    a->in_flight = false;
    if (a->timer >= 0) {
        zloop_timer_end(a->loop, a->timer);
        a->timer = -1;
    }
    return c;
}

static void s_send_next(tc_gw_api_t *a);

static int s_on_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    tc_gw_api_t *a = arg;
    a->timer = -1; /* a one-shot timer ends itself */
    s_call_t *c = s_pop(a);
    s_reconnect(a);
    if (c) {
        c->done(c->arg, TC_ETIMEOUT, NULL);
        free(c);
    }
    s_send_next(a);
    return 0;
}

static void s_send_next(tc_gw_api_t *a)
{
    while (a->head && !a->in_flight) {
        s_call_t *c = a->head;
        uint8_t *buf = NULL;
        size_t len = 0;
        int rc = a->sock ? tc_wire_encode_request(&c->req, &buf, &len) : TC_EIO;
        if (rc == 0) {
            zframe_t *f = zframe_new(buf, len);
            free(buf);
            rc = f && zframe_send(&f, a->sock, ZFRAME_DONTWAIT) == 0 ? 0 : TC_EIO;
            zframe_destroy(&f);
        }
        if (rc != 0) {
            s_pop(a);
            c->done(c->arg, rc, NULL);
            free(c);
            continue;
        }
        a->in_flight = true;
        a->timer = zloop_timer(a->loop, (size_t)c->timeout_ms, 1, s_on_timeout, a);
    }
}

static int s_on_reply(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    tc_gw_api_t *a = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    if (!a->in_flight) {
        zmsg_destroy(&msg); /* nothing asked on this socket: drop it */
        return 0;
    }
    tc_api_reply_t *reply = NULL;
    zframe_t *f = zmsg_first(msg);
    int rc = zmsg_size(msg) == 1 ? tc_wire_decode_reply(zframe_data(f), zframe_size(f), &reply)
                                 : TC_EDECODE;
    zmsg_destroy(&msg);
    s_call_t *c = s_pop(a);
    a->last_answer_ms = tc_now_ms();
    if (c) {
        c->done(c->arg, rc, rc == 0 ? reply : NULL);
        free(c);
    }
    if (rc != 0)
        tc_api_reply_destroy(&reply);
    s_send_next(a);
    return 0;
}

tc_gw_api_t *tc_gw_api_new(zloop_t *loop, const char *endpoint, const tc_client_keys_t *keys)
{
    tc_gw_api_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->loop = loop;
    a->timer = -1;
    a->keys = *keys;
    a->endpoint = strdup(endpoint);
    if (!a->endpoint || s_connect(a) != 0) {
        free(a->endpoint);
        free(a);
        return NULL;
    }
    return a;
}

void tc_gw_api_destroy(tc_gw_api_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_gw_api_t *a = *pself;
    while (a->head) {
        s_call_t *c = s_pop(a);
        c->done(c->arg, TC_ESYS, NULL);
        free(c);
    }
    if (a->sock) {
        zloop_reader_end(a->loop, a->sock);
        zsock_destroy(&a->sock);
    }
    free(a->endpoint);
    sodium_memzero(&a->keys, sizeof a->keys);
    free(a);
    *pself = NULL;
}

int tc_gw_api_call(tc_gw_api_t *self, const tc_api_request_t *req, int64_t timeout_ms,
                   tc_gw_api_done_fn *done, void *arg)
{
    s_call_t *c = calloc(1, sizeof *c);
    if (!c)
        return TC_ENOMEM;
    c->req = *req;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
    c->done = done;
    c->arg = arg;
    if (self->tail)
        self->tail->next = c;
    else
        self->head = c;
    self->tail = c;
    self->pending++;
    s_send_next(self);
    return 0;
}

size_t tc_gw_api_pending(const tc_gw_api_t *self)
{
    return self->pending;
}

int64_t tc_gw_api_last_answer(const tc_gw_api_t *self)
{
    return self->last_answer_ms;
}
