/* Unit tests for tools/render.c: the JSON contract of DESIGN.md §3 and the
 * operator-facing text, checked byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-24T07:00:00.000Z, 08:00:00.123Z, 08:05:30.000Z, 09:00:00.500Z */
#define T0700 1795503600000LL
#define T0800 1795507200123LL
#define T0805 1795507530000LL
#define T0900 1795510800500LL

#define INC_A_JSON                                                                                 \
    "{\"id\":3,\"service\":\"frontend\",\"state\":\"triggered\",\"severity\":null,"                \
    "\"declared\":false,\"opened_at\":\"2026-11-24T08:00:00.123Z\",\"resolved_at\":null,"          \
    "\"updated_at\":\"2026-11-24T08:05:30.000Z\",\"summary\":\"HTTP 503 from /health\","           \
    "\"hosts\":[\"web-01\"],\"affected_hosts\":1,\"failing_checks\":1,\"flapping_checks\":0,"      \
    "\"roles\":{},\"pages\":[],"                                                                   \
    "\"acknowledged_at\":null,\"declared_at\":null,\"users\":0,\"major\":false,"                   \
    "\"security\":false,\"drill\":false,\"title\":\"\",\"public\":false,\"updates\":0,\"pending_"  \
    "update\":null,\"last_external_update_at\":null,\"next_update_due_at\":null,\"maintenance\":"  \
    "null,\"severity_meaning\":null,\"severity_ms\":{},\"plan\":null,\"bridge\":null,"             \
    "\"resolved_failing\":0,\"disclosure\":null,\"progress_at\":null,\"postmortem\":null}"

/* Open, unassessed, one host, no roles. */
static tc_incident_t s_incident_a(void)
{
    tc_incident_t inc = {0};
    inc.id = 3;
    strcpy(inc.service, "frontend");
    inc.state = TC_INC_TRIGGERED;
    inc.opened_ms = T0800;
    inc.updated_ms = T0805;
    strcpy(inc.summary, "HTTP 503 from /health");
    strcpy(inc.hosts[0], "web-01");
    inc.nhosts = 1;
    inc.affected_hosts = 1;
    inc.failing_checks = 1;
    inc.opened_log_seq = 40;
    return inc;
}

/* Resolved, SEV-2, declared, two hosts, two roles. */
static tc_incident_t s_incident_b(void)
{
    tc_incident_t inc = {0};
    inc.id = 12;
    strcpy(inc.service, "database");
    inc.state = TC_INC_RESOLVED;
    inc.severity = 2;
    inc.declared = true;
    inc.opened_ms = T0700;
    inc.resolved_ms = T0900;
    inc.updated_ms = T0900;
    strcpy(inc.summary, "replication lag 300s");
    strcpy(inc.hosts[0], "db-01");
    strcpy(inc.hosts[1], "db-02");
    inc.nhosts = 2;
    inc.affected_hosts = 2;
    strcpy(inc.roles[0].role, "commander");
    strcpy(inc.roles[0].person, "alice");
    strcpy(inc.roles[1].role, "scribe");
    strcpy(inc.roles[1].person, "bob");
    /* alice paged at 07:00, acknowledged at 08:00 after one repeat. */
    inc.roles[0].paged_ms = T0700;
    inc.roles[0].acked_ms = T0800;
    inc.roles[0].repeats = 1;
    inc.nroles = 2;
    inc.opened_log_seq = 7;
    return inc;
}

static tc_record_t s_check_record(void)
{
    tc_record_t r = {0};
    r.seq = 40;
    r.received_ms = T0800;
    r.event.version = 1;
    strcpy(r.event.sender, "web-01");
    r.event.seq = 17;
    r.event.time_ms = T0800 - 123;
    r.event.kind = TC_MSG_CHECK_RESULT;
    tc_check_result_t *c = &r.event.u.check;
    strcpy(c->check, "frontend-http");
    strcpy(c->service, "frontend");
    strcpy(c->host, "web-01");
    c->state = TC_STATE_CRITICAL;
    strcpy(c->output, "connection refused");
    c->attempt = 3;
    c->max_attempts = 3;
    c->hard = true;
    strcpy(c->perf[0].label, "time");
    c->perf[0].value = 0.25;
    strcpy(c->perf[0].uom, "s");
    c->perf[0].warn = 1;
    c->perf[0].crit = 2;
    c->perf[0].min = 99; /* not present: must not appear */
    c->perf[0].present = TC_PERF_WARN | TC_PERF_CRIT;
    strcpy(c->perf[1].label, "size");
    c->perf[1].value = 1024;
    strcpy(c->perf[1].uom, "B");
    c->perf[1].min = 0;
    c->perf[1].max = 4096;
    c->perf[1].present = TC_PERF_MIN | TC_PERF_MAX_BIT;
    c->nperf = 2;
    return r;
}

