/*
 * ingest.c - the batch pipeline: frames from agents are validated, queued,
 * stored in one LMDB transaction with the state changes and broadcasts they
 * cause, and only after the commit acknowledged and published.
 */
#include "coord_impl.h"

#include "replay.h"

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

void tc_coord__peer_free(void **item)
{
    tc_coord__peer_t *p = *item;
    if (p) {
        zframe_destroy(&p->identity);
        free(p);
    }
    *item = NULL;
}

tc_coord__peer_t *tc_coord__peer(tc_coord_t *c, const char *sender)
{
    tc_coord__peer_t *p = zhashx_lookup(c->peers, sender);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return NULL;
        zhashx_insert(c->peers, sender, p);
    }
    return p;
}

static void s_send_msg(zsock_t *sock, zframe_t *identity, const tc_msg_t *m)
{
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_msg(m, &buf, &len) != 0)
        return;
    zmsg_t *msg = zmsg_new();
    zmsg_append(msg, &(zframe_t *){zframe_dup(identity)});
    zmsg_addmem(msg, buf, len);
    free(buf);
    zmsg_send(&msg, sock);
}

/* Answers a refused frame. Counting is the caller's: a refusal is either
 * bad input (rejected) or a failed authorization (denied). */
static void s_reject_resend(tc_coord_t *c, zframe_t *identity, tc_reject_reason_t reason,
                            uint64_t seq, const char *detail, uint64_t resend_from,
                            uint32_t retry_after_ms)
{
    tc_msg_t m = {.version = TC_PROTOCOL_VERSION, .seq = 0, .kind = TC_MSG_REJECT};
    snprintf(m.sender, sizeof m.sender, TC_COORDINATOR_ID);
    m.time_ms = tc_now_ms();
    m.u.reject.reason = reason;
    m.u.reject.seq = seq;
    m.u.reject.resend_from = resend_from;
    m.u.reject.retry_after_ms = retry_after_ms;
    snprintf(m.u.reject.detail, sizeof m.u.reject.detail, "%s", detail);
    s_send_msg(c->agents, identity, &m);
}

static void s_reject(tc_coord_t *c, zframe_t *identity, tc_reject_reason_t reason, uint64_t seq,
                     const char *detail)
{
    s_reject_resend(c, identity, reason, seq, detail, 0, 0);
}

tc_record_t *tc_coord__queue(tc_coord_t *c)
{
    if (tc_coord__grow((void **)&c->batch, &c->batch_cap, c->nbatch, sizeof *c->batch) != 0)
        return NULL;
    tc_coord__pending_t *p = &c->batch[c->nbatch++];
    /* Only the headers: the caller fills the one member its kind uses (a
     * whole record is 16 KB, most of it never touched). */
    memset(&p->rec, 0, offsetof(tc_record_t, event) + offsetof(tc_msg_t, u));
    p->raw_off = p->raw_len = 0;
    p->ticket = ++c->tickets;
    p->refused = p->answer = false;
    p->identity = NULL;
    p->resend_from = 0;
    p->refused_why[0] = '\0';
    return &p->rec;
}

/* Queues a coordinator-made HostStatus record. */
void tc_coord__queue_host(tc_coord_t *c, const char *host, bool up, uint32_t heartbeat_ms,
                          const char *reason)
{
    tc_record_t *r = tc_coord__queue(c);
    if (!r)
        return;
    tc_msg_t *m = &r->event;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, TC_COORDINATOR_ID);
    m->kind = TC_MSG_HOST_STATUS;
    snprintf(m->u.host_status.host, sizeof m->u.host_status.host, "%s", host);
    m->u.host_status.up = up;
    m->u.host_status.heartbeat_ms = heartbeat_ms;
    snprintf(m->u.host_status.reason, sizeof m->u.host_status.reason, "%s", reason);
}

/* Encodes broadcast `b` of the record received at `time_ms` once, stores it
 * under the next broadcast sequence and keeps it for publishing. The
 * record's time, not the clock: replaying the log must produce the same
 * broadcasts. */
