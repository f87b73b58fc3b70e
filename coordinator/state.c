/*
 * state.c - the pure incident state machine (see state.h): its life cycle,
 * the output it writes (broadcasts, timeline entries), the impact of an
 * incident (users, severity, declaration) and the dispatch of a record to
 * the part that applies it:
 *
 *   state_checks.c    check results, lost events, host status
 *   state_actions.c   operator actions: checked, then applied
 *   state_deadlines.c the next deadline and what firing it does
 *   state_archive.c   older incidents, lookups by id, queries
 *   state_comms.c     the communication plan (updates, components, windows)
 *   state_response.c, state_security.c, state_snapshot.c (see each)
 *
 * The parts share state_impl.h, the module's private interface; nothing
 * outside the state machine includes it.
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
        st->policy_gen++;
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
    st->policy_gen = 1;
    st->checks = zhashx_new();
    st->services = zhashx_new();
    st->hosts = zhashx_new();
    st->updates = zhashx_new();
    st->subscribers = zhashx_new();
    st->pagers = zhashx_new();
    st->thawed = malloc(sizeof *st->thawed);
    st->peek = malloc(sizeof *st->peek);
    if (!st->checks || !st->services || !st->hosts || !st->updates || !st->subscribers ||
        !st->pagers || !st->thawed || !st->peek || s_components_from_policy(st) != 0) {
        tc_state_destroy(&st);
        return NULL;
    }
    st->next_maint_id = 1;
    zhashx_set_destructor(st->checks, s_free_ptr);
    zhashx_set_destructor(st->hosts, s_free_ptr);
    zhashx_set_destructor(st->updates, s_free_ptr);
    zhashx_set_destructor(st->subscribers, s_free_ptr);
    zhashx_set_destructor(st->pagers, s_free_ptr);
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
    zhashx_destroy(&st->pagers);
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
void tc_state__count(tc_state__service_t *svc, const char *host, int delta)
{
    uintptr_t was = (uintptr_t)zhashx_lookup(svc->failing_hosts, host);
    uintptr_t n = (uintptr_t)((intptr_t)was + delta);
    if (n == 0)
        zhashx_delete(svc->failing_hosts, host);
    else
        zhashx_update(svc->failing_hosts, host, (void *)n);
    if (n == 0 || was == 0)
        svc->hosts_for = 0; /* a host joined or left */
    svc->failing = (uint32_t)((int64_t)svc->failing + delta);
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copies the service's counters into its incident: failing checks, the
 * number of failing hosts and the first TC_HOSTS_MAX of them, sorted. */
int tc_state__fill_hosts(tc_state__service_t *svc, tc_incident_t *inc)
{
    size_t n = zhashx_size(svc->failing_hosts);
    inc->affected_hosts = (uint32_t)n;
    inc->failing_checks = svc->failing;
    inc->flapping_checks = svc->flapping;
    /* Most results change a check, not the set of failing hosts: then the
     * list this incident has is still the right one. */
    if (svc->hosts_for == inc->id)
        return 0;
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
    free(names);
    svc->hosts_for = inc->id;
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

/* The policy of `svc` (or of `name` when svc is NULL) into *sp; taken from
 * the configuration once per configuration, not once per record. */
static void s_service_policy(const tc_state_t *st, tc_state__service_t *svc, const char *name,
                             tc_service_policy_t *sp)
{
    if (!svc) {
        tc_policy_service(st->policy, name, sp);
        return;
    }
    if (svc->policy_gen != st->policy_gen) {
        tc_policy_service(st->policy, svc->name, &svc->policy);
        svc->policy_gen = st->policy_gen;
    }
    *sp = svc->policy;
}

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
void tc_state__assess(const tc_state_t *st, tc_state__service_t *svc, tc_incident_t *inc,
                      const tc_record_t *rec, tc_state_out_t *out, bool lower)
{
    tc_service_policy_t sp;
    s_service_policy(st, svc, inc->service, &sp);
    uint32_t rules = tc_policy_rules(st->policy);
    if (!inc->users_pinned && svc) {
        uint64_t by_hosts = (uint64_t)sp.users_per_host * inc->affected_hosts;
        uint64_t users = by_hosts > svc->perf_users ? by_hosts : svc->perf_users;
        if (users > UINT32_MAX)
            users = UINT32_MAX;
        if (users > inc->users || rules < 2)
            inc->users = (uint32_t)users;
    }
    if (rules < 2) {
        /* The rules before issue 12: severity follows the users both ways
         * and is assessed even after resolution. */
        if (inc->declared && !inc->severity_pinned)
            tc_state__set_severity(
                inc, tc_policy_severity(st->policy, &sp, inc->users, inc->features, inc->security),
                rec ? rec->time_ms : 0);
        return;
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
bool tc_state__maybe_declare(const tc_state_t *st, tc_state__service_t *svc, tc_incident_t *inc,
                             const tc_record_t *rec, tc_state_out_t *out)
{
    tc_service_policy_t sp;
    s_service_policy(st, svc, inc->service, &sp);
    /* An operator's declare or undeclare is final: the policy never
     * overrides a person's call. */
    if (inc->declared || inc->declared_pinned || !inc->declare_evaluated ||
        inc->users < sp.declare_min_users)
        return false;
    inc->declared = true;
    inc->declared_ms = rec->time_ms;
    tc_state__declared(st, inc, rec);
    tc_state__assess(st, svc, inc, rec, out, false);
    char text[TC_TEXT_MAX];
    snprintf(text, sizeof text, "declared by policy: %u users affected after %lld min, SEV-%u",
             inc->users, (long long)((rec->time_ms - inc->opened_ms) / 60000), inc->severity);
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, TC_STATE_ACTOR, "declared", text);
    return true;
}

/* A declared incident that resolves gets a post-mortem: owned by the IC
 * (or whoever an operator names), due postmortem_due after resolution. */
void tc_state__schedule_postmortem(const tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
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

static int s_apply(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    out->n = 0;
    out->ntimeline = 0;
    int rc;
    switch (rec->event.kind) {
    case TC_MSG_CHECK_RESULT: rc = tc_state__apply_check(st, rec, out); break;
    case TC_MSG_HOST_STATUS: rc = tc_state__apply_host(st, rec, out); break;
    case TC_MSG_OPERATOR_ACTION: rc = tc_state__apply_action(st, rec, out); break;
    case TC_MSG_TIMER: rc = tc_state__apply_timer(st, rec, out); break;
    case TC_MSG_EVENTS_LOST: rc = tc_state__apply_lost(st, rec, out); break;
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
    int frc = tc_state__refreeze(st);
    return rc ? rc : frc;
}

int tc_state_replay(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    out->quiet = true;
    int rc = s_apply(st, rec, out);
    /* An archived incident the record changed goes back to the archive. */
    int frc = tc_state__refreeze(st);
    return rc ? rc : frc;
}
