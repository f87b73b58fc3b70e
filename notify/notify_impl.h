/*
 * notify_impl.h - what tocsin-notify's files share: the process's one
 * context and the functions each file offers the others.
 *
 *   main.c        options, configuration, start and stop
 *   nf_feed.c     the broadcast feed: catch-up and live, status updates and
 *                 pages turned into queued deliveries, the coordinator's
 *                 components and contacts kept in the state
 *   nf_deliver.c  channels and their deliveries: scheduling, results,
 *                 retries, failing channels, reports to the coordinator
 *   nf_metrics.c  GET /metrics
 *   pages.c       a page's deliveries and payloads (pure)
 *
 * One zloop on the main thread holds everything; nothing here is shared
 * with another thread. Private to notify/.
 */
#ifndef TC_NOTIFY_IMPL_H
#define TC_NOTIFY_IMPL_H

#include "acklink.h"
#include "client.h"
#include "follow.h"
#include "httpd.h"
#include "notify_config.h"
#include "prom.h"
#include "queue.h"
#include "sdnotify.h"
#include "sender.h"
#include "wire.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

/* How long one API call may take before it counts as unanswered. Short,
 * because the call blocks the loop (and so the transfers) meanwhile. */
#define TC_NF_API_TIMEOUT_MS 2000
#define TC_NF_API_BACKOFF_FIRST_MS 1000
#define TC_NF_API_BACKOFF_MAX_MS 30000
/* After a failed write of the state: how soon to try again. */
#define TC_NF_STORE_RETRY_MS 5000
/* How often the contacts are asked for again while all is well: a roster
 * change reaches the notifier within this, and at once after the
 * coordinator restarts (the feed reconnects). */
#define TC_NF_CONTACTS_EVERY_MS 60000

/* One channel: a subscription, or one contact method of a person (pages).
 * Each has at most one delivery in flight, so its receiver sees its
 * deliveries in order. */
typedef struct {
    char name[TC_NOTIFY_CHANNEL_MAX];
    const tc_notify_sub_t *sub; /* the subscription; NULL for a page channel */
    bool busy;                  /* a transfer is in flight */
    int64_t wake_ms;            /* wall time its head is due; INT64_MAX: nothing pending */
    tc_delivery_t cur;          /* the delivery in flight (valid while busy) */
    uint64_t failing;           /* qseq of the delivery reported failing (0: none) */
    /* Since start, for /metrics. */
    uint64_t delivered, failed, retried;
    char method[16]; /* a page channel's contact method, as last seen */
} tc_nf_chan_t;

typedef struct {
    tc_notify_config_t *cfg;
    tc_client_keys_t keys;
    tc_notify_queue_t *queue;
    tc_notify_sender_t *sender;
    zsock_t *sub;
    tc_client_t *api;
    tc_follow_t *follow;
    tc_nf_chan_t **chans; /* subscriptions first, in configuration order, then pages */
    size_t nchans, chans_cap;
    size_t rr;     /* where the next scheduling round starts */
    uint64_t seen; /* last broadcast processed (maybe not yet saved) */
    int64_t cursor_saved_mono;
    bool need_catch_up;
    bool await_live; /* new state: the feed starts with the first
                        heartbeat or broadcast */
    int64_t api_next_mono, api_backoff;
    bool reports_waiting;
    int64_t report_next_mono, report_backoff;
    int64_t prune_next_mono;
    int64_t sub_mono;      /* last message on SUB, or when it was made */
    int64_t heard_ms;      /* wall time the coordinator was last heard (0: never) */
    zsock_t *old_sub;      /* replaced by tc_nf_resubscribe(); destroyed a tick later */
    bool store_failing;    /* a write failed; logged once until one works */
    tc_component_t *comps; /* the coordinator's components, for display names */
    size_t ncomps;
    bool need_components;     /* fetch them when the API answers */
    tc_api_reply_t *contacts; /* how people are paged (API contacts), as saved */
    bool need_contacts;
    int64_t contacts_mono; /* when they were last fetched */
    uint8_t link_key[TC_ACKLINK_KEY_BYTES];
    bool has_link_key;               /* pages carry acknowledgement links */
    uint64_t pages, page_deliveries; /* since start */
    tc_httpd_t *metrics;
    tc_prom_t *prom;
    bool stopping;
    bool fatal; /* out of memory: exit 1 */
    tc_sdnotify_t *sd;
} tc_nf_t;

