/* Pages in the pure state machine (coordinator/state_pages.c): urgency by
 * severity, high-urgency pages repeating until acknowledged (a deadline
 * derived from the state, re-armed from when it fired), escalation before
 * a repeat due at the same moment, the end of the chain, acknowledgement
 * through a page's link bound to that page only, an integration's
 * acknowledgement, post-mortem and update reminders as pages, delivery
 * reports in the timeline and per person, maintenance silencing repeats,
 * and the counts surviving a snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "state.h"
#include "util.h"

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
    tc_service_policy_t *sp = &f->policy.services[f->policy.nservices++];
    snprintf(sp->name, sizeof sp->name, "api");
    sp->users_per_host = 40;
    sp->total_users = 1000;
    f->policy.page_repeat_ms = 5 * MIN;
    f->policy.public_severities = 0;    /* no update cadence competing */
    f->policy.ic_quiet_reminder_ms = 0; /* nor a quiet IC's reminder (test_followup) */
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

static void s_check(fx_t *f, int64_t at, const char *check, int state, bool ack)
{
    tc_record_t r = {.seq = ++f->seq, .received_ms = at, .time_ms = at};
    r.event.version = 1;
    r.event.kind = TC_MSG_CHECK_RESULT;
    r.event.seq = f->seq;
    snprintf(r.event.sender, TC_ID_MAX, "gw-01");
    tc_check_result_t *c = &r.event.u.check;
    snprintf(c->host, TC_ID_MAX, "web-01");
    snprintf(c->check, TC_ID_MAX, "%s", check);
    snprintf(c->service, TC_ID_MAX, "api");
    snprintf(c->output, sizeof c->output, "from zabbix");
    c->state = (tc_check_state_t)state;
    c->hard = true;
    c->acknowledged = ack;
    c->attempt = c->max_attempts = 1;
    assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
}

static int s_act(fx_t *f, int64_t at, const char *actor, const char *action, const char *a1,
                 const char *a2, const char *a3, char *why)
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
    char w[256];
    int rc = tc_state_check(f->st, a, at, why ? why : w, 256);
    if (rc == 0)
        assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
    return rc;
}

/* A delivery report: PERSON METHOD RESULT LATENCY ATTEMPTS NUMBER. */
static int s_report(fx_t *f, int64_t at, const char *person, const char *method, const char *result,
                    const char *latency, const char *attempts, const char *msg)
{
    tc_record_t r = {.seq = ++f->seq, .received_ms = at, .time_ms = at};
    r.event.version = 1;
    r.event.kind = TC_MSG_OPERATOR_ACTION;
    snprintf(r.event.sender, TC_ID_MAX, "coordinator");
    tc_operator_action_t *a = &r.event.u.action;
    snprintf(a->actor, TC_ID_MAX, "notify");
    snprintf(a->action, sizeof a->action, "pagedelivery");
    a->incident = 1;
    const char *args[] = {person, method, result, latency, attempts, "1"};
    for (int i = 0; i < 6; i++)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[i]);
    snprintf(a->message, sizeof a->message, "%s", msg);
    char why[256];
    int rc = tc_state_check(f->st, a, at, why, sizeof why);
    if (rc == 0)
        assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
    return rc;
}

/* Fires the next deadline as the coordinator would, at `now` (its receive
 * time, which may be long after the deadline). Returns its kind. */
static const char *s_fire(fx_t *f, int64_t now)
{
    static tc_timer_t due;
    if (!tc_state_next_deadline(f->st, &due) || due.due_ms > now)
        return "";
    tc_record_t r = {.seq = ++f->seq, .received_ms = now, .time_ms = due.due_ms};
    r.event.version = 1;
    r.event.kind = TC_MSG_TIMER;
    snprintf(r.event.sender, TC_ID_MAX, "coordinator");
    r.event.u.timer = due;
    assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
    return due.kind;
}

/* The first broadcast of `kind` on `topic` in the last step's output. */
static const tc_broadcast_t *s_bcast(const fx_t *f, tc_bcast_kind_t kind, const char *topic)
{
    for (size_t i = 0; i < f->out.n; i++)
        if (f->out.bcast[i].kind == kind && !strcmp(f->out.bcast[i].topic, topic))
            return &f->out.bcast[i];
    return NULL;
}

static const tc_broadcast_t *s_page(const fx_t *f, const char *topic)
{
    return s_bcast(f, TC_BCAST_PAGE, topic);
}

