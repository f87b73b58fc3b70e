/*
 * outbox.c - sequenced delivery to the coordinator; see outbox.h.
 *
 * The send cursor. `acked` is the coordinator's word: everything up to it
 * is stored. `cursor` is the highest seq sent since the last rewind; the
 * events acked+1..cursor are in flight. Sending continues from cursor+1 in
 * seq order. A Hello, a THROTTLED or a RESEND moves the cursor back (never
 * below acked), an Ack moves both forward. Because the coordinator stores
 * only the next seq it expects, resending is always safe: what it already
 * has is dropped as a duplicate, and nothing can be acknowledged past a
 * gap.
 *
 * Pacing is pace.h's token bucket; when it or the window runs out, a
 * one-shot timer (or the next Ack) sends more. Timers and readers get the outbox as their argument;
 * it outlives them because tc_outbox_destroy() takes them off the loop.
 */
#include "outbox.h"

#include "error.h"
#include "link.h"
#include "log.h"
#include "lost.h"
#include "pace.h"
#include "ratelog.h"
#include "spool.h"
#include "util.h"
#include "wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Housekeeping: retrying a Hello that could not be sent, the ack watchdog,
 * deferred deletes and lost-event releases. Short, so that a fresh
 * connection is used promptly. */
#define S_TICK_MS 250
#define S_ACK_WAIT_MIN_MS 3000
/* How often to repeat "coordinator unreachable". */
#define S_UNREACHABLE_LOG_MS 30000
/* Frames in flight when a RESEND was sent produce more of them for the same
 * point; after acting on one, the same point is ignored this long. */
#define S_RESEND_HOLD_MS 1000
#define S_UNAUTHORIZED_PAUSE_MS 5000
#define S_PAUSE_MAX_MS 30000
/* Sending wakes up at most this often while paced. */
#define S_PUMP_MIN_MS 10
/* Deleting acknowledged events costs an fsync; batch them. */
#define S_PRUNE_BATCH 64
#define S_STORAGE_RETRY_MS 1000
#define S_PRUNE_BACKOFF_MAX_MS 30000
#define S_MIB ((size_t)1 << 20)

typedef enum {
    S_DOWN,    /* not connected, or connection lost */
    S_SYNCING, /* Hello sent; waiting for its Ack before sending events */
    S_LIVE,    /* sending from the cursor */
} s_state_t;

struct tc_outbox_t {
    zloop_t *loop;
    char sender[TC_ID_MAX];
    char endpoint[256];
    char hostname[TC_ID_MAX];
    int64_t heartbeat_ms;
    uint32_t window;
    tc_spool_t *spool;
    tc_lost_t *lost;
    tc_link_t *link;
    int tick_timer, hb_timer, pump_timer;
    bool pump_armed;
    s_state_t state;
    bool hello_due;
    uint64_t acked, cursor, pruned;
    int64_t prune_retry_ms, prune_backoff_ms; /* after a failed delete */
    int64_t last_progress_ms;                 /* monotonic: last Ack that moved `acked` */
    int64_t last_sync_ms;                     /* monotonic: last Hello sent */
    int64_t ack_wait_ms;
    int64_t pause_until_ms; /* no events sent before then */
    uint64_t hold_from;     /* RESENDs for this point are ignored ... */
    int64_t hold_until_ms;  /* ... until then */
    tc_pace_t *pace;
    int64_t storage_retry_ms; /* after a storage failure, retry releases then */
    bool full;                /* something was left out; cleared when all is released */
    int full_rc;              /* why: TC_EFULL, TC_EDISKFULL, ... */
    size_t released;          /* records released since it was full */
    int64_t unsent_since_ms;  /* when Hellos started failing, 0 if not */
    int64_t unsent_logged_ms;
    bool unreachable_warned;
    uint64_t sent, throttled, rewinds, heartbeats;
    tc_ratelog_t full_log, disk_log, room_log, prune_log, reject_log, resend_log, watchdog_log;
};

/* ---- sending ------------------------------------------------------------- */

static void s_envelope(const tc_outbox_t *ob, tc_msg_t *m, tc_msg_kind_t kind)
{
    memset(m, 0, sizeof *m);
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "%s", ob->sender);
    m->time_ms = tc_now_ms();
    m->kind = kind;
}

