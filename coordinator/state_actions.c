/*
 * state_actions.c - operator actions: tc_state_check() decides whether one
 * may be stored, tc_state__apply_action() applies one that was (see
 * state.h and state_impl.h).
 */
#include "state_impl.h"

#include "error.h"
#include "template.h"
#include "util.h"
#include "wire.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- operator actions ---------------------------------------------------- */

const tc_role_t *tc_state__role_c(const tc_incident_t *inc, const char *role)
{
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, role))
            return &inc->roles[i];
    return NULL;
}

/* An optional page timeout argument in ms ("" or absent: never escalate). */
static int s_timeout_arg(const tc_operator_action_t *a, size_t i, int64_t *out)
{
    uint64_t v = 0;
    if (a->nargs > i && tc_u64_parse(a->args[i], 30ull * 86400000, &v) != 0)
        return TC_EINVAL;
    *out = (int64_t)v;
    return 0;
}

static const char *const s_roles[] = {"commander",        "deputy",           "scribe", "sme",
                                      "customer_liaison", "internal_liaison", "dpo"};

bool tc_state__role_valid(const char *role)
{
    /* Complex incidents split into sub-teams under the IC: each is a role
     * "subteam.NAME" held by the sub-team's lead; a security incident's
     * need-to-know group holds "security.NAME". */
    if ((!strncmp(role, "subteam.", 8) || !strncmp(role, "security.", 9)) &&
        tc_id_valid(role + (role[1] == 'u' ? 8 : 9)))
        return true;
    for (size_t i = 0; i < sizeof s_roles / sizeof s_roles[0]; i++)
        if (!strcmp(role, s_roles[i]))
            return true;
    return false;
}

static int s_parse_state(const char *s, tc_incident_state_t *out)
{
    for (int i = TC_INC_TRIGGERED; i <= TC_INC_RESOLVED; i++) {
        if (!strcmp(s, tc_incident_state_name((tc_incident_state_t)i))) {
            *out = (tc_incident_state_t)i;
            return 0;
        }
    }
    return TC_EINVAL;
}

