/*
 * sp_state.c - the status page's state; see sp_state.h.
 *
 * Arrays, not hash tables: a status page has tens of components and a few
 * hundred incidents, and a linear scan per broadcast costs nothing next to
 * the fsync that follows it.
 */
#include "sp_state.h"

#include "error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_sp_state {
    tc_sp_component_t *comps;
    size_t ncomps, capcomps;
    tc_sp_incident_t *incs;
    size_t nincs, capincs;
    tc_sp_maint_t *maints;
    size_t nmaints, capmaints;
    uint64_t cursor;
    int64_t contact_ms;
    bool loading; /* see tc_sp_state_set_loading() */
};

/* Grows `*arr` (elements of `size`) so one more fits. Returns 0 or
 * TC_ENOMEM, leaving the array as it was. */
static int s_reserve(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return TC_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

tc_sp_state_t *tc_sp_state_new(void)
{
    return calloc(1, sizeof(tc_sp_state_t));
}

void tc_sp_state_destroy(tc_sp_state_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_sp_state_t *self = *pself;
    for (size_t i = 0; i < self->ncomps; i++)
        free(self->comps[i].history);
    for (size_t i = 0; i < self->nincs; i++) {
        free(self->incs[i].updates);
        free(self->incs[i].report);
    }
    for (size_t i = 0; i < self->nmaints; i++)
        free(self->maints[i].updates);
    free(self->comps);
    free(self->incs);
    free(self->maints);
    free(self);
    *pself = NULL;
}

/* ---- statuses ------------------------------------------------------------ */

static int s_rank(tc_component_status_t s)
{
    switch (s) {
    case TC_COMP_OPERATIONAL: return 0;
    case TC_COMP_MAINTENANCE: return 1;
    case TC_COMP_DEGRADED: return 2;
    case TC_COMP_PARTIAL_OUTAGE: return 3;
    case TC_COMP_MAJOR_OUTAGE: return 4;
    }
    return 0;
}

tc_component_status_t tc_sp_worse(tc_component_status_t a, tc_component_status_t b)
{
    return s_rank(b) > s_rank(a) ? b : a;
}

tc_component_status_t tc_sp_impact_status(const char *impact)
{
    if (!strcmp(impact, "critical"))
        return TC_COMP_MAJOR_OUTAGE;
    if (!strcmp(impact, "major"))
        return TC_COMP_PARTIAL_OUTAGE;
    if (!strcmp(impact, "maintenance"))
        return TC_COMP_OPERATIONAL;
    /* none, minor, and what an older coordinator left empty: a published
     * incident means something is not right, even if it is small. */
    return TC_COMP_DEGRADED;
}

static bool s_final_state(const char *state)
{
    return !strcmp(state, "resolved") || !strcmp(state, "completed");
}

tc_component_status_t tc_sp_update_status(const tc_update_t *u, size_t i)
{
    tc_component_status_t st = u->components[i].status;
    if (u->maintenance || s_final_state(u->state))
        return st;
    return tc_sp_worse(st, tc_sp_impact_status(u->impact));
}

/* True if `inc` raises the components its newest naming update names. */
static bool s_inc_raises(const tc_sp_incident_t *inc)
{
    return !inc->drill && !inc->resolved_ms && inc->named >= 0;
}

static bool s_names(const tc_update_t *u, const char *name)
{
    for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++)
        if (!strcmp(u->components[i].name, name))
            return true;
    return false;
}

static tc_component_status_t s_shown(const tc_sp_state_t *self, const tc_sp_component_t *sc)
{
    tc_component_status_t st = sc->c.status;
    for (size_t i = 0; i < self->nincs; i++) {
        const tc_sp_incident_t *inc = &self->incs[i];
        if (s_inc_raises(inc) && s_names(&inc->updates[inc->named], sc->c.name))
            st = tc_sp_worse(st, tc_sp_impact_status(inc->impact));
    }
    return st;
}

/* Records a status change unless it repeats the last one. Times never go
 * backwards in the history, so uptime can walk it in one pass. */
static int s_history_add(tc_sp_component_t *sc, tc_sp_change_t ch)
{
    if (sc->nhistory) {
        const tc_sp_change_t *last = &sc->history[sc->nhistory - 1];
        if (last->status == ch.status)
            return 0;
        if (ch.ms < last->ms)
            ch.ms = last->ms;
    }
    tc_sp_change_t *p = realloc(sc->history, (sc->nhistory + 1) * sizeof *p);
    if (!p)
        return TC_ENOMEM;
    sc->history = p;
    sc->history[sc->nhistory++] = ch;
    return 0;
}

