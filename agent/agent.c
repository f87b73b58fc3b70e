/*
 * agent.c - the agent's event loop, state and delivery; see agent.h.
 *
 * Timers and readers registered here get the agent, or a check slot of the
 * agent's fixed `checks` array, as their argument. Both live until
 * tc_agent_destroy(), which never restarts the loop, so those pointers
 * cannot dangle while zloop might still use them.
 */
#include "agent.h"

#include "checker.h"
#include "error.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Housekeeping period: retrying a Hello that could not be sent, and the
 * ack watchdog. Short so that a fresh connection is used promptly. */
#define S_TICK_MS 250
/* How often to repeat "coordinator unreachable". */
#define S_UNREACHABLE_LOG_MS 30000
/* Longest wait before retrying after a refused handshake: short enough that
 * an agent whose key was just allowed is in within seconds, long enough to
 * cost the coordinator little while it is refused. */
#define S_RELINK_MAX_MS 5000
/* Floor of the ack watchdog; see agent.h. */
#define S_ACK_WAIT_MIN_MS 3000
/* Small: on shutdown everything unsent is in the spool anyway. */
#define S_LINGER_MS 100
/* Enough for a burst of state changes; beyond it sends fail, which is
 * fine, because the spool keeps the events and a later flush sends them. */
#define S_SNDHWM 1000

typedef enum {
    S_LINK_DOWN,    /* not connected, or connection lost */
    S_LINK_SYNCING, /* Hello sent (or a send failed); waiting for an Ack */
    S_LINK_LIVE,    /* everything spooled has been sent; send new events at once */
} s_link_t;

typedef struct {
    tc_agent_t *agent;
    const tc_check_def_t *def;
    tc_check_status_t status;
} s_check_t;

struct tc_agent_t {
    const tc_agent_config_t *cfg;
    zloop_t *loop;
    zsock_t *dealer;
    zsock_t *monitor;
    tc_spool_t *spool;
    tc_checker_t *checker;
    s_check_t *checks;
    size_t nchecks;
    s_link_t link;
    bool hello_due;       /* a Hello must go out before anything else */
    uint64_t sent_upto;   /* highest seq sent (or acked) since the last Hello */
    int64_t last_ack_ms;  /* monotonic */
    int64_t last_sync_ms; /* monotonic, last Hello sent */
    int64_t ack_wait_ms;
    int64_t unsent_since_ms; /* monotonic; when Hellos started failing, 0 if not */
    int64_t unsent_logged_ms;
    bool unreachable_warned;
    int64_t handshake_logged_ms;
    int64_t relink_at_ms;      /* rebuild the link then (0: no) */
    int64_t relink_backoff_ms; /* grows to S_RELINK_MAX_MS while refused */
    unsigned links;            /* links made, for unique monitor endpoints */
    char hostname[TC_ID_MAX];
};

/* ---- sending ------------------------------------------------------------ */

static void s_envelope(const tc_agent_t *a, tc_msg_t *m, tc_msg_kind_t kind)
{
    memset(m, 0, sizeof *m);
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "%s", a->cfg->id);
    m->time_ms = tc_now_ms();
    m->kind = kind;
}

/* Sends one frame without waiting. Returns 0, or -1 if ZeroMQ would have
 * to queue or block (not connected, high-water mark): the caller keeps the
 * data (the spool) and tries later. */
static int s_send_bytes(tc_agent_t *a, const uint8_t *data, size_t len)
{
    int rc = zmq_send(zsock_resolve(a->dealer), data, len, ZMQ_DONTWAIT);
    return rc < 0 ? -1 : 0;
}

static int s_send_msg(tc_agent_t *a, const tc_msg_t *m)
{
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_msg(m, &buf, &len) != 0) {
        tc_error("cannot encode %s message: out of memory", tc_msg_kind_name(m->kind));
        return -1;
    }
    int rc = s_send_bytes(a, buf, len);
    free(buf);
    return rc;
}

