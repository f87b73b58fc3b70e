/*
 * respond.c - tocsin's own decisions after a batch: which plan applies (the
 * owning team's business hours), the roles a declared incident needs,
 * filled from whoever is on call now, escalations of unacknowledged pages
 * and, at the end of a chain, its fallback. Each decision is stored as an
 * action by "tocsin", so a replay never asks the roster or the clock.
 */
#include "coord_impl.h"

#include "api.h"
#include "drafts.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for the roles one incident may need. */
#define S_ROLES_MAX (8 + 2 + TC_POLICY_SECURITY_TEAM_MAX)

/* Roles a declared incident needs, into out[] (each TC_ID_MAX): a security
 * incident its need-to-know group only (the IC, the data protection
 * officer, security.NAME for each of policy.security_team); out of hours,
 * below policy.out_of_hours_full_response and unless an operator asked,
 * the owning team's on-call engineer alone (Hotjar's reduced plan); else
 * policy.roles_by_severity (defaults: the whole response team for SEV-1/2,
 * the owning team's on-call engineer for SEV-3/4). */
static size_t s_required_roles(const tc_policy_t *p, const tc_incident_t *inc, tc_plan_t plan,
                               char out[][TC_ID_MAX])
{
    size_t n = 0;
    if (inc->security) {
        snprintf(out[n++], TC_ID_MAX, "commander");
        snprintf(out[n++], TC_ID_MAX, "dpo");
        for (size_t i = 0; i < p->nsecurity_team && n < S_ROLES_MAX; i++)
            snprintf(out[n++], TC_ID_MAX, "security.%.54s", p->security_team[i]);
        return n;
    }
    if (plan == TC_PLAN_OUT_OF_HOURS &&
        (!p->out_of_hours_full_response || inc->severity > p->out_of_hours_full_response)) {
        snprintf(out[n++], TC_ID_MAX, "sme");
        return n;
    }
    if (inc->severity >= 1 && inc->severity <= 5)
        for (size_t i = 0; i < p->nroles_by_severity[inc->severity]; i++)
            snprintf(out[n++], TC_ID_MAX, "%s", p->roles_by_severity[inc->severity][i]);
    return n;
}

/* How long a page for `role` of `inc` waits for acknowledgement: the
 * owning team's setting for the SME, the role rotation's for the others. */
int64_t tc_coord__page_timeout(const tc_coord_t *c, const tc_incident_t *inc, const char *role)
{
    tc_service_policy_t sp;
    tc_policy_service(&c->cfg.policy, inc->service, &sp);
    /* The security team is paged as a group: nobody to escalate to. */
    if (!strncmp(role, "security.", 9))
        return 0;
    if (!strcmp(role, "sme"))
        return tc_roster_ack_timeout_ms(c->roster, sp.team[0] ? sp.team : NULL,
                                        sp.team[0] ? NULL : "commander");
    return tc_roster_ack_timeout_ms(c->roster, NULL, role);
}

/* Queues an action by `actor` ("tocsin" for its own decisions) with an
 * optional status update, if the state machine accepts it now; one it
 * refuses is dropped, with the reason in `why` (may be NULL). Returns 0 or
 * TC_ENOMEM; *queued (may be NULL) says whether it was queued. */
int tc_coord__queue_action(tc_coord_t *c, const char *actor, uint64_t incident, const char *action,
                           const char *const *args, size_t nargs, const tc_update_t *u,
                           const char *message, bool *queued, char *why, size_t whylen)
{
    tc_record_t *rec = tc_coord__queue(c);
    if (!rec)
        return TC_ENOMEM;
    tc_msg_t *m = &rec->event;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, TC_COORDINATOR_ID);
    m->kind = TC_MSG_OPERATOR_ACTION;
    tc_operator_action_t *a = &m->u.action;
    memset(a, 0, sizeof *a);
    snprintf(a->actor, sizeof a->actor, "%s", actor);
    snprintf(a->action, sizeof a->action, "%s", action);
    a->incident = incident;
    for (size_t i = 0; i < nargs && i < TC_ACTION_ARGS_MAX; i++)
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", args[i]);
    if (u)
        a->update = *u;
    tc_strlcpy_utf8(a->message, message ? message : "", sizeof a->message);
    bool ok = tc_state_check(c->state, a, tc_coord__now(c), why, whylen) == 0;
    if (!ok)
        c->nbatch--; /* not applicable (any more); drop it */
    if (queued)
        *queued = ok;
    return 0;
}

static int s_queue_own_action(tc_coord_t *c, uint64_t incident, const char *action,
                              const char *const *args, size_t nargs, const char *message)
{
    return tc_coord__queue_action(c, "tocsin", incident, action, args, nargs, NULL, message, NULL,
                                  NULL, 0);
}

/* Who is paged when the escalation chain of role `r` is exhausted: the
 * team's (for the SME) or the role's configured fallback, else the IC,
 * unless that is whom the chain just failed to reach. "" for nobody. */
static void s_fallback(tc_coord_t *c, const tc_incident_t *inc, const tc_role_t *r,
                       const char *team, char *out)
{
    bool sme = !strcmp(r->role, "sme");
    out[0] = '\0';
    /* Sub-teams and the security team have no chain of their own. */
    if (!strncmp(r->role, "subteam.", 8) || !strncmp(r->role, "security.", 9))
        return;
    if (tc_roster_fallback(c->roster, sme ? (team[0] ? team : NULL) : NULL, sme ? NULL : r->role,
                           out) != 0) {
        out[0] = '\0';
        /* Not for the IC's own chain, nor the DPO's: the DPO clears a
         * security incident's disclosure beside the IC, never as the IC. */
        for (size_t i = 0; i < inc->nroles; i++)
            if (!strcmp(inc->roles[i].role, "commander") && strcmp(r->role, "commander") != 0 &&
                strcmp(r->role, "dpo") != 0)
                snprintf(out, TC_ID_MAX, "%s", inc->roles[i].person);
    }
    if (!strcmp(out, r->person))
        out[0] = '\0';
}

