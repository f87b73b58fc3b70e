/* Every incident keeps its follow-up (issue 12): post-mortems, their
 * reminders on the owner's page, meetings, action items and notes work for
 * every resolved incident, not only the newest of its service; a quiet
 * major incident reminds its IC; the first external update counts from
 * when one is owed; all of it survives a snapshot. */
#include "state_fixtures.h"

/* Incident 1 of frontend: declared SEV-2, IC carol, resolved at 30 min. */
static void s_resolved_sev2(fx_t *f)
{
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, MIN, "web-02", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 2 * MIN, "tocsin", 1, "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 2 * MIN, "tocsin", 1, "assign", "commander", "carol", "0", NULL), 0);
    fx_check(f, 30 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    fx_check(f, 30 * MIN, "web-02", "frontend", TC_STATE_OK, -1);
    assert_int_equal(fx_inc(f, 1)->state, TC_INC_RESOLVED);
    assert_int_equal(fx_inc(f, 1)->postmortem_due_ms, 30 * MIN + 24 * HOUR);
}

static void test_older_incident_keeps_followup(void **state)
{
    fx_t *f = *state;
    s_resolved_sev2(f);
    /* A 4-second blip of the same service: incident 2, resolved, newest. */
    fx_check(f, 40 * MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, 40 * MIN + 4000, "web-01", "frontend", TC_STATE_OK, -1);
    assert_int_equal(fx_inc(f, 2)->state, TC_INC_RESOLVED);
    /* Incident 1 is archived now; everything still works on it. */
    static const struct {
        const char *actor, *action, *a1, *a2, *msg;
        const char *kind; /* its timeline entry */
    } rows[] = {
        {"carol", "item", "add", "bob", "add a canary stage", "action"},
        {"carol", "item", "add", "carol", "alert on 5xx", "action"},
        {"bob", "item", "done", "1", NULL, "action"},
        {"carol", "note", NULL, NULL, "root cause: config push", "note"},
        {"carol", "postmortem", "meeting", "0", NULL, "postmortem"}, /* time set below */
        {"carol", "postmortem", "owner", "dave", NULL, "postmortem"},
    };
    char meeting[24];
    snprintf(meeting, sizeof meeting, "%lld", (long long)(30 * MIN + 20 * HOUR));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *a2 = !strcmp(rows[i].a1 ? rows[i].a1 : "", "meeting") ? meeting : rows[i].a2;
        int rc = fx_act(f, 50 * MIN, rows[i].actor, 1, rows[i].action, rows[i].a1, a2, NULL,
                        rows[i].msg);
        if (rc)
            fail_msg("row %zu (%s) refused on the older incident: %s", i, rows[i].action, f->why);
        const tc_timeline_t *t = fx_entry(f, rows[i].kind);
        assert_non_null(t);
        assert_int_equal(t->incident, 1);
    }
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_int_equal(inc->nactions, 2);
    assert_int_equal(inc->actions[0].done_ms, 50 * MIN);
    assert_string_equal(inc->postmortem_owner, "dave");
    assert_int_equal(inc->postmortem_meeting_ms, 30 * MIN + 20 * HOUR);
    /* A meeting after the due time is allowed, and said to be late. */
    snprintf(meeting, sizeof meeting, "%lld", (long long)(30 * MIN + 30 * HOUR));
    assert_int_equal(fx_act(f, 51 * MIN, "carol", 1, "postmortem", "meeting", meeting, NULL, NULL),
                     0);
    assert_non_null(strstr(fx_entry(f, "postmortem")->text, "(after its due time"));
    assert_int_equal(fx_act(f, 51 * MIN, "carol", 1, "postmortem", "meeting", "soon", NULL, NULL),
                     TC_EINVAL);
    /* Its reminder fires, on the owner's page. */
    tc_timer_t due;
    assert_string_equal(fx_fire(f, 30 * MIN + 25 * HOUR, &due), "postmortem");
    assert_int_equal(due.incident, 1);
    const tc_broadcast_t *b = fx_topic(f, "page.dave");
    assert_non_null(b);
    assert_int_equal(b->kind, TC_BCAST_REMINDER);
    assert_non_null(strstr(b->detail, "post-mortem of incident 1 (frontend, SEV-2) is overdue"));
    assert_non_null(fx_entry(f, "reminder"));
    assert_true(fx_inc(f, 1)->postmortem_reminded);
    assert_false(tc_state_next_deadline(f->st, &due));
    assert_int_equal(fx_act(f, 26 * HOUR, "dave", 1, "postmortem", "done", NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 26 * HOUR, "zed", 42, "note", NULL, NULL, NULL, "x"), TC_ENOTFOUND);
    assert_string_equal(f->why, "no incident 42");
}

/* A reminder with nobody owning the post-mortem goes to its own topic. */
static void test_reminder_without_owner(void **state)
{
    fx_t *f = *state;
    fx_check(f, MIN, "api-01", "api", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 2 * MIN, "alice", 1, "declare", NULL, NULL, NULL, NULL), 0);
    fx_check(f, 3 * MIN, "api-01", "api", TC_STATE_OK, -1);
    tc_timer_t due;
    fx_fire(f, 3 * MIN + 24 * HOUR, &due);
    assert_non_null(fx_topic(f, "reminder.postmortem"));
}

/* A declared major incident with no state change and no update for 30
 * minutes reminds its IC, again every 30 minutes it stays quiet. */