/* While the coordinator cannot be reached, say so now and then: silence
 * would look like health, and the spool is growing. */
static void s_note_unreachable(tc_agent_t *a)
{
    int64_t now = tc_mono_ms();
    if (!a->unsent_since_ms) {
        a->unsent_since_ms = now;
        a->unsent_logged_ms = now;
        return;
    }
    if (now - a->unsent_logged_ms < S_UNREACHABLE_LOG_MS)
        return;
    a->unsent_logged_ms = now;
    a->unreachable_warned = true;
    size_t n = 0;
    tc_spool_count(a->spool, &n);
    tc_warn("coordinator %s unreachable for %" PRId64 " s; %zu events spooled", a->cfg->coordinator,
            (now - a->unsent_since_ms) / 1000, n);
}

static int s_send_hello(tc_agent_t *a)
{
    tc_msg_t m;
    s_envelope(a, &m, TC_MSG_HELLO);
    snprintf(m.u.hello.hostname, sizeof m.u.hello.hostname, "%s", a->hostname);
    snprintf(m.u.hello.agent_version, sizeof m.u.hello.agent_version, "%s", TOCSIN_VERSION);
    m.u.hello.heartbeat_ms = (uint32_t)a->cfg->heartbeat_ms;
    if (s_send_msg(a, &m) != 0) {
        s_note_unreachable(a);
        return -1;
    }
    if (a->unreachable_warned)
        tc_info("coordinator %s reachable again", a->cfg->coordinator);
    a->unreachable_warned = false;
    a->unsent_since_ms = 0;
    a->hello_due = false;
    a->link = S_LINK_SYNCING;
    /* Whatever was in flight before may be lost; start counting again and
     * let the coordinator's Ack say where it stands. */
    a->sent_upto = 0;
    a->last_sync_ms = tc_mono_ms();
    tc_debug("hello sent to %s", a->cfg->coordinator);
    return 0;
}

static int s_send_spooled(uint64_t seq, const uint8_t *data, size_t len, void *arg)
{
    tc_agent_t *a = arg;
    if (s_send_bytes(a, data, len) != 0)
        return 1;
    a->sent_upto = seq;
    return 0;
}

/* Sends every spooled event above sent_upto, in order. The link is live
 * once all went out; otherwise it waits for the next Ack or resync. */
static void s_flush(tc_agent_t *a)
{
    int rc = tc_spool_foreach(a->spool, a->sent_upto, s_send_spooled, a);
    if (rc == 0) {
        a->link = S_LINK_LIVE;
    } else {
        a->link = S_LINK_SYNCING;
        if (rc < 0)
            tc_error("cannot read the spool: %s", tc_strerror(rc));
    }
}

/* ---- check results -------------------------------------------------------- */

/* Fills the event's check fields from the latest result `res`, the new
 * status and what the report says (check_state.h). A flapping event stands
 * for the window, so its text says so before the latest output. */
static void s_fill_event(tc_check_result_t *c, const s_check_t *ck, const tc_check_result_t *res,
                         const tc_check_status_t *st, const tc_check_report_t *rep)
{
    *c = *res;
    snprintf(c->check, sizeof c->check, "%s", ck->def->name);
    snprintf(c->service, sizeof c->service, "%s", ck->def->service);
    c->state = rep->state;
    c->max_attempts = ck->def->retries;
    /* The latest result's attempt, unless the event carries another state
     * (a flap's worst, or the hard state under a soft result). */
    c->attempt = rep->state == st->state && !rep->flapping ? st->attempt
                 : rep->state == TC_STATE_OK               ? 1
                                                           : ck->def->retries;
    c->hard = true;
    c->flapping = rep->flapping;
    c->flap_percent = rep->flap_percent;
    char text[TC_TEXT_MAX + 160];
    if (rep->flapping)
        snprintf(text, sizeof text,
                 "flapping: %u%% of the last %d results changed state (worst %s); latest: %s",
                 rep->flap_percent, TC_FLAP_WINDOW, tc_check_state_name(rep->state), res->output);
    else if (ck->status.reported_flapping)
        snprintf(text, sizeof text, "stopped flapping (%u%%): %s", rep->flap_percent, res->output);
    else
        return;
    tc_strlcpy_utf8(c->output, text, sizeof c->output);
}

