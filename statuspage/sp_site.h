/*
 * sp_site.h - the static status site: HTML pages, the Statuspage-shaped
 * JSON API, the in-product banner, the Atom feed and the error pages a
 * reverse proxy serves, rendered from a tc_sp_state_t and written
 * atomically into a directory any web server can serve.
 *
 * Everything a reader sees comes from the state's one consistent view
 * (sp_state.h: shown component statuses, the overall indicator), so the
 * page, the JSON, the banner and the error pages never disagree.
 *
 * Every string that came from the coordinator is escaped for its context
 * (HTML/XML text and attributes, JSON strings), with control characters
 * dropped and ill-formed UTF-8 replaced, so a hostile update text cannot
 * change the page. Times for people are UTC with the date written out
 * (common/human.h); times for programs are RFC 3339 UTC. Drills say DRILL
 * once wherever they appear and never change the overall indicator.
 *
 * Rendering is a pure function of (state, page settings, now): no clock is
 * read here, so the tests can pin every byte. The pages carry a small
 * script (embed/page.js) that keeps relative times ("in 20 minutes") right
 * while a page stays open, and shows the out-of-date banner if nothing
 * rewrote the page in time.
 */
#ifndef TC_SP_SITE_H
#define TC_SP_SITE_H

#include "json.h"
#include "sp_state.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How the site is rendered this time. All borrowed. */
typedef struct {
    const char *title; /* page name, "Status" */
    const char *url;   /* public base URL ending in '/', or "" if unknown */
    int64_t now_ms;    /* render time */
    int64_t stale_ms;  /* no contact for longer than this: stale */
} tc_sp_page_t;

/* True if the page must say it may be out of date: the coordinator was
 * never heard from, or not for longer than page->stale_ms. */
bool tc_sp_stale(const tc_sp_state_t *state, const tc_sp_page_t *page);

/* Writes `s` to `out` escaped for HTML and XML text and attribute values:
 * & < > " ' become entities, control characters other than tab and newline
 * are dropped, ill-formed UTF-8 becomes U+FFFD. NULL writes nothing. */
void tc_sp_escape(FILE *out, const char *s);

/* Renderers into a stream (open_memstream in practice). Each returns 0 or
 * TC_EIO if the stream failed. */
int tc_sp_render_index(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page);
int tc_sp_render_incident(FILE *out, const tc_sp_state_t *state, const tc_sp_incident_t *inc,
                          const tc_sp_page_t *page);
int tc_sp_render_atom(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page);
/* outage.html and maintenance.html: self-contained pages (no scripts, no
 * external assets) that a reverse proxy serves as error content; they say
 * what is known at render time and link the status page. */
int tc_sp_render_outage(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page);
int tc_sp_render_maintenance(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page);

/* api/v2/summary.json (`summary`) or api/v2/status.json (page + status
 * only) into `j` (reset first). Check tc_json_error(j) afterwards. */
void tc_sp_render_json(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page,
                       bool summary);

/* api/v2/incidents.json: the page object and the newest
 * TC_SP_INCIDENTS_JSON_MAX public incidents, resolved ones too, each as in
 * summary.json (with its `postmortem`), into `j` (reset first). */
#define TC_SP_INCIDENTS_JSON_MAX 50
void tc_sp_render_incidents(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page);

/* api/v2/banner.json, what embed/banner.js shows inside a product, into
 * `j` (reset first): {"active", "indicator", "description", "components":
 * [{"id", "name", "status"}] (those not operational), "title", "text" (one
 * short sentence for customers), "updated_at", "eta", "url", "stale",
 * "page": {"name", "url"}}. See the README for each field. */
void tc_sp_render_banner(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page);

/* The static scripts the site serves: embed/page.js (relative times and
 * the out-of-date check of the pages) and embed/banner.js (the banner a
 * product includes with one <script> tag). NUL-terminated, static. */
extern const char tc_sp_page_js[];
extern const char tc_sp_banner_js[];

/* Writes `len` bytes of `data` to `dir`/`rel` atomically (nothing when the
 * file already holds exactly that): a temporary file
 * in the same directory (created, with parents, if missing), fsync'd, then
 * renamed over the target, then the directory fsync'd; readers see the old
 * file or the new one, never a part, and a crash leaves no temporary file
 * behind under the target's name. `rel` must not contain "..". Returns 0,
 * TC_EINVAL or TC_ESYS (errno set). */
int tc_sp_write_atomic(const char *dir, const char *rel, const void *data, size_t len);

/* Renders the whole site into directory `dir`: index.html,
 * incidents/<id>.html for every public incident, api/v2/summary.json,
 * api/v2/status.json, api/v2/banner.json, history.atom, outage.html,
 * maintenance.html, embed/page.js, embed/banner.js. Returns 0 or the first
 * error (TC_ENOMEM, TC_EIO, TC_ESYS). */
int tc_sp_site_write(const char *dir, const tc_sp_state_t *state, const tc_sp_page_t *page);

#endif
