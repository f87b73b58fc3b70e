/*
 * sp_html.c - the status page's HTML: index.html and incidents/ID.html;
 * see sp_site.h.
 *
 * What a customer reads during an outage, top to bottom: the overall
 * status and which components are affected; each active incident with its
 * newest update, when service is expected back and when the next update
 * comes (older updates folded away); maintenance under way or ahead; the
 * components with 90 days of uptime and a legend; maintenance of the last
 * week; past incidents; when the page last heard from the monitoring
 * system.
 */
#include "sp_site_impl.h"

#include "error.h"
#include "human.h"
#include "util.h"

#include <inttypes.h>
#include <string.h>

#define S_DAY_MS 86400000LL
#define S_UPTIME_DAYS 90

const char tc_sp__css[] =
    "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;background:#f6f7f9;color:#1f2328}"
    "main{max-width:880px;margin:0 auto;padding:16px}"
    "h1{font-size:26px;margin:8px 0 12px}h2{font-size:19px;margin:12px 0}"
    "h3{font-size:17px;margin:8px 0 4px}a{color:#0969da}"
    ".banner{padding:14px 18px;border-radius:8px;color:#fff;font-weight:600;font-size:19px;"
    "margin:12px 0 6px}"
    ".ind-none{background:#2e8540}.ind-minor{background:#9a6700}.ind-major{background:#bc4c00}"
    ".ind-critical{background:#b42318}.ind-maintenance{background:#1f6feb}"
    ".summary{margin:0 0 12px;font-weight:600}"
    ".stale{padding:12px 16px;border:2px solid #b42318;background:#fdecea;color:#7f1d1d;"
    "border-radius:8px;font-weight:600;margin:12px 0}"
    "section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px 16px;"
    "margin:16px 0}"
    "article{border-top:1px solid #eaeef2;padding:6px 0}article:first-of-type{border-top:0}"
    ".comp{border-top:1px solid #eaeef2;padding:12px 0}.comp:first-of-type{border-top:0}"
    ".comp-head{display:flex;justify-content:space-between;flex-wrap:wrap;gap:4px 12px}"
    ".st{font-weight:600}"
    ".s-operational{color:#2e8540}.s-degraded_performance{color:#9a6700}"
    ".s-partial_outage{color:#bc4c00}.s-major_outage{color:#b42318}"
    ".s-under_maintenance{color:#1f6feb}"
    ".bar{display:flex;gap:2px;margin:8px 0 2px}.bar span{flex:1;height:28px;border-radius:2px;"
    "background:#2e8540}.bar .nodata,.key.nodata{background:#d0d7de}"
    ".bar .minor,.key.minor{background:#d4a017}.bar .major,.key.major{background:#e07000}"
    ".bar .down,.key.down{background:#b42318}.key.up{background:#2e8540}"
    ".axis{display:flex;justify-content:space-between;gap:8px;color:#57606a;font-size:13px}"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 16px;color:#57606a;font-size:13px;"
    "margin:8px 0 12px}"
    ".key{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;"
    "vertical-align:-1px}"
    ".drill{background:#6f42c1;color:#fff;border-radius:4px;padding:0 6px;font-size:13px;"
    "font-weight:700;margin-right:6px}"
    ".meta,.upd-head,.upd-foot{color:#57606a;font-size:14px;margin:2px 0}"
    ".affected{margin:4px 0}.eta{font-weight:600;margin:6px 0}"
    ".upd{border-left:3px solid #d0d7de;padding:2px 12px;margin:10px 0}"
    ".upd.latest{border-left-color:#0969da}"
    ".body{white-space:pre-line;margin:4px 0}"
    ".report{border-left:3px solid #2e8540;padding:2px 12px;margin:10px 0}"
    ".report h4{font-size:16px;margin:6px 0 2px}.report h5{font-size:15px;margin:10px 0 0}"
    "details>summary{cursor:pointer;color:#0969da;font-size:14px;margin:6px 0}"
    ".d30{display:none}"
    "@media (max-width:600px){.bar span:nth-child(-n+60){display:none}.d90{display:none}"
    ".d30{display:inline}h1{font-size:22px}.banner{font-size:17px}main{padding:12px}"
    "section{padding:6px 12px}}"
    "footer{color:#57606a;font-size:14px;margin:24px 0}ul{padding-left:20px}";

/* The page's script reads data-rendered (to the minute, so that a page
 * whose content did not change is not rewritten) and data-stale. */
