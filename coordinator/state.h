/*
 * state.h - the coordinator's incident state machine.
 *
 * Pure: tc_state_apply() takes the current state and one log record and
 * returns the broadcasts it causes. It reads no clock (time comes from the
 * record) and does no I/O, so replaying the same log always rebuilds the same
 * state and the same broadcasts, and the logic is tested table-driven.
 *
 * What it implements: a service's incident opens when one of its checks
 * turns hard CRITICAL (an alert); further failing checks of that service,
 * on any host, join the same incident (hosts, checks and users affected
 * counted); it resolves when every check of the service is OK again, and a
 * new failure within the reopen window reopens it. It is declared by the
 * policy (lasted long enough, affects enough users) when its declaration
 * deadline fires, or by an operator. Operator actions move it through the
 * lifecycle triggered -> investigating -> identified -> monitoring ->
 * resolved; an invalid one is refused by tc_state_check() and never stored.
 * Every change adds a timeline entry. Host liveness records turn into
 * host.down / host.up broadcasts.
 */
#ifndef TC_STATE_H
#define TC_STATE_H

#include "msg.h"
#include "policy.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_state tc_state_t;

/* At most this many broadcasts and timeline entries come out of one record. */
#define TC_STATE_OUT_MAX 24
#define TC_STATE_TIMELINE_MAX 8

typedef struct {
    tc_broadcast_t bcast[TC_STATE_OUT_MAX];
    size_t n;
    tc_timeline_t timeline[TC_STATE_TIMELINE_MAX];
    size_t ntimeline;
    bool quiet;             /* set by tc_state_replay(), cleared by tc_state_apply() */
    tc_broadcast_t scratch; /* what a quiet emit hands out */
    tc_timeline_t tscratch;
} tc_state_out_t;

/* A state machine with `policy` in force (copied; NULL means the
 * defaults). Caller owns the result; NULL on allocation failure. */
tc_state_t *tc_state_new(const tc_policy_t *policy);

/* Gives the state the templates its maintenance announcements are written
 * from (borrowed; must outlive the state). Like the policy, an input of the
 * state machine: without it windows are announced by their broadcasts only. */
typedef struct tc_templates tc_templates_t;
void tc_state_set_templates(tc_state_t *st, const tc_templates_t *templates);

/* NULL-safe; nulls *pstate. */
void tc_state_destroy(tc_state_t **pstate);

/* Puts a configuration in force from here on, as a configuration record
 * does (the log records one whenever it changes, and replay applies each
 * record with the configuration that was in force when it was written):
 * `policy` (copied; NULL keeps the current one) and *ptemplates (taken
 * over and nulled; NULL or *ptemplates NULL keeps the current ones). The
 * components follow the new list, in its order; one that stays keeps its
 * status and override. With `rec` and `out` (both may be NULL, e.g. at
 * set-up), components whose status changes are broadcast into *out.
 * Returns 0 or TC_ENOMEM. */
int tc_state_configure(tc_state_t *st, const tc_policy_t *policy, tc_templates_t **ptemplates,
                       const tc_record_t *rec, tc_state_out_t *out);

/* Applies `rec` (already validated and stored). Fills *out with the
 * broadcasts it causes (incident broadcasts carry a copy of the incident as
 * it is after the record). Returns 0 or TC_ENOMEM; on TC_ENOMEM the state
 * may be partly updated and must be discarded. */
