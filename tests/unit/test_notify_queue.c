/* tocsin-notify's LMDB state: the cursor moves with the deliveries it
 * produces, per-subscription order, retries and results survive reopen,
 * a re-processed broadcast adds nothing, done keys are pruned, the lock,
 * failing reports, saved component names, and a real full disk that
 * changes nothing queued. Real LMDB files in temporary directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "queue.h"

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
    snprintf(f->dir, sizeof f->dir, "/tmp/tc-notify-q-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    if (f->mounted)
        umount2(f->dir, MNT_DETACH);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static tc_notify_queue_t *s_open(const char *dir)
{
    char why[256] = "";
    tc_notify_queue_t *q = NULL;
    int rc = tc_notify_queue_open(dir, 1 << 24, &q, why, sizeof why);
    if (rc != 0)
        fail_msg("tc_notify_queue_open: %s (%s)", tc_strerror(rc), why);
    return q;
}

static tc_delivery_t s_delivery(const char *sub, uint64_t incident, uint32_t number)
{
    tc_delivery_t d;
    memset(&d, 0, sizeof d);
    snprintf(d.sub, sizeof d.sub, "%s", sub);
    d.update.incident = incident;
    d.update.number = number;
    d.update.external = true;
    snprintf(d.update.title, sizeof d.update.title, "title %u", number);
    snprintf(d.update.body, sizeof d.update.body, "body of %u", number);
    d.update.published_ms = 1764000000000;
    tc_notify_key(&d.update, sub, d.key, sizeof d.key);
    d.first_ms = 1764000000000;
    d.next_try_ms = 1764000000000;
    return d;
}

static void test_cursor_and_order(void **state)
{
    s_fixture_t *f = *state;
    tc_notify_queue_t *q = s_open(f->dir);
    assert_int_equal(tc_notify_queue_cursor(q), 0);
    tc_delivery_t ds[3] = {s_delivery("a", 1, 1), s_delivery("b", 1, 1), s_delivery("a", 1, 2)};
    size_t added = 0;
    assert_int_equal(tc_notify_queue_enqueue(q, 5, ds, 3, &added), 0);
    assert_int_equal(added, 3);
    assert_int_equal(tc_notify_queue_cursor(q), 5);
    /* Re-processing the same broadcast adds nothing and never moves the
     * cursor back. */
    tc_delivery_t again[1] = {s_delivery("a", 1, 1)};
    assert_int_equal(tc_notify_queue_enqueue(q, 4, again, 1, &added), 0);
    assert_int_equal(added, 0);
    assert_int_equal(tc_notify_queue_cursor(q), 5);
    /* A cursor-only write. */
    assert_int_equal(tc_notify_queue_enqueue(q, 9, NULL, 0, NULL), 0);
    tc_notify_queue_destroy(&q);
    assert_null(q);

    q = s_open(f->dir);
    assert_int_equal(tc_notify_queue_cursor(q), 9);
    size_t pending, reports;
    assert_int_equal(tc_notify_queue_counts(q, &pending, &reports), 0);
    assert_int_equal(pending, 3);
    assert_int_equal(reports, 0);
    char names[8][TC_NOTIFY_CHANNEL_MAX];
    size_t n = 0;
    assert_int_equal(tc_notify_queue_subs(q, names, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "a");
    assert_string_equal(names[1], "b");

    tc_delivery_t h;
    assert_int_equal(tc_notify_queue_head(q, "a", &h), 0);
    assert_string_equal(h.key, "tocsin-i1-u1-a");
    assert_string_equal(h.update.body, "body of 1");
    assert_int_equal(h.update.published_ms, 1764000000000);
    assert_int_equal(tc_notify_queue_head(q, "zzz", &h), TC_ENOTFOUND);
    /* A prefix of another name is another subscription. */
    assert_int_equal(tc_notify_queue_head(q, "", &h), TC_ENOTFOUND);

    /* A retry is durable. */
    assert_int_equal(tc_notify_queue_head(q, "a", &h), 0);
    h.attempts = 2;
    h.next_try_ms = 1764000009999;
    snprintf(h.last_error, sizeof h.last_error, "HTTP 503");
    assert_int_equal(tc_notify_queue_retry(q, &h), 0);
    tc_notify_queue_destroy(&q);
    q = s_open(f->dir);
    assert_int_equal(tc_notify_queue_head(q, "a", &h), 0);
    assert_int_equal(h.attempts, 2);
    assert_int_equal(h.next_try_ms, 1764000009999);
    assert_string_equal(h.last_error, "HTTP 503");

    /* Finishing the head exposes the next, in enqueue order, and queues
     * the result; the key is done and cannot be enqueued again. */
    tc_delivery_report_t r = {.incident = 1,
                              .number = 1,
                              .result = TC_DELIVERY_DELIVERED,
                              .attempts = 3,
                              .latency_ms = 1234};
    snprintf(r.sub, sizeof r.sub, "a");
    snprintf(r.detail, sizeof r.detail, "HTTP 200");
    assert_int_equal(tc_notify_queue_finish(q, &h, &r, 1764000010000), 0);
    assert_true(r.rseq > 0);
    assert_true(tc_notify_queue_is_done(q, "tocsin-i1-u1-a"));
    assert_int_equal(tc_notify_queue_head(q, "a", &h), 0);
    assert_string_equal(h.key, "tocsin-i1-u2-a");
    tc_delivery_t replay[1] = {s_delivery("a", 1, 1)};
    assert_int_equal(tc_notify_queue_enqueue(q, 10, replay, 1, &added), 0);
    assert_int_equal(added, 0);
    tc_notify_queue_destroy(&q);

    q = s_open(f->dir);
    tc_delivery_report_t got;
    assert_int_equal(tc_notify_queue_report_first(q, &got), 0);
    assert_int_equal(got.incident, 1);
    assert_int_equal(got.number, 1);
    assert_string_equal(got.sub, "a");
    assert_int_equal(got.result, TC_DELIVERY_DELIVERED);
    assert_int_equal(got.attempts, 3);
    assert_int_equal(got.latency_ms, 1234);
    assert_string_equal(got.detail, "HTTP 200");
    assert_int_equal(tc_notify_queue_report_drop(q, got.rseq), 0);
    assert_int_equal(tc_notify_queue_report_first(q, &got), TC_ENOTFOUND);
    assert_int_equal(tc_notify_queue_report_drop(q, got.rseq), 0);

    /* Done keys are pruned by age. */
    size_t pruned = 0;
    assert_int_equal(tc_notify_queue_prune(q, 1764000010000, &pruned), 0);
    assert_int_equal(pruned, 0);
    assert_int_equal(tc_notify_queue_prune(q, 1764000010001, &pruned), 0);
    assert_int_equal(pruned, 1);
    assert_false(tc_notify_queue_is_done(q, "tocsin-i1-u1-a"));
    tc_notify_queue_destroy(&q);
}

