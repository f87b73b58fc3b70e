/* outbox/outbox: delivery against a scripted coordinator that stores a
 * sender's events strictly in order, like the real one: the window bounds
 * what is in flight while heartbeats go on, a RESEND rewinds once, THROTTLED
 * pauses and resends, refusals delete nothing but INVALID deletes its one
 * event, times survive resends, and a full spool turns into EventsLost plus
 * the latest state. A real ROUTER on 127.0.0.1 in the outbox's own loop, a
 * real LMDB spool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "log.h"
#include "outbox.h"
#include "spool.h"
#include "util.h"
#include "wire.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAX 20000

/* One frame the coordinator received. */
typedef struct {
    tc_msg_kind_t kind;
    uint64_t seq;
    int64_t time_ms; /* the envelope's */
    int64_t at;      /* monotonic, on arrival */
    bool stored;
} s_rx_t;

typedef struct {
    zsock_t *router;
    char endpoint[128];
    zframe_t *peer;
    uint64_t highest;   /* stored in order up to here */
    bool answer_hello;  /* false: Hellos wait for the test */
    bool ack_events;    /* Ack after each event */
    uint64_t drop_once; /* lose the first arrival of this seq */
    uint64_t throttle_once;
    int64_t throttle_ms;     /* THROTTLED: retry_after, and frames dropped meanwhile */
    int64_t throttled_until; /* monotonic */
    int64_t throttle_sent;   /* when THROTTLED went out */
    uint64_t unauthorized;   /* refuse event frames while this many are left */
    uint64_t invalid_once;   /* INVALID for this seq, skipped in order */
    s_rx_t *rx;
    size_t nrx;
    size_t hellos, heartbeats, events, resends_sent;
    tc_msg_t msg;
    tc_msg_t lost; /* the EventsLost received, if any */
    tc_msg_t last_check;
} s_coord_t;

static void s_reply(s_coord_t *co, tc_msg_t *m)
{
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "%s", TC_COORDINATOR_ID);
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_msg(m, &buf, &len), 0);
    zmsg_t *out = zmsg_new();
    zmsg_append(out, &(zframe_t *){zframe_dup(co->peer)});
    zmsg_addmem(out, buf, len);
    free(buf);
    zmsg_send(&out, co->router);
}

static void s_ack_seq(s_coord_t *co, uint64_t seq)
{
    tc_msg_t m;
    memset(&m, 0, sizeof m);
    m.kind = TC_MSG_ACK;
    m.u.ack.seq = seq;
    s_reply(co, &m);
}

static void s_ack(s_coord_t *co)
{
    s_ack_seq(co, co->highest);
}

static void s_reject(s_coord_t *co, tc_reject_reason_t reason, uint64_t seq, uint64_t from,
                     uint32_t retry)
{
    tc_msg_t m;
    memset(&m, 0, sizeof m);
    m.kind = TC_MSG_REJECT;
    m.u.reject.reason = reason;
    m.u.reject.seq = seq;
    m.u.reject.resend_from = from;
    m.u.reject.retry_after_ms = retry;
    snprintf(m.u.reject.detail, sizeof m.u.reject.detail, "scripted");
    s_reply(co, &m);
}

/* The coordinator's rule: only the next seq is stored; a later one is not,
 * and the sender is asked to resend (here after every such frame, more
 * often than the real one, which asks once per batch). */
static void s_event(s_coord_t *co, s_rx_t *rx)
{
    co->events++;
    const tc_msg_t *m = &co->msg;
    int64_t now = tc_mono_ms();
    if (co->throttled_until && now < co->throttled_until)
        return; /* over the limit: dropped, told once */
    if (co->throttle_once && m->seq == co->throttle_once) {
        co->throttle_once = 0;
        co->throttled_until = now + co->throttle_ms;
        co->throttle_sent = now;
        s_reject(co, TC_REJECT_THROTTLED, 0, 0, (uint32_t)co->throttle_ms);
        return;
    }
    if (co->unauthorized) {
        co->unauthorized--;
        s_reject(co, TC_REJECT_UNAUTHORIZED, m->seq, 0, 0);
        return;
    }
    if (co->drop_once && m->seq == co->drop_once) {
        co->drop_once = 0;
        return; /* lost on the way */
    }
    if (co->invalid_once && m->seq == co->invalid_once && m->seq == co->highest + 1) {
        co->invalid_once = 0;
        co->highest = m->seq; /* never stored; skipped in the sequence */
        s_reject(co, TC_REJECT_INVALID, m->seq, 0, 0);
        return;
    }
    if (m->seq == co->highest + 1) {
        co->highest = m->seq;
        rx->stored = true;
        if (m->kind == TC_MSG_EVENTS_LOST)
            co->lost = *m;
        else
            co->last_check = *m;
    } else if (m->seq > co->highest + 1) {
        co->resends_sent++;
        s_reject(co, TC_REJECT_RESEND, 0, co->highest + 1, 0);
    }
    if (co->ack_events)
        s_ack(co);
}

