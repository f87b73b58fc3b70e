/*
 * sp_config.h - tocsin-statuspage's settings: defaults, an optional YAML
 * file, flags.
 *
 * Precedence: built-in defaults < the file (--config) < flags. The file has
 * one section, `statuspage`, whose keys are the long flags with '_' for
 * '-' (http, out, state, title, url, stale, timeout, api, publish, key,
 * server_key, insecure, log_level). Every value goes through
 * tc_sp_config_set(), so a flag and a key are checked by the same rule and
 * refused with the same words; the file is strict like every tocsin
 * configuration (unknown keys, wrong types: FILE:LINE: key: reason).
 */
#ifndef TC_SP_CONFIG_H
#define TC_SP_CONFIG_H

#include "log.h"
#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_SP_DEFAULT_API "tcp://127.0.0.1:7402"
#define TC_SP_DEFAULT_PUBLISH "tcp://127.0.0.1:7403"
#define TC_SP_DEFAULT_OUT "./var/statuspage/site"
#define TC_SP_DEFAULT_STATE "./var/statuspage/state"
#define TC_SP_DEFAULT_TITLE "Status"
#define TC_SP_DEFAULT_STALE_MS 60000
#define TC_SP_DEFAULT_TIMEOUT_MS 5000
#define TC_SP_PATH_MAX 4096
#define TC_SP_URL_MAX 257 /* 256 bytes and the NUL */

typedef struct {
    char api[256];
    char publish[256];
    char out[TC_SP_PATH_MAX];
    char state[TC_SP_PATH_MAX];
    char http[128]; /* "" = no HTTP server */
    char title[TC_TITLE_MAX];
    char url[TC_SP_URL_MAX]; /* "" = the --http address */
    int64_t stale_ms;
    int64_t timeout_ms;
    tc_log_level_t log_level;
    bool insecure;
    char key[TC_SP_PATH_MAX];        /* "" = the tools' defaults */
    char server_key[TC_SP_PATH_MAX]; /* "" = the tools' defaults */
    char path[TC_SP_PATH_MAX];       /* the file these came from ("" = none) */
} tc_sp_config_t;

/* Fills *cfg with the built-in defaults. */
void tc_sp_config_defaults(tc_sp_config_t *cfg);

/* Sets setting `key` (a file key such as "http" or "server_key") from text
 * `value`. Returns 0; TC_ENOTFOUND for an unknown key; or TC_EINVAL with the
 * rule it breaks in `why` ("needs a numeric ADDR:PORT such as
 * 127.0.0.1:7404"), for the caller to prefix with the flag or file:line. */
int tc_sp_config_set(tc_sp_config_t *cfg, const char *key, const char *value, char *why,
                     size_t cap);

/* Reads YAML file `path` over *cfg. Returns 0, TC_ENOMEM, or TC_ECONFIG
 * with "PATH:LINE: statuspage.KEY: reason" in `err`; on error *cfg is
 * unchanged. */
int tc_sp_config_load(tc_sp_config_t *cfg, const char *path, char *err, size_t errlen);

#endif
