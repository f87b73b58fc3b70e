/* The communication plan in the pure state machine: status updates and
 * their approval, components derived from incidents and maintenance, the
 * update cadence, maintenance windows, delivery reports and drills. Time
 * comes only from the records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "state.h"
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN (60 * 1000LL)

typedef struct {
    tc_policy_t policy;
    tc_templates_t *templates;
    tc_state_t *st;
    uint64_t seq;
    tc_state_out_t out;
} fx_t;

static int s_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    tc_policy_defaults(&f->policy);
    /* Page repeats are deadlines too; test_pages covers them. */
    f->policy.page_repeat_ms = 0;
    /* The update cadence alone here; the quiet-IC reminder has its own
     * tests (test_followup). */
    f->policy.ic_quiet_reminder_ms = 0;
    /* Operators' updates numbered from 1: tocsin's own internal
     * announcements are tested in test_state_announce. */
    f->policy.internal_announce_severities = 0;
    tc_service_policy_t *sp = &f->policy.services[f->policy.nservices++];
    snprintf(sp->name, sizeof sp->name, "api");
    sp->users_per_host = 100;
    sp->total_users = 1000;
    tc_component_policy_t *c = &f->policy.components[f->policy.ncomponents++];
    snprintf(c->name, sizeof c->name, "public-api");
    snprintf(c->description, sizeof c->description, "Public API");
    snprintf(c->services[c->nservices++], TC_ID_MAX, "api");
    c = &f->policy.components[f->policy.ncomponents++];
    snprintf(c->name, sizeof c->name, "web");
    snprintf(c->services[c->nservices++], TC_ID_MAX, "web");
    char err[256];
    assert_int_equal(tc_templates_load(NULL, &f->templates, err, sizeof err), 0);
    f->st = tc_state_new(&f->policy);
    tc_state_set_templates(f->st, f->templates);
    *state = f;
    return f->st ? 0 : -1;
}

static int s_teardown(void **state)
{
    fx_t *f = *state;
    tc_state_destroy(&f->st);
    tc_templates_destroy(&f->templates);
    free(f);
    return 0;
}

static void s_check(fx_t *f, int64_t at, const char *host, const char *service, int state)
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
    assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
}

/* Checks, then applies, action `a` (filled by the caller) as `actor`. */
static int s_apply(fx_t *f, int64_t at, const char *actor, tc_operator_action_t *a, char *why)
{
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = at;
    r->time_ms = at;
    r->event.version = 1;
    r->event.kind = TC_MSG_OPERATOR_ACTION;
    snprintf(r->event.sender, TC_ID_MAX, "coordinator");
    snprintf(a->actor, TC_ID_MAX, "%s", actor);
    r->event.u.action = *a;
    char buf[256];
    int rc = tc_state_check(f->st, a, at, why ? why : buf, 256);
    if (rc == 0)
        assert_int_equal(tc_state_apply(f->st, r, &f->out), 0);
    free(r);
    return rc;
}

static int s_act(fx_t *f, int64_t at, const char *actor, uint64_t id, const char *action,
                 const char *a1, const char *a2, char *why)
{
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "%s", action);
    a->incident = id;
    if (a1)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", a1);
    if (a2)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", a2);
    int rc = s_apply(f, at, actor, a, why);
    free(a);
    return rc;
}

static int s_draft(fx_t *f, int64_t at, const char *actor, uint64_t id, bool external,
                   const char *state, const char *body, char *why)
{
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "update");
    a->incident = id;
    snprintf(a->args[a->nargs++], TC_ID_MAX, "draft");
    a->update.external = external;
    snprintf(a->update.scenario, sizeof a->update.scenario, "outage");
    snprintf(a->update.state, sizeof a->update.state, "%s", state);
    snprintf(a->update.body, sizeof a->update.body, "%s", body);
    snprintf(a->update.title, sizeof a->update.title, "API errors");
    a->update.next_update_ms = at + 30 * MIN;
    /* As the coordinator drafts: the guard first, then the check. */
    char buf[256];
    int rc = tc_state_guard(f->st, id, &a->update, why ? why : buf, 256);
    if (rc == 0)
        rc = s_apply(f, at, actor, a, why);
    free(a);
    return rc;
}