/* Spools and (if the link is live) sends the event for a hard change.
 * Returns 0 if the event is stored. */
static int s_emit(tc_agent_t *a, s_check_t *ck, const tc_check_result_t *res,
                  const tc_check_status_t *st, const tc_check_report_t *rep)
{
    tc_msg_t m;
    s_envelope(a, &m, TC_MSG_CHECK_RESULT);
    tc_check_result_t *c = &m.u.check;
    s_fill_event(c, ck, res, st, rep);
    snprintf(c->host, sizeof c->host, "%s", a->cfg->id);

    int rc = tc_spool_append(a->spool, &m);
    if (rc == TC_EFULL) {
        /* Drop the NEW event, never the old ones: those are older news the
         * coordinator has not seen yet, and dropping them would leave holes
         * in the history. The caller re-arms the change so that the next
         * result reports it again once space is free. */
        tc_error("spool full: dropping event for check %s (%s); is the coordinator reachable?",
                 ck->def->name, tc_check_state_name(c->state));
        return rc;
    }
    if (rc != 0) {
        tc_error("cannot spool event for check %s: %s", ck->def->name, tc_strerror(rc));
        return rc;
    }
    const char *was = !ck->status.reported ? "PENDING"
                      : ck->status.reported_flapping
                          ? "FLAPPING"
                          : tc_check_state_name(ck->status.reported_state);
    tc_info("check %s (service %s): %s -> %s (%s): %s [seq %" PRIu64 "]", ck->def->name,
            ck->def->service, was, tc_check_state_name(c->state), c->flapping ? "flapping" : "hard",
            c->output, m.seq);
    if (a->link == S_LINK_LIVE) {
        uint8_t *buf;
        size_t len;
        if (tc_wire_encode_msg(&m, &buf, &len) == 0) {
            if (s_send_bytes(a, buf, len) == 0) {
                a->sent_upto = m.seq;
            } else {
                tc_debug("send of seq %" PRIu64 " failed; it stays spooled", m.seq);
                a->link = S_LINK_SYNCING;
            }
            free(buf);
        }
    }
    return 0;
}

static void s_apply_result(tc_agent_t *a, s_check_t *ck, const tc_check_result_t *res)
{
    tc_check_status_t next;
    tc_check_report_t rep;
    bool emit = tc_check_status_next(&ck->status, res->state, ck->def->retries, &ck->def->flap,
                                     &next, &rep);
    if (next.flap.flapping != ck->status.flap.flapping)
        tc_info("check %s: %s flapping: %.1f%% of the last %d results changed state "
                "(thresholds %u%% and %u%%)",
                ck->def->name, next.flap.flapping ? "started" : "stopped",
                tc_flap_share(&next.flap), TC_FLAP_WINDOW, ck->def->flap.low, ck->def->flap.high);
    if (!emit && (ck->status.pending || ck->status.state != next.state))
        tc_debug("check %s: %s (%s %u/%u%s): %s", ck->def->name, tc_check_state_name(next.state),
                 next.hard ? "hard" : "soft", next.attempt, ck->def->retries,
                 next.flap.flapping ? ", flapping" : "", res->output);
    /* Not stored (spool full): the same event is due with the next result. */
    if (emit && s_emit(a, ck, res, &next, &rep) == 0)
        tc_check_status_reported(&next, &rep);
    ck->status = next;
}

static void s_on_result(void *tag, const tc_check_result_t *res, void *arg)
{
    s_apply_result(arg, tag, res);
}

