/* The public post-mortem report: drafted from four parts, approved by the
 * Incident Commander, published to external subscribers like a status
 * update; its parts survive the wire and the status page keeps it apart
 * from the incident's status updates. */
#include "state_fixtures.h"

#include "drafts.h"
#include "json.h"
#include "sp_site.h"
#include "sp_state.h"
#include "wire.h"

#include "proto/tocsin.pb-c.h"

static const char *const s_parts[TC_REPORT_PARTS] = {
    "On 1 December checkout failed for 40 minutes.",
    "About a third of customers could not pay.\nNo data was lost.",
    "A configuration change reduced the capacity of our payment service.",
    "Changes to capacity now need a second review."};

/* `postmortem ID report` as the coordinator records it: drafted (drafts.c)
 * from the four parts joined as tocsinctl sends them, then checked. */
static int s_report(fx_t *f, int64_t at, const char *actor, uint64_t id,
                    const char *const parts[TC_REPORT_PARTS])
{
    tc_api_request_t *q = calloc(1, sizeof *q);
    size_t o = 0;
    for (int k = 0; k < TC_REPORT_PARTS; k++)
        o += (size_t)snprintf(q->message + o, sizeof q->message - o, "%s%s", k ? "\x1f" : "",
                              parts[k]);
    tc_operator_action_t *a = calloc(1, sizeof *a);
    snprintf(a->action, sizeof a->action, "postmortem");
    a->incident = id;
    snprintf(a->args[a->nargs++], TC_ID_MAX, "report");
    int rc = tc_draft_report(f->st, id, q, &a->update, f->why, sizeof f->why);
    if (rc == 0)
        rc = fx_apply_action(f, at, actor, a);
    free(a);
    free(q);
    return rc;
}

static const tc_broadcast_t *s_out(fx_t *f, tc_bcast_kind_t kind)
{
    for (size_t i = 0; i < f->out.n; i++)
        if (f->out.bcast[i].kind == kind)
            return &f->out.bcast[i];
    return NULL;
}

/* Incident 1 of "frontend": declared, carol its IC, one external update
 * published, resolved when the check recovers at 20 min. `public` false:
 * nothing external. */
static void s_incident(fx_t *f, bool public)
{
    fx_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(fx_act(f, 1 * MIN, "alice", 1, "declare", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 1 * MIN, "alice", 1, "sev", "2", NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 1 * MIN, "alice", 1, "assign", "commander", "carol", NULL, NULL), 0);
    if (public) {
        assert_int_equal(fx_draft(f, 2 * MIN, "bob", 1, true, "We are looking into errors."), 0);
        uint32_t n = tc_state_incident(f->st, 1)->updates;
        char num[16];
        snprintf(num, sizeof num, "%u", n);
        assert_int_equal(fx_act(f, 3 * MIN, "carol", 1, "update", "approve", num, NULL, NULL), 0);
        assert_int_equal(fx_act(f, 3 * MIN, "carol", 1, "update", "publish", num, NULL, NULL), 0);
        assert_true(tc_state_incident(f->st, 1)->is_public);
    }
    fx_check(f, 20 * MIN, "web-01", "frontend", TC_STATE_OK, -1); /* resolves it */
    assert_int_equal(tc_state_incident(f->st, 1)->state, TC_INC_RESOLVED);
}

