/*
 * coordinator.c - event loop and the batch pipeline (see coordinator.h).
 */
#include "coordinator.h"

#include "drafts.h"
#include "api.h"
#include "auth.h"
#include "error.h"
#include "guard.h"
#include "keys.h"
#include "oncall.h"
#include "log.h"
#include "state.h"
#include "store.h"
#include "template.h"
#include "util.h"
#include "wire.h"

#include <czmq.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

/* Largest frame accepted on the agent and API sockets; the biggest valid
 * envelope is a few KiB, so anything near this is hostile or broken. */
#define MAX_FRAME (64 * 1024)
/* Frames kept of one message: routing id, delimiter, payload, and one more
 * so that "too many" can be told from "just right". */
#define MAX_FRAMES 4
#define LIVENESS_TICK_MS 200
/* How often the key directories are checked for changes (revocations). */
#define KEYRING_TICK_MS 1000
/* How often the publisher says what its newest broadcast is, so that a
 * subscriber that lost broadcasts while reconnecting notices even when
 * nothing else is published (the Clone pattern's heartbeat). */
#define PUB_HEARTBEAT_MS 1000

/* What the coordinator knows about a sender between log records: liveness
 * is measured here and only its verdicts (up/down) go into the log. */
typedef struct {
    int64_t last_seen_mono;
    int64_t last_seen_wall;
    uint32_t heartbeat_ms;
    zframe_t *identity; /* ROUTER routing id of its latest connection */
    bool ack_pending;   /* an Ack must be sent after this batch */
    uint64_t ack_seq;   /* what it will say, read inside the batch */
    bool up_queued;     /* a HostStatus up record is in this batch */
    /* Events arrived out of order in this batch and were not stored: after
     * the commit the sender is told to resend from here. */
    uint64_t resend_from;
} s_peer_t;

/* Keeps a misbehaving client from flooding the log: at most one line per
 * interval, with the count of what was left out. */
typedef struct {
    int64_t last_ms;
    uint64_t suppressed;
} s_ratelog_t;

#define RATELOG_INTERVAL_MS 10000

/* True if a line may be logged now; *suppressed receives the lines left
 * out since the last one. */
static bool s_ratelog(s_ratelog_t *r, uint64_t *suppressed)
{
    int64_t now = tc_mono_ms();
    if (r->last_ms && now - r->last_ms < RATELOG_INTERVAL_MS) {
        r->suppressed++;
        return false;
    }
    *suppressed = r->suppressed;
    r->suppressed = 0;
    r->last_ms = now;
    return true;
}

/* tc_warn through a rate limiter, noting how many lines it held back. */
static void s_warn_limited(s_ratelog_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void s_warn_limited(s_ratelog_t *r, const char *fmt, ...)
{
    uint64_t more;
    if (!s_ratelog(r, &more))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (more)
        tc_warn("%s (%llu similar lines suppressed)", line, (unsigned long long)more);
    else
        tc_warn("%s", line);
}

/* One record waiting for the batch's transaction. */
typedef struct {
    tc_record_t rec;
} s_pending_t;

struct tc_coord {
    tc_coord_config_t cfg;
    tc_store_t *store;
    tc_state_t *state;
    zloop_t *loop;
    zsock_t *agents;
    zsock_t *api;
    zsock_t *pub;
    zhashx_t *peers;           /* sender -> s_peer_t */
    tc_keyring_t *keyring;     /* NULL when insecure */
    tc_roster_t *roster;       /* on-call rotations; empty without a config file */
    tc_templates_t *templates; /* status update texts: built-in, or from files */
    bool assigning;            /* inside s_assign_roles: no recursion */
    tc_auth_t *auth;           /* NULL when insecure */
    zactor_t *monitors[3];     /* handshake failures per server socket */
    s_ratelog_t denial_log;
    s_ratelog_t reject_log;
    tc_ratelimit_t *limits; /* per peer, agents and API sockets; NULL = off */
    tc_audit_t *audit;      /* audit records waiting for the next commit */
    size_t naudit, audit_cap;
    tc_ratelimit_t *audit_limit; /* bounds denial records under a flood */
    uint64_t audit_suppressed;
    s_pending_t *batch;
    size_t nbatch, batch_cap;
    tc_msg_t *out; /* broadcasts of this batch, published after commit */
    size_t nout, out_cap;
    size_t acks_pending; /* peers with ack_pending set */
    uint64_t ticks;
    int64_t started_ms;
    uint64_t accepted, duplicates, rejected, denied;
    uint64_t throttled; /* frames refused over a rate limit; their senders resend */
    uint64_t deferred;  /* events not stored because an earlier one was missing */
    /* Added to the wall clock for everything the state machine sees; only
     * ever non-zero with coordinator.test_clock (tests and drills). */
    int64_t clock_offset_ms;
    int fatal; /* storage failure code; stops the loop */
};

static void s_peer_free(void **item)
{
    s_peer_t *p = *item;
    if (p) {
        zframe_destroy(&p->identity);
        free(p);
    }
    *item = NULL;
}

static s_peer_t *s_peer(tc_coord_t *c, const char *sender)
{
    s_peer_t *p = zhashx_lookup(c->peers, sender);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return NULL;
        zhashx_insert(c->peers, sender, p);
    }
    return p;
}

/* ---- replies ------------------------------------------------------------ */

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

/* The coordinator's clock for records and deadlines: the wall clock, moved
 * forward by `tocsinctl clock` when test_clock allows it. */
static int64_t s_now(const tc_coord_t *c)
{
    return tc_now_ms() + c->clock_offset_ms;
}

/* Makes room for one more element in a growable array (doubling from 64);
 * the batch, the broadcasts and the audit queue all grow this way. */
static int s_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return TC_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* ---- audit ---------------------------------------------------------------- */

/* Queues an audit record; it is written with the next commit (at most one
 * liveness tick away). Denials share a budget so that a flood of bad
 * handshakes cannot fill the disk; what the budget drops is counted in the
 * next denial record that gets through. */
