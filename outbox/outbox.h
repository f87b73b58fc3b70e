/*
 * outbox.h - a sequenced sender's delivery: durable spool, link to the
 * coordinator, Hello/Ack/resend, pacing, heartbeats.
 *
 * Every process that turns something into events for the coordinator (the
 * agent's checks, a gateway's HTTP alerts) numbers them, keeps them until
 * they are acknowledged and resends from the coordinator's Ack. This is that
 * machinery, on the caller's zloop:
 *
 *   - tc_outbox_append() spools an event durably, assigning the next
 *     sequence number, and it is sent when the window and pace allow.
 *   - Hello (seq 0) after every (re)connection; the coordinator answers
 *     with an Ack carrying the highest seq it stored for us, which is also
 *     where sending resumes. The coordinator stores a sender's events only
 *     in order, so an Ack never covers an event it does not have.
 *   - At most `window` events are in flight (sent, not yet acknowledged),
 *     and they go out at no more than `send_rate` per second, so a backlog
 *     of any size drains at a steady pace under the coordinator's per-peer
 *     rate limit instead of tripping it; Acks open the window again.
 *   - Reject RESEND: rewind to resend_from, once (frames already in flight
 *     produce more RESENDs for the same point; those are ignored for a
 *     second). THROTTLED: pause retry_after_ms, then resend from the last
 *     Ack + 1, at half the pace (the pace climbs back while nothing is
 *     throttled). UNAUTHORIZED: pause 5 s, then resend. None of these
 *     deletes anything. INVALID or BAD_VERSION naming a spooled seq: that
 *     one event can never be stored and is deleted (an ERROR line says so).
 *   - A Heartbeat (seq 0) every `heartbeat`, whatever the window, the pace
 *     or a pause.
 *   - Ack watchdog: events in flight and no Ack progress for max(3 s, 2 x
 *     heartbeat): Hello again and resend from its Ack.
 *   - A full spool or a full disk never wedges the sender: an event that
 *     cannot be spooled becomes its check's latest state in the lost-event
 *     bookkeeping (lost.h), reported as EventsLost plus that state once the
 *     spool has room. Lines about it are rate-limited.
 *
 * Threading: the loop's thread only. LMDB writes happen on it.
 */
#ifndef TC_OUTBOX_OUTBOX_H
#define TC_OUTBOX_OUTBOX_H

#include "keys.h"
#include "msg.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_outbox_t tc_outbox_t;

/* Enough to keep the coordinator's batches full at the default pace (64 ms
 * of sending), small enough that a resend after a loss costs little. */
#define TC_OUTBOX_DEFAULT_WINDOW 256
#define TC_OUTBOX_MAX_WINDOW 65536
/* Events per second; under the coordinator's default rate_limit (5000/s
 * per peer) with room for heartbeats and clock differences. */
#define TC_OUTBOX_DEFAULT_RATE 4000
#define TC_OUTBOX_MAX_RATE 1000000

typedef struct {
    const char *sender;           /* id in every envelope and owner of the spool (copied) */
    const char *endpoint;         /* the coordinator's agents endpoint (copied) */
    const tc_client_keys_t *keys; /* borrowed, must outlive the outbox; NULL: plaintext */
    const char *spool_dir;        /* copied */
    size_t spool_max;             /* bytes; 0: TC_SPOOL_DEFAULT_MAX */
    uint32_t window;              /* 0: TC_OUTBOX_DEFAULT_WINDOW */
    uint32_t send_rate;           /* events per second; 0: TC_OUTBOX_DEFAULT_RATE */
    int64_t heartbeat_ms;         /* Heartbeat interval, promised in Hello */
} tc_outbox_config_t;

/* Opens the spool, creates the link and registers its sockets and timers on
 * `loop` (borrowed; must outlive the outbox). The Hello goes out once the
 * connection is up. On success *out is the caller's (tc_outbox_destroy()).
 * Returns 0, or an error code with a one-line reason in `why` (may be
 * NULL): the spool's (TC_ECONFIG: locked or another sender's; TC_ESYS,
 * TC_EDISKFULL, TC_EIO), TC_EINVAL (bad endpoint), TC_ENOMEM.
 * A timer of the outbox returns -1 (stopping the loop) only when the link
 * cannot be rebuilt after a refused handshake, with an ERROR line. */
int tc_outbox_new(zloop_t *loop, const tc_outbox_config_t *cfg, tc_outbox_t **out, char *why,
                  size_t whylen);

/* Deletes what was acknowledged, takes the sockets and timers off the loop
 * and closes everything; unacknowledged events stay in the spool for the
 * next start. NULL-safe; nulls *pob. */
void tc_outbox_destroy(tc_outbox_t **pob);

/* Queues event `m` (borrowed; a CheckResult with its payload and time_ms,
 * the moment it was observed; 0 means now). version and sender are filled
 * in, m->seq is assigned. The event is spooled durably before this returns
 * 0, and sent when the window and the pace allow. When the spool or its
 * disk is full it is not spooled (m->seq stays 0) but kept as the check's
 * latest state, to be reported with a count of what was left out
 * (EventsLost) when there is room: TC_EFULL then. TC_EINVAL for another
 * kind of message; TC_ENOMEM if even that could not be kept. */
int tc_outbox_append(tc_outbox_t *ob, tc_msg_t *m);

typedef struct {
    uint64_t last_seq;  /* highest seq assigned */
    uint64_t acked;     /* highest seq the coordinator acknowledged */
    size_t spooled;     /* events in the spool (acknowledged ones leave soon) */
    uint64_t in_flight; /* sent, not yet acknowledged */
    size_t lost_checks; /* checks whose left-out transitions wait to be reported */
    uint64_t lost_transitions;
    size_t lost_volatile; /* of those, records only in memory (disk full) */
    bool connected;       /* handshake done */
    bool live;            /* Hello answered: sending */
    bool paused;          /* throttled or refused: waiting before resending */
    double rate;          /* current pace, events per second */
    uint64_t sent;        /* event frames sent, resends included */
    uint64_t throttled;   /* THROTTLED replies */
    uint64_t rewinds;     /* RESENDs acted on */
    uint64_t heartbeats;  /* Heartbeats handed to the link */
} tc_outbox_stats_t;

/* Fills *st with the outbox's state now. */
void tc_outbox_stats(tc_outbox_t *ob, tc_outbox_stats_t *st);

/* Bytes of the spool's data pages in use (events, held records, meta):
 * what spool_max limits. One read transaction; for metrics. */
size_t tc_outbox_spool_bytes(tc_outbox_t *ob);

/* The spool's directory, borrowed. */
const char *tc_outbox_spool_dir(const tc_outbox_t *ob);

#endif
