/*
 * state_response.c - how the response is organised, in the state machine
 * (see state_impl.h): which plan applies (Hotjar: an incident that starts
 * outside business hours is contained by the on-call engineer, and the
 * incident manager is called only if severity requires it), the reminder
 * to an Incident Commander whose major incident has gone quiet, and the
 * notices that tell one person something on their own page topic.
 *
 * Which plan applies is decided by the coordinator from the roster (the
 * owning team's business hours when the incident started) and recorded as
 * an action by tocsin; this file only records it and says so. Pure like
 * the rest of the state machine.
 */
#include "state_impl.h"

#include "error.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tc_state__notice(const tc_state_t *st, tc_state_out_t *out, const tc_incident_t *inc,
                      const tc_record_t *rec, const char *person, const char *role,
                      tc_page_kind_t kind, const char *topic, const char *fmt, ...)
{
    tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_REMINDER, rec->seq, inc);
    if (!b)
        return;
    if (person) {
        snprintf(b->topic, sizeof b->topic, "page.%s", person);
        /* A page of its own, so that tocsin-notify reaches the person; it
         * is no role's page, so no link acknowledges it. */
        tc_state__page_fill(st, b, inc, person, role, kind, 0);
    } else {
        snprintf(b->topic, sizeof b->topic, "%s", topic ? topic : "reminder.incident");
    }
    char buf[4 * TC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tc_strlcpy_utf8(b->detail, buf, sizeof b->detail);
}

/* ---- the plan ------------------------------------------------------------- */

int tc_state__check_plan(const tc_incident_t *inc, const tc_operator_action_t *a, char *why,
                         size_t whylen)
{
    const char *p = a->nargs == 1 ? a->args[0] : "";
    if (!strcmp(p, "full")) {
        if (inc->plan != TC_PLAN_OUT_OF_HOURS)
            return tc_state__refuse(
                why, whylen, TC_EINVAL, "incident %llu %s", (unsigned long long)inc->id,
                inc->plan == TC_PLAN_FULL ? "has the full response already"
                                          : "follows the full response (it did not start out of "
                                            "hours)");
        return 0;
    }
    /* Which plan applies is the coordinator's decision, from the roster,
     * made once when the incident is declared. */
    if ((strcmp(p, "business_hours") && strcmp(p, "out_of_hours")) ||
        strcmp(a->actor, TC_STATE_ACTOR) != 0)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "plan wants full (page the whole response out of hours)");
    if (inc->plan != TC_PLAN_NONE)
        return tc_state__refuse(why, whylen, TC_EINVAL, "the plan is decided already");
    return 0;
}

int tc_state__apply_plan(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                         const char *actor, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    const char *p = a->args[0], *msg = a->message;
    tc_service_policy_t sp;
    tc_policy_service(st->policy, inc->service, &sp);
    char level[32] = "never by severity alone", text[TC_TEXT_MAX];
    if (st->policy->out_of_hours_full_response)
        snprintf(level, sizeof level, "at SEV-%u or above", st->policy->out_of_hours_full_response);
    if (!strcmp(p, "full")) {
        inc->plan = TC_PLAN_FULL;
        tc_state__text(text, sizeof text,
                       "full response requested by %s: the incident commander and every role "
                       "are paged%s%s",
                       actor, msg[0] ? ": " : "", msg);
    } else if (!strcmp(p, "out_of_hours")) {
        inc->plan = TC_PLAN_OUT_OF_HOURS;
        tc_state__text(text, sizeof text,
                       "out-of-hours plan (%s): team %s's on-call engineer contains it; the "
                       "incident commander and the other roles are paged %s, or when an "
                       "operator asks (tocsinctl plan %llu full)",
                       msg[0] ? msg : "outside business hours", sp.team[0] ? sp.team : "-", level,
                       (unsigned long long)inc->id);
    } else {
        inc->plan = TC_PLAN_BUSINESS;
        tc_state__text(text, sizeof text, "business-hours plan (%s): the full response",
                       msg[0] ? msg : "within business hours");
    }
    inc->updated_ms = rec->time_ms;
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "plan", text);
    return 0;
}

/* ---- a quiet major incident ---------------------------------------------- */

int64_t tc_state__quiet_due(const tc_state_t *st, const tc_incident_t *inc)
{
    if (!st->policy->ic_quiet_reminder_ms || inc->state == TC_INC_RESOLVED || !inc->declared ||
        !tc_severity_major(inc->severity) || inc->drill)
        return 0;
    int64_t from =
        inc->progress_ms > inc->quiet_reminded_ms ? inc->progress_ms : inc->quiet_reminded_ms;
    if (from < inc->declared_ms)
        from = inc->declared_ms;
    return from + st->policy->ic_quiet_reminder_ms;
}

int tc_state__fire_quiet(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                         tc_state_out_t *out)
{
    const tc_timer_t *tm = &rec->event.u.timer;
    if (tc_state__quiet_due(st, inc) != tm->due_ms)
        return 0; /* it moved meanwhile */
    /* Counted from when it fired, not from when it was due: one reminder
     * after a restart, not one per interval missed. */
    inc->quiet_reminded_ms = rec->received_ms > tm->due_ms ? rec->received_ms : tm->due_ms;
    const char *ic = NULL;
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, "commander"))
            ic = inc->roles[i].person;
    long long min = (long long)(st->policy->ic_quiet_reminder_ms / 60000);
    tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "quiet");
    if (t)
        tc_state__text(t->text, sizeof t->text,
                       "no state change and no status update for %lld min (SEV-%u); reminding "
                       "the incident commander %s",
                       min, inc->severity, ic ? ic : "(none assigned)");
    tc_state__notice(st, out, inc, rec, ic, "commander", TC_PAGE_NOTICE, "reminder.quiet",
                     "%sincident %llu (%s, SEV-%u) has had no state change and no status update "
                     "for %lld min: say where it stands (tocsinctl state %llu ..., tocsinctl "
                     "update %llu draft)",
                     inc->drill ? "DRILL: " : "", (unsigned long long)inc->id, inc->service,
                     inc->severity, min, (unsigned long long)inc->id, (unsigned long long)inc->id);
    return 0;
}
