/*
 * state_comms.c - the communication plan in the state machine (see state_impl.h):
 * status updates drafted, approved and published to an audience;
 * components whose status follows declared incidents and maintenance
 * windows, or an operator; the external-update cadence; maintenance
 * windows and what they do to paging; delivery reports; drills.
 *
 * Pure like the rest of the state machine: time comes from the record,
 * texts from the templates the state was given.
 */
#include "state_impl.h"

#include "error.h"
#include "human.h"
#include "template.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the communication plan: status updates, components, maintenance ---- */

/* Worst first for incidents; maintenance is its own kind of "not normal". */
static tc_component_status_t s_sev_status(uint32_t severity)
{
    switch (severity) {
    case 1: return TC_COMP_MAJOR_OUTAGE;
    case 2: return TC_COMP_PARTIAL_OUTAGE;
    case 3: return TC_COMP_DEGRADED;
    default: return TC_COMP_OPERATIONAL; /* SEV-4/5: no customer impact */
    }
}

static const char *s_impact(uint32_t severity)
{
    switch (severity) {
    case 1: return "critical";
    case 2: return "major";
    case 3: return "minor";
    default: return "none";
    }
}

static bool s_window_covers_service(const tc_state_t *st, const tc_maintenance_t *w,
                                    const char *service)
{
    for (size_t i = 0; i < w->ncomponents; i++) {
        const tc_component_policy_t *cp = tc_policy_component(st->policy, w->components[i]);
        if (cp && tc_component_has_service(cp, service))
            return true;
    }
    return false;
}

uint64_t tc_state_service_in_maintenance(const tc_state_t *st, const char *service)
{
    for (size_t i = 0; i < st->nmaints; i++)
        if (st->maints[i].state == TC_MAINT_IN_PROGRESS &&
            s_window_covers_service(st, &st->maints[i], service))
            return st->maints[i].id;
    return 0;
}

/* A component's status as incidents and maintenance make it: the worst
 * declared (not drill) incident of its services, unless a window in
 * progress covers it, which customers were told about ahead. */
static tc_component_status_t s_derive(const tc_state_t *st, const tc_component_policy_t *cp)
{
    for (size_t i = 0; i < st->nmaints; i++) {
        const tc_maintenance_t *w = &st->maints[i];
        if (w->state != TC_MAINT_IN_PROGRESS)
            continue;
        for (size_t k = 0; k < w->ncomponents; k++)
            if (!strcmp(w->components[k], cp->name))
                return TC_COMP_MAINTENANCE;
    }
    tc_component_status_t worst = TC_COMP_OPERATIONAL;
    for (size_t i = 0; i < cp->nservices; i++) {
        tc_state__service_t *svc = zhashx_lookup(st->services, cp->services[i]);
        const tc_incident_t *inc = svc ? svc->open : NULL;
        if (!inc || !inc->declared || inc->drill)
            continue;
        /* A security incident shows customers nothing more than they saw
         * before it was flagged, until its disclosure is cleared. */
        tc_component_status_t s =
            s_sev_status(tc_state__disclosure_cleared(inc) ? inc->severity : inc->flagged_severity);
        if (s > worst)
            worst = s;
    }
    return worst;
}

/* Recomputes every component and broadcasts those whose shown status
 * changed. Cheap: components and their services are few. */
void tc_state__components_refresh(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    for (size_t i = 0; i < st->ncomponents; i++) {
        tc_component_t *c = &st->components[i];
        const tc_component_policy_t *cp = tc_policy_component(st->policy, c->name);
        if (!cp)
            continue;
        c->derived = s_derive(st, cp);
        tc_component_status_t shown = c->overridden ? c->status : c->derived;
        if (shown == c->status && c->changed_ms)
            continue;
        c->status = shown;
        c->changed_ms = rec->time_ms;
        tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_COMPONENT, rec->seq, NULL);
        if (b) {
            b->component = *c;
            tc_state__text(b->detail, sizeof b->detail, "component %s is %s", c->name,
                           tc_component_status_name(c->status));
        }
    }
}

static void s_update_key(char *key, size_t cap, uint64_t incident, uint64_t window, uint32_t n)
{
    snprintf(key, cap, "%c%llu.%u", incident ? 'i' : 'm',
             (unsigned long long)(incident ? incident : window), n);
}

const tc_update_t *tc_state_update(const tc_state_t *st, uint64_t incident, uint32_t number)
{
    return tc_state__update_mut(st, incident, number);
}

tc_update_t *tc_state__update_mut(const tc_state_t *st, uint64_t incident, uint32_t number)
{
    char key[48];
    s_update_key(key, sizeof key, incident, 0, number);
    return zhashx_lookup(st->updates, key);
}

static int s_cmp_update(const void *a, const void *b)
{
    const tc_update_t *x = *(const tc_update_t *const *)a, *y = *(const tc_update_t *const *)b;
    if (x->incident != y->incident)
        return x->incident < y->incident ? -1 : 1;
    if (x->maintenance != y->maintenance)
        return x->maintenance < y->maintenance ? -1 : 1;
    return x->number < y->number ? -1 : x->number > y->number;
}

