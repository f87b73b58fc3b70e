/*
 * sp_site.c - the static status site; see sp_site.h.
 */
#define _GNU_SOURCE
#include "sp_site.h"

#include "error.h"
#include "utf8.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_DAY_MS 86400000LL
#define S_UPTIME_DAYS 90
#define S_FEED_MAX 50
#define S_PAST_MAX 20
#define S_TAG "tag:tocsin.invalid,2024:statuspage"

static const char s_css[] =
    "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;background:#f6f7f9;color:#1f2328}"
    "main{max-width:880px;margin:0 auto;padding:24px 16px}"
    "h1{font-size:28px;margin:8px 0 16px}h2{font-size:20px;margin:12px 0}"
    "h3{font-size:17px;margin:8px 0 4px}a{color:#0969da}"
    ".banner{padding:16px 20px;border-radius:8px;color:#fff;font-weight:600;font-size:20px;"
    "margin:16px 0}"
    ".ind-none{background:#2e8540}.ind-minor{background:#b08800}.ind-major{background:#d35400}"
    ".ind-critical{background:#c62828}.ind-maintenance{background:#1f6feb}"
    ".stale{padding:12px 16px;border:2px solid #c62828;background:#fdecea;color:#7f1d1d;"
    "border-radius:8px;font-weight:600;margin:16px 0}"
    "section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px 20px;"
    "margin:16px 0}"
    ".comp{border-top:1px solid #eaeef2;padding:12px 0}.comp:first-of-type{border-top:0}"
    ".st{float:right;font-weight:600}"
    ".s-operational{color:#2e8540}.s-degraded_performance{color:#9a7700}"
    ".s-partial_outage{color:#d35400}.s-major_outage{color:#c62828}"
    ".s-under_maintenance{color:#1f6feb}"
    ".bar{display:flex;gap:2px;margin:8px 0 2px}.bar span{flex:1;height:28px;border-radius:2px;"
    "background:#2e8540}.bar .nodata{background:#d0d7de}.bar .minor{background:#d4a017}"
    ".bar .major{background:#e07000}.bar .down{background:#c62828}"
    ".drill{background:#6f42c1;color:#fff;border-radius:4px;padding:0 6px;font-size:13px;"
    "font-weight:700;margin-right:6px}"
    ".upd{border-left:3px solid #d0d7de;padding:4px 12px;margin:10px 0}"
    ".body{white-space:pre-line;margin:4px 0}"
    "small,.muted{color:#57606a}footer{color:#57606a;font-size:14px;margin:24px 0}";

bool tc_sp_stale(const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    int64_t contact = tc_sp_state_contact(state);
    return contact == 0 || page->now_ms - contact > page->stale_ms;
}

void tc_sp_escape(FILE *out, const char *s)
{
    if (!s)
        return;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tc_utf8_next(s + i, len - i, &cp);
        switch (cp) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        case '\t':
        case '\n': fputc((int)cp, out); break;
        default:
            /* Control characters and U+FFFE/U+FFFF are not allowed in XML
             * 1.0 and mean nothing to a reader. */
            if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xfffe || cp == 0xffff)
                break;
            if (cp == TC_UTF8_REPLACEMENT) {
                fputs("\xef\xbf\xbd", out);
                break;
            }
            fwrite(s + i, 1, n, out);
        }
        i += n;
    }
}

