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
#include "state.h"

#include "error.h"
#include "template.h"
#include "util.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_POLICY_ACTOR "tocsin"

typedef struct {
    char host[TC_ID_MAX];
    char check[TC_ID_MAX];
    char service[TC_ID_MAX];
    tc_check_state_t state; /* last hard state; a new check counts as OK */
    uint32_t users;         /* "users" perfdata of that result, 0 if none */
} s_check_t;

typedef struct {
    char name[TC_ID_MAX];
    uint32_t failing;        /* checks of this service not OK */
    zhashx_t *failing_hosts; /* host -> number of its failing checks */
    uint64_t perf_users;     /* sum of `users` over failing checks */
    tc_incident_t *open;     /* the open incident, or NULL */
    tc_incident_t *resolved; /* the most recently resolved one, or NULL */
} s_service_t;

struct tc_state {
    tc_policy_t default_policy;
    const tc_policy_t *policy;
    zhashx_t *checks;   /* "host/check" -> s_check_t */
    zhashx_t *services; /* service -> s_service_t */
    zhashx_t *hosts;    /* host -> tc_state_host_t */
    uint64_t next_id;
    tc_component_t *components; /* one per configured component */
    size_t ncomponents;
    tc_maintenance_t *maints; /* every window, in id order */
    size_t nmaints;
    uint64_t next_maint_id;
    zhashx_t *updates;               /* "i<incident>.<n>" -> tc_update_t */
    zhashx_t *subscribers;           /* subscription -> tc_state_subscriber_t */
    const tc_templates_t *templates; /* for maintenance announcements; may be NULL */
};

void tc_state_set_templates(tc_state_t *st, const tc_templates_t *templates)
{
    st->templates = templates;
}

static void s_free_ptr(void **item)
{
    free(*item);
    *item = NULL;
}

static void s_service_free(void **item)
{
    s_service_t *svc = *item;
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
    tc_policy_defaults(&st->default_policy);
    st->policy = policy ? policy : &st->default_policy;
    st->checks = zhashx_new();
    st->services = zhashx_new();
    st->hosts = zhashx_new();
    st->updates = zhashx_new();
    st->subscribers = zhashx_new();
    st->ncomponents = st->policy->ncomponents;
    st->components = calloc(st->ncomponents + 1, sizeof *st->components);
    if (!st->checks || !st->services || !st->hosts || !st->updates || !st->subscribers ||
        !st->components) {
        tc_state_destroy(&st);
        return NULL;
    }
    for (size_t i = 0; i < st->ncomponents; i++) {
        snprintf(st->components[i].name, TC_ID_MAX, "%s", st->policy->components[i].name);
        snprintf(st->components[i].description, TC_TITLE_MAX, "%s",
                 st->policy->components[i].description);
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
    free(st);
    *pstate = NULL;
}

static s_service_t *s_service(tc_state_t *st, const char *name)
{
    s_service_t *svc = zhashx_lookup(st->services, name);
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
static void s_count(s_service_t *svc, const char *host, int delta)
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
static int s_fill_hosts(s_service_t *svc, tc_incident_t *inc)
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
    free(names);
    return 0;
}

/* Formats free text into a fixed field, cutting at a UTF-8 boundary; long
 * plugin output must shorten a summary, not break it mid-character. */
static void s_text(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_text(char *dst, size_t cap, const char *fmt, ...)
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
static tc_broadcast_t *s_emit(tc_state_out_t *out, tc_bcast_kind_t kind, uint64_t log_seq,
                              const tc_incident_t *inc)
{
    if (out->n == TC_STATE_OUT_MAX)
        return NULL;
    tc_broadcast_t *b = &out->bcast[out->n++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    snprintf(b->topic, sizeof b->topic, "%s", tc_bcast_kind_name(kind));
    b->log_seq = log_seq;
    if (inc)
        b->incident = *inc;
    return b;
}

/* Adds a timeline entry for `inc` made by record `rec`. */
static tc_timeline_t *s_note(tc_state_out_t *out, const tc_incident_t *inc, const tc_record_t *rec,
                             const char *actor, const char *kind)
{
    if (out->ntimeline == TC_STATE_TIMELINE_MAX)
        return NULL;
    tc_timeline_t *t = &out->timeline[out->ntimeline++];
    memset(t, 0, sizeof *t);
    t->incident = inc->id;
    t->time_ms = rec->received_ms;
    t->log_seq = rec->seq;
    snprintf(t->actor, sizeof t->actor, "%s", actor);
    snprintf(t->kind, sizeof t->kind, "%s", kind);
    return t;
}

/* Emits the broadcast for a change of `inc` and its timeline entry, with
 * the same one-line text. */
static void s_changed(tc_state_out_t *out, tc_bcast_kind_t kind, const tc_incident_t *inc,
                      const tc_record_t *rec, const char *actor, const char *what, const char *text)
{
    tc_broadcast_t *b = s_emit(out, kind, rec->seq, inc);
    tc_timeline_t *t = s_note(out, inc, rec, actor, what);
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    if (b)
        s_text(b->detail, sizeof b->detail, "incident %llu (%s) %s: %s",
               (unsigned long long)inc->id, inc->service, what, text);
}

/* ---- impact: users, severity, declaration ------------------------------- */

/* Re-estimates users affected (unless an operator set them) and severity
 * (unless an operator set it, or the incident is not declared yet). */
static void s_assess(const tc_state_t *st, s_service_t *svc, tc_incident_t *inc)
{
    tc_service_policy_t sp;
    tc_policy_service(st->policy, inc->service, &sp);
    if (!inc->users_pinned) {
        uint64_t by_hosts = (uint64_t)sp.users_per_host * inc->affected_hosts;
        uint64_t users = by_hosts > svc->perf_users ? by_hosts : svc->perf_users;
        inc->users = users > UINT32_MAX ? UINT32_MAX : (uint32_t)users;
    }
    if (inc->declared && !inc->severity_pinned)
        inc->severity =
            tc_policy_severity(st->policy, &sp, inc->users, inc->features, inc->security);
}

/* Declares `inc` if its declaration deadline has passed and enough users
 * are affected. Returns true if it did. */
static bool s_maybe_declare(const tc_state_t *st, s_service_t *svc, tc_incident_t *inc,
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
    inc->declared_ms = rec->received_ms;
    s_assess(st, svc, inc);
    char text[TC_TEXT_MAX];
    snprintf(text, sizeof text, "declared by policy: %u users affected after %lld min, SEV-%u",
             inc->users, (long long)((rec->received_ms - inc->opened_ms) / 60000), inc->severity);
    s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, S_POLICY_ACTOR, "declared", text);
    return true;
}

/* A declared incident that resolves gets a post-mortem: owned by the IC
 * (or whoever an operator names), due postmortem_due after resolution. */
static void s_schedule_postmortem(const tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                  tc_state_out_t *out)
{
    if (!inc->declared || inc->postmortem_due_ms)
        return;
    inc->postmortem_due_ms = rec->received_ms + tc_policy_postmortem_due(st->policy, inc->severity);
    if (!inc->postmortem_owner[0])
        for (size_t i = 0; i < inc->nroles; i++)
            if (!strcmp(inc->roles[i].role, "commander"))
                snprintf(inc->postmortem_owner, sizeof inc->postmortem_owner, "%s",
                         inc->roles[i].person);
    tc_timeline_t *t = s_note(out, inc, rec, S_POLICY_ACTOR, "postmortem");
    if (t) {
        char when[40];
        s_text(t->text, sizeof t->text, "post-mortem due %s, owner %s",
               tc_time_format(inc->postmortem_due_ms, when, sizeof when),
               inc->postmortem_owner[0] ? inc->postmortem_owner : "not assigned");
    }
}

/* ---- check results ------------------------------------------------------ */

/* After a check of `svc` changed, updates or resolves its open incident. */
static int s_refresh_open(tc_state_t *st, s_service_t *svc, const tc_record_t *rec,
                          const tc_check_result_t *cr, tc_state_out_t *out)
{
    tc_incident_t *inc = svc->open;
    inc->updated_ms = rec->received_ms;
    int rc = s_fill_hosts(svc, inc);
    if (rc)
        return rc;
    s_assess(st, svc, inc);
    char text[TC_TEXT_MAX];
    if (svc->failing == 0) {
        inc->state = TC_INC_RESOLVED;
        inc->resolved_ms = rec->received_ms;
        s_text(text, sizeof text, "every check is OK again (last: %s@%s)", cr->check, cr->host);
        s_schedule_postmortem(st, inc, rec, out);
        s_changed(out, TC_BCAST_INCIDENT_RESOLVED, inc, rec, rec->event.sender, "resolved", text);
        free(svc->resolved);
        svc->resolved = inc;
        svc->open = NULL;
        return 0;
    }
    s_text(text, sizeof text, "%s@%s is %s; %u checks failing on %u hosts", cr->check, cr->host,
           tc_check_state_name(cr->state), inc->failing_checks, inc->affected_hosts);
    s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, rec->event.sender, "check", text);
    /* The change may bring the users to the declaration threshold. */
    s_maybe_declare(st, svc, inc, rec, out);
    return 0;
}

/* A failing check with no open incident: reopens the service's last one if
 * it was resolved within the reopen window, else opens a new one. */
static int s_open_incident(tc_state_t *st, s_service_t *svc, const tc_record_t *rec,
                           const tc_check_result_t *cr, tc_state_out_t *out)
{
    char text[TC_TEXT_MAX];
    tc_incident_t *inc = svc->resolved;
    if (inc && st->policy->reopen_on_failure &&
        rec->received_ms - inc->resolved_ms <= st->policy->reopen_window_ms) {
        svc->resolved = NULL;
        inc->state = inc->acknowledged_ms ? TC_INC_INVESTIGATING : TC_INC_TRIGGERED;
        inc->resolved_ms = 0;
        inc->updated_ms = rec->received_ms;
        int rc = s_fill_hosts(svc, inc);
        svc->open = inc;
        if (rc)
            return rc;
        s_assess(st, svc, inc);
        s_text(text, sizeof text, "%s@%s %s again within the reopen window: %s", cr->check,
               cr->host, tc_check_state_name(cr->state), cr->output);
        s_changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, rec->event.sender, "reopened", text);
        return 0;
    }
    inc = calloc(1, sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    inc->id = st->next_id++;
    snprintf(inc->service, sizeof inc->service, "%s", svc->name);
    inc->state = TC_INC_TRIGGERED;
    inc->opened_ms = inc->updated_ms = rec->received_ms;
    inc->opened_log_seq = rec->seq;
    s_text(inc->summary, sizeof inc->summary, "%s@%s %s: %s", cr->check, cr->host,
           tc_check_state_name(cr->state), cr->output);
    int rc = s_fill_hosts(svc, inc);
    if (rc) {
        free(inc);
        return rc;
    }
    svc->open = inc;
    s_assess(st, svc, inc);
    s_changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, rec->event.sender, "opened", inc->summary);
    if ((inc->maintenance = tc_state_service_in_maintenance(st, svc->name)) != 0) {
        tc_timeline_t *t = s_note(out, inc, rec, S_POLICY_ACTOR, "maintenance");
        if (t)
            s_text(t->text, sizeof t->text,
                   "opened during maintenance window %llu: recorded, nobody paged",
                   (unsigned long long)inc->maintenance);
    }
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
    s_check_t *c = zhashx_lookup(st->checks, key);
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
    bool changed = c->state != cr->state || (now_failing && users != c->users);
    int rc;

    /* A check moved to another service (its configuration changed): it
     * leaves the old service's counts first, which may resolve that one. */
    if (strcmp(c->service, cr->service) != 0) {
        s_service_t *old = zhashx_lookup(st->services, c->service);
        if (old && was_failing) {
            s_count(old, c->host, -1);
            old->perf_users -= c->users;
            /* Reported as the check going OK for the old service: it no
             * longer fails there. */
            tc_check_result_t left = *cr;
            left.state = TC_STATE_OK;
            if (old->open && (rc = s_refresh_open(st, old, rec, &left, out)) != 0)
                return rc;
        }
        snprintf(c->service, sizeof c->service, "%s", cr->service);
        was_failing = false;
        changed = true;
    }

    s_service_t *svc = s_service(st, cr->service);
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

    if (!changed)
        return 0;
    if (svc->open)
        return s_refresh_open(st, svc, rec, cr, out);
    if (cr->state == TC_STATE_CRITICAL)
        return s_open_incident(st, svc, rec, cr, out);
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
    h->changed_ms = rec->received_ms;
    tc_broadcast_t *b = s_emit(out, hs->up ? TC_BCAST_HOST_UP : TC_BCAST_HOST_DOWN, rec->seq, NULL);
    if (b) {
        snprintf(b->host, sizeof b->host, "%s", hs->host);
        s_text(b->detail, sizeof b->detail, "host %s is %s (%s)", hs->host, hs->up ? "up" : "down",
               hs->reason);
    }
    return 0;
}

