/*
 * state_pages.c - pages in the state machine: their urgency, repeats until
 * acknowledged, the pages reminders and the end of an escalation chain
 * send, acknowledgements through a page's link or from an integration,
 * and what notifiers report about delivering pages (see state.h).
 *
 * Like the rest of the state machine it is pure: urgency comes from the
 * recorded policy (the roster's `paging:` section), repeats are deadlines
 * derived from the roles' paging state ("repage"), and delivery reports
 * are operator actions in the log.
 */
#include "state_impl.h"

#include "error.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds one to the pages counted for `person`; made on first use. */
static tc_state_pager_t *s_pager(tc_state_t *st, const char *person)
{
    tc_state_pager_t *p = zhashx_lookup(st->pagers, person);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->person, sizeof p->person, "%s", person);
    zhashx_insert(st->pagers, person, p);
    return p;
}

/* The one-line text of a page, by kind. */
static void s_page_text(char *dst, size_t cap, const tc_incident_t *inc, const tc_page_t *pg)
{
    char sev[24] = "";
    if (inc->severity)
        snprintf(sev, sizeof sev, ", SEV-%u", inc->severity);
    const char *why = "";
    char rep[48] = "";
    switch (pg->kind) {
    case TC_PAGE_ESCALATED: why = " (escalated: not acknowledged before you)"; break;
    case TC_PAGE_REPEATED:
        snprintf(rep, sizeof rep, " (page %u: not acknowledged yet)", pg->number);
        why = rep;
        break;
    case TC_PAGE_EXHAUSTED: why = " (nobody is left to escalate to: you stay paged)"; break;
    default: break;
    }
    char bridge[TC_URL_MAX + 16] = "";
    if (inc->bridge[0])
        snprintf(bridge, sizeof bridge, "; bridge: %s", inc->bridge);
    tc_state__text(dst, cap,
                   "%s%s%s: you are %s for incident %llu (%s%s)%s; acknowledge with tocsinctl ack "
                   "%llu%s%s",
                   inc->drill ? "DRILL: " : "",
                   inc->security ? "SECURITY, need to know only: " : "", pg->person, pg->role,
                   (unsigned long long)inc->id, inc->service, sev, why, (unsigned long long)inc->id,
                   bridge,
                   inc->plan == TC_PLAN_OUT_OF_HOURS && !strcmp(pg->role, "sme")
                       ? "; out of hours: contain it, the IC is paged if severity requires"
                       : "");
}

void tc_state__page_fill(const tc_state_t *st, tc_broadcast_t *b, const tc_incident_t *inc,
                         const char *person, const char *role, tc_page_kind_t kind,
                         int64_t paged_ms)
{
    tc_page_t *pg = &b->page;
    memset(pg, 0, sizeof *pg);
    snprintf(pg->person, sizeof pg->person, "%s", person);
    snprintf(pg->role, sizeof pg->role, "%s", role);
    pg->kind = kind;
    pg->urgency = kind == TC_PAGE_POSTMORTEM ? TC_URGENCY_LOW
                                             : tc_policy_page_urgency(st->policy, inc->severity);
    pg->paged_ms = paged_ms;
    pg->number = 1;
    tc_state_pager_t *p = s_pager((tc_state_t *)st, person);
    if (p)
        p->pages++;
}

void tc_state__page(tc_state_t *st, tc_state_out_t *out, const tc_incident_t *inc,
                    const tc_role_t *r, const tc_record_t *rec, tc_page_kind_t kind)
{
    /* A security incident pages its need-to-know group only. */
    if (r->acked_ms || !r->person[0] || (inc->security && !tc_state__need_to_know(r->role)))
        return;
    tc_broadcast_t *b = tc_state__emit(out, TC_BCAST_PAGE, rec->seq, inc);
    if (!b)
        return;
    snprintf(b->topic, sizeof b->topic, "page.%s", r->person);
    tc_state__page_fill(st, b, inc, r->person, r->role, kind, r->paged_ms);
    b->page.number = r->repeats + 1;
    b->page.level = r->level;
    s_page_text(b->detail, sizeof b->detail, inc, &b->page);
}

/* ---- repeats ------------------------------------------------------------ */

