/*
 * state_impl.h - what the state machine's two halves share: state.c (checks,
 * hosts, the incident lifecycle, deadlines) and state_comms.c (the communication
 * plan: status updates, components, maintenance windows, drills).
 *
 * Private to coordinator/state.c and state_comms.c; nothing else includes it.
 * Names follow libuv's convention for internals: tc_state__*.
 */
#ifndef TC_STATE_IMPL_H
#define TC_STATE_IMPL_H

#include "state.h"

#include <czmq.h>

/* Who the state machine's own decisions are recorded as. */
#define TC_STATE_ACTOR "tocsin"

/* A check's last hard state, as the state machine counts it. */
typedef struct {
    char host[TC_ID_MAX];
    char check[TC_ID_MAX];
    char service[TC_ID_MAX];
    tc_check_state_t state; /* last hard state; a new check counts as OK */
    uint32_t users;         /* "users" perfdata of that result, 0 if none */
    bool flapping;          /* the agent says it keeps changing state */
    /* The output of its last hard result while not OK ("" while OK): what
     * the guard keeps out of external texts (state_guard.c). */
    char output[TC_TEXT_MAX];
} tc_state__check_t;

/* An incident that left its service's live slots (a newer one of the
 * service resolved after it): kept encoded, a few hundred bytes instead of
 * a 9.5 KB struct, and decoded when it is read or acted on. */
typedef struct {
    uint8_t *buf;
    uint32_t len;
} tc_state__frozen_t;

/* A post-mortem reminder still owed by an archived incident. */
typedef struct {
    uint64_t id;
    int64_t due_ms;
} tc_state__owed_t;

typedef struct {
    char name[TC_ID_MAX];
    uint32_t failing;        /* checks of this service not OK */
    zhashx_t *failing_hosts; /* host -> number of its failing checks */
    uint64_t perf_users;     /* sum of `users` over failing checks */
    uint32_t flapping;       /* checks of this service flapping */
    tc_incident_t *open;     /* the open incident, or NULL */
    tc_incident_t *resolved; /* the most recently resolved one, or NULL */
    /* Caches, not state (a snapshot leaves them out; zero means unknown):
     * the incident whose host list matches failing_hosts, reset when a
     * host joins or leaves it; this service's policy and the generation
     * of the configuration it was taken from. */
    uint64_t hosts_for;
    uint64_t policy_gen;
    tc_service_policy_t policy;
} tc_state__service_t;

struct tc_state {
    /* The configuration in force: the state's own copy, replaced by
     * configuration records (tc_state_configure). */
    tc_policy_t *policy;
    zhashx_t *checks;   /* "host/check" -> check */
    zhashx_t *services; /* service -> tc_state__service_t */
    zhashx_t *hosts;    /* host -> tc_state_host_t */
    uint64_t next_id;
    uint64_t policy_gen;        /* bumped by each configuration (from 1) */
    uint64_t config_seq;        /* the configuration record in force (0: the initial one) */
    tc_component_t *components; /* one per configured component */
    size_t ncomponents;
    tc_maintenance_t *maints; /* every window, in id order */
    size_t nmaints;
    uint64_t next_maint_id;
    zhashx_t *updates;     /* "i<incident>.<n>" -> tc_update_t */
    zhashx_t *subscribers; /* subscription -> tc_state_subscriber_t */
    zhashx_t *pagers;      /* person -> tc_state_pager_t (state_pages.c) */
    /* Every incident that is neither open nor its service's last resolved
     * one, indexed by id (NULL buf: not archived). */
    tc_state__frozen_t *archive;
    size_t archive_cap;
    tc_state__owed_t *owed; /* post-mortem reminders of archived incidents */
    size_t nowed, owed_cap;
    tc_incident_t *thawed; /* the archived incident a record is changing */
    uint64_t thawed_id;
    tc_incident_t *peek; /* an archived incident decoded for reading */
    /* The service of every incident by id, so that a lookup is one step,
     * not a walk over every service (it never changes). */
    tc_state__service_t **svc_of;
    size_t svc_of_cap;
    uint64_t peek_id;
    const tc_templates_t *templates; /* for maintenance announcements; may be NULL */
    tc_templates_t *own_templates;   /* the same, when the state owns them */
};

/* ---- state.c: the building blocks -------------------------------------- */

/* The service named `name`, made on first use; NULL on allocation failure. */
tc_state__service_t *tc_state__service(tc_state_t *st, const char *name);

/* The service of incident `id` (and the incident in *inc), or NULL. An
 * archived incident is decoded: with `change`, into the copy the current
 * record may change (frozen again when the record is applied); without,
 * into a read-only copy valid until the next lookup. */
