/*
 * spool.h - a sender's durable outbox of sequenced events (LMDB).
 *
 * Every event a sender (tocsin-agent, a gateway) produces is written here,
 * committed and synced, before it is sent, and stays until the coordinator
 * acknowledges it, so an event survives a crash, a kill -9 or a power cut of
 * the sender and any outage of the coordinator. The spool owns the sender's
 * sequence counter: events get 1, 2, 3, ... when they enter the spool, and
 * a number is never handed out twice, even after the spool has emptied or
 * the sender restarted. Numbers are assigned only to events that are
 * stored, so the sequence has no holes.
 *
 * Size. The LMDB map grows (common/lmdb_env) up to `spool_max`. Events stop
 * being accepted at spool_max minus a headroom (1/16 of it, at least 256
 * KiB): tc_spool_append() then returns TC_EFULL. The headroom keeps three
 * things working on a full spool: deleting acknowledged events (which
 * needs fresh pages for LMDB's copy-on-write), the small "held" records
 * (below) and LMDB's own bookkeeping. What is full is measured by the pages
 * the data occupies, not by the file, so space freed by an Ack is usable at
 * once.
 *
 * Held records. Beside the events the spool keeps opaque records by key,
 * written into the headroom: the outbox stores there what it had to leave
 * out while the spool was full (see lost.h), so that it survives a
 * restart. tc_spool_release() turns a held record into events in one
 * transaction.
 *
 * Layout of the directory: LMDB's data.mdb and lock.mdb, plus agent.lock,
 * which an open spool holds with flock() so two senders can never share one
 * spool (they would interleave one counter between two senders); the name
 * is kept from the spools of earlier versions, which open unchanged.
 *
 * Errors. Writes return TC_EFULL (the events limit), TC_EDISKFULL (the file
 * system is full), TC_EIO or TC_ENOMEM; tc_spool_error() then holds a
 * one-line reason naming the directory ("disk full at DIR"). After a
 * storage failure the spool reopens its environment before the next write,
 * so it recovers by itself once the disk has space again.
 *
 * Threading: one thread (the sender's event loop) uses a spool. This is the
 * only module of a sender that includes lmdb.h (through lmdb_env.h).
 */
#ifndef TC_OUTBOX_SPOOL_H
#define TC_OUTBOX_SPOOL_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_spool_t tc_spool_t;

/* Hundreds of thousands of events: a spool holds state changes, not
 * metrics. Earlier versions used a fixed 64 MiB map; a spool they filled
 * to the last page drains with this default. */
#define TC_SPOOL_DEFAULT_MAX ((size_t)128 << 20)
#define TC_SPOOL_MIN_MAX ((size_t)1 << 20)
#define TC_SPOOL_MAX_MAX ((size_t)1 << 40)

/* Opens the spool in directory `dir` (created with parents if missing) for
 * sender `sender`, growing up to `spool_max` bytes (0: the default; values
 * below TC_SPOOL_MIN_MAX are raised to it). A spool that already holds more
 * than its new limit allows keeps room to drain: its map may grow by the
 * headroom beyond what it holds.
 *
 * A spool remembers the sender it was used with. If it still holds unsent
 * events of another sender the open fails with TC_ECONFIG (those events
 * carry the old id and sending them as this one would misattribute them);
 * an empty spool is adopted by the new sender and keeps its counter.
 *
 * On success *out is a new spool the caller owns (tc_spool_destroy()).
 * Returns 0; TC_ECONFIG (in use by another process, or belongs to another
 * sender), TC_ESYS (directory or lock file), TC_EDISKFULL, TC_EIO (LMDB),
 * TC_ENOMEM. A one-line reason goes to `why` (may be NULL). */
int tc_spool_open(const char *dir, const char *sender, size_t spool_max, tc_spool_t **out,
                  char *why, size_t whylen);

/* Closes the spool and releases its lock. NULL-safe; nulls *pspool. */
void tc_spool_destroy(tc_spool_t **pspool);

/* Assigns the next sequence number to m->seq and stores `m` (borrowed),
 * durably, in one transaction. Returns 0; TC_EFULL when the events limit
 * is reached; TC_EDISKFULL, TC_EIO or TC_ENOMEM. On failure nothing is
 * stored, no number is consumed and m->seq is 0. */
int tc_spool_append(tc_spool_t *s, tc_msg_t *m);

/* The same for `n` events in one transaction: all are stored, numbered in
 * array order, or none (m[i].seq all 0). For bulk producers (a webhook
 * with many alerts, a test filling a spool). */
int tc_spool_append_batch(tc_spool_t *s, tc_msg_t *m, size_t n);

