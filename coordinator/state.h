/*
 * state.h - the coordinator's incident state machine.
 *
 * Pure: tc_state_apply() takes the current state and one log record and
 * returns the broadcasts it causes. It reads no clock (time comes from the
 * record) and does no I/O, so replaying the same log always rebuilds the same
 * state and the same broadcasts, and the logic is tested table-driven.
 *
 * What it implements (walking skeleton): a service's incident opens when one
 * of its checks turns hard CRITICAL; further failing checks of that service,
 * on any host, join the same incident (hosts and checks counted); it resolves
 * when every check of the service is OK again. Host liveness records turn
 * into host.down / host.up broadcasts.
 */
#ifndef TC_STATE_H
#define TC_STATE_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_state tc_state_t;

/* At most this many broadcasts come out of one record. */
#define TC_STATE_OUT_MAX 4

typedef struct {
    tc_broadcast_t bcast[TC_STATE_OUT_MAX];
    size_t n;
} tc_state_out_t;

/* Caller owns the result; NULL on allocation failure. */
tc_state_t *tc_state_new(void);

/* NULL-safe; nulls *pstate. */
void tc_state_destroy(tc_state_t **pstate);

/* Applies `rec` (already validated and stored). Fills *out with the
 * broadcasts it causes (incident broadcasts carry a copy of the incident as
 * it is after the record). Returns 0 or TC_ENOMEM; on TC_ENOMEM the state
 * may be partly updated and must be discarded. */
int tc_state_apply(tc_state_t *st, const tc_record_t *rec, tc_state_out_t *out);

/* ---- queries (borrowed results, valid until the next apply) ------------- */

/* Number of open (not resolved) incidents. */
size_t tc_state_open_count(const tc_state_t *st);

/* Calls fn for each open incident in id order. */
typedef void(tc_state_incident_fn)(const tc_incident_t *inc, void *ctx);
void tc_state_each_open(const tc_state_t *st, tc_state_incident_fn *fn, void *ctx);

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

/* Id the next incident will get (1 for a new log). */
uint64_t tc_state_next_incident_id(const tc_state_t *st);

#endif
