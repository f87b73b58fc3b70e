/* Encoding, decoding and validation of wire messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "template.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_check(tc_msg_t *m)
{
    memset(m, 0, sizeof *m);
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "web-01");
    m->seq = 42;
    m->time_ms = 1764000000123;
    m->kind = TC_MSG_CHECK_RESULT;
    tc_check_result_t *c = &m->u.check;
    snprintf(c->check, sizeof c->check, "frontend-http");
    snprintf(c->service, sizeof c->service, "frontend");
    snprintf(c->host, sizeof c->host, "web-01");
    c->state = TC_STATE_CRITICAL;
    snprintf(c->output, sizeof c->output, "HTTP CRITICAL - connection refused");
    c->nperf = 2;
    snprintf(c->perf[0].label, TC_LABEL_MAX, "time");
    c->perf[0].value = 0.25;
    snprintf(c->perf[0].uom, TC_UOM_MAX, "s");
    c->perf[0].warn = 1;
    c->perf[0].present = TC_PERF_WARN;
    snprintf(c->perf[1].label, TC_LABEL_MAX, "size");
    c->perf[1].value = 1024;
    c->attempt = 3;
    c->max_attempts = 3;
    c->hard = true;
}

static tc_msg_t *s_roundtrip(const tc_msg_t *in)
{
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_msg(in, &buf, &len), 0);
    tc_msg_t *out = malloc(sizeof *out);
    assert_int_equal(tc_wire_decode_msg(buf, len, out), 0);
    free(buf);
    return out;
}

static void test_check_result_roundtrip(void **unused)
{
    tc_msg_t m;
    s_check(&m);
    tc_msg_t *got = s_roundtrip(&m);
    assert_int_equal(got->kind, TC_MSG_CHECK_RESULT);
    assert_int_equal(got->seq, 42);
    assert_int_equal(got->time_ms, 1764000000123);
    assert_string_equal(got->u.check.output, m.u.check.output);
    assert_int_equal(got->u.check.nperf, 2);
    assert_true(got->u.check.perf[0].value == 0.25);
    assert_string_equal(got->u.check.perf[0].uom, "s");
    assert_int_equal(got->u.check.perf[0].present, TC_PERF_WARN);
    assert_true(got->u.check.hard);
    assert_int_equal(tc_msg_validate(got, NULL, 0), 0);
    free(got);
}

static void test_broadcast_and_record_roundtrip(void **unused)
{
    tc_msg_t m = {.version = 1, .seq = 9, .kind = TC_MSG_BROADCAST};
    snprintf(m.sender, sizeof m.sender, TC_COORDINATOR_ID);
    tc_broadcast_t *b = &m.u.bcast;
    b->kind = TC_BCAST_INCIDENT_OPENED;
    snprintf(b->topic, sizeof b->topic, "incident.opened");
    b->log_seq = 77;
    b->incident.id = 3;
    snprintf(b->incident.service, TC_ID_MAX, "frontend");
    b->incident.nhosts = 2;
    b->incident.affected_hosts = 40;
    snprintf(b->incident.hosts[1], TC_ID_MAX, "web-02");
    b->incident.nroles = 1;
    snprintf(b->incident.roles[0].role, TC_ID_MAX, "commander");
    snprintf(b->incident.roles[0].person, TC_ID_MAX, "alice");
    tc_msg_t *got = s_roundtrip(&m);
    assert_int_equal(got->u.bcast.kind, TC_BCAST_INCIDENT_OPENED);
    assert_int_equal(got->u.bcast.log_seq, 77);
    assert_int_equal(got->u.bcast.incident.affected_hosts, 40);
    assert_string_equal(got->u.bcast.incident.hosts[1], "web-02");
    assert_string_equal(got->u.bcast.incident.roles[0].person, "alice");
    free(got);

    tc_record_t r = {.seq = 5, .received_ms = 99};
    s_check(&r.event);
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_record(&r, &buf, &len), 0);
    tc_record_t *back = malloc(sizeof *back);
    assert_int_equal(tc_wire_decode_record(buf, len, back), 0);
    assert_int_equal(back->seq, 5);
    assert_int_equal(back->received_ms, 99);
    assert_string_equal(back->event.u.check.check, "frontend-http");
    free(back);
    free(buf);
}

static void test_rejects_garbage(void **unused)
{
    tc_msg_t *m = malloc(sizeof *m);
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
    assert_int_equal(tc_wire_decode_msg(junk, sizeof junk, m), TC_EDECODE);
    /* An empty frame decodes as an Envelope with no payload. */
    assert_int_equal(tc_wire_decode_msg((const uint8_t *)"", 0, m), TC_EDECODE);
    /* Random bytes never crash the decoder. */
    srand(7);
    uint8_t buf[256];
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)(rand() % (int)sizeof buf);
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)rand();
        if (tc_wire_decode_msg(buf, n, m) == 0)
            (void)tc_msg_validate(m, NULL, 0);
    }
    free(m);
}

