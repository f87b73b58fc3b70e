/*
 * store.h - the coordinator's durable storage: event log, broadcast log,
 * incident table and per-sender sequence numbers, in one LMDB environment.
 *
 * The only coordinator module that includes lmdb.h. One process writes (the
 * coordinator's main thread, enforced with a lock file in the data
 * directory). Writes happen inside tc_store_begin() ... tc_store_commit(), so
 * a batch of events, the state changes they cause and the broadcasts they
 * produce become durable together or not at all. Readers (API queries) use
 * their own short read transactions and see only committed data.
 */
#ifndef TC_STORE_H
#define TC_STORE_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_store tc_store_t;

/* Opens (creating if needed) the store in directory `dir` through
 * common/lmdb_env, with an LMDB map of `map_size` bytes to start with (0 =
 * 1 GiB; the file is sparse) that grows up to `map_max` (0 = until the disk
 * is full). Takes an exclusive lock on DIR/coordinator.lock; a second
 * coordinator on the same directory gets TC_ECONFIG. An existing store
 * opens without writing, so a coordinator can start on a full disk. Caller
 * owns *out; destroy with tc_store_destroy(). Returns 0 or an error with a
 * one-line reason naming the cause in `why`. */
int tc_store_open(const char *dir, size_t map_size, size_t map_max, tc_store_t **out, char *why,
                  size_t whylen);

/* Opens an existing store for reading only, without the lock: beside a
 * running coordinator too (LMDB readers never block the writer). Writing
 * through it fails. Returns 0, TC_ENOTFOUND (no store in `dir`) or an open
 * error, with the reason in `why`. */
int tc_store_open_readonly(const char *dir, tc_store_t **out, char *why, size_t whylen);

/* Grows the map, if it may, so that `bytes` more fit; only outside a write
 * transaction. Returns 0 or TC_EFULL (at its maximum). */
int tc_store_reserve(tc_store_t *s, size_t bytes);

/* Bytes in use, the map size and its maximum (0: none). */
void tc_store_usage(const tc_store_t *s, size_t *used, size_t *map, size_t *max);

/* The last write failure as one line with its cause ("storing a batch:
 * disk full at DIR (...)"); "" if none. Borrowed. */
const char *tc_store_error(const tc_store_t *s);

/* Tries a small write (reopening the environment first if a failed commit
 * left LMDB refusing transactions): 0 once the store is writable again. */
int tc_store_probe(tc_store_t *s);

/* Aborts any open write transaction, closes the environment and releases the
 * lock. NULL-safe; nulls *pstore. */
void tc_store_destroy(tc_store_t **pstore);

/* Highest committed log / broadcast sequence (0 when empty). */
uint64_t tc_store_log_seq(const tc_store_t *s);
uint64_t tc_store_bcast_seq(const tc_store_t *s);

/* ---- writing: only between begin and commit/abort ----------------------- */

/* Starts the write transaction. Returns 0, TC_EINVAL if one is open, or
 * TC_EIO. */
int tc_store_begin(tc_store_t *s);

/* Appends `rec` to the event log under the next log sequence, which it
 * writes into rec->seq. TC_EFULL when the map is full. */
int tc_store_append_log(tc_store_t *s, tc_record_t *rec);

/* tc_store_append_log() around the envelope's bytes as received (see
 * tc_wire_encode_record_raw): the frame is stored, not encoded again. */
int tc_store_append_log_raw(tc_store_t *s, tc_record_t *rec, const uint8_t *env, size_t len);

/* The sequence the next broadcast will get (inside the open transaction,
 * or after the last committed one). */
uint64_t tc_store_next_bcast_seq(const tc_store_t *s);

/* Appends an encoded broadcast Envelope that carries `seq`, which must be
 * tc_store_next_bcast_seq(). Returns 0, TC_EINVAL or a storage error. */
int tc_store_append_bcast_bytes(tc_store_t *s, uint64_t seq, const uint8_t *env, size_t len);

/* Appends broadcast `m` (kind TC_MSG_BROADCAST) under the next broadcast
 * sequence, which it writes into m->seq. */
int tc_store_append_bcast(tc_store_t *s, tc_msg_t *m);

/* Appends `a` to the audit trail under the next audit sequence, which it
 * writes into a->seq. The audit trail is not part of the event log: state
 * never depends on it. */
int tc_store_append_audit(tc_store_t *s, tc_audit_t *a);

/* Adds timeline entry `t` of its incident (key: incident, log seq, `idx`
 * for several entries from one record). */
int tc_store_put_timeline(tc_store_t *s, const tc_timeline_t *t, unsigned idx);