static void s_audit(tc_coord_t *c, const tc_key_t *key, const char *public_txt, const char *action,
                    bool allowed, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void s_audit(tc_coord_t *c, const tc_key_t *key, const char *public_txt, const char *action,
                    bool allowed, const char *fmt, ...)
{
    if (!allowed && !tc_ratelimit_take(c->audit_limit, "denials", tc_mono_ms())) {
        c->audit_suppressed++;
        return;
    }
    if (s_grow((void **)&c->audit, &c->audit_cap, c->naudit, sizeof *c->audit) != 0)
        return;
    tc_audit_t *a = &c->audit[c->naudit++];
    memset(a, 0, sizeof *a);
    a->time_ms = tc_now_ms();
    a->allowed = allowed;
    snprintf(a->action, sizeof a->action, "%s", action);
    if (key) {
        snprintf(a->actor, sizeof a->actor, "%s", key->name);
        snprintf(a->actor_class, sizeof a->actor_class, "%s", tc_key_class_name(key->cls));
    } else {
        snprintf(a->actor, sizeof a->actor, "%s", c->keyring ? "" : "plaintext");
        snprintf(a->actor_class, sizeof a->actor_class, "unknown");
    }
    if (public_txt)
        snprintf(a->public_key, sizeof a->public_key, "%s", public_txt);
    char detail[2 * TC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (!allowed && c->audit_suppressed && n > 0 && (size_t)n < sizeof detail)
        snprintf(detail + n, sizeof detail - (size_t)n, " (%llu earlier denials not recorded)",
                 (unsigned long long)c->audit_suppressed);
    if (!allowed)
        c->audit_suppressed = 0;
    tc_strlcpy_utf8(a->detail, detail, sizeof a->detail);
}

/* ---- the batch ---------------------------------------------------------- */

static tc_record_t *s_queue(tc_coord_t *c)
{
    if (s_grow((void **)&c->batch, &c->batch_cap, c->nbatch, sizeof *c->batch) != 0)
        return NULL;
    tc_record_t *r = &c->batch[c->nbatch++].rec;
    memset(r, 0, sizeof *r);
    return r;
}

/* Queues a coordinator-made HostStatus record. */
static void s_queue_host(tc_coord_t *c, const char *host, bool up, uint32_t heartbeat_ms,
                         const char *reason)
{
    tc_record_t *r = s_queue(c);
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

static int s_add_out(tc_coord_t *c, const tc_broadcast_t *b, int64_t time_ms)
{
    if (s_grow((void **)&c->out, &c->out_cap, c->nout, sizeof *c->out) != 0)
        return TC_ENOMEM;
    tc_msg_t *m = &c->out[c->nout++];
    memset(m, 0, sizeof *m);
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, TC_COORDINATOR_ID);
    /* The record's time, not the clock: replaying the log must produce
     * byte-identical broadcasts. */
    m->time_ms = time_ms;
    m->kind = TC_MSG_BROADCAST;
    m->u.bcast = *b;
    return 0;
}

/* Applies one record inside the open transaction: log, state, outputs. */
static int s_store_record(tc_coord_t *c, tc_record_t *rec)
{
    int rc = tc_store_append_log(c->store, rec);
    if (rc)
        return rc;
    tc_state_out_t out;
    if ((rc = tc_state_apply(c->state, rec, &out)) != 0)
        return rc;
    for (size_t i = 0; i < out.n; i++) {
        if ((rc = s_add_out(c, &out.bcast[i], rec->received_ms)) != 0)
            return rc;
        tc_msg_t *m = &c->out[c->nout - 1];
        if ((rc = tc_store_append_bcast(c->store, m)) != 0)
            return rc;
        if (m->u.bcast.kind <= TC_BCAST_INCIDENT_RESOLVED &&
            (rc = tc_store_put_incident(c->store, &m->u.bcast.incident)) != 0)
            return rc;
    }
    for (size_t i = 0; i < out.ntimeline; i++)
        if ((rc = tc_store_put_timeline(c->store, &out.timeline[i], (unsigned)i)) != 0)
            return rc;
    /* A note or a policy entry changes no broadcast field but is part of
     * the incident's story; keep the stored incident in step. */
    if (out.n == 0 && out.ntimeline > 0) {
        const tc_incident_t *inc = tc_state_incident(c->state, out.timeline[0].incident);
        if (inc && (rc = tc_store_put_incident(c->store, inc)) != 0)
            return rc;
    }
    return 0;
}

/* Roles a declared incident needs: policy.roles_by_severity (defaults: the
 * whole response team for SEV-1/2, the owning team's on-call engineer for
 * SEV-3/4), plus the data protection officer for a suspected breach. */
static size_t s_required_roles(const tc_policy_t *p, const tc_incident_t *inc, const char **out)
{
    size_t n = 0;
    if (inc->severity >= 1 && inc->severity <= 5)
        for (size_t i = 0; i < p->nroles_by_severity[inc->severity]; i++)
            out[n++] = p->roles_by_severity[inc->severity][i];
    if (inc->security)
        out[n++] = "dpo";
    return n;
}

static int s_flush(tc_coord_t *c);

/* How long a page for `role` of `inc` waits for acknowledgement: the
 * owning team's setting for the SME, the role rotation's for the others. */
static int64_t s_page_timeout(const tc_coord_t *c, const tc_incident_t *inc, const char *role)
{
    tc_service_policy_t sp;
    tc_policy_service(&c->cfg.policy, inc->service, &sp);
    if (!strcmp(role, "sme"))
        return tc_roster_ack_timeout_ms(c->roster, sp.team[0] ? sp.team : NULL,
                                        sp.team[0] ? NULL : "commander");
    return tc_roster_ack_timeout_ms(c->roster, NULL, role);
}

/* Queues an action by `actor` ("tocsin" for its own decisions) with an
 * optional status update, if the state machine accepts it now; one it
 * refuses is dropped, with the reason in `why` (may be NULL). Returns 0 or
 * TC_ENOMEM; *queued (may be NULL) says whether it was queued. */
static int s_queue_action(tc_coord_t *c, const char *actor, uint64_t incident, const char *action,
                          const char *const *args, size_t nargs, const tc_update_t *u,
                          const char *message, bool *queued, char *why, size_t whylen)
{
    tc_record_t *rec = s_queue(c);
    if (!rec)
        return TC_ENOMEM;
    tc_msg_t *m = &rec->event;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, TC_COORDINATOR_ID);
    m->kind = TC_MSG_OPERATOR_ACTION;
    tc_operator_action_t *a = &m->u.action;
    snprintf(a->actor, sizeof a->actor, "%s", actor);
    snprintf(a->action, sizeof a->action, "%s", action);
    a->incident = incident;
    for (size_t i = 0; i < nargs && i < TC_ACTION_ARGS_MAX; i++)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[i]);
    if (u)
        a->update = *u;
    tc_strlcpy_utf8(a->message, message ? message : "", sizeof a->message);
    bool ok = tc_state_check(c->state, a, s_now(c), why, whylen) == 0;
    if (!ok)
        c->nbatch--; /* not applicable (any more); drop it */
    if (queued)
        *queued = ok;
    return 0;
}

static int s_queue_own_action(tc_coord_t *c, uint64_t incident, const char *action,
                              const char *const *args, size_t nargs, const char *message)
{
    return s_queue_action(c, "tocsin", incident, action, args, nargs, NULL, message, NULL, NULL, 0);
}

/* For the incidents `ids` just changed: fills the roles a declared
 * incident needs from whoever is on call now, and pages the next person in
 * the chain for every role whose page went unacknowledged. Each decision is
 * an action by "tocsin" stored in the log: who was on call is decided once,
 * now, and replaying the log never asks the roster again. */