/* While the coordinator cannot be reached, say so now and then: silence
 * would look like health, and the spool is growing. */
static void s_note_unreachable(tc_outbox_t *ob)
{
    int64_t now = tc_mono_ms();
    if (!ob->unsent_since_ms) {
        ob->unsent_since_ms = now;
        ob->unsent_logged_ms = now;
        return;
    }
    if (now - ob->unsent_logged_ms < S_UNREACHABLE_LOG_MS)
        return;
    ob->unsent_logged_ms = now;
    ob->unreachable_warned = true;
    size_t n = 0;
    tc_spool_count(ob->spool, &n);
    tc_warn("coordinator %s unreachable for %" PRId64 " s; %zu events spooled", ob->endpoint,
            (now - ob->unsent_since_ms) / 1000, n);
}

/* Ignore RESENDs for `from` for a while: see S_RESEND_HOLD_MS. */
static void s_hold(tc_outbox_t *ob, uint64_t from)
{
    ob->hold_from = from;
    ob->hold_until_ms = tc_mono_ms() + S_RESEND_HOLD_MS;
}

static int s_send_hello(tc_outbox_t *ob)
{
    tc_msg_t m;
    s_envelope(ob, &m, TC_MSG_HELLO);
    snprintf(m.u.hello.hostname, sizeof m.u.hello.hostname, "%s", ob->hostname);
    snprintf(m.u.hello.agent_version, sizeof m.u.hello.agent_version, "%s", TOCSIN_VERSION);
    m.u.hello.heartbeat_ms = (uint32_t)ob->heartbeat_ms;
    if (tc_link_send_msg(ob->link, &m) != 0) {
        s_note_unreachable(ob);
        return -1;
    }
    if (ob->unreachable_warned)
        tc_info("coordinator %s reachable again", ob->endpoint);
    ob->unreachable_warned = false;
    ob->unsent_since_ms = 0;
    ob->hello_due = false;
    ob->state = S_SYNCING;
    /* Whatever was in flight may be lost; the Ack says where to go on. */
    ob->cursor = ob->acked;
    s_hold(ob, ob->acked + 1);
    ob->last_sync_ms = tc_mono_ms();
    tc_debug("hello sent to %s", ob->endpoint);
    return 0;
}

static int s_on_pump(zloop_t *loop, int timer_id, void *arg);

/* Sending resumes in `delay_ms` (a pause or the pace). */
static void s_arm_pump(tc_outbox_t *ob, int64_t delay_ms)
{
    if (ob->pump_armed)
        return;
    if (delay_ms < 1)
        delay_ms = 1;
    ob->pump_timer = zloop_timer(ob->loop, (size_t)delay_ms, 1, s_on_pump, ob);
    ob->pump_armed = ob->pump_timer != -1;
}

typedef struct {
    tc_outbox_t *ob;
    uint64_t budget;
    uint64_t sent;
    bool blocked;
} s_pump_t;

static int s_send_one(uint64_t seq, const uint8_t *frame, size_t len, void *arg)
{
    s_pump_t *p = arg;
    if (tc_link_send(p->ob->link, frame, len) != 0) {
        p->blocked = true;
        return 1;
    }
    p->ob->cursor = seq;
    p->sent++;
    return p->sent >= p->budget ? 1 : 0;
}

/* Sends from the cursor as far as the window and the pace allow. */
static void s_pump(tc_outbox_t *ob)
{
    if (ob->state != S_LIVE)
        return;
    int64_t now = tc_mono_ms();
    if (now < ob->pause_until_ms) {
        s_arm_pump(ob, ob->pause_until_ms - now);
        return;
    }
    uint64_t last = tc_spool_last_seq(ob->spool);
    if (ob->cursor < ob->acked)
        ob->cursor = ob->acked;
    if (ob->cursor >= last)
        return;
    uint64_t in_flight = ob->cursor - ob->acked;
    if (in_flight >= ob->window)
        return; /* the next Ack opens it */
    uint64_t allowed = tc_pace_allowed(ob->pace, now);
    if (allowed == 0) {
        int64_t wait = tc_pace_wait_ms(ob->pace);
        s_arm_pump(ob, wait > S_PUMP_MIN_MS ? wait : S_PUMP_MIN_MS);
        return;
    }
    s_pump_t p = {.ob = ob, .budget = allowed};
    if (p.budget > ob->window - in_flight)
        p.budget = ob->window - in_flight;
    int rc = tc_spool_foreach(ob->spool, ob->cursor, s_send_one, &p);
    if (rc < 0)
        tc_ratelog(&ob->prune_log, TC_LOG_ERROR, "cannot read the spool %s: %s",
                   tc_spool_dir(ob->spool), tc_strerror(rc));
    tc_pace_spend(ob->pace, p.sent);
    ob->sent += p.sent;
    if (p.blocked) {
        /* Not connected after all, or the socket's queue is full: the
         * tick or the next Ack tries again. */
        tc_debug("send stopped at seq %" PRIu64 "; it stays spooled", ob->cursor + 1);
        return;
    }
    if (ob->cursor < last && ob->cursor - ob->acked < ob->window)
        s_arm_pump(ob, S_PUMP_MIN_MS);
}