void tc_state_each_update(const tc_state_t *st, uint64_t incident, tc_state_update_fn *fn,
                          void *ctx)
{
    size_t n = zhashx_size(st->updates), k = 0;
    const tc_update_t **v = calloc(n + 1, sizeof *v);
    if (!v)
        return;
    for (tc_update_t *u = zhashx_first(st->updates); u; u = zhashx_next(st->updates))
        if (!incident || u->incident == incident)
            v[k++] = u;
    qsort(v, k, sizeof *v, s_cmp_update);
    for (size_t i = 0; i < k; i++)
        fn(v[i], ctx);
    free(v);
}

const tc_component_t *tc_state_components(const tc_state_t *st, size_t *n)
{
    *n = st->ncomponents;
    return st->components;
}

const tc_maintenance_t *tc_state_maintenance(const tc_state_t *st, uint64_t id)
{
    for (size_t i = 0; i < st->nmaints; i++)
        if (st->maints[i].id == id)
            return &st->maints[i];
    return NULL;
}

void tc_state_each_maintenance(const tc_state_t *st, tc_state_maint_fn *fn, void *ctx)
{
    for (size_t i = 0; i < st->nmaints; i++) /* appended in id order */
        fn(&st->maints[i], ctx);
}

static int s_cmp_sub(const void *a, const void *b)
{
    return strcmp((*(const tc_state_subscriber_t *const *)a)->name,
                  (*(const tc_state_subscriber_t *const *)b)->name);
}

void tc_state_each_subscriber(const tc_state_t *st, tc_state_subscriber_fn *fn, void *ctx)
{
    size_t n = zhashx_size(st->subscribers), i = 0;
    const tc_state_subscriber_t **v = calloc(n + 1, sizeof *v);
    if (!v)
        return;
    for (tc_state_subscriber_t *s = zhashx_first(st->subscribers); s;
         s = zhashx_next(st->subscribers))
        v[i++] = s;
    qsort(v, n, sizeof *v, s_cmp_sub);
    for (i = 0; i < n; i++)
        fn(v[i], ctx);
    free(v);
}

/* The current status of each component named in `u`; none named: every
 * component that covers the incident's service. */
static void s_update_components(const tc_state_t *st, const tc_incident_t *inc, tc_update_t *u)
{
    if (u->ncomponents == 0 && inc) {
        for (size_t i = 0; i < st->ncomponents && u->ncomponents < TC_COMPONENTS_MAX; i++) {
            const tc_component_policy_t *cp =
                tc_policy_component(st->policy, st->components[i].name);
            if (cp && tc_component_has_service(cp, inc->service))
                snprintf(u->components[u->ncomponents++].name, TC_ID_MAX, "%s", cp->name);
        }
    }
    for (size_t i = 0; i < u->ncomponents; i++) {
        u->components[i].status = TC_COMP_OPERATIONAL;
        for (size_t k = 0; k < st->ncomponents; k++)
            if (!strcmp(st->components[k].name, u->components[i].name))
                u->components[i].status = st->components[k].status;
    }
}

void tc_state__publish(tc_state_t *st, tc_incident_t *inc, tc_update_t *u, const tc_record_t *rec,
                       const char *actor, tc_state_out_t *out)
{
    u->status = TC_UPD_PUBLISHED;
    u->published_ms = rec->time_ms;
    u->started_ms = inc->opened_ms;
    inc->progress_ms = rec->time_ms;
    s_update_components(st, inc, u);
    char text[TC_TEXT_MAX];
    if (u->restricted) {
        /* Need to know: the group's own pages, never status.internal. */
        char sent[TC_TEXT_MAX / 2];
        tc_state__restricted(st, inc, u, rec, out, sent, sizeof sent);
        tc_state__text(text, sizeof text,
                       "restricted internal update %u published by %s (%s) to the need-to-know "
                       "group: %s",
                       u->number, actor, u->state, sent[0] ? sent : "nobody holds a role yet");
        inc->updated_ms = rec->time_ms;
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
        return;
    }
    tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_STATUS_UPDATE, rec->seq, NULL);
    if (b) {
        snprintf(b->topic, sizeof b->topic, "status.%s", u->external ? "external" : "internal");
        b->update = *u;
        tc_state__text(b->detail, sizeof b->detail,
                       "%supdate %u of incident %llu (%s, %s) published", u->drill ? "DRILL: " : "",
                       u->number, (unsigned long long)u->incident,
                       u->external ? "external" : "internal", u->state);
    }
    if (tc_update_is_report(u))
        tc_state__text(text, sizeof text, "public post-mortem report (update %u) published by %s",
                       u->number, actor);
    else
        tc_state__text(text, sizeof text, "%s update %u published by %s (%s): %.200s",
                       u->external ? "external" : "internal", u->number, actor, u->state, u->body);
    if (u->external) {
        inc->is_public = true;
        inc->last_external_ms = rec->time_ms;
        if (inc->pending_update == u->number)
            inc->pending_update = 0;
        /* The next update is due when this one said it would come. */
        inc->next_update_due_ms =
            inc->state == TC_INC_RESOLVED ? 0
            : u->next_update_ms > rec->time_ms
                ? u->next_update_ms
                : rec->time_ms +
                      tc_policy_update_interval(st->policy, inc->declared_ms, rec->time_ms);
    }
    inc->updated_ms = rec->time_ms;
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor,
                      tc_update_is_report(u) ? "postmortem" : "update", text);
}

