/*
 * state_checks.c - check results, lost events and host status (see
 * state.h and state_impl.h).
 *
 * Per-service counters are kept incrementally (failing checks, failing checks
 * per host, users reported by failing checks) so applying a record costs
 * O(1) hash lookups, plus O(hosts of that service) for the sorted host list
 * when a host joins or leaves the failing set. Each service remembers its
 * open incident and its most recently resolved one, which is what can be
 * reopened; older incidents are archived (state_archive.c).
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

/* ---- check results ------------------------------------------------------ */

/* After a check of `svc` changed, updates or resolves its open incident. */
static int s_refresh_open(tc_state_t *st, tc_state__service_t *svc, const tc_record_t *rec,
                          const tc_check_result_t *cr, bool flap_ended, tc_state_out_t *out)
{
    tc_incident_t *inc = svc->open;
    inc->updated_ms = rec->time_ms;
    int rc = tc_state__fill_hosts(svc, inc);
    if (rc)
        return rc;
    /* The text is only for the broadcast and the timeline, which a replay
     * does not write. */
    char text[TC_TEXT_MAX] = "";
    if (svc->failing == 0) {
        /* Recovery is no evidence of a smaller incident: no reassessment,
         * the severity it had is the one it keeps. */
        inc->state = TC_INC_RESOLVED;
        inc->resolved_ms = rec->time_ms;
        tc_state__set_severity(inc, inc->severity, rec->time_ms);
        if (!out->quiet)
            tc_state__text(text, sizeof text, "every check is OK again (last: %s@%s)", cr->check,
                           cr->host);
        tc_state__schedule_postmortem(st, inc, rec, out);
        tc_state__changed(out, TC_BCAST_INCIDENT_RESOLVED, inc, rec, rec->event.sender, "resolved",
                          text);
        int arc = tc_state__archive(st, svc->resolved);
        svc->resolved = inc;
        svc->open = NULL;
        return arc;
    }
    if (out->quiet)
        ; /* no text to write */
    else if (cr->flapping)
        tc_state__text(text, sizeof text,
                       "%s@%s is flapping (%u%% of its recent results changed), counted as %s; "
                       "%u checks failing on %u hosts",
                       cr->check, cr->host, cr->flap_percent, tc_check_state_name(cr->state),
                       inc->failing_checks, inc->affected_hosts);
    else
        tc_state__text(text, sizeof text, "%s@%s %s%s; %u checks failing on %u hosts", cr->check,
                       cr->host, flap_ended ? "stopped flapping: " : "is ",
                       tc_check_state_name(cr->state), inc->failing_checks, inc->affected_hosts);
    tc_state__assess(st, svc, inc, rec, out, false);
    tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, rec->event.sender,
                      cr->flapping ? "flapping" : "check", text);
    /* The change may bring the users to the declaration threshold. */
    tc_state__maybe_declare(st, svc, inc, rec, out);
    return 0;
}

/* A failing check with no open incident: reopens the service's last one if
 * it was resolved within the reopen window, else opens a new one. */
static int s_open_incident(tc_state_t *st, tc_state__service_t *svc, const tc_record_t *rec,
                           const tc_check_result_t *cr, tc_state_out_t *out)
{
    char text[TC_TEXT_MAX];
    tc_incident_t *inc = svc->resolved;
    if (inc && st->policy->reopen_on_failure &&
        rec->time_ms - inc->resolved_ms <= st->policy->reopen_window_ms) {
        svc->resolved = NULL;
        inc->state = inc->acknowledged_ms ? TC_INC_INVESTIGATING : TC_INC_TRIGGERED;
        inc->resolved_ms = 0;
        inc->updated_ms = rec->time_ms;
        int rc = tc_state__fill_hosts(svc, inc);
        svc->open = inc;
        if (rc)
            return rc;
        inc->sev_since_ms = inc->severity ? rec->time_ms : 0;
        inc->progress_ms = rec->time_ms;
        tc_state__assess(st, svc, inc, rec, out, false);
        tc_state__text(text, sizeof text, "%s@%s %s again within the reopen window: %s", cr->check,
                       cr->host, tc_check_state_name(cr->state), cr->output);
        tc_state__changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, rec->event.sender, "reopened",
                          text);
        return 0;
    }
    inc = calloc(1, sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    inc->id = st->next_id++;
    snprintf(inc->service, sizeof inc->service, "%s", svc->name);
    inc->state = TC_INC_TRIGGERED;
    inc->opened_ms = inc->updated_ms = rec->time_ms;
    inc->opened_log_seq = rec->seq;
    if (cr->flapping)
        tc_state__text(inc->summary, sizeof inc->summary, "%s@%s flapping (%u%%), %s: %s",
                       cr->check, cr->host, cr->flap_percent, tc_check_state_name(cr->state),
                       cr->output);
    else
        tc_state__text(inc->summary, sizeof inc->summary, "%s@%s %s: %s", cr->check, cr->host,
                       tc_check_state_name(cr->state), cr->output);
    int rc = tc_state__fill_hosts(svc, inc);
    if (rc) {
        free(inc);
        return rc;
    }
    svc->open = inc;
    if ((rc = tc_state__index(st, inc->id, svc)) != 0)
        return rc;
    inc->progress_ms = rec->time_ms;
    tc_state__assess(st, svc, inc, rec, out, false);
    inc->maintenance = tc_state_service_in_maintenance(st, svc->name);
    tc_state__changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, rec->event.sender, "opened",
                      inc->summary);
    if (inc->maintenance) {
        tc_timeline_t *t = tc_state__note(out, inc, rec, TC_STATE_ACTOR, "maintenance");
        if (t)
            tc_state__text(t->text, sizeof t->text,
                           "opened during maintenance window %llu: recorded, nobody paged",
                           (unsigned long long)inc->maintenance);
    }
    return 0;
}

