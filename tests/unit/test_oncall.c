/* The on-call roster: rotations at and around their hand-offs, fixed-offset
 * time zones, times before the first shift, overrides, escalation chains,
 * acknowledgement timeouts, and every kind of configuration mistake with its
 * file:line: key message. Real YAML files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "msg.h"
#include "oncall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **unused)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tc-oncall-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **unused)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes `text` to DIR/name; returns the path in a static buffer. */
static const char *s_write(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return path;
}

/* UTC milliseconds computed by libc's timegm(), independently of the
 * module's own calendar arithmetic. */
static int64_t s_utc(int y, int mo, int d, int h, int mi, int sec, int ms)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* Sections in an unusual order (overrides before the people they name) and
 * other modules' sections, which the roster must ignore. */
static const char s_roster[] =
    "coordinator:\n"
    "  data: /tmp/somewhere\n"
    "overrides:\n"
    "  - {team: web, person: dave, from: \"2026-11-24T08:00:00Z\", until: "
    "\"2026-11-24T20:00:00Z\"}\n"
    "  - {team: web, person: carol, from: \"2026-11-24T11:00:00+01:00\", until: "
    "\"2026-11-24T11:00:00Z\"}\n"
    "  - {role: commander, person: alice, from: \"2026-02-01T00:00:00+01:00\",\n"
    "     until: \"2026-02-02T00:00:00.5+01:00\"}\n"
    "people:\n"
    "  alice: {name: \"Alice Liddell\", email: alice@example.com}\n"
    "  bob: {}\n"
    "  carol: {}\n"
    "  dave: {}\n"
    "  erin: {name: Erin}\n"
    "services:\n"
    "  frontend: {team: web}\n"
    "teams:\n"
    "  web:\n"
    "    rotation:\n"
    "      members: [alice, bob]\n"
    "      shift: 1w\n"
    "      handoff: \"09:00\"\n"
    "      timezone: \"+01:00\"\n"
    "      start: 2026-01-05\n"
    "  db:\n"
    "    rotation:\n"
    "      members: [carol, dave, erin]\n"
    "      shift: 12h\n"
    "      handoff: \"21:30\"\n"
    "      timezone: \"-05:00\"\n"
    "      start: 2026-03-01\n"
    "    escalation: [bob, alice, carol]\n"
    "    ack_timeout: 2m\n"
    "  ops:\n"
    "    rotation: {members: [alice, bob, carol], shift: 1d, start: 2026-01-01}\n"
    "  weighted:\n"
    "    rotation: {members: [alice, bob, alice], shift: 1d, start: 2026-01-01}\n"
    "  solo:\n"
    "    rotation: {members: [erin]}\n"
    "roles:\n"
    "  commander: {rotation: {members: [carol, dave], shift: 1d, handoff: \"09:00\",\n"
    "                         timezone: UTC, start: 2026-01-01}}\n"
    "  deputy: {rotation: {members: [dave, carol], shift: 1d, start: 2026-01-01},\n"
    "           ack_timeout: 10m}\n"
    "  dpo: {rotation: {members: [erin]}}\n";

static tc_roster_t *s_load_roster(void)
{
    char err[512] = "";
    tc_roster_t *r = NULL;
    int rc = tc_roster_load(s_write("roster.yaml", s_roster), &r, err, sizeof err);
    if (rc)
        fail_msg("load failed: %s", err);
    assert_non_null(r);
    return r;
}

typedef struct {
    const char *who; /* team, or role when is_role */
    bool is_role;
    int64_t at;
    const char *expect;
} s_oncall_case_t;

static void s_check_oncall(const tc_roster_t *r, const s_oncall_case_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[TC_ID_MAX] = "";
        int rc = c[i].is_role ? tc_roster_role_oncall(r, c[i].who, c[i].at, out)
                              : tc_roster_team_oncall(r, c[i].who, c[i].at, out);
        if (rc != 0 || strcmp(out, c[i].expect) != 0)
            fail_msg("case %zu (%s at %lld): got rc %d \"%s\", want \"%s\"", i, c[i].who,
                     (long long)c[i].at, rc, out, c[i].expect);
    }
}

