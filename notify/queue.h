/*
 * queue.h - tocsin-notify's durable state: the broadcast cursor, the queue
 * of pending deliveries, the set of finished ones and the results not yet
 * reported to the coordinator, in one LMDB environment.
 *
 * The cursor and the deliveries a broadcast produces are written in one
 * transaction, so after a crash a broadcast is either fully enqueued (and
 * the cursor past it) or not at all (and it is fetched again). A delivery
 * leaves the queue only when its result is final, in the same transaction
 * that records its key as done and queues its report. Every commit is
 * fsync'ed (LMDB's default).
 *
 * Pending deliveries are ordered per subscription by the order they were
 * enqueued; tc_notify_queue_head() returns the oldest, which is the only
 * one a sender may work on, so a receiver that recovers gets its
 * deliveries in order.
 *
 * The environment is opened through common/lmdb_env.h: the map grows as
 * needed, and a write that fails (a full disk, named as such in the
 * reason) changes nothing, so the caller keeps what is queued and tries
 * again later; the environment is reopened before the next write, since
 * LMDB may refuse every transaction after a failed commit.
 *
 * A queue is used from one thread. The directory is locked against a
 * second process.
 */
#ifndef TC_NOTIFY_QUEUE_H
#define TC_NOTIFY_QUEUE_H

#include "msg.h"
#include "payload.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_NOTIFY_QUEUE_DEFAULT_MAP_SIZE ((size_t)8 << 20) /* grows as needed */
#define TC_NOTIFY_DETAIL_MAX 160
/* A channel is what keeps its deliveries in order: a subscription (its
 * name), or one contact method of a person for pages ("PERSON#N", the
 * N-th method; '#' is in neither a subscription's name nor a person's). */
#define TC_NOTIFY_CHANNEL_MAX 80

/* What a page's delivery needs besides the queue's bookkeeping: the
 * contact method and the page as the coordinator sent it. Copied at
 * enqueue time, so a delivery does not change if the roster does. */
typedef struct {
    tc_contact_t contact;
    char name[TC_PERSON_NAME_MAX];          /* the person's display name */
    char conference[TC_CONTACT_TARGET_MAX]; /* the conference link ("" none) */
    uint64_t bseq;                          /* the page's broadcast */
    int64_t sent_ms;                        /* when the coordinator made it */
    tc_page_t page;
    tc_incident_t incident; /* the incident as the page carried it */
    char detail[TC_TEXT_MAX];
} tc_page_delivery_t;

typedef struct {
    char sub[TC_NOTIFY_CHANNEL_MAX]; /* the channel */
    uint64_t qseq;                   /* enqueue order; set by the queue */
    char key[TC_NOTIFY_KEY_MAX];     /* idempotency key */
    uint32_t attempts;               /* attempts made so far */
    int64_t first_ms;                /* when it was enqueued (wall clock) */
    int64_t next_try_ms;             /* not before this (wall clock) */
    char last_error[TC_NOTIFY_DETAIL_MAX];
    tc_update_t update; /* a status update's delivery */
    bool is_page;       /* ... or a page's: */
    tc_page_delivery_t pg;
} tc_delivery_t;

/* What a report says. FAILING is not final: the delivery is still queued
 * and retried, but has been undelivered for longer than failing_after. */
typedef enum {
    TC_DELIVERY_FAILED = 0, /* gave up, or refused for good */
    TC_DELIVERY_DELIVERED = 1,
    TC_DELIVERY_FAILING = 2,
} tc_delivery_result_t;

typedef struct {
    uint64_t rseq;     /* set by the queue */
    uint64_t incident; /* 0 for a window's update (only FAILING reports have one) */
    uint32_t number;
    char sub[TC_ID_MAX];
    tc_delivery_result_t result;
    int64_t latency_ms; /* since publication; FAILING: age of the oldest undelivered */
    uint32_t attempts;
    char detail[TC_NOTIFY_DETAIL_MAX]; /* the answer, or the last error */
    bool page;                         /* about a page: number is the page's */
    char person[TC_ID_MAX];            /* pages: to whom */
    char method[16];                   /* pages: email, webhook, slack, ntfy */
} tc_delivery_report_t;

/* "delivered", "failed", "failing". */
const char *tc_delivery_result_name(tc_delivery_result_t r);

typedef struct tc_notify_queue tc_notify_queue_t;

/* Opens (creating if needed) the state in directory `dir` with an LMDB map
 * of at first `map_size` bytes (0: the default). Returns 0 and a queue the
 * caller owns in *out, or an error with a one-line reason in `why`:
 * TC_ECONFIG if another process holds the directory, TC_ESYS, TC_EDISKFULL
 * or TC_EIO otherwise. */
int tc_notify_queue_open(const char *dir, size_t map_size, tc_notify_queue_t **out, char *why,
                         size_t whylen);

