/*
 * wire.c - the one module that includes the protobuf-c generated code.
 *
 * Encoding builds protobuf-c structs on the stack that borrow the caller's
 * strings, packs them into a heap buffer and returns it. Decoding unpacks
 * with protobuf-c's allocator, copies every field into the fixed-size
 * hand-written structs (refusing strings longer than their limits) and frees
 * the unpacked tree before returning, so nothing generated escapes.
 */
#include "wire.h"

#include "error.h"
#include "wire_impl.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers (wire_impl.h) -------------------------------------- */

int tc_wire__copy_id(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= cap)
        return TC_ETOOBIG;
    memcpy(dst, src, n + 1);
    return 0;
}

void tc_wire__copy_text(char *dst, size_t cap, const char *src)
{
    tc_strlcpy_utf8(dst, src ? src : "", cap);
}

int tc_wire__pack(const ProtobufCMessage *pm, uint8_t **out, size_t *outlen)
{
    size_t n = protobuf_c_message_get_packed_size(pm);
    /* malloc(0) may return NULL; an empty message is still a valid one. */
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return TC_ENOMEM;
    protobuf_c_message_pack(pm, buf);
    *out = buf;
    *outlen = n;
    return 0;
}

/* ---- incident ---------------------------------------------------------- */

/* Storage for the pieces of a packed Incident that need their own memory. */
typedef struct {
    Tocsin__V1__Incident pb;
    Tocsin__V1__Assignment asg[TC_ROLES_MAX];
    Tocsin__V1__Assignment *asg_ptrs[TC_ROLES_MAX];
    Tocsin__V1__ActionItem items[TC_ACTIONS_MAX];
    Tocsin__V1__ActionItem *item_ptrs[TC_ACTIONS_MAX];
    char *hosts[TC_HOSTS_MAX];
    Tocsin__V1__Incident__RolesEntry roles[TC_ROLES_MAX];
    Tocsin__V1__Incident__RolesEntry *role_ptrs[TC_ROLES_MAX];
} s_incident_pb_t;

static void s_incident_to_pb(const tc_incident_t *in, s_incident_pb_t *o)
{
    tocsin__v1__incident__init(&o->pb);
    o->pb.id = in->id;
    o->pb.service = (char *)in->service;
    o->pb.state = (Tocsin__V1__IncidentState)in->state;
    o->pb.severity = in->severity;
    o->pb.declared = in->declared;
    o->pb.opened_ms = in->opened_ms;
    o->pb.resolved_ms = in->resolved_ms;
    o->pb.updated_ms = in->updated_ms;
    o->pb.summary = (char *)in->summary;
    size_t nh = in->nhosts > TC_HOSTS_MAX ? TC_HOSTS_MAX : in->nhosts;
    for (size_t i = 0; i < nh; i++)
        o->hosts[i] = (char *)in->hosts[i];
    o->pb.n_hosts = nh;
    o->pb.hosts = o->hosts;
    o->pb.affected_hosts = in->affected_hosts;
    o->pb.failing_checks = in->failing_checks;
    o->pb.flapping_checks = in->flapping_checks;
    o->pb.opened_log_seq = in->opened_log_seq;
    size_t nr = in->nroles > TC_ROLES_MAX ? TC_ROLES_MAX : in->nroles;
    for (size_t i = 0; i < nr; i++) {
        tocsin__v1__incident__roles_entry__init(&o->roles[i]);
        o->roles[i].key = (char *)in->roles[i].role;
        o->roles[i].value = (char *)in->roles[i].person;
        o->role_ptrs[i] = &o->roles[i];
    }
    o->pb.n_roles = nr;
    o->pb.roles = o->role_ptrs;
    for (size_t i = 0; i < nr; i++) {
        const tc_role_t *r = &in->roles[i];
        Tocsin__V1__Assignment *a = &o->asg[i];
        tocsin__v1__assignment__init(a);
        a->role = (char *)r->role;
        a->person = (char *)r->person;
        a->paged_ms = r->paged_ms;
        a->acked_ms = r->acked_ms;
        a->ack_timeout_ms = r->ack_timeout_ms;
        a->level = r->level;
        a->escalating = r->escalating;
        a->exhausted = r->exhausted;
        a->repeats = r->repeats;
        a->repeated_ms = r->repeated_ms;
        o->asg_ptrs[i] = a;
    }
    o->pb.n_assignments = nr;
    o->pb.assignments = o->asg_ptrs;
    size_t na = in->nactions > TC_ACTIONS_MAX ? TC_ACTIONS_MAX : in->nactions;
    for (size_t i = 0; i < na; i++) {
        Tocsin__V1__ActionItem *it = &o->items[i];
        tocsin__v1__action_item__init(it);
        it->number = in->actions[i].number;
        it->text = (char *)in->actions[i].text;
        it->owner = (char *)in->actions[i].owner;
        it->added_ms = in->actions[i].added_ms;
        it->done_ms = in->actions[i].done_ms;
        it->checklist = in->actions[i].checklist;
        o->item_ptrs[i] = it;
    }
    o->pb.n_action_items = na;
    o->pb.action_items = o->item_ptrs;
    o->pb.features = in->features;
    o->pb.acknowledged_ms = in->acknowledged_ms;
    o->pb.declared_ms = in->declared_ms;
    o->pb.users = in->users;
    o->pb.users_pinned = in->users_pinned;
    o->pb.severity_pinned = in->severity_pinned;
    o->pb.security = in->security;
    o->pb.declare_evaluated = in->declare_evaluated;
    o->pb.declared_pinned = in->declared_pinned;
    o->pb.postmortem_owner = (char *)in->postmortem_owner;
    o->pb.postmortem_due_ms = in->postmortem_due_ms;
    o->pb.postmortem_done_ms = in->postmortem_done_ms;
    o->pb.postmortem_reminded = in->postmortem_reminded;
    o->pb.drill = in->drill;
    o->pb.title = (char *)in->title;
    o->pb.updates = in->updates;
    o->pb.pending_update = in->pending_update;
    o->pb.last_external_ms = in->last_external_ms;
    o->pb.next_update_due_ms = in->next_update_due_ms;
    o->pb.public_ = in->is_public;
    o->pb.maintenance = in->maintenance;
    /* Only when something was counted: an incident that never had a
     * severity encodes as before. */
    bool counted = in->sev_since_ms != 0;
    for (size_t i = 0; i < 6 && !counted; i++)
        counted = in->severity_ms[i] != 0;
    o->pb.n_severity_ms = counted ? 6 : 0;
    o->pb.severity_ms = (int64_t *)in->severity_ms;
    o->pb.sev_since_ms = in->sev_since_ms;
    o->pb.resolved_failing = in->resolved_failing;
    o->pb.plan = (uint32_t)in->plan;
    o->pb.bridge = (char *)in->bridge;
    o->pb.disclosure_ic_ms = in->disclosure_ic_ms;
    o->pb.disclosure_dpo_ms = in->disclosure_dpo_ms;
    o->pb.progress_ms = in->progress_ms;
    o->pb.quiet_reminded_ms = in->quiet_reminded_ms;
    o->pb.postmortem_meeting_ms = in->postmortem_meeting_ms;
    o->pb.flagged_severity = in->flagged_severity;
}

