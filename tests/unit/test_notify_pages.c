/* notify/pages and the queue's page deliveries: which contact methods a
 * page reaches by urgency, their channels and keys; the acknowledgement
 * link (a token the coordinator can verify; none for reminders); the four
 * payloads (webhook and Slack JSON that parses, ntfy headers, an e-mail
 * that no title can add a header to); a page's delivery and report kept
 * in the LMDB queue and read back whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "acklink.h"
#include "error.h"
#include "json.h"
#include "pages.h"
#include "queue.h"
#include "tests/unit/json_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1796250000000LL /* 2026-12-02T22:20:00Z */

static tc_msg_t *s_page_msg(tc_urgency_t urgency, tc_page_kind_t kind)
{
    tc_msg_t *m = calloc(1, sizeof *m);
    m->version = 1;
    m->seq = 42;
    m->time_ms = T0 + 1000;
    m->kind = TC_MSG_BROADCAST;
    tc_broadcast_t *b = &m->u.bcast;
    b->kind = TC_BCAST_PAGE;
    snprintf(b->topic, sizeof b->topic, "page.alice");
    tc_incident_t *inc = &b->incident;
    inc->id = 7;
    snprintf(inc->service, TC_ID_MAX, "api");
    snprintf(inc->title, TC_TITLE_MAX, "Checkout <!channel> fails\r\nBcc: evil@example.com");
    snprintf(inc->summary, TC_TEXT_MAX, "http@web-01 CRITICAL: HTTP 503");
    inc->severity = 2;
    inc->state = TC_INC_TRIGGERED;
    inc->opened_ms = T0 - 600000;
    inc->nhosts = 1;
    snprintf(inc->hosts[0], TC_ID_MAX, "web-01");
    inc->affected_hosts = 1;
    inc->nroles = 2;
    snprintf(inc->roles[0].role, TC_ID_MAX, "sme");
    snprintf(inc->roles[0].person, TC_ID_MAX, "alice");
    inc->roles[0].paged_ms = T0;
    snprintf(inc->roles[1].role, TC_ID_MAX, "commander");
    snprintf(inc->roles[1].person, TC_ID_MAX, "bob");
    inc->roles[1].acked_ms = T0;
    snprintf(b->page.person, TC_ID_MAX, "alice");
    snprintf(b->page.role, TC_ID_MAX, "sme");
    b->page.kind = kind;
    b->page.urgency = urgency;
    b->page.paged_ms = T0;
    b->page.number = kind == TC_PAGE_REPEATED ? 3 : 1;
    snprintf(b->detail, sizeof b->detail, "alice: you are sme for incident 7");
    return m;
}

static void s_alice(tc_person_t *p, bool email)
{
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "alice");
    snprintf(p->name, sizeof p->name, "Alice Liddell");
    size_t n = 0;
    if (email) {
        p->contacts[n].type = TC_CONTACT_EMAIL;
        snprintf(p->contacts[n++].target, TC_CONTACT_TARGET_MAX, "alice@example.com");
    }
    p->contacts[n].type = TC_CONTACT_NTFY;
    snprintf(p->contacts[n].target, TC_CONTACT_TARGET_MAX, "https://ntfy.example.com/alice");
    snprintf(p->contacts[n++].token, TC_CONTACT_TOKEN_MAX, "tk_secret");
    p->contacts[n].type = TC_CONTACT_SLACK;
    snprintf(p->contacts[n++].target, TC_CONTACT_TARGET_MAX, "https://chat.example.com/hooks/T");
    p->contacts[n].type = TC_CONTACT_WEBHOOK;
    snprintf(p->contacts[n++].target, TC_CONTACT_TARGET_MAX, "http://127.0.0.1:9/pager");
    p->ncontacts = n;
}

