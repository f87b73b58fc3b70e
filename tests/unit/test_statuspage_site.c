/* Unit tests for the status site (statuspage/sp_site, sp_html, sp_json,
 * sp_atom, sp_errpages, sp_http): what customers read (overall status
 * consistent with every card, display names, human times, one Next update,
 * folded updates, DRILL once, the footer), the JSON against its documented
 * fields, banner.json, the Atom ids, the error pages, escaping, atomic
 * files and the HTTP rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "json_check.h"
#include "sp_fixtures.h"
#include "sp_http.h"
#include "sp_site.h"
#include "sp_state.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A page with two configured components and an open incident on "web"
 * that the coordinator has not turned into a component status yet. */
static tc_sp_state_t *s_outage(void)
{
    tc_sp_state_t *s = tc_sp_state_new();
    tc_component_t list[] = {{.name = "web", .description = "Website"},
                             {.name = "api", .description = "Public API"}};
    for (uint32_t i = 0; i < 2; i++) {
        tc_sp_applied_t a;
        assert_int_equal(tc_sp_state_merge_component(s, &list[i], i + 1, S_T0, &a), 0);
    }
    for (uint32_t n = 1; n <= 7; n++) {
        char body[128];
        snprintf(body, sizeof body, "We are investigating problems with Website (%u).", n);
        tc_msg_t *m = s_update(n, 7, n, true, "investigating", "Website unavailable", body);
        tc_update_t *u = &m->u.bcast.update;
        strcpy(u->components[0].name, "web");
        u->components[0].status = TC_COMP_OPERATIONAL; /* drafted before the outage was seen */
        u->started_ms = S_T0;
        u->next_update_ms = u->published_ms + 20 * S_MIN;
        if (n == 7) {
            strcpy(u->state, "identified");
            u->eta_ms = S_T0 + 15 * S_HOUR + 30 * S_MIN;
        }
        s_apply(s, m);
    }
    return s;
}

static void test_index_never_contradicts(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = s_outage();
    int64_t now = S_T0 + 14 * S_HOUR + 50 * S_MIN; /* 14:50, eta 15:30 */
    char *html = s_index(s, now);
    s_lacks(html, "All Systems Operational");
    s_has(html, "<div class=\"banner ind-major\" id=\"overall\" role=\"status\">Partial System "
                "Outage</div>");
    s_has(html, "<p class=\"summary\" id=\"summary\">Website: partial outage</p>");
    /* The card, the summary and the component list say the same. */
    s_has(html, "Affected: Website (<span class=\"s-partial_outage\">Partial outage</span>)");
    s_has(html, "<strong class=\"name\">Website</strong><span class=\"st s-partial_outage\">"
                "Partial outage</span>");
    s_lacks(html, "(Operational)");
    /* Configuration order: Website before Public API. */
    assert_true(strstr(html, "id=\"component-web\"") < strstr(html, "id=\"component-api\""));
    /* Human times, with the date written out, and relative ones. */
    s_has(html, "Started <time datetime=\"2026-11-24T00:00:00.000Z\">Tue 24 Nov 2026, 00:00 "
                "UTC</time> (<span class=\"rel\" data-t=\"1795478400000\">15 hours ago</span>)");
    s_lacks(html, ">2026-11-24T");
    s_has(html, "<p class=\"eta\">Expected back by <time datetime=\"2026-11-24T15:30:00.000Z\">"
                "15:30 UTC</time> (<span class=\"rel\" data-t=\"1795534200000\">in 40 "
                "minutes</span>)</p>");
    /* The newest update in full, the six before it folded away. */
    s_has(html, "<details class=\"older\"><summary>6 earlier updates</summary>");
    assert_int_equal(s_count(html, "<div class=\"upd latest\">"), 1);
    assert_true(strstr(html, "Website (7)") < strstr(html, "<details"));
    assert_true(strstr(html, "Website (6)") > strstr(html, "<details"));
    /* One Next update line, on the newest update only. */
    assert_int_equal(s_count(html, "Next update by"), 1);
    /* The legend of the uptime bars and a plain footer. */
    s_has(html, "<p class=\"legend\" id=\"legend\">");
    s_has(html, "No downtime");
    s_has(html, "<p id=\"last-updated\">Updated <time datetime=\"2026-11-24T14:50:00.000Z\">"
                "14:50 UTC</time></p>");
    s_lacks(html, "coordinator");
    s_has(html, "<script src=\"embed/page.js\" defer></script>");
    free(html);

    /* The incident's own page shows every update, none folded. */
    tc_sp_page_t page = {.title = "Acme", .url = "", .now_ms = now, .stale_ms = 60000};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(tc_sp_render_incident(f, s, tc_sp_state_find_incident(s, 7), &page), 0);
    fclose(f);
    s_lacks(buf, "<details");
    assert_int_equal(s_count(buf, "<div class=\"upd"), 7);
    assert_int_equal(s_count(buf, "Next update by"), 1);
    s_has(buf, "<p class=\"upd-foot\">Affected: Website</p>");
    /* Its footer leads to the history, where reports are, not only to now. */
    s_has(buf, "<a href=\"../api/v2/incidents.json\">incidents</a>");
    s_has(buf, "<a href=\"../history.atom\">");
    free(buf);

    /* A body that already promises the next update gets no second line;
     * an estimate not yet made says so. */
    tc_msg_t *m = s_update(20, 9, 1, true, "investigating", "API slow",
                           "We are looking into it. Next update: 15:10 UTC.");
    m->u.bcast.update.next_update_ms = now + 20 * S_MIN;
    s_apply(s, m);
    html = s_index(s, now);
    assert_int_equal(s_count(html, "Next update by"), 1);
    s_has(html, "<p class=\"eta\">No estimate yet</p>");
    free(html);
    /* Resolved: the summary goes, the card leaves the active list. */
    s_apply(s, s_resolved(30, 7));
    s_apply(s, s_resolved(31, 9));
    html = s_index(s, now);
    s_has(html, "All Systems Operational");
    s_lacks(html, "id=\"summary\"");
    s_lacks(html, "Active incidents");
    s_has(html, "Past incidents");
    s_lacks(html, "SECRET");
    free(html);
    tc_sp_state_destroy(&s);
}

