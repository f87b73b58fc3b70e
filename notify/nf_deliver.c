/*
 * nf_deliver.c - tocsin-notify's deliveries; see notify_impl.h.
 *
 * A delivery leaves the queue only when the receiver accepted it (or it
 * finally failed), in the transaction that also queues the result for the
 * coordinator. That makes delivery at-least-once: a crash between a
 * receiver's 2xx and that commit re-sends the delivery after restart, with
 * the same idempotency key, which receivers use to de-duplicate.
 *
 * Channels: every subscription, and every contact method of a person that
 * has had pages. At most one delivery per channel is in flight, so each
 * receiver sees its deliveries in order, and at most `concurrency` in all.
 * No failure is silent: every attempt is bounded by `timeout`, retried with
 * back-off, and a channel whose oldest delivery has waited longer than
 * `failing_after` is reported to the coordinator as failing.
 */
#include "notify_impl.h"

#include "error.h"
#include "log.h"
#include "pages.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Results reported per tick, so a backlog cannot stall the loop. */
#define S_REPORTS_PER_TICK 16

void tc_nf_api_failed(int64_t *next, int64_t *backoff)
{
    *next = tc_mono_ms() + *backoff;
    *backoff = *backoff * 2 > TC_NF_API_BACKOFF_MAX_MS ? TC_NF_API_BACKOFF_MAX_MS : *backoff * 2;
}

void tc_nf_store_failed(tc_nf_t *ctx, int rc, const char *doing)
{
    if (rc == TC_ENOMEM) {
        tc_error("%s: %s", doing, tc_strerror(rc));
        ctx->fatal = true;
        return;
    }
    const char *why = tc_notify_queue_why(ctx->queue);
    if (!ctx->store_failing)
        tc_error("%s: %s; deliveries stay queued and the state is written again in %d s", doing,
                 why[0] ? why : tc_strerror(rc), TC_NF_STORE_RETRY_MS / 1000);
    ctx->store_failing = true;
}

void tc_nf_store_ok(tc_nf_t *ctx)
{
    if (ctx->store_failing)
        tc_info("the state is written again");
    ctx->store_failing = false;
}

/* ---- channels ----------------------------------------------------------------- */

tc_nf_chan_t *tc_nf_chan(tc_nf_t *ctx, const char *name, const tc_notify_sub_t *sub)
{
    for (size_t i = 0; i < ctx->nchans; i++)
        if (!strcmp(ctx->chans[i]->name, name))
            return ctx->chans[i];
    if (ctx->nchans == ctx->chans_cap) {
        size_t cap = ctx->chans_cap ? 2 * ctx->chans_cap : 16;
        tc_nf_chan_t **p = realloc(ctx->chans, cap * sizeof *p);
        if (!p)
            return NULL;
        ctx->chans = p;
        ctx->chans_cap = cap;
    }
    /* Each on its own: a channel holds a whole delivery in flight, and
     * pointers to it are kept while its transfer runs. */
    tc_nf_chan_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->sub = sub;
    snprintf(c->method, sizeof c->method, "%s", sub ? tc_notify_type_name(sub->type) : "page");
    ctx->chans[ctx->nchans++] = c;
    return c;
}

int tc_nf_chans_init(tc_nf_t *ctx)
{
    for (size_t i = 0; i < ctx->cfg->nsubs; i++)
        if (!tc_nf_chan(ctx, ctx->cfg->subs[i].name, &ctx->cfg->subs[i]))
            return TC_ENOMEM;
    size_t cap = TC_NOTIFY_SUBS_MAX * 16, n = 0;
    char(*names)[TC_NOTIFY_CHANNEL_MAX] = calloc(cap, TC_NOTIFY_CHANNEL_MAX);
    if (!names)
        return TC_ENOMEM;
    int rc = tc_notify_queue_subs(ctx->queue, names, cap, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (strchr(names[i], '#') && !tc_nf_chan(ctx, names[i], NULL))
            rc = TC_ENOMEM;
    free(names);
    return rc;
}

void tc_nf_wake(tc_nf_t *ctx, const tc_delivery_t *ds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tc_nf_chan_t *c = tc_nf_chan(ctx, ds[i].sub, tc_notify_config_find(ctx->cfg, ds[i].sub));
        if (!c) {
            ctx->fatal = true;
            return;
        }
        if (ds[i].is_page)
            snprintf(c->method, sizeof c->method, "%s", tc_notify_page_method(&ds[i]));
        if (!c->busy)
            c->wake_ms = 0;
    }
}