/* "2026-11-24 08:00 UTC" for people. */
static const char *s_human(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

static void s_time_el(FILE *out, int64_t ms)
{
    char a[40], b[40];
    fprintf(out, "<time datetime=\"%s\">%s</time>", tc_time_format(ms, a, sizeof a),
            s_human(ms, b, sizeof b));
}

/* "under_maintenance" -> "Under maintenance". */
static void s_label(FILE *out, const char *name)
{
    for (size_t i = 0; name[i]; i++) {
        char c = name[i] == '_' ? ' ' : name[i];
        if (i == 0 && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if ((unsigned char)c >= 0x20 && c != '<' && c != '>' && c != '&' && c != '"')
            fputc(c, out);
    }
}

static const char *s_indicator_text(const char *ind)
{
    if (strcmp(ind, "critical") == 0)
        return "Major System Outage";
    if (strcmp(ind, "major") == 0)
        return "Partial System Outage";
    if (strcmp(ind, "minor") == 0)
        return "Minor Service Outage";
    if (strcmp(ind, "maintenance") == 0)
        return "Service Under Maintenance";
    return "All Systems Operational";
}

static void s_head(FILE *out, const tc_sp_page_t *page, const char *title, const char *root)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<title>",
          out);
    tc_sp_escape(out, title);
    fprintf(out,
            "</title><link rel=\"alternate\" type=\"application/atom+xml\" "
            "href=\"%shistory.atom\"><style>%s</style></head>\n<body><main>\n",
            root, s_css);
    (void)page;
}

static void s_stale_banner(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    if (!tc_sp_stale(state, page))
        return;
    int64_t contact = tc_sp_state_contact(state);
    fputs("<div class=\"stale\" id=\"stale\" role=\"alert\">Status may be out of date: no "
          "contact with the monitoring system since ",
          out);
    if (contact)
        s_time_el(out, contact);
    else
        fputs("this page started", out);
    fputs(".</div>\n", out);
}

static void s_footer(FILE *out, const tc_sp_state_t *state, const char *root)
{
    int64_t contact = tc_sp_state_contact(state);
    fputs("<footer><p id=\"last-updated\">Last updated from the coordinator: ", out);
    if (contact)
        s_time_el(out, contact);
    else
        fputs("never", out);
    fprintf(out,
            "</p><p><a href=\"%shistory.atom\">Atom feed</a> &middot; <a "
            "href=\"%sapi/v2/summary.json\">JSON</a></p></footer>\n</main></body></html>\n",
            root, root);
}

static void s_title(FILE *out, bool drill, const char *title)
{
    if (drill)
        fputs("<span class=\"drill\">DRILL</span>[DRILL] ", out);
    tc_sp_escape(out, title);
}

static void s_update_html(FILE *out, const tc_sp_state_t *state, const tc_update_t *u)
{
    fputs("<div class=\"upd\"><strong>", out);
    if (u->drill)
        fputs("<span class=\"drill\">DRILL</span>", out);
    s_label(out, u->state);
    fputs("</strong><p class=\"body\">", out);
    tc_sp_escape(out, u->body);
    fputs("</p><small>Posted ", out);
    s_time_el(out, u->published_ms);
    if (u->ncomponents) {
        fputs(" &middot; Affected: ", out);
        for (size_t i = 0; i < u->ncomponents; i++) {
            if (i)
                fputs(", ", out);
            /* By the name customers know, like the component list. */
            const tc_sp_component_t *c = tc_sp_state_find_component(state, u->components[i].name);
            tc_sp_escape(out, c && c->c.description[0] ? c->c.description : u->components[i].name);
            fputs(" (", out);
            s_label(out, tc_component_status_name(u->components[i].status));
            fputs(")", out);
        }
    }
    if (u->next_update_ms && strcmp(u->state, "resolved") != 0 &&
        strcmp(u->state, "completed") != 0) {
        fputs(" &middot; Next update by ", out);
        s_time_el(out, u->next_update_ms);
    }
    fputs("</small></div>\n", out);
}

static void s_incident_block(FILE *out, const tc_sp_state_t *state, const tc_sp_incident_t *inc,
                             const char *root, bool link)
{
    fprintf(out, "<article class=\"incident\" id=\"incident-%" PRIu64 "\"><h3>", inc->id);
    if (link)
        fprintf(out, "<a href=\"%sincidents/%" PRIu64 ".html\">", root, inc->id);
    s_title(out, inc->drill, inc->title);
    if (link)
        fputs("</a>", out);
    fputs("</h3><p class=\"muted\">", out);
    s_label(out, inc->resolved_ms ? "resolved" : inc->state);
    if (inc->impact[0] && strcmp(inc->impact, "none") != 0) {
        fputs(" &middot; ", out);
        s_label(out, inc->impact);
        fputs(" impact", out);
    }
    fputs(" &middot; Started ", out);
    s_time_el(out, inc->started_ms ? inc->started_ms : inc->created_ms);
    if (inc->resolved_ms) {
        fputs(" &middot; Resolved ", out);
        s_time_el(out, inc->resolved_ms);
    }
    fputs("</p>\n", out);
    for (size_t i = inc->nupdates; i-- > 0;)
        s_update_html(out, state, &inc->updates[i]);
    fputs("</article>\n", out);
}

