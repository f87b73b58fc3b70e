/*
 * state.c - the pure incident state machine (see state.h).
 *
 * Per-service counters are kept incrementally (failing checks, failing checks
 * per host, users reported by failing checks) so applying a record costs
 * O(hosts of that service) for the sorted host list, not a walk over every
 * check the coordinator knows. Each service remembers its open incident and
 * its most recently resolved one, which is what can be reopened; older
 * incidents live only in the store.
 */
#include "state_impl.h"

#include "error.h"
#include "template.h"
#include "util.h"
#include "wire.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TC_STATE_ACTOR "tocsin"

void tc_state_set_templates(tc_state_t *st, const tc_templates_t *templates)
{
    tc_templates_destroy(&st->own_templates);
    st->templates = templates;
}

/* The component list of the configuration in force, in its order; a
 * component that was already there keeps its status and override. */
static int s_components_from_policy(tc_state_t *st)
{
    size_t n = st->policy->ncomponents;
    tc_component_t *next = calloc(n + 1, sizeof *next);
    if (!next)
        return TC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const tc_component_policy_t *cp = &st->policy->components[i];
        tc_component_t *c = &next[i];
        for (size_t k = 0; k < st->ncomponents; k++)
            if (!strcmp(st->components[k].name, cp->name))
                *c = st->components[k];
        snprintf(c->name, TC_ID_MAX, "%s", cp->name);
        snprintf(c->description, TC_TITLE_MAX, "%s", cp->description);
    }
    free(st->components);
    st->components = next;
    st->ncomponents = n;
    return 0;
}

int tc_state_configure(tc_state_t *st, const tc_policy_t *policy, tc_templates_t **ptemplates,
                       const tc_record_t *rec, tc_state_out_t *out)
{
    if (policy) {
        *st->policy = *policy;
        int rc = s_components_from_policy(st);
        if (rc)
            return rc;
    }
    if (ptemplates && *ptemplates) {
        tc_templates_destroy(&st->own_templates);
        st->own_templates = *ptemplates;
        st->templates = st->own_templates;
        *ptemplates = NULL;
    }
    if (rec)
        st->config_seq = rec->seq;
    if (rec && out) {
        out->n = out->ntimeline = 0;
        tc_state__components_refresh(st, rec, out);
    }
    return 0;
}

static void s_free_ptr(void **item)
{
    free(*item);
    *item = NULL;
}

static void s_service_free(void **item)
{
    tc_state__service_t *svc = *item;
    if (svc) {
        zhashx_destroy(&svc->failing_hosts);
        free(svc->open);
        free(svc->resolved);
        free(svc);
    }
    *item = NULL;
}

tc_state_t *tc_state_new(const tc_policy_t *policy)
{
    tc_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->policy = malloc(sizeof *st->policy);
    if (!st->policy) {
        free(st);
        return NULL;
    }
    if (policy)
        *st->policy = *policy;
    else
        tc_policy_defaults(st->policy);
    st->checks = zhashx_new();
    st->services = zhashx_new();
    st->hosts = zhashx_new();
    st->updates = zhashx_new();
    st->subscribers = zhashx_new();
    st->thawed = malloc(sizeof *st->thawed);
    st->peek = malloc(sizeof *st->peek);
    if (!st->checks || !st->services || !st->hosts || !st->updates || !st->subscribers ||
        !st->thawed || !st->peek || s_components_from_policy(st) != 0) {
        tc_state_destroy(&st);
        return NULL;
    }
    st->next_maint_id = 1;
    zhashx_set_destructor(st->checks, s_free_ptr);
    zhashx_set_destructor(st->hosts, s_free_ptr);
    zhashx_set_destructor(st->updates, s_free_ptr);
    zhashx_set_destructor(st->subscribers, s_free_ptr);
    zhashx_set_destructor(st->services, s_service_free);
    st->next_id = 1;
    return st;
}

void tc_state_destroy(tc_state_t **pstate)
{
    if (!pstate || !*pstate)
        return;
    tc_state_t *st = *pstate;
    zhashx_destroy(&st->checks);
    zhashx_destroy(&st->services);
    zhashx_destroy(&st->hosts);
    zhashx_destroy(&st->updates);
    zhashx_destroy(&st->subscribers);
    free(st->components);
    free(st->maints);
    tc_templates_destroy(&st->own_templates);
    for (size_t i = 0; i < st->archive_cap; i++)
        free(st->archive[i].buf);
    free(st->archive);
    free(st->svc_of);
    free(st->owed);
    free(st->thawed);
    free(st->peek);
    free(st->policy);
    free(st);
    *pstate = NULL;
}

tc_state__service_t *tc_state__service(tc_state_t *st, const char *name)
{
    tc_state__service_t *svc = zhashx_lookup(st->services, name);
    if (svc)
        return svc;
    svc = calloc(1, sizeof *svc);
    if (!svc)
        return NULL;
    snprintf(svc->name, sizeof svc->name, "%s", name);
    svc->failing_hosts = zhashx_new();
    if (!svc->failing_hosts) {
        free(svc);
        return NULL;
    }
    /* Values are counts stored in the pointer itself, so no destructor. */
    zhashx_insert(st->services, name, svc);
    return svc;
}

