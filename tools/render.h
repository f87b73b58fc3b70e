/*
 * render.h - how tocsin's tools show incidents, broadcasts, log records and
 * coordinator status: as JSON values (the machine contract of DESIGN.md §3)
 * and as readable text for an operator at a terminal.
 *
 * Rendering is pure: every function takes the current time as an argument
 * where it needs one and reads no clock, so output is reproducible in tests.
 * Times are RFC 3339 UTC with milliseconds in JSON (tc_time_format) and to
 * the second in tables. Text output is sanitized (tc_utf8_sanitize): remote
 * strings cannot inject terminal escape sequences.
 */
#ifndef TC_RENDER_H
#define TC_RENDER_H

#include "json.h"
#include "msg.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- JSON: each function writes exactly one value into `j` ------------- */

/* {"id":3,"service":"frontend","state":"triggered","severity":null,
 *  "declared":false,"opened_at":"...","resolved_at":null,"updated_at":"...",
 *  "summary":"...","hosts":["web-01"],"affected_hosts":1,
 *  "failing_checks":1,"roles":{"commander":"alice"}}
 * severity is null when not assessed (0); resolved_at is null while open. */
void tc_render_incident_json(tc_json_t *j, const tc_incident_t *inc);

/* How long `inc` has been at `severity` (1..5): the time counted before
 * the current one was set, plus, for the current one of an open incident,
 * up to its updated_ms. 0 when never. */
int64_t tc_render_severity_ms(const tc_incident_t *inc, uint32_t severity);

/* {"seq":12,"topic":"incident.opened","time":"...","log_seq":40,
 *  "detail":"...","incident":{...}} for incident kinds,
 * {"seq":13,"topic":"host.down","time":"...","log_seq":41,"host":"web-01",
 *  "detail":"..."} for host kinds. `m` must be a TC_MSG_BROADCAST; seq and
 * time are the envelope's (the broadcast sequence and its time). */
void tc_render_broadcast_json(tc_json_t *j, const tc_msg_t *m);

/* The communication plan's objects as JSON objects: a status update
 * (incident or window, number, audience, scenario, state, status, title,
 * body, impact, severity, components [{name, status}], next_update_at,
 * author, drafted_at, approver, approved_at, published_at, started_at,
 * drill), a
 * component (name, description, status, derived, overridden, changed_at)
 * and a maintenance window (id, title, state, start, end, every_ms,
 * occurrence, components, description, created_by, verify_ms). */
void tc_render_update_json(tc_json_t *j, const tc_update_t *u);
void tc_render_component_json(tc_json_t *j, const tc_component_t *c);
void tc_render_maintenance_json(tc_json_t *j, const tc_maintenance_t *w);

/* {"seq":40,"time":"...","sender":"web-01","sender_seq":17,
 *  "kind":"check_result","sent_at":"...", ...fields of the event...}.
 * check_result adds check, service, host, state, hard, attempt,
 * max_attempts, output and perfdata (an array of {label, value, uom, and
 * whichever of warn, crit, min, max were given}); host_status adds host, up,
 * heartbeat_ms, reason; other kinds add their own fields likewise. */
void tc_render_record_json(tc_json_t *j, const tc_record_t *rec);

/* {"version":"0.1.0","started_at":"...","log_seq":40,"broadcast_seq":13,
 *  "open_incidents":2,"accepted":100,"duplicates":3,"rejected":0,
 *  "hosts":[{"host":"web-01","up":true,"last_seen":"...",
 *            "heartbeat_ms":5000}]}; last_seen is null if never seen. */
void tc_render_status_json(tc_json_t *j, const tc_status_t *st);

/* ---- Text -------------------------------------------------------------- */

/* The incidents table:
 *   ID  SERVICE   STATE      SEV  HOSTS          OPENED                SUMMARY
 *   3   frontend  triggered  -    web-01,web-02  2026-11-24T08:00:00Z  ...
 * or one line "no open incidents" ("no incidents" when `all`) if n == 0.
 * At most three hosts are named, then "+N"; long summaries are shortened.
 * Returns 0, TC_ENOMEM or TC_EIO. */
int tc_render_incidents_text(FILE *out, const tc_incident_t *incs, size_t n, bool all);

/* One incident as an aligned "key: value" block. Returns 0 or TC_EIO. */
int tc_render_incident_text(FILE *out, const tc_incident_t *inc);

/* A short summary of the coordinator followed by a hosts table (HOST, STATE,
 * LAST SEEN, HEARTBEAT); ages are relative to `now_ms`, to the second.
 * Returns 0, TC_ENOMEM or TC_EIO. */
int tc_render_status_text(FILE *out, const tc_status_t *st, int64_t now_ms);

/* One log record as one line, without the newline:
 *   40 2026-11-24T08:00:00.123Z web-01#17 check_result http@web-01 frontend CRITICAL hard: refused
 *   41 2026-11-24T08:00:05.000Z coordinator#0 host_status web-01 down (3 heartbeats missed)
 * Always NUL-terminated, cut at a character boundary if `cap` is short.
 * Returns dst. */
char *tc_render_record_line(const tc_record_t *rec, char *dst, size_t cap);

/* {"seq":3,"time":"...","actor":"alice","class":"operator-ro",
 *  "public_key":"...","action":"status","detail":"","allowed":true} */
void tc_render_audit_json(tc_json_t *j, const tc_audit_t *a);

/* One audit record as one line, without the newline:
 * "3 2026-11-24T08:00:00.000Z allowed alice (operator-ro) status ". */
char *tc_render_audit_line(const tc_audit_t *a, char *dst, size_t cap);

/* {"incident":3,"time":"...","log_seq":40,"actor":"alice","kind":"ack","text":"..."} */
void tc_render_timeline_json(tc_json_t *j, const tc_timeline_t *t);

/* "2026-11-24T08:00:00.000Z  alice        ack        acknowledged" */
char *tc_render_timeline_line(const tc_timeline_t *t, char *dst, size_t cap);

#endif
