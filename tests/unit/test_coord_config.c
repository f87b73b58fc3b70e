/* The coordinator's YAML: defaults, every section, and errors that name
 * file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "coordinator/config.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_path[64];

static void s_write(const char *text)
{
    snprintf(s_path, sizeof s_path, "/tmp/tocsin-ccfg-XXXXXX");
    int fd = mkstemp(s_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_full(void **state)
{
    (void)state;
    s_write("coordinator:\n"
            "  data: /srv/tocsin\n"
            "  rate_limit: 100\n"
            "  test_clock: True\n"
            "policy:\n"
            "  declare_after: 5m\n"
            "  roles_by_severity:\n"
            "    3: [sme, scribe]\n"
            "    5: []\n"
            "  postmortem_due_by_severity: {1: 12h, 3: 72h}\n"
            "services:\n"
            "  frontend: {team: web, users_per_host: 40, total_users: 1000}\n"
            "people:\n"
            "  alice: {}\n");
    tc_coord_config_t cfg;
    tc_coord_config_defaults(&cfg);
    char err[512] = "";
    assert_int_equal(tc_coord_config_load(&cfg, s_path, err, sizeof err), 0);
    assert_string_equal(cfg.data, "/srv/tocsin");
    assert_int_equal(cfg.rate_limit, 100);
    assert_true(cfg.test_clock);
    assert_int_equal(cfg.policy.declare_after_ms, 5 * 60000);
    assert_int_equal(cfg.policy.nroles_by_severity[3], 2);
    assert_string_equal(cfg.policy.roles_by_severity[3][1], "scribe");
    assert_int_equal(cfg.policy.nroles_by_severity[5], 0);
    assert_int_equal(cfg.policy.nroles_by_severity[1], 6); /* default kept */
    assert_int_equal(tc_policy_postmortem_due(&cfg.policy, 1), 12 * 3600000LL);
    assert_int_equal(tc_policy_postmortem_due(&cfg.policy, 2), 24 * 3600000LL);
    assert_int_equal(tc_policy_postmortem_due(&cfg.policy, 3), 72 * 3600000LL);
    assert_int_equal(cfg.policy.nservices, 1);
    assert_string_equal(cfg.policy.services[0].team, "web");
    assert_int_equal(cfg.policy.services[0].total_users, 1000);
    unlink(s_path);
}

/* The parts of the policy for the incident process (issue 12), with
 * their defaults when not given. */
