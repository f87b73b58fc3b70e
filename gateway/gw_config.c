/*
 * gw_config.c - tocsin-gateway's settings; see gw_config.h.
 */
#include "gw_config.h"

#include "error.h"
#include "httpd.h"
#include "util.h"
#include "yconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tc_gw_config_defaults(tc_gw_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->id, sizeof cfg->id, TC_GW_DEFAULT_ID);
    snprintf(cfg->listen, sizeof cfg->listen, TC_GW_DEFAULT_LISTEN);
    snprintf(cfg->agents, sizeof cfg->agents, TC_GW_DEFAULT_AGENTS);
    snprintf(cfg->api, sizeof cfg->api, TC_GW_DEFAULT_API);
    snprintf(cfg->spool, sizeof cfg->spool, TC_GW_DEFAULT_SPOOL);
    snprintf(cfg->state, sizeof cfg->state, TC_GW_DEFAULT_STATE);
    cfg->max_body = TC_GW_DEFAULT_MAX_BODY;
    cfg->rate_limit = TC_GW_DEFAULT_RATE;
    cfg->log_level = TC_LOG_INFO;
    snprintf(cfg->service_labels[0], TC_ID_MAX, "service");
    snprintf(cfg->service_labels[1], TC_ID_MAX, "job");
    cfg->nservice_labels = 2;
    snprintf(cfg->host_labels[0], TC_ID_MAX, "instance");
    cfg->nhost_labels = 1;
}

static int s_fail(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return TC_EINVAL;
}

static int s_copy(char *dst, size_t dcap, const char *v, const char *what, char *why, size_t cap)
{
    if (!*v || strlen(v) >= dcap) {
        snprintf(why, cap, "needs %s", what);
        return TC_EINVAL;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* "1MiB", "256KiB", "65536": the body limit, 1 KiB..64 MiB. */
static int s_size(const char *v, size_t *out)
{
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {{"", 0}, {"B", 0}, {"KiB", 10}, {"MiB", 20}};
    size_t digits = strspn(v, "0123456789");
    if (digits == 0 || digits > 9)
        return TC_EINVAL;
    char num[16];
    memcpy(num, v, digits);
    num[digits] = 0;
    uint64_t n;
    if (tc_u64_parse(num, UINT32_MAX, &n) != 0)
        return TC_EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(v + digits, units[i].unit)) {
            n <<= units[i].shift;
            if (n < 1024 || n > ((uint64_t)64 << 20))
                return TC_EINVAL;
            *out = (size_t)n;
            return 0;
        }
    return TC_EINVAL;
}

int tc_gw_config_set(tc_gw_config_t *c, const char *key, const char *v, char *why, size_t cap)
{
    if (!strcmp(key, "id")) {
        if (!tc_id_valid(v))
            return s_fail(why, cap, "needs an id (letters, digits, . _ : -; under 64 bytes)");
        snprintf(c->id, sizeof c->id, "%s", v);
        return 0;
    }
    if (!strcmp(key, "listen")) {
        if (strlen(v) >= sizeof c->listen || !tc_httpd_addr_valid(v))
            return s_fail(why, cap, "needs a numeric ADDR:PORT such as 127.0.0.1:7405");
        memcpy(c->listen, v, strlen(v) + 1);
        return 0;
    }
    if (!strcmp(key, "agents") || !strcmp(key, "api")) {
        char *dst = key[0] == 'a' && key[1] == 'g' ? c->agents : c->api;
        /* Syntax only: the loopback rule is applied once every source is
         * read. */
        if (!tc_endpoint_valid(v) || strlen(v) >= sizeof c->api)
            return s_fail(why, cap, "needs an endpoint such as tcp://127.0.0.1:7401");
        memcpy(dst, v, strlen(v) + 1);
        return 0;
    }
    if (!strcmp(key, "spool"))
        return s_copy(c->spool, sizeof c->spool, v, "a directory", why, cap);
    if (!strcmp(key, "state"))
        return s_copy(c->state, sizeof c->state, v, "a directory", why, cap);
    if (!strcmp(key, "integrations"))
        return s_copy(c->integrations, sizeof c->integrations, v, "a directory", why, cap);
    if (!strcmp(key, "key"))
        return s_copy(c->key, sizeof c->key, v, "a file", why, cap);
    if (!strcmp(key, "server_key"))
        return s_copy(c->server_key, sizeof c->server_key, v, "a file", why, cap);
    if (!strcmp(key, "max_body")) {
        if (s_size(v, &c->max_body) != 0)
            return s_fail(why, cap, "needs a size from 1KiB to 64MiB, such as 1MiB");
        return 0;
    }
    if (!strcmp(key, "rate_limit")) {
        uint64_t n;
        if (tc_u64_parse(v, 100000, &n) != 0)
            return s_fail(why, cap, "needs requests per second, 0 (off) to 100000");
        c->rate_limit = (uint32_t)n;
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
    return tc_gw_config_set(cfg, key, value, why, cap);
}

static int s_gateway(tc_yconf_t *y, const yaml_node_t *map, tc_gw_config_t *c)
{
    static const char *const s_gateway_keys[] = {
        "id",  "listen",     "agents",   "api",        "spool",    "state",     "integrations",
        "key", "server_key", "max_body", "rate_limit", "insecure", "log_level", NULL};
    return tc_yconf_settings(y, map, "gateway", s_gateway_keys, s_set, c, &c->insecure);
}

/* A list of label names, [service, job]. */
static int s_labels(tc_yconf_t *y, const yaml_node_t *v, const char *path, char (*out)[TC_ID_MAX],
                    size_t *n)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return tc_yconf_fail(y, v, "%s: expected a list of label names, found %s", path,
                             tc_yconf_node_kind(v));
    size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (count == 0 || count > TC_GW_LABELS_MAX)
        return tc_yconf_fail(y, v, "%s: expected 1 to %d label names", path, TC_GW_LABELS_MAX);
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *it = yaml_document_get_node(y->doc, v->data.sequence.items.start[i]);
        char ipath[128];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        const char *s = tc_yconf_scalar(y, it, ipath);
        if (!s)
            return TC_ECONFIG;
        /* Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*. */
        bool ok = *s && !(*s >= '0' && *s <= '9') && strlen(s) < TC_ID_MAX;
        for (const char *q = s; ok && *q; q++)
            ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                 *q == '_';
        if (!ok)
            return tc_yconf_fail(y, it, "%s: \"%.64s\" is not a Prometheus label name", ipath, s);
        snprintf(out[i], TC_ID_MAX, "%s", s);
    }
    *n = count;
    return 0;
}