static bool s_maint_listed(const tc_sp_maint_t *w)
{
    return w->announced && (w->w.state == TC_MAINT_SCHEDULED ||
                            w->w.state == TC_MAINT_IN_PROGRESS || w->w.state == TC_MAINT_VERIFYING);
}

static void s_uptime_html(FILE *out, const tc_sp_component_t *c, int64_t now)
{
    int64_t today = now - now % S_DAY_MS;
    fputs("<div class=\"bar\">", out);
    for (int d = S_UPTIME_DAYS - 1; d >= 0; d--) {
        int64_t from = today - d * S_DAY_MS, to = from + S_DAY_MS;
        if (to > now)
            to = now;
        double up = to > from ? tc_sp_uptime(c, from, to, NULL) : -1;
        char day[16];
        time_t t = (time_t)(from / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
        if (up < 0) {
            fprintf(out, "<span class=\"nodata\" title=\"%s: no data\"></span>", day);
            continue;
        }
        const char *cls = up >= 0.9999 ? "up"
                          : up >= 0.99 ? "minor"
                          : up >= 0.95 ? "major"
                                       : "down";
        fprintf(out, "<span class=\"%s\" title=\"%s: %.2f%% uptime\"></span>", cls, day,
                up * 100.0);
    }
    fputs("</div>", out);
    int64_t known;
    double all = tc_sp_uptime(c, today - (S_UPTIME_DAYS - 1) * S_DAY_MS, now, &known);
    if (all < 0)
        fprintf(out, "<small>%d days ago &middot; no data yet &middot; today</small>",
                S_UPTIME_DAYS);
    else
        fprintf(out,
                "<small>%d days ago &middot; <span class=\"uptime\">%.2f%% uptime</span> "
                "&middot; today</small>",
                S_UPTIME_DAYS, all * 100.0);
}

int tc_sp_render_index(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    s_head(out, page, page->title, "");
    fputs("<header><h1>", out);
    tc_sp_escape(out, page->title);
    fputs("</h1></header>\n", out);
    s_stale_banner(out, state, page);
    const char *ind = tc_sp_indicator(state);
    fprintf(out, "<div class=\"banner ind-%s\" id=\"overall\">%s</div>\n", ind,
            s_indicator_text(ind));

    size_t nactive = 0;
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++)
        nactive += !tc_sp_state_incident(state, i)->resolved_ms;
    if (nactive) {
        fputs("<section id=\"incidents\"><h2>Active incidents</h2>\n", out);
        for (size_t i = tc_sp_state_nincidents(state); i-- > 0;) {
            const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
            if (!inc->resolved_ms)
                s_incident_block(out, state, inc, "", true);
        }
        fputs("</section>\n", out);
    }

    size_t nmaint = 0;
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++)
        nmaint += s_maint_listed(tc_sp_state_maint(state, i));
    if (nmaint) {
        fputs("<section id=\"maintenance\"><h2>Scheduled maintenance</h2>\n", out);
        for (size_t i = 0; i < tc_sp_state_nmaints(state); i++) {
            const tc_sp_maint_t *w = tc_sp_state_maint(state, i);
            if (!s_maint_listed(w))
                continue;
            fprintf(out, "<article class=\"maint\" id=\"maint-%" PRIu64 "\"><h3>", w->w.id);
            s_title(out, w->w.drill, w->w.title);
            fputs("</h3><p class=\"muted\">", out);
            s_label(out, tc_maint_state_name(w->w.state));
            fputs(" &middot; ", out);
            s_time_el(out, w->w.start_ms);
            fputs(" to ", out);
            s_time_el(out, w->w.end_ms);
            if (w->w.ncomponents) {
                fputs(" &middot; Affects: ", out);
                for (size_t k = 0; k < w->w.ncomponents; k++) {
                    if (k)
                        fputs(", ", out);
                    tc_sp_escape(out, w->w.components[k]);
                }
            }
            fputs("</p><p class=\"body\">", out);
            tc_sp_escape(out, w->w.description);
            fputs("</p>\n", out);
            for (size_t k = w->nupdates; k-- > 0;)
                s_update_html(out, state, &w->updates[k]);
            fputs("</article>\n", out);
        }
        fputs("</section>\n", out);
    }

    fputs("<section id=\"components\"><h2>Components</h2>\n", out);
    if (!tc_sp_state_ncomponents(state))
        fputs("<p class=\"muted\">No components are known yet.</p>\n", out);
    for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++) {
        const tc_sp_component_t *c = tc_sp_state_component(state, i);
        const char *st = tc_component_status_name(c->c.status);
        fputs("<div class=\"comp\" id=\"component-", out);
        tc_sp_escape(out, c->c.name);
        fprintf(out, "\"><span class=\"st s-%s\">", st);
        s_label(out, st);
        /* Customers know a component by its description ("Public API");
         * the configuration name is the fallback. */
        fputs("</span><strong class=\"name\">", out);
        tc_sp_escape(out, c->c.description[0] ? c->c.description : c->c.name);
        fputs("</strong>", out);
        s_uptime_html(out, c, page->now_ms);
        fputs("</div>\n", out);
    }
    fputs("</section>\n", out);

    size_t npast = 0;
    for (size_t i = tc_sp_state_nincidents(state); i-- > 0 && npast < S_PAST_MAX;) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        if (!inc->resolved_ms)
            continue;
        if (npast++ == 0)
            fputs("<section id=\"past\"><h2>Past incidents</h2><ul>\n", out);
        fprintf(out, "<li><a href=\"incidents/%" PRIu64 ".html\">", inc->id);
        s_title(out, inc->drill, inc->title);
        fputs("</a> <small>resolved ", out);
        s_time_el(out, inc->resolved_ms);
        fputs("</small></li>\n", out);
    }
    if (npast)
        fputs("</ul></section>\n", out);
    s_footer(out, state, "");
    return ferror(out) ? TC_EIO : 0;
}