/* Adds `delta` (+1/-1) failing checks on `host` to the service. */
static void s_count(tc_state__service_t *svc, const char *host, int delta)
{
    uintptr_t n = (uintptr_t)zhashx_lookup(svc->failing_hosts, host);
    n = (uintptr_t)((intptr_t)n + delta);
    if (n == 0)
        zhashx_delete(svc->failing_hosts, host);
    else
        zhashx_update(svc->failing_hosts, host, (void *)n);
    svc->failing = (uint32_t)((int64_t)svc->failing + delta);
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copies the service's counters into its incident: failing checks, the
 * number of failing hosts and the first TC_HOSTS_MAX of them, sorted. */
static int s_fill_hosts(tc_state__service_t *svc, tc_incident_t *inc)
{
    size_t n = zhashx_size(svc->failing_hosts);
    const char **names = calloc(n + 1, sizeof *names);
    if (!names)
        return TC_ENOMEM;
    size_t i = 0;
    for (void *v = zhashx_first(svc->failing_hosts); v; v = zhashx_next(svc->failing_hosts))
        names[i++] = zhashx_cursor(svc->failing_hosts);
    qsort(names, n, sizeof *names, s_cmp_str);
    inc->nhosts = n < TC_HOSTS_MAX ? n : TC_HOSTS_MAX;
    for (i = 0; i < inc->nhosts; i++)
        snprintf(inc->hosts[i], sizeof inc->hosts[i], "%s", names[i]);
    inc->affected_hosts = (uint32_t)n;
    inc->failing_checks = svc->failing;
    inc->flapping_checks = svc->flapping;
    free(names);
    return 0;
}

/* Formats free text into a fixed field, cutting at a UTF-8 boundary; long
 * plugin output must shorten a summary, not break it mid-character. */
void tc_state__text(char *dst, size_t cap, const char *fmt, ...)
{
    char buf[4 * TC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tc_strlcpy_utf8(dst, buf, cap);
}

/* Queues a broadcast carrying a copy of `inc` (NULL for host broadcasts);
 * its detail is the same text as the timeline entry that goes with it. */
tc_broadcast_t *tc_state__emit(tc_state_out_t *out, tc_bcast_kind_t kind, uint64_t log_seq,
                               const tc_incident_t *inc)
{
    if (out->n == TC_STATE_OUT_MAX)
        return NULL;
    tc_broadcast_t *b = &out->bcast[out->n++];
    /* What the apply loop reads back (kind, incident id) is always set. */
    b->kind = kind;
    b->log_seq = log_seq;
    b->incident.id = inc ? inc->id : 0;
    if (out->quiet)
        return &out->scratch; /* counted, not written: the caller fills a scratch copy */
    /* Whole: what goes out must not carry anything of the broadcast that
     * used this slot before (readers look past their kind's member). */
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->log_seq = log_seq;
    snprintf(b->topic, sizeof b->topic, "%s", tc_bcast_kind_name(kind));
    if (inc)
        b->incident = *inc;
    return b;
}

/* Adds a timeline entry for `inc` made by record `rec`. */
tc_timeline_t *tc_state__note(tc_state_out_t *out, const tc_incident_t *inc, const tc_record_t *rec,
                              const char *actor, const char *kind)
{
    if (out->quiet)
        return &out->tscratch;
    if (out->ntimeline == TC_STATE_TIMELINE_MAX)
        return NULL;
    tc_timeline_t *t = &out->timeline[out->ntimeline++];
    memset(t, 0, sizeof *t);
    t->incident = inc->id;
    t->time_ms = rec->time_ms;
    t->log_seq = rec->seq;
    snprintf(t->actor, sizeof t->actor, "%s", actor);
    snprintf(t->kind, sizeof t->kind, "%s", kind);
    return t;
}

/* Emits the broadcast for a change of `inc` and its timeline entry, with
 * the same one-line text. */
void tc_state__changed(tc_state_out_t *out, tc_bcast_kind_t kind, const tc_incident_t *inc,
                       const tc_record_t *rec, const char *actor, const char *what,
                       const char *text)
{
    tc_broadcast_t *b = tc_state__emit(out, kind, rec->seq, inc);
    if (out->quiet)
        return;
    tc_timeline_t *t = tc_state__note(out, inc, rec, actor, what);
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    if (b)
        tc_state__text(b->detail, sizeof b->detail, "incident %llu (%s) %s: %s",
                       (unsigned long long)inc->id, inc->service, what, text);
}

/* ---- impact: users, severity, declaration ------------------------------- */

void tc_state__set_severity(tc_incident_t *inc, uint32_t severity, int64_t at_ms)
{
    if (inc->sev_since_ms && inc->severity >= 1 && inc->severity <= 5 && at_ms > inc->sev_since_ms)
        inc->severity_ms[inc->severity] += at_ms - inc->sev_since_ms;
    inc->severity = severity;
    inc->sev_since_ms = severity && inc->state != TC_INC_RESOLVED ? at_ms : 0;
}

/* Why the evidence gives the severity it does, for the timeline. */
static void s_severity_reason(const tc_service_policy_t *sp, const tc_incident_t *inc, char *out,
                              size_t cap)
{
    if (inc->security) {
        snprintf(out, cap, "a suspected security or data breach is SEV-1");
        return;
    }
    size_t o = 0;
    if (sp->total_users)
        o = (size_t)snprintf(out, cap, "%u of %u users affected (%.1f%%)", inc->users,
                             sp->total_users, 100.0 * inc->users / sp->total_users);
    else
        o = (size_t)snprintf(out, cap, "%u users affected, of a total not configured", inc->users);
    if (inc->features && o < cap)
        snprintf(out + o, cap - o, "; %u of %u features affected", inc->features, sp->features);
}

/* Re-estimates users affected (unless an operator set them) from the
 * service's failing checks, and the severity of a declared incident from
 * the evidence (users, features, a breach), unless an operator set it.
 * Check results only ever raise either: hosts recovering is recovery, not
 * evidence that fewer were hit, so an incident never looks smaller than it
 * was, and a resolved one keeps its severity. `lower`: an operator reported
 * new numbers, which may lower it. A change of an assessed severity is a
 * timeline entry with its reason (out and rec may be NULL: none). */
static void s_assess(const tc_state_t *st, const tc_state__service_t *svc, tc_incident_t *inc,
                     const tc_record_t *rec, tc_state_out_t *out, bool lower)
{
    tc_service_policy_t sp;
    tc_policy_service(st->policy, inc->service, &sp);
    if (!inc->users_pinned && svc) {
        uint64_t by_hosts = (uint64_t)sp.users_per_host * inc->affected_hosts;
        uint64_t users = by_hosts > svc->perf_users ? by_hosts : svc->perf_users;
        if (users > UINT32_MAX)
            users = UINT32_MAX;
        if (users > inc->users)
            inc->users = (uint32_t)users;
    }
    if (!inc->declared || inc->severity_pinned || inc->state == TC_INC_RESOLVED)
        return;
    uint32_t sev = tc_policy_severity(st->policy, &sp, inc->users, inc->features, inc->security);
    uint32_t before = inc->severity;
    if (sev == before || (before && !lower && sev > before))
        return;
    tc_state__set_severity(inc, sev, rec ? rec->time_ms : 0);
    tc_timeline_t *t =
        before && out && rec ? tc_state__note(out, inc, rec, TC_STATE_ACTOR, "severity") : NULL;
    if (t) {
        char why[TC_TEXT_MAX / 2];
        s_severity_reason(&sp, inc, why, sizeof why);
        tc_state__text(t->text, sizeof t->text, "severity SEV-%u -> SEV-%u (%s): %s", before, sev,
                       tc_severity_meaning(sev), why);
    }
}

void tc_state__declared(const tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec)
{
    if (!inc->bridge[0])
        tc_policy_bridge(st->policy, inc->id, inc->bridge, sizeof inc->bridge);
    inc->progress_ms = rec->time_ms;
}

/* Declares `inc` if its declaration deadline has passed and enough users
 * are affected. Returns true if it did. */
static bool s_maybe_declare(const tc_state_t *st, tc_state__service_t *svc, tc_incident_t *inc,
                            const tc_record_t *rec, tc_state_out_t *out)
{
    tc_service_policy_t sp;
    tc_policy_service(st->policy, inc->service, &sp);
    /* An operator's declare or undeclare is final: the policy never
     * overrides a person's call. */
    if (inc->declared || inc->declared_pinned || !inc->declare_evaluated ||
        inc->users < sp.declare_min_users)
        return false;
    inc->declared = true;
    inc->declared_ms = rec->time_ms;
    tc_state__declared(st, inc, rec);
    s_assess(st, svc, inc, rec, out, false);
    char text[TC_TEXT_MAX];
    snprintf(text, sizeof text, "declared by policy: %u users affected after %lld min, SEV-%u",
             inc->users, (long long)((rec->time_ms - inc->opened_ms) / 60000), inc->severity);
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, TC_STATE_ACTOR, "declared", text);
    return true;
}

/* A declared incident that resolves gets a post-mortem: owned by the IC
 * (or whoever an operator names), due postmortem_due after resolution. */
static void s_schedule_postmortem(const tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                  tc_state_out_t *out)
{
    if (!inc->declared || inc->postmortem_due_ms)
        return;
    inc->postmortem_due_ms = rec->time_ms + tc_policy_postmortem_due(st->policy, inc->severity);
    if (!inc->postmortem_owner[0])
        for (size_t i = 0; i < inc->nroles; i++)
            if (!strcmp(inc->roles[i].role, "commander"))
                snprintf(inc->postmortem_owner, sizeof inc->postmortem_owner, "%s",
                         inc->roles[i].person);
    tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "postmortem");
    if (t) {
        char when[40];
        tc_state__text(t->text, sizeof t->text, "post-mortem due %s, owner %s",
                       tc_time_format(inc->postmortem_due_ms, when, sizeof when),
                       inc->postmortem_owner[0] ? inc->postmortem_owner : "not assigned");
    }
}

/* ---- check results ------------------------------------------------------ */

/* After a check of `svc` changed, updates or resolves its open incident. */
static int s_refresh_open(tc_state_t *st, tc_state__service_t *svc, const tc_record_t *rec,
                          const tc_check_result_t *cr, bool flap_ended, tc_state_out_t *out)
{
    tc_incident_t *inc = svc->open;
    inc->updated_ms = rec->time_ms;
    int rc = s_fill_hosts(svc, inc);
    if (rc)
        return rc;
    char text[TC_TEXT_MAX];
    if (svc->failing == 0) {
        /* Recovery is no evidence of a smaller incident: no reassessment,
         * the severity it had is the one it keeps. */
        inc->state = TC_INC_RESOLVED;
        inc->resolved_ms = rec->time_ms;
        tc_state__set_severity(inc, inc->severity, rec->time_ms);
        tc_state__text(text, sizeof text, "every check is OK again (last: %s@%s)", cr->check,
                       cr->host);
        s_schedule_postmortem(st, inc, rec, out);
        tc_state__changed(out, TC_BCAST_INCIDENT_RESOLVED, inc, rec, rec->event.sender, "resolved",
                          text);
        int arc = tc_state__archive(st, svc->resolved);
        svc->resolved = inc;
        svc->open = NULL;
        return arc;
    }
    if (cr->flapping)
        tc_state__text(text, sizeof text,
                       "%s@%s is flapping (%u%% of its recent results changed), counted as %s; "
                       "%u checks failing on %u hosts",
                       cr->check, cr->host, cr->flap_percent, tc_check_state_name(cr->state),
                       inc->failing_checks, inc->affected_hosts);
    else
        tc_state__text(text, sizeof text, "%s@%s %s%s; %u checks failing on %u hosts", cr->check,
                       cr->host, flap_ended ? "stopped flapping: " : "is ",
                       tc_check_state_name(cr->state), inc->failing_checks, inc->affected_hosts);
    s_assess(st, svc, inc, rec, out, false);
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, rec->event.sender,
                      cr->flapping ? "flapping" : "check", text);
    /* The change may bring the users to the declaration threshold. */
    s_maybe_declare(st, svc, inc, rec, out);
    return 0;
}

/* A failing check with no open incident: reopens the service's last one if
 * it was resolved within the reopen window, else opens a new one. */
