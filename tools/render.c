#include "render.h"

#include "error.h"
#include "table.h"
#include "utf8.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* Summaries longer than this many characters are shortened in tables; the
 * full text is one `tocsinctl show` away. */
#define S_SUMMARY_COLS 60
/* Hosts named in the incidents table before "+N". */
#define S_HOSTS_SHOWN 3

/* ---- JSON -------------------------------------------------------------- */

/* Writes `ms` as an RFC 3339 string, or null when `ms` is 0 ("never"). */
void tc_render_incident_json(tc_json_t *j, const tc_incident_t *inc)
{
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_uint(j, inc->id);
    tc_json_key(j, "service");
    tc_json_string(j, inc->service);
    tc_json_key(j, "state");
    tc_json_string(j, tc_incident_state_name(inc->state));
    tc_json_key(j, "severity");
    if (inc->severity == 0)
        tc_json_null(j);
    else
        tc_json_uint(j, inc->severity);
    tc_json_key(j, "declared");
    tc_json_bool(j, inc->declared);
    tc_json_key(j, "opened_at");
    tc_json_time(j, inc->opened_ms);
    tc_json_key(j, "resolved_at");
    tc_json_time(j, inc->resolved_ms);
    tc_json_key(j, "updated_at");
    tc_json_time(j, inc->updated_ms);
    tc_json_key(j, "summary");
    tc_json_string(j, inc->summary);
    tc_json_key(j, "hosts");
    tc_json_array_begin(j);
    for (size_t i = 0; i < inc->nhosts && i < TC_HOSTS_MAX; i++)
        tc_json_string(j, inc->hosts[i]);
    tc_json_array_end(j);
    tc_json_key(j, "affected_hosts");
    tc_json_uint(j, inc->affected_hosts);
    tc_json_key(j, "failing_checks");
    tc_json_uint(j, inc->failing_checks);
    tc_json_key(j, "flapping_checks");
    tc_json_uint(j, inc->flapping_checks);
    tc_json_key(j, "roles");
    tc_json_object_begin(j);
    for (size_t i = 0; i < inc->nroles && i < TC_ROLES_MAX; i++) {
        tc_json_key(j, inc->roles[i].role);
        tc_json_string(j, inc->roles[i].person);
    }
    tc_json_object_end(j);
    /* The same roles with their pages: who, since when, acknowledged. */
    tc_json_key(j, "pages");
    tc_json_array_begin(j);
    for (size_t i = 0; i < inc->nroles && i < TC_ROLES_MAX; i++) {
        const tc_role_t *r = &inc->roles[i];
        tc_json_object_begin(j);
        tc_json_key(j, "role");
        tc_json_string(j, r->role);
        tc_json_key(j, "person");
        tc_json_string(j, r->person);
        tc_json_key(j, "paged_at");
        tc_json_time(j, r->paged_ms);
        tc_json_key(j, "acknowledged_at");
        tc_json_time(j, r->acked_ms);
        tc_json_key(j, "repeats");
        tc_json_uint(j, r->repeats);
        tc_json_key(j, "level");
        tc_json_uint(j, r->level);
        tc_json_key(j, "exhausted");
        tc_json_bool(j, r->exhausted);
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    tc_json_key(j, "acknowledged_at");
    tc_json_time(j, inc->acknowledged_ms);
    tc_json_key(j, "declared_at");
    tc_json_time(j, inc->declared_ms);
    tc_json_key(j, "users");
    tc_json_uint(j, inc->users);
    tc_json_key(j, "major");
    tc_json_bool(j, inc->severity == 1 || inc->severity == 2);
    tc_json_key(j, "security");
    tc_json_bool(j, inc->security);
    tc_json_key(j, "drill");
    tc_json_bool(j, inc->drill);
    tc_json_key(j, "title");
    tc_json_string(j, inc->title);
    tc_json_key(j, "public");
    tc_json_bool(j, inc->is_public);
    tc_json_key(j, "updates");
    tc_json_uint(j, inc->updates);
    tc_json_key(j, "pending_update");
    if (inc->pending_update)
        tc_json_uint(j, inc->pending_update);
    else
        tc_json_null(j);
    tc_json_key(j, "last_external_update_at");
    tc_json_time(j, inc->last_external_ms);
    tc_json_key(j, "next_update_due_at");
    tc_json_time(j, inc->next_update_due_ms);
    tc_json_key(j, "maintenance");
    if (inc->maintenance)
        tc_json_uint(j, inc->maintenance);
    else
        tc_json_null(j);
    tc_json_key(j, "severity_meaning");
    if (inc->severity)
        tc_json_string(j, tc_severity_meaning(inc->severity));
    else
        tc_json_null(j);
    /* Time at each severity; the current one counts up to updated_at. */
    tc_json_key(j, "severity_ms");
    tc_json_object_begin(j);
    for (uint32_t sev = 1; sev <= 5; sev++) {
        int64_t ms = tc_render_severity_ms(inc, sev);
        if (!ms)
            continue;
        char key[4] = {(char)('0' + sev), '\0'};
        tc_json_key(j, key);
        tc_json_uint(j, (uint64_t)ms);
    }
    tc_json_object_end(j);
    static const char *const plans[] = {NULL, "business_hours", "out_of_hours", "full"};
    tc_json_key(j, "plan");
    if (inc->plan && inc->plan <= TC_PLAN_FULL)
        tc_json_string(j, plans[inc->plan]);
    else
        tc_json_null(j);
    tc_json_key(j, "bridge");
    if (inc->bridge[0])
        tc_json_string(j, inc->bridge);
    else
        tc_json_null(j);
    tc_json_key(j, "resolved_failing");
    tc_json_uint(j, inc->resolved_failing);
    tc_json_key(j, "disclosure");
    if (inc->security) {
        tc_json_object_begin(j);
        tc_json_key(j, "cleared");
        tc_json_bool(j, inc->disclosure_ic_ms && inc->disclosure_dpo_ms);
        tc_json_key(j, "ic_cleared_at");
        tc_json_time(j, inc->disclosure_ic_ms);
        tc_json_key(j, "dpo_cleared_at");
        tc_json_time(j, inc->disclosure_dpo_ms);
        tc_json_key(j, "flagged_severity");
        if (inc->flagged_severity)
            tc_json_uint(j, inc->flagged_severity);
        else
            tc_json_null(j);
        tc_json_object_end(j);
    } else {
        tc_json_null(j);
    }
    tc_json_key(j, "progress_at");
    tc_json_time(j, inc->progress_ms);
    tc_json_key(j, "postmortem");
    if (inc->postmortem_due_ms) {
        tc_json_object_begin(j);
        tc_json_key(j, "owner");
        tc_json_string(j, inc->postmortem_owner);
        tc_json_key(j, "due_at");
        tc_json_time(j, inc->postmortem_due_ms);
        tc_json_key(j, "done_at");
        tc_json_time(j, inc->postmortem_done_ms);
        tc_json_key(j, "meeting_at");
        tc_json_time(j, inc->postmortem_meeting_ms);
        tc_json_key(j, "reminded");
        tc_json_bool(j, inc->postmortem_reminded);
        tc_json_object_end(j);
    } else {
        tc_json_null(j);
    }
    tc_json_object_end(j);
}

int64_t tc_render_severity_ms(const tc_incident_t *inc, uint32_t severity)
{
    if (severity < 1 || severity > 5)
        return 0;
    int64_t ms = inc->severity_ms[severity];
    if (inc->severity == severity && inc->sev_since_ms && inc->updated_ms > inc->sev_since_ms)
        ms += inc->updated_ms - inc->sev_since_ms;
    return ms;
}

void tc_render_update_json(tc_json_t *j, const tc_update_t *u)
{
    tc_json_object_begin(j);
    tc_json_key(j, "incident");
    if (u->incident)
        tc_json_uint(j, u->incident);
    else
        tc_json_null(j);
    tc_json_key(j, "maintenance");
    if (u->maintenance)
        tc_json_uint(j, u->maintenance);
    else
        tc_json_null(j);
    tc_json_key(j, "number");
    tc_json_uint(j, u->number);
    tc_json_key(j, "audience");
    tc_json_string(j, u->external ? "external" : "internal");
    tc_json_key(j, "scenario");
    tc_json_string(j, u->scenario);
    tc_json_key(j, "state");
    tc_json_string(j, u->state);
    tc_json_key(j, "status");
    tc_json_string(j, tc_update_status_name(u->status));
    tc_json_key(j, "title");
    tc_json_string(j, u->title);
    tc_json_key(j, "body");
    tc_json_string(j, u->body);
    tc_json_key(j, "impact");
    tc_json_string(j, u->impact);
    tc_json_key(j, "severity");
    if (u->severity)
        tc_json_uint(j, u->severity);
    else
        tc_json_null(j);
    tc_json_key(j, "components");
    tc_json_array_begin(j);
    for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++) {
        tc_json_object_begin(j);
        tc_json_key(j, "name");
        tc_json_string(j, u->components[i].name);
        tc_json_key(j, "status");
        tc_json_string(j, tc_component_status_name(u->components[i].status));
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    tc_json_key(j, "next_update_at");
    tc_json_time(j, u->next_update_ms);
    tc_json_key(j, "author");
    tc_json_string(j, u->author);
    tc_json_key(j, "drafted_at");
    tc_json_time(j, u->drafted_ms);
    tc_json_key(j, "approver");
    if (u->approver[0])
        tc_json_string(j, u->approver);
    else
        tc_json_null(j);
    tc_json_key(j, "approved_at");
    tc_json_time(j, u->approved_ms);
    tc_json_key(j, "published_at");
    tc_json_time(j, u->published_ms);
    tc_json_key(j, "started_at");
    tc_json_time(j, u->started_ms);
    tc_json_key(j, "eta");
    tc_json_time(j, u->eta_ms);
    tc_json_key(j, "drill");
    tc_json_bool(j, u->drill);
    tc_json_key(j, "restricted");
    tc_json_bool(j, u->restricted);
    tc_json_object_end(j);
}

void tc_render_component_json(tc_json_t *j, const tc_component_t *c)
{
    tc_json_object_begin(j);
    tc_json_key(j, "name");
    tc_json_string(j, c->name);
    tc_json_key(j, "description");
    tc_json_string(j, c->description);
    tc_json_key(j, "status");
    tc_json_string(j, tc_component_status_name(c->status));
    tc_json_key(j, "derived");
    tc_json_string(j, tc_component_status_name(c->derived));
    tc_json_key(j, "overridden");
    tc_json_bool(j, c->overridden);
    tc_json_key(j, "changed_at");
    tc_json_time(j, c->changed_ms);
    tc_json_object_end(j);
}

void tc_render_maintenance_json(tc_json_t *j, const tc_maintenance_t *w)
{
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_uint(j, w->id);
    tc_json_key(j, "title");
    tc_json_string(j, w->title);
    tc_json_key(j, "state");
    tc_json_string(j, tc_maint_state_name(w->state));
    tc_json_key(j, "start");
    tc_json_time(j, w->start_ms);
    tc_json_key(j, "end");
    tc_json_time(j, w->end_ms);
    tc_json_key(j, "every_ms");
    tc_json_int(j, w->every_ms);
    tc_json_key(j, "occurrence");
    tc_json_uint(j, w->occurrence);
    tc_json_key(j, "components");
    tc_json_array_begin(j);
    for (size_t i = 0; i < w->ncomponents && i < TC_COMPONENTS_MAX; i++)
        tc_json_string(j, w->components[i]);
    tc_json_array_end(j);
    tc_json_key(j, "description");
    tc_json_string(j, w->description);
    tc_json_key(j, "created_by");
    tc_json_string(j, w->created_by);
    tc_json_key(j, "verify_ms");
    tc_json_int(j, w->verify_ms);
    tc_json_object_end(j);
}

void tc_render_timeline_json(tc_json_t *j, const tc_timeline_t *t)
{
    tc_json_object_begin(j);
    tc_json_key(j, "incident");
    tc_json_uint(j, t->incident);
    tc_json_key(j, "time");
    tc_json_time(j, t->time_ms);
    tc_json_key(j, "log_seq");
    tc_json_uint(j, t->log_seq);
    tc_json_key(j, "actor");
    tc_json_string(j, t->actor);
    tc_json_key(j, "kind");
    tc_json_string(j, t->kind);
    tc_json_key(j, "text");
    tc_json_string(j, t->text);
    tc_json_object_end(j);
}

char *tc_render_timeline_line(const tc_timeline_t *t, char *dst, size_t cap)
{
    char raw[2 * TC_TEXT_MAX], when[40];
    snprintf(raw, sizeof raw, "%s  %-12s %-10s %s", tc_time_format(t->time_ms, when, sizeof when),
             t->actor, t->kind, t->text);
    tc_utf8_sanitize(raw, dst, cap);
    return dst;
}

/* The PUB topic frame and the Broadcast's own topic field are the same by
 * contract; fall back to the kind's name if a sender left the field empty. */
static const char *s_bcast_topic(const tc_broadcast_t *b)
{
    return b->topic[0] ? b->topic : tc_bcast_kind_name(b->kind);
}

static bool s_bcast_is_incident(tc_bcast_kind_t k)
{
    return k == TC_BCAST_INCIDENT_OPENED || k == TC_BCAST_INCIDENT_UPDATED ||
           k == TC_BCAST_INCIDENT_RESOLVED || k == TC_BCAST_PAGE;
}

static bool s_bcast_is_host(tc_bcast_kind_t k)
{
    return k == TC_BCAST_HOST_DOWN || k == TC_BCAST_HOST_UP;
}

/* The fields of a Broadcast after seq and time; shared by tocsin-sub's
 * lines and by log records that happen to hold a broadcast. */
static void s_bcast_fields(tc_json_t *j, const tc_broadcast_t *b)
{
    tc_json_key(j, "log_seq");
    tc_json_uint(j, b->log_seq);
    if (s_bcast_is_host(b->kind)) {
        tc_json_key(j, "host");
        tc_json_string(j, b->host);
    }
    tc_json_key(j, "detail");
    tc_json_string(j, b->detail);
    if (s_bcast_is_incident(b->kind) || b->kind == TC_BCAST_REMINDER) {
        tc_json_key(j, "incident");
        tc_render_incident_json(j, &b->incident);
    }
    if (b->kind == TC_BCAST_STATUS_UPDATE) {
        tc_json_key(j, "update");
        tc_render_update_json(j, &b->update);
    }
    if (b->kind == TC_BCAST_COMPONENT) {
        tc_json_key(j, "component");
        tc_render_component_json(j, &b->component);
    }
    if (b->kind == TC_BCAST_MAINTENANCE) {
        tc_json_key(j, "maintenance");
        tc_render_maintenance_json(j, &b->maint);
    }
    if ((b->kind == TC_BCAST_PAGE || b->kind == TC_BCAST_REMINDER) && b->page.person[0]) {
        const tc_page_t *pg = &b->page;
        tc_json_key(j, "page");
        tc_json_object_begin(j);
        tc_json_key(j, "person");
        tc_json_string(j, pg->person);
        tc_json_key(j, "role");
        tc_json_string(j, pg->role);
        tc_json_key(j, "kind");
        tc_json_string(j, tc_page_kind_name(pg->kind));
        tc_json_key(j, "urgency");
        tc_json_string(j, tc_urgency_name(pg->urgency));
        tc_json_key(j, "paged_at");
        tc_json_time(j, pg->paged_ms);
        tc_json_key(j, "number");
        tc_json_uint(j, pg->number);
        tc_json_key(j, "level");
        tc_json_uint(j, pg->level);
        tc_json_object_end(j);
    }
}

void tc_render_broadcast_json(tc_json_t *j, const tc_msg_t *m)
{
    const tc_broadcast_t *b = &m->u.bcast;
    tc_json_object_begin(j);
    tc_json_key(j, "seq");
    tc_json_uint(j, m->seq);
    tc_json_key(j, "topic");
    tc_json_string(j, s_bcast_topic(b));
    tc_json_key(j, "time");
    tc_json_time(j, m->time_ms);
    s_bcast_fields(j, b);
    tc_json_object_end(j);
}

static const char *s_reject_reason_name(tc_reject_reason_t r)
{
    switch (r) {
    case TC_REJECT_MALFORMED: return "malformed";
    case TC_REJECT_BAD_VERSION: return "bad_version";
    case TC_REJECT_INVALID: return "invalid";
    case TC_REJECT_UNAUTHORIZED: return "unauthorized";
    default: return "unspecified";
    }
}

static void s_perf_json(tc_json_t *j, const tc_perf_t *p)
{
    tc_json_object_begin(j);
    tc_json_key(j, "label");
    tc_json_string(j, p->label);
    tc_json_key(j, "value");
    tc_json_double(j, p->value);
    tc_json_key(j, "uom");
    tc_json_string(j, p->uom);
    /* Thresholds that were not given are left out rather than written as 0,
     * which would be a real threshold. */
    if (p->present & TC_PERF_WARN) {
        tc_json_key(j, "warn");
        tc_json_double(j, p->warn);
    }
    if (p->present & TC_PERF_CRIT) {
        tc_json_key(j, "crit");
        tc_json_double(j, p->crit);
    }
    if (p->present & TC_PERF_MIN) {
        tc_json_key(j, "min");
        tc_json_double(j, p->min);
    }
    if (p->present & TC_PERF_MAX_BIT) {
        tc_json_key(j, "max");
        tc_json_double(j, p->max);
    }
    tc_json_object_end(j);
}

static void s_event_fields(tc_json_t *j, const tc_msg_t *e)
{
    switch (e->kind) {
    case TC_MSG_CHECK_RESULT: {
        const tc_check_result_t *c = &e->u.check;
        tc_json_key(j, "check");
        tc_json_string(j, c->check);
        tc_json_key(j, "service");
        tc_json_string(j, c->service);
        tc_json_key(j, "host");
        tc_json_string(j, c->host);
        tc_json_key(j, "state");
        tc_json_string(j, tc_check_state_name(c->state));
        tc_json_key(j, "hard");
        tc_json_bool(j, c->hard);
        tc_json_key(j, "flapping");
        tc_json_bool(j, c->flapping);
        tc_json_key(j, "flap_percent");
        tc_json_uint(j, c->flap_percent);
        tc_json_key(j, "attempt");
        tc_json_uint(j, c->attempt);
        tc_json_key(j, "max_attempts");
        tc_json_uint(j, c->max_attempts);
        tc_json_key(j, "output");
        tc_json_string(j, c->output);
        tc_json_key(j, "perfdata");
        tc_json_array_begin(j);
        for (size_t i = 0; i < c->nperf && i < TC_PERF_MAX; i++)
            s_perf_json(j, &c->perf[i]);
        tc_json_array_end(j);
        break;
    }
    case TC_MSG_HOST_STATUS:
        tc_json_key(j, "host");
        tc_json_string(j, e->u.host_status.host);
        tc_json_key(j, "up");
        tc_json_bool(j, e->u.host_status.up);
        tc_json_key(j, "heartbeat_ms");
        tc_json_uint(j, e->u.host_status.heartbeat_ms);
        tc_json_key(j, "reason");
        tc_json_string(j, e->u.host_status.reason);
        break;
    case TC_MSG_HELLO:
        tc_json_key(j, "hostname");
        tc_json_string(j, e->u.hello.hostname);
        tc_json_key(j, "agent_version");
        tc_json_string(j, e->u.hello.agent_version);
        tc_json_key(j, "heartbeat_ms");
        tc_json_uint(j, e->u.hello.heartbeat_ms);
        break;
    case TC_MSG_HEARTBEAT:
        tc_json_key(j, "heartbeat_ms");
        tc_json_uint(j, e->u.heartbeat.heartbeat_ms);
        tc_json_key(j, "last_seq");
        tc_json_uint(j, e->u.heartbeat.last_seq);
        break;
    case TC_MSG_ACK:
        tc_json_key(j, "ack_seq");
        tc_json_uint(j, e->u.ack.seq);
        break;
    case TC_MSG_REJECT:
        tc_json_key(j, "reason");
        tc_json_string(j, s_reject_reason_name(e->u.reject.reason));
        tc_json_key(j, "rejected_seq");
        tc_json_uint(j, e->u.reject.seq);
        tc_json_key(j, "detail");
        tc_json_string(j, e->u.reject.detail);
        break;
    case TC_MSG_BROADCAST:
        tc_json_key(j, "topic");
        tc_json_string(j, s_bcast_topic(&e->u.bcast));
        s_bcast_fields(j, &e->u.bcast);
        break;
    case TC_MSG_OPERATOR_ACTION: {
        const tc_operator_action_t *a = &e->u.action;
        tc_json_key(j, "actor");
        tc_json_string(j, a->actor);
        tc_json_key(j, "action");
        tc_json_string(j, a->action);
        tc_json_key(j, "incident");
        tc_json_uint(j, a->incident);
        tc_json_key(j, "args");
        tc_json_array_begin(j);
        for (size_t i = 0; i < a->nargs && i < TC_ACTION_ARGS_MAX; i++)
            tc_json_string(j, a->args[i]);
        tc_json_array_end(j);
        tc_json_key(j, "message");
        tc_json_string(j, a->message);
        break;
    }
    case TC_MSG_TIMER:
        tc_json_key(j, "incident");
        tc_json_uint(j, e->u.timer.incident);
        tc_json_key(j, "timer");
        tc_json_string(j, e->u.timer.kind);
        tc_json_key(j, "due");
        tc_json_time(j, e->u.timer.due_ms);
        break;
    case TC_MSG_EVENTS_LOST:
        tc_json_key(j, "check");
        tc_json_string(j, e->u.lost.check);
        tc_json_key(j, "service");
        tc_json_string(j, e->u.lost.service);
        tc_json_key(j, "host");
        tc_json_string(j, e->u.lost.host);
        tc_json_key(j, "transitions");
        tc_json_uint(j, e->u.lost.transitions);
        tc_json_key(j, "first");
        tc_json_time(j, e->u.lost.first_ms);
        tc_json_key(j, "last");
        tc_json_time(j, e->u.lost.last_ms);
        tc_json_key(j, "reason");
        tc_json_string(j, e->u.lost.reason);
        break;
    case TC_MSG_CONFIG: {
        char digest[20];
        snprintf(digest, sizeof digest, "%016llx", (unsigned long long)e->u.config.digest);
        tc_json_key(j, "digest");
        tc_json_string(j, digest);
        tc_json_key(j, "source");
        tc_json_string(j, e->u.config.source);
        break;
    }
    case TC_MSG_NONE: break;
    }
}

void tc_render_record_json(tc_json_t *j, const tc_record_t *rec)
{
    const tc_msg_t *e = &rec->event;
    tc_json_object_begin(j);
    tc_json_key(j, "seq");
    tc_json_uint(j, rec->seq);
    tc_json_key(j, "time");
    tc_json_time(j, rec->received_ms);
    tc_json_key(j, "sender");
    tc_json_string(j, e->sender);
    tc_json_key(j, "sender_seq");
    tc_json_uint(j, e->seq);
    tc_json_key(j, "kind");
    tc_json_string(j, tc_msg_kind_name(e->kind));
    tc_json_key(j, "sent_at");
    tc_json_time(j, e->time_ms);
    s_event_fields(j, e);
    tc_json_object_end(j);
}

void tc_render_status_json(tc_json_t *j, const tc_status_t *st)
{
    tc_json_object_begin(j);
    tc_json_key(j, "version");
    tc_json_string(j, st->version);
    tc_json_key(j, "started_at");
    tc_json_time(j, st->started_ms);
    tc_json_key(j, "log_seq");
    tc_json_uint(j, st->log_seq);
    tc_json_key(j, "broadcast_seq");
    tc_json_uint(j, st->broadcast_seq);
    tc_json_key(j, "open_incidents");
    tc_json_uint(j, st->open_incidents);
    tc_json_key(j, "accepted");
    tc_json_uint(j, st->accepted);
    tc_json_key(j, "duplicates");
    tc_json_uint(j, st->duplicates);
    tc_json_key(j, "rejected");
    tc_json_uint(j, st->rejected);
    tc_json_key(j, "denied");
    tc_json_uint(j, st->denied);
    tc_json_key(j, "throttled");
    tc_json_uint(j, st->throttled);
    tc_json_key(j, "deferred");
    tc_json_uint(j, st->deferred);
    tc_json_key(j, "storage");
    tc_json_string(j, st->storage[0] ? st->storage : "ok");
    tc_json_key(j, "storage_error");
    if (st->storage_error[0])
        tc_json_string(j, st->storage_error);
    else
        tc_json_null(j);
    tc_json_key(j, "storage_used");
    tc_json_uint(j, st->storage_used);
    tc_json_key(j, "storage_map");
    tc_json_uint(j, st->storage_map);
    tc_json_key(j, "storage_max");
    tc_json_uint(j, st->storage_max);
    tc_json_key(j, "hosts");
    tc_json_array_begin(j);
    for (size_t i = 0; i < st->nhosts; i++) {
        const tc_host_info_t *h = &st->hosts[i];
        tc_json_object_begin(j);
        tc_json_key(j, "host");
        tc_json_string(j, h->host);
        tc_json_key(j, "up");
        tc_json_bool(j, h->up);
        tc_json_key(j, "last_seen");
        tc_json_time(j, h->last_seen_ms);
        tc_json_key(j, "heartbeat_ms");
        tc_json_uint(j, h->heartbeat_ms);
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    tc_json_object_end(j);
}

/* ---- Text -------------------------------------------------------------- */

/* An age ("up 15s", "3s ago") to the second: milliseconds of an age are
 * noise, unlike those of a configured interval. */
static char *s_age(int64_t ms, char *dst, size_t cap)
{
    return tc_duration_compact(ms - ms % 1000, dst, cap);
}

/* RFC 3339 to the second ("2026-11-24T08:00:00Z"), or "-" for 0: tables
 * have no room for milliseconds nobody reads there. */
static char *s_time_short(int64_t ms, char *dst, size_t cap)
{
    if (ms == 0) {
        snprintf(dst, cap, "-");
        return dst;
    }
    char full[40];
    tc_time_format(ms, full, sizeof full);
    char *dot = strchr(full, '.');
    if (dot)
        strcpy(dot, "Z");
    snprintf(dst, cap, "%s", full);
    return dst;
}

/* Appends printf-style text to dst (size cap) at *len, never overflowing. */
__attribute__((format(printf, 4, 5))) static void s_append(char *dst, size_t cap, size_t *len,
                                                           const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    *len += (size_t)n;
    if (*len >= cap)
        *len = cap - 1;
}

/* "web-01,web-02,web-03,+2" or "-". */
static void s_hosts_cell(const tc_incident_t *inc, char *dst, size_t cap)
{
    size_t len = 0, n = inc->nhosts < TC_HOSTS_MAX ? inc->nhosts : TC_HOSTS_MAX;
    dst[0] = '\0';
    if (n == 0) {
        s_append(dst, cap, &len, "-");
        return;
    }
    for (size_t i = 0; i < n && i < S_HOSTS_SHOWN; i++)
        s_append(dst, cap, &len, "%s%s", i ? "," : "", inc->hosts[i]);
    /* affected_hosts counts every failing host; hosts lists at most 32. */
    size_t total = inc->affected_hosts > n ? inc->affected_hosts : n;
    if (total > S_HOSTS_SHOWN)
        s_append(dst, cap, &len, ",+%zu", total - S_HOSTS_SHOWN);
}

/* Shortens `s` to S_SUMMARY_COLS characters, marking the cut with "...".
 * `cap` must hold S_SUMMARY_COLS characters of up to 4 bytes each. */
static void s_summary_cell(const char *s, char *dst, size_t cap)
{
    char clean[TC_TEXT_MAX * 3];
    size_t chars = tc_utf8_sanitize(s, clean, sizeof clean);
    bool cut = chars > S_SUMMARY_COLS;
    size_t keep = cut ? S_SUMMARY_COLS - 3 : chars, bytes = 0;
    for (size_t i = 0; i < keep; i++) {
        bytes++;
        while (((unsigned char)clean[bytes] & 0xC0) == 0x80)
            bytes++;
    }
    if (bytes + 4 > cap)
        bytes = 0; /* cannot happen with a conforming `cap` */
    memcpy(dst, clean, bytes);
    strcpy(dst + bytes, cut ? "..." : "");
}

int tc_render_incidents_text(FILE *out, const tc_incident_t *incs, size_t n, bool all)
{
    if (n == 0) {
        fputs(all ? "no incidents\n" : "no open incidents\n", out);
        return ferror(out) ? TC_EIO : 0;
    }
    static const char *const headers[] = {"ID",    "SERVICE", "STATE",  "SEV",
                                          "HOSTS", "OPENED",  "SUMMARY"};
    tc_table_t *t = tc_table_new(7, headers);
    if (!t)
        return TC_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const tc_incident_t *inc = &incs[i];
        char id[24], sev[12], hosts[TC_ID_MAX * (S_HOSTS_SHOWN + 1)], opened[40];
        char summary[S_SUMMARY_COLS * 4 + 1];
        snprintf(id, sizeof id, "%" PRIu64, inc->id);
        if (inc->severity == 0)
            snprintf(sev, sizeof sev, "-");
        else
            snprintf(sev, sizeof sev, "%" PRIu32, inc->severity);
        s_hosts_cell(inc, hosts, sizeof hosts);
        s_time_short(inc->opened_ms, opened, sizeof opened);
        s_summary_cell(inc->summary, summary, sizeof summary);
        const char *row[] = {id,     inc->service, tc_incident_state_name(inc->state), sev, hosts,
                             opened, summary};
        rc = tc_table_add_row(t, row);
    }
    if (rc == 0)
        rc = tc_table_print(t, out);
    tc_table_destroy(&t);
    return rc;
}

/* Writes "key:" padded to a common width, then the sanitized value. */
static void s_kv(FILE *out, const char *key, const char *value)
{
    char clean[TC_TEXT_MAX * 3 + TC_ROLES_MAX * TC_ID_MAX * 2];
    tc_utf8_sanitize(value, clean, sizeof clean);
    fprintf(out, "%-16s%s\n", key, clean);
}

int tc_render_incident_text(FILE *out, const tc_incident_t *inc)
{
    char buf[TC_HOSTS_MAX * (TC_ID_MAX + 2) + 64];
    size_t len;
    char when[40];

    snprintf(buf, sizeof buf, "%" PRIu64, inc->id);
    s_kv(out, "id:", buf);
    s_kv(out, "service:", inc->service);
    s_kv(out, "state:", tc_incident_state_name(inc->state));
    if (inc->severity == 0)
        snprintf(buf, sizeof buf, "-");
    else
        snprintf(buf, sizeof buf, "SEV-%" PRIu32, inc->severity);
    /* Hotjar's names next to PagerDuty's numbers; SEV-1/2 are major. */
    if (inc->severity)
        s_append(buf, sizeof buf, &(size_t){strlen(buf)}, " (%s%s)",
                 tc_severity_meaning(inc->severity),
                 tc_severity_major(inc->severity) ? ", major incident" : "");
    s_kv(out, "severity:", buf);
    if (inc->declared && inc->declared_ms)
        snprintf(buf, sizeof buf, "yes, %s", tc_time_format(inc->declared_ms, when, sizeof when));
    else
        snprintf(buf, sizeof buf, "%s", inc->declared ? "yes" : "no");
    s_kv(out, "declared:", buf);
    s_kv(out, "acknowledged:",
         inc->acknowledged_ms ? tc_time_format(inc->acknowledged_ms, when, sizeof when) : "-");
    snprintf(buf, sizeof buf, "%" PRIu32 "%s%s", inc->users,
             inc->users_pinned ? " (set by operator)" : "",
             inc->security ? "; suspected security or data breach" : "");
    s_kv(out, "users affected:", buf);
    s_kv(out, "opened:", inc->opened_ms ? tc_time_format(inc->opened_ms, when, sizeof when) : "-");
    s_kv(out,
         "updated:", inc->updated_ms ? tc_time_format(inc->updated_ms, when, sizeof when) : "-");
    s_kv(out,
         "resolved:", inc->resolved_ms ? tc_time_format(inc->resolved_ms, when, sizeof when) : "-");

    len = 0;
    buf[0] = '\0';
    size_t nhosts = inc->nhosts < TC_HOSTS_MAX ? inc->nhosts : TC_HOSTS_MAX;
    for (size_t i = 0; i < nhosts; i++)
        s_append(buf, sizeof buf, &len, "%s%s", i ? ", " : "", inc->hosts[i]);
    s_kv(out, "hosts:", nhosts ? buf : "-");

    if (inc->flapping_checks)
        snprintf(buf, sizeof buf, "%" PRIu32 " (%" PRIu32 " flapping)", inc->failing_checks,
                 inc->flapping_checks);
    else
        snprintf(buf, sizeof buf, "%" PRIu32, inc->failing_checks);
    s_kv(out, "failing checks:", buf);

    char roles[TC_ROLES_MAX * (TC_ID_MAX * 2 + 2)];
    len = 0;
    roles[0] = '\0';
    size_t nroles = inc->nroles < TC_ROLES_MAX ? inc->nroles : TC_ROLES_MAX;
    for (size_t i = 0; i < nroles; i++)
        s_append(roles, sizeof roles, &len, "%s%s=%s", i ? ", " : "", inc->roles[i].role,
                 inc->roles[i].person);
    s_kv(out, "roles:", nroles ? roles : "-");

    snprintf(buf, sizeof buf, "%" PRIu64, inc->opened_log_seq);
    s_kv(out, "opened by log:", buf);
    s_kv(out, "summary:", inc->summary[0] ? inc->summary : "-");
    if (inc->drill)
        s_kv(out, "drill:", "yes: a synthetic incident from tocsinctl drill");
    if (inc->title[0])
        s_kv(out, "public title:", inc->title);
    if (inc->updates) {
        int n = snprintf(buf, sizeof buf, "%u drafted, %s", inc->updates,
                         inc->is_public ? "public" : "none external yet");
        if (inc->pending_update && n > 0 && (size_t)n < sizeof buf)
            snprintf(buf + n, sizeof buf - (size_t)n, "; update %u awaits approval",
                     inc->pending_update);
        s_kv(out, "updates:", buf);
    }
    if (inc->next_update_due_ms)
        s_kv(out, "next update:", tc_time_format(inc->next_update_due_ms, when, sizeof when));
    if (inc->maintenance) {
        snprintf(buf, sizeof buf, "opened during maintenance window %" PRIu64, inc->maintenance);
        s_kv(out, "maintenance:", buf);
    }
    if (inc->bridge[0])
        s_kv(out, "bridge:", inc->bridge);
    if (inc->plan == TC_PLAN_OUT_OF_HOURS)
        s_kv(out, "plan:", "out of hours: the on-call engineer contains it");
    else if (inc->plan == TC_PLAN_FULL)
        s_kv(out, "plan:", "out of hours, full response requested");
    else if (inc->plan == TC_PLAN_BUSINESS)
        s_kv(out, "plan:", "business hours: full response");
    if (inc->security) {
        snprintf(buf, sizeof buf, "%s (IC %s, DPO %s)",
                 inc->disclosure_ic_ms && inc->disclosure_dpo_ms ? "cleared" : "held",
                 inc->disclosure_ic_ms ? "cleared" : "not yet",
                 inc->disclosure_dpo_ms ? "cleared" : "not yet");
        s_kv(out, "disclosure:", buf);
    }
    if (inc->resolved_failing) {
        snprintf(buf, sizeof buf, "%" PRIu32 " checks still failing (--force)",
                 inc->resolved_failing);
        s_kv(out, "resolved over:", buf);
    }
    if (inc->postmortem_due_ms) {
        char due[40], meet[40];
        snprintf(buf, sizeof buf, "owner %s, due %s%s%s%s",
                 inc->postmortem_owner[0] ? inc->postmortem_owner : "not assigned",
                 tc_time_format(inc->postmortem_due_ms, due, sizeof due),
                 inc->postmortem_done_ms ? ", done" : "",
                 inc->postmortem_meeting_ms ? ", meeting " : "",
                 inc->postmortem_meeting_ms
                     ? tc_time_format(inc->postmortem_meeting_ms, meet, sizeof meet)
                     : "");
        s_kv(out, "post-mortem:", buf);
    }
    return ferror(out) ? TC_EIO : 0;
}

int tc_render_status_text(FILE *out, const tc_status_t *st, int64_t now_ms)
{
    char buf[160], when[40], age[32];

    snprintf(buf, sizeof buf, "%s, up %s (since %s)", st->version[0] ? st->version : "?",
             s_age(now_ms - st->started_ms, age, sizeof age),
             s_time_short(st->started_ms, when, sizeof when));
    s_kv(out, "coordinator:", buf);
    snprintf(buf, sizeof buf, "%" PRIu32, st->open_incidents);
    s_kv(out, "open incidents:", buf);
    snprintf(buf, sizeof buf, "%" PRIu64, st->log_seq);
    s_kv(out, "log seq:", buf);
    snprintf(buf, sizeof buf, "%" PRIu64, st->broadcast_seq);
    s_kv(out, "broadcast seq:", buf);
    snprintf(buf, sizeof buf,
             "%" PRIu64 " accepted, %" PRIu64 " duplicates, %" PRIu64 " rejected, %" PRIu64
             " denied since start",
             st->accepted, st->duplicates, st->rejected, st->denied);
    s_kv(out, "events:", buf);
    char storage[2 * TC_TEXT_MAX];
    snprintf(storage, sizeof storage, "%s%s%s, %.1f MiB used of a %.0f MiB map%s",
             st->storage[0] ? st->storage : "ok", st->storage_error[0] ? ": " : "",
             st->storage_error, (double)st->storage_used / 1048576.0,
             (double)st->storage_map / 1048576.0,
             st->storage_max ? "" : " (grows until the disk is full)");
    s_kv(out, "storage:", storage);
    if (st->throttled || st->deferred) {
        snprintf(buf, sizeof buf,
                 "%" PRIu64 " throttled, %" PRIu64 " out of order (resent by their senders)",
                 st->throttled, st->deferred);
        s_kv(out, "delayed:", buf);
    }
    fputc('\n', out);
    if (st->nhosts == 0) {
        fputs("no hosts seen yet\n", out);
        return ferror(out) ? TC_EIO : 0;
    }

    static const char *const headers[] = {"HOST", "STATE", "LAST SEEN", "HEARTBEAT"};
    tc_table_t *t = tc_table_new(4, headers);
    if (!t)
        return TC_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < st->nhosts && rc == 0; i++) {
        const tc_host_info_t *h = &st->hosts[i];
        char seen[48], hb[32];
        if (h->last_seen_ms == 0) {
            snprintf(seen, sizeof seen, "never");
        } else {
            s_age(now_ms - h->last_seen_ms, age, sizeof age);
            snprintf(seen, sizeof seen, "%s ago", age);
        }
        if (h->heartbeat_ms == 0)
            snprintf(hb, sizeof hb, "-");
        else
            tc_duration_compact(h->heartbeat_ms, hb, sizeof hb);
        const char *row[] = {h->host, h->up ? "up" : "down", seen, hb};
        rc = tc_table_add_row(t, row);
    }
    if (rc == 0)
        rc = tc_table_print(t, out);
    tc_table_destroy(&t);
    return rc;
}

