/*
 * gw_http.c - tocsin-gateway's HTTP side: routing, the acknowledgement
 * links, /healthz and /metrics; see gw_impl.h.
 *
 * An acknowledgement link is a signed token the gateway cannot make or
 * check itself (it holds no secret): GET /ack/TOKEN asks the coordinator
 * what page the token names (`link check`) and shows a confirmation;
 * only POST /ack/TOKEN acknowledges (`link ack`), as the person. The HTTP
 * request waits, suspended, for the coordinator's answer while the loop
 * goes on taking alerts in (gw_api.h). Obvious garbage is refused without
 * asking, and the coordinator is asked at most a few times a second, so
 * a flood of links cannot hold up anything.
 */
#include "gw_impl.h"

#include "acklink.h"
#include "error.h"
#include "gw_ack.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const unsigned tc_gw_codes[TC_GW_CODES] = {200, 202, 400, 401, 403, 404,
                                           405, 409, 413, 429, 503, 0};

#define S_ACK_TIMEOUT_MS 3000
/* Acknowledgement links asked of the coordinator per second, at most. */
#define TC_GW_ACK_RATE 10

static void s_count(tc_gw_t *gw, tc_gw_ep_t ep, unsigned status)
{
    size_t i = 0;
    while (i < TC_GW_CODES - 1 && tc_gw_codes[i] != status)
        i++;
    gw->requests[ep][i]++;
}

void tc_gw_reply_json(tc_gw_t *gw, tc_http_req_t *req, tc_gw_ep_t ep, unsigned status,
                      const char *json, size_t len)
{
    s_count(gw, ep, status);
    tc_http_add_header(req, "Cache-Control", "no-store");
    tc_http_respond(req, status, "application/json", json, len);
}

static void s_text(tc_gw_t *gw, tc_http_req_t *req, tc_gw_ep_t ep, unsigned status,
                   const char *text)
{
    s_count(gw, ep, status);
    tc_http_respond_text(req, status, "text/plain; charset=utf-8", text);
}

/* ---- acknowledgement links ---------------------------------------------------------- */

typedef struct {
    tc_gw_t *gw;
    tc_http_req_t *req;
    tc_acklink_t link;
    bool post;
} s_ack_t;

/* Answers with `page` (taken over) of length *len: a pointer, because the
 * page is rendered in the same call's arguments and C does not say which
 * argument is evaluated first. */
static void s_html(tc_gw_t *gw, tc_http_req_t *req, unsigned status, char *page, const size_t *len)
{
    s_count(gw, TC_GW_EP_ACK, status);
    tc_http_add_header(req, "Content-Security-Policy", TC_GW_ACK_CSP);
    tc_http_add_header(req, "Cache-Control", "no-store");
    /* The token is in the address: it must not leak to another site. */
    tc_http_add_header(req, "Referrer-Policy", "no-referrer");
    tc_http_add_header(req, "X-Frame-Options", "DENY");
    if (page)
        tc_http_respond(req, status, "text/html; charset=utf-8", page, *len);
    else
        tc_http_respond_text(req, 500, "text/plain", "out of memory\n");
    free(page);
}