static void s_run_check(s_check_t *ck)
{
    tc_agent_t *a = ck->agent;
    if (tc_checker_running(a->checker, ck)) {
        char d[32];
        tc_warn("check %s: previous run still going (timeout %s); skipping this run", ck->def->name,
                tc_duration_format(ck->def->timeout_ms, d, sizeof d));
        return;
    }
    int rc = tc_checker_start(a->checker, ck->def, ck);
    if (rc != 0) {
        /* Nagios' answer to a check that cannot run: UNKNOWN, so it shows. */
        tc_check_result_t res;
        memset(&res, 0, sizeof res);
        res.state = TC_STATE_UNKNOWN;
        snprintf(res.output, sizeof res.output, "cannot start check: %s",
                 rc == TC_ESYS ? strerror(errno) : tc_strerror(rc));
        tc_error("check %s: %s", ck->def->name, res.output);
        s_apply_result(a, ck, &res);
    }
}

static int s_on_check_timer(zloop_t *loop, int timer_id, void *arg)
{
    s_run_check(arg);
    return 0;
}

static int s_on_check_first(zloop_t *loop, int timer_id, void *arg)
{
    s_check_t *ck = arg;
    s_run_check(ck);
    if (zloop_timer(loop, (size_t)ck->def->interval_ms, 0, s_on_check_timer, ck) == -1)
        tc_error("check %s: cannot schedule it (out of memory)", ck->def->name);
    return 0;
}

/* ---- messages from the coordinator --------------------------------------- */

static void s_on_ack(tc_agent_t *a, uint64_t seq)
{
    a->last_ack_ms = tc_mono_ms();
    uint64_t last = tc_spool_last_seq(a->spool);
    if (seq > last) {
        /* The coordinator has more of our events than we ever numbered: the
         * spool was wiped or restored. Continue above its number, or every
         * new event would be dropped as a duplicate. */
        size_t moved = 0;
        int rc = tc_spool_rebase(a->spool, seq, &moved);
        if (rc != 0)
            tc_error("coordinator knows seq %" PRIu64 " but our counter is at %" PRIu64
                     "; cannot move the counter: %s",
                     seq, last, tc_strerror(rc));
        else
            tc_warn("coordinator knows seq %" PRIu64 " but our counter was at %" PRIu64
                    " (spool reset?); continuing from %" PRIu64 ", %zu unsent events renumbered",
                    seq, last, seq + 1, moved);
    } else {
        size_t deleted = 0, left = 0;
        int rc = tc_spool_ack(a->spool, seq, &deleted);
        if (rc != 0)
            tc_error("cannot prune the spool after ack %" PRIu64 ": %s", seq, tc_strerror(rc));
        tc_spool_count(a->spool, &left);
        tc_debug("ack %" PRIu64 ": %zu events delivered, %zu in spool", seq, deleted, left);
    }
    if (seq > a->sent_upto && seq <= tc_spool_last_seq(a->spool))
        a->sent_upto = seq;
    if (a->link == S_LINK_SYNCING)
        s_flush(a);
}

static void s_on_reject(tc_agent_t *a, const tc_reject_t *r)
{
    if (r->seq != 0 && tc_spool_contains(a->spool, r->seq)) {
        tc_error("coordinator rejected event seq %" PRIu64 " (reason %d): %s; deleting it from "
                 "the spool",
                 r->seq, (int)r->reason, r->detail);
        int rc = tc_spool_remove(a->spool, r->seq);
        if (rc != 0 && rc != TC_ENOTFOUND)
            tc_error("cannot delete seq %" PRIu64 " from the spool: %s", r->seq, tc_strerror(rc));
        return;
    }
    tc_warn("coordinator rejected a message (seq %" PRIu64 ", reason %d): %s", r->seq,
            (int)r->reason, r->detail);
}

