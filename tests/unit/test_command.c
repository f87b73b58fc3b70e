/* Command and approval (issue 12): only the IC hands command over, or an
 * operator with a recorded --force, and the old IC is told; the IC of
 * record approves external updates; resolving over failing checks needs
 * --force and leaves the alert visible; only the newest incident of a
 * service reopens; an exhausted chain pages its fallback; which plan
 * applies is recorded. */
#include "state_fixtures.h"
#include "wire.h"

/* An open incident 1 of frontend with carol as IC. */
static void s_with_ic(fx_t *f)
{
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, MIN, "tocsin", 1, "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, MIN, "tocsin", 1, "assign", "commander", "carol", "300000", NULL),
                     0);
}

static void test_handoff_consent(void **state)
{
    fx_t *f = *state;
    s_with_ic(f);
    static const struct {
        const char *actor, *to, *timeout, *force;
        int rc;
        const char *why;  /* in the refusal */
        const char *ic;   /* afterwards */
        const char *told; /* the page topic that hears of it, or NULL */
    } rows[] = {
        {"mallory", "mallory", "300000", NULL, TC_EINVAL,
         "only the incident commander (carol) hands over command", "carol", NULL},
        {"mallory", "mallory", "300000", "now", TC_EINVAL, "--force only", "carol", NULL},
        {"carol", "carol", "300000", NULL, TC_EINVAL, "already the incident commander", "carol",
         NULL},
        /* The IC hands over: no notice to herself. */
        {"carol", "dave", "300000", NULL, 0, NULL, "dave", NULL},
        /* dave is unreachable: an operator takes it with --force, and
         * dave is told on his page. */
        {"erin", "erin", "300000", "force", 0, NULL, "erin", "page.dave"},
        /* tocsin (an escalation) may, and so may plaintext (no keys). */
        {"plaintext", "frank", "300000", NULL, 0, NULL, "frank", "page.erin"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = fx_act(f, (int64_t)(i + 2) * MIN, rows[i].actor, 1, "handoff", rows[i].to,
                        rows[i].timeout, rows[i].force, "shift change");
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d, want %d (%s)", i, rc, rows[i].rc, f->why);
        if (rows[i].why && !strstr(f->why, rows[i].why))
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, f->why, rows[i].why);
        assert_string_equal(fx_role(f, 1, "commander"), rows[i].ic);
        if (rc)
            continue;
        const tc_broadcast_t *told = fx_topic(f, rows[i].told ? rows[i].told : "page.carol");
        if (rows[i].told) {
            assert_non_null(told);
            assert_int_equal(told->kind, TC_BCAST_REMINDER);
            assert_non_null(strstr(told->detail, "incident command"));
        } else {
            assert_null(told);
        }
        const tc_timeline_t *t = fx_entry(f, "handoff");
        assert_non_null(t);
        if (rows[i].force)
            assert_non_null(strstr(t->text, "with --force"));
        /* The new IC is paged. */
        assert_non_null(fx_topic(f, "page."));
    }
}

/* `assign ID commander` is no way around the hand-off. */
static void test_assign_commander(void **state)
{
    fx_t *f = *state;
    s_with_ic(f);
    assert_int_equal(fx_act(f, 2 * MIN, "mallory", 1, "assign", "commander", "mallory", NULL, NULL),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "command changes hands with handoff"));
    /* The IC re-pages herself or passes command on; tocsin escalates. */
    assert_int_equal(fx_act(f, 3 * MIN, "carol", 1, "assign", "commander", "dave", NULL, NULL), 0);
    assert_int_equal(fx_act(f, 4 * MIN, "tocsin", 1, "assign", "commander", "erin", NULL, NULL), 0);
    assert_string_equal(fx_role(f, 1, "commander"), "erin");
    /* Other roles anyone may assign. */
    assert_int_equal(fx_act(f, 5 * MIN, "mallory", 1, "assign", "scribe", "bob", NULL, NULL), 0);
}

/* External updates are approved by the IC of record only. */
static void test_approval_by_ic(void **state)
{
    fx_t *f = *state;
    s_with_ic(f);
    assert_int_equal(fx_draft(f, 2 * MIN, "mallory", 1, true, "We are looking into it."), 0);
    static const struct {
        const char *actor, *op;
        int rc;
    } rows[] = {
        {"mallory", "approve", TC_EINVAL}, {"mallory", "publish", TC_EINVAL},
        {"dave", "approve", TC_EINVAL},    {"carol", "approve", 0},
        {"mallory", "publish", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = fx_act(f, 3 * MIN, rows[i].actor, 1, "update", rows[i].op, "1", NULL, NULL);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%s %s): rc %d (%s)", i, rows[i].actor, rows[i].op, rc, f->why);
    }
    assert_non_null(fx_topic(f, "status.external"));
}

