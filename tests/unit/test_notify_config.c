/* tocsin-notify's configuration: a full file, defaults, every error path
 * (each naming file:line), subscription matching and the back-off
 * schedule. Real files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "notify_config.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];
static char s_path[128];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/tc-notify-cfg-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    snprintf(s_path, sizeof s_path, "%s/notify.yaml", s_dir);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_write(const char *text)
{
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads `text`; returns the result and leaves the message in `err`. */
static int s_load(const char *text, tc_notify_config_t *cfg, char *err, size_t cap)
{
    s_write(text);
    err[0] = '\0';
    return tc_notify_config_load(cfg, s_path, err, cap);
}

static void test_full_file(void **state)
{
    (void)state;
    char secret[128];
    snprintf(secret, sizeof secret, "%s/pw", s_dir);
    FILE *f = fopen(secret, "w");
    fputs("hunter2\n", f);
    fclose(f);
    char text[2048];
    snprintf(text, sizeof text,
             "notify:\n"
             "  api: tcp://127.0.0.1:9402\n"
             "  publish: tcp://127.0.0.1:9403\n"
             "  state: /tmp/x\n"
             "  retry_first: 2s\n"
             "  retry_max: 1m\n"
             "  give_up_after: 2h\n"
             "  timeout: 3s\n"
             "  failing_after: 2m\n"
             "  page_url: https://status.example.com/\n"
             "  concurrency: 4\n"
             "  log_level: debug\n"
             "smtp:\n"
             "  url: smtp://127.0.0.1:2525\n"
             "  from: status@example.com\n"
             "  username: bot\n"
             "  password_file: %s\n"
             "subscriptions:\n"
             "  - name: ops-chat\n"
             "    type: slack\n"
             "    url: http://127.0.0.1:9000/hook\n"
             "    audience: internal\n"
             "    components: [api, web]\n"
             "    severities: [1, 2]\n"
             "    drill: false\n"
             "  - name: customers\n"
             "    type: email\n"
             "    to: [alice@example.com, bob@example.org]\n"
             "  - name: drills\n"
             "    type: webhook\n"
             "    url: https://hooks.example.com/x?y=1\n"
             "    drill: only\n",
             secret);
    tc_notify_config_t *cfg = tc_notify_config_new();
    char err[512];
    int rc = s_load(text, cfg, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_string_equal(cfg->api, "tcp://127.0.0.1:9402");
    assert_string_equal(cfg->publish, "tcp://127.0.0.1:9403");
    assert_string_equal(cfg->state, "/tmp/x");
    assert_int_equal(cfg->retry_first_ms, 2000);
    assert_int_equal(cfg->retry_max_ms, 60000);
    assert_int_equal(cfg->give_up_ms, 7200000);
    assert_int_equal(cfg->timeout_ms, 3000);
    assert_int_equal(cfg->failing_ms, 120000);
    assert_string_equal(cfg->page_url, "https://status.example.com/");
    assert_int_equal(cfg->concurrency, 4);
    assert_int_equal(cfg->log_level, TC_LOG_DEBUG);
    assert_true(cfg->has_smtp);
    assert_string_equal(cfg->smtp_password, "hunter2");
    assert_string_equal(cfg->smtp_username, "bot");
    assert_int_equal(cfg->nsubs, 3);
    const tc_notify_sub_t *s = &cfg->subs[0];
    assert_string_equal(s->name, "ops-chat");
    assert_int_equal(s->type, TC_NOTIFY_SLACK);
    assert_false(s->external);
    assert_int_equal(s->ncomponents, 2);
    assert_int_equal(s->severities, (1 << 1) | (1 << 2));
    assert_int_equal(s->drill, TC_NOTIFY_DRILL_NO);
    s = tc_notify_config_find(cfg, "customers");
    assert_non_null(s);
    assert_int_equal(s->type, TC_NOTIFY_EMAIL);
    assert_true(s->external);
    assert_int_equal(s->nto, 2);
    assert_string_equal(s->to[1], "bob@example.org");
    assert_int_equal(cfg->subs[2].drill, TC_NOTIFY_DRILL_ONLY);
    assert_null(tc_notify_config_find(cfg, "nobody"));
    tc_notify_config_destroy(&cfg);
    assert_null(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    tc_notify_config_t *cfg = tc_notify_config_new();
    char err[512];
    assert_int_equal(s_load("subscriptions:\n  - {name: a, type: webhook, url: "
                            "'http://h/'}\n",
                            cfg, err, sizeof err),
                     0);
    assert_string_equal(cfg->api, TC_NOTIFY_DEFAULT_API);
    assert_int_equal(cfg->retry_first_ms, 1000);
    assert_int_equal(cfg->retry_max_ms, 300000);
    assert_int_equal(cfg->give_up_ms, 86400000);
    assert_int_equal(cfg->timeout_ms, 10000);
    assert_int_equal(cfg->failing_ms, 600000);
    assert_string_equal(cfg->page_url, "");
    assert_int_equal(cfg->concurrency, 8);
    assert_true(cfg->subs[0].external);
    assert_int_equal(cfg->subs[0].severities, 0);
    assert_int_equal(cfg->subs[0].ncomponents, 0);
    assert_int_equal(cfg->subs[0].drill, TC_NOTIFY_DRILL_NO);
    tc_notify_config_destroy(&cfg);
}

/* Each bad file fails with a message that names file:line and says what
 * is wrong, and leaves the configuration as it was. */
static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
        const char *want;
    } cases[] = {
        {"notify:\n  bogus: 1\n", 2, "notify.bogus: unknown key"},
        {"other: 1\n", 1, "other: unknown key"},
        {"notify: [1]\n", 1, "expected a mapping"},
        {"notify:\n  api: 7402\n", 2, "invalid endpoint"},
        {"notify:\n  api: tcp://*:7402\n", 2, "invalid endpoint"},
        {"notify:\n  retry_first: soon\n", 2, "invalid duration"},
        {"notify:\n  retry_first: 0s\n", 2, "invalid duration"},
        {"notify:\n  timeout: [1]\n", 2, "expected a scalar"},
        {"notify:\n  timeout: 2h\n", 2, "at most 1h"},
        {"notify:\n  concurrency: 0\n", 2, "integer from 1 to 256"},
        {"notify:\n  failing_after: never\n", 2, "invalid duration"},
        {"notify:\n  page_url: status.example.com\n", 2, "ending in '/'"},
        {"notify:\n  page_url: https://status.example.com\n", 2, "ending in '/'"},
        {"notify:\n  page_url: 'https://x/<b>/'\n", 2, "ending in '/'"},
        {"notify:\n  page_url: 'https://x y/'\n", 2, "ending in '/'"},
        {"notify:\n  log_level: loud\n", 2, "debug, info, warn or error"},
        {"notify:\n  insecure: maybe\n", 2, "true or false"},
        {"notify:\n  state: ''\n", 2, "must not be empty"},
        {"notify:\n  api: tcp://127.0.0.1:1\n  api: tcp://127.0.0.1:2\n", 3, "key given twice"},
        {"notify:\n  retry_first: 10s\n  retry_max: 1s\n", 1, "retry_max must not be shorter"},
        {"smtp:\n  url: http://x\n  from: a@b\n", 2, "invalid URL"},
        {"smtp:\n  url: smtp://x\n  from: nobody\n", 3, "invalid e-mail address"},
        {"smtp:\n  url: smtp://x\n", 2, "missing required key \"from\""},
        {"smtp:\n  url: smtp://x\n  from: a@b\n  username: u\n", 4, "go together"},
        {"smtp:\n  url: smtp://x\n  from: a@b\n  password_file: /nonexistent/pw\n", 4,
         "cannot read"},
        {"smtp:\n  url: smtp://x\n  from: a@b\n  port: 25\n", 4, "unknown key"},
        {"subscriptions: {}\n", 1, "expected a list"},
        {"subscriptions:\n  - type: slack\n    url: http://h\n", 2,
         "missing required key \"name\""},
        {"subscriptions:\n  - name: a\n    url: http://h\n", 2, "missing required key \"type\""},
        {"subscriptions:\n  - name: a b\n    type: slack\n    url: http://h\n", 2, "invalid name"},
        {"subscriptions:\n  - name: a\n    type: sms\n", 3, "unknown type"},
        {"subscriptions:\n  - name: a\n    type: slack\n", 2, "missing required key \"url\""},
        {"subscriptions:\n  - name: a\n    type: slack\n    url: ftp://h\n", 4, "invalid URL"},
        {"subscriptions:\n  - name: a\n    type: slack\n    url: 'http://h x'\n", 4, "invalid URL"},
        {"subscriptions:\n  - name: a\n    type: slack\n    url: http://h\n    to: [a@b]\n", 5,
         "not valid for type slack"},
        {"subscriptions:\n  - name: a\n    type: email\n    url: http://h\n", 4,
         "not valid for type email"},
        {"subscriptions:\n  - name: a\n    type: email\n", 2, "missing required key \"to\""},
        {"subscriptions:\n  - name: a\n    type: email\n    to: []\n", 4, "at least one"},
        {"subscriptions:\n  - name: a\n    type: email\n    to: ['x <a@b>']\n", 4,
         "invalid e-mail address"},
        {"subscriptions:\n  - name: a\n    type: email\n    to: [a@b]\n", 2,
         "needs an smtp section"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n    audience: all\n",
         5, "internal or external"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n    components: []\n",
         5, "empty list"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n    components: "
         "api\n",
         5, "expected a list"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n    severities: [6]\n",
         5, "severity from 1 to 5"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n    severities: [0]\n",
         5, "severity from 1 to 5"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n    drill: "
         "sometimes\n",
         5, "true, false or only"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n    colour: red\n", 5,
         "unknown key"},
        {"subscriptions:\n  - name: a\n    type: webhook\n    url: http://h\n"
         "  - name: a\n    type: webhook\n    url: http://h\n",
         5, "duplicate subscription name"},
        {"subscriptions:\n  - 1\n", 2, "expected a mapping"},
        {"notify: {api: [\n", 2, "YAML syntax error"},
        {"notify: {}\n---\nnotify: {}\n", 2, "only one YAML document"},
    };
    char err[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_notify_config_t *cfg = tc_notify_config_new();
        int rc = s_load(cases[i].text, cfg, err, sizeof err);
        if (rc != TC_ECONFIG)
            fail_msg("case %zu: expected TC_ECONFIG, got %d for:\n%s", i, rc, cases[i].text);
        char where[160];
        snprintf(where, sizeof where, "%s:%d: ", s_path, cases[i].line);
        if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, cases[i].want))
            fail_msg("case %zu: message \"%s\" lacks \"%s\" or \"%s\"", i, err, where,
                     cases[i].want);
        /* Untouched. */
        assert_string_equal(cfg->api, TC_NOTIFY_DEFAULT_API);
        assert_int_equal(cfg->nsubs, 0);
        tc_notify_config_destroy(&cfg);
    }
    /* A missing file and a directory. */
    tc_notify_config_t *cfg = tc_notify_config_new();
    assert_int_equal(tc_notify_config_load(cfg, "/nonexistent/x.yaml", err, sizeof err),
                     TC_ECONFIG);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(tc_notify_config_load(cfg, s_dir, err, sizeof err), TC_ECONFIG);
    assert_non_null(strstr(err, "is a directory"));
    tc_notify_config_destroy(&cfg);
}