static int s_open_incident(tc_state_t *st, tc_state__service_t *svc, const tc_record_t *rec,
                           const tc_check_result_t *cr, tc_state_out_t *out)
{
    char text[TC_TEXT_MAX];
    tc_incident_t *inc = svc->resolved;
    if (inc && st->policy->reopen_on_failure &&
        rec->time_ms - inc->resolved_ms <= st->policy->reopen_window_ms) {
        svc->resolved = NULL;
        inc->state = inc->acknowledged_ms ? TC_INC_INVESTIGATING : TC_INC_TRIGGERED;
        inc->resolved_ms = 0;
        inc->updated_ms = rec->time_ms;
        int rc = s_fill_hosts(svc, inc);
        svc->open = inc;
        if (rc)
            return rc;
        inc->sev_since_ms = inc->severity ? rec->time_ms : 0;
        inc->progress_ms = rec->time_ms;
        s_assess(st, svc, inc, rec, out, false);
        tc_state__text(text, sizeof text, "%s@%s %s again within the reopen window: %s", cr->check,
                       cr->host, tc_check_state_name(cr->state), cr->output);
        tc_state__changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, rec->event.sender, "reopened",
                          text);
        return 0;
    }
    inc = calloc(1, sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    inc->id = st->next_id++;
    snprintf(inc->service, sizeof inc->service, "%s", svc->name);
    inc->state = TC_INC_TRIGGERED;
    inc->opened_ms = inc->updated_ms = rec->time_ms;
    inc->opened_log_seq = rec->seq;
    if (cr->flapping)
        tc_state__text(inc->summary, sizeof inc->summary, "%s@%s flapping (%u%%), %s: %s",
                       cr->check, cr->host, cr->flap_percent, tc_check_state_name(cr->state),
                       cr->output);
    else
        tc_state__text(inc->summary, sizeof inc->summary, "%s@%s %s: %s", cr->check, cr->host,
                       tc_check_state_name(cr->state), cr->output);
    int rc = s_fill_hosts(svc, inc);
    if (rc) {
        free(inc);
        return rc;
    }
    svc->open = inc;
    if ((rc = tc_state__index(st, inc->id, svc)) != 0)
        return rc;
    inc->progress_ms = rec->time_ms;
    s_assess(st, svc, inc, rec, out, false);
    inc->maintenance = tc_state_service_in_maintenance(st, svc->name);
    tc_state__changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, rec->event.sender, "opened",
                      inc->summary);
    if (inc->maintenance) {
        tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "maintenance");
        if (t)
            tc_state__text(t->text, sizeof t->text,
                           "opened during maintenance window %llu: recorded, nobody paged",
                           (unsigned long long)inc->maintenance);
    }
    return 0;
}

/* After incident `was` was resolved by hand over failing checks: what
 * still fails opens a new incident at once, so the alert stays visible and
 * the policy declares it again if it lasts, instead of going silent (agents
 * send changes only, so those checks would never speak again). */
static int s_open_after_forced(tc_state_t *st, tc_state__service_t *svc, const tc_incident_t *was,
                               const tc_record_t *rec, tc_state_out_t *out)
{
    tc_incident_t *inc = calloc(1, sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    inc->id = st->next_id++;
    snprintf(inc->service, sizeof inc->service, "%s", svc->name);
    inc->state = TC_INC_TRIGGERED;
    inc->opened_ms = inc->updated_ms = inc->progress_ms = rec->time_ms;
    inc->opened_log_seq = rec->seq;
    int rc = s_fill_hosts(svc, inc);
    if (rc) {
        free(inc);
        return rc;
    }
    tc_state__text(inc->summary, sizeof inc->summary,
                   "%u check%s of %s still failing when incident %llu was resolved by hand "
                   "(%s%s): %s",
                   svc->failing, svc->failing == 1 ? "" : "s", svc->name,
                   (unsigned long long)was->id, inc->nhosts ? "on " : "",
                   inc->nhosts ? inc->hosts[0] : "", was->summary);
    svc->open = inc;
    if ((rc = tc_state__index(st, inc->id, svc)) != 0)
        return rc;
    s_assess(st, svc, inc, rec, out, false);
    inc->maintenance = tc_state_service_in_maintenance(st, svc->name);
    tc_state__changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, TC_STATE_ACTOR, "opened",
                      inc->summary);
    return 0;
}

static uint32_t s_perf_users(const tc_check_result_t *cr)
{
    for (size_t i = 0; i < cr->nperf && i < TC_PERF_MAX; i++)
        if (!strcmp(cr->perf[i].label, "users") && cr->perf[i].value >= 0 &&
            cr->perf[i].value < 4e9)
            return (uint32_t)cr->perf[i].value;
    return 0;
}

static int s_apply_check(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_check_result_t *cr = &rec->event.u.check;
    if (!cr->hard)
        return 0; /* soft states are the agent's business; only hard ones count */

    char key[2 * TC_ID_MAX + 1];
    snprintf(key, sizeof key, "%s/%s", cr->host, cr->check);
    tc_state__check_t *c = zhashx_lookup(st->checks, key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return TC_ENOMEM;
        snprintf(c->host, sizeof c->host, "%s", cr->host);
        snprintf(c->check, sizeof c->check, "%s", cr->check);
        snprintf(c->service, sizeof c->service, "%s", cr->service);
        c->state = TC_STATE_OK;
        zhashx_insert(st->checks, key, c);
    }
    bool was_failing = c->state != TC_STATE_OK;
    bool now_failing = cr->state != TC_STATE_OK;
    uint32_t users = s_perf_users(cr);
    bool flap_changed = c->flapping != cr->flapping;
    bool changed = c->state != cr->state || (now_failing && users != c->users) || flap_changed;
    int rc;

    /* A check moved to another service (its configuration changed): it
     * leaves the old service's counts first, which may resolve that one. */
    if (strcmp(c->service, cr->service) != 0) {
        tc_state__service_t *old = zhashx_lookup(st->services, c->service);
        if (old && was_failing) {
            s_count(old, c->host, -1);
            old->perf_users -= c->users;
            /* Reported as the check going OK for the old service: it no
             * longer fails there. */
            tc_check_result_t left = *cr;
            left.state = TC_STATE_OK;
            left.flapping = false;
            if (old->open && (rc = s_refresh_open(st, old, rec, &left, false, out)) != 0)
                return rc;
        }
        if (old && c->flapping)
            old->flapping--;
        c->flapping = false;
        flap_changed = cr->flapping;
        snprintf(c->service, sizeof c->service, "%s", cr->service);
        was_failing = false;
        changed = true;
    }

    tc_state__service_t *svc = tc_state__service(st, cr->service);
    if (!svc)
        return TC_ENOMEM;
    if (was_failing)
        svc->perf_users -= c->users;
    if (now_failing)
        svc->perf_users += users;
    if (!was_failing && now_failing)
        s_count(svc, cr->host, +1);
    else if (was_failing && !now_failing)
        s_count(svc, cr->host, -1);
    c->state = cr->state;
    c->users = now_failing ? users : 0;
    if (flap_changed)
        svc->flapping = cr->flapping ? svc->flapping + 1 : svc->flapping - 1;
    c->flapping = cr->flapping;
    if (now_failing || c->output[0])
        snprintf(c->output, sizeof c->output, "%s", now_failing ? cr->output : "");

    if (!changed)
        return 0;
    if (svc->open)
        return s_refresh_open(st, svc, rec, cr, flap_changed && !cr->flapping, out);
    if (cr->state == TC_STATE_CRITICAL)
        return s_open_incident(st, svc, rec, cr, out);
    return 0;
}

/* An agent could not keep some transitions of a check (its spool was
 * full): the service's open incident, or else its last one, says so in its
 * timeline, so that a gap in the story is visible and explained. */
static int s_apply_lost(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_events_lost_t *l = &rec->event.u.lost;
    tc_state__service_t *svc = zhashx_lookup(st->services, l->service);
    tc_incident_t *inc = svc ? (svc->open ? svc->open : svc->resolved) : NULL;
    if (!inc)
        return 0; /* in the log for the record; no incident to tell */
    char from[40], to[40], text[TC_TEXT_MAX];
    tc_state__text(text, sizeof text,
                   "%u state changes of %s@%s between %s and %s were lost on "
                   "the agent (%s); its latest state follows",
                   l->transitions, l->check, l->host,
                   tc_time_format(l->first_ms, from, sizeof from),
                   tc_time_format(l->last_ms, to, sizeof to), l->reason);
    if (inc == svc->open) {
        inc->updated_ms = rec->time_ms;
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, rec->event.sender,
                          "events-lost", text);
        return 0;
    }
    tc_timeline_t *t = tc_state__note(out, inc, rec, rec->event.sender, "events-lost");
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    return 0;
}

/* ---- hosts --------------------------------------------------------------- */

static int s_apply_host(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_host_status_t *hs = &rec->event.u.host_status;
    tc_state_host_t *h = zhashx_lookup(st->hosts, hs->host);
    bool known = h != NULL;
    if (!h) {
        h = calloc(1, sizeof *h);
        if (!h)
            return TC_ENOMEM;
        snprintf(h->host, sizeof h->host, "%s", hs->host);
        zhashx_insert(st->hosts, hs->host, h);
    }
    if (hs->heartbeat_ms)
        h->heartbeat_ms = hs->heartbeat_ms;
    if (known && h->up == hs->up)
        return 0;
    h->up = hs->up;
    h->changed_ms = rec->time_ms;
    tc_broadcast_t *b =
        tc_state__emit(out, hs->up ? TC_BCAST_HOST_UP : TC_BCAST_HOST_DOWN, rec->seq, NULL);
    if (b) {
        snprintf(b->host, sizeof b->host, "%s", hs->host);
        tc_state__text(b->detail, sizeof b->detail, "host %s is %s (%s)", hs->host,
                       hs->up ? "up" : "down", hs->reason);
    }
    return 0;
}

/* ---- operator actions ---------------------------------------------------- */