static tc_record_t s_host_record(void)
{
    tc_record_t r = {0};
    r.seq = 41;
    r.received_ms = T0805;
    r.event.version = 1;
    strcpy(r.event.sender, "coordinator");
    r.event.kind = TC_MSG_HOST_STATUS;
    strcpy(r.event.u.host_status.host, "web-01");
    r.event.u.host_status.up = false;
    r.event.u.host_status.heartbeat_ms = 5000;
    strcpy(r.event.u.host_status.reason, "3 heartbeats missed");
    return r;
}

/* Three hosts: up and recent, down for an hour, announced but never seen. */
static tc_host_info_t s_hosts[3];

static tc_status_t s_status(void)
{
    memset(s_hosts, 0, sizeof s_hosts);
    strcpy(s_hosts[0].host, "web-01");
    s_hosts[0].up = true;
    s_hosts[0].last_seen_ms = T0800 - 3000;
    s_hosts[0].heartbeat_ms = 5000;
    strcpy(s_hosts[1].host, "db-01");
    s_hosts[1].last_seen_ms = T0700;
    s_hosts[1].heartbeat_ms = 2500;
    strcpy(s_hosts[2].host, "new-01");
    s_hosts[2].up = true;
    tc_status_t st = {0};
    strcpy(st.version, "0.1.0");
    st.started_ms = T0700;
    st.log_seq = 40;
    st.broadcast_seq = 13;
    st.open_incidents = 2;
    st.hosts = s_hosts;
    st.nhosts = 3;
    st.accepted = 100;
    st.duplicates = 3;
    return st;
}

/* ---- capture helpers ---------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} s_capture_t;

static void s_capture_open(s_capture_t *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

/* Closes the stream; the caller frees c->buf. */
static const char *s_capture_close(s_capture_t *c)
{
    assert_int_equal(fclose(c->f), 0);
    return c->buf;
}

static tc_json_t *s_json;

static int s_setup(void **state)
{
    (void)state;
    s_json = tc_json_new();
    return s_json ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    tc_json_destroy(&s_json);
    return 0;
}

static const char *s_done(void)
{
    assert_int_equal(tc_json_error(s_json), 0);
    assert_true(tc_json_complete(s_json));
    return tc_json_data(s_json);
}

/* ---- JSON --------------------------------------------------------------- */

static void test_incident_json_open(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_a();
    tc_json_reset(s_json);
    tc_render_incident_json(s_json, &inc);
    assert_string_equal(s_done(), INC_A_JSON);
}

