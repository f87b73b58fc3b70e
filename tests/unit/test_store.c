/* The coordinator's LMDB store, on real files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "store.h"
#include "wire.h"

#include <lmdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **unused)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tocsin-store-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **unused)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_check_record(tc_record_t *r, const char *sender, uint64_t seq)
{
    memset(r, 0, sizeof *r);
    r->received_ms = 1700000000000 + (int64_t)seq;
    r->event.version = TC_PROTOCOL_VERSION;
    r->event.kind = TC_MSG_CHECK_RESULT;
    r->event.seq = seq;
    snprintf(r->event.sender, TC_ID_MAX, "%s", sender);
    snprintf(r->event.u.check.check, TC_ID_MAX, "chk");
    snprintf(r->event.u.check.service, TC_ID_MAX, "svc");
    snprintf(r->event.u.check.host, TC_ID_MAX, "%s", sender);
    r->event.u.check.state = TC_STATE_CRITICAL;
    r->event.u.check.attempt = r->event.u.check.max_attempts = 1;
}

typedef struct {
    uint64_t seqs[64];
    size_t n;
} seen_t;

static int s_collect(const tc_record_t *rec, void *ctx)
{
    seen_t *s = ctx;
    s->seqs[s->n++] = rec->seq;
    assert_int_equal(rec->event.seq, rec->seq); /* written that way below */
    return 0;
}

static void test_append_commit_reopen(void **unused)
{
    tc_store_t *st = NULL;
    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    assert_int_equal(tc_store_log_seq(st), 0);
    assert_int_equal(tc_store_begin(st), 0);
    for (uint64_t i = 1; i <= 10; i++) {
        tc_record_t r;
        s_check_record(&r, "web-01", i);
        assert_int_equal(tc_store_append_log(st, &r), 0);
        assert_int_equal(r.seq, i);
        assert_int_equal(tc_store_set_sender(st, "web-01", i, 1000 + (int64_t)i), 0);
    }
    uint64_t seq;
    int64_t when;
    assert_int_equal(tc_store_sender(st, "web-01", &seq, &when), 0);
    assert_int_equal(seq, 10);
    assert_int_equal(when, 1010);
    assert_int_equal(tc_store_sender(st, "nobody", &seq, &when), 0);
    assert_int_equal(seq, 0);
    assert_int_equal(when, 0);
    /* The transaction sees its own writes; committed counters do not move
     * until the commit. */
    assert_int_equal(tc_store_sender_seq(st, "web-01"), 10);
    assert_int_equal(tc_store_log_seq(st), 0);
    assert_int_equal(tc_store_commit(st), 0);
    assert_int_equal(tc_store_log_seq(st), 10);
    tc_store_destroy(&st);
    assert_null(st);

    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    assert_int_equal(tc_store_log_seq(st), 10);
    seen_t seen = {0};
    bool more = true;
    assert_int_equal(tc_store_scan_log(st, 4, 3, s_collect, &seen, &more), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.seqs[0], 4);
    assert_int_equal(seen.seqs[2], 6);
    assert_true(more);
    seen.n = 0;
    assert_int_equal(tc_store_scan_log(st, 8, 0, s_collect, &seen, &more), 0);
    assert_int_equal(seen.n, 3);
    assert_false(more);
    assert_int_equal(tc_store_begin(st), 0);
    assert_int_equal(tc_store_sender_seq(st, "web-01"), 10);
    assert_int_equal(tc_store_sender_seq(st, "nobody"), 0);
    tc_store_abort(st);
    tc_store_destroy(&st);
}

static void test_abort_discards(void **unused)
{
    tc_store_t *st = NULL;
    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    assert_int_equal(tc_store_begin(st), 0);
    assert_int_equal(tc_store_begin(st), TC_EINVAL); /* one at a time */
    tc_record_t r;
    s_check_record(&r, "web-01", 1);
    assert_int_equal(tc_store_append_log(st, &r), 0);
    tc_msg_t b = {.version = 1, .kind = TC_MSG_BROADCAST};
    b.u.bcast.kind = TC_BCAST_HOST_UP;
    assert_int_equal(tc_store_append_bcast(st, &b), 0);
    assert_int_equal(b.seq, 1);
    tc_store_abort(st);
    assert_int_equal(tc_store_log_seq(st), 0);
    assert_int_equal(tc_store_bcast_seq(st), 0);
    /* Writing outside a transaction is refused. */
    assert_int_equal(tc_store_append_log(st, &r), TC_EINVAL);
    tc_store_destroy(&st);
    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    assert_int_equal(tc_store_log_seq(st), 0);
    tc_store_destroy(&st);
}