/* Deletes every event with seq <= `upto` (an Ack). Works on a full spool:
 * it may use the headroom. Sets *deleted (may be NULL) to how many went.
 * Returns 0, TC_EDISKFULL or TC_EIO. */
int tc_spool_ack(tc_spool_t *s, uint64_t upto, size_t *deleted);

/* Deletes the one event `seq` (one the coordinator will never store).
 * Returns 0, TC_ENOTFOUND, TC_EDISKFULL or TC_EIO. */
int tc_spool_remove(tc_spool_t *s, uint64_t seq);

/* Moves the sequence counter so that the next number is above `floor`,
 * and renumbers the events still in the spool to floor+1, floor+2, ... in
 * their order. For the day the coordinator knows a higher seq for this
 * sender than the spool does (the spool was wiped or restored from an old
 * backup): the coordinator dropped those events as duplicates, and without
 * this every new event would be dropped too. Costs one small write
 * whatever the spool holds (the number is added to each event as it is
 * sent), so it works on a full spool. Does nothing if floor <=
 * tc_spool_last_seq(). Sets *renumbered (may be NULL). Returns 0,
 * TC_EDISKFULL or TC_EIO. */
int tc_spool_rebase(tc_spool_t *s, uint64_t floor, size_t *renumbered);

/* Highest sequence number handed out so far (0 if none, ever). */
uint64_t tc_spool_last_seq(const tc_spool_t *s);

/* Number of events in the spool. Returns 0 or TC_EIO. */
int tc_spool_count(tc_spool_t *s, size_t *n);

/* True if event `seq` is in the spool. */
bool tc_spool_contains(tc_spool_t *s, uint64_t seq);

/* Called for each stored event in order with the Envelope exactly as it
 * goes on the wire (seq included; time_ms as it was when spooled). `frame`
 * is borrowed and valid only during the call; the function must not call
 * into the spool. Return 0 to go on, anything else to stop
 * (tc_spool_foreach returns it). */
typedef int(tc_spool_fn)(uint64_t seq, const uint8_t *frame, size_t len, void *arg);

/* Calls fn for every event with seq > `after`, in increasing seq order.
 * Returns 0, fn's non-zero value, TC_EIO or TC_ENOMEM. */
int tc_spool_foreach(tc_spool_t *s, uint64_t after, tc_spool_fn *fn, void *arg);

/* Copies event `seq` out as its wire frame: on success *frame (caller owns,
 * free()) and *len. Returns 0, TC_ENOTFOUND, TC_EIO or TC_ENOMEM. */
int tc_spool_get(tc_spool_t *s, uint64_t seq, uint8_t **frame, size_t *len);

/* ---- held records ------------------------------------------------------ */

/* Stores (or replaces) the held record `key` (1..255 bytes) with `len`
 * bytes of `data` (borrowed), durably. Held records may use the headroom
 * that events may not, up to the last sixteenth of it. Returns 0, TC_EFULL,
 * TC_EDISKFULL, TC_EIO or TC_ENOMEM. */
int tc_spool_hold(tc_spool_t *s, const char *key, const uint8_t *data, size_t len);

/* Called for each held record; `data` is borrowed for the call only.
 * Return 0 to go on, anything else to stop. */
typedef int(tc_spool_held_fn)(const char *key, const uint8_t *data, size_t len, void *arg);

/* Calls fn for every held record, in key order. Returns 0, fn's value or
 * TC_EIO. */
int tc_spool_held_foreach(tc_spool_t *s, tc_spool_held_fn *fn, void *arg);

/* In one transaction: appends the `n` events of `m` (numbered like
 * tc_spool_append_batch(), under the events limit) and deletes held record
 * `key` if there is one. n may be 0 (only the delete). Returns 0, TC_EFULL
 * (nothing changed), TC_EDISKFULL, TC_EIO or TC_ENOMEM. */
int tc_spool_release(tc_spool_t *s, const char *key, tc_msg_t *m, size_t n);

/* ---- state ---------------------------------------------------------------- */

typedef struct {
    size_t used;         /* bytes of data pages in use (events, held records, meta) */
    size_t events_limit; /* events stop being accepted above this */
    size_t max;          /* spool_max */
    size_t file;         /* size of the map LMDB has grown to */
} tc_spool_usage_t;

void tc_spool_usage(tc_spool_t *s, tc_spool_usage_t *u);

/* The spool's directory, borrowed. */
const char *tc_spool_dir(const tc_spool_t *s);

/* The reason of the last failed call, "" if none yet; borrowed, valid until
 * the next call into the spool. */
const char *tc_spool_error(const tc_spool_t *s);

#endif
