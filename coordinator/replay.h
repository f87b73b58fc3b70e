/*
 * replay.h - the state machine rebuilt from the store.
 *
 * State is a pure function of the log: replaying every record, each with
 * the configuration that was in force when it was written, gives exactly
 * the state the coordinator had. This module does that replay, for
 * start-up and for any time the in-memory state must be thrown away (a
 * commit that failed after the state had moved on).
 */
#ifndef TC_REPLAY_H
#define TC_REPLAY_H

#include "state.h"
#include "store.h"
#include "template.h"

#include <stdint.h>

typedef struct {
    uint64_t snapshot_seq;    /* the snapshot it started from (0: none, the whole log) */
    uint64_t records;         /* log records applied (after the snapshot) */
    uint64_t broadcasts;      /* broadcasts up to the end (the snapshot's count + the tail's) */
    uint64_t configs;         /* configuration records among them */
    int64_t last_received_ms; /* the newest record's receive time (0: empty log) */
} tc_replay_stats_t;

/* Rebuilds a state machine from `store`: with `use_snapshot`, from the
 * newest snapshot at or before `upto` and the log after it; otherwise (or
 * without a snapshot) from the start, with the first configuration
 * recorded in the log (or, for a log that has none, `policy` and
 * `templates`, borrowed; templates may be NULL). Every log record with seq
 * <= `upto` (0: all) is applied, a configuration record by putting in
 * force what it recorded. On success *out is the caller's and
 * *stats (may be NULL) says what was replayed. Returns 0, TC_ENOMEM,
 * TC_EDECODE or TC_EIO, with a one-line reason logged. */
int tc_replay(tc_store_t *store, const tc_policy_t *policy, const tc_templates_t *templates,
              uint64_t upto, bool use_snapshot, tc_state_t **out, tc_replay_stats_t *stats);

/* Puts the configuration encoded in buf[0..len) (a StateConfig) in force
 * in `st` for configuration record `rec`, whose digest it must match, with
 * its broadcasts in *out. Returns 0 or an error (logged). */
int tc_replay_configure_bytes(tc_state_t *st, const tc_record_t *rec, const uint8_t *buf,
                              size_t len, tc_state_out_t *out);

/* The same with the configuration stored for `rec` in `store` (outside a
 * write transaction: it reads committed data). */
int tc_replay_configure(tc_store_t *store, tc_state_t *st, const tc_record_t *rec,
                        tc_state_out_t *out);

#endif