/* Recomputes every shown status after a change at `ms`, recording the
 * ones that moved. Sets *moved if one did. */
static int s_refresh(tc_sp_state_t *self, int64_t ms, bool *moved)
{
    if (self->loading)
        return 0;
    for (size_t i = 0; i < self->ncomps; i++) {
        tc_sp_component_t *sc = &self->comps[i];
        tc_component_status_t st = s_shown(self, sc);
        size_t before = sc->nhistory;
        if (s_history_add(sc, (tc_sp_change_t){.ms = ms, .status = st}) != 0)
            return TC_ENOMEM;
        sc->shown = st;
        if (sc->nhistory != before && moved)
            *moved = true;
    }
    return 0;
}

void tc_sp_state_set_loading(tc_sp_state_t *self, bool loading)
{
    self->loading = loading;
    for (size_t i = 0; !loading && i < self->ncomps; i++)
        self->comps[i].shown = s_shown(self, &self->comps[i]);
}

/* ---- components ---------------------------------------------------------- */

static tc_sp_component_t *s_comp(tc_sp_state_t *self, const char *name)
{
    for (size_t i = 0; i < self->ncomps; i++)
        if (strcmp(self->comps[i].c.name, name) == 0)
            return &self->comps[i];
    return NULL;
}

/* Sort key: configured components by position, then the others in the
 * order they were first seen (kept in created order by a stable insert). */
static bool s_before(const tc_sp_component_t *a, const tc_sp_component_t *b)
{
    if (a->position && b->position)
        return a->position < b->position;
    return a->position != 0 && b->position == 0;
}

/* Moves comps[i] to where its position says; returns its new index. */
static size_t s_place(tc_sp_state_t *self, size_t i)
{
    tc_sp_component_t tmp = self->comps[i];
    memmove(&self->comps[i], &self->comps[i + 1], (self->ncomps - i - 1) * sizeof tmp);
    size_t n = self->ncomps - 1, at = n;
    for (size_t k = 0; k < n; k++)
        if (s_before(&tmp, &self->comps[k])) {
            at = k;
            break;
        }
    memmove(&self->comps[at + 1], &self->comps[at], (n - at) * sizeof tmp);
    self->comps[at] = tmp;
    return at;
}

static tc_sp_component_t *s_comp_add(tc_sp_state_t *self, const tc_component_t *c,
                                     int64_t created_ms, uint32_t position)
{
    if (s_reserve((void **)&self->comps, &self->capcomps, self->ncomps, sizeof *self->comps))
        return NULL;
    tc_sp_component_t *sc = &self->comps[self->ncomps++];
    memset(sc, 0, sizeof *sc);
    sc->c = *c;
    sc->shown = c->status;
    sc->created_ms = created_ms;
    sc->position = position;
    return &self->comps[s_place(self, self->ncomps - 1)];
}

/* Takes component `c` if it is not older than what is known; `position`
 * 0 keeps the known one. */
static int s_component(tc_sp_state_t *self, const tc_component_t *c, int64_t when_ms,
                       uint32_t position, tc_sp_applied_t *out)
{
    tc_sp_component_t *sc = s_comp(self, c->name);
    bool changed = false;
    if (!sc) {
        sc = s_comp_add(self, c, c->changed_ms && c->changed_ms < when_ms ? c->changed_ms : when_ms,
                        position);
        if (!sc)
            return TC_ENOMEM;
        changed = true;
    } else {
        if (position && sc->position != position) {
            sc->position = position;
            sc = &self->comps[s_place(self, (size_t)(sc - self->comps))];
            changed = true;
        }
        if (c->changed_ms >= sc->c.changed_ms && memcmp(&sc->c, c, sizeof *c) != 0) {
            tc_component_t keep = sc->c;
            sc->c = *c;
            /* A snapshot without a description must not erase the
             * configured one. */
            if (!c->description[0])
                memcpy(sc->c.description, keep.description, sizeof keep.description);
            changed = changed || memcmp(&sc->c, &keep, sizeof keep) != 0;
        }
    }
    if (!changed)
        return 0;
    if (s_refresh(self, c->changed_ms ? c->changed_ms : when_ms, NULL) != 0)
        return TC_ENOMEM;
    out->kind = TC_SP_COMPONENT;
    return 0;
}

/* ---- incidents and windows ------------------------------------------------ */