int tc_sp_render_incident(FILE *out, const tc_sp_state_t *state, const tc_sp_incident_t *inc,
                          const tc_sp_page_t *page)
{
    char title[TC_TITLE_MAX + 16];
    snprintf(title, sizeof title, "%s%s", inc->drill ? "[DRILL] " : "", inc->title);
    s_head(out, page, title, "../");
    fputs("<header><p><a href=\"../index.html\">&larr; ", out);
    tc_sp_escape(out, page->title);
    fputs("</a></p></header>\n", out);
    s_stale_banner(out, state, page);
    fputs("<section>\n", out);
    s_incident_block(out, state, inc, "../", false);
    fputs("</section>\n", out);
    s_footer(out, state, "../");
    return ferror(out) ? TC_EIO : 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static void s_jtime(tc_json_t *j, const char *key, int64_t ms)
{
    tc_json_key(j, key);
    tc_json_time(j, ms);
}

static void s_jdrill_name(tc_json_t *j, bool drill, const char *title)
{
    char name[TC_TITLE_MAX + 16];
    snprintf(name, sizeof name, "%s%s", drill ? "[DRILL] " : "", title);
    tc_json_key(j, "name");
    tc_json_string(j, name);
}

static void s_jcomponent(tc_json_t *j, const tc_sp_component_t *c, size_t position)
{
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, c->c.name);
    tc_json_key(j, "name");
    tc_json_string(j, c->c.name);
    tc_json_key(j, "status");
    tc_json_string(j, tc_component_status_name(c->c.status));
    s_jtime(j, "created_at", c->created_ms);
    s_jtime(j, "updated_at", c->c.changed_ms ? c->c.changed_ms : c->created_ms);
    tc_json_key(j, "position");
    tc_json_uint(j, position);
    tc_json_key(j, "description");
    tc_json_string(j, c->c.description[0] ? c->c.description : NULL);
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
        for (size_t c = 0; c < ups[i].ncomponents; c++)
            if (strcmp(ups[i].components[c].name, name) == 0)
                return tc_component_status_name(ups[i].components[c].status);
    return "operational";
}

