/* The incident process in the pure state machine: operator actions and
 * their refusals, the declaration deadline, severity, reopening. Time comes
 * only from the records, so minutes pass in microseconds here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN (60 * 1000LL)

typedef struct {
    tc_policy_t policy;
    tc_state_t *st;
    uint64_t seq;
    tc_state_out_t out;
} fx_t;

static int s_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    tc_policy_defaults(&f->policy);
    /* Repeats of pending pages are deadlines too; these tests are about
     * escalation and the lifecycle, and test_pages about repeats. */
    f->policy.page_repeat_ms = 0;
    tc_service_policy_t *sp = &f->policy.services[f->policy.nservices++];
    snprintf(sp->name, sizeof sp->name, "frontend");
    sp->users_per_host = 40;
    sp->total_users = 1000;
    f->st = tc_state_new(&f->policy);
    *state = f;
    return f->st ? 0 : -1;
}

static int s_teardown(void **state)
{
    fx_t *f = *state;
    tc_state_destroy(&f->st);
    free(f);
    return 0;
}

static void s_check(fx_t *f, int64_t at, const char *host, const char *service, int state,
                    int users)
{
    tc_record_t r = {.seq = ++f->seq, .received_ms = at, .time_ms = at};
    r.event.version = 1;
    r.event.kind = TC_MSG_CHECK_RESULT;
    r.event.seq = f->seq;
    snprintf(r.event.sender, TC_ID_MAX, "%s", host);
    tc_check_result_t *c = &r.event.u.check;
    snprintf(c->host, TC_ID_MAX, "%s", host);
    snprintf(c->check, TC_ID_MAX, "http");
    snprintf(c->service, TC_ID_MAX, "%s", service);
    c->state = (tc_check_state_t)state;
    c->hard = true;
    c->attempt = c->max_attempts = 1;
    if (users >= 0) {
        c->nperf = 1;
        snprintf(c->perf[0].label, TC_LABEL_MAX, "users");
        c->perf[0].value = users;
    }
    assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
}

/* Checks, then applies, an action as the coordinator does; returns the
 * check's result. */
static int s_act(fx_t *f, int64_t at, uint64_t id, const char *action, const char *arg1,
                 const char *arg2, char *why)
{
    tc_record_t r = {.seq = ++f->seq, .received_ms = at, .time_ms = at};
    r.event.version = 1;
    r.event.kind = TC_MSG_OPERATOR_ACTION;
    snprintf(r.event.sender, TC_ID_MAX, "coordinator");
    tc_operator_action_t *a = &r.event.u.action;
    snprintf(a->actor, TC_ID_MAX, "alice");
    snprintf(a->action, sizeof a->action, "%s", action);
    a->incident = id;
    if (arg1)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", arg1);
    if (arg2)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", arg2);
    snprintf(a->message, sizeof a->message, "because");
    char buf[256];
    int rc = tc_state_check(f->st, a, at, why ? why : buf, 256);
    if (rc == 0)
        assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
    return rc;
}

static void s_fire(fx_t *f, int64_t at)
{
    tc_timer_t due;
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_true(due.due_ms <= at);
    tc_record_t r = {.seq = ++f->seq, .received_ms = at, .time_ms = at};
    r.event.version = 1;
    r.event.kind = TC_MSG_TIMER;
    r.event.u.timer = due;
    assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
}

static const tc_incident_t *s_inc(fx_t *f, uint64_t id)
{
    const tc_incident_t *inc = tc_state_incident(f->st, id);
    assert_non_null(inc);
    return inc;
}

static int s_act_as(fx_t *f, int64_t at, const char *actor, const char *action, const char *a1,
                    const char *a2, const char *a3);

