/* Security incidents (issue 12, PagerDuty's security incident response): a
 * need-to-know group is paged, internal updates reach it alone, nothing
 * goes outside it until the IC and the DPO have both cleared disclosure,
 * and the response checklist is tracked as action items with owners. */
#include "state_fixtures.h"

/* frontend's incident 1, declared SEV-2 (two hosts, 80 of 1000 users),
 * with the roles a SEV-2 gets: carol IC (acknowledged), dave customer
 * liaison and erin internal liaison (both still paged). */
static void s_sev2(fx_t *f)
{
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    fx_check(f, MIN, "web-02", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 2 * MIN, "tocsin", 1, "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 1)->severity, 2);
    static const char *const roles[][2] = {
        {"commander", "carol"}, {"customer_liaison", "dave"}, {"internal_liaison", "erin"}};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            fx_act(f, 2 * MIN, "tocsin", 1, "assign", roles[i][0], roles[i][1], "300000", NULL), 0);
    assert_int_equal(fx_act(f, 2 * MIN, "carol", 1, "ack", NULL, NULL, NULL, NULL), 0);
}

static void test_flag_restricts_paging(void **state)
{
    fx_t *f = *state;
    s_sev2(f);
    size_t n;
    assert_int_equal(tc_state_components(f->st, &n)[0].status, TC_COMP_PARTIAL_OUTAGE);
    assert_int_equal(fx_act(f, 3 * MIN, "alice", 1, "security", NULL, NULL, NULL, "odd logins"), 0);
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_true(inc->security);
    assert_int_equal(inc->severity, 1);
    assert_int_equal(inc->flagged_severity, 2);
    const tc_timeline_t *t = fx_entry(f, "security");
    assert_non_null(strstr(t->text, "odd logins"));
    assert_non_null(strstr(t->text, "security team (kate, leo)"));
    assert_non_null(strstr(t->text, "14 checklist steps added"));
    assert_non_null(fx_entry(f, "severity"));
    /* The liaisons' pages stop: no escalation for them any more. */
    tc_timer_t due;
    assert_false(tc_state_next_deadline(f->st, &due) && !strcmp(due.kind, "escalate"));
    /* Customers see no more than before: the component stays as it was. */
    assert_int_equal(tc_state_components(f->st, &n)[0].status, TC_COMP_PARTIAL_OUTAGE);
    assert_null(fx_topic(f, "component.updated"));
    /* Who may be brought in: the group only. */
    static const struct {
        const char *role, *person;
        int rc;
        bool paged;
    } rows[] = {
        {"customer_liaison", "frank", TC_EINVAL, false},
        {"sme", "alice", TC_EINVAL, false},
        {"dpo", "grace", 0, true},
        {"security.kate", "kate", 0, true},
        {"security.bob", "bob", 0, true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc =
            fx_act(f, 4 * MIN, "tocsin", 1, "assign", rows[i].role, rows[i].person, "300000", NULL);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%s): rc %d (%s)", i, rows[i].role, rc, f->why);
        if (rc) {
            assert_non_null(strstr(f->why, "need-to-know group"));
            continue;
        }
        char topic[80];
        snprintf(topic, sizeof topic, "page.%s", rows[i].person);
        const tc_broadcast_t *b = fx_topic(f, topic);
        assert_non_null(b);
        assert_non_null(strstr(b->detail, "SECURITY, need to know only"));
        assert_non_null(strstr(b->detail, "bridge: https://meet.example.com/incident-1"));
    }
    /* A maintenance-style re-page of everyone reaches the group only. */
    assert_null(fx_topic(f, "page.dave"));
}