static int s_coord_recv(zloop_t *loop, zsock_t *sock, void *arg)
{
    s_coord_t *co = arg;
    zmsg_t *in = zmsg_recv(sock);
    if (!in)
        return 0;
    zframe_t *peer = zmsg_pop(in);
    zframe_t *body = zmsg_first(in);
    char why[160];
    assert_int_equal(zmsg_size(in), 1);
    assert_int_equal(tc_wire_decode_msg(zframe_data(body), zframe_size(body), &co->msg), 0);
    assert_int_equal(tc_msg_validate(&co->msg, why, sizeof why), 0);
    zframe_destroy(&co->peer);
    co->peer = peer;
    assert_true(co->nrx < S_MAX);
    s_rx_t *rx = &co->rx[co->nrx++];
    *rx = (s_rx_t){
        .kind = co->msg.kind, .seq = co->msg.seq, .time_ms = co->msg.time_ms, .at = tc_mono_ms()};
    switch (co->msg.kind) {
    case TC_MSG_HELLO:
        co->hellos++;
        if (co->answer_hello)
            s_ack(co);
        break;
    case TC_MSG_HEARTBEAT: co->heartbeats++; break;
    case TC_MSG_CHECK_RESULT:
    case TC_MSG_EVENTS_LOST: s_event(co, rx); break;
    default: fail_msg("unexpected %s", tc_msg_kind_name(co->msg.kind));
    }
    zmsg_destroy(&in);
    return 0;
}

typedef struct {
    char dir[64];
    char spool[96];
    zloop_t *loop;
    s_coord_t co;
    tc_outbox_t *ob;
} s_fx_t;

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tc-outbox-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    f->loop = zloop_new();
    s_coord_t *co = &f->co;
    co->rx = calloc(S_MAX, sizeof *co->rx);
    co->router = zsock_new(ZMQ_ROUTER);
    assert_true(zsock_bind(co->router, "tcp://127.0.0.1:*") >= 0);
    snprintf(co->endpoint, sizeof co->endpoint, "%s", zsock_endpoint(co->router));
    assert_int_equal(zloop_reader(f->loop, co->router, s_coord_recv, co), 0);
    co->answer_hello = true;
    co->ack_events = true;
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    tc_outbox_destroy(&f->ob);
    zloop_reader_end(f->loop, f->co.router);
    zsock_destroy(&f->co.router);
    zframe_destroy(&f->co.peer);
    zloop_destroy(&f->loop);
    free(f->co.rx);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void s_result(tc_msg_t *m, const char *check, tc_check_state_t st, int64_t t)
{
    memset(m, 0, sizeof *m);
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "web-01");
    m->time_ms = t;
    m->kind = TC_MSG_CHECK_RESULT;
    snprintf(m->u.check.check, TC_ID_MAX, "%s", check);
    snprintf(m->u.check.service, TC_ID_MAX, "svc");
    snprintf(m->u.check.host, TC_ID_MAX, "web-01");
    m->u.check.state = st;
    snprintf(m->u.check.output, TC_TEXT_MAX, "output of %s", check);
    m->u.check.attempt = m->u.check.max_attempts = 1;
    m->u.check.hard = true;
}

/* Spools `n` events (time_ms 1000 + seq) before the outbox starts, as a
 * backlog left by an earlier run; with spool_max, fills it to the limit
 * when n is 0. Returns the last seq. */
