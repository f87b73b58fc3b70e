/* The agent's soft/hard logic (pure, table-driven) and the agent itself:
 * real check processes, a real LMDB spool and a real ZeroMQ ROUTER playing
 * the coordinator's side of the protocol in the agent's own loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent.h"
#include "check_state.h"
#include "error.h"
#include "log.h"
#include "spool.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the pure state function ------------------------------------------------ */

typedef struct {
    tc_check_state_t result;
    tc_check_state_t state; /* expected after the step */
    uint32_t attempt;
    bool hard;
    bool emit;
} s_step_t;

#define OK TC_STATE_OK
#define WARN TC_STATE_WARNING
#define CRIT TC_STATE_CRITICAL
#define UNKN TC_STATE_UNKNOWN

static const tc_flap_limits_t s_no_flap = {false, 5, 20};

static void s_table(const s_step_t *steps, size_t n, uint32_t retries)
{
    tc_check_status_t st = tc_check_status_pending();
    assert_true(st.pending);
    for (size_t i = 0; i < n; i++) {
        tc_check_status_t next;
        tc_check_report_t rep;
        bool emit = tc_check_status_next(&st, steps[i].result, retries, &s_no_flap, &next, &rep);
        if (emit != steps[i].emit || next.state != steps[i].state ||
            next.attempt != steps[i].attempt || next.hard != steps[i].hard)
            fail_msg("step %zu (%s, retries %u): got %s attempt %u %s emit=%d, want %s attempt "
                     "%u %s emit=%d",
                     i, tc_check_state_name(steps[i].result), retries,
                     tc_check_state_name(next.state), next.attempt, next.hard ? "hard" : "soft",
                     emit, tc_check_state_name(steps[i].state), steps[i].attempt,
                     steps[i].hard ? "hard" : "soft", steps[i].emit);
        assert_false(next.pending);
        if (emit) {
            assert_false(rep.flapping);
            assert_int_equal(rep.state, steps[i].result);
            assert_int_equal(next.hard_state, steps[i].result);
            tc_check_status_reported(&next, &rep);
        }
        st = next;
    }
}

static void test_soft_then_hard(void **unused)
{
    static const s_step_t t[] = {
        {CRIT, CRIT, 1, false, false}, {CRIT, CRIT, 2, false, false},
        {CRIT, CRIT, 3, true, true},   {CRIT, CRIT, 3, true, false}, /* saturates, no repeat */
        {WARN, WARN, 3, true, true},                                 /* hard CRIT -> WARN */
        {CRIT, CRIT, 3, true, true},   {OK, OK, 1, true, true},      /* recovery */
        {OK, OK, 1, true, false},      {WARN, WARN, 1, false, false},
        {OK, OK, 1, true, false}, /* soft problem, back to the same hard OK */
        {UNKN, UNKN, 1, false, false}, {UNKN, UNKN, 2, false, false},
        {UNKN, UNKN, 3, true, true},
    };
    s_table(t, sizeof t / sizeof t[0], 3);
}

static void test_first_hard_state_is_reported(void **unused)
{
    /* OK right after start: reported, so recoveries during downtime show. */
    static const s_step_t ok_first[] = {{OK, OK, 1, true, true}, {OK, OK, 1, true, false}};
    s_table(ok_first, 2, 3);
    /* A soft problem first, then OK: the OK is the first hard state. */
    static const s_step_t soft_first[] = {{WARN, WARN, 1, false, false}, {OK, OK, 1, true, true}};
    s_table(soft_first, 2, 3);
}

static void test_mixed_problems_count_together(void **unused)
{
    static const s_step_t t[] = {
        {WARN, WARN, 1, false, false},
        {CRIT, CRIT, 2, false, false},
        {UNKN, UNKN, 3, true, true},
        {UNKN, UNKN, 3, true, false},
    };
    s_table(t, sizeof t / sizeof t[0], 3);
}

static void test_retries_one_is_immediately_hard(void **unused)
{
    static const s_step_t t[] = {
        {CRIT, CRIT, 1, true, true}, {CRIT, CRIT, 1, true, false}, {WARN, WARN, 1, true, true},
        {OK, OK, 1, true, true},     {CRIT, CRIT, 1, true, true},
    };
    s_table(t, sizeof t / sizeof t[0], 1);
}