static void s_fire(fx_t *f, int64_t at)
{
    tc_timer_t due;
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_true(due.due_ms <= at);
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    /* As the coordinator stores it: dated when due, received now. */
    r->received_ms = at;
    r->time_ms = due.due_ms;
    r->event.version = 1;
    r->event.kind = TC_MSG_TIMER;
    r->event.u.timer = due;
    assert_int_equal(tc_state_apply(f->st, r, &f->out), 0);
    free(r);
}

/* Fires every deadline due by `at`, in order, as the coordinator does;
 * returns how many (the outputs of the last one are in f->out). */
static int s_fire_all(fx_t *f, int64_t at)
{
    tc_timer_t due;
    int n = 0;
    while (tc_state_next_deadline(f->st, &due) && due.due_ms <= at && n < 100) {
        s_fire(f, at);
        n++;
    }
    return n;
}

static const tc_broadcast_t *s_find_out(fx_t *f, tc_bcast_kind_t kind)
{
    for (size_t i = 0; i < f->out.n; i++)
        if (f->out.bcast[i].kind == kind)
            return &f->out.bcast[i];
    return NULL;
}

static const tc_component_t *s_comp(fx_t *f, const char *name)
{
    size_t n;
    const tc_component_t *c = tc_state_components(f->st, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].name, name))
            return &c[i];
    fail_msg("no component %s", name);
    return NULL;
}

/* An external update needs the IC's approval; internal ones go at once;
 * a published update is broadcast to its audience's topic. */
static void test_update_approval(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 30000, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "assign", "commander", "carol", why), 0);

    /* A host name in an external update is internal detail: refused. */
    assert_int_equal(
        s_draft(f, 2 * MIN, "bob", 1, true, "investigating", "api-01 is down, we are on it", why),
        TC_EINVAL);
    assert_non_null(strstr(why, "api-01"));
    assert_int_equal(s_draft(f, 2 * MIN, "bob", 1, true, "investigating", "", why), TC_EINVAL);
    assert_int_equal(s_draft(f, 2 * MIN, "bob", 1, true, "in_progress", "text", why), TC_EINVAL);

    assert_int_equal(s_draft(f, 2 * MIN, "bob", 1, true, "investigating",
                             "We are investigating errors on the API.", why),
                     0);
    assert_null(s_find_out(f, TC_BCAST_STATUS_UPDATE));
    assert_int_equal(tc_state_incident(f->st, 1)->pending_update, 1);
    /* Publishing before approval, and approval by someone else: refused. */
    assert_int_equal(s_act(f, 3 * MIN, "bob", 1, "update", "publish", "1", why), TC_EINVAL);
    assert_int_equal(s_act(f, 3 * MIN, "bob", 1, "update", "approve", "1", why), TC_EINVAL);
    assert_non_null(strstr(why, "carol"));
    assert_int_equal(s_act(f, 3 * MIN, "carol", 1, "update", "approve", "1", why), 0);
    assert_int_equal(s_act(f, 3 * MIN, "carol", 1, "update", "approve", "1", why), TC_EINVAL);
    assert_int_equal(s_act(f, 4 * MIN, "bob", 1, "update", "publish", "1", why), 0);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_STATUS_UPDATE);
    assert_non_null(b);
    assert_string_equal(b->topic, "status.external");
    assert_string_equal(b->update.approver, "carol");
    assert_int_equal(b->update.started_ms, tc_state_incident(f->st, 1)->opened_ms);
    assert_int_equal(b->update.status, TC_UPD_PUBLISHED);
    assert_int_equal(b->update.ncomponents, 1);
    assert_string_equal(b->update.components[0].name, "public-api");
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    assert_true(inc->is_public);
    assert_int_equal(inc->pending_update, 0);
    assert_int_equal(inc->next_update_due_ms, 2 * MIN + 30 * MIN); /* what it promised */
    assert_int_equal(s_act(f, 5 * MIN, "bob", 1, "update", "publish", "1", why), TC_EINVAL);

    /* Internal: no approval, published on drafting, with the detail. */
    assert_int_equal(
        s_draft(f, 6 * MIN, "bob", 1, false, "identified", "api-01 has a full disk", why), 0);
    b = s_find_out(f, TC_BCAST_STATUS_UPDATE);
    assert_non_null(b);
    assert_string_equal(b->topic, "status.internal");
    assert_int_equal(s_act(f, 6 * MIN, "carol", 1, "update", "approve", "2", why), TC_EINVAL);

    /* Withdraw a draft. */
    assert_int_equal(s_draft(f, 7 * MIN, "bob", 1, true, "identified", "We found it.", why), 0);
    assert_int_equal(s_act(f, 7 * MIN, "bob", 1, "update", "withdraw", "3", why), 0);
    assert_int_equal(tc_state_update(f->st, 1, 3)->status, TC_UPD_WITHDRAWN);
    assert_int_equal(tc_state_incident(f->st, 1)->pending_update, 0);
    assert_int_equal(s_act(f, 7 * MIN, "bob", 1, "update", "publish", "3", why), TC_EINVAL);
    assert_int_equal(s_act(f, 7 * MIN, "bob", 1, "update", "publish", "9", why), TC_EINVAL);
    assert_int_equal(s_act(f, 7 * MIN, "bob", 1, "update", "frobnicate", "1", why), TC_EINVAL);
}