static int s_count_msg(const tc_msg_t *m, void *ctx)
{
    (*(size_t *)ctx)++;
    assert_int_equal(m->kind, TC_MSG_BROADCAST);
    return 0;
}

static void test_broadcasts(void **unused)
{
    tc_store_t *st = NULL;
    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    assert_int_equal(tc_store_begin(st), 0);
    tc_incident_t inc = {.id = 7, .state = TC_INC_TRIGGERED, .nhosts = 1, .affected_hosts = 1};
    snprintf(inc.service, sizeof inc.service, "frontend");
    snprintf(inc.hosts[0], sizeof inc.hosts[0], "web-01");
    for (int i = 0; i < 5; i++) {
        tc_msg_t b = {.version = 1, .kind = TC_MSG_BROADCAST};
        b.u.bcast.kind = TC_BCAST_INCIDENT_UPDATED;
        b.u.bcast.incident = inc;
        assert_int_equal(tc_store_append_bcast(st, &b), 0);
    }
    assert_int_equal(tc_store_commit(st), 0);
    assert_int_equal(tc_store_bcast_seq(st), 5);

    size_t n = 0;
    bool more;
    assert_int_equal(tc_store_scan_bcast(st, 2, 0, s_count_msg, &n, &more), 0);
    assert_int_equal(n, 4);
    tc_store_destroy(&st);
}

static void test_second_open_is_refused(void **unused)
{
    tc_store_t *one = NULL, *two = NULL;
    assert_int_equal(tc_store_open(s_dir, 0, 0, &one, NULL, 0), 0);
    assert_int_equal(tc_store_open(s_dir, 0, 0, &two, NULL, 0), TC_ECONFIG);
    assert_null(two);
    tc_store_destroy(&one);
    assert_int_equal(tc_store_open(s_dir, 0, 0, &two, NULL, 0), 0);
    tc_store_destroy(&two);
}

static void test_map_full(void **unused)
{
    tc_store_t *st = NULL;
    /* A tiny map that may not grow: the store must report "full", not
     * crash or corrupt. */
    assert_int_equal(tc_store_open(s_dir, 256 * 1024, 256 * 1024, &st, NULL, 0), 0);
    int rc = 0;
    assert_int_equal(tc_store_begin(st), 0);
    for (uint64_t i = 1; i < 100000 && rc == 0; i++) {
        tc_record_t r;
        s_check_record(&r, "web-01", i);
        memset(r.event.u.check.output, 'x', TC_TEXT_MAX - 1);
        rc = tc_store_append_log(st, &r);
    }
    assert_int_equal(rc, TC_EFULL);
    tc_store_abort(st);
    assert_int_equal(tc_store_log_seq(st), 0);
    assert_int_equal(tc_store_reserve(st, 1 << 20), TC_EFULL);
    tc_store_destroy(&st);
}

/* A map that may grow: reserving ahead makes room, and the batch that did
 * not fit before fits now. */
static void test_map_grows(void **unused)
{
    tc_store_t *st = NULL;
    assert_int_equal(tc_store_open(s_dir, 256 * 1024, 64 << 20, &st, NULL, 0), 0);
    size_t used, map, max;
    tc_store_usage(st, &used, &map, &max);
    assert_int_equal(max, 64 << 20);
    assert_int_equal(tc_store_reserve(st, 4 << 20), 0);
    tc_store_usage(st, &used, &map, &max);
    assert_true(map >= (4u << 20));
    assert_int_equal(tc_store_begin(st), 0);
    for (uint64_t i = 1; i <= 3000; i++) {
        tc_record_t r;
        s_check_record(&r, "web-01", i);
        memset(r.event.u.check.output, 'x', TC_TEXT_MAX - 1);
        assert_int_equal(tc_store_append_log(st, &r), 0);
    }
    assert_int_equal(tc_store_commit(st), 0);
    assert_int_equal(tc_store_log_seq(st), 3000);
    assert_int_equal(tc_store_probe(st), 0);
    tc_store_destroy(&st);
}