static void test_drill_said_once(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    tc_msg_t *m = s_update(1, 3, 1, true, "investigating", "DRILL: drill", "[DRILL] Drill text");
    m->u.bcast.update.drill = true;
    strcpy(m->u.bcast.update.impact, "critical");
    s_apply(s, m);
    char *html = s_index(s, S_T0 + 10000);
    s_has(html, "<span class=\"drill\">DRILL</span>drill</a>");
    s_has(html, "All Systems Operational");
    s_lacks(html, "[DRILL] DRILL");
    s_lacks(html, "DRILL</span>[DRILL]");
    free(html);
    tc_sp_page_t page = {.title = "S", .url = "", .now_ms = S_T0, .stale_ms = 1000};
    tc_json_t *j = tc_json_new();
    tc_sp_render_json(j, s, &page, true);
    s_has(tc_json_data(j), "\"name\":\"[DRILL] drill\"");
    tc_json_destroy(&j);
    char *atom = s_render(tc_sp_render_atom, s, &page);
    s_has(atom, "<title>[DRILL] drill - Investigating</title>");
    free(atom);
    tc_sp_state_destroy(&s);
}

static void test_maintenance_sections(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    int64_t start1 = S_T0 + S_DAY, start2 = start1 + 7 * S_DAY;
    s_apply(s, s_component(1, "api", TC_COMP_OPERATIONAL, S_T0));
    s_apply(s, s_window_update(2, 4, 1, "scheduled", start1, "Planned first run"));
    s_apply(s, s_window(3, 4, TC_MAINT_SCHEDULED));
    char *html = s_index(s, S_T0 + S_HOUR);
    s_has(html, "<section id=\"maintenance\"><h2>Scheduled maintenance</h2>");
    s_has(html, "<article class=\"maint\" id=\"m-4-1\">");
    s_has(html, "Wed 25 Nov 2026, 00:00 UTC</time> to <time datetime=\"2026-11-25T02:00:00.000Z\">"
                "02:00 UTC</time> (starts <span class=\"rel\" data-t=\"1795564800000\">in 23 "
                "hours</span>)");
    s_has(html, "Affects: Public API");
    s_has(html, "<p class=\"body\">The API may be slow.</p>"); /* the window's description */
    s_has(html, "All Systems Operational");
    free(html);
    /* Runs, completes; the next occurrence is scheduled. */
    s_apply(s, s_window_update(4, 4, 2, "in_progress", start1, "Started first run"));
    s_apply(s, s_window(5, 4, TC_MAINT_IN_PROGRESS));
    html = s_index(s, start1 + S_HOUR);
    s_has(html, "Service Under Maintenance");
    free(html);
    s_apply(s, s_window_update(6, 4, 4, "completed", start1, "Completed first run"));
    s_apply(s, s_window(7, 4, TC_MAINT_COMPLETED));
    s_apply(s, s_window_update(8, 4, 5, "scheduled", start2, "Planned second run"));
    tc_msg_t *m = s_window(9, 4, TC_MAINT_SCHEDULED);
    m->u.bcast.maint.occurrence = 2;
    m->u.bcast.maint.start_ms = start2;
    m->u.bcast.maint.end_ms = start2 + 2 * S_HOUR;
    s_apply(s, m);
    html = s_index(s, S_T0 + 2 * S_DAY);
    const char *next = strstr(html, "id=\"m-4-2\"");
    const char *past = strstr(html, "<section id=\"past-maintenance\"><h2>Past maintenance</h2>");
    assert_non_null(next);
    assert_non_null(past);
    assert_true(next < past);
    /* The next occurrence lists its own announcement only. */
    const char *next_end = strstr(next, "</article>");
    const char *first_run = strstr(next, "first run");
    assert_true(!first_run || first_run > next_end);
    s_has(next, "Planned second run");
    s_has(past, "id=\"m-4-1\"");
    s_has(past, "Completed <span class=\"rel\"");
    free(html);
    /* After a week the completed run leaves the page. */
    html = s_index(s, S_T0 + 9 * S_DAY);
    s_lacks(html, "id=\"m-4-1\"");
    free(html);
    tc_sp_state_destroy(&s);
}

