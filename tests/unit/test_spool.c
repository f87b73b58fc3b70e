/* outbox/spool: durability across reopen and kill -9, sequence numbers
 * never reused, acks, rejects, the events limit and its headroom (deletes
 * and held records on a full spool), batches, held records, rebasing by
 * offset, a spool larger than its limit. Real LMDB files in temporary
 * directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "msg.h"
#include "spool.h"
#include "wire.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    char dir[64];
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tc-spool-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void s_event(tc_msg_t *m, const char *check, tc_check_state_t st, const char *output)
{
    memset(m, 0, sizeof *m);
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "web-01");
    m->time_ms = 1764000000000;
    m->kind = TC_MSG_CHECK_RESULT;
    snprintf(m->u.check.check, TC_ID_MAX, "%s", check);
    snprintf(m->u.check.service, TC_ID_MAX, "svc");
    snprintf(m->u.check.host, TC_ID_MAX, "web-01");
    m->u.check.state = st;
    snprintf(m->u.check.output, TC_TEXT_MAX, "%s", output);
    m->u.check.attempt = 3;
    m->u.check.max_attempts = 3;
    m->u.check.hard = true;
}

static tc_spool_t *s_open(const char *dir, const char *id, size_t map)
{
    char why[256] = "";
    tc_spool_t *s = NULL;
    int rc = tc_spool_open(dir, id, map, &s, why, sizeof why);
    if (rc != 0)
        fail_msg("tc_spool_open: %s (%s)", tc_strerror(rc), why);
    return s;
}

static uint64_t s_append(tc_spool_t *s, const char *check)
{
    tc_msg_t m;
    s_event(&m, check, TC_STATE_CRITICAL, "down");
    assert_int_equal(tc_spool_append(s, &m), 0);
    assert_int_not_equal(m.seq, 0);
    return m.seq;
}

static size_t s_count(tc_spool_t *s)
{
    size_t n = 99;
    assert_int_equal(tc_spool_count(s, &n), 0);
    return n;
}

static void s_get_msg(tc_spool_t *s, uint64_t seq, tc_msg_t *m)
{
    uint8_t *data;
    size_t len;
    assert_int_equal(tc_spool_get(s, seq, &data, &len), 0);
    assert_int_equal(tc_wire_decode_msg(data, len, m), 0);
    free(data);
}

typedef struct {
    uint64_t seqs[64];
    size_t n;
    int stop_after;
} s_walk_t;

static int s_collect(uint64_t seq, const uint8_t *data, size_t len, void *arg)
{
    s_walk_t *w = arg;
    tc_msg_t m;
    assert_int_equal(tc_wire_decode_msg(data, len, &m), 0);
    assert_int_equal(m.seq, seq); /* the stored bytes carry their number */
    w->seqs[w->n++] = seq;
    return w->stop_after && (int)w->n == w->stop_after ? 7 : 0;
}

static void test_append_get_ack(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    assert_int_equal(tc_spool_last_seq(s), 0);
    assert_int_equal(s_count(s), 0);
    assert_int_equal(s_append(s, "a"), 1);
    assert_int_equal(s_append(s, "b"), 2);
    assert_int_equal(s_append(s, "c"), 3);
    assert_int_equal(tc_spool_last_seq(s), 3);
    assert_int_equal(s_count(s), 3);

    tc_msg_t m;
    s_get_msg(s, 2, &m);
    assert_string_equal(m.u.check.check, "b");
    assert_int_equal(m.seq, 2);
    char why[128];
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), 0);

    s_walk_t w = {0};
    assert_int_equal(tc_spool_foreach(s, 0, s_collect, &w), 0);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.seqs[0], 1);
    assert_int_equal(w.seqs[2], 3);
    memset(&w, 0, sizeof w);
    assert_int_equal(tc_spool_foreach(s, 1, s_collect, &w), 0);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.seqs[0], 2);
    memset(&w, 0, sizeof w);
    w.stop_after = 1;
    assert_int_equal(tc_spool_foreach(s, 0, s_collect, &w), 7);
    assert_int_equal(w.n, 1);

    size_t deleted = 99;
    assert_int_equal(tc_spool_ack(s, 2, &deleted), 0);
    assert_int_equal(deleted, 2);
    assert_int_equal(s_count(s), 1);
    assert_false(tc_spool_contains(s, 2));
    assert_true(tc_spool_contains(s, 3));
    assert_int_equal(tc_spool_ack(s, 1, &deleted), 0); /* old ack: nothing */
    assert_int_equal(deleted, 0);
    uint8_t *data;
    size_t len;
    assert_int_equal(tc_spool_get(s, 1, &data, &len), TC_ENOTFOUND);

    assert_int_equal(tc_spool_remove(s, 3), 0);
    assert_int_equal(tc_spool_remove(s, 3), TC_ENOTFOUND);
    assert_int_equal(s_count(s), 0);
    tc_spool_destroy(&s);
    assert_null(s);
    tc_spool_destroy(&s);
}