static void test_auto_publish(void **state)
{
    fx_t *f = *state;
    char why[256];
    f->policy.auto_publish_severities = 1u << 1 | 1u << 2;
    tc_state_configure(f->st, &f->policy, NULL, NULL, NULL);
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "sev", "2", NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_draft(f, 2 * MIN, "bob", 1, true, "investigating", "We look.", why), 0);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_STATUS_UPDATE);
    assert_non_null(b);
    assert_string_equal(b->update.approver, "tocsin");
}

/* Components follow declared incidents by severity, maintenance, and an
 * operator's override until it is taken back. */
static void test_components(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL);
    /* Not declared: an alert, not an incident; customers see nothing. */
    assert_int_equal(s_comp(f, "public-api")->status, TC_COMP_OPERATIONAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "sev", "1", NULL, why), 0);
    assert_int_equal(s_comp(f, "public-api")->status, TC_COMP_MAJOR_OUTAGE);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_COMPONENT);
    assert_non_null(b);
    assert_string_equal(b->component.name, "public-api");
    assert_int_equal(s_act(f, 2 * MIN, "alice", 1, "sev", "3", NULL, why), 0);
    assert_int_equal(s_comp(f, "public-api")->status, TC_COMP_DEGRADED);
    assert_int_equal(s_comp(f, "web")->status, TC_COMP_OPERATIONAL);

    assert_int_equal(s_act(f, 3 * MIN, "alice", 0, "component", "web", "partial_outage", why), 0);
    assert_int_equal(s_comp(f, "web")->status, TC_COMP_PARTIAL_OUTAGE);
    assert_true(s_comp(f, "web")->overridden);
    assert_int_equal(s_act(f, 3 * MIN, "alice", 0, "component", "web", "broken", why), TC_EINVAL);
    assert_int_equal(s_act(f, 3 * MIN, "alice", 0, "component", "nope", "auto", why), TC_EINVAL);
    assert_int_equal(s_act(f, 4 * MIN, "alice", 0, "component", "web", "auto", why), 0);
    assert_int_equal(s_comp(f, "web")->status, TC_COMP_OPERATIONAL);

    s_check(f, 5 * MIN, "api-01", "api", TC_STATE_OK);
    assert_int_equal(s_comp(f, "public-api")->status, TC_COMP_OPERATIONAL);
}

/* The Customer Liaison is reminded at the cadence until an update goes
 * out; resolution ends the reminders. */