static tc_sp_incident_t *s_inc(tc_sp_state_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->nincs; i++)
        if (self->incs[i].id == id)
            return &self->incs[i];
    return NULL;
}

static tc_sp_maint_t *s_maint(tc_sp_state_t *self, uint64_t id, uint32_t occurrence)
{
    for (size_t i = 0; i < self->nmaints; i++)
        if (self->maints[i].w.id == id && self->maints[i].w.occurrence == occurrence)
            return &self->maints[i];
    return NULL;
}

/* Adds an empty occurrence, kept in (id, occurrence) order. */
static tc_sp_maint_t *s_maint_add(tc_sp_state_t *self, uint64_t id, uint32_t occurrence)
{
    if (s_reserve((void **)&self->maints, &self->capmaints, self->nmaints, sizeof *self->maints))
        return NULL;
    size_t at = self->nmaints;
    while (at > 0 &&
           (self->maints[at - 1].w.id > id ||
            (self->maints[at - 1].w.id == id && self->maints[at - 1].w.occurrence > occurrence)))
        at--;
    memmove(&self->maints[at + 1], &self->maints[at], (self->nmaints - at) * sizeof *self->maints);
    self->nmaints++;
    tc_sp_maint_t *w = &self->maints[at];
    memset(w, 0, sizeof *w);
    w->w.id = id;
    w->w.occurrence = occurrence;
    return w;
}

/* Inserts `u` into `*arr` by number. Returns 1 if `u` was a duplicate, 0 if
 * inserted, TC_ENOMEM. */
static int s_update_insert(tc_update_t **arr, size_t *n, const tc_update_t *u)
{
    size_t at = *n;
    for (size_t i = 0; i < *n; i++) {
        if ((*arr)[i].number == u->number)
            return 1;
        if ((*arr)[i].number > u->number) {
            at = i;
            break;
        }
    }
    tc_update_t *p = realloc(*arr, (*n + 1) * sizeof *p);
    if (!p)
        return TC_ENOMEM;
    memmove(&p[at + 1], &p[at], (*n - at) * sizeof *p);
    p[at] = *u;
    *arr = p;
    (*n)++;
    return 0;
}

/* Derives what the page shows of an incident from its updates. */
static void s_inc_derive(tc_sp_incident_t *inc)
{
    /* Only a report (the page never saw the updates before it): the
     * incident was public and is over. */
    const tc_update_t *latest = inc->nupdates ? &inc->updates[inc->nupdates - 1] : inc->report;
    /* The newest title given; an update may leave it out, and a page
     * entry without a name is useless to a reader. */
    snprintf(inc->title, sizeof inc->title, "Incident %" PRIu64, inc->id);
    for (size_t i = inc->nupdates; i-- > 0;)
        if (inc->updates[i].title[0]) {
            memcpy(inc->title, inc->updates[i].title, sizeof inc->title);
            break;
        }
    inc->named = -1;
    for (size_t i = inc->nupdates; i-- > 0;)
        if (inc->updates[i].ncomponents) {
            inc->named = (long)i;
            break;
        }
    if (!inc->nupdates && latest->title[0])
        memcpy(inc->title, latest->title, sizeof inc->title);
    snprintf(inc->state, sizeof inc->state, "%s", inc->nupdates ? latest->state : "resolved");
    memcpy(inc->impact, latest->impact, sizeof inc->impact);
    inc->eta_ms = latest->eta_ms > 0 ? latest->eta_ms : 0;
    inc->drill = !inc->nupdates && latest->drill;
    inc->created_ms = latest->published_ms;
    inc->started_ms = 0;
    inc->monitoring_ms = 0;
    int64_t newest = 0;
    for (size_t i = 0; i < inc->nupdates; i++) {
        const tc_update_t *u = &inc->updates[i];
        inc->drill = inc->drill || u->drill;
        if (u->published_ms < inc->created_ms)
            inc->created_ms = u->published_ms;
        if (u->started_ms && (!inc->started_ms || u->started_ms < inc->started_ms))
            inc->started_ms = u->started_ms;
        if (u->published_ms > newest)
            newest = u->published_ms;
        if (!inc->monitoring_ms && strcmp(u->state, "monitoring") == 0)
            inc->monitoring_ms = u->published_ms;
    }
    if (!inc->nupdates)
        inc->started_ms = latest->started_ms;
    if (!inc->nupdates || strcmp(latest->state, "resolved") == 0) {
        if (!inc->resolved_ms)
            inc->resolved_ms = latest->published_ms;
    } else if (inc->resolved_ms && latest->published_ms > inc->resolved_ms) {
        inc->resolved_ms = 0; /* reopened by a later update */
    }
    if (newest < inc->resolved_ms)
        newest = inc->resolved_ms;
    if (inc->report && newest < inc->report->published_ms)
        newest = inc->report->published_ms;
    inc->updated_ms = newest;
}

