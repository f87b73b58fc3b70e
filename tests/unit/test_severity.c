/* Severity that holds (issue 12): reassessed while an incident is open and
 * only from evidence (users, features, a breach, an operator); recovery
 * never lowers it, a resolved incident keeps it, every change is a timeline
 * entry with its reason, and the time at each severity is counted. */
#include "state_fixtures.h"

enum { CHECK, ACT };

typedef struct {
    int kind;
    int64_t at;
    const char *host;   /* CHECK: host; ACT: action */
    int state;          /* CHECK: check state */
    int users;          /* CHECK: users perfdata (-1: none) */
    const char *arg;    /* ACT: its argument */
    uint32_t severity;  /* afterwards */
    const char *change; /* the "severity" entry this step makes, or NULL for none */
} s_step_t;

static void s_run(fx_t *f, const s_step_t *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const s_step_t *s = &steps[i];
        if (s->kind == CHECK) {
            fx_check(f, s->at, s->host, "frontend", s->state, s->users);
        } else if (fx_act(f, s->at, "alice", 1, s->host, s->arg, NULL, NULL, NULL) != 0) {
            fail_msg("step %zu (%s %s) refused: %s", i, s->host, s->arg ? s->arg : "", f->why);
        }
        const tc_incident_t *inc = fx_inc(f, 1);
        if (inc->severity != s->severity)
            fail_msg("step %zu: SEV-%u, want SEV-%u", i, inc->severity, s->severity);
        const tc_timeline_t *t = fx_entry(f, "severity");
        if (!s->change && t)
            fail_msg("step %zu: unexpected severity entry \"%s\"", i, t->text);
        if (s->change && (!t || !strstr(t->text, s->change)))
            fail_msg("step %zu: severity entry \"%s\" lacks \"%s\"", i, t ? t->text : "(none)",
                     s->change);
        if (t)
            assert_string_equal(t->actor, "tocsin");
    }
}

/* Impact grows and shrinks by checks: it only ever goes up; resolution
 * keeps what it was. */
static void test_checks_only_raise(void **state)
{
    fx_t *f = *state;
    f->policy.postmortem_due_by_severity[1] = 12 * HOUR;
    f->policy.postmortem_due_by_severity[4] = 72 * HOUR;
    fx_reconfigure(f);
    static const s_step_t steps[] = {
        {CHECK, 0, "web-01", TC_STATE_CRITICAL, -1, NULL, 0, NULL},
        {ACT, 1 * MIN, "declare", 0, 0, NULL, 3, NULL}, /* 40 of 1000: said by the declaration */
        {CHECK, 2 * MIN, "web-02", TC_STATE_CRITICAL, -1, NULL, 2,
         "SEV-3 -> SEV-2 (Major): 80 of 1000 users affected (8.0%)"},
        /* web-02 recovers: partial recovery is not evidence of less. */
        {CHECK, 3 * MIN, "web-02", TC_STATE_OK, -1, NULL, 2, NULL},
        {CHECK, 4 * MIN, "web-03", TC_STATE_CRITICAL, 300, NULL, 1,
         "SEV-2 -> SEV-1 (Critical): 300 of 1000 users affected (30.0%)"},
        {CHECK, 5 * MIN, "web-03", TC_STATE_WARNING, 2, NULL, 1, NULL},
        {CHECK, 6 * MIN, "web-03", TC_STATE_OK, -1, NULL, 1, NULL},
        /* Every check OK: resolved, still SEV-1, no reassessment. */
        {CHECK, 9 * MIN, "web-01", TC_STATE_OK, -1, NULL, 1, NULL},
    };
    s_run(f, steps, sizeof steps / sizeof steps[0]);
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_int_equal(inc->state, TC_INC_RESOLVED);
    assert_int_equal(inc->users, 300);
    /* Time at each: SEV-3 1..2 min, SEV-2 2..4, SEV-1 4..9; stopped. */
    assert_int_equal(inc->severity_ms[3], 1 * MIN);
    assert_int_equal(inc->severity_ms[2], 2 * MIN);
    assert_int_equal(inc->severity_ms[1], 5 * MIN);
    assert_int_equal(inc->sev_since_ms, 0);
    /* The post-mortem is due by the severity it kept, not by SEV-4. */
    assert_int_equal(inc->postmortem_due_ms, 9 * MIN + 12 * HOUR);
}