static void test_cadence(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "sev", "2", NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "assign", "customer_liaison", "bob", why), 0);
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    assert_int_equal(inc->next_update_due_ms, 1 * MIN + 5 * MIN);
    tc_timer_t due;
    assert_true(tc_state_next_deadline(f->st, &due));
    s_fire(f, 6 * MIN);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_REMINDER);
    assert_non_null(b);
    assert_string_equal(b->topic, "page.bob");
    /* Again 20 minutes later, not before. */
    assert_int_equal(inc->next_update_due_ms, 26 * MIN);
    assert_int_equal(s_draft(f, 10 * MIN, "bob", 1, true, "investigating", "We look.", why), 0);
    assert_int_equal(s_act(f, 10 * MIN, "bob", 1, "update", "approve", "1", why), 0);
    assert_int_equal(s_act(f, 10 * MIN, "bob", 1, "update", "publish", "1", why), 0);
    assert_int_equal(inc->next_update_due_ms, 10 * MIN + 30 * MIN);
    /* A stale timer (the due time moved) does nothing. */
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = 27 * MIN;
    r->time_ms = 27 * MIN;
    r->event.version = 1;
    r->event.kind = TC_MSG_TIMER;
    r->event.u.timer = due;
    snprintf(r->event.u.timer.kind, sizeof r->event.u.timer.kind, "update");
    r->event.u.timer.due_ms = 26 * MIN;
    assert_int_equal(tc_state_apply(f->st, r, &f->out), 0);
    assert_null(s_find_out(f, TC_BCAST_REMINDER));
    free(r);
    s_check(f, 30 * MIN, "api-01", "api", TC_STATE_OK);
    assert_int_equal(tc_state_incident(f->st, 1)->state, TC_INC_RESOLVED);
    /* Customers were last told "investigating": the resolved announcement
     * is owed, update_first after resolution (sooner than the 40 minutes
     * the last update promised). */
    assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, 35 * MIN);
    /* A change to the resolved incident (its broadcast re-reads the
     * cadence) does not move the due time. */
    assert_int_equal(s_act(f, 33 * MIN, "alice", 1, "postmortem", "owner", "carol", why), 0);
    assert_non_null(s_find_out(f, TC_BCAST_INCIDENT_UPDATED));
    assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, 35 * MIN);
    s_fire(f, 35 * MIN);
    b = s_find_out(f, TC_BCAST_REMINDER);
    assert_non_null(b);
    assert_string_equal(b->topic, "page.bob");
    assert_non_null(strstr(b->detail, "is resolved, but customers were last told "
                                      "\"investigating\""));
    assert_non_null(strstr(b->detail, "--state resolved"));
    assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, 55 * MIN);
    /* An update that is not the resolution keeps it owed; the resolved
     * announcement ends it. */
    assert_int_equal(s_draft(f, 36 * MIN, "bob", 1, true, "monitoring", "Watching.", why), 0);
    assert_int_equal(s_act(f, 36 * MIN, "bob", 1, "update", "approve", "2", why), 0);
    assert_int_equal(s_act(f, 36 * MIN, "bob", 1, "update", "publish", "2", why), 0);
    assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, 35 * MIN);
    s_fire(f, 37 * MIN);
    assert_non_null(s_find_out(f, TC_BCAST_REMINDER));
    assert_non_null(strstr(s_find_out(f, TC_BCAST_REMINDER)->detail, "\"monitoring\""));
    assert_int_equal(s_draft(f, 38 * MIN, "bob", 1, true, "resolved", "Fixed.", why), 0);
    assert_int_equal(s_act(f, 38 * MIN, "bob", 1, "update", "approve", "3", why), 0);
    assert_int_equal(s_act(f, 38 * MIN, "bob", 1, "update", "publish", "3", why), 0);
    assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_not_equal(due.kind, "update");
}

/* Nobody announces the resolution: the reminders stop an hour after it,
 * and an incident nobody outside heard of owes nothing when it resolves. */