static void test_uptime_bars(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    s_apply(s, s_component(1, "api", TC_COMP_OPERATIONAL, S_T0));
    s_apply(s, s_component(2, "api", TC_COMP_MAJOR_OUTAGE, S_T0 + 6 * S_HOUR));
    s_apply(s, s_component(3, "api", TC_COMP_PARTIAL_OUTAGE, S_T0 + 12 * S_HOUR));
    s_apply(s, s_component(4, "api", TC_COMP_OPERATIONAL, S_T0 + 18 * S_HOUR));
    char *html = s_index(s, S_T0 + 2 * S_DAY);
    s_has(html, "title=\"Tue 24 Nov 2026: 67.50% uptime\"");
    s_has(html, "no data");
    s_has(html, "<span class=\"d90\">90 days ago</span><span class=\"d30\">30 days ago</span>");
    assert_int_equal(s_count(html, "title=\""), 90);
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
    char *html = s_index(s, S_T0);
    s_lacks(html, "<b>bold");
    s_lacks(html, "<img");
    s_has(html, "&lt;img src=x onerror=1&gt;");
    s_has(html, "<title>Acme &lt;Status&gt;</title>");
    free(html);
    tc_sp_state_destroy(&s);
}

/* Asserts `doc` has "key": somewhere (the documented fields). */
static void s_fields(const char *doc, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char k[64];
        snprintf(k, sizeof k, "\"%s\":", keys[i]);
        s_has(doc, k);
    }
}