static void s_jupdates(tc_json_t *j, const tc_update_t *ups, size_t n, uint64_t owner)
{
    tc_json_key(j, "incident_updates");
    tc_json_array_begin(j);
    for (size_t k = n; k-- > 0;) {
        const tc_update_t *u = &ups[k];
        char id[48], owner_id[24];
        snprintf(id, sizeof id, "%" PRIu64 "-%" PRIu32, owner, u->number);
        snprintf(owner_id, sizeof owner_id, "%" PRIu64, owner);
        tc_json_object_begin(j);
        tc_json_key(j, "id");
        tc_json_string(j, id);
        tc_json_key(j, "status");
        tc_json_string(j, u->state);
        tc_json_key(j, "body");
        tc_json_string(j, u->body);
        tc_json_key(j, "incident_id");
        tc_json_string(j, owner_id);
        s_jtime(j, "created_at", u->published_ms);
        s_jtime(j, "updated_at", u->published_ms);
        s_jtime(j, "display_at", u->published_ms);
        tc_json_key(j, "affected_components");
        tc_json_array_begin(j);
        for (size_t c = 0; c < u->ncomponents; c++) {
            tc_json_object_begin(j);
            tc_json_key(j, "code");
            tc_json_string(j, u->components[c].name);
            tc_json_key(j, "name");
            tc_json_string(j, u->components[c].name);
            tc_json_key(j, "old_status");
            tc_json_string(j, s_old_status(ups, k, u->components[c].name));
            tc_json_key(j, "new_status");
            tc_json_string(j, tc_component_status_name(u->components[c].status));
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

static void s_jincident(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_incident_t *inc,
                        const tc_sp_page_t *page)
{
    char id[24], link[512];
    snprintf(id, sizeof id, "%" PRIu64, inc->id);
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, id);
    s_jdrill_name(j, inc->drill, inc->title);
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
    tc_json_key(j, "page_id");
    tc_json_string(j, "tocsin");
    tc_json_key(j, "drill");
    tc_json_bool(j, inc->drill);
    s_jupdates(j, inc->updates, inc->nupdates, inc->id);
    const char *names[TC_COMPONENTS_MAX * 4];
    size_t n = 0;
    for (size_t k = 0; k < inc->nupdates; k++)
        for (size_t c = 0; c < inc->updates[k].ncomponents && n < sizeof names / sizeof *names; c++)
            names[n++] = inc->updates[k].components[c].name;
    s_jcomponents_named(j, state, names, n);
    tc_json_object_end(j);
}

static void s_jmaint(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_maint_t *w,
                     const tc_sp_page_t *page)
{
    char id[24], link[512];
    snprintf(id, sizeof id, "m%" PRIu64, w->w.id);
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, id);
    s_jdrill_name(j, w->w.drill, w->w.title);
    tc_json_key(j, "status");
    tc_json_string(j, tc_maint_state_name(w->w.state));
    s_jtime(j, "created_at", w->w.created_ms);
    s_jtime(j, "updated_at", w->updated_ms);
    s_jtime(j, "monitoring_at", 0);
    s_jtime(j, "resolved_at", w->w.state == TC_MAINT_COMPLETED ? w->updated_ms : 0);
    tc_json_key(j, "impact");
    tc_json_string(j, "maintenance");
    snprintf(link, sizeof link, "%sindex.html#maint-%" PRIu64, page->url, w->w.id);
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
    s_jupdates(j, w->updates, w->nupdates, w->w.id);
    const char *names[TC_COMPONENTS_MAX];
    for (size_t k = 0; k < w->w.ncomponents; k++)
        names[k] = w->w.components[k];
    s_jcomponents_named(j, state, names, w->w.ncomponents);
    tc_json_object_end(j);
}

/* When the page's content last changed; the render time if never. */
static int64_t s_updated_at(const tc_sp_state_t *state, int64_t now)
{
    int64_t t = 0;
    for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++)
        if (tc_sp_state_component(state, i)->c.changed_ms > t)
            t = tc_sp_state_component(state, i)->c.changed_ms;
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++)
        if (tc_sp_state_incident(state, i)->updated_ms > t)
            t = tc_sp_state_incident(state, i)->updated_ms;
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++)
        if (tc_sp_state_maint(state, i)->updated_ms > t)
            t = tc_sp_state_maint(state, i)->updated_ms;
    return t ? t : now;
}