static void test_next_may_alias_current(void **unused)
{
    tc_check_status_t st = tc_check_status_pending();
    assert_false(tc_check_status_next(&st, CRIT, 2, &s_no_flap, &st, NULL));
    assert_true(tc_check_status_next(&st, CRIT, 2, &s_no_flap, &st, NULL));
    assert_int_equal(st.attempt, 2);
    assert_true(st.hard);
}

/* ---- flapping on top of soft/hard ---------------------------------------------- */

static tc_check_state_t s_st(char ch)
{
    switch (ch) {
    case 'O':
    case 'o': return TC_STATE_OK;
    case 'W':
    case 'w':
    case 'G': return TC_STATE_WARNING;
    case 'C':
    case 'c':
    case 'F': return TC_STATE_CRITICAL;
    default: return TC_STATE_UNKNOWN;
    }
}

/* Feeds `results` (O W C U) and checks the event due after each: '.' none,
 * o w c u a plain event in that state, F (CRITICAL) or G (WARNING) the one
 * flapping event. Every event is stored, unless its index is `fail_at`. */
static void s_flap_table(const char *what, const char *results, const char *events,
                         uint32_t retries, const tc_flap_limits_t *lim, size_t fail_at)
{
    assert_int_equal(strlen(results), strlen(events));
    tc_check_status_t st = tc_check_status_pending();
    for (size_t i = 0; results[i]; i++) {
        tc_check_report_t rep;
        bool due = tc_check_status_next(&st, s_st(results[i]), retries, lim, &st, &rep);
        char got = '.';
        if (due)
            got = rep.flapping ? (rep.state == TC_STATE_CRITICAL ? 'F' : 'G') : "owcu"[rep.state];
        if (got != events[i])
            fail_msg("%s: after result %zu (%c): event %c, want %c (share %.1f%%)", what, i + 1,
                     results[i], got, events[i], tc_flap_share(&st.flap));
        if (due) {
            assert_int_equal(rep.state, s_st(events[i]));
            if (rep.flapping)
                assert_true(rep.flap_percent > lim->high && rep.flap_percent <= 100);
            if (i != fail_at)
                tc_check_status_reported(&st, &rep);
        }
    }
}

static void test_flapping_sends_one_event(void **unused)
{
    tc_flap_limits_t on = tc_flap_defaults();
    /* retries 1: every change is hard, until the check is found flapping
     * at its 5th result; then nothing until it settles 20 results after
     * its last change, when its real state goes out. */
    s_flap_table("retries 1",
                 "OCOCOCOCOC"
                 "OOOOOOOOOOOOOOOOOOOOOO",
                 "ococF....."
                 "...................o..",
                 1, &on, SIZE_MAX);
    /* retries 3: the failures are never hard, yet the flapping is seen. */
    s_flap_table("retries 3",
                 "OCOCOCOCOC"
                 "OOOOOOOOOOOOOOOOOOOOOO",
                 "o...F....."
                 "...................o..",
                 3, &on, SIZE_MAX);
    /* Settling into CRITICAL: its hard CRITICAL is sent, flapping = false,
     * although the flap event said CRITICAL too. */
    s_flap_table("settles critical",
                 "OCOCOCOCOC"
                 "CCCCCCCCCCCCCCCCCCCCCC",
                 "o...F....."
                 "..................c...",
                 3, &on, SIZE_MAX);
    /* The worst state of the window is what the flap event says. */
    s_flap_table("warning", "OWOWOWOO", "owowG...", 1, &on, SIZE_MAX);
    s_flap_table("warning, retries 2", "OWOWOWOO", "o...G...", 2, &on, SIZE_MAX);
    /* Flap detection off: every hard change is an event, as before. */
    tc_flap_limits_t off = {false, 5, 20};
    s_flap_table("off", "OCOCOCOC", "ococococ", 1, &off, SIZE_MAX);
    s_flap_table("off, retries 3", "OCOCOCOC", "o.......", 3, &off, SIZE_MAX);
}

