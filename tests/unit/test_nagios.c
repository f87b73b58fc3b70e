/* Nagios plugin output parsing: output line, perfdata, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "msg.h"
#include "nagios.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tc_check_result_t *s_parse(const char *text)
{
    static tc_check_result_t res;
    memset(&res, 0x5a, sizeof res); /* garbage, to see what gets set */
    assert_int_equal(tc_nagios_parse(text, strlen(text), &res), 0);
    return &res;
}

static void test_output_and_full_perfdata(void **unused)
{
    tc_check_result_t *r =
        s_parse("DISK OK - free space: / 3326 MB (56%);| /=2643MB;5948;5958;0;5968\n");
    assert_string_equal(r->output, "DISK OK - free space: / 3326 MB (56%);");
    assert_int_equal(r->nperf, 1);
    assert_string_equal(r->perf[0].label, "/");
    assert_true(r->perf[0].value == 2643);
    assert_string_equal(r->perf[0].uom, "MB");
    assert_true(r->perf[0].warn == 5948);
    assert_true(r->perf[0].crit == 5958);
    assert_true(r->perf[0].min == 0);
    assert_true(r->perf[0].max == 5968);
    assert_int_equal(r->perf[0].present,
                     TC_PERF_WARN | TC_PERF_CRIT | TC_PERF_MIN | TC_PERF_MAX_BIT);
}

static void test_output_trimmed_without_perfdata(void **unused)
{
    tc_check_result_t *r = s_parse("  \t PING OK - rta 0.1ms  \r\n");
    assert_string_equal(r->output, "PING OK - rta 0.1ms");
    assert_int_equal(r->nperf, 0);

    r = s_parse("HTTP OK|time=0.001s;;;0");
    assert_string_equal(r->output, "HTTP OK");
    assert_int_equal(r->nperf, 1);
    assert_string_equal(r->perf[0].label, "time");
    assert_true(r->perf[0].value == 0.001);
    assert_string_equal(r->perf[0].uom, "s");
    assert_int_equal(r->perf[0].present, TC_PERF_MIN);
    assert_true(r->perf[0].min == 0);
}

static void test_quoted_labels_and_ranges(void **unused)
{
    tc_check_result_t *r =
        s_parse("OK | 'free space'=12.5GB;10:;@5:8;0;100 'it''s'=3 'a=b'=4c plain=1;~:5;10:20");
    assert_int_equal(r->nperf, 4);
    assert_string_equal(r->perf[0].label, "free space");
    assert_true(r->perf[0].value == 12.5);
    assert_string_equal(r->perf[0].uom, "GB");
    /* Ranges are accepted but not kept as numbers. */
    assert_int_equal(r->perf[0].present, TC_PERF_MIN | TC_PERF_MAX_BIT);
    assert_true(r->perf[0].max == 100);
    assert_string_equal(r->perf[1].label, "it's");
    assert_true(r->perf[1].value == 3);
    assert_string_equal(r->perf[2].label, "a=b");
    assert_string_equal(r->perf[2].uom, "c");
    assert_string_equal(r->perf[3].label, "plain");
    assert_int_equal(r->perf[3].present, 0);
}

static void test_malformed_items_are_skipped(void **unused)
{
    tc_check_result_t *r = s_parse(
        "WARN | =1 noequals b=U c=1x2 d=5 e= 'unterminated=3 f=abc g=7 h=1;2;3;4;5;6 i=-.5e2");
    assert_string_equal(r->output, "WARN");
    assert_int_equal(r->nperf, 4);
    assert_string_equal(r->perf[0].label, "d");
    assert_true(r->perf[0].value == 5);
    assert_string_equal(r->perf[1].label, "g");
    assert_string_equal(r->perf[2].label, "h");
    assert_true(r->perf[2].max == 5); /* a sixth field is ignored, not fatal */
    assert_string_equal(r->perf[3].label, "i");
    assert_true(r->perf[3].value == -50);
}

