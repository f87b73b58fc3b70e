/*
 * curl_loop.c - libcurl multi on zloop; see curl_loop.h.
 *
 * zloop has no "change the events of a poller": when libcurl asks for
 * other events on a socket, the poller is removed and added again. zloop
 * may still call a removed poller once in the iteration in which it was
 * removed (its pollset is rebuilt only at the next one), and may fire a
 * timer that was ended in the same iteration; both handlers therefore only
 * ask libcurl to look at the socket or its timeouts, which is harmless when
 * nothing is due, and the timer handler ignores ids that are not current.
 */
#include "curl_loop.h"

#include "error.h"
#include "log.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct {
    CURL *easy;
    tc_curl_done_fn *fn;
    void *arg;
} s_xfer_t;

struct tc_curl_loop_t {
    zloop_t *loop;
    CURLM *multi; /* NULL until the first transfer */
    bool global;  /* curl_global_init() done */
    int timer;    /* current zloop timer id, -1 if none */
    bool dying;   /* in destroy: leave the loop's timers alone */
    s_xfer_t *xfers;
    size_t nxfers, cap;
};

tc_curl_loop_t *tc_curl_loop_new(zloop_t *loop)
{
    tc_curl_loop_t *cl = calloc(1, sizeof *cl);
    if (!cl)
        return NULL;
    cl->loop = loop;
    cl->timer = -1;
    return cl;
}

size_t tc_curl_loop_active(const tc_curl_loop_t *cl)
{
    return cl->nxfers;
}

static s_xfer_t *s_find(tc_curl_loop_t *cl, CURL *easy)
{
    for (size_t i = 0; i < cl->nxfers; i++)
        if (cl->xfers[i].easy == easy)
            return &cl->xfers[i];
    return NULL;
}

/* Hands finished transfers to their owners. */
static void s_collect(tc_curl_loop_t *cl)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(cl->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        s_xfer_t *x = s_find(cl, easy);
        curl_multi_remove_handle(cl->multi, easy);
        if (!x)
            continue;
        s_xfer_t done = *x;
        *x = cl->xfers[--cl->nxfers];
        done.fn(easy, rc, done.arg);
    }
}

static int s_on_socket_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    tc_curl_loop_t *cl = arg;
    int flags = 0, running;
    if (item->revents & ZMQ_POLLIN)
        flags |= CURL_CSELECT_IN;
    if (item->revents & ZMQ_POLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (item->revents & ZMQ_POLLERR)
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(cl->multi, item->fd, flags, &running);
    s_collect(cl);
    return 0;
}

static int s_on_timeout(zloop_t *loop, int timer_id, void *arg)
{
    tc_curl_loop_t *cl = arg;
    if (timer_id != cl->timer)
        return 0;   /* ended in this iteration; libcurl has a newer one */
    cl->timer = -1; /* one-shot: zloop removes it */
    int running;
    curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_collect(cl);
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: watch `s` for `what`, or stop watching it. */
static int s_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    tc_curl_loop_t *cl = userp;
    zmq_pollitem_t item = {NULL, s, 0, 0};
    zloop_poller_end(cl->loop, &item);
    if (what == CURL_POLL_REMOVE || cl->dying)
        return 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        item.events |= ZMQ_POLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        item.events |= ZMQ_POLLOUT;
    if (zloop_poller(cl->loop, &item, s_on_socket_ready, cl) != 0)
        return -1; /* libcurl fails the transfers on this socket */
    /* Errors and hang-ups are libcurl's to see, not reasons to drop it. */
    zloop_poller_set_tolerant(cl->loop, &item);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: call libcurl back in `timeout_ms` (-1: never). */
static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    tc_curl_loop_t *cl = userp;
    if (cl->dying)
        return 0;
    if (cl->timer != -1) {
        zloop_timer_end(cl->loop, cl->timer);
        cl->timer = -1;
    }
    if (timeout_ms >= 0) {
        cl->timer = zloop_timer(cl->loop, (size_t)timeout_ms, 1, s_on_timeout, cl);
        if (cl->timer == -1)
            return -1;
    }
    return 0;
}

static int s_init(tc_curl_loop_t *cl)
{
    if (cl->multi)
        return 0;
    if (!cl->global) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return TC_EIO;
        cl->global = true;
    }
    cl->multi = curl_multi_init();
    if (!cl->multi)
        return TC_ENOMEM;
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
    return 0;
}

int tc_curl_loop_add(tc_curl_loop_t *cl, CURL *easy, tc_curl_done_fn *fn, void *arg)
{
    int rc = s_init(cl);
    if (rc != 0)
        return rc;
    if (cl->nxfers == cl->cap) {
        size_t ncap = cl->cap ? cl->cap * 2 : 8;
        s_xfer_t *nx = realloc(cl->xfers, ncap * sizeof *nx);
        if (!nx)
            return TC_ENOMEM;
        cl->xfers = nx;
        cl->cap = ncap;
    }
    cl->xfers[cl->nxfers++] = (s_xfer_t){easy, fn, arg};
    /* Calls the timer callback (timeout 0): the transfer starts from the
     * loop, never inside this call. */
    CURLMcode mc = curl_multi_add_handle(cl->multi, easy);
    if (mc != CURLM_OK) {
        cl->nxfers--;
        tc_error("libcurl refused a transfer: %s", curl_multi_strerror(mc));
        return mc == CURLM_OUT_OF_MEMORY ? TC_ENOMEM : TC_EIO;
    }
    return 0;
}

void tc_curl_loop_remove(tc_curl_loop_t *cl, CURL *easy)
{
    s_xfer_t *x = s_find(cl, easy);
    if (!x)
        return;
    *x = cl->xfers[--cl->nxfers];
    curl_multi_remove_handle(cl->multi, easy);
}

void tc_curl_loop_destroy(tc_curl_loop_t **pcl)
{
    if (!pcl || !*pcl)
        return;
    tc_curl_loop_t *cl = *pcl;
    /* The timer stays in the loop until zloop_destroy() (ending it now
     * would queue it on a loop that never runs again); its handler is
     * never called, as the loop has stopped. Sockets are unwatched by the
     * socket callback as libcurl closes them. */
    cl->dying = true;
    for (size_t i = 0; i < cl->nxfers; i++)
        curl_multi_remove_handle(cl->multi, cl->xfers[i].easy);
    if (cl->multi)
        curl_multi_cleanup(cl->multi);
    if (cl->global)
        curl_global_cleanup();
    free(cl->xfers);
    free(cl);
    *pcl = NULL;
}