static void test_overlong_id_rejected(void **unused)
{
    /* Hand-encode an Envelope whose sender is 100 bytes: field 2, wire
     * type 2 (0x12), length 100. */
    uint8_t buf[128] = {0x08, 0x01, 0x12, 100};
    memset(buf + 4, 'a', 100);
    tc_msg_t *m = malloc(sizeof *m);
    assert_int_equal(tc_wire_decode_msg(buf, 104, m), TC_ETOOBIG);
    free(m);
}

/* The additions for in-order delivery, full spools and flap detection
 * survive the wire and are validated. */
static void test_lost_resend_flapping_roundtrip(void **unused)
{
    tc_msg_t m;
    char why[128];
    s_check(&m);
    m.u.check.flapping = true;
    m.u.check.flap_percent = 37;
    tc_msg_t *got = s_roundtrip(&m);
    assert_true(got->u.check.flapping);
    assert_int_equal(got->u.check.flap_percent, 37);
    free(got);
    m.u.check.flap_percent = 101;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL);

    memset(&m, 0, sizeof m);
    m.version = TC_PROTOCOL_VERSION;
    snprintf(m.sender, sizeof m.sender, "web-01");
    m.seq = 9;
    m.kind = TC_MSG_EVENTS_LOST;
    snprintf(m.u.lost.check, TC_ID_MAX, "disk");
    snprintf(m.u.lost.service, TC_ID_MAX, "host");
    snprintf(m.u.lost.host, TC_ID_MAX, "web-01");
    m.u.lost.transitions = 1234;
    m.u.lost.first_ms = 1000;
    m.u.lost.last_ms = 2000;
    snprintf(m.u.lost.reason, sizeof m.u.lost.reason, "spool full (64 MiB)");
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), 0);
    got = s_roundtrip(&m);
    assert_int_equal(got->kind, TC_MSG_EVENTS_LOST);
    assert_int_equal(got->u.lost.transitions, 1234);
    assert_int_equal(got->u.lost.first_ms, 1000);
    assert_int_equal(got->u.lost.last_ms, 2000);
    assert_string_equal(got->u.lost.reason, "spool full (64 MiB)");
    free(got);
    m.u.lost.transitions = 0;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL);
    m.u.lost.transitions = 1;
    m.u.lost.last_ms = 999;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL);

    memset(&m, 0, sizeof m);
    m.version = TC_PROTOCOL_VERSION;
    snprintf(m.sender, sizeof m.sender, "coordinator");
    m.kind = TC_MSG_REJECT;
    m.u.reject.reason = TC_REJECT_THROTTLED;
    m.u.reject.seq = 77;
    m.u.reject.resend_from = 70;
    m.u.reject.retry_after_ms = 250;
    got = s_roundtrip(&m);
    assert_int_equal(got->u.reject.reason, TC_REJECT_THROTTLED);
    assert_int_equal(got->u.reject.resend_from, 70);
    assert_int_equal(got->u.reject.retry_after_ms, 250);
    free(got);
}

/* The direct reader of check results gives what the generic decoder
 * gives, field for field, on valid messages of every shape and on a
 * million mutations of them (a flipped bit, a cut, an inserted byte): both
 * accept or both refuse, and accepted ones are equal. */