/* What an operator reports is evidence both ways: the numbers it gives may
 * lower the assessment; a breach is SEV-1; `sev` pins it. */
static void test_operator_evidence(void **state)
{
    fx_t *f = *state;
    static const s_step_t steps[] = {
        {CHECK, 0, "web-01", TC_STATE_CRITICAL, -1, NULL, 0, NULL},
        {CHECK, 0, "web-02", TC_STATE_CRITICAL, -1, NULL, 0, NULL},
        {ACT, 1 * MIN, "declare", 0, 0, NULL, 2, NULL},
        {ACT, 2 * MIN, "users", 0, 0, "10", 3,
         "SEV-2 -> SEV-3 (Minor): 10 of 1000 users affected (1.0%)"},
        {ACT, 3 * MIN, "features", 0, 0, "3", 2, "3 of 10 features affected"},
        {ACT, 4 * MIN, "features", 0, 0, "0", 3, "SEV-2 -> SEV-3"},
        /* An operator's own severity is final against numbers... */
        {ACT, 5 * MIN, "sev", 0, 0, "4", 4, NULL},
        {ACT, 6 * MIN, "users", 0, 0, "900", 4, NULL},
        /* ...but not against a breach, the strongest evidence there is. */
        {ACT, 7 * MIN, "security", 0, 0, NULL, 1, "a suspected security or data breach is SEV-1"},
    };
    s_run(f, steps, sizeof steps / sizeof steps[0]);
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_int_equal(inc->severity_ms[2], 2 * MIN); /* 1..2 and 3..4 */
    assert_int_equal(inc->severity_ms[3], 2 * MIN); /* 2..3 and 4..5 */
    assert_int_equal(inc->severity_ms[4], 2 * MIN); /* 5..7 */
    assert_int_equal(inc->sev_since_ms, 7 * MIN);
}

/* An alert that is not declared has no severity at all, however bad. */
static void test_undeclared_has_none(void **state)
{
    fx_t *f = *state;
    static const s_step_t steps[] = {
        {CHECK, 0, "web-01", TC_STATE_CRITICAL, 900, NULL, 0, NULL},
        {CHECK, 1 * MIN, "web-02", TC_STATE_CRITICAL, -1, NULL, 0, NULL},
        {ACT, 2 * MIN, "declare", 0, 0, NULL, 1, NULL},
        {ACT, 3 * MIN, "undeclare", 0, 0, NULL, 0, NULL},
    };
    s_run(f, steps, sizeof steps / sizeof steps[0]);
    assert_int_equal(fx_inc(f, 1)->severity_ms[1], 1 * MIN);
    assert_int_equal(fx_inc(f, 1)->sev_since_ms, 0);
}

/* A resolved SEV-1, reopened, counts on from the reopening; the drill's
 * severity is counted too. */
static void test_reopen_counts_on(void **state)
{
    fx_t *f = *state;
    fx_check(f, 1 * MIN, "web-01", "frontend", TC_STATE_CRITICAL, 400);
    assert_int_equal(fx_act(f, 0 + MIN, "alice", 1, "declare", NULL, NULL, NULL, NULL), 0);
    fx_check(f, 11 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    assert_int_equal(fx_inc(f, 1)->severity, 1);
    assert_int_equal(fx_act(f, 30 * MIN, "alice", 1, "reopen", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 1)->severity, 1);
    assert_int_equal(fx_act(f, 35 * MIN, "alice", 1, "resolve", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 1)->severity_ms[1], 15 * MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checks_only_raise, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_operator_evidence, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_undeclared_has_none, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_counts_on, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