/* ---- the archive of older incidents ------------------------------------- */

static bool s_owes_reminder(const tc_incident_t *inc)
{
    return inc->postmortem_due_ms && !inc->postmortem_done_ms && !inc->postmortem_reminded;
}

/* Keeps the list of reminders owed by archived incidents in step with
 * incident `inc`. */
static int s_owed_update(tc_state_t *st, const tc_incident_t *inc)
{
    size_t i = 0;
    while (i < st->nowed && st->owed[i].id != inc->id)
        i++;
    if (!s_owes_reminder(inc)) {
        if (i < st->nowed)
            st->owed[i] = st->owed[--st->nowed];
        return 0;
    }
    if (i == st->nowed) {
        if (st->nowed == st->owed_cap) {
            size_t cap = st->owed_cap ? 2 * st->owed_cap : 16;
            tc_state__owed_t *p = realloc(st->owed, cap * sizeof *p);
            if (!p)
                return TC_ENOMEM;
            st->owed = p;
            st->owed_cap = cap;
        }
        st->nowed++;
    }
    st->owed[i] = (tc_state__owed_t){inc->id, inc->postmortem_due_ms};
    return 0;
}

/* Encodes `inc` into its archive slot (replacing what was there). */
int tc_state__freeze(tc_state_t *st, const tc_incident_t *inc)
{
    if (inc->id >= st->archive_cap) {
        size_t cap = st->archive_cap ? st->archive_cap : 64;
        while (cap <= inc->id)
            cap *= 2;
        tc_state__frozen_t *p = realloc(st->archive, cap * sizeof *p);
        if (!p)
            return TC_ENOMEM;
        memset(p + st->archive_cap, 0, (cap - st->archive_cap) * sizeof *p);
        st->archive = p;
        st->archive_cap = cap;
    }
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_incident(inc, &buf, &len);
    if (rc)
        return rc;
    free(st->archive[inc->id].buf);
    st->archive[inc->id] = (tc_state__frozen_t){buf, (uint32_t)len};
    if (st->peek_id == inc->id)
        st->peek_id = 0;
    return s_owed_update(st, inc);
}

int tc_state__archive(tc_state_t *st, tc_incident_t *inc)
{
    if (!inc)
        return 0;
    int rc = tc_state__freeze(st, inc);
    free(inc);
    return rc;
}

/* Freezes the archived incident the record just changed, if any. */
static int s_refreeze(tc_state_t *st)
{
    if (!st->thawed_id)
        return 0;
    st->thawed_id = 0;
    return tc_state__freeze(st, st->thawed);
}

static int s_thaw(const tc_state_t *st, uint64_t id, tc_incident_t *into)
{
    if (id >= st->archive_cap || !st->archive[id].buf)
        return TC_ENOTFOUND;
    return tc_wire_decode_incident(st->archive[id].buf, st->archive[id].len, into);
}

int tc_state__index(tc_state_t *st, uint64_t id, tc_state__service_t *svc)
{
    if (id >= st->svc_of_cap) {
        size_t cap = st->svc_of_cap ? st->svc_of_cap : 64;
        while (cap <= id)
            cap *= 2;
        tc_state__service_t **p = realloc(st->svc_of, cap * sizeof *p);
        if (!p)
            return TC_ENOMEM;
        memset(p + st->svc_of_cap, 0, (cap - st->svc_of_cap) * sizeof *p);
        st->svc_of = p;
        st->svc_of_cap = cap;
    }
    st->svc_of[id] = svc;
    return 0;
}

tc_state__service_t *tc_state__find(const tc_state_t *cst, uint64_t id, tc_incident_t **inc,
                                    bool change)
{
    /* The archive's decode buffers are a cache, not state: lookups through
     * a const state may fill them. */
    tc_state_t *st = (tc_state_t *)cst;
    tc_state__service_t *svc = id < st->svc_of_cap ? st->svc_of[id] : NULL;
    if (svc && svc->open && svc->open->id == id) {
        *inc = svc->open;
        return svc;
    }
    if (svc && svc->resolved && svc->resolved->id == id) {
        *inc = svc->resolved;
        return svc;
    }
    *inc = NULL;
    if (id == 0 || id >= st->archive_cap || !st->archive[id].buf)
        return NULL;
    if (st->thawed_id == id) {
        *inc = st->thawed;
    } else if (change) {
        if (s_refreeze(st) != 0 || s_thaw(st, id, st->thawed) != 0)
            return NULL;
        st->thawed_id = id;
        *inc = st->thawed;
    } else {
        if (st->peek_id != id) {
            if (s_thaw(st, id, st->peek) != 0)
                return NULL;
            st->peek_id = id;
        }
        *inc = st->peek;
    }
    return tc_state__service(st, (*inc)->service);
}

const tc_incident_t *tc_state_incident(const tc_state_t *st, uint64_t id)
{
    tc_incident_t *inc;
    tc_state__find(st, id, &inc, false);
    return inc;
}

void tc_state_each_incident(const tc_state_t *st, tc_state_incident_fn *fn, void *ctx)
{
    for (uint64_t id = 1; id < st->next_id; id++) {
        const tc_incident_t *inc = tc_state_incident(st, id);
        if (inc)
            fn(inc, ctx);
    }
}

/* The role entry named `role`, or NULL. */
static const tc_role_t *s_role_c(const tc_incident_t *inc, const char *role)
{
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, role))
            return &inc->roles[i];
    return NULL;
}

/* An optional page timeout argument in ms ("" or absent: never escalate). */
static int s_timeout_arg(const tc_operator_action_t *a, size_t i, int64_t *out)
{
    uint64_t v = 0;
    if (a->nargs > i && tc_u64_parse(a->args[i], 30ull * 86400000, &v) != 0)
        return TC_EINVAL;
    *out = (int64_t)v;
    return 0;
}

static const char *const s_roles[] = {"commander",        "deputy",           "scribe", "sme",
                                      "customer_liaison", "internal_liaison", "dpo"};

bool tc_state__role_valid(const char *role)
{
    /* Complex incidents split into sub-teams under the IC: each is a role
     * "subteam.NAME" held by the sub-team's lead; a security incident's
     * need-to-know group holds "security.NAME". */
    if ((!strncmp(role, "subteam.", 8) || !strncmp(role, "security.", 9)) &&
        tc_id_valid(role + (role[1] == 'u' ? 8 : 9)))
        return true;
    for (size_t i = 0; i < sizeof s_roles / sizeof s_roles[0]; i++)
        if (!strcmp(role, s_roles[i]))
            return true;
    return false;
}

static int s_parse_state(const char *s, tc_incident_state_t *out)
{
    for (int i = TC_INC_TRIGGERED; i <= TC_INC_RESOLVED; i++) {
        if (!strcmp(s, tc_incident_state_name((tc_incident_state_t)i))) {
            *out = (tc_incident_state_t)i;
            return 0;
        }
    }
    return TC_EINVAL;
}

int tc_state__refuse(char *why, size_t whylen, int code, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return code;
}

void tc_state__page(tc_state_out_t *out, const tc_incident_t *inc, const tc_role_t *r,
                    const tc_record_t *rec);