static const tc_role_t *s_role(fx_t *f, const char *role)
{
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    for (size_t i = 0; inc && i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, role))
            return &inc->roles[i];
    return NULL;
}

static void test_urgency_and_repeats(void **state)
{
    fx_t *f = *state;
    tc_timer_t due;
    s_check(f, 0, "http", TC_STATE_CRITICAL, false);
    assert_int_equal(s_act(f, 1, "tocsin", "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(tc_state_incident(f->st, 1)->severity, 3); /* 40 of 1000 */
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "sme", "alice", "0", NULL), 0);
    const tc_broadcast_t *b = s_page(f, "page.alice");
    assert_non_null(b);
    assert_string_equal(b->page.person, "alice");
    assert_string_equal(b->page.role, "sme");
    assert_int_equal(b->page.kind, TC_PAGE_ASSIGNED);
    assert_int_equal(b->page.urgency, TC_URGENCY_HIGH); /* SEV-3 */
    assert_int_equal(b->page.paged_ms, MIN);
    assert_int_equal(b->page.number, 1);
    /* No escalation timeout: the only deadline is the repeat. */
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "repage");
    assert_string_equal(due.key, "sme");
    assert_int_equal(due.due_ms, 6 * MIN);
    assert_string_equal(s_fire(f, 6 * MIN), "repage");
    b = s_page(f, "page.alice");
    assert_non_null(b);
    assert_int_equal(b->page.kind, TC_PAGE_REPEATED);
    assert_int_equal(b->page.number, 2);
    assert_int_equal(b->page.paged_ms, MIN); /* the same page, again */
    assert_string_equal(f->out.timeline[0].kind, "repage");
    assert_non_null(strstr(f->out.timeline[0].text, "sme page to alice repeated (page 2)"));
    /* The coordinator was down for an hour: one repeat when it is back,
     * and the next five minutes after that, not twelve at once. */
    assert_string_equal(s_fire(f, 71 * MIN), "repage");
    assert_int_equal(s_role(f, "sme")->repeats, 2);
    assert_string_equal(s_fire(f, 71 * MIN), "");
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_int_equal(due.due_ms, 76 * MIN);
    /* SEV-4 pages are low urgency and never repeat. */
    assert_int_equal(s_act(f, 72 * MIN, "bob", "sev", "4", NULL, NULL, NULL), 0);
    assert_false(tc_state_next_deadline(f->st, &due));
    assert_int_equal(s_act(f, 72 * MIN, "tocsin", "assign", "scribe", "carol", "0", NULL), 0);
    assert_int_equal(s_page(f, "page.carol")->page.urgency, TC_URGENCY_LOW);
    /* SEV-5 pages nobody, still recorded on the topic. */
    assert_int_equal(s_act(f, 73 * MIN, "bob", "sev", "5", NULL, NULL, NULL), 0);
    assert_int_equal(s_act(f, 73 * MIN, "tocsin", "assign", "deputy", "dave", "0", NULL), 0);
    assert_int_equal(s_page(f, "page.dave")->page.urgency, TC_URGENCY_NONE);
    /* Back to SEV-2: alice's page repeats again, from her last repeat. */
    assert_int_equal(s_act(f, 74 * MIN, "bob", "sev", "2", NULL, NULL, NULL), 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "repage");
    /* Acknowledging stops the repeats. */
    assert_int_equal(s_act(f, 75 * MIN, "alice", "ack", "sme", NULL, NULL, NULL), 0);
    assert_int_equal(s_act(f, 75 * MIN, "carol", "ack", "scribe", NULL, NULL, NULL), 0);
    assert_int_equal(s_act(f, 75 * MIN, "dave", "ack", "deputy", NULL, NULL, NULL), 0);
    assert_false(tc_state_next_deadline(f->st, &due));
}