static int s_incident_from_pb(const Tocsin__V1__Incident *pb, tc_incident_t *out)
{
    memset(out, 0, sizeof *out);
    if (!pb)
        return 0;
    out->id = pb->id;
    COPY_ID(out->service, pb->service);
    if ((unsigned)pb->state > TC_INC_RESOLVED)
        return TC_EDECODE;
    out->state = (tc_incident_state_t)pb->state;
    out->severity = pb->severity;
    out->declared = pb->declared;
    out->opened_ms = pb->opened_ms;
    out->resolved_ms = pb->resolved_ms;
    out->updated_ms = pb->updated_ms;
    tc_wire__copy_text(out->summary, sizeof out->summary, pb->summary);
    if (pb->n_hosts > TC_HOSTS_MAX || pb->n_roles > TC_ROLES_MAX)
        return TC_ETOOBIG;
    for (size_t i = 0; i < pb->n_hosts; i++)
        COPY_ID(out->hosts[i], pb->hosts[i]);
    out->nhosts = pb->n_hosts;
    out->affected_hosts = pb->affected_hosts;
    out->failing_checks = pb->failing_checks;
    out->flapping_checks = pb->flapping_checks;
    out->opened_log_seq = pb->opened_log_seq;
    for (size_t i = 0; i < pb->n_roles; i++) {
        COPY_ID(out->roles[i].role, pb->roles[i]->key);
        COPY_ID(out->roles[i].person, pb->roles[i]->value);
    }
    out->nroles = pb->n_roles;
    if (pb->n_action_items > TC_ACTIONS_MAX)
        return TC_ETOOBIG;
    for (size_t i = 0; i < pb->n_action_items; i++) {
        const Tocsin__V1__ActionItem *it = pb->action_items[i];
        tc_action_item_t *a = &out->actions[i];
        a->number = it->number;
        tc_wire__copy_text(a->text, sizeof a->text, it->text);
        COPY_ID(a->owner, it->owner);
        a->added_ms = it->added_ms;
        a->done_ms = it->done_ms;
        a->checklist = it->checklist;
    }
    out->nactions = pb->n_action_items;
    out->features = pb->features;
    /* Assignments carry the same roles with their paging state. */
    if (pb->n_assignments > TC_ROLES_MAX)
        return TC_ETOOBIG;
    if (pb->n_assignments) {
        memset(out->roles, 0, sizeof out->roles);
        for (size_t i = 0; i < pb->n_assignments; i++) {
            const Tocsin__V1__Assignment *a = pb->assignments[i];
            tc_role_t *r = &out->roles[i];
            COPY_ID(r->role, a->role);
            COPY_ID(r->person, a->person);
            r->paged_ms = a->paged_ms;
            r->acked_ms = a->acked_ms;
            r->ack_timeout_ms = a->ack_timeout_ms;
            r->level = a->level;
            r->escalating = a->escalating;
            r->exhausted = a->exhausted;
            r->repeats = a->repeats;
            r->repeated_ms = a->repeated_ms;
        }
        out->nroles = pb->n_assignments;
    }
    out->acknowledged_ms = pb->acknowledged_ms;
    out->declared_ms = pb->declared_ms;
    out->users = pb->users;
    out->users_pinned = pb->users_pinned;
    out->severity_pinned = pb->severity_pinned;
    out->security = pb->security;
    out->declare_evaluated = pb->declare_evaluated;
    out->declared_pinned = pb->declared_pinned;
    COPY_ID(out->postmortem_owner, pb->postmortem_owner);
    out->postmortem_due_ms = pb->postmortem_due_ms;
    out->postmortem_done_ms = pb->postmortem_done_ms;
    out->postmortem_reminded = pb->postmortem_reminded;
    out->drill = pb->drill;
    tc_wire__copy_text(out->title, sizeof out->title, pb->title);
    out->updates = pb->updates;
    out->pending_update = pb->pending_update;
    out->last_external_ms = pb->last_external_ms;
    out->next_update_due_ms = pb->next_update_due_ms;
    out->is_public = pb->public_;
    out->maintenance = pb->maintenance;
    if (pb->n_severity_ms > 6 || pb->plan > TC_PLAN_FULL)
        return TC_EDECODE;
    for (size_t i = 0; i < pb->n_severity_ms; i++)
        out->severity_ms[i] = pb->severity_ms[i];
    out->sev_since_ms = pb->sev_since_ms;
    out->resolved_failing = pb->resolved_failing;
    out->plan = (tc_plan_t)pb->plan;
    if (tc_wire__copy_id(out->bridge, sizeof out->bridge, pb->bridge) != 0)
        return TC_ETOOBIG;
    out->disclosure_ic_ms = pb->disclosure_ic_ms;
    out->disclosure_dpo_ms = pb->disclosure_dpo_ms;
    out->progress_ms = pb->progress_ms;
    out->quiet_reminded_ms = pb->quiet_reminded_ms;
    out->postmortem_meeting_ms = pb->postmortem_meeting_ms;
    out->flagged_severity = pb->flagged_severity;
    return 0;
}

int tc_wire_encode_incident(const tc_incident_t *inc, uint8_t **out, size_t *outlen)
{
    s_incident_pb_t *o = malloc(sizeof *o);
    if (!o)
        return TC_ENOMEM;
    s_incident_to_pb(inc, o);
    int rc = tc_wire__pack(&o->pb.base, out, outlen);
    free(o);
    return rc;
}

int tc_wire_decode_incident(const uint8_t *buf, size_t len, tc_incident_t *inc)
{
    Tocsin__V1__Incident *pb = tocsin__v1__incident__unpack(NULL, len, buf);
    if (!pb)
        return TC_EDECODE;
    int rc = s_incident_from_pb(pb, inc);
    tocsin__v1__incident__free_unpacked(pb, NULL);
    return rc;
}

/* ---- status updates, components, maintenance windows ---------------------- */

typedef struct {
    Tocsin__V1__StatusUpdate pb;
    Tocsin__V1__ComponentRef refs[TC_COMPONENTS_MAX];
    Tocsin__V1__ComponentRef *ref_ptrs[TC_COMPONENTS_MAX];
    uint32_t parts[2 * TC_REPORT_PARTS];
} s_update_pb_t;

static void s_update_to_pb(const tc_update_t *u, s_update_pb_t *o)
{
    tocsin__v1__status_update__init(&o->pb);
    o->pb.incident = u->incident;
    o->pb.maintenance = u->maintenance;
    o->pb.number = u->number;
    o->pb.external = u->external;
    o->pb.scenario = (char *)u->scenario;
    o->pb.state = (char *)u->state;
    o->pb.title = (char *)u->title;
    o->pb.body = (char *)u->body;
    size_t n = u->ncomponents > TC_COMPONENTS_MAX ? TC_COMPONENTS_MAX : u->ncomponents;
    for (size_t i = 0; i < n; i++) {
        tocsin__v1__component_ref__init(&o->refs[i]);
        o->refs[i].name = (char *)u->components[i].name;
        o->refs[i].status = (Tocsin__V1__ComponentStatus)u->components[i].status;
        o->ref_ptrs[i] = &o->refs[i];
    }
    o->pb.n_components = n;
    o->pb.components = o->ref_ptrs;
    o->pb.impact = (char *)u->impact;
    o->pb.next_update_ms = u->next_update_ms;
    o->pb.status = u->status;
    o->pb.author = (char *)u->author;
    o->pb.drafted_ms = u->drafted_ms;
    o->pb.approver = (char *)u->approver;
    o->pb.approved_ms = u->approved_ms;
    o->pb.published_ms = u->published_ms;
    o->pb.drill = u->drill;
    o->pb.severity = u->severity;
    o->pb.started_ms = u->started_ms;
    o->pb.eta_ms = u->eta_ms;
    o->pb.restricted = u->restricted;
    if (tc_update_is_report(u)) {
        for (int k = 0; k < TC_REPORT_PARTS; k++) {
            o->parts[2 * k] = u->part_at[k];
            o->parts[2 * k + 1] = u->part_len[k];
        }
        o->pb.n_report_parts = 2 * TC_REPORT_PARTS;
        o->pb.report_parts = o->parts;
    }
}

static int s_update_from_pb(const Tocsin__V1__StatusUpdate *pb, tc_update_t *u)
{
    memset(u, 0, sizeof *u);
    if (!pb)
        return 0;
    u->incident = pb->incident;
    u->maintenance = pb->maintenance;
    u->number = pb->number;
    u->external = pb->external;
    COPY_ID(u->scenario, pb->scenario);
    COPY_ID(u->state, pb->state);
    tc_wire__copy_text(u->title, sizeof u->title, pb->title);
    tc_wire__copy_text(u->body, sizeof u->body, pb->body);
    if (pb->n_components > TC_COMPONENTS_MAX)
        return TC_ETOOBIG;
    for (size_t i = 0; i < pb->n_components; i++) {
        COPY_ID(u->components[i].name, pb->components[i]->name);
        if ((unsigned)pb->components[i]->status > TC_COMP_MAINTENANCE)
            return TC_EDECODE;
        u->components[i].status = (tc_component_status_t)pb->components[i]->status;
    }
    u->ncomponents = pb->n_components;
    COPY_ID(u->impact, pb->impact);
    u->next_update_ms = pb->next_update_ms;
    if (pb->status > TC_UPD_WITHDRAWN)
        return TC_EDECODE;
    u->status = (tc_update_status_t)pb->status;
    COPY_ID(u->author, pb->author);
    u->drafted_ms = pb->drafted_ms;
    COPY_ID(u->approver, pb->approver);
    u->approved_ms = pb->approved_ms;
    u->published_ms = pb->published_ms;
    u->drill = pb->drill;
    u->severity = pb->severity;
    u->started_ms = pb->started_ms;
    u->eta_ms = pb->eta_ms;
    u->restricted = pb->restricted;
    if (pb->n_report_parts != 0 && pb->n_report_parts != 2 * TC_REPORT_PARTS)
        return TC_EDECODE;
    for (size_t i = 0; i < pb->n_report_parts; i++)
        if (pb->report_parts[i] >= TC_BODY_MAX)
            return TC_EDECODE;
    for (size_t k = 0; pb->n_report_parts && k < TC_REPORT_PARTS; k++) {
        u->part_at[k] = (uint16_t)pb->report_parts[2 * k];
        u->part_len[k] = (uint16_t)pb->report_parts[2 * k + 1];
    }
    return 0;
}

