/* outbox/lost: transitions left out of a full spool, per check, durably in
 * the spool's headroom, and what they become once there is room: an
 * EventsLost and the latest state unless the coordinator already has it.
 * Real LMDB spools in temporary directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "log.h"
#include "lost.h"
#include "msg.h"
#include "spool.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    tc_spool_t *spool;
    tc_lost_t *lost;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tc-lost-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    tc_lost_destroy(&f->lost);
    tc_spool_destroy(&f->spool);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void s_open(s_fixture_t *f)
{
    char why[256] = "";
    int rc = tc_spool_open(f->dir, "web-01", 1 << 20, &f->spool, why, sizeof why);
    if (rc != 0)
        fail_msg("tc_spool_open: %s", why);
    assert_int_equal(tc_lost_new(f->spool, &f->lost), 0);
}

static void s_close(s_fixture_t *f)
{
    tc_lost_destroy(&f->lost);
    tc_spool_destroy(&f->spool);
}

static void s_result(tc_msg_t *m, const char *check, tc_check_state_t st, int64_t t,
                     const char *output)
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
    snprintf(m->u.check.output, TC_TEXT_MAX, "%s", output);
    m->u.check.attempt = m->u.check.max_attempts = 1;
    m->u.check.hard = true;
}

/* Spools a result (and tells the table, as the outbox does). */
static uint64_t s_spool(s_fixture_t *f, const char *check, tc_check_state_t st, int64_t t)
{
    tc_msg_t m;
    s_result(&m, check, st, t, "spooled");
    assert_int_equal(tc_spool_append(f->spool, &m), 0);
    tc_lost_spooled(f->lost, &m);
    return m.seq;
}

/* Fills the spool with filler until it refuses. */
static uint64_t s_fill(s_fixture_t *f)
{
    tc_msg_t *m = calloc(256, sizeof *m);
    uint64_t last = tc_spool_last_seq(f->spool);
    int rc = 0;
    size_t batch = 256;
    while (rc == 0 || (rc == TC_EFULL && batch > 1)) {
        if (rc == TC_EFULL)
            batch = 1; /* to the last event that fits */
        for (size_t i = 0; i < batch; i++)
            s_result(&m[i], "filler", TC_STATE_OK, 1, "filler output of some length");
        rc = tc_spool_append_batch(f->spool, m, batch);
        if (rc == 0)
            last = m[batch - 1].seq;
    }
    assert_int_equal(rc, TC_EFULL);
    free(m);
    return last;
}

static void s_lose(s_fixture_t *f, const char *check, tc_check_state_t st, int64_t t)
{
    tc_msg_t m;
    s_result(&m, check, st, t, "left out");
    assert_int_equal(tc_spool_append(f->spool, &m), TC_EFULL);
    bool durable = false;
    assert_int_equal(tc_lost_add(f->lost, &m, "spool full (1 MiB)", &durable), 0);
    assert_true(durable);
    assert_true(tc_lost_has(f->lost, &m));
}

typedef struct {
    tc_msg_t m[16];
    size_t n;
} s_events_t;

static int s_collect(uint64_t seq, const uint8_t *frame, size_t len, void *arg)
{
    s_events_t *e = arg;
    assert_true(e->n < 16);
    assert_int_equal(tc_wire_decode_msg(frame, len, &e->m[e->n]), 0);
    char why[160];
    assert_int_equal(tc_msg_validate(&e->m[e->n], why, sizeof why), 0);
    assert_int_equal(e->m[e->n].seq, seq);
    e->n++;
    return 0;
}

/* The events above `after`. */
static void s_events(s_fixture_t *f, uint64_t after, s_events_t *e)
{
    memset(e, 0, sizeof *e);
    assert_int_equal(tc_spool_foreach(f->spool, after, s_collect, e), 0);
}

/* Check "a" was OK when the spool filled; it then went CRITICAL, OK,
 * CRITICAL (left out). Released: three transitions of which the last is
 * sent as the latest state, so EventsLost counts 2 (t=20..30). Check "b"
 * went CRITICAL and back to OK, its spooled state: EventsLost for both,
 * no latest. Nothing is released before there is room, and the records
 * survive closing and reopening the spool. */