static void test_escalation_before_repeat(void **state)
{
    fx_t *f = *state;
    tc_timer_t due;
    s_check(f, 0, "http", TC_STATE_CRITICAL, false);
    assert_int_equal(s_act(f, 1, "tocsin", "declare", NULL, NULL, NULL, NULL), 0);
    /* A 5 min timeout and 5 min repeats: both due at 6 min. */
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "sme", "alice", "300000", NULL), 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "escalate");
    assert_string_equal(s_fire(f, 6 * MIN), "escalate");
    /* Escalating: alice is being replaced, her page does not repeat. */
    assert_false(tc_state_next_deadline(f->st, &due));
    assert_int_equal(s_act(f, 6 * MIN, "tocsin", "assign", "sme", "bob", "300000", NULL), 0);
    const tc_broadcast_t *b = s_page(f, "page.bob");
    assert_int_equal(b->page.kind, TC_PAGE_ESCALATED);
    assert_int_equal(b->page.level, 1);
    assert_string_equal(s_fire(f, 11 * MIN), "escalate");
    /* The end of the chain: bob stays paged, is told so, and his page
     * repeats from then on. */
    assert_int_equal(s_act(f, 11 * MIN, "tocsin", "exhausted", "sme", NULL, NULL, NULL), 0);
    b = s_page(f, "page.bob");
    assert_non_null(b);
    assert_int_equal(b->page.kind, TC_PAGE_EXHAUSTED);
    assert_non_null(strstr(b->detail, "nobody is left"));
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "repage");
    assert_int_equal(due.due_ms, 16 * MIN);
}

static void test_link_ack(void **state)
{
    fx_t *f = *state;
    char why[256];
    s_check(f, 0, "http", TC_STATE_CRITICAL, false);
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "sme", "alice", "0", NULL), 0);
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "commander", "bob", "0", NULL), 0);
    char paged[24];
    snprintf(paged, sizeof paged, "%lld", (long long)MIN);
    /* Someone else's link, an earlier page, a bad form: refused. */
    assert_int_equal(s_act(f, 2 * MIN, "bob", "ack", "sme", paged, "link", why), TC_EINVAL);
    assert_non_null(strstr(why, "earlier page"));
    assert_int_equal(s_act(f, 2 * MIN, "alice", "ack", "sme", "59999", "link", why), TC_EINVAL);
    assert_int_equal(s_act(f, 2 * MIN, "alice", "ack", "sme", paged, "url", why), TC_EINVAL);
    assert_int_equal(s_act(f, 2 * MIN, "alice", "ack", "nope", paged, "link", why), TC_EINVAL);
    /* alice's own link acknowledges her page, and only hers. */
    assert_int_equal(s_act(f, 2 * MIN, "alice", "ack", "sme", paged, "link", why), 0);
    assert_int_equal(s_role(f, "sme")->acked_ms, 2 * MIN);
    assert_int_equal(s_role(f, "commander")->acked_ms, 0);
    assert_int_equal(tc_state_incident(f->st, 1)->state, TC_INC_INVESTIGATING);
    assert_string_equal(f->out.timeline[0].actor, "alice");
    assert_non_null(strstr(f->out.timeline[0].text, "acknowledged by alice via link: sme page"));
    /* Single use. */
    assert_int_equal(s_act(f, 3 * MIN, "alice", "ack", "sme", paged, "link", why), TC_EINVAL);
    assert_non_null(strstr(why, "already acknowledged"));
    /* A new page of the same role is another page: the old link stays
     * dead. */
    assert_int_equal(s_act(f, 4 * MIN, "bob", "assign", "sme", "alice", "0", NULL), 0);
    assert_int_equal(s_act(f, 5 * MIN, "alice", "ack", "sme", paged, "link", why), TC_EINVAL);
}

static void s_count_pager(const tc_state_pager_t *p, void *ctx)
{
    tc_state_pager_t *out = ctx;
    if (!strcmp(p->person, out->person))
        *out = *p;
}