/* Takes report `u` as the incident's if it is newer than the one it has.
 * Returns 1 if it was not (a duplicate or older), 0, TC_ENOMEM. */
static int s_report_take(tc_sp_incident_t *inc, const tc_update_t *u)
{
    if (inc->report && inc->report->number >= u->number)
        return 1;
    if (!inc->report && !(inc->report = malloc(sizeof *inc->report)))
        return TC_ENOMEM;
    *inc->report = *u;
    return 0;
}

/* Adds update `u` to `inc`: a report as its report, else by number. */
static int s_inc_add(tc_sp_incident_t *inc, const tc_update_t *u)
{
    return tc_update_is_report(u) ? s_report_take(inc, u)
                                  : s_update_insert(&inc->updates, &inc->nupdates, u);
}

static int s_incident_update(tc_sp_state_t *self, const tc_update_t *u, tc_sp_applied_t *out)
{
    int rc;
    tc_sp_incident_t *inc = s_inc(self, u->incident);
    if (!inc) {
        if (s_reserve((void **)&self->incs, &self->capincs, self->nincs, sizeof *self->incs))
            return TC_ENOMEM;
        /* Kept in increasing id: incidents are created in that order, so
         * this is almost always an append. */
        size_t at = self->nincs;
        while (at > 0 && self->incs[at - 1].id > u->incident)
            at--;
        memmove(&self->incs[at + 1], &self->incs[at], (self->nincs - at) * sizeof *self->incs);
        inc = &self->incs[at];
        memset(inc, 0, sizeof *inc);
        inc->id = u->incident;
        rc = s_inc_add(inc, u);
        if (rc != 0) {
            memmove(&self->incs[at], &self->incs[at + 1], (self->nincs - at) * sizeof *self->incs);
            return rc;
        }
        self->nincs++;
    } else {
        rc = s_inc_add(inc, u);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    s_inc_derive(inc);
    out->kind = TC_SP_UPDATE;
    out->id = u->incident;
    return s_refresh(self, u->published_ms, NULL);
}

/* The occurrence a window's update belongs to: the one that starts when
 * the update says its window starts, else by its number, which the
 * coordinator counts four per occurrence (scheduled, in progress,
 * verifying, completed; coordinator/state_comms.c). */
static uint32_t s_occurrence_of(const tc_sp_state_t *self, const tc_update_t *u)
{
    if (u->started_ms)
        for (size_t i = 0; i < self->nmaints; i++)
            if (self->maints[i].w.id == u->maintenance &&
                self->maints[i].w.start_ms == u->started_ms)
                return self->maints[i].w.occurrence;
    return u->number ? (u->number - 1) / 4 + 1 : 1;
}

static int s_window_update(tc_sp_state_t *self, const tc_update_t *u, tc_sp_applied_t *out)
{
    uint32_t occ = s_occurrence_of(self, u);
    tc_sp_maint_t *w = s_maint(self, u->maintenance, occ);
    bool created = false;
    if (!w) {
        /* The coordinator announces an occurrence just before its window
         * broadcast; meanwhile the update says what it is about. */
        if (!(w = s_maint_add(self, u->maintenance, occ)))
            return TC_ENOMEM;
        memcpy(w->w.title, u->title, sizeof w->w.title);
        w->w.drill = u->drill;
        w->w.start_ms = u->started_ms;
        created = true;
    }
    int rc = s_update_insert(&w->updates, &w->nupdates, u);
    if (rc != 0) {
        if (created) {
            size_t at = (size_t)(w - self->maints);
            memmove(&self->maints[at], &self->maints[at + 1],
                    (--self->nmaints - at) * sizeof *self->maints);
        }
        return rc < 0 ? rc : 0;
    }
    if (u->published_ms > w->updated_ms)
        w->updated_ms = u->published_ms;
    out->kind = TC_SP_UPDATE;
    out->id = u->maintenance;
    out->occurrence = occ;
    return 0;
}

static int s_update(tc_sp_state_t *self, const tc_msg_t *m, tc_sp_applied_t *out)
{
    tc_update_t u = m->u.bcast.update;
    if (!u.external || u.status == TC_UPD_WITHDRAWN)
        return 0; /* internal audiences never reach the page */
    if (!u.published_ms)
        u.published_ms = m->time_ms;
    if (u.incident)
        return s_incident_update(self, &u, out);
    if (u.maintenance)
        return s_window_update(self, &u, out);
    return 0;
}

static int s_maintenance(tc_sp_state_t *self, const tc_msg_t *m, tc_sp_applied_t *out)
{
    const tc_maintenance_t *mw = &m->u.bcast.maint;
    uint32_t occ = mw->occurrence ? mw->occurrence : 1;
    tc_sp_maint_t *w = s_maint(self, mw->id, occ);
    if (!w) {
        if (!(w = s_maint_add(self, mw->id, occ)))
            return TC_ENOMEM;
    } else if (w->announced && memcmp(&w->w, mw, sizeof *mw) == 0) {
        return 0;
    }
    bool closes = mw->state == TC_MAINT_COMPLETED || mw->state == TC_MAINT_CANCELLED;
    if (closes && !w->closed_ms)
        w->closed_ms = m->time_ms;
    else if (!closes)
        w->closed_ms = 0;
    w->w = *mw;
    w->w.occurrence = occ;
    w->announced = true;
    if (m->time_ms > w->updated_ms)
        w->updated_ms = m->time_ms;
    out->kind = TC_SP_MAINT;
    out->id = mw->id;
    out->occurrence = occ;
    return 0;
}

static int s_resolved(tc_sp_state_t *self, const tc_msg_t *m, tc_sp_applied_t *out)
{
    /* Only the id and the time: the rest of the incident is internal. */
    tc_sp_incident_t *inc = s_inc(self, m->u.bcast.incident.id);
    if (!inc || inc->resolved_ms)
        return 0;
    int64_t ms = m->u.bcast.incident.resolved_ms ? m->u.bcast.incident.resolved_ms : m->time_ms;
    inc->resolved_ms = ms;
    if (ms > inc->updated_ms)
        inc->updated_ms = ms;
    out->kind = TC_SP_RESOLVED;
    out->id = inc->id;
    out->ms = ms;
    return s_refresh(self, ms, NULL);
}

int tc_sp_state_apply(tc_sp_state_t *self, const tc_msg_t *m, tc_sp_applied_t *out)
{
    memset(out, 0, sizeof *out);
    if (m->kind != TC_MSG_BROADCAST)
        return 0;
    switch (m->u.bcast.kind) {
    case TC_BCAST_STATUS_UPDATE: return s_update(self, m, out);
    case TC_BCAST_COMPONENT: return s_component(self, &m->u.bcast.component, m->time_ms, 0, out);
    case TC_BCAST_MAINTENANCE: return s_maintenance(self, m, out);
    case TC_BCAST_INCIDENT_RESOLVED: return s_resolved(self, m, out);
    default: return 0;
    }
}

int tc_sp_state_merge_component(tc_sp_state_t *self, const tc_component_t *c, uint32_t position,
                                int64_t now_ms, tc_sp_applied_t *out)
{
    memset(out, 0, sizeof *out);
    return s_component(self, c, c->changed_ms ? c->changed_ms : now_ms, position, out);
}

int tc_sp_state_restore_component(tc_sp_state_t *self, const tc_component_t *c, int64_t created_ms,
                                  uint32_t position)
{
    tc_sp_component_t *sc = s_comp(self, c->name);
    if (sc) {
        sc->c = *c;
        sc->created_ms = created_ms;
        sc->position = position;
        s_place(self, (size_t)(sc - self->comps));
        return 0;
    }
    return s_comp_add(self, c, created_ms, position) ? 0 : TC_ENOMEM;
}

int tc_sp_state_restore_change(tc_sp_state_t *self, const char *name, tc_sp_change_t ch)
{
    tc_sp_component_t *sc = s_comp(self, name);
    if (!sc)
        return 0; /* history of a component that is gone */
    return s_history_add(sc, ch);
}

/* ---- read access ---------------------------------------------------------- */

uint64_t tc_sp_state_cursor(const tc_sp_state_t *self)
{
    return self->cursor;
}

void tc_sp_state_set_cursor(tc_sp_state_t *self, uint64_t seq)
{
    self->cursor = seq;
}

int64_t tc_sp_state_contact(const tc_sp_state_t *self)
{
    return self->contact_ms;
}

void tc_sp_state_set_contact(tc_sp_state_t *self, int64_t ms)
{
    self->contact_ms = ms;
}

size_t tc_sp_state_ncomponents(const tc_sp_state_t *self)
{
    return self->ncomps;
}

const tc_sp_component_t *tc_sp_state_component(const tc_sp_state_t *self, size_t i)
{
    return i < self->ncomps ? &self->comps[i] : NULL;
}

const tc_sp_component_t *tc_sp_state_find_component(const tc_sp_state_t *self, const char *name)
{
    return s_comp((tc_sp_state_t *)self, name);
}

size_t tc_sp_state_nincidents(const tc_sp_state_t *self)
{
    return self->nincs;
}

const tc_sp_incident_t *tc_sp_state_incident(const tc_sp_state_t *self, size_t i)
{
    return i < self->nincs ? &self->incs[i] : NULL;
}

const tc_sp_incident_t *tc_sp_state_find_incident(const tc_sp_state_t *self, uint64_t id)
{
    return s_inc((tc_sp_state_t *)self, id);
}

size_t tc_sp_state_nmaints(const tc_sp_state_t *self)
{
    return self->nmaints;
}

const tc_sp_maint_t *tc_sp_state_maint(const tc_sp_state_t *self, size_t i)
{
    return i < self->nmaints ? &self->maints[i] : NULL;
}

const tc_sp_maint_t *tc_sp_state_find_maint(const tc_sp_state_t *self, uint64_t id,
                                            uint32_t occurrence)
{
    return s_maint((tc_sp_state_t *)self, id, occurrence);
}

/* ---- derived --------------------------------------------------------------- */

static double s_down_weight(tc_component_status_t s)
{
    switch (s) {
    case TC_COMP_MAJOR_OUTAGE: return 1.0;
    case TC_COMP_PARTIAL_OUTAGE: return 0.3;
    default: return 0.0;
    }
}

double tc_sp_uptime(const tc_sp_component_t *c, int64_t from_ms, int64_t to_ms, int64_t *known_ms)
{
    int64_t known = 0;
    double down = 0;
    for (size_t i = 0; i < c->nhistory; i++) {
        int64_t a = c->history[i].ms;
        int64_t b = i + 1 < c->nhistory ? c->history[i + 1].ms : to_ms;
        if (a < from_ms)
            a = from_ms;
        if (b > to_ms)
            b = to_ms;
        if (b <= a)
            continue;
        known += b - a;
        down += (double)(b - a) * s_down_weight(c->history[i].status);
    }
    if (known_ms)
        *known_ms = known;
    return known > 0 ? 1.0 - down / (double)known : -1.0;
}

/* Ranks of the indicator, worst last. */
enum { S_NONE, S_MAINT, S_MINOR, S_MAJOR, S_CRITICAL };

static int s_indicator_rank(tc_component_status_t s)
{
    switch (s) {
    case TC_COMP_DEGRADED: return S_MINOR;
    case TC_COMP_PARTIAL_OUTAGE: return S_MAJOR;
    case TC_COMP_MAJOR_OUTAGE: return S_CRITICAL;
    case TC_COMP_MAINTENANCE: return S_MAINT;
    default: return S_NONE;
    }
}

/* True if `u` names at least one component the page knows. */
static bool s_names_known(const tc_sp_state_t *self, const tc_update_t *u)
{
    for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++)
        if (s_comp((tc_sp_state_t *)self, u->components[i].name))
            return true;
    return false;
}

const char *tc_sp_indicator(const tc_sp_state_t *self)
{
    static const char *const names[] = {"none", "maintenance", "minor", "major", "critical"};
    int worst = S_NONE;
    for (size_t i = 0; i < self->ncomps; i++) {
        int r = s_indicator_rank(self->comps[i].shown);
        if (r > worst)
            worst = r;
    }
    for (size_t i = 0; i < self->nincs; i++) {
        const tc_sp_incident_t *inc = &self->incs[i];
        if (inc->drill || inc->resolved_ms)
            continue; /* a drill must never alarm customers */
        if (inc->named >= 0 && s_names_known(self, &inc->updates[inc->named]))
            continue; /* already in its components' shown status */
        int r = s_indicator_rank(tc_sp_impact_status(inc->impact));
        if (r > worst)
            worst = r;
    }
    for (size_t i = 0; i < self->nmaints; i++)
        if (!self->maints[i].w.drill && self->maints[i].announced &&
            self->maints[i].w.state == TC_MAINT_IN_PROGRESS && worst < S_MAINT)
            worst = S_MAINT;
    return names[worst];
}