/* ---- nf_feed.c ------------------------------------------------------------ */

/* tc_follow_fetch_fn and tc_follow_emit_fn for the follower. */
int tc_nf_fetch(void *arg, uint64_t from, tc_api_reply_t **preply);
int tc_nf_emit(void *arg, const tc_msg_t *m);

/* zloop reader of the SUB socket. */
int tc_nf_on_sub(zloop_t *loop, zsock_t *reader, void *arg);

/* Starts the feed at the stored cursor, or after the coordinator's newest
 * broadcast on a new state. 0, or the API's error. */
int tc_nf_start_feed(tc_nf_t *ctx);

/* Makes the SUB socket again after a silence. -1 if the loop failed. */
int tc_nf_resubscribe(zloop_t *loop, tc_nf_t *ctx);

/* Asks the coordinator for its components / contacts (one attempt each);
 * what it answers is kept in the state. */
void tc_nf_fetch_components(tc_nf_t *ctx);
void tc_nf_fetch_contacts(tc_nf_t *ctx);

/* The person `id` as the saved contacts know them, or NULL. Borrowed. */
const tc_person_t *tc_nf_person(const tc_nf_t *ctx, const char *id);

/* Writes the cursor when broadcasts were processed since the last write.
 * Returns 0, or an error only when fatal. */
int tc_nf_save_cursor(tc_nf_t *ctx);

/* ---- nf_deliver.c ------------------------------------------------------------ */

/* The channel named `name`, made (for a page channel) if new; NULL on
 * allocation failure. */
tc_nf_chan_t *tc_nf_chan(tc_nf_t *ctx, const char *name, const tc_notify_sub_t *sub);

/* Makes a channel of every subscription and of every page channel with
 * deliveries in the queue. Returns 0 or TC_ENOMEM / TC_EIO. */
int tc_nf_chans_init(tc_nf_t *ctx);

/* Wakes the channel of each of the `n` deliveries `ds` just queued. */
void tc_nf_wake(tc_nf_t *ctx, const tc_delivery_t *ds, size_t n);

/* Queues a report that page deliveries could not even start (no contact
 * method, no relay): the coordinator's timeline shows it. */
void tc_nf_report_undeliverable(tc_nf_t *ctx, const tc_msg_t *m, const char *method,
                                const char *why);

/* Starts due deliveries; sends queued reports; the done callback. */
void tc_nf_schedule(tc_nf_t *ctx);
void tc_nf_report(tc_nf_t *ctx);
void tc_nf_on_done(void *arg, void *tag, const tc_notify_result_t *r);

/* Reports deliveries of subscriptions no longer configured as failed. */
int tc_nf_drop_orphans(tc_nf_t *ctx);

/* A write of the state failed / worked again (logged once each way). */
void tc_nf_store_failed(tc_nf_t *ctx, int rc, const char *doing);
void tc_nf_store_ok(tc_nf_t *ctx);

/* After an unanswered API call: back off. */
void tc_nf_api_failed(int64_t *next, int64_t *backoff);

/* ---- nf_metrics.c ---------------------------------------------------------------- */

/* Serves GET /metrics on `addr` with `loop`. Returns 0 or an error with a
 * reason in `why`. */
int tc_nf_metrics_start(tc_nf_t *ctx, zloop_t *loop, const char *addr, char *why, size_t whylen);

#endif