static void test_resolved_notice_gives_up(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "sev", "2", NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "assign", "customer_liaison", "bob", why), 0);
    assert_int_equal(s_draft(f, 2 * MIN, "bob", 1, true, "investigating", "We look.", why), 0);
    assert_int_equal(s_act(f, 2 * MIN, "bob", 1, "update", "approve", "1", why), 0);
    assert_int_equal(s_act(f, 2 * MIN, "bob", 1, "update", "publish", "1", why), 0);
    s_check(f, 10 * MIN, "api-01", "api", TC_STATE_OK);
    assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, 15 * MIN);
    /* At 15, 35 and 55 minutes; due again at 75, past the hour: dropped. */
    for (int64_t at = 15 * MIN; at <= 55 * MIN; at += 20 * MIN) {
        s_fire(f, at);
        assert_non_null(s_find_out(f, TC_BCAST_REMINDER));
        assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, at + 20 * MIN);
    }
    s_fire(f, 75 * MIN);
    assert_null(s_find_out(f, TC_BCAST_REMINDER));
    assert_int_equal(tc_state_incident(f->st, 1)->next_update_due_ms, 0);

    /* Never public: resolution owes nothing. */
    s_check(f, 80 * MIN, "api-01", "db", TC_STATE_CRITICAL);
    const tc_incident_t *db = tc_state_incident(f->st, 2);
    assert_non_null(db);
    assert_int_equal(s_act(f, 81 * MIN, "alice", 2, "sev", "2", NULL, why), 0);
    assert_int_equal(s_act(f, 81 * MIN, "alice", 2, "declare", NULL, NULL, why), 0);
    s_check(f, 82 * MIN, "api-01", "db", TC_STATE_OK);
    assert_int_equal(tc_state_incident(f->st, 2)->state, TC_INC_RESOLVED);
    assert_int_equal(tc_state_incident(f->st, 2)->next_update_due_ms, 0);

    /* A log written under rules 2 replays as it was: resolution ended the
     * cadence then. */
    f->policy.rules = 2;
    assert_int_equal(tc_state_configure(f->st, &f->policy, NULL, NULL, NULL), 0);
    s_check(f, 90 * MIN, "api-01", "web", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 91 * MIN, "alice", 3, "sev", "2", NULL, why), 0);
    assert_int_equal(s_act(f, 91 * MIN, "alice", 3, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_draft(f, 92 * MIN, "bob", 3, true, "investigating", "We look.", why), 0);
    assert_int_equal(s_act(f, 92 * MIN, "alice", 3, "update", "approve", "1", why), 0);
    assert_int_equal(s_act(f, 92 * MIN, "bob", 3, "update", "publish", "1", why), 0);
    assert_true(tc_state_incident(f->st, 3)->is_public);
    s_check(f, 95 * MIN, "api-01", "web", TC_STATE_OK);
    assert_int_equal(tc_state_incident(f->st, 3)->state, TC_INC_RESOLVED);
    assert_int_equal(tc_state_incident(f->st, 3)->next_update_due_ms, 0);
}

/* A reminder missed for a day (coordinator down, or the clock jumped)
 * fires once, dated when it was due, and re-arms from when it fired. */
static void test_missed_reminder_fires_once(void **state)
{
    fx_t *f = *state;
    char why[256];
    const int64_t HOUR = 60 * MIN;
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "sev", "1", NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "declare", NULL, NULL, why), 0);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "assign", "customer_liaison", "bob", why), 0);
    int64_t later = 6 * MIN + 25 * HOUR;
    assert_int_equal(s_fire_all(f, later), 1);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_REMINDER);
    assert_non_null(b);
    assert_string_equal(b->topic, "page.bob");
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    /* The incident is older than update_slow_after: hourly, from now. */
    assert_int_equal(inc->next_update_due_ms, later + HOUR);
    assert_int_equal(s_fire_all(f, later + HOUR - 1), 0);
    assert_int_equal(s_fire_all(f, later + HOUR), 1);
}

static int s_window(fx_t *f, int64_t at, int64_t start, int64_t end, int64_t every,
                    const char *component, char *why)
{
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "maintenance");
    snprintf(a->args[a->nargs++], TC_ID_MAX, "add");
    snprintf(a->maint.title, sizeof a->maint.title, "Database upgrade");
    a->maint.start_ms = start;
    a->maint.end_ms = end;
    a->maint.every_ms = every;
    snprintf(a->maint.components[a->maint.ncomponents++], TC_ID_MAX, "%s", component);
    int rc = s_apply(f, at, "alice", a, why);
    free(a);
    return rc;
}

/* A window is announced, goes in progress and verifying by itself,
 * cancels escalations of affected incidents, and re-notifies at its end
 * what still fails; a recurring one comes back. */
