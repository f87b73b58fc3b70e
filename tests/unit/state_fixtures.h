/* Shared by the state machine's unit tests (test_severity, test_command,
 * test_state_security, test_followup): a state with two services and their
 * components, and records made the way the coordinator makes them. Time
 * comes only from the records, so hours pass in microseconds.
 *
 * The service "frontend" (team web) has 40 users per failing host of
 * 1000 and 10 features; "api" has 100 users per host of 1000. Components:
 * "website" (frontend), "public-api" (api). */
#ifndef TC_STATE_FIXTURES_H
#define TC_STATE_FIXTURES_H

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
#define HOUR (60 * MIN)

typedef struct {
    tc_policy_t policy;
    tc_templates_t *templates;
    tc_state_t *st;
    uint64_t seq;
    tc_state_out_t out;
    char why[512];
} fx_t;

/* The policy every test starts from; a test changes it and calls
 * fx_reconfigure() before its first record. */
static inline int fx_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    tc_policy_defaults(&f->policy);
    tc_service_policy_t *sp = &f->policy.services[f->policy.nservices++];
    snprintf(sp->name, sizeof sp->name, "frontend");
    snprintf(sp->team, sizeof sp->team, "web");
    sp->users_per_host = 40;
    sp->total_users = 1000;
    sp->features = 10;
    sp = &f->policy.services[f->policy.nservices++];
    snprintf(sp->name, sizeof sp->name, "api");
    sp->users_per_host = 100;
    sp->total_users = 1000;
    tc_component_policy_t *c = &f->policy.components[f->policy.ncomponents++];
    snprintf(c->name, sizeof c->name, "website");
    snprintf(c->description, sizeof c->description, "Website");
    snprintf(c->services[c->nservices++], TC_ID_MAX, "frontend");
    c = &f->policy.components[f->policy.ncomponents++];
    snprintf(c->name, sizeof c->name, "public-api");
    snprintf(c->description, sizeof c->description, "Public API");
    snprintf(c->services[c->nservices++], TC_ID_MAX, "api");
    snprintf(f->policy.security_team[f->policy.nsecurity_team++], TC_ID_MAX, "kate");
    snprintf(f->policy.security_team[f->policy.nsecurity_team++], TC_ID_MAX, "leo");
    snprintf(f->policy.bridge_url, sizeof f->policy.bridge_url,
             "https://meet.example.com/incident-{{incident}}");
    /* Pages that repeat until acknowledged are deadlines of their own;
     * test_pages covers them, and here they would come before the
     * deadlines these tests are about. */
    f->policy.page_repeat_ms = 0;
    char err[256];
    if (tc_templates_load(NULL, &f->templates, err, sizeof err) != 0)
        return -1;
    f->st = tc_state_new(&f->policy);
    tc_state_set_templates(f->st, f->templates);
    *state = f;
    return f->st ? 0 : -1;
}

static inline int fx_teardown(void **state)
{
    fx_t *f = *state;
    tc_state_destroy(&f->st);
    tc_templates_destroy(&f->templates);
    free(f);
    return 0;
}

/* fx_setup without tocsin's own internal announcements
 * (policy.internal_announce_severities), for tests that count and number
 * the operators' updates; test_state_announce covers the announcements. */
static inline int fx_setup_unannounced(void **state);

/* Puts f->policy in force (as a configuration record would). */
static inline void fx_reconfigure(fx_t *f)
{
    assert_int_equal(tc_state_configure(f->st, &f->policy, NULL, NULL, NULL), 0);
}

static inline int fx_setup_unannounced(void **state)
{
    int rc = fx_setup(state);
    if (rc)
        return rc;
    fx_t *f = *state;
    f->policy.internal_announce_severities = 0;
    fx_reconfigure(f);
    return 0;
}

static inline void fx_apply(fx_t *f, tc_record_t *r)
{
    assert_int_equal(tc_state_apply(f->st, r, &f->out), 0);
}

/* A hard result of check "http" of `service` on `host`; users < 0: no
 * users perfdata. */
static inline void fx_check(fx_t *f, int64_t at, const char *host, const char *service, int state,
                            int users)
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
    fx_apply(f, r);
    free(r);
}

/* Checks, then applies, action `a` made at `at` by `actor`, as the
 * coordinator does; returns the check's result (reason in f->why). */
