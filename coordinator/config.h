/*
 * config.h - the coordinator's configuration: defaults, YAML file, flags.
 *
 * Precedence: built-in defaults < YAML file < command-line flags. The file
 * is strict: an unknown key, a value of the wrong type or an invalid value is
 * an error naming the file, line and key, and the coordinator does not start.
 */
#ifndef TC_COORD_CONFIG_H
#define TC_COORD_CONFIG_H

#include "log.h"
#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_DEFAULT_AGENTS_EP "tcp://127.0.0.1:7401"
#define TC_DEFAULT_API_EP "tcp://127.0.0.1:7402"
#define TC_DEFAULT_PUBLISH_EP "tcp://127.0.0.1:7403"
/* Where --metrics usually listens (it is off unless given). */
#define TC_DEFAULT_METRICS_ADDR "127.0.0.1:7406"

typedef struct {
    char data[4096];            /* data directory (LMDB) */
    char agents[256];           /* ROUTER endpoint for agents */
    char api[256];              /* ROUTER endpoint for tocsinctl and catch-up */
    char publish[256];          /* PUB endpoint for broadcasts */
    char metrics[64];           /* GET /metrics on this IP:PORT; "" = off */
    bool insecure;              /* plaintext; loopback endpoints only */
    char keys[4096];            /* key directory (see common/keys.h) */
    bool open_publish;          /* any CURVE client may subscribe */
    uint32_t missed_heartbeats; /* heartbeats missed before a host is down */
    tc_log_level_t log_level;
    size_t map_size;              /* LMDB map size to start with, in bytes (it grows) */
    size_t map_max;               /* most the map may grow to (0: until the disk is full) */
    uint32_t batch_max;           /* most events committed in one transaction */
    uint32_t rate_limit;          /* messages per second per peer; 0 = no limit */
    bool test_clock;              /* allow `tocsinctl clock` (tests and drills only) */
    uint32_t snapshot_every;      /* a snapshot after this many records (0: not by count) */
    int64_t audit_retention_ms;   /* audit records older than this are pruned (0: never) */
    int64_t snapshot_interval_ms; /* ... or this long after the last one (0: not by time) */
    tc_policy_t policy;           /* declaration, severity, reopening; per service */
    char templates[4096];         /* status update templates ("" = built-in only) */
    char path[4096];              /* the YAML file these came from ("" = none) */
} tc_coord_config_t;

/* Fills *cfg with the built-in defaults. */
void tc_coord_config_defaults(tc_coord_config_t *cfg);

/* Reads YAML file `path` over *cfg. Returns 0, or TC_ECONFIG with a
 * "FILE:LINE: key: reason" message in err (errlen >= 256 recommended). */
int tc_coord_config_load(tc_coord_config_t *cfg, const char *path, char *err, size_t errlen);

/* The directory status update templates are read from: cfg->templates if
 * set, else templates/ beside the configuration file if that exists, else
 * "" (built-in templates only). Writes it into dst (`cap` bytes). */
void tc_coord_config_templates_dir(const tc_coord_config_t *cfg, char *dst, size_t cap);

/* Cross-references of a loaded configuration (cfg->path) against its
 * roster (borrowed; may be empty; NULL when it did not load, which skips
 * the team checks rather than report every team unknown), recorded in `ck` with the file and line:
 * a service naming a team the roster does not have is an error when the
 * file has a teams section (a warning when it has none: such a service's
 * incidents get no SME); a component naming a service without an entry
 * under `services:` (usually a typo: the component would never change) or
 * naming no service at all is a warning. */
struct tc_cfgcheck;
struct tc_roster;
void tc_coord_config_check(const tc_coord_config_t *cfg, const struct tc_roster *roster,
                           struct tc_cfgcheck *ck);

#endif