static int s_assign_roles(tc_coord_t *c, const uint64_t *ids, size_t nids)
{
    if (c->assigning || nids == 0 || !c->roster)
        return 0;
    int64_t now = s_now(c);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nids; i++) {
        const tc_incident_t *inc = tc_state_incident(c->state, ids[i]);
        if (!inc || inc->state == TC_INC_RESOLVED)
            continue;
        /* During a maintenance window alerts are recorded but page nobody;
         * the window's end re-notifies what is still failing. */
        if (tc_state_service_in_maintenance(c->state, inc->service))
            continue;
        tc_service_policy_t sp;
        tc_policy_service(&c->cfg.policy, inc->service, &sp);
        char person[TC_ID_MAX], timeout[24], msg[TC_TEXT_MAX];

        /* Escalations: the next person in the chain, or nobody left. */
        for (size_t k = 0; rc == 0 && k < inc->nroles; k++) {
            const tc_role_t *r = &inc->roles[k];
            if (!r->escalating)
                continue;
            bool sme = !strcmp(r->role, "sme");
            if ((sme && !sp.team[0]) ||
                tc_roster_escalate(c->roster, sme ? sp.team : NULL, sme ? NULL : r->role, r->person,
                                   r->paged_ms, person) != 0) {
                const char *args[] = {r->role};
                rc = s_queue_own_action(c, inc->id, "exhausted", args, 1,
                                        "end of the escalation chain");
                continue;
            }
            snprintf(timeout, sizeof timeout, "%lld", (long long)s_page_timeout(c, inc, r->role));
            snprintf(msg, sizeof msg, "escalated: %s did not acknowledge", r->person);
            const char *args[] = {r->role, person, timeout};
            rc = s_queue_own_action(c, inc->id, "assign", args, 3, msg);
        }

        /* Roles a declared incident needs and nobody holds yet. */
        const char *roles[9];
        size_t nroles = inc->declared ? s_required_roles(&c->cfg.policy, inc, roles) : 0;
        for (size_t r = 0; rc == 0 && r < nroles; r++) {
            bool filled = false;
            for (size_t k = 0; k < inc->nroles; k++)
                filled |= !strcmp(inc->roles[k].role, roles[r]);
            bool sme = !strcmp(roles[r], "sme");
            if (filled || (sme && !sp.team[0]) ||
                (sme ? tc_roster_team_oncall(c->roster, sp.team, now, person)
                     : tc_roster_role_oncall(c->roster, roles[r], now, person)) != 0)
                continue;
            snprintf(timeout, sizeof timeout, "%lld", (long long)s_page_timeout(c, inc, roles[r]));
            snprintf(msg, sizeof msg, "on call for %s%s", sme ? "team " : "",
                     sme ? sp.team : roles[r]);
            const char *args[] = {roles[r], person, timeout};
            rc = s_queue_own_action(c, inc->id, "assign", args, 3, msg);
        }
    }
    if (rc || c->nbatch == 0)
        return rc;
    c->assigning = true;
    rc = s_flush(c);
    c->assigning = false;
    return rc;
}

/* Stores the batch in one transaction, then acks and publishes. A storage
 * failure is fatal: the in-memory state may be ahead of the disk, nothing of
 * the batch was acknowledged, and a restart replays the log. */
static int s_flush(tc_coord_t *c)
{
    if (c->nbatch == 0 && c->acks_pending == 0 && c->naudit == 0)
        return 0;
    int rc = tc_store_begin(c->store);
    int64_t now = s_now(c);
    size_t stored = 0;
    for (size_t i = 0; rc == 0 && i < c->nbatch; i++) {
        tc_record_t *rec = &c->batch[i].rec;
        rec->received_ms = now;
        if (rec->event.kind == TC_MSG_CHECK_RESULT || rec->event.kind == TC_MSG_EVENTS_LOST) {
            /* A sender's events are stored strictly in order, so the Ack
             * (the highest stored sequence) never covers an event that is
             * not in the log: one that skips ahead was lost or delayed on
             * the way (a limit, a reconnection) and is not stored; the
             * sender resends from the first missing one. */
            uint64_t last = tc_store_sender_seq(c->store, rec->event.sender);
            if (rec->event.seq <= last) {
                c->duplicates++;
                continue;
            }
            if (rec->event.seq > last + 1) {
                s_peer_t *p = s_peer(c, rec->event.sender);
                if (p && !p->resend_from)
                    p->resend_from = last + 1;
                c->deferred++;
                tc_debug("agent %s: seq %llu arrived before %llu; not stored, resend asked",
                         rec->event.sender, (unsigned long long)rec->event.seq,
                         (unsigned long long)(last + 1));
                continue;
            }
            rc = tc_store_set_sender_seq(c->store, rec->event.sender, rec->event.seq);
            if (rc)
                break;
        }
        rc = s_store_record(c, rec);
        stored++;
    }
    for (size_t i = 0; rc == 0 && i < c->naudit; i++)
        rc = tc_store_append_audit(c->store, &c->audit[i]);
    /* Read what each Ack will say while the transaction still sees its own
     * writes; it is sent only if the commit succeeds. */
    for (s_peer_t *p = zhashx_first(c->peers); rc == 0 && p; p = zhashx_next(c->peers))
        if (p->ack_pending)
            p->ack_seq = tc_store_sender_seq(c->store, zhashx_cursor(c->peers));
    if (rc == 0)
        rc = tc_store_commit(c->store);
    else
        tc_store_abort(c->store);
    if (rc) {
        tc_error("storing a batch of %zu events failed: %s; exiting without acknowledging it",
                 c->nbatch, tc_strerror(rc));
        c->fatal = rc;
        return rc;
    }
    c->accepted += stored;
    if (stored)
        tc_debug("committed %zu records, log at %llu", stored,
                 (unsigned long long)tc_store_log_seq(c->store));

    /* Only now, with the batch on disk, acknowledge and publish. */
    for (s_peer_t *p = zhashx_first(c->peers); p; p = zhashx_next(c->peers)) {
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
    for (size_t i = 0; i < c->nout; i++) {
        const tc_msg_t *m = &c->out[i];
        uint8_t *buf;
        size_t len;
        if (tc_wire_encode_msg(m, &buf, &len) != 0)
            continue;
        zmsg_t *msg = zmsg_new();
        zmsg_addstr(msg, m->u.bcast.topic);
        zmsg_addmem(msg, buf, len);
        free(buf);
        zmsg_send(&msg, c->pub);
        tc_info("broadcast %llu %s: %s", (unsigned long long)m->seq, m->u.bcast.topic,
                m->u.bcast.detail);
    }
    /* Declared incidents get their roles from whoever is on call now. */
    uint64_t ids[TC_STATE_OUT_MAX * 8];
    size_t nids = 0;
    for (size_t i = 0; i < c->nout && nids < sizeof ids / sizeof ids[0]; i++)
        if (c->out[i].u.bcast.kind <= TC_BCAST_INCIDENT_RESOLVED)
            ids[nids++] = c->out[i].u.bcast.incident.id;
    c->nbatch = 0;
    c->nout = 0;
    c->naudit = 0;
    return s_assign_roles(c, ids, nids);
}

/* ---- agent frames ------------------------------------------------------- */

/* Notes that `sender` is alive; queues an "up" record if the log does not
 * say it is up already. */
static void s_alive(tc_coord_t *c, const char *sender, uint32_t heartbeat_ms, zframe_t *identity)
{
    s_peer_t *p = s_peer(c, sender);
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
        s_queue_host(c, sender, true, p->heartbeat_ms ? p->heartbeat_ms : 5000,
                     !h       ? "first seen"
                     : !h->up ? "heard from again"
                              : "heartbeat changed");
    }
}

static void s_want_ack(tc_coord_t *c, const char *sender)
{
    s_peer_t *p = s_peer(c, sender);
    if (p && !p->ack_pending) {
        p->ack_pending = true;
        c->acks_pending++;
    }
}