static inline int fx_apply_action(fx_t *f, int64_t at, const char *actor, tc_operator_action_t *a)
{
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = r->time_ms = at;
    r->event.version = 1;
    r->event.kind = TC_MSG_OPERATOR_ACTION;
    snprintf(r->event.sender, TC_ID_MAX, "coordinator");
    snprintf(a->actor, TC_ID_MAX, "%s", actor);
    r->event.u.action = *a;
    f->why[0] = '\0';
    int rc = tc_state_check(f->st, a, at, f->why, sizeof f->why);
    if (rc == 0)
        fx_apply(f, r);
    free(r);
    return rc;
}

/* `action` on incident `id` by `actor` with up to four arguments (NULL
 * ends them) and message `msg` (may be NULL). */
static inline int fx_act(fx_t *f, int64_t at, const char *actor, uint64_t id, const char *action,
                         const char *a1, const char *a2, const char *a3, const char *msg)
{
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "%s", action);
    a->incident = id;
    const char *args[] = {a1, a2, a3};
    for (size_t i = 0; i < 3 && args[i]; i++)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[i]);
    if (msg)
        snprintf(a->message, sizeof a->message, "%s", msg);
    int rc = fx_apply_action(f, at, actor, a);
    free(a);
    return rc;
}

/* An update draft as the coordinator makes it (drafts.c renders text). */
static inline int fx_draft(fx_t *f, int64_t at, const char *actor, uint64_t id, bool external,
                           const char *body)
{
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "update");
    a->incident = id;
    snprintf(a->args[a->nargs++], TC_ID_MAX, "draft");
    a->update.external = external;
    snprintf(a->update.scenario, sizeof a->update.scenario, "outage");
    snprintf(a->update.state, sizeof a->update.state, "investigating");
    snprintf(a->update.body, sizeof a->update.body, "%s", body);
    int rc = fx_apply_action(f, at, actor, a);
    free(a);
    return rc;
}

/* The next deadline, which must be due by `at`: fired as the coordinator
 * stores it (dated when due, received at `at`). Returns its kind. */
static inline const char *fx_fire(fx_t *f, int64_t at, tc_timer_t *due)
{
    assert_true(tc_state_next_deadline(f->st, due));
    if (due->due_ms > at)
        fail_msg("next deadline (%s) is due at %lld, after %lld", due->kind, (long long)due->due_ms,
                 (long long)at);
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = at;
    r->time_ms = due->due_ms;
    r->event.version = 1;
    r->event.kind = TC_MSG_TIMER;
    r->event.u.timer = *due;
    fx_apply(f, r);
    free(r);
    return due->kind;
}

/* Fires every deadline due by `at`; returns how many. */
static inline int fx_fire_all(fx_t *f, int64_t at)
{
    int n = 0;
    tc_timer_t due;
    while (tc_state_next_deadline(f->st, &due) && due.due_ms <= at) {
        fx_fire(f, at, &due);
        n++;
    }
    return n;
}

static inline const tc_incident_t *fx_inc(fx_t *f, uint64_t id)
{
    const tc_incident_t *inc = tc_state_incident(f->st, id);
    if (!inc)
        fail_msg("no incident %llu", (unsigned long long)id);
    return inc;
}

/* The broadcast of the last record on `topic` (prefix), or NULL. */
static inline const tc_broadcast_t *fx_topic(const fx_t *f, const char *topic)
{
    for (size_t i = 0; i < f->out.n; i++)
        if (!strncmp(f->out.bcast[i].topic, topic, strlen(topic)))
            return &f->out.bcast[i];
    return NULL;
}

/* How many broadcasts of the last record are on `topic` (prefix). */
static inline size_t fx_count(const fx_t *f, const char *topic)
{
    size_t n = 0;
    for (size_t i = 0; i < f->out.n; i++)
        n += !strncmp(f->out.bcast[i].topic, topic, strlen(topic));
    return n;
}

/* The last record's timeline entry of `kind`, or NULL. */
static inline const tc_timeline_t *fx_entry(const fx_t *f, const char *kind)
{
    for (size_t i = 0; i < f->out.ntimeline; i++)
        if (!strcmp(f->out.timeline[i].kind, kind))
            return &f->out.timeline[i];
    return NULL;
}

/* The role holder, or NULL. */
static inline const char *fx_role(fx_t *f, uint64_t id, const char *role)
{
    const tc_incident_t *inc = fx_inc(f, id);
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, role))
            return inc->roles[i].person;
    return NULL;
}

#endif