void tc_state__publish_new(tc_state_t *st, tc_incident_t *inc, tc_update_t *u,
                           const tc_record_t *rec, tc_state_out_t *out)
{
    char key[48];
    u->incident = inc->id;
    u->number = ++inc->updates;
    u->restricted = !u->external && inc->security;
    s_update_key(key, sizeof key, inc->id, 0, u->number);
    zhashx_update(st->updates, key, u);
    tc_state__publish(st, inc, u, rec, u->author, out);
}

tc_update_t *tc_state__add_draft(tc_state_t *st, tc_incident_t *inc, const tc_update_t *from,
                                 const tc_record_t *rec, const char *actor)
{
    char key[48];
    tc_update_t *u = malloc(sizeof *u);
    if (!u)
        return NULL;
    *u = *from;
    u->incident = inc->id;
    u->maintenance = 0;
    u->number = ++inc->updates;
    u->status = TC_UPD_DRAFT;
    snprintf(u->author, sizeof u->author, "%s", actor);
    u->drafted_ms = rec->time_ms;
    u->severity = inc->severity;
    u->drill = inc->drill;
    u->restricted = !u->external && inc->security;
    snprintf(u->impact, sizeof u->impact, "%s", s_impact(inc->severity));
    if (u->title[0])
        snprintf(inc->title, sizeof inc->title, "%s", u->title);
    else
        snprintf(u->title, sizeof u->title, "%s", inc->title);
    s_update_components(st, inc, u);
    s_update_key(key, sizeof key, inc->id, 0, u->number);
    zhashx_update(st->updates, key, u);
    inc->updated_ms = rec->time_ms;
    return u;
}

int tc_state__check_approver(const tc_incident_t *inc, const char *actor, const char *what,
                             char *why, size_t whylen)
{
    /* Without keys ("plaintext") nobody has a name to check. */
    const char *ic = tc_state__commander(inc);
    if (ic && strcmp(ic, actor) != 0 && strcmp(actor, TC_STATE_ACTOR) != 0 &&
        strcmp(actor, "plaintext") != 0)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "only the incident commander (%s) approves %s", ic, what);
    return 0;
}

int tc_state__check_disclosure(const tc_incident_t *inc, char *why, size_t whylen)
{
    if (tc_state__disclosure_cleared(inc))
        return 0;
    return tc_state__refuse(why, whylen, TC_EINVAL,
                            "external texts of security incident %llu are held until the "
                            "incident commander and the data protection officer clear "
                            "disclosure (security %llu clear); so far: IC %s, DPO %s",
                            (unsigned long long)inc->id, (unsigned long long)inc->id,
                            inc->disclosure_ic_ms ? "cleared" : "not yet",
                            inc->disclosure_dpo_ms ? "cleared" : "not yet");
}

const char *tc_state__commander(const tc_incident_t *inc)
{
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, "commander"))
            return inc->roles[i].person;
    return NULL;
}

static bool s_sev_in(unsigned set, uint32_t severity)
{
    return severity >= 1 && severity <= 5 && (set & (1u << severity));
}

int tc_state__check_update(const tc_state_t *st, const tc_incident_t *inc,
                           const tc_operator_action_t *a, char *why, size_t whylen)
{
    const char *op = a->nargs >= 1 ? a->args[0] : "";
    if (!strcmp(op, "draft")) {
        const tc_update_t *u = &a->update;
        if (!tc_template_scenario_valid(u->scenario))
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "scenario must be outage, degradation, maintenance or security");
        if (!tc_template_state_valid(u->scenario, u->state))
            return tc_state__refuse(why, whylen, TC_EINVAL, "state \"%s\" does not fit scenario %s",
                                    u->state, u->scenario);
        if (!u->body[0])
            return tc_state__refuse(why, whylen, TC_EINVAL, "an update needs text");
        if (inc->updates >= 10000)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu has too many updates",
                                    (unsigned long long)inc->id);
        for (size_t i = 0; i < u->ncomponents; i++)
            if (st->policy->ncomponents && !tc_policy_component(st->policy, u->components[i].name))
                return tc_state__refuse(why, whylen, TC_EINVAL, "no component \"%s\" is configured",
                                        u->components[i].name);
        /* Internal detail in external texts is refused when the update
         * is drafted (tc_state_guard), not here: a replay does not judge
         * a stored text again by a guard that may have learnt more. */
        return 0;
    }
    uint64_t n = 0;
    if ((strcmp(op, "approve") && strcmp(op, "publish") && strcmp(op, "withdraw")) ||
        a->nargs != 2 || tc_u64_parse(a->args[1], UINT32_MAX, &n) != 0)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "update wants: draft ..., approve N, publish N or "
                                "withdraw N");
    const tc_update_t *u = tc_state_update(st, inc->id, (uint32_t)n);
    if (!u)
        return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu has no update %llu",
                                (unsigned long long)inc->id, (unsigned long long)n);
    if (tc_update_is_report(u))
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "update %llu is the public post-mortem report: tocsinctl "
                                "postmortem %llu approve|publish",
                                (unsigned long long)n, (unsigned long long)inc->id);
    if (u->status == TC_UPD_PUBLISHED || u->status == TC_UPD_WITHDRAWN)
        return tc_state__refuse(why, whylen, TC_EINVAL, "update %llu is already %s",
                                (unsigned long long)n, tc_update_status_name(u->status));
    if (!strcmp(op, "approve")) {
        if (!u->external)
            return tc_state__refuse(why, whylen, TC_EINVAL, "internal updates need no approval");
        if (u->status == TC_UPD_APPROVED)
            return tc_state__refuse(why, whylen, TC_EINVAL, "update %llu is already approved",
                                    (unsigned long long)n);
        return tc_state__check_approver(inc, a->actor, "external updates", why, whylen);
    }
    if (!strcmp(op, "publish") && u->external && u->status != TC_UPD_APPROVED)
        return tc_state__refuse(
            why, whylen, TC_EINVAL,
            "external update %llu needs the incident commander's approval first",
            (unsigned long long)n);
    if (!strcmp(op, "publish") && u->external)
        return tc_state__check_disclosure(inc, why, whylen);
    return 0;
}