static void test_many_in_order(void **state)
{
    s_fixture_t *f = *state;
    tc_notify_queue_t *q = s_open(f->dir);
    /* Enough entries that the numeric order must come from the big-endian
     * keys, not from luck. */
    for (uint32_t i = 1; i <= 300; i++) {
        tc_delivery_t d[2] = {s_delivery("hook", 3, i), s_delivery("hook2", 3, i)};
        assert_int_equal(tc_notify_queue_enqueue(q, i, d, 2, NULL), 0);
    }
    for (uint32_t i = 1; i <= 300; i++) {
        tc_delivery_t h;
        assert_int_equal(tc_notify_queue_head(q, "hook", &h), 0);
        assert_int_equal(h.update.number, i);
        assert_int_equal(tc_notify_queue_finish(q, &h, NULL, 1), 0);
    }
    tc_delivery_t h;
    assert_int_equal(tc_notify_queue_head(q, "hook", &h), TC_ENOTFOUND);
    assert_int_equal(tc_notify_queue_head(q, "hook2", &h), 0);
    assert_int_equal(h.update.number, 1);
    size_t pending = 0, reports = 9;
    assert_int_equal(tc_notify_queue_counts(q, &pending, &reports), 0);
    assert_int_equal(pending, 300);
    assert_int_equal(reports, 0);
    tc_notify_queue_destroy(&q);
}

static void test_lock(void **state)
{
    s_fixture_t *f = *state;
    tc_notify_queue_t *q = s_open(f->dir);
    tc_notify_queue_t *q2 = NULL;
    char why[256] = "";
    assert_int_equal(tc_notify_queue_open(f->dir, 1 << 24, &q2, why, sizeof why), TC_ECONFIG);
    assert_null(q2);
    assert_non_null(strstr(why, "in use by another process"));
    tc_notify_queue_destroy(&q);
    q2 = s_open(f->dir);
    tc_notify_queue_destroy(&q2);
    tc_notify_queue_destroy(&q2); /* NULL-safe */
}

