#include "config.h"

#include "error.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

void tc_coord_config_defaults(tc_coord_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data, sizeof cfg->data, "/var/lib/tocsin");
    snprintf(cfg->keys, sizeof cfg->keys, "/etc/tocsin/keys");
    snprintf(cfg->agents, sizeof cfg->agents, TC_DEFAULT_AGENTS_EP);
    snprintf(cfg->api, sizeof cfg->api, TC_DEFAULT_API_EP);
    snprintf(cfg->publish, sizeof cfg->publish, TC_DEFAULT_PUBLISH_EP);
    cfg->missed_heartbeats = 3;
    cfg->log_level = TC_LOG_INFO;
    cfg->map_size = 0; /* store default */
    cfg->batch_max = 1024;
    cfg->rate_limit = 5000;
}

static int s_fail(char *err, size_t errlen, const char *path, const yaml_node_t *n, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
static int s_fail(char *err, size_t errlen, const char *path, const yaml_node_t *n, const char *fmt,
                  ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%zu: %s", path, n ? n->start_mark.line + 1 : 0, msg);
    return TC_ECONFIG;
}

static const char *s_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int s_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) {
        *out = false;
        return 0;
    }
    return TC_EINVAL;
}

/* Copies an endpoint value after checking its syntax. */
static int s_endpoint(char *dst, size_t cap, const char *v)
{
    if (!tc_endpoint_valid(v) || strlen(v) >= cap)
        return TC_EINVAL;
    snprintf(dst, cap, "%s", v);
    return 0;
}

static int s_coordinator_key(tc_coord_config_t *cfg, const char *key, const char *v)
{
    uint64_t u;
    if (!strcmp(key, "data")) {
        if (!*v || strlen(v) >= sizeof cfg->data)
            return TC_EINVAL;
        snprintf(cfg->data, sizeof cfg->data, "%s", v);
        return 0;
    }
    if (!strcmp(key, "agents"))
        return s_endpoint(cfg->agents, sizeof cfg->agents, v);
    if (!strcmp(key, "api"))
        return s_endpoint(cfg->api, sizeof cfg->api, v);
    if (!strcmp(key, "publish"))
        return s_endpoint(cfg->publish, sizeof cfg->publish, v);
    if (!strcmp(key, "insecure"))
        return s_bool(v, &cfg->insecure);
    if (!strcmp(key, "open_publish"))
        return s_bool(v, &cfg->open_publish);
    if (!strcmp(key, "keys")) {
        if (!*v || strlen(v) >= sizeof cfg->keys)
            return TC_EINVAL;
        snprintf(cfg->keys, sizeof cfg->keys, "%s", v);
        return 0;
    }
    if (!strcmp(key, "log_level"))
        return tc_log_level_parse(v, &cfg->log_level);
    if (!strcmp(key, "missed_heartbeats")) {
        if (tc_u64_parse(v, 1000, &u) || u < 1)
            return TC_EINVAL;
        cfg->missed_heartbeats = (uint32_t)u;
        return 0;
    }
    if (!strcmp(key, "map_size_mb")) {
        if (tc_u64_parse(v, 1u << 24, &u) || u < 1)
            return TC_EINVAL;
        cfg->map_size = (size_t)u << 20;
        return 0;
    }
    if (!strcmp(key, "rate_limit")) {
        if (tc_u64_parse(v, 10000000, &u))
            return TC_EINVAL;
        cfg->rate_limit = (uint32_t)u;
        return 0;
    }
    if (!strcmp(key, "batch_max")) {
        if (tc_u64_parse(v, 100000, &u) || u < 1)
            return TC_EINVAL;
        cfg->batch_max = (uint32_t)u;
        return 0;
    }
    return TC_ENOTFOUND;
}

static int s_walk(tc_coord_config_t *cfg, yaml_document_t *doc, const char *path, char *err,
                  size_t errlen)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root)
        return 0; /* an empty file means defaults */
    if (root->type != YAML_MAPPING_NODE)
        return s_fail(err, errlen, path, root, "top level must be a mapping");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key = s_scalar(k);
        if (!key || strcmp(key, "coordinator") != 0)
            return s_fail(err, errlen, path, k, "unknown key \"%s\"", key ? key : "?");
        if (v->type != YAML_MAPPING_NODE)
            return s_fail(err, errlen, path, v, "coordinator: must be a mapping");
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
             q++) {
            yaml_node_t *k2 = yaml_document_get_node(doc, q->key);
            yaml_node_t *v2 = yaml_document_get_node(doc, q->value);
            const char *key2 = s_scalar(k2);
            const char *val = s_scalar(v2);
            if (!key2)
                return s_fail(err, errlen, path, k2, "coordinator: keys must be scalars");
            if (!val)
                return s_fail(err, errlen, path, v2, "coordinator.%s: must be a scalar", key2);
            int rc = s_coordinator_key(cfg, key2, val);
            if (rc == TC_ENOTFOUND)
                return s_fail(err, errlen, path, k2, "coordinator: unknown key \"%s\"", key2);
            if (rc)
                return s_fail(err, errlen, path, v2, "coordinator.%s: invalid value \"%s\"", key2,
                              val);
        }
    }
    return 0;
}

int tc_coord_config_load(tc_coord_config_t *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return TC_ECONFIG;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc;
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML syntax error");
        rc = TC_ECONFIG;
    } else {
        rc = s_walk(cfg, &doc, path, err, errlen);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}
