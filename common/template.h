/*
 * template.h - message templates for incident status updates.
 *
 * An incident's communication plan says that status updates use approved
 * texts per scenario and per audience: external ones in business language
 * with no internal technical detail, saying what is affected, what to do
 * meanwhile and when the next update comes. A template set holds one text
 * for every (scenario, audience, state):
 *
 *   scenario  outage, degradation, security   states investigating,
 *                                             identified, monitoring, resolved
 *             maintenance                     states scheduled, in_progress,
 *                                             verifying, completed
 *   audience  internal, external
 *
 * All 32 combinations have a built-in default; files in a template directory
 * override single combinations. The coordinator renders a template when the
 * Customer Liaison drafts an update and stores the rendered text in the log,
 * so replay never depends on template files.
 *
 * Template text is UTF-8 with placeholders {{name}} (spaces inside the
 * braces allowed: {{ name }}). Names: service, components, state, impact,
 * next_update, incident, severity, started, title, summary, window,
 * description (a maintenance window's own public text). A lone
 * '{', '}' or "}}" is literal text; there is no way to write a literal "{{".
 * External templates may not use {{summary}} or {{service}}, which carry
 * internal technical detail. Placeholders are parsed once, when a template
 * is added; rendering only copies.
 *
 * A set is not thread-safe while it is being changed (tc_templates_parse);
 * once built, any number of threads may render from it concurrently.
 */
#ifndef TC_TEMPLATE_H
#define TC_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/* Largest template text, in bytes, before trailing newlines are trimmed. */
#define TC_TEMPLATE_MAX 4096

/* A complete set of templates: defaults plus any overrides. */
typedef struct tc_templates tc_templates_t;

/* The values substituted for the placeholders of the same name. All are
 * borrowed for the duration of one tc_templates_render() call, inserted as
 * they are (plain text: nothing is escaped), except that bytes which are not
 * valid UTF-8 become '?', so rendered text is always valid UTF-8.
 * A NULL field renders as the empty string, except:
 *   components  NULL renders "some of our services";
 *   next_update NULL leaves out the sentence that holds it (from the end of
 *               the sentence before to its own full stop): nothing promised
 *               is better than "Next update: soon".
 * An empty value leaves no double space: the spaces after it go; one at the
 * very end takes the spaces and line ends before it too.
 * The default templates write "Next update: {{next_update}}.", so pass a
 * time such as "14:30 UTC". `window` is the maintenance window, e.g.
 * "Tue 2 Dec 2026, 22:00 to 23:00 UTC" (common/human.h writes times so);
 * `impact` is a sentence (or several) saying what customers notice and can
 * do; `description` the window's announcement text; `eta` a sentence on
 * restoration ("We expect service to be restored by Tue 2 Dec 2026, 15:00
 * UTC." or "We do not yet know when service will be restored."). */
typedef struct {
    const char *service;
    const char *components;
    const char *state;
    const char *impact;
    const char *next_update;
    const char *incident;
    const char *severity;
    const char *started;
    const char *title;
    const char *summary;
    const char *window;
    const char *description;
    const char *eta; /* a sentence: "We expect service to be restored by ..." */
} tc_template_vars_t;

/* True if `scenario` is outage, degradation, maintenance or security.
 * NULL is not valid. */
bool tc_template_scenario_valid(const char *scenario);

/* True if `audience` is internal or external. NULL is not valid. */
bool tc_template_audience_valid(const char *audience);

/* True if `state` is a state of `scenario` (see above); false if either is
 * NULL or unknown. */
bool tc_template_state_valid(const char *scenario, const char *state);

/* Builds a template set into *out: the built-in defaults, overridden by the
 * template files in directory `dir`. `dir` NULL or "" means defaults only.
 *
 * Every entry of `dir` must be a regular file (symbolic links to one are
 * followed) named SCENARIO.AUDIENCE.STATE.txt, e.g.
 * outage.external.investigating.txt, of at most TC_TEMPLATE_MAX bytes;
 * hidden entries (name starting with '.') and README / README.md are
 * ignored. Trailing newlines of each file are dropped. Files are read in
 * name order and the first problem stops loading.
 *
 * Returns 0 with *out caller-owned (free with tc_templates_destroy), or:
 *   TC_ECONFIG  the directory cannot be opened, or an entry has a bad name,
 *               is not a regular file, is too big or does not parse;
 *   TC_EIO      a file cannot be read;
 *   TC_ENOMEM   out of memory;
 *   TC_EINVAL   out is NULL.
 * On failure *out is NULL and, if err is not NULL, err[0..errlen) holds one
 * line saying where and why, e.g.
 *   "outage.external.investigating.txt:3: unknown placeholder {{hosts}}". */
int tc_templates_load(const char *dir, tc_templates_t **out, char *err, size_t errlen);

/* Parses one template from memory and, if it is valid, makes it the text
 * of its combination in `t`, replacing the default or an earlier override.
 * This is what tc_templates_load() does for each file.
 *
 * `name` is the file name that says the combination
 * (SCENARIO.AUDIENCE.STATE.txt) and prefixes error messages. `text` holds
 * `len` bytes (need not be NUL-terminated; may be NULL when len is 0); it
 * must be at most TC_TEMPLATE_MAX bytes of UTF-8 with no control characters
 * except tab and newline, and only well-formed, known placeholders. Both are
 * borrowed: the set keeps its own copy.
 *
 * Returns 0, TC_ECONFIG (bad name or content; err says which, with the line
 * number for content), TC_ENOMEM, or TC_EINVAL if t or name is NULL or text
 * is NULL with len > 0. On failure `t` is unchanged. */
int tc_templates_parse(tc_templates_t *t, const char *name, const char *text, size_t len, char *err,
                       size_t errlen);

/* Renders the template of (scenario, audience, state) with `vars` (may be
 * NULL: every placeholder gets its NULL rendering) into out[0..cap).
 * `out` is caller-owned and always NUL-terminated when cap > 0.
 * Returns 0; TC_ETOOBIG if the text did not fit, in which case `out` holds
 * as much as fits, cut at a UTF-8 character boundary (the caller decides
 * whether that will do); TC_EINVAL if t or out is NULL, cap is 0, or the
 * scenario, audience or state is unknown or not a valid combination (then
 * out is the empty string). */
int tc_templates_render(const tc_templates_t *t, const char *scenario, const char *audience,
                        const char *state, const tc_template_vars_t *vars, char *out, size_t cap);

/* Called by tc_templates_each() for each combination. All strings are
 * borrowed, valid until the set is changed or destroyed; `text` is the raw
 * template (placeholders not substituted); `from_file` is true when it
 * replaced the built-in default. Return 0 to go on, anything else to stop. */
typedef int(tc_template_fn)(const char *scenario, const char *audience, const char *state,
                            const char *text, bool from_file, void *ctx);

/* Calls fn(..., ctx) for all 32 combinations, in the order scenario
 * (outage, degradation, maintenance, security), audience (internal,
 * external), state (lifecycle order). Returns 0, the first non-zero value
 * fn returned, or TC_EINVAL if t or fn is NULL. */
int tc_templates_each(const tc_templates_t *t, tc_template_fn *fn, void *ctx);

/* Frees the set and sets *t to NULL. Safe with t or *t NULL. */
void tc_templates_destroy(tc_templates_t **t);

#endif
