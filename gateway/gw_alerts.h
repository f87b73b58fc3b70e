/*
 * gw_alerts.h - what the gateway remembers of Events API alerts: for each
 * (integration, dedup key) the check it became (service, host, check
 * name), because an "acknowledge" or "resolve" carries only the dedup key.
 *
 * An LMDB environment of its own (common/lmdb_env.h: locked against a
 * second process, grows as needed), written before the trigger is
 * spooled: a key remembered for an event that was then not spooled is
 * harmless, the reverse would lose the resolve. A resolved alert is
 * forgotten once its resolve is spooled.
 *
 * The loop's thread only.
 */
#ifndef TC_GW_ALERTS_H
#define TC_GW_ALERTS_H

#include "msg.h"

#include <stddef.h>

typedef struct tc_gw_alerts tc_gw_alerts_t;

typedef struct {
    char service[TC_ID_MAX];
    char host[TC_ID_MAX];
    char check[TC_ID_MAX];
} tc_gw_alert_t;

/* Opens (creating) the store in `dir`. Returns 0 and *out (caller owns),
 * or an error with a one-line reason in `why` (TC_ECONFIG: in use). */
int tc_gw_alerts_open(const char *dir, tc_gw_alerts_t **out, char *why, size_t whylen);

/* NULL-safe; nulls *pself. */
void tc_gw_alerts_destroy(tc_gw_alerts_t **pself);

/* Remembers `a` for (integration, key). Returns 0 or a write error with a
 * reason in `why` ("disk full at DIR"). */
int tc_gw_alerts_put(tc_gw_alerts_t *self, const char *integration, const char *key,
                     const tc_gw_alert_t *a, char *why, size_t whylen);

/* What (integration, key) became, into *out. Returns 0 or TC_ENOTFOUND. */
int tc_gw_alerts_get(tc_gw_alerts_t *self, const char *integration, const char *key,
                     tc_gw_alert_t *out);

/* Forgets (integration, key). Returns 0 (also when unknown) or an error. */
int tc_gw_alerts_del(tc_gw_alerts_t *self, const char *integration, const char *key);

/* Alerts remembered. */
size_t tc_gw_alerts_count(tc_gw_alerts_t *self);

#endif