int tc_state__apply_update(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                           const char *actor, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    const char *op = a->args[0];
    char text[TC_TEXT_MAX], key[48];
    if (!strcmp(op, "draft")) {
        tc_update_t *u = tc_state__add_draft(st, inc, &a->update, rec, actor);
        if (!u)
            return TC_ENOMEM;
        if (!u->external) {
            tc_state__text(text, sizeof text, "internal update %u drafted by %s", u->number, actor);
            tc_state__publish(st, inc, u, rec, actor, out);
            return 0;
        }
        if (s_sev_in(st->policy->auto_publish_severities, inc->severity) &&
            tc_state__disclosure_cleared(inc)) {
            u->status = TC_UPD_APPROVED;
            snprintf(u->approver, sizeof u->approver, "%s", TC_STATE_ACTOR);
            u->approved_ms = rec->time_ms;
            tc_state__publish(st, inc, u, rec, actor, out);
            return 0;
        }
        inc->pending_update = u->number;
        const char *ic = tc_state__commander(inc);
        tc_state__text(
            text, sizeof text,
            "external update %u (%s, %s) drafted by %s; awaiting approval by the incident "
            "commander%s%s%s",
            u->number, u->scenario, u->state, actor, ic ? " " : "", ic ? ic : "",
            tc_state__disclosure_cleared(inc) ? ""
                                              : "; held until the IC and the DPO clear disclosure");
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
        return 0;
    }
    uint64_t n = 0;
    tc_u64_parse(a->args[1], UINT32_MAX, &n);
    s_update_key(key, sizeof key, inc->id, 0, (uint32_t)n);
    tc_update_t *u = zhashx_lookup(st->updates, key);
    inc->updated_ms = rec->time_ms;
    if (!strcmp(op, "approve")) {
        u->status = TC_UPD_APPROVED;
        snprintf(u->approver, sizeof u->approver, "%s", actor);
        u->approved_ms = rec->time_ms;
        tc_state__text(text, sizeof text, "external update %u approved by %s", u->number, actor);
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
    } else if (!strcmp(op, "publish")) {
        tc_state__publish(st, inc, u, rec, actor, out);
    } else {
        u->status = TC_UPD_WITHDRAWN;
        if (inc->pending_update == u->number)
            inc->pending_update = 0;
        tc_state__text(text, sizeof text, "update %u withdrawn by %s%s%s", u->number, actor,
                       a->message[0] ? ": " : "", a->message);
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
    }
    return 0;
}

/* `delivery N SUBSCRIPTION RESULT LATENCY_MS ATTEMPTS` from a notifier;
 * for RESULT `failing` (a stalled channel) the latency is the age of its
 * oldest undelivered delivery and the message its last error. Incident
 * NULL: a maintenance window's delivery (incident 0). */
int tc_state__check_delivery(const tc_state_t *st, const tc_incident_t *inc,
                             const tc_operator_action_t *a, char *why, size_t whylen)
{
    uint64_t n, v;
    if (a->nargs != 5 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0 ||
        !tc_id_valid(a->args[1]) ||
        (strcmp(a->args[2], "delivered") != 0 && strcmp(a->args[2], "failed") != 0 &&
         strcmp(a->args[2], "failing") != 0) ||
        tc_u64_parse(a->args[3], UINT32_MAX, &v) != 0 ||
        tc_u64_parse(a->args[4], UINT32_MAX, &v) != 0)
        return tc_state__refuse(
            why, whylen, TC_EINVAL,
            "delivery wants UPDATE SUBSCRIPTION delivered|failed|failing LATENCY_MS ATTEMPTS");
    if (inc && !tc_state_update(st, inc->id, (uint32_t)n))
        return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu has no update %llu",
                                (unsigned long long)inc->id, (unsigned long long)n);
    return 0;
}

int tc_state__apply_delivery(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                             const char *actor, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    uint64_t latency = 0, attempts = 0;
    tc_u64_parse(a->args[3], UINT32_MAX, &latency);
    tc_u64_parse(a->args[4], UINT32_MAX, &attempts);
    tc_state_subscriber_t *s = zhashx_lookup(st->subscribers, a->args[1]);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return TC_ENOMEM;
        snprintf(s->name, sizeof s->name, "%s", a->args[1]);
        zhashx_insert(st->subscribers, a->args[1], s);
    }
    bool ok = !strcmp(a->args[2], "delivered");
    if (!strcmp(a->args[2], "failing")) {
        /* Neither delivered nor failed yet: the channel is stalled, since
         * its oldest delivery started waiting. */
        s->failing = true;
        s->failing_since_ms = rec->received_ms - (int64_t)latency;
        tc_strlcpy_utf8(s->failing_detail, a->message, sizeof s->failing_detail);
    } else {
        if (ok) {
            s->delivered++;
            s->latency_total_ms += latency;
        } else {
            s->failed++;
        }
        s->failing = false;
        s->failing_since_ms = 0;
        s->failing_detail[0] = '\0';
        tc_strlcpy_utf8(s->last_detail, a->message, sizeof s->last_detail);
    }
    s->last_ms = rec->time_ms;
    snprintf(s->last_result, sizeof s->last_result, "%.15s", a->args[2]); /* checked */
    tc_timeline_t *t = inc ? tc_state__note(out, inc, rec, actor, "delivery") : NULL;
    if (t)
        tc_state__text(t->text, sizeof t->text,
                       "update %s to %s: %s in %llu ms after %llu attempt%s%s%s", a->args[0],
                       a->args[1], a->args[2], (unsigned long long)latency,
                       (unsigned long long)attempts, attempts == 1 ? "" : "s",
                       a->message[0] ? ": " : "", a->message);
    return 0;
}

