/*
 * sp_state.h - the status page's own copy of what the public may see.
 *
 * The state is built only from broadcasts: published external status
 * updates, component changes, maintenance windows, and the resolution of
 * incidents that are already public. Everything else the coordinator knows
 * (hosts, summaries, roles, internal updates) never enters it, so nothing
 * internal can leak onto the page by a rendering mistake.
 *
 * This module is pure: applying a broadcast does no I/O and reads no clock,
 * so it is tested table-driven and a reload from the store (sp_store.h)
 * rebuilds exactly the same state. A state is used from one thread.
 */
#ifndef TC_SP_STATE_H
#define TC_SP_STATE_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One status change of a component, for uptime. */
typedef struct {
    int64_t ms;
    tc_component_status_t status;
} tc_sp_change_t;

typedef struct {
    tc_component_t c;
    int64_t created_ms;      /* first seen */
    tc_sp_change_t *history; /* oldest first, no two equal statuses in a row */
    size_t nhistory;
} tc_sp_component_t;

/* A public incident: one that has at least one published external update. */
typedef struct {
    uint64_t id;
    char title[TC_TITLE_MAX]; /* from the latest update */
    char state[16];           /* public state of the latest update */
    char impact[16];          /* none, minor, major, critical */
    bool drill;
    int64_t created_ms;    /* first update published */
    int64_t started_ms;    /* when the incident began, as the coordinator says
                            * (older updates do not say: then created_ms) */
    int64_t updated_ms;    /* latest update or resolution */
    int64_t monitoring_ms; /* first "monitoring" update, or 0 */
    int64_t resolved_ms;   /* 0 while unresolved */
    tc_update_t *updates;  /* by number, oldest first */
    size_t nupdates;
} tc_sp_incident_t;

/* A maintenance window and its external updates. */
typedef struct {
    tc_maintenance_t w;
    bool announced; /* a maintenance broadcast was seen, not only updates */
    int64_t updated_ms;
    tc_update_t *updates; /* by number, oldest first */
    size_t nupdates;
} tc_sp_maint_t;

/* What one tc_sp_state_apply() changed, so the store can write just that. */
typedef enum {
    TC_SP_NOTHING = 0,
    TC_SP_COMPONENT, /* `name`; `history` if a status change was recorded */
    TC_SP_UPDATE,    /* an external update was added */
    TC_SP_MAINT,     /* window `id` */
    TC_SP_RESOLVED,  /* incident `id` marked resolved at `ms` */
} tc_sp_change_kind_t;

typedef struct {
    tc_sp_change_kind_t kind;
    uint64_t id;
    int64_t ms;
    bool history;
    tc_sp_change_t change;
} tc_sp_applied_t;

typedef struct tc_sp_state tc_sp_state_t;

/* Caller owns the result; NULL on allocation failure. */
tc_sp_state_t *tc_sp_state_new(void);

/* Frees the state; NULL-safe; nulls *pself. */
void tc_sp_state_destroy(tc_sp_state_t **pself);

/* Applies one broadcast `m` (borrowed; kind TC_MSG_BROADCAST) and says in
 * *out what changed (kind TC_SP_NOTHING for a broadcast the page ignores,
 * an internal update, a duplicate, or an older component snapshot). Does not
 * move the cursor. Returns 0 or TC_ENOMEM (the state is then unchanged). */
int tc_sp_state_apply(tc_sp_state_t *self, const tc_msg_t *m, tc_sp_applied_t *out);

/* Merges a component as the API's "components" command reports it (`c`
 * borrowed): adds unknown components, refreshes descriptions, and takes the
 * status if it is not older than what is known. `now_ms` is the created
 * time of a new component. Same *out and errors as tc_sp_state_apply(). */
int tc_sp_state_merge_component(tc_sp_state_t *self, const tc_component_t *c, int64_t now_ms,
                                tc_sp_applied_t *out);

/* Restores what the store saved (used only when loading): a component with
 * its first-seen time, and one history entry (in increasing time). Return 0
 * or TC_ENOMEM. */
int tc_sp_state_restore_component(tc_sp_state_t *self, const tc_component_t *c, int64_t created_ms);
int tc_sp_state_restore_change(tc_sp_state_t *self, const char *name, tc_sp_change_t ch);

/* The last broadcast sequence applied (0 before any) and the last time the
 * coordinator was heard from (0: never). Kept here so the renderer and the
 * store see one value. */
uint64_t tc_sp_state_cursor(const tc_sp_state_t *self);
void tc_sp_state_set_cursor(tc_sp_state_t *self, uint64_t seq);
int64_t tc_sp_state_contact(const tc_sp_state_t *self);
void tc_sp_state_set_contact(tc_sp_state_t *self, int64_t ms);

/* Read access for rendering. Pointers are borrowed and valid until the next
 * call that changes the state. Components keep first-seen order; incidents
 * and windows are in increasing id. */
size_t tc_sp_state_ncomponents(const tc_sp_state_t *self);
const tc_sp_component_t *tc_sp_state_component(const tc_sp_state_t *self, size_t i);
const tc_sp_component_t *tc_sp_state_find_component(const tc_sp_state_t *self, const char *name);
size_t tc_sp_state_nincidents(const tc_sp_state_t *self);
const tc_sp_incident_t *tc_sp_state_incident(const tc_sp_state_t *self, size_t i);
const tc_sp_incident_t *tc_sp_state_find_incident(const tc_sp_state_t *self, uint64_t id);
size_t tc_sp_state_nmaints(const tc_sp_state_t *self);
const tc_sp_maint_t *tc_sp_state_maint(const tc_sp_state_t *self, size_t i);

/* Uptime of component `c` between `from_ms` and `to_ms` (from < to), as
 * status pages count it: a major outage is fully down, a partial outage
 * counts 30% (Atlassian Statuspage's weighting), everything else is up.
 * Time before the first known status is not counted. Sets *known_ms to the
 * time counted and returns the up fraction in [0, 1], or -1 if no time in
 * the range is known. */
double tc_sp_uptime(const tc_sp_component_t *c, int64_t from_ms, int64_t to_ms, int64_t *known_ms);

/* The worst status among the non-drill components and the impact of the
 * non-drill unresolved incidents, as a Statuspage indicator: "none",
 * "minor", "major", "critical", or "maintenance" when a non-drill window is
 * in progress or a component is under maintenance and nothing is worse.
 * Static text. */
const char *tc_sp_indicator(const tc_sp_state_t *self);

#endif