static void s_head(FILE *out, const tc_sp_page_t *page, const char *title, const char *root)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<title>",
          out);
    tc_sp_escape(out, title);
    fprintf(out,
            "</title><link rel=\"alternate\" type=\"application/atom+xml\" "
            "href=\"%shistory.atom\"><style>%s</style>"
            "<script src=\"%sembed/page.js\" defer></script></head>\n"
            "<body data-rendered=\"%" PRId64 "\" data-stale=\"%" PRId64 "\"><main>\n",
            root, tc_sp__css, root, page->now_ms - page->now_ms % 60000, page->stale_ms);
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
        tc_sp__html_time(out, contact);
    else
        fputs("this page started", out);
    fputs(".</div>\n", out);
}

static void s_footer(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page,
                     const char *root)
{
    int64_t contact = tc_sp_state_contact(state);
    fputs("<footer><p id=\"last-updated\">", out);
    if (contact) {
        fputs("Updated ", out);
        tc_sp__html_time_near(out, contact, page->now_ms);
    } else {
        fputs("Not updated yet", out);
    }
    /* summary.json has what is open now; incidents.json the history, with
     * the post-incident reports. */
    fprintf(out,
            "</p><p><a href=\"%shistory.atom\">Atom feed</a> &middot; JSON: <a "
            "href=\"%sapi/v2/summary.json\">now</a>, <a "
            "href=\"%sapi/v2/incidents.json\">incidents</a></p></footer>\n</main></body></html>\n",
            root, root, root);
}

static void s_title(FILE *out, bool drill, const char *title)
{
    if (drill) {
        fputs("<span class=\"drill\">DRILL</span>", out);
        title = tc_human_undrill(title);
    }
    tc_sp_escape(out, title);
}

static void s_state(FILE *out, const char *state)
{
    char label[32];
    fprintf(out, "<span class=\"state\">%s</span>", tc_sp__label(state, label, sizeof label));
}

/* "Affected: Website (Partial outage), Public API": with each component's
 * shown status while the incident is open, names only once it is over. */
static void s_affected(FILE *out, const tc_sp_state_t *state, const tc_update_t *u,
                       const char *lead, bool with_status)
{
    if (!u || !u->ncomponents)
        return;
    fprintf(out, "<p class=\"affected\">%s: ", lead);
    for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++) {
        const char *slug = u->components[i].name;
        if (i)
            fputs(", ", out);
        tc_sp_escape(out, tc_sp__component_name(state, slug));
        if (!with_status)
            continue;
        const tc_sp_component_t *c = tc_sp_state_find_component(state, slug);
        tc_component_status_t st = c ? c->shown : tc_sp_update_status(u, i);
        fprintf(out, " (<span class=\"s-%s\">%s</span>)", tc_component_status_name(st),
                tc_human_status_label(st));
    }
    fputs("</p>\n", out);
}

/* One update. `latest`: the newest of its incident or window, the only one
 * that may promise the next update. */
static void s_update_html(FILE *out, const tc_sp_state_t *state, const tc_update_t *u,
                          const tc_sp_page_t *page, bool latest, bool names)
{
    fprintf(out, "<div class=\"upd%s\"><p class=\"upd-head\"><strong>", latest ? " latest" : "");
    char label[32];
    fputs(tc_sp__label(u->state, label, sizeof label), out);
    fputs("</strong> &middot; ", out);
    tc_sp__html_time(out, u->published_ms);
    fputs(" (", out);
    tc_sp__html_rel(out, u->published_ms, page->now_ms);
    fputs(")</p><p class=\"body\">", out);
    tc_sp_escape(out, u->body);
    fputs("</p>\n", out);
    if (names && u->ncomponents) {
        fputs("<p class=\"upd-foot\">Affected: ", out);
        for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++) {
            if (i)
                fputs(", ", out);
            tc_sp_escape(out, tc_sp__component_name(state, u->components[i].name));
        }
        fputs("</p>\n", out);
    }
    bool final = !strcmp(u->state, "resolved") || !strcmp(u->state, "completed");
    if (latest && !final && u->next_update_ms > 0 && !tc_sp__says_next_update(u->body)) {
        fputs("<p class=\"upd-foot\">Next update by ", out);
        tc_sp__html_time_near(out, u->next_update_ms, page->now_ms);
        fputs(" (", out);
        tc_sp__html_rel(out, u->next_update_ms, page->now_ms);
        fputs(")</p>\n", out);
    }
    fputs("</div>\n", out);
}

/* The updates newest first; with `fold`, the older ones behind a
 * <details> so an incident with many updates stays one screen. */