static void s_take(tc_coord_t *c, zmsg_t *msg)
{
    zframe_t *identity = zmsg_pop(msg);
    if (!identity)
        return;
    if (zmsg_size(msg) != 1) {
        s_warn_limited(&c->reject_log, "agent frame rejected: %zu frames where 1 is expected",
                       zmsg_size(msg));
        c->rejected++;
        s_reject(c, identity, TC_REJECT_MALFORMED, 0, "expected exactly one frame");
        goto done;
    }
    zframe_t *f = zmsg_first(msg);
    tc_record_t *scratch = malloc(sizeof *scratch);
    if (!scratch)
        goto done;
    tc_msg_t *m = &scratch->event;
    int rc = tc_wire_decode_msg(zframe_data(f), zframe_size(f), m);
    if (rc) {
        s_warn_limited(&c->reject_log, "agent frame rejected: %s (%zu bytes)", tc_strerror(rc),
                       zframe_size(f));
        c->rejected++;
        s_reject(c, identity, TC_REJECT_MALFORMED, 0, "frame is not a tocsin v1 envelope");
        goto free_scratch;
    }
    char why[256];
    rc = tc_msg_validate(m, why, sizeof why);
    if (rc) {
        s_warn_limited(&c->reject_log, "agent frame from \"%s\" rejected: %s", m->sender, why);
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
        if (!key || key->cls != TC_KEY_AGENT || strcmp(key->name, m->sender) != 0) {
            const char *reason = !key                       ? "key unknown or revoked"
                                 : key->cls != TC_KEY_AGENT ? "not an agent key"
                                                            : "key is bound to another agent id";
            s_warn_limited(&c->denial_log, "agent frame claiming sender \"%s\" refused: %s",
                           m->sender, reason);
            s_audit(c, key, user, "message.denied", false, "%s claiming sender %s: %s",
                    tc_msg_kind_name(m->kind), m->sender, reason);
            c->denied++;
            s_reject(c, identity, TC_REJECT_UNAUTHORIZED, m->seq, "not authorized");
            goto free_scratch;
        }
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
        tc_record_t *r = s_queue(c);
        if (r)
            r->event = *m;
        break;
    }
    default:
        s_warn_limited(&c->reject_log, "agent \"%s\" sent a %s, which agents may not send",
                       m->sender, tc_msg_kind_name(m->kind));
        c->denied++;
        s_reject(c, identity, TC_REJECT_UNAUTHORIZED, m->seq,
                 "agents may send hello, heartbeat, check_result and events_lost only");
        break;
    }
free_scratch:
    free(scratch);
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
static zmsg_t *s_recv_guarded(tc_coord_t *c, zsock_t *sock, const char *what)
{
    bool truncated;
    zmsg_t *msg = tc_guard_recv(sock, MAX_FRAMES, &truncated);
    if (!msg)
        return NULL;
    if (truncated || zmsg_size(msg) < 2) {
        c->rejected++;
        s_warn_limited(&c->reject_log, "%s message rejected: %s", what,
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
            s_warn_limited(&c->reject_log,
                           "%s peer %.16s... over its rate limit of %u/s; asked to slow down", what,
                           peer, c->cfg.rate_limit);
            zmsg_destroy(&msg);
            return NULL;
        }
    }
    return msg;
}

static int s_on_agents(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_coord_t *c = arg;
    /* Group commit: drain what is already queued (up to batch_max) and store
     * it with one fsync instead of one per event. */
    for (uint32_t n = 0; n < c->cfg.batch_max && (zsock_events(sock) & ZMQ_POLLIN); n++) {
        zmsg_t *msg = s_recv_guarded(c, sock, "agent");
        if (!msg)
            continue;
        s_take(c, msg);
        zmsg_destroy(&msg);
    }
    return s_flush(c) == 0 ? 0 : -1;
}

/* ---- liveness ------------------------------------------------------------ */

typedef struct {
    tc_coord_t *c;
    int64_t now;
} s_tick_t;

static void s_check_host(const tc_state_host_t *h, void *arg)
{
    s_tick_t *t = arg;
    tc_coord_t *c = t->c;
    if (!h->up || !strcmp(h->host, TC_COORDINATOR_ID))
        return;
    s_peer_t *p = s_peer(c, h->host);
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
        char reason[128];
        snprintf(reason, sizeof reason, "%u heartbeats missed", c->cfg.missed_heartbeats);
        tc_warn("host %s: %s", h->host, reason);
        s_queue_host(c, h->host, false, (uint32_t)hb, reason);
    }
}

/* Queues a TimerFired record for every deadline the clock has passed. At
 * most a handful per tick: each fired deadline is gone from the state once
 * its record is applied, and the next tick looks again. */
static void s_queue_deadlines(tc_coord_t *c)
{
    tc_timer_t due;
    if (!tc_state_next_deadline(c->state, &due) || due.due_ms > s_now(c))
        return;
    for (size_t i = 0; i < c->nbatch; i++)
        if (c->batch[i].rec.event.kind == TC_MSG_TIMER) /* one per flush is enough */
            return;
    tc_record_t *r = s_queue(c);
    if (!r)
        return;
    r->event.version = TC_PROTOCOL_VERSION;
    snprintf(r->event.sender, sizeof r->event.sender, TC_COORDINATOR_ID);
    r->event.kind = TC_MSG_TIMER;
    r->event.u.timer = due;
    tc_info("deadline: %s for incident %llu was due %lld ms ago", due.kind,
            (unsigned long long)due.incident, (long long)(s_now(c) - due.due_ms));
}

static int s_on_pub_heartbeat(zloop_t *loop, int timer_id, void *arg)
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

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    tc_coord_t *c = arg;
    s_tick_t t = {c, tc_mono_ms()};
    tc_state_each_host(c->state, s_check_host, &t);
    if (c->limits && ++c->ticks % 50 == 0)
        tc_ratelimit_prune(c->limits, t.now, 60000);
    s_queue_deadlines(c);
    if (c->nbatch == 0 && c->naudit == 0)
        return 0;
    return s_flush(c) == 0 ? 0 : -1;
}

/* ---- API ---------------------------------------------------------------- */

static int64_t s_last_seen(void *ctx, const char *host)
{
    tc_coord_t *c = ctx;
    s_peer_t *p = zhashx_lookup(c->peers, host);
    return p ? p->last_seen_wall : 0;
}

static void s_api_reply(tc_coord_t *c, zmsg_t *route, const tc_api_reply_t *r)
{
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_reply(r, &buf, &len) != 0) {
        zmsg_destroy(&route);
        return;
    }
    zmsg_addmem(route, buf, len);
    free(buf);
    zmsg_send(&route, c->api);
}

static void s_keep_last(const tc_maintenance_t *w, void *ctx)
{
    *(tc_maintenance_t *)ctx = *w;
}

/* The newest maintenance window (ids grow), into *out. */
static void s_last_window(tc_coord_t *c, tc_maintenance_t *out)
{
    tc_state_each_maintenance(c->state, s_keep_last, out);
}

/* Commands that change incidents; each becomes an OperatorAction record. */
static const char *const s_actions[] = {
    "ack",      "state",    "resolve",  "reopen",    "declare",     "undeclare",  "sev",
    "users",    "security", "assign",   "handoff",   "note",        "postmortem", "item",
    "features", "update",   "delivery", "component", "maintenance", "drill"};

/* Actions on no incident: components, maintenance windows, drills. */
static bool s_is_global(const char *command)
{
    return !strcmp(command, "component") || !strcmp(command, "maintenance") ||
           !strcmp(command, "drill");
}

static bool s_is_action(const char *command)
{
    for (size_t i = 0; i < sizeof s_actions / sizeof s_actions[0]; i++)
        if (!strcmp(command, s_actions[i]))
            return true;
    return false;
}

/* Queries need an operator key, actions (and the test clock) a read-write
 * one; subscribers may only catch up on broadcasts. */
static bool s_api_allowed(const tc_key_t *key, const char *command)
{
    if (!key) {
        tc_warn("API %s refused: key unknown or revoked", command);
        return false;
    }
    if (key->cls == TC_KEY_OPERATOR_RW)
        return true;
    if (key->cls == TC_KEY_OPERATOR_RO && !s_is_action(command) && strcmp(command, "clock") != 0)
        return true;
    /* Subscribers catch up, read what a status page shows, and notifiers
     * report their deliveries. */
    if (key->cls == TC_KEY_SUBSCRIBER &&
        (!strcmp(command, "broadcasts") || !strcmp(command, "components") ||
         !strcmp(command, "maintenances") || !strcmp(command, "delivery")))
        return true;
    tc_warn("API %s refused for %s key \"%s\"", command, tc_key_class_name(key->cls), key->name);
    return false;
}