/* The highest stored sequence of `sender` and the event time of that event,
 * as seen inside the open transaction (0 and 0 if none; time 0 too for a
 * sender last stored by an older build). Returns 0, TC_EINVAL outside a
 * transaction, TC_EDECODE or TC_EIO. */
int tc_store_sender(tc_store_t *s, const char *sender, uint64_t *seq, int64_t *time_ms);

/* tc_store_sender()'s sequence alone (0 on any failure). */
uint64_t tc_store_sender_seq(tc_store_t *s, const char *sender);

/* Records `seq` as the highest stored sequence of `sender`, and `time_ms`
 * as the event time of that event. */
int tc_store_set_sender(tc_store_t *s, const char *sender, uint64_t seq, int64_t time_ms);

/* Commits: on return 0 everything since tc_store_begin() is on disk. On
 * failure the transaction is gone and nothing of it was stored. */
int tc_store_commit(tc_store_t *s);

/* Drops everything since tc_store_begin(). Safe when none is open. */
void tc_store_abort(tc_store_t *s);

/* ---- reading (own read transaction; callable outside a write) ----------- */

/* Calls `fn` for each log record with seq >= from, in order, up to `limit`
 * records (0 = no limit). The record is borrowed for the call only. `fn`
 * returns 0 to go on, non-zero to stop (that value is returned). *more is
 * set when records remain after the limit (may be NULL). */
typedef int(tc_store_record_fn)(const tc_record_t *rec, void *ctx);
int tc_store_scan_log(tc_store_t *s, uint64_t from, size_t limit, tc_store_record_fn *fn, void *ctx,
                      bool *more);

/* Same for broadcasts, each a tc_msg_t of kind TC_MSG_BROADCAST. */
typedef int(tc_store_msg_fn)(const tc_msg_t *m, void *ctx);
int tc_store_scan_bcast(tc_store_t *s, uint64_t from, size_t limit, tc_store_msg_fn *fn, void *ctx,
                        bool *more);

/* Same for the audit trail. */
typedef int(tc_store_audit_fn)(const tc_audit_t *a, void *ctx);
int tc_store_scan_audit(tc_store_t *s, uint64_t from, size_t limit, tc_store_audit_fn *fn,
                        void *ctx, bool *more);

/* Deletes audit records older than `before_ms`, oldest first, at most
 * `max` of them, in their own transaction (none may be open); the event
 * log is never touched. *deleted says how many went. */
int tc_store_prune_audit(tc_store_t *s, int64_t before_ms, size_t max, size_t *deleted);

/* Calls `fn` for each timeline entry of `incident`, in log order. */
typedef int(tc_store_timeline_fn)(const tc_timeline_t *t, void *ctx);
int tc_store_scan_timeline(tc_store_t *s, uint64_t incident, tc_store_timeline_fn *fn, void *ctx);

/* Stores the encoded state-machine configuration (StateConfig) put in
 * force by the ConfigRef record at `log_seq` (inside the transaction). */
int tc_store_put_config(tc_store_t *s, uint64_t log_seq, const uint8_t *buf, size_t len);

/* The last log record received at or before `time_ms` (0: none was).
 * Returns 0 or a storage error. */
int tc_store_seq_at(tc_store_t *s, int64_t time_ms, uint64_t *seq);

/* Stores a snapshot of the state after log record `log_seq` in its own
 * transaction (none may be open) and deletes all but the newest `keep`.
 * Returns 0 or a storage error (tc_store_error() says why). */
int tc_store_put_snapshot(tc_store_t *s, uint64_t log_seq, const uint8_t *buf, size_t len,
                          unsigned keep);

/* Copies out the newest snapshot taken at or before log record `upto`
 * (UINT64_MAX: the newest of all), with its log seq in *log_seq. Caller
 * frees *buf. Returns 0, TC_ENOTFOUND, TC_ENOMEM or TC_EIO. */
int tc_store_get_snapshot(tc_store_t *s, uint64_t upto, uint64_t *log_seq, uint8_t **buf,
                          size_t *len);

/* Copies out the configuration recorded at `log_seq`, or the first or the
 * last one recorded (with its log seq in *log_seq). Caller frees *buf.
 * Returns 0, TC_ENOTFOUND (none), TC_ENOMEM or TC_EIO. */
int tc_store_get_config(tc_store_t *s, uint64_t log_seq, uint8_t **buf, size_t *len);
int tc_store_first_config(tc_store_t *s, uint64_t *log_seq, uint8_t **buf, size_t *len);
int tc_store_last_config(tc_store_t *s, uint64_t *log_seq, uint8_t **buf, size_t *len);

#endif