static void s_ack_done(void *arg, int rc, tc_api_reply_t *reply)
{
    s_ack_t *a = arg;
    tc_gw_t *gw = a->gw;
    int64_t now = tc_now_ms();
    size_t len = 0;
    if (rc != 0) {
        tc_warn("acknowledgement link for incident %" PRIu64 " (%s as %s): the coordinator did "
                "not answer: %s",
                a->link.incident, a->link.person, a->link.role, tc_strerror(rc));
        tc_http_add_header(a->req, "Retry-After", "5");
        s_html(gw, a->req, 503,
               tc_gw_ack_error("tocsin cannot be reached",
                               "The coordinator did not answer. Try the link again in a moment.",
                               NULL, now, &len),
               &len);
        free(a);
        return;
    }
    const tc_incident_t *inc = reply->nincidents ? &reply->incidents[0] : NULL;
    if (!reply->ok) {
        if (a->post)
            gw->ack_refusals++;
        tc_info("acknowledgement link for incident %" PRIu64 " (%s as %s) %s: %s", a->link.incident,
                a->link.person, a->link.role, a->post ? "refused" : "looked at", reply->error);
        /* A real link that no longer acknowledges anything (done, expired,
         * a later page) says so with its incident; anything else was
         * never a valid link. */
        s_html(
            gw, a->req, inc ? 409 : 403,
            tc_gw_ack_error(inc ? "This link no longer acknowledges anything" : "Not a valid link",
                            reply->error, inc, now, &len),
            &len);
    } else if (a->post) {
        gw->acks++;
        tc_info("incident %" PRIu64 ": the %s page to %s acknowledged through its link (from %s)",
                a->link.incident, a->link.role, a->link.person, tc_http_req_peer(a->req));
        s_html(gw, a->req, 200, tc_gw_ack_done(inc, &a->link, now, &len), &len);
    } else {
        s_html(gw, a->req, 200, tc_gw_ack_confirm(inc, &a->link, now, &len), &len);
    }
    tc_api_reply_destroy(&reply);
    free(a);
}

static void s_ack(tc_gw_t *gw, tc_http_req_t *req, const char *token, bool post)
{
    int64_t now = tc_now_ms();
    size_t len = 0;
    tc_acklink_t link;
    /* Shape first: garbage never costs the coordinator a request. */
    if (strlen(token) >= TC_API_ARG_MAX || tc_acklink_parse(token, &link) != 0) {
        s_html(gw, req, 404,
               tc_gw_ack_error("Not a valid link",
                               "This address is not an acknowledgement link of tocsin.", NULL, now,
                               &len),
               &len);
        return;
    }
    if (!tc_gw_bucket_take(&gw->ack_limit, TC_GW_ACK_RATE, tc_mono_ms())) {
        tc_http_add_header(req, "Retry-After", "1");
        s_html(gw, req, 429,
               tc_gw_ack_error("Too many requests", "Try the link again in a second.", NULL, now,
                               &len),
               &len);
        return;
    }
    s_ack_t *a = calloc(1, sizeof *a);
    if (!a) {
        s_text(gw, req, TC_GW_EP_ACK, 500, "out of memory\n");
        return;
    }
    *a = (s_ack_t){gw, req, link, post};
    tc_api_request_t q = {.version = TC_PROTOCOL_VERSION, .nargs = 2};
    snprintf(q.command, sizeof q.command, "link");
    snprintf(q.args[0], TC_API_ARG_MAX, "%s", post ? "ack" : "check");
    snprintf(q.args[1], TC_API_ARG_MAX, "%s", token);
    if (tc_gw_api_call(gw->api, &q, S_ACK_TIMEOUT_MS, s_ack_done, a) != 0) {
        free(a);
        s_text(gw, req, TC_GW_EP_ACK, 500, "out of memory\n");
        return;
    }
    tc_http_defer(req);
}

/* ---- /healthz and /metrics ----------------------------------------------------------- */

static void s_healthz(tc_gw_t *gw, tc_http_req_t *req)
{
    tc_outbox_stats_t st;
    tc_outbox_stats(gw->outbox, &st);
    tc_json_t *j = tc_json_new();
    if (!j) {
        s_text(gw, req, TC_GW_EP_HEALTHZ, 500, "out of memory\n");
        return;
    }
    /* Healthy means able to take alerts: a spool that stores them. A
     * coordinator that is away is reported, but the spool keeps what
     * arrives meanwhile, so it is not a reason to send tools elsewhere. */
    bool ok = !gw->spool_full;
    tc_json_object_begin(j);
    tc_json_key(j, "status");
    tc_json_string(j, ok ? "ok" : "spool full");
    tc_json_key(j, "coordinator");
    tc_json_string(j, st.live ? "connected" : "unreachable");
    tc_json_key(j, "spooled");
    tc_json_uint(j, st.spooled);
    tc_json_key(j, "unacknowledged");
    tc_json_uint(j, st.last_seq - st.acked);
    tc_json_key(j, "integrations");
    tc_json_uint(j, tc_integrations_size(gw->integrations));
    tc_json_object_end(j);
    tc_gw_reply_json(gw, req, TC_GW_EP_HEALTHZ, ok ? 200 : 503, tc_json_data(j), tc_json_len(j));
    tc_json_destroy(&j);
}

