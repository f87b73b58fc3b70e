/*
 * respond.c - tocsin's own decisions after a batch: the roles a declared
 * incident needs, filled from whoever is on call now, and escalations of
 * unacknowledged pages. Each decision is stored as an action by "tocsin".
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

/* Roles a declared incident needs: policy.roles_by_severity (defaults: the
 * whole response team for SEV-1/2, the owning team's on-call engineer for
 * SEV-3/4), plus the data protection officer for a suspected breach. */
static size_t s_required_roles(const tc_policy_t *p, const tc_incident_t *inc, const char **out)
{
    size_t n = 0;
    if (inc->severity >= 1 && inc->severity <= 5)
        for (size_t i = 0; i < p->nroles_by_severity[inc->severity]; i++)
            out[n++] = p->roles_by_severity[inc->severity][i];
    if (inc->security)
        out[n++] = "dpo";
    return n;
}

/* How long a page for `role` of `inc` waits for acknowledgement: the
 * owning team's setting for the SME, the role rotation's for the others. */
int64_t tc_coord__page_timeout(const tc_coord_t *c, const tc_incident_t *inc, const char *role)
{
    tc_service_policy_t sp;
    tc_policy_service(&c->cfg.policy, inc->service, &sp);
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

        /* Escalations: the next person in the chain, or nobody left. */
        for (size_t k = 0; rc == 0 && k < inc->nroles; k++) {
            const tc_role_t *r = &inc->roles[k];
            if (!r->escalating)
                continue;
            bool sme = !strcmp(r->role, "sme");
            if ((sme && !sp.team[0]) ||
                tc_roster_escalate(c->roster, sme ? sp.team : NULL, sme ? NULL : r->role, r->person,
                                   r->paged_ms, person) != 0) {
                const char *args[] = {r->role};
                rc = s_queue_own_action(c, inc->id, "exhausted", args, 1,
                                        "end of the escalation chain");
                continue;
            }
            snprintf(timeout, sizeof timeout, "%lld",
                     (long long)tc_coord__page_timeout(c, inc, r->role));
            snprintf(msg, sizeof msg, "escalated: %s did not acknowledge", r->person);
            const char *args[] = {r->role, person, timeout};
            rc = s_queue_own_action(c, inc->id, "assign", args, 3, msg);
        }

        /* Roles a declared incident needs and nobody holds yet. */
        const char *roles[9];
        size_t nroles = inc->declared ? s_required_roles(&c->cfg.policy, inc, roles) : 0;
        for (size_t r = 0; rc == 0 && r < nroles; r++) {
            bool filled = false;
            for (size_t k = 0; k < inc->nroles; k++)
                filled |= !strcmp(inc->roles[k].role, roles[r]);
            bool sme = !strcmp(roles[r], "sme");
            if (filled || (sme && !sp.team[0]) ||
                (sme ? tc_roster_team_oncall(c->roster, sp.team, now, person)
                     : tc_roster_role_oncall(c->roster, roles[r], now, person)) != 0)
                continue;
            snprintf(timeout, sizeof timeout, "%lld",
                     (long long)tc_coord__page_timeout(c, inc, roles[r]));
            snprintf(msg, sizeof msg, "on call for %s%s", sme ? "team " : "",
                     sme ? sp.team : roles[r]);
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