static void test_unstored_flap_event_is_due_again(void **unused)
{
    tc_flap_limits_t on = tc_flap_defaults();
    /* The flap event of result 5 was not stored (spool full): due again
     * with result 6, then never again. */
    s_flap_table("flap event lost", "OCOCOCOCOC", "ococFF....", 1, &on, 4);
    /* The same for the settling event. */
    s_flap_table("settle event lost",
                 "OCOCOCOCOC"
                 "OOOOOOOOOOOOOOOOOOOOOO",
                 "ococF....."
                 "...................oo.",
                 1, &on, 29);
}

/* ---- the agent against a scripted coordinator ------------------------------ */

#define S_MSGS_MAX 512

/* The coordinator's side: a ROUTER that stores CheckResults by seq (dropping
 * those not above the highest, like the real one) and answers as told. */
typedef struct {
    zsock_t *router;
    char endpoint[128];
    uint64_t highest;
    bool ack_events;
    bool reject_events;
    bool garbage_first;
    bool defer_hello;        /* answer the Hello only once every check reported */
    zframe_t *hello_peer;    /* a deferred Hello's sender */
    tc_msg_t *msgs;          /* everything received, in order */
    bool stored[S_MSGS_MAX]; /* msgs[i] was a new event, kept */
    size_t nmsgs;
    size_t hellos, heartbeats, events, invalid;
} s_coord_t;

static void s_reply(s_coord_t *co, zframe_t *peer, tc_msg_kind_t kind, uint64_t seq)
{
    tc_msg_t m;
    memset(&m, 0, sizeof m);
    m.version = TC_PROTOCOL_VERSION;
    snprintf(m.sender, sizeof m.sender, "%s", TC_COORDINATOR_ID);
    m.kind = kind;
    if (kind == TC_MSG_ACK) {
        m.u.ack.seq = seq;
    } else {
        m.u.reject.reason = TC_REJECT_INVALID;
        m.u.reject.seq = seq;
        snprintf(m.u.reject.detail, sizeof m.u.reject.detail, "test says no");
    }
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_msg(&m, &buf, &len), 0);
    zmsg_t *out = zmsg_new();
    zmsg_append(out, &(zframe_t *){zframe_dup(peer)});
    zmsg_addmem(out, buf, len);
    free(buf);
    zmsg_send(&out, co->router);
}

static int s_coord_recv(zloop_t *loop, zsock_t *sock, void *arg)
{
    s_coord_t *co = arg;
    zmsg_t *in = zmsg_recv(sock);
    if (!in)
        return 0;
    zframe_t *peer = zmsg_pop(in);
    zframe_t *body = zmsg_first(in);
    tc_msg_t m;
    char why[128];
    if (zmsg_size(in) != 1 || tc_wire_decode_msg(zframe_data(body), zframe_size(body), &m) != 0 ||
        tc_msg_validate(&m, why, sizeof why) != 0) {
        co->invalid++;
        goto done;
    }
    assert_true(co->nmsgs < S_MSGS_MAX);
    co->msgs[co->nmsgs++] = m;
    if (co->garbage_first) {
        co->garbage_first = false;
        zmsg_t *g = zmsg_new();
        zmsg_append(g, &(zframe_t *){zframe_dup(peer)});
        zmsg_addstr(g, "\x01\x02 this is not protobuf \xff");
        zmsg_send(&g, co->router);
    }
    switch (m.kind) {
    case TC_MSG_HELLO:
        co->hellos++;
        if (co->defer_hello) {
            zframe_destroy(&co->hello_peer);
            co->hello_peer = zframe_dup(peer);
        } else {
            s_reply(co, peer, TC_MSG_ACK, co->highest);
        }
        break;
    case TC_MSG_HEARTBEAT: co->heartbeats++; break;
    case TC_MSG_CHECK_RESULT:
        co->events++;
        if (co->reject_events) {
            s_reply(co, peer, TC_MSG_REJECT, m.seq);
        } else if (co->ack_events) {
            /* Like the real coordinator: a seq not above the highest
             * stored is a duplicate and dropped. */
            if (m.seq > co->highest) {
                co->highest = m.seq;
                co->stored[co->nmsgs - 1] = true;
            }
            s_reply(co, peer, TC_MSG_ACK, co->highest);
        }
        break;
    default: co->invalid++; break;
    }
done:
    zframe_destroy(&peer);
    zmsg_destroy(&in);
    return 0;
}