static void test_process_policy(void **state)
{
    (void)state;
    tc_coord_config_t cfg;
    tc_coord_config_defaults(&cfg);
    assert_string_equal(cfg.policy.bridge_url, "");
    assert_int_equal(cfg.policy.out_of_hours_full_response, 2);
    assert_int_equal(cfg.policy.nsecurity_team, 0);
    assert_int_equal(cfg.policy.ic_quiet_reminder_ms, 30 * 60000);
    assert_int_equal(cfg.policy.internal_announce_severities, 1u << 1 | 1u << 2 | 1u << 3);
    s_write("policy:\n"
            "  internal_announce_severities: [1, 4]\n"
            "  bridge_url: \"https://meet.example.com/incident-{{incident}}\"\n"
            "  out_of_hours_full_response: 1\n"
            "  security_team: [kate, leo]\n"
            "  ic_quiet_reminder: 45m\n");
    char err[512] = "";
    assert_int_equal(tc_coord_config_load(&cfg, s_path, err, sizeof err), 0);
    unlink(s_path);
    assert_string_equal(cfg.policy.bridge_url, "https://meet.example.com/incident-{{incident}}");
    assert_int_equal(cfg.policy.out_of_hours_full_response, 1);
    assert_int_equal(cfg.policy.nsecurity_team, 2);
    assert_string_equal(cfg.policy.security_team[1], "leo");
    assert_int_equal(cfg.policy.ic_quiet_reminder_ms, 45 * 60000);
    assert_int_equal(cfg.policy.internal_announce_severities, 1u << 1 | 1u << 4);
    char link[TC_POLICY_URL_MAX];
    tc_policy_bridge(&cfg.policy, 42, link, sizeof link);
    assert_string_equal(link, "https://meet.example.com/incident-42");
    cfg.policy.bridge_url[0] = '\0';
    tc_policy_bridge(&cfg.policy, 42, link, sizeof link);
    assert_string_equal(link, "");
    /* 0 turns the quiet reminder off, and out of hours pages the rest
     * only when asked. */
    s_write("policy: {ic_quiet_reminder: 0s, out_of_hours_full_response: 0}\n");
    assert_int_equal(tc_coord_config_load(&cfg, s_path, err, sizeof err), 0);
    unlink(s_path);
    assert_int_equal(cfg.policy.ic_quiet_reminder_ms, 0);
    assert_int_equal(cfg.policy.out_of_hours_full_response, 0);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } rows[] = {
        {"colour: blue\n", ":1: unknown key \"colour\""},
        {"coordinator:\n  nope: 1\n", ":2: coordinator: unknown key \"nope\""},
        {"coordinator:\n  agents: http://x\n", ":2: coordinator.agents: invalid value"},
        {"policy:\n  declare_after: 5x\n", ":2: policy.declare_after: invalid value \"5x\""},
        {"policy:\n  sev1_share: 1.5\n", ":2: policy.sev1_share: invalid value"},
        {"policy:\n  roles_by_severity:\n    7: [sme]\n", ":3: policy.roles_by_severity: keys"},
        {"policy:\n  roles_by_severity:\n    1: [pilot]\n",
         ":3: policy.roles_by_severity.1: unknown role \"pilot\""},
        {"policy:\n  roles_by_severity:\n    1: sme\n",
         ":3: policy.roles_by_severity.1: must be a list"},
        {"policy:\n  postmortem_due_by_severity: {2: soon}\n",
         ":2: policy.postmortem_due_by_severity.2: invalid duration"},
        {"policy:\n  declare_after: 5m\n  declare_after: 6m\n",
         ":3: policy.declare_after: key given twice"},
        {"services:\n  fe: {users: 3}\n", ":2: services.fe: unknown key \"users\""},
        {"services:\n  fe: {}\n  fe: {}\n", ":3: services.fe: given twice"},
        {"policy:\n  declare_after: 5m\npolicy:\n  declare_after: 6m\n",
         ":3: policy: section given twice"},
        {"services:\n  \"bad name\": {}\n",
         ":2: services: \"bad name\" is not a valid service name"},
        {"coordinator: [1, 2\n", ":2: "},
        {"policy:\n  bridge_url: ftp://x/{{incident}}\n", ":2: policy.bridge_url: invalid value"},
        {"policy:\n  bridge_url: \"https://x/a b\"\n", ":2: policy.bridge_url: invalid value"},
        {"policy:\n  out_of_hours_full_response: 6\n",
         ":2: policy.out_of_hours_full_response: invalid value \"6\""},
        {"policy:\n  ic_quiet_reminder: soon\n", ":2: policy.ic_quiet_reminder: invalid value"},
        {"policy:\n  security_team: kate\n", ":2: policy.security_team: must be a list"},
        {"policy:\n  security_team: [kate, kate]\n",
         ":2: policy.security_team: kate is listed twice"},
        {"policy:\n  security_team: [\"ka te\"]\n",
         ":2: policy.security_team: \"ka te\" is not a person id"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s_write(rows[i].yaml);
        tc_coord_config_t cfg;
        tc_coord_config_defaults(&cfg);
        char err[512] = "";
        int rc = tc_coord_config_load(&cfg, s_path, err, sizeof err);
        unlink(s_path);
        if (rc != TC_ECONFIG || !strstr(err, rows[i].want) || strncmp(err, s_path, strlen(s_path)))
            fail_msg("row %zu: rc %d, error \"%s\", want \"%s\"", i, rc, err, rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_process_policy),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
