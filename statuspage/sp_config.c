/*
 * sp_config.c - tocsin-statuspage's settings (see sp_config.h).
 */
#include "sp_config.h"

#include "error.h"
#include "sp_http.h"
#include "util.h"
#include "yconf.h"

#include <stdio.h>
#include <string.h>

void tc_sp_config_defaults(tc_sp_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->api, sizeof cfg->api, TC_SP_DEFAULT_API);
    snprintf(cfg->publish, sizeof cfg->publish, TC_SP_DEFAULT_PUBLISH);
    snprintf(cfg->out, sizeof cfg->out, TC_SP_DEFAULT_OUT);
    snprintf(cfg->state, sizeof cfg->state, TC_SP_DEFAULT_STATE);
    snprintf(cfg->title, sizeof cfg->title, TC_SP_DEFAULT_TITLE);
    cfg->stale_ms = TC_SP_DEFAULT_STALE_MS;
    cfg->timeout_ms = TC_SP_DEFAULT_TIMEOUT_MS;
    cfg->log_level = TC_LOG_INFO;
}

static int s_fail(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return TC_EINVAL;
}

/* Copies a non-empty value that fits. */
static int s_copy(char *dst, size_t dcap, const char *v, const char *what, char *why, size_t cap)
{
    if (!*v || strlen(v) >= dcap) {
        snprintf(why, cap, "needs %s", what);
        return TC_EINVAL;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

int tc_sp_config_set(tc_sp_config_t *c, const char *key, const char *v, char *why, size_t cap)
{
    int64_t ms;
    if (!strcmp(key, "api") || !strcmp(key, "publish")) {
        char *dst = key[0] == 'a' ? c->api : c->publish;
        /* Syntax only: tc_cli_check_endpoint() applies the loopback rule
         * once every source is read. */
        if (!tc_endpoint_valid(v) || strlen(v) >= sizeof c->api)
            return s_fail(why, cap, "needs an endpoint such as tcp://127.0.0.1:7402");
        memcpy(dst, v, strlen(v) + 1);
        return 0;
    }
    if (!strcmp(key, "out"))
        return s_copy(c->out, sizeof c->out, v, "a directory", why, cap);
    if (!strcmp(key, "state"))
        return s_copy(c->state, sizeof c->state, v, "a directory", why, cap);
    if (!strcmp(key, "key"))
        return s_copy(c->key, sizeof c->key, v, "a file", why, cap);
    if (!strcmp(key, "server_key"))
        return s_copy(c->server_key, sizeof c->server_key, v, "a file", why, cap);
    if (!strcmp(key, "http")) {
        if (strlen(v) >= sizeof c->http || tc_sp_http_addr_valid(v) != 0)
            return s_fail(why, cap, "needs a numeric ADDR:PORT such as 127.0.0.1:7404");
        memcpy(c->http, v, strlen(v) + 1);
        return 0;
    }
    if (!strcmp(key, "title")) {
        if (!*v || strlen(v) >= sizeof c->title) {
            snprintf(why, cap, "needs a text of 1 to %d bytes", TC_TITLE_MAX - 1);
            return TC_EINVAL;
        }
        memcpy(c->title, v, strlen(v) + 1);
        return 0;
    }
    if (!strcmp(key, "url")) {
        size_t n = strlen(v);
        if (n == 0 || n >= sizeof c->url || v[n - 1] != '/' ||
            (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0))
            return s_fail(why, cap, "needs an http(s) address ending in '/'");
        memcpy(c->url, v, n + 1);
        return 0;
    }
    if (!strcmp(key, "stale")) {
        if (tc_duration_parse(v, &ms) != 0 || ms <= 0)
            return s_fail(why, cap, "needs a duration such as 60s");
        c->stale_ms = ms;
        return 0;
    }
    if (!strcmp(key, "timeout")) {
        if (tc_duration_parse(v, &ms) != 0 || ms <= 0)
            return s_fail(why, cap, "needs a duration such as 500ms or 5s");
        c->timeout_ms = ms;
        return 0;
    }
    if (!strcmp(key, "log_level")) {
        if (tc_log_level_parse(v, &c->log_level) != 0)
            return s_fail(why, cap, "needs debug, info, warn or error");
        return 0;
    }
    return TC_ENOTFOUND;
}

static int s_set(void *cfg, const char *key, const char *value, char *why, size_t cap)
{
    return tc_sp_config_set(cfg, key, value, why, cap);
}

static int s_section(tc_yconf_t *y, const yaml_node_t *map, tc_sp_config_t *c)
{
    static const char *const s_section_keys[] = {
        "api",   "publish", "out", "state",      "http",     "title",     "url",
        "stale", "timeout", "key", "server_key", "insecure", "log_level", NULL};
    return tc_yconf_settings(y, map, "statuspage", s_section_keys, s_set, c, &c->insecure);
}

int tc_sp_config_load(tc_sp_config_t *cfg, const char *path, char *err, size_t errlen)
{
    tc_yconf_t y;
    tc_yconf_init(&y, path, err, errlen);
    int rc = tc_yconf_load(&y);
    if (rc != 0)
        return rc;
    tc_sp_config_t tmp = *cfg;
    const yaml_node_t *root = yaml_document_get_root_node(y.doc);
    if (root && !tc_yconf_is_null(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            rc = tc_yconf_fail(&y, root, "top level: expected a mapping with the key statuspage");
        } else {
            const yaml_node_pair_t *first = root->data.mapping.pairs.start;
            for (const yaml_node_pair_t *p = first; rc == 0 && p < root->data.mapping.pairs.top;
                 p++) {
                const char *key = tc_yconf_pair_key(&y, p, first, "");
                if (!key)
                    rc = TC_ECONFIG;
                else if (strcmp(key, "statuspage") != 0)
                    rc = tc_yconf_fail(&y, yaml_document_get_node(y.doc, p->key),
                                       "%s: unknown key (expected statuspage)", key);
                else
                    rc = s_section(&y, yaml_document_get_node(y.doc, p->value), &tmp);
            }
        }
    }
    if (rc == 0)
        rc = tc_yconf_one_document(&y);
    if (rc == 0) {
        *cfg = tmp;
        snprintf(cfg->path, sizeof cfg->path, "%s", path);
    }
    tc_yconf_close(&y);
    return rc;
}