static void test_full_then_released(void **state)
{
    s_fixture_t *f = *state;
    s_open(f);
    s_spool(f, "a", TC_STATE_OK, 10);
    s_spool(f, "b", TC_STATE_OK, 11);
    uint64_t last = s_fill(f);
    s_lose(f, "a", TC_STATE_CRITICAL, 20);
    s_lose(f, "b", TC_STATE_CRITICAL, 25);
    s_lose(f, "a", TC_STATE_OK, 30);
    s_lose(f, "b", TC_STATE_OK, 35);
    s_lose(f, "a", TC_STATE_CRITICAL, 40);
    s_lose(f, "a", TC_STATE_CRITICAL, 45); /* no transition: ignored */
    assert_int_equal(tc_lost_checks(f->lost), 2);
    assert_int_equal(tc_lost_transitions(f->lost), 5);
    assert_int_equal(tc_lost_volatile(f->lost), 0);

    size_t released = 9, spooled = 9;
    assert_int_equal(tc_lost_release(f->lost, &released, &spooled), TC_EFULL);
    assert_int_equal(released, 0);
    assert_int_equal(tc_spool_last_seq(f->spool), last);

    /* A restart in between. The base ("a" OK, "b" OK) is in the records. */
    s_close(f);
    s_open(f);
    assert_int_equal(tc_lost_checks(f->lost), 2);
    assert_int_equal(tc_lost_transitions(f->lost), 5);

    /* The coordinator acknowledges everything. */
    assert_int_equal(tc_spool_ack(f->spool, last, NULL), 0);
    assert_int_equal(tc_lost_release(f->lost, &released, &spooled), 0);
    assert_int_equal(released, 2);
    assert_int_equal(spooled, 3);
    assert_int_equal(tc_lost_checks(f->lost), 0);
    assert_int_equal(tc_lost_transitions(f->lost), 0);

    s_events_t e;
    s_events(f, last, &e);
    assert_int_equal(e.n, 3);
    /* Oldest first: "a" left out its first transition at t=20. */
    assert_int_equal(e.m[0].kind, TC_MSG_EVENTS_LOST);
    assert_int_equal(e.m[0].seq, last + 1);
    assert_string_equal(e.m[0].u.lost.check, "a");
    assert_string_equal(e.m[0].u.lost.service, "svc");
    assert_string_equal(e.m[0].u.lost.host, "web-01");
    assert_int_equal(e.m[0].u.lost.transitions, 2);
    assert_int_equal(e.m[0].u.lost.first_ms, 20);
    assert_int_equal(e.m[0].u.lost.last_ms, 30);
    assert_int_equal(e.m[0].time_ms, 30);
    assert_string_equal(e.m[0].u.lost.reason, "spool full (1 MiB)");
    assert_int_equal(e.m[1].kind, TC_MSG_CHECK_RESULT);
    assert_string_equal(e.m[1].u.check.check, "a");
    assert_int_equal(e.m[1].u.check.state, TC_STATE_CRITICAL);
    assert_int_equal(e.m[1].time_ms, 40); /* when it was observed, not now */
    assert_string_equal(e.m[1].u.check.output, "left out");
    assert_int_equal(e.m[2].kind, TC_MSG_EVENTS_LOST);
    assert_string_equal(e.m[2].u.lost.check, "b");
    assert_int_equal(e.m[2].u.lost.transitions, 2);
    assert_int_equal(e.m[2].u.lost.first_ms, 25);
    assert_int_equal(e.m[2].u.lost.last_ms, 35);

    /* Nothing is held any more: a reopen finds no record. */
    s_close(f);
    s_open(f);
    assert_int_equal(tc_lost_checks(f->lost), 0);
}

/* One change left out and later spooled as it was is not a loss: no
 * EventsLost, just the event with its own time. A check that was never
 * spooled (unknown base, as after a restart) always gets its latest. */
static void test_single_change_is_only_delayed(void **state)
{
    s_fixture_t *f = *state;
    s_open(f);
    s_spool(f, "a", TC_STATE_OK, 10);
    uint64_t last = s_fill(f);
    s_lose(f, "a", TC_STATE_CRITICAL, 20);
    s_lose(f, "new", TC_STATE_OK, 21);
    assert_int_equal(tc_spool_ack(f->spool, last, NULL), 0);
    size_t released = 0, spooled = 0;
    assert_int_equal(tc_lost_release(f->lost, &released, &spooled), 0);
    assert_int_equal(released, 2);
    assert_int_equal(spooled, 2);
    s_events_t e;
    s_events(f, last, &e);
    assert_int_equal(e.n, 2);
    assert_int_equal(e.m[0].kind, TC_MSG_CHECK_RESULT);
    assert_string_equal(e.m[0].u.check.check, "a");
    assert_int_equal(e.m[0].time_ms, 20);
    assert_int_equal(e.m[1].kind, TC_MSG_CHECK_RESULT);
    assert_string_equal(e.m[1].u.check.check, "new");

    /* Released states are the new base: "a" CRITICAL again and again after
     * a second fill is two transitions left out and no latest. */
    last = s_fill(f);
    s_lose(f, "a", TC_STATE_OK, 50);
    s_lose(f, "a", TC_STATE_CRITICAL, 60);
    assert_int_equal(tc_spool_ack(f->spool, last, NULL), 0);
    assert_int_equal(tc_lost_release(f->lost, &released, &spooled), 0);
    s_events(f, last, &e);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.m[0].kind, TC_MSG_EVENTS_LOST);
    assert_int_equal(e.m[0].u.lost.transitions, 2);
    assert_int_equal(e.m[0].u.lost.first_ms, 50);
    assert_int_equal(e.m[0].u.lost.last_ms, 60);
}

/* Only check results are kept. */
static void test_rejects_other_kinds(void **state)
{
    s_fixture_t *f = *state;
    s_open(f);
    tc_msg_t m;
    memset(&m, 0, sizeof m);
    m.kind = TC_MSG_HEARTBEAT;
    assert_int_equal(tc_lost_add(f->lost, &m, "x", NULL), TC_EINVAL);
    assert_false(tc_lost_has(f->lost, &m));
    assert_int_equal(tc_lost_checks(f->lost), 0);
}

int main(void)
{
    tc_log_init("test_lost", TC_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_then_released, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_single_change_is_only_delayed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rejects_other_kinds, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
