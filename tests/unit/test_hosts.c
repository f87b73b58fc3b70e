/* An incident's host list: the failing hosts of its service, sorted, the
 * first TC_HOSTS_MAX of them, with the counts. The list is rebuilt only
 * when a host joins or leaves the failing set, so each row here moves one
 * check and compares the whole list with what it must be. */
#include "state_fixtures.h"

/* A hard result of `check` on `host` for service frontend. */
static void s_result(fx_t *f, int64_t at, const char *host, const char *check, int state)
{
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = r->time_ms = at;
    r->event.version = 1;
    r->event.kind = TC_MSG_CHECK_RESULT;
    r->event.seq = f->seq;
    snprintf(r->event.sender, TC_ID_MAX, "%s", host);
    tc_check_result_t *c = &r->event.u.check;
    snprintf(c->host, TC_ID_MAX, "%s", host);
    snprintf(c->check, TC_ID_MAX, "%s", check);
    snprintf(c->service, TC_ID_MAX, "frontend");
    c->state = (tc_check_state_t)state;
    c->hard = true;
    c->attempt = c->max_attempts = 1;
    fx_apply(f, r);
    free(r);
}

/* "a,b,c" from the incident's list. */
static void s_list(const tc_incident_t *inc, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < inc->nhosts && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", inc->hosts[i]);
}

static void test_host_list_follows_the_failing_set(void **state)
{
    fx_t *f = *state;
    f->policy.reopen_on_failure = true;
    fx_reconfigure(f);
    static const struct {
        const char *host, *check;
        int state;
        uint64_t incident; /* the incident to look at afterwards */
        const char *hosts;
        uint32_t affected, failing;
        tc_incident_state_t inc_state;
    } rows[] = {
        {"web-02", "http", TC_STATE_CRITICAL, 1, "web-02", 1, 1, TC_INC_TRIGGERED},
        {"web-01", "http", TC_STATE_CRITICAL, 1, "web-01,web-02", 2, 2, TC_INC_TRIGGERED},
        /* A second check of a host already listed: counts change, list not. */
        {"web-01", "disk", TC_STATE_CRITICAL, 1, "web-01,web-02", 2, 3, TC_INC_TRIGGERED},
        {"web-01", "disk", TC_STATE_WARNING, 1, "web-01,web-02", 2, 3, TC_INC_TRIGGERED},
        /* web-01 still fails its http check: it stays. */
        {"web-01", "disk", TC_STATE_OK, 1, "web-01,web-02", 2, 2, TC_INC_TRIGGERED},
        {"web-01", "http", TC_STATE_OK, 1, "web-02", 1, 1, TC_INC_TRIGGERED},
        {"web-03", "http", TC_STATE_CRITICAL, 1, "web-02,web-03", 2, 2, TC_INC_TRIGGERED},
        {"web-02", "http", TC_STATE_OK, 1, "web-03", 1, 1, TC_INC_TRIGGERED},
        {"web-03", "http", TC_STATE_OK, 1, "", 0, 0, TC_INC_RESOLVED},
        /* Within the reopen window the same incident comes back: its list
         * is the new failing set, not the one it had. */
        {"web-04", "http", TC_STATE_CRITICAL, 1, "web-04", 1, 1, TC_INC_TRIGGERED},
    };
    char got[TC_HOSTS_MAX * TC_ID_MAX];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s_result(f, (int64_t)(i + 1) * MIN, rows[i].host, rows[i].check, rows[i].state);
        const tc_incident_t *inc = fx_inc(f, rows[i].incident);
        s_list(inc, got, sizeof got);
        if (strcmp(got, rows[i].hosts) || inc->affected_hosts != rows[i].affected ||
            inc->failing_checks != rows[i].failing || inc->state != rows[i].inc_state)
            fail_msg("row %zu: hosts \"%s\" (%u hosts, %u checks, state %d), want \"%s\" (%u, "
                     "%u, %d)",
                     i, got, inc->affected_hosts, inc->failing_checks, inc->state, rows[i].hosts,
                     rows[i].affected, rows[i].failing, rows[i].inc_state);
    }
}

/* More failing hosts than the list holds: the first TC_HOSTS_MAX in order,
 * and a host that leaves from the front lets the next one in. */
static void test_host_list_is_bounded(void **state)
{
    fx_t *f = *state;
    int n = TC_HOSTS_MAX + 8;
    for (int h = n; h >= 1; h--) {
        char host[16];
        snprintf(host, sizeof host, "web-%03d", h);
        s_result(f, MIN, host, "http", TC_STATE_CRITICAL);
    }
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_int_equal(inc->affected_hosts, n);
    assert_int_equal(inc->nhosts, TC_HOSTS_MAX);
    assert_string_equal(inc->hosts[0], "web-001");
    assert_string_equal(inc->hosts[TC_HOSTS_MAX - 1], "web-032");
    s_result(f, 2 * MIN, "web-001", "http", TC_STATE_OK);
    inc = fx_inc(f, 1);
    assert_int_equal(inc->affected_hosts, n - 1);
    assert_string_equal(inc->hosts[0], "web-002");
    assert_string_equal(inc->hosts[TC_HOSTS_MAX - 1], "web-033");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_list_follows_the_failing_set, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_host_list_is_bounded, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
