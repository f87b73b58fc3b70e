/* Log line formats: text, JSON, and the journal's priority prefix, written
 * to a real file that stands in for stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "log.h"
#include "tests/unit/json_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char path[64];
    int saved; /* the real stderr */
    int fd;
} s_capture_t;

/* Points fd 2 at a fresh temporary file. */
static void s_capture(s_capture_t *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/tocsin-test-log-XXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    fflush(stderr);
    c->saved = dup(2);
    assert_true(c->saved >= 0);
    assert_int_equal(dup2(c->fd, 2), 2);
}

/* Restores stderr and returns what was written (caller frees). */
static char *s_release(s_capture_t *c)
{
    fflush(stderr);
    assert_int_equal(dup2(c->saved, 2), 2);
    close(c->saved);
    FILE *f = fopen(c->path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    close(c->fd);
    unlink(c->path);
    return buf;
}

/* JOURNAL_STREAM as systemd would set it for the current fd 2. */
static void s_set_journal_stream(int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char v[64];
    snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
}

static void test_text(void **unused)
{
    unsetenv("JOURNAL_STREAM");
    s_capture_t c;
    s_capture(&c);
    tc_log_init("tocsin-test", TC_LOG_INFO);
    tc_log_set_format(TC_LOG_TEXT);
    tc_debug("not shown");
    tc_info("hello %d", 42);
    tc_error("bad thing");
    char *out = s_release(&c);
    assert_false(tc_log_to_journal());
    /* 2026-11-24T08:00:00.123Z INFO  tocsin-test: hello 42 */
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[23], 'Z');
    assert_non_null(strstr(out, " INFO  tocsin-test: hello 42\n"));
    assert_non_null(strstr(nl + 1, " ERROR tocsin-test: bad thing\n"));
    assert_null(strstr(out, "not shown"));
    assert_null(strchr(out, '<'));
    free(out);
}

static void test_journal_text(void **unused)
{
    s_capture_t c;
    s_capture(&c);
    s_set_journal_stream(2);
    tc_log_init("tocsin-test", TC_LOG_DEBUG);
    tc_log_set_format(TC_LOG_TEXT);
    tc_debug("d");
    tc_info("i");
    tc_warn("w");
    tc_error("e: %s", "port in use");
    char *out = s_release(&c);
    assert_true(tc_log_to_journal());
    /* No time, no program name: the journal has both. */
    assert_string_equal(out, "<7>d\n<6>i\n<4>w\n<3>e: port in use\n");
    free(out);
    unsetenv("JOURNAL_STREAM");
}

static void test_journal_stream_elsewhere(void **unused)
{
    /* The variable names another file (stderr was redirected after
     * systemd started us): keep timestamps, no prefix. */
    char other[] = "/tmp/tocsin-test-log-other-XXXXXX";
    int ofd = mkstemp(other);
    assert_true(ofd >= 0);
    s_set_journal_stream(ofd);
    s_capture_t c;
    s_capture(&c);
    tc_log_init("tocsin-test", TC_LOG_INFO);
    tc_info("x");
    char *out = s_release(&c);
    assert_false(tc_log_to_journal());
    assert_non_null(strstr(out, " INFO  tocsin-test: x\n"));
    free(out);
    close(ofd);
    unlink(other);
    /* Garbage in the variable is no journal either. */
    setenv("JOURNAL_STREAM", "12:34:56", 1);
    tc_log_init("tocsin-test", TC_LOG_INFO);
    assert_false(tc_log_to_journal());
    setenv("JOURNAL_STREAM", "", 1);
    tc_log_init("tocsin-test", TC_LOG_INFO);
    assert_false(tc_log_to_journal());
    unsetenv("JOURNAL_STREAM");
}

static void test_json(void **unused)
{
    unsetenv("JOURNAL_STREAM");
    s_capture_t c;
    s_capture(&c);
    tc_log_init("tocsin-test", TC_LOG_INFO);
    tc_log_set_format(TC_LOG_JSON);
    tc_warn("quote \" backslash \\ tab \t bad \xff utf-8");
    tc_info("second");
    char *out = s_release(&c);
    tc_log_set_format(TC_LOG_TEXT);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_true(s_json_valid(out));
    assert_true(strncmp(out, "{\"time\":\"", 9) == 0);
    assert_non_null(strstr(out, "\",\"level\":\"warn\",\"program\":\"tocsin-test\",\"message\":"
                                "\"quote \\\" backslash \\\\ tab \\t bad \xef\xbf\xbd utf-8\"}"));
    char *second = nl + 1;
    char *nl2 = strchr(second, '\n');
    assert_non_null(nl2);
    *nl2 = '\0';
    assert_true(s_json_valid(second));
    assert_non_null(strstr(second, "\"level\":\"info\""));
    free(out);
}

static void test_journal_json(void **unused)
{
    s_capture_t c;
    s_capture(&c);
    s_set_journal_stream(2);
    tc_log_init("tocsin-test", TC_LOG_INFO);
    tc_log_set_format(TC_LOG_JSON);
    tc_error("boom");
    char *out = s_release(&c);
    tc_log_set_format(TC_LOG_TEXT);
    unsetenv("JOURNAL_STREAM");
    /* The priority for journald, then the whole object. */
    assert_true(strncmp(out, "<3>{\"time\":\"", 12) == 0);
    out[strlen(out) - 1] = '\0';
    assert_true(s_json_valid(out + 3));
    assert_non_null(
        strstr(out, "\"level\":\"error\",\"program\":\"tocsin-test\",\"message\":\"boom\"}"));
    free(out);
}

static void test_parse(void **unused)
{
    tc_log_format_t f;
    tc_log_level_t l;
    assert_int_equal(tc_log_format_parse("json", &f), 0);
    assert_int_equal(f, TC_LOG_JSON);
    assert_int_equal(tc_log_format_parse("text", &f), 0);
    assert_int_equal(f, TC_LOG_TEXT);
    assert_int_equal(tc_log_format_parse("JSON", &f), TC_EINVAL);
    assert_int_equal(tc_log_format_parse("", &f), TC_EINVAL);
    assert_int_equal(tc_log_level_parse("warning", &l), 0);
    assert_int_equal(l, TC_LOG_WARN);
    assert_int_equal(tc_log_level_parse("Error", &l), 0);
    assert_int_equal(l, TC_LOG_ERROR);
    assert_int_equal(tc_log_level_parse("loud", &l), TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_journal_text),
        cmocka_unit_test(test_journal_stream_elsewhere),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_journal_json),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