static int s_add_out(tc_coord_t *c, const tc_broadcast_t *b, int64_t time_ms)
{
    int rc = tc_coord__grow((void **)&c->out, &c->out_cap, c->nout, sizeof *c->out);
    if (rc)
        return rc;
    tc_coord__out_t *o = &c->out[c->nout];
    o->kind = b->kind;
    o->seq = tc_store_next_bcast_seq(c->store);
    o->incident = b->incident.id;
    memcpy(o->topic, b->topic, sizeof o->topic);
    if ((rc = tc_wire_append_bcast(&c->arena, o->seq, time_ms, b, &o->off, &o->len)) != 0 ||
        (rc = tc_store_append_bcast_bytes(c->store, o->seq, c->arena.data + o->off, o->len)) != 0)
        return rc;
    c->nout++;
    tc_debug("broadcast %llu %s: %s", (unsigned long long)o->seq, o->topic, b->detail);
    return 0;
}

/* Applies one record inside the open transaction: log, state, outputs.
 * `raw` (may be NULL) is the record's frame as received. */
static int s_store_record(tc_coord_t *c, tc_record_t *rec, const uint8_t *raw, size_t raw_len)
{
    int rc = raw ? tc_store_append_log_raw(c->store, rec, raw, raw_len)
                 : tc_store_append_log(c->store, rec);
    if (rc)
        return rc;
    tc_state_out_t *outp = c->sout;
#define out (*outp)
    if (rec->event.kind == TC_MSG_CONFIG) {
        /* The configuration itself goes beside the log, under the record's
         * sequence, and is put in force exactly as a replay will. */
        out.quiet = false; /* live: every broadcast is stored and published */
        if ((rc = tc_store_put_config(c->store, rec->seq, c->config_buf, c->config_len)) != 0 ||
            (rc = tc_replay_configure_bytes(c->state, rec, c->config_buf, c->config_len, &out)) !=
                0)
            return rc;
    } else if ((rc = tc_state_apply(c->state, rec, &out)) != 0) {
        return rc;
    }
    for (size_t i = 0; i < out.n; i++) {
        const tc_broadcast_t *b = &out.bcast[i];
        if ((rc = s_add_out(c, b, rec->received_ms)) != 0)
            return rc;
    }
    for (size_t i = 0; i < out.ntimeline; i++)
        if ((rc = tc_store_put_timeline(c->store, &out.timeline[i], (unsigned)i)) != 0)
            return rc;
    return 0;
#undef out
}

/* When an event from a sender happened: the time the sender observed it
 * (so that a backlog delivered an hour late dates the outage when it
 * happened), made safe: never after `now`, never before the same sender's
 * previous event (`prev`), never more than TC_EVENT_AGE_MAX before now (a
 * clock set to 1970 must not date an incident there). Under the test clock
 * the sender's clock moves forward with the coordinator's. */
#define TC_EVENT_AGE_MAX (30LL * 86400 * 1000)
static int64_t s_event_time(const tc_coord_t *c, const tc_msg_t *m, int64_t prev, int64_t now)
{
    int64_t t = m->time_ms + c->clock_offset_ms;
    if (t > now)
        t = now;
    if (t < now - TC_EVENT_AGE_MAX)
        t = now - TC_EVENT_AGE_MAX;
    if (t < prev)
        t = prev > now ? now : prev;
    return t;
}

/* Stores the batch in one transaction, then acks and publishes. A storage
 * failure is fatal: the in-memory state may be ahead of the disk, nothing of
 * the batch was acknowledged, and a restart replays the log. */
/* A record observed this long before it was stored is from a backlog. */
#define S_BACKLOG_MS 1000

/* Most deadlines fired in one batch. Each fired deadline is gone from the
 * state once applied; one that is not is a bug, and the cap keeps it from
 * spinning the loop (it is logged and the next batch tries again). */
#define MAX_DEADLINES_PER_BATCH 1000

/* Stores and applies a TimerFired record for every deadline due at or
 * before `upto`, in the state machine's firing order, each dated when it
 * was due. Called before each record of a batch with the record's time, so
 * that deadlines interleave with events in the order they happened (a
 * backlog delivered late declares its incident before it resolves it), and
 * at the end of the batch with the batch's clock reading. */
