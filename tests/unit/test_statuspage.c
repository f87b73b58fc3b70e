/* Unit tests for the status page (statuspage/): applying broadcasts to its
 * state, uptime, escaping, the JSON and Atom it writes, atomic files, the
 * LMDB store across a reopen, and the HTTP path rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "json_check.h"
#include "sp_http.h"
#include "sp_site.h"
#include "sp_state.h"
#include "sp_store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_T0 1795478400000LL /* 2026-11-24T00:00:00Z */
#define S_HOUR 3600000LL
#define S_DAY (24 * S_HOUR)

static tc_msg_t *s_msg(uint64_t seq, tc_bcast_kind_t kind, const char *topic)
{
    tc_msg_t *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->version = 1;
    strcpy(m->sender, "coordinator");
    m->seq = seq;
    m->time_ms = S_T0 + (int64_t)seq * 1000;
    m->kind = TC_MSG_BROADCAST;
    m->u.bcast.kind = kind;
    snprintf(m->u.bcast.topic, sizeof m->u.bcast.topic, "%s", topic);
    return m;
}

static tc_msg_t *s_update(uint64_t seq, uint64_t incident, uint32_t number, bool external,
                          const char *state, const char *title, const char *body)
{
    tc_msg_t *m =
        s_msg(seq, TC_BCAST_STATUS_UPDATE, external ? "status.external" : "status.internal");
    tc_update_t *u = &m->u.bcast.update;
    u->incident = incident;
    u->number = number;
    u->external = external;
    strcpy(u->scenario, "outage");
    snprintf(u->state, sizeof u->state, "%s", state);
    snprintf(u->title, sizeof u->title, "%s", title);
    snprintf(u->body, sizeof u->body, "%s", body);
    strcpy(u->impact, "major");
    u->status = TC_UPD_PUBLISHED;
    u->published_ms = m->time_ms;
    u->ncomponents = 1;
    strcpy(u->components[0].name, "api");
    u->components[0].status = TC_COMP_PARTIAL_OUTAGE;
    return m;
}

static tc_msg_t *s_component(uint64_t seq, const char *name, tc_component_status_t st,
                             int64_t changed)
{
    tc_msg_t *m = s_msg(seq, TC_BCAST_COMPONENT, "component.updated");
    tc_component_t *c = &m->u.bcast.component;
    snprintf(c->name, sizeof c->name, "%s", name);
    strcpy(c->description, "Public API");
    c->status = c->derived = st;
    c->changed_ms = changed;
    return m;
}

static tc_msg_t *s_resolved(uint64_t seq, uint64_t id)
{
    tc_msg_t *m = s_msg(seq, TC_BCAST_INCIDENT_RESOLVED, "incident.resolved");
    m->u.bcast.incident.id = id;
    m->u.bcast.incident.resolved_ms = m->time_ms;
    strcpy(m->u.bcast.incident.summary, "db-01 disk full SECRET");
    return m;
}

static tc_msg_t *s_window(uint64_t seq, uint64_t id, tc_maint_state_t st)
{
    tc_msg_t *m = s_msg(seq, TC_BCAST_MAINTENANCE, "maintenance.updated");
    tc_maintenance_t *w = &m->u.bcast.maint;
    w->id = id;
    strcpy(w->title, "Database upgrade");
    w->state = st;
    w->start_ms = S_T0 + S_DAY;
    w->end_ms = S_T0 + S_DAY + 2 * S_HOUR;
    w->ncomponents = 1;
    strcpy(w->components[0], "api");
    strcpy(w->description, "The API may be slow.");
    w->created_ms = S_T0;
    return m;
}

/* Applies and frees `m`; returns what changed. */
static tc_sp_change_kind_t s_apply(tc_sp_state_t *s, tc_msg_t *m)
{
    tc_sp_applied_t a;
    assert_int_equal(tc_sp_state_apply(s, m, &a), 0);
    free(m);
    return a.kind;
}