static void s_metrics(tc_gw_t *gw, tc_http_req_t *req)
{
    tc_prom_t *p = gw->prom;
    tc_prom_reset(p);
    tc_prom_family(p, "tocsin_build_info", "gauge", "The running version");
    tc_prom_label_t v = {"version", TOCSIN_VERSION};
    tc_prom_sample(p, "tocsin_build_info", &v, 1, 1);
    tc_prom_gauge(p, "tocsin_gateway_start_time_seconds",
                  "When this gateway started, seconds since the Unix epoch",
                  (double)gw->started_ms / 1000.0);
    /* This scrape is counted too, before it is answered. */
    s_count(gw, TC_GW_EP_METRICS, 200);
    static const char *const eps[TC_GW_EP_COUNT] = {"alertmanager", "events",  "ack",
                                                    "healthz",      "metrics", "other"};
    tc_prom_family(p, "tocsin_gateway_requests_total", "counter",
                   "HTTP requests answered, by endpoint and status code");
    for (int e = 0; e < TC_GW_EP_COUNT; e++)
        for (int c = 0; c < TC_GW_CODES; c++) {
            if (!gw->requests[e][c])
                continue;
            char code[8];
            snprintf(code, sizeof code, "%u", tc_gw_codes[c]);
            tc_prom_label_t l[] = {{"endpoint", eps[e]},
                                   {"code", c < TC_GW_CODES - 1 ? code : "other"}};
            tc_prom_sample(p, "tocsin_gateway_requests_total", l, 2, (double)gw->requests[e][c]);
        }
    tc_prom_family(p, "tocsin_gateway_events_spooled_total", "counter",
                   "Events spooled for the coordinator, by endpoint");
    tc_prom_label_t am = {"endpoint", "alertmanager"}, ev = {"endpoint", "events"};
    tc_prom_sample(p, "tocsin_gateway_events_spooled_total", &am, 1, (double)gw->events[0]);
    tc_prom_sample(p, "tocsin_gateway_events_spooled_total", &ev, 1, (double)gw->events[1]);
    tc_prom_family(p, "tocsin_gateway_acknowledgements_total", "counter",
                   "Pages acknowledged through their links, and links refused on POST");
    tc_prom_label_t ok = {"result", "acknowledged"}, no = {"result", "refused"};
    tc_prom_sample(p, "tocsin_gateway_acknowledgements_total", &ok, 1, (double)gw->acks);
    tc_prom_sample(p, "tocsin_gateway_acknowledgements_total", &no, 1, (double)gw->ack_refusals);
    tc_outbox_stats_t st;
    tc_outbox_stats(gw->outbox, &st);
    tc_prom_gauge(p, "tocsin_gateway_spool_events", "Events in the spool", (double)st.spooled);
    tc_prom_gauge(p, "tocsin_gateway_unacknowledged_events",
                  "Events spooled that the coordinator has not acknowledged yet",
                  (double)(st.last_seq - st.acked));
    tc_prom_gauge(p, "tocsin_gateway_last_seq", "The highest sequence number given to an event",
                  (double)st.last_seq);
    tc_prom_gauge(p, "tocsin_gateway_acked_seq", "The highest sequence the coordinator stored",
                  (double)st.acked);
    tc_prom_gauge(p, "tocsin_gateway_coordinator_connected",
                  "1 while the coordinator answers (its Hello was acknowledged)", st.live);
    tc_prom_gauge(p, "tocsin_gateway_spool_full", "1 while the spool cannot take events",
                  gw->spool_full);
    /* A gauge: the outbox's figure drops once the loss is reported. */
    tc_prom_gauge(p, "tocsin_gateway_lost_transitions_pending",
                  "State changes the spool could not keep, not yet reported to the coordinator",
                  (double)st.lost_transitions);
    tc_prom_gauge(p, "tocsin_gateway_integrations", "Integration tokens allowed",
                  (double)tc_integrations_size(gw->integrations));
    tc_prom_gauge(p, "tocsin_gateway_dedup_keys", "Events API alerts remembered, not resolved",
                  (double)tc_gw_alerts_count(gw->alerts));
    tc_prom_gauge(p, "tocsin_gateway_api_pending",
                  "Acknowledgement links waiting for the coordinator",
                  (double)tc_gw_api_pending(gw->api));
    size_t len;
    const char *text = tc_prom_text(p, &len);
    if (tc_prom_error(p))
        tc_http_respond_text(req, 500, "text/plain", "metrics unavailable\n");
    else
        tc_http_respond(req, 200, TC_PROM_CONTENT_TYPE, text, len);
}