static int s_on_pump(zloop_t *loop, int timer_id, void *arg)
{
    tc_outbox_t *ob = arg;
    ob->pump_armed = false;
    s_pump(ob);
    return 0;
}

/* ---- the spool's limits ----------------------------------------------------- */

/* Deletes what the coordinator has, in batches (each delete is an fsync):
 * when enough piled up (which is also room enough for what a full spool
 * left out), when everything sent is acknowledged, or on the tick. */
static void s_prune(tc_outbox_t *ob, bool force)
{
    if (ob->acked <= ob->pruned)
        return;
    if (!force && ob->acked - ob->pruned < S_PRUNE_BATCH && ob->cursor > ob->acked)
        return;
    /* After a storage failure (a full disk), every attempt walks all that
     * is acknowledged before its commit fails: back off. */
    int64_t now = tc_mono_ms();
    if (now < ob->prune_retry_ms)
        return;
    size_t deleted = 0;
    int rc = tc_spool_ack(ob->spool, ob->acked, &deleted);
    if (rc != 0) {
        ob->prune_backoff_ms = ob->prune_backoff_ms ? 2 * ob->prune_backoff_ms : 1000;
        if (ob->prune_backoff_ms > S_PRUNE_BACKOFF_MAX_MS)
            ob->prune_backoff_ms = S_PRUNE_BACKOFF_MAX_MS;
        ob->prune_retry_ms = now + ob->prune_backoff_ms;
        tc_ratelog(&ob->prune_log, TC_LOG_ERROR,
                   "cannot delete acknowledged events (up to seq %" PRIu64 ") from the spool: "
                   "%s; retrying in %" PRId64 " s",
                   ob->acked, tc_spool_error(ob->spool), ob->prune_backoff_ms / 1000);
        return;
    }
    ob->prune_backoff_ms = 0;
    ob->pruned = ob->acked;
    if (deleted)
        tc_debug("ack %" PRIu64 ": %zu events delivered", ob->acked, deleted);
}

/* Turns left-out transitions into events once there is room. */
static void s_release(tc_outbox_t *ob)
{
    if (tc_lost_checks(ob->lost) == 0)
        return;
    size_t released = 0, spooled = 0;
    int rc = tc_lost_release(ob->lost, &released, &spooled);
    if (rc != 0 && rc != TC_EFULL)
        ob->storage_retry_ms = tc_mono_ms() + S_STORAGE_RETRY_MS;
    ob->released += released;
    if (released)
        tc_debug("spool %s: %zu checks' left-out transitions spooled as %zu events",
                 tc_spool_dir(ob->spool), released, spooled);
    if (rc == 0 && ob->full) {
        /* The limiters keep running: on a nearly full disk room comes and
         * goes, and each change must not be worth a line. */
        ob->full = false;
        ob->full_rc = 0;
        tc_ratelog(&ob->room_log, TC_LOG_INFO,
                   "spool %s has room again; what it left out of %zu checks is reported as "
                   "lost, with their latest states",
                   tc_spool_dir(ob->spool), ob->released);
        ob->released = 0;
    }
    if (spooled)
        s_pump(ob);
}

