/* common/human: times in the reader's terms, relative phrases at every
 * boundary, status words, one-line titles and drill markers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "human.h"

#include <string.h>

#define S_T0 1796250000000LL /* 2026-12-02T22:20:00Z, a Wednesday */
#define S_MIN 60000LL
#define S_HOUR (60 * S_MIN)
#define S_DAY (24 * S_HOUR)

static void test_time(void **unused)
{
    (void)unused;
    char b[TC_HUMAN_MAX];
    assert_string_equal(tc_human_time(S_T0, b, sizeof b), "Wed 2 Dec 2026, 22:20 UTC");
    assert_string_equal(tc_human_time(S_T0 + 17 * S_MIN + 9600, b, sizeof b),
                        "Wed 2 Dec 2026, 22:37 UTC");
    assert_string_equal(tc_human_time(0, b, sizeof b), "Thu 1 Jan 1970, 00:00 UTC");
    /* Same UTC day as the reference: the time alone. */
    assert_string_equal(tc_human_time_near(S_T0 + S_HOUR, S_T0, b, sizeof b), "23:20 UTC");
    /* After midnight it is another day, and says so. */
    assert_string_equal(tc_human_time_near(S_T0 + 2 * S_HOUR, S_T0, b, sizeof b),
                        "Thu 3 Dec 2026, 00:20 UTC");
    assert_string_equal(tc_human_time_near(S_T0 - S_DAY, S_T0, b, sizeof b),
                        "Tue 1 Dec 2026, 22:20 UTC");
}

static void test_window(void **unused)
{
    (void)unused;
    char b[2 * TC_HUMAN_MAX];
    assert_string_equal(tc_human_window(S_T0 - 20 * S_MIN, S_T0 + 40 * S_MIN, b, sizeof b),
                        "Wed 2 Dec 2026, 22:00 to 23:00 UTC");
    assert_string_equal(tc_human_window(S_T0 + 40 * S_MIN, S_T0 + 3 * S_HOUR, b, sizeof b),
                        "Wed 2 Dec 2026, 23:00 UTC to Thu 3 Dec 2026, 01:20 UTC");
}

static void test_relative(void **unused)
{
    (void)unused;
    char b[TC_HUMAN_MAX];
    static const struct {
        int64_t delta;
        const char *want;
    } cases[] = {
        {0, "just now"},
        {-59999, "just now"},
        {59999, "in less than a minute"},
        {S_MIN, "in 1 minute"},
        {-S_MIN, "1 minute ago"},
        {-(S_MIN + 29999), "1 minute ago"},
        {-(S_MIN + 30000), "2 minutes ago"},
        {40 * S_MIN - 20000, "in 40 minutes"},
        {-20 * S_MIN, "20 minutes ago"},
        {90 * S_MIN - 1, "in 90 minutes"},
        {90 * S_MIN, "in 2 hours"},
        {-5 * S_HOUR, "5 hours ago"},
        {48 * S_HOUR - 1, "in 48 hours"},
        {48 * S_HOUR, "in 2 days"},
        {-10 * S_DAY, "10 days ago"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tc_human_relative(S_T0 + cases[i].delta, S_T0, b, sizeof b);
        if (strcmp(b, cases[i].want) != 0)
            fail_msg("delta %lld: \"%s\", expected \"%s\"", (long long)cases[i].delta, b,
                     cases[i].want);
    }
}

static void test_status_words(void **unused)
{
    (void)unused;
    assert_string_equal(tc_human_status(TC_COMP_MAJOR_OUTAGE), "major outage");
    assert_string_equal(tc_human_status(TC_COMP_DEGRADED), "degraded performance");
    assert_string_equal(tc_human_status(TC_COMP_MAINTENANCE), "under maintenance");
    assert_string_equal(tc_human_status_label(TC_COMP_PARTIAL_OUTAGE), "Partial outage");
    assert_string_equal(tc_human_status_label(TC_COMP_OPERATIONAL), "Operational");
    assert_string_equal(tc_human_status((tc_component_status_t)99), "unknown");
}

static void test_line(void **unused)
{
    (void)unused;
    char b[64];
    assert_string_equal(tc_human_line("Down\r\nBcc: evil@example.com", b, sizeof b),
                        "Down Bcc: evil@example.com");
    assert_string_equal(tc_human_line("  a\t\tb \x7f c\xc2\x85 d  ", b, sizeof b), "a b c d");
    assert_string_equal(tc_human_line("caf\xc3\xa9 \xff", b, sizeof b), "caf\xc3\xa9 ?");
    assert_string_equal(tc_human_line(NULL, b, sizeof b), "");
    assert_string_equal(tc_human_line("\r\n", b, sizeof b), "");
    /* Cut at a character boundary. */
    assert_string_equal(tc_human_line("ab\xc3\xa9", b, 4), "ab");
}

static void test_undrill(void **unused)
{
    (void)unused;
    assert_string_equal(tc_human_undrill("DRILL: drill"), "drill");
    assert_string_equal(tc_human_undrill("[DRILL] Checkout down"), "Checkout down");
    assert_string_equal(tc_human_undrill("drill - payments"), "payments");
    assert_string_equal(tc_human_undrill("Drilling rig offline"), "Drilling rig offline");
    assert_string_equal(tc_human_undrill("DRILL:"), "DRILL:");
    assert_string_equal(tc_human_undrill("Checkout down"), "Checkout down");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),     cmocka_unit_test(test_window),
        cmocka_unit_test(test_relative), cmocka_unit_test(test_status_words),
        cmocka_unit_test(test_line),     cmocka_unit_test(test_undrill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