static void s_same(const uint8_t *buf, size_t len)
{
    static tc_msg_t a, b;
    memset(&a, 0x5a, sizeof a);
    memset(&b, 0x5a, sizeof b);
    int ra = tc_wire_decode_msg(buf, len, &a);
    int rb = tc_wire_decode_msg_generic(buf, len, &b);
    assert_int_equal(ra, rb);
    if (ra != 0)
        return;
    assert_int_equal(a.kind, b.kind);
    assert_memory_equal(&a, &b, offsetof(tc_msg_t, u));
    if (a.kind == TC_MSG_CHECK_RESULT)
        assert_memory_equal(&a.u.check, &b.u.check, sizeof a.u.check);
}

static void test_fast_reader_matches_generic(void **unused)
{
    tc_msg_t m;
    uint8_t *buf;
    size_t len;
    unsigned seed = 7;
    for (int shape = 0; shape < 64; shape++) {
        s_check(&m);
        m.u.check.nperf = shape % 5 == 0 ? 1 : 0; /* perfdata: the generic path */
        m.u.check.flapping = shape & 1;
        m.u.check.flap_percent = (uint32_t)shape;
        m.u.check.state = (tc_check_state_t)(shape % 4);
        m.time_ms = shape % 3 ? 1764000000123 : -5;
        if (shape & 2)
            snprintf(m.u.check.output, sizeof m.u.check.output, "caf\xc3\xa9 \xff bad utf-8");
        if (shape & 4)
            m.u.check.output[0] = '\0';
        assert_int_equal(tc_wire_encode_msg(&m, &buf, &len), 0);
        s_same(buf, len);
        uint8_t *mut = malloc(len + 1);
        for (int i = 0; i < 4000; i++) {
            memcpy(mut, buf, len);
            size_t n = len, at = (size_t)rand_r(&seed) % len;
            switch (rand_r(&seed) % 3) {
            case 0: mut[at] ^= (uint8_t)(1u << (rand_r(&seed) % 8)); break;
            case 1: n = at; break;
            default:
                memmove(mut + at + 1, mut + at, len - at);
                mut[at] = (uint8_t)rand_r(&seed);
                n = len + 1;
            }
            s_same(mut, n);
        }
        free(mut);
        tc_record_t r = {.seq = 9, .received_ms = 1000, .time_ms = shape ? 900 : 0, .event = m};
        uint8_t *rb;
        size_t rl;
        assert_int_equal(tc_wire_encode_record(&r, &rb, &rl), 0);
        static tc_record_t x, y;
        assert_int_equal(tc_wire_decode_record(rb, rl, &x),
                         tc_wire_decode_record_generic(rb, rl, &y));
        assert_int_equal(x.seq, y.seq);
        assert_int_equal(x.time_ms, y.time_ms);
        assert_memory_equal(&x.event.u.check, &y.event.u.check, sizeof x.event.u.check);
        free(rb);
        free(buf);
    }
}

static void test_validate(void **unused)
{
    tc_msg_t m;
    char why[128];
    s_check(&m);
    m.version = 2;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EVERSION);
    s_check(&m);
    m.seq = 0;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL);
    s_check(&m);
    snprintf(m.u.check.service, TC_ID_MAX, "has space");
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL);
    assert_string_equal(why, "check, service and host must be valid ids");
    s_check(&m);
    m.u.check.attempt = 0;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL);
    s_check(&m);
    m.kind = TC_MSG_HEARTBEAT;
    m.u.heartbeat.heartbeat_ms = 5000;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL); /* seq must be 0 */
    m.seq = 0;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), 0);
    m.u.heartbeat.heartbeat_ms = 5;
    assert_int_equal(tc_msg_validate(&m, why, sizeof why), TC_EINVAL);
}