static void test_report_flow(void **state)
{
    fx_t *f = *state;
    /* Not while the incident is open. */
    fx_check(f, 0, "web-01", "frontend", TC_STATE_CRITICAL, -1);
    assert_int_equal(s_report(f, 1 * MIN, "bob", 1, s_parts), TC_EINVAL);
    assert_non_null(strstr(f->why, "not resolved"));
    tc_state_destroy(&f->st);
    f->st = tc_state_new(&f->policy);
    tc_state_set_templates(f->st, f->templates);
    f->seq = 0;
    s_incident(f, true);
    uint32_t before = tc_state_incident(f->st, 1)->updates;

    /* Approve or publish before a draft: refused, and says how. */
    assert_int_equal(fx_act(f, 40 * MIN, "carol", 1, "postmortem", "publish", NULL, NULL, NULL),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "postmortem 1 report"));

    assert_int_equal(s_report(f, 40 * MIN, "bob", 1, s_parts), 0);
    const tc_update_t *r = tc_state_update(f->st, 1, before + 1);
    assert_non_null(r);
    assert_true(tc_update_is_report(r) && r->external);
    assert_int_equal(r->status, TC_UPD_DRAFT);
    assert_null(s_out(f, TC_BCAST_STATUS_UPDATE)); /* nothing goes out yet */
    for (int k = 0; k < TC_REPORT_PARTS; k++) {
        size_t len;
        const char *p = tc_report_part(r, (tc_report_part_t)k, &len);
        assert_non_null(p);
        assert_int_equal(len, strlen(s_parts[k]));
        assert_memory_equal(p, s_parts[k], len);
    }
    /* Every channel that shows the body shows the whole report. */
    assert_non_null(strstr(r->body, "Root cause\nA configuration change"));

    /* Publishing unapproved, and approval by someone not the IC: refused. */
    assert_int_equal(fx_act(f, 41 * MIN, "carol", 1, "postmortem", "publish", NULL, NULL, NULL),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "approval first"));
    assert_int_equal(fx_act(f, 41 * MIN, "bob", 1, "postmortem", "approve", NULL, NULL, NULL),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "incident commander (carol)"));
    /* The report is not an ordinary update to approve or publish. */
    char num[16];
    snprintf(num, sizeof num, "%u", before + 1);
    assert_int_equal(fx_act(f, 41 * MIN, "carol", 1, "update", "approve", num, NULL, NULL),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "postmortem 1 approve|publish"));

    /* A new draft replaces the one not yet published. */
    const char *revised[TC_REPORT_PARTS] = {s_parts[0], s_parts[1], s_parts[2],
                                            "Capacity changes now need a second review."};
    assert_int_equal(s_report(f, 42 * MIN, "bob", 1, revised), 0);
    assert_int_equal(tc_state_update(f->st, 1, before + 1)->status, TC_UPD_WITHDRAWN);
    assert_int_equal(tc_state_update(f->st, 1, before + 2)->status, TC_UPD_DRAFT);

    assert_int_equal(fx_act(f, 43 * MIN, "carol", 1, "postmortem", "approve", NULL, NULL, NULL), 0);
    assert_int_equal(fx_act(f, 43 * MIN, "carol", 1, "postmortem", "approve", NULL, NULL, NULL),
                     TC_EINVAL);
    assert_int_equal(fx_act(f, 44 * MIN, "bob", 1, "postmortem", "publish", NULL, NULL, NULL), 0);
    const tc_broadcast_t *b = s_out(f, TC_BCAST_STATUS_UPDATE);
    assert_non_null(b);
    assert_string_equal(b->topic, "status.external");
    assert_true(tc_update_is_report(&b->update));
    assert_int_equal(b->update.number, before + 2);
    assert_string_equal(b->update.approver, "carol");
    assert_int_equal(b->update.published_ms, 44 * MIN);
    size_t len;
    const char *p = tc_report_part(&b->update, TC_REPORT_ACTIONS, &len);
    assert_int_equal(len, strlen(revised[3]));
    assert_memory_equal(p, revised[3], len);
    /* The incident stays resolved and owes no update. */
    const tc_incident_t *inc = tc_state_incident(f->st, 1);
    assert_int_equal(inc->state, TC_INC_RESOLVED);
    assert_int_equal(inc->next_update_due_ms, 0);
    /* Published once; a correction is a new report. */
    assert_int_equal(fx_act(f, 45 * MIN, "carol", 1, "postmortem", "publish", NULL, NULL, NULL),
                     TC_EINVAL);
    assert_non_null(strstr(f->why, "already published"));
    assert_int_equal(s_report(f, 46 * MIN, "bob", 1, s_parts), 0);
}

/* A report is for what customers were told about; the guard and the
 * drafting refuse what does not belong in it. */