int tc_state_check(const tc_state_t *st, const tc_operator_action_t *a, int64_t now_ms, char *why,
                   size_t whylen)
{
    if (a->incident == 0)
        return tc_state__check_global(st, a, why, whylen);
    tc_incident_t *inc;
    tc_state__service_t *svc = tc_state__find(st, a->incident, &inc, false);
    if (!svc)
        return tc_state__refuse(why, whylen, TC_ENOTFOUND, "no incident %llu",
                                (unsigned long long)a->incident);
    const char *act = a->action;
    bool open = inc->state != TC_INC_RESOLVED;
    /* Updates (the "resolved" announcement) and delivery reports come after
     * resolution too. */
    if (!strcmp(act, "update"))
        return tc_state__check_update(st, inc, a, why, whylen);
    if (!strcmp(act, "delivery"))
        return tc_state__check_delivery(st, inc, a, why, whylen);
    if (!strcmp(act, "note")) {
        if (!a->message[0])
            return tc_state__refuse(why, whylen, TC_EINVAL, "a note needs text");
        return 0;
    }
    if (!strcmp(act, "item")) {
        uint64_t n;
        if (a->nargs == 2 && !strcmp(a->args[0], "add") && tc_id_valid(a->args[1])) {
            if (!a->message[0])
                return tc_state__refuse(why, whylen, TC_EINVAL, "an action item needs text");
            if (inc->nactions == TC_ACTIONS_MAX)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "incident %llu has %d action items already",
                                        (unsigned long long)inc->id, TC_ACTIONS_MAX);
            return 0;
        }
        if (a->nargs == 2 && !strcmp(a->args[0], "done") &&
            tc_u64_parse(a->args[1], TC_ACTIONS_MAX, &n) == 0 && n >= 1) {
            if (n > inc->nactions)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "incident %llu has no action item %llu",
                                        (unsigned long long)inc->id, (unsigned long long)n);
            if (inc->actions[n - 1].done_ms)
                return tc_state__refuse(why, whylen, TC_EINVAL, "action item %llu is already done",
                                        (unsigned long long)n);
            return 0;
        }
        return tc_state__refuse(why, whylen, TC_EINVAL, "actions wants: add OWNER TEXT, or done N");
    }
    if (!strcmp(act, "postmortem")) {
        if (!inc->postmortem_due_ms)
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "incident %llu has no post-mortem (only declared incidents get one, "
                "when they resolve)",
                (unsigned long long)inc->id);
        if (a->nargs == 1 && !strcmp(a->args[0], "done")) {
            if (inc->postmortem_done_ms)
                return tc_state__refuse(why, whylen, TC_EINVAL, "the post-mortem is already done");
            return 0;
        }
        if (a->nargs == 2 && !strcmp(a->args[0], "owner") && tc_id_valid(a->args[1]))
            return 0;
        uint64_t at;
        if (a->nargs == 2 && !strcmp(a->args[0], "meeting") &&
            tc_u64_parse(a->args[1], INT64_MAX, &at) == 0 && at > 0)
            return 0;
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "postmortem wants: done, owner PERSON, or meeting WHEN");
    }
    if (!strcmp(act, "reopen")) {
        if (open)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is not resolved",
                                    (unsigned long long)inc->id);
        if (svc->open)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "service %s already has open incident %llu; add to that one",
                                    svc->name, (unsigned long long)svc->open->id);
        if (svc->resolved != inc)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu of %s resolved after incident %llu; reopen "
                                    "that one or open a new one",
                                    svc->resolved ? (unsigned long long)svc->resolved->id : 0ull,
                                    svc->name, (unsigned long long)inc->id);
        if (now_ms - inc->resolved_ms > st->policy->reopen_window_ms)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu was resolved more than %lld min ago (the reopen "
                                    "window); open a new one",
                                    (unsigned long long)inc->id,
                                    (long long)(st->policy->reopen_window_ms / 60000));
        return 0;
    }
    /* Disclosure may be cleared after the fact, for the public report. */
    if (!strcmp(act, "security") && a->nargs == 1)
        return tc_state__check_security(st, inc, a, why, whylen);
    if (!open)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "incident %llu is resolved; reopen it first",
                                (unsigned long long)inc->id);
    if (!strcmp(act, "ack")) {
        if (a->nargs == 1) {
            const tc_role_t *r = s_role_c(inc, a->args[0]);
            if (!r)
                return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu has no %s",
                                        (unsigned long long)inc->id, a->args[0]);
            if (r->acked_ms)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "the %s page is already acknowledged", a->args[0]);
            return 0;
        }
        bool pending = false;
        for (size_t i = 0; i < inc->nroles; i++)
            pending |= !inc->roles[i].acked_ms && !strcmp(inc->roles[i].person, a->actor);
        if (inc->acknowledged_ms && !pending)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is already acknowledged",
                                    (unsigned long long)inc->id);
        return 0;
    }
    if (!strcmp(act, "exhausted")) {
        /* exhausted ROLE [FALLBACK]: the fallback is paged and holds it. */
        const tc_role_t *r = a->nargs == 1 || (a->nargs == 2 && tc_id_valid(a->args[1]))
                                 ? s_role_c(inc, a->args[0])
                                 : NULL;
        if (!r || !r->escalating)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "no escalation under way for that role");
        return 0;
    }
    if (!strcmp(act, "resolve")) {
        bool force = a->nargs == 1 && !strcmp(a->args[0], "force");
        if (a->nargs > 1 || (a->nargs == 1 && !force))
            return tc_state__refuse(why, whylen, TC_EINVAL, "resolve takes only --force");
        /* Agents send changes only: a check that still fails says nothing
         * more, so resolving over it would silence a live outage. */
        if (svc->failing && !force)
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "%u check%s of %s still failing (%s%s); fix %s, or resolve %llu --force to "
                "resolve anyway (what still fails then opens a new incident)",
                svc->failing, svc->failing == 1 ? "" : "s", svc->name, inc->nhosts ? "on " : "",
                inc->nhosts ? inc->hosts[0] : "no host", svc->failing == 1 ? "it" : "them",
                (unsigned long long)inc->id);
        return 0;
    }
    if (!strcmp(act, "plan"))
        return tc_state__check_plan(inc, a, why, whylen);
    if (!strcmp(act, "state")) {
        tc_incident_state_t to;
        if (a->nargs != 1 || s_parse_state(a->args[0], &to) != 0)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "state wants one of investigating, identified, monitoring");
        if (to == TC_INC_TRIGGERED)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "an incident cannot go back to triggered");
        if (to == TC_INC_RESOLVED)
            return tc_state__refuse(why, whylen, TC_EINVAL, "use resolve to resolve an incident");
        if (to == inc->state)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is already %s",
                                    (unsigned long long)inc->id, a->args[0]);
        return 0;
    }
    if (!strcmp(act, "declare") || !strcmp(act, "undeclare")) {
        bool want = act[0] == 'd';
        if (inc->declared == want)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is already %s",
                                    (unsigned long long)inc->id,
                                    want ? "declared" : "not declared");
        return 0;
    }
    if (!strcmp(act, "sev")) {
        uint64_t sev;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], 5, &sev) != 0 || sev < 1)
            return tc_state__refuse(why, whylen, TC_EINVAL, "sev wants a severity from 1 to 5");
        return 0;
    }
    if (!strcmp(act, "users")) {
        uint64_t n;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "users wants a number of users affected");
        return 0;
    }
    if (!strcmp(act, "features")) {
        uint64_t n;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "features wants a number of features affected");
        return 0;
    }
    if (!strcmp(act, "security"))
        return tc_state__check_security(st, inc, a, why, whylen);
    if (!strcmp(act, "handoff")) {
        int64_t t;
        if (a->nargs < 1 || a->nargs > 3 || !tc_id_valid(a->args[0]) || s_timeout_arg(a, 1, &t))
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "handoff wants the new incident commander");
        bool force = a->nargs == 3 && !strcmp(a->args[2], "force");
        if (a->nargs == 3 && !force)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "handoff wants the new incident commander and --force only");
        const tc_role_t *ic = s_role_c(inc, "commander");
        if (ic && !strcmp(ic->person, a->args[0]))
            return tc_state__refuse(why, whylen, TC_EINVAL, "%s is already the incident commander",
                                    a->args[0]);
        /* Command is handed over, not taken: only the IC gives it away,
         * unless an operator records that the IC cannot be reached. */
        if (ic && !force && !tc_state__acts_as(a->actor, ic->person))
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "only the incident commander (%s) hands over command; if %s "
                                    "cannot be reached: handoff %llu %s --force",
                                    ic->person, ic->person, (unsigned long long)inc->id,
                                    a->args[0]);
        return 0;
    }
    if (!strcmp(act, "assign")) {
        int64_t t;
        if (a->nargs < 2 || a->nargs > 3 || !tc_state__role_valid(a->args[0]) ||
            !tc_id_valid(a->args[1]) || s_timeout_arg(a, 2, &t))
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "assign wants ROLE PERSON; roles: commander, deputy, scribe, sme, "
                "customer_liaison, internal_liaison, dpo, subteam.NAME, security.NAME");
        bool known = false;
        for (size_t i = 0; i < inc->nroles; i++)
            known |= !strcmp(inc->roles[i].role, a->args[0]);
        if (!known && inc->nroles == TC_ROLES_MAX)
            return tc_state__refuse(why, whylen, TC_EINVAL, "too many roles");
        const tc_role_t *ic = s_role_c(inc, "commander");
        if (!strcmp(a->args[0], "commander") && ic && strcmp(ic->person, a->args[1]) != 0 &&
            !tc_state__acts_as(a->actor, ic->person))
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu has an incident commander (%s); command "
                                    "changes hands with handoff",
                                    (unsigned long long)inc->id, ic->person);
        if (inc->security && !tc_state__need_to_know(a->args[0]))
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "incident %llu is a security incident: only the need-to-know group is paged "
                "(commander, dpo, security.NAME); bring %s in as security.%s",
                (unsigned long long)inc->id, a->args[1], a->args[1]);
        return 0;
    }
    return tc_state__refuse(why, whylen, TC_EINVAL, "unknown action \"%s\"", act);
}

/* Gives `role` to `person` and pages them: the page is pending until they
 * acknowledge (at once when they assigned themselves) and escalates after
 * `timeout_ms`. A role that was escalating counts one level more. */
static tc_role_t *s_set_role(tc_incident_t *inc, const char *role, const char *person, int64_t now,
                             int64_t timeout_ms, bool self)
{
    tc_role_t *r = (tc_role_t *)s_role_c(inc, role);
    if (!r) {
        if (inc->nroles == TC_ROLES_MAX)
            return NULL;
        r = &inc->roles[inc->nroles++];
        memset(r, 0, sizeof *r);
        snprintf(r->role, TC_ID_MAX, "%s", role);
    } else if (r->escalating) {
        r->level++;
    } else {
        r->level = 0;
    }
    snprintf(r->person, TC_ID_MAX, "%s", person);
    r->paged_ms = now;
    r->acked_ms = self ? now : 0;
    r->ack_timeout_ms = timeout_ms;
    r->escalating = false;
    r->exhausted = false;
    return r;
}