static void s_component_to_pb(const tc_component_t *c, Tocsin__V1__Component *pb)
{
    tocsin__v1__component__init(pb);
    pb->name = (char *)c->name;
    pb->description = (char *)c->description;
    pb->status = (Tocsin__V1__ComponentStatus)c->status;
    pb->derived = (Tocsin__V1__ComponentStatus)c->derived;
    pb->overridden = c->overridden;
    pb->changed_ms = c->changed_ms;
}

static int s_component_from_pb(const Tocsin__V1__Component *pb, tc_component_t *c)
{
    memset(c, 0, sizeof *c);
    if (!pb)
        return 0;
    COPY_ID(c->name, pb->name);
    tc_wire__copy_text(c->description, sizeof c->description, pb->description);
    if ((unsigned)pb->status > TC_COMP_MAINTENANCE || (unsigned)pb->derived > TC_COMP_MAINTENANCE)
        return TC_EDECODE;
    c->status = (tc_component_status_t)pb->status;
    c->derived = (tc_component_status_t)pb->derived;
    c->overridden = pb->overridden;
    c->changed_ms = pb->changed_ms;
    return 0;
}

typedef struct {
    Tocsin__V1__Maintenance pb;
    char *components[TC_COMPONENTS_MAX];
} s_maint_pb_t;

static void s_maint_to_pb(const tc_maintenance_t *w, s_maint_pb_t *o)
{
    tocsin__v1__maintenance__init(&o->pb);
    o->pb.id = w->id;
    o->pb.title = (char *)w->title;
    o->pb.state = w->state;
    o->pb.start_ms = w->start_ms;
    o->pb.end_ms = w->end_ms;
    o->pb.every_ms = w->every_ms;
    o->pb.occurrence = w->occurrence;
    size_t n = w->ncomponents > TC_COMPONENTS_MAX ? TC_COMPONENTS_MAX : w->ncomponents;
    for (size_t i = 0; i < n; i++)
        o->components[i] = (char *)w->components[i];
    o->pb.n_components = n;
    o->pb.components = o->components;
    o->pb.description = (char *)w->description;
    o->pb.created_by = (char *)w->created_by;
    o->pb.created_ms = w->created_ms;
    o->pb.verify_ms = w->verify_ms;
    o->pb.drill = w->drill;
}

static int s_maint_from_pb(const Tocsin__V1__Maintenance *pb, tc_maintenance_t *w)
{
    memset(w, 0, sizeof *w);
    if (!pb)
        return 0;
    w->id = pb->id;
    tc_wire__copy_text(w->title, sizeof w->title, pb->title);
    if (pb->state > TC_MAINT_CANCELLED)
        return TC_EDECODE;
    w->state = (tc_maint_state_t)pb->state;
    w->start_ms = pb->start_ms;
    w->end_ms = pb->end_ms;
    w->every_ms = pb->every_ms;
    w->occurrence = pb->occurrence;
    if (pb->n_components > TC_COMPONENTS_MAX)
        return TC_ETOOBIG;
    for (size_t i = 0; i < pb->n_components; i++)
        COPY_ID(w->components[i], pb->components[i]);
    w->ncomponents = pb->n_components;
    tc_wire__copy_text(w->description, sizeof w->description, pb->description);
    COPY_ID(w->created_by, pb->created_by);
    w->created_ms = pb->created_ms;
    w->verify_ms = pb->verify_ms;
    w->drill = pb->drill;
    return 0;
}

/* ---- single objects (snapshots keep them as they are broadcast) -------- */

int tc_wire_encode_update(const tc_update_t *u, uint8_t **out, size_t *outlen)
{
    s_update_pb_t *o = malloc(sizeof *o);
    if (!o)
        return TC_ENOMEM;
    s_update_to_pb(u, o);
    int rc = tc_wire__pack(&o->pb.base, out, outlen);
    free(o);
    return rc;
}

int tc_wire_decode_update(const uint8_t *buf, size_t len, tc_update_t *u)
{
    Tocsin__V1__StatusUpdate *pb = tocsin__v1__status_update__unpack(NULL, len, buf);
    if (!pb)
        return TC_EDECODE;
    int rc = s_update_from_pb(pb, u);
    tocsin__v1__status_update__free_unpacked(pb, NULL);
    return rc;
}

int tc_wire_encode_maintenance(const tc_maintenance_t *w, uint8_t **out, size_t *outlen)
{
    s_maint_pb_t *o = malloc(sizeof *o);
    if (!o)
        return TC_ENOMEM;
    s_maint_to_pb(w, o);
    int rc = tc_wire__pack(&o->pb.base, out, outlen);
    free(o);
    return rc;
}

int tc_wire_decode_maintenance(const uint8_t *buf, size_t len, tc_maintenance_t *w)
{
    Tocsin__V1__Maintenance *pb = tocsin__v1__maintenance__unpack(NULL, len, buf);
    if (!pb)
        return TC_EDECODE;
    int rc = s_maint_from_pb(pb, w);
    tocsin__v1__maintenance__free_unpacked(pb, NULL);
    return rc;
}

/* ---- envelope ---------------------------------------------------------- */

/* Everything a packed Envelope may point into, kept together so encoding
 * needs one allocation whatever the payload. */
typedef struct {
    Tocsin__V1__Envelope env;
    Tocsin__V1__Hello hello;
    Tocsin__V1__Heartbeat hb;
    Tocsin__V1__CheckResult cr;
    Tocsin__V1__PerfData perf[TC_PERF_MAX];
    Tocsin__V1__PerfData *perf_ptrs[TC_PERF_MAX];
    Tocsin__V1__Ack ack;
    Tocsin__V1__Reject reject;
    Tocsin__V1__Broadcast bcast;
    s_incident_pb_t inc;
    Tocsin__V1__HostStatus hs;
    Tocsin__V1__OperatorAction op;
    char *op_args[TC_ACTION_ARGS_MAX];
    Tocsin__V1__TimerFired timer;
    Tocsin__V1__EventsLost lost;
    Tocsin__V1__ConfigRef cref;
    s_update_pb_t update;
    Tocsin__V1__Component component;
    s_maint_pb_t maint;
    Tocsin__V1__Page page;
} s_envelope_pb_t;

/* The Broadcast payload of an envelope `o` (its env member). */
static void s_bcast_to_pb(const tc_broadcast_t *b, s_envelope_pb_t *o)
{
    tocsin__v1__broadcast__init(&o->bcast);
    o->bcast.kind = (Tocsin__V1__Broadcast__Kind)b->kind;
    o->bcast.topic = (char *)b->topic;
    o->bcast.log_seq = b->log_seq;
    if (b->kind == TC_BCAST_INCIDENT_OPENED || b->kind == TC_BCAST_INCIDENT_UPDATED ||
        b->kind == TC_BCAST_INCIDENT_RESOLVED || b->kind == TC_BCAST_PAGE) {
        s_incident_to_pb(&b->incident, &o->inc);
        o->bcast.incident = &o->inc.pb;
    }
    o->bcast.host = (char *)b->host;
    o->bcast.detail = (char *)b->detail;
    if (b->kind == TC_BCAST_REMINDER) {
        s_incident_to_pb(&b->incident, &o->inc);
        o->bcast.incident = &o->inc.pb;
    }
    if (b->kind == TC_BCAST_PAGE || b->kind == TC_BCAST_REMINDER) {
        tc_wire__page_to_pb(&b->page, &o->page);
        o->bcast.page = &o->page;
    }
    if (b->kind == TC_BCAST_STATUS_UPDATE) {
        s_update_to_pb(&b->update, &o->update);
        o->bcast.update = &o->update.pb;
    }
    if (b->kind == TC_BCAST_COMPONENT) {
        s_component_to_pb(&b->component, &o->component);
        o->bcast.component = &o->component;
    }
    if (b->kind == TC_BCAST_MAINTENANCE) {
        s_maint_to_pb(&b->maint, &o->maint);
        o->bcast.maintenance = &o->maint.pb;
    }
    o->env.payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_BROADCAST;
    o->env.broadcast = &o->bcast;
}