static void test_checklist_owners(void **state)
{
    fx_t *f = *state;
    s_sev2(f);
    assert_int_equal(fx_act(f, 3 * MIN, "alice", 1, "security", NULL, NULL, NULL, NULL), 0);
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_int_equal(inc->nactions, 14);
    static const struct {
        size_t i;
        const char *text, *owner;
    } rows[] = {
        {0, "Stop the attack in progress.", "kate"}, {2, "Assemble the response team.", "carol"},
        {5, "Identify compromised data.", "dpo"}, /* nobody holds it yet */
        {11, "Involve law enforcement.", "dpo"},     {13, "External communication", "carol"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const tc_action_item_t *it = &inc->actions[rows[r].i];
        assert_true(it->checklist);
        assert_int_equal(it->number, rows[r].i + 1);
        assert_non_null(strstr(it->text, rows[r].text));
        assert_string_equal(it->owner, rows[r].owner);
    }
    /* The DPO comes: the DPO's steps are hers; command changes hands: the
     * IC's steps go with it. */
    assert_int_equal(fx_act(f, 4 * MIN, "tocsin", 1, "assign", "dpo", "grace", "300000", NULL), 0);
    assert_int_equal(fx_act(f, 5 * MIN, "carol", 1, "handoff", "hank", "300000", NULL, NULL), 0);
    inc = fx_inc(f, 1);
    assert_string_equal(inc->actions[5].owner, "grace");
    assert_string_equal(inc->actions[11].owner, "grace");
    assert_string_equal(inc->actions[2].owner, "hank");
    assert_string_equal(inc->actions[0].owner, "kate");
    /* Steps are done like any action item; follow-ups still fit. */
    assert_int_equal(fx_act(f, 6 * MIN, "kate", 1, "item", "done", "1", NULL, NULL), 0);
    assert_int_equal(fx_act(f, 6 * MIN, "kate", 1, "item", "add", "kate", NULL, "rotate keys"), 0);
    assert_int_equal(fx_inc(f, 1)->actions[0].done_ms, 6 * MIN);
    assert_false(fx_inc(f, 1)->actions[14].checklist);
}

static void test_restricted_internal_updates(void **state)
{
    fx_t *f = *state;
    s_sev2(f);
    assert_int_equal(fx_act(f, 3 * MIN, "alice", 1, "security", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 4 * MIN, "tocsin", 1, "assign", "dpo", "grace", "300000", NULL), 0);
    assert_int_equal(fx_act(f, 4 * MIN, "tocsin", 1, "assign", "security.kate", "kate", "0", NULL),
                     0);
    assert_int_equal(fx_draft(f, 5 * MIN, "kate", 1, false, "db-01 shows a web shell"), 0);
    /* Not on the general internal channel: to each of the group's pages. */
    assert_null(fx_topic(f, "status."));
    assert_int_equal(fx_count(f, "page."), 3);
    static const char *const group[] = {"page.carol", "page.grace", "page.kate"};
    for (size_t i = 0; i < 3; i++) {
        const tc_broadcast_t *b = fx_topic(f, group[i]);
        assert_non_null(b);
        assert_int_equal(b->kind, TC_BCAST_REMINDER);
        assert_non_null(strstr(b->detail, "RESTRICTED update 1"));
        assert_non_null(strstr(b->detail, "db-01 shows a web shell"));
    }
    assert_null(fx_topic(f, "page.dave"));
    const tc_update_t *u = tc_state_update(f->st, 1, 1);
    assert_true(u->restricted);
    assert_int_equal(u->status, TC_UPD_PUBLISHED);
    /* The incident's own broadcast does not quote it. */
    const tc_broadcast_t *b = fx_topic(f, "incident.updated");
    assert_non_null(b);
    assert_null(strstr(b->detail, "web shell"));
    assert_non_null(strstr(b->detail, "restricted internal update 1"));
}

static void test_disclosure_holds_external(void **state)
{
    fx_t *f = *state;
    f->policy.ic_quiet_reminder_ms = 0; /* update reminders alone here */
    fx_reconfigure(f);
    s_sev2(f);
    /* Before the flag the first update was due 5 minutes after the
     * declaration; the flag holds it. */
    assert_int_equal(fx_inc(f, 1)->next_update_due_ms, 7 * MIN);
    assert_int_equal(fx_act(f, 3 * MIN, "alice", 1, "security", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 1)->next_update_due_ms, 0);
    tc_timer_t due;
    assert_int_equal(fx_fire_all(f, 3 * HOUR), 0); /* nothing is overdue while held */
    assert_int_equal(fx_act(f, 4 * MIN, "tocsin", 1, "assign", "dpo", "grace", "0", NULL), 0);
    assert_int_equal(fx_draft(f, 5 * MIN, "dave", 1, true, "We are investigating an issue."), 0);
    assert_non_null(strstr(fx_entry(f, "update")->text, "held until the IC and the DPO clear"));
    assert_int_equal(fx_act(f, 6 * MIN, "carol", 1, "update", "approve", "1", NULL, NULL), 0);
    static const struct {
        const char *actor, *action, *arg;
        int rc;
        const char *why;
    } rows[] = {
        {"carol", "update", "publish", TC_EINVAL, "so far: IC not yet, DPO not yet"},
        {"alice", "security", "clear", TC_EINVAL,
         "only the incident commander (carol) and the data protection officer (grace)"},
        {"carol", "security", "later", TC_EINVAL, "security wants"},
        {"carol", "security", "clear", 0, NULL},
        {"carol", "security", "clear", TC_EINVAL, "the data protection officer has not yet"},
        {"carol", "update", "publish", TC_EINVAL, "so far: IC cleared, DPO not yet"},
        {"grace", "security", "clear", 0, NULL},
        {"grace", "security", "clear", TC_EINVAL, "already cleared"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = fx_act(f, 10 * MIN, rows[i].actor, 1, rows[i].action, rows[i].arg,
                        !strcmp(rows[i].action, "update") ? "1" : NULL, NULL, NULL);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d (%s)", i, rc, f->why);
        if (rows[i].why && !strstr(f->why, rows[i].why))
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, f->why, rows[i].why);
    }
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_int_equal(inc->disclosure_ic_ms, 10 * MIN);
    assert_int_equal(inc->disclosure_dpo_ms, 10 * MIN);
    assert_non_null(strstr(fx_entry(f, "disclosure")->text, "cleared by both"));
    /* Now the cadence starts, from the clearance, and customers may hear
     * what it is: the component shows the severity it has. */
    assert_int_equal(inc->next_update_due_ms, 15 * MIN);
    size_t n;
    assert_int_equal(tc_state_components(f->st, &n)[0].status, TC_COMP_MAJOR_OUTAGE);
    assert_int_equal(fx_act(f, 11 * MIN, "carol", 1, "update", "publish", "1", NULL, NULL), 0);
    assert_non_null(fx_topic(f, "status.external"));
    /* The reminder of a security incident goes to its IC, not to the
     * liaison outside the group. */
    assert_int_equal(fx_draft(f, 12 * MIN, "kate", 1, false, "contained"), 0);
    assert_int_equal(fx_fire_all(f, 40 * MIN), 1);
    assert_non_null(fx_topic(f, "page.carol"));
    assert_null(fx_topic(f, "page.dave"));
    (void)due;
}

/* Without keys nobody has a name: each clear counts for the next one owed;
 * a flag on an alert declares it. */
/* Disclosure may be cleared after resolution, for the public report. */
static void test_clear_after_resolution(void **state)
{
    fx_t *f = *state;
    s_sev2(f);
    assert_int_equal(fx_act(f, 3 * MIN, "alice", 1, "security", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 3 * MIN, "tocsin", 1, "assign", "dpo", "grace", "0", NULL), 0);
    fx_check(f, 20 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    fx_check(f, 20 * MIN, "web-02", "frontend", TC_STATE_OK, -1);
    assert_int_equal(fx_inc(f, 1)->state, TC_INC_RESOLVED);
    assert_int_equal(fx_draft(f, 21 * MIN, "dave", 1, true, "An incident was resolved."), 0);
    assert_int_equal(fx_act(f, 21 * MIN, "carol", 1, "update", "approve", "1", NULL, NULL), 0);
    assert_int_equal(fx_act(f, 21 * MIN, "carol", 1, "update", "publish", "1", NULL, NULL),
                     TC_EINVAL);
    assert_int_equal(fx_act(f, 22 * MIN, "carol", 1, "security", "clear", NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 22 * MIN, "grace", 1, "security", "clear", NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 23 * MIN, "carol", 1, "update", "publish", "1", NULL, NULL), 0);
    /* That update said "investigating": customers are still owed the
     * resolution, update_first after it (rules 3). */
    assert_int_equal(fx_inc(f, 1)->next_update_due_ms, 25 * MIN);
    /* Flagging a resolved incident still needs it reopened. */
    assert_int_equal(fx_act(f, 24 * MIN, "carol", 1, "security", NULL, NULL, NULL, NULL),
                     TC_EINVAL);
}

static void test_plaintext_and_undeclared(void **state)
{
    fx_t *f = *state;
    fx_check(f, MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_false(fx_inc(f, 1)->declared);
    assert_int_equal(fx_act(f, 2 * MIN, "plaintext", 1, "security", NULL, NULL, NULL, NULL), 0);
    const tc_incident_t *inc = fx_inc(f, 1);
    assert_true(inc->declared);
    assert_int_equal(inc->severity, 1);
    assert_int_equal(inc->flagged_severity, 0);
    assert_non_null(strstr(fx_entry(f, "security")->text, "declared, SEV-1"));
    assert_string_equal(inc->bridge, "https://meet.example.com/incident-1");
    size_t n;
    assert_int_equal(tc_state_components(f->st, &n)[0].status, TC_COMP_OPERATIONAL);
    assert_int_equal(fx_act(f, 3 * MIN, "plaintext", 1, "security", "clear", NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 1)->disclosure_ic_ms, 3 * MIN);
    assert_int_equal(fx_inc(f, 1)->disclosure_dpo_ms, 0);
    assert_int_equal(fx_act(f, 4 * MIN, "plaintext", 1, "security", "clear", NULL, NULL, NULL), 0);
    assert_int_equal(fx_inc(f, 1)->disclosure_dpo_ms, 4 * MIN);
    assert_int_equal(fx_act(f, 5 * MIN, "plaintext", 1, "security", "clear", NULL, NULL, NULL),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "already cleared"));
    assert_int_equal(tc_state_components(f->st, &n)[0].status, TC_COMP_MAJOR_OUTAGE);
    assert_int_equal(fx_act(f, 6 * MIN, "plaintext", 1, "security", NULL, NULL, NULL, NULL),
                     TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flag_restricts_paging, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checklist_owners, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restricted_internal_updates, fx_setup_unannounced,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_disclosure_holds_external, fx_setup_unannounced,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_clear_after_resolution, fx_setup_unannounced,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_plaintext_and_undeclared, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
