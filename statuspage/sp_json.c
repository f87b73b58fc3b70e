/*
 * sp_json.c - api/v2/summary.json, status.json and banner.json; see
 * sp_site.h.
 *
 * summary.json follows the widely used Statuspage API shape, so existing
 * clients read it: a component's `id` is its configuration name (the
 * slug), its `name` the name customers know. Window occurrences have ids
 * of their own ("m-3-1"), so no id of theirs or of their updates can equal
 * an incident's. tocsin adds `eta` (when service is expected back, RFC 3339
 * or null) to incidents and updates, and `drill`.
 */
#include "sp_site_impl.h"

#include "human.h"

#include <inttypes.h>
#include <string.h>

static void s_jtime(tc_json_t *j, const char *key, int64_t ms)
{
    tc_json_key(j, key);
    tc_json_time(j, ms > 0 ? ms : 0);
}

static void s_jname(tc_json_t *j, bool drill, const char *title)
{
    char name[TC_TITLE_MAX + 16];
    tc_json_key(j, "name");
    tc_json_string(j, tc_sp__drill_name(drill, title, name, sizeof name));
}

static void s_jcomponent(tc_json_t *j, const tc_sp_component_t *c, size_t position)
{
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, c->c.name);
    tc_json_key(j, "name");
    tc_json_string(j, c->c.description[0] ? c->c.description : c->c.name);
    tc_json_key(j, "status");
    tc_json_string(j, tc_component_status_name(c->shown));
    s_jtime(j, "created_at", c->created_ms);
    int64_t updated = c->nhistory ? c->history[c->nhistory - 1].ms : 0;
    if (c->c.changed_ms > updated)
        updated = c->c.changed_ms;
    s_jtime(j, "updated_at", updated ? updated : c->created_ms);
    tc_json_key(j, "position");
    tc_json_uint(j, position);
    tc_json_key(j, "description");
    tc_json_null(j);
    tc_json_key(j, "showcase");
    tc_json_bool(j, true);
    tc_json_key(j, "start_date");
    tc_json_null(j);
    tc_json_key(j, "group_id");
    tc_json_null(j);
    tc_json_key(j, "page_id");
    tc_json_string(j, "tocsin");
    tc_json_key(j, "group");
    tc_json_bool(j, false);
    tc_json_key(j, "only_show_if_degraded");
    tc_json_bool(j, false);
    tc_json_object_end(j);
}

/* The status a component had in the update before `u` of the same list,
 * for affected_components.old_status; "operational" if never named. */
static const char *s_old_status(const tc_update_t *ups, size_t k, const char *name)
{
    for (size_t i = k; i-- > 0;)
        for (size_t c = 0; c < ups[i].ncomponents && c < TC_COMPONENTS_MAX; c++)
            if (strcmp(ups[i].components[c].name, name) == 0)
                return tc_component_status_name(tc_sp_update_status(&ups[i], c));
    return "operational";
}