static void test_alert_ack_and_reports(void **state)
{
    fx_t *f = *state;
    s_check(f, 0, "http", TC_STATE_CRITICAL, false);
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "sme", "alice", "0", NULL), 0);
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "commander", "bob", "0", NULL), 0);
    /* An integration acknowledges an alert that is not failing: nothing. */
    s_check(f, 2 * MIN, "disk", TC_STATE_OK, true);
    assert_int_equal(f->out.n, 0);
    assert_int_equal(s_role(f, "sme")->acked_ms, 0);
    /* The failing one: the incident and every page are acknowledged. */
    s_check(f, 2 * MIN, "http", TC_STATE_CRITICAL, true);
    assert_int_equal(s_role(f, "sme")->acked_ms, 2 * MIN);
    assert_int_equal(s_role(f, "commander")->acked_ms, 2 * MIN);
    assert_int_equal(tc_state_incident(f->st, 1)->state, TC_INC_INVESTIGATING);
    assert_int_equal(tc_state_incident(f->st, 1)->failing_checks, 1); /* state unchanged */
    assert_string_equal(f->out.timeline[0].kind, "ack");
    assert_non_null(strstr(f->out.timeline[0].text, "acknowledged from gw-01 (alert http@web-01)"));
    tc_timer_t due;
    assert_false(tc_state_next_deadline(f->st, &due) && !strcmp(due.kind, "repage"));

    /* Delivery reports: the timeline and the counts per person. */
    assert_int_equal(s_report(f, 3 * MIN, "alice", "email", "delivered", "140", "1", "SMTP 250"),
                     0);
    assert_string_equal(f->out.timeline[0].kind, "page-delivery");
    assert_string_equal(f->out.timeline[0].text, "page to alice by e-mail delivered in 140 ms");
    assert_int_equal(s_report(f, 3 * MIN, "alice", "ntfy", "failing", "600000", "14", "HTTP 503"),
                     0);
    assert_non_null(strstr(f->out.timeline[0].text, "page to alice by ntfy failing"));
    assert_int_equal(s_report(f, 4 * MIN, "alice", "ntfy", "failed", "0", "20", "gave up"), 0);
    assert_int_equal(s_report(f, 4 * MIN, "alice", "sms", "failed", "0", "1", ""), TC_EINVAL);
    assert_int_equal(s_report(f, 4 * MIN, "alice", "email", "lost", "0", "1", ""), TC_EINVAL);
    assert_int_equal(s_report(f, 4 * MIN, "al ice", "email", "failed", "0", "1", ""), TC_EINVAL);
    tc_state_pager_t p = {.person = "alice"};
    tc_state_each_pager(f->st, s_count_pager, &p);
    assert_int_equal(p.pages, 1);
    assert_int_equal(p.delivered, 1);
    assert_int_equal(p.failed, 1);
    assert_int_equal(p.latency_total_ms, 140);
    assert_string_equal(p.last_result, "failed");
    assert_string_equal(p.last_method, "ntfy");

    /* The counts survive a snapshot, byte for byte. */
    tc_buf_t a = {0}, b = {0};
    assert_int_equal(tc_state_snapshot(f->st, f->seq, 10, &a), 0);
    tc_state_t *copy = tc_state_new(&f->policy);
    uint64_t at;
    assert_int_equal(tc_state_restore(copy, a.data, a.len, &at), 0);
    assert_int_equal(tc_state_snapshot(copy, f->seq, 10, &b), 0);
    assert_true(tc_state_snapshot_same(a.data, a.len, b.data, b.len, NULL, 0));
    tc_state_pager_t q = {.person = "alice"};
    tc_state_each_pager(copy, s_count_pager, &q);
    assert_int_equal(q.pages, p.pages);
    assert_int_equal(q.delivered, p.delivered);
    assert_int_equal(q.failed, p.failed);
    assert_int_equal(q.latency_total_ms, p.latency_total_ms);
    assert_int_equal(q.last_ms, p.last_ms);
    assert_string_equal(q.last_result, p.last_result);
    assert_string_equal(q.last_method, p.last_method);
    assert_string_equal(q.last_detail, p.last_detail);
    tc_state_destroy(&copy);
    free(a.data);
    free(b.data);
}

