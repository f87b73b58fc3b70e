/*
 * state_archive.c - older incidents kept encoded, lookups by id and the
 * queries over the state (see state.h and state_impl.h).
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
int tc_state__refreeze(tc_state_t *st)
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
        if (tc_state__refreeze(st) != 0 || s_thaw(st, id, st->thawed) != 0)
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