static void s_coord_start(s_coord_t *co, const char *endpoint)
{
    co->router = zsock_new(ZMQ_ROUTER);
    assert_non_null(co->router);
    assert_true(zsock_bind(co->router, "%s", endpoint ? endpoint : "tcp://127.0.0.1:*") >= 0);
    snprintf(co->endpoint, sizeof co->endpoint, "%s", zsock_endpoint(co->router));
    if (!co->msgs)
        co->msgs = calloc(S_MSGS_MAX, sizeof *co->msgs);
}

static void s_coord_stop(s_coord_t *co)
{
    zframe_destroy(&co->hello_peer);
    zsock_destroy(&co->router);
}

/* The events received, or only those stored (seq above the highest at
 * arrival), in arrival order. */
static size_t s_events(const s_coord_t *co, const tc_msg_t **out, size_t cap, bool stored_only)
{
    size_t n = 0;
    for (size_t i = 0; i < co->nmsgs && n < cap; i++)
        if (co->msgs[i].kind == TC_MSG_CHECK_RESULT && (!stored_only || co->stored[i]))
            out[n++] = &co->msgs[i];
    return n;
}

typedef struct {
    char dir[64];
    char spool[96];
    tc_agent_config_t *cfg;
    s_coord_t co;
} s_fx_t;

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tc-agent-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    s_coord_stop(&f->co);
    free(f->co.msgs);
    tc_agent_config_destroy(&f->cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void s_config(s_fx_t *f, const char *endpoint, int64_t heartbeat_ms)
{
    tc_agent_config_destroy(&f->cfg);
    f->cfg = tc_agent_config_new();
    snprintf(f->cfg->id, sizeof f->cfg->id, "web-01");
    snprintf(f->cfg->coordinator, sizeof f->cfg->coordinator, "%s", endpoint);
    snprintf(f->cfg->spool, sizeof f->cfg->spool, "%s", f->spool);
    f->cfg->heartbeat_ms = heartbeat_ms;
    f->cfg->insecure = true;
}

static void s_add_check(s_fx_t *f, const char *name, const char *command, uint32_t retries)
{
    tc_agent_config_t *c = f->cfg;
    c->checks = realloc(c->checks, (c->nchecks + 1) * sizeof *c->checks);
    tc_check_def_t *d = &c->checks[c->nchecks++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->service, sizeof d->service, "svc-%s", name);
    d->type = TC_CHECK_EXEC;
    d->arg = strdup(command);
    d->interval_ms = 100;
    d->timeout_ms = 5000;
    d->retries = retries;
}

typedef bool(s_pred_fn)(tc_agent_t *a, s_fx_t *f);

typedef struct {
    tc_agent_t *agent;
    s_fx_t *fx;
    s_pred_fn *pred;
    bool met;
} s_wait_t;

static int s_wait_tick(zloop_t *loop, int timer_id, void *arg)
{
    s_wait_t *w = arg;
    s_coord_t *co = &w->fx->co;
    if (co->hello_peer) {
        bool all = true;
        for (size_t i = 0; tc_agent_check_status(w->agent, i); i++)
            all = all && tc_agent_check_status(w->agent, i)->reported;
        if (all) {
            s_reply(co, co->hello_peer, TC_MSG_ACK, co->highest);
            zframe_destroy(&co->hello_peer);
        }
    }
    w->met = w->pred(w->agent, w->fx);
    return w->met ? -1 : 0;
}

static int s_wait_guard(zloop_t *loop, int timer_id, void *arg)
{
    return -1; /* hang guard; the test then fails on its predicate */
}

/* Runs a new agent (its loop also serving the scripted coordinator, if
 * any) until `pred` holds, then destroys the agent. */
static void s_run_agent(s_fx_t *f, s_pred_fn *pred, int64_t guard_ms)
{
    char why[256] = "";
    tc_agent_t *a = NULL;
    int rc = tc_agent_new(f->cfg, &a, why, sizeof why);
    if (rc != 0)
        fail_msg("tc_agent_new: %s", why);
    zloop_t *loop = tc_agent_loop(a);
    if (f->co.router)
        assert_int_equal(zloop_reader(loop, f->co.router, s_coord_recv, &f->co), 0);
    s_wait_t w = {.agent = a, .fx = f, .pred = pred};
    zloop_timer(loop, 20, 0, s_wait_tick, &w);
    zloop_timer(loop, (size_t)guard_ms, 1, s_wait_guard, NULL);
    tc_agent_run(a);
    if (f->co.router)
        zloop_reader_end(loop, f->co.router);
    bool met = w.met;
    tc_agent_destroy(&a);
    assert_true(met);
}

static size_t s_spooled(tc_agent_t *a)
{
    size_t n = 99;
    assert_int_equal(tc_spool_count(tc_agent_spool(a), &n), 0);
    return n;
}

static bool s_basic_done(tc_agent_t *a, s_fx_t *f)
{
    const tc_check_status_t *c1 = tc_agent_check_status(a, 0);
    const tc_check_status_t *c2 = tc_agent_check_status(a, 1);
    /* Enough runs after the hard states to show nothing repeats. */
    return f->co.events >= 2 && f->co.heartbeats >= 3 && c1->reported && c2->reported &&
           s_spooled(a) == 0;
}

static void test_events_heartbeats_and_acks(void **state)
{
    s_fx_t *f = *state;
    f->co.ack_events = true;
    f->co.garbage_first = true; /* must be ignored, not fatal */
    s_coord_start(&f->co, NULL);
    s_config(f, f->co.endpoint, 200);
    s_add_check(f, "down", "echo 'CRIT - it broke|t=2s;1;2'; exit 2", 2);
    s_add_check(f, "up", "echo 'OK - fine'", 3);
    s_run_agent(f, s_basic_done, 30000);

    const tc_msg_t *ev[8];
    assert_int_equal(s_events(&f->co, ev, 8, false), 2); /* one per hard change, no repeats */
    assert_int_equal(f->co.invalid, 0);
    assert_true(f->co.hellos >= 1);
    const tc_msg_t *hello = &f->co.msgs[0];
    assert_int_equal(hello->kind, TC_MSG_HELLO); /* first thing said */
    assert_string_equal(hello->sender, "web-01");
    assert_int_equal(hello->seq, 0);
    assert_string_equal(hello->u.hello.agent_version, TOCSIN_VERSION);
    assert_int_equal(hello->u.hello.heartbeat_ms, 200);
    assert_true(hello->u.hello.hostname[0] != '\0');

    bool seen_down = false, seen_up = false;
    for (int i = 0; i < 2; i++) {
        const tc_check_result_t *c = &ev[i]->u.check;
        assert_int_equal(ev[i]->seq, (uint64_t)i + 1);
        assert_int_equal(ev[i]->version, TC_PROTOCOL_VERSION);
        assert_string_equal(ev[i]->sender, "web-01");
        assert_string_equal(c->host, "web-01");
        assert_true(c->hard);
        if (strcmp(c->check, "down") == 0) {
            seen_down = true;
            assert_string_equal(c->service, "svc-down");
            assert_int_equal(c->state, TC_STATE_CRITICAL);
            assert_string_equal(c->output, "CRIT - it broke");
            assert_int_equal(c->attempt, 2);
            assert_int_equal(c->max_attempts, 2);
            assert_int_equal(c->nperf, 1);
            assert_string_equal(c->perf[0].label, "t");
            assert_true(c->perf[0].crit == 2);
        } else {
            seen_up = true;
            assert_string_equal(c->check, "up");
            assert_int_equal(c->state, TC_STATE_OK);
            assert_int_equal(c->attempt, 1);
            assert_int_equal(c->max_attempts, 3);
        }
    }
    assert_true(seen_down && seen_up);
    /* Heartbeats report the counter. */
    const tc_msg_t *last_hb = NULL;
    for (size_t i = 0; i < f->co.nmsgs; i++)
        if (f->co.msgs[i].kind == TC_MSG_HEARTBEAT)
            last_hb = &f->co.msgs[i];
    assert_non_null(last_hb);
    assert_int_equal(last_hb->seq, 0);
    assert_int_equal(last_hb->u.heartbeat.heartbeat_ms, 200);
}

static bool s_spooled_one(tc_agent_t *a, s_fx_t *f)
{
    return s_spooled(a) >= 1;
}

static bool s_two_stored(tc_agent_t *a, s_fx_t *f)
{
    return f->co.highest >= 2 && s_spooled(a) == 0;
}

static void test_spool_survives_restart_and_is_sent_in_order(void **state)
{
    s_fx_t *f = *state;
    /* Find a free port, then leave it unbound: the coordinator is down. */
    s_coord_start(&f->co, NULL);
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "%s", f->co.endpoint);
    s_coord_stop(&f->co);

    s_config(f, endpoint, 200);
    s_add_check(f, "c", "echo 'down'; exit 2", 1);
    s_run_agent(f, s_spooled_one, 30000);

    /* The event is on disk, numbered, not lost with the process. */
    tc_spool_t *sp = NULL;
    assert_int_equal(tc_spool_open(f->spool, "web-01", 0, &sp, NULL, 0), 0);
    size_t n = 0;
    tc_spool_count(sp, &n);
    assert_int_equal(n, 1);
    assert_int_equal(tc_spool_last_seq(sp), 1);
    tc_spool_destroy(&sp);

    /* Coordinator back, check recovered: the old CRITICAL goes first, then
     * the OK found by the restarted agent. */
    f->co.ack_events = true;
    /* The new OK event exists before the Hello is answered: it must still
     * wait for the older event, or the coordinator would take seq 2 first
     * and then drop seq 1 as a duplicate. */
    f->co.defer_hello = true;
    s_coord_start(&f->co, endpoint);
    s_config(f, endpoint, 200);
    s_add_check(f, "c", "echo 'fine'; exit 0", 1);
    s_run_agent(f, s_two_stored, 30000);

    const tc_msg_t *ev[8];
    size_t nev = s_events(&f->co, ev, 8, true);
    assert_int_equal(nev, 2);
    assert_int_equal(ev[0]->seq, 1);
    assert_int_equal(ev[0]->u.check.state, TC_STATE_CRITICAL);
    assert_int_equal(ev[1]->seq, 2);
    assert_int_equal(ev[1]->u.check.state, TC_STATE_OK);
    /* Nothing was sent before the Hello. */
    assert_int_equal(f->co.msgs[0].kind, TC_MSG_HELLO);
}