static int s_alertmanager(tc_yconf_t *y, const yaml_node_t *map, tc_gw_config_t *c)
{
    if (tc_yconf_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(y, map, "alertmanager: expected a mapping, found %s",
                             tc_yconf_node_kind(map));
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(y, p, first, "alertmanager");
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
        char path[96];
        snprintf(path, sizeof path, "alertmanager.%.64s", key);
        int rc;
        if (!strcmp(key, "service_labels"))
            rc = s_labels(y, v, path, c->service_labels, &c->nservice_labels);
        else if (!strcmp(key, "host_labels"))
            rc = s_labels(y, v, path, c->host_labels, &c->nhost_labels);
        else
            rc = tc_yconf_fail(y, yaml_document_get_node(y->doc, p->key),
                               "%s: unknown key (expected service_labels, host_labels)", path);
        if (rc)
            return rc;
    }
    return 0;
}

int tc_gw_config_load(tc_gw_config_t *cfg, const char *path, char *err, size_t errlen)
{
    tc_yconf_t y;
    tc_yconf_init(&y, path, err, errlen);
    int rc = tc_yconf_load(&y);
    if (rc != 0)
        return rc;
    tc_gw_config_t *tmp = malloc(sizeof *tmp);
    if (!tmp) {
        tc_yconf_close(&y);
        return TC_ENOMEM;
    }
    *tmp = *cfg;
    const yaml_node_t *root = yaml_document_get_root_node(y.doc);
    if (root && !tc_yconf_is_null(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            rc = tc_yconf_fail(&y, root,
                               "top level: expected a mapping with the keys gateway "
                               "and alertmanager");
        } else {
            const yaml_node_pair_t *first = root->data.mapping.pairs.start;
            for (const yaml_node_pair_t *p = first; rc == 0 && p < root->data.mapping.pairs.top;
                 p++) {
                const char *key = tc_yconf_pair_key(&y, p, first, "");
                const yaml_node_t *v = key ? yaml_document_get_node(y.doc, p->value) : NULL;
                if (!key)
                    rc = TC_ECONFIG;
                else if (!strcmp(key, "gateway"))
                    rc = s_gateway(&y, v, tmp);
                else if (!strcmp(key, "alertmanager"))
                    rc = s_alertmanager(&y, v, tmp);
                else
                    rc = tc_yconf_fail(&y, yaml_document_get_node(y.doc, p->key),
                                       "%s: unknown key (expected gateway, alertmanager)", key);
            }
        }
    }
    if (rc == 0)
        rc = tc_yconf_one_document(&y);
    if (rc == 0) {
        *cfg = *tmp;
        snprintf(cfg->path, sizeof cfg->path, "%s", path);
    }
    free(tmp);
    tc_yconf_close(&y);
    return rc;
}
