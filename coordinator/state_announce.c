/*
 * state_announce.c - internal announcements by default (see
 * tc_state__announce() in state_impl.h).
 *
 * Hotjar steps 2 and 5-7 announce every state of an incident internally,
 * so that staff never learn of it from customers. tocsin does it itself
 * for the severities in policy.internal_announce_severities: when the
 * incident is declared, changes public state or severity, and resolves, an
 * internal update is published from the internal template of its scenario
 * and state. What was last announced is read from the incident's newest
 * internal update by tocsin, so the decision depends on the state alone:
 * a replay and a snapshot make the same announcements.
 */
#include "state_impl.h"

#include "error.h"
#include "template.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_sev_in(unsigned set, uint32_t severity)
{
    return severity >= 1 && severity <= 5 && (set & (1u << severity));
}

/* The newest internal update tocsin published for `inc`, or NULL. */
static const tc_update_t *s_last(const tc_state_t *st, const tc_incident_t *inc)
{
    for (uint32_t n = inc->updates; n >= 1; n--) {
        const tc_update_t *u = tc_state_update(st, inc->id, n);
        if (u && !u->external && !strcmp(u->author, TC_STATE_ACTOR))
            return u;
    }
    return NULL;
}

/* The public state of `inc`: a declared incident not yet acknowledged is
 * being investigated. */
static const char *s_public_state(const tc_incident_t *inc)
{
    return inc->state == TC_INC_TRIGGERED ? "investigating" : tc_incident_state_name(inc->state);
}

/* The text: what changed, then the internal template of the scenario and
 * state, as drafts.c renders an operator's draft. */
static void s_render(const tc_state_t *st, const tc_incident_t *inc, const tc_update_t *last,
                     tc_update_t *u)
{
    char head[128], comps[TC_TEXT_MAX] = "", started[48], iso[40], incno[24], sev[16] = "";
    size_t h = 0;
    if (!last)
        h = (size_t)snprintf(head, sizeof head, "Declared SEV-%u.", inc->severity);
    else if (!strcmp(u->state, "resolved"))
        h = (size_t)snprintf(head, sizeof head, "Resolved.");
    else if (strcmp(last->state, u->state) != 0)
        h = (size_t)snprintf(head, sizeof head, "Now %s (was %s).", u->state, last->state);
    if (last && last->severity != inc->severity && h < sizeof head)
        snprintf(head + h, sizeof head - h, "%sSeverity SEV-%u (was SEV-%u).", h ? " " : "",
                 inc->severity, last->severity);
    size_t o = 0;
    for (size_t i = 0; i < st->policy->ncomponents && o < sizeof comps; i++) {
        const tc_component_policy_t *cp = &st->policy->components[i];
        if (tc_component_has_service(cp, inc->service))
            o += (size_t)snprintf(comps + o, sizeof comps - o, "%s%s", o ? ", " : "",
                                  cp->description[0] ? cp->description : cp->name);
    }
    tc_time_format(inc->opened_ms, iso, sizeof iso);
    snprintf(started, sizeof started, "%.10s %.5s UTC", iso, iso + 11);
    snprintf(incno, sizeof incno, "%llu", (unsigned long long)inc->id);
    if (inc->severity)
        snprintf(sev, sizeof sev, "SEV-%u", inc->severity);
    tc_template_vars_t vars = {.service = inc->service,
                               .components = comps[0] ? comps : NULL,
                               .state = u->state,
                               .incident = incno,
                               .severity = sev,
                               .started = started,
                               .title = inc->title[0] ? inc->title : inc->service,
                               .summary = inc->summary};
    size_t n = (size_t)snprintf(u->body, sizeof u->body, "%s\n", head);
    if (tc_templates_render(st->templates, u->scenario, "internal", u->state, &vars, u->body + n,
                            sizeof u->body - n) == TC_EINVAL)
        u->body[n - 1] = '\0';
    if (inc->bridge[0]) {
        n = strlen(u->body);
        if (n + strlen(inc->bridge) + sizeof "\nConference bridge: " <= sizeof u->body)
            snprintf(u->body + n, sizeof u->body - n, "\nConference bridge: %s", inc->bridge);
    }
}

void tc_state__announce(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                        tc_state_out_t *out)
{
    /* Drills rehearse the plan with their own updates. */
    if (!st->templates || !inc->declared || inc->drill || !inc->severity)
        return;
    unsigned set = st->policy->internal_announce_severities;
    const tc_update_t *last = s_last(st, inc);
    const char *state = s_public_state(inc);
    if (!last ? !s_sev_in(set, inc->severity)
              : (!strcmp(last->state, state) && last->severity == inc->severity) ||
                    (inc->state != TC_INC_RESOLVED && !s_sev_in(set, inc->severity) &&
                     !s_sev_in(set, last->severity)))
        return;
    /* Nothing was announced before it resolved: nothing to close. */
    if (!last && inc->state == TC_INC_RESOLVED)
        return;
    tc_update_t *u = calloc(1, sizeof *u);
    if (!u)
        return; /* the state stays consistent: the announcement is lost */
    u->external = false;
    snprintf(u->scenario, sizeof u->scenario, "%s",
             inc->security        ? "security"
             : inc->severity >= 3 ? "degradation"
                                  : "outage");
    snprintf(u->state, sizeof u->state, "%s", state);
    snprintf(u->title, sizeof u->title, "%s", inc->title);
    snprintf(u->author, sizeof u->author, TC_STATE_ACTOR);
    snprintf(u->impact, sizeof u->impact, "%s",
             inc->severity == 1   ? "critical"
             : inc->severity == 2 ? "major"
             : inc->severity == 3 ? "minor"
                                  : "none");
    u->drafted_ms = rec->time_ms;
    u->severity = inc->severity;
    u->status = TC_UPD_DRAFT;
    s_render(st, inc, last, u);
    tc_state__publish_new(st, inc, u, rec, out);
}
