/*
 * coord_impl.h - what the coordinator's modules share: the context struct
 * and the functions one module offers the others.
 *
 * The coordinator is one process with one event loop and one context
 * (struct tc_coord). Its modules, each with one purpose:
 *   coordinator.c  life cycle: sockets, CURVE, replay, the loop; shared helpers
 *   ingest.c       the batch pipeline: frames in, one transaction, acks and
 *                  broadcasts out
 *   respond.c      tocsin's own decisions after a batch: roles from on-call,
 *                  escalations
 *   liveness.c     the periodic tick: silent hosts, deadlines, the PUB heartbeat
 *   requests.c     the API socket: authorization, queries, operator actions
 *   drill.c        `tocsinctl drill`: a synthetic incident through the plan
 * Private to coordinator/; names follow libuv's convention for internals.
 */
#ifndef TC_COORD_IMPL_H
#define TC_COORD_IMPL_H

#include "coordinator.h"

#include "auth.h"
#include "guard.h"
#include "keys.h"
#include "metrics.h"
#include "oncall.h"
#include "state.h"
#include "store.h"
#include "template.h"
#include "wire.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest frame accepted on the agent and API sockets; the biggest valid
 * envelope is a few KiB, so anything near this is hostile or broken. */
#define MAX_FRAME (64 * 1024)
/* Frames kept of one message: routing id, delimiter, payload, and one more
 * so that "too many" can be told from "just right". */
#define MAX_FRAMES 4
#define LIVENESS_TICK_MS 200
/* How often the key directories are checked for changes (revocations). */
#define KEYRING_TICK_MS 1000
/* How often the publisher says what its newest broadcast is, so that a
 * subscriber that lost broadcasts while reconnecting notices even when
 * nothing else is published (the Clone pattern's heartbeat). */
#define PUB_HEARTBEAT_MS 1000

/* What the coordinator knows about a sender between log records: liveness
 * is measured here and only its verdicts (up/down) go into the log. */
typedef struct {
    int64_t last_seen_mono;
    int64_t last_seen_wall;
    uint32_t heartbeat_ms;
    zframe_t *identity; /* ROUTER routing id of its latest connection */
    bool ack_pending;   /* an Ack must be sent after this batch */
    uint64_t ack_seq;   /* what it will say, read inside the batch */
    bool up_queued;     /* a HostStatus up record is in this batch */
    /* Events arrived out of order in this batch and were not stored: after
     * the commit the sender is told to resend from here. */
    uint64_t resend_from;
} tc_coord__peer_t;

/* Keeps a misbehaving client from flooding the log: at most one line per
 * interval, with the count of what was left out. */
typedef struct {
    int64_t last_ms;
    uint64_t suppressed;
} tc_coord__ratelog_t;

#define RATELOG_INTERVAL_MS 10000
/* While storage is failing: how often it is probed, and how long agents
 * are asked to pause before they resend. */
#define S_STORAGE_RETRY_MS 2000
#define S_STORAGE_PAUSE_MS 5000

/* Counters as of the last periodic summary line. */
typedef struct {
    uint64_t stored, broadcasts, batches, duplicates, delayed, refused;
} tc_coord__totals_t;

/* One broadcast of the batch: where its encoded Envelope is in the arena. */
typedef struct {
    tc_bcast_kind_t kind;
    uint64_t seq;
    uint64_t incident; /* for incident broadcasts */
    char topic[TC_ID_MAX + 8];
    size_t off, len;
} tc_coord__out_t;

/* One record waiting for the batch's transaction. */
typedef struct {
    tc_record_t rec;
    size_t raw_off, raw_len; /* its frame in c->frames (raw_len 0: none) */
    uint64_t ticket;         /* 1, 2, ... over the coordinator's life */
    /* A sequenced event that failed validation: it is never stored, but it
     * takes its place in the sender's sequence (once it is its turn), so
     * that the events after it are not held up forever; the refusal is
     * audited and the sender told only after the commit. */
    bool refused;
    bool answer;        /* its turn came (or had passed): tell the sender */
    zframe_t *identity; /* of a refused event: where the answer goes */
    tc_reject_reason_t refused_reason;
    uint64_t resend_from; /* for an answer of reason RESEND */
    char refused_why[160];
} tc_coord__pending_t;

