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
 * rebuilds exactly the same state. What the page shows is derived from it
 * in one place, sp_view.h. A state is used from one thread.
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
    tc_component_t c;            /* as the coordinator last reported it */
    tc_component_status_t shown; /* what the page shows: see "Shown status" */
    int64_t created_ms;          /* first seen */
    uint32_t position;           /* 1, 2, ...: the coordinator's configuration order;
                                  * 0 while only broadcasts named it */
    tc_sp_change_t *history;     /* of `shown`: oldest first, no two equal in a row */
    size_t nhistory;
} tc_sp_component_t;

/* A public incident: one that has at least one published external update. */
typedef struct {
    uint64_t id;
    char title[TC_TITLE_MAX]; /* from the latest update that has one */
    char state[16];           /* public state of the latest update */
    char impact[16];          /* none, minor, major, critical */
    bool drill;
    int64_t created_ms;    /* first update published */
    int64_t started_ms;    /* when the incident began, as the coordinator says
                            * (older updates do not say: then created_ms) */
    int64_t updated_ms;    /* latest update or resolution */
    int64_t monitoring_ms; /* first "monitoring" update, or 0 */
    int64_t resolved_ms;   /* 0 while unresolved */
    int64_t eta_ms;        /* the latest update's restoration estimate, or 0 */
    tc_update_t *updates;  /* status updates by number, oldest first (no reports) */
    size_t nupdates;
    /* The newest update that names components (its index in `updates`),
     * or -1: those are the components the incident affects now. */
    long named;
    /* The newest published post-mortem report (tc_update_is_report), or
     * NULL. Kept apart from `updates`: a report says nothing about the
     * incident's state, components or next update. */
    tc_update_t *report;
} tc_sp_incident_t;

/* One occurrence of a maintenance window (a recurring window has one per
 * run, each with its own updates) and its external updates. */
typedef struct {
    tc_maintenance_t w;
    bool announced;       /* a maintenance broadcast was seen, not only updates */
    int64_t updated_ms;   /* latest broadcast or update */
    int64_t closed_ms;    /* when it became completed or cancelled; 0 before */
    tc_update_t *updates; /* by number, oldest first */
    size_t nupdates;
} tc_sp_maint_t;

/* What one tc_sp_state_apply() changed, so the store can write just that. */
typedef enum {
    TC_SP_NOTHING = 0,
    TC_SP_COMPONENT, /* `name`; `history` if a status change was recorded */
    TC_SP_UPDATE,    /* an external update was added */
    TC_SP_MAINT,     /* window `id`, occurrence `occurrence` */
    TC_SP_RESOLVED,  /* incident `id` marked resolved at `ms` */
} tc_sp_change_kind_t;