int64_t tc_state__repage_due(const tc_state_t *st, const tc_incident_t *inc, const tc_role_t *r)
{
    /* A page repeats while it is pending: paged, not acknowledged, not
     * being handed to the next person (the escalation pages them), at high
     * urgency, and not silenced by a maintenance window. */
    if (!st->policy->page_repeat_ms || !r->paged_ms || r->acked_ms || r->escalating ||
        !r->person[0] || inc->state == TC_INC_RESOLVED ||
        tc_policy_page_urgency(st->policy, inc->severity) != TC_URGENCY_HIGH ||
        tc_state_service_in_maintenance(st, inc->service))
        return 0;
    /* From the last repeat as it went out, not from the first page times
     * n: a coordinator that was down for an hour repeats once when it is
     * back, not twelve times. */
    return (r->repeated_ms ? r->repeated_ms : r->paged_ms) + st->policy->page_repeat_ms;
}

int tc_state__fire_repage(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                          tc_state_out_t *out)
{
    const tc_timer_t *tm = &rec->event.u.timer;
    tc_role_t *r = NULL;
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, tm->key))
            r = &inc->roles[i];
    if (!r || tc_state__repage_due(st, inc, r) != tm->due_ms)
        return 0; /* acknowledged, reassigned or resolved meanwhile */
    r->repeats++;
    r->repeated_ms = rec->received_ms;
    char since[40];
    tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "repage");
    if (t)
        tc_state__text(t->text, sizeof t->text,
                       "%s page to %s repeated (page %u): not acknowledged since %s", r->role,
                       r->person, r->repeats + 1, tc_time_format(r->paged_ms, since, sizeof since));
    tc_state__page(st, out, inc, r, rec, TC_PAGE_REPEATED);
    return 0;
}

/* ---- acknowledgements ----------------------------------------------------- */

int tc_state__check_link_ack(const tc_state_t *st, const tc_incident_t *inc,
                             const tc_operator_action_t *a, char *why, size_t whylen)
{
    (void)st;
    uint64_t paged = 0;
    if (a->nargs != 3 || strcmp(a->args[2], "link") != 0 ||
        tc_u64_parse(a->args[1], INT64_MAX, &paged) != 0)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "ack through a link wants ROLE PAGED_MS link");
    const tc_role_t *r = NULL;
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, a->args[0]))
            r = &inc->roles[i];
    /* The link names one page: this role, held by this person, paged at
     * this moment. A later page (a reassignment, an escalation and back)
     * is another page, with another link. */
    if (!r || strcmp(r->person, a->actor) != 0 || r->paged_ms != (int64_t)paged)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "this link is for an earlier page: %s is no longer paged as %s of "
                                "incident %llu",
                                a->actor, a->args[0], (unsigned long long)inc->id);
    if (r->acked_ms)
        return tc_state__refuse(why, whylen, TC_EINVAL, "the %s page is already acknowledged",
                                a->args[0]);
    return 0;
}

void tc_state__count_link_ack(tc_state_t *st, const char *person)
{
    tc_state_pager_t *p = s_pager(st, person);
    if (p)
        p->acknowledged++;
}

int tc_state__apply_alert_ack(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_check_result_t *cr = &rec->event.u.check;
    char key[2 * TC_ID_MAX + 1];
    snprintf(key, sizeof key, "%s/%s", cr->host, cr->check);
    const tc_state__check_t *c = zhashx_lookup(st->checks, key);
    tc_state__service_t *svc = zhashx_lookup(st->services, cr->service);
    /* Only an alert that is failing belongs to the open incident; one
     * acknowledged after it recovered (or never seen) has nothing to
     * acknowledge: the record stays in the log for the record. */
    if (!c || c->state == TC_STATE_OK || !svc || !svc->open)
        return 0;
    tc_incident_t *inc = svc->open;
    char pages[TC_TEXT_MAX] = "";
    size_t plen = 0;
    for (size_t i = 0; i < inc->nroles; i++) {
        tc_role_t *r = &inc->roles[i];
        if (r->acked_ms)
            continue;
        r->acked_ms = rec->time_ms;
        plen += (size_t)snprintf(pages + plen, plen < sizeof pages ? sizeof pages - plen : 0,
                                 "%s%s page (%s)", plen ? ", " : "", r->role, r->person);
    }
    if (!plen && inc->acknowledged_ms)
        return 0;
    if (!inc->acknowledged_ms)
        inc->acknowledged_ms = rec->time_ms;
    if (inc->state == TC_INC_TRIGGERED)
        inc->state = TC_INC_INVESTIGATING;
    inc->updated_ms = rec->time_ms;
    char text[TC_TEXT_MAX];
    tc_state__text(text, sizeof text, "acknowledged from %s (alert %s@%s)%s%s; %s%s%s",
                   rec->event.sender, cr->check, cr->host, plen ? ": " : "", pages,
                   tc_incident_state_name(inc->state), cr->output[0] ? ": " : "", cr->output);
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, rec->event.sender, "ack", text);
    return 0;
}

