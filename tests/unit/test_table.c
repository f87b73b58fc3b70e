/* Unit tests for tools/table.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints `t` and returns the text; the caller frees it. */
static char *s_print(const tc_table_t *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(tc_table_print(t, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_alignment(void **state)
{
    (void)state;
    const char *h[] = {"A", "LONG HEADER", "C"};
    tc_table_t *t = tc_table_new(3, h);
    assert_non_null(t);
    assert_int_equal(tc_table_rows(t), 0);
    const char *r1[] = {"wide cell", "x", "last"};
    const char *r2[] = {"y", NULL, "z"};
    assert_int_equal(tc_table_add_row(t, r1), 0);
    assert_int_equal(tc_table_add_row(t, r2), 0);
    assert_int_equal(tc_table_rows(t), 2);
    char *out = s_print(t);
    assert_string_equal(out, "A          LONG HEADER  C\n"
                             "wide cell  x            last\n"
                             "y          -            z\n");
    free(out);
    tc_table_destroy(&t);
    assert_null(t);
}

static void test_no_trailing_blanks(void **state)
{
    (void)state;
    const char *h[] = {"K", "V"};
    tc_table_t *t = tc_table_new(2, h);
    const char *r1[] = {"key", ""};
    assert_int_equal(tc_table_add_row(t, r1), 0);
    char *out = s_print(t);
    assert_string_equal(out, "K    V\nkey\n");
    free(out);
    tc_table_destroy(&t);
}

static void test_utf8_width_and_sanitizing(void **state)
{
    (void)state;
    const char *h[] = {"NAME", "X"};
    tc_table_t *t = tc_table_new(2, h);
    const char *r1[] = {"\xc3\xa9t\xc3\xa9", "1"};
    const char *r2[] = {"a\x1b[0m\n", "2"};
    const char *r3[] = {"\xff", "3"};
    assert_int_equal(tc_table_add_row(t, r1), 0);
    assert_int_equal(tc_table_add_row(t, r2), 0);
    assert_int_equal(tc_table_add_row(t, r3), 0);
    char *out = s_print(t);
    assert_string_equal(out, "NAME    X\n"
                             "\xc3\xa9t\xc3\xa9     1\n"
                             "a [0m   2\n"
                             "\xef\xbf\xbd       3\n");
    free(out);
    tc_table_destroy(&t);
}

static void test_many_rows(void **state)
{
    (void)state;
    const char *h[] = {"N"};
    tc_table_t *t = tc_table_new(1, h);
    for (int i = 0; i < 1000; i++) {
        char cell[16];
        snprintf(cell, sizeof cell, "%d", i);
        const char *row[] = {cell};
        assert_int_equal(tc_table_add_row(t, row), 0);
    }
    assert_int_equal(tc_table_rows(t), 1000);
    char *out = s_print(t);
    assert_memory_equal(out, "N\n0\n1\n", 6);
    assert_string_equal(out + strlen(out) - 4, "999\n");
    free(out);
    tc_table_destroy(&t);
    tc_table_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_no_trailing_blanks),
        cmocka_unit_test(test_utf8_width_and_sanitizing),
        cmocka_unit_test(test_many_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