static int s_fire_deadlines(tc_coord_t *c, int64_t upto, int64_t now, tc_record_t *scratch,
                            size_t *fired)
{
    tc_timer_t due, last = {0};
    while (tc_state_next_deadline(c->state, &due) && due.due_ms <= upto) {
        if (*fired == MAX_DEADLINES_PER_BATCH || (*fired && !memcmp(&due, &last, sizeof due))) {
            tc_error("deadline %s of %llu due %lld does not clear; left for the next batch",
                     due.kind, (unsigned long long)due.incident, (long long)due.due_ms);
            return 0;
        }
        memset(scratch, 0, sizeof *scratch);
        tc_msg_t *m = &scratch->event;
        m->version = TC_PROTOCOL_VERSION;
        snprintf(m->sender, sizeof m->sender, TC_COORDINATOR_ID);
        m->kind = TC_MSG_TIMER;
        m->u.timer = due;
        scratch->received_ms = now;
        scratch->time_ms = due.due_ms;
        tc_info("deadline: %s for %llu, due %lld ms ago", due.kind,
                (unsigned long long)due.incident, (long long)(now - due.due_ms));
        int rc = s_store_record(c, scratch, NULL, 0);
        if (rc)
            return rc;
        last = due;
        ++*fired;
    }
    return 0;
}

/* One try at storing the batch: everything between begin and commit.
 * It may run twice (after the map grew), so it starts from the batch as
 * queued and changes nothing outside the transaction but the state, which
 * the caller rebuilds from the store if the commit fails. */
static int s_attempt(tc_coord_t *c, int64_t now, tc_record_t *timer, size_t *stored_out,
                     bool *config_out)
{
    for (size_t i = 0; i < c->nbatch; i++)
        c->batch[i].answer = false;
    c->nout = 0;
    c->arena.len = 0;
    int rc = tc_store_begin(c->store);
    size_t stored = 0, fired = 0;
    bool config_stored = false;
    bool storable = c->config_now || tc_coord__deadline_due(c, now);
    for (size_t i = 0; !storable && i < c->nbatch; i++)
        storable = !c->batch[i].refused;
    if (rc == 0 && c->config_pending && storable) {
        /* The configuration in force goes into the log before the first
         * record applied with it. */
        memset(timer, 0, sizeof *timer);
        timer->received_ms = timer->time_ms = now;
        timer->event.version = TC_PROTOCOL_VERSION;
        snprintf(timer->event.sender, sizeof timer->event.sender, TC_COORDINATOR_ID);
        timer->event.kind = TC_MSG_CONFIG;
        timer->event.u.config.digest = tc_wire_digest(c->config_buf, c->config_len);
        tc_strlcpy_utf8(timer->event.u.config.source, c->cfg.path,
                        sizeof timer->event.u.config.source);
        rc = s_store_record(c, timer, NULL, 0);
        config_stored = rc == 0;
    }
    for (size_t i = 0; rc == 0 && i < c->nbatch; i++) {
        tc_record_t *rec = &c->batch[i].rec;
        rec->received_ms = now;
        if (!rec->time_ms)
            rec->time_ms = now;
        if (rec->event.kind == TC_MSG_CHECK_RESULT || rec->event.kind == TC_MSG_EVENTS_LOST) {
            /* A sender's events are stored strictly in order, so the Ack
             * (the highest stored sequence) never covers an event that is
             * not in the log: one that skips ahead was lost or delayed on
             * the way (a limit, a reconnection) and is not stored; the
             * sender resends from the first missing one. */
            uint64_t last;
            int64_t last_time;
            if ((rc = tc_store_sender(c->store, rec->event.sender, &last, &last_time)) != 0)
                break;
            if (rec->event.seq <= last) {
                c->duplicates++;
                c->batch[i].answer = c->batch[i].refused;
                continue;
            }
            if (rec->event.seq > last + 1 && c->batch[i].refused) {
                /* Not its turn yet: it is refused when it comes in order. */
                c->batch[i].answer = true;
                c->batch[i].refused_reason = TC_REJECT_RESEND;
                c->batch[i].resend_from = last + 1;
                snprintf(c->batch[i].refused_why, sizeof c->batch[i].refused_why,
                         "events must arrive in sequence order; resend");
                continue;
            }
            if (rec->event.seq > last + 1) {
                tc_coord__peer_t *p = tc_coord__peer(c, rec->event.sender);
                if (p && !p->resend_from)
                    p->resend_from = last + 1;
                c->deferred++;
                tc_debug("agent %s: seq %llu arrived before %llu; not stored, resend asked",
                         rec->event.sender, (unsigned long long)rec->event.seq,
                         (unsigned long long)(last + 1));
                continue;
            }
            rec->time_ms = s_event_time(c, &rec->event, last_time, now);
            rc = tc_store_set_sender(c->store, rec->event.sender, rec->event.seq, rec->time_ms);
            if (rc)
                break;
            if (c->batch[i].refused) {
                /* Its turn: it takes its number, is audited, never stored. */
                c->batch[i].answer = true;
                tc_coord__audit(
                    c, NULL, NULL, "event.refused", false, "event %llu of agent %s not stored: %s",
                    (unsigned long long)rec->event.seq, rec->event.sender, c->batch[i].refused_why);
                continue;
            }
        }
        if (c->batch[i].refused)
            continue; /* a duplicate's or an early one's refusal waits for its turn */
        /* A record from a backlog (observed a while ago) first lets the
         * deadlines due before it fire; for a live one that costs a scan
         * per record for nothing, and the end of the batch fires what is
         * due by now. */
        if (rec->time_ms < now - S_BACKLOG_MS &&
            (rc = s_fire_deadlines(c, rec->time_ms, now, timer, &fired)) != 0)
            break;
        /* An action was checked when it was queued; a deadline fired since
         * may have changed what it acts on, and the state machine applies
         * only actions that are valid now. */
        if (rec->event.kind == TC_MSG_OPERATOR_ACTION) {
            char why[TC_TEXT_MAX];
            if (tc_state_check(c->state, &rec->event.u.action, now, why, sizeof why) != 0) {
                tc_warn("action %s on %llu by %s dropped: %s", rec->event.u.action.action,
                        (unsigned long long)rec->event.u.action.incident, rec->event.u.action.actor,
                        why);
                tc_strlcpy_utf8(c->dropped_why, why, sizeof c->dropped_why);
                c->dropped_ticket = c->batch[i].ticket;
                continue;
            }
        }
        const tc_coord__pending_t *pe = &c->batch[i];
        rc = s_store_record(c, rec, pe->raw_len ? c->frames.data + pe->raw_off : NULL, pe->raw_len);
        stored++;
    }
    if (rc == 0)
        rc = s_fire_deadlines(c, now, now, timer, &fired);
    stored += fired;
    for (size_t i = 0; rc == 0 && i < c->naudit; i++)
        rc = tc_store_append_audit(c->store, &c->audit[i]);
    /* Read what each Ack will say while the transaction still sees its own
     * writes; it is sent only if the commit succeeds. */
    for (tc_coord__peer_t *p = zhashx_first(c->peers); rc == 0 && p; p = zhashx_next(c->peers))
        if (p->ack_pending)
            p->ack_seq = tc_store_sender_seq(c->store, zhashx_cursor(c->peers));

    if (rc == 0) {
        double t0 = tc_coord_metrics_clock(); /* commit latency and batch size (metrics.h) */
        rc = tc_store_commit(c->store);
        if (rc == 0)
            tc_coord_metrics_commit(c->metrics, stored, tc_coord_metrics_clock() - t0);
    } else {
        tc_store_abort(c->store);
    }
    if (rc == 0) {
        *stored_out = stored;
        *config_out = config_stored;
    }
    return rc;
}

