/* Unit tests for tools/json.c: structure, escaping, numbers, times, reuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int s_setup(void **state)
{
    *state = tc_json_new();
    return *state ? 0 : -1;
}

static int s_teardown(void **state)
{
    tc_json_t *j = *state;
    tc_json_destroy(&j);
    assert_null(j);
    return 0;
}

/* Writes `s` (len bytes) as a lone string document and returns it. */
static const char *s_str(tc_json_t *j, const char *s, size_t len)
{
    tc_json_reset(j);
    tc_json_string_n(j, s, len);
    assert_int_equal(tc_json_error(j), 0);
    return tc_json_data(j);
}

#define STR(j, lit) s_str((j), (lit), sizeof(lit) - 1)

static void test_empty_containers(void **state)
{
    tc_json_t *j = *state;
    assert_string_equal(tc_json_data(j), "");
    assert_false(tc_json_complete(j));
    tc_json_object_begin(j);
    assert_false(tc_json_complete(j));
    tc_json_object_end(j);
    assert_string_equal(tc_json_data(j), "{}");
    assert_true(tc_json_complete(j));

    tc_json_reset(j);
    tc_json_array_begin(j);
    tc_json_array_end(j);
    assert_string_equal(tc_json_data(j), "[]");
    assert_int_equal(tc_json_len(j), 2);
}

static void test_nesting_and_commas(void **state)
{
    tc_json_t *j = *state;
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_uint(j, 3);
    tc_json_key(j, "hosts");
    tc_json_array_begin(j);
    tc_json_string(j, "web-01");
    tc_json_string(j, "web-02");
    tc_json_array_begin(j);
    tc_json_array_end(j);
    tc_json_object_begin(j);
    tc_json_object_end(j);
    tc_json_array_end(j);
    tc_json_key(j, "roles");
    tc_json_object_begin(j);
    tc_json_key(j, "commander");
    tc_json_string(j, "alice");
    tc_json_key(j, "scribe");
    tc_json_null(j);
    tc_json_object_end(j);
    tc_json_key(j, "declared");
    tc_json_bool(j, false);
    tc_json_key(j, "ok");
    tc_json_bool(j, true);
    tc_json_object_end(j);
    assert_int_equal(tc_json_error(j), 0);
    assert_true(tc_json_complete(j));
    assert_string_equal(tc_json_data(j), "{\"id\":3,\"hosts\":[\"web-01\",\"web-02\",[],{}],"
                                         "\"roles\":{\"commander\":\"alice\",\"scribe\":null},"
                                         "\"declared\":false,\"ok\":true}");
}

static void test_array_of_scalars(void **state)
{
    tc_json_t *j = *state;
    tc_json_array_begin(j);
    tc_json_int(j, -1);
    tc_json_int(j, INT64_MIN);
    tc_json_uint(j, UINT64_MAX);
    tc_json_string(j, NULL);
    tc_json_string(j, "");
    tc_json_array_end(j);
    assert_string_equal(tc_json_data(j),
                        "[-1,-9223372036854775808,18446744073709551615,null,\"\"]");
}

static void test_escape_ascii(void **state)
{
    tc_json_t *j = *state;
    assert_string_equal(STR(j, "plain text 123"), "\"plain text 123\"");
    assert_string_equal(STR(j, "say \"hi\" \\ bye"), "\"say \\\"hi\\\" \\\\ bye\"");
    assert_string_equal(STR(j, "a\nb\rc\td\be\ff"), "\"a\\nb\\rc\\td\\be\\ff\"");
    assert_string_equal(STR(j, "\x01\x1f\x1b[31m"), "\"\\u0001\\u001f\\u001b[31m\"");
    assert_string_equal(STR(j, "del\x7f"), "\"del\\u007f\"");
    /* An embedded NUL is data, not the end. */
    assert_string_equal(STR(j, "a\0b"), "\"a\\u0000b\"");
    /* '/' needs no escape. */
    assert_string_equal(STR(j, "</script>"), "\"</script>\"");
}