/* Sends the page for role `r` on the person's own topic. */
void tc_state__page(tc_state_out_t *out, const tc_incident_t *inc, const tc_role_t *r,
                    const tc_record_t *rec)
{
    /* A security incident pages its need-to-know group only. */
    if (r->acked_ms || (inc->security && !tc_state__need_to_know(r->role)))
        return;
    tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_PAGE, rec->seq, inc);
    if (!b)
        return;
    snprintf(b->topic, sizeof b->topic, "page.%s", r->person);
    char sev[24] = "", bridge[TC_URL_MAX + 16] = "";
    if (inc->severity)
        snprintf(sev, sizeof sev, ", SEV-%u", inc->severity);
    if (inc->bridge[0])
        snprintf(bridge, sizeof bridge, "; bridge: %s", inc->bridge);
    tc_state__text(b->detail, sizeof b->detail,
                   "%s%s%s: you are %s for incident %llu (%s%s); acknowledge with tocsinctl ack "
                   "%llu%s%s",
                   inc->drill ? "DRILL: " : "",
                   inc->security ? "SECURITY, need to know only: " : "", r->person, r->role,
                   (unsigned long long)inc->id, inc->service, sev, (unsigned long long)inc->id,
                   bridge,
                   inc->plan == TC_PLAN_OUT_OF_HOURS && !strcmp(r->role, "sme")
                       ? "; out of hours: contain it, the IC is paged if severity requires"
                       : "");
}

static int s_apply_action(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    /* Actions are checked before they are stored; one that no longer
     * checks out on replay (the rules changed) is skipped, not guessed at. */
    if (tc_state_check(st, a, rec->time_ms, NULL, 0) != 0)
        return 0;
    const char *actor = a->actor[0] ? a->actor : "operator";
    if (a->incident == 0)
        return tc_state__apply_global(st, rec, actor, out);
    tc_incident_t *inc;
    tc_state__service_t *svc = tc_state__find(st, a->incident, &inc, true);
    const char *act = a->action;
    if (!strcmp(act, "update"))
        return tc_state__apply_update(st, inc, rec, actor, out);
    if (!strcmp(act, "delivery"))
        return tc_state__apply_delivery(st, inc, rec, actor, out);
    char text[TC_TEXT_MAX];
    const char *msg = a->message;
    tc_bcast_kind_t kind = TC_BCAST_INCIDENT_UPDATED;
    inc->updated_ms = rec->time_ms;

    if (!strcmp(act, "item")) {
        if (!strcmp(a->args[0], "add")) {
            tc_action_item_t *it = &inc->actions[inc->nactions++];
            memset(it, 0, sizeof *it);
            it->number = (uint32_t)inc->nactions;
            tc_strlcpy_utf8(it->text, msg, sizeof it->text);
            snprintf(it->owner, sizeof it->owner, "%s", a->args[1]);
            it->added_ms = rec->time_ms;
            tc_state__text(text, sizeof text, "action item %u for %s: %s", it->number, it->owner,
                           it->text);
        } else {
            uint64_t n = 0;
            tc_u64_parse(a->args[1], TC_ACTIONS_MAX, &n);
            tc_action_item_t *it = &inc->actions[n - 1];
            it->done_ms = rec->time_ms;
            tc_state__text(text, sizeof text, "action item %u done (%s), by %s", it->number,
                           it->text, actor);
        }
        inc->updated_ms = rec->time_ms;
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "action", text);
        return 0;
    }
    if (!strcmp(act, "postmortem")) {
        if (!strcmp(a->args[0], "done")) {
            inc->postmortem_done_ms = rec->time_ms;
            tc_state__text(text, sizeof text, "post-mortem done, by %s%s%s", actor,
                           msg[0] ? ": " : "", msg);
        } else if (!strcmp(a->args[0], "meeting")) {
            uint64_t at = 0;
            tc_u64_parse(a->args[1], INT64_MAX, &at);
            inc->postmortem_meeting_ms = (int64_t)at;
            char when[40], due[80] = "";
            if ((int64_t)at > inc->postmortem_due_ms) {
                char d[40];
                snprintf(due, sizeof due, " (after its due time, %s)",
                         tc_time_format(inc->postmortem_due_ms, d, sizeof d));
            }
            tc_state__text(text, sizeof text, "post-mortem meeting at %s%s, set by %s%s%s",
                           tc_time_format((int64_t)at, when, sizeof when), due, actor,
                           msg[0] ? ": " : "", msg);
        } else {
            snprintf(inc->postmortem_owner, sizeof inc->postmortem_owner, "%s", a->args[1]);
            tc_state__text(text, sizeof text, "post-mortem owner is %s, by %s", a->args[1], actor);
        }
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "postmortem", text);
        return 0;
    }
    if (!strcmp(act, "note")) {
        tc_state__text(text, sizeof text, "%s", msg);
        /* A note is for the timeline; subscribers are not told. */
        tc_timeline_t *t = tc_state__note(out, inc, rec, actor, "note");
        if (t)
            tc_strlcpy_utf8(t->text, text, sizeof t->text);
        return 0;
    }
    if (!strcmp(act, "ack")) {
        /* `ack ID ROLE` acknowledges that page; `ack ID` the incident and
         * every page of the person acknowledging. */
        char pages[TC_TEXT_MAX] = "";
        size_t plen = 0;
        for (size_t i = 0; i < inc->nroles; i++) {
            tc_role_t *r = &inc->roles[i];
            bool mine = a->nargs == 1 ? !strcmp(r->role, a->args[0]) : !strcmp(r->person, a->actor);
            if (!mine || r->acked_ms)
                continue;
            r->acked_ms = rec->time_ms;
            plen += (size_t)snprintf(pages + plen, plen < sizeof pages ? sizeof pages - plen : 0,
                                     "%s%s page (%s)", plen ? ", " : "", r->role, r->person);
        }
        if (!inc->acknowledged_ms)
            inc->acknowledged_ms = rec->time_ms;
        if (inc->state == TC_INC_TRIGGERED) {
            inc->state = TC_INC_INVESTIGATING;
            inc->progress_ms = rec->time_ms;
        }
        tc_state__text(text, sizeof text, "acknowledged by %s%s%s; %s%s%s", actor, plen ? ": " : "",
                       pages, tc_incident_state_name(inc->state), msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "state")) {
        tc_incident_state_t to = inc->state;
        s_parse_state(a->args[0], &to);
        tc_incident_state_t from = inc->state;
        inc->state = to;
        inc->progress_ms = rec->time_ms;
        /* Moving on from triggered is a response: it counts as the ack. */
        if (!inc->acknowledged_ms)
            inc->acknowledged_ms = rec->time_ms;
        tc_state__text(text, sizeof text, "%s -> %s%s%s", tc_incident_state_name(from),
                       tc_incident_state_name(to), msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "resolve")) {
        inc->state = TC_INC_RESOLVED;
        inc->resolved_ms = rec->time_ms;
        tc_state__set_severity(inc, inc->severity, rec->time_ms);
        inc->resolved_failing = svc->failing;
        if (tc_state__archive(st, svc->resolved) != 0)
            return TC_ENOMEM;
        svc->resolved = inc;
        svc->open = NULL;
        s_schedule_postmortem(st, inc, rec, out);
        if (svc->failing)
            tc_state__text(text, sizeof text,
                           "resolved by %s with --force while %u check%s still failed%s%s; what "
                           "still fails is a new incident",
                           actor, svc->failing, svc->failing == 1 ? "" : "s", msg[0] ? ": " : "",
                           msg);
        else
            tc_state__text(text, sizeof text, "resolved by %s%s%s", actor, msg[0] ? ": " : "", msg);
        tc_state__changed(out, TC_BCAST_INCIDENT_RESOLVED, inc, rec, actor, act, text);
        /* The checks that still fail stay an alert everyone can see: a new
         * incident, which the policy declares again if it lasts. */
        return svc->failing ? s_open_after_forced(st, svc, inc, rec, out) : 0;
    } else if (!strcmp(act, "reopen")) {
        svc->resolved = NULL;
        svc->open = inc;
        inc->state = TC_INC_INVESTIGATING;
        inc->resolved_ms = 0;
        inc->resolved_failing = 0;
        inc->sev_since_ms = inc->severity ? rec->time_ms : 0;
        inc->progress_ms = rec->time_ms;
        int rc = s_fill_hosts(svc, inc);
        if (rc)
            return rc;
        s_assess(st, svc, inc, rec, out, false);
        kind = TC_BCAST_INCIDENT_OPENED;
        tc_state__text(text, sizeof text, "reopened by %s%s%s", actor, msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "declare") || !strcmp(act, "undeclare")) {
        inc->declared = act[0] == 'd';
        inc->declared_pinned = true;
        inc->declared_ms = inc->declared ? rec->time_ms : 0;
        /* Not an incident any more: no assessed severity either. */
        if (!inc->declared && !inc->severity_pinned)
            tc_state__set_severity(inc, 0, rec->time_ms);
        if (inc->declared)
            tc_state__declared(st, inc, rec);
        s_assess(st, svc, inc, rec, out, false);
        if (inc->declared)
            tc_state__text(text, sizeof text, "declared by %s, SEV-%u%s%s", actor, inc->severity,
                           msg[0] ? ": " : "", msg);
        else
            tc_state__text(text, sizeof text, "declaration withdrawn by %s%s%s", actor,
                           msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "sev")) {
        uint64_t sev = 0;
        tc_u64_parse(a->args[0], 5, &sev);
        uint32_t before = inc->severity;
        tc_state__set_severity(inc, (uint32_t)sev, rec->time_ms);
        inc->severity_pinned = true;
        tc_state__text(text, sizeof text, "severity %s%u -> SEV-%u by %s%s%s",
                       before ? "SEV-" : "none", before, inc->severity, actor, msg[0] ? ": " : "",
                       msg);
        if (!before)
            tc_state__text(text, sizeof text, "severity set to SEV-%u by %s%s%s", inc->severity,
                           actor, msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "users")) {
        uint64_t n = 0;
        tc_u64_parse(a->args[0], UINT32_MAX, &n);
        inc->users = (uint32_t)n;
        inc->users_pinned = true;
        s_assess(st, svc, inc, rec, out, true);
        tc_state__text(text, sizeof text, "%u users affected, by %s%s%s", inc->users, actor,
                       msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "features")) {
        uint64_t n = 0;
        tc_u64_parse(a->args[0], UINT32_MAX, &n);
        inc->features = (uint32_t)n;
        s_assess(st, svc, inc, rec, out, true);
        tc_state__text(text, sizeof text, "%u features affected, by %s%s%s", inc->features, actor,
                       msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "security")) {
        if (a->nargs == 1) /* clear */
            return tc_state__apply_clear(st, inc, rec, actor, out);
        inc->security = true;
        inc->flagged_severity = inc->declared ? inc->severity : 0;
        /* Stronger evidence than any number set before: SEV-1, until an
         * operator says otherwise again. */
        inc->severity_pinned = false;
        /* A suspected breach is an incident at once (PagerDuty: not sure
         * it is one? trigger the process anyway). */
        bool declared = !inc->declared;
        if (declared) {
            inc->declared = inc->declared_pinned = true;
            inc->declared_ms = rec->time_ms;
            tc_state__declared(st, inc, rec);
        }
        s_assess(st, svc, inc, rec, out, false);
        tc_state__apply_security(st, inc, rec, actor, declared, out);
        return 0;
    } else if (!strcmp(act, "plan")) {
        return tc_state__apply_plan(st, inc, rec, actor, out);
    } else if (!strcmp(act, "handoff")) {
        char before[TC_ID_MAX] = "nobody";
        for (size_t i = 0; i < inc->nroles; i++)
            if (!strcmp(inc->roles[i].role, "commander"))
                snprintf(before, sizeof before, "%s", inc->roles[i].person);
        int64_t t = 0;
        s_timeout_arg(a, 1, &t);
        bool force = a->nargs == 3;
        tc_role_t *r =
            s_set_role(inc, "commander", a->args[0], rec->time_ms, t, !strcmp(actor, a->args[0]));
        if (force)
            tc_state__text(text, sizeof text,
                           "incident command taken from %s (unreachable) and given to %s by %s "
                           "with --force%s%s",
                           before, a->args[0], actor, msg[0] ? ": " : "", msg);
        else
            tc_state__text(text, sizeof text, "incident command handed from %s to %s%s%s", before,
                           a->args[0], msg[0] ? ": " : "", msg);
        tc_state__changed(out, kind, inc, rec, actor, act, text);
        tc_state__role_filled(inc, "commander", a->args[0], before);
        if (r)
            tc_state__page(out, inc, r, rec);
        /* The IC who no longer has command hears it, unless it was their
         * own doing. */
        if (strcmp(before, "nobody") != 0 && strcmp(before, actor) != 0)
            tc_state__notice(out, inc, rec, before, NULL,
                             "%sincident %llu (%s): incident command %s %s by %s%s%s",
                             inc->drill ? "DRILL: " : "", (unsigned long long)inc->id, inc->service,
                             force ? "was taken over with --force and given to" : "handed to",
                             a->args[0], actor, msg[0] ? ": " : "", msg);
        return 0;
    } else if (!strcmp(act, "exhausted")) {
        tc_role_t *r = (tc_role_t *)s_role_c(inc, a->args[0]);
        if (a->nargs == 2 && strcmp(a->args[1], r->person) != 0) {
            /* The chain's fallback takes the role, with nobody after it. */
            char last[TC_ID_MAX];
            snprintf(last, sizeof last, "%s", r->person);
            r = s_set_role(inc, a->args[0], a->args[1], rec->time_ms, 0,
                           !strcmp(actor, a->args[1]));
            r->exhausted = true;
            tc_state__text(text, sizeof text,
                           "escalation chain for %s exhausted (%s was the last to not "
                           "acknowledge); its fallback %s is paged and holds %s now%s%s",
                           r->role, last, r->person, r->role, msg[0] ? ": " : "", msg);
            tc_state__changed(out, kind, inc, rec, actor, act, text);
            tc_state__role_filled(inc, r->role, r->person, last);
            tc_state__page(out, inc, r, rec);
            return 0;
        }
        r->escalating = false;
        r->exhausted = true;
        tc_state__text(text, sizeof text, "nobody left to page for %s; %s stays paged%s%s", r->role,
                       r->person, msg[0] ? ": " : "", msg);
    } else { /* assign */
        int64_t t = 0;
        s_timeout_arg(a, 2, &t);
        char prev[TC_ID_MAX] = "";
        const tc_role_t *had = s_role_c(inc, a->args[0]);
        if (had)
            snprintf(prev, sizeof prev, "%s", had->person);
        tc_role_t *r =
            s_set_role(inc, a->args[0], a->args[1], rec->time_ms, t, !strcmp(actor, a->args[1]));
        tc_state__text(text, sizeof text, "%s is %s, assigned by %s%s%s", a->args[1], a->args[0],
                       actor, msg[0] ? ": " : "", msg);
        tc_state__changed(out, kind, inc, rec, actor, act, text);
        tc_state__role_filled(inc, a->args[0], a->args[1], prev[0] ? prev : NULL);
        if (r)
            tc_state__page(out, inc, r, rec);
        return 0;
    }
    tc_state__changed(out, kind, inc, rec, actor, act, text);
    /* Impact an operator reported may complete a pending declaration. */
    if (inc->state != TC_INC_RESOLVED)
        s_maybe_declare(st, svc, inc, rec, out);
    return 0;
}