/* Estimated room a batch needs, reserved before it starts so that the map
 * grows between transactions instead of filling in the middle of one. */
#define S_RESERVE_MIN ((size_t)16 << 20)
#define S_RESERVE_PER_RECORD ((size_t)64 << 10)

/* Snapshots kept: the newest and the one before, in case the newest is
 * damaged. */
#define S_SNAPSHOTS_KEPT 2

/* Writes a snapshot of the state when enough records or enough time have
 * passed since the last one (coordinator.snapshot_every, snapshot_interval),
 * in its own transaction between batches: the state is between records. A
 * failure costs only start-up time, so it is logged, not fatal. */
static void s_maybe_snapshot(tc_coord_t *c)
{
    uint64_t seq = tc_store_log_seq(c->store);
    if (seq <= c->snapshot_seq)
        return;
    int64_t now = tc_mono_ms();
    if (!c->snapshot_mono)
        c->snapshot_mono = now; /* the interval counts from this start */
    bool by_count = c->cfg.snapshot_every && seq - c->snapshot_seq >= c->cfg.snapshot_every;
    bool by_time =
        c->cfg.snapshot_interval_ms && now - c->snapshot_mono >= c->cfg.snapshot_interval_ms;
    if (!by_count && !by_time)
        return;
    tc_buf_t buf = {0};
    int rc = tc_state_snapshot(c->state, seq, tc_store_bcast_seq(c->store), &buf);
    if (rc == 0)
        rc = tc_store_put_snapshot(c->store, seq, buf.data, buf.len, S_SNAPSHOTS_KEPT);
    int64_t took = tc_mono_ms() - now;
    if (rc)
        tc_warn("snapshot at log record %llu failed: %s", (unsigned long long)seq,
                rc == TC_ENOMEM ? "out of memory" : tc_store_error(c->store));
    else
        tc_info("snapshot at log record %llu: %.1f MiB in %lld ms", (unsigned long long)seq,
                (double)buf.len / 1048576.0, (long long)took);
    free(buf.data);
    c->snapshot_mono = now;
    if (rc == 0)
        c->snapshot_seq = seq;
}

