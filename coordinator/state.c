/*
 * state.c - the pure incident state machine (see state.h).
 *
 * Per-service counters are kept incrementally (failing checks, failing checks
 * per host) so applying a record costs O(hosts of that service) for the
 * sorted host list, not a walk over every check the coordinator knows.
 */
#include "state.h"

#include "error.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char host[TC_ID_MAX];
    char check[TC_ID_MAX];
    char service[TC_ID_MAX];
    tc_check_state_t state; /* last hard state; a new check counts as OK */
} s_check_t;

typedef struct {
    uint32_t failing;        /* checks of this service not OK */
    zhashx_t *failing_hosts; /* host -> number of its failing checks */
    tc_incident_t *open;     /* the open incident, or NULL */
} s_service_t;

struct tc_state {
    zhashx_t *checks;   /* "host/check" -> s_check_t */
    zhashx_t *services; /* service -> s_service_t */
    zhashx_t *hosts;    /* host -> tc_state_host_t */
    uint64_t next_id;
};

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
        free(svc);
    }
    *item = NULL;
}

tc_state_t *tc_state_new(void)
{
    tc_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->checks = zhashx_new();
    st->services = zhashx_new();
    st->hosts = zhashx_new();
    if (!st->checks || !st->services || !st->hosts) {
        tc_state_destroy(&st);
        return NULL;
    }
    zhashx_set_destructor(st->checks, s_free_ptr);
    zhashx_set_destructor(st->hosts, s_free_ptr);
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

static tc_broadcast_t *s_emit(tc_state_out_t *out, tc_bcast_kind_t kind, uint64_t log_seq)
{
    if (out->n == TC_STATE_OUT_MAX)
        return NULL;
    tc_broadcast_t *b = &out->bcast[out->n++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    snprintf(b->topic, sizeof b->topic, "%s", tc_bcast_kind_name(kind));
    b->log_seq = log_seq;
    return b;
}

/* After a check of `svc` changed, updates or resolves its open incident. */
static int s_refresh_open(tc_state_t *st, const char *service, s_service_t *svc,
                          const tc_record_t *rec, const tc_check_result_t *cr, tc_state_out_t *out)
{
    tc_incident_t *inc = svc->open;
    inc->updated_ms = rec->received_ms;
    int rc = s_fill_hosts(svc, inc);
    if (rc)
        return rc;
    bool resolved = svc->failing == 0;
    tc_broadcast_t *b =
        s_emit(out, resolved ? TC_BCAST_INCIDENT_RESOLVED : TC_BCAST_INCIDENT_UPDATED, rec->seq);
    if (resolved) {
        inc->state = TC_INC_RESOLVED;
        inc->resolved_ms = rec->received_ms;
    }
    if (b) {
        b->incident = *inc;
        s_text(b->detail, sizeof b->detail, "incident %llu (%s) %s: %s@%s is %s",
               (unsigned long long)inc->id, service, resolved ? "resolved" : "updated", cr->check,
               cr->host, tc_check_state_name(cr->state));
    }
    if (resolved) {
        free(svc->open);
        svc->open = NULL;
    }
    (void)st;
    return 0;
}

static int s_open_incident(tc_state_t *st, const char *service, s_service_t *svc,
                           const tc_record_t *rec, const tc_check_result_t *cr, tc_state_out_t *out)
{
    tc_incident_t *inc = calloc(1, sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    inc->id = st->next_id++;
    snprintf(inc->service, sizeof inc->service, "%s", service);
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
    tc_broadcast_t *b = s_emit(out, TC_BCAST_INCIDENT_OPENED, rec->seq);
    if (b) {
        b->incident = *inc;
        s_text(b->detail, sizeof b->detail, "incident %llu opened for %s: %s",
               (unsigned long long)inc->id, service, inc->summary);
    }
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
    bool changed = c->state != cr->state;
    int rc;

    /* A check moved to another service (its configuration changed): it
     * leaves the old service's counts first, which may resolve that one. */
    if (strcmp(c->service, cr->service) != 0) {
        s_service_t *old = zhashx_lookup(st->services, c->service);
        if (old && was_failing) {
            s_count(old, c->host, -1);
            /* Reported as the check going OK for the old service: it no
             * longer fails there. */
            tc_check_result_t left = *cr;
            left.state = TC_STATE_OK;
            if (old->open && (rc = s_refresh_open(st, c->service, old, rec, &left, out)) != 0)
                return rc;
        }
        snprintf(c->service, sizeof c->service, "%s", cr->service);
        was_failing = false;
        changed = true;
    }
    c->state = cr->state;

    s_service_t *svc = s_service(st, cr->service);
    if (!svc)
        return TC_ENOMEM;
    if (!was_failing && now_failing)
        s_count(svc, cr->host, +1);
    else if (was_failing && !now_failing)
        s_count(svc, cr->host, -1);

    if (!changed)
        return 0;
    if (svc->open)
        return s_refresh_open(st, cr->service, svc, rec, cr, out);
    if (cr->state == TC_STATE_CRITICAL)
        return s_open_incident(st, cr->service, svc, rec, cr, out);
    return 0;
}

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
    tc_broadcast_t *b = s_emit(out, hs->up ? TC_BCAST_HOST_UP : TC_BCAST_HOST_DOWN, rec->seq);
    if (b) {
        snprintf(b->host, sizeof b->host, "%s", hs->host);
        s_text(b->detail, sizeof b->detail, "host %s is %s (%s)", hs->host, hs->up ? "up" : "down",
               hs->reason);
    }
    return 0;
}

int tc_state_apply(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    out->n = 0;
    switch (rec->event.kind) {
    case TC_MSG_CHECK_RESULT: return s_apply_check(st, rec, out);
    case TC_MSG_HOST_STATUS: return s_apply_host(st, rec, out);
    default: return 0; /* other kinds are never stored */
    }
}

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
