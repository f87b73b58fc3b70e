/* Drafting: an operator's request for a status update or a maintenance
 * window turned into what the log records, templates rendered and times
 * resolved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drafts.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN (60 * 1000LL)
#define T0 1764000000000LL /* 2025-11-24T16:00:00Z */

typedef struct {
    tc_policy_t policy;
    tc_templates_t *templates;
    tc_state_t *st;
    tc_api_request_t q;
    tc_update_t u;
    char why[256];
} fx_t;

static void s_apply(fx_t *f, tc_record_t *r)
{
    tc_state_out_t *out = malloc(sizeof *out);
    assert_int_equal(tc_state_apply(f->st, r, out), 0);
    free(out);
}

static int s_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    tc_policy_defaults(&f->policy);
    tc_service_policy_t *sp = &f->policy.services[f->policy.nservices++];
    snprintf(sp->name, sizeof sp->name, "api");
    tc_component_policy_t *c = &f->policy.components[f->policy.ncomponents++];
    snprintf(c->name, sizeof c->name, "public-api");
    snprintf(c->description, sizeof c->description, "Public API");
    snprintf(c->services[c->nservices++], TC_ID_MAX, "api");
    snprintf(f->policy.bridge_url, sizeof f->policy.bridge_url,
             "https://meet.example.com/incident-{{incident}}");
    char err[256];
    assert_int_equal(tc_templates_load(NULL, &f->templates, err, sizeof err), 0);
    f->st = tc_state_new(&f->policy);
    /* Incident 1: api-01 fails, declared SEV-2 at T0. */
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = 1;
    r->received_ms = T0;
    r->time_ms = T0;
    r->event.version = 1;
    r->event.kind = TC_MSG_CHECK_RESULT;
    r->event.seq = 1;
    snprintf(r->event.sender, TC_ID_MAX, "api-01");
    tc_check_result_t *cr = &r->event.u.check;
    snprintf(cr->host, TC_ID_MAX, "api-01");
    snprintf(cr->check, TC_ID_MAX, "http");
    snprintf(cr->service, TC_ID_MAX, "api");
    snprintf(cr->output, sizeof cr->output, "HTTP 503 from /health");
    cr->state = TC_STATE_CRITICAL;
    cr->hard = true;
    cr->attempt = cr->max_attempts = 1;
    s_apply(f, r);
    const char *acts[][2] = {{"sev", "2"}, {"declare", NULL}};
    for (size_t i = 0; i < 2; i++) {
        memset(r, 0, sizeof *r);
        r->seq = 2 + i;
        r->received_ms = T0;
        r->time_ms = T0;
        r->event.version = 1;
        r->event.kind = TC_MSG_OPERATOR_ACTION;
        snprintf(r->event.sender, TC_ID_MAX, "coordinator");
        tc_operator_action_t *a = &r->event.u.action;
        snprintf(a->actor, TC_ID_MAX, "alice");
        snprintf(a->action, sizeof a->action, "%s", acts[i][0]);
        a->incident = 1;
        if (acts[i][1])
            snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", acts[i][1]);
        s_apply(f, r);
    }
    free(r);
    assert_true(tc_state_incident(f->st, 1)->declared);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *f = *state;
    tc_state_destroy(&f->st);
    tc_templates_destroy(&f->templates);
    free(f);
    return 0;
}

/* Sets q to `update 1 draft` with args 2..7 as given (NULL: empty). */
static void s_request(fx_t *f, const char *audience, const char *scenario, const char *state,
                      const char *title, const char *components, const char *next,
                      const char *message)
{
    memset(&f->q, 0, sizeof f->q);
    f->q.version = 1;
    snprintf(f->q.command, sizeof f->q.command, "update");
    const char *args[] = {"1", "draft", audience, scenario, state, title, components, next};
    for (size_t i = 0; i < 8; i++)
        snprintf(f->q.args[f->q.nargs++], TC_API_ARG_MAX, "%s", args[i] ? args[i] : "");
    if (message)
        snprintf(f->q.message, sizeof f->q.message, "%s", message);
}

static int s_draft(fx_t *f, int64_t now)
{
    return tc_draft_update(f->st, &f->policy, f->templates, now, 1, &f->q, &f->u, f->why,
                           sizeof f->why);
}