static void s_jupdates(tc_json_t *j, const tc_sp_state_t *state, const tc_update_t *ups, size_t n,
                       const char *owner)
{
    tc_json_key(j, "incident_updates");
    tc_json_array_begin(j);
    for (size_t k = n; k-- > 0;) {
        const tc_update_t *u = &ups[k];
        char id[64];
        snprintf(id, sizeof id, "%s-%" PRIu32, owner, u->number);
        tc_json_object_begin(j);
        tc_json_key(j, "id");
        tc_json_string(j, id);
        tc_json_key(j, "status");
        tc_json_string(j, u->state);
        tc_json_key(j, "body");
        tc_json_string(j, u->body);
        tc_json_key(j, "incident_id");
        tc_json_string(j, owner);
        s_jtime(j, "created_at", u->published_ms);
        s_jtime(j, "updated_at", u->published_ms);
        s_jtime(j, "display_at", u->published_ms);
        s_jtime(j, "eta", u->eta_ms);
        s_jtime(j, "next_update_at", u->next_update_ms);
        tc_json_key(j, "affected_components");
        tc_json_array_begin(j);
        for (size_t c = 0; c < u->ncomponents && c < TC_COMPONENTS_MAX; c++) {
            const char *slug = u->components[c].name;
            tc_json_object_begin(j);
            tc_json_key(j, "code");
            tc_json_string(j, slug);
            tc_json_key(j, "name");
            tc_json_string(j, tc_sp__component_name(state, slug));
            tc_json_key(j, "old_status");
            tc_json_string(j, s_old_status(ups, k, slug));
            tc_json_key(j, "new_status");
            tc_json_string(j, tc_component_status_name(tc_sp_update_status(u, c)));
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        tc_json_key(j, "drill");
        tc_json_bool(j, u->drill);
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
}

/* The page's components named in `names`, as component objects. */
static void s_jcomponents_named(tc_json_t *j, const tc_sp_state_t *state, const char *const *names,
                                size_t n)
{
    tc_json_key(j, "components");
    tc_json_array_begin(j);
    for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++) {
        const tc_sp_component_t *c = tc_sp_state_component(state, i);
        for (size_t k = 0; k < n; k++)
            if (strcmp(names[k], c->c.name) == 0) {
                s_jcomponent(j, c, i + 1);
                break;
            }
    }
    tc_json_array_end(j);
}

/* The incident's public post-mortem: `postmortem` (tocsin's, each part
 * apart) and Statuspage's `postmortem_body` and `postmortem_published_at`,
 * all null until one is published. */
static void s_jreport(tc_json_t *j, const tc_sp_incident_t *inc, const char *owner,
                      const char *link)
{
    const tc_update_t *r = inc->report;
    tc_json_key(j, "postmortem_body");
    if (r)
        tc_json_string(j, r->body);
    else
        tc_json_null(j);
    s_jtime(j, "postmortem_published_at", r ? r->published_ms : 0);
    tc_json_key(j, "postmortem");
    if (!r) {
        tc_json_null(j);
        return;
    }
    char id[64];
    snprintf(id, sizeof id, "%s-%" PRIu32, owner, r->number);
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, id);
    s_jtime(j, "published_at", r->published_ms);
    tc_report_json_parts(j, r);
    tc_json_key(j, "url");
    tc_json_string(j, link);
    tc_json_key(j, "drill");
    tc_json_bool(j, r->drill);
    tc_json_object_end(j);
}

static void s_jincident(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_incident_t *inc,
                        const tc_sp_page_t *page)
{
    char id[24], link[512];
    snprintf(id, sizeof id, "%" PRIu64, inc->id);
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, id);
    s_jname(j, inc->drill, inc->title);
    tc_json_key(j, "status");
    tc_json_string(j, inc->resolved_ms ? "resolved" : inc->state);
    s_jtime(j, "created_at", inc->created_ms);
    s_jtime(j, "updated_at", inc->updated_ms);
    s_jtime(j, "monitoring_at", inc->monitoring_ms);
    s_jtime(j, "resolved_at", inc->resolved_ms);
    tc_json_key(j, "impact");
    tc_json_string(j, inc->impact[0] ? inc->impact : "none");
    snprintf(link, sizeof link, "%sincidents/%" PRIu64 ".html", page->url, inc->id);
    tc_json_key(j, "shortlink");
    tc_json_string(j, link);
    s_jtime(j, "started_at", inc->started_ms ? inc->started_ms : inc->created_ms);
    s_jtime(j, "eta", inc->resolved_ms ? 0 : inc->eta_ms);
    tc_json_key(j, "page_id");
    tc_json_string(j, "tocsin");
    tc_json_key(j, "drill");
    tc_json_bool(j, inc->drill);
    s_jupdates(j, state, inc->updates, inc->nupdates, id);
    char report_link[600];
    snprintf(report_link, sizeof report_link, "%s#postmortem", link);
    s_jreport(j, inc, id, report_link);
    const char *names[TC_COMPONENTS_MAX];
    size_t n = 0;
    if (inc->named >= 0) {
        const tc_update_t *u = &inc->updates[inc->named];
        for (size_t c = 0; c < u->ncomponents && c < TC_COMPONENTS_MAX; c++)
            names[n++] = u->components[c].name;
    }
    s_jcomponents_named(j, state, names, n);
    tc_json_object_end(j);
}