static void test_maintenance(void **state)
{
    fx_t *f = *state;
    char why[256];
    assert_int_equal(s_window(f, 0, 20 * MIN, 10 * MIN, 0, "public-api", why), TC_EINVAL);
    assert_int_equal(s_window(f, 0, 10 * MIN, 20 * MIN, 0, "nope", why), TC_EINVAL);
    assert_int_equal(s_window(f, 0, 10 * MIN, 20 * MIN, 5 * MIN, "public-api", why), TC_EINVAL);
    assert_int_equal(s_window(f, 0, 10 * MIN, 20 * MIN, 7 * 24 * 60 * MIN, "public-api", why), 0);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_MAINTENANCE);
    assert_non_null(b);
    assert_int_equal(b->maint.id, 1);
    assert_int_equal(b->maint.state, TC_MAINT_SCHEDULED);
    b = s_find_out(f, TC_BCAST_STATUS_UPDATE);
    assert_non_null(b); /* announced ahead, from the maintenance template */
    assert_true(b->update.external);
    assert_string_equal(b->update.state, "scheduled");
    assert_non_null(strstr(b->update.body, "Public API"));

    /* An incident with a page pending before the window. */
    s_check(f, 1 * MIN, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "assign", "sme", "dave", why), 0);
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "assign");
    a->incident = 1;
    snprintf(a->args[0], TC_ID_MAX, "commander");
    snprintf(a->args[1], TC_ID_MAX, "erin");
    snprintf(a->args[2], TC_ID_MAX, "%lld", 60 * MIN);
    a->nargs = 3;
    assert_int_equal(s_apply(f, 2 * MIN, "alice", a, why), 0);
    free(a);

    assert_true(s_fire_all(f, 10 * MIN) >= 1);
    assert_int_equal(tc_state_maintenance(f->st, 1)->state, TC_MAINT_IN_PROGRESS);
    assert_int_equal(tc_state_service_in_maintenance(f->st, "api"), 1);
    assert_int_equal(tc_state_service_in_maintenance(f->st, "web"), 0);
    assert_int_equal(s_comp(f, "public-api")->status, TC_COMP_MAINTENANCE);
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    for (size_t i = 0; i < inc->nroles; i++)
        assert_int_equal(inc->roles[i].ack_timeout_ms, 0); /* escalation cancelled */
    /* A new alert in the window is recorded, marked. */
    s_check(f, 11 * MIN, "web-01", "web", TC_STATE_CRITICAL);
    assert_int_equal(tc_state_incident(f->st, 2)->maintenance, 0);

    s_fire_all(f, 19 * MIN); /* the incidents' own deadlines */
    s_fire(f, 20 * MIN);
    assert_int_equal(tc_state_maintenance(f->st, 1)->state, TC_MAINT_VERIFYING);
    /* Still failing at the end: re-notified, with pages again. */
    assert_non_null(s_find_out(f, TC_BCAST_INCIDENT_UPDATED));
    assert_non_null(s_find_out(f, TC_BCAST_PAGE));
    /* The window no longer hides the incident, declared meanwhile by the
     * policy (100 of 1000 users: SEV-2). */
    assert_true(tc_state_incident(f->st, 1)->declared);
    assert_int_equal(s_comp(f, "public-api")->status, TC_COMP_PARTIAL_OUTAGE);

    s_fire_all(f, 36 * MIN);
    const tc_maintenance_t *w = tc_state_maintenance(f->st, 1);
    /* Completed, and the next occurrence scheduled a week later. */
    assert_int_equal(w->state, TC_MAINT_SCHEDULED);
    assert_int_equal(w->occurrence, 2);
    assert_int_equal(w->start_ms, 10 * MIN + 7 * 24 * 60 * MIN);
    /* ... and announced ahead like the first: completed, then scheduled. */
    int announced = 0;
    for (size_t i = 0; i < f->out.n; i++)
        if (f->out.bcast[i].kind == TC_BCAST_STATUS_UPDATE &&
            f->out.bcast[i].update.maintenance == 1)
            announced += !strcmp(f->out.bcast[i].update.state, "scheduled") ? 10 : 1;
    assert_int_equal(announced, 11);
    assert_int_equal(s_act(f, 37 * MIN, "alice", 0, "maintenance", "complete", "1", why),
                     TC_EINVAL);
    assert_int_equal(s_act(f, 37 * MIN, "alice", 0, "maintenance", "cancel", "1", why), 0);
    assert_int_equal(tc_state_maintenance(f->st, 1)->state, TC_MAINT_CANCELLED);
    assert_int_equal(s_act(f, 37 * MIN, "alice", 0, "maintenance", "start", "7", why),
                     TC_ENOTFOUND);
}