/* Renders with `fn` into a string the caller frees. */
static char *s_index(const tc_sp_state_t *s, int64_t now, int64_t contact_age)
{
    (void)contact_age;
    tc_sp_page_t page = {.title = "Acme <Status>", .url = "", .now_ms = now, .stale_ms = 60000};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(tc_sp_render_index(f, s, &page), 0);
    fclose(f);
    return buf;
}

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
    assert_int_equal(tc_sp_state_nincidents(s), 1);
    const tc_sp_incident_t *inc = tc_sp_state_find_incident(s, 7);
    assert_non_null(inc);
    assert_int_equal(inc->nupdates, 2);
    assert_string_equal(inc->state, "identified");
    assert_int_equal(inc->created_ms, S_T0 + 2000);
    assert_int_equal(inc->started_ms, 0); /* the updates did not say */
    assert_int_equal(inc->resolved_ms, 0);
    assert_string_equal(tc_sp_indicator(s), "major");

    char *html = s_index(s, S_T0 + 10000, 0);
    assert_non_null(strstr(html, "API errors"));
    assert_null(strstr(html, "Internal"));
    /* Newest first. */
    assert_true(strstr(html, "Found") < strstr(html, "We see"));
    /* The coordinator says when the incident began: that is its start. */
    tc_msg_t *m = s_update(5, 7, 3, true, "monitoring", "API errors", "Watching");
    m->u.bcast.update.started_ms = S_T0 - 60000;
    s_apply(s, m);
    assert_int_equal(tc_sp_state_find_incident(s, 7)->started_ms, S_T0 - 60000);
    /* Components unknown to the page are named as the update names them... */
    assert_non_null(strstr(html, "Affected: api ("));
    free(html);
    /* ... and once known, by the name customers know. */
    s_apply(s, s_component(4, "api", TC_COMP_PARTIAL_OUTAGE, S_T0 + 3000));
    html = s_index(s, S_T0 + 10000, 0);
    assert_non_null(strstr(html, "Affected: Public API ("));
    free(html);
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
    assert_int_equal(s_apply(s, s_resolved(3, 9)), TC_SP_RESOLVED);
    assert_int_equal(s_apply(s, s_resolved(4, 9)), TC_SP_NOTHING);
    const tc_sp_incident_t *inc = tc_sp_state_find_incident(s, 9);
    assert_int_equal(inc->resolved_ms, S_T0 + 3000);
    assert_string_equal(tc_sp_indicator(s), "none");
    char *html = s_index(s, S_T0 + 10000, 0);
    assert_null(strstr(html, "SECRET"));
    assert_non_null(strstr(html, "Past incidents"));
    assert_null(strstr(html, "Active incidents"));
    free(html);
    /* A resolved update resolves too. */
    s_apply(s, s_update(5, 10, 1, true, "resolved", "Blip", "Fixed"));
    assert_int_equal(tc_sp_state_find_incident(s, 10)->resolved_ms, S_T0 + 5000);
    tc_sp_state_destroy(&s);
}

static void test_drill_marked_not_alarming(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    tc_msg_t *m = s_update(1, 3, 1, true, "investigating", "Checkout down", "Drill text");
    m->u.bcast.update.drill = true;
    strcpy(m->u.bcast.update.impact, "critical");
    s_apply(s, m);
    assert_true(tc_sp_state_find_incident(s, 3)->drill);
    assert_string_equal(tc_sp_indicator(s), "none");
    char *html = s_index(s, S_T0 + 10000, 0);
    assert_non_null(strstr(html, "[DRILL] Checkout down"));
    assert_non_null(strstr(html, "All Systems Operational"));
    free(html);
    tc_sp_page_t page = {.title = "S", .url = "", .now_ms = S_T0, .stale_ms = 1000};
    tc_json_t *j = tc_json_new();
    tc_sp_render_json(j, s, &page, true);
    assert_non_null(strstr(tc_json_data(j), "\"name\":\"[DRILL] Checkout down\""));
    tc_json_destroy(&j);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(tc_sp_render_atom(f, s, &page), 0);
    fclose(f);
    assert_non_null(strstr(buf, "<title>[DRILL] Checkout down - Investigating</title>"));
    free(buf);
    tc_sp_state_destroy(&s);
}