static void test_deliveries(void **unused)
{
    (void)unused;
    tc_person_t p;
    s_alice(&p, true);
    tc_delivery_t *ds = calloc(TC_CONTACTS_MAX, sizeof *ds);
    char why[160];
    tc_msg_t *m = s_page_msg(TC_URGENCY_HIGH, TC_PAGE_ASSIGNED);
    /* A declared incident carries its conference link (policy.bridge_url). */
    snprintf(m->u.bcast.incident.bridge, sizeof m->u.bcast.incident.bridge,
             "https://meet.example.com/c-7");
    /* High: every method at once. */
    assert_int_equal(tc_notify_page_deliveries(m, &p, T0 + 2000, ds, why, sizeof why), 4);
    assert_string_equal(ds[0].sub, "alice#0");
    assert_string_equal(ds[1].sub, "alice#1");
    assert_string_equal(ds[0].key, "tocsin-i7-b42-alice-email0");
    assert_string_equal(ds[1].key, "tocsin-i7-b42-alice-ntfy1");
    assert_true(ds[0].is_page);
    assert_string_equal(ds[0].pg.conference, "https://meet.example.com/c-7");
    assert_string_equal(ds[0].pg.name, "Alice Liddell");
    assert_int_equal(ds[0].pg.sent_ms, T0 + 1000);
    assert_int_equal(ds[0].pg.bseq, 42);
    assert_int_equal(ds[3].first_ms, T0 + 2000);
    assert_string_equal(tc_notify_page_method(&ds[2]), "slack");
    /* Low: e-mail only, and nothing without an e-mail contact. */
    m->u.bcast.page.urgency = TC_URGENCY_LOW;
    m->u.bcast.incident.bridge[0] = '\0'; /* not declared: no call yet */
    assert_int_equal(tc_notify_page_deliveries(m, &p, T0, ds, why, sizeof why), 1);
    assert_int_equal(ds[0].pg.contact.type, TC_CONTACT_EMAIL);
    assert_string_equal(ds[0].pg.conference, "");
    tc_person_t nomail;
    s_alice(&nomail, false);
    assert_int_equal(tc_notify_page_deliveries(m, &nomail, T0, ds, why, sizeof why), 0);
    assert_non_null(strstr(why, "no e-mail contact"));
    /* None: nobody. Unknown person: nobody, said why. */
    m->u.bcast.page.urgency = TC_URGENCY_NONE;
    assert_int_equal(tc_notify_page_deliveries(m, &p, T0, ds, why, sizeof why), 0);
    m->u.bcast.page.urgency = TC_URGENCY_HIGH;
    assert_int_equal(tc_notify_page_deliveries(m, NULL, T0, ds, why, sizeof why), 0);
    assert_string_equal(why, "no contact methods known for alice");
    free(m);
    free(ds);
}

static void test_ack_url(void **unused)
{
    (void)unused;
    uint8_t key[TC_ACKLINK_KEY_BYTES];
    memset(key, 3, sizeof key);
    tc_person_t p;
    s_alice(&p, true);
    tc_delivery_t *ds = calloc(TC_CONTACTS_MAX, sizeof *ds);
    tc_msg_t *m = s_page_msg(TC_URGENCY_HIGH, TC_PAGE_REPEATED);
    tc_notify_page_deliveries(m, &p, T0, ds, NULL, 0);
    char url[512];
    assert_true(tc_notify_page_ack_url(key, "https://tocsin.example.com/", 3600000, &ds[0], url,
                                       sizeof url));
    assert_true(strncmp(url, "https://tocsin.example.com/ack/", 31) == 0);
    tc_acklink_t l;
    assert_int_equal(tc_acklink_verify(key, url + 31, &l), 0);
    assert_int_equal(l.incident, 7);
    assert_string_equal(l.role, "sme");
    assert_string_equal(l.person, "alice");
    assert_int_equal(l.paged_ms, T0); /* the page, not this repeat of it */
    assert_int_equal(l.expires_ms, T0 + 3600000);
    /* Reminders name no page a link could acknowledge; no base, no link. */
    ds[0].pg.page.kind = TC_PAGE_POSTMORTEM;
    assert_false(tc_notify_page_ack_url(key, "https://t/", 1, &ds[0], url, sizeof url));
    assert_string_equal(url, "");
    ds[0].pg.page.kind = TC_PAGE_UPDATE_DUE;
    assert_false(tc_notify_page_ack_url(key, "https://t/", 1, &ds[0], url, sizeof url));
    ds[0].pg.page.kind = TC_PAGE_ASSIGNED;
    assert_false(tc_notify_page_ack_url(key, "", 1, &ds[0], url, sizeof url));
    assert_false(tc_notify_page_ack_url(NULL, "https://t/", 1, &ds[0], url, sizeof url));
    free(m);
    free(ds);
}

