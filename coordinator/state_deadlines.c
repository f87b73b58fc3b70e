/*
 * state_deadlines.c - the next deadline the state owes, and what firing
 * one does (see state.h and state_impl.h).
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

/* ---- deadlines ------------------------------------------------------------ */

/* Deadlines due at the same moment fire in this order, whatever the
 * hashing or the timing of commits: maintenance windows first (a window
 * that starts silences the pages of its services), then declarations,
 * escalations, update reminders, reminders to a quiet IC and post-mortem
 * reminders; within a kind,
 * by incident (or window) id, then by role. */
static int s_kind_rank(const char *kind)
{
    static const char *const order[] = {"maintenance", "declare", "escalate",  "repage",
                                        "update",      "quiet",   "postmortem"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (!strcmp(kind, order[i]))
            return i;
    return 99;
}

/* Keeps the first, in firing order, of the deadlines offered. */
static void s_earliest_key(tc_timer_t *out, bool *found, uint64_t id, int64_t due, const char *kind,
                           const char *key)
{
    if (*found) {
        int64_t d = due - out->due_ms;
        int r = s_kind_rank(kind) - s_kind_rank(out->kind);
        if (d > 0 || (d == 0 && r > 0) || (d == 0 && r == 0 && id > out->incident) ||
            (d == 0 && r == 0 && id == out->incident && strcmp(key, out->key) >= 0))
            return;
    }
    memset(out, 0, sizeof *out);
    out->incident = id;
    out->due_ms = due;
    snprintf(out->kind, sizeof out->kind, "%s", kind);
    snprintf(out->key, sizeof out->key, "%s", key);
    *found = true;
}

static void s_earliest(tc_timer_t *out, bool *found, uint64_t id, int64_t due, const char *kind)
{
    s_earliest_key(out, found, id, due, kind, "");
}

bool tc_state_next_deadline(const tc_state_t *st, tc_timer_t *out)
{
    bool found = false;
    for (tc_state__service_t *svc = zhashx_first(st->services); svc;
         svc = zhashx_next(st->services)) {
        const tc_incident_t *open = svc->open;
        for (size_t i = 0; open && i < open->nroles; i++) {
            const tc_role_t *r = &open->roles[i];
            if (r->paged_ms && !r->acked_ms && r->ack_timeout_ms && !r->escalating && !r->exhausted)
                s_earliest_key(out, &found, open->id, r->paged_ms + r->ack_timeout_ms, "escalate",
                               r->role);
            /* High-urgency pages repeat until acknowledged (state_pages.c). */
            int64_t again = tc_state__repage_due(st, open, r);
            if (again)
                s_earliest_key(out, &found, open->id, again, "repage", r->role);
        }
        const tc_incident_t *done = svc->resolved;
        if (done && done->postmortem_due_ms && !done->postmortem_done_ms &&
            !done->postmortem_reminded)
            s_earliest(out, &found, done->id, done->postmortem_due_ms, "postmortem");
        /* Customers not yet told it is over (state_comms.c). */
        if (done && done->next_update_due_ms)
            s_earliest(out, &found, done->id, done->next_update_due_ms, "update");
        const tc_incident_t *inc = svc->open;
        if (inc && inc->next_update_due_ms)
            s_earliest(out, &found, inc->id, inc->next_update_due_ms, "update");
        int64_t quiet = inc ? tc_state__quiet_due(st, inc) : 0;
        if (quiet)
            s_earliest(out, &found, inc->id, quiet, "quiet");
        if (!inc || inc->declare_evaluated || inc->declared || inc->declared_pinned)
            continue;
        tc_service_policy_t sp;
        tc_policy_service(st->policy, inc->service, &sp);
        s_earliest(out, &found, inc->id, inc->opened_ms + sp.declare_after_ms, "declare");
    }
    for (size_t i = 0; i < st->nowed; i++)
        s_earliest(out, &found, st->owed[i].id, st->owed[i].due_ms, "postmortem");
    /* Windows move on by themselves: start, end (verifying), completed. */
    for (size_t i = 0; i < st->nmaints; i++) {
        int64_t due = tc_state__maint_due(&st->maints[i]);
        if (due)
            s_earliest(out, &found, st->maints[i].id, due, "maintenance");
    }
    return found;
}

int tc_state__apply_timer(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_timer_t *tm = &rec->event.u.timer;
    if (!strcmp(tm->kind, "maintenance")) {
        tc_maintenance_t *w = (tc_maintenance_t *)tc_state_maintenance(st, tm->incident);
        if (!w)
            return 0;
        int64_t due = tc_state__maint_due(w);
        if (!due || due != tm->due_ms)
            return 0; /* moved on by hand meanwhile */
        tc_state__maint_move(st, w, w->state + 1, rec, TC_STATE_ACTOR, out);
        return 0;
    }
    tc_incident_t *inc;
    tc_state__service_t *svc = tc_state__find(st, tm->incident, &inc, true);
    if (svc && !strcmp(tm->kind, "update"))
        return tc_state__fire_update_reminder(st, inc, rec, out);
    if (svc && !strcmp(tm->kind, "repage"))
        return tc_state__fire_repage(st, inc, rec, out);
    if (svc && !strcmp(tm->kind, "escalate")) {
        tc_role_t *r = (tc_role_t *)tc_state__role_c(inc, tm->key);
        if (inc->state == TC_INC_RESOLVED || !r || r->acked_ms || r->escalating || r->exhausted ||
            r->paged_ms + r->ack_timeout_ms != tm->due_ms)
            return 0; /* acknowledged, reassigned or resolved meanwhile */
        r->escalating = true;
        inc->updated_ms = rec->time_ms;
        char text[TC_TEXT_MAX];
        tc_state__text(text, sizeof text,
                       "%s did not acknowledge the %s page within %lld min; escalating", r->person,
                       r->role, (long long)(r->ack_timeout_ms / 60000));
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, TC_STATE_ACTOR, "escalate",
                          text);
        return 0;
    }
    if (svc && !strcmp(tm->kind, "postmortem")) {
        if (!inc->postmortem_due_ms || inc->postmortem_done_ms || inc->postmortem_reminded)
            return 0;
        inc->postmortem_reminded = true;
        char text[TC_TEXT_MAX];
        tc_state__text(text, sizeof text, "post-mortem overdue; owner %s",
                       inc->postmortem_owner[0] ? inc->postmortem_owner : "not assigned");
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, TC_STATE_ACTOR, "reminder",
                          text);
        /* The owner is the one who has to act: on their own page. */
        char due[40];
        tc_state__notice(st, out, inc, rec, inc->postmortem_owner[0] ? inc->postmortem_owner : NULL,
                         "postmortem_owner", TC_PAGE_POSTMORTEM, "reminder.postmortem",
                         "%spost-mortem of incident %llu (%s, SEV-%u) is overdue since %s; write "
                         "it (tocsinctl postmortem %llu) and mark it done (tocsinctl postmortem "
                         "%llu done)%s",
                         inc->drill ? "DRILL: " : "", (unsigned long long)inc->id, inc->service,
                         inc->severity, tc_time_format(inc->postmortem_due_ms, due, sizeof due),
                         (unsigned long long)inc->id, (unsigned long long)inc->id,
                         tc_state__report_owed(st, inc)
                             ? "; customers were told of it and are owed a public report "
                               "(postmortem ID report, approve, publish)"
                             : "");
        return 0;
    }
    if (svc && !strcmp(tm->kind, "quiet"))
        return tc_state__fire_quiet(st, inc, rec, out);
    /* A deadline fires once; one for an incident that has since resolved
     * or been declared by hand has nothing left to do. */
    if (!svc || strcmp(tm->kind, "declare") != 0 || inc->state == TC_INC_RESOLVED ||
        inc->declare_evaluated || inc->declared)
        return 0;
    inc->declare_evaluated = true;
    inc->updated_ms = rec->time_ms;
    if (tc_state__maybe_declare(st, svc, inc, rec, out))
        return 0;
    tc_service_policy_t sp;
    tc_policy_service(st->policy, inc->service, &sp);
    char text[TC_TEXT_MAX];
    snprintf(text, sizeof text,
             "not declared at the deadline: %u users affected, fewer than %u; it is declared "
             "as soon as that changes",
             inc->users, sp.declare_min_users);
    tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "policy");
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    return 0;
}