static void s_updates(FILE *out, const tc_sp_state_t *state, const tc_update_t *ups, size_t n,
                      const tc_sp_page_t *page, bool fold)
{
    if (!n)
        return;
    s_update_html(out, state, &ups[n - 1], page, true, !fold);
    if (n == 1)
        return;
    if (fold)
        fprintf(out, "<details class=\"older\"><summary>%zu earlier update%s</summary>\n", n - 1,
                n == 2 ? "" : "s");
    for (size_t i = n - 1; i-- > 0;)
        s_update_html(out, state, &ups[i], page, false, !fold);
    if (fold)
        fputs("</details>\n", out);
}

static void s_eta(FILE *out, int64_t eta_ms, const tc_sp_page_t *page)
{
    if (!eta_ms) {
        fputs("<p class=\"eta\">No estimate yet</p>\n", out);
        return;
    }
    fputs("<p class=\"eta\">Expected back by ", out);
    tc_sp__html_time_near(out, eta_ms, page->now_ms);
    fputs(" (", out);
    tc_sp__html_rel(out, eta_ms, page->now_ms);
    fputs(")</p>\n", out);
}

/* The public post-mortem report, each part under its heading. */
static void s_report_html(FILE *out, const tc_update_t *r, const tc_sp_page_t *page)
{
    fputs("<div class=\"report\" id=\"postmortem\"><h4>Post-incident report</h4>"
          "<p class=\"meta\">Published ",
          out);
    tc_sp__html_time(out, r->published_ms);
    fputs(" (", out);
    tc_sp__html_rel(out, r->published_ms, page->now_ms);
    fputs(")</p>\n", out);
    char text[TC_BODY_MAX];
    for (tc_report_part_t k = 0; k < TC_REPORT_PARTS; k++) {
        fprintf(out, "<h5>%s</h5><p class=\"body\">", tc_report_heading(k));
        tc_sp_escape(out, tc_report_part_text(r, k, text, sizeof text));
        fputs("</p>\n", out);
    }
    fputs("</div>\n", out);
}

static void s_incident_block(FILE *out, const tc_sp_state_t *state, const tc_sp_incident_t *inc,
                             const tc_sp_page_t *page, const char *root, bool index)
{
    fprintf(out, "<article class=\"incident\" id=\"incident-%" PRIu64 "\"><h3>", inc->id);
    if (index)
        fprintf(out, "<a href=\"%sincidents/%" PRIu64 ".html\">", root, inc->id);
    s_title(out, inc->drill, inc->title);
    if (index)
        fputs("</a>", out);
    fputs("</h3><p class=\"meta\">", out);
    s_state(out, inc->resolved_ms ? "resolved" : inc->state);
    if (inc->impact[0] && strcmp(inc->impact, "none") != 0) {
        char label[32];
        fprintf(out, " &middot; %s impact", tc_sp__label(inc->impact, label, sizeof label));
    }
    int64_t started = inc->started_ms ? inc->started_ms : inc->created_ms;
    fputs(" &middot; Started ", out);
    tc_sp__html_time(out, started);
    if (inc->resolved_ms) {
        fputs(" &middot; Resolved ", out);
        tc_sp__html_time(out, inc->resolved_ms);
    } else {
        fputs(" (", out);
        tc_sp__html_rel(out, started, page->now_ms);
        fputs(")", out);
    }
    fputs("</p>\n", out);
    const tc_update_t *named = inc->named >= 0 ? &inc->updates[inc->named] : NULL;
    s_affected(out, state, named, "Affected", !inc->resolved_ms);
    if (!inc->resolved_ms)
        s_eta(out, inc->eta_ms, page);
    if (inc->report && !index)
        s_report_html(out, inc->report, page);
    s_updates(out, state, inc->updates, inc->nupdates, page, index);
    fputs("</article>\n", out);
}

