/*
 * gw_parse.h - what monitoring tools send tocsin-gateway, read and checked
 * whole before anything is stored: the Prometheus Alertmanager webhook
 * (payload version 4) and the PagerDuty Events API v2.
 *
 * Pure functions of the body (jansson parses it; duplicate keys and
 * invalid UTF-8 are refused), so the tests need no socket. A body that is
 * not valid gives one reason (Alertmanager) or the list of what is wrong
 * (Events v2, as PagerDuty answers), never a partial result.
 */
#ifndef TC_GW_PARSE_H
#define TC_GW_PARSE_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Alerts one Alertmanager notification may carry. */
#define TC_GW_ALERTS_MAX 1000

/* One event for tocsin: a check result as an agent would send it. */
typedef struct {
    tc_check_result_t check;
    int64_t time_ms; /* when the tool observed it */
} tc_gw_event_t;

/* Makes `s` an id: characters outside [A-Za-z0-9._:-] become '_', at most
 * TC_ID_MAX - 1 bytes. Returns false when nothing is left. */
bool tc_gw_to_id(const char *s, char out[TC_ID_MAX]);

/* ---- Alertmanager ------------------------------------------------------------ */

typedef struct {
    /* Labels that name the service and the host, the first present wins
     * (the alert's labels, then the common labels). */
    const char *const *service_labels; /* default {"service", "job"} */
    size_t nservice_labels;
    const char *const *host_labels; /* default {"instance"} */
    size_t nhost_labels;
    const char *default_host; /* when no host label is present */
} tc_gw_am_config_t;

/* Reads an Alertmanager webhook body into `out` (room for
 * TC_GW_ALERTS_MAX), their number into *n: each alert becomes a hard
 * CRITICAL (firing) or OK (resolved) result of check
 * "ALERTNAME-FINGERPRINT" (the fingerprint keeps it apart), with the
 * service and host from the labels and the common annotations (summary,
 * description; else the alert's) as the output, observed at startsAt or
 * endsAt (now if absent or later than now_ms). Returns 0, or TC_EINVAL
 * with one reason ("alerts[2].status: expected firing or resolved") in
 * `why`. */
int tc_gw_alertmanager_parse(const char *body, size_t len, const tc_gw_am_config_t *cfg,
                             int64_t now_ms, tc_gw_event_t *out, size_t *n, char *why,
                             size_t whylen);

/* ---- PagerDuty Events API v2 --------------------------------------------------- */

typedef enum {
    TC_GW_PD_TRIGGER = 0,
    TC_GW_PD_ACKNOWLEDGE = 1,
    TC_GW_PD_RESOLVE = 2,
} tc_gw_pd_action_t;

#define TC_GW_PD_ERRORS_MAX 8

typedef struct {
    char routing_key[257];
    tc_gw_pd_action_t action;
    char dedup_key[256]; /* "" when a trigger gave none */
    char summary[1025];
    char source[256];
    char severity[16]; /* critical, error, warning, info */
    char component[256], group[256], klass[256];
    int64_t timestamp_ms; /* 0 when not given */
    char details[256];    /* custom_details, compact, for the output */
} tc_gw_pd_event_t;

/* Reads an Events API v2 body. Returns 0, or TC_EINVAL with up to
 * TC_GW_PD_ERRORS_MAX messages in `errors` and their number in *nerrors
 * (the routing key is read even then, when it is there, so that an
 * unknown key can be answered 401 before anything else). */
int tc_gw_pd_parse(const char *body, size_t len, int64_t now_ms, tc_gw_pd_event_t *out,
                   char errors[][160], size_t *nerrors);

/* The tocsin state an Events v2 severity stands for: critical and error
 * CRITICAL (an incident opens), warning WARNING (recorded, and counted in
 * an open incident of the service, but opens none), info OK (recorded,
 * changes nothing). */
tc_check_state_t tc_gw_pd_state(const char *severity);

/* The check name for a dedup key: the key itself when it is an id of at
 * most 60 bytes, else "pd-" and 16 hexadecimal digits of its SHA-256. */
void tc_gw_pd_check(const char *dedup_key, char out[TC_ID_MAX]);

#endif
