/* The agent's YAML configuration: defaults, a full file, and every kind of
 * mistake an operator can make, with the file:line: key message. Real files
 * in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **unused)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tc-config-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **unused)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes `text` (len bytes, or strlen if 0) to DIR/name; returns the path
 * in a static buffer. */
static const char *s_write(const char *name, const char *text, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, len ? len : strlen(text), f);
    fclose(f);
    return path;
}

static void test_defaults(void **unused)
{
    tc_agent_config_t *cfg = tc_agent_config_new();
    assert_non_null(cfg);
    assert_string_equal(cfg->coordinator, "tcp://127.0.0.1:7401");
    assert_string_equal(cfg->spool, "/var/lib/tocsin-agent");
    assert_int_equal(cfg->heartbeat_ms, 5000);
    assert_false(cfg->insecure);
    assert_int_equal(cfg->log_level, TC_LOG_INFO);
    assert_int_equal(cfg->spool_max, (size_t)128 << 20);
    assert_int_equal(cfg->window, 256);
    assert_int_equal(cfg->send_rate, 4000);
    assert_string_equal(cfg->metrics, ""); /* off */
    assert_int_equal(cfg->nchecks, 0);
    assert_string_equal(cfg->id, "");
    tc_agent_config_destroy(&cfg);
    assert_null(cfg);
    tc_agent_config_destroy(&cfg); /* NULL-safe */
}

static const char s_full[] = "agent:\n"
                             "  id: web-01\n"
                             "  coordinator: tcp://127.0.0.1:7501\n"
                             "  spool: /tmp/spool\n"
                             "  heartbeat: 2s\n"
                             "  insecure: true\n"
                             "  log_level: debug\n"
                             "  spool_max: 1GiB\n"
                             "  window: 64\n"
                             "  send_rate: 1000\n"
                             "  metrics: 127.0.0.1:7409\n"
                             "checks:\n"
                             "  - name: frontend-http\n"
                             "    service: frontend\n"
                             "    type: http\n"
                             "    url: http://127.0.0.1:8080/health\n"
                             "    interval: 10s\n"
                             "    timeout: 2s\n"
                             "    retries: 3\n"
                             "    flap: {low: 10, high: 30}\n"
                             "  - name: db-port\n"
                             "    service: database\n"
                             "    type: tcp\n"
                             "    target: 127.0.0.1:5432\n"
                             "  - name: root-disk\n"
                             "    service: host\n"
                             "    type: exec\n"
                             "    command: /usr/lib/nagios/plugins/check_disk -w 10% -c 5% -p /\n"
                             "    interval: 250ms\n"
                             "    retries: 100\n"
                             "    flap: false\n"
                             "  - name: load\n"
                             "    service: host\n"
                             "    type: exec\n"
                             "    command: /bin/true\n"
                             "    flap:\n"
                             "      high: 40\n";