/* web: weekly from Monday 2026-01-05 09:00 +01:00 = 08:00 UTC. */
static void test_rotation_boundaries(void **unused)
{
    tc_roster_t *r = s_load_roster();
    assert_int_equal(s_utc(2026, 1, 5, 8, 0, 0, 0), 1767600000000LL);
    const s_oncall_case_t cases[] = {
        /* the first hand-off, exactly and 1 ms before (the rotation runs
         * backwards: the shift before the first is members[-1 mod 2]) */
        {"web", false, s_utc(2026, 1, 5, 8, 0, 0, 0), "alice"},
        {"web", false, s_utc(2026, 1, 5, 7, 59, 59, 999), "bob"},
        /* the offset matters: 08:30 UTC is after a 09:00 +01:00 hand-off */
        {"web", false, s_utc(2026, 1, 12, 7, 59, 59, 999), "alice"},
        {"web", false, s_utc(2026, 1, 12, 8, 0, 0, 0), "bob"},
        {"web", false, s_utc(2026, 1, 12, 8, 30, 0, 0), "bob"},
        /* wrap-around */
        {"web", false, s_utc(2026, 1, 19, 7, 59, 59, 999), "bob"},
        {"web", false, s_utc(2026, 1, 19, 8, 0, 0, 0), "alice"},
        {"web", false, s_utc(2026, 11, 23, 8, 0, 0, 0), "alice"},
        /* before start: shifts -1, -2, -3 */
        {"web", false, s_utc(2025, 12, 29, 8, 0, 0, 0), "bob"},
        {"web", false, s_utc(2025, 12, 29, 7, 59, 59, 999), "alice"},
        {"web", false, s_utc(2025, 12, 22, 7, 59, 59, 999), "bob"},
        {"web", false, 0, "bob"}, /* 1970: 2922 weeks and a bit before start */
        /* db: 12 h shifts from 2026-03-01 21:30 -05:00 = 03-02 02:30 UTC */
        {"db", false, s_utc(2026, 3, 2, 2, 29, 59, 999), "erin"},
        {"db", false, s_utc(2026, 3, 2, 2, 30, 0, 0), "carol"},
        {"db", false, s_utc(2026, 3, 2, 14, 29, 59, 999), "carol"},
        {"db", false, s_utc(2026, 3, 2, 14, 30, 0, 0), "dave"},
        {"db", false, s_utc(2026, 3, 3, 2, 30, 0, 0), "erin"},
        {"db", false, s_utc(2026, 3, 3, 14, 30, 0, 0), "carol"},
        {"db", false, s_utc(2026, 3, 1, 14, 30, 0, 0), "erin"},
        {"db", false, s_utc(2026, 3, 1, 14, 29, 59, 999), "dave"},
        /* defaults: weekly, 09:00 UTC, from Monday 1970-01-05 */
        {"solo", false, s_utc(2026, 6, 1, 0, 0, 0, 0), "erin"},
        /* a person listed twice takes two shifts in three */
        {"weighted", false, s_utc(2026, 1, 1, 9, 0, 0, 0), "alice"},
        {"weighted", false, s_utc(2026, 1, 2, 9, 0, 0, 0), "bob"},
        {"weighted", false, s_utc(2026, 1, 3, 9, 0, 0, 0), "alice"},
        {"weighted", false, s_utc(2026, 1, 4, 9, 0, 0, 0), "alice"},
    };
    s_check_oncall(r, cases, sizeof cases / sizeof cases[0]);

    char out[TC_ID_MAX] = "unchanged";
    assert_int_equal(tc_roster_team_oncall(r, "nope", 0, out), TC_ENOTFOUND);
    assert_int_equal(tc_roster_team_oncall(r, NULL, 0, out), TC_ENOTFOUND);
    assert_string_equal(out, "unchanged");
    /* the extremes of int64 neither crash nor overflow */
    assert_int_equal(tc_roster_team_oncall(r, "db", INT64_MIN, out), 0);
    assert_int_equal(tc_roster_team_oncall(r, "db", INT64_MAX, out), 0);
    tc_roster_destroy(&r);
    assert_null(r);
    tc_roster_destroy(&r); /* NULL-safe */
}

static void test_overrides(void **unused)
{
    tc_roster_t *r = s_load_roster();
    const s_oncall_case_t cases[] = {
        /* dave covers web 08:00-20:00 UTC; carol, listed later, 10:00-11:00
         * inside it (her from is 11:00 +01:00) */
        {"web", false, s_utc(2026, 11, 24, 7, 59, 59, 999), "alice"},
        {"web", false, s_utc(2026, 11, 24, 8, 0, 0, 0), "dave"},
        {"web", false, s_utc(2026, 11, 24, 9, 59, 59, 999), "dave"},
        {"web", false, s_utc(2026, 11, 24, 10, 0, 0, 0), "carol"},
        {"web", false, s_utc(2026, 11, 24, 10, 59, 59, 999), "carol"},
        {"web", false, s_utc(2026, 11, 24, 11, 0, 0, 0), "dave"},
        {"web", false, s_utc(2026, 11, 24, 19, 59, 59, 999), "dave"},
        {"web", false, s_utc(2026, 11, 24, 20, 0, 0, 0), "alice"}, /* until is not covered */
        /* an override of web leaves other teams alone */
        {"ops", false, s_utc(2026, 11, 24, 12, 0, 0, 0), "alice"},
        /* alice covers commander from 2026-01-31 23:00Z to 02-01 23:00:00.500Z */
        {"commander", true, s_utc(2026, 1, 31, 22, 59, 59, 999), "carol"},
        {"commander", true, s_utc(2026, 1, 31, 23, 0, 0, 0), "alice"},
        {"commander", true, s_utc(2026, 2, 1, 23, 0, 0, 499), "alice"},
        {"commander", true, s_utc(2026, 2, 1, 23, 0, 0, 500), "dave"},
        {"deputy", true, s_utc(2026, 1, 31, 23, 0, 0, 0), "dave"},
    };
    s_check_oncall(r, cases, sizeof cases / sizeof cases[0]);
    tc_roster_destroy(&r);
}