static void test_utf8_copy(void **unused)
{
    char dst[8];
    assert_true(tc_strlcpy_utf8(dst, "abc", sizeof dst));
    assert_string_equal(dst, "abc");
    /* "abcdefö" needs 8 bytes and a NUL: the two-byte ö is dropped whole,
     * never split. */
    assert_false(tc_strlcpy_utf8(dst, "abcdef\xc3\xb6", sizeof dst));
    assert_string_equal(dst, "abcdef");
    assert_true(tc_strlcpy_utf8(dst, "abcde\xc3\xb6", sizeof dst));
    /* Invalid bytes (Latin-1) become '?'. */
    assert_true(tc_strlcpy_utf8(dst, "caf\xe9", sizeof dst));
    assert_string_equal(dst, "caf?");
}

static void test_api_roundtrip(void **unused)
{
    tc_api_request_t q = {.version = 1, .from = 10, .limit = 5, .all = true, .nargs = 1};
    snprintf(q.command, sizeof q.command, "log");
    snprintf(q.args[0], sizeof q.args[0], "42");
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_request(&q, &buf, &len), 0);
    tc_api_request_t back;
    assert_int_equal(tc_wire_decode_request(buf, len, &back), 0);
    free(buf);
    assert_string_equal(back.command, "log");
    assert_string_equal(back.args[0], "42");
    assert_int_equal(back.from, 10);
    assert_true(back.all);

    tc_api_reply_t *r = tc_api_reply_new();
    r->has_status = true;
    r->status.log_seq = 12;
    for (int i = 0; i < 9; i++) {
        tc_host_info_t h = {.up = i % 2};
        snprintf(h.host, sizeof h.host, "h%d", i);
        assert_int_equal(tc_api_reply_add_host(r, &h), 0);
        tc_incident_t inc = {.id = (uint64_t)i + 1};
        assert_int_equal(tc_api_reply_add_incident(r, &inc), 0);
    }
    tc_record_t rec = {.seq = 3};
    s_check(&rec.event);
    assert_int_equal(tc_api_reply_add_record(r, &rec), 0);
    r->more = true;
    assert_int_equal(tc_wire_encode_reply(r, &buf, &len), 0);
    tc_api_reply_destroy(&r);
    assert_null(r);
    assert_int_equal(tc_wire_decode_reply(buf, len, &r), 0);
    free(buf);
    assert_true(r->ok);
    assert_true(r->more);
    assert_int_equal(r->status.log_seq, 12);
    assert_int_equal(r->status.nhosts, 9);
    assert_string_equal(r->status.hosts[8].host, "h8");
    assert_int_equal(r->nincidents, 9);
    assert_int_equal(r->incidents[8].id, 9);
    assert_int_equal(r->nlog, 1);
    assert_string_equal(r->log[0].event.u.check.service, "frontend");
    tc_api_reply_destroy(&r);

    r = tc_api_reply_new();
    tc_api_reply_fail(r, "no incident %d", 4);
    assert_int_equal(tc_wire_encode_reply(r, &buf, &len), 0);
    tc_api_reply_destroy(&r);
    assert_int_equal(tc_wire_decode_reply(buf, len, &r), 0);
    free(buf);
    assert_false(r->ok);
    assert_string_equal(r->error, "no incident 4");
    tc_api_reply_destroy(&r);
}

/* An update's text of 4096 bytes goes through the API whole; one byte more
 * is refused (TC_ETOOBIG), never cut. The longer request is built by hand
 * (ApiRequest: version = 1, command = 2, message = 7), since the struct
 * cannot hold it. */
static void test_request_message_limit(void **unused)
{
    tc_api_request_t *q = calloc(1, sizeof *q), *back = calloc(1, sizeof *back);
    assert_non_null(q);
    assert_non_null(back);
    q->version = 1;
    snprintf(q->command, sizeof q->command, "update");
    memset(q->message, 'x', TC_BODY_MAX - 1);
    assert_int_equal(TC_BODY_MAX - 1, 4096);
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_request(q, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_request(buf, len, back), 0);
    free(buf);
    assert_int_equal(strlen(back->message), 4096);

    uint8_t raw[16 + 4097];
    size_t n = 0, body = 4097;
    raw[n++] = 0x08; /* version */
    raw[n++] = 1;
    raw[n++] = 0x12; /* command "update" */
    raw[n++] = 6;
    memcpy(raw + n, "update", 6);
    n += 6;
    raw[n++] = 0x3a; /* message, 4097 bytes */
    raw[n++] = (uint8_t)(0x80 | (body & 0x7f));
    raw[n++] = (uint8_t)(body >> 7);
    memset(raw + n, 'y', body);
    n += body;
    assert_int_equal(tc_wire_decode_request(raw, n, back), TC_ETOOBIG);
    free(q);
    free(back);
}

