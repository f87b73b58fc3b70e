#include "guard.h"

#include <stdlib.h>

zmsg_t *tc_guard_recv(zsock_t *sock, size_t max_frames, bool *truncated)
{
    *truncated = false;
    zmsg_t *msg = zmsg_new();
    if (!msg)
        return NULL;
    void *handle = zsock_resolve(sock);
    for (;;) {
        zframe_t *f = zframe_recv(sock);
        if (!f) {
            zmsg_destroy(&msg);
            return NULL;
        }
        if (zmsg_size(msg) < max_frames)
            zmsg_append(msg, &f);
        else {
            *truncated = true;
            zframe_destroy(&f);
        }
        int more = 0;
        size_t len = sizeof more;
        if (zmq_getsockopt(handle, ZMQ_RCVMORE, &more, &len) != 0 || !more)
            break;
    }
    return msg;
}

typedef struct {
    double tokens;
    int64_t last_ms;
    int64_t told_until_ms; /* a refused peer was told to wait until then */
} s_bucket_t;

struct tc_ratelimit {
    double rate, burst;
    zhashx_t *peers; /* peer -> s_bucket_t */
};

static void s_free(void **item)
{
    free(*item);
    *item = NULL;
}

tc_ratelimit_t *tc_ratelimit_new(double rate, double burst)
{
    tc_ratelimit_t *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->peers = zhashx_new();
    if (!rl->peers) {
        free(rl);
        return NULL;
    }
    zhashx_set_destructor(rl->peers, s_free);
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
    return rl;
}

bool tc_ratelimit_take(tc_ratelimit_t *rl, const char *peer, int64_t now_ms)
{
    s_bucket_t *b = zhashx_lookup(rl->peers, peer);
    if (!b) {
        b = malloc(sizeof *b);
        if (!b)
            return true; /* fail open on memory: dropping data is worse */
        b->tokens = rl->burst;
        b->last_ms = now_ms;
        b->told_until_ms = 0;
        zhashx_insert(rl->peers, peer, b);
    }
    double refill = (double)(now_ms - b->last_ms) * rl->rate / 1000.0;
    b->tokens = b->tokens + refill > rl->burst ? rl->burst : b->tokens + refill;
    b->last_ms = now_ms;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

bool tc_ratelimit_tell(tc_ratelimit_t *rl, const char *peer, int64_t now_ms,
                       uint32_t *retry_after_ms)
{
    s_bucket_t *b = zhashx_lookup(rl->peers, peer);
    if (!b || now_ms < b->told_until_ms)
        return false;
    /* Long enough for a good part of a burst to refill, so that the peer's
     * resend goes through instead of being refused again at once. */
    double want = rl->burst < 32 ? rl->burst : 32;
    double wait = (want - b->tokens) * 1000.0 / rl->rate;
    if (wait < 50)
        wait = 50;
    if (wait > 5000)
        wait = 5000;
    *retry_after_ms = (uint32_t)wait;
    b->told_until_ms = now_ms + (int64_t)wait;
    return true;
}

void tc_ratelimit_prune(tc_ratelimit_t *rl, int64_t now_ms, int64_t idle_ms)
{
    zlistx_t *stale = zlistx_new();
    if (!stale)
        return;
    for (s_bucket_t *b = zhashx_first(rl->peers); b; b = zhashx_next(rl->peers))
        if (now_ms - b->last_ms > idle_ms)
            zlistx_add_end(stale, (void *)zhashx_cursor(rl->peers));
    for (const char *k = zlistx_first(stale); k; k = zlistx_next(stale))
        zhashx_delete(rl->peers, k);
    zlistx_destroy(&stale);
}

void tc_ratelimit_destroy(tc_ratelimit_t **prl)
{
    if (!prl || !*prl)
        return;
    zhashx_destroy(&(*prl)->peers);
    free(*prl);
    *prl = NULL;
}