/* ---- operator actions ---------------------------------------------------- */

/* The service holding incident `id` as open or last resolved, or NULL. */
static s_service_t *s_find(const tc_state_t *st, uint64_t id, tc_incident_t **inc)
{
    for (s_service_t *svc = zhashx_first(st->services); svc; svc = zhashx_next(st->services)) {
        if (svc->open && svc->open->id == id) {
            *inc = svc->open;
            return svc;
        }
        if (svc->resolved && svc->resolved->id == id) {
            *inc = svc->resolved;
            return svc;
        }
    }
    *inc = NULL;
    return NULL;
}

const tc_incident_t *tc_state_incident(const tc_state_t *st, uint64_t id)
{
    tc_incident_t *inc;
    s_find(st, id, &inc);
    return inc;
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

static bool s_role_valid(const char *role)
{
    /* Complex incidents split into sub-teams under the IC: each is a role
     * "subteam.NAME" held by the sub-team's lead. */
    if (!strncmp(role, "subteam.", 8) && tc_id_valid(role + 8))
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

static int s_refuse(char *why, size_t whylen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_refuse(char *why, size_t whylen, int code, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void s_page(tc_state_out_t *out, const tc_incident_t *inc, const tc_role_t *r,
                   const tc_record_t *rec);

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
        s_service_t *svc = zhashx_lookup(st->services, cp->services[i]);
        const tc_incident_t *inc = svc ? svc->open : NULL;
        if (!inc || !inc->declared || inc->drill)
            continue;
        tc_component_status_t s = s_sev_status(inc->severity);
        if (s > worst)
            worst = s;
    }
    return worst;
}

/* Recomputes every component and broadcasts those whose shown status
 * changed. Cheap: components and their services are few. */
static void s_components_refresh(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
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
        c->changed_ms = rec->received_ms;
        tc_broadcast_t *b = s_emit(out, TC_BCAST_COMPONENT, rec->seq, NULL);
        if (b) {
            b->component = *c;
            s_text(b->detail, sizeof b->detail, "component %s is %s", c->name,
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

/* Publishes update `u` of `inc` to its audience. */
static void s_publish(tc_state_t *st, tc_incident_t *inc, tc_update_t *u, const tc_record_t *rec,
                      const char *actor, tc_state_out_t *out)
{
    u->status = TC_UPD_PUBLISHED;
    u->published_ms = rec->received_ms;
    s_update_components(st, inc, u);
    tc_broadcast_t *b = s_emit(out, TC_BCAST_STATUS_UPDATE, rec->seq, NULL);
    if (b) {
        snprintf(b->topic, sizeof b->topic, "status.%s", u->external ? "external" : "internal");
        b->update = *u;
        s_text(b->detail, sizeof b->detail, "%supdate %u of incident %llu (%s, %s) published",
               u->drill ? "DRILL: " : "", u->number, (unsigned long long)u->incident,
               u->external ? "external" : "internal", u->state);
    }
    char text[TC_TEXT_MAX];
    s_text(text, sizeof text, "%s update %u published by %s (%s): %.200s",
           u->external ? "external" : "internal", u->number, actor, u->state, u->body);
    if (u->external) {
        inc->is_public = true;
        inc->last_external_ms = rec->received_ms;
        if (inc->pending_update == u->number)
            inc->pending_update = 0;
        /* The next update is due when this one said it would come. */
        inc->next_update_due_ms =
            inc->state == TC_INC_RESOLVED ? 0
            : u->next_update_ms > rec->received_ms
                ? u->next_update_ms
                : rec->received_ms +
                      tc_policy_update_interval(st->policy, inc->declared_ms, rec->received_ms);
    }
    inc->updated_ms = rec->received_ms;
    s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
}

/* Who must approve external updates: the Incident Commander, if any. */
static const char *s_commander(const tc_incident_t *inc)
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

static int s_check_update(const tc_state_t *st, const tc_incident_t *inc,
                          const tc_operator_action_t *a, char *why, size_t whylen)
{
    const char *op = a->nargs >= 1 ? a->args[0] : "";
    if (!strcmp(op, "draft")) {
        const tc_update_t *u = &a->update;
        if (!tc_template_scenario_valid(u->scenario))
            return s_refuse(why, whylen, TC_EINVAL,
                            "scenario must be outage, degradation, maintenance or security");
        if (!tc_template_state_valid(u->scenario, u->state))
            return s_refuse(why, whylen, TC_EINVAL, "state \"%s\" does not fit scenario %s",
                            u->state, u->scenario);
        if (!u->body[0])
            return s_refuse(why, whylen, TC_EINVAL, "an update needs text");
        if (inc->updates >= 10000)
            return s_refuse(why, whylen, TC_EINVAL, "incident %llu has too many updates",
                            (unsigned long long)inc->id);
        for (size_t i = 0; i < u->ncomponents; i++)
            if (st->policy->ncomponents && !tc_policy_component(st->policy, u->components[i].name))
                return s_refuse(why, whylen, TC_EINVAL, "no component \"%s\" is configured",
                                u->components[i].name);
        /* External messages carry no internal technical detail: a host
         * name in one is almost certainly a paste from the timeline. */
        for (size_t i = 0; u->external && i < inc->nhosts; i++)
            if (strstr(u->body, inc->hosts[i]) || strstr(u->title, inc->hosts[i]))
                return s_refuse(why, whylen, TC_EINVAL,
                                "external updates carry no internal detail: the text names "
                                "host %s",
                                inc->hosts[i]);
        return 0;
    }
    uint64_t n = 0;
    if ((strcmp(op, "approve") && strcmp(op, "publish") && strcmp(op, "withdraw")) ||
        a->nargs != 2 || tc_u64_parse(a->args[1], UINT32_MAX, &n) != 0)
        return s_refuse(why, whylen, TC_EINVAL,
                        "update wants: draft ..., approve N, publish N or "
                        "withdraw N");
    const tc_update_t *u = tc_state_update(st, inc->id, (uint32_t)n);
    if (!u)
        return s_refuse(why, whylen, TC_EINVAL, "incident %llu has no update %llu",
                        (unsigned long long)inc->id, (unsigned long long)n);
    if (u->status == TC_UPD_PUBLISHED || u->status == TC_UPD_WITHDRAWN)
        return s_refuse(why, whylen, TC_EINVAL, "update %llu is already %s", (unsigned long long)n,
                        tc_update_status_name(u->status));
    if (!strcmp(op, "approve")) {
        if (!u->external)
            return s_refuse(why, whylen, TC_EINVAL, "internal updates need no approval");
        if (u->status == TC_UPD_APPROVED)
            return s_refuse(why, whylen, TC_EINVAL, "update %llu is already approved",
                            (unsigned long long)n);
        const char *ic = s_commander(inc);
        if (ic && strcmp(ic, a->actor) != 0 && strcmp(a->actor, S_POLICY_ACTOR) != 0)
            return s_refuse(why, whylen, TC_EINVAL,
                            "only the incident commander (%s) approves external updates", ic);
        return 0;
    }
    if (!strcmp(op, "publish") && u->external && u->status != TC_UPD_APPROVED)
        return s_refuse(why, whylen, TC_EINVAL,
                        "external update %llu needs the incident commander's approval first",
                        (unsigned long long)n);
    return 0;
}

static int s_apply_update(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                          const char *actor, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    const char *op = a->args[0];
    char text[TC_TEXT_MAX], key[48];
    if (!strcmp(op, "draft")) {
        tc_update_t *u = malloc(sizeof *u);
        if (!u)
            return TC_ENOMEM;
        *u = a->update;
        u->incident = inc->id;
        u->maintenance = 0;
        u->number = ++inc->updates;
        u->status = TC_UPD_DRAFT;
        snprintf(u->author, sizeof u->author, "%s", actor);
        u->drafted_ms = rec->received_ms;
        u->severity = inc->severity;
        u->drill = inc->drill;
        snprintf(u->impact, sizeof u->impact, "%s", s_impact(inc->severity));
        if (u->title[0])
            snprintf(inc->title, sizeof inc->title, "%s", u->title);
        else
            snprintf(u->title, sizeof u->title, "%s", inc->title);
        s_update_components(st, inc, u);
        s_update_key(key, sizeof key, inc->id, 0, u->number);
        zhashx_update(st->updates, key, u);
        inc->updated_ms = rec->received_ms;
        if (!u->external) {
            s_text(text, sizeof text, "internal update %u drafted by %s", u->number, actor);
            s_publish(st, inc, u, rec, actor, out);
            return 0;
        }
        if (s_sev_in(st->policy->auto_publish_severities, inc->severity)) {
            u->status = TC_UPD_APPROVED;
            snprintf(u->approver, sizeof u->approver, "%s", S_POLICY_ACTOR);
            u->approved_ms = rec->received_ms;
            s_publish(st, inc, u, rec, actor, out);
            return 0;
        }
        inc->pending_update = u->number;
        const char *ic = s_commander(inc);
        s_text(text, sizeof text,
               "external update %u (%s, %s) drafted by %s; awaiting approval by the incident "
               "commander%s%s",
               u->number, u->scenario, u->state, actor, ic ? " " : "", ic ? ic : "");
        s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
        return 0;
    }
    uint64_t n = 0;
    tc_u64_parse(a->args[1], UINT32_MAX, &n);
    s_update_key(key, sizeof key, inc->id, 0, (uint32_t)n);
    tc_update_t *u = zhashx_lookup(st->updates, key);
    inc->updated_ms = rec->received_ms;
    if (!strcmp(op, "approve")) {
        u->status = TC_UPD_APPROVED;
        snprintf(u->approver, sizeof u->approver, "%s", actor);
        u->approved_ms = rec->received_ms;
        s_text(text, sizeof text, "external update %u approved by %s", u->number, actor);
        s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
    } else if (!strcmp(op, "publish")) {
        s_publish(st, inc, u, rec, actor, out);
    } else {
        u->status = TC_UPD_WITHDRAWN;
        if (inc->pending_update == u->number)
            inc->pending_update = 0;
        s_text(text, sizeof text, "update %u withdrawn by %s%s%s", u->number, actor,
               a->message[0] ? ": " : "", a->message);
        s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "update", text);
    }
    return 0;
}

/* `delivery N SUBSCRIPTION RESULT LATENCY_MS ATTEMPTS` from a notifier. */
static int s_check_delivery(const tc_state_t *st, const tc_incident_t *inc,
                            const tc_operator_action_t *a, char *why, size_t whylen)
{
    uint64_t n, v;
    if (a->nargs != 5 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0 ||
        !tc_id_valid(a->args[1]) ||
        (strcmp(a->args[2], "delivered") != 0 && strcmp(a->args[2], "failed") != 0) ||
        tc_u64_parse(a->args[3], UINT32_MAX, &v) != 0 ||
        tc_u64_parse(a->args[4], UINT32_MAX, &v) != 0)
        return s_refuse(why, whylen, TC_EINVAL,
                        "delivery wants UPDATE SUBSCRIPTION delivered|failed LATENCY_MS ATTEMPTS");
    if (!tc_state_update(st, inc->id, (uint32_t)n))
        return s_refuse(why, whylen, TC_EINVAL, "incident %llu has no update %llu",
                        (unsigned long long)inc->id, (unsigned long long)n);
    return 0;
}

static int s_apply_delivery(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
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
    if (ok) {
        s->delivered++;
        s->latency_total_ms += latency;
    } else {
        s->failed++;
    }
    s->last_ms = rec->received_ms;
    snprintf(s->last_result, sizeof s->last_result, "%s", ok ? "delivered" : "failed");
    tc_strlcpy_utf8(s->last_detail, a->message, sizeof s->last_detail);
    tc_timeline_t *t = s_note(out, inc, rec, actor, "delivery");
    if (t)
        s_text(t->text, sizeof t->text, "update %s to %s: %s in %llu ms after %llu attempt%s%s%s",
               a->args[0], a->args[1], a->args[2], (unsigned long long)latency,
               (unsigned long long)attempts, attempts == 1 ? "" : "s", a->message[0] ? ": " : "",
               a->message);
    return 0;
}

/* Global actions (incident 0): component overrides, maintenance windows,
 * drills. */
static int s_check_global(const tc_state_t *st, const tc_operator_action_t *a, char *why,
                          size_t whylen)
{
    const char *act = a->action;
    if (!strcmp(act, "component")) {
        tc_component_status_t cs;
        if (a->nargs != 2 ||
            (strcmp(a->args[1], "auto") != 0 && tc_component_status_parse(a->args[1], &cs) != 0))
            return s_refuse(why, whylen, TC_EINVAL,
                            "component wants NAME and operational, degraded_performance, "
                            "partial_outage, major_outage, under_maintenance or auto");
        for (size_t i = 0; i < st->ncomponents; i++)
            if (!strcmp(st->components[i].name, a->args[0]))
                return 0;
        return s_refuse(why, whylen, TC_EINVAL, "no component \"%s\" is configured", a->args[0]);
    }
    if (!strcmp(act, "maintenance")) {
        const char *op = a->nargs ? a->args[0] : "";
        if (!strcmp(op, "add")) {
            const tc_maintenance_t *w = &a->maint;
            if (!w->title[0])
                return s_refuse(why, whylen, TC_EINVAL, "a maintenance window needs a title");
            if (w->end_ms <= w->start_ms || w->start_ms <= 0)
                return s_refuse(why, whylen, TC_EINVAL, "the window must end after it starts");
            if (w->every_ms && w->every_ms < w->end_ms - w->start_ms)
                return s_refuse(why, whylen, TC_EINVAL,
                                "a recurring window must not overlap its next occurrence");
            if (w->ncomponents == 0)
                return s_refuse(why, whylen, TC_EINVAL, "name the components it affects");
            for (size_t i = 0; i < w->ncomponents; i++)
                if (!tc_policy_component(st->policy, w->components[i]))
                    return s_refuse(why, whylen, TC_EINVAL, "no component \"%s\" is configured",
                                    w->components[i]);
            return 0;
        }
        uint64_t id = 0;
        if (a->nargs != 2 || tc_u64_parse(a->args[1], UINT64_MAX, &id) != 0 ||
            (strcmp(op, "start") && strcmp(op, "complete") && strcmp(op, "cancel")))
            return s_refuse(why, whylen, TC_EINVAL,
                            "maintenance wants: add ..., start ID, complete ID or cancel ID");
        const tc_maintenance_t *w = tc_state_maintenance(st, id);
        if (!w)
            return s_refuse(why, whylen, TC_ENOTFOUND, "no maintenance window %llu",
                            (unsigned long long)id);
        bool ok = !strcmp(op, "start") ? w->state == TC_MAINT_SCHEDULED
                  : !strcmp(op, "complete")
                      ? (w->state == TC_MAINT_IN_PROGRESS || w->state == TC_MAINT_VERIFYING)
                      : (w->state == TC_MAINT_SCHEDULED || w->state == TC_MAINT_IN_PROGRESS);
        if (!ok)
            return s_refuse(why, whylen, TC_EINVAL, "maintenance window %llu is %s; cannot %s it",
                            (unsigned long long)id, tc_maint_state_name(w->state), op);
        return 0;
    }
    if (!strcmp(act, "drill")) {
        uint64_t sev = 0;
        if (a->nargs != 2 || !tc_id_valid(a->args[0]) || tc_u64_parse(a->args[1], 5, &sev) ||
            sev < 1)
            return s_refuse(why, whylen, TC_EINVAL, "drill wants SERVICE SEVERITY");
        s_service_t *svc = zhashx_lookup(st->services, a->args[0]);
        if (svc && svc->open)
            return s_refuse(why, whylen, TC_EINVAL,
                            "service %s has open incident %llu; drill on another service",
                            a->args[0], (unsigned long long)svc->open->id);
        return 0;
    }
    return s_refuse(why, whylen, TC_ENOTFOUND, "no incident 0");
}

/* Announces window `w` in its current state to customers: an external
 * status update written from the maintenance template of that state. */
static void s_announce(const tc_state_t *st, const tc_maintenance_t *w, const tc_record_t *rec,
                       tc_state_out_t *out)
{
    if (!st->templates || w->state == TC_MAINT_CANCELLED)
        return;
    tc_broadcast_t *b = s_emit(out, TC_BCAST_STATUS_UPDATE, rec->seq, NULL);
    if (!b)
        return;
    tc_update_t *u = &b->update;
    u->maintenance = w->id;
    u->number = (w->occurrence - 1) * 4 + (uint32_t)w->state + 1;
    u->external = true;
    snprintf(u->scenario, sizeof u->scenario, "maintenance");
    snprintf(u->state, sizeof u->state, "%s", tc_maint_state_name(w->state));
    tc_strlcpy_utf8(u->title, w->title, sizeof u->title);
    char comps[TC_TEXT_MAX] = "", from[40], until[40], window[96];
    size_t o = 0;
    for (size_t i = 0; i < w->ncomponents && i < TC_COMPONENTS_MAX; i++) {
        const tc_component_policy_t *cp = tc_policy_component(st->policy, w->components[i]);
        const char *name = cp && cp->description[0] ? cp->description : w->components[i];
        o += (size_t)snprintf(comps + o, o < sizeof comps ? sizeof comps - o : 0, "%s%s",
                              i ? ", " : "", name);
        snprintf(u->components[u->ncomponents++].name, TC_ID_MAX, "%s", w->components[i]);
    }
    snprintf(window, sizeof window, "%s to %s", tc_time_format(w->start_ms, from, sizeof from),
             tc_time_format(w->end_ms, until, sizeof until));
    tc_template_vars_t vars = {.components = comps,
                               .state = u->state,
                               .title = w->title,
                               .window = window,
                               .summary = w->description};
    tc_templates_render(st->templates, "maintenance", "external", u->state, &vars, u->body,
                        sizeof u->body);
    s_update_components(st, NULL, u);
    snprintf(u->impact, sizeof u->impact, "maintenance");
    snprintf(u->author, sizeof u->author, S_POLICY_ACTOR);
    snprintf(u->approver, sizeof u->approver, S_POLICY_ACTOR);
    u->status = TC_UPD_PUBLISHED;
    u->drafted_ms = u->approved_ms = u->published_ms = rec->received_ms;
    u->drill = w->drill;
    snprintf(b->topic, sizeof b->topic, "status.external");
    s_text(b->detail, sizeof b->detail, "maintenance window %llu announced: %s",
           (unsigned long long)w->id, u->state);
}

/* Moves window `w` to state `to`, with what that means for incidents of
 * the services it covers. */
static void s_maint_move(tc_state_t *st, tc_maintenance_t *w, tc_maint_state_t to,
                         const tc_record_t *rec, const char *actor, tc_state_out_t *out)
{
    tc_maint_state_t from = w->state;
    w->state = to;
    char text[TC_TEXT_MAX];
    for (s_service_t *svc = zhashx_first(st->services); svc; svc = zhashx_next(st->services)) {
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
            s_text(text, sizeof text,
                   "maintenance window %llu (%s) in progress: paging suppressed, escalations "
                   "cancelled",
                   (unsigned long long)w->id, w->title);
            tc_timeline_t *t = s_note(out, inc, rec, actor, "maintenance");
            if (t)
                tc_strlcpy_utf8(t->text, text, sizeof t->text);
        } else if (from == TC_MAINT_IN_PROGRESS) {
            /* Still failing after the window: tell everyone again. */
            s_text(text, sizeof text,
                   "maintenance window %llu (%s) is over and checks still fail: re-notifying",
                   (unsigned long long)w->id, w->title);
            inc->updated_ms = rec->received_ms;
            s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "maintenance", text);
            for (size_t i = 0; i < inc->nroles; i++)
                if (!inc->roles[i].acked_ms) {
                    inc->roles[i].paged_ms = rec->received_ms;
                    s_page(out, inc, &inc->roles[i], rec);
                }
        }
    }
    s_announce(st, w, rec, out);
    tc_broadcast_t *b = s_emit(out, TC_BCAST_MAINTENANCE, rec->seq, NULL);
    if (b) {
        b->maint = *w;
        s_text(b->detail, sizeof b->detail, "%smaintenance window %llu (%s): %s -> %s, by %s",
               w->drill ? "DRILL: " : "", (unsigned long long)w->id, w->title,
               tc_maint_state_name(from), tc_maint_state_name(to), actor);
    }
    if (to == TC_MAINT_COMPLETED && w->every_ms) {
        /* A recurring window comes back: announced ahead like the first. */
        w->occurrence++;
        w->start_ms += w->every_ms;
        w->end_ms += w->every_ms;
        w->state = TC_MAINT_SCHEDULED;
        b = s_emit(out, TC_BCAST_MAINTENANCE, rec->seq, NULL);
        if (b) {
            b->maint = *w;
            s_text(b->detail, sizeof b->detail,
                   "maintenance window %llu (%s): occurrence %u "
                   "scheduled",
                   (unsigned long long)w->id, w->title, w->occurrence);
        }
    }
}

static int s_apply_global(tc_state_t *st, const tc_record_t *rec, const char *actor,
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
            c->changed_ms = rec->received_ms;
            tc_broadcast_t *b = s_emit(out, TC_BCAST_COMPONENT, rec->seq, NULL);
            if (b) {
                b->component = *c;
                s_text(b->detail, sizeof b->detail, "component %s is %s (%s by %s)%s%s", c->name,
                       tc_component_status_name(c->status), c->overridden ? "set" : "derived again",
                       actor, a->message[0] ? ": " : "", a->message);
            }
        }
        return 0;
    }
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
            w->created_ms = rec->received_ms;
            if (!w->verify_ms)
                w->verify_ms = st->policy->maintenance_verify_ms;
            s_announce(st, w, rec, out);
            tc_broadcast_t *b = s_emit(out, TC_BCAST_MAINTENANCE, rec->seq, NULL);
            if (b) {
                b->maint = *w;
                char from[40], until[40];
                s_text(b->detail, sizeof b->detail,
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
        s_maint_move(st, w, to, rec, actor, out);
        return 0;
    }
    /* drill SERVICE SEVERITY: a synthetic, declared incident that goes
     * through the whole plan, marked DRILL wherever it appears. */
    s_service_t *svc = s_service(st, a->args[0]);
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
    inc->opened_ms = inc->updated_ms = inc->declared_ms = rec->received_ms;
    inc->opened_log_seq = rec->seq;
    inc->drill = true;
    inc->declared = inc->declared_pinned = inc->severity_pinned = true;
    inc->severity = (uint32_t)sev;
    s_text(inc->summary, sizeof inc->summary, "DRILL: synthetic incident started by %s%s%s", actor,
           a->message[0] ? ": " : "", a->message);
    s_text(inc->title, sizeof inc->title, "DRILL: %s", svc->name);
    svc->open = inc; /* none was open: checked */
    s_changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, actor, "drill", inc->summary);
    return 0;
}