/* ---- delivery reports ------------------------------------------------------- */

static bool s_method_valid(const char *m)
{
    tc_contact_type_t t;
    return tc_contact_type_parse(m, &t) == 0;
}

/* `pagedelivery PERSON METHOD RESULT LATENCY_MS ATTEMPTS NUMBER` from a
 * notifier (incident: the page's). */
int tc_state__check_page_delivery(const tc_state_t *st, const tc_incident_t *inc,
                                  const tc_operator_action_t *a, char *why, size_t whylen)
{
    (void)st;
    (void)inc;
    uint64_t v;
    if (a->nargs != 6 || !tc_id_valid(a->args[0]) || !s_method_valid(a->args[1]) ||
        (strcmp(a->args[2], "delivered") != 0 && strcmp(a->args[2], "failed") != 0 &&
         strcmp(a->args[2], "failing") != 0) ||
        tc_u64_parse(a->args[3], UINT32_MAX, &v) != 0 ||
        tc_u64_parse(a->args[4], UINT32_MAX, &v) != 0 ||
        tc_u64_parse(a->args[5], UINT32_MAX, &v) != 0)
        return tc_state__refuse(why, whylen, TC_EINVAL,
                                "pagedelivery wants PERSON email|webhook|slack|ntfy "
                                "delivered|failed|failing LATENCY_MS ATTEMPTS NUMBER");
    return 0;
}

int tc_state__apply_page_delivery(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                  const char *actor, tc_state_out_t *out)
{
    const tc_operator_action_t *a = &rec->event.u.action;
    uint64_t latency = 0, attempts = 0, number = 0;
    tc_u64_parse(a->args[3], UINT32_MAX, &latency);
    tc_u64_parse(a->args[4], UINT32_MAX, &attempts);
    tc_u64_parse(a->args[5], UINT32_MAX, &number);
    tc_state_pager_t *p = s_pager(st, a->args[0]);
    if (!p)
        return TC_ENOMEM;
    const char *result = a->args[2];
    if (!strcmp(result, "delivered")) {
        p->delivered++;
        p->latency_total_ms += latency;
    } else if (!strcmp(result, "failed")) {
        p->failed++;
    }
    p->last_ms = rec->time_ms;
    /* Both were checked against short word lists. */
    snprintf(p->last_result, sizeof p->last_result, "%.15s", result);
    snprintf(p->last_method, sizeof p->last_method, "%.15s", a->args[1]);
    tc_strlcpy_utf8(p->last_detail, a->message, sizeof p->last_detail);
    const char *how = !strcmp(a->args[1], "email") ? "e-mail" : a->args[1];
    char rep[32] = "";
    if (number > 1)
        snprintf(rep, sizeof rep, " (page %llu)", (unsigned long long)number);
    char tries[48] = "";
    if (attempts > 1)
        snprintf(tries, sizeof tries, " after %llu attempts", (unsigned long long)attempts);
    tc_timeline_t *t = tc_state__note(out, inc, rec, actor, "page-delivery");
    if (!t)
        return 0;
    if (!strcmp(result, "delivered"))
        tc_state__text(t->text, sizeof t->text, "page to %s by %s%s delivered in %llu ms%s",
                       a->args[0], how, rep, (unsigned long long)latency, tries);
    else if (!strcmp(result, "failing"))
        tc_state__text(t->text, sizeof t->text,
                       "page to %s by %s%s failing: undelivered for %llu s%s%s%s", a->args[0], how,
                       rep, (unsigned long long)(latency / 1000), tries,
                       a->message[0] ? "; last error: " : "", a->message);
    else
        tc_state__text(t->text, sizeof t->text, "page to %s by %s%s failed%s%s%s", a->args[0], how,
                       rep, tries, a->message[0] ? ": " : "", a->message);
    return 0;
}

static int s_cmp_pager(const void *a, const void *b)
{
    return strcmp((*(const tc_state_pager_t *const *)a)->person,
                  (*(const tc_state_pager_t *const *)b)->person);
}

void tc_state_each_pager(const tc_state_t *st, tc_state_pager_fn *fn, void *ctx)
{
    size_t n = zhashx_size(st->pagers), i = 0;
    const tc_state_pager_t **v = calloc(n + 1, sizeof *v);
    if (!v)
        return;
    for (tc_state_pager_t *p = zhashx_first(st->pagers); p; p = zhashx_next(st->pagers))
        v[i++] = p;
    /* Name order, so that answers do not depend on hashing. */
    qsort(v, n, sizeof *v, s_cmp_pager);
    for (i = 0; i < n; i++)
        fn(v[i], ctx);
    free(v);
}