static void test_incident_json_resolved(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_b();
    tc_json_reset(s_json);
    tc_render_incident_json(s_json, &inc);
    assert_string_equal(s_done(),
                        "{\"id\":12,\"service\":\"database\",\"state\":\"resolved\",\"severity\":2,"
                        "\"declared\":true,\"opened_at\":\"2026-11-24T07:00:00.000Z\","
                        "\"resolved_at\":\"2026-11-24T09:00:00.500Z\","
                        "\"updated_at\":\"2026-11-24T09:00:00.500Z\","
                        "\"summary\":\"replication lag 300s\",\"hosts\":[\"db-01\",\"db-02\"],"
                        "\"affected_hosts\":2,\"failing_checks\":0,\"flapping_checks\":0,"
                        "\"roles\":{\"commander\":\"alice\",\"scribe\":\"bob\"},"
                        "\"pages\":[{\"role\":\"commander\",\"person\":\"alice\","
                        "\"paged_at\":\"2026-11-24T07:00:00.000Z\","
                        "\"acknowledged_at\":\"2026-11-24T08:00:00.123Z\",\"repeats\":1,"
                        "\"level\":0,\"exhausted\":false},{\"role\":\"scribe\",\"person\":"
                        "\"bob\",\"paged_at\":null,\"acknowledged_at\":null,\"repeats\":0,"
                        "\"level\":0,\"exhausted\":false}],"
                        "\"acknowledged_at\":null,\"declared_at\":null,\"users\":0,"
                        "\"major\":true,\"security\":false,\"drill\":false,\"title\":\"\","
                        "\"public\":false,\"updates\":0,\"pending_update\":null,\"last_external_"
                        "update_at\":null,\"next_update_due_at\":null,\"maintenance\":null,"
                        "\"severity_meaning\":\"Major\",\"severity_ms\":{},\"plan\":null,"
                        "\"bridge\":null,\"resolved_failing\":0,\"disclosure\":null,"
                        "\"progress_at\":null,\"postmortem\":null}");
}

static void test_incident_json_state_names(void **state)
{
    (void)state;
    static const char *names[] = {"triggered", "investigating", "identified", "monitoring",
                                  "resolved"};
    for (int s = TC_INC_TRIGGERED; s <= TC_INC_RESOLVED; s++) {
        tc_incident_t inc = s_incident_a();
        inc.state = (tc_incident_state_t)s;
        tc_json_reset(s_json);
        tc_render_incident_json(s_json, &inc);
        char want[64];
        snprintf(want, sizeof want, "\"state\":\"%s\",", names[s]);
        assert_non_null(strstr(s_done(), want));
    }
}

static void test_incident_json_escapes_summary(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_a();
    strcpy(inc.summary, "says \"no\"\n\xff");
    tc_json_reset(s_json);
    tc_render_incident_json(s_json, &inc);
    assert_non_null(strstr(s_done(), "\"summary\":\"says \\\"no\\\"\\n\xef\xbf\xbd\","));
}

static void test_broadcast_json_incident(void **state)
{
    (void)state;
    tc_msg_t m = {0};
    m.version = 1;
    strcpy(m.sender, "coordinator");
    m.seq = 12;
    m.time_ms = T0805;
    m.kind = TC_MSG_BROADCAST;
    m.u.bcast.kind = TC_BCAST_INCIDENT_OPENED;
    strcpy(m.u.bcast.topic, "incident.opened");
    m.u.bcast.log_seq = 40;
    strcpy(m.u.bcast.detail, "frontend: incident opened");
    m.u.bcast.incident = s_incident_a();
    tc_json_reset(s_json);
    tc_render_broadcast_json(s_json, &m);
    assert_string_equal(s_done(), "{\"seq\":12,\"topic\":\"incident.opened\","
                                  "\"time\":\"2026-11-24T08:05:30.000Z\",\"log_seq\":40,"
                                  "\"detail\":\"frontend: incident opened\","
                                  "\"incident\":" INC_A_JSON "}");
}

static void test_broadcast_json_host(void **state)
{
    (void)state;
    tc_msg_t m = {0};
    m.version = 1;
    strcpy(m.sender, "coordinator");
    m.seq = 13;
    m.time_ms = T0805;
    m.kind = TC_MSG_BROADCAST;
    m.u.bcast.kind = TC_BCAST_HOST_DOWN;
    /* topic left empty: the kind's name stands in */
    m.u.bcast.log_seq = 41;
    strcpy(m.u.bcast.host, "web-01");
    strcpy(m.u.bcast.detail, "3 heartbeats missed");
    tc_json_reset(s_json);
    tc_render_broadcast_json(s_json, &m);
    assert_string_equal(s_done(), "{\"seq\":13,\"topic\":\"host.down\","
                                  "\"time\":\"2026-11-24T08:05:30.000Z\",\"log_seq\":41,"
                                  "\"host\":\"web-01\",\"detail\":\"3 heartbeats missed\"}");
}

