/* Unit tests for the status page's state and store (statuspage/sp_state,
 * sp_store): applying broadcasts, the shown status that never contradicts
 * an open incident, the overall indicator, component order, window
 * occurrences, uptime, and the LMDB store across a reopen and on a real
 * full disk. Rendering is in test_statuspage_site.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "sp_fixtures.h"
#include "sp_site.h"
#include "sp_state.h"
#include "sp_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static void test_external_shown_internal_ignored(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    assert_int_equal(s_apply(s, s_update(1, 7, 1, false, "investigating", "Internal", "x")),
                     TC_SP_NOTHING);
    assert_int_equal(tc_sp_state_nincidents(s), 0);
    assert_int_equal(s_apply(s, s_update(2, 7, 1, true, "investigating", "API errors", "We see")),
                     TC_SP_UPDATE);
    assert_int_equal(s_apply(s, s_update(3, 7, 2, true, "identified", "API errors", "Found")),
                     TC_SP_UPDATE);
    /* The same update again (a replay) changes nothing. */
    assert_int_equal(s_apply(s, s_update(3, 7, 2, true, "identified", "API errors", "Found")),
                     TC_SP_NOTHING);
    const tc_sp_incident_t *inc = tc_sp_state_find_incident(s, 7);
    assert_non_null(inc);
    assert_int_equal(inc->nupdates, 2);
    assert_string_equal(inc->state, "identified");
    assert_int_equal(inc->created_ms, S_T0 + 2000);
    assert_int_equal(inc->started_ms, 0); /* the updates did not say */
    assert_int_equal(inc->named, 1);
    assert_int_equal(inc->eta_ms, 0);
    /* The newest update carries the estimate. */
    tc_msg_t *m = s_update(5, 7, 3, true, "monitoring", "API errors", "Watching");
    m->u.bcast.update.started_ms = S_T0 - 60000;
    m->u.bcast.update.eta_ms = S_T0 + S_HOUR;
    s_apply(s, m);
    inc = tc_sp_state_find_incident(s, 7);
    assert_int_equal(inc->started_ms, S_T0 - 60000);
    assert_int_equal(inc->eta_ms, S_T0 + S_HOUR);
    assert_int_equal(inc->monitoring_ms, S_T0 + 5000);
    tc_sp_state_destroy(&s);
    assert_null(s);
}

static void test_resolved_only_for_public(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    assert_int_equal(s_apply(s, s_resolved(1, 9)), TC_SP_NOTHING);
    assert_int_equal(tc_sp_state_nincidents(s), 0);
    s_apply(s, s_update(2, 9, 1, true, "investigating", "Slow", "Looking"));
    assert_string_equal(tc_sp_indicator(s), "major");
    assert_int_equal(s_apply(s, s_resolved(3, 9)), TC_SP_RESOLVED);
    assert_int_equal(s_apply(s, s_resolved(4, 9)), TC_SP_NOTHING);
    assert_int_equal(tc_sp_state_find_incident(s, 9)->resolved_ms, S_T0 + 3000);
    assert_string_equal(tc_sp_indicator(s), "none");
    /* A resolved update resolves too. */
    s_apply(s, s_update(5, 10, 1, true, "resolved", "Blip", "Fixed"));
    assert_int_equal(tc_sp_state_find_incident(s, 10)->resolved_ms, S_T0 + 5000);
    tc_sp_state_destroy(&s);
}

/* The first complaint: an update published before the coordinator
 * saw an outage ("Affected: Website (Operational)") beside "All Systems
 * Operational". The shown status follows the update for as long as the
 * incident is open, whatever the coordinator says. */