static int s_msg_to_pb(const tc_msg_t *m, s_envelope_pb_t *o)
{
    Tocsin__V1__Envelope *e = &o->env;
    tocsin__v1__envelope__init(e);
    e->version = m->version;
    e->sender = (char *)m->sender;
    e->seq = m->seq;
    e->time_ms = m->time_ms;
    switch (m->kind) {
    case TC_MSG_HELLO:
        tocsin__v1__hello__init(&o->hello);
        o->hello.hostname = (char *)m->u.hello.hostname;
        o->hello.agent_version = (char *)m->u.hello.agent_version;
        o->hello.heartbeat_ms = m->u.hello.heartbeat_ms;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_HELLO;
        e->hello = &o->hello;
        break;
    case TC_MSG_HEARTBEAT:
        tocsin__v1__heartbeat__init(&o->hb);
        o->hb.heartbeat_ms = m->u.heartbeat.heartbeat_ms;
        o->hb.last_seq = m->u.heartbeat.last_seq;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_HEARTBEAT;
        e->heartbeat = &o->hb;
        break;
    case TC_MSG_CHECK_RESULT: {
        const tc_check_result_t *c = &m->u.check;
        tocsin__v1__check_result__init(&o->cr);
        o->cr.check = (char *)c->check;
        o->cr.service = (char *)c->service;
        o->cr.host = (char *)c->host;
        o->cr.state = (Tocsin__V1__CheckState)c->state;
        o->cr.output = (char *)c->output;
        size_t np = c->nperf > TC_PERF_MAX ? TC_PERF_MAX : c->nperf;
        for (size_t i = 0; i < np; i++) {
            Tocsin__V1__PerfData *p = &o->perf[i];
            tocsin__v1__perf_data__init(p);
            p->label = (char *)c->perf[i].label;
            p->value = c->perf[i].value;
            p->uom = (char *)c->perf[i].uom;
            p->warn = c->perf[i].warn;
            p->crit = c->perf[i].crit;
            p->min = c->perf[i].min;
            p->max = c->perf[i].max;
            p->present = c->perf[i].present;
            o->perf_ptrs[i] = p;
        }
        o->cr.n_perfdata = np;
        o->cr.perfdata = o->perf_ptrs;
        o->cr.attempt = c->attempt;
        o->cr.max_attempts = c->max_attempts;
        o->cr.hard = c->hard;
        o->cr.flapping = c->flapping;
        o->cr.flap_percent = c->flap_percent;
        o->cr.acknowledged = c->acknowledged;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_CHECK_RESULT;
        e->check_result = &o->cr;
        break;
    }
    case TC_MSG_ACK:
        tocsin__v1__ack__init(&o->ack);
        o->ack.seq = m->u.ack.seq;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_ACK;
        e->ack = &o->ack;
        break;
    case TC_MSG_REJECT:
        tocsin__v1__reject__init(&o->reject);
        o->reject.reason = (Tocsin__V1__Reject__Reason)m->u.reject.reason;
        o->reject.seq = m->u.reject.seq;
        o->reject.detail = (char *)m->u.reject.detail;
        o->reject.resend_from = m->u.reject.resend_from;
        o->reject.retry_after_ms = m->u.reject.retry_after_ms;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_REJECT;
        e->reject = &o->reject;
        break;
    case TC_MSG_BROADCAST: s_bcast_to_pb(&m->u.bcast, o); break;
    case TC_MSG_HOST_STATUS:
        tocsin__v1__host_status__init(&o->hs);
        o->hs.host = (char *)m->u.host_status.host;
        o->hs.up = m->u.host_status.up;
        o->hs.heartbeat_ms = m->u.host_status.heartbeat_ms;
        o->hs.reason = (char *)m->u.host_status.reason;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_HOST_STATUS;
        e->host_status = &o->hs;
        break;
    case TC_MSG_OPERATOR_ACTION: {
        const tc_operator_action_t *a = &m->u.action;
        tocsin__v1__operator_action__init(&o->op);
        o->op.actor = (char *)a->actor;
        o->op.action = (char *)a->action;
        o->op.incident = a->incident;
        size_t n = a->nargs > TC_ACTION_ARGS_MAX ? TC_ACTION_ARGS_MAX : a->nargs;
        for (size_t i = 0; i < n; i++)
            o->op_args[i] = (char *)a->args[i];
        o->op.n_args = n;
        o->op.args = o->op_args;
        o->op.message = (char *)a->message;
        /* An update draft and a public report carry their update. */
        if (!strcmp(a->action, "update") || tc_update_is_report(&a->update)) {
            s_update_to_pb(&a->update, &o->update);
            o->op.update = &o->update.pb;
        }
        if (!strcmp(a->action, "maintenance")) {
            s_maint_to_pb(&a->maint, &o->maint);
            o->op.maintenance = &o->maint.pb;
        }
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_OPERATOR_ACTION;
        e->operator_action = &o->op;
        break;
    }
    case TC_MSG_TIMER:
        tocsin__v1__timer_fired__init(&o->timer);
        o->timer.incident = m->u.timer.incident;
        o->timer.kind = (char *)m->u.timer.kind;
        o->timer.due_ms = m->u.timer.due_ms;
        o->timer.key = (char *)m->u.timer.key;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_TIMER;
        e->timer = &o->timer;
        break;
    case TC_MSG_CONFIG:
        tocsin__v1__config_ref__init(&o->cref);
        o->cref.digest = m->u.config.digest;
        o->cref.source = (char *)m->u.config.source;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_CONFIG;
        e->config = &o->cref;
        break;
    case TC_MSG_EVENTS_LOST: {
        const tc_events_lost_t *l = &m->u.lost;
        tocsin__v1__events_lost__init(&o->lost);
        o->lost.check = (char *)l->check;
        o->lost.service = (char *)l->service;
        o->lost.host = (char *)l->host;
        o->lost.transitions = l->transitions;
        o->lost.first_ms = l->first_ms;
        o->lost.last_ms = l->last_ms;
        o->lost.reason = (char *)l->reason;
        e->payload_case = TOCSIN__V1__ENVELOPE__PAYLOAD_EVENTS_LOST;
        e->events_lost = &o->lost;
        break;
    }
    default: return TC_EINVAL;
    }
    return 0;
}

/* Clears only the header and the member the payload fills: a tc_msg_t is
 * 16 KB (a broadcast carries a whole incident), and clearing all of it for
 * every 100-byte check result was where ingest spent its time. Members
 * other than the one `kind` names are left as they were. */
#define CLEAR(member) memset(&(member), 0, sizeof(member))