/* ---- deadlines ------------------------------------------------------------ */

/* Deadlines due at the same moment fire in this order, whatever the
 * hashing or the timing of commits: maintenance windows first (a window
 * that starts silences the pages of its services), then declarations,
 * escalations, update reminders, reminders to a quiet IC and post-mortem
 * reminders; within a kind,
 * by incident (or window) id, then by role. */
static int s_kind_rank(const char *kind)
{
    static const char *const order[] = {"maintenance", "declare", "escalate",
                                        "update",      "quiet",   "postmortem"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (!strcmp(kind, order[i]))
            return i;
    return 99;
}

/* Keeps the first, in firing order, of the deadlines offered. */
static void s_earliest_key(tc_timer_t *out, bool *found, uint64_t id, int64_t due, const char *kind,
                           const char *key)
{
    if (*found) {
        int64_t d = due - out->due_ms;
        int r = s_kind_rank(kind) - s_kind_rank(out->kind);
        if (d > 0 || (d == 0 && r > 0) || (d == 0 && r == 0 && id > out->incident) ||
            (d == 0 && r == 0 && id == out->incident && strcmp(key, out->key) >= 0))
            return;
    }
    memset(out, 0, sizeof *out);
    out->incident = id;
    out->due_ms = due;
    snprintf(out->kind, sizeof out->kind, "%s", kind);
    snprintf(out->key, sizeof out->key, "%s", key);
    *found = true;
}

static void s_earliest(tc_timer_t *out, bool *found, uint64_t id, int64_t due, const char *kind)
{
    s_earliest_key(out, found, id, due, kind, "");
}

bool tc_state_next_deadline(const tc_state_t *st, tc_timer_t *out)
{
    bool found = false;
    for (tc_state__service_t *svc = zhashx_first(st->services); svc;
         svc = zhashx_next(st->services)) {
        const tc_incident_t *open = svc->open;
        for (size_t i = 0; open && i < open->nroles; i++) {
            const tc_role_t *r = &open->roles[i];
            if (r->paged_ms && !r->acked_ms && r->ack_timeout_ms && !r->escalating && !r->exhausted)
                s_earliest_key(out, &found, open->id, r->paged_ms + r->ack_timeout_ms, "escalate",
                               r->role);
        }
        const tc_incident_t *done = svc->resolved;
        if (done && done->postmortem_due_ms && !done->postmortem_done_ms &&
            !done->postmortem_reminded)
            s_earliest(out, &found, done->id, done->postmortem_due_ms, "postmortem");
        const tc_incident_t *inc = svc->open;
        if (inc && inc->next_update_due_ms)
            s_earliest(out, &found, inc->id, inc->next_update_due_ms, "update");
        int64_t quiet = inc ? tc_state__quiet_due(st, inc) : 0;
        if (quiet)
            s_earliest(out, &found, inc->id, quiet, "quiet");
        if (!inc || inc->declare_evaluated || inc->declared || inc->declared_pinned)
            continue;
        tc_service_policy_t sp;
        tc_policy_service(st->policy, inc->service, &sp);
        s_earliest(out, &found, inc->id, inc->opened_ms + sp.declare_after_ms, "declare");
    }
    for (size_t i = 0; i < st->nowed; i++)
        s_earliest(out, &found, st->owed[i].id, st->owed[i].due_ms, "postmortem");
    /* Windows move on by themselves: start, end (verifying), completed. */
    for (size_t i = 0; i < st->nmaints; i++) {
        int64_t due = tc_state__maint_due(&st->maints[i]);
        if (due)
            s_earliest(out, &found, st->maints[i].id, due, "maintenance");
    }
    return found;
}

static int s_apply_timer(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_timer_t *tm = &rec->event.u.timer;
    if (!strcmp(tm->kind, "maintenance")) {
        tc_maintenance_t *w = (tc_maintenance_t *)tc_state_maintenance(st, tm->incident);
        if (!w)
            return 0;
        int64_t due = tc_state__maint_due(w);
        if (!due || due != tm->due_ms)
            return 0; /* moved on by hand meanwhile */
        tc_state__maint_move(st, w, w->state + 1, rec, TC_STATE_ACTOR, out);
        return 0;
    }
    tc_incident_t *inc;
    tc_state__service_t *svc = tc_state__find(st, tm->incident, &inc, true);
    if (svc && !strcmp(tm->kind, "update"))
        return tc_state__fire_update_reminder(st, inc, rec, out);
    if (svc && !strcmp(tm->kind, "escalate")) {
        tc_role_t *r = (tc_role_t *)s_role_c(inc, tm->key);
        if (inc->state == TC_INC_RESOLVED || !r || r->acked_ms || r->escalating || r->exhausted ||
            r->paged_ms + r->ack_timeout_ms != tm->due_ms)
            return 0; /* acknowledged, reassigned or resolved meanwhile */
        r->escalating = true;
        inc->updated_ms = rec->time_ms;
        char text[TC_TEXT_MAX];
        tc_state__text(text, sizeof text,
                       "%s did not acknowledge the %s page within %lld min; escalating", r->person,
                       r->role, (long long)(r->ack_timeout_ms / 60000));
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, TC_STATE_ACTOR, "escalate",
                          text);
        return 0;
    }
    if (svc && !strcmp(tm->kind, "postmortem")) {
        if (!inc->postmortem_due_ms || inc->postmortem_done_ms || inc->postmortem_reminded)
            return 0;
        inc->postmortem_reminded = true;
        char text[TC_TEXT_MAX];
        tc_state__text(text, sizeof text, "post-mortem overdue; owner %s",
                       inc->postmortem_owner[0] ? inc->postmortem_owner : "not assigned");
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, TC_STATE_ACTOR, "reminder",
                          text);
        /* The owner is the one who has to act: on their own page. */
        char due[40];
        tc_state__notice(out, inc, rec, inc->postmortem_owner[0] ? inc->postmortem_owner : NULL,
                         "reminder.postmortem",
                         "%spost-mortem of incident %llu (%s, SEV-%u) is overdue since %s; write "
                         "it (tocsinctl postmortem %llu) and mark it done (tocsinctl postmortem "
                         "%llu done)",
                         inc->drill ? "DRILL: " : "", (unsigned long long)inc->id, inc->service,
                         inc->severity, tc_time_format(inc->postmortem_due_ms, due, sizeof due),
                         (unsigned long long)inc->id, (unsigned long long)inc->id);
        return 0;
    }
    if (svc && !strcmp(tm->kind, "quiet"))
        return tc_state__fire_quiet(st, inc, rec, out);
    /* A deadline fires once; one for an incident that has since resolved
     * or been declared by hand has nothing left to do. */
    if (!svc || strcmp(tm->kind, "declare") != 0 || inc->state == TC_INC_RESOLVED ||
        inc->declare_evaluated || inc->declared)
        return 0;
    inc->declare_evaluated = true;
    inc->updated_ms = rec->time_ms;
    if (s_maybe_declare(st, svc, inc, rec, out))
        return 0;
    tc_service_policy_t sp;
    tc_policy_service(st->policy, inc->service, &sp);
    char text[TC_TEXT_MAX];
    snprintf(text, sizeof text,
             "not declared at the deadline: %u users affected, fewer than %u; it is declared "
             "as soon as that changes",
             inc->users, sp.declare_min_users);
    tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "policy");
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    return 0;
}