static void test_shown_status_follows_open_incidents(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    s_apply(s, s_component(1, "web", TC_COMP_OPERATIONAL, S_T0));
    s_apply(s, s_component(2, "api", TC_COMP_OPERATIONAL, S_T0));
    assert_string_equal(tc_sp_indicator(s), "none");
    static const struct {
        const char *impact;
        tc_component_status_t want;
        const char *indicator;
    } cases[] = {{"none", TC_COMP_DEGRADED, "minor"},
                 {"minor", TC_COMP_DEGRADED, "minor"},
                 {"major", TC_COMP_PARTIAL_OUTAGE, "major"},
                 {"critical", TC_COMP_MAJOR_OUTAGE, "critical"},
                 {"", TC_COMP_DEGRADED, "minor"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tc_msg_t *m =
            s_update(10 + i, 5, (uint32_t)(i + 1), true, "investigating", "Web down", "Looking");
        strcpy(m->u.bcast.update.impact, cases[i].impact);
        strcpy(m->u.bcast.update.components[0].name, "web");
        m->u.bcast.update.components[0].status = TC_COMP_OPERATIONAL; /* as drafted */
        s_apply(s, m);
        assert_int_equal(tc_sp_state_find_component(s, "web")->shown, cases[i].want);
        assert_string_equal(tc_sp_indicator(s), cases[i].indicator);
    }
    /* Only the component the update names; the coordinator's own status
     * is kept as it said. */
    assert_int_equal(tc_sp_state_find_component(s, "api")->shown, TC_COMP_OPERATIONAL);
    assert_int_equal(tc_sp_state_find_component(s, "web")->c.status, TC_COMP_OPERATIONAL);
    /* A worse status from the coordinator wins over the impact's. */
    s_apply(s, s_component(20, "web", TC_COMP_MAJOR_OUTAGE, S_T0 + 20000));
    s_apply(s, s_update(21, 5, 9, true, "identified", "Web down", "Found"));
    /* That update names api (the fixture's component) with impact major:
     * the incident affects api now, not web. */
    assert_int_equal(tc_sp_state_find_component(s, "api")->shown, TC_COMP_PARTIAL_OUTAGE);
    assert_int_equal(tc_sp_state_find_component(s, "web")->shown, TC_COMP_MAJOR_OUTAGE);
    /* Resolved: back to what the coordinator says. */
    s_apply(s, s_component(22, "web", TC_COMP_OPERATIONAL, S_T0 + 22000));
    s_apply(s, s_resolved(23, 5));
    assert_int_equal(tc_sp_state_find_component(s, "api")->shown, TC_COMP_OPERATIONAL);
    assert_string_equal(tc_sp_indicator(s), "none");
    /* Every change of the shown status is in the history, for uptime. */
    const tc_sp_component_t *web = tc_sp_state_find_component(s, "web");
    assert_true(web->nhistory >= 4);
    assert_int_equal(web->history[0].status, TC_COMP_OPERATIONAL);
    assert_int_equal(web->history[1].status, TC_COMP_DEGRADED);
    assert_int_equal(web->history[1].ms, S_T0 + 10000);
    assert_int_equal(web->history[web->nhistory - 1].status, TC_COMP_OPERATIONAL);

    /* A drill never raises anything. */
    tc_msg_t *m = s_update(30, 6, 1, true, "investigating", "DRILL: drill", "Drill");
    m->u.bcast.update.drill = true;
    strcpy(m->u.bcast.update.impact, "critical");
    s_apply(s, m);
    assert_int_equal(tc_sp_state_find_component(s, "api")->shown, TC_COMP_OPERATIONAL);
    assert_string_equal(tc_sp_indicator(s), "none");
    /* An incident naming no component the page knows still counts. */
    m = s_update(31, 8, 1, true, "investigating", "Billing", "Looking");
    strcpy(m->u.bcast.update.components[0].name, "billing");
    s_apply(s, m);
    assert_string_equal(tc_sp_indicator(s), "major");
    tc_sp_state_destroy(&s);

    /* No components at all: the indicator comes from the incidents. */
    s = tc_sp_state_new();
    m = s_update(1, 3, 1, true, "investigating", "Slow", "Looking");
    m->u.bcast.update.ncomponents = 0;
    strcpy(m->u.bcast.update.impact, "minor");
    s_apply(s, m);
    assert_int_equal(tc_sp_state_find_incident(s, 3)->named, -1);
    assert_string_equal(tc_sp_indicator(s), "minor");
    tc_sp_state_destroy(&s);
}

static void test_update_status(void **unused)
{
    (void)unused;
    tc_update_t u = {.ncomponents = 1};
    strcpy(u.state, "investigating");
    strcpy(u.impact, "critical");
    u.components[0].status = TC_COMP_OPERATIONAL;
    assert_int_equal(tc_sp_update_status(&u, 0), TC_COMP_MAJOR_OUTAGE);
    strcpy(u.state, "resolved");
    assert_int_equal(tc_sp_update_status(&u, 0), TC_COMP_OPERATIONAL);
    strcpy(u.state, "in_progress");
    u.maintenance = 2;
    u.components[0].status = TC_COMP_MAINTENANCE;
    assert_int_equal(tc_sp_update_status(&u, 0), TC_COMP_MAINTENANCE);
    assert_int_equal(tc_sp_worse(TC_COMP_MAINTENANCE, TC_COMP_DEGRADED), TC_COMP_DEGRADED);
    assert_int_equal(tc_sp_worse(TC_COMP_MAINTENANCE, TC_COMP_OPERATIONAL), TC_COMP_MAINTENANCE);
    assert_int_equal(tc_sp_impact_status("maintenance"), TC_COMP_OPERATIONAL);
}

static void test_component_order(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    /* Broadcasts first (a changed component), in any order... */
    s_apply(s, s_component(1, "web", TC_COMP_DEGRADED, S_T0));
    s_apply(s, s_component(2, "zeta", TC_COMP_OPERATIONAL, S_T0));
    assert_string_equal(tc_sp_state_component(s, 0)->c.name, "web");
    /* ...then the coordinator's list says the configured order. */
    tc_component_t list[] = {{.name = "api", .description = "Public API"},
                             {.name = "db", .description = "Database"},
                             {.name = "web", .description = "Website"}};
    for (uint32_t i = 0; i < 3; i++) {
        tc_sp_applied_t a;
        assert_int_equal(tc_sp_state_merge_component(s, &list[i], i + 1, S_T0 + 5, &a), 0);
    }
    static const char *const want[] = {"api", "db", "web", "zeta"};
    assert_int_equal(tc_sp_state_ncomponents(s), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(tc_sp_state_component(s, i)->c.name, want[i]);
    assert_int_equal(tc_sp_state_find_component(s, "web")->position, 3);
    assert_int_equal(tc_sp_state_find_component(s, "zeta")->position, 0);
    /* The list's snapshot of web is older than its broadcast: kept. */
    assert_int_equal(tc_sp_state_find_component(s, "web")->c.status, TC_COMP_DEGRADED);
    /* A reordered configuration reorders the page. */
    tc_sp_applied_t a;
    assert_int_equal(tc_sp_state_merge_component(s, &list[0], 3, S_T0 + 6, &a), 0);
    assert_int_equal(a.kind, TC_SP_COMPONENT);
    assert_int_equal(tc_sp_state_merge_component(s, &list[2], 1, S_T0 + 6, &a), 0);
    assert_string_equal(tc_sp_state_component(s, 0)->c.name, "web");
    assert_string_equal(tc_sp_state_component(s, 2)->c.name, "api");
    tc_sp_state_destroy(&s);
}

static void test_window_occurrences(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    int64_t start1 = S_T0 + S_DAY, start2 = start1 + 7 * S_DAY;
    /* The coordinator announces before it broadcasts the window. */
    assert_int_equal(s_apply(s, s_window_update(1, 4, 1, "scheduled", start1, "Announced")),
                     TC_SP_UPDATE);
    assert_int_equal(s_apply(s, s_window(2, 4, TC_MAINT_SCHEDULED)), TC_SP_MAINT);
    assert_int_equal(s_apply(s, s_window(2, 4, TC_MAINT_SCHEDULED)), TC_SP_NOTHING);
    assert_int_equal(tc_sp_state_nmaints(s), 1);
    assert_int_equal(tc_sp_state_maint(s, 0)->nupdates, 1);
    assert_string_equal(tc_sp_indicator(s), "none");
    s_apply(s, s_window_update(3, 4, 2, "in_progress", start1, "Started"));
    s_apply(s, s_window(4, 4, TC_MAINT_IN_PROGRESS));
    assert_string_equal(tc_sp_indicator(s), "maintenance");
    s_apply(s, s_window_update(5, 4, 4, "completed", start1, "Done"));
    s_apply(s, s_window(6, 4, TC_MAINT_COMPLETED));
    const tc_sp_maint_t *w1 = tc_sp_state_find_maint(s, 4, 1);
    assert_int_equal(w1->closed_ms, S_T0 + 6000);
    assert_string_equal(tc_sp_indicator(s), "none");
    /* A recurring window's next occurrence: its own entry and updates. */
    s_apply(s, s_window_update(7, 4, 5, "scheduled", start2, "Next week"));
    tc_msg_t *m = s_window(8, 4, TC_MAINT_SCHEDULED);
    m->u.bcast.maint.occurrence = 2;
    m->u.bcast.maint.start_ms = start2;
    m->u.bcast.maint.end_ms = start2 + 2 * S_HOUR;
    s_apply(s, m);
    assert_int_equal(tc_sp_state_nmaints(s), 2);
    w1 = tc_sp_state_find_maint(s, 4, 1);
    const tc_sp_maint_t *w2 = tc_sp_state_find_maint(s, 4, 2);
    assert_int_equal(w1->w.state, TC_MAINT_COMPLETED);
    assert_int_equal(w1->nupdates, 3);
    assert_int_equal(w2->nupdates, 1);
    assert_string_equal(w2->updates[0].body, "Next week");
    assert_int_equal(w2->closed_ms, 0);
    /* An update without a start is placed by its number. */
    tc_msg_t *u = s_window_update(9, 4, 6, "in_progress", 0, "Second run started");
    s_apply(s, u);
    assert_int_equal(tc_sp_state_find_maint(s, 4, 2)->nupdates, 2);
    tc_sp_state_destroy(&s);
}

static void test_uptime(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    /* Operational from midnight, major outage 06:00-12:00, partial outage
     * 12:00-18:00, operational again. */
    s_apply(s, s_component(1, "api", TC_COMP_OPERATIONAL, S_T0));
    s_apply(s, s_component(2, "api", TC_COMP_MAJOR_OUTAGE, S_T0 + 6 * S_HOUR));
    s_apply(s, s_component(3, "api", TC_COMP_PARTIAL_OUTAGE, S_T0 + 12 * S_HOUR));
    s_apply(s, s_component(4, "api", TC_COMP_OPERATIONAL, S_T0 + 18 * S_HOUR));
    /* An older report does not go back in time. */
    assert_int_equal(s_apply(s, s_component(5, "api", TC_COMP_MAJOR_OUTAGE, S_T0)), TC_SP_NOTHING);
    const tc_sp_component_t *c = tc_sp_state_find_component(s, "api");
    assert_int_equal(c->nhistory, 4);
    assert_int_equal(c->c.status, TC_COMP_OPERATIONAL);
    int64_t known;
    double up = tc_sp_uptime(c, S_T0, S_T0 + S_DAY, &known);
    assert_int_equal(known, S_DAY);
    /* 6 h fully down + 6 h at 30%: 1 - (6 + 1.8) / 24. */
    assert_true(up > 0.6749 && up < 0.6751);
    assert_true(tc_sp_uptime(c, S_T0 + S_DAY, S_T0 + 2 * S_DAY, NULL) == 1.0);
    assert_true(tc_sp_uptime(c, S_T0 - S_DAY, S_T0, &known) < 0);
    assert_int_equal(known, 0);
    up = tc_sp_uptime(c, S_T0 - 12 * S_HOUR, S_T0 + 6 * S_HOUR, &known);
    assert_int_equal(known, 6 * S_HOUR);
    assert_true(up == 1.0);
    tc_sp_state_destroy(&s);
}

/* ---- the store ------------------------------------------------------------- */

static char *s_tmpdir(void)
{
    char tmpl[] = "/tmp/test_statuspage.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void s_rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static tc_sp_store_t *s_open(const char *dir)
{
    tc_sp_store_t *st = NULL;
    char why[512];
    int rc = tc_sp_store_open(dir, &st, why, sizeof why);
    if (rc)
        fail_msg("open %s: %s", dir, why);
    return st;
}

static void s_same_site(const tc_sp_state_t *a, const tc_sp_state_t *b, int64_t now)
{
    tc_sp_page_t page = {.title = "S", .url = "http://x/", .now_ms = now, .stale_ms = 1000};
    tc_json_t *ja = tc_json_new(), *jb = tc_json_new();
    tc_sp_render_json(ja, a, &page, true);
    tc_sp_render_json(jb, b, &page, true);
    assert_string_equal(tc_json_data(ja), tc_json_data(jb));
    tc_json_destroy(&ja);
    tc_json_destroy(&jb);
    char *ha = s_render(tc_sp_render_index, a, &page);
    char *hb = s_render(tc_sp_render_index, b, &page);
    assert_string_equal(ha, hb);
    free(ha);
    free(hb);
}

static void test_store_persists(void **unused)
{
    (void)unused;
    char *dir = s_tmpdir();
    tc_sp_store_t *st = s_open(dir);
    /* One process per directory. */
    tc_sp_store_t *other = NULL;
    char why[512];
    assert_int_equal(tc_sp_store_open(dir, &other, why, sizeof why), TC_ECONFIG);
    s_has(why, "in use by another process");
    tc_sp_state_t *s = tc_sp_state_new();
    assert_int_equal(tc_sp_store_load(st, s), 0);
    assert_int_equal(tc_sp_state_cursor(s), 0);
    tc_msg_t *msgs[] = {
        s_component(1, "web", TC_COMP_OPERATIONAL, S_T0),
        s_component(2, "api", TC_COMP_OPERATIONAL, S_T0),
        s_update(3, 5, 1, true, "investigating", "Errors", "One"),
        s_component(4, "api", TC_COMP_MAJOR_OUTAGE, S_T0 + S_HOUR),
        s_update(5, 5, 2, false, "identified", "Errors", "Internal"),
        s_update(6, 5, 2, true, "identified", "Errors", "Two"),
        s_window_update(7, 3, 1, "scheduled", S_T0 + S_DAY, "Announced"),
        s_window(8, 3, TC_MAINT_SCHEDULED),
        s_update(9, 8, 1, true, "investigating", "Other", "Three"),
        s_resolved(10, 8),
        s_component(11, "api", TC_COMP_OPERATIONAL, S_T0 + 2 * S_HOUR),
    };
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
        bool changed;
        assert_int_equal(tc_sp_store_apply(st, s, msgs[i], S_T0 + (int64_t)i, &changed), 0);
        assert_int_equal(changed, i != 4);
        free(msgs[i]);
    }
    /* The configured order puts api first, though web came first. */
    tc_component_t list[] = {{.name = "api", .description = "Public API"},
                             {.name = "web", .description = "Website"},
                             {.name = "db", .description = "Database"}};
    bool changed;
    assert_int_equal(tc_sp_store_merge_components(st, s, list, 3, S_T0 + 100, &changed), 0);
    assert_true(changed);
    assert_int_equal(tc_sp_store_save_contact(st, S_T0 + 200), 0);
    tc_sp_store_destroy(&st);
    assert_null(st);

    st = s_open(dir);
    tc_sp_state_t *r = tc_sp_state_new();
    assert_int_equal(tc_sp_store_load(st, r), 0);
    assert_int_equal(tc_sp_state_cursor(r), 11);
    assert_int_equal(tc_sp_state_contact(r), S_T0 + 200);
    assert_int_equal(tc_sp_state_ncomponents(r), 3);
    static const char *const order[] = {"api", "web", "db"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(tc_sp_state_component(r, i)->c.name, order[i]);
    const tc_sp_component_t *api = tc_sp_state_find_component(r, "api");
    const tc_sp_component_t *live = tc_sp_state_find_component(s, "api");
    /* The history of the shown status, change for change: the incident
     * raised api before the coordinator did. */
    assert_int_equal(api->nhistory, live->nhistory);
    for (size_t i = 0; i < api->nhistory; i++) {
        assert_int_equal(api->history[i].status, live->history[i].status);
        assert_int_equal(api->history[i].ms, live->history[i].ms);
    }
    assert_int_equal(api->history[1].status, TC_COMP_PARTIAL_OUTAGE);
    assert_int_equal(api->history[1].ms, S_T0 + 3000);
    assert_int_equal(api->shown, live->shown);
    assert_string_equal(api->c.description, "Public API");
    const tc_sp_incident_t *i5 = tc_sp_state_find_incident(r, 5);
    assert_int_equal(i5->nupdates, 2);
    assert_string_equal(i5->updates[1].body, "Two");
    assert_int_equal(tc_sp_state_find_incident(r, 8)->resolved_ms, S_T0 + 10000);
    assert_int_equal(tc_sp_state_nmaints(r), 1);
    assert_int_equal(tc_sp_state_find_maint(r, 3, 1)->nupdates, 1);
    /* The reloaded state renders exactly like the live one. */
    tc_sp_state_set_contact(s, S_T0 + 200);
    s_same_site(s, r, S_T0 + S_DAY);
    tc_sp_state_destroy(&r);
    tc_sp_state_destroy(&s);
    tc_sp_store_destroy(&st);
    s_rm_rf(dir);
    free(dir);
}

/* A real full disk (a small tmpfs, when this process may mount one): the
 * write fails naming the disk, nothing on disk changes, a fresh load gives
 * the last state written, and once there is room again writing works
 * without reopening by hand. */
static void test_store_disk_full(void **unused)
{
    (void)unused;
    char *dir = s_tmpdir();
    if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") != 0) {
        fprintf(stderr, "cannot mount a tmpfs (%s); skipping\n", strerror(errno));
        s_rm_rf(dir);
        free(dir);
        skip();
    }
    tc_sp_store_t *st = s_open(dir);
    tc_sp_state_t *s = tc_sp_state_new();
    assert_int_equal(tc_sp_store_load(st, s), 0);
    bool changed;
    tc_msg_t *m = s_update(1, 5, 1, true, "investigating", "Errors", "Kept");
    assert_int_equal(tc_sp_store_apply(st, s, m, S_T0, &changed), 0);
    free(m);
    int rc = 0;
    uint64_t seq = 2;
    char big[TC_BODY_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (; seq < 2000 && rc == 0; seq++) {
        m = s_update(seq, 6, (uint32_t)seq, true, "investigating", "Filler", big);
        rc = tc_sp_store_apply(st, s, m, S_T0, &changed);
        free(m);
    }
    assert_int_equal(rc, TC_EDISKFULL);
    s_has(tc_sp_store_why(st), "disk full at /tmp/test_statuspage.");
    uint64_t failed = seq - 1;
    /* What is on disk ends before the failed broadcast. */
    tc_sp_state_t *r = tc_sp_state_new();
    assert_int_equal(tc_sp_store_load(st, r), 0);
    assert_int_equal(tc_sp_state_cursor(r), failed - 1);
    assert_string_equal(tc_sp_state_find_incident(r, 5)->updates[0].body, "Kept");
    /* Room again: the same broadcast goes in. */
    assert_int_equal(mount("tmpfs", dir, "tmpfs", MS_REMOUNT, "size=64m"), 0);
    m = s_update(failed, 6, (uint32_t)failed, true, "investigating", "Filler", big);
    assert_int_equal(tc_sp_store_apply(st, r, m, S_T0, &changed), 0);
    free(m);
    assert_int_equal(tc_sp_state_cursor(r), failed);
    tc_sp_state_destroy(&r);
    tc_sp_state_destroy(&s);
    tc_sp_store_destroy(&st);
    umount2(dir, MNT_DETACH);
    s_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_shown_internal_ignored),
        cmocka_unit_test(test_resolved_only_for_public),
        cmocka_unit_test(test_shown_status_follows_open_incidents),
        cmocka_unit_test(test_update_status),
        cmocka_unit_test(test_component_order),
        cmocka_unit_test(test_window_occurrences),
        cmocka_unit_test(test_uptime),
        cmocka_unit_test(test_store_persists),
        cmocka_unit_test(test_store_disk_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