/* A policy with every field set to something other than its default goes
 * through the configuration record unchanged: a field missing from the
 * Policy message or from wire_config.c would make a replay run under
 * another policy than the one recorded. A field added to tc_policy_t must
 * be set here too. */
static void test_policy_roundtrip(void **unused)
{
    tc_policy_t *p = calloc(1, sizeof *p), *q = calloc(1, sizeof *q);
    p->declare_after_ms = 1;
    p->declare_min_users = 2;
    p->reopen_window_ms = 3;
    p->postmortem_due_ms = 4;
    p->reopen_on_failure = true;
    p->sev1_share = 0.31;
    p->sev2_share = 0.07;
    p->sev1_features_share = 0.6;
    p->sev2_features_share = 0.25;
    p->unknown_share_severity = 3;
    for (size_t sev = 0; sev < 6; sev++) {
        p->nroles_by_severity[sev] = sev ? 8 : 1;
        for (size_t i = 0; i < p->nroles_by_severity[sev]; i++)
            snprintf(p->roles_by_severity[sev][i], TC_ID_MAX, "role%zu.%zu", sev, i);
        p->postmortem_due_by_severity[sev] = 1000 * (int64_t)(sev + 1);
    }
    p->nservices = 3;
    for (size_t i = 0; i < p->nservices; i++) {
        tc_service_policy_t *s = &p->services[i];
        snprintf(s->name, TC_ID_MAX, "svc%zu", i);
        snprintf(s->team, TC_ID_MAX, "team%zu", i);
        s->users_per_host = 10 + (uint32_t)i;
        s->total_users = 100 + (uint32_t)i;
        s->declare_after_ms = 5000 + (int64_t)i;
        s->declare_min_users = 7 + (uint32_t)i;
        s->features = 11 + (uint32_t)i;
    }
    p->update_first_ms = 11;
    p->update_every_ms = 12;
    p->update_slow_after_ms = 13;
    p->update_every_slow_ms = 14;
    p->public_severities = 0x1e;
    p->auto_publish_severities = 0x02;
    p->internal_announce_severities = 0x22;
    p->maintenance_verify_ms = 15;
    p->ncomponents = 2;
    for (size_t i = 0; i < p->ncomponents; i++) {
        tc_component_policy_t *c = &p->components[i];
        snprintf(c->name, TC_ID_MAX, "comp%zu", i);
        snprintf(c->description, TC_TITLE_MAX, "Component %zu", i);
        c->nservices = TC_COMPONENT_SERVICES_MAX;
        for (size_t k = 0; k < c->nservices; k++)
            snprintf(c->services[k], TC_ID_MAX, "svc%zu", k);
    }
    snprintf(p->bridge_url, sizeof p->bridge_url, "https://meet.example.com/i-{{incident}}?x=1");
    p->out_of_hours_full_response = 3;
    p->nsecurity_team = TC_POLICY_SECURITY_TEAM_MAX;
    for (size_t i = 0; i < p->nsecurity_team; i++)
        snprintf(p->security_team[i], TC_ID_MAX, "sec%zu", i);
    p->ic_quiet_reminder_ms = 16;

    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_state_config(p, NULL, &buf, &len), 0);
    tc_templates_t *tpl = NULL;
    char err[256];
    memset(q, 0xa5, sizeof *q); /* the decoder must set every byte it owns */
    assert_int_equal(tc_wire_decode_state_config(buf, len, q, &tpl, err, sizeof err), 0);
    assert_memory_equal(p, q, sizeof *p);
    /* Deterministic: the same policy encodes to the same bytes. */
    uint8_t *again;
    size_t again_len;
    assert_int_equal(tc_wire_encode_state_config(q, NULL, &again, &again_len), 0);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, buf, len);
    free(again);
    free(buf);
    tc_templates_destroy(&tpl);
    free(p);
    free(q);
}

