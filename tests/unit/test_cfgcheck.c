/* The --check-config report: key-path line lookup in real YAML files, the
 * key file and directory checks, and what is printed (stderr and stdout
 * captured through real files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cfgcheck.h"
#include "error.h"
#include "keys.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/tc-cfgcheck-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_file(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Runs fn with stdout and stderr going to files; returns their texts. */
typedef struct {
    char out[4096], err[4096];
} s_output_t;

static int s_capture(int (*fn)(const tc_cfgcheck_t *, const char *), const tc_cfgcheck_t *ck,
                     const char *arg, s_output_t *o)
{
    char po[128], pe[128];
    snprintf(po, sizeof po, "%s/stdout", s_dir);
    snprintf(pe, sizeof pe, "%s/stderr", s_dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    FILE *fo = fopen(po, "w+"), *fe = fopen(pe, "w+");
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = fn(ck, arg);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    rewind(fo);
    rewind(fe);
    size_t n = fread(o->out, 1, sizeof o->out - 1, fo);
    o->out[n] = '\0';
    n = fread(o->err, 1, sizeof o->err - 1, fe);
    o->err[n] = '\0';
    fclose(fo);
    fclose(fe);
    return rc;
}

static int s_before_start(const tc_cfgcheck_t *ck, const char *unused)
{
    (void)unused;
    return tc_cfgcheck_before_start(ck);
}

static void test_line(void **state)
{
    (void)state;
    char path[128];
    s_file("a.yaml",
           "agent:\n"
           "  id: web-01\n"
           "  key: /etc/k.cert\n"
           "checks:\n"
           "  - name: a\n"
           "    command: /bin/true\n"
           "  - {name: b, command: /bin/false}\n"
           "components:\n"
           "  site: {description: x, services: [web, api]}\n",
           path, sizeof path);
    assert_int_equal(tc_cfgcheck_line(path, "agent"), 2);
    assert_int_equal(tc_cfgcheck_line(path, "agent.key"), 3);
    assert_int_equal(tc_cfgcheck_line(path, "checks[0].command"), 6);
    assert_int_equal(tc_cfgcheck_line(path, "checks[1].command"), 7);
    assert_int_equal(tc_cfgcheck_line(path, "components.site.services[1]"), 9);
    assert_int_equal(tc_cfgcheck_line(path, "agent.spool"), 0);
    assert_int_equal(tc_cfgcheck_line(path, "checks[2].name"), 0);
    assert_int_equal(tc_cfgcheck_line(path, "checks[x]"), 0);
    assert_int_equal(tc_cfgcheck_line(NULL, "agent"), 0);
    assert_int_equal(tc_cfgcheck_line("/nonexistent.yaml", "agent"), 0);
    s_file("bad.yaml", "agent: [\n", path, sizeof path);
    assert_int_equal(tc_cfgcheck_line(path, "agent"), 0);
}

static void s_collect(const char *key, void *arg)
{
    strcat(arg, key);
    strcat(arg, ",");
}

static void test_keys_of_a_mapping(void **state)
{
    (void)state;
    char path[128], names[256] = "", err[256];
    s_file("c.yaml", "components:\n  web: {}\n  api: {}\npolicy: {}\n", path, sizeof path);
    assert_int_equal(tc_cfgcheck_keys(path, "components", s_collect, names, err, sizeof err), 0);
    assert_string_equal(names, "web,api,");
    names[0] = '\0';
    assert_int_equal(tc_cfgcheck_keys(path, "nothing", s_collect, names, err, sizeof err), 0);
    assert_string_equal(names, "");
    assert_int_equal(
        tc_cfgcheck_keys("/nonexistent.yaml", "components", s_collect, names, err, sizeof err),
        TC_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent.yaml: cannot open"));
}

static void test_key_and_dir_checks(void **state)
{
    (void)state;
    tc_cfgcheck_t *ck = tc_cfgcheck_new("tc-test");
    assert_non_null(ck);
    char keys[128], pair[4096], cert[256], missing[256], file[256], nested[300];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    char pub[TC_KEY_TXT], sec[TC_KEY_TXT];
    assert_int_equal(tc_keys_server(keys, pub, sec), 0);
    assert_int_equal(tc_keys_new(keys, TC_KEY_AGENT, "a", pair, sizeof pair), 0);
    snprintf(cert, sizeof cert, "%s/coordinator.cert", keys);
    assert_true(tc_cfgcheck_key(ck, "f.yaml", 3, "agent.key", pair, true));
    assert_true(tc_cfgcheck_key(ck, "f.yaml", 4, "agent.server_key", cert, false));
    assert_int_equal(tc_cfgcheck_errors(ck), 0);
    snprintf(missing, sizeof missing, "%s/nope.cert", s_dir);
    assert_false(tc_cfgcheck_key(ck, "f.yaml", 3, "agent.key", missing, true));
    assert_false(tc_cfgcheck_key(ck, NULL, 0, "--key", "", true));
    assert_int_equal(tc_cfgcheck_errors(ck), 2);
    /* Directories: existing and writable, missing but creatable, under a
     * file (not creatable), a file instead of a directory. */
    assert_true(tc_cfgcheck_dir(ck, NULL, 0, "data", s_dir));
    snprintf(nested, sizeof nested, "%s/new/deeper", s_dir);
    assert_true(tc_cfgcheck_dir(ck, NULL, 0, "data", nested));
    struct stat st;
    assert_int_not_equal(stat(nested, &st), 0); /* nothing created */
    s_file("plain", "x\n", file, sizeof file);
    snprintf(nested, sizeof nested, "%s/sub", file);
    assert_false(tc_cfgcheck_dir(ck, "f.yaml", 7, "agent.spool", nested));
    assert_false(tc_cfgcheck_dir(ck, "f.yaml", 8, "agent.spool", file));
    assert_int_equal(tc_cfgcheck_errors(ck), 4);
    tc_cfgcheck_warn(ck, "f.yaml", 9, "only a %s", "warning");
    assert_int_equal(tc_cfgcheck_errors(ck), 4);

    s_output_t o;
    assert_int_equal(s_capture(tc_cfgcheck_report, ck, "all good", &o), TC_CFGCHECK_EXIT_BAD);
    assert_string_equal(o.out, "");
    char expect[1024];
    snprintf(expect, sizeof expect,
             "f.yaml:3: agent.key: %s: no such file (the public half of a key pair)\n", missing);
    assert_true(strncmp(o.err, expect, strlen(expect)) == 0);
    assert_non_null(strstr(o.err, "\n--key: no key file given\n"));
    snprintf(expect, sizeof expect, "f.yaml:8: agent.spool: %s exists and is not a directory\n",
             file);
    assert_non_null(strstr(o.err, expect));
    assert_non_null(strstr(o.err, "f.yaml:9: warning: only a warning\n"));
    assert_non_null(strstr(o.err, "\ntc-test: 4 errors\n"));
    /* Before a start: errors only, with the reason it does not start. */
    assert_int_equal(s_capture(s_before_start, ck, NULL, &o), TC_CFGCHECK_EXIT_BAD);
    assert_true(strncmp(o.err, "tc-test: cannot start: f.yaml:3: agent.key: ", 44) == 0);
    assert_null(strstr(o.err, "warning"));
    tc_cfgcheck_destroy(&ck);
    assert_null(ck);
}

static void test_ok_and_warnings(void **state)
{
    (void)state;
    tc_cfgcheck_t *ck = tc_cfgcheck_new("tc-test");
    s_output_t o;
    assert_int_equal(s_capture(tc_cfgcheck_report, ck, "f.yaml: 2 checks", &o), 0);
    assert_string_equal(o.out, "ok: f.yaml: 2 checks\n");
    assert_string_equal(o.err, "");
    tc_cfgcheck_warn(ck, "f.yaml", 2, "hm");
    assert_int_equal(s_capture(tc_cfgcheck_report, ck, "f.yaml", &o), 0);
    assert_string_equal(o.err, "f.yaml:2: warning: hm\n");
    /* Warnings before a start are logged, and do not stop it. */
    unsetenv("JOURNAL_STREAM");
    tc_log_init("tc-test", TC_LOG_INFO);
    assert_int_equal(s_capture(s_before_start, ck, NULL, &o), 0);
    assert_non_null(strstr(o.err, " WARN  tc-test: f.yaml:2: hm\n"));
    tc_cfgcheck_destroy(&ck);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keys_of_a_mapping, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_key_and_dir_checks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ok_and_warnings, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