static bool s_pruned_and_new_sent(tc_agent_t *a, s_fx_t *f)
{
    return f->co.highest >= 3 && s_spooled(a) == 0;
}

static void test_hello_ack_prunes_what_coordinator_has(void **state)
{
    s_fx_t *f = *state;
    /* Two events already spooled (as if sent before a crash) ... */
    tc_spool_t *sp = NULL;
    assert_int_equal(tc_spool_open(f->spool, "web-01", 0, &sp, NULL, 0), 0);
    for (int i = 0; i < 2; i++) {
        tc_msg_t m;
        memset(&m, 0, sizeof m);
        m.version = TC_PROTOCOL_VERSION;
        snprintf(m.sender, sizeof m.sender, "web-01");
        m.kind = TC_MSG_CHECK_RESULT;
        snprintf(m.u.check.check, TC_ID_MAX, "old");
        snprintf(m.u.check.service, TC_ID_MAX, "svc");
        snprintf(m.u.check.host, TC_ID_MAX, "web-01");
        m.u.check.attempt = m.u.check.max_attempts = 1;
        m.u.check.hard = true;
        assert_int_equal(tc_spool_append(sp, &m), 0);
    }
    tc_spool_destroy(&sp);
    /* ... and the coordinator already stored both. */
    f->co.highest = 2;
    f->co.ack_events = true;
    s_coord_start(&f->co, NULL);
    s_config(f, f->co.endpoint, 200);
    s_add_check(f, "c", "exit 0", 1);
    s_run_agent(f, s_pruned_and_new_sent, 30000);

    const tc_msg_t *ev[8];
    size_t nev = s_events(&f->co, ev, 8, false);
    assert_int_equal(nev, 1); /* only the new one travelled */
    assert_int_equal(ev[0]->seq, 3);
    assert_string_equal(ev[0]->u.check.check, "c");
}