static void test_maintenance(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    assert_int_equal(s_apply(s, s_window(1, 4, TC_MAINT_SCHEDULED)), TC_SP_MAINT);
    assert_int_equal(s_apply(s, s_window(1, 4, TC_MAINT_SCHEDULED)), TC_SP_NOTHING);
    assert_string_equal(tc_sp_indicator(s), "none");
    tc_msg_t *u = s_update(2, 0, 1, true, "scheduled", "Database upgrade", "Announced");
    u->u.bcast.update.maintenance = 4;
    assert_int_equal(s_apply(s, u), TC_SP_UPDATE);
    assert_int_equal(tc_sp_state_nincidents(s), 0);
    assert_int_equal(tc_sp_state_maint(s, 0)->nupdates, 1);
    char *html = s_index(s, S_T0, 0);
    assert_non_null(strstr(html, "Scheduled maintenance"));
    assert_non_null(strstr(html, "Database upgrade"));
    free(html);
    s_apply(s, s_window(3, 4, TC_MAINT_IN_PROGRESS));
    assert_string_equal(tc_sp_indicator(s), "maintenance");
    s_apply(s, s_window(4, 4, TC_MAINT_COMPLETED));
    assert_string_equal(tc_sp_indicator(s), "none");
    html = s_index(s, S_T0, 0);
    assert_null(strstr(html, "Scheduled maintenance"));
    free(html);
    tc_sp_state_destroy(&s);
}

static void test_components_and_uptime(void **unused)
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
    /* The day before the first status is unknown; the next day half known. */
    up = tc_sp_uptime(c, S_T0 - 12 * S_HOUR, S_T0 + 6 * S_HOUR, &known);
    assert_int_equal(known, 6 * S_HOUR);
    assert_true(up == 1.0);

    /* The API's list adds a component that never changed. */
    tc_component_t db = {.name = "db", .description = "Database"};
    tc_sp_applied_t a;
    assert_int_equal(tc_sp_state_merge_component(s, &db, S_T0 + 5, &a), 0);
    assert_int_equal(a.kind, TC_SP_COMPONENT);
    assert_int_equal(tc_sp_state_ncomponents(s), 2);
    s_apply(s, s_component(6, "db", TC_COMP_MAJOR_OUTAGE, S_T0 + 20 * S_HOUR));
    assert_string_equal(tc_sp_indicator(s), "critical");

    char *html = s_index(s, S_T0 + 2 * S_DAY, 0);
    assert_non_null(strstr(html, "Major outage"));
    assert_non_null(strstr(html, "title=\"2026-11-24: 67.50% uptime\""));
    assert_non_null(strstr(html, "no data"));
    free(html);
    tc_sp_state_destroy(&s);
}