/* What a global action answers: the component or window it changed. */
static int s_reply_global(tc_coord_t *c, const tc_api_request_t *q, tc_api_reply_t *reply)
{
    if (!strcmp(q->command, "component")) {
        size_t n;
        const tc_component_t *comp = tc_state_components(c->state, &n);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(comp[i].name, q->args[0]))
                return tc_api_reply_add_component(reply, &comp[i]);
        return 0;
    }
    if (!strcmp(q->command, "maintenance")) {
        uint64_t id = 0;
        if (!strcmp(q->args[0], "add")) {
            tc_maintenance_t last = {0};
            s_last_window(c, &last);
            return last.id ? tc_api_reply_add_maintenance(reply, &last) : 0;
        }
        tc_u64_parse(q->args[1], UINT64_MAX, &id);
        const tc_maintenance_t *w = tc_state_maintenance(c->state, id);
        return w ? tc_api_reply_add_maintenance(reply, w) : 0;
    }
    return 0;
}

/* An incident action: checked by the state machine, stored as an
 * OperatorAction record, and answered only after it is committed, with
 * the incident as it is now. */
static int s_api_action(tc_coord_t *c, const tc_key_t *key, const tc_api_request_t *q,
                        tc_api_reply_t *reply)
{
    uint64_t id = 0;
    bool global = s_is_global(q->command);
    size_t first = global ? 0 : 1;
    if (!global && (q->nargs < 1 || tc_u64_parse(q->args[0], UINT64_MAX, &id) != 0)) {
        tc_api_reply_fail(reply, "%s needs an incident id", q->command);
        return 0;
    }
    bool draft = !strcmp(q->command, "update") && q->nargs >= 2 && !strcmp(q->args[1], "draft");
    bool add = !strcmp(q->command, "maintenance") && q->nargs >= 1 && !strcmp(q->args[0], "add");
    if (!draft && !add && q->nargs - first > TC_ACTION_ARGS_MAX) {
        tc_api_reply_fail(reply, "too many arguments for %s", q->command);
        return 0;
    }
    tc_record_t *rec = calloc(1, sizeof *rec);
    if (!rec)
        return TC_ENOMEM;
    tc_msg_t *m = &rec->event;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, TC_COORDINATOR_ID);
    m->kind = TC_MSG_OPERATOR_ACTION;
    tc_operator_action_t *a = &m->u.action;
    snprintf(a->actor, sizeof a->actor, "%s", key ? key->name : "plaintext");
    snprintf(a->action, sizeof a->action, "%s", q->command);
    a->incident = id;
    char bad[TC_TEXT_MAX] = "";
    if (draft || add) {
        /* Their fields do not fit in arguments: they travel in the record's
         * update or window, and the template is rendered here, once, so a
         * replay never reads template files. */
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", draft ? "draft" : "add");
        if (draft ? tc_draft_update(c->state, &c->cfg.policy, c->templates, s_now(c), id, q,
                                    &a->update, bad, sizeof bad)
                  : tc_draft_window(s_now(c), q, &a->maint, bad, sizeof bad)) {
            free(rec);
            tc_api_reply_fail(reply, "%s", bad);
            return 0;
        }
    } else {
        for (size_t i = first; i < q->nargs; i++) {
            if (strlen(q->args[i]) >= TC_ID_MAX) {
                free(rec);
                tc_api_reply_fail(reply, "argument \"%.40s...\" is too long", q->args[i]);
                return 0;
            }
            memcpy(a->args[a->nargs++], q->args[i], strlen(q->args[i]) + 1); /* length checked */
        }
    }
    tc_strlcpy_utf8(a->message, q->message, sizeof a->message);
    /* A page from an operator escalates like one from tocsin. */
    const tc_incident_t *cur = tc_state_incident(c->state, id);
    if (cur && ((!strcmp(a->action, "assign") && a->nargs == 2) ||
                (!strcmp(a->action, "handoff") && a->nargs == 1))) {
        const char *role = a->nargs == 2 ? a->args[0] : "commander";
        snprintf(a->args[a->nargs], TC_ID_MAX, "%lld", (long long)s_page_timeout(c, cur, role));
        a->nargs++;
    }
    char why[TC_TEXT_MAX];
    int rc = tc_state_check(c->state, a, s_now(c), why, sizeof why);
    if (rc) {
        free(rec);
        tc_api_reply_fail(reply, "%s", why);
        return 0;
    }
    tc_record_t *slot = s_queue(c);
    if (!slot) {
        free(rec);
        return TC_ENOMEM;
    }
    *slot = *rec;
    free(rec);
    if ((rc = s_flush(c)) != 0)
        return rc;
    if (global)
        return s_reply_global(c, q, reply);
    const tc_incident_t *inc = tc_state_incident(c->state, id);
    if (inc)
        return tc_api_reply_add_incident(reply, inc);
    tc_incident_t stored;
    if (tc_store_get_incident(c->store, id, &stored) == 0)
        return tc_api_reply_add_incident(reply, &stored);
    return 0;
}

static const char *s_request_detail(const tc_api_request_t *q, char *out, size_t cap);

static int s_api_drill(tc_coord_t *c, const tc_key_t *key, const tc_api_request_t *q,
                       tc_api_reply_t *reply);

/* s_api_action, with an audit record saying whether it was done or
 * refused (and why). */
static int s_api_action_audited(tc_coord_t *c, const tc_key_t *key, const char *user,
                                const tc_api_request_t *q, tc_api_reply_t *reply)
{
    int rc = !strcmp(q->command, "drill") ? s_api_drill(c, key, q, reply)
                                          : s_api_action(c, key, q, reply);
    char detail[TC_TEXT_MAX];
    s_request_detail(q, detail, sizeof detail);
    if (rc == 0 && !reply->ok)
        s_audit(c, key, user, q->command, false, "%s: refused: %s", detail, reply->error);
    else
        s_audit(c, key, user, q->command, rc == 0, "%s", detail);
    return rc;
}

/* One step of a drill: an action by `actor` on incident `id`, stored and
 * applied at once so that the next step is checked against its result. */
static int s_drill_step(tc_coord_t *c, const char *actor, uint64_t id, const char *action,
                        const char *const *args, size_t nargs, const tc_update_t *u,
                        const char *message)
{
    char why[TC_TEXT_MAX];
    bool queued;
    int rc =
        s_queue_action(c, actor, id, action, args, nargs, u, message, &queued, why, sizeof why);
    if (rc == 0 && !queued) {
        tc_warn("drill of incident %llu: step %s %s skipped: %s", (unsigned long long)id, action,
                nargs ? args[0] : "", why);
        return 0;
    }
    return rc ? rc : s_flush(c);
}

/* Drafts (and for external ones approves and publishes) an update of the
 * drill incident from its template. */
