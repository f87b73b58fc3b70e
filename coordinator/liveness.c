/*
 * liveness.c - the periodic tick: hosts that went silent, deadlines the clock
 * has passed, and the publisher's heartbeat.
 */
#include "coord_impl.h"

#include "api.h"
#include "drafts.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    tc_coord_t *c;
    int64_t now;
    bool judge;   /* false: only find out whether a host looks silent */
    bool suspect; /* a host looked silent */
} s_tick_t;

/* How many batches a tick reads before it judges hosts silent. */
#define S_DRAIN_ROUNDS 64
/* A tick this much later than due means the coordinator did not run (the
 * process or its VM was paused, or a handler stalled that long). */
#define S_PAUSE_MS 1000

/* Silence while the coordinator was not running is not the hosts' doing:
 * their windows move on by the pause, so a pause never marks the fleet
 * down (a host that died is still caught, that much later). */
static void s_credit_pause(tc_coord_t *c, int64_t now)
{
    int64_t late = now - c->tick_mono - LIVENESS_TICK_MS; /* set when the loop starts */
    c->tick_mono = now;
    if (late < S_PAUSE_MS)
        return;
    for (tc_coord__peer_t *p = zhashx_first(c->peers); p; p = zhashx_next(c->peers))
        if (p->last_seen_mono)
            p->last_seen_mono = p->last_seen_mono + late < now ? p->last_seen_mono + late : now;
    tc_warn("the coordinator did not run for %lld ms (paused, or stalled on a slow disk): hosts' "
            "silence during it is not counted against them",
            (long long)late);
}

static void s_check_host(const tc_state_host_t *h, void *arg)
{
    s_tick_t *t = arg;
    tc_coord_t *c = t->c;
    if (!h->up || !strcmp(h->host, TC_COORDINATOR_ID))
        return;
    tc_coord__peer_t *p = tc_coord__peer(c, h->host);
    if (!p)
        return;
    if (p->last_seen_mono == 0) {
        /* Known from the log but not heard from since this start: the
         * grace period starts now, so a restart never marks every host down
         * at once, and a host that died meanwhile is still caught. */
        p->last_seen_mono = t->now;
        p->heartbeat_ms = h->heartbeat_ms ? h->heartbeat_ms : 5000;
        return;
    }
    int64_t hb = p->heartbeat_ms ? p->heartbeat_ms : 5000;
    if (t->now - p->last_seen_mono > hb * (int64_t)c->cfg.missed_heartbeats) {
        if (!t->judge) {
            t->suspect = true;
            return;
        }
        char reason[128];
        snprintf(reason, sizeof reason, "%u heartbeats missed", c->cfg.missed_heartbeats);
        tc_warn("host %s: %s", h->host, reason);
        tc_coord__queue_host(c, h->host, false, (uint32_t)hb, reason);
    }
}

bool tc_coord__deadline_due(const tc_coord_t *c, int64_t now)
{
    tc_timer_t due;
    return tc_state_next_deadline(c->state, &due) && due.due_ms <= now;
}

int tc_coord__on_pub_heartbeat(zloop_t *loop, int timer_id, void *arg)
{
    tc_coord_t *c = arg;
    tc_msg_t m = {.version = TC_PROTOCOL_VERSION, .kind = TC_MSG_HEARTBEAT};
    snprintf(m.sender, sizeof m.sender, TC_COORDINATOR_ID);
    m.time_ms = tc_now_ms();
    m.u.heartbeat.heartbeat_ms = PUB_HEARTBEAT_MS;
    m.u.heartbeat.last_seq = tc_store_bcast_seq(c->store);
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_msg(&m, &buf, &len) == 0) {
        zmsg_t *msg = zmsg_new();
        zmsg_addstr(msg, TC_TOPIC_HEARTBEAT);
        zmsg_addmem(msg, buf, len);
        free(buf);
        zmsg_send(&msg, c->pub);
    }
    return 0;
}

