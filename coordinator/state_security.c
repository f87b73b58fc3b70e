/*
 * state_security.c - security incidents in the state machine (see
 * state_impl.h), as PagerDuty's security incident response asks: a small
 * need-to-know group (the Incident Commander, the Data Protection Officer
 * and the security team), communication outside it only once it is safe,
 * and the response checklist tracked step by step.
 *
 * Flagging an incident (`security ID`) makes it SEV-1 (state.c assesses),
 * stops the pages and escalations of everyone outside the group, adds the
 * checklist as action items with owners, and holds external updates and
 * their cadence until the IC and the DPO have both cleared disclosure
 * (`security ID clear`, once by each). Internal updates of a security
 * incident are restricted: they go to the group's own pages, never to the
 * general internal channels (state_comms.c).
 *
 * Pure like the rest of the state machine.
 */
#include "state_impl.h"

#include "error.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* PagerDuty's checklist, in its order, each with the role that owns it:
 * "security" is the security team's first member (or the IC without one). */
static const struct {
    const char *role;
    const char *text;
} s_checklist[] = {
    {"security", "Stop the attack in progress."},
    {"security", "Cut off the attack vector."},
    {"commander", "Assemble the response team."},
    {"security", "Isolate affected instances."},
    {"security", "Identify timeline of attack."},
    {"dpo", "Identify compromised data."},
    {"security", "Assess risk to other systems."},
    {"security", "Assess risk of re-attack."},
    {"security", "Apply additional mitigations, additions to monitoring, etc."},
    {"security", "Forensic analysis of compromised systems."},
    {"commander", "Internal communication."},
    {"dpo", "Involve law enforcement."},
    {"dpo", "Reach out to external parties that may have been used as vector for attack."},
    {"commander", "External communication (once the IC and the DPO cleared disclosure)."},
};
#define S_NCHECKLIST (sizeof s_checklist / sizeof s_checklist[0])

bool tc_state__need_to_know(const char *role)
{
    return !strcmp(role, "commander") || !strcmp(role, "dpo") || !strncmp(role, "security.", 9);
}

bool tc_state__acts_as(const char *actor, const char *person)
{
    /* tocsin's own decisions (escalations) and, without keys, "plaintext"
     * (nobody has a name to check) are not held to a person's rights. */
    return !strcmp(actor, person) || !strcmp(actor, TC_STATE_ACTOR) || !strcmp(actor, "plaintext");
}

bool tc_state__disclosure_cleared(const tc_incident_t *inc)
{
    return !inc->security || (inc->disclosure_ic_ms && inc->disclosure_dpo_ms);
}

static const char *s_holder(const tc_incident_t *inc, const char *role)
{
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, role))
            return inc->roles[i].person;
    return NULL;
}

int tc_state__check_security(const tc_state_t *st, const tc_incident_t *inc,
                             const tc_operator_action_t *a, char *why, size_t whylen)
{
    (void)st;
    if (a->nargs == 0) {
        if (inc->security)
            return tc_state__refuse(why, whylen, TC_EINVAL,
                                    "incident %llu is already flagged as security",
                                    (unsigned long long)inc->id);
        return 0;
    }
    if (a->nargs != 1 || strcmp(a->args[0], "clear") != 0)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "security wants nothing (flag it) or clear (disclosure)");
    if (!inc->security)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "incident %llu is not a security incident; nothing is held",
                                (unsigned long long)inc->id);
    if (tc_state__disclosure_cleared(inc))
        return tc_state__refuse(why, whylen, TC_EINVAL, "disclosure is already cleared");
    const char *ic = s_holder(inc, "commander"), *dpo = s_holder(inc, "dpo");
    /* Without keys each clear counts for the next one still owed. */
    if (!strcmp(a->actor, "plaintext"))
        return 0;
    bool as_ic = ic && !strcmp(ic, a->actor) && !inc->disclosure_ic_ms;
    bool as_dpo = dpo && !strcmp(dpo, a->actor) && !inc->disclosure_dpo_ms;
    if (as_ic || as_dpo)
        return 0;
    if ((ic && !strcmp(ic, a->actor)) || (dpo && !strcmp(dpo, a->actor)))
        return tc_state__refuse(
            why, whylen, TC_EINVAL, "you cleared disclosure already; the %s has not yet",
            inc->disclosure_ic_ms ? "data protection officer" : "incident commander");
    return tc_state__refuse(why, whylen, TC_EINVAL,
                            "only the incident commander (%s) and the data protection officer "
                            "(%s) clear disclosure",
                            ic ? ic : "none assigned", dpo ? dpo : "none assigned: assign one");
}

/* The person an owner role stands for now, or the role's name while
 * nobody holds it (tc_state__role_filled gives it to them later). */
static const char *s_owner(const tc_state_t *st, const tc_incident_t *inc, const char *role)
{
    if (!strcmp(role, "security")) {
        if (st->policy->nsecurity_team)
            return st->policy->security_team[0];
        role = "commander";
    }
    const char *who = s_holder(inc, role);
    return who ? who : role;
}