int tc_outbox_append(tc_outbox_t *ob, tc_msg_t *m)
{
    if (m->kind != TC_MSG_CHECK_RESULT)
        return TC_EINVAL;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "%s", ob->sender);
    if (m->time_ms == 0)
        m->time_ms = tc_now_ms();
    m->seq = 0;
    /* What was left out goes first when there is room: it is older. */
    if (tc_lost_checks(ob->lost))
        s_release(ob);
    int rc = ob->full_rc ? ob->full_rc : TC_EFULL;
    /* A check with a record keeps adding to it, so that its events stay in
     * the order they were observed. */
    if (!tc_lost_has(ob->lost, m)) {
        rc = tc_spool_append(ob->spool, m);
        if (rc == 0) {
            tc_lost_spooled(ob->lost, m);
            s_pump(ob);
            return 0;
        }
    }
    char reason[TC_TITLE_MAX];
    tc_spool_usage_t u;
    tc_spool_usage(ob->spool, &u);
    if (rc == TC_EFULL)
        snprintf(reason, sizeof reason, "spool full (%zu MiB)", u.max / S_MIB);
    else if (rc == TC_EDISKFULL)
        snprintf(reason, sizeof reason, "disk full at %s", tc_spool_dir(ob->spool));
    else
        snprintf(reason, sizeof reason, "spool failure: %s", tc_strerror(rc));
    bool durable = false;
    int lrc = tc_lost_add(ob->lost, m, reason, &durable);
    if (lrc != 0)
        return lrc;
    ob->full = true;
    ob->full_rc = rc;
    if (rc == TC_EFULL)
        tc_ratelog(&ob->full_log, TC_LOG_WARN,
                   "spool %s is full (%zu MiB): keeping the latest state of each check and "
                   "counting what is left out (%zu checks, %" PRIu64 " transitions so far)",
                   tc_spool_dir(ob->spool), u.max / S_MIB, tc_lost_checks(ob->lost),
                   tc_lost_transitions(ob->lost));
    else
        tc_ratelog(&ob->disk_log, TC_LOG_ERROR,
                   "cannot spool an event: %s; keeping the latest state of each check %s "
                   "(%zu checks, %" PRIu64 " transitions so far)",
                   tc_spool_error(ob->spool), durable ? "in the spool" : "in memory",
                   tc_lost_checks(ob->lost), tc_lost_transitions(ob->lost));
    if (rc != TC_EFULL)
        ob->storage_retry_ms = tc_mono_ms() + S_STORAGE_RETRY_MS;
    return TC_EFULL;
}

/* ---- messages from the coordinator ----------------------------------------- */

static void s_on_ack(tc_outbox_t *ob, uint64_t seq)
{
    int64_t now = tc_mono_ms();
    uint64_t last = tc_spool_last_seq(ob->spool);
    if (seq > last) {
        /* The coordinator has more of our events than we ever numbered: the
         * spool was wiped or restored. Continue above its number, or every
         * new event would be dropped as a duplicate. */
        size_t moved = 0;
        int rc = tc_spool_rebase(ob->spool, seq, &moved);
        if (rc != 0) {
            tc_ratelog(&ob->prune_log, TC_LOG_ERROR,
                       "coordinator knows seq %" PRIu64 " but our counter is at %" PRIu64
                       "; cannot move the counter: %s",
                       seq, last, tc_spool_error(ob->spool));
            return;
        }
        tc_warn("coordinator knows seq %" PRIu64 " but our counter was at %" PRIu64
                " (spool reset?); %zu unsent events renumbered from %" PRIu64
                ", new ones continue after %" PRIu64,
                seq, last, moved, seq + 1, tc_spool_last_seq(ob->spool));
        ob->acked = ob->cursor = ob->pruned = seq;
        ob->last_progress_ms = now;
    } else if (seq > ob->acked) {
        ob->acked = seq;
        ob->last_progress_ms = now;
    }
    if (ob->cursor < ob->acked)
        ob->cursor = ob->acked;
    if (ob->state == S_SYNCING) {
        ob->state = S_LIVE;
        ob->last_progress_ms = now;
        tc_debug("coordinator has our events up to seq %" PRIu64 "; sending from there", ob->acked);
    }
    s_prune(ob, false);
    s_release(ob);
    s_pump(ob);
}

/* Moves the cursor back so that sending resumes at `from`. */
static void s_rewind(tc_outbox_t *ob, uint64_t from)
{
    uint64_t to = from ? from - 1 : ob->acked;
    if (to < ob->acked)
        to = ob->acked;
    if (to < ob->cursor)
        ob->cursor = to;
}

