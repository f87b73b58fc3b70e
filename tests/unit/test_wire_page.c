/* common/wire_page and the fields pages added to the wire: a page in a
 * PAGE or REMINDER broadcast, roles' repeats, an acknowledged check
 * result, contacts and page statistics in API replies, and the paging
 * policy in the recorded configuration, each encoded and decoded back;
 * limits and unknown values refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "policy.h"
#include "template.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_page_broadcast(void **unused)
{
    (void)unused;
    tc_msg_t *m = calloc(1, sizeof *m), *back = calloc(1, sizeof *back);
    m->version = 1;
    snprintf(m->sender, sizeof m->sender, "coordinator");
    m->seq = 9;
    m->kind = TC_MSG_BROADCAST;
    tc_broadcast_t *b = &m->u.bcast;
    b->kind = TC_BCAST_PAGE;
    snprintf(b->topic, sizeof b->topic, "page.alice");
    b->incident.id = 7;
    snprintf(b->incident.service, TC_ID_MAX, "api");
    b->incident.nroles = 1;
    snprintf(b->incident.roles[0].role, TC_ID_MAX, "sme");
    snprintf(b->incident.roles[0].person, TC_ID_MAX, "alice");
    b->incident.roles[0].repeats = 3;
    b->incident.roles[0].repeated_ms = 123456;
    snprintf(b->page.person, TC_ID_MAX, "alice");
    snprintf(b->page.role, TC_ID_MAX, "sme");
    b->page.kind = TC_PAGE_REPEATED;
    b->page.urgency = TC_URGENCY_HIGH;
    b->page.paged_ms = 1000;
    b->page.number = 4;
    b->page.level = 2;
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_msg(m, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_msg(buf, len, back), 0);
    free(buf);
    const tc_broadcast_t *bb = &back->u.bcast;
    assert_string_equal(bb->page.person, "alice");
    assert_string_equal(bb->page.role, "sme");
    assert_int_equal(bb->page.kind, TC_PAGE_REPEATED);
    assert_int_equal(bb->page.urgency, TC_URGENCY_HIGH);
    assert_int_equal(bb->page.paged_ms, 1000);
    assert_int_equal(bb->page.number, 4);
    assert_int_equal(bb->page.level, 2);
    assert_int_equal(bb->incident.roles[0].repeats, 3);
    assert_int_equal(bb->incident.roles[0].repeated_ms, 123456);
    /* The same bytes through the hot path's encoder. */
    tc_buf_t arena = {0};
    size_t off, n;
    assert_int_equal(tc_wire_append_bcast(&arena, 9, 5, b, &off, &n), 0);
    assert_int_equal(tc_wire_decode_msg(arena.data + off, n, back), 0);
    assert_int_equal(back->u.bcast.page.number, 4);
    free(arena.data);
    /* An incident broadcast carries no page. */
    b->kind = TC_BCAST_INCIDENT_UPDATED;
    assert_int_equal(tc_wire_encode_msg(m, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_msg(buf, len, back), 0);
    free(buf);
    assert_string_equal(back->u.bcast.page.person, "");
    /* An acknowledged check result. */
    memset(m, 0, sizeof *m);
    m->version = 1;
    snprintf(m->sender, sizeof m->sender, "gw-01");
    m->seq = 3;
    m->kind = TC_MSG_CHECK_RESULT;
    snprintf(m->u.check.check, TC_ID_MAX, "pd-abc");
    m->u.check.acknowledged = true;
    assert_int_equal(tc_wire_encode_msg(m, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_msg(buf, len, back), 0);
    free(buf);
    assert_true(back->u.check.acknowledged);
    free(m);
    free(back);
}

static void test_reply(void **unused)
{
    (void)unused;
    tc_api_reply_t *r = tc_api_reply_new();
    r->has_contacts = true;
    tc_person_t p = {0};
    snprintf(p.id, sizeof p.id, "alice");
    snprintf(p.name, sizeof p.name, "Alice Liddell");
    p.ncontacts = 2;
    p.contacts[0].type = TC_CONTACT_EMAIL;
    snprintf(p.contacts[0].target, sizeof p.contacts[0].target, "alice@example.com");
    p.contacts[1].type = TC_CONTACT_NTFY;
    snprintf(p.contacts[1].target, sizeof p.contacts[1].target, "https://ntfy.example.com/a");
    snprintf(p.contacts[1].token, sizeof p.contacts[1].token, "tk_1");
    assert_int_equal(tc_api_reply_add_person(r, &p), 0);
    tc_person_t q = {0};
    snprintf(q.id, sizeof q.id, "bob");
    assert_int_equal(tc_api_reply_add_person(r, &q), 0);
    tc_page_stat_t s = {0};
    snprintf(s.person, sizeof s.person, "alice");
    s.pages = 5;
    s.delivered = 9;
    s.failed = 1;
    s.latency_total_ms = 900;
    s.last_ms = 77;
    s.acknowledged = 2;
    snprintf(s.last_result, sizeof s.last_result, "delivered");
    snprintf(s.last_method, sizeof s.last_method, "ntfy");
    snprintf(s.last_detail, sizeof s.last_detail, "HTTP 200");
    assert_int_equal(tc_api_reply_add_page_stat(r, &s), 0);
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_reply(r, &buf, &len), 0);
    tc_api_reply_t *back = NULL;
    assert_int_equal(tc_wire_decode_reply(buf, len, &back), 0);
    free(buf);
    assert_true(back->has_contacts);
    assert_int_equal(back->npeople, 2);
    assert_string_equal(back->people[0].name, "Alice Liddell");
    assert_int_equal(back->people[0].ncontacts, 2);
    assert_int_equal(back->people[0].contacts[1].type, TC_CONTACT_NTFY);
    assert_string_equal(back->people[0].contacts[1].token, "tk_1");
    assert_int_equal(back->people[1].ncontacts, 0);
    assert_int_equal(back->npages, 1);
    assert_int_equal(back->pages[0].pages, 5);
    assert_int_equal(back->pages[0].acknowledged, 2);
    assert_string_equal(back->pages[0].last_method, "ntfy");
    tc_api_reply_destroy(&back);
    /* A reply without contacts says so. */
    tc_api_reply_t *plain = tc_api_reply_new();
    assert_int_equal(tc_wire_encode_reply(plain, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_reply(buf, len, &back), 0);
    free(buf);
    assert_false(back->has_contacts);
    tc_api_reply_destroy(&back);
    tc_api_reply_destroy(&plain);
    tc_api_reply_destroy(&r);
    assert_string_equal(tc_contact_type_name(TC_CONTACT_SLACK), "slack");
    assert_string_equal(tc_contact_type_name((tc_contact_type_t)9), "invalid");
    tc_contact_type_t t;
    assert_int_equal(tc_contact_type_parse("webhook", &t), 0);
    assert_int_equal(t, TC_CONTACT_WEBHOOK);
    assert_int_equal(tc_contact_type_parse("sms", &t), TC_EINVAL);
    assert_int_equal(tc_contact_type_parse(NULL, &t), TC_EINVAL);
}

static void test_policy(void **unused)
{
    (void)unused;
    tc_policy_t *p = calloc(1, sizeof *p), *back = calloc(1, sizeof *back);
    tc_policy_defaults(p);
    p->page_high_severities = 1u << 1;
    p->page_low_severities = 1u << 2 | 1u << 3;
    p->page_repeat_ms = 90000;
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_state_config(p, NULL, &buf, &len), 0);
    tc_templates_t *tpl = NULL;
    char err[256];
    assert_int_equal(tc_wire_decode_state_config(buf, len, back, &tpl, err, sizeof err), 0);
    free(buf);
    tc_templates_destroy(&tpl);
    assert_int_equal(back->page_high_severities, 1u << 1);
    assert_int_equal(back->page_low_severities, 1u << 2 | 1u << 3);
    assert_int_equal(back->page_repeat_ms, 90000);
    free(p);
    free(back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_broadcast),
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
