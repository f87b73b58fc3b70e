/* Durations, endpoints, time formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "util.h"

static void test_durations(void **unused)
{
    int64_t ms;
    assert_int_equal(tc_duration_parse("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(tc_duration_parse("5s", &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(tc_duration_parse("7", &ms), 0);
    assert_int_equal(ms, 7000);
    assert_int_equal(tc_duration_parse("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(tc_duration_parse("1h", &ms), 0);
    assert_int_equal(ms, 3600000);
    assert_int_equal(tc_duration_parse("30d", &ms), 0);
    const char *bad[] = {"", "s", "5x", "-1s", "1.5s", "31d", "99999999999999d", " 5s", "5s "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tc_duration_parse(bad[i], &ms), TC_EINVAL);
}

static void test_u64(void **unused)
{
    uint64_t v;
    assert_int_equal(tc_u64_parse("18446744073709551615", UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(tc_u64_parse("18446744073709551616", UINT64_MAX, &v), TC_EINVAL);
    assert_int_equal(tc_u64_parse("11", 10, &v), TC_EINVAL);
    /* A single digit above the maximum (found by test_incident: "sev 7"). */
    assert_int_equal(tc_u64_parse("7", 5, &v), TC_EINVAL);
    assert_int_equal(tc_u64_parse("5", 5, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(tc_u64_parse("+1", 10, &v), TC_EINVAL);
}

static void test_endpoints(void **unused)
{
    assert_true(tc_endpoint_valid("tcp://127.0.0.1:7401"));
    assert_true(tc_endpoint_valid("tcp://*:7401"));
    assert_true(tc_endpoint_valid("ipc:///tmp/x"));
    assert_false(tc_endpoint_valid("tcp://127.0.0.1"));
    assert_false(tc_endpoint_valid("tcp://127.0.0.1:0"));
    assert_false(tc_endpoint_valid("tcp://127.0.0.1:70000"));
    assert_false(tc_endpoint_valid("http://x:1"));
    assert_true(tc_endpoint_is_loopback("tcp://127.0.0.1:7401"));
    assert_true(tc_endpoint_is_loopback("tcp://localhost:7401"));
    assert_true(tc_endpoint_is_loopback("tcp://[::1]:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://10.0.0.1:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://*:7401"));
    assert_true(tc_endpoint_is_loopback("tcp://127.1.2.3:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://127.example.com:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://127.0.0.1.evil:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://127.0.0:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://127.0.0.256:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://localhost.evil:7401"));
    assert_false(tc_endpoint_is_loopback("tcp://128.0.0.1:7401"));
}

static void test_time_format(void **unused)
{
    char buf[32];
    assert_string_equal(tc_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
    assert_string_equal(tc_time_format(1764000000123, buf, sizeof buf), "2025-11-24T16:00:00.123Z");
}

static void test_when(void **unused)
{
    int64_t ms = 0, now = 1764000000000;
    assert_int_equal(tc_when_parse("now", now, &ms), 0);
    assert_int_equal(ms, now);
    assert_int_equal(tc_when_parse("+90m", now, &ms), 0);
    assert_int_equal(ms, now + 90 * 60000);
    assert_int_equal(tc_when_parse("2025-11-24T16:00:00Z", now, &ms), 0);
    assert_int_equal(ms, 1764000000000);
    assert_int_equal(tc_when_parse("2025-11-24 17:00+01:00", now, &ms), 0);
    assert_int_equal(ms, 1764000000000);
    assert_int_equal(tc_when_parse("2025-11-24T15:30:00-00:30", now, &ms), 0);
    assert_int_equal(ms, 1764000000000);
    /* A time without a zone, a bad date, trailing text, a bad duration. */
    const char *bad[] = {"2025-11-24T16:00:00",
                         "2025-02-30T10:00Z",
                         "2025-13-01T10:00Z",
                         "2025-11-24T24:00Z",
                         "2025-11-24T16:00Zx",
                         "+soon",
                         "yesterday",
                         "",
                         "2025-11-24T16:00+1:00",
                         "1960-01-01T00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tc_when_parse(bad[i], now, &ms), TC_EINVAL);
    assert_int_equal(tc_when_parse(NULL, now, &ms), TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations), cmocka_unit_test(test_u64),
        cmocka_unit_test(test_endpoints), cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_when),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
