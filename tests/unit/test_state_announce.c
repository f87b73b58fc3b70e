/* Internal announcements by default (state_announce.c): an incident of a
 * severity in policy.internal_announce_severities is announced to staff
 * by tocsin itself when it is declared, changes public state or severity,
 * and resolves - and a replay of the same log announces the same. */
#include "state_fixtures.h"

/* The records of a test, kept for the replay. */
typedef struct {
    tc_record_t *recs[64];
    size_t n;
} s_log_t;

static s_log_t s_log;

static void s_keep(fx_t *f, tc_record_t *r)
{
    (void)f;
    assert_true(s_log.n < 64);
    s_log.recs[s_log.n++] = r;
}

static void s_fail_check(fx_t *f, int64_t at, const char *service, int state)
{
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = r->time_ms = at;
    r->event.version = 1;
    r->event.kind = TC_MSG_CHECK_RESULT;
    r->event.seq = f->seq;
    const char *host = strcmp(service, "api") ? "web-01" : "api-01";
    snprintf(r->event.sender, TC_ID_MAX, "%s", host);
    tc_check_result_t *c = &r->event.u.check;
    snprintf(c->host, TC_ID_MAX, "%s", host);
    snprintf(c->check, TC_ID_MAX, "http");
    snprintf(c->service, TC_ID_MAX, "%s", service);
    snprintf(c->output, sizeof c->output, "HTTP 503");
    c->state = (tc_check_state_t)state;
    c->hard = true;
    c->attempt = c->max_attempts = 1;
    fx_apply(f, r);
    s_keep(f, r);
}

/* `action` on incident `id` with one optional argument, checked and
 * applied as the coordinator does; kept for the replay. */
static int s_act(fx_t *f, int64_t at, uint64_t id, const char *action, const char *arg)
{
    tc_record_t *r = calloc(1, sizeof *r);
    r->seq = ++f->seq;
    r->received_ms = r->time_ms = at;
    r->event.version = 1;
    r->event.kind = TC_MSG_OPERATOR_ACTION;
    snprintf(r->event.sender, TC_ID_MAX, "coordinator");
    tc_operator_action_t *a = &r->event.u.action;
    snprintf(a->actor, TC_ID_MAX, "alice");
    snprintf(a->action, sizeof a->action, "%s", action);
    a->incident = id;
    if (arg)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", arg);
    int rc = tc_state_check(f->st, a, at, f->why, sizeof f->why);
    if (rc == 0) {
        fx_apply(f, r);
        s_keep(f, r);
        f->seq = r->seq;
    } else {
        f->seq--;
        free(r);
    }
    return rc;
}

/* The internal announcement the last record made, or NULL. */
static const tc_update_t *s_announced(const fx_t *f)
{
    for (size_t i = 0; i < f->out.n; i++) {
        const tc_broadcast_t *b = &f->out.bcast[i];
        if (b->kind == TC_BCAST_STATUS_UPDATE && !strcmp(b->update.author, "tocsin") &&
            !b->update.external)
            return &b->update;
    }
    return NULL;
}

static int s_setup(void **state)
{
    memset(&s_log, 0, sizeof s_log);
    return fx_setup(state);
}

static int s_teardown(void **state)
{
    for (size_t i = 0; i < s_log.n; i++)
        free(s_log.recs[i]);
    return fx_teardown(state);
}