static int s_apply(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    out->n = 0;
    out->ntimeline = 0;
    int rc;
    switch (rec->event.kind) {
    case TC_MSG_CHECK_RESULT: rc = s_apply_check(st, rec, out); break;
    case TC_MSG_HOST_STATUS: rc = s_apply_host(st, rec, out); break;
    case TC_MSG_OPERATOR_ACTION: rc = s_apply_action(st, rec, out); break;
    case TC_MSG_TIMER: rc = s_apply_timer(st, rec, out); break;
    case TC_MSG_EVENTS_LOST: rc = s_apply_lost(st, rec, out); break;
    default: return 0; /* other kinds are never stored */
    }
    if (rc || (out->n == 0 && rec->event.kind == TC_MSG_CHECK_RESULT))
        return rc;
    /* What changed may start or end the update cadence of its incidents
     * (declared, severity, resolved); the broadcasts carry the result. */
    for (size_t i = 0; i < out->n; i++) {
        tc_broadcast_t *b = &out->bcast[i];
        if (b->kind > TC_BCAST_INCIDENT_RESOLVED)
            continue;
        tc_incident_t *inc;
        if (!tc_state__find(st, b->incident.id, &inc, true))
            continue;
        tc_state__cadence(st, inc, rec->time_ms);
        b->incident.next_update_due_ms = inc->next_update_due_ms;
    }
    tc_state__components_refresh(st, rec, out);
    /* Staff hear of what changed from tocsin itself (state_announce.c). */
    for (size_t i = 0, n = out->n; i < n; i++) {
        tc_incident_t *inc;
        if (out->bcast[i].kind >= TC_BCAST_INCIDENT_OPENED &&
            out->bcast[i].kind <= TC_BCAST_INCIDENT_RESOLVED &&
            tc_state__find(st, out->bcast[i].incident.id, &inc, true))
            tc_state__announce(st, inc, rec, out);
    }
    return 0;
}

int tc_state_apply(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    out->quiet = false;
    int rc = s_apply(st, rec, out);
    /* An archived incident the record changed goes back to the archive. */
    int frc = s_refreeze(st);
    return rc ? rc : frc;
}

int tc_state_replay(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    out->quiet = true;
    int rc = s_apply(st, rec, out);
    /* An archived incident the record changed goes back to the archive. */
    int frc = s_refreeze(st);
    return rc ? rc : frc;
}

/* ---- queries -------------------------------------------------------------- */

size_t tc_state_open_count(const tc_state_t *st)
{
    size_t n = 0;
    for (tc_state__service_t *svc = zhashx_first(st->services); svc;
         svc = zhashx_next(st->services))
        n += svc->open != NULL;
    return n;
}

static int s_cmp_inc(const void *a, const void *b)
{
    uint64_t x = (*(const tc_incident_t *const *)a)->id;
    uint64_t y = (*(const tc_incident_t *const *)b)->id;
    return x < y ? -1 : x > y;
}

void tc_state_each_open(const tc_state_t *st, tc_state_incident_fn *fn, void *ctx)
{
    size_t n = tc_state_open_count(st), i = 0;
    const tc_incident_t **v = calloc(n + 1, sizeof *v);
    if (!v)
        return;
    for (tc_state__service_t *svc = zhashx_first(st->services); svc;
         svc = zhashx_next(st->services))
        if (svc->open)
            v[i++] = svc->open;
    qsort(v, n, sizeof *v, s_cmp_inc);
    for (i = 0; i < n; i++)
        fn(v[i], ctx);
    free(v);
}

const tc_state_host_t *tc_state_host(const tc_state_t *st, const char *host)
{
    return zhashx_lookup(st->hosts, host);
}

static int s_cmp_host(const void *a, const void *b)
{
    return strcmp((*(const tc_state_host_t *const *)a)->host,
                  (*(const tc_state_host_t *const *)b)->host);
}

void tc_state_each_host(const tc_state_t *st, tc_state_host_fn *fn, void *ctx)
{
    size_t n = zhashx_size(st->hosts), i = 0;
    const tc_state_host_t **v = calloc(n + 1, sizeof *v);
    if (!v)
        return;
    for (tc_state_host_t *h = zhashx_first(st->hosts); h; h = zhashx_next(st->hosts))
        v[i++] = h;
    qsort(v, n, sizeof *v, s_cmp_host);
    for (i = 0; i < n; i++)
        fn(v[i], ctx);
    free(v);
}

uint64_t tc_state_next_incident_id(const tc_state_t *st)
{
    return st->next_id;
}

uint64_t tc_state_config_seq(const tc_state_t *st)
{
    return st->config_seq;
}