static bool s_rejected_gone(tc_agent_t *a, s_fx_t *f)
{
    return f->co.events >= 1 && s_spooled(a) == 0 && f->co.heartbeats >= 3;
}

static void test_reject_deletes_event(void **state)
{
    s_fx_t *f = *state;
    f->co.reject_events = true;
    s_coord_start(&f->co, NULL);
    s_config(f, f->co.endpoint, 200);
    s_add_check(f, "c", "exit 2", 1);
    s_run_agent(f, s_rejected_gone, 30000);
    assert_int_equal(f->co.events, 1); /* deleted, never resent */
}

static bool s_resent(tc_agent_t *a, s_fx_t *f)
{
    return f->co.hellos >= 2 && f->co.events >= 2;
}

static void test_missing_ack_causes_hello_and_resend(void **state)
{
    s_fx_t *f = *state;
    f->co.ack_events = false; /* Hellos are answered, events are not */
    s_coord_start(&f->co, NULL);
    s_config(f, f->co.endpoint, 200);
    s_add_check(f, "c", "exit 2", 1);
    s_run_agent(f, s_resent, 60000);

    const tc_msg_t *ev[16];
    size_t nev = s_events(&f->co, ev, 16, false);
    assert_true(nev >= 2);
    for (size_t i = 0; i < nev; i++)
        assert_int_equal(ev[i]->seq, 1); /* the same event again, same number */
    /* The second Hello came before the resend. */
    size_t second_hello = 0, hellos = 0, first_resend = 0, events = 0;
    for (size_t i = 0; i < f->co.nmsgs; i++) {
        if (f->co.msgs[i].kind == TC_MSG_HELLO && ++hellos == 2)
            second_hello = i;
        if (f->co.msgs[i].kind == TC_MSG_CHECK_RESULT && ++events == 2)
            first_resend = i;
    }
    assert_true(second_hello < first_resend);
}