/* After incident `was` was resolved by hand over failing checks: what
 * still fails opens a new incident at once, so the alert stays visible and
 * the policy declares it again if it lasts, instead of going silent (agents
 * send changes only, so those checks would never speak again). */
int tc_state__open_after_forced(tc_state_t *st, tc_state__service_t *svc, const tc_incident_t *was,
                                const tc_record_t *rec, tc_state_out_t *out)
{
    tc_incident_t *inc = calloc(1, sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    inc->id = st->next_id++;
    snprintf(inc->service, sizeof inc->service, "%s", svc->name);
    inc->state = TC_INC_TRIGGERED;
    inc->opened_ms = inc->updated_ms = inc->progress_ms = rec->time_ms;
    inc->opened_log_seq = rec->seq;
    int rc = tc_state__fill_hosts(svc, inc);
    if (rc) {
        free(inc);
        return rc;
    }
    tc_state__text(inc->summary, sizeof inc->summary,
                   "%u check%s of %s still failing when incident %llu was resolved by hand "
                   "(%s%s): %s",
                   svc->failing, svc->failing == 1 ? "" : "s", svc->name,
                   (unsigned long long)was->id, inc->nhosts ? "on " : "",
                   inc->nhosts ? inc->hosts[0] : "", was->summary);
    svc->open = inc;
    if ((rc = tc_state__index(st, inc->id, svc)) != 0)
        return rc;
    tc_state__assess(st, svc, inc, rec, out, false);
    inc->maintenance = tc_state_service_in_maintenance(st, svc->name);
    tc_state__changed(out, TC_BCAST_INCIDENT_OPENED, inc, rec, TC_STATE_ACTOR, "opened",
                      inc->summary);
    return 0;
}

static uint32_t s_perf_users(const tc_check_result_t *cr)
{
    for (size_t i = 0; i < cr->nperf && i < TC_PERF_MAX; i++)
        if (!strcmp(cr->perf[i].label, "users") && cr->perf[i].value >= 0 &&
            cr->perf[i].value < 4e9)
            return (uint32_t)cr->perf[i].value;
    return 0;
}

int tc_state__apply_check(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_check_result_t *cr = &rec->event.u.check;
    /* An integration acknowledged the alert (state_pages.c): no state
     * change, the alert's incident is acknowledged. */
    if (cr->acknowledged)
        return tc_state__apply_alert_ack(st, rec, out);
    if (!cr->hard)
        return 0; /* soft states are the agent's business; only hard ones count */

    /* "host/check", joined by hand: this runs for every record replayed. */
    char key[2 * TC_ID_MAX + 1];
    size_t hl = strnlen(cr->host, TC_ID_MAX - 1), cl = strnlen(cr->check, TC_ID_MAX - 1);
    memcpy(key, cr->host, hl);
    key[hl] = '/';
    memcpy(key + hl + 1, cr->check, cl);
    key[hl + 1 + cl] = '\0';
    tc_state__check_t *c = zhashx_lookup(st->checks, key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return TC_ENOMEM;
        snprintf(c->host, sizeof c->host, "%s", cr->host);
        snprintf(c->check, sizeof c->check, "%s", cr->check);
        snprintf(c->service, sizeof c->service, "%s", cr->service);
        c->state = TC_STATE_OK;
        zhashx_insert(st->checks, key, c);
    }
    bool was_failing = c->state != TC_STATE_OK;
    bool now_failing = cr->state != TC_STATE_OK;
    uint32_t users = s_perf_users(cr);
    bool flap_changed = c->flapping != cr->flapping;
    bool changed = c->state != cr->state || (now_failing && users != c->users) || flap_changed;
    int rc;

    /* A check moved to another service (its configuration changed): it
     * leaves the old service's counts first, which may resolve that one. */
    if (strcmp(c->service, cr->service) != 0) {
        tc_state__service_t *old = zhashx_lookup(st->services, c->service);
        if (old && was_failing) {
            tc_state__count(old, c->host, -1);
            old->perf_users -= c->users;
            /* Reported as the check going OK for the old service: it no
             * longer fails there. */
            tc_check_result_t left = *cr;
            left.state = TC_STATE_OK;
            left.flapping = false;
            if (old->open && (rc = s_refresh_open(st, old, rec, &left, false, out)) != 0)
                return rc;
        }
        if (old && c->flapping)
            old->flapping--;
        c->flapping = false;
        flap_changed = cr->flapping;
        snprintf(c->service, sizeof c->service, "%s", cr->service);
        was_failing = false;
        changed = true;
    }

    tc_state__service_t *svc = tc_state__service(st, cr->service);
    if (!svc)
        return TC_ENOMEM;
    if (was_failing)
        svc->perf_users -= c->users;
    if (now_failing)
        svc->perf_users += users;
    if (!was_failing && now_failing)
        tc_state__count(svc, cr->host, +1);
    else if (was_failing && !now_failing)
        tc_state__count(svc, cr->host, -1);
    c->state = cr->state;
    c->users = now_failing ? users : 0;
    if (flap_changed)
        svc->flapping = cr->flapping ? svc->flapping + 1 : svc->flapping - 1;
    c->flapping = cr->flapping;
    /* The last failing output, which the guard keeps out of external
     * texts (state_guard.c); copied by length, this runs per result. */
    if (now_failing) {
        size_t n = strnlen(cr->output, sizeof c->output - 1);
        memcpy(c->output, cr->output, n);
        c->output[n] = '\0';
    } else {
        c->output[0] = '\0';
    }

    if (!changed)
        return 0;
    if (svc->open)
        return s_refresh_open(st, svc, rec, cr, flap_changed && !cr->flapping, out);
    if (cr->state == TC_STATE_CRITICAL)
        return s_open_incident(st, svc, rec, cr, out);
    return 0;
}

/* An agent could not keep some transitions of a check (its spool was
 * full): the service's open incident, or else its last one, says so in its
 * timeline, so that a gap in the story is visible and explained. */
int tc_state__apply_lost(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_events_lost_t *l = &rec->event.u.lost;
    tc_state__service_t *svc = zhashx_lookup(st->services, l->service);
    tc_incident_t *inc = svc ? (svc->open ? svc->open : svc->resolved) : NULL;
    if (!inc)
        return 0; /* in the log for the record; no incident to tell */
    char from[40], to[40], text[TC_TEXT_MAX];
    tc_state__text(text, sizeof text,
                   "%u state changes of %s@%s between %s and %s were lost on "
                   "the agent (%s); its latest state follows",
                   l->transitions, l->check, l->host,
                   tc_time_format(l->first_ms, from, sizeof from),
                   tc_time_format(l->last_ms, to, sizeof to), l->reason);
    if (inc == svc->open) {
        inc->updated_ms = rec->time_ms;
        tc_state__changed(out, TC_BCAST_INCIDENT_UPDATED, inc, rec, rec->event.sender,
                          "events-lost", text);
        return 0;
    }
    tc_timeline_t *t = tc_state__note(out, inc, rec, rec->event.sender, "events-lost");
    if (t)
        tc_strlcpy_utf8(t->text, text, sizeof t->text);
    return 0;
}

/* ---- hosts --------------------------------------------------------------- */

int tc_state__apply_host(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out)
{
    const tc_host_status_t *hs = &rec->event.u.host_status;
    tc_state_host_t *h = zhashx_lookup(st->hosts, hs->host);
    bool known = h != NULL;
    if (!h) {
        h = calloc(1, sizeof *h);
        if (!h)
            return TC_ENOMEM;
        snprintf(h->host, sizeof h->host, "%s", hs->host);
        zhashx_insert(st->hosts, hs->host, h);
    }
    if (hs->heartbeat_ms)
        h->heartbeat_ms = hs->heartbeat_ms;
    if (known && h->up == hs->up)
        return 0;
    h->up = hs->up;
    h->changed_ms = rec->time_ms;
    tc_broadcast_t *b =
        tc_state__emit(out, hs->up ? TC_BCAST_HOST_UP : TC_BCAST_HOST_DOWN, rec->seq, NULL);
    if (b) {
        snprintf(b->host, sizeof b->host, "%s", hs->host);
        tc_state__text(b->detail, sizeof b->detail, "host %s is %s (%s)", hs->host,
                       hs->up ? "up" : "down", hs->reason);
    }
    return 0;
}
