/* Unit tests for tools/utf8.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "utf8.h"

#include <string.h>

static void s_next(const char *s, size_t len, uint32_t want_cp, size_t want_n)
{
    uint32_t cp = 0;
    assert_int_equal(tc_utf8_next(s, len, &cp), want_n);
    assert_int_equal(cp, want_cp);
}

static void test_next_valid(void **state)
{
    (void)state;
    s_next("A", 1, 'A', 1);
    s_next("\xc2\x80", 2, 0x80, 2);
    s_next("\xc3\xa9", 2, 0xE9, 2);
    s_next("\xe0\xa0\x80", 3, 0x800, 3);
    s_next("\xe2\x82\xac", 3, 0x20AC, 3);
    s_next("\xed\x9f\xbf", 3, 0xD7FF, 3);
    s_next("\xee\x80\x80", 3, 0xE000, 3);
    s_next("\xf0\x90\x80\x80", 4, 0x10000, 4);
    s_next("\xf4\x8f\xbf\xbf", 4, 0x10FFFF, 4);
}

static void test_next_invalid(void **state)
{
    (void)state;
    s_next("\x80", 1, TC_UTF8_REPLACEMENT, 1);
    s_next("\xc0\x80", 2, TC_UTF8_REPLACEMENT, 1);
    s_next("\xc1\xbf", 2, TC_UTF8_REPLACEMENT, 1);
    s_next("\xe0\x9f\xbf", 3, TC_UTF8_REPLACEMENT, 1);     /* overlong */
    s_next("\xed\xa0\x80", 3, TC_UTF8_REPLACEMENT, 1);     /* surrogate */
    s_next("\xf0\x8f\xbf\xbf", 4, TC_UTF8_REPLACEMENT, 1); /* overlong */
    s_next("\xf4\x90\x80\x80", 4, TC_UTF8_REPLACEMENT, 1); /* > U+10FFFF */
    s_next("\xf8\x88\x80\x80", 4, TC_UTF8_REPLACEMENT, 1);
    /* Truncated by the end of input or by a non-continuation byte: the
     * valid prefix is consumed as one unit. */
    s_next("\xe2\x82", 2, TC_UTF8_REPLACEMENT, 2);
    s_next("\xe2\x82"
           "A",
           3, TC_UTF8_REPLACEMENT, 2);
    s_next("\xf0\x9f\x94", 3, TC_UTF8_REPLACEMENT, 3);
    s_next("\xc3"
           "A",
           2, TC_UTF8_REPLACEMENT, 1);
}

static void test_encode_roundtrip(void **state)
{
    (void)state;
    uint32_t cps[] = {0, 'x', 0x7F, 0x80, 0x7FF, 0x800, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char buf[4];
        size_t n = tc_utf8_encode(cps[i], buf);
        uint32_t back;
        assert_int_equal(tc_utf8_next(buf, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
}

static void test_sanitize(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(tc_utf8_sanitize("plain", out, sizeof out), 5);
    assert_string_equal(out, "plain");
    assert_int_equal(tc_utf8_sanitize("a\tb\nc\x1b[1m\x7f\xc2\x9b", out, sizeof out), 11);
    assert_string_equal(out, "a b c [1m  ");
    assert_int_equal(tc_utf8_sanitize("x\xffy", out, sizeof out), 3);
    assert_string_equal(out, "x\xef\xbf\xbdy");
    /* Truncation never splits a character. */
    assert_int_equal(tc_utf8_sanitize("\xc3\xa9\xc3\xa9\xc3\xa9", out, 6), 2);
    assert_string_equal(out, "\xc3\xa9\xc3\xa9");
    assert_int_equal(tc_utf8_sanitize("abc", out, 1), 0);
    assert_string_equal(out, "");
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(tc_utf8_width(""), 0);
    assert_int_equal(tc_utf8_width("abc"), 3);
    assert_int_equal(tc_utf8_width("caf\xc3\xa9"), 4);
    assert_int_equal(tc_utf8_width("\xf0\x9f\x94\x94!"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_valid),
        cmocka_unit_test(test_next_invalid),
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