static void test_full_file(void **unused)
{
    char err[512] = "";
    tc_agent_config_t *cfg = tc_agent_config_new();
    int rc = tc_agent_config_load(cfg, s_write("full.yaml", s_full, 0), err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(cfg->id, "web-01");
    assert_string_equal(cfg->coordinator, "tcp://127.0.0.1:7501");
    assert_string_equal(cfg->spool, "/tmp/spool");
    assert_int_equal(cfg->heartbeat_ms, 2000);
    assert_true(cfg->insecure);
    assert_int_equal(cfg->log_level, TC_LOG_DEBUG);
    assert_int_equal(cfg->spool_max, (size_t)1 << 30);
    assert_int_equal(cfg->window, 64);
    assert_int_equal(cfg->send_rate, 1000);
    assert_string_equal(cfg->metrics, "127.0.0.1:7409");
    assert_int_equal(cfg->nchecks, 4);

    const tc_check_def_t *c = &cfg->checks[0];
    assert_string_equal(c->name, "frontend-http");
    assert_string_equal(c->service, "frontend");
    assert_int_equal(c->type, TC_CHECK_HTTP);
    assert_string_equal(c->arg, "http://127.0.0.1:8080/health");
    assert_int_equal(c->interval_ms, 10000);
    assert_int_equal(c->timeout_ms, 2000);
    assert_int_equal(c->retries, 3);
    assert_int_equal(c->line, 13);
    assert_true(c->flap.enabled);
    assert_int_equal(c->flap.low, 10);
    assert_int_equal(c->flap.high, 30);

    c = &cfg->checks[1]; /* defaults */
    assert_int_equal(c->type, TC_CHECK_TCP);
    assert_string_equal(c->arg, "127.0.0.1:5432");
    assert_int_equal(c->interval_ms, 10000);
    assert_int_equal(c->timeout_ms, 5000);
    assert_int_equal(c->retries, 3);
    assert_true(c->flap.enabled); /* on by default, Nagios' thresholds */
    assert_int_equal(c->flap.low, 5);
    assert_int_equal(c->flap.high, 20);

    c = &cfg->checks[2];
    assert_int_equal(c->type, TC_CHECK_EXEC);
    assert_string_equal(c->arg, "/usr/lib/nagios/plugins/check_disk -w 10% -c 5% -p /");
    assert_int_equal(c->interval_ms, 250);
    assert_int_equal(c->retries, 100);
    assert_false(c->flap.enabled);

    c = &cfg->checks[3];
    assert_true(c->flap.enabled);
    assert_int_equal(c->flap.low, 5);
    assert_int_equal(c->flap.high, 40);
    tc_agent_config_destroy(&cfg);
}

static void test_empty_and_partial_files(void **unused)
{
    char err[512];
    tc_agent_config_t *cfg = tc_agent_config_new();
    assert_int_equal(tc_agent_config_load(cfg, s_write("empty.yaml", "", 0), err, sizeof err), 0);
    assert_int_equal(cfg->nchecks, 0);
    assert_int_equal(tc_agent_config_load(cfg, s_write("p.yaml", "agent:\n  id: a1\nchecks:\n", 0),
                                          err, sizeof err),
                     0);
    assert_string_equal(cfg->id, "a1");
    assert_int_equal(cfg->nchecks, 0);
    assert_string_equal(cfg->coordinator, "tcp://127.0.0.1:7401"); /* default kept */
    tc_agent_config_destroy(&cfg);
}

typedef struct {
    const char *yaml;
    const char *expect; /* substring of the message, after "DIR/bad.yaml" */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {"foo: 1\n", ":1: foo: unknown key"},
    {"agent:\n  id: a\n  bogus: 1\n", ":3: agent.bogus: unknown key"},
    {"agent:\n  id: a\n  id: b\n", ":3: agent.id: key given twice"},
    /* Found by fuzz_config: the first list leaked when the second key failed. */
    {"checks:\n  - name: a\n    service: s\n    type: tcp\n    target: 127.0.0.1:1\nchecks: []\n",
     ":6: checks: key given twice"},
    {"agent: [1, 2]\n", ":1: agent: expected a mapping, found a list"},
    {"agent:\n  id: \"bad id\"\n", ":2: agent.id: invalid id \"bad id\""},
    {"agent:\n  coordinator: http://x\n", ":2: agent.coordinator: invalid endpoint"},
    {"agent:\n  coordinator: tcp://*:7401\n", ":2: agent.coordinator: invalid endpoint"},
    {"agent:\n  heartbeat: 10ms\n", ":2: agent.heartbeat: must be between 100ms and 1h"},
    {"agent:\n  heartbeat: soon\n", ":2: agent.heartbeat: invalid duration \"soon\""},
    {"agent:\n  insecure: maybe\n", ":2: agent.insecure: expected true or false"},
    {"agent:\n  log_level: loud\n", ":2: agent.log_level: expected debug, info, warn or error"},
    {"agent:\n  spool: {a: 1}\n", ":2: agent.spool: expected a scalar value, found a mapping"},
    {"agent:\n  spool: \"\"\n", ":2: agent.spool: must not be empty"},
    {"agent:\n  id: a\n  spool_max: 64MB\n",
     ":3: agent.spool_max: invalid size \"64MB\" (e.g. 64MiB, 1GiB)"},
    {"agent:\n  spool_max: lots\n", ":2: agent.spool_max: invalid size \"lots\""},
    {"agent:\n  spool_max: 512KiB\n",
     ":2: agent.spool_max: must be between 1MiB and 1TiB, found \"512KiB\""},
    {"agent:\n  spool_max: 2TiB\n", ":2: agent.spool_max: must be between 1MiB and 1TiB"},
    {"agent:\n  spool_max: [1]\n", ":2: agent.spool_max: expected a scalar value, found a list"},
    {"agent:\n  window: 0\n", ":2: agent.window: expected an integer from 1 to 65536, found \"0\""},
    {"agent:\n  window: 65537\n", ":2: agent.window: expected an integer from 1 to 65536"},
    {"agent:\n  window: many\n", ":2: agent.window: expected an integer"},
    {"agent:\n  send_rate: -5\n",
     ":2: agent.send_rate: expected an integer from 1 to 1000000, found \"-5\""},
    {"agent:\n  send_rate: 4000/s\n", ":2: agent.send_rate: expected an integer"},
    {"agent:\n  id: a\n  metrics: localhost:7409\n",
     ":3: agent.metrics: expected IP:PORT such as 127.0.0.1:7409, found \"localhost:7409\""},
    {"agent:\n  metrics: 127.0.0.1\n", ":2: agent.metrics: expected IP:PORT"},
    {"agent:\n  metrics: 127.0.0.1:70000\n", ":2: agent.metrics: expected IP:PORT"},
    {"agent:\n  metrics: [1]\n", ":2: agent.metrics: expected a scalar value, found a list"},
    {"checks: {a: 1}\n", ":1: checks: expected a list, found a mapping"},
    {"checks:\n  - 5\n", ":2: checks[0]: expected a mapping, found a scalar"},
    {"checks:\n  - service: s\n    type: exec\n    command: x\n",
     ":2: checks[0]: missing required key \"name\""},
    {"checks:\n  - name: a\n    type: exec\n    command: x\n",
     ":2: checks[0]: missing required key \"service\""},
    {"checks:\n  - name: a\n    service: s\n", ":2: checks[0]: missing required key \"type\""},
    {"checks:\n  - name: a\n    service: s\n    type: ftp\n",
     ":4: checks[0].type: unknown check type \"ftp\""},
    {"checks:\n  - name: a\n    service: s\n    type: tcp\n",
     ":2: checks[0]: missing required key \"target\" for type tcp"},
    {"checks:\n  - name: a\n    service: s\n    type: tcp\n    target: h:1\n    url: http://x\n",
     ":6: checks[0].url: not valid for type tcp (use target)"},
    {"checks:\n  - name: a\n    service: s\n    type: tcp\n    target: nohost\n",
     ":5: checks[0].target: invalid target \"nohost\""},
    {"checks:\n  - name: a\n    service: s\n    type: tcp\n    target: h:70000\n",
     ":5: checks[0].target: invalid target"},
    {"checks:\n  - name: a\n    service: s\n    type: http\n    url: ftp://x/\n",
     ":5: checks[0].url: invalid URL"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "  - name: b\n    service: s\n    type: exec\n    command: x\n    interval: 5x\n",
     ":10: checks[1].interval: invalid duration \"5x\""},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    interval: 50ms\n",
     ":6: checks[0].interval: must be at least 100ms"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    timeout: 1h\n",
     ":6: checks[0].timeout: must be more than 0 and less than 1h"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    timeout: 0s\n",
     ":6: checks[0].timeout: must be more than 0"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    retries: 0\n",
     ":6: checks[0].retries: expected an integer from 1 to 100, found \"0\""},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    retries: 101\n",
     ":6: checks[0].retries: expected an integer from 1 to 100"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    retries: [3]\n",
     ":6: checks[0].retries: expected a scalar value, found a list"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    colour: red\n",
     ":6: checks[0].colour: unknown key"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: \"a\\0b\"\n",
     ":5: checks[0].command: value contains a NUL byte"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "  - name: a\n    service: t\n    type: exec\n    command: y\n",
     ":6: checks[1].name: duplicate check name \"a\" (first at line 2)"},
    {"checks:\n  - name: a b\n    service: s\n    type: exec\n    command: x\n",
     ":2: checks[0].name: invalid id \"a b\""},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    flap: maybe\n",
     ":6: checks[0].flap: expected true or false"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n    flap: [5, 20]\n",
     ":6: checks[0].flap: expected false, true or {low: PERCENT, high: PERCENT}, found a list"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "    flap: {low: 5, hi: 20}\n",
     ":6: checks[0].flap.hi: unknown key (expected low, high)"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "    flap:\n      low: 0\n",
     ":7: checks[0].flap.low: expected a percentage from 1 to 99, found \"0\""},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "    flap: {low: 5, high: 100}\n",
     ":6: checks[0].flap.high: expected a percentage from 1 to 99, found \"100\""},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "    flap: {low: 5%, high: 20}\n",
     ":6: checks[0].flap.low: expected a percentage from 1 to 99, found \"5%\""},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "    flap: {low: 30}\n",
     ":6: checks[0].flap: low (30) must be below high (20)"},
    {"checks:\n  - name: a\n    service: s\n    type: exec\n    command: x\n"
     "    flap: {low: 10, low: 12}\n",
     ":6: checks[0].flap.low: key given twice"},
    {"agent:\n  id: [\n", "YAML syntax error"},
    {"agent:\n  id: a\n---\nagent:\n  id: b\n", ":3: only one YAML document is allowed"},
    {"- 1\n- 2\n", ":1: top level: expected a mapping"},
};