static int s_msg_from_pb(const Tocsin__V1__Envelope *e, tc_msg_t *m)
{
    memset(m, 0, offsetof(tc_msg_t, u));
    m->version = e->version;
    COPY_ID(m->sender, e->sender);
    m->seq = e->seq;
    m->time_ms = e->time_ms;
    switch (e->payload_case) {
    case TOCSIN__V1__ENVELOPE__PAYLOAD_HELLO:
        CLEAR(m->u.hello);
        m->kind = TC_MSG_HELLO;
        COPY_ID(m->u.hello.hostname, e->hello->hostname);
        COPY_ID(m->u.hello.agent_version, e->hello->agent_version);
        m->u.hello.heartbeat_ms = e->hello->heartbeat_ms;
        return 0;
    case TOCSIN__V1__ENVELOPE__PAYLOAD_HEARTBEAT:
        CLEAR(m->u.heartbeat);
        m->kind = TC_MSG_HEARTBEAT;
        m->u.heartbeat.heartbeat_ms = e->heartbeat->heartbeat_ms;
        m->u.heartbeat.last_seq = e->heartbeat->last_seq;
        return 0;
    case TOCSIN__V1__ENVELOPE__PAYLOAD_CHECK_RESULT: {
        CLEAR(m->u.check);
        const Tocsin__V1__CheckResult *p = e->check_result;
        tc_check_result_t *c = &m->u.check;
        m->kind = TC_MSG_CHECK_RESULT;
        COPY_ID(c->check, p->check);
        COPY_ID(c->service, p->service);
        COPY_ID(c->host, p->host);
        if ((unsigned)p->state > TC_STATE_UNKNOWN)
            return TC_EDECODE;
        c->state = (tc_check_state_t)p->state;
        tc_wire__copy_text(c->output, sizeof c->output, p->output);
        if (p->n_perfdata > TC_PERF_MAX)
            return TC_ETOOBIG;
        for (size_t i = 0; i < p->n_perfdata; i++) {
            const Tocsin__V1__PerfData *pd = p->perfdata[i];
            COPY_ID(c->perf[i].label, pd->label);
            COPY_ID(c->perf[i].uom, pd->uom);
            c->perf[i].value = pd->value;
            c->perf[i].warn = pd->warn;
            c->perf[i].crit = pd->crit;
            c->perf[i].min = pd->min;
            c->perf[i].max = pd->max;
            c->perf[i].present = pd->present & 0xfu;
        }
        c->nperf = p->n_perfdata;
        c->attempt = p->attempt;
        c->max_attempts = p->max_attempts;
        c->hard = p->hard;
        c->flapping = p->flapping;
        c->flap_percent = p->flap_percent;
        c->acknowledged = p->acknowledged;
        return 0;
    }
    case TOCSIN__V1__ENVELOPE__PAYLOAD_ACK:
        CLEAR(m->u.ack);
        m->kind = TC_MSG_ACK;
        m->u.ack.seq = e->ack->seq;
        return 0;
    case TOCSIN__V1__ENVELOPE__PAYLOAD_REJECT:
        CLEAR(m->u.reject);
        m->kind = TC_MSG_REJECT;
        m->u.reject.reason = (unsigned)e->reject->reason <= TC_REJECT_THROTTLED
                                 ? (tc_reject_reason_t)e->reject->reason
                                 : TC_REJECT_UNSPECIFIED;
        m->u.reject.seq = e->reject->seq;
        tc_wire__copy_text(m->u.reject.detail, sizeof m->u.reject.detail, e->reject->detail);
        m->u.reject.resend_from = e->reject->resend_from;
        m->u.reject.retry_after_ms = e->reject->retry_after_ms;
        return 0;
    case TOCSIN__V1__ENVELOPE__PAYLOAD_BROADCAST: {
        CLEAR(m->u.bcast);
        const Tocsin__V1__Broadcast *p = e->broadcast;
        tc_broadcast_t *b = &m->u.bcast;
        m->kind = TC_MSG_BROADCAST;
        if ((unsigned)p->kind > TC_BCAST_REMINDER)
            return TC_EDECODE;
        b->kind = (tc_bcast_kind_t)p->kind;
        COPY_ID(b->topic, p->topic);
        b->log_seq = p->log_seq;
        int rc = s_incident_from_pb(p->incident, &b->incident);
        if (rc != 0)
            return rc;
        COPY_ID(b->host, p->host);
        tc_wire__copy_text(b->detail, sizeof b->detail, p->detail);
        if ((rc = s_update_from_pb(p->update, &b->update)) != 0 ||
            (rc = s_component_from_pb(p->component, &b->component)) != 0 ||
            (rc = tc_wire__page_from_pb(p->page, &b->page)) != 0)
            return rc;
        return s_maint_from_pb(p->maintenance, &b->maint);
    }
    case TOCSIN__V1__ENVELOPE__PAYLOAD_HOST_STATUS:
        CLEAR(m->u.host_status);
        m->kind = TC_MSG_HOST_STATUS;
        COPY_ID(m->u.host_status.host, e->host_status->host);
        m->u.host_status.up = e->host_status->up;
        m->u.host_status.heartbeat_ms = e->host_status->heartbeat_ms;
        tc_wire__copy_text(m->u.host_status.reason, sizeof m->u.host_status.reason,
                           e->host_status->reason);
        return 0;
    case TOCSIN__V1__ENVELOPE__PAYLOAD_OPERATOR_ACTION: {
        CLEAR(m->u.action);
        const Tocsin__V1__OperatorAction *p = e->operator_action;
        tc_operator_action_t *a = &m->u.action;
        m->kind = TC_MSG_OPERATOR_ACTION;
        COPY_ID(a->actor, p->actor);
        COPY_ID(a->action, p->action);
        a->incident = p->incident;
        if (p->n_args > TC_ACTION_ARGS_MAX)
            return TC_ETOOBIG;
        for (size_t i = 0; i < p->n_args; i++)
            COPY_ID(a->args[i], p->args[i]);
        a->nargs = p->n_args;
        tc_wire__copy_text(a->message, sizeof a->message, p->message);
        int rc = s_update_from_pb(p->update, &a->update);
        return rc ? rc : s_maint_from_pb(p->maintenance, &a->maint);
    }
    case TOCSIN__V1__ENVELOPE__PAYLOAD_TIMER:
        CLEAR(m->u.timer);
        m->kind = TC_MSG_TIMER;
        m->u.timer.incident = e->timer->incident;
        COPY_ID(m->u.timer.kind, e->timer->kind);
        m->u.timer.due_ms = e->timer->due_ms;
        COPY_ID(m->u.timer.key, e->timer->key);
        return 0;
    case TOCSIN__V1__ENVELOPE__PAYLOAD_CONFIG:
        CLEAR(m->u.config);
        m->kind = TC_MSG_CONFIG;
        m->u.config.digest = e->config->digest;
        tc_wire__copy_text(m->u.config.source, sizeof m->u.config.source, e->config->source);
        return 0;
    case TOCSIN__V1__ENVELOPE__PAYLOAD_EVENTS_LOST: {
        CLEAR(m->u.lost);
        const Tocsin__V1__EventsLost *p = e->events_lost;
        tc_events_lost_t *l = &m->u.lost;
        m->kind = TC_MSG_EVENTS_LOST;
        COPY_ID(l->check, p->check);
        COPY_ID(l->service, p->service);
        COPY_ID(l->host, p->host);
        l->transitions = p->transitions;
        l->first_ms = p->first_ms;
        l->last_ms = p->last_ms;
        tc_wire__copy_text(l->reason, sizeof l->reason, p->reason);
        return 0;
    }
    default: return TC_EDECODE;
    }
}

int tc_wire_encode_msg(const tc_msg_t *m, uint8_t **out, size_t *outlen)
{
    s_envelope_pb_t *o = malloc(sizeof *o);
    if (!o)
        return TC_ENOMEM;
    int rc = s_msg_to_pb(m, o);
    if (rc == 0)
        rc = tc_wire__pack(&o->env.base, out, outlen);
    free(o);
    return rc;
}

int tc_wire_decode_msg(const uint8_t *buf, size_t len, tc_msg_t *m)
{
    if (tc_wire__fast_msg(buf, len, m))
        return 0;
    return tc_wire_decode_msg_generic(buf, len, m);
}

int tc_wire_decode_msg_generic(const uint8_t *buf, size_t len, tc_msg_t *m)
{
    memset(m, 0, offsetof(tc_msg_t, u));
    Tocsin__V1__Envelope *e = tocsin__v1__envelope__unpack(NULL, len, buf);
    if (!e)
        return TC_EDECODE;
    int rc = s_msg_from_pb(e, m);
    tocsin__v1__envelope__free_unpacked(e, NULL);
    return rc;
}

/* ---- log records --------------------------------------------------------- */

int tc_wire_encode_record(const tc_record_t *r, uint8_t **out, size_t *outlen)
{
    s_envelope_pb_t *o = malloc(sizeof *o);
    if (!o)
        return TC_ENOMEM;
    int rc = s_msg_to_pb(&r->event, o);
    if (rc == 0) {
        Tocsin__V1__LogRecord lr;
        tocsin__v1__log_record__init(&lr);
        lr.seq = r->seq;
        lr.received_ms = r->received_ms;
        lr.time_ms = r->time_ms;
        lr.event = &o->env;
        rc = tc_wire__pack(&lr.base, out, outlen);
    }
    free(o);
    return rc;
}

static size_t s_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int tc_wire_encode_record_raw(const tc_record_t *r, const uint8_t *env, size_t env_len,
                              uint8_t **out, size_t *outlen)
{
    /* LogRecord by hand: 1 seq, 2 received_ms, 3 event (bytes as they
     * came), 4 time_ms; protobuf decodes fields in any order. */
    uint8_t *buf = malloc(env_len + 48);
    if (!buf)
        return TC_ENOMEM;
    size_t n = 0;
    buf[n++] = 1 << 3 | 0;
    n += s_varint(buf + n, r->seq);
    buf[n++] = 2 << 3 | 0;
    n += s_varint(buf + n, (uint64_t)r->received_ms);
    buf[n++] = 3 << 3 | 2;
    n += s_varint(buf + n, env_len);
    memcpy(buf + n, env, env_len);
    n += env_len;
    buf[n++] = 4 << 3 | 0;
    n += s_varint(buf + n, (uint64_t)r->time_ms);
    *out = buf;
    *outlen = n;
    return 0;
}

int tc_wire_append_bcast(tc_buf_t *buf, uint64_t seq, int64_t time_ms, const tc_broadcast_t *b,
                         size_t *off, size_t *len)
{
    s_envelope_pb_t *o = malloc(sizeof *o);
    if (!o)
        return TC_ENOMEM;
    tocsin__v1__envelope__init(&o->env);
    o->env.version = TC_PROTOCOL_VERSION;
    o->env.sender = (char *)TC_COORDINATOR_ID;
    o->env.seq = seq;
    o->env.time_ms = time_ms;
    s_bcast_to_pb(b, o);
    size_t n = protobuf_c_message_get_packed_size(&o->env.base);
    int rc = tc_buf_reserve(buf, n);
    if (rc == 0) {
        protobuf_c_message_pack(&o->env.base, buf->data + buf->len);
        *off = buf->len;
        *len = n;
        buf->len += n;
    }
    free(o);
    return rc;
}