static void test_roles(void **unused)
{
    tc_roster_t *r = s_load_roster();
    const s_oncall_case_t cases[] = {
        {"commander", true, s_utc(2026, 1, 1, 9, 0, 0, 0), "carol"},
        {"commander", true, s_utc(2026, 1, 1, 8, 59, 59, 999), "dave"},
        {"commander", true, s_utc(2025, 12, 31, 8, 59, 59, 999), "carol"},
        {"commander", true, s_utc(2026, 1, 2, 9, 0, 0, 0), "dave"},
        {"commander", true, s_utc(2026, 1, 3, 9, 0, 0, 0), "carol"},
        {"deputy", true, s_utc(2026, 1, 1, 9, 0, 0, 0), "dave"},
        {"deputy", true, s_utc(2026, 1, 2, 9, 0, 0, 0), "carol"},
        {"dpo", true, s_utc(2026, 7, 1, 0, 0, 0, 0), "erin"},
    };
    s_check_oncall(r, cases, sizeof cases / sizeof cases[0]);

    char out[TC_ID_MAX];
    assert_int_equal(tc_roster_role_oncall(r, "scribe", 0, out), TC_ENOTFOUND);
    assert_int_equal(tc_roster_role_oncall(r, "sme", 0, out), TC_EINVAL);
    assert_int_equal(tc_roster_role_oncall(r, "chief", 0, out), TC_EINVAL);
    assert_int_equal(tc_roster_role_oncall(r, NULL, 0, out), TC_EINVAL);
    assert_int_equal(tc_roster_role_oncall(r, "web", 0, out), TC_EINVAL);

    assert_true(tc_roster_role_valid("sme"));
    assert_true(tc_roster_role_valid("customer_liaison"));
    assert_true(tc_roster_role_valid("internal_liaison"));
    assert_false(tc_roster_role_valid("Commander"));
    assert_false(tc_roster_role_valid(NULL));
    assert_true(tc_roster_has_role(r, "commander"));
    assert_true(tc_roster_has_role(r, "dpo"));
    assert_false(tc_roster_has_role(r, "scribe"));
    assert_false(tc_roster_has_role(r, "sme"));
    tc_roster_destroy(&r);
}

typedef struct {
    const char *team, *role, *current;
    int64_t at;
    int rc;
    const char *expect;
} s_escalate_case_t;

