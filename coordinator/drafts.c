/*
 * drafts.c - status updates and maintenance windows as the log records
 * them (see drafts.h).
 */
#include "drafts.h"

#include "error.h"
#include "human.h"
#include "utf8.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* "HH:MM UTC" of `ms`, for messages to customers. */
static void s_clock_text(int64_t ms, char *out, size_t cap)
{
    char iso[40];
    tc_time_format(ms, iso, sizeof iso);
    /* 2026-12-01T14:30:00.000Z -> 2026-12-01 14:30 UTC */
    snprintf(out, cap, "%.10s %.5s UTC", iso, iso + 11);
}

/* The components an incident's service is part of, as customers know
 * them (descriptions), for templates. */
static void s_component_text(const tc_policy_t *p, const char *service, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->ncomponents; i++) {
        const tc_component_policy_t *cp = &p->components[i];
        if (!tc_component_has_service(cp, service) || o >= cap)
            continue;
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? ", " : "",
                              cp->description[0] ? cp->description : cp->name);
    }
}

/* A title is one line of at most TC_TITLE_MAX - 1 bytes: refused with the
 * reason otherwise, never cut. 0 or TC_EINVAL. */
static int s_title_check(const char *what, const char *title, char *why, size_t cap)
{
    if (strlen(title) >= TC_TITLE_MAX) {
        snprintf(why, cap, "%s is %zu bytes; a title holds at most %d bytes of UTF-8", what,
                 strlen(title), TC_TITLE_MAX - 1);
        return TC_EINVAL;
    }
    const char *ctl = tc_utf8_control(title);
    if (ctl) {
        snprintf(why, cap, "%s holds a control character (byte 0x%02x at %zu): a title is one line",
                 what, (unsigned)(unsigned char)*ctl, (size_t)(ctl - title));
        return TC_EINVAL;
    }
    return 0;
}

/* Internal updates say where the incident's call is (Hotjar step 1), if
 * the line fits whole; the incident's details name it in any case. */
static void s_add_bridge(const tc_incident_t *inc, tc_update_t *u)
{
    if (u->external || !inc->bridge[0] || strstr(u->body, inc->bridge))
        return;
    size_t n = strlen(u->body);
    if (n + strlen(inc->bridge) + sizeof "\nConference bridge: " > sizeof u->body)
        return;
    snprintf(u->body + n, sizeof u->body - n, "%sConference bridge: %s", n ? "\n" : "",
             inc->bridge);
}

/* When service is expected back (`--eta`): a time (RFC 3339, or +DURATION
 * as tc_when_parse takes it), a duration from now, "unknown" (0), or, not
 * given, what the incident's last update said while that is still ahead.
 * Resolved: nothing more is expected. 0 or TC_EINVAL. */
static int s_eta(const tc_state_t *st, const tc_incident_t *inc, const char *arg, int64_t now,
                 tc_update_t *u, char *why, size_t cap)
{
    int64_t ms;
    u->eta_ms = 0;
    bool resolved = !strcmp(u->state, "resolved");
    if (!arg || !*arg) {
        if (resolved)
            return 0;
        for (uint32_t n = inc->updates; n >= 1; n--) {
            const tc_update_t *prev = tc_state_update(st, inc->id, n);
            if (prev && prev->status != TC_UPD_WITHDRAWN && prev->external == u->external) {
                u->eta_ms = prev->eta_ms > now ? prev->eta_ms : 0;
                break;
            }
        }
        return 0;
    }
    if (!strcmp(arg, "unknown"))
        return 0; /* resolved or not */
    if (tc_duration_parse(arg, &ms) == 0 && ms > 0)
        ms += now;
    else if (tc_when_parse(arg, now, &ms) != 0) {
        snprintf(why, cap,
                 "eta: a time (RFC 3339, 2026-12-02T15:00:00Z), a duration from now "
                 "such as 45m, or unknown");
        return TC_EINVAL;
    }
    if (ms <= now) {
        snprintf(why, cap, "eta: %s is not in the future", arg);
        return TC_EINVAL;
    }
    u->eta_ms = resolved ? 0 : ms;
    return 0;
}

