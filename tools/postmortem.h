/*
 * postmortem.h - a post-mortem draft in Markdown, filled from the log.
 *
 * The sections follow the PagerDuty post-mortem template the design brief
 * names: overview, what happened, contributing factors, resolution, impact,
 * responders, timeline, what went well and badly, action items, messaging
 * (the published internal and external updates), with the time spent at
 * SEV-1 and SEV-2, the meeting slot and, for a security incident, its
 * response checklist.
 * Everything the log knows is filled in; the rest is left for the owner,
 * marked as such. Pure: no I/O but the stream it writes to.
 */
#ifndef TC_POSTMORTEM_H
#define TC_POSTMORTEM_H

#include "msg.h"

#include <stddef.h>
#include <stdio.h>

/* Writes the draft for `inc` with its `n` timeline entries (in log order)
 * and its `nupdates` status updates (any order; only published ones are
 * the Messaging section). All borrowed. Returns 0 or TC_EIO. */
int tc_postmortem_markdown(FILE *out, const tc_incident_t *inc, const tc_timeline_t *tl, size_t n,
                           const tc_update_t *updates, size_t nupdates);

#endif
