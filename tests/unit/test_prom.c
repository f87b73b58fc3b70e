/* common/prom: the Prometheus text format: HELP/TYPE lines, label
 * escaping, integral and fractional values, special values, histograms
 * with cumulative buckets. The integration tests run Debian's promtool on
 * every daemon's output; this pins the exact text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prom.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void test_counter_and_labels(void **unused)
{
    (void)unused;
    tc_prom_t *p = tc_prom_new();
    assert_non_null(p);
    tc_prom_counter(p, "tocsin_events_total", "Events\\stored\nsince start", 42);
    tc_prom_family(p, "tocsin_deliveries_total", "counter", "Deliveries");
    tc_prom_label_t l[] = {{"channel", "a\"b\\c\nd"}, {"result", "delivered"}};
    tc_prom_sample(p, "tocsin_deliveries_total", l, 2, 3);
    size_t len;
    const char *t = tc_prom_text(p, &len);
    assert_int_equal(len, strlen(t));
    assert_string_equal(t, "# HELP tocsin_events_total Events\\\\stored\\nsince start\n"
                           "# TYPE tocsin_events_total counter\n"
                           "tocsin_events_total 42\n"
                           "# HELP tocsin_deliveries_total Deliveries\n"
                           "# TYPE tocsin_deliveries_total counter\n"
                           "tocsin_deliveries_total{channel=\"a\\\"b\\\\c\\nd\",result="
                           "\"delivered\"} 3\n");
    assert_int_equal(tc_prom_error(p), 0);
    tc_prom_reset(p);
    assert_string_equal(tc_prom_text(p, NULL), "");
    tc_prom_destroy(&p);
    assert_null(p);
    tc_prom_destroy(&p);
}

static void test_values(void **unused)
{
    (void)unused;
    tc_prom_t *p = tc_prom_new();
    tc_prom_sample(p, "a", NULL, 0, 0.25);
    tc_prom_sample(p, "b", NULL, 0, NAN);
    tc_prom_sample(p, "c", NULL, 0, INFINITY);
    tc_prom_sample(p, "d", NULL, 0, -INFINITY);
    tc_prom_sample(p, "e", NULL, 0, 1e20);
    tc_prom_sample(p, "f", NULL, 0, 18446744073709551615.0);
    tc_prom_sample(p, "g", NULL, 0, -3);
    assert_string_equal(tc_prom_text(p, NULL), "a 0.25\nb NaN\nc +Inf\nd -Inf\ne 1e+20\n"
                                               "f 1.8446744073709552e+19\ng -3\n");
    tc_prom_destroy(&p);
}

static void test_histogram(void **unused)
{
    (void)unused;
    static const double bounds[] = {0.25, 1, 2};
    tc_histogram_t h;
    tc_histogram_init(&h, bounds, 3);
    tc_histogram_observe(&h, 0.125);
    tc_histogram_observe(&h, 0.25); /* on the bound: le is inclusive */
    tc_histogram_observe(&h, 0.5);
    tc_histogram_observe(&h, 3);
    tc_prom_t *p = tc_prom_new();
    tc_prom_histogram(p, "tocsin_commit_seconds", "Commit latency", &h);
    assert_string_equal(tc_prom_text(p, NULL), "# HELP tocsin_commit_seconds Commit latency\n"
                                               "# TYPE tocsin_commit_seconds histogram\n"
                                               "tocsin_commit_seconds_bucket{le=\"0.25\"} 2\n"
                                               "tocsin_commit_seconds_bucket{le=\"1\"} 3\n"
                                               "tocsin_commit_seconds_bucket{le=\"2\"} 3\n"
                                               "tocsin_commit_seconds_bucket{le=\"+Inf\"} 4\n"
                                               "tocsin_commit_seconds_sum 3.875\n"
                                               "tocsin_commit_seconds_count 4\n");
    tc_prom_destroy(&p);
    /* More bounds than fit are dropped, not written past the array. */
    double many[TC_HISTOGRAM_BUCKETS_MAX + 4];
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        many[i] = (double)i;
    tc_histogram_init(&h, many, sizeof many / sizeof many[0]);
    assert_int_equal(h.nbounds, TC_HISTOGRAM_BUCKETS_MAX);
    tc_histogram_observe(&h, 1000);
    assert_int_equal(h.counts[TC_HISTOGRAM_BUCKETS_MAX], 1);
}

static void test_large(void **unused)
{
    (void)unused;
    tc_prom_t *p = tc_prom_new();
    char v[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(v, sizeof v, "person-%d", i);
        tc_prom_label_t l = {"person", v};
        tc_prom_sample(p, "tocsin_pages_total", &l, 1, i);
    }
    size_t len;
    const char *t = tc_prom_text(p, &len);
    assert_true(len > 5000 * 20);
    assert_non_null(strstr(t, "tocsin_pages_total{person=\"person-4999\"} 4999\n"));
    assert_int_equal(tc_prom_error(p), 0);
    tc_prom_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_and_labels),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