static void test_payloads(void **unused)
{
    (void)unused;
    tc_person_t p;
    s_alice(&p, true);
    tc_delivery_t *ds = calloc(TC_CONTACTS_MAX, sizeof *ds);
    tc_msg_t *m = s_page_msg(TC_URGENCY_HIGH, TC_PAGE_ESCALATED);
    snprintf(m->u.bcast.incident.bridge, sizeof m->u.bcast.incident.bridge,
             "https://meet.example.com/7");
    tc_notify_page_deliveries(m, &p, T0, ds, NULL, 0);
    const char *ack = "https://tocsin.example.com/ack/TOKEN";
    tc_json_t *j = tc_json_new();

    /* Webhook: valid JSON with what, how bad, since when, who else. */
    assert_int_equal(tc_notify_page_webhook_json(j, &ds[3], ack), 0);
    const char *w = tc_json_data(j);
    assert_true(s_json_valid(w));
    assert_non_null(strstr(w, "\"id\":\"tocsin-i7-b42-alice-webhook3\""));
    assert_non_null(strstr(w, "\"type\":\"page\""));
    assert_non_null(strstr(w, "\"kind\":\"escalated\""));
    assert_non_null(strstr(w, "\"urgency\":\"high\""));
    assert_non_null(strstr(w, "\"severity\":2"));
    assert_non_null(strstr(w, "\"opened_at\":\"2026-12-02T22:10:00.000Z\""));
    assert_non_null(strstr(w, "\"others\":[{\"role\":\"commander\",\"person\":\"bob\""));
    assert_non_null(strstr(w, "\"ack_url\":\"https://tocsin.example.com/ack/TOKEN\""));
    assert_non_null(strstr(w, "\"conference_url\":\"https://meet.example.com/7\""));

    /* Slack: no mention, no control sequence; buttons link ack and call. */
    assert_int_equal(tc_notify_page_slack_json(j, &ds[2], ack), 0);
    const char *sl = tc_json_data(j);
    assert_true(s_json_valid(sl));
    assert_null(strstr(sl, "<!channel>"));
    assert_non_null(strstr(sl, "&lt;!channel&gt;"));
    assert_non_null(strstr(sl, "\"text\":\"Acknowledge\""));
    assert_non_null(strstr(sl, "\"url\":\"https://tocsin.example.com/ack/TOKEN\""));
    assert_non_null(strstr(sl, "Join the call"));
    assert_non_null(strstr(sl, "Subject Matter Expert"));

    /* ntfy: urgent, with the ack action, the token, one-line ASCII headers. */
    char *body = NULL;
    size_t len = 0;
    tc_notify_headers_t h;
    assert_int_equal(tc_notify_page_ntfy(&ds[1], ack, &body, &len, &h), 0);
    assert_int_equal(len, strlen(body));
    assert_non_null(strstr(body, "escalated to you"));
    assert_non_null(strstr(body, "Acknowledge: https://tocsin.example.com/ack/TOKEN"));
    bool prio = false, actions = false, auth = false;
    for (size_t i = 0; i < h.n; i++) {
        assert_null(strpbrk(h.lines[i], "\r\n"));
        for (const char *q = h.lines[i]; *q; q++)
            assert_true((unsigned char)*q < 0x80);
        prio |= !strcmp(h.lines[i], "Priority: 5");
        actions |= strstr(h.lines[i], "Actions: view, Acknowledge, https://tocsin.example.com/"
                                      "ack/TOKEN, clear=true; view, Join the call, "
                                      "https://meet.example.com/7") != NULL;
        auth |= !strcmp(h.lines[i], "Authorization: Bearer tk_secret");
    }
    assert_true(prio);
    assert_true(actions);
    assert_true(auth);
    free(body);
    /* A title that is not ASCII is RFC 2047-encoded in the Title header. */
    snprintf(ds[1].pg.incident.title, TC_TITLE_MAX, "Zahlung schlägt fehl");
    ds[1].pg.page.urgency = TC_URGENCY_LOW;
    assert_int_equal(tc_notify_page_ntfy(&ds[1], "", &body, &len, &h), 0);
    assert_true(strncmp(h.lines[0], "Title: =?UTF-8?B?", 17) == 0);
    assert_string_equal(h.lines[1], "Priority: 3");
    free(body);

    /* E-mail: to the contact, important, and the title cannot add a
     * header (the CR LF Bcc in it stays on the subject line). */
    char *mail = tc_notify_page_email(&ds[0], "tocsin@example.com", T0, ack, &len);
    assert_non_null(mail);
    assert_non_null(strstr(mail, "\r\nTo: alice@example.com\r\n"));
    assert_non_null(strstr(mail, "\r\nImportance: high\r\n"));
    assert_non_null(strstr(mail, "Message-ID: <tocsin-i7-b42-alice-email0@example.com>"));
    assert_null(strstr(mail, "\r\nBcc:"));
    assert_non_null(strstr(mail, "Severity: SEV-2 (major incident)"));
    assert_non_null(strstr(mail, "Others on it: Incident Commander: bob"));
    assert_non_null(strstr(mail, "opens a page that asks you to confirm"));
    assert_non_null(strstr(mail, "https://tocsin.example.com/ack/TOKEN"));
    free(mail);
    /* Without a link, the command to acknowledge. */
    mail = tc_notify_page_email(&ds[0], "tocsin@example.com", T0, "", &len);
    assert_non_null(strstr(mail, "tocsinctl ack 7 sme"));
    free(mail);
    tc_json_destroy(&j);
    free(m);
    free(ds);
}

