/* tocsin-statuspage's settings: defaults, a full file, the same rule for a
 * key and its flag (tc_sp_config_set), and every error path naming
 * file:line. Real files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "sp_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];
static char s_path[128];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/tc-sp-cfg-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    snprintf(s_path, sizeof s_path, "%s/statuspage.yaml", s_dir);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    unlink(s_path);
    return rmdir(s_dir);
}

static int s_load(const char *text, tc_sp_config_t *cfg, char *err, size_t cap)
{
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    err[0] = '\0';
    return tc_sp_config_load(cfg, s_path, err, cap);
}

static void test_defaults(void **state)
{
    (void)state;
    tc_sp_config_t c;
    tc_sp_config_defaults(&c);
    assert_string_equal(c.api, "tcp://127.0.0.1:7402");
    assert_string_equal(c.publish, "tcp://127.0.0.1:7403");
    assert_string_equal(c.out, "./var/statuspage/site");
    assert_string_equal(c.state, "./var/statuspage/state");
    assert_string_equal(c.title, "Status");
    assert_string_equal(c.http, "");
    assert_string_equal(c.url, "");
    assert_int_equal(c.stale_ms, 60000);
    assert_int_equal(c.timeout_ms, 5000);
    assert_false(c.insecure);
    assert_string_equal(c.path, "");
}

static void test_full_file(void **state)
{
    (void)state;
    tc_sp_config_t c;
    tc_sp_config_defaults(&c);
    char err[512];
    assert_int_equal(s_load("statuspage:\n"
                            "  api: tcp://10.0.0.1:7402\n"
                            "  publish: tcp://10.0.0.1:7403\n"
                            "  out: /srv/site\n"
                            "  state: /srv/state\n"
                            "  http: 0.0.0.0:7404\n"
                            "  title: Acme Status\n"
                            "  url: https://status.example.com/\n"
                            "  stale: 2m\n"
                            "  timeout: 500ms\n"
                            "  key: /etc/tocsin/statuspage.cert\n"
                            "  server_key: /etc/tocsin/coordinator.cert\n"
                            "  insecure: no\n"
                            "  log_level: debug\n",
                            &c, err, sizeof err),
                     0);
    assert_string_equal(c.api, "tcp://10.0.0.1:7402");
    assert_string_equal(c.http, "0.0.0.0:7404");
    assert_string_equal(c.title, "Acme Status");
    assert_string_equal(c.url, "https://status.example.com/");
    assert_int_equal(c.stale_ms, 120000);
    assert_int_equal(c.timeout_ms, 500);
    assert_string_equal(c.server_key, "/etc/tocsin/coordinator.cert");
    assert_int_equal(c.log_level, TC_LOG_DEBUG);
    assert_string_equal(c.path, s_path);
    /* A flag over the file: the same rule, the last word. */
    char why[256];
    assert_int_equal(tc_sp_config_set(&c, "http", "[::1]:8080", why, sizeof why), 0);
    assert_string_equal(c.http, "[::1]:8080");
    /* An empty file or section keeps the defaults. */
    tc_sp_config_defaults(&c);
    assert_int_equal(s_load("", &c, err, sizeof err), 0);
    assert_int_equal(s_load("statuspage:\n", &c, err, sizeof err), 0);
    assert_string_equal(c.title, "Status");
}

static void test_set_rules(void **state)
{
    (void)state;
    tc_sp_config_t c;
    tc_sp_config_defaults(&c);
    char why[256];
    static const struct {
        const char *key, *value, *why;
    } bad[] = {
        {"http", "localhost:7404", "needs a numeric ADDR:PORT such as 127.0.0.1:7404"},
        {"http", "127.0.0.1", "needs a numeric ADDR:PORT such as 127.0.0.1:7404"},
        {"url", "https://status.example.com", "needs an http(s) address ending in '/'"},
        {"url", "ftp://x/", "needs an http(s) address ending in '/'"},
        {"stale", "0s", "needs a duration such as 60s"},
        {"timeout", "soon", "needs a duration such as 500ms or 5s"},
        {"title", "", "needs a text of 1 to 199 bytes"},
        {"api", "127.0.0.1:7402", "needs an endpoint such as tcp://127.0.0.1:7402"},
        {"out", "", "needs a directory"},
        {"log_level", "loud", "needs debug, info, warn or error"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(tc_sp_config_set(&c, bad[i].key, bad[i].value, why, sizeof why),
                         TC_EINVAL);
        if (strcmp(bad[i].key, "title") != 0)
            assert_string_equal(why, bad[i].why);
        else
            assert_non_null(strstr(why, "needs a text of 1 to"));
    }
    assert_int_equal(tc_sp_config_set(&c, "colour", "red", why, sizeof why), TC_ENOTFOUND);
    /* Nothing bad was applied. */
    assert_string_equal(c.http, "");
    assert_int_equal(c.stale_ms, 60000);
}

static void test_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
        const char *what;
    } cases[] = {
        {"statuspage:\n  http: localhost:80\n", 2,
         "statuspage.http: needs a numeric ADDR:PORT such as 127.0.0.1:7404, not "
         "\"localhost:80\""},
        {"statuspage:\n  titel: x\n", 2, "statuspage.titel: unknown key"},
        {"statuspage:\n  stale: 1m\n  stale: 2m\n", 3, "stale"},
        {"statuspage:\n  insecure: maybe\n", 2, "statuspage.insecure"},
        {"statuspage:\n  out: [a, b]\n", 2, "statuspage.out"},
        {"status_page:\n  http: 127.0.0.1:7404\n", 1, "status_page: unknown key"},
        {"statuspage: 3\n", 1, "statuspage: expected a mapping"},
        {"- a\n", 1, "top level"},
        {"statuspage:\n  http: 127.0.0.1:7404\n---\nstatuspage: {}\n", 3, "only one YAML document"},
        {"statuspage:\n  http: [127.0.0.1:7404\n", 3, "YAML syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_sp_config_t c;
        tc_sp_config_defaults(&c);
        char err[512], prefix[160];
        assert_int_equal(s_load(cases[i].text, &c, err, sizeof err), TC_ECONFIG);
        snprintf(prefix, sizeof prefix, "%s:%d: ", s_path, cases[i].line);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, cases[i].what))
            fail_msg("case %zu: %s", i, err);
        /* Untouched on error. */
        assert_string_equal(c.http, "");
        assert_string_equal(c.path, "");
    }
    tc_sp_config_t c;
    tc_sp_config_defaults(&c);
    char err[512];
    assert_int_equal(tc_sp_config_load(&c, "/nonexistent/sp.yaml", err, sizeof err), TC_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent/sp.yaml: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_full_file, s_setup, s_teardown),
        cmocka_unit_test(test_set_rules),
        cmocka_unit_test_setup_teardown(test_file_errors, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