static int s_drill_update(tc_coord_t *c, const char *actor, uint64_t id, bool external,
                          const char *state)
{
    tc_api_request_t *q = calloc(1, sizeof *q);
    tc_update_t *u = malloc(sizeof *u);
    int rc = TC_ENOMEM;
    if (!q || !u)
        goto out;
    q->version = 1;
    const char *args[] = {"", "draft", external ? "external" : "internal", "outage", state, "",
                          "", ""};
    for (size_t i = 0; i < 8; i++)
        snprintf(q->args[q->nargs++], TC_API_ARG_MAX, "%s", args[i]);
    char why[TC_TEXT_MAX];
    if ((rc = tc_draft_update(c->state, &c->cfg.policy, c->templates, s_now(c), id, q, u, why,
                              sizeof why)) != 0) {
        tc_warn("drill of incident %llu: %s", (unsigned long long)id, why);
        rc = 0;
        goto out;
    }
    const char *draft[] = {"draft"};
    if ((rc = s_drill_step(c, actor, id, "update", draft, 1, u, NULL)) != 0 || !external)
        goto out;
    const tc_incident_t *inc = tc_state_incident(c->state, id);
    if (!inc || !inc->pending_update)
        goto out; /* published at once (auto-publish for this severity) */
    char n[16];
    snprintf(n, sizeof n, "%u", inc->pending_update);
    const char *approve[] = {"approve", n}, *publish[] = {"publish", n};
    /* tocsin approves in the drill: the IC may be asleep; the page they
     * got says DRILL. */
    if ((rc = s_drill_step(c, "tocsin", id, "update", approve, 2, NULL, NULL)) == 0)
        rc = s_drill_step(c, actor, id, "update", publish, 2, NULL, NULL);
out:
    free(q);
    free(u);
    return rc;
}

/* `drill [SERVICE [SEVERITY]]`: a synthetic incident through the whole
 * plan — declared, roles paged from on-call, external and internal updates
 * drafted from templates, approved and published to every channel, then
 * resolved and announced. Every step is in the log like a real one, marked
 * DRILL. Notifiers report their deliveries to the incident's timeline,
 * which `tocsinctl drill` turns into its report. */
static int s_api_drill(tc_coord_t *c, const tc_key_t *key, const tc_api_request_t *q,
                       tc_api_reply_t *reply)
{
    const char *service = q->nargs >= 1 && q->args[0][0] ? q->args[0] : "drill";
    const char *sev = q->nargs >= 2 && q->args[1][0] ? q->args[1] : "2";
    const char *actor = key ? key->name : "plaintext";
    uint64_t id = tc_state_next_incident_id(c->state);
    const char *args[] = {service, sev};
    tc_operator_action_t probe = {0};
    snprintf(probe.action, sizeof probe.action, "drill");
    snprintf(probe.args[0], TC_ID_MAX, "%.63s", service);
    snprintf(probe.args[1], TC_ID_MAX, "%.63s", sev);
    probe.nargs = 2;
    char why[TC_TEXT_MAX];
    if (strlen(service) >= TC_ID_MAX ||
        tc_state_check(c->state, &probe, s_now(c), why, sizeof why) != 0) {
        tc_api_reply_fail(reply, "%s",
                          strlen(service) >= TC_ID_MAX ? "service name too long" : why);
        return 0;
    }
    int rc = s_drill_step(c, actor, 0, "drill", args, 2, NULL, q->message);
    if (rc == 0)
        rc = s_drill_update(c, actor, id, true, "investigating");
    if (rc == 0)
        rc = s_drill_update(c, actor, id, false, "investigating");
    const char *none[] = {NULL};
    if (rc == 0)
        rc = s_drill_step(c, actor, id, "resolve", none, 0, NULL, "drill complete");
    if (rc == 0)
        rc = s_drill_update(c, actor, id, true, "resolved");
    if (rc)
        return rc;
    const tc_incident_t *inc = tc_state_incident(c->state, id);
    return inc ? tc_api_reply_add_incident(reply, inc) : 0;
}

/* Adds who is on call for a team or role now, if anyone. */
static int s_oncall_one(tc_coord_t *c, const char *team, const char *role, tc_api_reply_t *reply)
{
    tc_oncall_t o = {0};
    int64_t now = s_now(c);
    int rc = team ? tc_roster_team_oncall(c->roster, team, now, o.person)
                  : tc_roster_role_oncall(c->roster, role, now, o.person);
    if (rc)
        return 0;
    snprintf(o.scope, sizeof o.scope, "%s %s", team ? "team" : "role", team ? team : role);
    if (tc_roster_next_handoff(c->roster, team, team ? NULL : role, now, &o.until_ms) != 0)
        o.until_ms = 0;
    return tc_api_reply_add_oncall(reply, &o);
}

/* `oncall [TEAM|ROLE]`: who is on call now, for one team or role, or for
 * every role and every team that owns a configured service. */
static int s_api_oncall(tc_coord_t *c, const tc_api_request_t *q, tc_api_reply_t *reply)
{
    static const char *const roles[] = {"commander",        "deputy",           "scribe",
                                        "customer_liaison", "internal_liaison", "dpo"};
    if (q->nargs > 1) {
        tc_api_reply_fail(reply, "oncall takes at most one team or role");
        return 0;
    }
    if (q->nargs == 1) {
        const char *what = q->args[0];
        if (tc_roster_has_team(c->roster, what))
            return s_oncall_one(c, what, NULL, reply);
        if (tc_roster_has_role(c->roster, what))
            return s_oncall_one(c, NULL, what, reply);
        tc_api_reply_fail(reply, "no team or role \"%s\" in the on-call roster", what);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof roles / sizeof roles[0]; i++)
        rc = s_oncall_one(c, NULL, roles[i], reply);
    for (size_t i = 0; rc == 0 && i < c->cfg.policy.nservices; i++) {
        const char *team = c->cfg.policy.services[i].team;
        bool dup = !team[0];
        for (size_t k = 0; k < i && !dup; k++)
            dup = !strcmp(c->cfg.policy.services[k].team, team);
        if (!dup)
            rc = s_oncall_one(c, team, NULL, reply);
    }
    return rc;
}

/* `clock advance DUR`: moves the coordinator's clock forward, so tests and
 * drills can let 15 minutes pass in a second. Refused unless test_clock. */
static int s_api_clock(tc_coord_t *c, const tc_api_request_t *q, tc_api_reply_t *reply)
{
    int64_t ms;
    if (!c->cfg.test_clock) {
        tc_api_reply_fail(reply, "the clock can only be moved when coordinator.test_clock is "
                                 "set (tests and drills)");
        return 0;
    }
    if (q->nargs != 2 || strcmp(q->args[0], "advance") != 0 ||
        tc_duration_parse(q->args[1], &ms) != 0) {
        tc_api_reply_fail(reply, "usage: clock advance DURATION");
        return 0;
    }
    c->clock_offset_ms += ms;
    tc_warn("test clock moved forward by %lld ms (offset now %lld ms)", (long long)ms,
            (long long)c->clock_offset_ms);
    s_queue_deadlines(c);
    return s_flush(c);
}

/* The arguments of a request, for the audit trail. */
static const char *s_request_detail(const tc_api_request_t *q, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < q->nargs && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " " : "", q->args[i]);
    if (q->from && o < cap)
        o += (size_t)snprintf(out + o, cap - o, "%sfrom=%llu", o ? " " : "",
                              (unsigned long long)q->from);
    if (q->all && o < cap)
        snprintf(out + o, cap - o, "%sall", o ? " " : "");
    return out;
}