/* Forgets a batch that could not be stored: nothing of it is acknowledged,
 * agents are asked to pause and resend (their events stay in their spools),
 * and the state, which had moved on, is rebuilt from what is on disk. */
static int s_drop_batch(tc_coord_t *c, uint32_t pause_ms, bool rebuild)
{
    for (size_t i = 0; i < c->nbatch; i++) {
        tc_coord__pending_t *pe = &c->batch[i];
        tc_coord__peer_t *p = zhashx_lookup(c->peers, pe->rec.event.sender);
        if (p && p->ack_pending && p->identity)
            s_reject_resend(c, p->identity, TC_REJECT_THROTTLED, 0,
                            "the coordinator cannot store events now; pause, then resend", 0,
                            pause_ms);
        if (p)
            p->ack_pending = false;
        zframe_destroy(&pe->identity);
    }
    for (tc_coord__peer_t *p = zhashx_first(c->peers); p; p = zhashx_next(c->peers))
        p->ack_pending = p->up_queued = false, p->resend_from = 0;
    c->acks_pending = 0;
    c->nbatch = 0;
    c->nout = 0;
    c->arena.len = 0;
    c->frames.len = 0;
    return rebuild ? tc_coord__rebuild(c) : 0;
}

int tc_coord__flush(tc_coord_t *c)
{
    /* One clock reading for the whole batch: every record of it is stored
     * "now", and nothing in it can be dated after that. */
    int64_t now = tc_coord__now(c);
    if (c->nbatch == 0 && c->acks_pending == 0 && c->naudit == 0 && !c->config_now &&
        !tc_coord__deadline_due(c, now))
        return 0;
    if (c->storage_rc) {
        /* Storage failed and is not writable yet (the tick retries it):
         * store and acknowledge nothing, keep the audit queue for later. */
        return s_drop_batch(c, S_STORAGE_PAUSE_MS, false);
    }
    tc_record_t *timer = malloc(sizeof *timer);
    if (!timer)
        return TC_ENOMEM;
    size_t naudit = c->naudit, stored = 0;
    uint64_t duplicates = c->duplicates, deferred = c->deferred;
    bool config_stored = false;
    size_t want = S_RESERVE_MIN + c->nbatch * S_RESERVE_PER_RECORD;
    tc_store_reserve(c->store, want); /* at its maximum: try anyway */
    int rc = s_attempt(c, now, timer, &stored, &config_stored);
    if (rc == TC_EFULL && tc_store_reserve(c->store, 4 * want) == 0) {
        /* The map filled in the middle of the batch and may grow: the
         * state forgets the half-applied batch and it is tried again. */
        c->naudit = naudit;
        c->duplicates = duplicates;
        c->deferred = deferred;
        if ((rc = tc_coord__rebuild(c)) == 0)
            rc = s_attempt(c, now, timer, &stored, &config_stored);
    }
    free(timer);
    if (rc) {
        c->naudit = naudit;
        c->duplicates = duplicates;
        c->deferred = deferred;
        c->storage_rc = rc;
        c->storage_since = tc_mono_ms();
        const char *why = tc_store_error(c->store);
        tc_error("%s; not storing or acknowledging anything until it is writable again "
                 "(retrying every %d s)",
                 why[0] ? why : tc_strerror(rc), S_STORAGE_RETRY_MS / 1000);
        int drc = s_drop_batch(c, S_STORAGE_PAUSE_MS, true);
        if (drc) {
            tc_error("cannot rebuild the state from the store: %s; stopping", tc_strerror(drc));
            c->fatal = drc;
            return drc;
        }
        return 0;
    }
    c->accepted += stored;
    if (config_stored)
        c->config_pending = c->config_now = false;
    if (stored)
        tc_debug("committed %zu records, log at %llu", stored,
                 (unsigned long long)tc_store_log_seq(c->store));

    /* Only now, with the batch on disk, acknowledge and publish. */
    for (tc_coord__peer_t *p = zhashx_first(c->peers); p; p = zhashx_next(c->peers)) {
        p->up_queued = false;
        if (p->resend_from && p->identity)
            s_reject_resend(c, p->identity, TC_REJECT_RESEND, 0,
                            "events must arrive in sequence order; resend", p->resend_from, 0);
        p->resend_from = 0;
        if (!p->ack_pending || !p->identity)
            continue;
        p->ack_pending = false;
        tc_msg_t ack = {.version = TC_PROTOCOL_VERSION, .kind = TC_MSG_ACK};
        snprintf(ack.sender, sizeof ack.sender, TC_COORDINATOR_ID);
        ack.time_ms = now;
        ack.u.ack.seq = p->ack_seq;
        s_send_msg(c->agents, p->identity, &ack);
    }
    c->acks_pending = 0;
    for (size_t i = 0; i < c->nbatch; i++) {
        tc_coord__pending_t *pe = &c->batch[i];
        if (pe->answer)
            s_reject_resend(c, pe->identity, pe->refused_reason, pe->rec.event.seq, pe->refused_why,
                            pe->resend_from, 0);
        zframe_destroy(&pe->identity);
    }
    for (size_t i = 0; i < c->nout; i++) {
        const tc_coord__out_t *o = &c->out[i];
        zmsg_t *msg = zmsg_new();
        zmsg_addstr(msg, o->topic);
        zmsg_addmem(msg, c->arena.data + o->off, o->len);
        zmsg_send(&msg, c->pub);
    }
    c->broadcasts += c->nout;
    c->batches++;
    s_maybe_snapshot(c);
    /* Declared incidents get their roles from whoever is on call now. */
    uint64_t ids[TC_STATE_OUT_MAX * 8];
    size_t nids = 0;
    for (size_t i = 0; i < c->nout && nids < sizeof ids / sizeof ids[0]; i++) {
        if (c->out[i].kind > TC_BCAST_INCIDENT_RESOLVED)
            continue;
        /* Once each: a record can broadcast one incident several times
         * (declared, then tocsin's internal announcement), and each look
         * would queue the same assignments again. At most a few hundred. */
        bool seen = false;
        for (size_t k = 0; k < nids && !seen; k++)
            seen = ids[k] == c->out[i].incident;
        if (!seen)
            ids[nids++] = c->out[i].incident;
    }
    c->nbatch = 0;
    c->nout = 0;
    c->naudit = 0;
    c->arena.len = 0;
    c->frames.len = 0;
    return tc_coord__assign_roles(c, ids, nids);
}