/* Global actions (incident 0): component overrides, maintenance windows,
 * drills. */
int tc_state__check_global(const tc_state_t *st, const tc_operator_action_t *a, char *why,
                           size_t whylen)
{
    const char *act = a->action;
    if (!strcmp(act, "component")) {
        tc_component_status_t cs;
        if (a->nargs != 2 ||
            (strcmp(a->args[1], "auto") != 0 && tc_component_status_parse(a->args[1], &cs) != 0))
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "component wants NAME and operational, degraded_performance, "
                                    "partial_outage, major_outage, under_maintenance or auto");
        for (size_t i = 0; i < st->ncomponents; i++)
            if (!strcmp(st->components[i].name, a->args[0]))
                return 0;
        return tc_state__refuse(why, whylen, TC_EINVAL, "no component \"%s\" is configured",
                                a->args[0]);
    }
    if (!strcmp(act, "maintenance")) {
        const char *op = a->nargs ? a->args[0] : "";
        if (!strcmp(op, "add")) {
            const tc_maintenance_t *w = &a->maint;
            if (!w->title[0])
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "a maintenance window needs a title");
            if (w->end_ms <= w->start_ms || w->start_ms <= 0)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "the window must end after it starts");
            if (w->every_ms && w->every_ms < w->end_ms - w->start_ms)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "a recurring window must not overlap its next occurrence");
            if (w->ncomponents == 0)
                return tc_state__refuse(why, whylen, TC_EINVAL, "name the components it affects");
            for (size_t i = 0; i < w->ncomponents; i++)
                if (!tc_policy_component(st->policy, w->components[i]))
                    return tc_state__refuse(why, whylen, TC_EINVAL,
                                            "no component \"%s\" is configured", w->components[i]);
            return 0;
        }
        uint64_t id = 0;
        if (a->nargs != 2 || tc_u64_parse(a->args[1], UINT64_MAX, &id) != 0 ||
            (strcmp(op, "start") && strcmp(op, "complete") && strcmp(op, "cancel")))
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "maintenance wants: add ..., start ID, complete ID or cancel ID");
        const tc_maintenance_t *w = tc_state_maintenance(st, id);
        if (!w)
            return tc_state__refuse(why, whylen, TC_ENOTFOUND, "no maintenance window %llu",
                                    (unsigned long long)id);
        bool ok = !strcmp(op, "start") ? w->state == TC_MAINT_SCHEDULED
                  : !strcmp(op, "complete")
                      ? (w->state == TC_MAINT_IN_PROGRESS || w->state == TC_MAINT_VERIFYING)
                      : (w->state == TC_MAINT_SCHEDULED || w->state == TC_MAINT_IN_PROGRESS);
        if (!ok)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "maintenance window %llu is %s; cannot %s it",
                                    (unsigned long long)id, tc_maint_state_name(w->state), op);
        return 0;
    }
    if (!strcmp(act, "delivery")) /* a maintenance window's */
        return tc_state__check_delivery(st, NULL, a, why, whylen);
    if (!strcmp(act, "clock")) {
        /* The test clock moved forward: a record of it, so a restart
         * resumes from the moved clock; nothing in the state changes. */
        int64_t ms;
        if (a->nargs != 2 || strcmp(a->args[0], "advance") != 0 ||
            tc_duration_parse(a->args[1], &ms) != 0)
            return tc_state__refuse(why, whylen, TC_EINVAL, "clock wants advance DURATION");
        return 0;
    }
    if (!strcmp(act, "drill")) {
        uint64_t sev = 0;
        if (a->nargs != 2 || !tc_id_valid(a->args[0]) || tc_u64_parse(a->args[1], 5, &sev) ||
            sev < 1)
            return tc_state__refuse(why, whylen, TC_EINVAL, "drill wants SERVICE SEVERITY");
        tc_state__service_t *svc = zhashx_lookup(st->services, a->args[0]);
        if (svc && svc->open)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "service %s has open incident %llu; drill on another service",
                                    a->args[0], (unsigned long long)svc->open->id);
        return 0;
    }
    return tc_state__refuse(why, whylen, TC_ENOTFOUND, "no incident 0");
}

/* Announces window `w` in its current state to customers: an external
 * status update written from the maintenance template of that state. */
