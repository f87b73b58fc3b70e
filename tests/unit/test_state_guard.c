/* The guard against internal detail in external texts (state_guard.c),
 * table-driven: each row is a text and the word the refusal must name, or
 * NULL where the text is fine for customers. */
#include "state_fixtures.h"

/* A hard CRITICAL result of `check` of service api on `host` with `output`. */
static void s_fail(fx_t *f, int64_t at, const char *host, const char *check, const char *output)
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
    snprintf(c->service, TC_ID_MAX, "api");
    snprintf(c->output, sizeof c->output, "%s", output);
    c->state = TC_STATE_CRITICAL;
    c->hard = true;
    c->attempt = c->max_attempts = 1;
    fx_apply(f, r);
    free(r);
}

static int s_guard(fx_t *f, bool external, const char *title, const char *body)
{
    tc_update_t *u = calloc(1, sizeof *u);
    u->external = external;
    snprintf(u->title, sizeof u->title, "%s", title);
    snprintf(u->body, sizeof u->body, "%s", body);
    f->why[0] = '\0';
    int rc = tc_state_guard(f->st, 1, u, f->why, sizeof f->why);
    free(u);
    return rc;
}

static void test_guard_table(void **state)
{
    fx_t *f = *state;
    s_fail(f, 1000, "web-01.prod.example.com", "checkout-http",
           "HTTP CRITICAL: HTTP/1.1 503 Service Unavailable - 312 bytes in 0.002 second");
    s_fail(f, 2000, "db-02", "pg-replication", "replication lag 4512s on standby pg_standby_2");
    assert_non_null(tc_state_incident(f->st, 1));
    static const struct {
        const char *text, *offending; /* NULL: accepted */
    } rows[] = {
        /* Host names, full and short, any case, at the end of a sentence. */
        {"web-01.prod.example.com is down", "the host web-01.prod.example.com"},
        {"We restarted web-01.", "the host web-01"},
        {"WEB-01 is back", "the host web-01"},
        {"db-02 is slow", "the host db-02"},
        /* IP addresses and ports. */
        {"traffic to 10.0.0.5 failed", "the IP address 10.0.0.5"},
        {"see 10.0.0.5:8080", "the IP address 10.0.0.5"},
        {"the listener on :5432 died", "the port :5432"},
        {"db:5432 refused", "the port db:5432"},
        {"localhost:8080 is fine", "the port localhost:8080"},
        {"route via 2001:db8::1 broken", "the IP address 2001:db8::1"},
        {"fe80::1ff:fe23:4567:890a answered", "the IP address fe80::1ff:fe23:4567:890a"},
        {"::1 only", "the IP address ::1"},
        {"[2001:db8::5]:443 down", "the IP address 2001:db8::5"},
        /* Check names. */
        {"the checkout-http check fails", "the check checkout-http"},
        {"pg-replication is behind", "the check pg-replication"},
        /* Text of the check output: a machine's token, or three words. */
        {"Customers see 503 errors", "\"503\" from the check output of checkout-http@"},
        {"HTTP/1.1 errors", "\"HTTP/1.1\""},
        {"standby pg_standby_2 lags", "\"pg_standby_2\""},
        {"We see 312 errors", "\"312\""},
        {"Pages say: Service Unavailable - sorry", "\"Service Unavailable -\""},
        {"replication lag 4512s", "\"4512s\""},
        /* What customers should read passes. */
        {"We are investigating errors on checkout.", NULL},
        {"Checkout is slow; next update at 14:05 UTC.", NULL},
        {"Update at 14:05:30 UTC, step 2: 30 minutes", NULL},
        {"The service is unavailable for some customers.", NULL},
        {"Web checkout works again for 99% of customers.", NULL},
        {"Version 2 of the app is not affected.", NULL},
        {"We expect service back by Tue 2 Dec 2026, 15:00 UTC.", NULL},
        {"Our web-based dashboard is fine.", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = s_guard(f, true, "Checkout errors", rows[i].text);
        if (!rows[i].offending) {
            if (rc != 0)
                fail_msg("row %zu \"%s\" refused: %s", i, rows[i].text, f->why);
            continue;
        }
        if (rc != TC_EINVAL)
            fail_msg("row %zu \"%s\" accepted", i, rows[i].text);
        if (!strstr(f->why, rows[i].offending) || !strstr(f->why, "internal detail"))
            fail_msg("row %zu \"%s\": \"%s\" lacks \"%s\"", i, rows[i].text, f->why,
                     rows[i].offending);
        /* Internal updates carry everything. */
        assert_int_equal(s_guard(f, false, "Checkout errors", rows[i].text), 0);
    }
    /* The title is guarded too. */
    assert_int_equal(s_guard(f, true, "web-01 down", "We are on it."), TC_EINVAL);
    assert_non_null(strstr(f->why, "the title names the host web-01"));
}

/* The output that opened the incident still counts once its checks are OK
 * again (the resolved announcement): it is kept in the summary. */
static void test_guard_after_recovery(void **state)
{
    fx_t *f = *state;
    s_fail(f, 1000, "api-01", "api-tcp", "connect to 10.1.2.3 port 443 timed out after 2000ms");
    fx_check(f, 2000, "api-01", "api", TC_STATE_OK, -1);
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = r->time_ms = 3000;
    r->event.version = 1;
    r->event.kind = TC_MSG_CHECK_RESULT;
    snprintf(r->event.sender, TC_ID_MAX, "api-01");
    tc_check_result_t *c = &r->event.u.check;
    snprintf(c->host, TC_ID_MAX, "api-01");
    snprintf(c->check, TC_ID_MAX, "api-tcp");
    snprintf(c->service, TC_ID_MAX, "api");
    c->state = TC_STATE_OK;
    c->hard = true;
    fx_apply(f, r);
    free(r);
    assert_int_equal(s_guard(f, true, "Resolved", "Requests failed after 2000ms"), TC_EINVAL);
    if (!strstr(f->why, "\"2000ms\" from the check output of the incident's summary"))
        fail_msg("%s", f->why);
    assert_int_equal(s_guard(f, true, "Resolved", "Everything works again."), 0);
}

/* A host or check named like a word customers read anyway (a component's
 * name, its description, the external templates) is not refused for it;
 * named otherwise, it still is. */
static void test_guard_public_words(void **state)
{
    fx_t *f = *state;
    s_fail(f, 1000, "api", "support", "connection refused");
    assert_int_equal(s_guard(f, true, "Public API errors", "Errors affecting Public API."), 0);
    assert_int_equal(s_guard(f, true, "API errors", "Please contact our support team."), 0);
    s_fail(f, 2000, "db-07", "pgbouncer", "pool exhausted");
    assert_int_equal(s_guard(f, true, "API errors", "pgbouncer is full"), TC_EINVAL);
    assert_non_null(strstr(f->why, "the check pgbouncer"));
    assert_int_equal(s_guard(f, true, "API errors", "db-07 restarted"), TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_guard_table, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_guard_after_recovery, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_guard_public_words, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