/* Notes that `sender` is alive; queues an "up" record if the log does not
 * say it is up already. */
static void s_alive(tc_coord_t *c, const char *sender, uint32_t heartbeat_ms, zframe_t *identity)
{
    tc_coord__peer_t *p = tc_coord__peer(c, sender);
    if (!p)
        return;
    p->last_seen_mono = tc_mono_ms();
    p->last_seen_wall = tc_now_ms();
    if (heartbeat_ms)
        p->heartbeat_ms = heartbeat_ms;
    if (!p->identity || !zframe_eq(p->identity, identity)) {
        zframe_destroy(&p->identity);
        p->identity = zframe_dup(identity);
    }
    const tc_state_host_t *h = tc_state_host(c->state, sender);
    bool known_heartbeat = h && (heartbeat_ms == 0 || h->heartbeat_ms == heartbeat_ms);
    if ((!h || !h->up || !known_heartbeat) && !p->up_queued) {
        p->up_queued = true;
        tc_coord__queue_host(c, sender, true, p->heartbeat_ms ? p->heartbeat_ms : 5000,
                             !h       ? "first seen"
                             : !h->up ? "heard from again"
                                      : "heartbeat changed");
    }
}

static void s_want_ack(tc_coord_t *c, const char *sender)
{
    tc_coord__peer_t *p = tc_coord__peer(c, sender);
    if (p && !p->ack_pending) {
        p->ack_pending = true;
        c->acks_pending++;
    }
}

/* Largest frame whose bytes the log record keeps as they came. */
#define S_RAW_MAX 2048