static void test_escape_unicode(void **state)
{
    tc_json_t *j = *state;
    /* Valid multi-byte characters pass through unchanged. */
    assert_string_equal(STR(j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x94"),
                        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x94\"");
    /* A genuine U+FFFD stays one. */
    assert_string_equal(STR(j, "\xef\xbf\xbd"), "\"\xef\xbf\xbd\"");
    /* C1 controls, LINE and PARAGRAPH SEPARATOR are escaped. */
    assert_string_equal(STR(j, "\xc2\x85|\xc2\x9b|\xe2\x80\xa8|\xe2\x80\xa9"),
                        "\"\\u0085|\\u009b|\\u2028|\\u2029\"");
    /* U+00A0 is not a control character. */
    assert_string_equal(STR(j, "\xc2\xa0"), "\"\xc2\xa0\"");
}

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8(void **state)
{
    tc_json_t *j = *state;
    /* Lone bytes that can never start a character. */
    assert_string_equal(STR(j, "a\xff"
                               "b"),
                        "\"a" FFFD "b\"");
    assert_string_equal(STR(j, "\x80"), "\"" FFFD "\"");
    /* Latin-1 "café": the é byte is replaced, the rest kept. */
    assert_string_equal(STR(j, "caf\xe9!"), "\"caf" FFFD "!\"");
    /* Truncated sequences: one replacement per maximal subpart. */
    assert_string_equal(STR(j, "\xc3"), "\"" FFFD "\"");
    assert_string_equal(STR(j, "\xe2\x82"), "\"" FFFD "\"");
    assert_string_equal(STR(j, "\xf0\x9f\x94"
                               "x"),
                        "\"" FFFD "x\"");
    /* A broken sequence does not swallow the ASCII that follows. */
    assert_string_equal(STR(j, "\xe2\"x"), "\"" FFFD "\\\"x\"");
    /* Overlong encodings of '/' and NUL. */
    assert_string_equal(STR(j, "\xc0\xaf"), "\"" FFFD FFFD "\"");
    assert_string_equal(STR(j, "\xe0\x80\xaf"), "\"" FFFD FFFD FFFD "\"");
    /* UTF-16 surrogate U+D800 encoded in UTF-8. */
    assert_string_equal(STR(j, "\xed\xa0\x80"), "\"" FFFD FFFD FFFD "\"");
    /* Above U+10FFFF. */
    assert_string_equal(STR(j, "\xf4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"");
    assert_string_equal(STR(j, "\xf5\x80"), "\"" FFFD FFFD "\"");
    /* The largest valid code point is kept. */
    assert_string_equal(STR(j, "\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");
}

static void test_keys_are_escaped(void **state)
{
    tc_json_t *j = *state;
    tc_json_object_begin(j);
    tc_json_key(j, "we\"ird\n\xff");
    tc_json_int(j, 1);
    tc_json_object_end(j);
    assert_string_equal(tc_json_data(j), "{\"we\\\"ird\\n" FFFD "\":1}");
}

static void test_doubles(void **state)
{
    tc_json_t *j = *state;
    tc_json_array_begin(j);
    tc_json_double(j, 0.1);
    tc_json_double(j, 1.5);
    tc_json_double(j, 100);
    tc_json_double(j, -2.25);
    tc_json_double(j, 1e300);
    tc_json_double(j, 1.0 / 3.0);
    tc_json_double(j, NAN);
    tc_json_double(j, INFINITY);
    tc_json_double(j, -INFINITY);
    tc_json_array_end(j);
    assert_string_equal(tc_json_data(j), "[0.1,1.5,100,-2.25,1e+300,0.3333333333333333,"
                                         "null,null,null]");
}

static void test_reset_reuses(void **state)
{
    tc_json_t *j = *state;
    tc_json_object_begin(j);
    tc_json_key(j, "a");
    tc_json_int(j, 1);
    tc_json_object_end(j);
    tc_json_reset(j);
    assert_string_equal(tc_json_data(j), "");
    assert_false(tc_json_complete(j));
    tc_json_array_begin(j);
    tc_json_int(j, 2);
    tc_json_array_end(j);
    assert_string_equal(tc_json_data(j), "[2]");
}

static void test_grows(void **state)
{
    tc_json_t *j = *state;
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (i % 10 == 9) ? '\n' : 'x';
    big[n] = '\0';
    tc_json_array_begin(j);
    tc_json_string(j, big);
    tc_json_string(j, big);
    tc_json_array_end(j);
    assert_int_equal(tc_json_error(j), 0);
    /* Each '\n' becomes two bytes; quotes, comma and brackets add 7. */
    assert_int_equal(tc_json_len(j), 2 * (n + n / 10) + 7);
    assert_int_equal(strlen(tc_json_data(j)), tc_json_len(j));
    assert_memory_equal(tc_json_data(j), "[\"xxxxxxxxx\\nx", 14);
    assert_string_equal(tc_json_data(j) + tc_json_len(j) - 4, "\\n\"]");
    free(big);
}

static void test_times(void **state)
{
    tc_json_t *j = *state;
    tc_json_array_begin(j);
    tc_json_time(j, 1795509000123LL); /* 2026-11-24T08:30:00.123Z */
    tc_json_time(j, 0);
    tc_json_time(j, -1);
    tc_json_array_end(j);
    assert_int_equal(tc_json_error(j), 0);
    assert_string_equal(tc_json_data(j),
                        "[\"2026-11-24T08:30:00.123Z\",null,\"1969-12-31T23:59:59.999Z\"]");
}

static void test_destroy_null_safe(void **state)
{
    (void)state;
    tc_json_t *j = NULL;
    tc_json_destroy(&j);
    tc_json_destroy(NULL);
    assert_null(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_containers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_nesting_and_commas, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_array_of_scalars, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_escape_ascii, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_escape_unicode, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keys_are_escaped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_doubles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reset_reuses, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_grows, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_times, s_setup, s_teardown),
        cmocka_unit_test(test_destroy_null_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