static void s_jmaint(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_maint_t *w,
                     const tc_sp_page_t *page)
{
    char id[48], link[512];
    tc_sp__maint_id(w, id, sizeof id);
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, id);
    s_jname(j, w->w.drill, w->w.title);
    tc_json_key(j, "status");
    tc_json_string(j, tc_maint_state_name(w->w.state));
    s_jtime(j, "created_at", w->w.created_ms);
    s_jtime(j, "updated_at", w->updated_ms);
    s_jtime(j, "monitoring_at", 0);
    s_jtime(j, "resolved_at", w->closed_ms);
    tc_json_key(j, "impact");
    tc_json_string(j, "maintenance");
    snprintf(link, sizeof link, "%sindex.html#%s", page->url, id);
    tc_json_key(j, "shortlink");
    tc_json_string(j, link);
    s_jtime(j, "started_at", w->w.start_ms);
    s_jtime(j, "scheduled_for", w->w.start_ms);
    s_jtime(j, "scheduled_until", w->w.end_ms);
    tc_json_key(j, "page_id");
    tc_json_string(j, "tocsin");
    tc_json_key(j, "description");
    tc_json_string(j, w->w.description);
    tc_json_key(j, "drill");
    tc_json_bool(j, w->w.drill);
    s_jupdates(j, state, w->updates, w->nupdates, id);
    const char *names[TC_COMPONENTS_MAX];
    size_t n = 0;
    for (size_t k = 0; k < w->w.ncomponents && k < TC_COMPONENTS_MAX; k++)
        names[n++] = w->w.components[k];
    s_jcomponents_named(j, state, names, n);
    tc_json_object_end(j);
}

/* When the page's content last changed; the render time if never. */
static int64_t s_updated_at(const tc_sp_state_t *state, int64_t now)
{
    int64_t t = 0;
    for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++) {
        const tc_sp_component_t *c = tc_sp_state_component(state, i);
        if (c->c.changed_ms > t)
            t = c->c.changed_ms;
        if (c->nhistory && c->history[c->nhistory - 1].ms > t)
            t = c->history[c->nhistory - 1].ms;
    }
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++)
        if (tc_sp_state_incident(state, i)->updated_ms > t)
            t = tc_sp_state_incident(state, i)->updated_ms;
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++)
        if (tc_sp_state_maint(state, i)->updated_ms > t)
            t = tc_sp_state_maint(state, i)->updated_ms;
    return t ? t : now;
}

static void s_jstatus(tc_json_t *j, const char *ind)
{
    tc_json_key(j, "status");
    tc_json_object_begin(j);
    tc_json_key(j, "indicator");
    tc_json_string(j, ind);
    tc_json_key(j, "description");
    tc_json_string(j, tc_sp__indicator_text(ind));
    tc_json_object_end(j);
}

/* The page object every document starts with. */
static void s_jpage(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    tc_json_key(j, "page");
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, "tocsin");
    tc_json_key(j, "name");
    tc_json_string(j, page->title);
    tc_json_key(j, "url");
    tc_json_string(j, page->url);
    tc_json_key(j, "time_zone");
    tc_json_string(j, "Etc/UTC");
    s_jtime(j, "updated_at", s_updated_at(state, page->now_ms));
    tc_json_key(j, "stale");
    tc_json_bool(j, tc_sp_stale(state, page));
    s_jtime(j, "last_contact_at", tc_sp_state_contact(state));
    tc_json_key(j, "cursor");
    tc_json_uint(j, tc_sp_state_cursor(state));
    tc_json_object_end(j);
}

void tc_sp_render_incidents(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    tc_json_reset(j);
    tc_json_object_begin(j);
    s_jpage(j, state, page);
    tc_json_key(j, "incidents");
    tc_json_array_begin(j);
    size_t n = 0;
    for (size_t i = tc_sp_state_nincidents(state); i-- > 0 && n < TC_SP_INCIDENTS_JSON_MAX; n++)
        s_jincident(j, state, tc_sp_state_incident(state, i), page);
    tc_json_array_end(j);
    tc_json_object_end(j);
}