tc_state__service_t *tc_state__find(const tc_state_t *st, uint64_t id, tc_incident_t **inc,
                                    bool change);

/* Records that incident `id` belongs to `svc`. 0 or TC_ENOMEM. */
int tc_state__index(tc_state_t *st, uint64_t id, tc_state__service_t *svc);

/* Encodes `inc` into its archive slot (replacing what was there). */
int tc_state__freeze(tc_state_t *st, const tc_incident_t *inc);

/* Moves `inc` (no longer live in its service) into the archive. */
int tc_state__archive(tc_state_t *st, tc_incident_t *inc);

/* printf into a fixed field, cut at a UTF-8 boundary. */
void tc_state__text(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Queues a broadcast (a copy of `inc`, NULL for none); NULL when the
 * record's output is full. */
tc_broadcast_t *tc_state__emit(tc_state_out_t *out, tc_bcast_kind_t kind, uint64_t log_seq,
                               const tc_incident_t *inc);

/* Adds a timeline entry of `inc` by `actor`; NULL when full. */
tc_timeline_t *tc_state__note(tc_state_out_t *out, const tc_incident_t *inc, const tc_record_t *rec,
                              const char *actor, const char *kind);

/* The broadcast of a change of `inc` and its timeline entry, same text. */
void tc_state__changed(tc_state_out_t *out, tc_bcast_kind_t kind, const tc_incident_t *inc,
                       const tc_record_t *rec, const char *actor, const char *what,
                       const char *text);

/* Sets the severity of `inc` at `at_ms`, adding the time spent at the one
 * it had to inc->severity_ms; the clock stops while it is resolved. */
void tc_state__set_severity(tc_incident_t *inc, uint32_t severity, int64_t at_ms);

/* What being declared gives an incident: its conference link, progress. */
void tc_state__declared(const tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec);

/* True for the roles an operator may assign: the seven named ones,
 * subteam.NAME and security.NAME. */
bool tc_state__role_valid(const char *role);

/* Writes the reason into why (may be NULL) and returns `code`. */
int tc_state__refuse(char *why, size_t whylen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- state_pages.c: pages ------------------------------------------------------ */

/* Pages the holder of role `r` on their own topic ("page.PERSON"), unless
 * acknowledged: a PAGE broadcast saying why (`kind`) and how urgently (the
 * policy's urgency of the incident's severity), counted for the person. */
void tc_state__page(tc_state_t *st, tc_state_out_t *out, const tc_incident_t *inc,
                    const tc_role_t *r, const tc_record_t *rec, tc_page_kind_t kind);

/* Fills the page of broadcast `b` (a PAGE or a REMINDER) for `person` in
 * `role`, and counts it. Post-mortem pages are low urgency. */
void tc_state__page_fill(const tc_state_t *st, tc_broadcast_t *b, const tc_incident_t *inc,
                         const char *person, const char *role, tc_page_kind_t kind,
                         int64_t paged_ms);

/* When the pending page of role `r` repeats next ("repage"), or 0. */
int64_t tc_state__repage_due(const tc_state_t *st, const tc_incident_t *inc, const tc_role_t *r);

/* The "repage" deadline fired: the page goes out again. */
int tc_state__fire_repage(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                          tc_state_out_t *out);

/* `ack ID ROLE PAGED_MS link`, by the person the link was for. */
int tc_state__check_link_ack(const tc_state_t *st, const tc_incident_t *inc,
                             const tc_operator_action_t *a, char *why, size_t whylen);
void tc_state__count_link_ack(tc_state_t *st, const char *person);

/* A check result with `acknowledged` (an integration's acknowledge):
 * acknowledges the open incident of a failing alert and all its pages. */
int tc_state__apply_alert_ack(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* A notifier's report about delivering a page. */
int tc_state__check_page_delivery(const tc_state_t *st, const tc_incident_t *inc,
                                  const tc_operator_action_t *a, char *why, size_t whylen);
int tc_state__apply_page_delivery(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                  const char *actor, tc_state_out_t *out);

/* ---- state_comms.c / state_announce.c: tocsin's own updates ------------- */

/* Numbers update `u` (on the heap; the state takes it) as the next of
 * `inc`, stores it and publishes it to its audience as u->author. */
void tc_state__publish_new(tc_state_t *st, tc_incident_t *inc, tc_update_t *u,
                           const tc_record_t *rec, tc_state_out_t *out);

/* policy.internal_announce_severities: announces `inc` internally if it was
 * declared, changed public state or severity, or resolved since tocsin last
 * announced it (its newest internal update by tocsin says what that was,
 * so the decision is derived from the state alone). Call after the record
 * is applied and the components are refreshed. */
void tc_state__announce(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                        tc_state_out_t *out);

/* ---- state_response.c: the plan, a quiet IC, notices ---------------------- */

/* Tells `person` something on their own page topic: a TC_BCAST_REMINDER
 * carrying `inc` and a page of `kind` for them in `role`, which
 * tocsin-notify delivers like any page (never repeated: no role waits on
 * it). With person NULL, a plain reminder on `topic` (NULL:
 * "reminder.incident"). */
void tc_state__notice(const tc_state_t *st, tc_state_out_t *out, const tc_incident_t *inc,
                      const tc_record_t *rec, const char *person, const char *role,
                      tc_page_kind_t kind, const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

/* `plan business_hours|out_of_hours` (tocsin's decision from the roster)
 * and `plan full` (an operator asks for the whole response out of hours). */
int tc_state__check_plan(const tc_incident_t *inc, const tc_operator_action_t *a, char *why,
                         size_t whylen);
int tc_state__apply_plan(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                         const char *actor, tc_state_out_t *out);

/* When the IC of `inc` is reminded that nothing has moved: a declared
 * major incident with no state change and no published update for
 * policy.ic_quiet_reminder, counted again from each reminder; 0: never. */
int64_t tc_state__quiet_due(const tc_state_t *st, const tc_incident_t *inc);

/* That deadline fired: the IC is reminded on their page. */
int tc_state__fire_quiet(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                         tc_state_out_t *out);

/* ---- state_security.c: security incidents ------------------------------ */

/* True for the roles of a security incident's need-to-know group: the
 * commander, the dpo and security.NAME. */
bool tc_state__need_to_know(const char *role);

/* True if `actor` may act as `person` (is them, is tocsin, or has no name
 * because keys are off). */
bool tc_state__acts_as(const char *actor, const char *person);

/* True unless `inc` is a security incident whose disclosure the IC and the
 * DPO have not both cleared. */
bool tc_state__disclosure_cleared(const tc_incident_t *inc);

/* `security ID` (flag) and `security ID clear`. */
int tc_state__check_security(const tc_state_t *st, const tc_incident_t *inc,
                             const tc_operator_action_t *a, char *why, size_t whylen);
void tc_state__apply_security(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                              const char *actor, bool declared, tc_state_out_t *out);
int tc_state__apply_clear(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                          const char *actor, tc_state_out_t *out);

/* Role `role` of `inc` went to `person` (from `before`, may be NULL): the
 * open checklist steps of that role follow it. */
void tc_state__role_filled(tc_incident_t *inc, const char *role, const char *person,
                           const char *before);

/* Sends restricted update `u` to the need-to-know group of `inc`, on each
 * member's page; writes who got it into `sent`. */
void tc_state__restricted(const tc_state_t *st, const tc_incident_t *inc, const tc_update_t *u,
                          const tc_record_t *rec, tc_state_out_t *out, char *sent, size_t cap);

/* ---- state_comms.c: the communication plan ----------------------------------- */

/* Checks and applies the actions of the plan: global ones (incident 0:
 * component, maintenance, drill), and an incident's update and delivery. */
int tc_state__check_global(const tc_state_t *st, const tc_operator_action_t *a, char *why,
                           size_t whylen);
int tc_state__apply_global(tc_state_t *st, const tc_record_t *rec, const char *actor,
                           tc_state_out_t *out);
int tc_state__check_update(const tc_state_t *st, const tc_incident_t *inc,
                           const tc_operator_action_t *a, char *why, size_t whylen);
int tc_state__apply_update(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                           const char *actor, tc_state_out_t *out);
int tc_state__check_delivery(const tc_state_t *st, const tc_incident_t *inc,
                             const tc_operator_action_t *a, char *why, size_t whylen);
int tc_state__apply_delivery(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                             const char *actor, tc_state_out_t *out);

/* The update `number` of `incident`, to change; NULL if there is none. */
tc_update_t *tc_state__update_mut(const tc_state_t *st, uint64_t incident, uint32_t number);

/* Adds a draft of `from` as the next update of `inc` by `actor`, with the
 * incident's severity, impact, title and components; NULL on ENOMEM. */
tc_update_t *tc_state__add_draft(tc_state_t *st, tc_incident_t *inc, const tc_update_t *from,
                                 const tc_record_t *rec, const char *actor);

/* Publishes update `u` of `inc` to its audience. */
void tc_state__publish(tc_state_t *st, tc_incident_t *inc, tc_update_t *u, const tc_record_t *rec,
                       const char *actor, tc_state_out_t *out);

/* The Incident Commander of `inc`, or NULL. */
const char *tc_state__commander(const tc_incident_t *inc);

/* 0 if `actor` may approve `what` (external texts) of `inc`: the IC, or
 * anyone while there is none; else TC_EINVAL with the reason. */
int tc_state__check_approver(const tc_incident_t *inc, const char *actor, const char *what,
                             char *why, size_t whylen);

/* 0 if external texts of `inc` may go out (not a security incident, or
 * disclosure cleared); else TC_EINVAL with what is still missing. */
int tc_state__check_disclosure(const tc_incident_t *inc, char *why, size_t whylen);

/* ---- state_report.c: the public post-mortem report --------------------------- */

/* `postmortem ID report|approve|publish`: whether the action may be done,
 * and doing it. */
bool tc_state__is_report_action(const tc_operator_action_t *a);
/* True if customers were told of `inc` and no report of it is published. */
bool tc_state__report_owed(const tc_state_t *st, const tc_incident_t *inc);
int tc_state__check_report(const tc_state_t *st, const tc_incident_t *inc,
                           const tc_operator_action_t *a, char *why, size_t whylen);
int tc_state__apply_report(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                           const char *actor, tc_state_out_t *out);

/* Starts or ends the external-update cadence of `inc`, as of `now_ms`. */
void tc_state__cadence(const tc_state_t *st, tc_incident_t *inc, int64_t now_ms);

/* The "update" deadline of `inc` fired: remind the Customer Liaison. */
int tc_state__fire_update_reminder(tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                   tc_state_out_t *out);

/* When window `w` moves on by itself next (0: never). */
int64_t tc_state__maint_due(const tc_maintenance_t *w);

/* Moves window `w` to `to`, with its effects on incidents. */
void tc_state__maint_move(tc_state_t *st, tc_maintenance_t *w, tc_maint_state_t to,
                          const tc_record_t *rec, const char *actor, tc_state_out_t *out);

/* Recomputes the components, broadcasting those whose status changed. */
void tc_state__components_refresh(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* ---- state.c: impact (users, severity, declaration) ---------------------- */

/* Recomputes the users and severity of `inc` of service `svc` (NULL: by
 * name) from the evidence; `lower` lets the severity go down (an operator
 * changed the users or features), recovery never does. */
void tc_state__assess(const tc_state_t *st, tc_state__service_t *svc, tc_incident_t *inc,
                      const tc_record_t *rec, tc_state_out_t *out, bool lower);

/* Declares `inc` if its declaration deadline has passed and enough users
 * are affected; true if it did. */
bool tc_state__maybe_declare(const tc_state_t *st, tc_state__service_t *svc, tc_incident_t *inc,
                             const tc_record_t *rec, tc_state_out_t *out);

/* A declared incident that resolved gets a post-mortem owner and due time. */
void tc_state__schedule_postmortem(const tc_state_t *st, tc_incident_t *inc, const tc_record_t *rec,
                                   tc_state_out_t *out);

/* Adds `delta` (+1/-1) failing checks on `host` to the service. */
void tc_state__count(tc_state__service_t *svc, const char *host, int delta);

/* Copies the service's counters and (when a host joined or left since it
 * was last filled) its sorted host list into `inc`. */
int tc_state__fill_hosts(tc_state__service_t *svc, tc_incident_t *inc);

/* ---- state_checks.c: results, lost events, host status ------------------ */

int tc_state__apply_check(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);
int tc_state__apply_lost(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);
int tc_state__apply_host(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* After incident `was` was resolved by hand over failing checks: what
 * still fails becomes a new incident at once. */
int tc_state__open_after_forced(tc_state_t *st, tc_state__service_t *svc, const tc_incident_t *was,
                                const tc_record_t *rec, tc_state_out_t *out);

/* ---- state_actions.c: operator actions ----------------------------------- */

/* Applies an action record (checked again: one that no longer checks out
 * under the rules of its configuration is skipped). */
int tc_state__apply_action(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* The role entry named `role` of `inc`, or NULL. */
const tc_role_t *tc_state__role_c(const tc_incident_t *inc, const char *role);

/* ---- state_deadlines.c --------------------------------------------------- */

/* Applies a fired deadline (a timer record). */
int tc_state__apply_timer(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* ---- state_archive.c ----------------------------------------------------- */

/* Writes back the incident thawed for a change, if any (after each record). */
int tc_state__refreeze(tc_state_t *st);

#endif