/* The cadence of external updates: a declared incident whose severity owes
 * customers updates gets its first reminder update_first after declaration,
 * until an update is published; resolution ends it. */
static void s_cadence(const tc_state_t *st, tc_incident_t *inc)
{
    if (inc->state == TC_INC_RESOLVED) {
        inc->next_update_due_ms = 0;
        return;
    }
    if (!inc->declared || inc->next_update_due_ms ||
        !s_sev_in(st->policy->public_severities, inc->severity))
        return;
    inc->next_update_due_ms =
        inc->last_external_ms
            ? inc->last_external_ms +
                  tc_policy_update_interval(st->policy, inc->declared_ms, inc->last_external_ms)
            : inc->declared_ms + st->policy->update_first_ms;
}

/* The reminder to the Customer Liaison that an external update is due. */
static int s_fire_update_reminder(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                  tc_state_out_t *out)
{
    const tc_timer_t *tm = &rec->event.u.timer;
    if (inc->state == TC_INC_RESOLVED || inc->next_update_due_ms != tm->due_ms)
        return 0;
    const char *liaison = NULL;
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, "customer_liaison"))
            liaison = inc->roles[i].person;
    char text[TC_TEXT_MAX], last[40];
    s_text(text, sizeof text,
           "%sexternal update due for incident %llu (%s); last one: %s; "
           "draft it with tocsinctl update %llu draft --external",
           inc->drill ? "DRILL: " : "", (unsigned long long)inc->id, inc->service,
           inc->last_external_ms ? tc_time_format(inc->last_external_ms, last, sizeof last)
                                 : "none yet",
           (unsigned long long)inc->id);
    tc_broadcast_t *b = s_emit(out, TC_BCAST_REMINDER, rec->seq, inc);
    if (b) {
        snprintf(b->topic, sizeof b->topic, liaison ? "page.%s" : "reminder.update",
                 liaison ? liaison : "");
        tc_strlcpy_utf8(b->detail, text, sizeof b->detail);
    }
    tc_timeline_t *t = s_note(out, inc, rec, S_POLICY_ACTOR, "reminder");
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    /* Keep reminding at the cadence until an update is published. */
    inc->next_update_due_ms =
        tm->due_ms + tc_policy_update_interval(st->policy, inc->declared_ms, tm->due_ms);
    return 0;
}

