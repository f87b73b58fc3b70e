/*
 * sp_fixtures.h - broadcasts and renderings for the status page's unit
 * tests (test_statuspage.c, test_statuspage_site.c). Header-only: each
 * unit test is its own executable.
 */
#ifndef TC_TEST_SP_FIXTURES_H
#define TC_TEST_SP_FIXTURES_H

#include "sp_site.h"
#include "sp_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_T0 1795478400000LL /* Tue 24 Nov 2026, 00:00 UTC */
#define S_MIN 60000LL
#define S_HOUR 3600000LL
#define S_DAY (24 * S_HOUR)

static inline tc_msg_t *s_msg(uint64_t seq, tc_bcast_kind_t kind, const char *topic)
{
    tc_msg_t *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->version = 1;
    strcpy(m->sender, "coordinator");
    m->seq = seq;
    m->time_ms = S_T0 + (int64_t)seq * 1000;
    m->kind = TC_MSG_BROADCAST;
    m->u.bcast.kind = kind;
    snprintf(m->u.bcast.topic, sizeof m->u.bcast.topic, "%s", topic);
    return m;
}

/* An update of `incident` naming component "api" as partial_outage, impact
 * major, published at the broadcast's time. */
static inline tc_msg_t *s_update(uint64_t seq, uint64_t incident, uint32_t number, bool external,
                                 const char *state, const char *title, const char *body)
{
    tc_msg_t *m =
        s_msg(seq, TC_BCAST_STATUS_UPDATE, external ? "status.external" : "status.internal");
    tc_update_t *u = &m->u.bcast.update;
    u->incident = incident;
    u->number = number;
    u->external = external;
    strcpy(u->scenario, "outage");
    snprintf(u->state, sizeof u->state, "%s", state);
    snprintf(u->title, sizeof u->title, "%s", title);
    snprintf(u->body, sizeof u->body, "%s", body);
    strcpy(u->impact, "major");
    u->status = TC_UPD_PUBLISHED;
    u->published_ms = m->time_ms;
    u->ncomponents = 1;
    strcpy(u->components[0].name, "api");
    u->components[0].status = TC_COMP_PARTIAL_OUTAGE;
    return m;
}

static inline tc_msg_t *s_component(uint64_t seq, const char *name, tc_component_status_t st,
                                    int64_t changed)
{
    tc_msg_t *m = s_msg(seq, TC_BCAST_COMPONENT, "component.updated");
    tc_component_t *c = &m->u.bcast.component;
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->description, sizeof c->description, "%s",
             !strcmp(name, "api")   ? "Public API"
             : !strcmp(name, "web") ? "Website"
                                    : "");
    c->status = c->derived = st;
    c->changed_ms = changed;
    return m;
}

static inline tc_msg_t *s_resolved(uint64_t seq, uint64_t id)
{
    tc_msg_t *m = s_msg(seq, TC_BCAST_INCIDENT_RESOLVED, "incident.resolved");
    m->u.bcast.incident.id = id;
    m->u.bcast.incident.resolved_ms = m->time_ms;
    strcpy(m->u.bcast.incident.summary, "db-01 disk full SECRET");
    return m;
}

static inline tc_msg_t *s_window(uint64_t seq, uint64_t id, tc_maint_state_t st)
{
    tc_msg_t *m = s_msg(seq, TC_BCAST_MAINTENANCE, "maintenance.updated");
    tc_maintenance_t *w = &m->u.bcast.maint;
    w->id = id;
    strcpy(w->title, "Database upgrade");
    w->state = st;
    w->occurrence = 1;
    w->start_ms = S_T0 + S_DAY;
    w->end_ms = S_T0 + S_DAY + 2 * S_HOUR;
    w->ncomponents = 1;
    strcpy(w->components[0], "api");
    strcpy(w->description, "The API may be slow.");
    w->created_ms = S_T0;
    return m;
}

/* A window's announcement: update `number` in `state`, as the coordinator
 * numbers them (four per occurrence). */
static inline tc_msg_t *s_window_update(uint64_t seq, uint64_t window, uint32_t number,
                                        const char *state, int64_t start_ms, const char *body)
{
    tc_msg_t *m = s_update(seq, 0, number, true, state, "Database upgrade", body);
    tc_update_t *u = &m->u.bcast.update;
    u->maintenance = window;
    strcpy(u->scenario, "maintenance");
    strcpy(u->impact, "maintenance");
    u->started_ms = start_ms;
    u->components[0].status = TC_COMP_OPERATIONAL;
    return m;
}

/* Applies and frees `m`; returns what changed. */
static inline tc_sp_change_kind_t s_apply(tc_sp_state_t *s, tc_msg_t *m)
{
    tc_sp_applied_t a;
    assert_int_equal(tc_sp_state_apply(s, m, &a), 0);
    free(m);
    return a.kind;
}

typedef int(s_render_fn)(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page);

/* Renders with `fn` into a string the caller frees. Not inlined: GCC's
 * dangling-pointer check mistakes the memory stream's buffer for a local. */
__attribute__((noinline, unused)) static char *s_render(s_render_fn *fn, const tc_sp_state_t *s,
                                                        const tc_sp_page_t *page)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, s, page), 0);
    fclose(f);
    return buf;
}

/* index.html at `now`, coordinator heard from just now. */
static inline char *s_index(tc_sp_state_t *s, int64_t now)
{
    if (!tc_sp_state_contact(s))
        tc_sp_state_set_contact(s, now);
    tc_sp_page_t page = {.title = "Acme <Status>", .url = "", .now_ms = now, .stale_ms = 60000};
    return s_render(tc_sp_render_index, s, &page);
}

static inline void s_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

static inline void s_lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        fail_msg("\"%s\" must not be in:\n%s", needle, hay);
}

static inline size_t s_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#endif