static int s_record_from_pb(const Tocsin__V1__LogRecord *lr, tc_record_t *r)
{
    memset(r, 0, offsetof(tc_record_t, event));
    if (!lr->event)
        return TC_EDECODE;
    r->seq = lr->seq;
    r->received_ms = lr->received_ms;
    r->time_ms = lr->time_ms ? lr->time_ms : lr->received_ms;
    return s_msg_from_pb(lr->event, &r->event);
}

int tc_wire_decode_record(const uint8_t *buf, size_t len, tc_record_t *r)
{
    if (tc_wire__fast_record(buf, len, r))
        return 0;
    return tc_wire_decode_record_generic(buf, len, r);
}

int tc_wire_decode_record_generic(const uint8_t *buf, size_t len, tc_record_t *r)
{
    Tocsin__V1__LogRecord *lr = tocsin__v1__log_record__unpack(NULL, len, buf);
    if (!lr)
        return TC_EDECODE;
    int rc = s_record_from_pb(lr, r);
    tocsin__v1__log_record__free_unpacked(lr, NULL);
    return rc;
}

/* ---- timeline ------------------------------------------------------------- */

static void s_timeline_to_pb(const tc_timeline_t *t, Tocsin__V1__TimelineEntry *pb)
{
    tocsin__v1__timeline_entry__init(pb);
    pb->incident = t->incident;
    pb->time_ms = t->time_ms;
    pb->log_seq = t->log_seq;
    pb->actor = (char *)t->actor;
    pb->kind = (char *)t->kind;
    pb->text = (char *)t->text;
}

static int s_timeline_from_pb(const Tocsin__V1__TimelineEntry *pb, tc_timeline_t *t)
{
    memset(t, 0, sizeof *t);
    t->incident = pb->incident;
    t->time_ms = pb->time_ms;
    t->log_seq = pb->log_seq;
    COPY_ID(t->actor, pb->actor);
    COPY_ID(t->kind, pb->kind);
    tc_wire__copy_text(t->text, sizeof t->text, pb->text);
    return 0;
}

int tc_wire_encode_timeline(const tc_timeline_t *t, uint8_t **out, size_t *outlen)
{
    Tocsin__V1__TimelineEntry pb;
    s_timeline_to_pb(t, &pb);
    return tc_wire__pack(&pb.base, out, outlen);
}

int tc_wire_decode_timeline(const uint8_t *buf, size_t len, tc_timeline_t *t)
{
    Tocsin__V1__TimelineEntry *pb = tocsin__v1__timeline_entry__unpack(NULL, len, buf);
    if (!pb)
        return TC_EDECODE;
    int rc = s_timeline_from_pb(pb, t);
    tocsin__v1__timeline_entry__free_unpacked(pb, NULL);
    return rc;
}

/* ---- audit ---------------------------------------------------------------- */

static void s_audit_to_pb(const tc_audit_t *a, Tocsin__V1__AuditRecord *pb)
{
    tocsin__v1__audit_record__init(pb);
    pb->seq = a->seq;
    pb->time_ms = a->time_ms;
    pb->actor = (char *)a->actor;
    pb->actor_class = (char *)a->actor_class;
    pb->public_key = (char *)a->public_key;
    pb->action = (char *)a->action;
    pb->detail = (char *)a->detail;
    pb->allowed = a->allowed;
}

static int s_audit_from_pb(const Tocsin__V1__AuditRecord *pb, tc_audit_t *a)
{
    memset(a, 0, sizeof *a);
    a->seq = pb->seq;
    a->time_ms = pb->time_ms;
    COPY_ID(a->actor, pb->actor);
    COPY_ID(a->actor_class, pb->actor_class);
    COPY_ID(a->public_key, pb->public_key);
    COPY_ID(a->action, pb->action);
    tc_wire__copy_text(a->detail, sizeof a->detail, pb->detail);
    a->allowed = pb->allowed;
    return 0;
}

int tc_wire_encode_audit(const tc_audit_t *a, uint8_t **out, size_t *outlen)
{
    Tocsin__V1__AuditRecord pb;
    s_audit_to_pb(a, &pb);
    return tc_wire__pack(&pb.base, out, outlen);
}

int tc_wire_decode_audit(const uint8_t *buf, size_t len, tc_audit_t *a)
{
    Tocsin__V1__AuditRecord *pb = tocsin__v1__audit_record__unpack(NULL, len, buf);
    if (!pb)
        return TC_EDECODE;
    int rc = s_audit_from_pb(pb, a);
    tocsin__v1__audit_record__free_unpacked(pb, NULL);
    return rc;
}

/* ---- API requests -------------------------------------------------------- */

int tc_wire_encode_request(const tc_api_request_t *q, uint8_t **out, size_t *outlen)
{
    Tocsin__V1__ApiRequest pb;
    tocsin__v1__api_request__init(&pb);
    char *args[TC_API_ARGS_MAX];
    size_t n = q->nargs > TC_API_ARGS_MAX ? TC_API_ARGS_MAX : q->nargs;
    for (size_t i = 0; i < n; i++)
        args[i] = (char *)q->args[i];
    pb.version = q->version;
    pb.command = (char *)q->command;
    pb.n_args = n;
    pb.args = args;
    pb.from = q->from;
    pb.limit = q->limit;
    pb.all = q->all;
    pb.message = (char *)q->message;
    pb.as_of_seq = q->as_of_seq;
    pb.as_of_ms = q->as_of_ms;
    return tc_wire__pack(&pb.base, out, outlen);
}

static int s_request_from_pb(const Tocsin__V1__ApiRequest *pb, tc_api_request_t *q)
{
    q->version = pb->version;
    COPY_ID(q->command, pb->command);
    if (pb->n_args > TC_API_ARGS_MAX)
        return TC_ETOOBIG;
    for (size_t i = 0; i < pb->n_args; i++)
        COPY_ID(q->args[i], pb->args[i]);
    q->nargs = pb->n_args;
    q->from = pb->from;
    q->limit = pb->limit;
    q->all = pb->all;
    /* A text that does not fit is refused, not cut: the sender is told. */
    if (pb->message && strlen(pb->message) >= sizeof q->message)
        return TC_ETOOBIG;
    tc_wire__copy_text(q->message, sizeof q->message, pb->message);
    q->as_of_seq = pb->as_of_seq;
    q->as_of_ms = pb->as_of_ms;
    return 0;
}

int tc_wire_decode_request(const uint8_t *buf, size_t len, tc_api_request_t *q)
{
    memset(q, 0, sizeof *q);
    Tocsin__V1__ApiRequest *pb = tocsin__v1__api_request__unpack(NULL, len, buf);
    if (!pb)
        return TC_EDECODE;
    int rc = s_request_from_pb(pb, q);
    tocsin__v1__api_request__free_unpacked(pb, NULL);
    return rc;
}

/* ---- API replies --------------------------------------------------------- */

tc_api_reply_t *tc_api_reply_new(void)
{
    tc_api_reply_t *r = calloc(1, sizeof *r);
    if (r)
        r->ok = true;
    return r;
}

void tc_api_reply_destroy(tc_api_reply_t **preply)
{
    if (!preply || !*preply)
        return;
    tc_api_reply_t *r = *preply;
    free(r->status.hosts);
    free(r->incidents);
    free(r->log);
    free(r->broadcasts);
    free(r->audit);
    free(r->timeline);
    free(r->oncall);
    free(r->updates);
    free(r->components);
    free(r->maints);
    free(r->subs);
    free(r->people);
    free(r->pages);
    free(r);
    *preply = NULL;
}

/* Appends one element to a growable array. The capacity is implied by the
 * count (4, 8, 16, ...), so the reply needs no capacity fields. */
static int s_push(void **arr, size_t *n, size_t elem, const void *item)
{
    size_t cap = 4;
    while (cap < *n)
        cap *= 2;
    if (*n == 0 || *n == cap) {
        size_t ncap = *n == 0 ? 4 : cap * 2;
        void *p = realloc(*arr, ncap * elem);
        if (!p)
            return TC_ENOMEM;
        *arr = p;
    }
    memcpy((char *)*arr + *n * elem, item, elem);
    (*n)++;
    return 0;
}

int tc_api_reply_add_incident(tc_api_reply_t *r, const tc_incident_t *inc)
{
    return s_push((void **)&r->incidents, &r->nincidents, sizeof *inc, inc);
}

int tc_api_reply_add_record(tc_api_reply_t *r, const tc_record_t *rec)
{
    return s_push((void **)&r->log, &r->nlog, sizeof *rec, rec);
}