struct tc_coord {
    tc_coord_config_t cfg;
    tc_store_t *store;
    tc_state_t *state;
    zloop_t *loop;
    zsock_t *agents;
    zsock_t *api;
    zsock_t *pub;
    zhashx_t *peers;           /* sender -> tc_coord__peer_t */
    tc_keyring_t *keyring;     /* NULL when insecure */
    tc_roster_t *roster;       /* on-call rotations; empty without a config file */
    tc_templates_t *templates; /* status update texts: built-in, or from files */
    bool assigning;            /* inside tc_coord__assign_roles: no recursion */
    tc_auth_t *auth;           /* NULL when insecure */
    zactor_t *monitors[3];     /* handshake failures per server socket */
    tc_coord__ratelog_t denial_log;
    tc_coord__ratelog_t reject_log;
    tc_ratelimit_t *limits; /* per peer, agents and API sockets; NULL = off */
    tc_audit_t *audit;      /* audit records waiting for the next commit */
    size_t naudit, audit_cap;
    tc_ratelimit_t *audit_limit; /* bounds denial records under a flood */
    uint64_t audit_suppressed;
    tc_coord__pending_t *batch;
    size_t nbatch, batch_cap;
    /* Broadcasts of this batch, encoded once into `arena` (stored, then
     * published after the commit from the same bytes). */
    tc_coord__out_t *out;
    size_t nout, out_cap;
    tc_buf_t arena;
    tc_buf_t frames;              /* the batch's frames as received (log records wrap them) */
    tc_state_out_t *sout;         /* the state machine's output for one record */
    tc_msg_t *scratch;            /* a frame being decoded */
    uint64_t broadcasts, batches; /* since start, for the periodic summary */
    tc_coord__totals_t summary_last;
    int64_t summary_at;  /* monotonic */
    int64_t tick_mono;   /* when the last liveness tick ran (first: when the loop started) */
    size_t acks_pending; /* peers with ack_pending set */
    uint64_t ticks;
    int64_t started_ms;
    uint64_t accepted, duplicates, rejected, denied;
    uint64_t throttled; /* frames refused over a rate limit; their senders resend */
    uint64_t deferred;  /* events not stored because an earlier one was missing */
    /* Added to the wall clock for everything the state machine sees; only
     * ever non-zero with coordinator.test_clock (tests and drills). */
    int64_t clock_offset_ms;
    int fatal; /* failure code that stops the loop (the state cannot be rebuilt) */
    /* Storage that failed (a full disk, a map at its maximum, an I/O error):
     * while non-zero nothing is stored or acknowledged; reads go on, and
     * the tick probes the store every S_STORAGE_RETRY_MS. */
    int storage_rc;
    int64_t storage_since; /* monotonic */
    int64_t storage_probed;
    /* The configuration of this run, encoded as it is recorded (StateConfig). */
    uint8_t *config_buf;
    size_t config_len;
    bool config_pending; /* differs from the last recorded one; not yet in the log */
    /* Record it with the next flush even if nothing else is stored: a log
     * that has records gets its new configuration at start-up, before any
     * request is checked against it (an empty log stays empty). */
    bool config_now;
    uint64_t snapshot_seq; /* log record of the newest snapshot (0: none) */
    int64_t snapshot_mono; /* when it was taken (monotonic; 0: not in this run) */
    /* The latest action no longer valid when its batch was stored (a
     * deadline fired first): its ticket and why, for the requester. */
    uint64_t tickets, dropped_ticket;
    zhashx_t *read_audits; /* "key/command" -> when its read was last audited */
    int64_t audit_pruned;  /* monotonic, last audit retention run */
    char dropped_why[TC_TEXT_MAX];
    /* The key acknowledgement links are signed with (KEYS/links.key);
     * without it (--insecure and no such file) links are refused. */
    uint8_t link_key[32];
    bool has_link_key;
    tc_coord_metrics_t *metrics; /* --metrics; NULL when off (metrics.h) */
};

/* ---- coordinator.c ----------------------------------------------------- */

/* The coordinator's clock for records and deadlines: the wall clock, moved
 * forward by `tocsinctl clock` when test_clock allows it. */
int64_t tc_coord__now(const tc_coord_t *c);

/* Makes room for one more element in a growable array (doubling from 64).
 * Returns 0 or TC_ENOMEM. */
