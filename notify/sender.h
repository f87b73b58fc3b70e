/*
 * sender.h - delivers payloads over HTTP(S) and SMTP(S) with libcurl's
 * multi interface, so transfers make progress while the caller's event
 * loop keeps running.
 *
 * The caller starts transfers with tc_notify_sender_start() and calls
 * tc_notify_sender_run() often (tocsin-notify: from a ~50 ms zloop timer);
 * run() drives every transfer as far as it can go without blocking and
 * reports each finished one through a callback. The sender does no
 * retrying or bookkeeping of its own: that is the queue's and main's job.
 *
 * Used from one thread.
 */
#ifndef TC_NOTIFY_SENDER_H
#define TC_NOTIFY_SENDER_H

#include "notify_config.h"
#include "queue.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool ok;                           /* the receiver accepted it: HTTP 2xx, SMTP 250 */
    bool permanent;                    /* a refusal retrying cannot fix (HTTP 4xx but 408, 425,
                                          429; an SMTP 5xx) */
    long code;                         /* HTTP status or last SMTP reply code; 0 if none */
    char detail[TC_NOTIFY_DETAIL_MAX]; /* "HTTP 200", "HTTP 503", a curl error */
} tc_notify_result_t;

/* Called once per finished transfer with the `tag` given to start() and
 * the result (borrowed for the call). */
typedef void(tc_notify_done_fn)(void *arg, void *tag, const tc_notify_result_t *result);

typedef struct tc_notify_sender tc_notify_sender_t;

/* `cfg` is borrowed and must outlive the sender (the SMTP relay, its
 * credentials and the per-attempt timeout come from it). Caller owns the
 * result; NULL if libcurl cannot be set up. curl_global_init() must have
 * been called. */
tc_notify_sender_t *tc_notify_sender_new(const tc_notify_config_t *cfg);

/* Aborts every transfer still running (without calling back) and frees the
 * sender; NULL-safe; nulls *pself. */
void tc_notify_sender_destroy(tc_notify_sender_t **pself);

/* Renders the payload of delivery `d` for subscription `sub` (NULL for a
 * page's delivery, which carries its contact method) with `ctx`
 * (all borrowed for the call; what is needed is copied) at wall-clock time
 * `now_ms` and starts sending it. Every attempt is bounded by the
 * configured timeout (connecting and the whole transfer), so a receiver
 * that accepts and never answers fails the attempt instead of holding the
 * subscription's queue. `tag` is handed back to `done`. Returns 0,
 * TC_ENOMEM, or TC_EIO if libcurl refused the transfer. */
int tc_notify_sender_start(tc_notify_sender_t *self, const tc_notify_sub_t *sub,
                           const tc_delivery_t *d, const tc_notify_context_t *ctx, int64_t now_ms,
                           void *tag);

/* Transfers in flight. */
size_t tc_notify_sender_active(const tc_notify_sender_t *self);

/* Drives all transfers without blocking and calls `done(arg, tag, result)`
 * for each one that finished. Returns 0 or TC_EIO if libcurl's multi
 * handle failed. */
int tc_notify_sender_run(tc_notify_sender_t *self, tc_notify_done_fn *done, void *arg);

/* Waits up to `ms` for the transfers in flight, driving them and calling
 * `done` as they finish; returns when none is left or the time is up.
 * For shutdown. */
void tc_notify_sender_drain(tc_notify_sender_t *self, int64_t ms, tc_notify_done_fn *done,
                            void *arg);

#endif