static void test_quiet_reminder(void **state)
{
    fx_t *f = *state;
    f->policy.update_first_ms = 24 * HOUR; /* no update reminder in the way */
    fx_reconfigure(f);
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, MIN, "web-02", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 2 * MIN, "tocsin", 1, "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 2 * MIN, "tocsin", 1, "assign", "commander", "carol", "0", NULL), 0);
    tc_timer_t due;
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "quiet");
    assert_int_equal(due.due_ms, 32 * MIN);
    /* A state change is progress: counted from it. */
    assert_int_equal(fx_act(f, 20 * MIN, "carol", 1, "state", "identified", NULL, NULL, NULL), 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_int_equal(due.due_ms, 50 * MIN);
    /* A note or an item is not. */
    assert_int_equal(fx_act(f, 40 * MIN, "carol", 1, "note", NULL, NULL, NULL, "looking"), 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_int_equal(due.due_ms, 50 * MIN);
    /* Fired late (the coordinator was down): once, counted from then. */
    assert_string_equal(fx_fire(f, 2 * HOUR, &due), "quiet");
    const tc_broadcast_t *b = fx_topic(f, "page.carol");
    assert_non_null(b);
    assert_non_null(strstr(b->detail, "no state change and no status update for 30 min"));
    assert_non_null(fx_entry(f, "quiet"));
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_int_equal(due.due_ms, 2 * HOUR + 30 * MIN);
    /* A published update is progress too. */
    assert_int_equal(fx_draft(f, 2 * HOUR + 10 * MIN, "carol", 1, false, "still on it"), 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_int_equal(due.due_ms, 2 * HOUR + 40 * MIN);
    /* Not for a SEV-3, nor once resolved. */
    assert_int_equal(fx_act(f, 2 * HOUR + 11 * MIN, "carol", 1, "sev", "3", NULL, NULL, NULL), 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "update"); /* the cadence started as a SEV-2, not quiet */
    assert_int_equal(fx_act(f, 2 * HOUR + 12 * MIN, "carol", 1, "sev", "1", NULL, NULL, NULL), 0);
    fx_check(f, 2 * HOUR + 13 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    fx_check(f, 2 * HOUR + 13 * MIN, "web-02", "frontend", TC_STATE_OK, -1);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "postmortem");
}

/* The first external update is owed from when the incident starts to owe
 * customers one, not from its declaration. */
static void test_cadence_from_public_severity(void **state)
{
    fx_t *f = *state;
    f->policy.ic_quiet_reminder_ms = 0;
    fx_reconfigure(f);
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 16 * MIN, "alice", 1, "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 1)->severity, 3);
    assert_int_equal(fx_inc(f, 1)->next_update_due_ms, 0); /* SEV-3 owes none */
    fx_check(f, 60 * MIN, "web-02", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_inc(f, 1)->severity, 2);
    assert_int_equal(fx_inc(f, 1)->next_update_due_ms, 65 * MIN);
    tc_timer_t due;
    assert_false(tc_state_next_deadline(f->st, &due) && due.due_ms <= 60 * MIN);
}

/* Everything new in the state comes back from a snapshot byte for byte:
 * incidents (archived too) with their new fields, failing subscribers. */
static void test_snapshot_keeps_it_all(void **state)
{
    fx_t *f = *state;
    s_resolved_sev2(f);
    fx_check(f, 40 * MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1); /* 2, archives 1 */
    fx_check(f, 41 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    char meeting[24];
    snprintf(meeting, sizeof meeting, "%lld", (long long)(3 * HOUR));
    assert_int_equal(fx_act(f, 50 * MIN, "carol", 1, "postmortem", "meeting", meeting, NULL, NULL),
                     0);
    fx_check(f, 60 * MIN, "api-01", "api", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 61 * MIN, "alice", 3, "security", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 61 * MIN, "tocsin", 3, "plan", "out_of_hours", NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 62 * MIN, "tocsin", 3, "assign", "commander", "carol", "0", NULL),
                     0);
    assert_int_equal(fx_act(f, 63 * MIN, "carol", 3, "security", "clear", NULL, NULL, NULL), 0);
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "delivery");
    a->incident = 0; /* a maintenance window's delivery */
    const char *args[] = {"1", "ops-chat", "failing", "600000", "14"};
    for (size_t i = 0; i < 5; i++)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[i]);
    snprintf(a->message, sizeof a->message, "connect timeout");
    assert_int_equal(fx_apply_action(f, 70 * MIN, "notify", a), 0);
    free(a);

    tc_buf_t one = {0}, two = {0};
    assert_int_equal(tc_state_snapshot(f->st, f->seq, 7, &one), 0);
    tc_state_t *copy = tc_state_new(&f->policy);
    uint64_t at = 0;
    assert_int_equal(tc_state_restore(copy, one.data, one.len, &at), 0);
    assert_int_equal(at, f->seq);
    assert_int_equal(tc_state_snapshot(copy, f->seq, 7, &two), 0);
    char why[256] = "";
    if (!tc_state_snapshot_same(one.data, one.len, two.data, two.len, why, sizeof why))
        fail_msg("snapshot differs after restore: %s", why);
    const tc_incident_t *old = tc_state_incident(copy, 1);
    assert_int_equal(old->postmortem_meeting_ms, 3 * HOUR);
    assert_int_equal(old->severity_ms[2], 28 * MIN);
    const tc_incident_t *sec = tc_state_incident(copy, 3);
    assert_int_equal(sec->plan, TC_PLAN_OUT_OF_HOURS);
    assert_int_equal(sec->disclosure_ic_ms, 63 * MIN);
    assert_int_equal(sec->nactions, 14);
    assert_true(sec->actions[0].checklist);
    tc_state_destroy(&copy);
    free(one.data);
    free(two.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_older_incident_keeps_followup, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reminder_without_owner, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_quiet_reminder, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cadence_from_public_severity, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_keeps_it_all, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