static void test_numbers(void **unused)
{
    tc_perf_t p[16];
    size_t n = 99;
    assert_int_equal(tc_nagios_parse_perfdata(
                         "a=1e3 b=-2.5 c=.5 d=5. e=1e999 f=inf g=0x10 h=+3 i=5e j=nan", p, 16, &n),
                     0);
    /* e overflows, f and j are words, g has a digit in its "unit". */
    assert_int_equal(n, 6);
    assert_string_equal(p[0].label, "a");
    assert_true(p[0].value == 1000);
    assert_true(p[1].value == -2.5);
    assert_true(p[2].value == 0.5);
    assert_true(p[3].value == 5);
    assert_string_equal(p[4].label, "h");
    assert_true(p[4].value == 3);
    assert_string_equal(p[5].label, "i"); /* "5e": 5 with unit "e" */
    assert_string_equal(p[5].uom, "e");
    for (size_t i = 0; i < n; i++)
        assert_true(isfinite(p[i].value));
}

static void test_limits_of_label_and_unit(void **unused)
{
    char buf[512];
    char label63[64], label64[65];
    memset(label63, 'x', 63);
    label63[63] = '\0';
    memset(label64, 'y', 64);
    label64[64] = '\0';
    snprintf(buf, sizeof buf, "%s=1 %s=2 u7=1abcdefg u8=1abcdefgh", label63, label64);
    tc_perf_t p[16];
    size_t n;
    assert_int_equal(tc_nagios_parse_perfdata(buf, p, 16, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].label, label63);
    assert_string_equal(p[1].label, "u7");
    assert_string_equal(p[1].uom, "abcdefg");
}

static void test_long_output_perfdata(void **unused)
{
    tc_check_result_t *r = s_parse("OK - main | a=1\n"
                                   "long text x=9\n"
                                   "more text | b=2ms\n"
                                   "c=3%\n"
                                   "d=4\n");
    assert_string_equal(r->output, "OK - main");
    assert_int_equal(r->nperf, 4);
    assert_string_equal(r->perf[0].label, "a");
    assert_string_equal(r->perf[1].label, "b");
    assert_string_equal(r->perf[1].uom, "ms");
    assert_string_equal(r->perf[2].label, "c");
    assert_string_equal(r->perf[2].uom, "%");
    assert_string_equal(r->perf[3].label, "d");

    /* Long text without '|' is text, even if it looks like perfdata. */
    r = s_parse("OK\nx=1\ny=2\n");
    assert_string_equal(r->output, "OK");
    assert_int_equal(r->nperf, 0);
}