/* ---- reports -------------------------------------------------------------------- */

/* The report of a page's delivery `d`. */
static void s_page_report(const tc_delivery_t *d, tc_delivery_report_t *rep)
{
    rep->page = true;
    rep->incident = d->pg.incident.id;
    rep->number = d->pg.page.number;
    snprintf(rep->sub, sizeof rep->sub, "%.63s", d->pg.page.person);
    snprintf(rep->person, sizeof rep->person, "%s", d->pg.page.person);
    snprintf(rep->method, sizeof rep->method, "%s", tc_notify_page_method(d));
}

void tc_nf_report_undeliverable(tc_nf_t *ctx, const tc_msg_t *m, const char *method,
                                const char *why)
{
    const tc_broadcast_t *b = &m->u.bcast;
    tc_delivery_report_t rep = {.page = true,
                                .incident = b->incident.id,
                                .number = b->page.number,
                                .result = TC_DELIVERY_FAILED,
                                .attempts = 0};
    snprintf(rep.sub, sizeof rep.sub, "%s", b->page.person);
    snprintf(rep.person, sizeof rep.person, "%s", b->page.person);
    snprintf(rep.method, sizeof rep.method, "%s", method);
    snprintf(rep.detail, sizeof rep.detail, "%s", why);
    int rc = tc_notify_queue_report(ctx->queue, &rep);
    if (rc != 0)
        tc_nf_store_failed(ctx, rc, "cannot queue a report");
    else
        ctx->reports_waiting = true;
}

/* The head delivery `d` of channel `c` failed again: once it has waited
 * longer than failing_after, the channel is reported failing (once per
 * delivery), with the delivery's age and the last error. */
static void s_maybe_failing(tc_nf_t *ctx, tc_nf_chan_t *c, const tc_delivery_t *d, int64_t now)
{
    int64_t age = now - d->first_ms;
    if (age < ctx->cfg->failing_ms || c->failing == d->qseq)
        return;
    tc_delivery_report_t rep = {.incident = d->update.incident,
                                .number = d->update.number,
                                .result = TC_DELIVERY_FAILING,
                                .latency_ms = age,
                                .attempts = d->attempts};
    snprintf(rep.sub, sizeof rep.sub, "%.63s", d->sub);
    if (d->is_page)
        s_page_report(d, &rep);
    snprintf(rep.detail, sizeof rep.detail, "%s", d->last_error);
    int rc = tc_notify_queue_report(ctx->queue, &rep);
    if (rc != 0) {
        tc_nf_store_failed(ctx, rc, "cannot queue a failing report");
        return;
    }
    c->failing = d->qseq;
    ctx->reports_waiting = true;
    char dur[32];
    tc_warn("%s %s is failing: %s undelivered for %s after %" PRIu32 " attempts; last error: %s",
            d->is_page ? "page channel" : "subscription", d->sub, d->key,
            tc_duration_compact(age, dur, sizeof dur), d->attempts, d->last_error);
}