int tc_api_reply_add_broadcast(tc_api_reply_t *r, const tc_msg_t *m)
{
    return s_push((void **)&r->broadcasts, &r->nbroadcasts, sizeof *m, m);
}

int tc_api_reply_add_audit(tc_api_reply_t *r, const tc_audit_t *a)
{
    return s_push((void **)&r->audit, &r->naudit, sizeof *a, a);
}

int tc_api_reply_add_timeline(tc_api_reply_t *r, const tc_timeline_t *t)
{
    return s_push((void **)&r->timeline, &r->ntimeline, sizeof *t, t);
}

int tc_api_reply_add_oncall(tc_api_reply_t *r, const tc_oncall_t *o)
{
    return s_push((void **)&r->oncall, &r->noncall, sizeof *o, o);
}

int tc_api_reply_add_update(tc_api_reply_t *r, const tc_update_t *u)
{
    return s_push((void **)&r->updates, &r->nupdates, sizeof *u, u);
}

int tc_api_reply_add_component(tc_api_reply_t *r, const tc_component_t *c)
{
    return s_push((void **)&r->components, &r->ncomponents, sizeof *c, c);
}

int tc_api_reply_add_maintenance(tc_api_reply_t *r, const tc_maintenance_t *w)
{
    return s_push((void **)&r->maints, &r->nmaints, sizeof *w, w);
}

int tc_api_reply_add_sub(tc_api_reply_t *r, const tc_sub_stat_t *st)
{
    return s_push((void **)&r->subs, &r->nsubs, sizeof *st, st);
}

int tc_api_reply_add_person(tc_api_reply_t *r, const tc_person_t *p)
{
    return s_push((void **)&r->people, &r->npeople, sizeof *p, p);
}

int tc_api_reply_add_page_stat(tc_api_reply_t *r, const tc_page_stat_t *st)
{
    return s_push((void **)&r->pages, &r->npages, sizeof *st, st);
}

int tc_api_reply_add_host(tc_api_reply_t *r, const tc_host_info_t *h)
{
    return s_push((void **)&r->status.hosts, &r->status.nhosts, sizeof *h, h);
}