/* Closes the environment and releases the lock; NULL-safe; nulls *pself. */
void tc_notify_queue_destroy(tc_notify_queue_t **pself);

/* The last broadcast sequence whose deliveries are enqueued; 0 on a new
 * state directory. */
uint64_t tc_notify_queue_cursor(const tc_notify_queue_t *self);

/* Why the last failed call failed, one line naming the directory ("" after
 * a success). Borrowed; valid until the next call. */
const char *tc_notify_queue_why(const tc_notify_queue_t *self);

/* In one transaction: appends the `n` deliveries `ds` (their qseq is set;
 * one whose key is already done or pending is skipped, so re-processing a
 * broadcast is harmless) and moves the cursor to `seq` (never backwards).
 * `ds` may be NULL when n == 0. Sets *added (may be NULL). Returns 0,
 * TC_EFULL or TC_EIO; on error nothing changed. */
int tc_notify_queue_enqueue(tc_notify_queue_t *self, uint64_t seq, tc_delivery_t *ds, size_t n,
                            size_t *added);

/* Copies the oldest pending delivery of subscription `sub` into *out.
 * Returns 0, TC_ENOTFOUND if there is none, or TC_EIO. */
int tc_notify_queue_head(tc_notify_queue_t *self, const char *sub, tc_delivery_t *out);

/* Rewrites the attempt count, next try time and last error of pending
 * delivery `d` (found by d->sub and d->qseq). Returns 0, TC_ENOTFOUND or
 * TC_EIO. */
int tc_notify_queue_retry(tc_notify_queue_t *self, const tc_delivery_t *d);

/* In one transaction: removes pending delivery `d`, records d->key as done
 * at `now_ms`, and, if `report` is not NULL, queues it (its rseq is set).
 * Returns 0, TC_ENOTFOUND or TC_EIO; on error nothing changed. */
int tc_notify_queue_finish(tc_notify_queue_t *self, const tc_delivery_t *d,
                           tc_delivery_report_t *report, int64_t now_ms);

/* True if `key` is in the done set. */
bool tc_notify_queue_is_done(tc_notify_queue_t *self, const char *key);

/* Copies the oldest unreported result into *out. Returns 0, TC_ENOTFOUND
 * or TC_EIO. */
int tc_notify_queue_report_first(tc_notify_queue_t *self, tc_delivery_report_t *out);

/* Queues `report` alone (its rseq is set): a FAILING report, while its
 * delivery stays queued. Returns 0 or a write error. */
int tc_notify_queue_report(tc_notify_queue_t *self, tc_delivery_report_t *report);

/* Removes the result numbered `rseq` once the coordinator has it. Returns
 * 0 (also if it was not there) or TC_EIO. */
int tc_notify_queue_report_drop(tc_notify_queue_t *self, uint64_t rseq);

/* Forgets done keys recorded before `before_ms`. Sets *pruned (may be
 * NULL). Returns 0 or TC_EIO. */
int tc_notify_queue_prune(tc_notify_queue_t *self, int64_t before_ms, size_t *pruned);

/* Counts of pending deliveries and unreported results (either may be
 * NULL). Returns 0 or TC_EIO. */
int tc_notify_queue_counts(tc_notify_queue_t *self, size_t *pending, size_t *reports);

/* Replaces the saved component list with `cs` (`n`, borrowed), so display
 * names are known while the coordinator is down. Returns 0 or a write
 * error. */
int tc_notify_queue_save_components(tc_notify_queue_t *self, const tc_component_t *cs, size_t n);

/* The saved component list, in the order saved: *out is the caller's
 * (free()), NULL when *n is 0. Returns 0, TC_ENOMEM or TC_EIO. */
int tc_notify_queue_components(tc_notify_queue_t *self, tc_component_t **out, size_t *n);

/* Writes up to `cap` distinct channels that have pending deliveries into
 * `names`, in name order, and their number into *n. Returns 0 or TC_EIO. */
int tc_notify_queue_subs(tc_notify_queue_t *self, char (*names)[TC_NOTIFY_CHANNEL_MAX], size_t cap,
                         size_t *n);

/* The time the oldest pending delivery was enqueued (wall clock) into
 * *first_ms, 0 when nothing is pending. Returns 0 or TC_EIO. */
int tc_notify_queue_oldest(tc_notify_queue_t *self, int64_t *first_ms);

/* Replaces the saved contacts (the coordinator's `contacts` reply, as it
 * was encoded: `buf`, `len`, borrowed), so pages are delivered while the
 * coordinator is down. Returns 0 or a write error. */
int tc_notify_queue_save_contacts(tc_notify_queue_t *self, const uint8_t *buf, size_t len);

/* The saved contacts as a reply the caller owns (tc_api_reply_destroy),
 * or NULL in *out when none were saved. Returns 0, TC_ENOMEM or TC_EIO. */
int tc_notify_queue_contacts(tc_notify_queue_t *self, tc_api_reply_t **out);

#endif