/* While storage is failing, tries it again now and then. */
static void s_retry_storage(tc_coord_t *c, int64_t now)
{
    if (!c->storage_rc || now - c->storage_probed < S_STORAGE_RETRY_MS)
        return;
    c->storage_probed = now;
    int rc = tc_store_probe(c->store);
    if (rc) {
        tc_debug("storage still failing: %s", tc_store_error(c->store));
        return;
    }
    tc_info("storage writable again after %lld s; storing and acknowledging again",
            (long long)((now - c->storage_since) / 1000));
    c->storage_rc = 0;
}

/* One INFO line a minute about the traffic, instead of one per event: what
 * an operator reading the log wants to know is that it is flowing. */
#define S_SUMMARY_MS 60000
static void s_summary(tc_coord_t *c, int64_t now)
{
    tc_coord__totals_t *last = &c->summary_last;
    if (!c->summary_at) {
        c->summary_at = now;
        return;
    }
    if (now - c->summary_at < S_SUMMARY_MS)
        return;
    tc_coord__totals_t cur = {c->accepted,
                              c->broadcasts,
                              c->batches,
                              c->duplicates,
                              c->throttled + c->deferred,
                              c->rejected + c->denied};
    if (memcmp(&cur, last, sizeof cur) != 0)
        tc_info("last %lld s: %llu records stored in %llu batches, %llu broadcasts, %llu "
                "duplicates, %llu delayed, %llu refused; log at %llu, %zu open incidents",
                (long long)((now - c->summary_at) / 1000),
                (unsigned long long)(cur.stored - last->stored),
                (unsigned long long)(cur.batches - last->batches),
                (unsigned long long)(cur.broadcasts - last->broadcasts),
                (unsigned long long)(cur.duplicates - last->duplicates),
                (unsigned long long)(cur.delayed - last->delayed),
                (unsigned long long)(cur.refused - last->refused),
                (unsigned long long)tc_store_log_seq(c->store), tc_state_open_count(c->state));
    *last = cur;
    c->summary_at = now;
}

/* Audit records older than coordinator.audit_retention go, a bounded
 * number every few minutes, between batches. */
#define S_AUDIT_PRUNE_MS (5 * 60 * 1000)
#define S_AUDIT_PRUNE_MAX 10000
static void s_prune_audit(tc_coord_t *c, int64_t now)
{
    if (!c->cfg.audit_retention_ms || c->storage_rc ||
        (c->audit_pruned && now - c->audit_pruned < S_AUDIT_PRUNE_MS))
        return;
    c->audit_pruned = now;
    size_t n = 0;
    int rc = tc_store_prune_audit(c->store, tc_now_ms() - c->cfg.audit_retention_ms,
                                  S_AUDIT_PRUNE_MAX, &n);
    if (rc)
        tc_warn("%s", tc_store_error(c->store));
    else if (n)
        tc_info("audit trail: %zu records older than %lld days pruned", n,
                (long long)(c->cfg.audit_retention_ms / 86400000));
}

int tc_coord__on_tick(zloop_t *loop, int timer_id, void *arg)
{
    tc_coord_t *c = arg;
    s_tick_t t = {.c = c, .now = tc_mono_ms()};
    s_retry_storage(c, t.now);
    s_prune_audit(c, t.now);
    s_summary(c, t.now);
    s_credit_pause(c, t.now);
    /* zloop runs due timers before it reads sockets, so after a stall (a
     * slow commit on a busy disk) this tick would come before the
     * heartbeats that queued meanwhile, and call hosts down that are not.
     * A host that looks silent is judged only once what already arrived
     * has been read. */
    tc_state_each_host(c->state, s_check_host, &t);
    if (t.suspect) {
        for (int i = 0; i < S_DRAIN_ROUNDS && (zsock_events(c->agents) & ZMQ_POLLIN); i++)
            if (tc_coord__on_agents(loop, c->agents, c) != 0)
                return -1;
        t.now = tc_mono_ms();
        t.judge = true;
        tc_state_each_host(c->state, s_check_host, &t);
    }
    if (c->limits && ++c->ticks % 50 == 0)
        tc_ratelimit_prune(c->limits, t.now, 60000);
    if (c->nbatch == 0 && c->naudit == 0 && !tc_coord__deadline_due(c, tc_coord__now(c)))
        return 0;
    return tc_coord__flush(c) == 0 ? 0 : -1;
}