void tc_api_reply_fail(tc_api_reply_t *r, const char *fmt, ...)
{
    r->ok = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

int tc_wire_encode_reply(const tc_api_reply_t *r, uint8_t **out, size_t *outlen)
{
    int rc = TC_ENOMEM;
    Tocsin__V1__ApiReply pb;
    tocsin__v1__api_reply__init(&pb);
    pb.ok = r->ok;
    pb.error = (char *)r->error;
    pb.more = r->more;

    Tocsin__V1__Status st;
    Tocsin__V1__HostInfo *hosts = NULL, **host_ptrs = NULL;
    s_incident_pb_t *incs = NULL;
    Tocsin__V1__Incident **inc_ptrs = NULL;
    s_envelope_pb_t *envs = NULL;
    Tocsin__V1__LogRecord *recs = NULL, **rec_ptrs = NULL;
    Tocsin__V1__Envelope **bc_ptrs = NULL;
    Tocsin__V1__AuditRecord *aud = NULL, **aud_ptrs = NULL;
    Tocsin__V1__TimelineEntry *tl = NULL, **tl_ptrs = NULL;
    Tocsin__V1__OncallEntry *oc = NULL, **oc_ptrs = NULL;
    s_update_pb_t *ups = NULL;
    Tocsin__V1__StatusUpdate **up_ptrs = NULL;
    Tocsin__V1__Component *comps = NULL, **comp_ptrs = NULL;
    s_maint_pb_t *mws = NULL;
    Tocsin__V1__Maintenance **mw_ptrs = NULL;
    Tocsin__V1__SubscriberStat *subs = NULL, **sub_ptrs = NULL;
    tc_wire__paging_t *paging = NULL;
    size_t nenv = r->nlog + r->nbroadcasts;

    if (r->has_status) {
        tocsin__v1__status__init(&st);
        st.version = (char *)r->status.version;
        st.started_ms = r->status.started_ms;
        st.log_seq = r->status.log_seq;
        st.broadcast_seq = r->status.broadcast_seq;
        st.open_incidents = r->status.open_incidents;
        st.accepted = r->status.accepted;
        st.duplicates = r->status.duplicates;
        st.rejected = r->status.rejected;
        st.denied = r->status.denied;
        st.throttled = r->status.throttled;
        st.deferred = r->status.deferred;
        st.storage = (char *)r->status.storage;
        st.storage_error = (char *)r->status.storage_error;
        st.storage_used = r->status.storage_used;
        st.storage_map = r->status.storage_map;
        st.storage_max = r->status.storage_max;
        hosts = calloc(r->status.nhosts + 1, sizeof *hosts);
        host_ptrs = calloc(r->status.nhosts + 1, sizeof *host_ptrs);
        if (!hosts || !host_ptrs)
            goto done;
        for (size_t i = 0; i < r->status.nhosts; i++) {
            tocsin__v1__host_info__init(&hosts[i]);
            hosts[i].host = r->status.hosts[i].host;
            hosts[i].up = r->status.hosts[i].up;
            hosts[i].last_seen_ms = r->status.hosts[i].last_seen_ms;
            hosts[i].heartbeat_ms = r->status.hosts[i].heartbeat_ms;
            host_ptrs[i] = &hosts[i];
        }
        st.n_hosts = r->status.nhosts;
        st.hosts = host_ptrs;
        pb.status = &st;
    }
    incs = calloc(r->nincidents + 1, sizeof *incs);
    inc_ptrs = calloc(r->nincidents + 1, sizeof *inc_ptrs);
    envs = calloc(nenv + 1, sizeof *envs);
    recs = calloc(r->nlog + 1, sizeof *recs);
    rec_ptrs = calloc(r->nlog + 1, sizeof *rec_ptrs);
    bc_ptrs = calloc(r->nbroadcasts + 1, sizeof *bc_ptrs);
    aud = calloc(r->naudit + 1, sizeof *aud);
    aud_ptrs = calloc(r->naudit + 1, sizeof *aud_ptrs);
    tl = calloc(r->ntimeline + 1, sizeof *tl);
    tl_ptrs = calloc(r->ntimeline + 1, sizeof *tl_ptrs);
    if (!incs || !inc_ptrs || !envs || !recs || !rec_ptrs || !bc_ptrs || !aud || !aud_ptrs || !tl ||
        !tl_ptrs)
        goto done;
    for (size_t i = 0; i < r->ntimeline; i++) {
        s_timeline_to_pb(&r->timeline[i], &tl[i]);
        tl_ptrs[i] = &tl[i];
    }
    pb.n_timeline = r->ntimeline;
    pb.timeline = tl_ptrs;
    oc = calloc(r->noncall + 1, sizeof *oc);
    oc_ptrs = calloc(r->noncall + 1, sizeof *oc_ptrs);
    if (!oc || !oc_ptrs) {
        rc = TC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < r->noncall; i++) {
        tocsin__v1__oncall_entry__init(&oc[i]);
        oc[i].scope = r->oncall[i].scope;
        oc[i].person = r->oncall[i].person;
        oc[i].until_ms = r->oncall[i].until_ms;
        oc_ptrs[i] = &oc[i];
    }
    pb.n_oncall = r->noncall;
    pb.oncall = oc_ptrs;
    ups = calloc(r->nupdates + 1, sizeof *ups);
    up_ptrs = calloc(r->nupdates + 1, sizeof *up_ptrs);
    comps = calloc(r->ncomponents + 1, sizeof *comps);
    comp_ptrs = calloc(r->ncomponents + 1, sizeof *comp_ptrs);
    mws = calloc(r->nmaints + 1, sizeof *mws);
    mw_ptrs = calloc(r->nmaints + 1, sizeof *mw_ptrs);
    if (!ups || !up_ptrs || !comps || !comp_ptrs || !mws || !mw_ptrs) {
        rc = TC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < r->nupdates; i++) {
        s_update_to_pb(&r->updates[i], &ups[i]);
        up_ptrs[i] = &ups[i].pb;
    }
    pb.n_updates = r->nupdates;
    pb.updates = up_ptrs;
    for (size_t i = 0; i < r->ncomponents; i++) {
        s_component_to_pb(&r->components[i], &comps[i]);
        comp_ptrs[i] = &comps[i];
    }
    pb.n_components = r->ncomponents;
    pb.components = comp_ptrs;
    for (size_t i = 0; i < r->nmaints; i++) {
        s_maint_to_pb(&r->maints[i], &mws[i]);
        mw_ptrs[i] = &mws[i].pb;
    }
    pb.n_maintenances = r->nmaints;
    pb.maintenances = mw_ptrs;
    subs = calloc(r->nsubs + 1, sizeof *subs);
    sub_ptrs = calloc(r->nsubs + 1, sizeof *sub_ptrs);
    if (!subs || !sub_ptrs) {
        rc = TC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < r->nsubs; i++) {
        tocsin__v1__subscriber_stat__init(&subs[i]);
        subs[i].name = r->subs[i].name;
        subs[i].delivered = r->subs[i].delivered;
        subs[i].failed = r->subs[i].failed;
        subs[i].latency_total_ms = r->subs[i].latency_total_ms;
        subs[i].last_ms = r->subs[i].last_ms;
        subs[i].last_result = r->subs[i].last_result;
        subs[i].last_detail = r->subs[i].last_detail;
        subs[i].failing = r->subs[i].failing;
        subs[i].failing_since_ms = r->subs[i].failing_since_ms;
        subs[i].failing_detail = r->subs[i].failing_detail;
        sub_ptrs[i] = &subs[i];
    }
    pb.n_subscribers = r->nsubs;
    pb.subscribers = sub_ptrs;
    for (size_t i = 0; i < r->naudit; i++) {
        s_audit_to_pb(&r->audit[i], &aud[i]);
        aud_ptrs[i] = &aud[i];
    }
    pb.n_audit = r->naudit;
    pb.audit = aud_ptrs;
    for (size_t i = 0; i < r->nincidents; i++) {
        s_incident_to_pb(&r->incidents[i], &incs[i]);
        inc_ptrs[i] = &incs[i].pb;
    }
    pb.n_incidents = r->nincidents;
    pb.incidents = inc_ptrs;
    for (size_t i = 0; i < r->nlog; i++) {
        rc = s_msg_to_pb(&r->log[i].event, &envs[i]);
        if (rc != 0)
            goto done;
        tocsin__v1__log_record__init(&recs[i]);
        recs[i].seq = r->log[i].seq;
        recs[i].received_ms = r->log[i].received_ms;
        recs[i].event = &envs[i].env;
        rec_ptrs[i] = &recs[i];
    }
    pb.n_log = r->nlog;
    pb.log = rec_ptrs;
    for (size_t i = 0; i < r->nbroadcasts; i++) {
        rc = s_msg_to_pb(&r->broadcasts[i], &envs[r->nlog + i]);
        if (rc != 0)
            goto done;
        bc_ptrs[i] = &envs[r->nlog + i].env;
    }
    pb.n_broadcasts = r->nbroadcasts;
    pb.broadcasts = bc_ptrs;
    if ((rc = tc_wire__paging_to_pb(r, &pb, &paging)) == 0)
        rc = tc_wire__pack(&pb.base, out, outlen);
done:
    tc_wire__paging_free(&paging);
    free(hosts);
    free(host_ptrs);
    free(incs);
    free(inc_ptrs);
    free(envs);
    free(recs);
    free(rec_ptrs);
    free(bc_ptrs);
    free(aud);
    free(aud_ptrs);
    free(tl);
    free(tl_ptrs);
    free(oc);
    free(oc_ptrs);
    free(ups);
    free(up_ptrs);
    free(comps);
    free(comp_ptrs);
    free(mws);
    free(mw_ptrs);
    free(subs);
    free(sub_ptrs);
    return rc;
}

static int s_reply_from_pb(const Tocsin__V1__ApiReply *pb, tc_api_reply_t *r)
{
    int rc;
    r->ok = pb->ok;
    tc_wire__copy_text(r->error, sizeof r->error, pb->error);
    r->more = pb->more;
    if (pb->status) {
        const Tocsin__V1__Status *st = pb->status;
        r->has_status = true;
        COPY_ID(r->status.version, st->version);
        r->status.started_ms = st->started_ms;
        r->status.log_seq = st->log_seq;
        r->status.broadcast_seq = st->broadcast_seq;
        r->status.open_incidents = st->open_incidents;
        r->status.accepted = st->accepted;
        r->status.duplicates = st->duplicates;
        r->status.rejected = st->rejected;
        r->status.denied = st->denied;
        r->status.throttled = st->throttled;
        r->status.deferred = st->deferred;
        COPY_ID(r->status.storage, st->storage);
        tc_wire__copy_text(r->status.storage_error, sizeof r->status.storage_error,
                           st->storage_error);
        r->status.storage_used = st->storage_used;
        r->status.storage_map = st->storage_map;
        r->status.storage_max = st->storage_max;
        for (size_t i = 0; i < st->n_hosts; i++) {
            tc_host_info_t h = {0};
            COPY_ID(h.host, st->hosts[i]->host);
            h.up = st->hosts[i]->up;
            h.last_seen_ms = st->hosts[i]->last_seen_ms;
            h.heartbeat_ms = st->hosts[i]->heartbeat_ms;
            if ((rc = tc_api_reply_add_host(r, &h)) != 0)
                return rc;
        }
    }
    tc_incident_t *inc = malloc(sizeof *inc);
    tc_record_t *rec = malloc(sizeof *rec);
    rc = (inc && rec) ? 0 : TC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < pb->n_incidents; i++) {
        rc = s_incident_from_pb(pb->incidents[i], inc);
        if (rc == 0)
            rc = tc_api_reply_add_incident(r, inc);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_log; i++) {
        rc = s_record_from_pb(pb->log[i], rec);
        if (rc == 0)
            rc = tc_api_reply_add_record(r, rec);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_oncall; i++) {
        tc_oncall_t o = {0};
        COPY_ID(o.scope, pb->oncall[i]->scope);
        COPY_ID(o.person, pb->oncall[i]->person);
        o.until_ms = pb->oncall[i]->until_ms;
        rc = tc_api_reply_add_oncall(r, &o);
    }
    tc_update_t *u = malloc(sizeof *u);
    if (!u)
        rc = TC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < pb->n_updates; i++) {
        rc = s_update_from_pb(pb->updates[i], u);
        if (rc == 0)
            rc = tc_api_reply_add_update(r, u);
    }
    free(u);
    for (size_t i = 0; rc == 0 && i < pb->n_components; i++) {
        tc_component_t c;
        rc = s_component_from_pb(pb->components[i], &c);
        if (rc == 0)
            rc = tc_api_reply_add_component(r, &c);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_subscribers; i++) {
        const Tocsin__V1__SubscriberStat *p = pb->subscribers[i];
        tc_sub_stat_t st = {0};
        if (tc_wire__copy_id(st.name, sizeof st.name, p->name) ||
            tc_wire__copy_id(st.last_result, sizeof st.last_result, p->last_result))
            return TC_ETOOBIG;
        st.delivered = p->delivered;
        st.failed = p->failed;
        st.latency_total_ms = p->latency_total_ms;
        st.last_ms = p->last_ms;
        tc_wire__copy_text(st.last_detail, sizeof st.last_detail, p->last_detail);
        st.failing = p->failing;
        st.failing_since_ms = p->failing_since_ms;
        tc_wire__copy_text(st.failing_detail, sizeof st.failing_detail, p->failing_detail);
        rc = tc_api_reply_add_sub(r, &st);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_maintenances; i++) {
        tc_maintenance_t w;
        rc = s_maint_from_pb(pb->maintenances[i], &w);
        if (rc == 0)
            rc = tc_api_reply_add_maintenance(r, &w);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_timeline; i++) {
        tc_timeline_t t;
        rc = s_timeline_from_pb(pb->timeline[i], &t);
        if (rc == 0)
            rc = tc_api_reply_add_timeline(r, &t);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_audit; i++) {
        tc_audit_t a;
        rc = s_audit_from_pb(pb->audit[i], &a);
        if (rc == 0)
            rc = tc_api_reply_add_audit(r, &a);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_broadcasts; i++) {
        rc = s_msg_from_pb(pb->broadcasts[i], &rec->event);
        if (rc == 0)
            rc = tc_api_reply_add_broadcast(r, &rec->event);
    }
    if (rc == 0)
        rc = tc_wire__paging_from_pb(pb, r);
    free(inc);
    free(rec);
    return rc;
}

int tc_wire_decode_reply(const uint8_t *buf, size_t len, tc_api_reply_t **preply)
{
    Tocsin__V1__ApiReply *pb = tocsin__v1__api_reply__unpack(NULL, len, buf);
    if (!pb)
        return TC_EDECODE;
    tc_api_reply_t *r = tc_api_reply_new();
    int rc = r ? s_reply_from_pb(pb, r) : TC_ENOMEM;
    tocsin__v1__api_reply__free_unpacked(pb, NULL);
    if (rc != 0) {
        tc_api_reply_destroy(&r);
        return rc;
    }
    *preply = r;
    return 0;
}