char *tc_render_record_line(const tc_record_t *rec, char *dst, size_t cap)
{
    const tc_msg_t *e = &rec->event;
    char raw[TC_TEXT_MAX * 2 + 4 * TC_ID_MAX + 128], when[40];
    size_t len = 0;
    raw[0] = '\0';
    s_append(raw, sizeof raw, &len, "%" PRIu64 " %s %s#%" PRIu64 " %s", rec->seq,
             tc_time_format(rec->received_ms, when, sizeof when), e->sender, e->seq,
             tc_msg_kind_name(e->kind));
    switch (e->kind) {
    case TC_MSG_CHECK_RESULT: {
        const tc_check_result_t *c = &e->u.check;
        s_append(raw, sizeof raw, &len, " %s@%s %s %s %s: %s", c->check, c->host, c->service,
                 tc_check_state_name(c->state), c->hard ? "hard" : "soft", c->output);
        break;
    }
    case TC_MSG_HOST_STATUS: {
        const tc_host_status_t *h = &e->u.host_status;
        s_append(raw, sizeof raw, &len, " %s %s", h->host, h->up ? "up" : "down");
        if (h->reason[0])
            s_append(raw, sizeof raw, &len, " (%s)", h->reason);
        break;
    }
    case TC_MSG_HELLO:
        s_append(raw, sizeof raw, &len, " %s version %s heartbeat %" PRIu32 "ms",
                 e->u.hello.hostname, e->u.hello.agent_version, e->u.hello.heartbeat_ms);
        break;
    case TC_MSG_HEARTBEAT:
        s_append(raw, sizeof raw, &len, " last_seq %" PRIu64, e->u.heartbeat.last_seq);
        break;
    case TC_MSG_ACK: s_append(raw, sizeof raw, &len, " seq %" PRIu64, e->u.ack.seq); break;
    case TC_MSG_REJECT:
        s_append(raw, sizeof raw, &len, " %s seq %" PRIu64 ": %s",
                 s_reject_reason_name(e->u.reject.reason), e->u.reject.seq, e->u.reject.detail);
        break;
    case TC_MSG_BROADCAST:
        s_append(raw, sizeof raw, &len, " %s: %s", s_bcast_topic(&e->u.bcast), e->u.bcast.detail);
        break;
    case TC_MSG_OPERATOR_ACTION: {
        const tc_operator_action_t *a = &e->u.action;
        s_append(raw, sizeof raw, &len, " %s %s incident %" PRIu64, a->actor, a->action,
                 a->incident);
        for (size_t i = 0; i < a->nargs && i < TC_ACTION_ARGS_MAX; i++)
            s_append(raw, sizeof raw, &len, " %s", a->args[i]);
        if (a->message[0])
            s_append(raw, sizeof raw, &len, ": %s", a->message);
        break;
    }
    case TC_MSG_TIMER:
        s_append(raw, sizeof raw, &len, " %s incident %" PRIu64, e->u.timer.kind,
                 e->u.timer.incident);
        break;
    case TC_MSG_EVENTS_LOST:
        s_append(raw, sizeof raw, &len, " %s@%s: %u transitions lost (%s)", e->u.lost.check,
                 e->u.lost.host, e->u.lost.transitions, e->u.lost.reason);
        break;
    case TC_MSG_CONFIG:
        s_append(raw, sizeof raw, &len, " configuration %016llx from %s",
                 (unsigned long long)e->u.config.digest,
                 e->u.config.source[0] ? e->u.config.source : "built-in defaults");
        break;
    case TC_MSG_NONE: break;
    }
    tc_utf8_sanitize(raw, dst, cap);
    return dst;
}