static void s_window_block(FILE *out, const tc_sp_state_t *state, const tc_sp_maint_t *w,
                           const tc_sp_page_t *page)
{
    char id[48];
    fprintf(out, "<article class=\"maint\" id=\"%s\"><h3>", tc_sp__maint_id(w, id, sizeof id));
    s_title(out, w->w.drill, w->w.title);
    fputs("</h3><p class=\"meta\">", out);
    s_state(out, tc_maint_state_name(w->w.state));
    fputs(" &middot; ", out);
    tc_sp__html_time(out, w->w.start_ms);
    fputs(" to ", out);
    tc_sp__html_time_near(out, w->w.end_ms, w->w.start_ms);
    switch (w->w.state) {
    case TC_MAINT_SCHEDULED:
        fputs(" (starts ", out);
        tc_sp__html_rel(out, w->w.start_ms, page->now_ms);
        fputs(")", out);
        break;
    case TC_MAINT_IN_PROGRESS:
        fputs(" (ends ", out);
        tc_sp__html_rel(out, w->w.end_ms, page->now_ms);
        fputs(")", out);
        break;
    case TC_MAINT_COMPLETED:
    case TC_MAINT_CANCELLED:
        if (w->closed_ms) {
            fputs(w->w.state == TC_MAINT_COMPLETED ? " &middot; Completed "
                                                   : " &middot; Cancelled ",
                  out);
            tc_sp__html_rel(out, w->closed_ms, page->now_ms);
        }
        break;
    default: break;
    }
    fputs("</p>\n", out);
    if (w->w.ncomponents) {
        fputs("<p class=\"affected\">Affects: ", out);
        for (size_t k = 0; k < w->w.ncomponents && k < TC_COMPONENTS_MAX; k++) {
            if (k)
                fputs(", ", out);
            tc_sp_escape(out, tc_sp__component_name(state, w->w.components[k]));
        }
        fputs("</p>\n", out);
    }
    if (w->w.description[0]) {
        fputs("<p class=\"body\">", out);
        tc_sp_escape(out, w->w.description);
        fputs("</p>\n", out);
    }
    s_updates(out, state, w->updates, w->nupdates, page, true);
    fputs("</article>\n", out);
}

/* "Tue 24 Nov 2026" for the uptime bar's tooltips. */
static const char *s_day(int64_t ms, char *buf, size_t cap)
{
    tc_human_time(ms, buf, cap);
    char *comma = strchr(buf, ',');
    if (comma)
        *comma = '\0';
    return buf;
}

static void s_uptime_html(FILE *out, const tc_sp_component_t *c, int64_t now)
{
    int64_t today = now - now % S_DAY_MS;
    fputs("<div class=\"bar\" role=\"img\" aria-label=\"Uptime of the last 90 days\">", out);
    for (int d = S_UPTIME_DAYS - 1; d >= 0; d--) {
        int64_t from = today - d * S_DAY_MS, to = from + S_DAY_MS;
        if (to > now)
            to = now;
        double up = to > from ? tc_sp_uptime(c, from, to, NULL) : -1;
        char day[TC_HUMAN_MAX];
        s_day(from, day, sizeof day);
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
    fputs("</div><div class=\"axis\"><small><span class=\"d90\">90 days ago</span>"
          "<span class=\"d30\">30 days ago</span></small>",
          out);
    int64_t known;
    double all = tc_sp_uptime(c, today - (S_UPTIME_DAYS - 1) * S_DAY_MS, now, &known);
    if (all < 0)
        fputs("<small>no data yet</small>", out);
    else
        fprintf(out, "<small class=\"uptime\">%.2f%% uptime over 90 days</small>", all * 100.0);
    fputs("<small>Today</small></div>", out);
}

static void s_legend(FILE *out)
{
    fputs("<p class=\"legend\" id=\"legend\">"
          "<span><span class=\"key up\"></span>No downtime</span>"
          "<span><span class=\"key minor\"></span>Under 1% downtime</span>"
          "<span><span class=\"key major\"></span>1 to 5% downtime</span>"
          "<span><span class=\"key down\"></span>Over 5% downtime</span>"
          "<span><span class=\"key nodata\"></span>No data</span></p>\n",
          out);
}

/* Under the overall status: each component that is not operational, with
 * what it is, so the banner's words have a subject. */
static void s_summary(FILE *out, const tc_sp_state_t *state)
{
    size_t n = 0;
    for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++) {
        const tc_sp_component_t *c = tc_sp_state_component(state, i);
        if (c->shown == TC_COMP_OPERATIONAL)
            continue;
        fputs(n++ ? " &middot; " : "<p class=\"summary\" id=\"summary\">", out);
        tc_sp_escape(out, c->c.description[0] ? c->c.description : c->c.name);
        fprintf(out, ": %s", tc_human_status(c->shown));
    }
    if (n)
        fputs("</p>\n", out);
}

