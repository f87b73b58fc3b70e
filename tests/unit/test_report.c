/* Response metrics: exact values from hand-made incidents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN 60000LL

static tc_incident_t s_inc(uint64_t id, int64_t ack, int64_t decl, int64_t res, uint32_t sev)
{
    tc_incident_t inc;
    memset(&inc, 0, sizeof inc);
    inc.id = id;
    snprintf(inc.service, sizeof inc.service, "svc%llu", (unsigned long long)id);
    inc.opened_ms = 1000 * MIN;
    inc.acknowledged_ms = ack ? 1000 * MIN + ack : 0;
    inc.declared_ms = decl ? 1000 * MIN + decl : 0;
    inc.declared = decl != 0;
    inc.resolved_ms = res ? 1000 * MIN + res : 0;
    inc.state = res ? TC_INC_RESOLVED : TC_INC_INVESTIGATING;
    inc.severity = sev;
    return inc;
}

static void test_metrics(void **state)
{
    (void)state;
    tc_incident_t incs[] = {
        s_inc(1, 2 * MIN, 15 * MIN, 60 * MIN, 2),  s_inc(2, 4 * MIN, 0, 30 * MIN, 0),
        s_inc(3, 6 * MIN, 20 * MIN, 0, 1),         s_inc(4, 0, 0, 0, 0),
        s_inc(5, 10 * MIN, 16 * MIN, 90 * MIN, 3),
    };
    tc_report_t r;
    assert_int_equal(tc_report_compute(incs, 5, &r), 0);
    assert_int_equal(r.incidents, 5);
    assert_int_equal(r.resolved, 3);
    assert_int_equal(r.declared, 3);
    assert_int_equal(r.major, 2);
    /* TTA over 2, 4, 6, 10 min. */
    assert_int_equal(r.tta.n, 4);
    assert_int_equal(r.tta.mean_ms, 11 * MIN / 2);
    assert_int_equal(r.tta.median_ms, 5 * MIN);
    assert_int_equal(r.tta.p90_ms, 10 * MIN);
    assert_int_equal(r.tta.max_ms, 10 * MIN);
    /* TTD over 15, 16, 20. */
    assert_int_equal(r.ttd.n, 3);
    assert_int_equal(r.ttd.median_ms, 16 * MIN);
    assert_int_equal(r.ttd.mean_ms, 17 * MIN);
    /* TTR over 30, 60, 90. */
    assert_int_equal(r.ttr.mean_ms, 60 * MIN);
    assert_int_equal(r.ttr.p90_ms, 90 * MIN);

    tc_json_t *j = tc_json_new();
    tc_report_json(j, incs, 1, &r);
    const char *want_start = "{\"incidents\":[{\"id\":1,\"service\":\"svc1\",\"severity\":2,"
                             "\"severity_meaning\":\"Major\",\"sev1_ms\":0,\"sev2_ms\":0,"
                             "\"tta_ms\":120000,\"ttd_ms\":900000,\"ttr_ms\":3600000}],"
                             "\"summary\":{\"incidents\":5,";
    assert_true(tc_json_len(j) > strlen(want_start));
    assert_memory_equal(tc_json_data(j), want_start, strlen(want_start));
    tc_json_destroy(&j);
}

static void test_empty(void **state)
{
    (void)state;
    tc_report_t r;
    assert_int_equal(tc_report_compute(NULL, 0, &r), 0);
    assert_int_equal(r.tta.n, 0);
    assert_int_equal(r.tta.mean_ms, -1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(tc_report_text(f, NULL, 0, &r), 0);
    fclose(f);
    assert_string_equal(buf, "0 incidents, 0 resolved, 0 declared, 0 major\n"
                             "time to acknowledge  -\n"
                             "time to declare      -\n"
                             "time to resolve      -\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