static void test_lifecycle_and_refusals(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(s_inc(f, 1)->state, TC_INC_TRIGGERED);

    /* Each row: action, args, expected result, state afterwards. */
    static const struct {
        const char *action, *a1, *a2;
        int rc;
        tc_incident_state_t after;
        const char *why_has;
    } rows[] = {
        {"ack", NULL, NULL, 0, TC_INC_INVESTIGATING, NULL},
        {"ack", NULL, NULL, TC_EINVAL, TC_INC_INVESTIGATING, "already acknowledged"},
        {"state", "identified", NULL, 0, TC_INC_IDENTIFIED, NULL},
        {"state", "identified", NULL, TC_EINVAL, TC_INC_IDENTIFIED, "already identified"},
        {"state", "triggered", NULL, TC_EINVAL, TC_INC_IDENTIFIED, "back to triggered"},
        {"state", "resolved", NULL, TC_EINVAL, TC_INC_IDENTIFIED, "use resolve"},
        {"state", "sideways", NULL, TC_EINVAL, TC_INC_IDENTIFIED, "state wants"},
        {"state", "monitoring", NULL, 0, TC_INC_MONITORING, NULL},
        {"state", "investigating", NULL, 0, TC_INC_INVESTIGATING, NULL},
        {"sev", "7", NULL, TC_EINVAL, TC_INC_INVESTIGATING, "1 to 5"},
        {"sev", "2", NULL, 0, TC_INC_INVESTIGATING, NULL},
        {"assign", "pilot", "bob", TC_EINVAL, TC_INC_INVESTIGATING, "roles:"},
        {"assign", "commander", "bad id!", TC_EINVAL, TC_INC_INVESTIGATING, "ROLE PERSON"},
        {"assign", "commander", "bob", 0, TC_INC_INVESTIGATING, NULL},
        {"note", NULL, NULL, 0, TC_INC_INVESTIGATING, NULL},
        {"frobnicate", NULL, NULL, TC_EINVAL, TC_INC_INVESTIGATING, "unknown action"},
        {"reopen", NULL, NULL, TC_EINVAL, TC_INC_INVESTIGATING, "not resolved"},
        {"declare", NULL, NULL, 0, TC_INC_INVESTIGATING, NULL},
        {"declare", NULL, NULL, TC_EINVAL, TC_INC_INVESTIGATING, "already declared"},
        /* web-01 still fails: resolving would silence it. */
        {"resolve", NULL, NULL, TC_EINVAL, TC_INC_INVESTIGATING, "1 check of frontend still"},
        {"resolve", "now", NULL, TC_EINVAL, TC_INC_INVESTIGATING, "only --force"},
        {"resolve", "force", NULL, 0, TC_INC_RESOLVED, NULL},
        {"resolve", NULL, NULL, TC_EINVAL, TC_INC_RESOLVED, "reopen it first"},
        {"ack", NULL, NULL, TC_EINVAL, TC_INC_RESOLVED, "reopen it first"},
        /* What still fails is incident 2 now: add to that one. */
        {"reopen", NULL, NULL, TC_EINVAL, TC_INC_RESOLVED, "already has open incident 2"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tc_incident_t before = *s_inc(f, 1);
        why[0] = '\0';
        int rc = s_act(f, (int64_t)(i + 1) * 1000, 1, rows[i].action, rows[i].a1, rows[i].a2, why);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%s): rc %d, want %d (%s)", i, rows[i].action, rc, rows[i].rc, why);
        assert_int_equal(s_inc(f, 1)->state, rows[i].after);
        if (rows[i].why_has && !strstr(why, rows[i].why_has))
            fail_msg("row %zu: reason \"%s\" lacks \"%s\"", i, why, rows[i].why_has);
        if (rc != 0) /* a refusal changes nothing */
            assert_memory_equal(&before, s_inc(f, 1), sizeof before);
        else
            assert_true(f->out.ntimeline >= 1);
    }
    const tc_incident_t *inc = s_inc(f, 1);
    assert_int_equal(inc->severity, 2);
    assert_true(inc->severity_pinned);
    assert_int_equal(inc->acknowledged_ms, 1000);
    assert_int_equal(inc->nroles, 1);
    assert_string_equal(inc->roles[0].person, "bob");
    assert_int_equal(inc->resolved_failing, 1);
    assert_int_equal(s_act(f, 99000, 42, "ack", NULL, NULL, why), TC_ENOTFOUND);
    assert_string_equal(why, "no incident 42");
    /* The check that still failed is an alert anyone can see. */
    const tc_incident_t *next = s_inc(f, 2);
    assert_int_equal(next->state, TC_INC_TRIGGERED);
    assert_int_equal(next->failing_checks, 1);
    assert_non_null(strstr(next->summary, "still failing when incident 1 was resolved by hand"));
}