/* ---- routing ------------------------------------------------------------------------- */

static bool s_method(tc_gw_t *gw, tc_http_req_t *req, tc_gw_ep_t ep, const char *allow)
{
    const char *m = tc_http_req_method(req);
    bool get = !strcmp(allow, "GET, HEAD");
    if (get ? (!strcmp(m, "GET") || !strcmp(m, "HEAD")) : !strcmp(m, allow))
        return true;
    tc_http_add_header(req, "Allow", allow);
    s_text(gw, req, ep, 405, "method not allowed\n");
    return false;
}

void tc_gw_handle(void *arg, tc_http_req_t *req)
{
    tc_gw_t *gw = arg;
    const char *path = tc_http_req_path(req);
    const char *m = tc_http_req_method(req);
    tc_gw_ep_t ep = !strcmp(path, "/v1/alertmanager") ? TC_GW_EP_ALERTMANAGER
                    : !strcmp(path, "/v2/enqueue")    ? TC_GW_EP_EVENTS
                    : !strncmp(path, "/ack/", 5)      ? TC_GW_EP_ACK
                    : !strcmp(path, "/healthz")       ? TC_GW_EP_HEALTHZ
                    : !strcmp(path, "/metrics")       ? TC_GW_EP_METRICS
                                                      : TC_GW_EP_OTHER;
    if (tc_http_req_too_big(req)) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body larger than %zu bytes\n", gw->cfg.max_body);
        s_text(gw, req, ep, 413, msg);
        return;
    }
    switch (ep) {
    case TC_GW_EP_ALERTMANAGER:
        if (s_method(gw, req, ep, "POST"))
            tc_gw_alertmanager(gw, req);
        return;
    case TC_GW_EP_EVENTS:
        if (s_method(gw, req, ep, "POST"))
            tc_gw_enqueue(gw, req);
        return;
    case TC_GW_EP_ACK:
        if (!strcmp(m, "POST")) {
            s_ack(gw, req, path + 5, true);
        } else if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
            s_ack(gw, req, path + 5, false);
        } else {
            tc_http_add_header(req, "Allow", "GET, HEAD, POST");
            s_text(gw, req, ep, 405, "method not allowed\n");
        }
        return;
    case TC_GW_EP_HEALTHZ:
        if (s_method(gw, req, ep, "GET, HEAD"))
            s_healthz(gw, req);
        return;
    case TC_GW_EP_METRICS:
        if (s_method(gw, req, ep, "GET, HEAD"))
            s_metrics(gw, req);
        return;
    default:
        s_text(gw, req, ep, 404,
               "not found: POST /v1/alertmanager, POST /v2/enqueue, GET /ack/TOKEN, GET "
               "/healthz, GET /metrics\n");
    }
}