void tc_state__apply_security(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                              const char *actor, bool declared, tc_state_out_t *out)
{
    const char *msg = rec->event.u.action.message;
    /* Everyone outside the group stops being paged: no escalation of
     * their pages, and state.c pages only the group from now on. */
    for (size_t i = 0; i < inc->nroles; i++) {
        tc_role_t *r = &inc->roles[i];
        if (!tc_state__need_to_know(r->role) && !r->acked_ms) {
            r->ack_timeout_ms = 0;
            r->escalating = false;
        }
    }
    /* External updates are held: the cadence stops until disclosure. */
    inc->next_update_due_ms = 0;
    size_t added = 0;
    for (size_t i = 0; i < S_NCHECKLIST && inc->nactions < TC_ACTIONS_MAX; i++, added++) {
        tc_action_item_t *it = &inc->actions[inc->nactions++];
        memset(it, 0, sizeof *it);
        it->number = (uint32_t)inc->nactions;
        it->checklist = true;
        it->added_ms = rec->time_ms;
        snprintf(it->text, sizeof it->text, "%s", s_checklist[i].text);
        snprintf(it->owner, sizeof it->owner, "%s", s_owner(st, inc, s_checklist[i].role));
    }
    char team[TC_TEXT_MAX / 2] = "";
    size_t o = 0;
    for (size_t i = 0; i < st->policy->nsecurity_team && o < sizeof team; i++)
        o += (size_t)snprintf(team + o, sizeof team - o, "%s%s", i ? ", " : "",
                              st->policy->security_team[i]);
    char text[TC_TEXT_MAX];
    tc_state__text(text, sizeof text,
                   "flagged as a security or data incident by %s%s%s%s; need to know: only the "
                   "incident commander, the data protection officer and the security team "
                   "(%s) are paged and get internal updates; external updates wait until the "
                   "IC and the DPO clear disclosure; %zu checklist steps added",
                   actor, msg[0] ? ": " : "", msg, declared ? "; declared, SEV-1" : "",
                   team[0] ? team : "none configured", added);
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "security", text);
}

int tc_state__apply_clear(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                          const char *actor, tc_state_out_t *out)
{
    (void)st;
    const char *ic = s_holder(inc, "commander"), *dpo = s_holder(inc, "dpo");
    const char *as;
    if (!strcmp(actor, "plaintext")) {
        as = inc->disclosure_ic_ms ? "data protection officer" : "incident commander";
    } else {
        bool both = ic && dpo && !strcmp(ic, actor) && !strcmp(dpo, actor);
        as = both ? "incident commander and data protection officer"
             : ic && !strcmp(ic, actor) && !inc->disclosure_ic_ms ? "incident commander"
                                                                  : "data protection officer";
    }
    if (strstr(as, "commander"))
        inc->disclosure_ic_ms = rec->time_ms;
    if (strstr(as, "protection"))
        inc->disclosure_dpo_ms = rec->time_ms;
    const char *msg = rec->event.u.action.message;
    char text[TC_TEXT_MAX];
    if (tc_state__disclosure_cleared(inc))
        tc_state__text(text, sizeof text,
                       "disclosure cleared by %s (%s)%s%s: cleared by both, external updates "
                       "may go out",
                       actor, as, msg[0] ? ": " : "", msg);
    else
        tc_state__text(text, sizeof text, "disclosure cleared by %s (%s)%s%s; waiting for the %s",
                       actor, as, msg[0] ? ": " : "", msg,
                       inc->disclosure_ic_ms ? "data protection officer" : "incident commander");
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, actor, "disclosure", text);
    return 0;
}

void tc_state__role_filled(tc_incident_t *inc, const char *role, const char *person,
                           const char *before)
{
    (void)before;
    /* A step belongs to a role (the table above, found by its text): when
     * the role changes hands, so do its open steps. */
    for (size_t i = 0; i < inc->nactions; i++) {
        tc_action_item_t *it = &inc->actions[i];
        if (!it->checklist || it->done_ms)
            continue;
        for (size_t k = 0; k < S_NCHECKLIST; k++)
            if (!strcmp(it->text, s_checklist[k].text) && !strcmp(s_checklist[k].role, role))
                snprintf(it->owner, sizeof it->owner, "%s", person);
    }
}

void tc_state__restricted(const tc_state_t *st, const tc_incident_t *inc, const tc_update_t *u,
                          const tc_record_t *rec, tc_state_out_t *out, char *sent, size_t cap)
{
    size_t o = 0;
    sent[0] = '\0';
    for (size_t i = 0; i < inc->nroles; i++) {
        const tc_role_t *r = &inc->roles[i];
        if (!tc_state__need_to_know(r->role))
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = tc_state__need_to_know(inc->roles[k].role) &&
                  !strcmp(inc->roles[k].person, r->person);
        if (dup)
            continue;
        tc_state__notice(st, out, inc, rec, r->person, r->role, TC_PAGE_NOTICE, NULL,
                         "%sRESTRICTED update %u of security incident %llu (%s), need to know "
                         "only: %s",
                         inc->drill ? "DRILL: " : "", u->number, (unsigned long long)inc->id,
                         inc->service, u->body);
        if (o < cap)
            o += (size_t)snprintf(sent + o, cap - o, "%s%s", o ? ", " : "", r->person);
    }
    if (!o)
        tc_state__notice(st, out, inc, rec, NULL, NULL, TC_PAGE_NOTICE, "restricted.update",
                         "%sRESTRICTED update %u of security incident %llu (%s), need to know "
                         "only: %s",
                         inc->drill ? "DRILL: " : "", u->number, (unsigned long long)inc->id,
                         inc->service, u->body);
}
