/* The flap detector, table-driven: sequences of results and the verdict
 * expected after each one ('F' flapping, '.' not), with Nagios' weights
 * (0.8 for the oldest change of 21 results, 1.2 for the newest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "flap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *what;
    uint32_t low, high;
    const char *results; /* O W C U */
    const char *verdict; /* after each result */
} s_case_t;

static tc_check_state_t s_state(char ch)
{
    switch (ch) {
    case 'O': return TC_STATE_OK;
    case 'W': return TC_STATE_WARNING;
    case 'C': return TC_STATE_CRITICAL;
    default: return TC_STATE_UNKNOWN;
    }
}

static const s_case_t s_cases[] = {
    {"stable", 5, 20, "OOOOOOOOOOOOOOOOOOOOOOOOO", "........................."},
    /* Alternating from the start: 4 changes weigh 4.67 of 20 = 23.4%. */
    {"alternating", 5, 20, "OCOCOCOC", "....FFFF"},
    /* One change is 6%, however often it happens once. */
    {"one change", 5, 20, "OOOOOOOOOOCCCCCCCCCCC", "....................."},
    /* After the last change the share decays as it ages; below 5% only
     * when it is the oldest change in the window: 20 results later. */
    {"settles", 5, 20, "OCOCOCOCOCOOOOOOOOOOOOOOOOOOOOO", "....FFFFFFFFFFFFFFFFFFFFFFFFF.."},
    /* Hysteresis: 17.7% is above low 10 and below high 30 -> unchanged. */
    {"between the thresholds", 10, 30, "OCOCOOOOOO", ".........."},
    {"higher threshold", 10, 30, "OCOCOCOO", "......FF"},
    /* Changes between problems count as much as any. */
    {"warning and critical", 5, 20, "WCWCWCW", "....FFF"},
    {"unknown and ok", 5, 20, "UOUOU", "....F"},
    /* The window is 21 results: changes before it are forgotten. */
    {"forgotten", 5, 20,
     "OCOCOC"
     "OOOOOOOOOOOOOOOOOOOO"
     "C",
     "....FF"
     "FFFFFFFFFFFFFFFFFFF."
     "."},
};

static void test_table(void **unused)
{
    for (size_t k = 0; k < sizeof s_cases / sizeof s_cases[0]; k++) {
        const s_case_t *c = &s_cases[k];
        assert_int_equal(strlen(c->results), strlen(c->verdict));
        tc_flap_limits_t lim = {true, c->low, c->high};
        tc_flap_t f = tc_flap_new();
        bool was = false;
        for (size_t i = 0; c->results[i]; i++) {
            bool changed = tc_flap_add(&f, s_state(c->results[i]), &lim);
            bool want = c->verdict[i] == 'F';
            if (f.flapping != want)
                fail_msg("%s: after result %zu (%c) flapping=%d, want %d (share %.2f%%)", c->what,
                         i + 1, c->results[i], f.flapping, want, tc_flap_share(&f));
            assert_int_equal(changed, was != want);
            was = want;
        }
    }
}

static void test_shares_and_weights(void **unused)
{
    tc_flap_limits_t lim = tc_flap_defaults();
    tc_flap_t f = tc_flap_new();
    assert_true(tc_flap_share(&f) == 0);
    assert_int_equal(tc_flap_worst(&f), TC_STATE_OK);
    tc_flap_add(&f, TC_STATE_OK, &lim);
    tc_flap_add(&f, TC_STATE_CRITICAL, &lim);
    /* The newest change alone: 1.2 of 20. */
    assert_true(fabs(tc_flap_share(&f) - 6.0) < 1e-9);
    assert_int_equal(tc_flap_percent(&f), 6);
    /* Every result a change, window full: 100%. */
    f = tc_flap_new();
    for (int i = 0; i < 21; i++)
        tc_flap_add(&f, i % 2 ? TC_STATE_CRITICAL : TC_STATE_OK, &lim);
    assert_true(fabs(tc_flap_share(&f) - 100.0) < 1e-9);
    assert_int_equal(tc_flap_percent(&f), 100);
    /* The oldest change of a full window weighs 0.8: 4%. */
    f = tc_flap_new();
    tc_flap_add(&f, TC_STATE_CRITICAL, &lim);
    for (int i = 0; i < 20; i++)
        tc_flap_add(&f, TC_STATE_OK, &lim);
    assert_true(fabs(tc_flap_share(&f) - 4.0) < 1e-9);
    tc_flap_add(&f, TC_STATE_OK, &lim); /* and then it is gone */
    assert_true(tc_flap_share(&f) == 0);
}

static void test_worst_state(void **unused)
{
    tc_flap_limits_t lim = tc_flap_defaults();
    tc_flap_t f = tc_flap_new();
    tc_flap_add(&f, TC_STATE_WARNING, &lim);
    tc_flap_add(&f, TC_STATE_OK, &lim);
    assert_int_equal(tc_flap_worst(&f), TC_STATE_WARNING);
    tc_flap_add(&f, TC_STATE_UNKNOWN, &lim);
    assert_int_equal(tc_flap_worst(&f), TC_STATE_UNKNOWN);
    tc_flap_add(&f, TC_STATE_CRITICAL, &lim);
    assert_int_equal(tc_flap_worst(&f), TC_STATE_CRITICAL);
    /* Only the window counts: 21 OKs later, CRITICAL is forgotten. */
    for (int i = 0; i < 21; i++)
        tc_flap_add(&f, TC_STATE_OK, &lim);
    assert_int_equal(tc_flap_worst(&f), TC_STATE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_shares_and_weights),
        cmocka_unit_test(test_worst_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
