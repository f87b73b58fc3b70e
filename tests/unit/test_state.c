/* Table-driven tests of the pure incident state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One step: a record to apply and the broadcasts it must cause. */
typedef struct {
    char kind; /* 'c' check result, 'h' host status */
    const char *host;
    const char *check;   /* 'c' only */
    const char *service; /* 'c' only */
    int state;           /* 'c': tc_check_state_t; 'h': 1 up, 0 down */
    bool hard;
    /* Expected: broadcast kinds in order (0-terminated), and for the first
     * incident broadcast its id, state, failing checks and affected hosts. */
    tc_bcast_kind_t expect[3];
    uint64_t inc_id;
    tc_incident_state_t inc_state;
    uint32_t failing, affected;
} step_t;

#define C(h, chk, svc, st, hd) 'c', h, chk, svc, TC_STATE_##st, hd
#define H(h, up) 'h', h, NULL, NULL, up, true
/* clang-format off */
#define NONE {0}, 0, TC_INC_TRIGGERED, 0, 0
#define HB(kind) {kind}, 0, TC_INC_TRIGGERED, 0, 0
#define OPENED(id, f, a) {TC_BCAST_INCIDENT_OPENED}, id, TC_INC_TRIGGERED, f, a
#define UPDATED(id, f, a) {TC_BCAST_INCIDENT_UPDATED}, id, TC_INC_TRIGGERED, f, a
#define RESOLVED(id) {TC_BCAST_INCIDENT_RESOLVED}, id, TC_INC_RESOLVED, 0, 0
/* clang-format on */

static void s_record(const step_t *s, uint64_t seq, tc_record_t *r)
{
    memset(r, 0, sizeof *r);
    r->seq = seq;
    r->received_ms = 1000 * (int64_t)seq;
    r->time_ms = 1000 * (int64_t)seq;
    tc_msg_t *m = &r->event;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "%s", s->host);
    if (s->kind == 'c') {
        m->kind = TC_MSG_CHECK_RESULT;
        m->seq = seq;
        snprintf(m->u.check.host, TC_ID_MAX, "%s", s->host);
        snprintf(m->u.check.check, TC_ID_MAX, "%s", s->check);
        snprintf(m->u.check.service, TC_ID_MAX, "%s", s->service);
        m->u.check.state = (tc_check_state_t)s->state;
        m->u.check.hard = s->hard;
        m->u.check.attempt = m->u.check.max_attempts = 1;
        snprintf(m->u.check.output, TC_TEXT_MAX, "output %llu", (unsigned long long)seq);
    } else {
        m->kind = TC_MSG_HOST_STATUS;
        snprintf(m->u.host_status.host, TC_ID_MAX, "%s", s->host);
        m->u.host_status.up = s->state;
        m->u.host_status.heartbeat_ms = 500;
    }
}

static void s_run(const step_t *steps, size_t n)
{
    tc_state_t *st = tc_state_new(NULL);
    assert_non_null(st);
    for (size_t i = 0; i < n; i++) {
        tc_record_t rec;
        tc_state_out_t out;
        s_record(&steps[i], i + 1, &rec);
        assert_int_equal(tc_state_apply(st, &rec, &out), 0);
        size_t want = 0;
        while (want < 3 && steps[i].expect[want])
            want++;
        if (out.n != want)
            fail_msg("step %zu: %zu broadcasts, want %zu", i + 1, out.n, want);
        for (size_t k = 0; k < want; k++)
            assert_int_equal(out.bcast[k].kind, steps[i].expect[k]);
        if (want && steps[i].expect[0] <= TC_BCAST_INCIDENT_RESOLVED) {
            const tc_incident_t *inc = &out.bcast[0].incident;
            assert_int_equal(inc->id, steps[i].inc_id);
            assert_int_equal(inc->state, steps[i].inc_state);
            assert_int_equal(inc->failing_checks, steps[i].failing);
            assert_int_equal(inc->affected_hosts, steps[i].affected);
            assert_int_equal(out.bcast[0].log_seq, i + 1);
        }
    }
    tc_state_destroy(&st);
    assert_null(st);
}