int tc_state__refuse(char *why, size_t whylen, int code, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int tc_state_check(const tc_state_t *st, const tc_operator_action_t *a, int64_t now_ms, char *why,
                   size_t whylen)
{
    if (a->incident == 0)
        return tc_state__check_global(st, a, why, whylen);
    tc_incident_t *inc;
    tc_state__service_t *svc = tc_state__find(st, a->incident, &inc, false);
    if (!svc)
        return tc_state__refuse(why, whylen, TC_ENOTFOUND, "no incident %llu",
                                (unsigned long long)a->incident);
    const char *act = a->action;
    bool open = inc->state != TC_INC_RESOLVED;
    /* Updates (the "resolved" announcement) and delivery reports come after
     * resolution too. */
    if (!strcmp(act, "update"))
        return tc_state__check_update(st, inc, a, why, whylen);
    if (tc_state__is_report_action(a))
        return tc_state__check_report(st, inc, a, why, whylen);
    if (!strcmp(act, "delivery"))
        return tc_state__check_delivery(st, inc, a, why, whylen);
    if (!strcmp(act, "pagedelivery"))
        return tc_state__check_page_delivery(st, inc, a, why, whylen);
    if (!strcmp(act, "note")) {
        if (!a->message[0])
            return tc_state__refuse(why, whylen, TC_EINVAL, "a note needs text");
        return 0;
    }
    if (!strcmp(act, "item")) {
        uint64_t n;
        if (a->nargs == 2 && !strcmp(a->args[0], "add") && tc_id_valid(a->args[1])) {
            if (!a->message[0])
                return tc_state__refuse(why, whylen, TC_EINVAL, "an action item needs text");
            if (inc->nactions == TC_ACTIONS_MAX)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "incident %llu has %d action items already",
                                        (unsigned long long)inc->id, TC_ACTIONS_MAX);
            return 0;
        }
        if (a->nargs == 2 && !strcmp(a->args[0], "done") &&
            tc_u64_parse(a->args[1], TC_ACTIONS_MAX, &n) == 0 && n >= 1) {
            if (n > inc->nactions)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "incident %llu has no action item %llu",
                                        (unsigned long long)inc->id, (unsigned long long)n);
            if (inc->actions[n - 1].done_ms)
                return tc_state__refuse(why, whylen, TC_EINVAL, "action item %llu is already done",
                                        (unsigned long long)n);
            return 0;
        }
        return tc_state__refuse(why, whylen, TC_EINVAL, "actions wants: add OWNER TEXT, or done N");
    }
    if (!strcmp(act, "postmortem")) {
        if (!inc->postmortem_due_ms)
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "incident %llu has no post-mortem (only declared incidents get one, "
                "when they resolve)",
                (unsigned long long)inc->id);
        if (a->nargs == 1 && !strcmp(a->args[0], "done")) {
            if (inc->postmortem_done_ms)
                return tc_state__refuse(why, whylen, TC_EINVAL, "the post-mortem is already done");
            return 0;
        }
        if (a->nargs == 2 && !strcmp(a->args[0], "owner") && tc_id_valid(a->args[1]))
            return 0;
        uint64_t at;
        if (a->nargs == 2 && !strcmp(a->args[0], "meeting") &&
            tc_u64_parse(a->args[1], INT64_MAX, &at) == 0 && at > 0)
            return 0;
        return tc_state__refuse(
            why, whylen, TC_EINVAL,
            "postmortem wants: done, owner PERSON, meeting WHEN, report, approve "
            "or publish");
    }
    if (!strcmp(act, "reopen")) {
        if (open)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is not resolved",
                                    (unsigned long long)inc->id);
        if (svc->open)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "service %s already has open incident %llu; add to that one",
                                    svc->name, (unsigned long long)svc->open->id);
        if (svc->resolved != inc)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu of %s resolved after incident %llu; reopen "
                                    "that one or open a new one",
                                    svc->resolved ? (unsigned long long)svc->resolved->id : 0ull,
                                    svc->name, (unsigned long long)inc->id);
        if (now_ms - inc->resolved_ms > st->policy->reopen_window_ms)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu was resolved more than %lld min ago (the reopen "
                                    "window); open a new one",
                                    (unsigned long long)inc->id,
                                    (long long)(st->policy->reopen_window_ms / 60000));
        return 0;
    }
    /* Disclosure may be cleared after the fact, for the public report. */
    if (!strcmp(act, "security") && a->nargs == 1)
        return tc_state__check_security(st, inc, a, why, whylen);
    if (!open)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "incident %llu is resolved; reopen it first",
                                (unsigned long long)inc->id);
    if (!strcmp(act, "ack")) {
        /* `ack ID ROLE PAGED_MS link`: one page, through its link. */
        if (a->nargs == 3)
            return tc_state__check_link_ack(st, inc, a, why, whylen);
        if (a->nargs == 1) {
            const tc_role_t *r = tc_state__role_c(inc, a->args[0]);
            if (!r)
                return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu has no %s",
                                        (unsigned long long)inc->id, a->args[0]);
            if (r->acked_ms)
                return tc_state__refuse(why, whylen, TC_EINVAL,
                                        "the %s page is already acknowledged", a->args[0]);
            return 0;
        }
        bool pending = false;
        for (size_t i = 0; i < inc->nroles; i++)
            pending |= !inc->roles[i].acked_ms && !strcmp(inc->roles[i].person, a->actor);
        if (inc->acknowledged_ms && !pending)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is already acknowledged",
                                    (unsigned long long)inc->id);
        return 0;
    }
    if (!strcmp(act, "exhausted")) {
        /* exhausted ROLE [FALLBACK]: the fallback is paged and holds it. */
        const tc_role_t *r = a->nargs == 1 || (a->nargs == 2 && tc_id_valid(a->args[1]))
                                 ? tc_state__role_c(inc, a->args[0])
                                 : NULL;
        if (!r || !r->escalating)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "no escalation under way for that role");
        return 0;
    }
    if (!strcmp(act, "resolve")) {
        bool force = a->nargs == 1 && !strcmp(a->args[0], "force");
        if (a->nargs > 1 || (a->nargs == 1 && !force))
            return tc_state__refuse(why, whylen, TC_EINVAL, "resolve takes only --force");
        /* Agents send changes only: a check that still fails says nothing
         * more, so resolving over it would silence a live outage. */
        if (svc->failing && !force && tc_policy_rules(st->policy) >= 2)
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "%u check%s of %s still failing (%s%s); fix %s, or resolve %llu --force to "
                "resolve anyway (what still fails then opens a new incident)",
                svc->failing, svc->failing == 1 ? "" : "s", svc->name, inc->nhosts ? "on " : "",
                inc->nhosts ? inc->hosts[0] : "no host", svc->failing == 1 ? "it" : "them",
                (unsigned long long)inc->id);
        return 0;
    }
    if (!strcmp(act, "plan"))
        return tc_state__check_plan(inc, a, why, whylen);
    if (!strcmp(act, "state")) {
        tc_incident_state_t to;
        if (a->nargs != 1 || s_parse_state(a->args[0], &to) != 0)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "state wants one of investigating, identified, monitoring");
        if (to == TC_INC_TRIGGERED)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "an incident cannot go back to triggered");
        if (to == TC_INC_RESOLVED)
            return tc_state__refuse(why, whylen, TC_EINVAL, "use resolve to resolve an incident");
        if (to == inc->state)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is already %s",
                                    (unsigned long long)inc->id, a->args[0]);
        return 0;
    }
    if (!strcmp(act, "declare") || !strcmp(act, "undeclare")) {
        bool want = act[0] == 'd';
        if (inc->declared == want)
            return tc_state__refuse(why, whylen, TC_EINVAL, "incident %llu is already %s",
                                    (unsigned long long)inc->id,
                                    want ? "declared" : "not declared");
        return 0;
    }
    if (!strcmp(act, "sev")) {
        uint64_t sev;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], 5, &sev) != 0 || sev < 1)
            return tc_state__refuse(why, whylen, TC_EINVAL, "sev wants a severity from 1 to 5");
        return 0;
    }
    if (!strcmp(act, "users")) {
        uint64_t n;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "users wants a number of users affected");
        return 0;
    }
    if (!strcmp(act, "features")) {
        uint64_t n;
        if (a->nargs != 1 || tc_u64_parse(a->args[0], UINT32_MAX, &n) != 0)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "features wants a number of features affected");
        return 0;
    }
    if (!strcmp(act, "security"))
        return tc_state__check_security(st, inc, a, why, whylen);
    if (!strcmp(act, "handoff")) {
        int64_t t;
        if (a->nargs < 1 || a->nargs > 3 || !tc_id_valid(a->args[0]) || s_timeout_arg(a, 1, &t))
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "handoff wants the new incident commander");
        bool force = a->nargs == 3 && !strcmp(a->args[2], "force");
        if (a->nargs == 3 && !force)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "handoff wants the new incident commander and --force only");
        const tc_role_t *ic = tc_state__role_c(inc, "commander");
        if (ic && !strcmp(ic->person, a->args[0]))
            return tc_state__refuse(why, whylen, TC_EINVAL, "%s is already the incident commander",
                                    a->args[0]);
        /* Command is handed over, not taken: only the IC gives it away,
         * unless an operator records that the IC cannot be reached. */
        if (ic && !force && !tc_state__acts_as(a->actor, ic->person) &&
            tc_policy_rules(st->policy) >= 2)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "only the incident commander (%s) hands over command; if %s "
                                    "cannot be reached: handoff %llu %s --force",
                                    ic->person, ic->person, (unsigned long long)inc->id,
                                    a->args[0]);
        return 0;
    }
    if (!strcmp(act, "assign")) {
        int64_t t;
        if (a->nargs < 2 || a->nargs > 3 || !tc_state__role_valid(a->args[0]) ||
            !tc_id_valid(a->args[1]) || s_timeout_arg(a, 2, &t))
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "assign wants ROLE PERSON; roles: commander, deputy, scribe, sme, "
                "customer_liaison, internal_liaison, dpo, subteam.NAME, security.NAME");
        bool known = false;
        for (size_t i = 0; i < inc->nroles; i++)
            known |= !strcmp(inc->roles[i].role, a->args[0]);
        if (!known && inc->nroles == TC_ROLES_MAX)
            return tc_state__refuse(why, whylen, TC_EINVAL, "too many roles");
        const tc_role_t *ic = tc_state__role_c(inc, "commander");
        if (!strcmp(a->args[0], "commander") && ic && strcmp(ic->person, a->args[1]) != 0 &&
            !tc_state__acts_as(a->actor, ic->person))
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu has an incident commander (%s); command "
                                    "changes hands with handoff",
                                    (unsigned long long)inc->id, ic->person);
        if (inc->security && !tc_state__need_to_know(a->args[0]))
            return tc_state__refuse(
                why, whylen, TC_EINVAL,
                "incident %llu is a security incident: only the need-to-know group is paged "
                "(commander, dpo, security.NAME); bring %s in as security.%s",
                (unsigned long long)inc->id, a->args[1], a->args[1]);
        return 0;
    }
    return tc_state__refuse(why, whylen, TC_EINVAL, "unknown action \"%s\"", act);
}