static uint64_t s_prefill(s_fx_t *f, size_t n, size_t spool_max)
{
    tc_spool_t *s = NULL;
    char why[256] = "";
    if (tc_spool_open(f->spool, "web-01", spool_max, &s, why, sizeof why) != 0)
        fail_msg("tc_spool_open: %s", why);
    tc_msg_t m;
    int rc = 0;
    for (size_t i = 0; (n == 0 || i < n) && rc == 0; i++) {
        s_result(&m, "fill", i % 2 ? TC_STATE_CRITICAL : TC_STATE_OK,
                 1000 + (int64_t)tc_spool_last_seq(s) + 1);
        rc = tc_spool_append(s, &m);
    }
    assert_int_equal(rc, n ? 0 : TC_EFULL);
    uint64_t last = tc_spool_last_seq(s);
    tc_spool_destroy(&s);
    return last;
}

static void s_start(s_fx_t *f, uint32_t window, size_t spool_max)
{
    tc_outbox_config_t cfg = {.sender = "web-01",
                              .endpoint = f->co.endpoint,
                              .keys = NULL,
                              .spool_dir = f->spool,
                              .spool_max = spool_max,
                              .window = window,
                              .heartbeat_ms = 100};
    char why[256] = "";
    if (tc_outbox_new(f->loop, &cfg, &f->ob, why, sizeof why) != 0)
        fail_msg("tc_outbox_new: %s", why);
}

typedef bool(s_pred_fn)(s_fx_t *f);

typedef struct {
    s_fx_t *f;
    s_pred_fn *pred;
    bool met;
} s_wait_t;

static int s_wait_tick(zloop_t *loop, int timer_id, void *arg)
{
    s_wait_t *w = arg;
    w->met = w->pred(w->f);
    return w->met ? -1 : 0;
}