static void s_announce(const tc_state_t *st, const tc_maintenance_t *w, const tc_record_t *rec,
                       tc_state_out_t *out)
{
    if (!st->templates || w->state == TC_MAINT_CANCELLED)
        return;
    tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_STATUS_UPDATE, rec->seq, NULL);
    if (!b)
        return;
    tc_update_t *u = &b->update;
    u->maintenance = w->id;
    u->number = (w->occurrence - 1) * 4 + (uint32_t)w->state + 1;
    u->external = true;
    snprintf(u->scenario, sizeof u->scenario, "maintenance");
    snprintf(u->state, sizeof u->state, "%s", tc_maint_state_name(w->state));
    tc_strlcpy_utf8(u->title, w->title, sizeof u->title);
    char comps[TC_TEXT_MAX] = "", window[2 * TC_HUMAN_MAX];
    size_t o = 0;
    for (size_t i = 0; i < w->ncomponents && i < TC_COMPONENTS_MAX; i++) {
        const tc_component_policy_t *cp = tc_policy_component(st->policy, w->components[i]);
        const char *name = cp && cp->description[0] ? cp->description : w->components[i];
        o += (size_t)snprintf(comps + o, o < sizeof comps ? sizeof comps - o : 0, "%s%s",
                              i ? ", " : "", name);
        snprintf(u->components[u->ncomponents++].name, TC_ID_MAX, "%s", w->components[i]);
    }
    tc_human_window(w->start_ms, w->end_ms, window, sizeof window);
    tc_template_vars_t vars = {.components = comps,
                               .state = u->state,
                               .title = w->title,
                               .window = window,
                               .description = w->description};
    tc_templates_render(st->templates, "maintenance", "external", u->state, &vars, u->body,
                        sizeof u->body);
    s_update_components(st, NULL, u);
    snprintf(u->impact, sizeof u->impact, "maintenance");
    snprintf(u->author, sizeof u->author, TC_STATE_ACTOR);
    snprintf(u->approver, sizeof u->approver, TC_STATE_ACTOR);
    u->status = TC_UPD_PUBLISHED;
    u->drafted_ms = u->approved_ms = u->published_ms = rec->time_ms;
    u->drill = w->drill;
    u->started_ms = w->start_ms;
    snprintf(b->topic, sizeof b->topic, "status.external");
    tc_state__text(b->detail, sizeof b->detail, "maintenance window %llu announced: %s",
                   (unsigned long long)w->id, u->state);
}

int64_t tc_state__maint_due(const tc_maintenance_t *w)
{
    switch (w->state) {
    case TC_MAINT_SCHEDULED: return w->start_ms;
    case TC_MAINT_IN_PROGRESS: return w->end_ms;
    case TC_MAINT_VERIFYING: return w->end_ms + w->verify_ms;
    default: return 0; /* completed and cancelled windows stay put */
    }
}

/* Moves window `w` to state `to`, with what that means for incidents of
 * the services it covers. */
void tc_state__maint_move(tc_state_t *st, tc_maintenance_t *w, tc_maint_state_t to,
                          const tc_record_t *rec, const char *actor, tc_state_out_t *out)
{
    tc_maint_state_t from = w->state;
    w->state = to;
    char text[TC_TEXT_MAX];
    for (tc_state__service_t *svc = zhashx_first(st->services); svc;
         svc = zhashx_next(st->services)) {
        tc_incident_t *inc = svc->open;
        if (!inc || !s_window_covers_service(st, w, svc->name))
            continue;
        if (to == TC_MAINT_IN_PROGRESS) {
            /* Expected trouble: escalations under way are cancelled. */
            for (size_t i = 0; i < inc->nroles; i++) {
                tc_role_t *r = &inc->roles[i];
                if (!r->acked_ms) {
                    r->ack_timeout_ms = 0;
                    r->escalating = false;
                }
            }
            tc_state__text(
                text, sizeof text,
                "maintenance window %llu (%s) in progress: paging suppressed, escalations "
                "cancelled",
                (unsigned long long)w->id, w->title);
            tc_timeline_t *t = tc_state__note(out, inc, rec, actor, "maintenance");
            if (t)
                tc_strlcpy_utf8(t->text, text, sizeof t->text);
        } else if (from == TC_MAINT_IN_PROGRESS) {
            /* Still failing after the window: tell everyone again. */
            tc_state__text(
                text, sizeof text,
                "maintenance window %llu (%s) is over and checks still fail: re-notifying",
                (unsigned long long)w->id, w->title);
            inc->updated_ms = rec->time_ms;
            tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "maintenance", text);
            for (size_t i = 0; i < inc->nroles; i++)
                if (!inc->roles[i].acked_ms) {
                    inc->roles[i].paged_ms = rec->time_ms;
                    inc->roles[i].repeats = 0; /* a new page (state_pages.c) */
                    inc->roles[i].repeated_ms = 0;
                    tc_state__page(st, out, inc, &inc->roles[i], rec, TC_PAGE_ASSIGNED);
                }
        }
    }
    s_announce(st, w, rec, out);
    tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_MAINTENANCE, rec->seq, NULL);
    if (b) {
        b->maint = *w;
        tc_state__text(b->detail, sizeof b->detail,
                       "%smaintenance window %llu (%s): %s -> %s, by %s", w->drill ? "DRILL: " : "",
                       (unsigned long long)w->id, w->title, tc_maint_state_name(from),
                       tc_maint_state_name(to), actor);
    }
    if (to == TC_MAINT_COMPLETED && w->every_ms) {
        /* A recurring window comes back: announced ahead like the first. */
        w->occurrence++;
        w->start_ms += w->every_ms;
        w->end_ms += w->every_ms;
        w->state = TC_MAINT_SCHEDULED;
        s_announce(st, w, rec, out);
        b = tc_state__emit(out, TC_BCAST_MAINTENANCE, rec->seq, NULL);
        if (b) {
            b->maint = *w;
            tc_state__text(b->detail, sizeof b->detail,
                           "maintenance window %llu (%s): occurrence %u "
                           "scheduled",
                           (unsigned long long)w->id, w->title, w->occurrence);
        }
    }
}