static void test_report_refusals(void **state)
{
    fx_t *f = *state;
    s_incident(f, false);
    assert_int_equal(s_report(f, 40 * MIN, "bob", 1, s_parts), TC_EINVAL);
    assert_non_null(strstr(f->why, "never public"));

    tc_api_request_t *q = calloc(1, sizeof *q);
    tc_update_t *u = malloc(sizeof *u);
    snprintf(q->message, sizeof q->message, "only\x1ftwo parts");
    assert_int_equal(tc_draft_report(f->st, 1, q, u, f->why, sizeof f->why), TC_EINVAL);
    assert_non_null(strstr(f->why, "four parts"));
    snprintf(q->message, sizeof q->message,
             "a\x1f \n\x1f"
             "c\x1f"
             "d");
    assert_int_equal(tc_draft_report(f->st, 1, q, u, f->why, sizeof f->why), TC_EINVAL);
    assert_non_null(strstr(f->why, "Impact is empty"));
    snprintf(q->message, sizeof q->message,
             "a\x1f"
             "b\x1b[2J\x1f"
             "c\x1f"
             "d");
    assert_int_equal(tc_draft_report(f->st, 1, q, u, f->why, sizeof f->why), TC_EINVAL);
    assert_non_null(strstr(f->why, "control character (byte 0x1b)"));
    assert_int_equal(tc_draft_report(f->st, 9, q, u, f->why, sizeof f->why), TC_EINVAL);
    /* Too long with its headings: refused with the limit, never cut. */
    memset(q->message, 'x', sizeof q->message - 1);
    q->message[sizeof q->message - 1] = '\0';
    q->message[10] = q->message[20] = q->message[30] = '\x1f';
    assert_int_equal(tc_draft_report(f->st, 1, q, u, f->why, sizeof f->why), TC_EINVAL);
    assert_non_null(strstr(f->why, "at most 4096 bytes"));
    free(u);
    free(q);
}

/* The overdue post-mortem's reminder says a public report is owed while
 * none is published. */
static void test_report_owed_in_reminder(void **state)
{
    fx_t *f = *state;
    f->policy.ic_quiet_reminder_ms = 0;
    f->policy.page_repeat_ms = 0;
    fx_reconfigure(f);
    s_incident(f, true);
    tc_timer_t due;
    const char *kind = NULL;
    for (int i = 0; i < 20 && (!kind || strcmp(kind, "postmortem") != 0); i++)
        kind = fx_fire(f, 20 * MIN + 25 * HOUR, &due);
    assert_string_equal(kind, "postmortem");
    const tc_broadcast_t *b = fx_topic(f, "page.carol");
    assert_non_null(b);
    assert_non_null(strstr(b->detail, "owed a public report"));
}

/* compose and part agree; a part that does not lie in the body is none;
 * the wire keeps the parts and refuses a malformed list. */
static void test_report_wire(void **state)
{
    (void)state;
    tc_update_t *u = calloc(1, sizeof *u), *back = calloc(1, sizeof *back);
    snprintf(u->scenario, sizeof u->scenario, "%s", TC_REPORT_SCENARIO);
    u->external = true;
    u->incident = 3;
    u->number = 5;
    assert_int_equal(tc_report_compose(u, s_parts), 0);
    assert_int_equal(strncmp(u->body, "Summary\n", 8), 0);
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_update(u, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_update(buf, len, back), 0);
    uint8_t *buf2 = buf;
    size_t len2 = len;
    for (int k = 0; k < TC_REPORT_PARTS; k++) {
        size_t a, b;
        const char *pa = tc_report_part(u, (tc_report_part_t)k, &a);
        const char *pb = tc_report_part(back, (tc_report_part_t)k, &b);
        assert_int_equal(a, b);
        assert_memory_equal(pa, pb, a);
    }
    /* A list of report parts that is not four pairs, or points past any
     * body, is refused when decoded. */
    Tocsin__V1__StatusUpdate pb;
    uint32_t bad3[3] = {0, 5, 9}, bad8[8] = {0, 1, 2, 3, 4, 5, 6, 5000};
    for (int i = 0; i < 2; i++) {
        tocsin__v1__status_update__init(&pb);
        pb.scenario = TC_REPORT_SCENARIO;
        pb.body = "Summary";
        pb.n_report_parts = i ? 8 : 3;
        pb.report_parts = i ? bad8 : bad3;
        size_t n = tocsin__v1__status_update__get_packed_size(&pb);
        uint8_t *raw = malloc(n);
        tocsin__v1__status_update__pack(&pb, raw);
        assert_int_equal(tc_wire_decode_update(raw, n, back), TC_EDECODE);
        free(raw);
    }
    assert_int_equal(tc_wire_decode_update(buf2, len2, back), 0);
    free(buf2);
    /* Offsets past the body: no part, not a read past it. */
    back->part_at[2] = 4000;
    assert_null(tc_report_part(back, TC_REPORT_CAUSE, &len));
    assert_int_equal(len, 0);
    /* An ordinary update has no parts, whatever its offsets say. */
    snprintf(back->scenario, sizeof back->scenario, "outage");
    assert_null(tc_report_part(back, TC_REPORT_SUMMARY, &len));
    free(u);
    free(back);
}