void tc_sp_render_json(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page,
                       bool summary)
{
    tc_json_reset(j);
    tc_json_object_begin(j);
    s_jpage(j, state, page);
    s_jstatus(j, tc_sp_indicator(state));
    if (summary) {
        tc_json_key(j, "components");
        tc_json_array_begin(j);
        for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++)
            s_jcomponent(j, tc_sp_state_component(state, i), i + 1);
        tc_json_array_end(j);
        tc_json_key(j, "incidents");
        tc_json_array_begin(j);
        for (size_t i = tc_sp_state_nincidents(state); i-- > 0;) {
            const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
            if (!inc->resolved_ms)
                s_jincident(j, state, inc, page);
        }
        tc_json_array_end(j);
        tc_json_key(j, "scheduled_maintenances");
        tc_json_array_begin(j);
        for (size_t i = 0; i < tc_sp_state_nmaints(state); i++)
            if (tc_sp__maint_open(tc_sp_state_maint(state, i)))
                s_jmaint(j, state, tc_sp_state_maint(state, i), page);
        tc_json_array_end(j);
    }
    tc_json_object_end(j);
}

/* ---- banner.json ----------------------------------------------------------- */

void tc_sp_render_banner(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    const char *ind = tc_sp_indicator(state);
    const tc_sp_incident_t *inc = tc_sp__lead_incident(state);
    const tc_sp_maint_t *w = inc ? NULL : tc_sp__lead_window(state, true);
    const tc_update_t *u = inc ? tc_sp__latest(inc->updates, inc->nupdates)
                           : w ? tc_sp__latest(w->updates, w->nupdates)
                               : NULL;
    bool active = strcmp(ind, "none") != 0;
    char text[256] = "", link[512], id[48];
    if (active && u && u->body[0])
        tc_sp__sentence(u->body, text, sizeof text);
    if (inc)
        snprintf(link, sizeof link, "%sincidents/%" PRIu64 ".html", page->url, inc->id);
    else if (w)
        snprintf(link, sizeof link, "%sindex.html#%s", page->url,
                 tc_sp__maint_id(w, id, sizeof id));
    else
        snprintf(link, sizeof link, "%s", page->url);

    tc_json_reset(j);
    tc_json_object_begin(j);
    tc_json_key(j, "active");
    tc_json_bool(j, active);
    tc_json_key(j, "indicator");
    tc_json_string(j, ind);
    tc_json_key(j, "description");
    tc_json_string(j, tc_sp__indicator_text(ind));
    tc_json_key(j, "components");
    tc_json_array_begin(j);
    for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++) {
        const tc_sp_component_t *c = tc_sp_state_component(state, i);
        if (c->shown == TC_COMP_OPERATIONAL)
            continue;
        tc_json_object_begin(j);
        tc_json_key(j, "id");
        tc_json_string(j, c->c.name);
        tc_json_key(j, "name");
        tc_json_string(j, c->c.description[0] ? c->c.description : c->c.name);
        tc_json_key(j, "status");
        tc_json_string(j, tc_component_status_name(c->shown));
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    tc_json_key(j, "title");
    if (active && (inc || w))
        tc_json_string(j, inc ? inc->title : w->w.title);
    else
        tc_json_null(j);
    tc_json_key(j, "text");
    tc_json_string(j, text);
    s_jtime(j, "updated_at", active && u ? u->published_ms : 0);
    s_jtime(j, "eta", active && inc ? inc->eta_ms : 0);
    tc_json_key(j, "url");
    tc_json_string(j, link);
    tc_json_key(j, "stale");
    tc_json_bool(j, tc_sp_stale(state, page));
    tc_json_key(j, "page");
    tc_json_object_begin(j);
    tc_json_key(j, "name");
    tc_json_string(j, page->title);
    tc_json_key(j, "url");
    tc_json_string(j, page->url);
    tc_json_object_end(j);
    tc_json_object_end(j);
}