static void test_survives_reopen_and_never_reuses_seq(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    s_append(s, "a");
    s_append(s, "b");
    tc_spool_destroy(&s);

    s = s_open(f->dir, "web-01", 0);
    assert_int_equal(tc_spool_last_seq(s), 2);
    assert_int_equal(s_count(s), 2);
    assert_int_equal(tc_spool_ack(s, 2, NULL), 0);
    assert_int_equal(s_count(s), 0);
    tc_spool_destroy(&s);

    /* Empty now, but the counter goes on. */
    s = s_open(f->dir, "web-01", 0);
    assert_int_equal(s_append(s, "c"), 3);
    tc_spool_destroy(&s);
}

static void test_survives_kill_9(void **state)
{
    s_fixture_t *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Child: spool two events and die without closing anything. */
        tc_spool_t *s = NULL;
        if (tc_spool_open(f->dir, "web-01", 0, &s, NULL, 0) != 0)
            _exit(10);
        tc_msg_t m;
        s_event(&m, "a", TC_STATE_CRITICAL, "x");
        if (tc_spool_append(s, &m) != 0)
            _exit(11);
        s_event(&m, "b", TC_STATE_OK, "y");
        if (tc_spool_append(s, &m) != 0)
            _exit(12);
        kill(getpid(), SIGKILL);
        _exit(13);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);

    /* The flock died with the process; the data did not. */
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    assert_int_equal(tc_spool_last_seq(s), 2);
    assert_int_equal(s_count(s), 2);
    tc_msg_t m;
    s_get_msg(s, 2, &m);
    assert_string_equal(m.u.check.check, "b");
    assert_int_equal(m.u.check.state, TC_STATE_OK);
    assert_int_equal(s_append(s, "c"), 3);
    tc_spool_destroy(&s);
}

static void test_lock_and_owner(void **state)
{
    s_fixture_t *f = *state;
    char why[256] = "";
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    tc_spool_t *s2 = NULL;
    assert_int_equal(tc_spool_open(f->dir, "web-01", 0, &s2, why, sizeof why), TC_ECONFIG);
    assert_null(s2);
    assert_non_null(strstr(why, "in use by another process"));
    s_append(s, "a");
    tc_spool_destroy(&s);

    /* Unsent events of web-01: another id must not take them over. */
    assert_int_equal(tc_spool_open(f->dir, "web-02", 0, &s2, why, sizeof why), TC_ECONFIG);
    assert_non_null(strstr(why, "unsent events of agent \"web-01\""));

    /* Once delivered, the spool may change hands and keeps its counter. */
    s = s_open(f->dir, "web-01", 0);
    tc_spool_ack(s, 1, NULL);
    tc_spool_destroy(&s);
    s = s_open(f->dir, "web-02", 0);
    assert_int_equal(s_append(s, "b"), 2);
    tc_spool_destroy(&s);
}