void tc_sp_render_json(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page,
                       bool summary)
{
    tc_json_reset(j);
    tc_json_object_begin(j);
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
    const char *ind = tc_sp_indicator(state);
    tc_json_key(j, "status");
    tc_json_object_begin(j);
    tc_json_key(j, "indicator");
    tc_json_string(j, ind);
    tc_json_key(j, "description");
    tc_json_string(j, s_indicator_text(ind));
    tc_json_object_end(j);
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
            if (s_maint_listed(tc_sp_state_maint(state, i)))
                s_jmaint(j, state, tc_sp_state_maint(state, i), page);
        tc_json_array_end(j);
    }
    tc_json_object_end(j);
}

/* ---- Atom ------------------------------------------------------------------ */

typedef struct {
    const tc_update_t *u;
    bool drill;
} s_entry_t;

static int s_entry_cmp(const void *a, const void *b)
{
    const tc_update_t *x = ((const s_entry_t *)a)->u, *y = ((const s_entry_t *)b)->u;
    if (x->published_ms != y->published_ms)
        return x->published_ms > y->published_ms ? -1 : 1;
    if (x->incident != y->incident)
        return x->incident > y->incident ? -1 : 1;
    if (x->maintenance != y->maintenance)
        return x->maintenance > y->maintenance ? -1 : 1;
    return x->number > y->number ? -1 : x->number < y->number;
}

int tc_sp_render_atom(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    size_t n = 0;
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++)
        n += tc_sp_state_incident(state, i)->nupdates;
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++)
        n += tc_sp_state_maint(state, i)->nupdates;
    s_entry_t *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        return TC_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        for (size_t u = 0; u < inc->nupdates; u++)
            e[k++] = (s_entry_t){&inc->updates[u], inc->drill || inc->updates[u].drill};
    }
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++) {
        const tc_sp_maint_t *w = tc_sp_state_maint(state, i);
        for (size_t u = 0; u < w->nupdates; u++)
            e[k++] = (s_entry_t){&w->updates[u], w->w.drill || w->updates[u].drill};
    }
    qsort(e, n, sizeof *e, s_entry_cmp);
    char buf[40];
    int64_t updated = n ? e[0].u->published_ms : s_updated_at(state, page->now_ms);
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
          "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<id>" S_TAG "</id>\n<title>",
          out);
    tc_sp_escape(out, page->title);
    fprintf(out, " history</title>\n<updated>%s</updated>\n<author><name>",
            tc_time_format(updated, buf, sizeof buf));
    tc_sp_escape(out, page->title);
    fputs("</name></author>\n", out);
    if (page->url[0]) {
        fputs("<link rel=\"self\" href=\"", out);
        tc_sp_escape(out, page->url);
        fputs("history.atom\"/>\n<link href=\"", out);
        tc_sp_escape(out, page->url);
        fputs("\"/>\n", out);
    }
    for (size_t i = 0; i < n && i < S_FEED_MAX; i++) {
        const tc_update_t *u = e[i].u;
        if (u->incident)
            fprintf(out, "<entry>\n<id>" S_TAG ":incident-%" PRIu64 "-update-%" PRIu32 "</id>\n",
                    u->incident, u->number);
        else
            fprintf(out, "<entry>\n<id>" S_TAG ":maintenance-%" PRIu64 "-update-%" PRIu32 "</id>\n",
                    u->maintenance, u->number);
        fputs("<title>", out);
        if (e[i].drill)
            fputs("[DRILL] ", out);
        tc_sp_escape(out, u->title);
        fputs(" - ", out);
        s_label(out, u->state);
        fprintf(out, "</title>\n<updated>%s</updated>\n",
                tc_time_format(u->published_ms, buf, sizeof buf));
        fputs("<link href=\"", out);
        tc_sp_escape(out, page->url);
        if (u->incident)
            fprintf(out, "incidents/%" PRIu64 ".html\"/>\n", u->incident);
        else
            fprintf(out, "index.html#maint-%" PRIu64 "\"/>\n", u->maintenance);
        fputs("<content type=\"text\">", out);
        if (e[i].drill)
            fputs("[DRILL] ", out);
        tc_sp_escape(out, u->body);
        fputs("</content>\n</entry>\n", out);
    }
    fputs("</feed>\n", out);
    free(e);
    return ferror(out) ? TC_EIO : 0;
}