typedef struct {
    tc_sp_change_kind_t kind;
    uint64_t id;
    uint32_t occurrence;
    int64_t ms;
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

/*
 * Shown status. The page never contradicts itself, so a component's shown
 * status is the coordinator's, raised to what the published updates of the
 * open incidents imply: where the newest update of an open (unresolved,
 * not drill) public incident that names components names this one, the
 * component is shown at least at the status the incident's impact implies
 * (tc_sp_impact_status), for as long as the incident is open. Every apply
 * recomputes it and records a change in the history (at the broadcast's
 * time), so the uptime bars agree with what the page said at the time.
 * Ranks for "at least": operational < under maintenance < degraded
 * performance < partial outage < major outage.
 */

/* The status an update's impact implies: none and minor (and an empty or
 * unknown impact) degraded_performance, major partial_outage, critical
 * major_outage; "maintenance" implies nothing (operational). */
tc_component_status_t tc_sp_impact_status(const char *impact);

/* The worse of two statuses by the ranks above. */
tc_component_status_t tc_sp_worse(tc_component_status_t a, tc_component_status_t b);

/* The status to show for component `i` of update `u` (both borrowed): what
 * the coordinator recorded in it, raised by the update's own impact unless
 * the update announces the end ("resolved", "completed"). */
tc_component_status_t tc_sp_update_status(const tc_update_t *u, size_t i);

/* The overall status as a Statuspage indicator: the worst shown component
 * status (degraded_performance "minor", partial_outage "major",
 * major_outage "critical", under_maintenance "maintenance"); with the
 * impact implied by each open public incident (not a drill) that names no
 * component on the page, and "maintenance" while a window (not a drill) is
 * in progress, so an incident or window is never shown beside "none".
 * Static text: "none", "minor", "major", "critical", "maintenance". */
const char *tc_sp_indicator(const tc_sp_state_t *self);

/* Merges a component as the API's "components" command reports it (`c`
 * borrowed), at `position` (1-based, its place in the coordinator's list,
 * which is configuration order): adds unknown components, refreshes
 * descriptions and positions, and takes the status if it is not older than
 * what is known. `now_ms` is the created time of a new component. Same *out
 * and errors as tc_sp_state_apply(). */
int tc_sp_state_merge_component(tc_sp_state_t *self, const tc_component_t *c, uint32_t position,
                                int64_t now_ms, tc_sp_applied_t *out);

/* Restores what the store saved (used only when loading): a component with
 * its first-seen time and position, and one history entry (in increasing
 * time). Return 0 or TC_ENOMEM. */
int tc_sp_state_restore_component(tc_sp_state_t *self, const tc_component_t *c, int64_t created_ms,
                                  uint32_t position);
int tc_sp_state_restore_change(tc_sp_state_t *self, const char *name, tc_sp_change_t ch);

/* While loading (the store re-applies saved broadcasts), applies record no
 * history: the saved history already holds it. Ending it computes the
 * shown statuses from what was restored. */
void tc_sp_state_set_loading(tc_sp_state_t *self, bool loading);

/* The last broadcast sequence applied (0 before any) and the last time the
 * coordinator was heard from (0: never). Kept here so the renderer and the
 * store see one value. */
uint64_t tc_sp_state_cursor(const tc_sp_state_t *self);
void tc_sp_state_set_cursor(tc_sp_state_t *self, uint64_t seq);
int64_t tc_sp_state_contact(const tc_sp_state_t *self);
void tc_sp_state_set_contact(tc_sp_state_t *self, int64_t ms);

/* Read access for rendering. Pointers are borrowed and valid until the next
 * call that changes the state. Components are in position order (those
 * without a position last, in the order they were first seen); incidents in
 * increasing id; window occurrences in increasing (id, occurrence). */
size_t tc_sp_state_ncomponents(const tc_sp_state_t *self);
const tc_sp_component_t *tc_sp_state_component(const tc_sp_state_t *self, size_t i);
const tc_sp_component_t *tc_sp_state_find_component(const tc_sp_state_t *self, const char *name);
size_t tc_sp_state_nincidents(const tc_sp_state_t *self);
const tc_sp_incident_t *tc_sp_state_incident(const tc_sp_state_t *self, size_t i);
const tc_sp_incident_t *tc_sp_state_find_incident(const tc_sp_state_t *self, uint64_t id);
size_t tc_sp_state_nmaints(const tc_sp_state_t *self);
const tc_sp_maint_t *tc_sp_state_maint(const tc_sp_state_t *self, size_t i);
const tc_sp_maint_t *tc_sp_state_find_maint(const tc_sp_state_t *self, uint64_t id,
                                            uint32_t occurrence);

/* Uptime of component `c` between `from_ms` and `to_ms` (from < to), as
 * status pages count it: a major outage is fully down, a partial outage
 * counts 30% (Atlassian Statuspage's weighting), everything else is up.
 * Time before the first known status is not counted. Sets *known_ms to the
 * time counted and returns the up fraction in [0, 1], or -1 if no time in
 * the range is known. */
double tc_sp_uptime(const tc_sp_component_t *c, int64_t from_ms, int64_t to_ms, int64_t *known_ms);

#endif