void tc_nf_on_done(void *arg, void *tag, const tc_notify_result_t *r)
{
    tc_nf_t *ctx = arg;
    tc_nf_chan_t *c = tag;
    tc_delivery_t *d = &c->cur;
    c->busy = false;
    c->wake_ms = 0;
    d->attempts++;
    int64_t now = tc_now_ms();
    bool give_up = !r->ok && (r->permanent || now - d->first_ms >= ctx->cfg->give_up_ms);
    const char *what = d->is_page ? tc_notify_page_method(d)
                                  : tc_notify_type_name(c->sub ? c->sub->type : TC_NOTIFY_WEBHOOK);
    if (!r->ok && !give_up) {
        int64_t wait =
            tc_notify_backoff_ms(ctx->cfg->retry_first_ms, ctx->cfg->retry_max_ms, d->attempts);
        /* Up to 10% jitter, so receivers that failed together do not all
         * come back at the same instant. */
        wait += wait >= 10 ? (int64_t)(random() % (wait / 10)) : 0;
        d->next_try_ms = now + wait;
        snprintf(d->last_error, sizeof d->last_error, "%s", r->detail);
        /* If this cannot be written, the wait still holds (in memory);
         * only the attempt count is behind after a restart. */
        int rc = tc_notify_queue_retry(ctx->queue, d);
        if (rc != 0)
            tc_nf_store_failed(ctx, rc, "cannot record a retry");
        c->wake_ms = d->next_try_ms;
        c->retried++;
        tc_warn("delivery %s to %s failed (attempt %" PRIu32 "): %s; retrying in %" PRId64 " ms",
                d->key, c->name, d->attempts, r->detail, wait);
        s_maybe_failing(ctx, c, d, now);
        return;
    }
    tc_delivery_report_t rep = {.incident = d->update.incident,
                                .number = d->update.number,
                                .result = r->ok ? TC_DELIVERY_DELIVERED : TC_DELIVERY_FAILED,
                                .attempts = d->attempts};
    snprintf(rep.sub, sizeof rep.sub, "%.63s", d->sub);
    int64_t since = d->is_page ? d->pg.sent_ms : d->update.published_ms;
    rep.latency_ms = since > 0 ? now - since : 0;
    if (rep.latency_ms < 0)
        rep.latency_ms = 0;
    if (d->is_page)
        s_page_report(d, &rep);
    if (r->ok || d->attempts == 1)
        snprintf(rep.detail, sizeof rep.detail, "%s", r->detail);
    else
        snprintf(rep.detail, sizeof rep.detail, "%.120s after %" PRIu32 " attempts", r->detail,
                 d->attempts);
    /* Window updates belong to no incident timeline; but one that was
     * reported failing is reported over, so the channel is not left
     * failing. */
    bool report = d->is_page || d->update.incident != 0 || c->failing == d->qseq;
    int rc = tc_notify_queue_finish(ctx->queue, d, report ? &rep : NULL, now);
    if (rc != 0) {
        /* Still queued: it is sent again (same key) once the state can be
         * written; receivers drop the duplicate. */
        tc_nf_store_failed(ctx, rc, "cannot record the result of a delivery");
        c->wake_ms = now + TC_NF_STORE_RETRY_MS;
        return;
    }
    tc_nf_store_ok(ctx);
    if (r->ok)
        c->delivered++;
    else
        c->failed++;
    if (c->failing == d->qseq) {
        c->failing = 0;
        tc_info("%s %s %s", d->is_page ? "page channel" : "subscription", c->name,
                r->ok ? "works again" : "moves on to its next delivery");
    }
    if (report)
        ctx->reports_waiting = true;
    if (r->ok)
        tc_info("delivered %s to %s (%s): %s, attempt %" PRIu32 ", %" PRId64 " ms after %s", d->key,
                c->name, what, r->detail, d->attempts, rep.latency_ms,
                d->is_page ? "the page" : "publication");
    else
        tc_error("gave up on %s to %s (%s): %s%s", d->key, c->name, what, rep.detail,
                 r->permanent ? " (refused)" : " (give_up_after reached)");
}