static void test_record_json_check(void **state)
{
    (void)state;
    tc_record_t r = s_check_record();
    tc_json_reset(s_json);
    tc_render_record_json(s_json, &r);
    assert_string_equal(
        s_done(),
        "{\"seq\":40,\"time\":\"2026-11-24T08:00:00.123Z\",\"sender\":\"web-01\","
        "\"sender_seq\":17,\"kind\":\"check_result\",\"sent_at\":\"2026-11-24T08:00:00.000Z\","
        "\"check\":\"frontend-http\",\"service\":\"frontend\",\"host\":\"web-01\","
        "\"state\":\"CRITICAL\",\"hard\":true,\"flapping\":false,\"flap_percent\":0,\"attempt\":3,"
        "\"max_attempts\":3,"
        "\"output\":\"connection refused\",\"perfdata\":["
        "{\"label\":\"time\",\"value\":0.25,\"uom\":\"s\",\"warn\":1,\"crit\":2},"
        "{\"label\":\"size\",\"value\":1024,\"uom\":\"B\",\"min\":0,\"max\":4096}]}");
}

static void test_record_json_host_status(void **state)
{
    (void)state;
    tc_record_t r = s_host_record();
    tc_json_reset(s_json);
    tc_render_record_json(s_json, &r);
    assert_string_equal(s_done(),
                        "{\"seq\":41,\"time\":\"2026-11-24T08:05:30.000Z\","
                        "\"sender\":\"coordinator\",\"sender_seq\":0,\"kind\":\"host_status\","
                        "\"sent_at\":null,\"host\":\"web-01\",\"up\":false,\"heartbeat_ms\":5000,"
                        "\"reason\":\"3 heartbeats missed\"}");
}

static void test_status_json(void **state)
{
    (void)state;
    tc_status_t st = s_status();
    tc_json_reset(s_json);
    tc_render_status_json(s_json, &st);
    assert_string_equal(
        s_done(),
        "{\"version\":\"0.1.0\",\"started_at\":\"2026-11-24T07:00:00.000Z\",\"log_seq\":40,"
        "\"broadcast_seq\":13,\"open_incidents\":2,\"accepted\":100,\"duplicates\":3,"
        "\"rejected\":0,\"denied\":0,\"throttled\":0,\"deferred\":0,\"storage\":\"ok\",\"storage_"
        "error\":null,\"storage_used\":0,\"storage_map\":0,\"storage_max\":0,\"hosts\":["
        "{\"host\":\"web-01\",\"up\":true,\"last_seen\":\"2026-11-24T07:59:57.123Z\","
        "\"heartbeat_ms\":5000},"
        "{\"host\":\"db-01\",\"up\":false,\"last_seen\":\"2026-11-24T07:00:00.000Z\","
        "\"heartbeat_ms\":2500},"
        "{\"host\":\"new-01\",\"up\":true,\"last_seen\":null,\"heartbeat_ms\":0}]}");
}

/* ---- Text --------------------------------------------------------------- */

static void test_duration(void **state)
{
    (void)state;
    struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "0s"},         {-5, "0s"},         {250, "250ms"},      {2500, "2500ms"},
        {5000, "5s"},      {59000, "59s"},     {61500, "1m1s"},     {125000, "2m5s"},
        {3600123, "1h0m"}, {11040000, "3h4m"}, {183600000, "2d3h"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        assert_string_equal(tc_duration_compact(cases[i].ms, buf, sizeof buf), cases[i].want);
    }
}

static void test_incidents_text(void **state)
{
    (void)state;
    tc_incident_t incs[2] = {s_incident_a(), s_incident_b()};
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_incidents_text(c.f, incs, 2, true), 0);
    const char *out = s_capture_close(&c);
    assert_string_equal(out,
                        "ID  SERVICE   STATE      SEV  HOSTS        OPENED                SUMMARY\n"
                        "3   frontend  triggered  -    web-01       2026-11-24T08:00:00Z  "
                        "HTTP 503 from /health\n"
                        "12  database  resolved   2    db-01,db-02  2026-11-24T07:00:00Z  "
                        "replication lag 300s\n");
    free(c.buf);
}

static void test_incidents_text_empty(void **state)
{
    (void)state;
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_incidents_text(c.f, NULL, 0, false), 0);
    assert_int_equal(tc_render_incidents_text(c.f, NULL, 0, true), 0);
    assert_string_equal(s_capture_close(&c), "no open incidents\nno incidents\n");
    free(c.buf);
}