static void s_on_reject(tc_outbox_t *ob, const tc_reject_t *r)
{
    int64_t now = tc_mono_ms();
    switch (r->reason) {
    case TC_REJECT_RESEND: {
        uint64_t from = r->resend_from ? r->resend_from : ob->acked + 1;
        if (from <= ob->acked || from - 1 >= ob->cursor ||
            (from == ob->hold_from && now < ob->hold_until_ms)) {
            tc_debug("ignoring resend from %" PRIu64 " (acked %" PRIu64 ", sent %" PRIu64 ")", from,
                     ob->acked, ob->cursor);
            return;
        }
        ob->rewinds++;
        tc_ratelog(&ob->resend_log, TC_LOG_INFO,
                   "coordinator %s asks to resend from seq %" PRIu64 " (%s)", ob->endpoint, from,
                   r->detail);
        s_rewind(ob, from);
        s_hold(ob, from);
        s_pump(ob);
        return;
    }
    case TC_REJECT_THROTTLED: {
        int64_t wait = r->retry_after_ms ? r->retry_after_ms : 1000;
        if (wait > S_PAUSE_MAX_MS)
            wait = S_PAUSE_MAX_MS;
        ob->throttled++;
        ob->pause_until_ms = now + wait;
        tc_pace_throttled(ob->pace, now);
        s_rewind(ob, 0);
        s_hold(ob, ob->acked + 1);
        tc_ratelog(&ob->resend_log, TC_LOG_INFO,
                   "coordinator %s is throttling us: pausing %" PRId64
                   " ms, then resending from seq %" PRIu64 " at %.0f events/s",
                   ob->endpoint, wait, ob->acked + 1, tc_pace_rate(ob->pace));
        s_arm_pump(ob, wait);
        return;
    }
    case TC_REJECT_UNAUTHORIZED:
        /* A key not (yet) allowed or bound to another id: nothing is lost,
         * the events wait until an operator fixes it. Refused heartbeats
         * (seq 0) say the same but must not keep extending the pause. */
        tc_ratelog(&ob->reject_log, TC_LOG_WARN,
                   "coordinator %s refused seq %" PRIu64 " as unauthorized (%s); events stay "
                   "spooled and are resent",
                   ob->endpoint, r->seq, r->detail);
        if (r->seq > ob->acked && now >= ob->pause_until_ms) {
            ob->pause_until_ms = now + S_UNAUTHORIZED_PAUSE_MS;
            s_rewind(ob, 0);
            s_hold(ob, ob->acked + 1);
            s_arm_pump(ob, S_UNAUTHORIZED_PAUSE_MS);
        }
        return;
    case TC_REJECT_INVALID:
    case TC_REJECT_BAD_VERSION:
        if (r->seq > ob->acked && tc_spool_contains(ob->spool, r->seq)) {
            /* It can never be stored; resending it forever would wedge the
             * spool. The coordinator skips it in the sequence. */
            tc_error("coordinator rejected event seq %" PRIu64 " (reason %d): %s; deleting it "
                     "from the spool",
                     r->seq, (int)r->reason, r->detail);
            int rc = tc_spool_remove(ob->spool, r->seq);
            if (rc != 0 && rc != TC_ENOTFOUND)
                tc_error("cannot delete seq %" PRIu64 " from the spool: %s", r->seq,
                         tc_spool_error(ob->spool));
            return;
        }
        break;
    default: break;
    }
    tc_ratelog(&ob->reject_log, TC_LOG_WARN,
               "coordinator rejected a message (seq %" PRIu64 ", reason %d): %s", r->seq,
               (int)r->reason, r->detail);
}

static void s_on_msg(const tc_msg_t *m, void *arg)
{
    tc_outbox_t *ob = arg;
    switch (m->kind) {
    case TC_MSG_ACK: s_on_ack(ob, m->u.ack.seq); break;
    case TC_MSG_REJECT: s_on_reject(ob, &m->u.reject); break;
    default:
        tc_ratelog(&ob->reject_log, TC_LOG_WARN,
                   "ignoring an unexpected %s message from the coordinator",
                   tc_msg_kind_name(m->kind));
        break;
    }
}