static void test_open_and_resolve(void **unused)
{
    static const step_t steps[] = {
        {C("web-01", "http", "frontend", OK, true), NONE},
        {C("web-01", "http", "frontend", CRITICAL, true), OPENED(1, 1, 1)},
        {C("web-01", "http", "frontend", OK, true), RESOLVED(1)},
        /* A second outage of the same service is a new incident. */
        {C("web-01", "http", "frontend", CRITICAL, true), OPENED(2, 1, 1)},
        {C("web-01", "http", "frontend", OK, true), RESOLVED(2)},
    };
    s_run(steps, sizeof steps / sizeof steps[0]);
}

static void test_correlates_hosts_and_checks(void **unused)
{
    static const step_t steps[] = {
        {C("web-01", "http", "frontend", CRITICAL, true), OPENED(1, 1, 1)},
        {C("web-02", "http", "frontend", CRITICAL, true), UPDATED(1, 2, 2)},
        {C("web-02", "tcp", "frontend", WARNING, true), UPDATED(1, 3, 2)},
        /* Another service gets its own incident. */
        {C("db-01", "port", "database", CRITICAL, true), OPENED(2, 1, 1)},
        {C("web-01", "http", "frontend", OK, true), UPDATED(1, 2, 1)},
        {C("web-02", "http", "frontend", OK, true), UPDATED(1, 1, 1)},
        /* WARNING keeps the incident open; OK of the last check resolves. */
        {C("web-02", "tcp", "frontend", OK, true), RESOLVED(1)},
        {C("db-01", "port", "database", OK, true), RESOLVED(2)},
    };
    s_run(steps, sizeof steps / sizeof steps[0]);
}

static void test_ignores_soft_repeats_and_warning(void **unused)
{
    static const step_t steps[] = {
        /* Soft results are the agent's business. */
        {C("web-01", "http", "frontend", CRITICAL, false), NONE},
        /* WARNING alone opens nothing. */
        {C("web-01", "http", "frontend", WARNING, true), NONE},
        {C("web-01", "http", "frontend", CRITICAL, true), OPENED(1, 1, 1)},
        /* The same hard state again (agent restart) changes nothing. */
        {C("web-01", "http", "frontend", CRITICAL, true), NONE},
        {C("web-01", "http", "frontend", UNKNOWN, true), UPDATED(1, 1, 1)},
        {C("web-01", "http", "frontend", OK, true), RESOLVED(1)},
        /* OK again after resolution: nothing. */
        {C("web-01", "http", "frontend", OK, true), NONE},
    };
    s_run(steps, sizeof steps / sizeof steps[0]);
}

static void test_check_moves_service(void **unused)
{
    static const step_t steps[] = {
        {C("web-01", "http", "frontend", CRITICAL, true), OPENED(1, 1, 1)},
        /* Reconfigured into another service: leaves (resolves) the old
         * incident, opens one for the new service. */
        {C("web-01", "http", "edge", CRITICAL, true),
         {TC_BCAST_INCIDENT_RESOLVED, TC_BCAST_INCIDENT_OPENED},
         1,
         TC_INC_RESOLVED,
         0,
         0},
    };
    s_run(steps, sizeof steps / sizeof steps[0]);
}

static void test_hosts(void **unused)
{
    static const step_t steps[] = {
        {H("web-01", 1), HB(TC_BCAST_HOST_UP)},
        {H("web-01", 1), NONE},
        {H("web-01", 0), HB(TC_BCAST_HOST_DOWN)},
        {H("web-01", 0), NONE},
        {H("web-01", 1), HB(TC_BCAST_HOST_UP)},
        /* First sight of a host that is reported down is still news. */
        {H("web-02", 0), HB(TC_BCAST_HOST_DOWN)},
    };
    s_run(steps, sizeof steps / sizeof steps[0]);
}

