/*
 * config.h - the agent's configuration: defaults, the YAML file, checks.
 *
 * A configuration is plain data that main() builds once before the event
 * loop starts: tc_agent_config_new() gives the defaults, tc_agent_config_load()
 * overlays a YAML file, main() then applies command-line flags, and
 * tc_agent_config_finish() fills in what is still unset (the id from the
 * host name). After that it is read-only; the agent borrows it.
 */
#ifndef TC_AGENT_CONFIG_H
#define TC_AGENT_CONFIG_H

#include "flap.h"
#include "keys.h"
#include "log.h"
#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_AGENT_DEFAULT_COORDINATOR "tcp://127.0.0.1:7401"
#define TC_AGENT_DEFAULT_SPOOL "/var/lib/tocsin-agent"
#define TC_AGENT_DEFAULT_KEY "/etc/tocsin/agent.cert"
#define TC_AGENT_DEFAULT_SERVER_KEY "/etc/tocsin/coordinator.cert"
#define TC_AGENT_DEFAULT_HEARTBEAT_MS 5000
#define TC_AGENT_DEFAULT_METRICS "127.0.0.1:7409" /* the example; metrics are off by default */
#define TC_AGENT_METRICS_MAX 64
#define TC_CHECK_DEFAULT_INTERVAL_MS 10000
#define TC_CHECK_MIN_INTERVAL_MS 100
#define TC_CHECK_DEFAULT_TIMEOUT_MS 5000
#define TC_CHECK_MAX_TIMEOUT_MS 3600000 /* exclusive: a timeout must be < 1h */
#define TC_CHECK_DEFAULT_RETRIES 3
#define TC_CHECK_MAX_RETRIES 100
#define TC_HEARTBEAT_MIN_MS 100     /* same range as tc_msg_validate() */
#define TC_HEARTBEAT_MAX_MS 3600000 /* accepts for heartbeat_ms */
#define TC_ENDPOINT_MAX 256
#define TC_CHECK_ARG_MAX 4096 /* url, target or command, with NUL */

typedef enum {
    TC_CHECK_EXEC = 0, /* /bin/sh -c command, a Nagios-compatible plugin */
    TC_CHECK_TCP = 1,  /* built-in: TCP connect to host:port */
    TC_CHECK_HTTP = 2, /* built-in: HTTP(S) GET, 2xx/3xx is OK */
} tc_check_type_t;

/* One configured check. `arg` is the url (http), host:port (tcp) or shell
 * command (exec); owned by the configuration. */
typedef struct {
    char name[TC_ID_MAX];
    char service[TC_ID_MAX];
    tc_check_type_t type;
    char *arg;
    int64_t interval_ms;
    int64_t timeout_ms;
    uint32_t retries;
    tc_flap_limits_t flap; /* `flap:`; on with 5/20 unless configured */
    int line;              /* line of the check in the YAML file, for messages */
} tc_check_def_t;

typedef struct {
    char id[TC_ID_MAX]; /* empty until set; finish() defaults it */
    char coordinator[TC_ENDPOINT_MAX];
    char spool[4096];
    int64_t heartbeat_ms;
    bool insecure;
    char key[4096];        /* this agent's key pair (CURVE) */
    char server_key[4096]; /* the coordinator's certificate */
    tc_client_keys_t keys; /* loaded by the caller from key/server_key */
    tc_log_level_t log_level;
    size_t spool_max;                   /* bytes the spool may grow to (outbox/spool.h) */
    uint32_t window;                    /* events in flight at most */
    uint32_t send_rate;                 /* events sent per second at most */
    char metrics[TC_AGENT_METRICS_MAX]; /* GET /metrics and /healthz on this IP:PORT; "" = off */
    tc_check_def_t *checks;             /* array of nchecks, owned */
    size_t nchecks;
} tc_agent_config_t;

/* Returns a configuration holding the defaults and no checks, or NULL if
 * out of memory. Caller owns it; free with tc_agent_config_destroy(). */
tc_agent_config_t *tc_agent_config_new(void);

/* Frees the configuration and its checks. NULL-safe; nulls *pcfg. */
void tc_agent_config_destroy(tc_agent_config_t **pcfg);

/* Reads the YAML file `path` into `cfg`, overriding defaults with what the
 * file sets and replacing the check list. The whole file is validated:
 * unknown keys, wrong types, missing required keys, duplicate check names,
 * bad ids, durations, endpoints and ranges are errors. On error `cfg` is
 * left unchanged, and a one-line message naming file, line and key
 * ("agent.yaml:7: checks[1].interval: invalid duration \"5x\"") is written
 * to `err` (at least 256 bytes recommended). Returns 0, TC_ECONFIG, or
 * TC_ENOMEM. */
int tc_agent_config_load(tc_agent_config_t *cfg, const char *path, char *err, size_t errlen);

/* Completes `cfg` after flags were applied: an empty id becomes the host
 * name. Then checks the agent-level values (id, endpoint, heartbeat range)
 * whichever source they came from. Returns 0 or TC_ECONFIG with a message
 * in `err`. */
int tc_agent_config_finish(tc_agent_config_t *cfg, char *err, size_t errlen);

/* What tc_agent_config_load() cannot see on its own, recorded in `ck` with
 * the file (`path`, may be NULL) and line: an exec check whose program (an
 * absolute path as the first word of its command) is missing or not
 * executable; the key pair and the coordinator's certificate, unless
 * insecure; a spool directory that cannot be written or created; and, as
 * a warning, a configuration without checks. Reads files, creates none. */
struct tc_cfgcheck;
void tc_agent_config_check(const tc_agent_config_t *cfg, const char *path, struct tc_cfgcheck *ck);

/* Lower-case name of a check type ("exec", "tcp", "http"); never NULL. */
const char *tc_check_type_name(tc_check_type_t t);

/* Formats a duration for people: "2s", "1500ms", "5m". Returns dst. */
char *tc_duration_format(int64_t ms, char *dst, size_t cap);

/* Parses a size: a decimal number of bytes, optionally followed (no space)
 * by KiB, MiB, GiB or TiB ("64MiB", "1GiB", "1048576"). Returns 0 and sets
 * *bytes, or TC_EINVAL (also on overflow). */
int tc_size_parse(const char *s, uint64_t *bytes);

#endif