static void test_queue(void **unused)
{
    (void)unused;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/tc-npages-XXXXXX");
    assert_non_null(mkdtemp(dir));
    tc_notify_queue_t *q = NULL;
    char why[256];
    assert_int_equal(tc_notify_queue_open(dir, 0, &q, why, sizeof why), 0);
    tc_person_t p;
    s_alice(&p, true);
    tc_delivery_t *ds = calloc(TC_CONTACTS_MAX, sizeof *ds), *h = calloc(1, sizeof *h);
    tc_msg_t *m = s_page_msg(TC_URGENCY_HIGH, TC_PAGE_ASSIGNED);
    snprintf(m->u.bcast.incident.bridge, sizeof m->u.bcast.incident.bridge, "https://c/7");
    size_t n = tc_notify_page_deliveries(m, &p, T0, ds, NULL, 0);
    size_t added = 0;
    assert_int_equal(tc_notify_queue_enqueue(q, 42, ds, n, &added), 0);
    assert_int_equal(added, 4);
    /* Re-processing the broadcast adds nothing: same keys. */
    assert_int_equal(tc_notify_queue_enqueue(q, 42, ds, n, &added), 0);
    assert_int_equal(added, 0);
    char names[8][TC_NOTIFY_CHANNEL_MAX];
    assert_int_equal(tc_notify_queue_subs(q, names, 8, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(names[1], "alice#1");
    assert_int_equal(tc_notify_queue_head(q, "alice#1", h), 0);
    assert_true(h->is_page);
    assert_string_equal(h->key, "tocsin-i7-b42-alice-ntfy1");
    assert_int_equal(h->pg.contact.type, TC_CONTACT_NTFY);
    assert_string_equal(h->pg.contact.token, "tk_secret");
    assert_string_equal(h->pg.name, "Alice Liddell");
    assert_string_equal(h->pg.conference, "https://c/7");
    assert_int_equal(h->pg.bseq, 42);
    assert_int_equal(h->pg.sent_ms, T0 + 1000);
    assert_string_equal(h->pg.page.role, "sme");
    assert_int_equal(h->pg.page.paged_ms, T0);
    assert_int_equal(h->pg.incident.id, 7);
    assert_string_equal(h->pg.incident.roles[1].person, "bob");
    int64_t oldest;
    assert_int_equal(tc_notify_queue_oldest(q, &oldest), 0);
    assert_int_equal(oldest, T0);
    /* Finished with a page report, which reads back with its fields. */
    tc_delivery_report_t rep = {.page = true,
                                .incident = 7,
                                .number = 1,
                                .result = TC_DELIVERY_DELIVERED,
                                .latency_ms = 140,
                                .attempts = 1};
    snprintf(rep.sub, sizeof rep.sub, "alice");
    snprintf(rep.person, sizeof rep.person, "alice");
    snprintf(rep.method, sizeof rep.method, "ntfy");
    assert_int_equal(tc_notify_queue_finish(q, h, &rep, T0 + 5000), 0);
    tc_delivery_report_t got;
    assert_int_equal(tc_notify_queue_report_first(q, &got), 0);
    assert_true(got.page);
    assert_string_equal(got.person, "alice");
    assert_string_equal(got.method, "ntfy");
    assert_int_equal(got.latency_ms, 140);
    /* Contacts saved and read back. */
    tc_api_reply_t *r = tc_api_reply_new(), *back = NULL;
    r->has_contacts = true;
    assert_int_equal(tc_api_reply_add_person(r, &p), 0);
    uint8_t *buf;
    size_t blen;
    assert_int_equal(tc_wire_encode_reply(r, &buf, &blen), 0);
    assert_int_equal(tc_notify_queue_contacts(q, &back), 0);
    assert_null(back);
    assert_int_equal(tc_notify_queue_save_contacts(q, buf, blen), 0);
    free(buf);
    tc_notify_queue_destroy(&q);
    assert_int_equal(tc_notify_queue_open(dir, 0, &q, why, sizeof why), 0);
    assert_int_equal(tc_notify_queue_contacts(q, &back), 0);
    assert_non_null(back);
    assert_int_equal(back->npeople, 1);
    assert_int_equal(back->people[0].ncontacts, 4);
    tc_api_reply_destroy(&back);
    tc_api_reply_destroy(&r);
    tc_notify_queue_destroy(&q);
    free(ds);
    free(h);
    free(m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deliveries),
        cmocka_unit_test(test_ack_url),
        cmocka_unit_test(test_payloads),
        cmocka_unit_test(test_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