static tc_update_t s_update(bool external, uint32_t severity, bool drill, const char *comp)
{
    tc_update_t u;
    memset(&u, 0, sizeof u);
    u.incident = 7;
    u.number = 1;
    u.external = external;
    u.severity = severity;
    u.drill = drill;
    if (comp) {
        snprintf(u.components[0].name, TC_ID_MAX, "%s", comp);
        u.ncomponents = 1;
    }
    return u;
}

static void test_matching(void **state)
{
    (void)state;
    tc_notify_sub_t s;
    memset(&s, 0, sizeof s);
    s.external = true;
    tc_update_t u = s_update(true, 2, false, "api");
    assert_true(tc_notify_matches(&s, &u));
    /* Audience. */
    u.external = false;
    assert_false(tc_notify_matches(&s, &u));
    s.external = false;
    assert_true(tc_notify_matches(&s, &u));
    /* Components: a filter matches an update naming one of them; an
     * update with no components matches every filter. */
    snprintf(s.components[0], TC_ID_MAX, "web");
    s.ncomponents = 1;
    assert_false(tc_notify_matches(&s, &u));
    snprintf(s.components[1], TC_ID_MAX, "api");
    s.ncomponents = 2;
    assert_true(tc_notify_matches(&s, &u));
    u.ncomponents = 0;
    assert_true(tc_notify_matches(&s, &u));
    /* Severities; unassessed (0) always matches. */
    s.severities = 1 << 1;
    assert_false(tc_notify_matches(&s, &u));
    u.severity = 1;
    assert_true(tc_notify_matches(&s, &u));
    u.severity = 0;
    assert_true(tc_notify_matches(&s, &u));
    /* Drills. */
    u.drill = true;
    s.drill = TC_NOTIFY_DRILL_NO;
    assert_false(tc_notify_matches(&s, &u));
    s.drill = TC_NOTIFY_DRILL_YES;
    assert_true(tc_notify_matches(&s, &u));
    s.drill = TC_NOTIFY_DRILL_ONLY;
    assert_true(tc_notify_matches(&s, &u));
    u.drill = false;
    assert_false(tc_notify_matches(&s, &u));
    s.drill = TC_NOTIFY_DRILL_YES;
    assert_true(tc_notify_matches(&s, &u));
}

static void test_backoff(void **state)
{
    (void)state;
    int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    for (uint32_t a = 1; a <= 8; a++)
        assert_int_equal(tc_notify_backoff_ms(1000, 60000, a), want[a - 1]);
    assert_int_equal(tc_notify_backoff_ms(1000, 300000, 1000), 300000);
    assert_int_equal(tc_notify_backoff_ms(500, 500, 3), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_matching),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
