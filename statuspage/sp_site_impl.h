/*
 * sp_site_impl.h - what the renderers of the status site share (sp_site.c,
 * sp_html.c, sp_json.c, sp_atom.c); not for use outside statuspage/.
 */
#ifndef TC_SP_SITE_IMPL_H
#define TC_SP_SITE_IMPL_H

#include "sp_site.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How long a completed or cancelled window stays on the page. */
#define TC_SP_PAST_MAINT_MS (7LL * 24 * 3600 * 1000)
/* Resolved incidents listed on the index. */
#define TC_SP_PAST_MAX 20

/* The pages' style sheet (sp_html.c), inlined into every page. */
extern const char tc_sp__css[];

/* "Partial System Outage" for indicator "major". Static text. */
const char *tc_sp__indicator_text(const char *indicator);

/* "in_progress" -> "In progress", "investigating" -> "Investigating", into
 * `dst` (NUL-terminated, at most `cap` bytes; only [a-z_] are kept). */
char *tc_sp__label(const char *state, char *dst, size_t cap);

/* The name customers know for component `slug`: its description, else the
 * slug itself. Borrowed from the state or from `slug`. */
const char *tc_sp__component_name(const tc_sp_state_t *state, const char *slug);

/* "[DRILL] Title" for drills (once, whatever marker the title already
 * had), "Title" otherwise, into `dst`. */
char *tc_sp__drill_name(bool drill, const char *title, char *dst, size_t cap);

/* True if `body` already promises the next update ("Next update: ..."):
 * then no second line says it. */
bool tc_sp__says_next_update(const char *body);

/* The first sentence of `body` (up to ". ", a line end or 200 bytes, cut
 * at a word), for the banner. Returns dst. */
char *tc_sp__sentence(const char *body, char *dst, size_t cap);

/* Windows listed as upcoming or running: announced, scheduled, in progress
 * or verifying. */
bool tc_sp__maint_open(const tc_sp_maint_t *w);
/* Windows in "Past maintenance": completed or cancelled within
 * TC_SP_PAST_MAINT_MS of `now_ms`. */
bool tc_sp__maint_recent(const tc_sp_maint_t *w, int64_t now_ms);
/* The public id of a window occurrence, "m-3-1" (window 3, occurrence 1):
 * its own id space, so it never collides with an incident id. */
char *tc_sp__maint_id(const tc_sp_maint_t *w, char *dst, size_t cap);

/* The newest update of `inc` / `w`, or NULL. */
const tc_update_t *tc_sp__latest(const tc_update_t *ups, size_t n);

/* The open incident (not a drill) that says most about the page now: the
 * worst impact, then the newest. NULL if none. */
const tc_sp_incident_t *tc_sp__lead_incident(const tc_sp_state_t *state);
/* The window (not a drill) in progress, else the next scheduled one; NULL
 * if none. */
const tc_sp_maint_t *tc_sp__lead_window(const tc_sp_state_t *state, bool in_progress_only);

/* HTML helpers: <time datetime="RFC 3339">Tue 2 Dec 2026, 14:05 UTC</time>,
 * the same in the short form when on the render day, and a relative phrase
 * the page's script keeps current: <span class="rel" data-t="MS">in 20
 * minutes</span>. */
void tc_sp__html_time(FILE *out, int64_t ms);
void tc_sp__html_time_near(FILE *out, int64_t ms, int64_t now_ms);
void tc_sp__html_rel(FILE *out, int64_t ms, int64_t now_ms);

#endif
