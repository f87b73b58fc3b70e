/*
 * drafts.h - turns an operator's request for a status update or a
 * maintenance window into what the log records: the template rendered with
 * the incident's details, relative times resolved against the
 * coordinator's clock.
 *
 * This happens once, when the request arrives, so that the record holds the
 * finished text and a replay never reads template files or the clock. No
 * I/O; the caller passes the state, policy, templates and time.
 */
#ifndef TC_DRAFTS_H
#define TC_DRAFTS_H

#include "policy.h"
#include "state.h"
#include "template.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

/* `update ID draft AUDIENCE SCENARIO STATE TITLE COMPONENTS NEXT` (q->args;
 * empty ones take defaults: external; the scenario from the incident —
 * security, degradation for SEV-3 and milder, else outage; the public state
 * from the incident's; the policy's cadence for the next update) with the
 * text in q->message, or rendered from template SCENARIO.AUDIENCE.STATE when
 * there is none. Fills *u (caller-owned). Returns 0, or TC_EINVAL with a
 * one-line reason in `why` (no such incident, bad audience, components or
 * duration, no template for the combination). A rendered text too long for
 * an update is cut at a character boundary and still returned (0). */
int tc_draft_update(const tc_state_t *st, const tc_policy_t *p, const tc_templates_t *tpl,
                    int64_t now, uint64_t id, const tc_api_request_t *q, tc_update_t *u, char *why,
                    size_t cap);

/* `postmortem ID report` (the public post-mortem): q->message holds its
 * summary, impact, root cause and actions, separated by
 * TC_REPORT_SEPARATOR. Fills *u (caller-owned) as an external update of
 * scenario and state "postmortem" whose body is the four parts under
 * their headings. Returns 0, or TC_EINVAL with a one-line reason in `why`
 * (no such incident, not four parts, a part empty or with a control
 * character, or too long with its headings: refused, never cut). Whether
 * the incident may have one now is the state machine's check. */
int tc_draft_report(const tc_state_t *st, uint64_t id, const tc_api_request_t *q, tc_update_t *u,
                    char *why, size_t cap);

/* `maintenance add START END COMPONENTS EVERY VERIFY TITLE` (q->args, the
 * public description in q->message): START and END as tc_when_parse takes
 * them, relative to `now`; EVERY and VERIFY durations or empty. Fills *w
 * (caller-owned; id and state are the state machine's to set). Returns 0, or
 * TC_EINVAL with a one-line reason in `why`. Whether the window makes sense
 * (end after start, known components) is the state machine's check. */
int tc_draft_window(int64_t now, const tc_api_request_t *q, tc_maintenance_t *w, char *why,
                    size_t cap);

#endif
