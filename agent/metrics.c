/*
 * metrics.c - the agent's /metrics and /healthz; see metrics.h.
 */
#include "metrics.h"

#include "error.h"
#include "httpd.h"
#include "prom.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_agent_metrics {
    tc_agent_t *a;
    tc_httpd_t *http;
    tc_prom_t *prom;
    int64_t started_ms; /* wall clock, for tocsin_agent_start_time_seconds */
    char url[128];
};

static const char *const s_results[] = {"ok", "warning", "critical", "unknown"};

static void s_checks(tc_agent_metrics_t *m, tc_prom_t *p)
{
    size_t n = tc_agent_nchecks(m->a);
    tc_prom_gauge(p, "tocsin_agent_checks", "Checks configured", (double)n);
    tc_prom_family(p, "tocsin_agent_check_runs_total", "counter",
                   "Check results since start, by check and result (a check that cannot "
                   "start counts as unknown)");
    for (size_t i = 0; i < n; i++) {
        tc_agent_check_info_t ci;
        if (tc_agent_check_info(m->a, i, &ci) != 0)
            continue;
        for (int r = TC_STATE_OK; r <= TC_STATE_UNKNOWN; r++) {
            tc_prom_label_t l[] = {{"check", ci.def->name}, {"result", s_results[r]}};
            tc_prom_sample(p, "tocsin_agent_check_runs_total", l, 2, (double)ci.runs[r]);
        }
    }
    tc_prom_family(p, "tocsin_agent_check_state", "gauge",
                   "The current hard state of each check that has one (0 ok, 1 warning, "
                   "2 critical, 3 unknown)");
    for (size_t i = 0; i < n; i++) {
        tc_agent_check_info_t ci;
        if (tc_agent_check_info(m->a, i, &ci) != 0 || !ci.status->have_hard)
            continue;
        tc_prom_label_t l[] = {{"check", ci.def->name}, {"service", ci.def->service}};
        tc_prom_sample(p, "tocsin_agent_check_state", l, 2, (double)ci.status->hard_state);
    }
    tc_prom_histogram(p, "tocsin_agent_check_run_seconds", "How long finished check runs took",
                      tc_agent_run_seconds(m->a));
}

static void s_write(tc_agent_metrics_t *m, tc_prom_t *p)
{
    tc_prom_family(p, "tocsin_build_info", "gauge", "The running version");
    tc_prom_label_t v = {"version", TOCSIN_VERSION};
    tc_prom_sample(p, "tocsin_build_info", &v, 1, 1);
    tc_prom_gauge(p, "tocsin_agent_start_time_seconds",
                  "When this agent started, seconds since the Unix epoch",
                  (double)m->started_ms / 1000.0);
    s_checks(m, p);
    tc_outbox_t *ob = tc_agent_outbox(m->a);
    tc_outbox_stats_t st;
    tc_outbox_stats(ob, &st);
    tc_prom_gauge(p, "tocsin_agent_spool_events", "Events in the spool", (double)st.spooled);
    tc_prom_gauge(p, "tocsin_agent_spool_bytes",
                  "Bytes of the spool in use (what spool_max limits)",
                  (double)tc_outbox_spool_bytes(ob));
    tc_prom_gauge(p, "tocsin_agent_unacknowledged_events",
                  "Events spooled that the coordinator has not acknowledged yet",
                  (double)(st.last_seq > st.acked ? st.last_seq - st.acked : 0));
    tc_prom_gauge(p, "tocsin_agent_last_seq", "The highest sequence number given to an event",
                  (double)st.last_seq);
    tc_prom_gauge(p, "tocsin_agent_acked_seq", "The highest sequence the coordinator stored",
                  (double)st.acked);
    tc_prom_counter(p, "tocsin_agent_lost_transitions_total",
                    "Hard state changes since start that a full spool left out (each check's "
                    "latest is kept and the count reported to the coordinator as events lost)",
                    (double)tc_agent_left_out(m->a));
    tc_prom_gauge(p, "tocsin_agent_lost_transitions_pending",
                  "Left-out state changes not yet reported to the coordinator (waiting for "
                  "room in the spool)",
                  (double)st.lost_transitions);
    tc_prom_gauge(p, "tocsin_agent_coordinator_connected",
                  "1 while the coordinator answers (its Hello was acknowledged)", st.live);
    tc_prom_counter(p, "tocsin_agent_heartbeats_sent_total", "Heartbeats sent since start",
                    (double)st.heartbeats);
}

static void s_handle(void *arg, tc_http_req_t *req)
{
    tc_agent_metrics_t *m = arg;
    if (!tc_http_metrics_route(req, "ok\n"))
        return;
    tc_prom_reset(m->prom);
    s_write(m, m->prom);
    size_t len;
    const char *text = tc_prom_text(m->prom, &len);
    if (tc_prom_error(m->prom))
        tc_http_respond_text(req, 500, "text/plain; charset=utf-8", "metrics unavailable\n");
    else
        tc_http_respond(req, 200, TC_PROM_CONTENT_TYPE, text, len);
}

int tc_agent_metrics_new(tc_agent_t *a, const char *addr, tc_agent_metrics_t **out, char *why,
                         size_t whylen)
{
    *out = NULL;
    tc_agent_metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return TC_ENOMEM;
    m->a = a;
    m->started_ms = tc_now_ms();
    int rc = TC_ENOMEM;
    if (!(m->prom = tc_prom_new()))
        goto fail;
    tc_httpd_config_t cfg = {.addr = addr, .max_body = 4096, .connections = 16, .what = "metrics"};
    if ((rc = tc_httpd_new(tc_agent_loop(a), &cfg, s_handle, m, &m->http, why, whylen)) != 0)
        goto fail;
    snprintf(m->url, sizeof m->url, "%smetrics", tc_httpd_url(m->http));
    *out = m;
    return 0;
fail:
    tc_prom_destroy(&m->prom);
    free(m);
    return rc;
}

void tc_agent_metrics_destroy(tc_agent_metrics_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_httpd_destroy(&(*pself)->http);
    tc_prom_destroy(&(*pself)->prom);
    free(*pself);
    *pself = NULL;
}

const char *tc_agent_metrics_url(const tc_agent_metrics_t *self)
{
    return self->url;
}
