/*
 * metrics.c - the coordinator's /metrics; see metrics.h.
 */
#include "metrics.h"

#include "coord_impl.h"

#include "error.h"
#include "httpd.h"
#include "log.h"
#include "prom.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tc_coord_metrics {
    tc_coord_t *c;
    tc_httpd_t *http;
    tc_prom_t *prom;
    tc_histogram_t batch;  /* records per committed batch */
    tc_histogram_t commit; /* seconds per commit (LMDB's fsync included) */
    char url[128];
};

double tc_coord_metrics_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tc_coord_metrics_commit(tc_coord_metrics_t *self, size_t records, double seconds)
{
    if (!self)
        return;
    tc_histogram_observe(&self->batch, (double)records);
    tc_histogram_observe(&self->commit, seconds);
}

typedef struct {
    double open[6][4]; /* severity 0..5 x triggered..monitoring */
} s_incidents_t;

static void s_count_open(const tc_incident_t *inc, void *ctx)
{
    s_incidents_t *n = ctx;
    if (inc->severity <= 5 && inc->state < TC_INC_RESOLVED)
        n->open[inc->severity][inc->state] += 1;
}

typedef struct {
    double known, down;
} s_hosts_t;

static void s_count_host(const tc_state_host_t *h, void *ctx)
{
    s_hosts_t *n = ctx;
    n->known += 1;
    n->down += !h->up;
}

/* Senders heard from within the time their host would be reported down:
 * agents and gateways that are connected now. */
static double s_connected(const tc_coord_t *c)
{
    int64_t now = tc_mono_ms();
    double n = 0;
    for (tc_coord__peer_t *p = zhashx_first(c->peers); p; p = zhashx_next(c->peers)) {
        int64_t hb = p->heartbeat_ms ? p->heartbeat_ms : 5000;
        if (p->identity && p->last_seen_mono &&
            now - p->last_seen_mono <= hb * (int64_t)c->cfg.missed_heartbeats)
            n += 1;
    }
    return n;
}

static void s_write(tc_coord_metrics_t *m, tc_prom_t *p)
{
    tc_coord_t *c = m->c;
    tc_prom_family(p, "tocsin_build_info", "gauge", "The running version");
    tc_prom_label_t v = {"version", TOCSIN_VERSION};
    tc_prom_sample(p, "tocsin_build_info", &v, 1, 1);
    tc_prom_gauge(p, "tocsin_coordinator_start_time_seconds",
                  "When this coordinator started, seconds since the Unix epoch",
                  (double)c->started_ms / 1000.0);
    tc_prom_counter(p, "tocsin_coordinator_events_accepted_total",
                    "Events stored in the log since start", (double)c->accepted);
    tc_prom_counter(p, "tocsin_coordinator_events_duplicate_total",
                    "Events dropped as already stored (same sender and sequence)",
                    (double)c->duplicates);
    tc_prom_counter(p, "tocsin_coordinator_frames_rejected_total",
                    "Frames and requests refused as malformed or invalid", (double)c->rejected);
    tc_prom_counter(p, "tocsin_coordinator_denied_total",
                    "Handshakes and messages refused by authorization", (double)c->denied);
    tc_prom_counter(p, "tocsin_coordinator_frames_throttled_total",
                    "Frames refused over a rate limit (their senders resend)",
                    (double)c->throttled);
    tc_prom_counter(p, "tocsin_coordinator_events_deferred_total",
                    "Events not stored because an earlier one was missing (resent)",
                    (double)c->deferred);
    tc_prom_counter(p, "tocsin_coordinator_broadcasts_total", "Broadcasts published since start",
                    (double)c->broadcasts);
    tc_prom_histogram(p, "tocsin_coordinator_commit_batch_records",
                      "Log records per committed batch (group commit)", &m->batch);
    tc_prom_histogram(p, "tocsin_coordinator_commit_seconds",
                      "Time one batch's commit took, fsync included", &m->commit);
    tc_prom_gauge(p, "tocsin_coordinator_log_seq", "The newest log record",
                  (double)tc_store_log_seq(c->store));
    tc_prom_gauge(p, "tocsin_coordinator_broadcast_seq", "The newest broadcast",
                  (double)tc_store_bcast_seq(c->store));

    s_incidents_t inc = {{{0}}};
    tc_state_each_open(c->state, s_count_open, &inc);
    tc_prom_family(p, "tocsin_coordinator_incidents_open", "gauge",
                   "Open incidents by severity (none: not assessed) and state");
    for (int sev = 0; sev <= 5; sev++)
        for (int st = TC_INC_TRIGGERED; st < TC_INC_RESOLVED; st++) {
            char s[8];
            snprintf(s, sizeof s, "%d", sev);
            tc_prom_label_t l[] = {{"severity", sev ? s : "none"},
                                   {"state", tc_incident_state_name((tc_incident_state_t)st)}};
            tc_prom_sample(p, "tocsin_coordinator_incidents_open", l, 2, inc.open[sev][st]);
        }

    const char *storage = !c->storage_rc                                               ? "ok"
                          : c->storage_rc == TC_EFULL || c->storage_rc == TC_EDISKFULL ? "full"
                                                                                       : "failed";
    tc_prom_family(p, "tocsin_coordinator_storage_state", "gauge",
                   "1 for the storage state now (ok, full, failed), 0 for the others");
    static const char *const states[] = {"ok", "full", "failed"};
    for (size_t i = 0; i < 3; i++) {
        tc_prom_label_t l = {"state", states[i]};
        tc_prom_sample(p, "tocsin_coordinator_storage_state", &l, 1, !strcmp(storage, states[i]));
    }
    size_t used, map, max;
    tc_store_usage(c->store, &used, &map, &max);
    tc_prom_gauge(p, "tocsin_coordinator_storage_used_bytes", "Bytes of the LMDB map in use",
                  (double)used);
    tc_prom_gauge(p, "tocsin_coordinator_storage_map_bytes", "The LMDB map's current size",
                  (double)map);
    tc_prom_gauge(p, "tocsin_coordinator_storage_max_bytes",
                  "The most the map may grow to (0: until the disk is full)", (double)max);

    tc_prom_gauge(p, "tocsin_coordinator_senders_connected",
                  "Agents and gateways heard from within their missed-heartbeat limit",
                  s_connected(c));
    s_hosts_t hosts = {0, 0};
    tc_state_each_host(c->state, s_count_host, &hosts);
    tc_prom_gauge(p, "tocsin_coordinator_hosts", "Hosts the log knows", hosts.known);
    tc_prom_gauge(p, "tocsin_coordinator_hosts_down", "Hosts reported down", hosts.down);
}

