#include "follow.h"

#include "log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>

struct tc_follow {
    tc_follow_fetch_fn *fetch;
    tc_follow_emit_fn *emit;
    void *arg;
    bool started;
    uint64_t last; /* highest sequence emitted or given up as lost */
};

tc_follow_t *tc_follow_new(tc_follow_fetch_fn *fetch, tc_follow_emit_fn *emit, void *arg)
{
    tc_follow_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fetch = fetch;
    self->emit = emit;
    self->arg = arg;
    return self;
}

void tc_follow_destroy(tc_follow_t **pself)
{
    if (!pself || !*pself)
        return;
    free(*pself);
    *pself = NULL;
}

void tc_follow_start_at(tc_follow_t *self, uint64_t from)
{
    self->started = true;
    self->last = from > 0 ? from - 1 : 0;
}

uint64_t tc_follow_last(const tc_follow_t *self)
{
    return self->last;
}

bool tc_follow_started(const tc_follow_t *self)
{
    return self->started;
}

/* Emits `m` as the next broadcast. A jump forward here means the range in
 * between cannot be had any more (the fetch already tried); say so once. */
static int s_emit(tc_follow_t *self, const tc_msg_t *m)
{
    assert(m->seq > self->last);
    if (m->seq > self->last + 1) {
        if (m->seq == self->last + 2)
            tc_warn("broadcast %" PRIu64 " is lost: the coordinator no longer has it",
                    self->last + 1);
        else
            tc_warn("broadcasts %" PRIu64 "..%" PRIu64
                    " are lost: the coordinator no longer has them",
                    self->last + 1, m->seq - 1);
    }
    self->last = m->seq;
    return self->emit(self->arg, m);
}

/* Fetches and emits pages until everything up to `upto` is emitted, the
 * coordinator has nothing more, or a page brings nothing new (so a
 * coordinator that keeps saying "more" without sending cannot loop us). */
static int s_fetch_until(tc_follow_t *self, uint64_t upto)
{
    while (self->last < upto) {
        tc_api_reply_t *reply = NULL;
        int rc = self->fetch(self->arg, self->last + 1, &reply);
        if (rc != 0)
            return rc;
        bool progressed = false;
        for (size_t i = 0; i < reply->nbroadcasts && rc == 0; i++) {
            const tc_msg_t *m = &reply->broadcasts[i];
            if (m->seq <= self->last)
                continue;
            progressed = true;
            rc = s_emit(self, m);
        }
        bool more = reply->more;
        tc_api_reply_destroy(&reply);
        if (rc != 0)
            return rc;
        if (!more || !progressed)
            break;
    }
    return 0;
}

int tc_follow_catch_up(tc_follow_t *self)
{
    if (!self->started)
        return 0;
    return s_fetch_until(self, UINT64_MAX);
}

int tc_follow_heartbeat(tc_follow_t *self, uint64_t latest)
{
    if (!self->started) {
        self->started = true;
        self->last = latest;
        return 0;
    }
    if (latest <= self->last)
        return 0;
    tc_info("broadcasts %" PRIu64 "..%" PRIu64 " never arrived live; fetching them", self->last + 1,
            latest);
    return s_fetch_until(self, latest);
}

int tc_follow_live(tc_follow_t *self, const tc_msg_t *m)
{
    assert(m->seq > 0);
    if (!self->started) {
        /* Joined without --from: the feed starts here, nothing before it
         * is wanted. */
        self->started = true;
        self->last = m->seq - 1;
    }
    if (m->seq <= self->last)
        return 0;
    if (m->seq > self->last + 1) {
        tc_info("broadcasts %" PRIu64 "..%" PRIu64 " were missed; fetching them", self->last + 1,
                m->seq - 1);
        int rc = s_fetch_until(self, m->seq - 1);
        if (rc != 0)
            return rc;
        /* The fetch may have reached past `m` if more were stored since. */
        if (m->seq <= self->last)
            return 0;
    }
    return s_emit(self, m);
}