int tc_state_apply(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* tc_state_apply() for a replay, which needs the state and not the
 * outputs: out->n counts the broadcasts (with each one's kind and incident
 * id), but nothing else of them is written and no timeline entry is made.
 * The state comes out exactly as tc_state_apply() leaves it. */
int tc_state_replay(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* Checks whether operator action `a`, made at `now_ms`, is valid against the
 * current state, without changing anything. Returns 0, TC_ENOTFOUND (no such
 * incident) or TC_EINVAL, with a one-line reason for the operator in `why`. */
int tc_state_check(const tc_state_t *st, const tc_operator_action_t *a, int64_t now_ms, char *why,
                   size_t whylen);

/* The earliest deadline derived from the state, if any: the coordinator
 * stores a TimerFired record when its clock passes out->due_ms. Returns
 * false when nothing is pending. */
bool tc_state_next_deadline(const tc_state_t *st, tc_timer_t *out);

/* ---- snapshots ----------------------------------------------------------- */

/* Appends the canonical encoding of the whole state (as it is after log
 * record `log_seq`, when `bcast_seq` broadcasts had been produced) to *out: equal states give equal
 * bytes, so a snapshot is compared with a full replay byte for byte. Only between records. Returns
 * 0, TC_EINVAL or TC_ENOMEM. */
int tc_state_snapshot(const tc_state_t *st, uint64_t log_seq, uint64_t bcast_seq, tc_buf_t *out);

/* What a snapshot's header says: the log record it stands after, the
 * broadcasts produced up to it (what the caller gave tc_state_snapshot),
 * and the configuration record in force (0: the initial one). */
typedef struct {
    uint64_t log_seq, bcast_seq, config_seq;
} tc_state_snapshot_header_t;
/* Returns 0, TC_EDECODE, or TC_ENOTFOUND for a snapshot of another format
 * version (the caller replays the whole log instead). */
int tc_state_snapshot_header(const uint8_t *buf, size_t len, tc_state_snapshot_header_t *h);

/* Loads a snapshot into `st`, which must be fresh from tc_state_new() with
 * the configuration in force at the snapshot; *log_seq receives the log
 * position it stands for. Returns 0, TC_EDECODE (not a snapshot, or
 * damaged), TC_ETOOBIG, TC_EINVAL (st not fresh) or TC_ENOMEM. */
int tc_state_restore(tc_state_t *st, const uint8_t *buf, size_t len, uint64_t *log_seq);

/* True if two snapshots are the same; if not, says where they part in
 * `why` (may be NULL). */
bool tc_state_snapshot_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, char *why,
                            size_t whylen);

/* The configuration record in force (0: the one the state started with). */
uint64_t tc_state_config_seq(const tc_state_t *st);

/* ---- queries (borrowed results, valid until the next apply) ------------- */

/* Number of open (not resolved) incidents. */
size_t tc_state_open_count(const tc_state_t *st);

/* Calls fn for each open incident in id order. */
typedef void(tc_state_incident_fn)(const tc_incident_t *inc, void *ctx);
void tc_state_each_open(const tc_state_t *st, tc_state_incident_fn *fn, void *ctx);

/* Calls fn for every incident the log knows, in id order: open, resolved
 * and archived (those decoded into a copy valid for the call only). */
void tc_state_each_incident(const tc_state_t *st, tc_state_incident_fn *fn, void *ctx);

/* A host as the log knows it. */
typedef struct {
    char host[TC_ID_MAX];
    bool up;
    uint32_t heartbeat_ms;
    int64_t changed_ms; /* time of the last up/down record */
} tc_state_host_t;

/* Looks up a host; NULL if the log never mentioned it. */
const tc_state_host_t *tc_state_host(const tc_state_t *st, const char *host);

/* Calls fn for each known host in name order. */
typedef void(tc_state_host_fn)(const tc_state_host_t *h, void *ctx);
void tc_state_each_host(const tc_state_t *st, tc_state_host_fn *fn, void *ctx);

/* The guard against internal detail (state_guard.c): refuses an external
 * update `u` of incident `incident` whose title or text names one of the
 * incident's hosts (full or short name), an IP address (v4 or v6) or a
 * port, a check of its service, or text of those checks' output (a token
 * only a machine writes, such as "503" or "HTTP/1.1", or three of its words
 * in a row), with the offending word in `why`. Internal updates pass.
 * Reads the state, changes nothing; called when an update is drafted, not
 * on replay. Returns 0 or TC_EINVAL. */
int tc_state_guard(const tc_state_t *st, uint64_t incident, const tc_update_t *u, char *why,
                   size_t whylen);

/* Incident `id`, or NULL. Borrowed: valid until the next lookup or apply
 * (an archived one is decoded into a copy). */
const tc_incident_t *tc_state_incident(const tc_state_t *st, uint64_t id);

/* Id the next incident will get (1 for a new log). */
uint64_t tc_state_next_incident_id(const tc_state_t *st);

/* ---- the communication plan -------------------------------------------- */

/* The configured components with their current status, in configuration
 * order; *n receives the count. Borrowed, valid until the next apply. */
const tc_component_t *tc_state_components(const tc_state_t *st, size_t *n);

/* Status update `number` of `incident`, or NULL. */
const tc_update_t *tc_state_update(const tc_state_t *st, uint64_t incident, uint32_t number);

/* Calls fn for each status update of `incident` (0: of every incident and
 * window), in number order. */
typedef void(tc_state_update_fn)(const tc_update_t *u, void *ctx);
void tc_state_each_update(const tc_state_t *st, uint64_t incident, tc_state_update_fn *fn,
                          void *ctx);

/* Maintenance window `id`, or NULL. */
const tc_maintenance_t *tc_state_maintenance(const tc_state_t *st, uint64_t id);

/* Calls fn for each maintenance window in id order. */
typedef void(tc_state_maint_fn)(const tc_maintenance_t *w, void *ctx);
void tc_state_each_maintenance(const tc_state_t *st, tc_state_maint_fn *fn, void *ctx);

/* The id of a window in progress that covers `service` (through one of its
 * components), or 0: alerts are recorded but page nobody then. */
uint64_t tc_state_service_in_maintenance(const tc_state_t *st, const char *service);

/* What a notifier reported about its deliveries, per subscription. */
typedef struct {
    char name[TC_ID_MAX];
    uint64_t delivered, failed;
    uint64_t latency_total_ms; /* over the delivered ones */
    int64_t last_ms;           /* time of the last report */
    char last_result[16];      /* delivered, failed, failing */
    char last_detail[TC_TITLE_MAX];
    /* Reported failing (its oldest delivery waits since failing_since_ms)
     * until a delivered or failed report comes. */
    bool failing;
    int64_t failing_since_ms;
    char failing_detail[TC_TITLE_MAX];
} tc_state_subscriber_t;

/* Calls fn for each subscription heard of, in name order. */
typedef void(tc_state_subscriber_fn)(const tc_state_subscriber_t *s, void *ctx);
void tc_state_each_subscriber(const tc_state_t *st, tc_state_subscriber_fn *fn, void *ctx);

/* The pages to one person: how many were broadcast, and what notifiers
 * reported about delivering them (one report per page and contact method). */
typedef struct {
    char person[TC_ID_MAX];
    uint64_t pages;
    uint64_t delivered, failed;
    uint64_t latency_total_ms; /* over the delivered ones */
    int64_t last_ms;           /* time of the last report */
    char last_result[16];      /* delivered, failed, failing */
    char last_method[16];      /* email, webhook, slack, ntfy */
    char last_detail[TC_TITLE_MAX];
    uint64_t acknowledged; /* pages acknowledged through their link */
} tc_state_pager_t;

/* Calls fn for each person paged, in name order. */
typedef void(tc_state_pager_fn)(const tc_state_pager_t *p, void *ctx);
void tc_state_each_pager(const tc_state_t *st, tc_state_pager_fn *fn, void *ctx);

#endif