static void test_reminders_are_pages(void **state)
{
    fx_t *f = *state;
    s_check(f, 0, "http", TC_STATE_CRITICAL, false);
    assert_int_equal(s_act(f, 1, "tocsin", "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "commander", "bob", "0", NULL), 0);
    assert_int_equal(s_act(f, MIN, "bob", "ack", NULL, NULL, NULL, NULL), 0);
    s_check(f, 10 * MIN, "http", TC_STATE_OK, false); /* resolved: post-mortem due */
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    assert_string_equal(inc->postmortem_owner, "bob");
    int64_t due = inc->postmortem_due_ms;
    assert_string_equal(s_fire(f, due), "postmortem");
    /* A reminder, not a role's page: it carries a page for tocsin-notify
     * but waits for no acknowledgement. */
    assert_null(s_page(f, "page.bob"));
    const tc_broadcast_t *b = s_bcast(f, TC_BCAST_REMINDER, "page.bob");
    assert_non_null(b);
    assert_string_equal(b->page.person, "bob");
    assert_int_equal(b->page.kind, TC_PAGE_POSTMORTEM);
    assert_int_equal(b->page.urgency, TC_URGENCY_LOW);
    assert_string_equal(b->page.role, "postmortem_owner");
    assert_false(tc_page_waits_for_ack(b->page.kind));
    assert_non_null(strstr(b->detail, "post-mortem of incident 1 (api, SEV-"));
}

/* The process's notices to one person (here: the IC who handed command
 * over hears it) are reminders with a page of kind notice, at the
 * incident's urgency, so that tocsin-notify delivers them too. */
static void test_notices_are_pages(void **state)
{
    fx_t *f = *state;
    s_check(f, 0, "http", TC_STATE_CRITICAL, false);
    assert_int_equal(s_act(f, 1, "tocsin", "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "commander", "bob", "0", NULL), 0);
    assert_int_equal(s_act(f, 2 * MIN, "carol", "handoff", "carol", "0", "force", NULL), 0);
    const tc_broadcast_t *b = s_bcast(f, TC_BCAST_REMINDER, "page.bob");
    assert_non_null(b);
    assert_string_equal(b->page.person, "bob");
    assert_string_equal(b->page.role, "commander");
    assert_int_equal(b->page.kind, TC_PAGE_NOTICE);
    assert_int_equal(b->page.urgency, TC_URGENCY_HIGH); /* not assessed yet */
    assert_false(tc_page_waits_for_ack(b->page.kind));
    assert_non_null(strstr(b->detail, "taken over with --force and given to carol by carol"));
    assert_string_equal(tc_page_kind_name(TC_PAGE_NOTICE), "notice");
    /* carol took command herself: no page for her, and no repeat. */
    assert_null(s_page(f, "page.carol"));
    assert_null(s_bcast(f, TC_BCAST_REMINDER, "page.carol"));
}

static void test_maintenance_silences_repeats(void **state)
{
    fx_t *f = *state;
    tc_timer_t due;
    f->policy.ncomponents = 1;
    snprintf(f->policy.components[0].name, TC_ID_MAX, "api");
    snprintf(f->policy.components[0].services[0], TC_ID_MAX, "api");
    f->policy.components[0].nservices = 1;
    tc_state_configure(f->st, &f->policy, NULL, NULL, NULL);
    s_check(f, 0, "http", TC_STATE_CRITICAL, false);
    assert_int_equal(s_act(f, MIN, "tocsin", "assign", "sme", "alice", "0", NULL), 0);
    assert_true(tc_state_next_deadline(f->st, &due));
    assert_string_equal(due.kind, "repage");
    /* A window over the service starts: no repeats while it lasts. */
    tc_record_t r = {.seq = ++f->seq, .received_ms = 2 * MIN, .time_ms = 2 * MIN};
    r.event.version = 1;
    r.event.kind = TC_MSG_OPERATOR_ACTION;
    snprintf(r.event.sender, TC_ID_MAX, "coordinator");
    tc_operator_action_t *a = &r.event.u.action;
    snprintf(a->actor, TC_ID_MAX, "ops");
    snprintf(a->action, sizeof a->action, "maintenance");
    snprintf(a->args[a->nargs++], TC_ID_MAX, "add");
    a->maint.start_ms = 2 * MIN;
    a->maint.end_ms = 60 * MIN;
    snprintf(a->maint.title, sizeof a->maint.title, "upgrade");
    snprintf(a->maint.components[0], TC_ID_MAX, "api");
    a->maint.ncomponents = 1;
    char why[256];
    assert_int_equal(tc_state_check(f->st, a, 2 * MIN, why, sizeof why), 0);
    assert_int_equal(tc_state_apply(f->st, &r, &f->out), 0);
    assert_string_equal(s_fire(f, 2 * MIN), "maintenance"); /* in progress */
    assert_true(tc_state_service_in_maintenance(f->st, "api") != 0);
    /* Everything due until just before the window ends: no repeat. */
    for (const char *k; *(k = s_fire(f, 59 * MIN));)
        assert_string_not_equal(k, "repage");
    /* After the window the page goes out again and repeats resume. */
    assert_string_equal(s_fire(f, 60 * MIN), "maintenance");
    assert_non_null(s_page(f, "page.alice"));
    assert_true(tc_state_next_deadline(f->st, &due));
    bool repeats = false;
    for (const char *k; *(k = s_fire(f, 66 * MIN));)
        repeats |= !strcmp(k, "repage");
    assert_true(repeats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_urgency_and_repeats, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_escalation_before_repeat, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_link_ack, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_alert_ack_and_reports, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reminders_are_pages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_notices_are_pages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_maintenance_silences_repeats, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