/* Gives `role` to `person` and pages them: the page is pending until they
 * acknowledge (at once when they assigned themselves) and escalates after
 * `timeout_ms`. A role that was escalating counts one level more. */
static tc_role_t *s_set_role(tc_incident_t *inc, const char *role, const char *person, int64_t now,
                             int64_t timeout_ms, bool self)
{
    tc_role_t *r = (tc_role_t *)tc_state__role_c(inc, role);
    if (!r) {
        if (inc->nroles == TC_ROLES_MAX)
            return NULL;
        r = &inc->roles[inc->nroles++];
        memset(r, 0, sizeof *r);
        snprintf(r->role, TC_ID_MAX, "%s", role);
    } else if (r->escalating) {
        r->level++;
    } else {
        r->level = 0;
    }
    snprintf(r->person, TC_ID_MAX, "%s", person);
    r->paged_ms = now;
    r->repeats = 0; /* a new page: its repeats start again */
    r->repeated_ms = 0;
    r->acked_ms = self ? now : 0;
    r->ack_timeout_ms = timeout_ms;
    r->escalating = false;
    r->exhausted = false;
    return r;
}

int tc_state__apply_action(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    /* Actions are checked before they are stored; one that no longer
     * checks out on replay (the rules changed) is skipped, not guessed at. */
    if (tc_state_check(st, a, rec->time_ms, NULL, 0) != 0)
        return 0;
    const char *actor = a->actor[0] ? a->actor : "operator";
    if (a->incident == 0)
        return tc_state__apply_global(st, rec, actor, out);
    tc_incident_t *inc;
    tc_state__service_t *svc = tc_state__find(st, a->incident, &inc, true);
    const char *act = a->action;
    if (!strcmp(act, "update"))
        return tc_state__apply_update(st, inc, rec, actor, out);
    if (tc_state__is_report_action(a))
        return tc_state__apply_report(st, inc, rec, actor, out);
    if (!strcmp(act, "delivery"))
        return tc_state__apply_delivery(st, inc, rec, actor, out);
    if (!strcmp(act, "pagedelivery"))
        return tc_state__apply_page_delivery(st, inc, rec, actor, out);
    char text[TC_TEXT_MAX];
    const char *msg = a->message;
    tc_bcast_kind_t kind = TC_BCAST_INCIDENT_UPDATED;
    inc->updated_ms = rec->time_ms;

    if (!strcmp(act, "item")) {
        if (!strcmp(a->args[0], "add")) {
            tc_action_item_t *it = &inc->actions[inc->nactions++];
            memset(it, 0, sizeof *it);
            it->number = (uint32_t)inc->nactions;
            tc_strlcpy_utf8(it->text, msg, sizeof it->text);
            snprintf(it->owner, sizeof it->owner, "%s", a->args[1]);
            it->added_ms = rec->time_ms;
            tc_state__text(text, sizeof text, "action item %u for %s: %s", it->number, it->owner,
                           it->text);
        } else {
            uint64_t n = 0;
            tc_u64_parse(a->args[1], TC_ACTIONS_MAX, &n);
            tc_action_item_t *it = &inc->actions[n - 1];
            it->done_ms = rec->time_ms;
            tc_state__text(text, sizeof text, "action item %u done (%s), by %s", it->number,
                           it->text, actor);
        }
        inc->updated_ms = rec->time_ms;
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "action", text);
        return 0;
    }
    if (!strcmp(act, "postmortem")) {
        if (!strcmp(a->args[0], "done")) {
            inc->postmortem_done_ms = rec->time_ms;
            tc_state__text(text, sizeof text, "post-mortem done, by %s%s%s", actor,
                           msg[0] ? ": " : "", msg);
        } else if (!strcmp(a->args[0], "meeting")) {
            uint64_t at = 0;
            tc_u64_parse(a->args[1], INT64_MAX, &at);
            inc->postmortem_meeting_ms = (int64_t)at;
            char when[40], due[80] = "";
            if ((int64_t)at > inc->postmortem_due_ms) {
                char d[40];
                snprintf(due, sizeof due, " (after its due time, %s)",
                         tc_time_format(inc->postmortem_due_ms, d, sizeof d));
            }
            tc_state__text(text, sizeof text, "post-mortem meeting at %s%s, set by %s%s%s",
                           tc_time_format((int64_t)at, when, sizeof when), due, actor,
                           msg[0] ? ": " : "", msg);
        } else {
            snprintf(inc->postmortem_owner, sizeof inc->postmortem_owner, "%s", a->args[1]);
            tc_state__text(text, sizeof text, "post-mortem owner is %s, by %s", a->args[1], actor);
        }
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "postmortem", text);
        return 0;
    }
    if (!strcmp(act, "note")) {
        tc_state__text(text, sizeof text, "%s", msg);
        /* A note is for the timeline; subscribers are not told. */
        tc_timeline_t *t = tc_state__note(out, inc, rec, actor, "note");
        if (t)
            tc_strlcpy_utf8(t->text, text, sizeof t->text);
        return 0;
    }
    if (!strcmp(act, "ack")) {
        /* `ack ID ROLE` acknowledges that page; `ack ID` the incident and
         * every page of the person acknowledging. */
        char pages[TC_TEXT_MAX] = "";
        size_t plen = 0;
        for (size_t i = 0; i < inc->nroles; i++) {
            tc_role_t *r = &inc->roles[i];
            bool mine = a->nargs >= 1 ? !strcmp(r->role, a->args[0]) : !strcmp(r->person, a->actor);
            if (!mine || r->acked_ms)
                continue;
            r->acked_ms = rec->time_ms;
            plen += (size_t)snprintf(pages + plen, plen < sizeof pages ? sizeof pages - plen : 0,
                                     "%s%s page (%s)", plen ? ", " : "", r->role, r->person);
        }
        if (!inc->acknowledged_ms)
            inc->acknowledged_ms = rec->time_ms;
        if (inc->state == TC_INC_TRIGGERED) {
            inc->state = TC_INC_INVESTIGATING;
            inc->progress_ms = rec->time_ms;
        }
        bool link = a->nargs == 3; /* from the page's link (state_pages.c) */
        if (link)
            tc_state__count_link_ack(st, actor);
        tc_state__text(text, sizeof text, "acknowledged by %s%s%s%s; %s%s%s", actor,
                       link ? " via link" : "", plen ? ": " : "", pages,
                       tc_incident_state_name(inc->state), msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "state")) {
        tc_incident_state_t to = inc->state;
        s_parse_state(a->args[0], &to);
        tc_incident_state_t from = inc->state;
        inc->state = to;
        inc->progress_ms = rec->time_ms;
        /* Moving on from triggered is a response: it counts as the ack. */
        if (!inc->acknowledged_ms)
            inc->acknowledged_ms = rec->time_ms;
        tc_state__text(text, sizeof text, "%s -> %s%s%s", tc_incident_state_name(from),
                       tc_incident_state_name(to), msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "resolve")) {
        inc->state = TC_INC_RESOLVED;
        inc->resolved_ms = rec->time_ms;
        tc_state__set_severity(inc, inc->severity, rec->time_ms);
        inc->resolved_failing = svc->failing;
        if (tc_state__archive(st, svc->resolved) != 0)
            return TC_ENOMEM;
        svc->resolved = inc;
        svc->open = NULL;
        tc_state__schedule_postmortem(st, inc, rec, out);
        if (svc->failing)
            tc_state__text(text, sizeof text,
                           "resolved by %s with --force while %u check%s still failed%s%s; what "
                           "still fails is a new incident",
                           actor, svc->failing, svc->failing == 1 ? "" : "s", msg[0] ? ": " : "",
                           msg);
        else
            tc_state__text(text, sizeof text, "resolved by %s%s%s", actor, msg[0] ? ": " : "", msg);
        tc_state__changed(out, TC_BCAST_INCIDENT_RESOLVED, inc, rec, actor, act, text);
        /* The checks that still fail stay an alert everyone can see: a new
         * incident, which the policy declares again if it lasts. */
        bool reopen = svc->failing && tc_policy_rules(st->policy) >= 2;
        return reopen ? tc_state__open_after_forced(st, svc, inc, rec, out) : 0;
    } else if (!strcmp(act, "reopen")) {
        svc->resolved = NULL;
        svc->open = inc;
        inc->state = TC_INC_INVESTIGATING;
        inc->resolved_ms = 0;
        inc->resolved_failing = 0;
        inc->sev_since_ms = inc->severity ? rec->time_ms : 0;
        inc->progress_ms = rec->time_ms;
        int rc = tc_state__fill_hosts(svc, inc);
        if (rc)
            return rc;
        tc_state__assess(st, svc, inc, rec, out, false);
        kind = TC_BCAST_INCIDENT_OPENED;
        tc_state__text(text, sizeof text, "reopened by %s%s%s", actor, msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "declare") || !strcmp(act, "undeclare")) {
        inc->declared = act[0] == 'd';
        inc->declared_pinned = true;
        inc->declared_ms = inc->declared ? rec->time_ms : 0;
        /* Not an incident any more: no assessed severity either. */
        if (!inc->declared && !inc->severity_pinned)
            tc_state__set_severity(inc, 0, rec->time_ms);
        if (inc->declared)
            tc_state__declared(st, inc, rec);
        tc_state__assess(st, svc, inc, rec, out, false);
        if (inc->declared)
            tc_state__text(text, sizeof text, "declared by %s, SEV-%u%s%s", actor, inc->severity,
                           msg[0] ? ": " : "", msg);
        else
            tc_state__text(text, sizeof text, "declaration withdrawn by %s%s%s", actor,
                           msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "sev")) {
        uint64_t sev = 0;
        tc_u64_parse(a->args[0], 5, &sev);
        uint32_t before = inc->severity;
        tc_state__set_severity(inc, (uint32_t)sev, rec->time_ms);
        inc->severity_pinned = true;
        tc_state__text(text, sizeof text, "severity %s%u -> SEV-%u by %s%s%s",
                       before ? "SEV-" : "none", before, inc->severity, actor, msg[0] ? ": " : "",
                       msg);
        if (!before)
            tc_state__text(text, sizeof text, "severity set to SEV-%u by %s%s%s", inc->severity,
                           actor, msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "users")) {
        uint64_t n = 0;
        tc_u64_parse(a->args[0], UINT32_MAX, &n);
        inc->users = (uint32_t)n;
        inc->users_pinned = true;
        tc_state__assess(st, svc, inc, rec, out, true);
        tc_state__text(text, sizeof text, "%u users affected, by %s%s%s", inc->users, actor,
                       msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "features")) {
        uint64_t n = 0;
        tc_u64_parse(a->args[0], UINT32_MAX, &n);
        inc->features = (uint32_t)n;
        tc_state__assess(st, svc, inc, rec, out, true);
        tc_state__text(text, sizeof text, "%u features affected, by %s%s%s", inc->features, actor,
                       msg[0] ? ": " : "", msg);
    } else if (!strcmp(act, "security")) {
        if (a->nargs == 1) /* clear */
            return tc_state__apply_clear(st, inc, rec, actor, out);
        inc->security = true;
        inc->flagged_severity = inc->declared ? inc->severity : 0;
        /* Stronger evidence than any number set before: SEV-1, until an
         * operator says otherwise again. */
        inc->severity_pinned = false;
        /* A suspected breach is an incident at once (PagerDuty: not sure
         * it is one? trigger the process anyway). */
        bool declared = !inc->declared;
        if (declared) {
            inc->declared = inc->declared_pinned = true;
            inc->declared_ms = rec->time_ms;
            tc_state__declared(st, inc, rec);
        }
        tc_state__assess(st, svc, inc, rec, out, false);
        tc_state__apply_security(st, inc, rec, actor, declared, out);
        return 0;
    } else if (!strcmp(act, "plan")) {
        return tc_state__apply_plan(st, inc, rec, actor, out);
    } else if (!strcmp(act, "handoff")) {
        char before[TC_ID_MAX] = "nobody";
        for (size_t i = 0; i < inc->nroles; i++)
            if (!strcmp(inc->roles[i].role, "commander"))
                snprintf(before, sizeof before, "%s", inc->roles[i].person);
        int64_t t = 0;
        s_timeout_arg(a, 1, &t);
        bool force = a->nargs == 3;
        tc_role_t *r =
            s_set_role(inc, "commander", a->args[0], rec->time_ms, t, !strcmp(actor, a->args[0]));
        if (force)
            tc_state__text(text, sizeof text,
                           "incident command taken from %s (unreachable) and given to %s by %s "
                           "with --force%s%s",
                           before, a->args[0], actor, msg[0] ? ": " : "", msg);
        else
            tc_state__text(text, sizeof text, "incident command handed from %s to %s%s%s", before,
                           a->args[0], msg[0] ? ": " : "", msg);
        tc_state__changed(out, kind, inc, rec, actor, act, text);
        tc_state__role_filled(inc, "commander", a->args[0], before);
        if (r)
            tc_state__page(st, out, inc, r, rec, TC_PAGE_ASSIGNED);
        /* The IC who no longer has command hears it, unless it was their
         * own doing. */
        if (strcmp(before, "nobody") != 0 && strcmp(before, actor) != 0)
            tc_state__notice(st, out, inc, rec, before, "commander", TC_PAGE_NOTICE, NULL,
                             "%sincident %llu (%s): incident command %s %s by %s%s%s",
                             inc->drill ? "DRILL: " : "", (unsigned long long)inc->id, inc->service,
                             force ? "was taken over with --force and given to" : "handed to",
                             a->args[0], actor, msg[0] ? ": " : "", msg);
        return 0;
    } else if (!strcmp(act, "exhausted")) {
        tc_role_t *r = (tc_role_t *)tc_state__role_c(inc, a->args[0]);
        if (a->nargs == 2 && strcmp(a->args[1], r->person) != 0) {
            /* The chain's fallback takes the role, with nobody after it. */
            char last[TC_ID_MAX];
            snprintf(last, sizeof last, "%s", r->person);
            r = s_set_role(inc, a->args[0], a->args[1], rec->time_ms, 0,
                           !strcmp(actor, a->args[1]));
            r->exhausted = true;
            tc_state__text(text, sizeof text,
                           "escalation chain for %s exhausted (%s was the last to not "
                           "acknowledge); its fallback %s is paged and holds %s now%s%s",
                           r->role, last, r->person, r->role, msg[0] ? ": " : "", msg);
            tc_state__changed(out, kind, inc, rec, actor, act, text);
            tc_state__role_filled(inc, r->role, r->person, last);
            tc_state__page(st, out, inc, r, rec, TC_PAGE_ESCALATED);
            return 0;
        }
        r->escalating = false;
        r->exhausted = true;
        tc_state__text(text, sizeof text, "nobody left to page for %s; %s stays paged%s%s", r->role,
                       r->person, msg[0] ? ": " : "", msg);
        tc_state__changed(out, kind, inc, rec, actor, act, text);
        /* The person who stays paged hears that nobody else will be; that
         * page counts as a repeat of theirs, which go on from here. */
        r->repeats++;
        r->repeated_ms = rec->received_ms;
        tc_state__page(st, out, inc, r, rec, TC_PAGE_EXHAUSTED);
        return 0;
    } else { /* assign */
        int64_t t = 0;
        s_timeout_arg(a, 2, &t);
        char prev[TC_ID_MAX] = "";
        const tc_role_t *had = tc_state__role_c(inc, a->args[0]);
        if (had)
            snprintf(prev, sizeof prev, "%s", had->person);
        tc_role_t *r =
            s_set_role(inc, a->args[0], a->args[1], rec->time_ms, t, !strcmp(actor, a->args[1]));
        tc_state__text(text, sizeof text, "%s is %s, assigned by %s%s%s", a->args[1], a->args[0],
                       actor, msg[0] ? ": " : "", msg);
        tc_state__changed(out, kind, inc, rec, actor, act, text);
        /* A role that was escalating counts one level more (s_set_role). */
        tc_state__role_filled(inc, a->args[0], a->args[1], prev[0] ? prev : NULL);
        if (r)
            tc_state__page(st, out, inc, r, rec, r->level ? TC_PAGE_ESCALATED : TC_PAGE_ASSIGNED);
        return 0;
    }
    tc_state__changed(out, kind, inc, rec, actor, act, text);
    /* Impact an operator reported may complete a pending declaration. */
    if (inc->state != TC_INC_RESOLVED)
        tc_state__maybe_declare(st, svc, inc, rec, out);
    return 0;
}