int tc_state_check(const tc_state_t *st, const tc_operator_action_t *a, int64_t now_ms, char *why,
                   size_t whylen)
{
    if (a->incident == 0)
        return s_check_global(st, a, why, whylen);
    tc_incident_t *inc;
    s_service_t *svc = s_find(st, a->incident, &inc);
    if (!svc)
        return s_refuse(why, whylen, TC_ENOTFOUND, "no incident %llu open or recently resolved",
                        (unsigned long long)a->incident);
    const char *act = a->action;
    bool open = inc->state != TC_INC_RESOLVED;
    /* Updates (the "resolved" announcement) and delivery reports come after
     * resolution too. */
    if (!strcmp(act, "update"))
        return s_check_update(st, inc, a, why, whylen);
    if (!strcmp(act, "delivery"))
        return s_check_delivery(st, inc, a, why, whylen);
    if (!strcmp(act, "note")) {
        if (!a->message[0])
            return s_refuse(why, whylen, TC_EINVAL, "a note needs text");
        return 0;
    }
    if (!strcmp(act, "item")) {
        uint64_t n;
        if (a->nargs == 2 && !strcmp(a->args[0], "add") && tc_id_valid(a->args[1])) {
            if (!a->message[0])
                return s_refuse(why, whylen, TC_EINVAL, "an action item needs text");
            if (inc->nactions == TC_ACTIONS_MAX)
                return s_refuse(why, whylen, TC_EINVAL, "incident %llu has %d action items already",
                                (unsigned long long)inc->id, TC_ACTIONS_MAX);
            return 0;
        }
        if (a->nargs == 2 && !strcmp(a->args[0], "done") &&
            tc_u64_parse(a->args[1], TC_ACTIONS_MAX, &n) == 0 && n >= 1) {
            if (n > inc->nactions)
                return s_refuse(why, whylen, TC_EINVAL, "incident %llu has no action item %llu",
                                (unsigned long long)inc->id, (unsigned long long)n);
            if (inc->actions[n - 1].done_ms)
                return s_refuse(why, whylen, TC_EINVAL, "action item %llu is already done",
                                (unsigned long long)n);
            return 0;
        }
        return s_refuse(why, whylen, TC_EINVAL, "actions wants: add OWNER TEXT, or done N");
    }
    if (!strcmp(act, "postmortem")) {
        if (!inc->postmortem_due_ms)
            return s_refuse(why, whylen, TC_EINVAL,
                            "incident %llu has no post-mortem (only declared incidents get one, "
                            "when they resolve)",
                            (unsigned long long)inc->id);
        if (a->nargs == 1 && !strcmp(a->args[0], "done")) {
            if (inc->postmortem_done_ms)
                return s_refuse(why, whylen, TC_EINVAL, "the post-mortem is already done");
            return 0;
        }
        if (a->nargs == 2 && !strcmp(a->args[0], "owner") && tc_id_valid(a->args[1]))
            return 0;
        return s_refuse(why, whylen, TC_EINVAL, "postmortem wants: done, or owner PERSON");
    }
    if (!strcmp(act, "reopen")) {
        if (open)
            return s_refuse(why, whylen, TC_EINVAL, "incident %llu is not resolved",
                            (unsigned long long)inc->id);
        if (svc->open)
            return s_refuse(why, whylen, TC_EINVAL,
                            "service %s already has open incident %llu; add to that one", svc->name,
                            (unsigned long long)svc->open->id);
        if (now_ms - inc->resolved_ms > st->policy->reopen_window_ms)
            return s_refuse(why, whylen, TC_EINVAL,
                            "incident %llu was resolved more than %lld min ago (the reopen "
                            "window); open a new one",
                            (unsigned long long)inc->id,
                            (long long)(st->policy->reopen_window_ms / 60000));
        return 0;
    }
    if (!open)
        return s_refuse(why, whylen, TC_EINVAL, "incident %llu is resolved; reopen it first",
                        (unsigned long long)inc->id);
    if (!strcmp(act, "ack")) {
        if (a->nargs == 1) {
            const tc_role_t *r = s_role_c(inc, a->args[0]);
            if (!r)
                return s_refuse(why, whylen, TC_EINVAL, "incident %llu has no %s",
                                (unsigned long long)inc->id, a->args[0]);
            if (r->acked_ms)
                return s_refuse(why, whylen, TC_EINVAL, "the %s page is already acknowledged",
                                a->args[0]);
            return 0;
        }
        bool pending = false;
        for (size_t i = 0; i < inc->nroles; i++)
            pending |= !inc->roles[i].acked_ms && !strcmp(inc->roles[i].person, a->actor);
        if (inc->acknowledged_ms && !pending)
            return s_refuse(why, whylen, TC_EINVAL, "incident %llu is already acknowledged",
                            (unsigned long long)inc->id);
        return 0;
    }
    if (!strcmp(act, "exhausted")) {
        const tc_role_t *r = a->nargs == 1 ? s_role_c(inc, a->args[0]) : NULL;
        if (!r || !r->escalating)
            return s_refuse(why, whylen, TC_EINVAL, "no escalation under way for that role");
        return 0;
    }
    if (!strcmp(act, "resolve"))
        return 0;
    if (!strcmp(act, "state")) {
        tc_incident_state_t to;
        if (a->nargs != 1 || s_parse_state(a->args[0], &to) != 0)
            return s_refuse(why, whylen, TC_EINVAL,
                            "state wants one of investigating, identified, monitoring");
        if (to == TC_INC_TRIGGERED)
            return s_refuse(why, whylen, TC_EINVAL, "an incident cannot go back to triggered");
        if (to == TC_INC_RESOLVED)
            return s_refuse(why, whylen, TC_EINVAL, "use resolve to resolve an incident");
        if (to == inc->state)
            return s_refuse(why, whylen, TC_EINVAL, "incident %llu is already %s",
                            (unsigned long long)inc->id, a->args[0]);
        return 0;
    }
    if (!strcmp(act, "declare") || !strcmp(act, "undeclare")) {
        bool want = act[0] == 'd';
        if (inc->declared == want)
            return s_refuse(why, whylen, TC_EINVAL, "incident %llu is already %s",
                            (unsigned long long)inc->id, want ? "declared" : "not declared");
        return 0;
    }
    if (!strcmp(act, "sev")) {
        uint64_t sev;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], 5, &sev) != 0 || sev < 1)
            return s_refuse(why, whylen, TC_EINVAL, "sev wants a severity from 1 to 5");
        return 0;
    }
    if (!strcmp(act, "users")) {
        uint64_t n;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0)
            return s_refuse(why, whylen, TC_EINVAL, "users wants a number of users affected");
        return 0;
    }
    if (!strcmp(act, "features")) {
        uint64_t n;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0)
            return s_refuse(why, whylen, TC_EINVAL, "features wants a number of features affected");
        return 0;
    }
    if (!strcmp(act, "security")) {
        if (inc->security)
            return s_refuse(why, whylen, TC_EINVAL, "incident %llu is already flagged as security",
                            (unsigned long long)inc->id);
        return 0;
    }
    if (!strcmp(act, "handoff")) {
        int64_t t;
        if (a->nargs < 1 || a->nargs > 2 || !tc_id_valid(a->args[0]) || s_timeout_arg(a, 1, &t))
            return s_refuse(why, whylen, TC_EINVAL, "handoff wants the new incident commander");
        for (size_t i = 0; i < inc->nroles; i++)
            if (!strcmp(inc->roles[i].role, "commander") &&
                !strcmp(inc->roles[i].person, a->args[0]))
                return s_refuse(why, whylen, TC_EINVAL, "%s is already the incident commander",
                                a->args[0]);
        return 0;
    }
    if (!strcmp(act, "assign")) {
        int64_t t;
        if (a->nargs < 2 || a->nargs > 3 || !s_role_valid(a->args[0]) || !tc_id_valid(a->args[1]) ||
            s_timeout_arg(a, 2, &t))
            return s_refuse(why, whylen, TC_EINVAL,
                            "assign wants ROLE PERSON; roles: commander, deputy, scribe, sme, "
                            "customer_liaison, internal_liaison, dpo, subteam.NAME");
        bool known = false;
        for (size_t i = 0; i < inc->nroles; i++)
            known |= !strcmp(inc->roles[i].role, a->args[0]);
        if (!known && inc->nroles == TC_ROLES_MAX)
            return s_refuse(why, whylen, TC_EINVAL, "too many roles");
        return 0;
    }
    return s_refuse(why, whylen, TC_EINVAL, "unknown action \"%s\"", act);
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
static void s_page(tc_state_out_t *out, const tc_incident_t *inc, const tc_role_t *r,
                   const tc_record_t *rec)
{
    if (r->acked_ms)
        return;
    tc_broadcast_t *b = s_emit(out, TC_BCAST_PAGE, rec->seq, inc);
    if (!b)
        return;
    snprintf(b->topic, sizeof b->topic, "page.%s", r->person);
    char sev[24] = "";
    if (inc->severity)
        snprintf(sev, sizeof sev, ", SEV-%u", inc->severity);
    s_text(b->detail, sizeof b->detail,
           "%s%s: you are %s for incident %llu (%s%s); acknowledge with tocsinctl ack %llu",
           inc->drill ? "DRILL: " : "", r->person, r->role, (unsigned long long)inc->id,
           inc->service, sev, (unsigned long long)inc->id);
}