static void test_json(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = s_outage();
    s_apply(s, s_window_update(20, 2, 1, "scheduled", S_T0 + S_DAY, "Announced"));
    s_apply(s, s_window(21, 2, TC_MAINT_SCHEDULED));
    s_apply(s, s_update(22, 6, 1, true, "resolved", "Old", "Done"));
    tc_sp_state_set_contact(s, S_T0 + 4000);
    tc_sp_state_set_cursor(s, 22);
    tc_sp_page_t page = {
        .title = "Acme", .url = "http://x/", .now_ms = S_T0 + 5000, .stale_ms = 60000};
    tc_json_t *j = tc_json_new();
    tc_sp_render_json(j, s, &page, true);
    assert_int_equal(tc_json_error(j), 0);
    const char *d = tc_json_data(j);
    if (!s_json_valid(d))
        fail_msg("not JSON: %s", d);
    static const char *const documented[] = {"page",
                                             "id",
                                             "name",
                                             "url",
                                             "time_zone",
                                             "updated_at",
                                             "stale",
                                             "last_contact_at",
                                             "cursor",
                                             "status",
                                             "indicator",
                                             "description",
                                             "components",
                                             "created_at",
                                             "position",
                                             "showcase",
                                             "group_id",
                                             "page_id",
                                             "group",
                                             "only_show_if_degraded",
                                             "incidents",
                                             "monitoring_at",
                                             "resolved_at",
                                             "impact",
                                             "shortlink",
                                             "started_at",
                                             "eta",
                                             "incident_updates",
                                             "body",
                                             "incident_id",
                                             "display_at",
                                             "next_update_at",
                                             "affected_components",
                                             "code",
                                             "old_status",
                                             "new_status",
                                             "drill",
                                             "scheduled_maintenances",
                                             "scheduled_for",
                                             "scheduled_until"};
    s_fields(d, documented, sizeof documented / sizeof *documented);
    static const char *const want[] = {
        "\"page\":{\"id\":\"tocsin\",\"name\":\"Acme\",\"url\":\"http://x/\",\"time_zone\"",
        "\"stale\":false", "\"last_contact_at\":\"2026-11-24T00:00:04.000Z\"",
        "\"status\":{\"indicator\":\"major\",\"description\":\"Partial System Outage\"}",
        /* id is the slug, name what customers know, in configuration order */
        "\"components\":[{\"id\":\"web\",\"name\":\"Website\",\"status\":\"partial_outage\"",
        "\"position\":1,\"description\":null",
        "{\"id\":\"api\",\"name\":\"Public API\",\"status\":\"operational\"",
        "\"incidents\":[{\"id\":\"7\",\"name\":\"Website unavailable\"",
        "\"eta\":\"2026-11-24T15:30:00.000Z\",\"page_id\"",
        "\"incident_updates\":[{\"id\":\"7-7\",\"status\":\"identified\"",
        "\"affected_components\":[{\"code\":\"web\",\"name\":\"Website\",\"old_status\":"
        "\"partial_outage\",\"new_status\":\"partial_outage\"}]",
        "\"shortlink\":\"http://x/incidents/7.html\"",
        /* windows in their own id space */
        "\"scheduled_maintenances\":[{\"id\":\"m-2-1\"",
        "\"incident_updates\":[{\"id\":\"m-2-1-1\",\"status\":\"scheduled\"",
        "\"incident_id\":\"m-2-1\"", "\"shortlink\":\"http://x/index.html#m-2-1\"",
        "\"scheduled_for\":\"2026-11-25T00:00:00.000Z\""};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        s_has(d, want[i]);
    /* Only unresolved incidents; no update of a window is an incident's. */
    s_lacks(d, "\"id\":\"6\"");
    s_lacks(d, "\"incident_id\":\"2\"");
    tc_sp_render_json(j, s, &page, false);
    assert_true(s_json_valid(tc_json_data(j)));
    s_lacks(tc_json_data(j), "components");
    /* Stale after the threshold. */
    page.now_ms = S_T0 + 4000 + 60001;
    tc_sp_render_json(j, s, &page, false);
    s_has(tc_json_data(j), "\"stale\":true");
    tc_json_destroy(&j);
    tc_sp_state_destroy(&s);
}

static void test_banner_json(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = s_outage();
    tc_sp_state_set_contact(s, S_T0 + 14 * S_HOUR);
    tc_sp_page_t page = {.title = "Acme",
                         .url = "https://status.example.com/",
                         .now_ms = S_T0 + 14 * S_HOUR,
                         .stale_ms = 60000};
    tc_json_t *j = tc_json_new();
    tc_sp_render_banner(j, s, &page);
    const char *d = tc_json_data(j);
    if (!s_json_valid(d))
        fail_msg("not JSON: %s", d);
    static const char *const documented[] = {"active", "indicator", "description", "components",
                                             "title",  "text",      "updated_at",  "eta",
                                             "url",    "stale",     "page"};
    s_fields(d, documented, sizeof documented / sizeof *documented);
    s_has(d,
          "{\"active\":true,\"indicator\":\"major\",\"description\":\"Partial System Outage\","
          "\"components\":[{\"id\":\"web\",\"name\":\"Website\",\"status\":\"partial_outage\"}]");
    s_has(d, "\"title\":\"Website unavailable\"");
    s_has(d, "\"text\":\"We are investigating problems with Website (7).\"");
    s_has(d, "\"updated_at\":\"2026-11-24T00:00:07.000Z\"");
    s_has(d, "\"eta\":\"2026-11-24T15:30:00.000Z\"");
    s_has(d, "\"url\":\"https://status.example.com/incidents/7.html\"");
    /* Nothing wrong: not active, nothing to say. */
    s_apply(s, s_resolved(40, 7));
    tc_sp_render_banner(j, s, &page);
    d = tc_json_data(j);
    s_has(d, "{\"active\":false,\"indicator\":\"none\"");
    s_has(d, "\"components\":[],\"title\":null,\"text\":\"\",\"updated_at\":null,\"eta\":null,"
             "\"url\":\"https://status.example.com/\"");
    tc_json_destroy(&j);
    tc_sp_state_destroy(&s);
}