static int s_on_message(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_agent_t *a = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    if (zmsg_size(msg) != 1) {
        tc_warn("ignoring a %zu-frame message from the coordinator", zmsg_size(msg));
        zmsg_destroy(&msg);
        return 0;
    }
    zframe_t *f = zmsg_first(msg);
    tc_msg_t m;
    int rc = tc_wire_decode_msg(zframe_data(f), zframe_size(f), &m);
    zmsg_destroy(&msg);
    if (rc != 0) {
        tc_warn("ignoring an undecodable frame from the coordinator: %s", tc_strerror(rc));
        return 0;
    }
    char why[160];
    rc = tc_msg_validate(&m, why, sizeof why);
    if (rc != 0) {
        tc_warn("ignoring an invalid %s message from the coordinator: %s", tc_msg_kind_name(m.kind),
                why);
        return 0;
    }
    switch (m.kind) {
    case TC_MSG_ACK: s_on_ack(a, m.u.ack.seq); break;
    case TC_MSG_REJECT: s_on_reject(a, &m.u.reject); break;
    default:
        tc_warn("ignoring an unexpected %s message from the coordinator", tc_msg_kind_name(m.kind));
        break;
    }
    return 0;
}

/* Connection events tell us when in-flight messages may have been lost:
 * after a reconnection everything must be re-synchronised with a Hello
 * before new events go out (see agent.h). */
static int s_on_monitor(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_agent_t *a = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    zframe_t *f = zmsg_first(msg);
    if (f && zframe_size(f) >= 2) {
        uint16_t ev;
        memcpy(&ev, zframe_data(f), sizeof ev);
        if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            tc_info("connected to coordinator %s", a->cfg->coordinator);
            a->relink_backoff_ms = 0;
            a->hello_due = true;
            s_send_hello(a);
        } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
                   ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                   ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            /* libzmq does not retry a connection whose handshake was
             * refused (a key not yet allowed, a CURVE/plaintext mismatch),
             * so the link is rebuilt after a back-off; the key may be
             * allowed by then. The warning is rate-limited. */
            int64_t now = tc_mono_ms();
            if (!a->relink_at_ms) {
                a->relink_backoff_ms = a->relink_backoff_ms ? 2 * a->relink_backoff_ms : 1000;
                if (a->relink_backoff_ms > S_RELINK_MAX_MS)
                    a->relink_backoff_ms = S_RELINK_MAX_MS;
                a->relink_at_ms = now + a->relink_backoff_ms;
            }
            if (!a->handshake_logged_ms || now - a->handshake_logged_ms >= S_UNREACHABLE_LOG_MS) {
                a->handshake_logged_ms = now;
                tc_warn(a->cfg->insecure
                            ? "handshake with coordinator %s failed (does it require CURVE "
                              "security? this agent runs with --insecure)"
                            : "handshake with coordinator %s failed (is this agent's key allowed "
                              "and bound to its id, and is --server-key the coordinator's?)",
                        a->cfg->coordinator);
            }
        } else if (ev == ZMQ_EVENT_DISCONNECTED) {
            /* Only a connection we had is news; failed attempts repeat. */
            if (a->link != S_LINK_DOWN)
                tc_warn("lost connection to coordinator %s; events stay spooled",
                        a->cfg->coordinator);
            a->link = S_LINK_DOWN;
            a->hello_due = true;
        }
    }
    zmsg_destroy(&msg);
    return 0;
}

/* ---- timers ---------------------------------------------------------------- */

static void s_link_close(tc_agent_t *a);
static int s_link_open(tc_agent_t *a, char *why, size_t whylen);

