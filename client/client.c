#include "client.h"

#include "error.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tc_client {
    char *endpoint;
    tc_client_keys_t keys;
    zsock_t *sock;
    /* Watches the socket's handshakes: a refused key or a plaintext client
     * against a CURVE server looks like silence otherwise. */
    zactor_t *monitor;
};

/* Makes a fresh DEALER connected to the endpoint. Linger 0: an unanswered
 * request must not keep the process alive at exit. */
static zsock_t *s_connect(const char *endpoint, const tc_client_keys_t *keys, zactor_t **monitor)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return NULL;
    zsock_set_linger(sock, 0);
    /* A reply holds at most TC_API_PAGE_MAX items of a few KiB each. */
    zsock_set_maxmsgsize(sock, 64 << 20);
    tc_client_keys_apply(keys, sock);
    *monitor = zactor_new(zmonitor, sock);
    if (*monitor) {
        zstr_sendx(*monitor, "LISTEN", "HANDSHAKE_FAILED_AUTH", "HANDSHAKE_FAILED_PROTOCOL",
                   "HANDSHAKE_FAILED_NO_DETAIL", NULL);
        zstr_sendx(*monitor, "START", NULL);
        zsock_wait(*monitor);
    }
    if (zsock_connect(sock, "%s", endpoint) != 0) {
        zsock_destroy(&sock);
        return NULL;
    }
    return sock;
}

tc_client_t *tc_client_new(const char *endpoint, const tc_client_keys_t *keys)
{
    if (!tc_endpoint_valid(endpoint))
        goto fail;
    tc_client_t *self = calloc(1, sizeof *self);
    if (!self)
        goto fail;
    self->endpoint = strdup(endpoint);
    if (!self->endpoint)
        goto fail_self;
    self->keys = *keys;
    self->sock = s_connect(endpoint, &self->keys, &self->monitor);
    if (!self->sock)
        goto fail_endpoint;
    return self;

fail_endpoint:
    free(self->endpoint);
fail_self:
    free(self);
fail:
    return NULL;
}

void tc_client_destroy(tc_client_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_client_t *self = *pself;
    zactor_destroy(&self->monitor);
    zsock_destroy(&self->sock);
    free(self->endpoint);
    free(self);
    *pself = NULL;
}

const char *tc_client_endpoint(const tc_client_t *self)
{
    return self->endpoint;
}

/* Replaces the socket after a failed exchange; see client.h. After
 * SIGINT/SIGTERM the new one is left for the next call: czmq's monitor
 * actor started while zsys_interrupted is set aborts the process (its
 * thread finds its pipe gone), and a stopping process needs no socket. */
static int s_reconnect(tc_client_t *self)
{
    zactor_destroy(&self->monitor);
    zsock_destroy(&self->sock);
    if (zsys_interrupted)
        return 0;
    self->sock = s_connect(self->endpoint, &self->keys, &self->monitor);
    return self->sock ? 0 : TC_EIO;
}

/* Waits until the socket is readable. Returns 0, TC_ETIMEOUT, TC_ESYS
 * (interrupted by SIGINT/SIGTERM) or TC_EIO. */
static int s_wait_readable(zsock_t *sock, int64_t timeout_ms)
{
    int64_t deadline = tc_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - tc_mono_ms();
        if (left <= 0)
            return TC_ETIMEOUT;
        zmq_pollitem_t item = {zsock_resolve(sock), 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, (long)left);
        if (rc > 0)
            return 0;
        if (rc == 0)
            return TC_ETIMEOUT;
        /* Only SIGINT/SIGTERM end the wait; any other signal (SIGWINCH,
         * SIGCHLD...) merely restarts it with the time that is left. */
        if (errno == EINTR && !zsys_interrupted)
            continue;
        return errno == EINTR ? TC_ESYS : TC_EIO;
    }
}

/* True if the monitor saw a handshake fail: the coordinator refused the
 * key, or one side speaks CURVE and the other does not. */
static bool s_handshake_failed(tc_client_t *self)
{
    bool failed = false;
    while (self->monitor && (zsock_events(zactor_sock(self->monitor)) & ZMQ_POLLIN)) {
        zmsg_t *ev = zmsg_recv(self->monitor);
        char *name = ev ? zmsg_popstr(ev) : NULL;
        if (name && !strncmp(name, "HANDSHAKE_FAILED", 16))
            failed = true;
        zstr_free(&name);
        zmsg_destroy(&ev);
    }
    return failed;
}

int tc_client_call(tc_client_t *self, const tc_api_request_t *req, int64_t timeout_ms,
                   tc_api_reply_t **preply)
{
    *preply = NULL;
    if (!self->sock && (s_reconnect(self) != 0 || !self->sock))
        return zsys_interrupted ? TC_ESYS : TC_EIO;

    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = tc_wire_encode_request(req, &buf, &len);
    if (rc != 0)
        return rc;
    zframe_t *frame = zframe_new(buf, len);
    free(buf);
    if (!frame)
        return TC_ENOMEM;
    /* The DEALER has a pipe as soon as it is connected, so a send only
     * queues; DONTWAIT guards against a full pipe blocking forever. */
    if (zframe_send(&frame, self->sock, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy(&frame);
        s_reconnect(self);
        return TC_EIO;
    }

    rc = s_wait_readable(self->sock, timeout_ms);
    if (rc == TC_ETIMEOUT && s_handshake_failed(self))
        rc = TC_EAUTH;
    if (rc != 0) {
        /* The request is still out there; drop the socket so its answer,
         * if it ever comes, goes nowhere. */
        s_reconnect(self);
        return rc;
    }
    zmsg_t *msg = zmsg_recv(self->sock);
    if (!msg) {
        s_reconnect(self);
        return zsys_interrupted ? TC_ESYS : TC_EIO;
    }
    if (zmsg_size(msg) != 1) {
        zmsg_destroy(&msg);
        return TC_EDECODE;
    }
    zframe_t *reply = zmsg_first(msg);
    rc = tc_wire_decode_reply(zframe_data(reply), zframe_size(reply), preply);
    zmsg_destroy(&msg);
    if (rc != 0) {
        *preply = NULL;
        return rc == TC_ENOMEM ? TC_ENOMEM : TC_EDECODE;
    }
    return 0;
}