static void s_take(tc_coord_t *c, zmsg_t *msg)
{
    zframe_t *identity = zmsg_pop(msg);
    if (!identity)
        return;
    if (zmsg_size(msg) != 1) {
        tc_coord__warn_limited(
            &c->reject_log, "agent frame rejected: %zu frames where 1 is expected", zmsg_size(msg));
        c->rejected++;
        s_reject(c, identity, TC_REJECT_MALFORMED, 0, "expected exactly one frame");
        goto done;
    }
    zframe_t *f = zmsg_first(msg);
    tc_msg_t *m = c->scratch; /* decoded here, then the used part is queued */
    int rc = tc_wire_decode_msg(zframe_data(f), zframe_size(f), m);
    if (rc) {
        tc_coord__warn_limited(&c->reject_log, "agent frame rejected: %s (%zu bytes)",
                               tc_strerror(rc), zframe_size(f));
        c->rejected++;
        s_reject(c, identity, TC_REJECT_MALFORMED, 0, "frame is not a tocsin v1 envelope");
        goto free_scratch;
    }
    char why[256];
    rc = tc_msg_validate(m, why, sizeof why);
    /* A sequenced event from a known sender that fails validation still
     * holds its place in that sender's sequence (see tc_coord__pending_t). */
    bool in_sequence = rc && (m->kind == TC_MSG_CHECK_RESULT || m->kind == TC_MSG_EVENTS_LOST) &&
                       m->seq > 0 && tc_id_valid(m->sender);
    if (rc && !in_sequence) {
        tc_coord__warn_limited(&c->reject_log, "agent frame from \"%s\" rejected: %s", m->sender,
                               why);
        c->rejected++;
        s_reject(c, identity, rc == TC_EVERSION ? TC_REJECT_BAD_VERSION : TC_REJECT_INVALID, m->seq,
                 why);
        goto free_scratch;
    }
    if (c->keyring) {
        /* The key was admitted at the handshake; look it up again so that a
         * revocation also cuts off connections that are already open, and
         * bind the agent id to the key. */
        const char *user = zframe_meta(f, "User-Id");
        const tc_key_t *key = tc_keyring_lookup(c->keyring, user);
        /* A gateway key is a sender like an agent key, bound the same way. */
        bool sender = key && (key->cls == TC_KEY_AGENT || key->cls == TC_KEY_GATEWAY);
        if (!sender || strcmp(key->name, m->sender) != 0) {
            const char *reason = !key      ? "key unknown or revoked"
                                 : !sender ? "not an agent key"
                                           : "key is bound to another agent id";
            tc_coord__warn_limited(&c->denial_log, "agent frame claiming sender \"%s\" refused: %s",
                                   m->sender, reason);
            tc_coord__audit(c, key, user, "message.denied", false, "%s claiming sender %s: %s",
                            tc_msg_kind_name(m->kind), m->sender, reason);
            c->denied++;
            s_reject(c, identity, TC_REJECT_UNAUTHORIZED, m->seq, "not authorized");
            goto free_scratch;
        }
    }
    if (in_sequence) {
        tc_coord__warn_limited(&c->reject_log, "event %llu from agent \"%s\" refused: %s",
                               (unsigned long long)m->seq, m->sender, why);
        c->rejected++;
        tc_record_t *r = tc_coord__queue(c);
        if (r) {
            tc_coord__pending_t *p = &c->batch[c->nbatch - 1];
            p->identity = zframe_dup(identity);
            memset(&r->event.u, 0, sizeof r->event.u.check);
            r->event.version = m->version;
            r->event.kind = m->kind;
            r->event.seq = m->seq;
            memcpy(r->event.sender, m->sender, sizeof r->event.sender);
            p->refused = true;
            p->refused_reason = rc == TC_EVERSION ? TC_REJECT_BAD_VERSION : TC_REJECT_INVALID;
            tc_strlcpy_utf8(p->refused_why, why, sizeof p->refused_why);
        }
        goto free_scratch;
    }
    switch (m->kind) {
    case TC_MSG_HELLO: {
        s_alive(c, m->sender, m->u.hello.heartbeat_ms, identity);
        s_want_ack(c, m->sender);
        tc_info("agent %s connected (host %s, version %s, heartbeat %ums)", m->sender,
                m->u.hello.hostname, m->u.hello.agent_version, m->u.hello.heartbeat_ms);
        break;
    }
    case TC_MSG_HEARTBEAT: s_alive(c, m->sender, m->u.heartbeat.heartbeat_ms, identity); break;
    case TC_MSG_CHECK_RESULT:
    case TC_MSG_EVENTS_LOST: {
        s_alive(c, m->sender, 0, identity);
        s_want_ack(c, m->sender);
        tc_record_t *r = tc_coord__queue(c);
        if (!r)
            break;
        memcpy(&r->event, m, offsetof(tc_msg_t, u));
        if (m->kind == TC_MSG_CHECK_RESULT)
            r->event.u.check = m->u.check;
        else
            r->event.u.lost = m->u.lost;
        /* Kept as it came: the log record wraps these bytes (small frames
         * only; a long one is stored as decoded, its output cut). */
        size_t len = zframe_size(f);
        if (len <= S_RAW_MAX && tc_buf_reserve(&c->frames, len) == 0) {
            tc_coord__pending_t *p = &c->batch[c->nbatch - 1];
            memcpy(c->frames.data + c->frames.len, zframe_data(f), len);
            p->raw_off = c->frames.len;
            p->raw_len = len;
            c->frames.len += len;
        }
        break;
    }
    default:
        tc_coord__warn_limited(&c->reject_log, "agent \"%s\" sent a %s, which agents may not send",
                               m->sender, tc_msg_kind_name(m->kind));
        c->denied++;
        s_reject(c, identity, TC_REJECT_UNAUTHORIZED, m->seq,
                 "agents may send hello, heartbeat, check_result and events_lost only");
        break;
    }
free_scratch:
done:
    zframe_destroy(&identity);
}

