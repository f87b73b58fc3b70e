/*
 * spool.h - the agent's durable outbox (LMDB).
 *
 * Every event the agent produces is written here, committed and synced,
 * before it is sent, and stays until the coordinator acknowledges it, so an
 * event survives a crash, a kill -9 or a power cut of the agent and any
 * outage of the coordinator. The spool also owns the agent's sequence
 * counter: events get 1, 2, 3, ... and a number is never handed out twice,
 * even after the spool has emptied or the agent restarted.
 *
 * Layout of the directory: LMDB's data.mdb and lock.mdb, plus agent.lock,
 * which an open spool holds with flock() so two agents can never share one
 * spool (they would interleave one counter between two senders).
 *
 * Threading: one thread (the agent's event loop) uses a spool. This is the
 * only module of the agent that includes lmdb.h; LMDB errors become
 * TC_EIO, TC_EFULL or TC_ENOMEM here.
 */
#ifndef TC_AGENT_SPOOL_H
#define TC_AGENT_SPOOL_H

#include "msg.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tc_spool_t tc_spool_t;

/* Modest on purpose: a spool holds state changes, not metrics, and tens of
 * MiB is hundreds of thousands of events. */
#define TC_SPOOL_DEFAULT_MAP_SIZE ((size_t)64 << 20)

/* Opens the spool in directory `dir` (created with parents if missing) for
 * agent `agent_id`, with an LMDB map of `map_size` bytes (0 = default).
 *
 * A spool remembers the id it was used with. If it still holds unsent
 * events of another id the open fails with TC_ECONFIG (those events carry
 * the old id and sending them as this agent would misattribute them); an
 * empty spool is adopted by the new id and keeps its counter.
 *
 * On success *out is a new spool the caller owns (tc_spool_destroy()).
 * Returns 0; TC_ECONFIG (in use by another process, or belongs to another
 * agent), TC_ESYS (directory or lock file), TC_EIO (LMDB), TC_ENOMEM.
 * A one-line reason goes to `why` (may be NULL). */
int tc_spool_open(const char *dir, const char *agent_id, size_t map_size, tc_spool_t **out,
                  char *why, size_t whylen);

/* Closes the spool and releases its lock. NULL-safe; nulls *pspool. */
void tc_spool_destroy(tc_spool_t **pspool);

/* Assigns the next sequence number to m->seq, encodes `m` (borrowed) with
 * tc_wire_encode_msg() and stores it, durably, in one transaction.
 * Returns 0; TC_EFULL when the map is full (the event is not stored and its
 * number not consumed: the caller drops the NEW event so that the old,
 * older-and-unsent ones are never lost); TC_EIO; TC_ENOMEM. m->seq is left
 * 0 on failure. */
int tc_spool_append(tc_spool_t *s, tc_msg_t *m);

/* Deletes every event with seq <= `upto` (an Ack). Sets *deleted (may be
 * NULL) to how many went. Returns 0 or TC_EIO. */
int tc_spool_ack(tc_spool_t *s, uint64_t upto, size_t *deleted);

/* Deletes the one event `seq` (a Reject). Returns 0, TC_ENOTFOUND or
 * TC_EIO. */
int tc_spool_remove(tc_spool_t *s, uint64_t seq);

/* Moves the sequence counter so that the next number is above `floor`, and
 * renumbers the events still in the spool to floor+1, floor+2, ... in their
 * order (re-encoding each). For the day the coordinator knows a higher seq
 * for this agent than the spool does (the spool was wiped or restored from
 * an old backup): without this, every new event would be dropped as a
 * duplicate. Does nothing if floor <= tc_spool_last_seq(). Sets *renumbered
 * (may be NULL). Returns 0, TC_EFULL, TC_EIO or TC_ENOMEM. */
int tc_spool_rebase(tc_spool_t *s, uint64_t floor, size_t *renumbered);

/* Highest sequence number handed out so far (0 if none, ever). */
uint64_t tc_spool_last_seq(const tc_spool_t *s);

/* Number of events in the spool. Returns 0 or TC_EIO. */
int tc_spool_count(tc_spool_t *s, size_t *n);

/* True if event `seq` is in the spool. */
bool tc_spool_contains(tc_spool_t *s, uint64_t seq);

/* Called for each stored event in order. `data` is borrowed from LMDB and
 * valid only during the call; the function must not call into the spool.
 * Return 0 to go on, anything else to stop (tc_spool_foreach returns it). */
typedef int(tc_spool_fn)(uint64_t seq, const uint8_t *data, size_t len, void *arg);

/* Calls fn for every event with seq > `after`, in increasing seq order.
 * Returns 0, fn's non-zero value, or TC_EIO. */
int tc_spool_foreach(tc_spool_t *s, uint64_t after, tc_spool_fn *fn, void *arg);

/* Copies event `seq` out: on success *data (caller owns, free()) and *len.
 * Returns 0, TC_ENOTFOUND, TC_EIO or TC_ENOMEM. */
int tc_spool_get(tc_spool_t *s, uint64_t seq, uint8_t **data, size_t *len);

#endif