static void test_full_map_drops_new_keeps_old(void **state)
{
    s_fixture_t *f = *state;
    char big[TC_TEXT_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tc_spool_t *s = s_open(f->dir, "web-01", 256 * 1024);
    tc_msg_t m;
    uint64_t stored = 0;
    int rc = 0;
    for (int i = 0; i < 100000; i++) {
        s_event(&m, "a", TC_STATE_CRITICAL, big);
        rc = tc_spool_append(s, &m);
        if (rc != 0)
            break;
        stored = m.seq;
    }
    assert_int_equal(rc, TC_EFULL);
    assert_int_equal(m.seq, 0);
    assert_true(stored > 10);
    assert_int_equal(tc_spool_last_seq(s), stored);
    assert_int_equal(s_count(s), stored);
    /* Everything stored is intact. */
    s_walk_t w = {0};
    w.stop_after = 64;
    tc_spool_foreach(s, 0, s_collect, &w);
    assert_int_equal(w.seqs[0], 1);
    tc_msg_t got;
    s_get_msg(s, stored, &got);
    assert_string_equal(got.u.check.output, big);

    /* After an ack there is room again, and the number continues. */
    assert_int_equal(tc_spool_ack(s, stored, NULL), 0);
    assert_int_equal(s_append(s, "b"), stored + 1);
    tc_spool_destroy(&s);
}

static void test_rebase(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    s_append(s, "a");
    s_append(s, "b");
    s_append(s, "c");
    tc_spool_ack(s, 1, NULL);
    size_t moved = 99;
    assert_int_equal(tc_spool_rebase(s, 2, &moved), 0); /* not above: no-op */
    assert_int_equal(moved, 0);
    assert_int_equal(tc_spool_last_seq(s), 3);

    assert_int_equal(tc_spool_rebase(s, 100, &moved), 0);
    assert_int_equal(moved, 2);
    assert_int_equal(tc_spool_last_seq(s), 102);
    s_walk_t w = {0};
    assert_int_equal(tc_spool_foreach(s, 0, s_collect, &w), 0);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.seqs[0], 101);
    assert_int_equal(w.seqs[1], 102);
    w = (s_walk_t){0};
    assert_int_equal(tc_spool_foreach(s, 101, s_collect, &w), 0);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.seqs[0], 102);
    tc_msg_t m;
    s_get_msg(s, 101, &m);
    assert_string_equal(m.u.check.check, "b");  /* order kept */
    assert_int_equal(m.time_ms, 1764000000000); /* and the time it was observed */
    assert_false(tc_spool_contains(s, 2));
    assert_true(tc_spool_contains(s, 102));
    /* An Ack in the new numbering deletes by it. */
    size_t deleted = 0;
    assert_int_equal(tc_spool_ack(s, 101, &deleted), 0);
    assert_int_equal(deleted, 1);
    assert_false(tc_spool_contains(s, 101));
    tc_spool_destroy(&s);

    s = s_open(f->dir, "web-01", 0);
    assert_int_equal(s_append(s, "d"), 103);
    moved = 0;
    assert_int_equal(tc_spool_rebase(s, 200, &moved), 0);
    assert_int_equal(moved, 2);
    assert_int_equal(s_count(s), 2);
    assert_int_equal(tc_spool_last_seq(s), 202);
    tc_spool_destroy(&s);
    /* The offset is durable. */
    s = s_open(f->dir, "web-01", 0);
    assert_int_equal(s_append(s, "e"), 203);
    w = (s_walk_t){0};
    assert_int_equal(tc_spool_foreach(s, 0, s_collect, &w), 0);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.seqs[0], 201);
    assert_int_equal(w.seqs[2], 203);
    tc_spool_destroy(&s);
}

/* A small spool filled to its limit: events stop at the limit with room
 * left, and what must work on a full spool does: deleting acknowledged
 * events, one at a time and all at once, held records, renumbering. */