static void test_atom(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    for (uint32_t n = 1; n <= 60; n++) {
        tc_msg_t *m = s_update(n, 1 + n % 3, n, true, "investigating", "T & co", "B");
        if (n == 60)
            m->u.bcast.update.eta_ms = S_T0 + S_HOUR;
        s_apply(s, m);
    }
    tc_sp_page_t page = {
        .title = "S", .url = "https://status.acme.test/", .now_ms = S_T0, .stale_ms = 1000};
    char *buf = s_render(tc_sp_render_atom, s, &page);
    assert_int_equal(s_count(buf, "<entry>"), 50);
    s_has(buf, "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
               "<id>https://status.acme.test/history.atom</id>");
    /* The newest (number 60, incident 1) first, with its estimate. */
    const char *first = strstr(buf, "<entry>");
    s_has(first, "<id>https://status.acme.test/incidents/1.html#update-60</id>");
    assert_true(strstr(first, "#update-60<") < strstr(first, "#update-59<"));
    s_has(buf, "<title>T &amp; co - Investigating</title>");
    s_has(buf, "B\n\nExpected back by Tue 24 Nov 2026, 01:00 UTC.</content>");
    s_has(buf, "B\n\nNo estimate yet.</content>");
    s_lacks(buf, "update-10<");
    free(buf);
    /* Two deployments without a URL differ by their titles. */
    page.url = "";
    page.title = "Acme Status";
    buf = s_render(tc_sp_render_atom, s, &page);
    s_has(buf, "<id>tag:tocsin.invalid,2024:statuspage:Acme%20Status/history.atom</id>");
    free(buf);
    tc_sp_state_destroy(&s);
}

static void test_error_pages(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = s_outage();
    tc_sp_state_set_contact(s, S_T0 + 14 * S_HOUR);
    tc_sp_page_t page = {.title = "Acme",
                         .url = "https://status.example.com/",
                         .now_ms = S_T0 + 14 * S_HOUR,
                         .stale_ms = 60000};
    char *html = s_render(tc_sp_render_outage, s, &page);
    s_has(html, "<h1>We&rsquo;ll be back soon</h1>");
    s_has(html, "<strong>Partial System Outage</strong>");
    s_has(html, "Website unavailable (Identified)");
    s_has(html, "Expected back by 15:30 UTC.");
    s_has(html, "<a href=\"https://status.example.com/\">https://status.example.com/</a>");
    /* Self-contained: nothing loaded from anywhere. */
    s_lacks(html, "<script");
    s_lacks(html, "<link");
    s_lacks(html, "src=");
    free(html);
    s_apply(s, s_window(50, 3, TC_MAINT_IN_PROGRESS));
    html = s_render(tc_sp_render_maintenance, s, &page);
    s_has(html, "<h1>Down for scheduled maintenance</h1>");
    s_has(html, "<strong>Database upgrade</strong>");
    s_has(html, "Wed 25 Nov 2026, 00:00 to 02:00 UTC");
    s_has(html, "The API may be slow.");
    s_lacks(html, "<script");
    free(html);
    tc_sp_state_destroy(&s);
}