static int s_on_api(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_coord_t *c = arg;
    zmsg_t *msg = s_recv_guarded(c, sock, "API");
    if (!msg)
        return 0;
    /* Route: identity, plus an empty delimiter when the client is a REQ. */
    zmsg_t *route = zmsg_new();
    zframe_t *f = zmsg_pop(msg);
    zmsg_append(route, &f);
    if (zmsg_size(msg) == 2 && zframe_size(zmsg_first(msg)) == 0) {
        f = zmsg_pop(msg);
        zmsg_append(route, &f);
    }
    tc_api_reply_t *reply = tc_api_reply_new();
    tc_api_request_t *q = malloc(sizeof *q);
    if (!reply || !q)
        goto out;
    zframe_t *body = zmsg_first(msg);
    const char *user = body ? zframe_meta(body, "User-Id") : NULL;
    const tc_key_t *key = NULL;
    if (zmsg_size(msg) != 1 || tc_wire_decode_request(zframe_data(body), zframe_size(body), q)) {
        c->rejected++;
        s_warn_limited(&c->reject_log, "API request rejected: not a tocsin v1 request");
        tc_api_reply_fail(reply, "malformed request");
    } else if (q->version != 1) {
        c->rejected++;
        s_warn_limited(&c->reject_log, "API request rejected: version %u", q->version);
        tc_api_reply_fail(reply, "unsupported API version %u", q->version);
    } else if (c->keyring &&
               !s_api_allowed(key = tc_keyring_lookup(c->keyring, user), q->command)) {
        c->denied++;
        s_audit(c, key, user, q->command, false, "%s", "not authorized for this command");
        tc_api_reply_fail(reply, "not authorized");
    } else {
        /* Catch-up reads by subscribers are traffic, not actions; incident
         * actions are audited below, with their outcome. */
        if (strcmp(q->command, "broadcasts") != 0 && !s_is_action(q->command)) {
            char detail[TC_TEXT_MAX];
            s_audit(c, key, user, q->command, true, "%s",
                    s_request_detail(q, detail, sizeof detail));
        }
        tc_api_env_t env = {.started_ms = c->started_ms,
                            .accepted = c->accepted,
                            .duplicates = c->duplicates,
                            .rejected = c->rejected,
                            .denied = c->denied,
                            .throttled = c->throttled,
                            .deferred = c->deferred,
                            .last_seen = s_last_seen,
                            .last_seen_ctx = c};
        int rc = !strcmp(q->command, "oncall")  ? s_api_oncall(c, q, reply)
                 : s_is_action(q->command)      ? s_api_action_audited(c, key, user, q, reply)
                 : !strcmp(q->command, "clock") ? s_api_clock(c, q, reply)
                                                : tc_api_handle(c->store, c->state, &env, q, reply);
        if (rc) {
            tc_error("API %s failed: %s", q->command, tc_strerror(rc));
            tc_api_reply_destroy(&reply);
            reply = tc_api_reply_new();
            if (reply)
                tc_api_reply_fail(reply, "internal error");
        }
        tc_debug("API %s", q->command);
    }
    if (reply)
        s_api_reply(c, route, reply);
    route = NULL;
out:
    zmsg_destroy(&route);
    tc_api_reply_destroy(&reply);
    free(q);
    zmsg_destroy(&msg);
    return 0;
}

/* ---- life cycle ---------------------------------------------------------- */

typedef struct {
    tc_coord_t *c;
    uint64_t broadcasts;
    int rc;
} s_replay_t;

static int s_replay_one(const tc_record_t *rec, void *arg)
{
    s_replay_t *r = arg;
    /* A test clock that was moved forward must not run backwards across a
     * restart: it resumes from the newest record. */
    if (r->c->cfg.test_clock && rec->received_ms > tc_now_ms() + r->c->clock_offset_ms)
        r->c->clock_offset_ms = rec->received_ms - tc_now_ms();
    tc_state_out_t out;
    int rc = tc_state_apply(r->c->state, rec, &out);
    r->broadcasts += out.n;
    return rc;
}

/* Rebuilds the state from the whole log. The broadcasts it regenerates are
 * counted against the stored ones: a mismatch means the log and the code
 * disagree, which an operator must hear about. */
static int s_replay(tc_coord_t *c)
{
    int64_t t0 = tc_mono_ms();
    s_replay_t r = {c, 0, 0};
    int rc = tc_store_scan_log(c->store, 1, 0, s_replay_one, &r, NULL);
    if (rc) {
        tc_error("replaying the event log failed: %s", tc_strerror(rc));
        return rc;
    }
    tc_info("replayed %llu log records in %lld ms: %zu open incidents, %llu broadcasts",
            (unsigned long long)tc_store_log_seq(c->store), (long long)(tc_mono_ms() - t0),
            tc_state_open_count(c->state), (unsigned long long)r.broadcasts);
    if (r.broadcasts != tc_store_bcast_seq(c->store))
        tc_warn("replay produced %llu broadcasts but %llu are stored; the state logic "
                "changed since the log was written",
                (unsigned long long)r.broadcasts, (unsigned long long)tc_store_bcast_seq(c->store));
    return 0;
}

typedef struct {
    char public_txt[TC_KEY_TXT];
    char secret_txt[TC_KEY_TXT];
} s_server_key_t;

static zsock_t *s_bind(int type, const char *ep, const char *what, const char *domain,
                       const s_server_key_t *key)
{
    zsock_t *s = zsock_new(type);
    if (!s)
        return NULL;
    zsock_set_linger(s, 0);
    if (key) {
        /* Everything before bind: a socket must never be reachable in
         * plaintext, and without a ZAP answer the handshake must fail. */
        zsock_set_zap_domain(s, domain);
        zsock_set_zap_enforce_domain(s, 1);
        zsock_set_curve_server(s, 1);
        zsock_set_curve_secretkey(s, key->secret_txt);
        zsock_set_curve_publickey(s, key->public_txt);
    }
    if (type == ZMQ_ROUTER) {
        zsock_set_maxmsgsize(s, MAX_FRAME);
        zsock_set_rcvhwm(s, 100000);
    } else {
        zsock_set_sndhwm(s, 100000);
    }
    if (zsock_bind(s, "%s", ep) < 0) {
        tc_error("cannot listen for %s on %s: %s", what, ep, zmq_strerror(zmq_errno()));
        zsock_destroy(&s);
        return NULL;
    }
    tc_info("listening for %s on %s", what, ep);
    return s;
}

static void s_denied(const tc_auth_denial_t *d, void *arg)
{
    tc_coord_t *c = arg;
    c->denied++;
    s_audit(c, NULL, d->public_txt, "auth.denied", false, "connection to %s from %s: %s", d->domain,
            d->address, d->reason);
    s_warn_limited(&c->denial_log, "connection refused on %s from %s: %s%s%s", d->domain,
                   d->address, d->reason, d->public_txt[0] ? ", key " : "", d->public_txt);
}

/* Handshakes that fail before ZAP is asked (a plaintext client, a client
 * that encrypts to the wrong server key) are only visible to a monitor. */
static int s_on_monitor(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_coord_t *c = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    char *event = zmsg_popstr(msg), *value = zmsg_popstr(msg), *addr = zmsg_popstr(msg);
    if (event && (!strcmp(event, "HANDSHAKE_FAILED_PROTOCOL") ||
                  !strcmp(event, "HANDSHAKE_FAILED_NO_DETAIL"))) {
        c->denied++;
        s_audit(c, NULL, NULL, "auth.denied", false,
                "handshake failed on %s: not a CURVE client or wrong server key",
                addr ? addr : "?");
        s_warn_limited(&c->denial_log,
                       "handshake failed on %s (%s): not a CURVE client or wrong server key",
                       addr ? addr : "?", event);
    }
    zstr_free(&event);
    zstr_free(&value);
    zstr_free(&addr);
    zmsg_destroy(&msg);
    return 0;
}