static void test_full_spool_keeps_its_headroom(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 1 << 20);
    tc_msg_t m;
    int rc = 0;
    uint64_t stored = 0;
    for (int i = 0; i < 1000000 && rc == 0; i++) {
        s_event(&m, "a", TC_STATE_CRITICAL, "a typical line of plugin output, not too short");
        rc = tc_spool_append(s, &m);
        if (rc == 0)
            stored = m.seq;
    }
    assert_int_equal(rc, TC_EFULL);
    assert_int_equal(m.seq, 0);
    assert_non_null(strstr(tc_spool_error(s), "is full (1 MiB)"));
    assert_true(stored > 1000);
    assert_int_equal(tc_spool_last_seq(s), stored);
    tc_spool_usage_t u;
    tc_spool_usage(s, &u);
    assert_int_equal(u.max, 1 << 20);
    assert_true(u.used <= u.events_limit);
    assert_true(u.events_limit < u.max);
    assert_true(u.used + 16 * 4096 > u.events_limit); /* it is full, not merely refused */

    /* Held records go into the headroom. */
    uint8_t rec[600];
    memset(rec, 7, sizeof rec);
    assert_int_equal(tc_spool_hold(s, "svc/a@web-01", rec, sizeof rec), 0);
    /* A batch does not fit either, and consumes no number. */
    tc_msg_t batch[4];
    for (int i = 0; i < 4; i++)
        s_event(&batch[i], "b", TC_STATE_OK, "x");
    assert_int_equal(tc_spool_append_batch(s, batch, 4), TC_EFULL);
    assert_int_equal(batch[0].seq, 0);
    assert_int_equal(tc_spool_last_seq(s), stored);
    /* Renumbering costs nothing on a full spool. */
    assert_int_equal(tc_spool_rebase(s, stored + 1000, NULL), 0);
    assert_int_equal(tc_spool_last_seq(s), stored + 1000 + stored);

    /* Deletes work: the oldest ten one by one, then the rest at once. */
    uint64_t base = stored + 1000;
    for (uint64_t q = 1; q <= 10; q++) {
        size_t deleted = 0;
        assert_int_equal(tc_spool_ack(s, base + q, &deleted), 0);
        assert_int_equal(deleted, 1);
    }
    size_t n = 0;
    assert_int_equal(tc_spool_ack(s, base + stored, &n), 0);
    assert_int_equal(n, stored - 10);
    assert_int_equal(s_count(s), 0);
    /* Room again, and the numbers go on without a gap. */
    s_event(&m, "a", TC_STATE_OK, "back");
    assert_int_equal(tc_spool_append(s, &m), 0);
    assert_int_equal(m.seq, base + stored + 1);
    tc_spool_destroy(&s);
}

/* A spool of 4 MiB opened with a 1 MiB limit (the limit was lowered): it is
 * full, but drains. */
static void test_spool_above_its_limit_drains(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 4 << 20);
    tc_msg_t *m = calloc(512, sizeof *m);
    uint64_t last = 0;
    for (int b = 0; b < 60; b++) {
        for (int i = 0; i < 512; i++)
            s_event(&m[i], "a", TC_STATE_OK, "some output that takes a little room");
        assert_int_equal(tc_spool_append_batch(s, m, 512), 0);
        last = m[511].seq;
    }
    tc_spool_destroy(&s);
    s = s_open(f->dir, "web-01", 1 << 20);
    s_event(&m[0], "a", TC_STATE_OK, "x");
    assert_int_equal(tc_spool_append(s, &m[0]), TC_EFULL);
    assert_int_equal(tc_spool_ack(s, last / 2, NULL), 0);
    assert_int_equal(tc_spool_ack(s, last, NULL), 0);
    assert_int_equal(s_count(s), 0);
    assert_int_equal(tc_spool_append(s, &m[0]), 0);
    assert_int_equal(m[0].seq, last + 1);
    free(m);
    tc_spool_destroy(&s);
}

static void test_batch(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    assert_int_equal(s_append(s, "a"), 1);
    tc_msg_t m[3];
    for (int i = 0; i < 3; i++)
        s_event(&m[i], i == 1 ? "y" : "x", TC_STATE_OK, "b");
    assert_int_equal(tc_spool_append_batch(s, m, 3), 0);
    assert_int_equal(m[0].seq, 2);
    assert_int_equal(m[2].seq, 4);
    tc_msg_t got;
    s_get_msg(s, 3, &got);
    assert_string_equal(got.u.check.check, "y");
    assert_int_equal(tc_spool_append_batch(s, m, 0), 0);
    assert_int_equal(tc_spool_last_seq(s), 4);
    tc_spool_destroy(&s);
}