static void test_update_from_template(void **state)
{
    fx_t *f = *state;
    s_request(f, NULL, NULL, NULL, "API errors", NULL, NULL, NULL);
    assert_int_equal(s_draft(f, T0 + 5 * MIN), 0);
    assert_true(f->u.external);
    assert_string_equal(f->u.scenario, "outage"); /* SEV-2 */
    assert_string_equal(f->u.state, "investigating");
    assert_string_equal(f->u.title, "API errors");
    /* The components customers know, and when the next update comes. */
    assert_non_null(strstr(f->u.body, "Public API"));
    /* The next update is today: written the short way people read. */
    assert_non_null(strstr(f->u.body, "Next update: 16:25 UTC."));
    assert_int_equal(f->u.next_update_ms, T0 + 25 * MIN);
    assert_null(strstr(f->u.body, "{{"));
    assert_null(strstr(f->u.body, "api-01"));
    assert_null(strstr(f->u.body, "503"));

    /* Internal: the detail is welcome. */
    s_request(f, "internal", NULL, "identified", NULL, NULL, "45m", NULL);
    assert_int_equal(s_draft(f, T0 + 5 * MIN), 0);
    assert_false(f->u.external);
    assert_non_null(strstr(f->u.body, "503"));
    assert_int_equal(f->u.next_update_ms, T0 + 50 * MIN);

    /* A text of one's own wins over the template; resolved promises nothing. */
    s_request(f, NULL, "degradation", "resolved", NULL, "public-api", NULL, "All good.");
    assert_int_equal(s_draft(f, T0), 0);
    assert_string_equal(f->u.body, "All good.");
    assert_int_equal(f->u.next_update_ms, 0);
    assert_int_equal(f->u.ncomponents, 1);
    assert_string_equal(f->u.components[0].name, "public-api");
}

/* Restoration estimates (AWS OPS10-BP05: a notice without a timeline for
 * restoring service is an anti-pattern): --eta as a time, a duration from
 * now or unknown, and the templates saying which. */
