/* outbox/pace: the token bucket (rate, 50 ms burst), the back-off after
 * THROTTLED and the growth back once calm; pure arithmetic on given
 * times, so exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pace.h"

static void test_bucket(void **unused)
{
    tc_pace_t *p = tc_pace_new(4000, 1000);
    assert_non_null(p);
    assert_int_equal(tc_pace_allowed(p, 1000), 1); /* one to start with */
    assert_int_equal(tc_pace_allowed(p, 1010), 41);
    tc_pace_spend(p, 41);
    assert_int_equal(tc_pace_allowed(p, 1010), 0);
    assert_int_equal(tc_pace_wait_ms(p), 1);
    /* Idle for a second: still only 50 ms worth. */
    assert_int_equal(tc_pace_allowed(p, 2010), 200);
    tc_pace_spend(p, 200);
    /* 4000/s over 250 ms is 1000, in bursts of at most 200. */
    uint64_t total = 0;
    for (int64_t t = 2020; t <= 2260; t += 10) {
        uint64_t n = tc_pace_allowed(p, t);
        assert_true(n <= 200);
        tc_pace_spend(p, n);
        total += n;
    }
    assert_true(total >= 990 && total <= 1000);
    tc_pace_destroy(&p);
    assert_null(p);
    tc_pace_destroy(&p);
}

static void test_back_off_and_growth(void **unused)
{
    tc_pace_t *p = tc_pace_new(4000, 0);
    tc_pace_throttled(p, 100);
    assert_true(tc_pace_rate(p) == 2000);
    assert_int_equal(tc_pace_allowed(p, 100), 0);
    assert_int_equal(tc_pace_wait_ms(p), 1); /* 0.5 ms at 2000/s, rounded up */
    for (int i = 0; i < 20; i++)
        tc_pace_throttled(p, 100);
    assert_true(tc_pace_rate(p) == 10); /* the floor */
    assert_int_equal(tc_pace_wait_ms(p), 101);
    /* No growth until 2 s of calm. */
    tc_pace_tick(p, 2099);
    assert_true(tc_pace_rate(p) == 10);
    tc_pace_tick(p, 2100);
    assert_true(tc_pace_rate(p) > 10.9 && tc_pace_rate(p) < 11.1);
    for (int i = 0; i < 200; i++)
        tc_pace_tick(p, 3000 + i);
    assert_true(tc_pace_rate(p) == 4000); /* back to the maximum, not above */
    tc_pace_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_back_off_and_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
