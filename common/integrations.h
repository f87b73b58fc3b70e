/*
 * integrations.h - the tokens monitoring tools send to tocsin-gateway:
 * Alertmanager as a bearer token, anything that pages PagerDuty (Grafana,
 * Zabbix, ...) as the Events API's routing_key.
 *
 * Each integration is a file in the key directory, DIR/integrations/NAME.token
 * (mode 0640), in czmq's ZPL format like the certificates:
 *
 *   integration
 *       name = "prometheus"
 *       services = "api,frontend"     # "*": any service
 *       sha256 = "9f86d0..."          # of the token; the token itself is shown once
 *       created = "2026-12-01T10:00:00.000Z"
 *
 * `tocsinctl keys new integration NAME SERVICE...` makes one and prints
 * its token (32 lowercase hexadecimal characters, the shape of a PagerDuty
 * integration key); `keys revoke integration NAME` moves the file to
 * DIR/revoked/, and a running gateway refuses the token within a second
 * (tc_integrations_refresh). Only a hash of the token is stored, so the
 * files can be read by the gateway without handing out the tokens.
 *
 * A set is used from one thread.
 */
#ifndef TC_INTEGRATIONS_H
#define TC_INTEGRATIONS_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>

#define TC_INTEGRATION_TOKEN_LEN 32
#define TC_INTEGRATION_SERVICES_MAX 32
#define TC_INTEGRATIONS_DIR "integrations"

typedef struct {
    char name[TC_ID_MAX];
    bool any_service; /* "*" */
    char services[TC_INTEGRATION_SERVICES_MAX][TC_ID_MAX];
    size_t nservices;
} tc_integration_t;

/* True if integration `in` may create alerts for `service`. */
bool tc_integration_allows(const tc_integration_t *in, const char *service);

/* Makes integration `name` (a valid id) in key directory `dir` for the
 * `n` services (valid ids, or one "*"), writes its token into `token`
 * (TC_INTEGRATION_TOKEN_LEN + 1 bytes) and the file's path into `path`.
 * Returns 0, TC_EINVAL (bad name or service, or one of that name exists),
 * TC_ESYS. */
int tc_integration_new(const char *dir, const char *name, const char *const *services, size_t n,
                       char *token, char *path, size_t pathcap);

/* Moves DIR/integrations/NAME.token to DIR/revoked/. TC_ENOTFOUND if absent. */
int tc_integration_revoke(const char *dir, const char *name);

/* Calls fn for every allowed integration (revoked false) and every revoked
 * one (revoked true), in directory order. */
typedef void(tc_integration_fn)(const tc_integration_t *in, bool revoked, void *ctx);
int tc_integrations_list(const char *dir, tc_integration_fn *fn, void *ctx);

/* ---- the gateway's view ------------------------------------------------------ */

typedef struct tc_integrations tc_integrations_t;

/* Loads every integration of directory `idir` (DIR/integrations; a
 * missing directory is an empty set). Caller owns *out. Returns 0,
 * TC_ENOMEM or TC_ESYS (unreadable). */
int tc_integrations_open(const char *idir, tc_integrations_t **out);

/* Reloads when the directory changed since the last load. Sets *changed.
 * Returns 0 or an error (the old set stays in force). */
int tc_integrations_refresh(tc_integrations_t *self, bool *changed);

/* The integration whose token is `token`, or NULL. Borrowed; valid until
 * the next refresh. Constant time in the token's bytes. */
const tc_integration_t *tc_integrations_lookup(const tc_integrations_t *self, const char *token);

/* Number of integrations. */
size_t tc_integrations_size(const tc_integrations_t *self);

/* NULL-safe; nulls *pself. */
void tc_integrations_destroy(tc_integrations_t **pself);

#endif