int tc_coord__grow(void **arr, size_t *cap, size_t n, size_t elem);

/* tc_warn through a rate limiter, noting how many lines it held back. */
void tc_coord__warn_limited(tc_coord__ratelog_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queues an audit record, written with the next commit. */
void tc_coord__audit(tc_coord_t *c, const tc_key_t *key, const char *public_txt, const char *action,
                     bool allowed, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The status-update templates of `cfg` (caller owns *out). */
int tc_coord__templates(const tc_coord_config_t *cfg, tc_templates_t **out);

/* Throws the in-memory state away and rebuilds it from the store (after
 * a batch failed to commit, the state was ahead of the disk). */
int tc_coord__rebuild(tc_coord_t *c);

/* ---- ingest.c ------------------------------------------------------------ */

/* The peer entry of `sender`, made on first use; NULL on allocation failure. */
tc_coord__peer_t *tc_coord__peer(tc_coord_t *c, const char *sender);

/* zhashx destructor of a peer entry. */
void tc_coord__peer_free(void **item);

/* A zeroed record appended to the batch; NULL on allocation failure. */
tc_record_t *tc_coord__queue(tc_coord_t *c);

/* Queues a coordinator-made HostStatus record. */
void tc_coord__queue_host(tc_coord_t *c, const char *host, bool up, uint32_t heartbeat_ms,
                          const char *reason);

/* Stores the batch in one transaction, then acks and publishes. */
int tc_coord__flush(tc_coord_t *c);

/* Receives one message from a ROUTER socket under the frame cap and the
 * peer's rate limit; NULL if nothing usable arrived (already counted). */
zmsg_t *tc_coord__recv_guarded(tc_coord_t *c, zsock_t *sock, const char *what);

/* zloop reader of the agents socket. */
int tc_coord__on_agents(zloop_t *loop, zsock_t *sock, void *arg);

/* ---- respond.c ----------------------------------------------------------- */

/* How long a page for `role` of `inc` waits for acknowledgement. */
int64_t tc_coord__page_timeout(const tc_coord_t *c, const tc_incident_t *inc, const char *role);

/* Queues an action by `actor` ("tocsin" for its own decisions) with an
 * optional status update, if the state machine accepts it now; one it
 * refuses is dropped, with the reason in `why` (may be NULL). Returns 0 or
 * TC_ENOMEM; *queued (may be NULL) says whether it was queued. */
int tc_coord__queue_action(tc_coord_t *c, const char *actor, uint64_t incident, const char *action,
                           const char *const *args, size_t nargs, const tc_update_t *u,
                           const char *message, bool *queued, char *why, size_t whylen);

/* Fills roles and escalates pages for the incidents `ids` just changed. */
int tc_coord__assign_roles(tc_coord_t *c, const uint64_t *ids, size_t nids);

/* ---- liveness.c ---------------------------------------------------------- */

/* True if a deadline is due at `now` (tc_coord__flush() fires it). */
bool tc_coord__deadline_due(const tc_coord_t *c, int64_t now);

/* zloop timers: the liveness tick and the PUB heartbeat. */
int tc_coord__on_tick(zloop_t *loop, int timer_id, void *arg);
int tc_coord__on_pub_heartbeat(zloop_t *loop, int timer_id, void *arg);

/* ---- requests.c ---------------------------------------------------------- */

/* zloop reader of the API socket. */
int tc_coord__on_api(zloop_t *loop, zsock_t *sock, void *arg);

/* The arguments of a request, for the audit trail. */
const char *tc_coord__request_detail(const tc_api_request_t *q, char *out, size_t cap);

/* ---- links.c -------------------------------------------------------------- */

/* `link check|ack TOKEN` from a gateway: what the page of an
 * acknowledgement link is, or its acknowledgement as the person. */
int tc_coord__api_link(tc_coord_t *c, const tc_key_t *key, const char *user,
                       const tc_api_request_t *q, tc_api_reply_t *reply);

/* `contacts`: every person and how they are paged. */
int tc_coord__api_contacts(tc_coord_t *c, tc_api_reply_t *reply);

/* ---- drill.c ------------------------------------------------------------- */

/* `tocsinctl drill`: answers in *reply. */
int tc_coord__api_drill(tc_coord_t *c, const tc_key_t *key, const tc_api_request_t *q,
                        tc_api_reply_t *reply);

#endif