void tc_nf_schedule(tc_nf_t *ctx)
{
    size_t n = ctx->nchans;
    int64_t now = tc_now_ms();
    for (size_t k = 0; k < n && !ctx->stopping; k++) {
        if (tc_notify_sender_active(ctx->sender) >= ctx->cfg->concurrency)
            break;
        tc_nf_chan_t *c = ctx->chans[(ctx->rr + k) % n];
        if (c->busy || c->wake_ms > now)
            continue;
        int rc = tc_notify_queue_head(ctx->queue, c->name, &c->cur);
        if (rc == TC_ENOTFOUND) {
            c->wake_ms = INT64_MAX;
            continue;
        }
        if (rc != 0) {
            tc_error("cannot read the queue of %s: %s", c->name, tc_strerror(rc));
            c->wake_ms = now + 5000;
            continue;
        }
        if (c->cur.next_try_ms > now) {
            c->wake_ms = c->cur.next_try_ms;
            continue;
        }
        char ack[TC_NOTIFY_URL_MAX + TC_ACKLINK_TOKEN_MAX + 8] = "";
        if (c->cur.is_page && ctx->has_link_key)
            tc_notify_page_ack_url(ctx->link_key, ctx->cfg->ack_url, ctx->cfg->link_ttl_ms, &c->cur,
                                   ack, sizeof ack);
        tc_notify_context_t pctx = {.page_url = ctx->cfg->page_url,
                                    .components = ctx->comps,
                                    .ncomponents = ctx->ncomps,
                                    .ack = ack};
        rc = tc_notify_sender_start(ctx->sender, c->sub, &c->cur, &pctx, now, c);
        if (rc != 0) {
            tc_error("cannot start delivery %s to %s: %s", c->cur.key, c->name, tc_strerror(rc));
            c->wake_ms = now + 1000;
            continue;
        }
        c->busy = true;
        tc_debug("sending %s to %s (attempt %" PRIu32 ")", c->cur.key, c->name,
                 c->cur.attempts + 1);
    }
    ctx->rr++;
}

/* One report to the coordinator: `delivery` for a status update,
 * `pagedelivery` for a page. */
static void s_request(const tc_delivery_report_t *r, tc_api_request_t *req)
{
    memset(req, 0, sizeof *req);
    req->version = TC_PROTOCOL_VERSION;
    snprintf(req->args[0], TC_API_ARG_MAX, "%" PRIu64, r->incident);
    if (r->page) {
        snprintf(req->command, sizeof req->command, "pagedelivery");
        snprintf(req->args[1], TC_API_ARG_MAX, "%s", r->person);
        snprintf(req->args[2], TC_API_ARG_MAX, "%s", r->method);
        snprintf(req->args[3], TC_API_ARG_MAX, "%s", tc_delivery_result_name(r->result));
        snprintf(req->args[4], TC_API_ARG_MAX, "%" PRId64, r->latency_ms);
        snprintf(req->args[5], TC_API_ARG_MAX, "%" PRIu32, r->attempts);
        snprintf(req->args[6], TC_API_ARG_MAX, "%" PRIu32, r->number);
        req->nargs = 7;
    } else {
        snprintf(req->command, sizeof req->command, "delivery");
        snprintf(req->args[1], TC_API_ARG_MAX, "%" PRIu32, r->number);
        snprintf(req->args[2], TC_API_ARG_MAX, "%s", r->sub);
        snprintf(req->args[3], TC_API_ARG_MAX, "%s", tc_delivery_result_name(r->result));
        snprintf(req->args[4], TC_API_ARG_MAX, "%" PRId64, r->latency_ms);
        snprintf(req->args[5], TC_API_ARG_MAX, "%" PRIu32, r->attempts);
        req->nargs = 6;
    }
    snprintf(req->message, sizeof req->message, "%s", r->detail);
}