/* ---- files ----------------------------------------------------------------- */

int tc_sp_write_atomic(const char *dir, const char *rel, const void *data, size_t len)
{
    if (!rel[0] || rel[0] == '/' || strstr(rel, ".."))
        return TC_EINVAL;
    char path[4096], tmp[4096 + 32], parent[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return TC_EINVAL;
    const char *slash = strrchr(path, '/');
    size_t plen = (size_t)(slash - path);
    memcpy(parent, path, plen);
    parent[plen] = 0;
    if (tc_mkdir_p(parent) != 0)
        return TC_ESYS;
    /* Same directory, so rename() is atomic; a dot name, so a crash's
     * leftover is never served as a page. */
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", parent, slash + 1) >= sizeof tmp)
        return TC_EINVAL;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return TC_ESYS;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    /* The rename itself is durable only once the directory is synced. */
    int dfd = open(parent, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
fail:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return TC_ESYS;
}

/* Renders with `fn`-like code into memory, then writes `rel`. */
static int s_flush(const char *dir, const char *rel, FILE *mem, char **buf, size_t *len, int rc)
{
    if (fclose(mem) != 0 && rc == 0)
        rc = TC_EIO;
    if (rc == 0)
        rc = tc_sp_write_atomic(dir, rel, *buf, *len);
    free(*buf);
    *buf = NULL;
    return rc;
}

int tc_sp_site_write(const char *dir, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return TC_ENOMEM;
    int rc = s_flush(dir, "index.html", mem, &buf, &len, tc_sp_render_index(mem, state, page));
    for (size_t i = 0; rc == 0 && i < tc_sp_state_nincidents(state); i++) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        char rel[64];
        snprintf(rel, sizeof rel, "incidents/%" PRIu64 ".html", inc->id);
        if (!(mem = open_memstream(&buf, &len)))
            return TC_ENOMEM;
        rc = s_flush(dir, rel, mem, &buf, &len, tc_sp_render_incident(mem, state, inc, page));
    }
    if (rc == 0) {
        if (!(mem = open_memstream(&buf, &len)))
            return TC_ENOMEM;
        rc = s_flush(dir, "history.atom", mem, &buf, &len, tc_sp_render_atom(mem, state, page));
    }
    tc_json_t *j = rc == 0 ? tc_json_new() : NULL;
    if (rc == 0 && !j)
        rc = TC_ENOMEM;
    for (int summary = 1; rc == 0 && summary >= 0; summary--) {
        tc_sp_render_json(j, state, page, summary);
        rc = tc_json_error(j);
        if (rc == 0)
            rc = tc_sp_write_atomic(dir, summary ? "api/v2/summary.json" : "api/v2/status.json",
                                    tc_json_data(j), tc_json_len(j));
    }
    tc_json_destroy(&j);
    return rc;
}