/* The status page keeps the report apart: the incident's state, impact
 * and updates are its status updates', and the JSON has the parts. */
static void test_report_on_page(void **state)
{
    (void)state;
    tc_sp_state_t *sp = tc_sp_state_new();
    tc_msg_t *m = calloc(1, sizeof *m);
    m->kind = TC_MSG_BROADCAST;
    m->u.bcast.kind = TC_BCAST_STATUS_UPDATE;
    tc_update_t *u = &m->u.bcast.update;
    u->incident = 4;
    u->external = true;
    u->status = TC_UPD_PUBLISHED;
    snprintf(u->title, sizeof u->title, "Checkout errors");
    snprintf(u->impact, sizeof u->impact, "major");
    tc_sp_applied_t out;
    const char *states[] = {"investigating", "resolved"};
    for (uint32_t n = 1; n <= 2; n++) {
        u->number = n;
        u->published_ms = n * MIN;
        snprintf(u->scenario, sizeof u->scenario, "outage");
        snprintf(u->state, sizeof u->state, "%s", states[n - 1]);
        snprintf(u->body, sizeof u->body, "Update %u.", n);
        m->seq = n;
        assert_int_equal(tc_sp_state_apply(sp, m, &out), 0);
    }
    memset(u->body, 0, sizeof u->body);
    snprintf(u->scenario, sizeof u->scenario, "%s", TC_REPORT_SCENARIO);
    snprintf(u->state, sizeof u->state, "%s", TC_REPORT_SCENARIO);
    assert_int_equal(tc_report_compose(u, s_parts), 0);
    u->number = 3;
    u->published_ms = 90 * MIN;
    m->seq = 3;
    assert_int_equal(tc_sp_state_apply(sp, m, &out), 0);
    assert_int_equal(out.kind, TC_SP_UPDATE);
    /* Again (a replayed broadcast): nothing changes. */
    assert_int_equal(tc_sp_state_apply(sp, m, &out), 0);
    assert_int_equal(out.kind, TC_SP_NOTHING);

    const tc_sp_incident_t *inc = tc_sp_state_incident(sp, 0);
    assert_int_equal(inc->nupdates, 2);
    assert_non_null(inc->report);
    assert_string_equal(inc->state, "resolved");
    assert_int_equal(inc->resolved_ms, 2 * MIN);
    assert_int_equal(inc->updated_ms, 90 * MIN);

    tc_sp_page_t page = {
        .title = "Acme Status", .url = "https://status.example.com/", .now_ms = 100 * MIN};
    tc_json_t *j = tc_json_new();
    tc_sp_render_incidents(j, sp, &page);
    assert_int_equal(tc_json_error(j), 0);
    const char *doc = tc_json_data(j);
    assert_non_null(strstr(doc, "\"root_cause\":\"A configuration change reduced"));
    assert_non_null(strstr(doc, "\"impact\":\"About a third of customers could not pay.\\nNo"));
    assert_non_null(
        strstr(doc, "\"url\":\"https://status.example.com/incidents/4.html#postmortem\""));
    assert_non_null(strstr(doc, "\"postmortem_published_at\":\""));
    /* Two status updates listed; the report is not one of them. */
    assert_null(strstr(doc, "\"status\":\"postmortem\""));
    tc_json_destroy(&j);

    char *html = NULL;
    size_t hlen = 0;
    FILE *fh = open_memstream(&html, &hlen);
    assert_int_equal(tc_sp_render_incident(fh, sp, inc, &page), 0);
    fclose(fh);
    assert_non_null(strstr(html, "<h4>Post-incident report</h4>"));
    assert_non_null(strstr(html, "<h5>Root cause</h5><p class=\"body\">A configuration change"));
    free(html);
    free(m);
    tc_sp_state_destroy(&sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_report_flow, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_report_refusals, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_report_owed_in_reminder, fx_setup, fx_teardown),
        cmocka_unit_test(test_report_wire),
        cmocka_unit_test(test_report_on_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