static zactor_t *s_monitor(zsock_t *sock)
{
    zactor_t *m = zactor_new(zmonitor, sock);
    if (!m)
        return NULL;
    zstr_sendx(m, "LISTEN", "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_NO_DETAIL", NULL);
    zstr_sendx(m, "START", NULL);
    zsock_wait(m);
    return m;
}

static int s_on_zap(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_auth_handle(((tc_coord_t *)arg)->auth);
    return 0;
}

static int s_on_keyring(zloop_t *loop, int timer_id, void *arg)
{
    tc_coord_t *c = arg;
    bool changed = false;
    int rc = tc_keyring_refresh(c->keyring, &changed);
    if (rc)
        tc_error("reloading keys from %s failed: %s", c->cfg.keys, tc_strerror(rc));
    else if (changed)
        tc_info("keys reloaded from %s: %zu allowed", c->cfg.keys, tc_keyring_size(c->keyring));
    return 0;
}

/* Sets up CURVE: checks libzmq, loads or makes the server key, loads the
 * allowed keys and binds the ZAP handler. Any failure refuses the start:
 * the coordinator never falls back to plaintext. */
static int s_secure(tc_coord_t *c, s_server_key_t *key)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    if (major * 10000 + minor * 100 + patch < 40303) {
        tc_error("libzmq %d.%d.%d is older than 4.3.3, which fixed CURVE and ZAP "
                 "vulnerabilities; refusing to start",
                 major, minor, patch);
        return TC_EINVAL;
    }
    if (!zsys_has_curve()) {
        tc_error("this libzmq has no CURVE support; refusing to start");
        return TC_EINVAL;
    }
    int rc = tc_keys_server(c->cfg.keys, key->public_txt, key->secret_txt);
    if (rc) {
        tc_error("cannot load or create the coordinator key in %s: %s", c->cfg.keys,
                 tc_strerror(rc));
        return rc;
    }
    if ((rc = tc_keyring_open(c->cfg.keys, &c->keyring)) != 0) {
        tc_error("cannot read the keys in %s: %s", c->cfg.keys, tc_strerror(rc));
        return rc;
    }
    if ((rc = tc_auth_new(c->keyring, c->cfg.open_publish, s_denied, c, &c->auth)) != 0) {
        tc_error("cannot start the ZAP authentication handler");
        return rc;
    }
    tc_info("CURVE on: server key %s (%s/coordinator.cert), %zu client keys allowed",
            key->public_txt, c->cfg.keys, tc_keyring_size(c->keyring));
    return 0;
}

int tc_coord_new(const tc_coord_config_t *cfg, tc_coord_t **out)
{
    tc_coord_t *c = calloc(1, sizeof *c);
    if (!c)
        return TC_ENOMEM;
    c->cfg = *cfg;
    c->started_ms = tc_now_ms();
    int rc = tc_store_open(cfg->data, cfg->map_size, &c->store);
    if (rc)
        goto fail;
    c->state = tc_state_new(&c->cfg.policy);
    c->peers = zhashx_new();
    if (!c->state || !c->peers) {
        rc = TC_ENOMEM;
        goto fail;
    }
    zhashx_set_destructor(c->peers, s_peer_free);
    if (!(c->audit_limit = tc_ratelimit_new(20, 100))) {
        rc = TC_ENOMEM;
        goto fail;
    }
    if (cfg->rate_limit &&
        !(c->limits = tc_ratelimit_new(cfg->rate_limit, 2.0 * cfg->rate_limit))) {
        rc = TC_ENOMEM;
        goto fail;
    }
    /* Templates before the replay: maintenance announcements are written
     * from them, like the policy an input of the state machine. */
    char tdir[4096], err[1024];
    tc_coord_config_templates_dir(cfg, tdir, sizeof tdir);
    if ((rc = tc_templates_load(tdir, &c->templates, err, sizeof err)) != 0) {
        tc_error("templates: %s%s%s", tdir, tdir[0] ? ": " : "", err);
        goto fail;
    }
    if (tdir[0])
        tc_info("status update templates from %s (built-in for the rest)", tdir);
    tc_state_set_templates(c->state, c->templates);
    if ((rc = s_replay(c)) != 0)
        goto fail;
    if (cfg->path[0]) {
        if ((rc = tc_roster_load(cfg->path, &c->roster, err, sizeof err)) != 0) {
            tc_error("%s", err);
            goto fail;
        }
    } else if (!(c->roster = tc_roster_new_empty())) {
        rc = TC_ENOMEM;
        goto fail;
    }
    s_server_key_t key, *keyp = NULL;
    if (!cfg->insecure) {
        if ((rc = s_secure(c, &key)) != 0)
            goto fail;
        keyp = &key;
    }
    c->agents = s_bind(ZMQ_ROUTER, cfg->agents, "agents", TC_ZAP_AGENTS, keyp);
    c->api = s_bind(ZMQ_ROUTER, cfg->api, "API requests", TC_ZAP_API, keyp);
    c->pub = s_bind(ZMQ_PUB, cfg->publish, "subscribers", TC_ZAP_PUBLISH, keyp);
    c->loop = zloop_new();
    if (!c->agents || !c->api || !c->pub || !c->loop) {
        rc = TC_EIO;
        goto fail;
    }
    zloop_reader(c->loop, c->agents, s_on_agents, c);
    zloop_reader(c->loop, c->api, s_on_api, c);
    zloop_timer(c->loop, LIVENESS_TICK_MS, 0, s_on_tick, c);
    zloop_timer(c->loop, PUB_HEARTBEAT_MS, 0, s_on_pub_heartbeat, c);
    if (c->auth) {
        zloop_reader(c->loop, tc_auth_socket(c->auth), s_on_zap, c);
        zloop_timer(c->loop, KEYRING_TICK_MS, 0, s_on_keyring, c);
        zsock_t *socks[3] = {c->agents, c->api, c->pub};
        for (int i = 0; i < 3; i++) {
            if (!(c->monitors[i] = s_monitor(socks[i]))) {
                rc = TC_EIO;
                goto fail;
            }
            zloop_reader(c->loop, zactor_sock(c->monitors[i]), s_on_monitor, c);
        }
    }
    *out = c;
    return 0;
fail:
    tc_coord_destroy(&c);
    return rc;
}

zloop_t *tc_coord_loop(tc_coord_t *c)
{
    return c->loop;
}

int tc_coord_run(tc_coord_t *c)
{
    zloop_start(c->loop);
    if (c->fatal)
        return c->fatal;
    tc_info("stopping: log at %llu, %zu open incidents",
            (unsigned long long)tc_store_log_seq(c->store), tc_state_open_count(c->state));
    return 0;
}

void tc_coord_destroy(tc_coord_t **pc)
{
    if (!pc || !*pc)
        return;
    tc_coord_t *c = *pc;
    zloop_destroy(&c->loop);
    for (int i = 0; i < 3; i++)
        zactor_destroy(&c->monitors[i]);
    zsock_destroy(&c->agents);
    zsock_destroy(&c->api);
    zsock_destroy(&c->pub);
    zhashx_destroy(&c->peers);
    tc_ratelimit_destroy(&c->limits);
    tc_roster_destroy(&c->roster);
    tc_ratelimit_destroy(&c->audit_limit);
    tc_templates_destroy(&c->templates);
    free(c->audit);
    tc_auth_destroy(&c->auth);
    tc_keyring_destroy(&c->keyring);
    tc_state_destroy(&c->state);
    tc_store_destroy(&c->store);
    free(c->batch);
    free(c->out);
    free(c);
    *pc = NULL;
}