static int s_apply_action(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    /* Actions are checked before they are stored; one that no longer
     * checks out on replay (the rules changed) is skipped, not guessed at. */
    if (tc_state_check(st, a, rec->received_ms, NULL, 0) != 0)
        return 0;
    const char *actor = a->actor[0] ? a->actor : "operator";
    if (a->incident == 0)
        return s_apply_global(st, rec, actor, out);
    tc_incident_t *inc;
    s_service_t *svc = s_find(st, a->incident, &inc);
    const char *act = a->action;
    if (!strcmp(act, "update"))
        return s_apply_update(st, inc, rec, actor, out);
    if (!strcmp(act, "delivery"))
        return s_apply_delivery(st, inc, rec, actor, out);
    char text[TC_TEXT_MAX];
    const char *msg = a->message;
    tc_bcast_kind_t kind = TC_BCAST_INCIDENT_UPDATED;
    inc->updated_ms = rec->received_ms;

    if (!strcmp(act, "item")) {
        if (!strcmp(a->args[0], "add")) {
            tc_action_item_t *it = &inc->actions[inc->nactions++];
            memset(it, 0, sizeof *it);
            it->number = (uint32_t)inc->nactions;
            tc_strlcpy_utf8(it->text, msg, sizeof it->text);
            snprintf(it->owner, sizeof it->owner, "%s", a->args[1]);
            it->added_ms = rec->received_ms;
            s_text(text, sizeof text, "action item %u for %s: %s", it->number, it->owner, it->text);
        } else {
            uint64_t n = 0;
            tc_u64_parse(a->args[1], TC_ACTIONS_MAX, &n);
            tc_action_item_t *it = &inc->actions[n - 1];
            it->done_ms = rec->received_ms;
            s_text(text, sizeof text, "action item %u done (%s), by %s", it->number, it->text,
                   actor);
        }
        inc->updated_ms = rec->received_ms;
        s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "action", text);
        return 0;
    }
    if (!strcmp(act, "postmortem")) {
        if (!strcmp(a->args[0], "done")) {
            inc->postmortem_done_ms = rec->received_ms;
            s_text(text, sizeof text, "post-mortem done, by %s%s%s", actor, msg[0] ? ": " : "",
                   msg);
        } else {
            snprintf(inc->postmortem_owner, sizeof inc->postmortem_owner, "%s", a->args[1]);
            s_text(text, sizeof text, "post-mortem owner is %s, by %s", a->args[1], actor);
        }
        s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "postmortem", text);
        return 0;
    }
    if (!strcmp(act, "note")) {
        s_text(text, sizeof text, "%s", msg);
        /* A note is for the timeline; subscribers are not told. */
        tc_timeline_t *t = s_note(out, inc, rec, actor, "note");
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
            r->acked_ms = rec->received_ms;
            plen += (size_t)snprintf(pages + plen, plen < sizeof pages ? sizeof pages - plen : 0,
                                     "%s%s page (%s)", plen ? ", " : "", r->role, r->person);
        }
        if (!inc->acknowledged_ms)
            inc->acknowledged_ms = rec->received_ms;
        if (inc->state == TC_INC_TRIGGERED)
            inc->state = TC_INC_INVESTIGATING;
        s_text(text, sizeof text, "acknowledged by %s%s%s; %s%s%s", actor, plen ? ": " : "", pages,
               tc_incident_state_name(inc->state), msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "state")) {
        tc_incident_state_t to = inc->state;
        s_parse_state(a->args[0], &to);
        tc_incident_state_t from = inc->state;
        inc->state = to;
        /* Moving on from triggered is a response: it counts as the ack. */
        if (!inc->acknowledged_ms)
            inc->acknowledged_ms = rec->received_ms;
        s_text(text, sizeof text, "%s -> %s%s%s", tc_incident_state_name(from),
               tc_incident_state_name(to), msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "resolve")) {
        inc->state = TC_INC_RESOLVED;
        inc->resolved_ms = rec->received_ms;
        free(svc->resolved);
        svc->resolved = inc;
        svc->open = NULL;
        kind = TC_BCAST_INCIDENT_RESOLVED;
        s_schedule_postmortem(st, inc, rec, out);
        s_text(text, sizeof text, "resolved by %s%s%s%s", actor, msg[0] ? ": " : "", msg,
               svc->failing ? " (checks still failing: a new failure opens a new incident)" : "");
    } else if (!strcmp(act, "reopen")) {
        svc->resolved = NULL;
        svc->open = inc;
        inc->state = TC_INC_INVESTIGATING;
        inc->resolved_ms = 0;
        int rc = s_fill_hosts(svc, inc);
        if (rc)
            return rc;
        s_assess(st, svc, inc);
        kind = TC_BCAST_INCIDENT_OPENED;
        s_text(text, sizeof text, "reopened by %s%s%s", actor, msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "declare") || !strcmp(act, "undeclare")) {
        inc->declared = act[0] == 'd';
        inc->declared_pinned = true;
        inc->declared_ms = inc->declared ? rec->received_ms : 0;
        /* Not an incident any more: no assessed severity either. */
        if (!inc->declared && !inc->severity_pinned)
            inc->severity = 0;
        s_assess(st, svc, inc);
        if (inc->declared)
            s_text(text, sizeof text, "declared by %s, SEV-%u%s%s", actor, inc->severity,
                   msg[0] ? ": " : "", msg);
        else
            s_text(text, sizeof text, "declaration withdrawn by %s%s%s", actor, msg[0] ? ": " : "",
                   msg);
    } else if (!strcmp(act, "sev")) {
        uint64_t sev = 0;
        tc_u64_parse(a->args[0], 5, &sev);
        uint32_t before = inc->severity;
        inc->severity = (uint32_t)sev;
        inc->severity_pinned = true;
        s_text(text, sizeof text, "severity %s%u -> SEV-%u by %s%s%s", before ? "SEV-" : "none",
               before, inc->severity, actor, msg[0] ? ": " : "", msg);
        if (!before)
            s_text(text, sizeof text, "severity set to SEV-%u by %s%s%s", inc->severity, actor,
                   msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "users")) {
        uint64_t n = 0;
        tc_u64_parse(a->args[0], UINT32_MAX, &n);
        inc->users = (uint32_t)n;
        inc->users_pinned = true;
        s_assess(st, svc, inc);
        s_text(text, sizeof text, "%u users affected, by %s%s%s", inc->users, actor,
               msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "features")) {
        uint64_t n = 0;
        tc_u64_parse(a->args[0], UINT32_MAX, &n);
        inc->features = (uint32_t)n;
        s_assess(st, svc, inc);
        s_text(text, sizeof text, "%u features affected, by %s%s%s", inc->features, actor,
               msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "security")) {
        inc->security = true;
        s_assess(st, svc, inc);
        s_text(text, sizeof text, "flagged as a security or data incident by %s%s%s", actor,
               msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "handoff")) {
        char before[TC_ID_MAX] = "nobody";
        for (size_t i = 0; i < inc->nroles; i++)
            if (!strcmp(inc->roles[i].role, "commander"))
                snprintf(before, sizeof before, "%s", inc->roles[i].person);
        int64_t t = 0;
        s_timeout_arg(a, 1, &t);
        tc_role_t *r = s_set_role(inc, "commander", a->args[0], rec->received_ms, t,
                                  !strcmp(actor, a->args[0]));
        s_text(text, sizeof text, "incident command handed from %s to %s%s%s", before, a->args[0],
               msg[0] ? ": " : "", msg);
        s_changed(out, kind, inc, rec, actor, act, text);
        if (r)
            s_page(out, inc, r, rec);
        return 0;
    } else if (!strcmp(act, "exhausted")) {
        tc_role_t *r = (tc_role_t *)s_role_c(inc, a->args[0]);
        r->escalating = false;
        r->exhausted = true;
        s_text(text, sizeof text, "nobody left to page for %s; %s stays paged%s%s", r->role,
               r->person, msg[0] ? ": " : "", msg);
    } else { /* assign */
        int64_t t = 0;
        s_timeout_arg(a, 2, &t);
        tc_role_t *r = s_set_role(inc, a->args[0], a->args[1], rec->received_ms, t,
                                  !strcmp(actor, a->args[1]));
        s_text(text, sizeof text, "%s is %s, assigned by %s%s%s", a->args[1], a->args[0], actor,
               msg[0] ? ": " : "", msg);
        s_changed(out, kind, inc, rec, actor, act, text);
        if (r)
            s_page(out, inc, r, rec);
        return 0;
    }
    s_changed(out, kind, inc, rec, actor, act, text);
    /* Impact an operator reported may complete a pending declaration. */
    if (inc->state != TC_INC_RESOLVED)
        s_maybe_declare(st, svc, inc, rec, out);
    return 0;
}

