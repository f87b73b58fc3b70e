/*
 * gw_config.h - tocsin-gateway's settings: defaults, an optional YAML file,
 * flags.
 *
 * Precedence: built-in defaults < the file (--config) < flags. The file has
 * two sections:
 *
 *   gateway:
 *     id: gw-01                    # sender id; the key is DIR/gateways/gw-01.cert
 *     listen: 127.0.0.1:7405       # HTTP
 *     agents: tcp://127.0.0.1:7401 # the coordinator, as an agent sees it
 *     api: tcp://127.0.0.1:7402    # ... and its API (acknowledgement links)
 *     spool: /var/lib/tocsin-gateway/spool
 *     state: /var/lib/tocsin-gateway/state   # Events API dedup keys
 *     integrations: /etc/tocsin/keys/integrations
 *     key: /etc/tocsin/gateway.cert
 *     server_key: /etc/tocsin/coordinator.cert
 *     max_body: 1MiB               # larger requests get 413
 *     rate_limit: 50               # requests per second per integration (429 beyond)
 *     insecure: false
 *     log_level: info
 *   alertmanager:
 *     service_labels: [service, job]
 *     host_labels: [instance]
 *
 * Scalars go through tc_gw_config_set(), so a flag and a key are checked by
 * the same rule and refused with the same words; the file is strict like
 * every tocsin configuration (FILE:LINE: key: reason).
 */
#ifndef TC_GW_CONFIG_H
#define TC_GW_CONFIG_H

#include "log.h"
#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_GW_DEFAULT_LISTEN "127.0.0.1:7405"
#define TC_GW_DEFAULT_AGENTS "tcp://127.0.0.1:7401"
#define TC_GW_DEFAULT_API "tcp://127.0.0.1:7402"
#define TC_GW_DEFAULT_ID "gateway"
#define TC_GW_DEFAULT_SPOOL "/var/lib/tocsin-gateway/spool"
#define TC_GW_DEFAULT_STATE "/var/lib/tocsin-gateway/state"
#define TC_GW_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define TC_GW_DEFAULT_RATE 50
#define TC_GW_PATH_MAX 4096
#define TC_GW_LABELS_MAX 8

typedef struct {
    char id[TC_ID_MAX];
    char listen[128];
    char agents[256];
    char api[256];
    char spool[TC_GW_PATH_MAX];
    char state[TC_GW_PATH_MAX];
    char integrations[TC_GW_PATH_MAX]; /* "" = KEYS/integrations of the defaults */
    char key[TC_GW_PATH_MAX];          /* "" = the defaults */
    char server_key[TC_GW_PATH_MAX];
    size_t max_body;
    uint32_t rate_limit; /* requests per second per integration; 0 = off */
    bool insecure;
    tc_log_level_t log_level;
    char service_labels[TC_GW_LABELS_MAX][TC_ID_MAX];
    size_t nservice_labels;
    char host_labels[TC_GW_LABELS_MAX][TC_ID_MAX];
    size_t nhost_labels;
    char path[TC_GW_PATH_MAX]; /* the file these came from ("" = none) */
} tc_gw_config_t;

/* Fills *cfg with the built-in defaults. */
void tc_gw_config_defaults(tc_gw_config_t *cfg);

/* Sets scalar `key` ("listen", "server_key", ...) from text `value`.
 * Returns 0; TC_ENOTFOUND for an unknown key; or TC_EINVAL with the rule
 * it breaks in `why`, for the caller to prefix with the flag or
 * file:line. */
int tc_gw_config_set(tc_gw_config_t *cfg, const char *key, const char *value, char *why,
                     size_t cap);

/* Reads YAML file `path` over *cfg. Returns 0, TC_ENOMEM, or TC_ECONFIG
 * with "PATH:LINE: section.key: reason" in `err`; on error *cfg is
 * unchanged. */
int tc_gw_config_load(tc_gw_config_t *cfg, const char *path, char *err, size_t errlen);

#endif
