/* common/lmdb_env: the lock, map growth up to a maximum, errors that name
 * their cause, and a real full disk (a 1 MiB tmpfs, when this process may
 * mount one). Real LMDB files in temporary directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "lmdb_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    bool mounted;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tc-lmdb-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    if (f->mounted)
        umount2(f->dir, MNT_DETACH); /* lazily: a failed test may still map it */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static tc_lmdb_t *s_open(const char *dir, size_t map, size_t max)
{
    tc_lmdb_config_t cfg = {.dir = dir,
                            .what = "test store",
                            .lock_file = "test.lock",
                            .map_size = map,
                            .map_max = max,
                            .max_dbs = 2};
    tc_lmdb_t *l = NULL;
    char why[512];
    int rc = tc_lmdb_open(&cfg, &l, why, sizeof why);
    if (rc)
        fprintf(stderr, "open: %s\n", why);
    assert_int_equal(rc, 0);
    return l;
}

typedef struct {
    unsigned key;
    size_t len;
    unsigned n;
} s_put_t;

/* Writes `n` values of `len` bytes under keys key, key+1, ... */
static int s_put(MDB_txn *txn, void *arg)
{
    s_put_t *p = arg;
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, NULL, 0, &dbi);
    if (rc)
        return rc;
    char *buf = calloc(1, p->len);
    if (!buf)
        return ENOMEM;
    for (unsigned i = 0; rc == 0 && i < p->n; i++) {
        unsigned k = p->key + i;
        MDB_val key = {sizeof k, &k}, val = {p->len, buf};
        memset(buf, (int)(k & 0xff), p->len);
        rc = mdb_put(txn, dbi, &key, &val, 0);
    }
    free(buf);
    return rc;
}

static void test_lock_is_exclusive(void **state)
{
    s_fixture_t *f = *state;
    tc_lmdb_t *a = s_open(f->dir, 0, 0);
    tc_lmdb_config_t cfg = {.dir = f->dir, .what = "test store", .lock_file = "test.lock"};
    tc_lmdb_t *b = NULL;
    char why[512];
    assert_int_equal(tc_lmdb_open(&cfg, &b, why, sizeof why), TC_ECONFIG);
    assert_null(b);
    assert_non_null(strstr(why, "in use by another process"));
    tc_lmdb_destroy(&a);
    assert_null(a);
    assert_int_equal(tc_lmdb_open(&cfg, &b, why, sizeof why), 0);
    tc_lmdb_destroy(&b);
}

/* A 1 MiB map takes 8 MiB of data by growing, and stops at its maximum
 * with a message that names the size. */
static void test_grows_up_to_the_maximum(void **state)
{
    s_fixture_t *f = *state;
    tc_lmdb_t *l = s_open(f->dir, 1 << 20, 16 << 20);
    char why[512];
    for (unsigned i = 0; i < 8; i++) {
        s_put_t p = {.key = i * 256, .len = 4000, .n = 256};
        assert_int_equal(tc_lmdb_write(l, s_put, &p, why, sizeof why), 0);
    }
    size_t used, map, max;
    tc_lmdb_usage(l, &used, &map, &max);
    assert_true(map > (8u << 20));
    assert_true(used <= map);
    assert_int_equal(max, 16 << 20);
    /* 16 MiB is the limit: 32 MiB more cannot fit. */
    s_put_t big = {.key = 1 << 20, .len = 4000, .n = 8192};
    assert_int_equal(tc_lmdb_write(l, s_put, &big, why, sizeof why), TC_EFULL);
    assert_non_null(strstr(why, "16 MiB, the configured maximum"));
    /* What was committed before is all there after a reopen. */
    assert_int_equal(tc_lmdb_reopen(l, why, sizeof why), 0);
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;
    assert_int_equal(mdb_txn_begin(tc_lmdb_env(l), NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &st), 0);
    assert_int_equal(st.ms_entries, 8 * 256);
    mdb_txn_abort(txn);
    tc_lmdb_destroy(&l);
}

static void test_reserve(void **state)
{
    s_fixture_t *f = *state;
    tc_lmdb_t *l = s_open(f->dir, 1 << 20, 4 << 20);
    size_t map;
    assert_int_equal(tc_lmdb_reserve(l, 2 << 20), 0);
    tc_lmdb_usage(l, NULL, &map, NULL);
    assert_true(map >= (2u << 20));
    assert_int_equal(tc_lmdb_reserve(l, 8 << 20), 0);        /* grows to the cap... */
    assert_int_equal(tc_lmdb_reserve(l, 8 << 20), TC_EFULL); /* ...and no further */
    tc_lmdb_usage(l, NULL, &map, NULL);
    assert_int_equal(map, 4 << 20);
    tc_lmdb_destroy(&l);
}

static void test_error_names_the_cause(void **state)
{
    s_fixture_t *f = *state;
    tc_lmdb_t *l = s_open(f->dir, 0, 0);
    char why[512];
    assert_int_equal(tc_lmdb_error(l, ENOSPC, "storing a batch", why, sizeof why), TC_EDISKFULL);
    assert_non_null(strstr(why, "storing a batch: disk full at /tmp/tc-lmdb-"));
    assert_int_equal(tc_lmdb_error(l, MDB_CORRUPTED, "reading", why, sizeof why), TC_EIO);
    assert_non_null(strstr(why, "reading: MDB_CORRUPTED"));
    assert_int_equal(tc_lmdb_error(l, TC_ENOMEM, "x", why, sizeof why), TC_ENOMEM);
    assert_int_equal(tc_lmdb_error(l, MDB_NOTFOUND, "x", why, sizeof why), TC_ENOTFOUND);
    assert_int_equal(tc_lmdb_error(l, 0, "x", why, sizeof why), 0);
    tc_lmdb_destroy(&l);
}

/* A real full file system: the write fails with "disk full at DIR", the
 * environment keeps what was committed, and once space returns (here: a
 * larger remount) writing works again without reopening by hand. */
static void test_disk_full(void **state)
{
    s_fixture_t *f = *state;
    if (mount("tmpfs", f->dir, "tmpfs", 0, "size=1m") != 0) {
        fprintf(stderr, "cannot mount a tmpfs (%s); skipping\n", strerror(errno));
        skip();
    }
    f->mounted = true;
    tc_lmdb_t *l = s_open(f->dir, 64 << 20, 0);
    char why[512];
    s_put_t small = {.key = 0, .len = 1000, .n = 100};
    assert_int_equal(tc_lmdb_write(l, s_put, &small, why, sizeof why), 0);
    s_put_t big = {.key = 1000, .len = 4000, .n = 1000};
    int rc = tc_lmdb_write(l, s_put, &big, why, sizeof why);
    if (rc != TC_EDISKFULL)
        fprintf(stderr, "write on a full disk: %s\n", why);
    assert_int_equal(rc, TC_EDISKFULL);
    assert_non_null(strstr(why, "disk full at /tmp/tc-lmdb-"));
    /* LMDB may need the environment reopened after a failed commit. */
    tc_lmdb_reopen(l, why, sizeof why);
    assert_int_equal(mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT, "size=16m"), 0);
    assert_int_equal(tc_lmdb_write(l, s_put, &big, why, sizeof why), 0);
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;
    assert_int_equal(mdb_txn_begin(tc_lmdb_env(l), NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &st), 0);
    assert_int_equal(st.ms_entries, 1100);
    mdb_txn_abort(txn);
    tc_lmdb_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_is_exclusive, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_grows_up_to_the_maximum, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reserve, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_names_the_cause, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