static void test_incident_in_window_is_marked(void **state)
{
    fx_t *f = *state;
    char why[256];
    assert_int_equal(s_window(f, 0, 1 * MIN, 60 * MIN, 0, "public-api", why), 0);
    s_fire(f, 1 * MIN);
    s_check(f, 2 * MIN, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(tc_state_incident(f->st, 1)->maintenance, 1);
    assert_int_equal(s_act(f, 3 * MIN, "alice", 0, "maintenance", "complete", "1", why), 0);
    assert_int_equal(tc_state_service_in_maintenance(f->st, "api"), 0);
}

/* Notifiers report deliveries; they land in the timeline and the
 * per-subscription counts, also after resolution. */
static void s_count_sub(const tc_state_subscriber_t *s, void *ctx)
{
    if (!strcmp(s->name, "ops-chat")) {
        assert_int_equal(s->delivered, 1);
        assert_int_equal(s->failed, 1);
        assert_int_equal(s->latency_total_ms, 120);
        ++*(int *)ctx;
    }
}

static void test_delivery_reports(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_draft(f, 1 * MIN, "bob", 1, false, "investigating", "Looking.", why), 0);
    s_check(f, 2 * MIN, "api-01", "api", TC_STATE_OK); /* resolved */
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "delivery");
    a->incident = 1;
    const char *args[] = {"1", "ops-chat", "delivered", "120", "1"};
    for (size_t i = 0; i < 5; i++)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[i]);
    assert_int_equal(s_apply(f, 3 * MIN, "notify", a, why), 0);
    assert_int_equal(f->out.ntimeline, 1);
    assert_string_equal(f->out.timeline[0].kind, "delivery");
    assert_non_null(strstr(f->out.timeline[0].text, "ops-chat: delivered in 120 ms"));
    snprintf(a->args[2], TC_ID_MAX, "failed");
    assert_int_equal(s_apply(f, 3 * MIN, "notify", a, why), 0);
    snprintf(a->args[2], TC_ID_MAX, "maybe");
    assert_int_equal(s_apply(f, 3 * MIN, "notify", a, why), TC_EINVAL);
    snprintf(a->args[2], TC_ID_MAX, "failed");
    snprintf(a->args[0], TC_ID_MAX, "7");
    assert_int_equal(s_apply(f, 3 * MIN, "notify", a, why), TC_EINVAL);
    free(a);
    int seen = 0;
    tc_state_each_subscriber(f->st, s_count_sub, &seen);
    assert_int_equal(seen, 1);
}

/* A stalled channel is reported `failing`: not counted as delivered or
 * failed, the subscription marked failing since its oldest delivery began
 * to wait, until a delivered or failed report clears it; a maintenance
 * window's delivery comes with incident 0. Table-driven, in order. */
static void s_keep_sub(const tc_state_subscriber_t *s, void *ctx)
{
    if (!strcmp(s->name, "ops-chat"))
        *(tc_state_subscriber_t *)ctx = *s;
}

static void test_failing_reports(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "api-01", "api", TC_STATE_CRITICAL);
    assert_int_equal(s_draft(f, 1 * MIN, "bob", 1, false, "investigating", "Looking.", why), 0);
    static const struct {
        uint64_t incident;
        const char *update, *result, *ms, *attempts, *message;
        int64_t at;
        int rc;
        bool failing;
        int64_t since;
        uint64_t delivered, failed;
        const char *timeline; /* the entry's text, or NULL for none */
    } rows[] = {
        {1, "1", "failing", "600000", "14", "connect timeout", 20 * MIN, 0, true, 10 * MIN, 0, 0,
         "update 1 to ops-chat: failing in 600000 ms after 14 attempts: connect timeout"},
        /* A window's delivery: incident 0, no timeline. */
        {0, "3", "failing", "900000", "20", "still timing out", 25 * MIN, 0, true, 10 * MIN, 0, 0,
         NULL},
        {1, "9", "failing", "1", "1", "", 26 * MIN, TC_EINVAL, true, 10 * MIN, 0, 0, NULL},
        {1, "1", "failing", "-5", "1", "", 26 * MIN, TC_EINVAL, true, 10 * MIN, 0, 0, NULL},
        {1, "1", "delivered", "700000", "15", "", 30 * MIN, 0, false, 0, 1, 0,
         "update 1 to ops-chat: delivered in 700000 ms after 15 attempts"},
        {0, "3", "failing", "60000", "2", "refused", 31 * MIN, 0, true, 30 * MIN, 1, 0, NULL},
        {0, "3", "failed", "60000", "2", "gave up", 40 * MIN, 0, false, 0, 1, 1, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tc_operator_action_t *a = calloc(1, sizeof *a);
        snprintf(a->action, sizeof a->action, "delivery");
        a->incident = rows[i].incident;
        const char *args[] = {rows[i].update, "ops-chat", rows[i].result, rows[i].ms,
                              rows[i].attempts};
        for (size_t k = 0; k < 5; k++)
            snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[k]);
        snprintf(a->message, sizeof a->message, "%s", rows[i].message);
        int rc = s_apply(f, rows[i].at, "notify", a, why);
        free(a);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d (%s)", i, rc, why);
        tc_state_subscriber_t sub = {0};
        tc_state_each_subscriber(f->st, s_keep_sub, &sub);
        if (sub.failing != rows[i].failing || sub.failing_since_ms != rows[i].since ||
            sub.delivered != rows[i].delivered || sub.failed != rows[i].failed)
            fail_msg("row %zu: failing %d since %lld, %llu delivered, %llu failed", i, sub.failing,
                     (long long)sub.failing_since_ms, (unsigned long long)sub.delivered,
                     (unsigned long long)sub.failed);
        if (rc)
            continue;
        if (rows[i].failing)
            assert_string_equal(sub.failing_detail, rows[i].message);
        else
            assert_string_equal(sub.failing_detail, "");
        assert_string_equal(sub.last_result, rows[i].result);
        if (rows[i].timeline) {
            assert_int_equal(f->out.ntimeline, 1);
            assert_string_equal(f->out.timeline[0].text, rows[i].timeline);
        } else {
            assert_int_equal(f->out.ntimeline, 0);
        }
    }
}