static void test_stale_banner(void **unused)
{
    (void)unused;
    tc_sp_state_t *s = tc_sp_state_new();
    tc_sp_state_set_contact(s, S_T0);
    char *html = s_index(s, S_T0 + 1000);
    s_lacks(html, "Status may be out of date");
    free(html);
    html = s_index(s, S_T0 + 61000);
    s_has(html, "Status may be out of date: no contact with the monitoring system since <time "
                "datetime=\"2026-11-24T00:00:00.000Z\">Tue 24 Nov 2026, 00:00 UTC</time>.");
    /* The page's script can tell later that the copy it has got old. */
    s_has(html, "<body data-rendered=\"1795478460000\" data-stale=\"60000\">");
    free(html);
    tc_sp_state_destroy(&s);
}

static char *s_tmpdir(void)
{
    char tmpl[] = "/tmp/test_statuspage_site.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
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

static void test_atomic_write_and_site(void **unused)
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
    struct stat st, st2;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* The same content again is not rewritten (same inode). */
    assert_int_equal(tc_sp_write_atomic(dir, "a/b/c.json", "{\"x\":1}", 7), 0);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st.st_ino, st2.st_ino);
    assert_int_equal(tc_sp_write_atomic(dir, "../evil", "x", 1), TC_EINVAL);
    assert_int_equal(tc_sp_write_atomic(dir, "/abs", "x", 1), TC_EINVAL);

    /* The whole site, twice: only the expected files, no temporaries. */
    tc_sp_state_t *s = tc_sp_state_new();
    s_apply(s, s_update(1, 5, 1, true, "investigating", "Errors", "Body"));
    tc_sp_page_t page = {.title = "S", .url = "", .now_ms = S_T0, .stale_ms = 1000};
    assert_int_equal(tc_sp_site_write(dir, s, &page), 0);
    assert_int_equal(tc_sp_site_write(dir, s, &page), 0);
    /* a, index, incidents, api, history.atom, outage, maintenance, embed */
    assert_int_equal(s_count_entries(dir), 8);
    snprintf(path, sizeof path, "%s/incidents", dir);
    assert_int_equal(s_count_entries(path), 1);
    snprintf(path, sizeof path, "%s/api/v2", dir); /* summary, status, incidents, banner */
    assert_int_equal(s_count_entries(path), 4);
    snprintf(path, sizeof path, "%s/embed", dir);
    assert_int_equal(s_count_entries(path), 2);
    snprintf(path, sizeof path, "%s/embed/banner.js", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((size_t)st.st_size, strlen(tc_sp_banner_js));
    /* The scripts write text, never HTML. */
    s_lacks(tc_sp_banner_js, "innerHTML");
    s_lacks(tc_sp_page_js, "innerHTML");
    s_has(tc_sp_banner_js, "textContent");
    tc_sp_state_destroy(&s);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
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
    assert_string_equal(tc_sp_http_content_type("embed/banner.js"),
                        "text/javascript; charset=utf-8");
    assert_string_equal(tc_sp_http_cache_control("index.html"), "no-cache");
    assert_string_equal(tc_sp_http_cache_control("api/v2/summary.json"), "no-cache");
    assert_string_equal(tc_sp_http_cache_control("api/v2/banner.json"), "public, max-age=15");
    assert_string_equal(tc_sp_http_cache_control("embed/banner.js"), "public, max-age=300");
    assert_true(tc_sp_http_cors("api/v2/banner.json"));
    assert_true(tc_sp_http_cors("embed/banner.js"));
    assert_false(tc_sp_http_cors("index.html"));
    assert_false(tc_sp_http_cors("outage.html"));
    assert_int_equal(tc_sp_http_addr_valid("127.0.0.1:7404"), 0);
    assert_int_equal(tc_sp_http_addr_valid("[::1]:7404"), 0);
    assert_int_equal(tc_sp_http_addr_valid("localhost:7404"), TC_EINVAL);
    assert_int_equal(tc_sp_http_addr_valid("127.0.0.1"), TC_EINVAL);
    assert_int_equal(tc_sp_http_addr_valid("127.0.0.1:99999"), TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_never_contradicts),
        cmocka_unit_test(test_drill_said_once),
        cmocka_unit_test(test_maintenance_sections),
        cmocka_unit_test(test_uptime_bars),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_banner_json),
        cmocka_unit_test(test_atom),
        cmocka_unit_test(test_error_pages),
        cmocka_unit_test(test_stale_banner),
        cmocka_unit_test(test_atomic_write_and_site),
        cmocka_unit_test(test_http_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