static void test_resolve_over_failing_checks(void **state)
{
    fx_t *f = *state;
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, MIN, "web-02", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, MIN, "web-03", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 2 * MIN, "alice", 1, "resolve", NULL, NULL, NULL, NULL), TC_EINVAL);
    assert_non_null(strstr(f->why, "3 checks of frontend still failing (on web-01)"));
    assert_non_null(strstr(f->why, "resolve 1 --force"));
    assert_int_equal(fx_inc(f, 1)->state, TC_INC_TRIGGERED);
    assert_int_equal(fx_act(f, 2 * MIN, "alice", 1, "resolve", "force", NULL, NULL, "stale check"),
                     0);
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_int_equal(inc->state, TC_INC_RESOLVED);
    assert_int_equal(inc->resolved_failing, 3);
    const tc_timeline_t *t = fx_entry(f, "resolve");
    assert_non_null(strstr(t->text, "with --force while 3 checks still failed: stale check"));
    /* The checks still failing are a new incident, right away. */
    assert_non_null(fx_topic(f, "incident.resolved"));
    const tc_broadcast_t *b = fx_topic(f, "incident.opened");
    assert_non_null(b);
    assert_int_equal(b->incident.id, 2);
    inc = fx_inc(f, 2);
    assert_int_equal(inc->failing_checks, 3);
    assert_int_equal(inc->affected_hosts, 3);
    assert_int_equal(inc->users, 120);
    /* It is declared by policy if it lasts, like any alert. */
    tc_timer_t due;
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "declare");
    assert_int_equal(due.incident, 2);
    assert_int_equal(due.due_ms, 2 * MIN + 15 * MIN);
    /* The next failure joins it; recovery resolves it by itself. */
    fx_check(f, 3 * MIN, "web-04", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_inc(f, 2)->failing_checks, 4);
    for (int h = 1; h <= 4; h++) {
        char host[16];
        snprintf(host, sizeof host, "web-%02d", h);
        fx_check(f, 4 * MIN, host, "frontend", TC_STATE_OK, -1);
    }
    assert_int_equal(fx_inc(f, 2)->state, TC_INC_RESOLVED);
    assert_int_equal(fx_inc(f, 2)->resolved_failing, 0);
    /* With every check OK, resolve needs nothing more. */
    fx_check(f, 5 * MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, 6 * MIN, "web-05", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, 7 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    fx_check(f, 7 * MIN, "web-05", "frontend", TC_STATE_WARNING, -1);
    assert_int_equal(fx_act(f, 8 * MIN, "alice", 3, "resolve", NULL, NULL, NULL, NULL), TC_EINVAL);
    assert_non_null(strstr(f->why, "1 check of frontend still failing (on web-05)"));
}

/* Only the service's newest resolved incident reopens: an older one would
 * come back beside the newer one. */
static void test_reopen_only_newest(void **state)
{
    fx_t *f = *state;
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, 2 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    fx_check(f, 3 * MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, 3 * MIN + 4000, "web-01", "frontend", TC_STATE_OK, -1); /* a 4 s blip */
    assert_int_equal(fx_act(f, 5 * MIN, "alice", 1, "reopen", NULL, NULL, NULL, NULL), TC_EINVAL);
    assert_non_null(strstr(f->why, "incident 2 of frontend resolved after incident 1"));
    assert_int_equal(fx_inc(f, 1)->state, TC_INC_RESOLVED);
    assert_int_equal(fx_act(f, 5 * MIN, "alice", 2, "reopen", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 2)->state, TC_INC_INVESTIGATING);
    assert_int_equal(tc_state_open_count(f->st), 1);
}