/* ---- deadlines ------------------------------------------------------------ */

/* Keeps the earliest of the deadlines offered; ties go to the lower id so
 * the order never depends on hashing. */
static void s_earliest(tc_timer_t *out, bool *found, uint64_t id, int64_t due, const char *kind)
{
    if (!*found || due < out->due_ms || (due == out->due_ms && id < out->incident)) {
        memset(out, 0, sizeof *out);
        out->incident = id;
        out->due_ms = due;
        snprintf(out->kind, sizeof out->kind, "%s", kind);
        *found = true;
    }
}

/* s_earliest for an escalation of `role`. Returns true if it took it. */
static bool s_earliest_key(tc_timer_t *out, bool *found, uint64_t id, int64_t due, const char *role)
{
    tc_timer_t before = *out;
    bool had = *found;
    s_earliest(out, found, id, due, "escalate");
    if (!had || memcmp(&before, out, sizeof before) != 0) {
        snprintf(out->key, sizeof out->key, "%s", role);
        return true;
    }
    return false;
}

bool tc_state_next_deadline(const tc_state_t *st, tc_timer_t *out)
{
    bool found = false;
    for (s_service_t *svc = zhashx_first(st->services); svc; svc = zhashx_next(st->services)) {
        const tc_incident_t *open = svc->open;
        for (size_t i = 0; open && i < open->nroles; i++) {
            const tc_role_t *r = &open->roles[i];
            if (r->paged_ms && !r->acked_ms && r->ack_timeout_ms && !r->escalating && !r->exhausted)
                s_earliest_key(out, &found, open->id, r->paged_ms + r->ack_timeout_ms, r->role);
        }
        const tc_incident_t *done = svc->resolved;
        if (done && done->postmortem_due_ms && !done->postmortem_done_ms &&
            !done->postmortem_reminded)
            s_earliest(out, &found, done->id, done->postmortem_due_ms, "postmortem");
        const tc_incident_t *inc = svc->open;
        if (inc && inc->next_update_due_ms)
            s_earliest(out, &found, inc->id, inc->next_update_due_ms, "update");
        if (!inc || inc->declare_evaluated || inc->declared || inc->declared_pinned)
            continue;
        tc_service_policy_t sp;
        tc_policy_service(st->policy, inc->service, &sp);
        s_earliest(out, &found, inc->id, inc->opened_ms + sp.declare_after_ms, "declare");
    }
    /* Windows move on by themselves: start, end (verifying), completed. */
    for (size_t i = 0; i < st->nmaints; i++) {
        const tc_maintenance_t *w = &st->maints[i];
        int64_t due = w->state == TC_MAINT_SCHEDULED     ? w->start_ms
                      : w->state == TC_MAINT_IN_PROGRESS ? w->end_ms
                      : w->state == TC_MAINT_VERIFYING   ? w->end_ms + w->verify_ms
                                                         : 0;
        if (due)
            s_earliest(out, &found, w->id, due, "maintenance");
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
        int64_t due = w->state == TC_MAINT_SCHEDULED     ? w->start_ms
                      : w->state == TC_MAINT_IN_PROGRESS ? w->end_ms
                      : w->state == TC_MAINT_VERIFYING   ? w->end_ms + w->verify_ms
                                                         : 0;
        if (!due || due != tm->due_ms)
            return 0; /* moved on by hand meanwhile */
        s_maint_move(st, w, w->state + 1, rec, S_POLICY_ACTOR, out);
        return 0;
    }
    tc_incident_t *inc;
    s_service_t *svc = s_find(st, tm->incident, &inc);
    if (svc && !strcmp(tm->kind, "update"))
        return s_fire_update_reminder(st, inc, rec, out);
    if (svc && !strcmp(tm->kind, "escalate")) {
        tc_role_t *r = (tc_role_t *)s_role_c(inc, tm->key);
        if (inc->state == TC_INC_RESOLVED || !r || r->acked_ms || r->escalating || r->exhausted ||
            r->paged_ms + r->ack_timeout_ms != tm->due_ms)
            return 0; /* acknowledged, reassigned or resolved meanwhile */
        r->escalating = true;
        inc->updated_ms = rec->received_ms;
        char text[TC_TEXT_MAX];
        s_text(text, sizeof text, "%s did not acknowledge the %s page within %lld min; escalating",
               r->person, r->role, (long long)(r->ack_timeout_ms / 60000));
        s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, S_POLICY_ACTOR, "escalate", text);
        return 0;
    }
    if (svc && !strcmp(tm->kind, "postmortem")) {
        if (!inc->postmortem_due_ms || inc->postmortem_done_ms || inc->postmortem_reminded)
            return 0;
        inc->postmortem_reminded = true;
        char text[TC_TEXT_MAX];
        s_text(text, sizeof text, "post-mortem overdue; owner %s",
               inc->postmortem_owner[0] ? inc->postmortem_owner : "not assigned");
        s_changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, S_POLICY_ACTOR, "reminder", text);
        return 0;
    }
    /* A deadline fires once; one for an incident that has since resolved
     * or been declared by hand has nothing left to do. */
    if (!svc || strcmp(tm->kind, "declare") != 0 || inc->state == TC_INC_RESOLVED ||
        inc->declare_evaluated || inc->declared)
        return 0;
    inc->declare_evaluated = true;
    inc->updated_ms = rec->received_ms;
    if (s_maybe_declare(st, svc, inc, rec, out))
        return 0;
    tc_service_policy_t sp;
    tc_policy_service(st->policy, inc->service, &sp);
    char text[TC_TEXT_MAX];
    snprintf(text, sizeof text,
             "not declared at the deadline: %u users affected, fewer than %u; it is declared "
             "as soon as that changes",
             inc->users, sp.declare_min_users);
    tc_timeline_t *t = s_note(out, inc, rec, S_POLICY_ACTOR, "policy");
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    return 0;
}

int tc_state_apply(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    out->n = 0;
    out->ntimeline = 0;
    int rc;
    switch (rec->event.kind) {
    case TC_MSG_CHECK_RESULT: rc = s_apply_check(st, rec, out); break;
    case TC_MSG_HOST_STATUS: rc = s_apply_host(st, rec, out); break;
    case TC_MSG_OPERATOR_ACTION: rc = s_apply_action(st, rec, out); break;
    case TC_MSG_TIMER: rc = s_apply_timer(st, rec, out); break;
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
        if (!s_find(st, b->incident.id, &inc))
            continue;
        s_cadence(st, inc);
        b->incident.next_update_due_ms = inc->next_update_due_ms;
    }
    s_components_refresh(st, rec, out);
    return 0;
}

/* ---- queries -------------------------------------------------------------- */

size_t tc_state_open_count(const tc_state_t *st)
{
    size_t n = 0;
    for (s_service_t *svc = zhashx_first(st->services); svc; svc = zhashx_next(st->services))
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
    for (s_service_t *svc = zhashx_first(st->services); svc; svc = zhashx_next(st->services))
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