static void test_escalation(void **unused)
{
    tc_roster_t *r = s_load_roster();
    const int64_t ops_day2 = s_utc(2026, 1, 2, 10, 0, 0, 0);    /* ops: bob's shift */
    const int64_t db_carol = s_utc(2026, 3, 2, 3, 0, 0, 0);     /* db: carol's shift */
    const int64_t db_dave = s_utc(2026, 3, 2, 15, 0, 0, 0);     /* db: dave's shift */
    const int64_t web_cover = s_utc(2026, 11, 24, 12, 0, 0, 0); /* dave covers alice */
    const int64_t cmd_day2 = s_utc(2026, 1, 2, 10, 0, 0, 0);    /* commander: dave */
    const s_escalate_case_t cases[] = {
        /* default chain: members from the on-call onwards, wrapping once */
        {"ops", NULL, NULL, ops_day2, 0, "bob"},
        {"ops", NULL, "", ops_day2, 0, "bob"},
        {"ops", NULL, "bob", ops_day2, 0, "carol"},
        {"ops", NULL, "carol", ops_day2, 0, "alice"},
        {"ops", NULL, "alice", ops_day2, TC_ENOTFOUND, ""},
        {"ops", NULL, "dave", ops_day2, 0, "bob"}, /* not in the chain: start over */
        {"ops", NULL, "alice", s_utc(2026, 1, 1, 9, 0, 0, 0), 0, "bob"},
        /* explicit list: the on-call first, then the list without repeats */
        {"db", NULL, NULL, db_carol, 0, "carol"},
        {"db", NULL, "carol", db_carol, 0, "bob"},
        {"db", NULL, "bob", db_carol, 0, "alice"},
        {"db", NULL, "alice", db_carol, TC_ENOTFOUND, ""},
        {"db", NULL, "dave", db_dave, 0, "bob"},
        {"db", NULL, "alice", db_dave, 0, "carol"},
        {"db", NULL, "carol", db_dave, TC_ENOTFOUND, ""},
        {"db", NULL, "erin", db_dave, 0, "dave"},
        /* an override's person first, then the rotation as scheduled */
        {"web", NULL, NULL, web_cover, 0, "dave"},
        {"web", NULL, "dave", web_cover, 0, "alice"},
        {"web", NULL, "alice", web_cover, 0, "bob"},
        {"web", NULL, "bob", web_cover, TC_ENOTFOUND, ""},
        /* a person listed twice is paged once */
        {"weighted", NULL, "alice", s_utc(2026, 1, 3, 9, 0, 0, 0), 0, "bob"},
        {"weighted", NULL, "bob", s_utc(2026, 1, 3, 9, 0, 0, 0), TC_ENOTFOUND, ""},
        /* a single-member chain escalates to nobody */
        {"solo", NULL, NULL, 0, 0, "erin"},
        {"solo", NULL, "erin", 0, TC_ENOTFOUND, ""},
        /* roles: the role rotation's members */
        {NULL, "commander", NULL, cmd_day2, 0, "dave"},
        {NULL, "commander", "dave", cmd_day2, 0, "carol"},
        {NULL, "commander", "carol", cmd_day2, TC_ENOTFOUND, ""},
        {NULL, "dpo", "erin", cmd_day2, TC_ENOTFOUND, ""},
        /* bad questions */
        {"nope", NULL, NULL, 0, TC_ENOTFOUND, ""},
        {NULL, "scribe", NULL, 0, TC_ENOTFOUND, ""},
        {NULL, "sme", NULL, 0, TC_EINVAL, ""},
        {NULL, NULL, NULL, 0, TC_EINVAL, ""},
        {"web", "commander", NULL, 0, TC_EINVAL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const s_escalate_case_t *c = &cases[i];
        char out[TC_ID_MAX] = "";
        int rc = tc_roster_escalate(r, c->team, c->role, c->current, c->at, out);
        if (rc != c->rc || strcmp(out, c->expect) != 0)
            fail_msg("case %zu (%s/%s after %s): got %d \"%s\", want %d \"%s\"", i,
                     c->team ? c->team : "-", c->role ? c->role : "-",
                     c->current ? c->current : "-", rc, out, c->rc, c->expect);
    }
    tc_roster_destroy(&r);
}

static void test_ack_timeouts_and_people(void **unused)
{
    tc_roster_t *r = s_load_roster();
    assert_int_equal(tc_roster_ack_timeout_ms(r, "db", NULL), 120000);
    assert_int_equal(tc_roster_ack_timeout_ms(r, "web", NULL), 300000);
    assert_int_equal(tc_roster_ack_timeout_ms(r, NULL, "deputy"), 600000);
    assert_int_equal(tc_roster_ack_timeout_ms(r, NULL, "commander"), TC_ROSTER_ACK_TIMEOUT_MS);
    assert_int_equal(tc_roster_ack_timeout_ms(r, "nope", NULL), TC_ROSTER_ACK_TIMEOUT_MS);
    assert_int_equal(tc_roster_ack_timeout_ms(r, NULL, NULL), TC_ROSTER_ACK_TIMEOUT_MS);

    assert_true(tc_roster_has_person(r, "alice"));
    assert_true(tc_roster_has_person(r, "erin"));
    assert_false(tc_roster_has_person(r, "zed"));
    assert_false(tc_roster_has_person(r, NULL));
    assert_true(tc_roster_has_team(r, "web"));
    assert_false(tc_roster_has_team(r, "frontend")); /* a service, not a team */
    const char *name = NULL, *email = NULL;
    assert_int_equal(tc_roster_person(r, "alice", &name, &email), 0);
    assert_string_equal(name, "Alice Liddell");
    assert_string_equal(email, "alice@example.com");
    assert_int_equal(tc_roster_person(r, "bob", &name, &email), 0);
    assert_string_equal(name, "");
    assert_string_equal(email, "");
    assert_int_equal(tc_roster_person(r, "erin", &name, NULL), 0);
    assert_string_equal(name, "Erin");
    assert_int_equal(tc_roster_person(r, "zed", &name, &email), TC_ENOTFOUND);
    tc_roster_destroy(&r);
}

static void test_next_handoff(void **unused)
{
    tc_roster_t *r = s_load_roster();
    const struct {
        const char *team, *role;
        int64_t now, expect;
    } cases[] = {
        {"web", NULL, s_utc(2026, 1, 5, 7, 59, 59, 999), s_utc(2026, 1, 5, 8, 0, 0, 0)},
        {"web", NULL, s_utc(2026, 1, 5, 8, 0, 0, 0), s_utc(2026, 1, 12, 8, 0, 0, 0)},
        {"web", NULL, s_utc(2025, 12, 30, 0, 0, 0, 0), s_utc(2026, 1, 5, 8, 0, 0, 0)},
        /* overrides' edges are changes too */
        {"web", NULL, s_utc(2026, 11, 24, 0, 0, 0, 0), s_utc(2026, 11, 24, 8, 0, 0, 0)},
        {"web", NULL, s_utc(2026, 11, 24, 8, 0, 0, 0), s_utc(2026, 11, 24, 10, 0, 0, 0)},
        {"web", NULL, s_utc(2026, 11, 24, 10, 30, 0, 0), s_utc(2026, 11, 24, 11, 0, 0, 0)},
        {"web", NULL, s_utc(2026, 11, 24, 11, 0, 0, 0), s_utc(2026, 11, 24, 20, 0, 0, 0)},
        {"web", NULL, s_utc(2026, 11, 24, 20, 0, 0, 0), s_utc(2026, 11, 30, 8, 0, 0, 0)},
        {"db", NULL, s_utc(2026, 3, 2, 2, 30, 0, 0), s_utc(2026, 3, 2, 14, 30, 0, 0)},
        {NULL, "commander", s_utc(2026, 1, 31, 12, 0, 0, 0), s_utc(2026, 1, 31, 23, 0, 0, 0)},
        {NULL, "commander", s_utc(2026, 2, 1, 23, 0, 0, 0), s_utc(2026, 2, 1, 23, 0, 0, 500)},
        {NULL, "deputy", s_utc(2026, 2, 1, 23, 0, 0, 0), s_utc(2026, 2, 2, 9, 0, 0, 0)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t next = 0;
        assert_int_equal(
            tc_roster_next_handoff(r, cases[i].team, cases[i].role, cases[i].now, &next), 0);
        if (next != cases[i].expect)
            fail_msg("case %zu: got %lld, want %lld", i, (long long)next,
                     (long long)cases[i].expect);
    }
    int64_t next;
    assert_int_equal(tc_roster_next_handoff(r, "nope", NULL, 0, &next), TC_ENOTFOUND);
    assert_int_equal(tc_roster_next_handoff(r, NULL, "sme", 0, &next), TC_EINVAL);
    assert_int_equal(tc_roster_next_handoff(r, "web", NULL, INT64_MAX, &next), 0);
    assert_true(next > (1LL << 60));
    tc_roster_destroy(&r);
}

/* A file with none of the roster's sections, an empty file and an empty
 * roster all answer "nobody". */
static void test_empty(void **unused)
{
    const char *texts[] = {"coordinator:\n  data: /tmp/x\nservices: {}\n", "",
                           "people:\nteams:\nroles: ~\noverrides: []\n"};
    for (size_t i = 0; i <= sizeof texts / sizeof texts[0]; i++) {
        tc_roster_t *r = NULL;
        char err[512] = "";
        if (i < sizeof texts / sizeof texts[0])
            assert_int_equal(tc_roster_load(s_write("empty.yaml", texts[i]), &r, err, sizeof err),
                             0);
        else
            r = tc_roster_new_empty();
        assert_non_null(r);
        char out[TC_ID_MAX];
        assert_int_equal(tc_roster_team_oncall(r, "web", 0, out), TC_ENOTFOUND);
        assert_int_equal(tc_roster_role_oncall(r, "commander", 0, out), TC_ENOTFOUND);
        assert_int_equal(tc_roster_escalate(r, "web", NULL, NULL, 0, out), TC_ENOTFOUND);
        assert_false(tc_roster_has_person(r, "alice"));
        assert_int_equal(tc_roster_ack_timeout_ms(r, "web", NULL), TC_ROSTER_ACK_TIMEOUT_MS);
        tc_roster_destroy(&r);
    }
}

/* Each bad file starts with these three lines, so the body starts on line 4. */
#define PEOPLE "people:\n  alice: {}\n  bob: {}\n"
#define WEB "teams:\n  web:\n    rotation:\n      members: [alice]\n"

static void test_bad_config(void **unused)
{
    const struct {
        const char *text;
        int line;
        const char *msg;
    } cases[] = {
        {PEOPLE "teams:\n  web:\n    rotation:\n      members: [alice]\n      shfit: 1w\n", 8,
         "teams.web.rotation: unknown key \"shfit\""},
        {PEOPLE "teams:\n  web:\n    rotation:\n      members: [alice, zed]\n", 7,
         "teams.web.rotation.members[1]: unknown person \"zed\" (not listed under people)"},
        {PEOPLE "teams:\n  web:\n    rotation:\n      members: []\n", 7,
         "teams.web.rotation.members: must not be empty"},
        {PEOPLE "teams:\n  web:\n    rotation:\n      members: alice\n", 7,
         "teams.web.rotation.members: must be a list of people"},
        {PEOPLE "teams:\n  web:\n    rotation:\n      shift: 1d\n", 7,
         "teams.web.rotation: missing members"},
        {PEOPLE WEB "      shift: 1x\n", 8,
         "teams.web.rotation.shift: invalid shift \"1x\" (1m..30d, or 1w..52w)"},
        {PEOPLE WEB "      shift: 30s\n", 8,
         "teams.web.rotation.shift: invalid shift \"30s\" (1m..30d, or 1w..52w)"},
        {PEOPLE WEB "      shift: 53w\n", 8,
         "teams.web.rotation.shift: invalid shift \"53w\" (1m..30d, or 1w..52w)"},
        {PEOPLE WEB "      shift: 1d\n      shift: 2d\n", 9,
         "teams.web.rotation.shift: duplicate key"},
        {PEOPLE WEB "      handoff: \"9:00\"\n", 8,
         "teams.web.rotation.handoff: invalid time of day \"9:00\" (HH:MM)"},
        {PEOPLE WEB "      handoff: \"24:00\"\n", 8,
         "teams.web.rotation.handoff: invalid time of day \"24:00\" (HH:MM)"},
        {PEOPLE WEB "      timezone: Europe/Paris\n", 8,
         "teams.web.rotation.timezone: invalid timezone \"Europe/Paris\" (UTC, +HH:MM or "
         "-HH:MM; zone names are not supported)"},
        {PEOPLE WEB "      timezone: \"+15:00\"\n", 8,
         "teams.web.rotation.timezone: invalid timezone \"+15:00\" (UTC, +HH:MM or -HH:MM; "
         "zone names are not supported)"},
        {PEOPLE WEB "      start: 2026-02-29\n", 8,
         "teams.web.rotation.start: invalid date \"2026-02-29\" (YYYY-MM-DD)"},
        {PEOPLE WEB "      start: [2026]\n", 8, "teams.web.rotation.start: must be a scalar"},
        {PEOPLE WEB "    escalation: [bob, alice, bob]\n", 8,
         "teams.web.escalation[2]: \"bob\" is listed twice"},
        {PEOPLE WEB "    ack_timeout: 0s\n", 8,
         "teams.web.ack_timeout: invalid duration \"0s\" (1s..30d)"},
        {PEOPLE WEB "    owner: bob\n", 8, "teams.web: unknown key \"owner\""},
        {PEOPLE "teams:\n  web: {ack_timeout: 5m}\n", 5, "teams.web: missing rotation"},
        {PEOPLE WEB "  web:\n    rotation: {members: [bob]}\n", 8, "teams.web: duplicate team"},
        {PEOPLE "teams:\n  \"web team\": {rotation: {members: [bob]}}\n", 5,
         "teams.web team: invalid name (1..63 characters of A-Z a-z 0-9 . _ : -)"},
        {PEOPLE "  alice: {}\n", 4, "people.alice: duplicate person"},
        {"people:\n  - alice\n", 2, "people: must be a mapping of person id to details"},
        {"people:\n  alice:\n", 2, "people.alice: must be a mapping (use {} for no details)"},
        {"people:\n  \"al ice\": {}\n", 2,
         "people.al ice: invalid id (1..63 characters of A-Z a-z 0-9 . _ : -)"},
        {"people:\n  alice: {email: alice}\n", 2,
         "people.alice.email: invalid e-mail address \"alice\""},
        {"people:\n  alice: {phone: 123}\n", 2, "people.alice: unknown key \"phone\""},
        {PEOPLE "roles:\n  sme: {rotation: {members: [bob]}}\n", 5,
         "roles.sme: the SME is the owning team's on-call; configure the team instead"},
        {PEOPLE "roles:\n  chief: {rotation: {members: [bob]}}\n", 5,
         "roles: unknown role \"chief\" (commander, deputy, scribe, customer_liaison, "
         "internal_liaison, dpo)"},
        {PEOPLE "roles:\n  dpo: {rotation: {members: [bob]}}\n  dpo: {rotation: {members: "
                "[bob]}}\n",
         6, "roles.dpo: duplicate role"},
        {PEOPLE WEB "overrides:\n  - {team: web, person: bob, from: \"2026-11-24T08:00:00Z\",\n"
                    "     until: \"2026-11-24T08:00:00Z\"}\n",
         10, "overrides[0].until: must be after from"},
        {PEOPLE WEB "overrides:\n  - {team: web, person: bob, from: \"2026-11-24T09:00:00+01:00\","
                    " until: \"2026-11-24T07:59:59Z\"}\n",
         9, "overrides[0].until: must be after from"},
        {PEOPLE WEB "overrides:\n  - {team: db, person: bob, from: \"2026-11-24T08:00:00Z\","
                    " until: \"2026-11-24T09:00:00Z\"}\n",
         9, "overrides[0].team: unknown team \"db\""},
        {PEOPLE WEB "overrides:\n  - {role: scribe, person: bob, from: \"2026-11-24T08:00:00Z\","
                    " until: \"2026-11-24T09:00:00Z\"}\n",
         9, "overrides[0].role: role \"scribe\" is not configured under roles"},
        {PEOPLE WEB "overrides:\n  - {team: web, role: commander, person: bob}\n", 9,
         "overrides[0]: give one of team or role"},
        {PEOPLE WEB "overrides:\n  - {team: web, person: zed}\n", 9,
         "overrides[0].person: unknown person \"zed\" (not listed under people)"},
        {PEOPLE WEB "overrides:\n  - {team: web, person: bob, from: \"2026-11-24 08:00\"}\n", 9,
         "overrides[0].from: invalid time \"2026-11-24 08:00\" (RFC 3339, e.g. "
         "2026-11-24T08:00:00Z)"},
        {PEOPLE WEB "overrides:\n  - {team: web, person: bob, from: \"2026-11-24T08:00:00Z\"}\n", 9,
         "overrides[0]: missing until"},
        {PEOPLE WEB "overrides:\n  - {team: web, person: bob, from: \"2026-11-24T08:00:00Z\","
                    " until: \"2026-11-24T09:00:00Z\"}\n"
                    "  - {person: bob}\n",
         10, "overrides[1]: missing team or role"},
        {PEOPLE WEB "overrides:\n  - {team: web, who: bob}\n", 9,
         "overrides[0]: unknown key \"who\""},
        {PEOPLE WEB "overrides: {team: web}\n", 8, "overrides: must be a list"},
        {PEOPLE "people: {}\n", 4, "people: duplicate key"},
        {"- people\n", 1, "top level must be a mapping"},
        {PEOPLE "teams: [\n", 5, "did not find expected node content"},
        /* Business hours and fallbacks. */
        {PEOPLE WEB "    fallback: zed\n", 8,
         "teams.web.fallback: unknown person \"zed\" (not listed under people)"},
        {PEOPLE WEB "    business_hours: 9-5\n", 8,
         "teams.web.business_hours: must be a mapping (days, from, to, timezone, holidays)"},
        {PEOPLE WEB "    business_hours: {from: \"09:00\", to: \"17:00\"}\n", 8,
         "teams.web.business_hours: missing days"},
        {PEOPLE WEB "    business_hours: {days: [mon], to: \"17:00\"}\n", 8,
         "teams.web.business_hours: missing from"},
        {PEOPLE WEB "    business_hours: {days: [mon], from: \"09:00\"}\n", 8,
         "teams.web.business_hours: missing to"},
        {PEOPLE WEB "    business_hours: {days: [monday], from: \"09:00\", to: \"17:00\"}\n", 8,
         "teams.web.business_hours.days[0]: unknown day \"monday\" (mon, tue, wed, thu, fri, "
         "sat, sun)"},
        {PEOPLE WEB "    business_hours: {days: [mon, mon], from: \"09:00\", to: \"17:00\"}\n", 8,
         "teams.web.business_hours.days[1]: \"mon\" is listed twice"},
        {PEOPLE WEB "    business_hours: {days: [], from: \"09:00\", to: \"17:00\"}\n", 8,
         "teams.web.business_hours.days: must not be empty"},
        {PEOPLE WEB "    business_hours: {days: mon, from: \"09:00\", to: \"17:00\"}\n", 8,
         "teams.web.business_hours.days: must be a list of days (mon, tue, ...)"},
        {PEOPLE WEB "    business_hours: {days: [mon], from: \"9am\", to: \"17:00\"}\n", 8,
         "teams.web.business_hours.from: invalid time of day \"9am\" (HH:MM)"},
        {PEOPLE WEB "    business_hours: {days: [mon], from: \"18:00\", to: \"09:00\"}\n", 8,
         "teams.web.business_hours: to must be after from (hours across midnight are not "
         "supported)"},
        {PEOPLE WEB "    business_hours: {days: [mon], from: \"09:00\", to: \"17:00\",\n"
                    "                     timezone: Europe/Paris}\n",
         9,
         "teams.web.business_hours.timezone: invalid timezone \"Europe/Paris\" (UTC, +HH:MM or "
         "-HH:MM; zone names are not supported)"},
        {PEOPLE WEB "    business_hours: {days: [mon], from: \"09:00\", to: \"17:00\",\n"
                    "                     holidays: [2026-13-01]}\n",
         9, "teams.web.business_hours.holidays[0]: invalid date \"2026-13-01\" (YYYY-MM-DD)"},
        {PEOPLE WEB "    business_hours: {days: [mon], from: \"09:00\", to: \"17:00\", lunch: 1}\n",
         8, "teams.web.business_hours: unknown key \"lunch\" (days, from, to, timezone, holidays)"},
        {PEOPLE "roles:\n  commander:\n    rotation: {members: [bob]}\n    business_hours: {}\n", 7,
         "roles.commander: unknown key \"business_hours\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "", want[512];
        tc_roster_t *sentinel = (tc_roster_t *)&err; /* must stay untouched */
        tc_roster_t *r = sentinel;
        const char *path = s_write("bad.yaml", cases[i].text);
        int rc = tc_roster_load(path, &r, err, sizeof err);
        snprintf(want, sizeof want, "%s:%d: %s", path, cases[i].line, cases[i].msg);
        if (rc != TC_ECONFIG || strcmp(err, want) != 0)
            fail_msg("case %zu: rc %d\n got: %s\nwant: %s", i, rc, err, want);
        assert_ptr_equal(r, sentinel);
    }
    tc_roster_t *r = NULL;
    char err[512];
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing.yaml", s_dir);
    assert_int_equal(tc_roster_load(missing, &r, err, sizeof err), TC_ECONFIG);
    assert_null(r);
    assert_non_null(strstr(err, "missing.yaml: cannot open"));
}

/* Business hours per team, in the team's own fixed zone, with holidays;
 * the fallback of a chain; how many people the roster has. */
static void test_business_hours_and_fallback(void **unused)
{
    static const char text[] =
        "people:\n  alice: {}\n  bob: {}\n  carol: {}\n"
        "teams:\n"
        "  web:\n"
        "    rotation: {members: [alice, bob]}\n"
        "    fallback: carol\n"
        "    business_hours: {days: [mon, tue, wed, thu, fri], from: \"09:00\", to: \"18:00\",\n"
        "                     timezone: \"+01:00\", holidays: [2026-12-25, 2027-01-01]}\n"
        "  night:\n"
        "    rotation: {members: [bob]}\n"
        "    business_hours: {days: [sat, sun], from: \"00:00\", to: \"24:00\",\n"
        "                     timezone: \"-05:00\"}\n"
        "  plain:\n"
        "    rotation: {members: [alice]}\n"
        "roles:\n"
        "  commander: {rotation: {members: [bob]}, fallback: alice}\n"
        "  deputy: {rotation: {members: [alice]}}\n";
    char err[512] = "";
    tc_roster_t *r = NULL;
    if (tc_roster_load(s_write("hours.yaml", text), &r, err, sizeof err) != 0)
        fail_msg("load failed: %s", err);
    static const struct {
        const char *team;
        int64_t at;
        int rc;
        bool inside;
        const char *why; /* part of the description */
    } cases[] = {
        /* Thursday 2026-12-03: 08:00Z is 09:00 at +01:00, the first minute. */
        {"web", 0, 0, true,
         "Thu 3 Dec 2026 09:00 at +01:00, within business hours "
         "(mon-fri 09:00-18:00)"},
        {"web", -1, 0, false, "Thu 3 Dec 2026 08:59 at +01:00, outside"},
        {"web", 9 * 3600000LL, 0, false, "18:00"}, /* 17:00Z = 18:00 local: out */
        {"web", 9 * 3600000LL - 1, 0, true, "17:59"},
        /* Saturday, and Christmas (a Friday), are out. */
        {"web", 2 * 86400000LL + 3600000LL, 0, false, "Sat 5 Dec 2026 10:00"},
        {"web", 22 * 86400000LL + 3600000LL, 0, false,
         "Fri 25 Dec 2026 10:00 at +01:00, "
         "outside business hours (mon-fri "
         "09:00-18:00); a holiday"},
        {"web", 21 * 86400000LL + 3600000LL, 0, true, "Thu 24 Dec 2026 10:00"},
        /* A weekend team in New York's winter offset, all day. */
        {"night", 2 * 86400000LL, 0, true,
         "Sat 5 Dec 2026 03:00 at -05:00, within business "
         "hours (sat-sun 00:00-24:00)"},
        {"night", 4 * 86400000LL + 5 * 3600000LL, 0, false, "Mon 7 Dec 2026 08:00"},
        {"plain", 0, TC_ENOTFOUND, true, NULL},
        {"nobody", 0, TC_ENOTFOUND, true, NULL},
    };
    const int64_t T = s_utc(2026, 12, 3, 8, 0, 0, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool inside = true;
        char why[256] = "";
        int rc =
            tc_roster_business_hours(r, cases[i].team, T + cases[i].at, &inside, why, sizeof why);
        if (rc != cases[i].rc || (rc == 0 && inside != cases[i].inside) ||
            (cases[i].why && !strstr(why, cases[i].why)))
            fail_msg("case %zu (%s): rc %d inside %d \"%s\"", i, cases[i].team, rc, inside, why);
    }
    char out[TC_ID_MAX] = "";
    assert_int_equal(tc_roster_fallback(r, "web", NULL, out), 0);
    assert_string_equal(out, "carol");
    assert_int_equal(tc_roster_fallback(r, NULL, "commander", out), 0);
    assert_string_equal(out, "alice");
    assert_int_equal(tc_roster_fallback(r, "plain", NULL, out), TC_ENOTFOUND);
    assert_int_equal(tc_roster_fallback(r, NULL, "deputy", out), TC_ENOTFOUND);
    assert_int_equal(tc_roster_fallback(r, NULL, "scribe", out), TC_ENOTFOUND);
    assert_int_equal(tc_roster_fallback(r, "web", "commander", out), TC_EINVAL);
    assert_int_equal(tc_roster_npeople(r), 3);
    tc_roster_destroy(&r);
    tc_roster_t *empty = tc_roster_new_empty();
    assert_int_equal(tc_roster_npeople(empty), 0);
    tc_roster_destroy(&empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_business_hours_and_fallback),
        cmocka_unit_test(test_rotation_boundaries),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_escalation),
        cmocka_unit_test(test_ack_timeouts_and_people),
        cmocka_unit_test(test_next_handoff),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
