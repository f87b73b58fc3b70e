/*
 * feed.c - fetching and checking the coordinator's broadcasts (see feed.h).
 */
#include "feed.h"

#include "error.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>

#define S_SUB_HWM 100000

zsock_t *tc_feed_subscribe(const char *endpoint, const tc_client_keys_t *keys)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub) {
        tc_error("cannot create a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zsock_set_linger(sub, 0);
    zsock_set_rcvhwm(sub, S_SUB_HWM);
    zsock_set_subscribe(sub, "");
    /* A broadcast is a few KiB; anything near this is not the coordinator. */
    zsock_set_maxmsgsize(sub, 1 << 20);
    tc_client_keys_apply(keys, sub);
    if (zsock_connect(sub, "%s", endpoint) != 0) {
        tc_error("cannot connect to %s", endpoint);
        zsock_destroy(&sub);
    }
    return sub;
}

bool tc_feed_usable(const tc_msg_t *m, const char *where)
{
    char why[160];
    if (tc_msg_validate(m, why, sizeof why) != 0) {
        tc_warn("ignoring an invalid broadcast from %s: %s", where, why);
        return false;
    }
    if (m->kind != TC_MSG_BROADCAST || m->seq == 0) {
        tc_warn("ignoring a %s message with seq %" PRIu64 " from %s", tc_msg_kind_name(m->kind),
                m->seq, where);
        return false;
    }
    return true;
}

int tc_feed_fetch(tc_client_t *api, uint64_t from, uint32_t limit, int64_t timeout_ms,
                  tc_api_reply_t **preply, bool *refused)
{
    *preply = NULL;
    *refused = false;
    tc_api_request_t req = {.version = TC_PROTOCOL_VERSION, .from = from, .limit = limit};
    snprintf(req.command, sizeof req.command, "broadcasts");
    tc_api_reply_t *reply = NULL;
    int rc = tc_client_call(api, &req, timeout_ms, &reply);
    if (rc != 0)
        return rc;
    if (!reply->ok) {
        tc_error("the coordinator refused broadcasts from %" PRIu64 ": %s", from, reply->error);
        tc_api_reply_destroy(&reply);
        *refused = true;
        return TC_EIO;
    }
    /* Drop what cannot be used, keeping the order. */
    size_t kept = 0;
    for (size_t i = 0; i < reply->nbroadcasts; i++)
        if (tc_feed_usable(&reply->broadcasts[i], tc_client_endpoint(api)))
            reply->broadcasts[kept++] = reply->broadcasts[i];
    reply->nbroadcasts = kept;
    *preply = reply;
    return 0;
}