static void test_escape(void **unused)
{
    (void)unused;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tc_sp_escape(f, "<script>alert(\"x\" & 'y')</script>\x01\x1b[31m\nok\xff");
    tc_sp_escape(f, NULL);
    fclose(f);
    assert_string_equal(buf, "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
                             "[31m\nok\xef\xbf\xbd");
    free(buf);

    tc_sp_state_t *s = tc_sp_state_new();
    s_apply(s, s_update(1, 1, 1, true, "investigating", "<b>bold</b>", "<img src=x onerror=1>"));
    char *html = s_index(s, S_T0, 0);
    assert_null(strstr(html, "<b>bold"));
    assert_null(strstr(html, "<img"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=1&gt;"));
    assert_non_null(strstr(html, "<title>Acme &lt;Status&gt;</title>"));
    free(html);
    tc_sp_state_destroy(&s);
}

static void test_json_shape(void **unused)
{
    (void)unused;
    assert_true(s_json_valid("{\"a\":[1,2.5,{\"b\":null}],\"c\":\"\\u0041\"}"));
    assert_false(s_json_valid("{\"a\":}"));
    tc_sp_state_t *s = tc_sp_state_new();
    s_apply(s, s_component(1, "api", TC_COMP_PARTIAL_OUTAGE, S_T0));
    s_apply(s, s_update(2, 5, 1, true, "investigating", "Errors \"quoted\"", "Line\nbreak\t"));
    s_apply(s, s_window(3, 2, TC_MAINT_SCHEDULED));
    s_apply(s, s_update(4, 6, 1, true, "resolved", "Old", "Done"));
    tc_sp_state_set_contact(s, S_T0 + 4000);
    tc_sp_state_set_cursor(s, 4);
    tc_sp_page_t page = {
        .title = "Acme", .url = "http://x/", .now_ms = S_T0 + 5000, .stale_ms = 60000};
    tc_json_t *j = tc_json_new();
    tc_sp_render_json(j, s, &page, true);
    assert_int_equal(tc_json_error(j), 0);
    const char *d = tc_json_data(j);
    assert_true(s_json_valid(d));
    static const char *const keys[] = {
        "\"page\":{\"id\":\"tocsin\",\"name\":\"Acme\",\"url\":\"http://x/\",\"time_zone\"",
        "\"stale\":false",
        "\"last_contact_at\":\"2026-11-24T00:00:04.000Z\"",
        "\"status\":{\"indicator\":\"major\",\"description\":\"Partial System Outage\"}",
        "\"components\":[{\"id\":\"api\"",
        "\"only_show_if_degraded\":false",
        "\"incidents\":[{\"id\":\"5\"",
        "\"incident_updates\":[{\"id\":\"5-1\"",
        "\"affected_components\":[{\"code\":\"api\",\"name\":\"api\",\"old_status\":"
        "\"operational\",\"new_status\":\"partial_outage\"}]",
        "\"shortlink\":\"http://x/incidents/5.html\"",
        "\"scheduled_maintenances\":[{\"id\":\"m2\"",
        "\"scheduled_for\":\"2026-11-25T00:00:00.000Z\"",
        "\"status\":\"scheduled\""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strstr(d, keys[i]))
            fail_msg("summary.json lacks %s in %s", keys[i], d);
    /* Only unresolved incidents. */
    assert_null(strstr(d, "\"id\":\"6\""));
    tc_sp_render_json(j, s, &page, false);
    assert_true(s_json_valid(tc_json_data(j)));
    assert_null(strstr(tc_json_data(j), "components"));
    /* Stale after the threshold. */
    page.now_ms = S_T0 + 4000 + 60001;
    tc_sp_render_json(j, s, &page, false);
    assert_non_null(strstr(tc_json_data(j), "\"stale\":true"));
    tc_json_destroy(&j);
    tc_sp_state_destroy(&s);
}

static void test_stale_banner(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    tc_sp_state_set_contact(s, S_T0);
    char *html = s_index(s, S_T0 + 1000, 0);
    assert_null(strstr(html, "Status may be out of date"));
    assert_non_null(strstr(html, "Last updated from the coordinator: <time"));
    free(html);
    html = s_index(s, S_T0 + 61000, 0);
    assert_non_null(strstr(html, "Status may be out of date: no contact with the monitoring "
                                 "system since <time datetime=\"2026-11-24T00:00:00.000Z\">"));
    free(html);
    tc_sp_state_destroy(&s);
}

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

static size_t s_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_atomic_write(void **unused)
{
    (void)unused;
    char *dir = s_tmpdir();
    assert_int_equal(tc_sp_write_atomic(dir, "a/b/c.json", "{}", 2), 0);
    assert_int_equal(tc_sp_write_atomic(dir, "a/b/c.json", "{\"x\":1}", 7), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/a/b", dir);
    assert_int_equal(s_count_entries(path), 1);
    snprintf(path, sizeof path, "%s/a/b/c.json", dir);
    FILE *f = fopen(path, "r");
    char buf[16] = {0};
    assert_int_equal(fread(buf, 1, sizeof buf, f), 7);
    fclose(f);
    assert_string_equal(buf, "{\"x\":1}");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(tc_sp_write_atomic(dir, "../evil", "x", 1), TC_EINVAL);
    assert_int_equal(tc_sp_write_atomic(dir, "/abs", "x", 1), TC_EINVAL);

    /* The whole site, twice: only the expected files, no temporaries. */
    tc_sp_state_t *s = tc_sp_state_new();
    s_apply(s, s_update(1, 5, 1, true, "investigating", "Errors", "Body"));
    tc_sp_page_t page = {.title = "S", .url = "", .now_ms = S_T0, .stale_ms = 1000};
    assert_int_equal(tc_sp_site_write(dir, s, &page), 0);
    assert_int_equal(tc_sp_site_write(dir, s, &page), 0);
    assert_int_equal(s_count_entries(dir), 5); /* a, index, incidents, api, history.atom */
    snprintf(path, sizeof path, "%s/incidents", dir);
    assert_int_equal(s_count_entries(path), 1);
    snprintf(path, sizeof path, "%s/api/v2", dir);
    assert_int_equal(s_count_entries(path), 2);
    tc_sp_state_destroy(&s);
    s_rm_rf(dir);
    free(dir);
}

static void test_store_persists(void **unused)
{
    (void)unused;
    char *dir = s_tmpdir();
    tc_sp_store_t *st = NULL;
    assert_int_equal(tc_sp_store_open(dir, &st), 0);
    tc_sp_state_t *s = tc_sp_state_new();
    assert_int_equal(tc_sp_store_load(st, s), 0);
    assert_int_equal(tc_sp_state_cursor(s), 0);
    tc_msg_t *msgs[] = {
        s_component(1, "api", TC_COMP_OPERATIONAL, S_T0),
        s_update(2, 5, 1, true, "investigating", "Errors", "One"),
        s_component(3, "api", TC_COMP_MAJOR_OUTAGE, S_T0 + S_HOUR),
        s_update(4, 5, 2, false, "identified", "Errors", "Internal"),
        s_update(5, 5, 2, true, "identified", "Errors", "Two"),
        s_window(6, 3, TC_MAINT_SCHEDULED),
        s_update(7, 8, 1, true, "investigating", "Other", "Three"),
        s_resolved(8, 8),
        s_component(9, "api", TC_COMP_OPERATIONAL, S_T0 + 2 * S_HOUR),
    };
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
        bool changed;
        assert_int_equal(tc_sp_store_apply(st, s, msgs[i], S_T0 + (int64_t)i, &changed), 0);
        assert_int_equal(changed, i != 3);
        free(msgs[i]);
    }
    tc_component_t db = {.name = "db", .description = "Database"};
    bool changed;
    assert_int_equal(tc_sp_store_merge_components(st, s, &db, 1, S_T0 + 100, &changed), 0);
    assert_true(changed);
    assert_int_equal(tc_sp_store_save_contact(st, S_T0 + 200), 0);
    tc_sp_store_destroy(&st);
    assert_null(st);

    assert_int_equal(tc_sp_store_open(dir, &st), 0);
    tc_sp_state_t *r = tc_sp_state_new();
    assert_int_equal(tc_sp_store_load(st, r), 0);
    assert_int_equal(tc_sp_state_cursor(r), 9);
    assert_int_equal(tc_sp_state_contact(r), S_T0 + 200);
    assert_int_equal(tc_sp_state_ncomponents(r), 2);
    const tc_sp_component_t *api = tc_sp_state_find_component(r, "api");
    assert_int_equal(api->nhistory, 3);
    assert_int_equal(api->history[1].status, TC_COMP_MAJOR_OUTAGE);
    assert_int_equal(api->history[1].ms, S_T0 + S_HOUR);
    assert_string_equal(api->c.description, "Public API");
    assert_string_equal(tc_sp_state_find_component(r, "db")->c.description, "Database");
    assert_int_equal(tc_sp_state_nincidents(r), 2);
    const tc_sp_incident_t *i5 = tc_sp_state_find_incident(r, 5);
    assert_int_equal(i5->nupdates, 2);
    assert_string_equal(i5->updates[1].body, "Two");
    assert_int_equal(tc_sp_state_find_incident(r, 8)->resolved_ms, S_T0 + 8000);
    assert_int_equal(tc_sp_state_nmaints(r), 1);
    /* The reloaded state renders exactly like the live one. */
    tc_sp_state_set_contact(s, S_T0 + 200);
    tc_sp_page_t page = {.title = "S", .url = "", .now_ms = S_T0 + S_DAY, .stale_ms = 1000};
    tc_json_t *a = tc_json_new(), *b = tc_json_new();
    tc_sp_render_json(a, s, &page, true);
    tc_sp_render_json(b, r, &page, true);
    assert_string_equal(tc_json_data(a), tc_json_data(b));
    tc_json_destroy(&a);
    tc_json_destroy(&b);
    tc_sp_state_destroy(&r);
    tc_sp_state_destroy(&s);
    tc_sp_store_destroy(&st);
    s_rm_rf(dir);
    free(dir);
}

static void test_http_rules(void **unused)
{
    (void)unused;
    char rel[256];
    assert_true(tc_sp_http_map("/", rel, sizeof rel));
    assert_string_equal(rel, "index.html");
    assert_true(tc_sp_http_map("/api/v2/summary.json", rel, sizeof rel));
    assert_string_equal(rel, "api/v2/summary.json");
    static const char *const bad[] = {
        "/../etc/passwd", "/incidents/../../x", "//etc/passwd", "/.index.html.tmp-abc",
        "/a\\b",          "relative",           "/api/",        "/./index.html"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (tc_sp_http_map(bad[i], rel, sizeof rel))
            fail_msg("%s was accepted", bad[i]);
    assert_string_equal(tc_sp_http_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(tc_sp_http_content_type("history.atom"), "application/atom+xml");
    assert_string_equal(tc_sp_http_content_type("api/v2/status.json"), "application/json");
    assert_string_equal(tc_sp_http_content_type("x.css"), "text/css; charset=utf-8");
    assert_int_equal(tc_sp_http_addr_valid("127.0.0.1:7404"), 0);
    assert_int_equal(tc_sp_http_addr_valid("[::1]:7404"), 0);
    assert_int_equal(tc_sp_http_addr_valid("localhost:7404"), TC_EINVAL);
    assert_int_equal(tc_sp_http_addr_valid("127.0.0.1"), TC_EINVAL);
    assert_int_equal(tc_sp_http_addr_valid("127.0.0.1:99999"), TC_EINVAL);
}

static void test_atom_order_and_limit(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    for (uint32_t n = 1; n <= 60; n++)
        s_apply(s, s_update(n, 1 + n % 3, n, true, "investigating", "T & co", "B"));
    tc_sp_page_t page = {.title = "S", .url = "http://x/", .now_ms = S_T0, .stale_ms = 1000};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(tc_sp_render_atom(f, s, &page), 0);
    fclose(f);
    size_t entries = 0;
    for (const char *p = buf; (p = strstr(p, "<entry>")); p++)
        entries++;
    assert_int_equal(entries, 50);
    assert_non_null(strstr(buf, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
    /* The newest (number 60, incident 1) first. */
    const char *first = strstr(buf, "<entry>");
    assert_true(strstr(first, "incident-1-update-60") < strstr(first, "update-59"));
    assert_non_null(strstr(buf, "<title>T &amp; co - Investigating</title>"));
    assert_null(strstr(buf, "update-10<"));
    free(buf);
    tc_sp_state_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_shown_internal_ignored),
        cmocka_unit_test(test_resolved_only_for_public),
        cmocka_unit_test(test_drill_marked_not_alarming),
        cmocka_unit_test(test_maintenance),
        cmocka_unit_test(test_components_and_uptime),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_stale_banner),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_store_persists),
        cmocka_unit_test(test_http_rules),
        cmocka_unit_test(test_atom_order_and_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
