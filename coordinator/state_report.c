/*
 * state_report.c - the public post-mortem report (see state_impl.h).
 *
 * Hotjar's step 8 and the DESIGN's "a public report for public
 * incidents": once a public incident is resolved, a customer-facing report
 * (summary, impact, root cause in business language, what is being done)
 * is drafted, approved by the Incident Commander and published like an
 * external status update, so it reaches the status page, its feed and
 * every external subscriber by the same ordered, retried path. It is an
 * update of scenario "postmortem" (tc_update_is_report); the newest one
 * is the incident's report, and a new draft supersedes one not yet
 * published, so a correction is a new report, never an edit.
 */
#include "state_impl.h"

#include "error.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* The newest report of `inc`, or NULL. */
static tc_update_t *s_newest(const tc_state_t *st, const tc_incident_t *inc)
{
    for (uint32_t n = inc->updates; n >= 1; n--) {
        tc_update_t *u = tc_state__update_mut(st, inc->id, n);
        if (u && tc_update_is_report(u))
            return u;
    }
    return NULL;
}

bool tc_state__report_owed(const tc_state_t *st, const tc_incident_t *inc)
{
    const tc_update_t *u = s_newest(st, inc);
    return inc->is_public && !(u && u->status == TC_UPD_PUBLISHED);
}

bool tc_state__is_report_action(const tc_operator_action_t *a)
{
    return !strcmp(a->action, "postmortem") && a->nargs == 1 &&
           (!strcmp(a->args[0], "report") || !strcmp(a->args[0], "approve") ||
            !strcmp(a->args[0], "publish"));
}

int tc_state__check_report(const tc_state_t *st, const tc_incident_t *inc,
                           const tc_operator_action_t *a, char *why, size_t whylen)
{
    unsigned long long id = (unsigned long long)inc->id;
    const char *op = a->args[0];
    if (!strcmp(op, "report")) {
        if (inc->state != TC_INC_RESOLVED)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu is not resolved; its public report comes after "
                                    "resolution",
                                    id);
        if (!inc->is_public)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu was never public (no external update was "
                                    "published), so its post-mortem stays internal",
                                    id);
        if (!tc_update_is_report(&a->update) || !a->update.body[0] || !a->update.external)
            return tc_state__refuse(why, whylen, TC_EINVAL, "a report needs its four parts");
        if (inc->updates >= 10000)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu has too many updates",
                                    id);
        return 0;
    }
    const tc_update_t *u = s_newest(st, inc);
    if (!u || u->status == TC_UPD_WITHDRAWN)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "incident %llu has no public report drafted (tocsinctl postmortem "
                                "%llu report ...)",
                                id, id);
    if (u->status == TC_UPD_PUBLISHED)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "the public report of incident %llu is already published; a "
                                "correction is a new report",
                                id);
    if (!strcmp(op, "approve")) {
        if (u->status == TC_UPD_APPROVED)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "the public report of incident %llu is already approved", id);
        return tc_state__check_approver(inc, a->actor, "the public report", why, whylen);
    }
    if (u->status != TC_UPD_APPROVED)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "the public report of incident %llu needs the incident "
                                "commander's approval first (tocsinctl postmortem %llu approve)",
                                id, id);
    return tc_state__check_disclosure(inc, why, whylen);
}

int tc_state__apply_report(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                           const char *actor, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    const char *op = a->args[0];
    char text[TC_TEXT_MAX];
    tc_update_t *u = s_newest(st, inc);
    if (!strcmp(op, "report")) {
        uint32_t superseded = 0;
        if (u && (u->status == TC_UPD_DRAFT || u->status == TC_UPD_APPROVED)) {
            u->status = TC_UPD_WITHDRAWN;
            superseded = u->number;
        }
        tc_update_t *r = tc_state__add_draft(st, inc, &a->update, rec, actor);
        if (!r)
            return TC_ENOMEM;
        char was[48] = "";
        if (superseded)
            snprintf(was, sizeof was, " (in place of update %u)", superseded);
        const char *ic = tc_state__commander(inc);
        tc_state__text(text, sizeof text,
                       "public post-mortem report drafted by %s as update %u%s; awaiting approval "
                       "by the incident commander%s%s",
                       actor, r->number, was, ic ? " " : "", ic ? ic : "");
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "postmortem", text);
        return 0;
    }
    inc->updated_ms = rec->time_ms;
    if (!strcmp(op, "approve")) {
        u->status = TC_UPD_APPROVED;
        snprintf(u->approver, sizeof u->approver, "%s", actor);
        u->approved_ms = rec->time_ms;
        tc_state__text(text, sizeof text, "public post-mortem report (update %u) approved by %s",
                       u->number, actor);
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "postmortem", text);
        return 0;
    }
    tc_state__publish(st, inc, u, rec, actor, out);
    return 0;
}