static int s_guard(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

/* Runs the loop until `pred` holds (failing after a generous guard). */
static void s_until(s_fx_t *f, s_pred_fn *pred, const char *what)
{
    s_wait_t w = {.f = f, .pred = pred};
    int t1 = zloop_timer(f->loop, 5, 0, s_wait_tick, &w);
    int t2 = zloop_timer(f->loop, 60000, 1, s_guard, NULL);
    zloop_start(f->loop);
    zloop_timer_end(f->loop, t1);
    zloop_timer_end(f->loop, t2);
    if (!w.met)
        fail_msg("timed out waiting for %s", what);
}

/* Event frames received with seq `seq`, and whether one was stored. */
static size_t s_arrivals(const s_coord_t *co, uint64_t seq)
{
    size_t n = 0;
    for (size_t i = 0; i < co->nrx; i++)
        n += (co->rx[i].kind == TC_MSG_CHECK_RESULT || co->rx[i].kind == TC_MSG_EVENTS_LOST) &&
             co->rx[i].seq == seq;
    return n;
}

static size_t s_stored_count(const s_coord_t *co)
{
    size_t n = 0;
    for (size_t i = 0; i < co->nrx; i++)
        n += co->rx[i].stored;
    return n;
}

static size_t s_spooled(s_fx_t *f)
{
    tc_outbox_stats_t st;
    tc_outbox_stats(f->ob, &st);
    return st.spooled;
}

/* ---- window ---------------------------------------------------------------- */

static size_t s_hb_mark;

static bool s_eight_and_quiet(s_fx_t *f)
{
    if (f->co.events < 8)
        return false;
    if (!s_hb_mark)
        s_hb_mark = f->co.heartbeats;
    /* Five heartbeats after the window filled: time enough to send more
     * if it were going to. */
    return f->co.heartbeats >= s_hb_mark + 5;
}

static bool s_twelve_and_quiet(s_fx_t *f)
{
    return s_eight_and_quiet(f);
}

static void test_window_bounds_in_flight(void **state)
{
    s_fx_t *f = *state;
    s_prefill(f, 40, 0);
    f->co.ack_events = false; /* Hello answered (Ack 0), events not */
    s_start(f, 8, 0);
    s_hb_mark = 0;
    s_until(f, s_eight_and_quiet, "8 events and 5 heartbeats");
    assert_int_equal(f->co.events, 8);
    for (uint64_t q = 1; q <= 8; q++)
        assert_int_equal(s_arrivals(&f->co, q), 1);
    tc_outbox_stats_t st;
    tc_outbox_stats(f->ob, &st);
    assert_int_equal(st.in_flight, 8);
    assert_int_equal(st.spooled, 40);

    /* An Ack for 4 (late, but true: 1..8 are stored) opens four places. */
    assert_int_equal(f->co.highest, 8);
    s_ack_seq(&f->co, 4);
    s_hb_mark = 0;
    f->co.events -= 4; /* count from 4 again: 12 means four more */
    s_until(f, s_twelve_and_quiet, "4 more events and 5 heartbeats");
    assert_int_equal(f->co.events, 8);
    for (uint64_t q = 9; q <= 12; q++)
        assert_int_equal(s_arrivals(&f->co, q), 1);
    assert_int_equal(s_arrivals(&f->co, 13), 0);
}

/* ---- RESEND ------------------------------------------------------------------ */

static bool s_all_30(s_fx_t *f)
{
    return f->co.highest == 30 && s_spooled(f) == 0;
}

static void test_resend_rewinds_once(void **state)
{
    s_fx_t *f = *state;
    s_prefill(f, 30, 0);
    f->co.drop_once = 5; /* lost on the way: 6.. arrive out of order */
    s_start(f, 0, 0);
    s_until(f, s_all_30, "1..30 stored and the spool empty");
    assert_int_equal(s_stored_count(&f->co), 30);
    assert_true(f->co.resends_sent >= 1);
    /* Every event arrived once, or twice after the one rewind: the
     * RESENDs the in-flight frames caused were not acted on again. */
    for (uint64_t q = 1; q <= 30; q++) {
        size_t n = s_arrivals(&f->co, q);
        if (n < 1 || n > 2)
            fail_msg("seq %llu arrived %zu times", (unsigned long long)q, n);
    }
    tc_outbox_stats_t st;
    tc_outbox_stats(f->ob, &st);
    assert_int_equal(st.rewinds, 1);
    /* A resent event is the same event: its time is when it was observed. */
    for (size_t i = 0; i < f->co.nrx; i++)
        if (f->co.rx[i].kind == TC_MSG_CHECK_RESULT)
            assert_int_equal(f->co.rx[i].time_ms, 1000 + (int64_t)f->co.rx[i].seq);
}

/* ---- THROTTLED ------------------------------------------------------------------ */

static bool s_all_40(s_fx_t *f)
{
    return f->co.highest == 40 && s_spooled(f) == 0;
}

static void test_throttled_pauses_then_resends(void **state)
{
    s_fx_t *f = *state;
    s_prefill(f, 40, 0);
    f->co.throttle_once = 10;
    f->co.throttle_ms = 400;
    s_start(f, 0, 0);
    s_until(f, s_all_40, "1..40 stored after the pause");
    assert_int_equal(s_stored_count(&f->co), 40);
    tc_outbox_stats_t st;
    tc_outbox_stats(f->ob, &st);
    assert_int_equal(st.throttled, 1);
    /* Nothing was sent while paused: the resend of seq 10 (its second
     * arrival; frames already in flight had higher seqs) came at least
     * retry_after after the THROTTLED reply. Its arrival, and so the gap,
     * can only be later than that, never earlier. */
    size_t resend = 0, seen = 0;
    for (size_t i = 0; i < f->co.nrx && !resend; i++)
        if (f->co.rx[i].kind == TC_MSG_CHECK_RESULT && f->co.rx[i].seq == 10 && ++seen == 2)
            resend = i;
    assert_true(resend > 0);
    assert_true(f->co.rx[resend].at - f->co.throttle_sent >= 400);
}

/* ---- refusals --------------------------------------------------------------------- */

static bool s_all_5(s_fx_t *f)
{
    return f->co.highest == 5 && s_spooled(f) == 0;
}

/* A key refused for a while (not yet allowed): events wait, none is lost. */
static void test_unauthorized_deletes_nothing(void **state)
{
    s_fx_t *f = *state;
    s_prefill(f, 5, 0);
    f->co.unauthorized = 5;
    s_start(f, 0, 0);
    s_until(f, s_all_5, "all 5 stored once refusals stopped");
    assert_int_equal(s_stored_count(&f->co), 5);
    for (uint64_t q = 1; q <= 5; q++)
        assert_true(s_arrivals(&f->co, q) >= 1);
}

/* INVALID names one event the coordinator will never store: that one
 * goes, the rest arrive. */
static void test_invalid_deletes_that_event(void **state)
{
    s_fx_t *f = *state;
    s_prefill(f, 5, 0);
    f->co.invalid_once = 3;
    s_start(f, 0, 0);
    s_until(f, s_all_5, "1, 2, 4, 5 stored and the spool empty");
    assert_int_equal(s_stored_count(&f->co), 4);
    assert_int_equal(s_arrivals(&f->co, 3), 1); /* deleted, never resent */
}

/* ---- a full spool -------------------------------------------------------------------- */

static uint64_t s_filled;

static bool s_lost_delivered(s_fx_t *f)
{
    return f->co.highest >= s_filled + 2 && s_spooled(f) == 0;
}

static bool s_hello_seen(s_fx_t *f)
{
    return f->co.hellos >= 1;
}

static void test_full_spool_reports_what_was_left_out(void **state)
{
    s_fx_t *f = *state;
    s_filled = s_prefill(f, 0, 1 << 20);
    f->co.answer_hello = false; /* the coordinator is slow to answer */
    s_start(f, 0, 1 << 20);
    s_until(f, s_hello_seen, "the Hello");

    /* Three changes of check "c" while the spool is full. */
    tc_msg_t m;
    s_result(&m, "c", TC_STATE_CRITICAL, 5000);
    assert_int_equal(tc_outbox_append(f->ob, &m), TC_EFULL);
    assert_int_equal(m.seq, 0);
    s_result(&m, "c", TC_STATE_OK, 6000);
    assert_int_equal(tc_outbox_append(f->ob, &m), TC_EFULL);
    s_result(&m, "c", TC_STATE_CRITICAL, 7000);
    assert_int_equal(tc_outbox_append(f->ob, &m), TC_EFULL);
    tc_outbox_stats_t st;
    tc_outbox_stats(f->ob, &st);
    assert_int_equal(st.lost_checks, 1);
    assert_int_equal(st.lost_transitions, 3);
    assert_int_equal(st.lost_volatile, 0);
    assert_int_equal(st.last_seq, s_filled);

    /* The coordinator answers and drains the spool. */
    s_ack(&f->co);
    s_until(f, s_lost_delivered, "the backlog, an EventsLost and the latest state");
    assert_int_equal(f->co.highest, s_filled + 2);
    assert_int_equal(s_stored_count(&f->co), s_filled + 2);
    const tc_msg_t *lost = &f->co.lost;
    assert_int_equal(lost->kind, TC_MSG_EVENTS_LOST);
    assert_int_equal(lost->seq, s_filled + 1);
    assert_string_equal(lost->u.lost.check, "c");
    assert_int_equal(lost->u.lost.transitions, 2);
    assert_int_equal(lost->u.lost.first_ms, 5000);
    assert_int_equal(lost->u.lost.last_ms, 6000);
    assert_string_equal(lost->u.lost.reason, "spool full (1 MiB)");
    const tc_msg_t *latest = &f->co.last_check;
    assert_int_equal(latest->seq, s_filled + 2);
    assert_string_equal(latest->u.check.check, "c");
    assert_int_equal(latest->u.check.state, TC_STATE_CRITICAL);
    assert_int_equal(latest->time_ms, 7000);
    tc_outbox_stats(f->ob, &st);
    assert_int_equal(st.lost_checks, 0);

    /* And it goes on normally. */
    s_result(&m, "c", TC_STATE_OK, 8000);
    assert_int_equal(tc_outbox_append(f->ob, &m), 0);
    assert_int_equal(m.seq, s_filled + 3);
}

static void test_append_takes_check_results_only(void **state)
{
    s_fx_t *f = *state;
    s_start(f, 0, 0);
    tc_msg_t m;
    memset(&m, 0, sizeof m);
    m.kind = TC_MSG_HEARTBEAT;
    assert_int_equal(tc_outbox_append(f->ob, &m), TC_EINVAL);
    s_result(&m, "c", TC_STATE_OK, 0); /* time 0: now */
    int64_t before = tc_now_ms();
    assert_int_equal(tc_outbox_append(f->ob, &m), 0);
    assert_true(m.time_ms >= before);
    assert_string_equal(m.sender, "web-01");
    assert_int_equal(m.seq, 1);
}

int main(void)
{
    tc_log_init("test_outbox", getenv("TEST_DEBUG") ? TC_LOG_DEBUG : TC_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window_bounds_in_flight, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resend_rewinds_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_throttled_pauses_then_resends, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unauthorized_deletes_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_deletes_that_event, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_spool_reports_what_was_left_out, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_append_takes_check_results_only, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