int tc_state__apply_global(tc_state_t *st, const tc_record_t *rec, const char *actor,
                           tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    if (!strcmp(a->action, "component")) {
        for (size_t i = 0; i < st->ncomponents; i++) {
            tc_component_t *c = &st->components[i];
            if (strcmp(c->name, a->args[0]) != 0)
                continue;
            c->overridden = strcmp(a->args[1], "auto") != 0;
            if (c->overridden)
                tc_component_status_parse(a->args[1], &c->status);
            else
                c->status = c->derived;
            c->changed_ms = rec->time_ms;
            tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_COMPONENT, rec->seq, NULL);
            if (b) {
                b->component = *c;
                tc_state__text(b->detail, sizeof b->detail, "component %s is %s (%s by %s)%s%s",
                               c->name, tc_component_status_name(c->status),
                               c->overridden ? "set" : "derived again", actor,
                               a->message[0] ? ": " : "", a->message);
            }
        }
        return 0;
    }
    if (!strcmp(a->action, "clock"))
        return 0;
    if (!strcmp(a->action, "delivery"))
        return tc_state__apply_delivery(st, NULL, rec, actor, out);
    if (!strcmp(a->action, "maintenance")) {
        if (!strcmp(a->args[0], "add")) {
            tc_maintenance_t *grown = realloc(st->maints, (st->nmaints + 1) * sizeof *grown);
            if (!grown)
                return TC_ENOMEM;
            st->maints = grown;
            tc_maintenance_t *w = &st->maints[st->nmaints++];
            *w = a->maint;
            w->id = st->next_maint_id++;
            w->state = TC_MAINT_SCHEDULED;
            w->occurrence = 1;
            snprintf(w->created_by, sizeof w->created_by, "%s", actor);
            w->created_ms = rec->time_ms;
            if (!w->verify_ms)
                w->verify_ms = st->policy->maintenance_verify_ms;
            s_announce(st, w, rec, out);
            tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_MAINTENANCE, rec->seq, NULL);
            if (b) {
                b->maint = *w;
                char from[40], until[40];
                tc_state__text(b->detail, sizeof b->detail,
                               "maintenance window %llu (%s) scheduled by %s: %s to %s",
                               (unsigned long long)w->id, w->title, actor,
                               tc_time_format(w->start_ms, from, sizeof from),
                               tc_time_format(w->end_ms, until, sizeof until));
            }
            return 0;
        }
        uint64_t id = 0;
        tc_u64_parse(a->args[1], UINT64_MAX, &id);
        tc_maintenance_t *w = (tc_maintenance_t *)tc_state_maintenance(st, id);
        tc_maint_state_t to = !strcmp(a->args[0], "start")      ? TC_MAINT_IN_PROGRESS
                              : !strcmp(a->args[0], "complete") ? TC_MAINT_COMPLETED
                                                                : TC_MAINT_CANCELLED;
        tc_state__maint_move(st, w, to, rec, actor, out);
        return 0;
    }
    /* drill SERVICE SEVERITY: a synthetic, declared incident that goes
     * through the whole plan, marked DRILL wherever it appears. */
    tc_state__service_t *svc = tc_state__service(st, a->args[0]);
    if (!svc)
        return TC_ENOMEM;
    tc_incident_t *inc = calloc(1, sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    uint64_t sev = 0;
    tc_u64_parse(a->args[1], 5, &sev);
    inc->id = st->next_id++;
    snprintf(inc->service, sizeof inc->service, "%s", svc->name);
    inc->state = TC_INC_TRIGGERED;
    inc->opened_ms = inc->updated_ms = inc->declared_ms = rec->time_ms;
    inc->opened_log_seq = rec->seq;
    inc->drill = true;
    inc->declared = inc->declared_pinned = inc->severity_pinned = true;
    tc_state__set_severity(inc, (uint32_t)sev, rec->time_ms);
    tc_state__declared(st, inc, rec);
    tc_state__text(inc->summary, sizeof inc->summary, "DRILL: synthetic incident started by %s%s%s",
                   actor, a->message[0] ? ": " : "", a->message);
    tc_state__text(inc->title, sizeof inc->title, "DRILL: %s", svc->name);
    svc->open = inc; /* none was open: checked */
    if (tc_state__index(st, inc->id, svc) != 0)
        return TC_ENOMEM;
    tc_state__changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, actor, "drill", inc->summary);
    return 0;
}

/* Customers who were told of an outage expect to hear that it ended; past
 * this it is the post-mortem's business (state_report.c). */
#define S_RESOLVED_NOTICE_MS (60 * 60 * 1000)

/* The newest external update published of `inc`, or NULL. */
static const tc_update_t *s_last_external(const tc_state_t *st, const tc_incident_t *inc)
{
    for (uint32_t n = inc->updates; n >= 1; n--) {
        const tc_update_t *u = tc_state_update(st, inc->id, n);
        if (u && u->external && u->status == TC_UPD_PUBLISHED)
            return u;
    }
    return NULL;
}

