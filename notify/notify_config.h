/*
 * notify_config.h - tocsin-notify's YAML configuration and the rule that decides
 * which subscriptions receive a status update.
 *
 * The file has three sections: `notify` (endpoints, state directory, retry
 * policy), `smtp` (the relay e-mail subscriptions go through) and
 * `subscriptions` (who gets what). Parsing is strict: an unknown key, a
 * wrong type, a bad URL, address or duration is an error naming
 * file:line, and nothing is applied unless the whole file is valid.
 */
#ifndef TC_NOTIFY_CONFIG_H
#define TC_NOTIFY_CONFIG_H

#include "log.h"
#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_NOTIFY_DEFAULT_API "tcp://127.0.0.1:7402"
#define TC_NOTIFY_DEFAULT_PUBLISH "tcp://127.0.0.1:7403"
#define TC_NOTIFY_DEFAULT_STATE "/var/lib/tocsin-notify"
#define TC_NOTIFY_DEFAULT_RETRY_FIRST_MS 1000
#define TC_NOTIFY_DEFAULT_RETRY_MAX_MS (5 * 60 * 1000)
#define TC_NOTIFY_DEFAULT_GIVE_UP_MS (24 * 3600 * 1000)
#define TC_NOTIFY_DEFAULT_TIMEOUT_MS 10000
#define TC_NOTIFY_DEFAULT_CONCURRENCY 8
#define TC_NOTIFY_DEFAULT_FAILING_MS (10 * 60 * 1000)
#define TC_NOTIFY_DEFAULT_LINK_TTL_MS (24LL * 3600 * 1000)
#define TC_NOTIFY_DEFAULT_METRICS "127.0.0.1:7407"
#define TC_NOTIFY_URL_MAX 1024
#define TC_NOTIFY_PATH_MAX 1024
#define TC_NOTIFY_ADDR_MAX 256
#define TC_NOTIFY_TO_MAX 16
#define TC_NOTIFY_SUBS_MAX 256

typedef enum {
    TC_NOTIFY_SLACK = 0,
    TC_NOTIFY_WEBHOOK = 1,
    TC_NOTIFY_EMAIL = 2,
} tc_notify_type_t;

/* Which drill updates a subscription wants. */
typedef enum {
    TC_NOTIFY_DRILL_NO = 0,   /* real updates only (the default) */
    TC_NOTIFY_DRILL_YES = 1,  /* real and drill updates */
    TC_NOTIFY_DRILL_ONLY = 2, /* drill updates only */
} tc_notify_drill_t;

typedef struct {
    char name[TC_ID_MAX]; /* unique; part of every idempotency key */
    tc_notify_type_t type;
    char url[TC_NOTIFY_URL_MAX]; /* slack, webhook */
    char to[TC_NOTIFY_TO_MAX][TC_NOTIFY_ADDR_MAX];
    size_t nto;    /* email */
    bool external; /* audience */
    char components[TC_COMPONENTS_MAX][TC_ID_MAX];
    size_t ncomponents; /* 0: all */
    uint8_t severities; /* bit s set: severity s wanted (1..5); 0: all */
    tc_notify_drill_t drill;
    int line; /* where it was defined, for messages */
} tc_notify_sub_t;

typedef struct {
    char api[256];
    char publish[256];
    char state[TC_NOTIFY_PATH_MAX];
    int64_t retry_first_ms;
    int64_t retry_max_ms;
    int64_t give_up_ms;
    int64_t timeout_ms;
    int64_t failing_ms; /* undelivered this long: the channel is reported failing */
    uint32_t concurrency;
    char page_url[TC_NOTIFY_URL_MAX]; /* the public status page, ending in '/'; "" if none */
    /* Pages link to ack_url + "ack/" + a signed token (tocsin-gateway);
     * "" for no links. The token is signed with link_key ("": the first of
     * var/keys/links.key, /etc/tocsin/keys/links.key, /etc/tocsin/links.key)
     * and works for link_ttl after the page. */
    char ack_url[TC_NOTIFY_URL_MAX];
    char link_key[TC_NOTIFY_PATH_MAX];
    int64_t link_ttl_ms;
    char metrics[64]; /* GET /metrics on this IP:PORT; "" = off */
    tc_log_level_t log_level;
    bool insecure;
    char key[TC_NOTIFY_PATH_MAX];        /* empty: the tools' defaults */
    char server_key[TC_NOTIFY_PATH_MAX]; /* empty: the tools' defaults */
    /* smtp */
    bool has_smtp;
    char smtp_url[TC_NOTIFY_URL_MAX];
    char smtp_from[TC_NOTIFY_ADDR_MAX];
    char smtp_username[TC_NOTIFY_ADDR_MAX];
    char smtp_password[TC_NOTIFY_ADDR_MAX]; /* read from password_file */
    tc_notify_sub_t *subs;
    size_t nsubs;
} tc_notify_config_t;

/* A configuration with every default set and no subscriptions. Caller owns
 * the result (free with tc_notify_config_destroy); NULL on allocation
 * failure. */
tc_notify_config_t *tc_notify_config_new(void);

/* Frees the configuration; NULL-safe; nulls *pcfg. */
void tc_notify_config_destroy(tc_notify_config_t **pcfg);

/* Reads the YAML file `path` over `cfg`: keys present replace the current
 * values, the subscription list is replaced. Returns 0, or TC_ECONFIG with
 * "path:line: reason" in `err` (size `errlen`) and `cfg` untouched, or
 * TC_ENOMEM. */
int tc_notify_config_load(tc_notify_config_t *cfg, const char *path, char *err, size_t errlen);

/* The subscription named `name`, or NULL. Borrowed from `cfg`. */
const tc_notify_sub_t *tc_notify_config_find(const tc_notify_config_t *cfg, const char *name);

/* True if subscription `sub` gets update `u`: same audience, a component
 * in common (a filter or an update without components matches all), a
 * wanted severity (an unassessed severity 0 always matches, because a
 * missed critical notice is worse than an extra one), and the drill
 * setting. Both borrowed. */
bool tc_notify_matches(const tc_notify_sub_t *sub, const tc_update_t *u);

/* The wait before retry number `attempts` (1 = after the first failure):
 * `first` doubled attempts-1 times, capped at `max`. Pure; jitter is the
 * caller's business. */
int64_t tc_notify_backoff_ms(int64_t first, int64_t max, uint32_t attempts);

/* What the loader cannot see on its own, recorded in `ck` with `path`
 * (the file cfg came from; may be NULL) and line: a configuration without
 * subscriptions; unless insecure, the key pair and the coordinator's
 * certificate (`key` and `server_key` as resolved by the caller: flag,
 * setting, environment or default; NULL if none was found); a state
 * directory that cannot be written or created; and, when the coordinator's
 * configuration file `coordinator_config` is given (may be NULL), each
 * subscription component it does not define. Reads files, creates none. */
struct tc_cfgcheck;
void tc_notify_config_check(const tc_notify_config_t *cfg, const char *path, const char *key,
                            const char *server_key, const char *coordinator_config,
                            struct tc_cfgcheck *ck);

/* "slack", "webhook", "email". */
const char *tc_notify_type_name(tc_notify_type_t t);

/* The link key file pages are signed with (see ack_url), or NULL if none
 * is set and none of the defaults exists. Borrowed. */
const char *tc_notify_config_link_key(const tc_notify_config_t *cfg);

#endif