/* The identity a rate limit applies to: the CURVE key when there is one
 * (reconnecting does not reset it), else the connection's routing id. */
static void s_peer_key(const zframe_t *identity, zframe_t *payload, char *out, size_t cap)
{
    const char *user = payload ? zframe_meta(payload, "User-Id") : NULL;
    if (user && *user) {
        snprintf(out, cap, "%s", user);
        return;
    }
    size_t n = zframe_size((zframe_t *)identity), o = 0;
    const byte *d = zframe_data((zframe_t *)identity);
    for (size_t i = 0; i < n && o + 3 < cap; i++, o += 2)
        snprintf(out + o, cap - o, "%02x", d[i]);
    out[o] = '\0';
}

/* Receives one message from a ROUTER socket under the frame cap and the
 * peer's rate limit. NULL if nothing usable arrived (already counted and
 * logged; on the agents socket a message with too many frames is also
 * answered with a Reject). */
zmsg_t *tc_coord__recv_guarded(tc_coord_t *c, zsock_t *sock, const char *what)
{
    bool truncated;
    zmsg_t *msg = tc_guard_recv(sock, MAX_FRAMES, &truncated);
    if (!msg)
        return NULL;
    if (truncated || zmsg_size(msg) < 2) {
        c->rejected++;
        tc_coord__warn_limited(&c->reject_log, "%s message rejected: %s", what,
                               truncated ? "too many frames" : "no payload");
        if (sock == c->agents && zmsg_size(msg) >= 1)
            s_reject(c, zmsg_first(msg), TC_REJECT_MALFORMED, 0, "expected exactly one frame");
        zmsg_destroy(&msg);
        return NULL;
    }
    if (c->limits) {
        char peer[128];
        zframe_t *identity = zmsg_first(msg);
        s_peer_key(identity, zmsg_next(msg), peer, sizeof peer);
        int64_t now = tc_mono_ms();
        if (!tc_ratelimit_take(c->limits, peer, now)) {
            /* Not stored, so not acknowledged and not lost: an agent is
             * told to pause and resend from its last Ack (once per pause,
             * so the replies cannot become a flood of their own). Events
             * behind it that do get through are out of order and are not
             * stored either. */
            uint32_t wait;
            if (sock == c->agents && tc_ratelimit_tell(c->limits, peer, now, &wait))
                s_reject_resend(c, identity, TC_REJECT_THROTTLED, 0,
                                "over the rate limit; pause, then resend from the last ack", 0,
                                wait);
            c->throttled++;
            tc_coord__warn_limited(
                &c->reject_log, "%s peer %.16s... over its rate limit of %u/s; asked to slow down",
                what, peer, c->cfg.rate_limit);
            zmsg_destroy(&msg);
            return NULL;
        }
    }
    return msg;
}

int tc_coord__on_agents(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_coord_t *c = arg;
    /* Group commit: drain what is already queued (up to batch_max) and store
     * it with one fsync instead of one per event. */
    for (uint32_t n = 0; n < c->cfg.batch_max && (zsock_events(sock) & ZMQ_POLLIN); n++) {
        zmsg_t *msg = tc_coord__recv_guarded(c, sock, "agent");
        if (!msg)
            continue;
        s_take(c, msg);
        zmsg_destroy(&msg);
    }
    return tc_coord__flush(c) == 0 ? 0 : -1;
}