/* Which plan applies is tocsin's decision; operators may ask for more. */
static void test_plan(void **state)
{
    fx_t *f = *state;
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    static const struct {
        const char *actor, *plan;
        int rc;
        tc_plan_t after;
        const char *text;
    } rows[] = {
        {"alice", "full", TC_EINVAL, TC_PLAN_NONE, NULL},
        {"alice", "out_of_hours", TC_EINVAL, TC_PLAN_NONE, NULL},
        {"tocsin", "sometimes", TC_EINVAL, TC_PLAN_NONE, NULL},
        {"tocsin", "out_of_hours", 0, TC_PLAN_OUT_OF_HOURS,
         "team web's on-call engineer contains it; the incident commander and the other roles "
         "are paged at SEV-2 or above"},
        {"tocsin", "business_hours", TC_EINVAL, TC_PLAN_OUT_OF_HOURS, NULL},
        {"alice", "full", 0, TC_PLAN_FULL, "full response requested by alice"},
        {"alice", "full", TC_EINVAL, TC_PLAN_FULL, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = fx_act(f, 2 * MIN, rows[i].actor, 1, "plan", rows[i].plan, NULL, NULL,
                        i == 3 ? "Sat 14 Nov 2026 22:10 at +01:00, outside business hours" : NULL);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d (%s)", i, rc, f->why);
        assert_int_equal(fx_inc(f, 1)->plan, rows[i].after);
        if (rows[i].text) {
            const tc_timeline_t *t = fx_entry(f, "plan");
            assert_non_null(t);
            if (!strstr(t->text, rows[i].text))
                fail_msg("row %zu: \"%s\"", i, t->text);
        }
    }
}

/* At the end of a chain the fallback takes the role and is paged; it does
 * not escalate again. */
static void test_exhausted_fallback(void **state)
{
    fx_t *f = *state;
    s_with_ic(f);
    assert_int_equal(fx_act(f, 2 * MIN, "carol", 1, "ack", "commander", NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 2 * MIN, "tocsin", 1, "assign", "sme", "alice", "60000", NULL), 0);
    tc_timer_t due;
    assert_string_equal(fx_fire(f, 4 * MIN, &due), "escalate");
    assert_string_equal(due.key, "sme");
    assert_int_equal(fx_act(f, 4 * MIN, "tocsin", 1, "exhausted", "sme", "carol", NULL,
                            "end of the escalation chain"),
                     0);
    assert_string_equal(fx_role(f, 1, "sme"), "carol");
    const tc_broadcast_t *page = fx_topic(f, "page.carol");
    assert_non_null(page);
    assert_int_equal(page->kind, TC_BCAST_PAGE);
    const tc_timeline_t *t = fx_entry(f, "exhausted");
    assert_non_null(strstr(t->text, "alice was the last to not acknowledge"));
    assert_non_null(strstr(t->text, "its fallback carol is paged and holds sme now"));
    /* Nothing further to escalate: the fallback's page waits for her. */
    assert_false(tc_state_next_deadline(f->st, &due));
    assert_true(fx_inc(f, 1)->roles[1].exhausted);
    /* Without a fallback: nobody left, as before. */
    assert_int_equal(fx_act(f, 5 * MIN, "tocsin", 1, "assign", "scribe", "bob", "60000", NULL), 0);
    fx_fire(f, 7 * MIN, &due);
    assert_int_equal(fx_act(f, 7 * MIN, "tocsin", 1, "exhausted", "scribe", NULL, NULL, NULL), 0);
    assert_non_null(strstr(fx_entry(f, "exhausted")->text, "nobody left to page for scribe"));
}

/* A log written before the rules of issue 12 replays as it was lived: its
 * recorded configuration has no rules (0, meaning 1), and under them a
 * resolve over failing checks and a handoff by anyone were accepted, and
 * severity followed the users down. Rules 2 refuse, keep the severity. */
static void test_old_rules_replay_as_written(void **state)
{
    fx_t *f = *state;
    static const struct {
        uint32_t rules;
        bool lenient;
    } rows[] = {{0, true}, {1, true}, {2, false}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tc_state_destroy(&f->st);
        f->seq = 0;
        f->policy.rules = rows[i].rules;
        /* Through the recorded form, as a replay reads it. */
        uint8_t *buf;
        size_t len;
        assert_int_equal(tc_wire_encode_state_config(&f->policy, NULL, &buf, &len), 0);
        tc_policy_t *p = calloc(1, sizeof *p);
        tc_templates_t *tpl = NULL;
        char err[128];
        assert_int_equal(tc_wire_decode_state_config(buf, len, p, &tpl, err, sizeof err), 0);
        free(buf);
        assert_int_equal(tc_policy_rules(p), rows[i].lenient ? 1 : 2);
        f->st = tc_state_new(p);
        free(p);
        tc_templates_destroy(&tpl);
        tc_state_set_templates(f->st, f->templates);

        s_with_ic(f);
        int rc = fx_act(f, 2 * MIN, "mallory", 1, "handoff", "mallory", "300000", NULL, NULL);
        assert_int_equal(rc, rows[i].lenient ? 0 : TC_EINVAL);
        assert_string_equal(fx_role(f, 1, "commander"), rows[i].lenient ? "mallory" : "carol");

        /* api: 100 users per host of 1000; 3 hosts are 30% (SEV-1). */
        for (int h = 1; h <= 3; h++) {
            char host[16];
            snprintf(host, sizeof host, "api-%02d", h);
            fx_check(f, 3 * MIN, host, "api", TC_STATE_CRITICAL, -1);
        }
        assert_int_equal(fx_act(f, 3 * MIN, "alice", 2, "declare", NULL, NULL, NULL, NULL), 0);
        assert_int_equal(fx_inc(f, 2)->severity, 1);
        fx_check(f, 4 * MIN, "api-01", "api", TC_STATE_OK, -1);
        fx_check(f, 4 * MIN, "api-02", "api", TC_STATE_OK, -1);
        assert_int_equal(fx_inc(f, 2)->users, rows[i].lenient ? 100 : 300);
        assert_int_equal(fx_inc(f, 2)->severity, rows[i].lenient ? 2 : 1);

        rc = fx_act(f, 5 * MIN, "alice", 2, "resolve", NULL, NULL, NULL, NULL);
        assert_int_equal(rc, rows[i].lenient ? 0 : TC_EINVAL);
        assert_int_equal(fx_inc(f, 2)->state, rows[i].lenient ? TC_INC_RESOLVED : TC_INC_TRIGGERED);
        /* Under the old rules nothing opened for what still failed. */
        assert_null(tc_state_incident(f->st, 3));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handoff_consent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_assign_commander, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_approval_by_ic, fx_setup_unannounced, fx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_over_failing_checks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_only_newest, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_plan, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_exhausted_fallback, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_old_rules_replay_as_written, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