static void test_incidents_text_long_cells(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_a();
    for (int i = 0; i < 5; i++)
        snprintf(inc.hosts[i], sizeof inc.hosts[i], "h%d", i + 1);
    inc.nhosts = 5;
    inc.affected_hosts = 40; /* more failing hosts than are listed */
    memset(inc.summary, 'a', 70);
    inc.summary[70] = '\0';
    strcpy(inc.service, "caf\xc3\xa9"); /* 4 characters, 5 bytes */
    inc.opened_ms = 0;
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_incidents_text(c.f, &inc, 1, false), 0);
    const char *out = s_capture_close(&c);
    assert_string_equal(out, "ID  SERVICE  STATE      SEV  HOSTS         OPENED  SUMMARY\n"
                             "3   caf\xc3\xa9     triggered  -    h1,h2,h3,+37  -       "
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\n");
    free(c.buf);
}

static void test_incidents_text_sanitizes(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_a();
    strcpy(inc.summary, "bad\x1b[2Jworse\r\nend\xff");
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_incidents_text(c.f, &inc, 1, false), 0);
    const char *out = s_capture_close(&c);
    assert_non_null(strstr(out, "  bad [2Jworse  end\xef\xbf\xbd\n"));
    assert_null(strchr(out, '\x1b'));
    assert_null(strchr(out, '\r'));
    free(c.buf);
}

static void test_incident_text(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_b();
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_incident_text(c.f, &inc), 0);
    assert_string_equal(s_capture_close(&c), "id:             12\n"
                                             "service:        database\n"
                                             "state:          resolved\n"
                                             "severity:       SEV-2 (Major, major incident)\n"
                                             "declared:       yes\n"
                                             "acknowledged:   -\n"
                                             "users affected: 0\n"
                                             "opened:         2026-11-24T07:00:00.000Z\n"
                                             "updated:        2026-11-24T09:00:00.500Z\n"
                                             "resolved:       2026-11-24T09:00:00.500Z\n"
                                             "hosts:          db-01, db-02\n"
                                             "failing checks: 0\n"
                                             "roles:          commander=alice, scribe=bob\n"
                                             "opened by log:  7\n"
                                             "summary:        replication lag 300s\n");
    free(c.buf);
}

/* Every severity says what it means; the process's new facts show. */
static void test_incident_text_process(void **state)
{
    (void)state;
    static const char *const lines[] = {"severity:       -\n",
                                        "severity:       SEV-1 (Critical, major incident)\n",
                                        "severity:       SEV-2 (Major, major incident)\n",
                                        "severity:       SEV-3 (Minor)\n",
                                        "severity:       SEV-4 (no customer impact)\n",
                                        "severity:       SEV-5 (cosmetic)\n"};
    for (uint32_t sev = 0; sev <= 5; sev++) {
        tc_incident_t inc = s_incident_b();
        inc.severity = sev;
        inc.security = sev == 1;
        inc.disclosure_ic_ms = T0900;
        snprintf(inc.bridge, sizeof inc.bridge, "https://meet.example.com/incident-12");
        inc.plan = TC_PLAN_OUT_OF_HOURS;
        inc.resolved_failing = 2;
        inc.postmortem_due_ms = T0900 + 86400000LL;
        inc.postmortem_meeting_ms = T0900 + 3600000LL;
        snprintf(inc.postmortem_owner, TC_ID_MAX, "alice");
        s_capture_t c;
        s_capture_open(&c);
        assert_int_equal(tc_render_incident_text(c.f, &inc), 0);
        const char *out = s_capture_close(&c);
        if (!strstr(out, lines[sev]))
            fail_msg("SEV-%u: %s", sev, out);
        assert_non_null(strstr(out, "bridge:         https://meet.example.com/incident-12\n"));
        assert_non_null(strstr(out, "plan:           out of hours: the on-call engineer "
                                    "contains it\n"));
        assert_non_null(strstr(out, "resolved over:  2 checks still failing (--force)\n"));
        assert_non_null(strstr(out, "post-mortem:    owner alice, due 2026-11-25T09:00:00.500Z, "
                                    "meeting 2026-11-24T10:00:00.500Z\n"));
        if (sev == 1)
            assert_non_null(strstr(out, "disclosure:     held (IC cleared, DPO not yet)\n"));
        else
            assert_null(strstr(out, "disclosure:"));
        free(c.buf);
        /* And in JSON. */
        tc_json_reset(s_json);
        tc_render_incident_json(s_json, &inc);
        const char *j = s_done();
        assert_non_null(strstr(j, "\"plan\":\"out_of_hours\""));
        assert_non_null(strstr(j, "\"bridge\":\"https://meet.example.com/incident-12\""));
        assert_non_null(strstr(j, "\"meeting_at\":\"2026-11-24T10:00:00.500Z\""));
        if (sev == 4)
            assert_non_null(strstr(j, "\"severity_meaning\":\"no customer impact\""));
        if (sev == 1)
            assert_non_null(strstr(j, "\"disclosure\":{\"cleared\":false,"));
    }
}