static void s_on_link(tc_link_event_t ev, void *arg)
{
    tc_outbox_t *ob = arg;
    if (ev == TC_LINK_UP) {
        ob->hello_due = true;
        s_send_hello(ob);
        return;
    }
    if (ob->state != S_DOWN)
        tc_warn("lost connection to coordinator %s; events stay spooled", ob->endpoint);
    ob->state = S_DOWN;
    ob->hello_due = true;
}

/* ---- timers ------------------------------------------------------------------ */

static int s_on_heartbeat(zloop_t *loop, int timer_id, void *arg)
{
    tc_outbox_t *ob = arg;
    tc_msg_t m;
    s_envelope(ob, &m, TC_MSG_HEARTBEAT);
    m.u.heartbeat.heartbeat_ms = (uint32_t)ob->heartbeat_ms;
    m.u.heartbeat.last_seq = tc_spool_last_seq(ob->spool);
    if (tc_link_send_msg(ob->link, &m) != 0)
        tc_debug("heartbeat not sent: coordinator %s not connected", ob->endpoint);
    else
        ob->heartbeats++;
    return 0;
}

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    tc_outbox_t *ob = arg;
    char why[256];
    if (tc_link_tick(ob->link, why, sizeof why) != 0) {
        tc_error("cannot reconnect to coordinator %s: %s; stopping", ob->endpoint, why);
        return -1;
    }
    int64_t now = tc_mono_ms();
    tc_pace_tick(ob->pace, now);
    if (tc_lost_checks(ob->lost) && now >= ob->storage_retry_ms) {
        s_prune(ob, true);
        s_release(ob);
    } else {
        s_prune(ob, true);
    }
    if (ob->hello_due) {
        s_send_hello(ob);
        return 0;
    }
    int64_t since =
        ob->last_progress_ms > ob->last_sync_ms ? ob->last_progress_ms : ob->last_sync_ms;
    if (ob->pause_until_ms > since)
        since = ob->pause_until_ms;
    bool waiting = ob->state == S_SYNCING || (ob->state == S_LIVE && ob->cursor > ob->acked);
    if (waiting && now - since >= ob->ack_wait_ms) {
        tc_ratelog(&ob->watchdog_log, TC_LOG_WARN,
                   "no ack from coordinator %s for %" PRId64 " ms with %" PRIu64
                   " events in flight; sending hello and resending",
                   ob->endpoint, now - since, ob->cursor - ob->acked);
        if (s_send_hello(ob) != 0)
            ob->last_sync_ms = now; /* not connected; retry after another wait */
        return 0;
    }
    s_pump(ob);
    return 0;
}

/* ---- life cycle --------------------------------------------------------------- */