static void test_at_most_perf_max_items(void **unused)
{
    char buf[1024] = "OK |";
    for (int i = 0; i < 40; i++) {
        char item[16];
        snprintf(item, sizeof item, " p%d=%d", i, i);
        strcat(buf, item);
    }
    tc_check_result_t *r = s_parse(buf);
    assert_int_equal(r->nperf, TC_PERF_MAX);
    for (int i = 0; i < TC_PERF_MAX; i++)
        assert_true(r->perf[i].value == i);

    tc_perf_t p[3];
    size_t n;
    assert_int_equal(tc_nagios_parse_perfdata("a=1 b=2 c=3 d=4", p, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(tc_nagios_parse_perfdata("a=1", NULL, 0, &n), 0);
    assert_int_equal(n, 0);
}

static void test_hostile_bytes(void **unused)
{
    tc_check_result_t r;
    /* NUL inside, invalid UTF-8, control characters. */
    static const char raw[] = "OK\0 hidden \xff\x01tail|a=1\0b=2";
    assert_int_equal(tc_nagios_parse(raw, sizeof raw - 1, &r), 0);
    assert_string_equal(r.output, "OK  hidden ? tail");
    assert_int_equal(r.nperf, 2);
    assert_string_equal(r.perf[1].label, "b");

    /* Labels with control characters are refused; invalid UTF-8 is mended. */
    static const char raw2[] = "X | 'a\x01"
                               "b'=1 '\xc3('=2";
    assert_int_equal(tc_nagios_parse(raw2, sizeof raw2 - 1, &r), 0);
    assert_int_equal(r.nperf, 1);
    assert_string_equal(r.perf[0].label, "?(");

    /* Empty and degenerate input. */
    assert_int_equal(tc_nagios_parse(NULL, 0, &r), 0);
    assert_string_equal(r.output, "");
    assert_int_equal(r.nperf, 0);
    assert_int_equal(tc_nagios_parse("|||\n|\n", 6, &r), 0);
    assert_string_equal(r.output, "");
    assert_int_equal(r.nperf, 0);
    assert_int_equal(tc_nagios_parse(NULL, 3, &r), TC_EINVAL);
    assert_int_equal(tc_nagios_parse("x", 1, NULL), TC_EINVAL);
    size_t n;
    assert_int_equal(tc_nagios_parse_perfdata(NULL, NULL, 0, &n), TC_EINVAL);
}

static void test_output_truncated_at_character_boundary(void **unused)
{
    size_t len = 3000;
    char *buf = malloc(len);
    for (size_t i = 0; i < len; i += 2) {
        buf[i] = (char)0xc3; /* é */
        buf[i + 1] = (char)0xa9;
    }
    tc_check_result_t r;
    assert_int_equal(tc_nagios_parse(buf, len, &r), 0);
    size_t out = strlen(r.output);
    assert_true(out <= TC_TEXT_MAX - 1);
    assert_true(out >= TC_TEXT_MAX - 3);
    assert_int_equal(out % 2, 0); /* never half a character */
    free(buf);

    /* A megabyte of leading blanks then text: found, trimmed. */
    len = 1 << 20;
    buf = malloc(len);
    memset(buf, ' ', len);
    memcpy(buf + len - 5, "OK |x", 5);
    assert_int_equal(tc_nagios_parse(buf, len, &r), 0);
    assert_string_equal(r.output, "OK");
    free(buf);
}

/* Deterministic pseudo-random bytes: the parser must never crash, read out
 * of bounds (buffers are exactly sized for ASan) or produce output that the
 * wire validation would refuse. */
static void test_random_input_is_safe(void **unused)
{
    static const char alphabet[] = "ab =;:@~'|\n\r\t.-+e0123456789U%\xc3\xa9\xff";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 20000; iter++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = (size_t)(x % 300);
        char *buf = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (iter & 1) ? (char)(x & 0xff) : alphabet[x % (sizeof alphabet - 1)];
        }
        tc_msg_t m;
        memset(&m, 0, sizeof m);
        m.version = TC_PROTOCOL_VERSION;
        snprintf(m.sender, sizeof m.sender, "fuzz");
        m.seq = 1;
        m.kind = TC_MSG_CHECK_RESULT;
        snprintf(m.u.check.check, TC_ID_MAX, "c");
        snprintf(m.u.check.service, TC_ID_MAX, "s");
        snprintf(m.u.check.host, TC_ID_MAX, "h");
        m.u.check.attempt = m.u.check.max_attempts = 1;
        assert_int_equal(tc_nagios_parse(buf, len, &m.u.check), 0);
        assert_true(m.u.check.nperf <= TC_PERF_MAX);
        for (size_t i = 0; i < m.u.check.nperf; i++) {
            assert_true(m.u.check.perf[i].label[0] != '\0');
            assert_true(strlen(m.u.check.perf[i].uom) < TC_UOM_MAX);
        }
        char why[128];
        assert_int_equal(tc_msg_validate(&m, why, sizeof why), 0);
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_and_full_perfdata),
        cmocka_unit_test(test_output_trimmed_without_perfdata),
        cmocka_unit_test(test_quoted_labels_and_ranges),
        cmocka_unit_test(test_malformed_items_are_skipped),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_limits_of_label_and_unit),
        cmocka_unit_test(test_long_output_perfdata),
        cmocka_unit_test(test_at_most_perf_max_items),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_output_truncated_at_character_boundary),
        cmocka_unit_test(test_random_input_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
