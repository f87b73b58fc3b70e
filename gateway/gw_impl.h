/*
 * gw_impl.h - what tocsin-gateway's files share: the process's one context
 * and the functions each file offers the others.
 *
 *   main.c       options, configuration, start and stop, the loop
 *   gw_http.c    HTTP routing, the acknowledgement links, /healthz, /metrics
 *   gw_intake.c  Alertmanager and Events API requests into spooled events
 *   gw_parse.c   the bodies (pure), gw_alerts.c the dedup keys (LMDB),
 *   gw_api.c     the coordinator's API without blocking, gw_ack.c the pages
 *
 * The gateway is a sender like an agent (outbox/): its events are numbered,
 * spooled durably before a request is answered as accepted, and sent to the
 * coordinator from the spool, so they survive a kill -9 of the gateway and
 * any outage of the coordinator. One zloop on the main thread holds the
 * HTTP server, the outbox's socket and timers, and the API client. Private
 * to gateway/.
 */
#ifndef TC_GW_IMPL_H
#define TC_GW_IMPL_H

#include "gw_alerts.h"
#include "gw_api.h"
#include "gw_config.h"
#include "gw_parse.h"
#include "httpd.h"
#include "integrations.h"
#include "keys.h"
#include "outbox.h"
#include "prom.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

/* A token bucket. */
typedef struct {
    double tokens;
    int64_t last_ms; /* monotonic; 0: never used (full) */
} tc_gw_bucket_t;

/* The endpoints, for counting (tocsin_gateway_requests_total). */
typedef enum {
    TC_GW_EP_ALERTMANAGER = 0,
    TC_GW_EP_EVENTS = 1,
    TC_GW_EP_ACK = 2,
    TC_GW_EP_HEALTHZ = 3,
    TC_GW_EP_METRICS = 4,
    TC_GW_EP_OTHER = 5,
    TC_GW_EP_COUNT = 6,
} tc_gw_ep_t;

/* Status codes counted apart; anything else counts as the last. */
#define TC_GW_CODES 12
extern const unsigned tc_gw_codes[TC_GW_CODES];

typedef struct {
    tc_gw_config_t cfg;
    tc_client_keys_t keys;
    zloop_t *loop;
    tc_outbox_t *outbox;
    tc_httpd_t *http;
    tc_gw_api_t *api;
    tc_integrations_t *integrations;
    char integrations_dir[TC_GW_PATH_MAX];
    tc_gw_alerts_t *alerts;
    zhashx_t *limits;           /* integration name -> tc_gw_bucket_t * */
    tc_gw_bucket_t ack_limit;   /* acknowledgement links, all together */
    tc_prom_t *prom;
    tc_gw_event_t *scratch; /* TC_GW_ALERTS_MAX events of one request */
    bool spool_full;        /* the last append could not be spooled */
    int64_t started_ms;
    /* Since start, for /metrics. */
    uint64_t requests[TC_GW_EP_COUNT][TC_GW_CODES];
    uint64_t events[2]; /* spooled: alertmanager, events API */
    uint64_t acks, ack_refusals;
} tc_gw_t;

/* ---- gw_http.c ------------------------------------------------------------ */

/* The HTTP handler (tc_httpd_handler_fn) for every request. */
void tc_gw_handle(void *arg, tc_http_req_t *req);

/* Answers `req` with a JSON body and counts it under `ep`. */
void tc_gw_reply_json(tc_gw_t *gw, tc_http_req_t *req, tc_gw_ep_t ep, unsigned status,
                      const char *json, size_t len);

/* ---- gw_intake.c --------------------------------------------------------------- */

/* POST /v1/alertmanager and POST /v2/enqueue. */
void tc_gw_alertmanager(tc_gw_t *gw, tc_http_req_t *req);
void tc_gw_enqueue(tc_gw_t *gw, tc_http_req_t *req);

/* True if integration `name` may make another request now (its token
 * bucket, cfg.rate_limit per second, bursts of twice that). */
bool tc_gw_rate_ok(tc_gw_t *gw, const char *name);

/* Takes one token from `b` refilled at `rate` per second at `now_ms`
 * (monotonic); false when none is left. */
bool tc_gw_bucket_take(tc_gw_bucket_t *b, double rate, int64_t now_ms);

#endif