static void test_bad_files(void **unused)
{
    char prefix[128];
    const char *path = NULL;
    for (size_t i = 0; i < sizeof s_bad / sizeof s_bad[0]; i++) {
        char err[512] = "";
        tc_agent_config_t *cfg = tc_agent_config_new();
        path = s_write("bad.yaml", s_bad[i].yaml, 0);
        int rc = tc_agent_config_load(cfg, path, err, sizeof err);
        if (rc != TC_ECONFIG)
            fail_msg("case %zu: expected an error for:\n%s", i, s_bad[i].yaml);
        snprintf(prefix, sizeof prefix, "%s", path);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, s_bad[i].expect))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err, s_bad[i].expect);
        tc_agent_config_destroy(&cfg);
    }
}

static void test_missing_file(void **unused)
{
    char err[512];
    tc_agent_config_t *cfg = tc_agent_config_new();
    assert_int_equal(tc_agent_config_load(cfg, "/nonexistent/agent.yaml", err, sizeof err),
                     TC_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent/agent.yaml: cannot open"));
    tc_agent_config_destroy(&cfg);
}

static void test_failed_load_changes_nothing(void **unused)
{
    char err[512];
    tc_agent_config_t *cfg = tc_agent_config_new();
    assert_int_equal(tc_agent_config_load(cfg, s_write("ok.yaml", s_full, 0), err, sizeof err), 0);
    const char *bad = "agent:\n  id: other\n  heartbeat: 9s\nchecks:\n  - name: z\n";
    assert_int_equal(tc_agent_config_load(cfg, s_write("b.yaml", bad, 0), err, sizeof err),
                     TC_ECONFIG);
    assert_string_equal(cfg->id, "web-01");
    assert_int_equal(cfg->heartbeat_ms, 2000);
    assert_int_equal(cfg->nchecks, 4);
    assert_string_equal(cfg->checks[2].name, "root-disk");
    tc_agent_config_destroy(&cfg);
}

static void test_finish(void **unused)
{
    char err[256];
    tc_agent_config_t *cfg = tc_agent_config_new();
    char host[256] = "";
    gethostname(host, sizeof host);
    int rc = tc_agent_config_finish(cfg, err, sizeof err);
    if (tc_id_valid(host)) {
        assert_int_equal(rc, 0);
        assert_string_equal(cfg->id, host);
    } else {
        assert_int_equal(rc, TC_ECONFIG);
        assert_non_null(strstr(err, "set agent.id or --id"));
    }
    snprintf(cfg->id, sizeof cfg->id, "ok-id");
    snprintf(cfg->coordinator, sizeof cfg->coordinator, "nonsense");
    assert_int_equal(tc_agent_config_finish(cfg, err, sizeof err), TC_ECONFIG);
    assert_non_null(strstr(err, "invalid coordinator endpoint"));
    snprintf(cfg->coordinator, sizeof cfg->coordinator, "ipc:///tmp/x");
    cfg->heartbeat_ms = 50;
    assert_int_equal(tc_agent_config_finish(cfg, err, sizeof err), TC_ECONFIG);
    cfg->heartbeat_ms = 100;
    assert_int_equal(tc_agent_config_finish(cfg, err, sizeof err), 0);
    tc_agent_config_destroy(&cfg);
}

static void test_duration_format(void **unused)
{
    char b[32];
    assert_string_equal(tc_duration_format(2000, b, sizeof b), "2s");
    assert_string_equal(tc_duration_format(1500, b, sizeof b), "1500ms");
    assert_string_equal(tc_duration_format(300000, b, sizeof b), "5m");
    assert_string_equal(tc_duration_format(7200000, b, sizeof b), "2h");
    assert_string_equal(tc_duration_format(0, b, sizeof b), "0ms");
    assert_string_equal(tc_check_type_name(TC_CHECK_HTTP), "http");
}

static void test_size_parse(void **unused)
{
    uint64_t b = 0;
    assert_int_equal(tc_size_parse("1048576", &b), 0);
    assert_int_equal(b, 1048576);
    assert_int_equal(tc_size_parse("512B", &b), 0);
    assert_int_equal(b, 512);
    assert_int_equal(tc_size_parse("64KiB", &b), 0);
    assert_int_equal(b, 64 << 10);
    assert_int_equal(tc_size_parse("64MiB", &b), 0);
    assert_int_equal(b, (uint64_t)64 << 20);
    assert_int_equal(tc_size_parse("1GiB", &b), 0);
    assert_int_equal(b, (uint64_t)1 << 30);
    assert_int_equal(tc_size_parse("1TiB", &b), 0);
    assert_int_equal(b, (uint64_t)1 << 40);
    static const char *bad[] = {"",
                                "MiB",
                                "64 MiB",
                                "64mib",
                                "64MB",
                                "-1",
                                "1.5GiB",
                                "64Mi",
                                "0x10",
                                "99999999999999999999",
                                "17179869184GiB"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tc_size_parse(bad[i], &b) != TC_EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
    assert_int_equal(tc_size_parse(NULL, &b), TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_empty_and_partial_files),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_failed_load_changes_nothing),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_size_parse),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