/* The update of `update ID draft ...` (see drafts.h). */
int tc_draft_update(const tc_state_t *st, const tc_policy_t *p, const tc_templates_t *tpl,
                    int64_t now, uint64_t id, const tc_api_request_t *q, tc_update_t *u, char *why,
                    size_t cap)
{
    memset(u, 0, sizeof *u);
    const tc_incident_t *inc = tc_state_incident(st, id);
    if (!inc) {
        snprintf(why, cap, "no incident %llu", (unsigned long long)id);
        return TC_EINVAL;
    }
    const char *arg[9] = {0};
    for (size_t i = 0; i < q->nargs && i < 9; i++)
        arg[i] = q->args[i];
    const char *audience = arg[2] && *arg[2] ? arg[2] : "external";
    if (!tc_template_audience_valid(audience)) {
        snprintf(why, cap, "audience must be internal or external");
        return TC_EINVAL;
    }
    u->external = !strcmp(audience, "external");
    snprintf(u->scenario, sizeof u->scenario, "%s",
             arg[3] && *arg[3]    ? arg[3]
             : inc->security      ? "security"
             : inc->severity >= 3 ? "degradation"
                                  : "outage");
    /* The public state follows the incident's unless said otherwise. */
    const char *state = arg[4] && *arg[4]                ? arg[4]
                        : inc->state == TC_INC_TRIGGERED ? "investigating"
                                                         : tc_incident_state_name(inc->state);
    if (strlen(u->scenario) >= sizeof u->scenario - 1 || strlen(state) >= sizeof u->state) {
        snprintf(why, cap, "unknown scenario or state");
        return TC_EINVAL;
    }
    snprintf(u->state, sizeof u->state, "%s", state);
    if (arg[5]) {
        if (s_title_check("the title", arg[5], why, cap))
            return TC_EINVAL;
        tc_strlcpy_utf8(u->title, arg[5], sizeof u->title);
    }
    if (arg[6] && *arg[6]) {
        char list[TC_API_ARG_MAX];
        snprintf(list, sizeof list, "%s", arg[6]);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (u->ncomponents == TC_COMPONENTS_MAX || !tc_id_valid(t)) {
                snprintf(why, cap, "components: a comma-separated list of at most %d names",
                         TC_COMPONENTS_MAX);
                return TC_EINVAL;
            }
            snprintf(u->components[u->ncomponents++].name, TC_ID_MAX, "%s", t);
        }
    }
    int64_t next = 0;
    if (arg[7] && *arg[7]) {
        if (tc_duration_parse(arg[7], &next) != 0) {
            snprintf(why, cap, "next update: a duration such as 30m");
            return TC_EINVAL;
        }
    } else {
        next = tc_policy_update_interval(p, inc->declared_ms ? inc->declared_ms : now, now);
    }
    u->next_update_ms = !strcmp(state, "resolved") ? 0 : now + next;
    int rc = s_eta(st, inc, arg[8], now, u, why, cap);
    if (rc)
        return rc;
    if (q->message[0]) {
        if (strlen(q->message) >= sizeof u->body) {
            snprintf(why, cap, "the text is %zu bytes; an update holds at most %zu bytes of UTF-8",
                     strlen(q->message), sizeof u->body - 1);
            return TC_EINVAL;
        }
        tc_strlcpy_utf8(u->body, q->message, sizeof u->body);
        s_add_bridge(inc, u);
        return 0;
    }
    char comps[TC_TEXT_MAX] = "", when[48] = "", started[48], incno[24], sev[16] = "";
    if (u->ncomponents) {
        size_t o = 0;
        for (size_t i = 0; i < u->ncomponents && o < sizeof comps; i++) {
            const tc_component_policy_t *cp = tc_policy_component(p, u->components[i].name);
            o += (size_t)snprintf(comps + o, sizeof comps - o, "%s%s", i ? ", " : "",
                                  cp && cp->description[0] ? cp->description
                                                           : u->components[i].name);
        }
    } else {
        s_component_text(p, inc->service, comps, sizeof comps);
    }
    if (u->next_update_ms)
        tc_human_time_near(u->next_update_ms, now, when, sizeof when);
    s_clock_text(inc->opened_ms, started, sizeof started);
    snprintf(incno, sizeof incno, "%llu", (unsigned long long)inc->id);
    if (inc->severity)
        snprintf(sev, sizeof sev, "SEV-%u", inc->severity);
    /* What each severity means for a customer; SEV-4 and SEV-5 too, since
     * a resolved incident keeps the severity it had. */
    static const char *const impact[] = {"",
                                         "Most customers cannot use the affected features.",
                                         "Many customers are affected.",
                                         "Some customers may notice problems.",
                                         "Customers should not notice any impact.",
                                         "This is a cosmetic issue only."};
    tc_template_vars_t vars = {.service = inc->service,
                               .components = comps[0] ? comps : NULL,
                               .state = u->state,
                               .impact = impact[inc->severity <= 5 ? inc->severity : 0],
                               .next_update = when[0] ? when : NULL,
                               .incident = incno,
                               .severity = sev,
                               .started = started,
                               .title = u->title[0] ? u->title : inc->title,
                               .summary = inc->summary};
    char eta[TC_HUMAN_MAX + 64] = "";
    if (strcmp(state, "resolved") != 0) {
        char t[TC_HUMAN_MAX];
        if (u->eta_ms)
            snprintf(eta, sizeof eta, "We expect service to be restored by %s.",
                     tc_human_time(u->eta_ms, t, sizeof t));
        else
            snprintf(eta, sizeof eta, "We do not yet know when service will be restored.");
    }
    vars.eta = eta[0] ? eta : NULL;
    rc = tc_templates_render(tpl, u->scenario, audience, u->state, &vars, u->body, sizeof u->body);
    if (rc == TC_EINVAL) {
        snprintf(why, cap,
                 "no template for %s/%s/%s (scenario: outage, degradation, maintenance, "
                 "security; state: investigating, identified, monitoring, resolved)",
                 u->scenario, audience, u->state);
        return rc;
    }
    s_add_bridge(inc, u);
    return 0; /* TC_ETOOBIG: cut at a character boundary, still a message */
}