static void test_eta(void **state)
{
    fx_t *f = *state;
    const int64_t now = T0 + 5 * MIN;
    const struct {
        const char *eta;
        int rc;
        int64_t eta_ms;
        const char *sentence;
    } rows[] = {
        {NULL, 0, 0, "We do not yet know when service will be restored."},
        {"unknown", 0, 0, "We do not yet know when service will be restored."},
        {"45m", 0, now + 45 * MIN,
         "We expect service to be restored by Mon 24 Nov 2025, 16:50 UTC."},
        {"+2h", 0, now + 120 * MIN,
         "We expect service to be restored by Mon 24 Nov 2025, 18:05 UTC."},
        {"2025-11-25T09:30:00Z", 0, T0 + 17 * 60 * MIN + 30 * MIN,
         "We expect service to be restored by Tue 25 Nov 2025, 09:30 UTC."},
        {"2025-11-24T15:00:00Z", TC_EINVAL, 0, "not in the future"},
        {"soon", TC_EINVAL, 0, "eta: a time (RFC 3339"},
        {"0s", TC_EINVAL, 0, "eta: a time (RFC 3339"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s_request(f, NULL, NULL, NULL, "API errors", NULL, NULL, NULL);
        if (rows[i].eta)
            snprintf(f->q.args[f->q.nargs++], TC_API_ARG_MAX, "%s", rows[i].eta);
        f->why[0] = '\0';
        int rc = s_draft(f, now);
        if (rc != rows[i].rc)
            fail_msg("--eta %s: %d (%s)", rows[i].eta, rc, f->why);
        if (rc) {
            if (!strstr(f->why, rows[i].sentence))
                fail_msg("--eta %s: \"%s\" lacks \"%s\"", rows[i].eta, f->why, rows[i].sentence);
            continue;
        }
        assert_int_equal(f->u.eta_ms, rows[i].eta_ms);
        if (!strstr(f->u.body, rows[i].sentence))
            fail_msg("--eta %s: \"%s\" lacks \"%s\"", rows[i].eta, f->u.body, rows[i].sentence);
    }
    /* Resolved expects nothing more; a text of one's own keeps the eta. */
    s_request(f, NULL, NULL, "resolved", NULL, NULL, NULL, NULL);
    snprintf(f->q.args[f->q.nargs++], TC_API_ARG_MAX, "45m");
    assert_int_equal(s_draft(f, now), 0);
    assert_int_equal(f->u.eta_ms, 0);
    assert_null(strstr(f->u.body, "restored"));
    s_request(f, NULL, NULL, NULL, NULL, NULL, NULL, "We are on it.");
    snprintf(f->q.args[f->q.nargs++], TC_API_ARG_MAX, "45m");
    assert_int_equal(s_draft(f, now), 0);
    assert_int_equal(f->u.eta_ms, now + 45 * MIN);
    assert_string_equal(f->u.body, "We are on it.");
}

/* Internal updates say where the call is; external ones never do. */
static void test_bridge_in_internal_updates(void **state)
{
    fx_t *f = *state;
    const char *link = "Conference bridge: https://meet.example.com/incident-1";
    s_request(f, "internal", NULL, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(s_draft(f, T0), 0);
    assert_non_null(strstr(f->u.body, link));
    s_request(f, "internal", NULL, NULL, NULL, NULL, NULL, "db-01 is back");
    assert_int_equal(s_draft(f, T0), 0);
    assert_string_equal(f->u.body, "db-01 is back\nConference bridge: "
                                   "https://meet.example.com/incident-1");
    /* Said once, even when the text has it already. */
    s_request(f, "internal", NULL, NULL, NULL, NULL, NULL,
              "join https://meet.example.com/incident-1 now");
    assert_int_equal(s_draft(f, T0), 0);
    assert_null(strstr(f->u.body, "Conference bridge"));
    s_request(f, "external", NULL, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(s_draft(f, T0), 0);
    assert_null(strstr(f->u.body, "meet.example.com"));
}

/* SEV-4 and SEV-5 have their own meaning for customers. */
static void test_low_severities(void **state)
{
    fx_t *f = *state;
    static const struct {
        const char *sev, *scenario, *sentence;
    } rows[] = {
        {"3", "degradation", "Some customers may notice problems."},
        {"4", "degradation", "Customers should not notice any impact."},
        {"5", "degradation", "This is a cosmetic issue only."},
        {"1", "outage", "Most customers cannot use the affected features."},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tc_record_t *r = calloc(1, sizeof *r);
        r->seq = 10 + i;
        r->received_ms = r->time_ms = T0 + MIN;
        r->event.version = 1;
        r->event.kind = TC_MSG_OPERATOR_ACTION;
        snprintf(r->event.sender, TC_ID_MAX, "coordinator");
        tc_operator_action_t *a = &r->event.u.action;
        snprintf(a->actor, TC_ID_MAX, "alice");
        snprintf(a->action, sizeof a->action, "sev");
        a->incident = 1;
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", rows[i].sev);
        s_apply(f, r);
        free(r);
        s_request(f, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        assert_int_equal(s_draft(f, T0 + MIN), 0);
        assert_string_equal(f->u.scenario, rows[i].scenario);
        if (!strstr(f->u.body, rows[i].sentence))
            fail_msg("SEV-%s: \"%s\" lacks \"%s\"", rows[i].sev, f->u.body, rows[i].sentence);
    }
}

static void test_update_refusals(void **state)
{
    fx_t *f = *state;
    s_request(f, "everyone", NULL, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(s_draft(f, T0), TC_EINVAL);
    assert_non_null(strstr(f->why, "internal or external"));
    s_request(f, NULL, NULL, NULL, NULL, "a,b c", NULL, NULL);
    assert_int_equal(s_draft(f, T0), TC_EINVAL);
    assert_non_null(strstr(f->why, "components"));
    s_request(f, NULL, NULL, NULL, NULL, NULL, "soon", NULL);
    assert_int_equal(s_draft(f, T0), TC_EINVAL);
    assert_non_null(strstr(f->why, "duration"));
    s_request(f, NULL, "meteor", NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(s_draft(f, T0), TC_EINVAL);
    assert_non_null(strstr(f->why, "no template for meteor"));
    s_request(f, NULL, "outage", "in_progress", NULL, NULL, NULL, NULL);
    assert_int_equal(s_draft(f, T0), TC_EINVAL);
    assert_int_equal(tc_draft_update(f->st, &f->policy, f->templates, T0, 9, &f->q, &f->u, f->why,
                                     sizeof f->why),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "no incident 9"));
}

/* Limits that speak: a 4096-byte text is stored whole, a longer one and a
 * title that is too long or holds a control character are refused with the
 * limit or the reason in the message, never cut. */
static void test_update_limits(void **state)
{
    fx_t *f = *state;
    static char big[TC_BODY_MAX];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s_request(f, NULL, NULL, NULL, NULL, NULL, NULL, big);
    assert_int_equal(s_draft(f, T0), 0);
    assert_int_equal(strlen(f->u.body), 4096);
    assert_memory_equal(f->u.body, big, 4096);

    const struct {
        const char *title, *why;
    } bad[] = {
        {"API errors\r\nX-Injected: 1", "control character"},
        {"line\none", "control character"},
        {"tab\there", "control character"},
        {"del\x7f", "control character"},
        {"c1 \xc2\x85 next line", "control character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_request(f, NULL, NULL, NULL, bad[i].title, NULL, NULL, "text");
        assert_int_equal(s_draft(f, T0), TC_EINVAL);
        if (!strstr(f->why, bad[i].why))
            fail_msg("title %zu: \"%s\" lacks \"%s\"", i, f->why, bad[i].why);
    }
    char longtitle[TC_API_ARG_MAX];
    memset(longtitle, 't', TC_TITLE_MAX);
    longtitle[TC_TITLE_MAX] = '\0';
    s_request(f, NULL, NULL, NULL, longtitle, NULL, NULL, "text");
    assert_int_equal(s_draft(f, T0), TC_EINVAL);
    assert_non_null(strstr(f->why, "at most 159 bytes"));
    longtitle[TC_TITLE_MAX - 1] = '\0';
    s_request(f, NULL, NULL, NULL, longtitle, NULL, NULL, "text");
    assert_int_equal(s_draft(f, T0), 0);
    assert_int_equal(strlen(f->u.title), TC_TITLE_MAX - 1);
    /* UTF-8 in a title is fine. */
    s_request(f, NULL, NULL, NULL, "Paiements retard\xc3\xa9s", NULL, NULL, "text");
    assert_int_equal(s_draft(f, T0), 0);
}

static int s_window(fx_t *f, const char *start, const char *end, const char *comps,
                    const char *every, tc_maintenance_t *w)
{
    memset(&f->q, 0, sizeof f->q);
    const char *args[] = {"add", start, end, comps, every, "", "DB upgrade"};
    for (size_t i = 0; i < 7; i++)
        snprintf(f->q.args[f->q.nargs++], TC_API_ARG_MAX, "%s", args[i]);
    snprintf(f->q.message, sizeof f->q.message, "Writes pause for 10 minutes.");
    return tc_draft_window(T0, &f->q, w, f->why, sizeof f->why);
}

static void test_window(void **state)
{
    fx_t *f = *state;
    tc_maintenance_t w;
    assert_int_equal(s_window(f, "+1h", "2025-11-24T18:30:00Z", "public-api,web", "7d", &w), 0);
    assert_int_equal(w.start_ms, T0 + 60 * MIN);
    assert_int_equal(w.end_ms, T0 + 150 * MIN);
    assert_int_equal(w.every_ms, 7 * 24 * 60 * MIN);
    assert_int_equal(w.ncomponents, 2);
    assert_string_equal(w.components[1], "web");
    assert_string_equal(w.title, "DB upgrade");
    assert_string_equal(w.description, "Writes pause for 10 minutes.");
    assert_int_equal(s_window(f, "tomorrow", "+2h", "web", "", &w), TC_EINVAL);
    assert_int_equal(s_window(f, "now", "+2h", "web", "weekly", &w), TC_EINVAL);
    assert_int_equal(s_window(f, "now", "+2h", "bad name", "", &w), TC_EINVAL);
    f->q.nargs = 3;
    assert_int_equal(tc_draft_window(T0, &f->q, &w, f->why, sizeof f->why), TC_EINVAL);

    /* A title on one line; a description that fits whole. */
    assert_int_equal(s_window(f, "now", "+2h", "web", "", &w), 0);
    snprintf(f->q.args[6], TC_API_ARG_MAX, "DB upgrade\nnow");
    assert_int_equal(tc_draft_window(T0, &f->q, &w, f->why, sizeof f->why), TC_EINVAL);
    assert_non_null(strstr(f->why, "control character"));
    snprintf(f->q.args[6], TC_API_ARG_MAX, "DB upgrade");
    memset(f->q.message, 'd', TC_TEXT_MAX - 1);
    f->q.message[TC_TEXT_MAX - 1] = '\0';
    assert_int_equal(tc_draft_window(T0, &f->q, &w, f->why, sizeof f->why), 0);
    assert_int_equal(strlen(w.description), TC_TEXT_MAX - 1);
    f->q.message[TC_TEXT_MAX - 1] = 'd';
    f->q.message[TC_TEXT_MAX] = '\0';
    assert_int_equal(tc_draft_window(T0, &f->q, &w, f->why, sizeof f->why), TC_EINVAL);
    assert_non_null(strstr(f->why, "at most 511 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_update_from_template, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_update_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_update_limits, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_eta, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bridge_in_internal_updates, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_low_severities, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_window, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