/* Rules 3: an incident customers heard of is not over for them until they
 * are told so. Resolved, with the last external word still "investigating"
 * (or any state but resolved), the resolved announcement is owed like any
 * other update, for an hour after resolution. A published report (which
 * needs the incident resolved) says it is over too. A drill announces its
 * own. */
static bool s_owes_resolved(const tc_state_t *st, const tc_incident_t *inc, int64_t now_ms)
{
    if (tc_policy_rules(st->policy) < 3 || inc->state != TC_INC_RESOLVED || !inc->is_public ||
        inc->drill || !tc_state__disclosure_cleared(inc) ||
        now_ms - inc->resolved_ms > S_RESOLVED_NOTICE_MS)
        return false;
    const tc_update_t *u = s_last_external(st, inc);
    return u && !tc_update_is_report(u) && strcmp(u->state, "resolved") != 0;
}

/* The cadence of external updates: a declared incident whose severity owes
 * customers updates gets its first reminder update_first after declaration,
 * until an update is published; resolution ends it, once customers are
 * told of it (s_owes_resolved). */
void tc_state__cadence(const tc_state_t *st, tc_incident_t *inc, int64_t now_ms)
{
    if (s_owes_resolved(st, inc, now_ms)) {
        /* Due update_first after the resolution, or sooner if the last
         * update promised the next one sooner; set once, at resolution
         * (or when the last update published was not the resolved one),
         * so a note on the resolved incident does not move it. */
        int64_t by = inc->resolved_ms + st->policy->update_first_ms;
        if (!inc->next_update_due_ms ||
            (now_ms == inc->resolved_ms && inc->next_update_due_ms > by))
            inc->next_update_due_ms = by;
        return;
    }
    /* Resolved, or a security incident not cleared for disclosure: no
     * external update is owed (one held is not late). */
    if (inc->state == TC_INC_RESOLVED || !tc_state__disclosure_cleared(inc)) {
        inc->next_update_due_ms = 0;
        return;
    }
    if (!inc->declared || inc->next_update_due_ms ||
        !s_sev_in(st->policy->public_severities, inc->severity))
        return;
    /* Owed from now: an incident that became public-severity (or cleared
     * for disclosure) later is not overdue the moment it does. */
    int64_t first = now_ms + st->policy->update_first_ms;
    int64_t next =
        inc->last_external_ms
            ? inc->last_external_ms +
                  tc_policy_update_interval(st->policy, inc->declared_ms, inc->last_external_ms)
            : first;
    inc->next_update_due_ms = next > first ? next : first;
}

/* The reminder to the Customer Liaison that an external update is due. */
int tc_state__fire_update_reminder(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                   tc_state_out_t *out)
{
    const tc_timer_t *tm = &rec->event.u.timer;
    if (inc->next_update_due_ms != tm->due_ms)
        return 0;
    bool closing = inc->state == TC_INC_RESOLVED;
    if (closing && !s_owes_resolved(st, inc, rec->time_ms)) {
        inc->next_update_due_ms = 0; /* announced meanwhile, or too late now */
        return 0;
    }
    /* The Customer Liaison writes them; a security incident's liaison is
     * outside the need-to-know group, so its IC is reminded instead. */
    const char *liaison = NULL;
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, inc->security ? "commander" : "customer_liaison"))
            liaison = inc->roles[i].person;
    char text[TC_TEXT_MAX], last[40];
    if (closing)
        tc_state__text(text, sizeof text,
                       "incident %llu (%s) is resolved, but customers were last told \"%s\" "
                       "(%s); announce the resolution with tocsinctl update %llu draft "
                       "--external --state resolved",
                       (unsigned long long)inc->id, inc->service, s_last_external(st, inc)->state,
                       tc_time_format(inc->last_external_ms, last, sizeof last),
                       (unsigned long long)inc->id);
    else
        tc_state__text(text, sizeof text,
                       "%sexternal update due for incident %llu (%s); last one: %s; "
                       "draft it with tocsinctl update %llu draft --external",
                       inc->drill ? "DRILL: " : "", (unsigned long long)inc->id, inc->service,
                       inc->last_external_ms
                           ? tc_time_format(inc->last_external_ms, last, sizeof last)
                           : "none yet",
                       (unsigned long long)inc->id);
    tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_REMINDER, rec->seq, inc);
    if (b) {
        snprintf(b->topic, sizeof b->topic, liaison ? "page.%s" : "reminder.update",
                 liaison ? liaison : "");
        tc_strlcpy_utf8(b->detail, text, sizeof b->detail);
        /* A page to the liaison, delivered like the others (state_pages.c). */
        if (liaison)
            tc_state__page_fill(st, b, inc, liaison, "customer_liaison", TC_PAGE_UPDATE_DUE,
                                tm->due_ms);
    }
    tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "update-due");
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    /* Keep reminding at the cadence until an update is published, counted
     * from now: a reminder missed while the coordinator was down, or
     * skipped by a clock jump, fires once and re-arms from when it fired,
     * not once for every interval that passed meanwhile. */
    inc->next_update_due_ms =
        rec->received_ms +
        tc_policy_update_interval(st->policy, inc->declared_ms, rec->received_ms);
    return 0;
}