void tc_render_audit_json(tc_json_t *j, const tc_audit_t *a)
{
    tc_json_object_begin(j);
    tc_json_key(j, "seq");
    tc_json_uint(j, a->seq);
    tc_json_key(j, "time");
    tc_json_time(j, a->time_ms);
    tc_json_key(j, "actor");
    tc_json_string(j, a->actor);
    tc_json_key(j, "class");
    tc_json_string(j, a->actor_class);
    tc_json_key(j, "public_key");
    tc_json_string(j, a->public_key);
    tc_json_key(j, "action");
    tc_json_string(j, a->action);
    tc_json_key(j, "detail");
    tc_json_string(j, a->detail);
    tc_json_key(j, "allowed");
    tc_json_bool(j, a->allowed);
    tc_json_object_end(j);
}

char *tc_render_audit_line(const tc_audit_t *a, char *dst, size_t cap)
{
    char raw[2 * TC_TEXT_MAX], when[40];
    snprintf(raw, sizeof raw, "%" PRIu64 " %s %s %s (%s) %s %s", a->seq,
             tc_time_format(a->time_ms, when, sizeof when), a->allowed ? "allowed" : "DENIED",
             a->actor[0] ? a->actor : "-", a->actor_class, a->action, a->detail);
    tc_utf8_sanitize(raw, dst, cap);
    return dst;
}