static int s_on_heartbeat(zloop_t *loop, int timer_id, void *arg)
{
    tc_agent_t *a = arg;
    tc_msg_t m;
    s_envelope(a, &m, TC_MSG_HEARTBEAT);
    m.u.heartbeat.heartbeat_ms = (uint32_t)a->cfg->heartbeat_ms;
    m.u.heartbeat.last_seq = tc_spool_last_seq(a->spool);
    if (s_send_msg(a, &m) != 0)
        tc_debug("heartbeat not sent: coordinator %s not connected", a->cfg->coordinator);
    return 0;
}

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    tc_agent_t *a = arg;
    if (a->relink_at_ms && tc_mono_ms() >= a->relink_at_ms) {
        char why[256];
        a->relink_at_ms = 0;
        s_link_close(a);
        if (s_link_open(a, why, sizeof why) != 0) {
            tc_error("cannot reconnect to coordinator %s: %s; stopping", a->cfg->coordinator, why);
            return -1;
        }
        tc_info("reconnecting to coordinator %s after a refused handshake", a->cfg->coordinator);
        return 0;
    }
    if (a->hello_due) {
        s_send_hello(a);
        return 0;
    }
    size_t outstanding = 0;
    tc_spool_count(a->spool, &outstanding);
    if (a->link == S_LINK_LIVE && outstanding == 0)
        return 0;
    int64_t now = tc_mono_ms();
    int64_t since = a->last_ack_ms > a->last_sync_ms ? a->last_ack_ms : a->last_sync_ms;
    if (now - since < a->ack_wait_ms)
        return 0;
    tc_warn("no ack from coordinator %s for %" PRId64 " ms with %zu events outstanding; "
            "sending hello and resending",
            a->cfg->coordinator, now - since, outstanding);
    a->hello_due = true;
    if (s_send_hello(a) == 0)
        s_flush(a);
    else
        a->last_sync_ms = now; /* not connected; retry after another wait */
    return 0;
}

/* ---- life cycle -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void s_why(char *why, size_t whylen, const char *fmt,
                                                        ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* ---- the link to the coordinator ------------------------------------------ */

/* Closes the DEALER and its monitor and takes them off the loop. */
static void s_link_close(tc_agent_t *a)
{
    if (a->monitor)
        zloop_reader_end(a->loop, a->monitor);
    if (a->dealer) {
        zloop_reader_end(a->loop, a->dealer);
        zmq_socket_monitor(zsock_resolve(a->dealer), NULL, 0);
    }
    zsock_destroy(&a->monitor);
    zsock_destroy(&a->dealer);
}

/* Makes the DEALER (CURVE unless insecure), its handshake monitor, connects
 * and puts both on the loop. Returns 0 or an error with a reason in `why`. */