static int s_count_audit(const tc_audit_t *a, void *ctx)
{
    (*(size_t *)ctx)++;
    return 0;
}

/* Audit retention: the oldest go, the log stays. */
static void test_prune_audit(void **unused)
{
    tc_store_t *st = NULL;
    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    assert_int_equal(tc_store_begin(st), 0);
    for (int i = 0; i < 10; i++) {
        tc_audit_t a = {.time_ms = 1000 + i, .allowed = true};
        snprintf(a.action, sizeof a.action, "status");
        assert_int_equal(tc_store_append_audit(st, &a), 0);
        tc_record_t r;
        s_check_record(&r, "web-01", (uint64_t)i + 1);
        assert_int_equal(tc_store_append_log(st, &r), 0);
    }
    assert_int_equal(tc_store_commit(st), 0);
    size_t n = 0, left = 0;
    assert_int_equal(tc_store_prune_audit(st, 1004, 3, &n), 0);
    assert_int_equal(n, 3); /* at most max */
    assert_int_equal(tc_store_prune_audit(st, 1004, 100, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(tc_store_prune_audit(st, 1004, 100, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(tc_store_scan_audit(st, 0, 0, s_count_audit, &left, NULL), 0);
    assert_int_equal(left, 6);
    assert_int_equal(tc_store_prune_audit(st, 99999, 100, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(tc_store_log_seq(st), 10);
    tc_store_destroy(&st);
}

/* ---- timelines ---- */

typedef struct {
    size_t n;
    uint64_t incident[64], seq[64];
    char text[64][32];
} tl_seen_t;

static int s_collect_tl(const tc_timeline_t *t, void *ctx)
{
    tl_seen_t *s = ctx;
    if (s->n < 64) {
        s->incident[s->n] = t->incident;
        s->seq[s->n] = t->log_seq;
        snprintf(s->text[s->n], sizeof s->text[0], "%.31s", t->text);
        s->n++;
    }
    return 0;
}

static void s_tl(tc_timeline_t *t, uint64_t incident, uint64_t seq, const char *text)
{
    memset(t, 0, sizeof *t);
    t->incident = incident;
    t->log_seq = seq;
    t->time_ms = 1700000000000 + (int64_t)seq;
    snprintf(t->actor, sizeof t->actor, "alice");
    snprintf(t->kind, sizeof t->kind, "note");
    snprintf(t->text, sizeof t->text, "%s", text);
}

static void s_expect(tc_store_t *st, uint64_t incident, const char *const *texts, size_t n)
{
    tl_seen_t seen = {0};
    assert_int_equal(tc_store_scan_timeline(st, incident, s_collect_tl, &seen), 0);
    assert_int_equal(seen.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(seen.incident[i], incident);
        assert_string_equal(seen.text[i], texts[i]);
        if (i)
            assert_true(seen.seq[i] >= seen.seq[i - 1]);
    }
}

/* Interleaved incidents each read back in log order, several rows of one
 * record too; across a reopen, and a batch written again after an abort. */
static void test_timelines(void **unused)
{
    tc_store_t *st = NULL;
    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    tc_timeline_t t;
    assert_int_equal(tc_store_begin(st), 0);
    for (uint64_t seq = 1; seq <= 6; seq++) {
        char text[32];
        snprintf(text, sizeof text, "r%llu", (unsigned long long)seq);
        s_tl(&t, seq % 2 ? 1 : 2, seq, text);
        assert_int_equal(tc_store_put_timeline(st, &t, 0), 0);
    }
    s_tl(&t, 1, 6, "r6b"); /* a second row of record 6, for incident 1 */
    assert_int_equal(tc_store_put_timeline(st, &t, 1), 0);
    assert_int_equal(tc_store_commit(st), 0);
    static const char *const one[] = {"r1", "r3", "r5", "r6b"}, *const two[] = {"r2", "r4", "r6"};
    s_expect(st, 1, one, 4);
    s_expect(st, 2, two, 3);
    s_expect(st, 3, NULL, 0);

    /* A batch that fails is retried with the same keys: stored once. */
    assert_int_equal(tc_store_begin(st), 0);
    s_tl(&t, 2, 7, "r7");
    assert_int_equal(tc_store_put_timeline(st, &t, 0), 0);
    tc_store_abort(st);
    assert_int_equal(tc_store_begin(st), 0);
    assert_int_equal(tc_store_put_timeline(st, &t, 0), 0);
    assert_int_equal(tc_store_commit(st), 0);
    tc_store_destroy(&st);

    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    static const char *const two7[] = {"r2", "r4", "r6", "r7"};
    s_expect(st, 2, two7, 4);
    assert_int_equal(tc_store_begin(st), 0);
    s_tl(&t, 1, 8, "r8");
    assert_int_equal(tc_store_put_timeline(st, &t, 0), 0);
    assert_int_equal(tc_store_commit(st), 0);
    static const char *const one8[] = {"r1", "r3", "r5", "r6b", "r8"};
    s_expect(st, 1, one8, 5);
    /* Even a committed row written again stays one row. */
    assert_int_equal(tc_store_begin(st), 0);
    assert_int_equal(tc_store_put_timeline(st, &t, 0), 0);
    assert_int_equal(tc_store_commit(st), 0);
    s_expect(st, 1, one8, 5);
    tc_store_destroy(&st);
}

/* A store of the first format (timeline rows keyed by incident), made
 * here with LMDB directly as that build left it: read as it is, read-only
 * too, and upgraded in place on a normal open, its old rows first. */
static void test_timeline_upgrade(void **unused)
{
    tc_store_t *st = NULL;
    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    tc_store_destroy(&st);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, old, dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_open(env, s_dir, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    /* Back to format 1: no timelog, its mark, and two rows of incident 5. */
    assert_int_equal(mdb_dbi_open(txn, "timelog", 0, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    assert_int_equal(mdb_dbi_open(txn, "timeline_idx", MDB_DUPSORT | MDB_DUPFIXED, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    unsigned char one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    MDB_val fk = {6, "format"}, fv = {8, one};
    assert_int_equal(mdb_put(txn, meta, &fk, &fv, 0), 0);
    assert_int_equal(mdb_dbi_open(txn, "timeline", 0, &old), 0);
    for (unsigned seq = 1; seq <= 2; seq++) {
        unsigned char kb[17] = {0};
        kb[7] = 5;
        kb[15] = (unsigned char)seq;
        tc_timeline_t t;
        s_tl(&t, 0, 0, seq == 1 ? "old1" : "old2");
        uint8_t *buf;
        size_t len;
        assert_int_equal(tc_wire_encode_timeline(&t, &buf, &len), 0);
        MDB_val k = {sizeof kb, kb}, v = {len, buf};
        assert_int_equal(mdb_put(txn, old, &k, &v, 0), 0);
        free(buf);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    static const char *const before[] = {"old1", "old2"};
    assert_int_equal(tc_store_open_readonly(s_dir, &st, NULL, 0), 0);
    s_expect(st, 5, before, 2);
    tc_store_destroy(&st);

    assert_int_equal(tc_store_open(s_dir, 0, 0, &st, NULL, 0), 0);
    s_expect(st, 5, before, 2);
    assert_int_equal(tc_store_begin(st), 0);
    tc_timeline_t t;
    s_tl(&t, 5, 3, "new3");
    assert_int_equal(tc_store_put_timeline(st, &t, 0), 0);
    assert_int_equal(tc_store_commit(st), 0);
    static const char *const after[] = {"old1", "old2", "new3"};
    s_expect(st, 5, after, 3);
    tc_store_destroy(&st);
    /* The mark says 2 now: a build that knows only 1 refuses the store. */
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_open(env, s_dir, MDB_NOTLS | MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_get(txn, meta, &fk, &fv), 0);
    assert_int_equal(fv.mv_size, 8);
    assert_int_equal(((unsigned char *)fv.mv_data)[7], 2);
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_commit_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_abort_discards, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_broadcasts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_second_open_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_map_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_map_grows, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prune_audit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timelines, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timeline_upgrade, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