static void s_components(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    fputs("<section id=\"components\"><h2>Components</h2>\n", out);
    if (!tc_sp_state_ncomponents(state))
        fputs("<p class=\"muted\">No components are known yet.</p>\n", out);
    for (size_t i = 0; i < tc_sp_state_ncomponents(state); i++) {
        const tc_sp_component_t *c = tc_sp_state_component(state, i);
        const char *st = tc_component_status_name(c->shown);
        fputs("<div class=\"comp\" id=\"component-", out);
        tc_sp_escape(out, c->c.name);
        /* Customers know a component by its description ("Public API");
         * the configuration name is the fallback. */
        fputs("\"><div class=\"comp-head\"><strong class=\"name\">", out);
        tc_sp_escape(out, c->c.description[0] ? c->c.description : c->c.name);
        fprintf(out, "</strong><span class=\"st s-%s\">%s</span></div>", st,
                tc_human_status_label(c->shown));
        s_uptime_html(out, c, page->now_ms);
        fputs("</div>\n", out);
    }
    if (tc_sp_state_ncomponents(state))
        s_legend(out);
    fputs("</section>\n", out);
}

static void s_windows(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    /* In progress first, then by start: what matters now leads. */
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < tc_sp_state_nmaints(state); i++) {
            const tc_sp_maint_t *w = tc_sp_state_maint(state, i);
            if (!tc_sp__maint_open(w) || (w->w.state == TC_MAINT_IN_PROGRESS) != (pass == 0))
                continue;
            if (n++ == 0)
                fputs("<section id=\"maintenance\"><h2>Scheduled maintenance</h2>\n", out);
            s_window_block(out, state, w, page);
        }
    if (n)
        fputs("</section>\n", out);
    n = 0;
    for (size_t i = tc_sp_state_nmaints(state); i-- > 0;) {
        const tc_sp_maint_t *w = tc_sp_state_maint(state, i);
        if (!tc_sp__maint_recent(w, page->now_ms))
            continue;
        if (n++ == 0)
            fputs("<section id=\"past-maintenance\"><h2>Past maintenance</h2>\n", out);
        s_window_block(out, state, w, page);
    }
    if (n)
        fputs("</section>\n", out);
}

int tc_sp_render_index(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    s_head(out, page, page->title, "");
    fputs("<header><h1>", out);
    tc_sp_escape(out, page->title);
    fputs("</h1></header>\n", out);
    s_stale_banner(out, state, page);
    const char *ind = tc_sp_indicator(state);
    fprintf(out, "<div class=\"banner ind-%s\" id=\"overall\" role=\"status\">%s</div>\n", ind,
            tc_sp__indicator_text(ind));
    s_summary(out, state);

    size_t nactive = 0;
    for (size_t i = tc_sp_state_nincidents(state); i-- > 0;) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        if (inc->resolved_ms)
            continue;
        if (nactive++ == 0)
            fputs("<section id=\"incidents\"><h2>Active incidents</h2>\n", out);
        s_incident_block(out, state, inc, page, "", true);
    }
    if (nactive)
        fputs("</section>\n", out);

    s_windows(out, state, page);
    s_components(out, state, page);

    size_t npast = 0;
    for (size_t i = tc_sp_state_nincidents(state); i-- > 0 && npast < TC_SP_PAST_MAX;) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        if (!inc->resolved_ms)
            continue;
        if (npast++ == 0)
            fputs("<section id=\"past\"><h2>Past incidents</h2><ul>\n", out);
        fprintf(out, "<li><a href=\"incidents/%" PRIu64 ".html\">", inc->id);
        s_title(out, inc->drill, inc->title);
        fputs("</a> <small>resolved ", out);
        tc_sp__html_time(out, inc->resolved_ms);
        fputs("</small>", out);
        if (inc->report)
            fprintf(out,
                    " &middot; <a class=\"report-link\" href=\"incidents/%" PRIu64
                    ".html#postmortem\">Post-incident report</a>",
                    inc->id);
        fputs("</li>\n", out);
    }
    if (npast)
        fputs("</ul></section>\n", out);
    s_footer(out, state, page, "");
    return ferror(out) ? TC_EIO : 0;
}

int tc_sp_render_incident(FILE *out, const tc_sp_state_t *state, const tc_sp_incident_t *inc,
                          const tc_sp_page_t *page)
{
    char title[TC_TITLE_MAX + 16];
    s_head(out, page, tc_sp__drill_name(inc->drill, inc->title, title, sizeof title), "../");
    fputs("<header><p><a href=\"../index.html\">&larr; ", out);
    tc_sp_escape(out, page->title);
    fputs("</a></p></header>\n", out);
    s_stale_banner(out, state, page);
    fputs("<section>\n", out);
    s_incident_block(out, state, inc, page, "../", false);
    fputs("</section>\n", out);
    s_footer(out, state, page, "../");
    return ferror(out) ? TC_EIO : 0;
}