static int s_link_open(tc_agent_t *a, char *why, size_t whylen)
{
    const tc_agent_config_t *cfg = a->cfg;
    char ep[96];
    int rc = TC_EIO;
    a->dealer = zsock_new(ZMQ_DEALER);
    if (!a->dealer) {
        s_why(why, whylen, "cannot create ZeroMQ socket");
        return TC_ENOMEM;
    }
    zsock_set_linger(a->dealer, S_LINGER_MS);
    /* Queue only to a live connection: while the coordinator is away, a
     * send fails at once and the spool keeps the event, instead of the
     * event sitting in a queue that a restart would lose. */
    zsock_set_immediate(a->dealer, 1);
    if (!cfg->insecure)
        tc_client_keys_apply(&cfg->keys, a->dealer);
    /* Only the coordinator talks to us; anything near this size is not it. */
    zsock_set_maxmsgsize(a->dealer, 64 * 1024);
    zsock_set_sndhwm(a->dealer, S_SNDHWM);
    zsock_set_reconnect_ivl(a->dealer, 100);
    zsock_set_reconnect_ivl_max(a->dealer, 5000);
    /* ZMTP heartbeats notice a coordinator host that vanished without
     * closing the connection, which our one-way heartbeats cannot. */
    int ivl = cfg->heartbeat_ms < 1000 ? 1000 : (int)cfg->heartbeat_ms;
    zsock_set_heartbeat_ivl(a->dealer, ivl);
    zsock_set_heartbeat_timeout(a->dealer, 3 * ivl);

    snprintf(ep, sizeof ep, "inproc://tocsin-agent-monitor-%p-%u", (void *)a, ++a->links);
    if (zmq_socket_monitor(zsock_resolve(a->dealer), ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
        s_why(why, whylen, "cannot monitor ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    a->monitor = zsock_new(ZMQ_PAIR);
    if (!a->monitor || zsock_connect(a->monitor, "%s", ep) != 0) {
        s_why(why, whylen, "cannot connect ZeroMQ socket monitor");
        goto fail;
    }
    if (zsock_connect(a->dealer, "%s", cfg->coordinator) != 0) {
        s_why(why, whylen, "cannot connect to %s: %s", cfg->coordinator, zmq_strerror(zmq_errno()));
        rc = TC_EINVAL;
        goto fail;
    }
    if (zloop_reader(a->loop, a->dealer, s_on_message, a) != 0 ||
        zloop_reader(a->loop, a->monitor, s_on_monitor, a) != 0) {
        s_why(why, whylen, "out of memory");
        rc = TC_ENOMEM;
        goto fail;
    }
    a->link = S_LINK_DOWN;
    a->hello_due = true;
    return 0;
fail:
    s_link_close(a);
    return rc;
}

int tc_agent_new(const tc_agent_config_t *cfg, tc_agent_t **out, char *why, size_t whylen)
{
    int rc;
    *out = NULL;
    tc_agent_t *a = calloc(1, sizeof *a);
    if (!a)
        return TC_ENOMEM;
    a->cfg = cfg;
    a->link = S_LINK_DOWN;
    a->hello_due = true;
    a->ack_wait_ms =
        2 * cfg->heartbeat_ms > S_ACK_WAIT_MIN_MS ? 2 * cfg->heartbeat_ms : S_ACK_WAIT_MIN_MS;
    a->last_ack_ms = a->last_sync_ms = tc_mono_ms();
    char host[256] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    tc_strlcpy_utf8(a->hostname, host, sizeof a->hostname);

    rc = tc_spool_open(cfg->spool, cfg->id, 0, &a->spool, why, whylen);
    if (rc != 0)
        goto fail_spool;

    rc = TC_ENOMEM;
    a->loop = zloop_new();
    if (!a->loop)
        goto fail_loop;

    if (!cfg->insecure && (!cfg->keys.server_txt[0] || !cfg->keys.secret_txt[0])) {
        /* Never fall back to plaintext because keys were not loaded. */
        s_why(why, whylen, "no CURVE keys loaded (and not --insecure)");
        rc = TC_EINVAL;
        goto fail_dealer;
    }
    if ((rc = s_link_open(a, why, whylen)) != 0)
        goto fail_dealer;

    a->checker = tc_checker_new(a->loop, s_on_result, a);
    if (!a->checker)
        goto fail_monitor;
    if (cfg->nchecks) {
        a->checks = calloc(cfg->nchecks, sizeof *a->checks);
        if (!a->checks)
            goto fail_checks;
    }
    a->nchecks = cfg->nchecks;
    for (size_t i = 0; i < cfg->nchecks; i++) {
        s_check_t *ck = &a->checks[i];
        ck->agent = a;
        ck->def = &cfg->checks[i];
        ck->status = tc_check_status_pending();
        /* Spread the first runs over up to a second so a host with many
         * checks does not start them all in the same millisecond. */
        int64_t first = 1 + (int64_t)((i * 97) % 1000);
        if (first > ck->def->interval_ms)
            first = ck->def->interval_ms;
        if (zloop_timer(a->loop, (size_t)first, 1, s_on_check_first, ck) == -1)
            goto fail_checks;
    }
    if (zloop_timer(a->loop, (size_t)cfg->heartbeat_ms, 0, s_on_heartbeat, a) == -1 ||
        zloop_timer(a->loop, S_TICK_MS, 0, s_on_tick, a) == -1)
        goto fail_checks;
    *out = a;
    return 0;

fail_checks:
    s_why(why, whylen, "out of memory");
    free(a->checks);
    tc_checker_destroy(&a->checker);
fail_monitor:
    s_link_close(a);
fail_dealer:
    zloop_destroy(&a->loop);
fail_loop:
    tc_spool_destroy(&a->spool);
fail_spool:
    free(a);
    return rc;
}

void tc_agent_destroy(tc_agent_t **pagent)
{
    if (!pagent || !*pagent)
        return;
    tc_agent_t *a = *pagent;
    tc_checker_destroy(&a->checker);
    s_link_close(a);
    zloop_destroy(&a->loop);
    tc_spool_destroy(&a->spool);
    free(a->checks);
    free(a);
    *pagent = NULL;
}

int tc_agent_run(tc_agent_t *a)
{
    char d[32];
    size_t spooled = 0;
    tc_spool_count(a->spool, &spooled);
    tc_info("agent %s %s starting: %zu checks, heartbeat %s, spool %s (%zu events, last seq "
            "%" PRIu64 "), coordinator %s",
            a->cfg->id, TOCSIN_VERSION, a->nchecks,
            tc_duration_format(a->cfg->heartbeat_ms, d, sizeof d), a->cfg->spool, spooled,
            tc_spool_last_seq(a->spool), a->cfg->coordinator);
    zloop_start(a->loop);
    tc_spool_count(a->spool, &spooled);
    tc_info("agent %s shutting down (%zu checks running, %zu events spooled)", a->cfg->id,
            tc_checker_active(a->checker), spooled);
    return 0;
}

zloop_t *tc_agent_loop(tc_agent_t *a)
{
    return a->loop;
}

tc_spool_t *tc_agent_spool(tc_agent_t *a)
{
    return a->spool;
}

const tc_check_status_t *tc_agent_check_status(const tc_agent_t *a, size_t index)
{
    return index < a->nchecks ? &a->checks[index].status : NULL;
}

/* ---- --once ------------------------------------------------------------- */

typedef struct {
    tc_check_result_t res;
    bool done;
} s_once_slot_t;

typedef struct {
    s_once_slot_t *slots;
    size_t remaining;
} s_once_t;

static void s_once_done(void *tag, const tc_check_result_t *res, void *arg)
{
    s_once_t *o = arg;
    s_once_slot_t *slot = tag;
    slot->res = *res;
    slot->done = true;
    o->remaining--;
}

static int s_once_poll(zloop_t *loop, int timer_id, void *arg)
{
    const s_once_t *o = arg;
    return o->remaining == 0 ? -1 : 0;
}

int tc_agent_run_once(const tc_agent_config_t *cfg, FILE *out)
{
    int rc = TC_ENOMEM;
    s_once_t o = {0};
    o.slots = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof *o.slots);
    if (!o.slots)
        return TC_ENOMEM;
    zloop_t *loop = zloop_new();
    if (!loop)
        goto fail_loop;
    tc_checker_t *checker = tc_checker_new(loop, s_once_done, &o);
    if (!checker)
        goto fail_checker;
    for (size_t i = 0; i < cfg->nchecks; i++) {
        o.remaining++;
        int src = tc_checker_start(checker, &cfg->checks[i], &o.slots[i]);
        if (src != 0) {
            o.remaining--;
            o.slots[i].done = true;
            o.slots[i].res.state = TC_STATE_UNKNOWN;
            snprintf(o.slots[i].res.output, sizeof o.slots[i].res.output, "cannot start check: %s",
                     src == TC_ESYS ? strerror(errno) : tc_strerror(src));
        }
    }
    if (o.remaining > 0) {
        if (zloop_timer(loop, 10, 0, s_once_poll, &o) == -1)
            goto fail_run;
        zloop_start(loop);
    }
    rc = o.remaining == 0 ? 0 : TC_EIO; /* not all done: interrupted */
    for (size_t i = 0; i < cfg->nchecks; i++) {
        const s_once_slot_t *s = &o.slots[i];
        fprintf(out, "%s %s %s %s\n", cfg->checks[i].name, cfg->checks[i].service,
                s->done ? tc_check_state_name(s->res.state) : "UNKNOWN",
                s->done ? s->res.output : "(interrupted)");
    }
    fflush(out);
fail_run:
    tc_checker_destroy(&checker);
fail_checker:
    zloop_destroy(&loop);
fail_loop:
    free(o.slots);
    return rc;
}