int tc_outbox_new(zloop_t *loop, const tc_outbox_config_t *cfg, tc_outbox_t **out, char *why,
                  size_t whylen)
{
    *out = NULL;
    tc_outbox_t *ob = calloc(1, sizeof *ob);
    if (!ob)
        return TC_ENOMEM;
    int rc = TC_EINVAL;
    ob->loop = loop;
    ob->tick_timer = ob->hb_timer = ob->pump_timer = -1;
    if (snprintf(ob->sender, sizeof ob->sender, "%s", cfg->sender) >= (int)sizeof ob->sender ||
        snprintf(ob->endpoint, sizeof ob->endpoint, "%s", cfg->endpoint) >=
            (int)sizeof ob->endpoint) {
        if (why && whylen)
            snprintf(why, whylen, "sender id or endpoint too long");
        goto fail_spool;
    }
    char host[256] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    tc_strlcpy_utf8(ob->hostname, host, sizeof ob->hostname);
    ob->heartbeat_ms = cfg->heartbeat_ms;
    ob->window = cfg->window ? cfg->window : TC_OUTBOX_DEFAULT_WINDOW;
    ob->ack_wait_ms =
        2 * cfg->heartbeat_ms > S_ACK_WAIT_MIN_MS ? 2 * cfg->heartbeat_ms : S_ACK_WAIT_MIN_MS;
    ob->last_progress_ms = ob->last_sync_ms = tc_mono_ms();
    ob->pace =
        tc_pace_new(cfg->send_rate ? cfg->send_rate : TC_OUTBOX_DEFAULT_RATE, ob->last_sync_ms);
    if (!ob->pace) {
        rc = TC_ENOMEM;
        goto fail_spool;
    }
    ob->state = S_DOWN;
    ob->hello_due = true;
    ob->full_log.interval_ms = ob->disk_log.interval_ms = ob->room_log.interval_ms = 10000;
    ob->prune_log.interval_ms = ob->reject_log.interval_ms = 10000;
    ob->resend_log.interval_ms = ob->watchdog_log.interval_ms = 10000;

    rc = tc_spool_open(cfg->spool_dir, ob->sender, cfg->spool_max, &ob->spool, why, whylen);
    if (rc != 0)
        goto fail_spool;
    rc = tc_lost_new(ob->spool, &ob->lost);
    if (rc != 0) {
        if (why && whylen)
            snprintf(why, whylen, "cannot read the spool's lost-event records: %s",
                     tc_strerror(rc));
        goto fail_lost;
    }
    ob->full = tc_lost_checks(ob->lost) > 0;
    ob->acked = ob->cursor = ob->pruned = 0;

    tc_link_config_t lc = {.endpoint = ob->endpoint,
                           .keys = cfg->keys,
                           .heartbeat_ms = cfg->heartbeat_ms,
                           .on_event = s_on_link,
                           .on_msg = s_on_msg,
                           .arg = ob};
    rc = tc_link_new(loop, &lc, &ob->link, why, whylen);
    if (rc != 0)
        goto fail_link;
    rc = TC_ENOMEM;
    ob->hb_timer = zloop_timer(loop, (size_t)cfg->heartbeat_ms, 0, s_on_heartbeat, ob);
    ob->tick_timer = zloop_timer(loop, S_TICK_MS, 0, s_on_tick, ob);
    if (ob->hb_timer == -1 || ob->tick_timer == -1) {
        if (why && whylen)
            snprintf(why, whylen, "out of memory");
        goto fail_timers;
    }
    *out = ob;
    return 0;

fail_timers:
    if (ob->hb_timer != -1)
        zloop_timer_end(loop, ob->hb_timer);
    if (ob->tick_timer != -1)
        zloop_timer_end(loop, ob->tick_timer);
    tc_link_destroy(&ob->link);
fail_link:
    tc_lost_destroy(&ob->lost);
fail_lost:
    tc_spool_destroy(&ob->spool);
fail_spool:
    tc_pace_destroy(&ob->pace);
    free(ob);
    return rc;
}

void tc_outbox_destroy(tc_outbox_t **pob)
{
    if (!pob || !*pob)
        return;
    tc_outbox_t *ob = *pob;
    ob->prune_retry_ms = 0; /* one last try, whatever the back-off */
    s_prune(ob, true);
    if (ob->hb_timer != -1)
        zloop_timer_end(ob->loop, ob->hb_timer);
    if (ob->tick_timer != -1)
        zloop_timer_end(ob->loop, ob->tick_timer);
    if (ob->pump_armed)
        zloop_timer_end(ob->loop, ob->pump_timer);
    tc_link_destroy(&ob->link);
    tc_lost_destroy(&ob->lost);
    tc_spool_destroy(&ob->spool);
    tc_pace_destroy(&ob->pace);
    free(ob);
    *pob = NULL;
}

void tc_outbox_stats(tc_outbox_t *ob, tc_outbox_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->last_seq = tc_spool_last_seq(ob->spool);
    st->acked = ob->acked;
    tc_spool_count(ob->spool, &st->spooled);
    st->in_flight = ob->cursor > ob->acked ? ob->cursor - ob->acked : 0;
    st->lost_checks = tc_lost_checks(ob->lost);
    st->lost_transitions = tc_lost_transitions(ob->lost);
    st->lost_volatile = tc_lost_volatile(ob->lost);
    st->connected = tc_link_connected(ob->link);
    st->live = ob->state == S_LIVE;
    st->paused = tc_mono_ms() < ob->pause_until_ms;
    st->rate = tc_pace_rate(ob->pace);
    st->sent = ob->sent;
    st->throttled = ob->throttled;
    st->rewinds = ob->rewinds;
    st->heartbeats = ob->heartbeats;
}

size_t tc_outbox_spool_bytes(tc_outbox_t *ob)
{
    tc_spool_usage_t u;
    tc_spool_usage(ob->spool, &u);
    return u.used;
}

const char *tc_outbox_spool_dir(const tc_outbox_t *ob)
{
    return tc_spool_dir(ob->spool);
}