void tc_nf_report(tc_nf_t *ctx)
{
    if (!ctx->reports_waiting || tc_mono_ms() < ctx->report_next_mono)
        return;
    for (int k = 0; k < S_REPORTS_PER_TICK; k++) {
        tc_delivery_report_t r;
        int rc = tc_notify_queue_report_first(ctx->queue, &r);
        if (rc == TC_ENOTFOUND) {
            ctx->reports_waiting = false;
            return;
        }
        if (rc != 0) {
            tc_nf_store_failed(ctx, rc, "cannot read unreported results");
            ctx->report_next_mono = tc_mono_ms() + TC_NF_STORE_RETRY_MS;
            return;
        }
        tc_api_request_t req;
        s_request(&r, &req);
        tc_api_reply_t *reply = NULL;
        rc = tc_client_call(ctx->api, &req, TC_NF_API_TIMEOUT_MS, &reply);
        if (rc != 0) {
            if (!(rc == TC_ESYS && zsys_interrupted))
                tc_warn("cannot report the result for incident %" PRIu64 " %s %" PRIu32
                        " to %s: %s; will retry",
                        r.incident, r.page ? "page" : "update", r.number, r.sub, tc_strerror(rc));
            tc_nf_api_failed(&ctx->report_next_mono, &ctx->report_backoff);
            return;
        }
        ctx->heard_ms = tc_now_ms();
        if (!reply->ok)
            tc_warn("the coordinator refused the %s report for incident %" PRIu64 " %s %" PRIu32
                    " to %s: %s; dropping it%s",
                    tc_delivery_result_name(r.result), r.incident, r.page ? "page" : "update",
                    r.number, r.sub, reply->error,
                    r.result == TC_DELIVERY_FAILING ? " (a coordinator older than failing "
                                                      "reports)"
                                                    : "");
        else
            tc_debug("reported incident %" PRIu64 " %s %" PRIu32 " to %s: %s", r.incident,
                     r.page ? "page" : "update", r.number, r.sub,
                     tc_delivery_result_name(r.result));
        tc_api_reply_destroy(&reply);
        ctx->report_backoff = TC_NF_API_BACKOFF_FIRST_MS;
        rc = tc_notify_queue_report_drop(ctx->queue, r.rseq);
        if (rc != 0) {
            /* Reported again later: the coordinator counts it twice at
             * worst, which is better than stopping deliveries. */
            tc_nf_store_failed(ctx, rc, "cannot drop a reported result");
            ctx->report_next_mono = tc_mono_ms() + TC_NF_STORE_RETRY_MS;
            return;
        }
    }
}

int tc_nf_drop_orphans(tc_nf_t *ctx)
{
    size_t cap = TC_NOTIFY_SUBS_MAX * 16;
    char(*names)[TC_NOTIFY_CHANNEL_MAX] = calloc(cap, TC_NOTIFY_CHANNEL_MAX);
    size_t n = 0;
    if (!names)
        return TC_ENOMEM;
    int rc = tc_notify_queue_subs(ctx->queue, names, cap, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* Page channels belong to people, not to the configuration. */
        if (strchr(names[i], '#') || tc_notify_config_find(ctx->cfg, names[i]))
            continue;
        tc_delivery_t *d = malloc(sizeof *d);
        if (!d) {
            rc = TC_ENOMEM;
            break;
        }
        size_t dropped = 0;
        while (rc == 0 && (rc = tc_notify_queue_head(ctx->queue, names[i], d)) == 0) {
            tc_delivery_report_t rep = {.incident = d->update.incident,
                                        .number = d->update.number,
                                        .attempts = d->attempts};
            snprintf(rep.sub, sizeof rep.sub, "%.63s", d->sub);
            snprintf(rep.detail, sizeof rep.detail, "subscription no longer configured");
            rc = tc_notify_queue_finish(ctx->queue, d, d->update.incident ? &rep : NULL,
                                        tc_now_ms());
            if (rc == 0 && d->update.incident)
                ctx->reports_waiting = true;
            dropped++;
        }
        if (rc == TC_ENOTFOUND)
            rc = 0;
        free(d);
        tc_warn("subscription %s is no longer configured: %zu queued deliveries reported failed",
                names[i], dropped);
    }
    free(names);
    return rc;
}
