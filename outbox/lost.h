/*
 * lost.h - what a sender could not spool, per check, until it can say so.
 *
 * When the spool is full (or its disk is), a new event cannot be stored.
 * Dropping it silently would leave a hole in the story, and refusing to
 * move on would wedge the sender. Instead this table keeps, per check
 * (service, check and host), the latest state it could not spool and how
 * many transitions it had to discard since the last one that was spooled,
 * from when to when. Once the spool has room, tc_lost_release() turns each
 * record into events, in one transaction: an EventsLost for the
 * transitions that are gone, followed by the check's latest state unless
 * it equals the last one spooled (then the coordinator's view is already
 * right). Sequence numbers are assigned only then, so the sequence stays
 * contiguous and nothing already numbered is renumbered.
 *
 * Durability: every record is also written to the spool as a held record
 * (in the spool's headroom), so the bookkeeping survives a restart. When
 * that write fails (the disk is full) the record stays in memory, marked
 * volatile, and is written or released as soon as the spool can take it.
 *
 * "Last one spooled" is remembered in memory from tc_lost_spooled() and
 * stored in each record; after a restart it is unknown until the check's
 * next event, and an unknown base means the latest state is always sent.
 *
 * Threading: the owner's thread only, like the spool it uses.
 */
#ifndef TC_OUTBOX_LOST_H
#define TC_OUTBOX_LOST_H

#include "msg.h"
#include "spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_lost_t tc_lost_t;

/* Creates the table for `spool` (borrowed; must outlive the table) and
 * loads the records it holds from before a restart. On success *out is the
 * caller's (tc_lost_destroy()). Returns 0, TC_ENOMEM or TC_EIO. Records
 * that cannot be decoded are dropped with an ERROR line. */
int tc_lost_new(tc_spool_t *spool, tc_lost_t **out);

/* Frees the table (what it holds durably stays in the spool). NULL-safe;
 * nulls *plost. */
void tc_lost_destroy(tc_lost_t **plost);

/* Notes that `m` (borrowed) entered the spool: the state a later latest
 * state of its check is compared with. Only CheckResults count. */
void tc_lost_spooled(tc_lost_t *l, const tc_msg_t *m);

/* True if the check of `m` (a CheckResult) has a record: its new events
 * must come after what the record stands for, so they join it. */
bool tc_lost_has(const tc_lost_t *l, const tc_msg_t *m);

/* Records `m` (borrowed; a CheckResult that could not be spooled, with its
 * time_ms when observed) as the latest state of its check; the latest it
 * replaces becomes a lost transition (an event in the same state as the
 * latest is no transition and changes nothing). `reason` (e.g. "spool full (64 MiB)")
 * is kept from a check's first discard. Tries to write the record durably;
 * *durable (may be NULL) says whether that worked. Returns 0, TC_EINVAL
 * (not a CheckResult) or TC_ENOMEM. */
int tc_lost_add(tc_lost_t *l, const tc_msg_t *m, const char *reason, bool *durable);

/* Releases records into the spool, the oldest first, while it has room,
 * and writes the volatile ones it cannot release yet. Sets *released (may
 * be NULL) to the records released and *spooled (may be NULL) to the
 * events that went into the spool. Returns 0 when no record is left,
 * TC_EFULL when some wait for room, or the spool's storage error
 * (tc_spool_error() says why). */
int tc_lost_release(tc_lost_t *l, size_t *released, size_t *spooled);

/* Checks with a record. */
size_t tc_lost_checks(const tc_lost_t *l);

/* Transitions the records stand for (including each latest state). */
uint64_t tc_lost_transitions(const tc_lost_t *l);

/* Records only in memory (their durable write failed). */
size_t tc_lost_volatile(const tc_lost_t *l);

#endif