typedef struct {
    char keys[8][64];
    size_t lens[8];
    size_t n;
} s_held_t;

static int s_held(const char *key, const uint8_t *data, size_t len, void *arg)
{
    s_held_t *h = arg;
    snprintf(h->keys[h->n], sizeof h->keys[0], "%s", key);
    h->lens[h->n++] = len;
    return 0;
}

/* Held records survive a reopen; releasing one appends its events and
 * deletes it in one step. */
static void test_held_records_and_release(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    uint8_t a[10] = {1}, b[20] = {2};
    assert_int_equal(tc_spool_hold(s, "svc/b@web-01", b, sizeof b), 0);
    assert_int_equal(tc_spool_hold(s, "svc/a@web-01", a, sizeof a), 0);
    assert_int_equal(tc_spool_hold(s, "svc/a@web-01", b, sizeof b), 0); /* replaces */
    assert_int_equal(tc_spool_hold(s, "", a, 1), TC_EINVAL);
    tc_spool_destroy(&s);

    s = s_open(f->dir, "web-01", 0);
    s_held_t h = {0};
    assert_int_equal(tc_spool_held_foreach(s, s_held, &h), 0);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.keys[0], "svc/a@web-01");
    assert_int_equal(h.lens[0], 20);
    assert_string_equal(h.keys[1], "svc/b@web-01");

    tc_msg_t m[2];
    s_event(&m[0], "a", TC_STATE_CRITICAL, "one");
    s_event(&m[1], "a", TC_STATE_OK, "two");
    assert_int_equal(tc_spool_release(s, "svc/a@web-01", m, 2), 0);
    assert_int_equal(m[0].seq, 1);
    assert_int_equal(m[1].seq, 2);
    assert_int_equal(tc_spool_release(s, "svc/b@web-01", NULL, 0), 0); /* only the delete */
    h = (s_held_t){0};
    assert_int_equal(tc_spool_held_foreach(s, s_held, &h), 0);
    assert_int_equal(h.n, 0);
    assert_int_equal(s_count(s), 2);
    tc_spool_destroy(&s);
}

/* What goes on the wire is the stored Envelope with its number appended:
 * it decodes to the right seq even after renumbering, and the rest is the
 * event as it was stored. */
static void test_frames(void **state)
{
    s_fixture_t *f = *state;
    tc_spool_t *s = s_open(f->dir, "web-01", 0);
    s_append(s, "a");
    assert_int_equal(tc_spool_rebase(s, 1000000, NULL), 0);
    uint8_t *frame;
    size_t len;
    assert_int_equal(tc_spool_get(s, 1000001, &frame, &len), 0);
    tc_msg_t m;
    assert_int_equal(tc_wire_decode_msg(frame, len, &m), 0);
    free(frame);
    assert_int_equal(m.seq, 1000001);
    assert_int_equal(m.time_ms, 1764000000000);
    assert_string_equal(m.u.check.check, "a");
    char why[128];
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), 0);
    assert_int_equal(tc_spool_get(s, 1, &frame, &len), TC_ENOTFOUND);
    tc_spool_destroy(&s);
}

static void test_bad_directory(void **state)
{
    char why[256] = "";
    tc_spool_t *s = NULL;
    assert_int_equal(tc_spool_open("/proc/no/such/dir", "web-01", 0, &s, why, sizeof why), TC_ESYS);
    assert_null(s);
    assert_non_null(strstr(why, "cannot create directory /proc/no/such/dir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_get_ack, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_survives_reopen_and_never_reuses_seq, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_survives_kill_9, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lock_and_owner, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_map_drops_new_keeps_old, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rebase, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_spool_keeps_its_headroom, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spool_above_its_limit_drains, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_batch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_held_records_and_release, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_frames, s_setup, s_teardown),
        cmocka_unit_test(test_bad_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