static void test_lifecycle_announced(void **state)
{
    fx_t *f = *state;
    /* Default [1, 2, 3]. */
    assert_int_equal(f->policy.internal_announce_severities, 1u << 1 | 1u << 2 | 1u << 3);
    s_fail_check(f, 1000, "api", TC_STATE_CRITICAL);
    assert_null(s_announced(f)); /* an alert is not an incident */
    assert_int_equal(s_act(f, 1 * MIN, 1, "sev", "2"), 0);
    assert_null(s_announced(f)); /* not declared yet */
    assert_int_equal(s_act(f, 2 * MIN, 1, "declare", NULL), 0);
    const struct {
        const char *action, *arg, *state, *head; /* head NULL: no announcement */
        uint32_t severity;
    } steps[] = {
        {"state", "identified", "identified", "Now identified (was investigating).", 2},
        {"sev", "3", "identified", "Severity SEV-3 (was SEV-2).", 3},
        {"sev", "4", "identified", "Severity SEV-4 (was SEV-3).", 4}, /* staff were told */
        {"sev", "5", "identified", NULL, 5}, /* neither 4 nor 5 is announced */
        {"state", "monitoring", "monitoring", NULL, 5},
        {"sev", "2", "monitoring", "Now monitoring (was identified). Severity SEV-2 (was SEV-4).",
         2},
        {"note", NULL, NULL, NULL, 2},
    };
    const tc_update_t *u = s_announced(f);
    assert_non_null(u);
    assert_int_equal(u->number, 1);
    assert_int_equal(u->status, TC_UPD_PUBLISHED);
    assert_false(u->external);
    assert_string_equal(u->state, "investigating");
    assert_string_equal(u->scenario, "outage");
    assert_true(!strncmp(u->body, "Declared SEV-2.\n[1] SEV-2 outage of api", 39));
    assert_non_null(strstr(u->body, "Alert: http@api-01"));
    assert_non_null(strstr(u->body, "Conference bridge: https://meet.example.com/incident-1"));
    assert_non_null(fx_topic(f, "status.internal"));
    uint32_t n = 1;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t at = (int64_t)(3 + i) * MIN;
        if (!strcmp(steps[i].action, "note")) {
            tc_operator_action_t a = {0};
            snprintf(a.action, sizeof a.action, "note");
            a.incident = 1;
            snprintf(a.message, sizeof a.message, "looking");
            assert_int_equal(fx_apply_action(f, at, "alice", &a), 0);
        } else if (s_act(f, at, 1, steps[i].action, steps[i].arg) != 0) {
            fail_msg("step %zu: %s", i, f->why);
        }
        u = s_announced(f);
        if (!steps[i].head) {
            if (u)
                fail_msg("step %zu announced: %s", i, u->body);
            continue;
        }
        if (!u)
            fail_msg("step %zu (%s %s) not announced", i, steps[i].action, steps[i].arg);
        assert_int_equal(u->number, ++n);
        assert_string_equal(u->state, steps[i].state);
        assert_int_equal(u->severity, steps[i].severity);
        if (strncmp(u->body, steps[i].head, strlen(steps[i].head)) != 0)
            fail_msg("step %zu: \"%s\" does not start \"%s\"", i, u->body, steps[i].head);
    }
    /* The check recovers; the operator resolves: announced once. */
    s_fail_check(f, 20 * MIN, "api", TC_STATE_OK);
    if (tc_state_incident(f->st, 1)->state != TC_INC_RESOLVED)
        assert_int_equal(s_act(f, 21 * MIN, 1, "resolve", NULL), 0);
    u = s_announced(f);
    assert_non_null(u);
    assert_string_equal(u->state, "resolved");
    char head[16];
    snprintf(head, sizeof head, "%.10s", u->body);
    assert_string_equal(head, "Resolved.\n");
    assert_int_equal(u->number, ++n);
    assert_int_equal(tc_state_incident(f->st, 1)->updates, n);

    /* A replay of the same log makes the same announcements: the state
     * comes out byte for byte the same. */
    tc_state_t *copy = tc_state_new(&f->policy);
    tc_state_set_templates(copy, f->templates);
    tc_state_out_t *out = calloc(1, sizeof *out);
    for (size_t i = 0; i < s_log.n; i++)
        assert_int_equal(tc_state_replay(copy, s_log.recs[i], out), 0);
    free(out);
    tc_buf_t one = {0}, two = {0};
    assert_int_equal(tc_state_snapshot(f->st, f->seq, 0, &one), 0);
    assert_int_equal(tc_state_snapshot(copy, f->seq, 0, &two), 0);
    char why[256] = "";
    if (!tc_state_snapshot_same(one.data, one.len, two.data, two.len, why, sizeof why))
        fail_msg("replay differs: %s", why);
    free(one.data);
    free(two.data);
    tc_state_destroy(&copy);
}

/* Severities outside the set, drills and a policy of [] announce nothing;
 * a security incident's announcement goes to its need-to-know group. */
static void test_what_is_not_announced(void **state)
{
    fx_t *f = *state;
    s_fail_check(f, 1000, "api", TC_STATE_CRITICAL);
    assert_int_equal(s_act(f, 1 * MIN, 1, "sev", "4"), 0);
    assert_int_equal(s_act(f, 2 * MIN, 1, "declare", NULL), 0);
    assert_null(s_announced(f));
    assert_int_equal(tc_state_incident(f->st, 1)->updates, 0);

    /* Security: restricted, never on status.internal. */
    s_fail_check(f, 3 * MIN, "frontend", TC_STATE_CRITICAL);
    if (s_act(f, 4 * MIN, 2, "security", NULL) != 0)
        fail_msg("security: %s", f->why);
    assert_int_equal(s_act(f, 5 * MIN, 2, "sev", "1"), 0);
    if (!tc_state_incident(f->st, 2)->declared)
        assert_int_equal(s_act(f, 6 * MIN, 2, "declare", NULL), 0);
    const tc_update_t *u = tc_state_update(f->st, 2, 1);
    assert_non_null(u);
    assert_string_equal(u->author, "tocsin");
    assert_true(u->restricted);
    assert_string_equal(u->scenario, "security");
    assert_int_equal(fx_count(f, "status.internal"), 0);

    /* internal_announce_severities: [] */
    f->policy.internal_announce_severities = 0;
    fx_reconfigure(f);
    if (s_act(f, 7 * MIN, 1, "sev", "2") != 0)
        fail_msg("sev: %s", f->why);
    assert_null(s_announced(f));
    assert_int_equal(tc_state_incident(f->st, 1)->updates, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle_announced, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_what_is_not_announced, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