static void test_incident_text_open(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_a();
    inc.nhosts = 0;
    inc.summary[0] = '\0';
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_incident_text(c.f, &inc), 0);
    const char *out = s_capture_close(&c);
    assert_non_null(strstr(out, "severity:       -\n"));
    assert_non_null(strstr(out, "declared:       no\n"));
    assert_non_null(strstr(out, "resolved:       -\n"));
    assert_non_null(strstr(out, "hosts:          -\n"));
    assert_non_null(strstr(out, "roles:          -\n"));
    assert_non_null(strstr(out, "summary:        -\n"));
    free(c.buf);
}

static void test_incident_text_comms(void **state)
{
    (void)state;
    tc_incident_t inc = s_incident_a();
    inc.drill = true;
    snprintf(inc.title, sizeof inc.title, "API errors");
    inc.updates = 3;
    inc.is_public = true;
    inc.pending_update = 3;
    inc.next_update_due_ms = 1764000000000;
    inc.maintenance = 4;
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_incident_text(c.f, &inc), 0);
    const char *out = s_capture_close(&c);
    assert_non_null(strstr(out, "drill:          yes"));
    assert_non_null(strstr(out, "public title:   API errors\n"));
    assert_non_null(strstr(out, "updates:        3 drafted, public; update 3 awaits approval\n"));
    assert_non_null(strstr(out, "next update:    2025-11-24T16:00:00.000Z\n"));
    assert_non_null(strstr(out, "maintenance:    opened during maintenance window 4\n"));
    free(c.buf);
}

static void test_status_text(void **state)
{
    (void)state;
    tc_status_t st = s_status();
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_status_text(c.f, &st, T0800), 0);
    assert_string_equal(
        s_capture_close(&c),
        "coordinator:    0.1.0, up 1h0m (since 2026-11-24T07:00:00Z)\n"
        "open incidents: 2\n"
        "log seq:        40\n"
        "broadcast seq:  13\n"
        "events:         100 accepted, 3 duplicates, 0 rejected, 0 denied since start\n"
        "storage:        ok, 0.0 MiB used of a 0 MiB map (grows until the disk is full)\n"
        "\n"
        "HOST    STATE  LAST SEEN  HEARTBEAT\n"
        "web-01  up     3s ago     5s\n"
        "db-01   down   1h0m ago   2500ms\n"
        "new-01  up     never      -\n");
    free(c.buf);
}

static void test_status_text_no_hosts(void **state)
{
    (void)state;
    tc_status_t st = s_status();
    st.nhosts = 0;
    st.started_ms = T0800 - 15652;
    s_capture_t c;
    s_capture_open(&c);
    assert_int_equal(tc_render_status_text(c.f, &st, T0800), 0);
    const char *out = s_capture_close(&c);
    assert_non_null(strstr(out, "up 15s (since 2026-11-24T07:59:44Z)\n"));
    const char *tail = "\n\nno hosts seen yet\n";
    assert_string_equal(out + strlen(out) - strlen(tail), tail);
    free(c.buf);
}