static bool s_rebased(tc_agent_t *a, s_fx_t *f)
{
    return f->co.highest > 50 && s_spooled(a) == 0;
}

static void test_counter_moves_above_coordinator(void **state)
{
    s_fx_t *f = *state;
    /* The coordinator knows seq 50 from this agent; our spool is new. */
    f->co.highest = 50;
    f->co.ack_events = true;
    s_coord_start(&f->co, NULL);
    s_config(f, f->co.endpoint, 200);
    s_add_check(f, "c", "exit 1", 1);
    s_run_agent(f, s_rebased, 30000);
    const tc_msg_t *ev[8];
    assert_int_equal(s_events(&f->co, ev, 8, true), 1);
    assert_int_equal(ev[0]->seq, 51);
    assert_int_equal(ev[0]->u.check.state, TC_STATE_WARNING);
}

int main(void)
{
    tc_log_init("test_agent_state", TC_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soft_then_hard),
        cmocka_unit_test(test_first_hard_state_is_reported),
        cmocka_unit_test(test_mixed_problems_count_together),
        cmocka_unit_test(test_retries_one_is_immediately_hard),
        cmocka_unit_test(test_next_may_alias_current),
        cmocka_unit_test(test_flapping_sends_one_event),
        cmocka_unit_test(test_unstored_flap_event_is_due_again),
        cmocka_unit_test_setup_teardown(test_events_heartbeats_and_acks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_survives_restart_and_is_sent_in_order, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_hello_ack_prunes_what_coordinator_has, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_reject_deletes_event, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_ack_causes_hello_and_resend, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_counter_moves_above_coordinator, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