/* Replaying the same records into a fresh state gives the same outputs:
 * the property restarts depend on. */
static void test_replay_is_deterministic(void **unused)
{
    static const step_t steps[] = {
        {C("a", "x", "s1", CRITICAL, true), NONE},
        {C("b", "x", "s1", CRITICAL, true), NONE},
        {H("a", 1), NONE},
        {C("c", "y", "s2", CRITICAL, true), NONE},
        {C("a", "x", "s1", OK, true), NONE},
        {H("a", 0), NONE},
        {C("b", "x", "s1", OK, true), NONE},
        {C("c", "y", "s2", WARNING, true), NONE},
    };
    size_t n = sizeof steps / sizeof steps[0];
    tc_state_t *one = tc_state_new(NULL), *two = tc_state_new(NULL);
    for (size_t i = 0; i < n; i++) {
        tc_record_t rec;
        /* Cleared: the state writes only what each broadcast carries. */
        static tc_state_out_t o1, o2;
        memset(&o1, 0, sizeof o1);
        memset(&o2, 0, sizeof o2);
        s_record(&steps[i], i + 1, &rec);
        assert_int_equal(tc_state_apply(one, &rec, &o1), 0);
        assert_int_equal(tc_state_apply(two, &rec, &o2), 0);
        assert_int_equal(o1.n, o2.n);
        assert_memory_equal(o1.bcast, o2.bcast, o1.n * sizeof o1.bcast[0]);
    }
    assert_int_equal(tc_state_open_count(one), 1);
    assert_int_equal(tc_state_next_incident_id(one), 3);
    const tc_state_host_t *h = tc_state_host(one, "a");
    assert_non_null(h);
    assert_false(h->up);
    assert_null(tc_state_host(one, "zz"));
    tc_state_destroy(&one);
    tc_state_destroy(&two);
}

/* A replay (quiet: outputs counted, not written) leaves the state exactly
 * as the live path does, byte for byte in its canonical encoding, and
 * counts the same broadcasts: snapshots and --verify-replay rest on it. */
static void test_quiet_replay_same_state(void **unused)
{
    static const step_t steps[] = {
        {C("a", "x", "s1", CRITICAL, true), NONE},
        {C("b", "x", "s1", CRITICAL, true), NONE},
        {H("a", 1), NONE},
        {C("c", "y", "s2", CRITICAL, true), NONE},
        {C("a", "x", "s1", OK, true), NONE},
        {H("a", 0), NONE},
        {C("b", "x", "s1", OK, true), NONE},
        {C("c", "y", "s2", OK, true), NONE},
        {C("c", "y", "s2", CRITICAL, true), NONE},
    };
    size_t n = sizeof steps / sizeof steps[0];
    tc_state_t *live = tc_state_new(NULL), *quiet = tc_state_new(NULL);
    static tc_state_out_t o1, o2;
    for (size_t i = 0; i < n; i++) {
        tc_record_t rec;
        s_record(&steps[i], i + 1, &rec);
        assert_int_equal(tc_state_apply(live, &rec, &o1), 0);
        assert_int_equal(tc_state_replay(quiet, &rec, &o2), 0);
        assert_int_equal(o1.n, o2.n);
        assert_int_equal(o2.ntimeline, 0);
    }
    tc_buf_t a = {0}, b = {0};
    assert_int_equal(tc_state_snapshot(live, n, 0, &a), 0);
    assert_int_equal(tc_state_snapshot(quiet, n, 0, &b), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    free(a.data);
    free(b.data);
    tc_state_destroy(&live);
    tc_state_destroy(&quiet);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_resolve),
        cmocka_unit_test(test_correlates_hosts_and_checks),
        cmocka_unit_test(test_ignores_soft_repeats_and_warning),
        cmocka_unit_test(test_check_moves_service),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_replay_is_deterministic),
        cmocka_unit_test(test_quiet_replay_same_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