/* The public report of `postmortem ID report` (see drafts.h). */
int tc_draft_report(const tc_state_t *st, uint64_t id, const tc_api_request_t *q, tc_update_t *u,
                    char *why, size_t cap)
{
    memset(u, 0, sizeof *u);
    if (!tc_state_incident(st, id)) {
        snprintf(why, cap, "no incident %llu", (unsigned long long)id);
        return TC_EINVAL;
    }
    char text[TC_BODY_MAX];
    snprintf(text, sizeof text, "%s", q->message);
    const char *parts[TC_REPORT_PARTS] = {0};
    char *p = text;
    for (int k = 0; k < TC_REPORT_PARTS; k++) {
        char *sep = strchr(p, TC_REPORT_SEPARATOR);
        if ((sep != NULL) != (k < TC_REPORT_PARTS - 1)) {
            snprintf(why, cap, "a report has four parts: summary, impact, root cause and actions");
            return TC_EINVAL;
        }
        if (sep)
            *sep = '\0';
        parts[k] = p;
        p = sep ? sep + 1 : p;
    }
    for (int k = 0; k < TC_REPORT_PARTS; k++) {
        const char *t = parts[k];
        while (*t == ' ' || *t == '\n' || *t == '\t')
            t++;
        if (!*t) {
            snprintf(why, cap, "the report's %s is empty: customers read every part",
                     tc_report_heading((tc_report_part_t)k));
            return TC_EINVAL;
        }
        /* Paragraphs are allowed; anything else that moves the cursor or
         * rings a bell has no place in what customers read. */
        for (const char *c = parts[k]; *c; c++)
            if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t') {
                snprintf(why, cap, "the report's %s holds a control character (byte 0x%02x)",
                         tc_report_heading((tc_report_part_t)k), (unsigned)(unsigned char)*c);
                return TC_EINVAL;
            }
    }
    snprintf(u->scenario, sizeof u->scenario, "%s", TC_REPORT_SCENARIO);
    snprintf(u->state, sizeof u->state, "%s", TC_REPORT_SCENARIO);
    u->external = true;
    if (tc_report_compose(u, parts) != 0) {
        size_t total = 0;
        for (int k = 0; k < TC_REPORT_PARTS; k++)
            total += strlen(parts[k]) + strlen(tc_report_heading((tc_report_part_t)k)) + 3;
        snprintf(why, cap,
                 "the report is about %zu bytes with its headings; a report holds at most %d "
                 "bytes of UTF-8",
                 total, TC_BODY_MAX - 1);
        return TC_EINVAL;
    }
    return 0;
}

/* The window of `maintenance add ...` (see drafts.h). */
int tc_draft_window(int64_t now, const tc_api_request_t *q, tc_maintenance_t *w, char *why,
                    size_t cap)
{
    memset(w, 0, sizeof *w);
    if (q->nargs != 7) {
        snprintf(why, cap, "maintenance add wants START END COMPONENTS EVERY VERIFY TITLE");
        return TC_EINVAL;
    }
    if (tc_when_parse(q->args[1], now, &w->start_ms) ||
        tc_when_parse(q->args[2], now, &w->end_ms)) {
        snprintf(why, cap, "start and end: RFC 3339 (2026-12-01T22:00:00Z), now, or +DURATION");
        return TC_EINVAL;
    }
    if ((q->args[4][0] && tc_duration_parse(q->args[4], &w->every_ms)) ||
        (q->args[5][0] && tc_duration_parse(q->args[5], &w->verify_ms))) {
        snprintf(why, cap, "every and verify are durations such as 7d or 15m");
        return TC_EINVAL;
    }
    char list[TC_API_ARG_MAX];
    snprintf(list, sizeof list, "%s", q->args[3]);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (w->ncomponents == TC_COMPONENTS_MAX || !tc_id_valid(t)) {
            snprintf(why, cap, "components: a comma-separated list of at most %d names",
                     TC_COMPONENTS_MAX);
            return TC_EINVAL;
        }
        snprintf(w->components[w->ncomponents++], TC_ID_MAX, "%s", t);
    }
    if (s_title_check("the title", q->args[6], why, cap))
        return TC_EINVAL;
    if (strlen(q->message) >= sizeof w->description) {
        snprintf(why, cap,
                 "the description is %zu bytes; a window's holds at most %zu bytes of UTF-8",
                 strlen(q->message), sizeof w->description - 1);
        return TC_EINVAL;
    }
    tc_strlcpy_utf8(w->title, q->args[6], sizeof w->title);
    tc_strlcpy_utf8(w->description, q->message, sizeof w->description);
    return 0;
}