/* Maintenance announcements say when in words ({{window}}) and carry the
 * window's own text ({{description}}). */
static void test_announcement_texts(void **state)
{
    fx_t *f = *state;
    char why[256];
    /* 2026-12-02 22:00 to 23:00 UTC. */
    const int64_t start = 1796248800000LL;
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "maintenance");
    snprintf(a->args[a->nargs++], TC_ID_MAX, "add");
    snprintf(a->maint.title, sizeof a->maint.title, "Database upgrade");
    a->maint.start_ms = start;
    a->maint.end_ms = start + 60 * MIN;
    snprintf(a->maint.components[a->maint.ncomponents++], TC_ID_MAX, "public-api");
    snprintf(a->maint.description, sizeof a->maint.description, "Writes pause for 10 minutes.");
    assert_int_equal(s_apply(f, start - 24 * 60 * MIN, "alice", a, why), 0);
    free(a);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_STATUS_UPDATE);
    assert_non_null(b);
    assert_non_null(strstr(b->update.body, "Wed 2 Dec 2026, 22:00 to 23:00 UTC"));
    assert_non_null(strstr(b->update.body, "Writes pause for 10 minutes."));
    assert_null(strstr(b->update.body, "T22:00:00"));
}

/* A drill is a declared incident marked DRILL; it pages with DRILL and
 * leaves the components alone. */
static void test_drill(void **state)
{
    fx_t *f = *state;
    char why[256];
    assert_int_equal(s_act(f, 0, "alice", 0, "drill", "api", "1", why), 0);
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    assert_true(inc->drill);
    assert_true(inc->declared);
    assert_int_equal(inc->severity, 1);
    assert_int_equal(s_comp(f, "public-api")->status, TC_COMP_OPERATIONAL);
    /* One at a time per service. */
    assert_int_equal(s_act(f, 0, "alice", 0, "drill", "api", "1", why), TC_EINVAL);
    assert_int_equal(s_act(f, 0, "alice", 0, "drill", "api", "9", why), TC_EINVAL);
    assert_int_equal(s_act(f, 1 * MIN, "alice", 1, "assign", "commander", "carol", why), 0);
    const tc_broadcast_t *b = s_find_out(f, TC_BCAST_PAGE);
    assert_non_null(b);
    assert_non_null(strstr(b->detail, "DRILL"));
    assert_int_equal(s_draft(f, 2 * MIN, "bob", 1, false, "investigating", "Drill.", why), 0);
    b = s_find_out(f, TC_BCAST_STATUS_UPDATE);
    assert_true(b->update.drill);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_update_approval, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_auto_publish, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_components, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cadence, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resolved_notice_gives_up, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missed_reminder_fires_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_maintenance, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_incident_in_window_is_marked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_delivery_reports, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failing_reports, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_announcement_texts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_drill, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