static void test_reopen_window(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    s_check(f, 5 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    assert_int_equal(s_inc(f, 1)->state, TC_INC_RESOLVED);
    /* Within the hour: reopened by hand. */
    assert_int_equal(s_act(f, 30 * MIN, 1, "reopen", NULL, NULL, why), 0);
    assert_int_equal(s_act(f, 31 * MIN, 1, "resolve", NULL, NULL, why), 0);
    /* After the window: refused, and a new failure is a new incident
     * (reopen_on_failure is off by default). */
    assert_int_equal(s_act(f, 92 * MIN, 1, "reopen", NULL, NULL, why), TC_EINVAL);
    assert_non_null(strstr(why, "reopen window"));
    s_check(f, 93 * MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(f->out.bcast[0].kind, TC_BCAST_INCIDENT_OPENED);
    assert_int_equal(f->out.bcast[0].incident.id, 2);
}

static void test_reopen_on_failure(void **state)
{
    fx_t *f = *state;
    f->policy.reopen_on_failure = true;
    tc_state_configure(f->st, &f->policy, NULL, NULL, NULL);
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    s_check(f, 5 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    s_check(f, 10 * MIN, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(f->out.bcast[0].incident.id, 1);
    assert_string_equal(f->out.timeline[0].kind, "reopened");
    assert_int_equal(s_inc(f, 1)->state, TC_INC_TRIGGERED);
}

static void test_declaration_deadline(void **state)
{
    fx_t *f = *state;
    tc_timer_t due;
    assert_false(tc_state_next_deadline(f->st, &due));
    s_check(f, 1000, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    const tc_incident_t *inc = s_inc(f, 1);
    assert_false(inc->declared);
    assert_int_equal(inc->severity, 0);
    assert_int_equal(inc->users, 40);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_int_equal(due.incident, 1);
    assert_int_equal(due.due_ms, 1000 + 15 * MIN);
    assert_string_equal(due.kind, "declare");
    /* The deadline fires (late: the coordinator was down) and declares. */
    s_fire(f, 40 * MIN);
    inc = s_inc(f, 1);
    assert_true(inc->declared);
    assert_int_equal(inc->declared_ms, 40 * MIN);
    assert_int_equal(inc->severity, 3); /* 40 of 1000 users: 4% */
    assert_string_equal(f->out.timeline[0].kind, "declared");
    assert_string_equal(f->out.timeline[0].actor, "tocsin");
    /* Fired once: nothing pending any more. */
    assert_false(tc_state_next_deadline(f->st, &due));
    /* Impact grows: a second host -> 80 users (8%) -> SEV-2; perfdata
     * users=300 on a check -> 30% -> SEV-1. */
    s_check(f, 41 * MIN, "web-02", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(s_inc(f, 1)->severity, 2);
    s_check(f, 42 * MIN, "web-02", "frontend", TC_STATE_WARNING, 300);
    assert_int_equal(s_inc(f, 1)->users, 300);
    assert_int_equal(s_inc(f, 1)->severity, 1);
}

static void test_resolved_before_deadline_is_never_declared(void **state)
{
    fx_t *f = *state;
    tc_timer_t due;
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    s_check(f, 3 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    assert_false(tc_state_next_deadline(f->st, &due));
    assert_false(s_inc(f, 1)->declared);
}

static void test_below_threshold_then_more_users(void **state)
{
    fx_t *f = *state;
    char why[256];
    /* "api" has no users configuration: 0 users known. */
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL, -1);
    s_fire(f, 16 * MIN);
    const tc_incident_t *inc = s_inc(f, 1);
    assert_false(inc->declared);
    assert_true(inc->declare_evaluated);
    assert_string_equal(f->out.timeline[0].kind, "policy");
    /* An operator reports 50 users: declared at once, and with the share
     * unknown, the higher candidate severity. */
    assert_int_equal(s_act(f, 20 * MIN, 1, "users", "50", NULL, why), 0);
    inc = s_inc(f, 1);
    assert_true(inc->declared);
    assert_int_equal(inc->severity, 2);
    /* A security flag makes it SEV-1. */
    assert_int_equal(s_act(f, 21 * MIN, 1, "security", NULL, NULL, why), 0);
    assert_int_equal(s_inc(f, 1)->severity, 1);
    assert_int_equal(s_act(f, 22 * MIN, 1, "security", NULL, NULL, why), TC_EINVAL);
}

static void test_handoff_and_postmortem(void **state)
{
    fx_t *f = *state;
    char why[256];
    tc_timer_t due;
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(s_act(f, 1 * MIN, 1, "postmortem", "done", NULL, why), TC_EINVAL);
    assert_int_equal(s_act(f, 1 * MIN, 1, "assign", "commander", "carol", why), 0);
    assert_int_equal(s_act(f, 2 * MIN, 1, "handoff", "carol", NULL, why), TC_EINVAL);
    assert_non_null(strstr(why, "already the incident commander"));
    /* alice is not the IC: she cannot give command away. */
    assert_int_equal(s_act(f, 3 * MIN, 1, "handoff", "dave", NULL, why), TC_EINVAL);
    assert_non_null(strstr(why, "only the incident commander (carol) hands over command"));
    assert_int_equal(s_act_as(f, 3 * MIN, "carol", "handoff", "dave", NULL, NULL), 0);
    assert_string_equal(f->out.timeline[0].kind, "handoff");
    assert_non_null(strstr(f->out.timeline[0].text, "from carol to dave"));
    s_fire(f, 16 * MIN); /* declared */
    assert_true(s_inc(f, 1)->declared);
    s_check(f, 30 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    const tc_incident_t *inc = s_inc(f, 1);
    assert_int_equal(inc->postmortem_due_ms, 30 * MIN + 24 * 60 * MIN);
    assert_string_equal(inc->postmortem_owner, "dave");
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "postmortem");
    s_fire(f, 30 * MIN + 25 * 60 * MIN);
    assert_true(s_inc(f, 1)->postmortem_reminded);
    assert_string_equal(f->out.timeline[0].kind, "reminder");
    assert_false(tc_state_next_deadline(f->st, &due)); /* reminded once */
    assert_int_equal(s_act(f, 26 * 60 * MIN, 1, "postmortem", "owner", "erin", why), 0);
    assert_string_equal(s_inc(f, 1)->postmortem_owner, "erin");
    assert_int_equal(s_act(f, 27 * 60 * MIN, 1, "postmortem", "done", NULL, why), 0);
    assert_int_equal(s_act(f, 28 * 60 * MIN, 1, "postmortem", "done", NULL, why), TC_EINVAL);
    assert_int_equal(s_act(f, 28 * 60 * MIN, 1, "postmortem", "later", NULL, why), TC_EINVAL);
}

/* Like s_act, with a chosen actor and up to three arguments. */
static int s_act_as(fx_t *f, int64_t at, const char *actor, const char *action, const char *a1,
                    const char *a2, const char *a3)
{
    tc_record_t r = {.seq = ++f->seq, .received_ms = at, .time_ms = at};
    r.event.version = 1;
    r.event.kind = TC_MSG_OPERATOR_ACTION;
    snprintf(r.event.sender, TC_ID_MAX, "coordinator");
    tc_operator_action_t *a = &r.event.u.action;
    snprintf(a->actor, TC_ID_MAX, "%s", actor);
    snprintf(a->action, sizeof a->action, "%s", action);
    a->incident = 1;
    const char *args[] = {a1, a2, a3};
    for (int i = 0; i < 3 && args[i]; i++)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[i]);
    snprintf(a->message, sizeof a->message, "because");
    char why[256];
    int rc = tc_state_check(f->st, a, at, why, sizeof why);
    if (rc == 0)
        assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
    return rc;
}

static void test_pages_and_escalation(void **state)
{
    fx_t *f = *state;
    tc_timer_t due;
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    /* Declare by hand so no declaration deadline competes below. */
    assert_int_equal(s_act_as(f, 1, "tocsin", "declare", NULL, NULL, NULL), 0);
    assert_int_equal(s_act_as(f, MIN, "tocsin", "assign", "commander", "alice", "300000"), 0);
    /* The assignment pages alice on her own topic. */
    assert_int_equal(f->out.n, 2);
    assert_int_equal(f->out.bcast[1].kind, TC_BCAST_PAGE);
    assert_string_equal(f->out.bcast[1].topic, "page.alice");
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "escalate");
    assert_string_equal(due.key, "commander");
    assert_int_equal(due.due_ms, 6 * MIN);
    /* Not acknowledged in time: escalating. */
    s_fire(f, 6 * MIN);
    const tc_role_t *r = &s_inc(f, 1)->roles[0];
    assert_true(r->escalating);
    assert_string_equal(f->out.timeline[0].kind, "escalate");
    assert_false(tc_state_next_deadline(f->st, &due)); /* waiting for the next page */
    /* The coordinator pages the next in the chain: one level up. */
    assert_int_equal(s_act_as(f, 6 * MIN, "tocsin", "assign", "commander", "bob", "300000"), 0);
    r = &s_inc(f, 1)->roles[0];
    assert_string_equal(r->person, "bob");
    assert_int_equal(r->level, 1);
    assert_false(r->escalating);
    /* bob acknowledges: his page, and the incident. */
    assert_int_equal(s_act_as(f, 7 * MIN, "bob", "ack", NULL, NULL, NULL), 0);
    r = &s_inc(f, 1)->roles[0];
    assert_int_equal(r->acked_ms, 7 * MIN);
    assert_int_equal(s_inc(f, 1)->acknowledged_ms, 7 * MIN);
    assert_false(tc_state_next_deadline(f->st, &due));
    /* A second ack by someone with no pending page is refused. */
    assert_int_equal(s_act_as(f, 8 * MIN, "carol", "ack", NULL, NULL, NULL), TC_EINVAL);
    /* Self-assignment needs no acknowledgement; a scribe page times out and
     * the chain is exhausted. */
    assert_int_equal(s_act_as(f, 9 * MIN, "carol", "assign", "scribe", "carol", "60000"), 0);
    assert_int_equal(f->out.n, 1); /* no page */
    assert_int_equal(s_act_as(f, 9 * MIN, "tocsin", "assign", "deputy", "dave", "60000"), 0);
    assert_int_equal(s_act_as(f, 9 * MIN, "tocsin", "exhausted", "deputy", NULL, NULL), TC_EINVAL);
    s_fire(f, 10 * MIN);
    assert_int_equal(s_act_as(f, 10 * MIN, "tocsin", "exhausted", "deputy", NULL, NULL), 0);
    const tc_role_t *dep = &s_inc(f, 1)->roles[2];
    assert_string_equal(dep->role, "deputy");
    assert_true(dep->exhausted);
    assert_false(tc_state_next_deadline(f->st, &due));
    /* `ack ID ROLE` acknowledges that page for someone else. */
    assert_int_equal(s_act_as(f, 11 * MIN, "erin", "ack", "deputy", NULL, NULL), 0);
    assert_int_equal(s_act_as(f, 11 * MIN, "erin", "ack", "deputy", NULL, NULL), TC_EINVAL);
    assert_int_equal(s_act_as(f, 11 * MIN, "erin", "ack", "dpo", NULL, NULL), TC_EINVAL);
}

static void test_features_raise_severity(void **state)
{
    fx_t *f = *state;
    f->policy.services[0].features = 10;
    tc_state_configure(f->st, &f->policy, NULL, NULL, NULL);
    char why[256];
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(s_act(f, MIN, 1, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_inc(f, 1)->severity, 3); /* 40 of 1000 users */
    /* 3 of 10 features affected (30%): SEV-2 wins over the users' SEV-3. */
    assert_int_equal(s_act(f, 2 * MIN, 1, "features", "3", NULL, why), 0);
    assert_int_equal(s_inc(f, 1)->severity, 2);
    assert_int_equal(s_act(f, 3 * MIN, 1, "features", "6", NULL, why), 0);
    assert_int_equal(s_inc(f, 1)->severity, 1);
    assert_int_equal(s_act(f, 4 * MIN, 1, "features", "x", NULL, why), TC_EINVAL);
}

static void test_action_items_and_subteams(void **state)
{
    fx_t *f = *state;
    s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(s_act_as(f, MIN, "alice", "assign", "subteam.db", "bob", NULL), 0);
    assert_string_equal(s_inc(f, 1)->roles[0].role, "subteam.db");
    assert_int_equal(s_act_as(f, MIN, "alice", "assign", "subteam.", "bob", NULL), TC_EINVAL);
    assert_int_equal(s_act_as(f, 2 * MIN, "alice", "resolve", "force", NULL, NULL), 0);
    /* Items may be added after resolution: they come out of the
     * post-mortem. The text is the action's message ("because"). */
    assert_int_equal(s_act_as(f, 3 * MIN, "alice", "item", "add", "bob", NULL), 0);
    assert_int_equal(s_act_as(f, 3 * MIN, "alice", "item", "add", "bad id!", NULL), TC_EINVAL);
    const tc_incident_t *inc = s_inc(f, 1);
    assert_int_equal(inc->nactions, 1);
    assert_int_equal(inc->actions[0].number, 1);
    assert_string_equal(inc->actions[0].owner, "bob");
    assert_int_equal(s_act_as(f, 4 * MIN, "bob", "item", "done", "2", NULL), TC_EINVAL);
    assert_int_equal(s_act_as(f, 4 * MIN, "bob", "item", "done", "1", NULL), 0);
    assert_int_equal(s_inc(f, 1)->actions[0].done_ms, 4 * MIN);
    assert_int_equal(s_act_as(f, 5 * MIN, "bob", "item", "done", "1", NULL), TC_EINVAL);
    assert_int_equal(s_act_as(f, 5 * MIN, "bob", "item", "later", "1", NULL), TC_EINVAL);
}

static void test_replay_gives_same_incident(void **state)
{
    fx_t *f = *state;
    /* Same records into a second state machine: byte-identical incident. */
    tc_state_t *other = tc_state_new(&f->policy);
    tc_state_t *mine = f->st;
    for (int pass = 0; pass < 2; pass++) {
        f->st = pass ? other : mine;
        f->seq = 0;
        s_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
        assert_int_equal(s_act(f, 1 * MIN, 1, "ack", NULL, NULL, NULL), 0);
        s_fire(f, 16 * MIN);
        assert_int_equal(s_act(f, 17 * MIN, 1, "assign", "scribe", "carol", NULL), 0);
        s_check(f, 18 * MIN, "web-01", "frontend", TC_STATE_OK, -1);
    }
    f->st = mine;
    assert_memory_equal(tc_state_incident(mine, 1), tc_state_incident(other, 1),
                        sizeof(tc_incident_t));
    tc_state_destroy(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle_and_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_window, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_on_failure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_declaration_deadline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resolved_before_deadline_is_never_declared, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_below_threshold_then_more_users, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_handoff_and_postmortem, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pages_and_escalation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_features_raise_severity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_action_items_and_subteams, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replay_gives_same_incident, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
