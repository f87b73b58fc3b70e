/*
 * nf_metrics.c - tocsin-notify's GET /metrics (`--metrics ADDR:PORT`),
 * served on its own loop (common/httpd.h): deliveries by channel and
 * result, what is queued and for how long, reports waiting, the cursor,
 * and when the coordinator was last heard from.
 */
#include "notify_impl.h"

#include "error.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static void s_chan_sample(tc_prom_t *p, const char *family, const tc_nf_chan_t *c,
                          const char *result, uint64_t v)
{
    char name[TC_NOTIFY_CHANNEL_MAX + 8];
    /* A page channel is "PERSON#N": shown as the person and the method. */
    const char *hash = strchr(c->name, '#');
    if (hash)
        snprintf(name, sizeof name, "page:%.*s", (int)(hash - c->name), c->name);
    else
        snprintf(name, sizeof name, "%s", c->name);
    tc_prom_label_t l[] = {{"channel", name}, {"type", c->method}, {"result", result}};
    tc_prom_sample(p, family, l, 3, (double)v);
}

static void s_write(tc_nf_t *ctx, tc_prom_t *p)
{
    tc_prom_family(p, "tocsin_build_info", "gauge", "The running version");
    tc_prom_label_t v = {"version", TOCSIN_VERSION};
    tc_prom_sample(p, "tocsin_build_info", &v, 1, 1);
    tc_prom_family(p, "tocsin_notify_deliveries_total", "counter",
                   "Deliveries since start by channel (a subscription, or page:PERSON), type "
                   "and result (delivered, failed, retried: an attempt that will be retried)");
    for (size_t i = 0; i < ctx->nchans; i++) {
        const tc_nf_chan_t *c = ctx->chans[i];
        s_chan_sample(p, "tocsin_notify_deliveries_total", c, "delivered", c->delivered);
        s_chan_sample(p, "tocsin_notify_deliveries_total", c, "failed", c->failed);
        s_chan_sample(p, "tocsin_notify_deliveries_total", c, "retried", c->retried);
    }
    size_t pending = 0, reports = 0;
    int64_t oldest = 0, now = tc_now_ms();
    tc_notify_queue_counts(ctx->queue, &pending, &reports);
    tc_notify_queue_oldest(ctx->queue, &oldest);
    tc_prom_gauge(p, "tocsin_notify_queue_depth", "Deliveries queued and not yet delivered",
                  (double)pending);
    tc_prom_gauge(p, "tocsin_notify_oldest_undelivered_seconds",
                  "How long the oldest queued delivery has waited (0: none queued)",
                  oldest ? (double)(now - oldest) / 1000.0 : 0);
    tc_prom_gauge(p, "tocsin_notify_reports_pending",
                  "Delivery results not yet reported to the coordinator", (double)reports);
    tc_prom_counter(p, "tocsin_notify_pages_total", "Pages received since start",
                    (double)ctx->pages);
    tc_prom_counter(p, "tocsin_notify_page_deliveries_total",
                    "Page deliveries queued since start (one per page and contact method)",
                    (double)ctx->page_deliveries);
    tc_prom_gauge(p, "tocsin_notify_broadcast_cursor",
                  "The last broadcast whose deliveries are queued",
                  (double)tc_notify_queue_cursor(ctx->queue));
    tc_prom_gauge(p, "tocsin_notify_coordinator_last_contact_timestamp_seconds",
                  "When the coordinator was last heard from (0: never since start)",
                  (double)ctx->heard_ms / 1000.0);
    tc_prom_gauge(p, "tocsin_notify_state_failing",
                  "1 while the state cannot be written (a full disk)", ctx->store_failing);
}

static void s_handle(void *arg, tc_http_req_t *req)
{
    tc_nf_t *ctx = arg;
    if (!tc_http_metrics_route(req, "ok\n"))
        return;
    tc_prom_reset(ctx->prom);
    s_write(ctx, ctx->prom);
    size_t len;
    const char *text = tc_prom_text(ctx->prom, &len);
    if (tc_prom_error(ctx->prom))
        tc_http_respond_text(req, 500, "text/plain; charset=utf-8", "metrics unavailable\n");
    else
        tc_http_respond(req, 200, TC_PROM_CONTENT_TYPE, text, len);
}

int tc_nf_metrics_start(tc_nf_t *ctx, zloop_t *loop, const char *addr, char *why, size_t whylen)
{
    if (!(ctx->prom = tc_prom_new()))
        return TC_ENOMEM;
    tc_httpd_config_t cfg = {.addr = addr, .max_body = 4096, .connections = 16, .what = "metrics"};
    return tc_httpd_new(loop, &cfg, s_handle, ctx, &ctx->metrics, why, whylen);
}