static void test_record_line(void **state)
{
    (void)state;
    char line[1024];
    tc_record_t r = s_check_record();
    assert_string_equal(tc_render_record_line(&r, line, sizeof line),
                        "40 2026-11-24T08:00:00.123Z web-01#17 check_result "
                        "frontend-http@web-01 frontend CRITICAL hard: connection refused");
    r.event.u.check.hard = false;
    r.event.u.check.state = TC_STATE_WARNING;
    strcpy(r.event.u.check.output, "slow\nreally\x1b[0m");
    assert_string_equal(tc_render_record_line(&r, line, sizeof line),
                        "40 2026-11-24T08:00:00.123Z web-01#17 check_result "
                        "frontend-http@web-01 frontend WARNING soft: slow really [0m");

    r = s_host_record();
    assert_string_equal(tc_render_record_line(&r, line, sizeof line),
                        "41 2026-11-24T08:05:30.000Z coordinator#0 host_status "
                        "web-01 down (3 heartbeats missed)");
    r.event.u.host_status.up = true;
    r.event.u.host_status.reason[0] = '\0';
    assert_string_equal(tc_render_record_line(&r, line, sizeof line),
                        "41 2026-11-24T08:05:30.000Z coordinator#0 host_status web-01 up");
}

static void test_record_line_truncates(void **state)
{
    (void)state;
    char line[35];
    tc_record_t r = s_check_record();
    strcpy(r.event.sender, "h\xc3\xa9\xc3\xa9\xc3\xa9");
    tc_render_record_line(&r, line, sizeof line);
    /* "40 " + 24-byte time + " " = 28 bytes, "h" 29, "é" 31, "é" 33; the
     * third "é" would need bytes 33..34 plus the NUL, so it is dropped
     * whole rather than split. */
    assert_string_equal(line, "40 2026-11-24T08:00:00.123Z h\xc3\xa9\xc3\xa9");
}

static void test_audit(void **state)
{
    (void)state;
    tc_audit_t a = {.seq = 7, .time_ms = 1000, .allowed = false};
    snprintf(a.actor_class, sizeof a.actor_class, "unknown");
    snprintf(a.action, sizeof a.action, "auth.denied");
    snprintf(a.detail, sizeof a.detail, "connection to agents from 127.0.0.1: unknown key");
    char line[512];
    assert_string_equal(tc_render_audit_line(&a, line, sizeof line),
                        "7 1970-01-01T00:00:01.000Z DENIED - (unknown) auth.denied connection to "
                        "agents from 127.0.0.1: unknown key");
    tc_json_t *j = tc_json_new();
    snprintf(a.actor, sizeof a.actor, "alice");
    a.allowed = true;
    tc_render_audit_json(j, &a);
    assert_int_equal(tc_json_error(j), 0);
    assert_memory_equal(tc_json_data(j),
                        "{\"seq\":7,\"time\":\"1970-01-01T00:00:01.000Z\",\"actor\":\"alice\","
                        "\"class\":\"unknown\",\"public_key\":\"\",\"action\":\"auth.denied\","
                        "\"detail\":\"connection to agents from 127.0.0.1: unknown key\","
                        "\"allowed\":true}",
                        tc_json_len(j));
    tc_json_destroy(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_json_open),
        cmocka_unit_test(test_incident_json_resolved),
        cmocka_unit_test(test_incident_json_state_names),
        cmocka_unit_test(test_incident_json_escapes_summary),
        cmocka_unit_test(test_broadcast_json_incident),
        cmocka_unit_test(test_broadcast_json_host),
        cmocka_unit_test(test_record_json_check),
        cmocka_unit_test(test_record_json_host_status),
        cmocka_unit_test(test_status_json),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_incidents_text),
        cmocka_unit_test(test_incidents_text_empty),
        cmocka_unit_test(test_incidents_text_long_cells),
        cmocka_unit_test(test_incidents_text_sanitizes),
        cmocka_unit_test(test_incident_text),
        cmocka_unit_test(test_incident_text_process),
        cmocka_unit_test(test_incident_text_comms),
        cmocka_unit_test(test_incident_text_open),
        cmocka_unit_test(test_status_text),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_status_text_no_hosts),
        cmocka_unit_test(test_record_line),
        cmocka_unit_test(test_record_line_truncates),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