/* Every field of an incident, of a status update and of a subscriber's
 * report goes over the wire and into snapshots unchanged. */
static void test_incident_fields_roundtrip(void **unused)
{
    tc_incident_t *in = calloc(1, sizeof *in), *out = calloc(1, sizeof *out);
    in->id = 9;
    snprintf(in->service, TC_ID_MAX, "auth");
    in->state = TC_INC_MONITORING;
    in->severity = 1;
    in->declared = true;
    for (int i = 1; i <= 5; i++)
        in->severity_ms[i] = 60000 * i;
    in->sev_since_ms = 1764000000000;
    in->resolved_failing = 3;
    in->plan = TC_PLAN_FULL;
    snprintf(in->bridge, sizeof in->bridge, "https://meet.example.com/incident-9");
    in->disclosure_ic_ms = 1764000001000;
    in->disclosure_dpo_ms = 1764000002000;
    in->flagged_severity = 2;
    in->progress_ms = 1764000003000;
    in->quiet_reminded_ms = 1764000004000;
    in->postmortem_meeting_ms = 1764000005000;
    in->nactions = 2;
    in->actions[0].number = 1;
    in->actions[0].checklist = true;
    snprintf(in->actions[0].text, TC_ACTION_TEXT, "Stop the attack in progress.");
    snprintf(in->actions[0].owner, TC_ID_MAX, "kate");
    in->actions[1].number = 2;
    snprintf(in->actions[1].text, TC_ACTION_TEXT, "rotate keys");
    snprintf(in->actions[1].owner, TC_ID_MAX, "bob");
    uint8_t *buf;
    size_t len;
    assert_int_equal(tc_wire_encode_incident(in, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_incident(buf, len, out), 0);
    assert_memory_equal(in, out, sizeof *in);
    free(buf);
    /* An unknown plan is not decoded into nonsense. */
    in->plan = (tc_plan_t)7;
    assert_int_equal(tc_wire_encode_incident(in, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_incident(buf, len, out), TC_EDECODE);
    free(buf);
    free(in);
    free(out);

    tc_update_t u = {0}, v;
    u.incident = 9;
    u.number = 4;
    u.restricted = true;
    snprintf(u.body, TC_BODY_MAX, "need to know");
    assert_int_equal(tc_wire_encode_update(&u, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_update(buf, len, &v), 0);
    assert_true(v.restricted);
    free(buf);

    tc_api_reply_t *r = tc_api_reply_new(), *back = NULL;
    tc_sub_stat_t st = {0};
    snprintf(st.name, TC_ID_MAX, "ops-chat");
    snprintf(st.last_result, sizeof st.last_result, "failing");
    st.failing = true;
    st.failing_since_ms = 1764000000000;
    snprintf(st.failing_detail, sizeof st.failing_detail, "connect timeout");
    assert_int_equal(tc_api_reply_add_sub(r, &st), 0);
    assert_int_equal(tc_wire_encode_reply(r, &buf, &len), 0);
    assert_int_equal(tc_wire_decode_reply(buf, len, &back), 0);
    assert_int_equal(back->nsubs, 1);
    assert_true(back->subs[0].failing);
    assert_int_equal(back->subs[0].failing_since_ms, 1764000000000);
    assert_string_equal(back->subs[0].failing_detail, "connect timeout");
    free(buf);
    tc_api_reply_destroy(&r);
    tc_api_reply_destroy(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_roundtrip),
        cmocka_unit_test(test_incident_fields_roundtrip),
        cmocka_unit_test(test_check_result_roundtrip),
        cmocka_unit_test(test_broadcast_and_record_roundtrip),
        cmocka_unit_test(test_rejects_garbage),
        cmocka_unit_test(test_overlong_id_rejected),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_lost_resend_flapping_roundtrip),
        cmocka_unit_test(test_fast_reader_matches_generic),
        cmocka_unit_test(test_utf8_copy),
        cmocka_unit_test(test_api_roundtrip),
        cmocka_unit_test(test_request_message_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