static void s_handle(void *arg, tc_http_req_t *req)
{
    tc_coord_metrics_t *m = arg;
    /* A full disk is said but is not a failure: the coordinator stays up
     * on purpose (it keeps answering reads and resumes by itself), and a
     * restart would not help. */
    if (!tc_http_metrics_route(req,
                               m->c->storage_rc ? "ok; storage not writable, retrying\n" : "ok\n"))
        return;
    tc_prom_reset(m->prom);
    s_write(m, m->prom);
    if (tc_prom_error(m->prom)) {
        tc_http_respond_text(req, 500, "text/plain; charset=utf-8", "metrics unavailable\n");
        return;
    }
    size_t len;
    const char *text = tc_prom_text(m->prom, &len);
    tc_http_respond(req, 200, TC_PROM_CONTENT_TYPE, text, len);
}

int tc_coord_metrics_new(struct tc_coord *c, zloop_t *loop, const char *addr,
                         tc_coord_metrics_t **out, char *why, size_t whylen)
{
    *out = NULL;
    tc_coord_metrics_t *m = calloc(1, sizeof *m);
    if (!m || !(m->prom = tc_prom_new())) {
        free(m);
        return TC_ENOMEM;
    }
    m->c = c;
    static const double batch[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    static const double secs[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                  0.01,   0.025,   0.05,   0.1,   0.25,   1};
    tc_histogram_init(&m->batch, batch, sizeof batch / sizeof batch[0]);
    tc_histogram_init(&m->commit, secs, sizeof secs / sizeof secs[0]);
    tc_httpd_config_t cfg = {.addr = addr, .max_body = 4096, .connections = 16, .what = "metrics"};
    int rc = tc_httpd_new(loop, &cfg, s_handle, m, &m->http, why, whylen);
    if (rc) {
        tc_prom_destroy(&m->prom);
        free(m);
        return rc;
    }
    snprintf(m->url, sizeof m->url, "%smetrics", tc_httpd_url(m->http));
    *out = m;
    return 0;
}

void tc_coord_metrics_destroy(tc_coord_metrics_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_httpd_destroy(&(*pself)->http);
    tc_prom_destroy(&(*pself)->prom);
    free(*pself);
    *pself = NULL;
}

const char *tc_coord_metrics_url(const tc_coord_metrics_t *self)
{
    return self->url;
}