static void test_failing_report_and_components(void **state)
{
    s_fixture_t *f = *state;
    tc_notify_queue_t *q = s_open(f->dir);
    tc_delivery_t d = s_delivery("hook", 7, 1);
    assert_int_equal(tc_notify_queue_enqueue(q, 1, &d, 1, NULL), 0);
    /* Failing: a report while the delivery stays queued. */
    tc_delivery_report_t r = {.incident = 7,
                              .number = 1,
                              .result = TC_DELIVERY_FAILING,
                              .latency_ms = 600000,
                              .attempts = 9};
    snprintf(r.sub, sizeof r.sub, "hook");
    snprintf(r.detail, sizeof r.detail, "Operation timed out after 3000 milliseconds");
    assert_int_equal(tc_notify_queue_report(q, &r), 0);
    assert_true(r.rseq > 0);
    tc_delivery_t head;
    assert_int_equal(tc_notify_queue_head(q, "hook", &head), 0);
    assert_string_equal(head.key, d.key);
    tc_component_t cs[] = {{.name = "web", .description = "Website"},
                           {.name = "api", .description = "Public API"}};
    assert_int_equal(tc_notify_queue_save_components(q, cs, 2), 0);
    tc_notify_queue_destroy(&q);

    q = s_open(f->dir);
    tc_delivery_report_t got;
    assert_int_equal(tc_notify_queue_report_first(q, &got), 0);
    assert_int_equal(got.result, TC_DELIVERY_FAILING);
    assert_int_equal(got.latency_ms, 600000);
    assert_string_equal(got.detail, "Operation timed out after 3000 milliseconds");
    assert_string_equal(tc_delivery_result_name(got.result), "failing");
    tc_component_t *loaded = NULL;
    size_t n = 0;
    assert_int_equal(tc_notify_queue_components(q, &loaded, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(loaded[0].name, "web");
    assert_string_equal(loaded[1].description, "Public API");
    free(loaded);
    /* Replaced, not added to. */
    assert_int_equal(tc_notify_queue_save_components(q, cs + 1, 1), 0);
    assert_int_equal(tc_notify_queue_components(q, &loaded, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(loaded[0].name, "api");
    free(loaded);
    tc_notify_queue_destroy(&q);
}

/* A real full disk (a small tmpfs, when this process may mount one): an
 * enqueue fails naming the disk and changes nothing; what was queued is
 * still there; once there is room again it works without reopening. */
static void test_disk_full(void **state)
{
    s_fixture_t *f = *state;
    if (mount("tmpfs", f->dir, "tmpfs", 0, "size=256k") != 0) {
        fprintf(stderr, "cannot mount a tmpfs (%s); skipping\n", strerror(errno));
        skip();
    }
    f->mounted = true;
    char why[256] = "";
    tc_notify_queue_t *q = NULL;
    assert_int_equal(tc_notify_queue_open(f->dir, 0, &q, why, sizeof why), 0);
    tc_delivery_t first = s_delivery("hook", 1, 1);
    assert_int_equal(tc_notify_queue_enqueue(q, 1, &first, 1, NULL), 0);
    int rc = 0;
    uint64_t seq = 2;
    for (; seq < 5000 && rc == 0; seq++) {
        tc_delivery_t d = s_delivery("hook", 2, (uint32_t)seq);
        memset(d.update.body, 'x', sizeof d.update.body - 1);
        rc = tc_notify_queue_enqueue(q, seq, &d, 1, NULL);
    }
    assert_int_equal(rc, TC_EDISKFULL);
    assert_non_null(strstr(tc_notify_queue_why(q), "disk full at /tmp/tc-notify-q-"));
    uint64_t failed = seq - 1;
    assert_int_equal(tc_notify_queue_cursor(q), failed - 1);
    tc_delivery_t head;
    assert_int_equal(tc_notify_queue_head(q, "hook", &head), 0);
    assert_int_equal(head.update.incident, 1);
    assert_int_equal(mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT, "size=64m"), 0);
    tc_delivery_t d = s_delivery("hook", 2, (uint32_t)failed);
    assert_int_equal(tc_notify_queue_enqueue(q, failed, &d, 1, NULL), 0);
    assert_int_equal(tc_notify_queue_cursor(q), failed);
    tc_notify_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failing_report_and_components, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cursor_and_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_many_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lock, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