/* For the incidents `ids` just changed: fills the roles a declared
 * incident needs from whoever is on call now, and pages the next person in
 * the chain for every role whose page went unacknowledged. Each decision is
 * an action by "tocsin" stored in the log: who was on call is decided once,
 * now, and replaying the log never asks the roster again. */
int tc_coord__assign_roles(tc_coord_t *c, const uint64_t *ids, size_t nids)
{
    if (c->assigning || nids == 0 || !c->roster)
        return 0;
    int64_t now = tc_coord__now(c);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nids; i++) {
        const tc_incident_t *inc = tc_state_incident(c->state, ids[i]);
        if (!inc || inc->state == TC_INC_RESOLVED)
            continue;
        /* During a maintenance window alerts are recorded but page nobody;
         * the window's end re-notifies what is still failing. */
        if (tc_state_service_in_maintenance(c->state, inc->service))
            continue;
        tc_service_policy_t sp;
        tc_policy_service(&c->cfg.policy, inc->service, &sp);
        char person[TC_ID_MAX], timeout[24], msg[TC_TEXT_MAX];

        /* Escalations: the next person in the chain; at its end, the
         * chain's fallback (the team's or role's, else the IC). */
        for (size_t k = 0; rc == 0 && k < inc->nroles; k++) {
            const tc_role_t *r = &inc->roles[k];
            if (!r->escalating)
                continue;
            bool sme = !strcmp(r->role, "sme");
            if ((sme && !sp.team[0]) ||
                tc_roster_escalate(c->roster, sme ? sp.team : NULL, sme ? NULL : r->role, r->person,
                                   r->paged_ms, person) != 0) {
                char fallback[TC_ID_MAX] = "";
                s_fallback(c, inc, r, sp.team, fallback);
                const char *args[] = {r->role, fallback};
                snprintf(msg, sizeof msg, "end of the escalation chain%s%s",
                         fallback[0] ? "; paging its fallback " : "", fallback);
                rc = s_queue_own_action(c, inc->id, "exhausted", args, fallback[0] ? 2 : 1, msg);
                continue;
            }
            snprintf(timeout, sizeof timeout, "%lld",
                     (long long)tc_coord__page_timeout(c, inc, r->role));
            snprintf(msg, sizeof msg, "escalated: %s did not acknowledge", r->person);
            const char *args[] = {r->role, person, timeout};
            rc = s_queue_own_action(c, inc->id, "assign", args, 3, msg);
        }

        /* Which plan applies, decided once when the incident is declared,
         * from the business hours of the owning team when it started. */
        tc_plan_t plan = inc->plan;
        bool inside;
        if (rc == 0 && inc->declared && plan == TC_PLAN_NONE && sp.team[0] &&
            tc_roster_business_hours(c->roster, sp.team, inc->opened_ms, &inside, msg,
                                     sizeof msg) == 0) {
            plan = inside ? TC_PLAN_BUSINESS : TC_PLAN_OUT_OF_HOURS;
            const char *args[] = {inside ? "business_hours" : "out_of_hours"};
            rc = s_queue_own_action(c, inc->id, "plan", args, 1, msg);
        }

        /* Roles a declared incident needs and nobody holds yet. */
        char roles[S_ROLES_MAX][TC_ID_MAX];
        size_t nroles = inc->declared ? s_required_roles(&c->cfg.policy, inc, plan, roles) : 0;
        for (size_t r = 0; rc == 0 && r < nroles; r++) {
            bool filled = false;
            for (size_t k = 0; k < inc->nroles; k++)
                filled |= !strcmp(inc->roles[k].role, roles[r]);
            bool sme = !strcmp(roles[r], "sme");
            bool security = !strncmp(roles[r], "security.", 9);
            if (filled || (sme && !sp.team[0]))
                continue;
            if (security)
                snprintf(person, sizeof person, "%s", roles[r] + 9);
            else if ((sme ? tc_roster_team_oncall(c->roster, sp.team, now, person)
                          : tc_roster_role_oncall(c->roster, roles[r], now, person)) != 0)
                continue;
            snprintf(timeout, sizeof timeout, "%lld",
                     (long long)tc_coord__page_timeout(c, inc, roles[r]));
            if (security)
                snprintf(msg, sizeof msg, "security team (policy.security_team)");
            else
                snprintf(msg, sizeof msg, "on call for %s%.63s%s", sme ? "team " : "",
                         sme ? sp.team : roles[r],
                         plan == TC_PLAN_OUT_OF_HOURS && !sme ? " (out of hours: severity requires "
                                                                "the full response)"
                         : plan == TC_PLAN_OUT_OF_HOURS       ? " (out of hours: contain it)"
                                                              : "");
            const char *args[] = {roles[r], person, timeout};
            rc = s_queue_own_action(c, inc->id, "assign", args, 3, msg);
        }
    }
    if (rc || c->nbatch == 0)
        return rc;
    c->assigning = true;
    rc = tc_coord__flush(c);
    c->assigning = false;
    return rc;
}
