/*
 * notify_config.c - tocsin-notify's configuration; see notify_config.h.
 *
 * Like the agent's, it uses libyaml's document API so every node keeps its
 * line for messages (through common/yconf.c, shared with the agent), and it
 * validates into a copy that replaces the caller's configuration only when
 * the whole file is good.
 */
#include "notify_config.h"

#include "acklink.h"
#include "cfgcheck.h"
#include "error.h"
#include "httpd.h"
#include "keys.h"
#include "util.h"
#include "yconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define S_KEY_MAX 160
/* Components read from the coordinator's file, at most. */
#define S_COMPONENTS_MAX 1024

const char *tc_notify_type_name(tc_notify_type_t t)
{
    switch (t) {
    case TC_NOTIFY_SLACK: return "slack";
    case TC_NOTIFY_WEBHOOK: return "webhook";
    case TC_NOTIFY_EMAIL: return "email";
    }
    return "invalid";
}

tc_notify_config_t *tc_notify_config_new(void)
{
    tc_notify_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    snprintf(cfg->api, sizeof cfg->api, "%s", TC_NOTIFY_DEFAULT_API);
    snprintf(cfg->publish, sizeof cfg->publish, "%s", TC_NOTIFY_DEFAULT_PUBLISH);
    snprintf(cfg->state, sizeof cfg->state, "%s", TC_NOTIFY_DEFAULT_STATE);
    cfg->retry_first_ms = TC_NOTIFY_DEFAULT_RETRY_FIRST_MS;
    cfg->retry_max_ms = TC_NOTIFY_DEFAULT_RETRY_MAX_MS;
    cfg->give_up_ms = TC_NOTIFY_DEFAULT_GIVE_UP_MS;
    cfg->timeout_ms = TC_NOTIFY_DEFAULT_TIMEOUT_MS;
    cfg->failing_ms = TC_NOTIFY_DEFAULT_FAILING_MS;
    cfg->concurrency = TC_NOTIFY_DEFAULT_CONCURRENCY;
    cfg->link_ttl_ms = TC_NOTIFY_DEFAULT_LINK_TTL_MS;
    cfg->log_level = TC_LOG_INFO;
    return cfg;
}

void tc_notify_config_destroy(tc_notify_config_t **pcfg)
{
    if (!pcfg || !*pcfg)
        return;
    free((*pcfg)->subs);
    /* The SMTP password is a secret; do not leave it in freed memory. */
    memset((*pcfg)->smtp_password, 0, sizeof(*pcfg)->smtp_password);
    free(*pcfg);
    *pcfg = NULL;
}

const tc_notify_sub_t *tc_notify_config_find(const tc_notify_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsubs; i++)
        if (strcmp(cfg->subs[i].name, name) == 0)
            return &cfg->subs[i];
    return NULL;
}

bool tc_notify_matches(const tc_notify_sub_t *sub, const tc_update_t *u)
{
    if (sub->external != u->external)
        return false;
    if (u->drill ? sub->drill == TC_NOTIFY_DRILL_NO : sub->drill == TC_NOTIFY_DRILL_ONLY)
        return false;
    if (sub->severities && u->severity >= 1 && u->severity <= 5 &&
        !(sub->severities & (1u << u->severity)))
        return false;
    if (sub->ncomponents == 0 || u->ncomponents == 0)
        return true;
    for (size_t i = 0; i < u->ncomponents; i++)
        for (size_t j = 0; j < sub->ncomponents; j++)
            if (strcmp(u->components[i].name, sub->components[j]) == 0)
                return true;
    return false;
}

int64_t tc_notify_backoff_ms(int64_t first, int64_t max, uint32_t attempts)
{
    int64_t d = first;
    for (uint32_t i = 1; i < attempts && d < max; i++)
        d *= 2;
    return d > max ? max : d;
}

/* ---- parsing helpers ---------------------------------------------------- */

/* Retries, timeouts and the give-up time must all be positive: a zero would
 * retry in a busy loop or give up at once. */
static int s_get_duration(tc_yconf_t *c, const yaml_node_t *n, const char *key, int64_t *ms)
{
    return tc_yconf_duration(c, n, key, 1, "250ms, 5s, 2m, 24h", ms);
}

static bool s_no_space(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* scheme://host... with a non-empty host and no spaces or controls. */
static bool s_url_valid(const char *u, const char *const *schemes)
{
    for (const char *const *s = schemes; *s; s++) {
        size_t n = strlen(*s);
        if (strncmp(u, *s, n) == 0)
            return u[n] != '\0' && u[n] != '/' && u[n] != ':' && s_no_space(u);
    }
    return false;
}

/* local@domain with nothing that could break an SMTP command or a header. */
static bool s_addr_valid(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || at[1] == '\0' || strchr(at + 1, '@'))
        return false;
    for (const char *p = a; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
            return false;
    return true;
}

static int s_get_endpoint(tc_yconf_t *c, const yaml_node_t *v, const char *path, char *dst,
                          size_t cap)
{
    int rc = tc_yconf_text(c, v, path, dst, cap);
    if (rc == 0 && (!tc_endpoint_valid(dst) || strchr(dst, '*')))
        rc = tc_yconf_fail(c, v, "%s: invalid endpoint \"%.80s\" (e.g. tcp://127.0.0.1:7402)", path,
                           dst);
    return rc;
}

/* ---- sections ------------------------------------------------------------ */

static int s_load_notify(tc_yconf_t *c, const yaml_node_t *map, tc_notify_config_t *cfg)
{
    if (tc_yconf_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(c, map, "notify: expected a mapping, found %s",
                             tc_yconf_node_kind(map));
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, "notify");
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        char path[S_KEY_MAX];
        snprintf(path, sizeof path, "notify.%s", key);
        int rc = 0;
        if (strcmp(key, "api") == 0) {
            rc = s_get_endpoint(c, v, path, cfg->api, sizeof cfg->api);
        } else if (strcmp(key, "publish") == 0) {
            rc = s_get_endpoint(c, v, path, cfg->publish, sizeof cfg->publish);
        } else if (strcmp(key, "state") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->state, sizeof cfg->state);
        } else if (strcmp(key, "retry_first") == 0) {
            rc = s_get_duration(c, v, path, &cfg->retry_first_ms);
        } else if (strcmp(key, "retry_max") == 0) {
            rc = s_get_duration(c, v, path, &cfg->retry_max_ms);
        } else if (strcmp(key, "give_up_after") == 0) {
            rc = s_get_duration(c, v, path, &cfg->give_up_ms);
        } else if (strcmp(key, "timeout") == 0) {
            rc = s_get_duration(c, v, path, &cfg->timeout_ms);
            if (rc == 0 && cfg->timeout_ms > 3600000)
                rc = tc_yconf_fail(c, v, "%s: must be at most 1h", path);
        } else if (strcmp(key, "failing_after") == 0) {
            rc = s_get_duration(c, v, path, &cfg->failing_ms);
        } else if (strcmp(key, "page_url") == 0) {
            static const char *const http[] = {"http://", "https://", NULL};
            rc = tc_yconf_text(c, v, path, cfg->page_url, sizeof cfg->page_url);
            size_t n = strlen(cfg->page_url);
            /* It goes into e-mails and chat links as it is: no space,
             * quote or bracket can break out of them. */
            if (rc == 0 && (!s_url_valid(cfg->page_url, http) || cfg->page_url[n - 1] != '/' ||
                            strpbrk(cfg->page_url, "<>|\"'`")))
                rc = tc_yconf_fail(c, v,
                                   "%s: expected an http(s) address ending in '/', such as "
                                   "https://status.example.com/, found \"%.80s\"",
                                   path, cfg->page_url);
        } else if (strcmp(key, "ack_url") == 0) {
            static const char *const http[] = {"http://", "https://", NULL};
            rc = tc_yconf_text(c, v, path, cfg->ack_url, sizeof cfg->ack_url);
            size_t n = strlen(cfg->ack_url);
            if (rc == 0 && (!s_url_valid(cfg->ack_url, http) || cfg->ack_url[n - 1] != '/' ||
                            strpbrk(cfg->ack_url, "<>|\"'`")))
                rc = tc_yconf_fail(c, v,
                                   "%s: expected the gateway's http(s) address ending in '/', such "
                                   "as https://tocsin.example.com/, found \"%.80s\"",
                                   path, cfg->ack_url);
        } else if (strcmp(key, "link_key") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->link_key, sizeof cfg->link_key);
        } else if (strcmp(key, "link_ttl") == 0) {
            rc = tc_yconf_duration(c, v, path, 60000, "1h, 24h", &cfg->link_ttl_ms);
        } else if (strcmp(key, "metrics") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->metrics, sizeof cfg->metrics);
            if (rc == 0 && cfg->metrics[0] && !tc_httpd_addr_valid(cfg->metrics))
                rc = tc_yconf_fail(c, v,
                                   "%s: expected IP:PORT such as 127.0.0.1:7407, found "
                                   "\"%.80s\"",
                                   path, cfg->metrics);
        } else if (strcmp(key, "concurrency") == 0) {
            const char *s = tc_yconf_scalar(c, v, path);
            uint64_t n;
            if (!s)
                rc = TC_ECONFIG;
            else if (tc_u64_parse(s, 256, &n) != 0 || n == 0)
                rc = tc_yconf_fail(c, v, "%s: expected an integer from 1 to 256, found \"%.80s\"",
                                   path, s);
            else
                cfg->concurrency = (uint32_t)n;
        } else if (strcmp(key, "insecure") == 0) {
            rc = tc_yconf_bool(c, v, path, &cfg->insecure);
        } else if (strcmp(key, "key") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->key, sizeof cfg->key);
        } else if (strcmp(key, "server_key") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->server_key, sizeof cfg->server_key);
        } else if (strcmp(key, "log_level") == 0) {
            const char *s = tc_yconf_scalar(c, v, path);
            if (!s)
                rc = TC_ECONFIG;
            else if (tc_log_level_parse(s, &cfg->log_level) != 0)
                rc = tc_yconf_fail(c, v, "%s: expected debug, info, warn or error, found \"%.80s\"",
                                   path, s);
        } else {
            rc = tc_yconf_fail(
                c, yaml_document_get_node(c->doc, p->key),
                "%s: unknown key (expected api, publish, state, retry_first, retry_max, "
                "give_up_after, timeout, failing_after, page_url, ack_url, link_key, link_ttl, "
                "metrics, concurrency, insecure, key, server_key, log_level)",
                path);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Reads a password file: its first line, without the line end. */
static int s_read_secret(tc_yconf_t *c, const yaml_node_t *v, const char *path, const char *file,
                         char *dst, size_t cap)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return tc_yconf_fail(c, v, "%s: cannot read %s: %s", path, file, strerror(errno));
    char buf[TC_NOTIFY_ADDR_MAX + 2];
    bool got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!got)
        return tc_yconf_fail(c, v, "%s: %s is empty", path, file);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (buf[0] == '\0' || strlen(buf) >= cap)
        return tc_yconf_fail(c, v, "%s: the password in %s is empty or longer than %zu bytes", path,
                             file, cap - 1);
    memcpy(dst, buf, strlen(buf) + 1);
    memset(buf, 0, sizeof buf);
    return 0;
}

static int s_load_smtp(tc_yconf_t *c, const yaml_node_t *map, tc_notify_config_t *cfg)
{
    static const char *const schemes[] = {"smtp://", "smtps://", NULL};
    if (tc_yconf_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(c, map, "smtp: expected a mapping, found %s", tc_yconf_node_kind(map));
    const yaml_node_t *user = NULL, *pass = NULL;
    bool has_url = false, has_from = false;
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, "smtp");
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        char path[S_KEY_MAX];
        snprintf(path, sizeof path, "smtp.%s", key);
        int rc = 0;
        if (strcmp(key, "url") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->smtp_url, sizeof cfg->smtp_url);
            if (rc == 0 && !s_url_valid(cfg->smtp_url, schemes))
                rc =
                    tc_yconf_fail(c, v, "%s: invalid URL \"%.120s\" (smtp://HOST:PORT or smtps://)",
                                  path, cfg->smtp_url);
            has_url = true;
        } else if (strcmp(key, "from") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->smtp_from, sizeof cfg->smtp_from);
            if (rc == 0 && !s_addr_valid(cfg->smtp_from))
                rc = tc_yconf_fail(c, v, "%s: invalid e-mail address \"%.120s\"", path,
                                   cfg->smtp_from);
            has_from = true;
        } else if (strcmp(key, "username") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->smtp_username, sizeof cfg->smtp_username);
            user = v;
        } else if (strcmp(key, "password_file") == 0) {
            char file[TC_NOTIFY_PATH_MAX];
            rc = tc_yconf_text(c, v, path, file, sizeof file);
            if (rc == 0)
                rc = s_read_secret(c, v, path, file, cfg->smtp_password, sizeof cfg->smtp_password);
            pass = v;
        } else {
            rc = tc_yconf_fail(c, yaml_document_get_node(c->doc, p->key),
                               "%s: unknown key (expected url, from, username, password_file)",
                               path);
        }
        if (rc != 0)
            return rc;
    }
    if (!has_url)
        return tc_yconf_fail(c, map, "smtp: missing required key \"url\"");
    if (!has_from)
        return tc_yconf_fail(c, map, "smtp: missing required key \"from\"");
    if (!user != !pass)
        return tc_yconf_fail(c, user ? user : pass,
                             "smtp: username and password_file go together (give both or neither)");
    cfg->has_smtp = true;
    return 0;
}

enum { K_NAME, K_TYPE, K_URL, K_TO, K_AUDIENCE, K_COMPONENTS, K_SEVERITIES, K_DRILL, K_N };
static const char *s_sub_keys[K_N] = {"name",     "type",       "url",        "to",
                                      "audience", "components", "severities", "drill"};

/* The items of a list value, or NULL after an error. */
static const yaml_node_item_t *s_list(tc_yconf_t *c, const yaml_node_t *n, const char *path,
                                      size_t *count)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        tc_yconf_fail(c, n, "%s: expected a list, found %s", path, tc_yconf_node_kind(n));
        return NULL;
    }
    *count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    return n->data.sequence.items.start;
}

static int s_load_sub(tc_yconf_t *c, const yaml_node_t *map, size_t idx, tc_notify_sub_t *sub)
{
    static const char *const http[] = {"http://", "https://", NULL};
    char where[40], path[S_KEY_MAX];
    snprintf(where, sizeof where, "subscriptions[%zu]", idx);
    if (map->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(c, map, "%s: expected a mapping, found %s", where,
                             tc_yconf_node_kind(map));
    const yaml_node_t *val[K_N] = {NULL};
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, where);
        if (!key)
            return TC_ECONFIG;
        int k = 0;
        while (k < K_N && strcmp(key, s_sub_keys[k]) != 0)
            k++;
        if (k == K_N)
            return tc_yconf_fail(c, yaml_document_get_node(c->doc, p->key),
                                 "%s.%s: unknown key (expected name, type, url, to, audience, "
                                 "components, severities, drill)",
                                 where, key);
        val[k] = yaml_document_get_node(c->doc, p->value);
    }
    memset(sub, 0, sizeof *sub);
    sub->line = (int)map->start_mark.line + 1;
    sub->external = true;
    if (!val[K_NAME])
        return tc_yconf_fail(c, map, "%s: missing required key \"name\"", where);
    if (!val[K_TYPE])
        return tc_yconf_fail(c, map, "%s: missing required key \"type\"", where);
    snprintf(path, sizeof path, "%s.name", where);
    if (tc_yconf_id(c, val[K_NAME], path, "name", sub->name) != 0)
        return TC_ECONFIG;

    snprintf(path, sizeof path, "%s.type", where);
    const char *type = tc_yconf_scalar(c, val[K_TYPE], path);
    if (!type)
        return TC_ECONFIG;
    if (strcmp(type, "slack") == 0)
        sub->type = TC_NOTIFY_SLACK;
    else if (strcmp(type, "webhook") == 0)
        sub->type = TC_NOTIFY_WEBHOOK;
    else if (strcmp(type, "email") == 0)
        sub->type = TC_NOTIFY_EMAIL;
    else
        return tc_yconf_fail(c, val[K_TYPE],
                             "%s: unknown type \"%.80s\" (expected slack, webhook or email)", path,
                             type);

    if (sub->type == TC_NOTIFY_EMAIL) {
        if (val[K_URL])
            return tc_yconf_fail(c, val[K_URL], "%s.url: not valid for type email (use to)", where);
        if (!val[K_TO])
            return tc_yconf_fail(c, map, "%s: missing required key \"to\" for type email", where);
        snprintf(path, sizeof path, "%s.to", where);
        size_t n;
        const yaml_node_item_t *items = s_list(c, val[K_TO], path, &n);
        if (!items)
            return TC_ECONFIG;
        if (n == 0)
            return tc_yconf_fail(c, val[K_TO], "%s: needs at least one address", path);
        if (n > TC_NOTIFY_TO_MAX)
            return tc_yconf_fail(c, val[K_TO], "%s: at most %d addresses", path, TC_NOTIFY_TO_MAX);
        for (size_t i = 0; i < n; i++) {
            const yaml_node_t *item = yaml_document_get_node(c->doc, items[i]);
            snprintf(path, sizeof path, "%s.to[%zu]", where, i);
            if (tc_yconf_text(c, item, path, sub->to[i], sizeof sub->to[i]) != 0)
                return TC_ECONFIG;
            if (!s_addr_valid(sub->to[i]))
                return tc_yconf_fail(c, item, "%s: invalid e-mail address \"%.120s\"", path,
                                     sub->to[i]);
        }
        sub->nto = n;
    } else {
        if (val[K_TO])
            return tc_yconf_fail(c, val[K_TO], "%s.to: not valid for type %s (use url)", where,
                                 type);
        if (!val[K_URL])
            return tc_yconf_fail(c, map, "%s: missing required key \"url\" for type %s", where,
                                 type);
        snprintf(path, sizeof path, "%s.url", where);
        if (tc_yconf_text(c, val[K_URL], path, sub->url, sizeof sub->url) != 0)
            return TC_ECONFIG;
        if (!s_url_valid(sub->url, http))
            return tc_yconf_fail(c, val[K_URL], "%s: invalid URL \"%.120s\" (http:// or https://)",
                                 path, sub->url);
    }

    if (val[K_AUDIENCE]) {
        snprintf(path, sizeof path, "%s.audience", where);
        const char *a = tc_yconf_scalar(c, val[K_AUDIENCE], path);
        if (!a)
            return TC_ECONFIG;
        if (strcmp(a, "internal") == 0)
            sub->external = false;
        else if (strcmp(a, "external") != 0)
            return tc_yconf_fail(c, val[K_AUDIENCE],
                                 "%s: expected internal or external, found \"%.80s\"", path, a);
    }
    if (val[K_COMPONENTS]) {
        snprintf(path, sizeof path, "%s.components", where);
        size_t n;
        const yaml_node_item_t *items = s_list(c, val[K_COMPONENTS], path, &n);
        if (!items)
            return TC_ECONFIG;
        if (n == 0)
            return tc_yconf_fail(c, val[K_COMPONENTS],
                                 "%s: empty list (leave the key out to receive all components)",
                                 path);
        if (n > TC_COMPONENTS_MAX)
            return tc_yconf_fail(c, val[K_COMPONENTS], "%s: at most %d components", path,
                                 TC_COMPONENTS_MAX);
        for (size_t i = 0; i < n; i++) {
            char ipath[S_KEY_MAX + 24];
            snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
            const yaml_node_t *item = yaml_document_get_node(c->doc, items[i]);
            if (tc_yconf_id(c, item, ipath, "name", sub->components[i]) != 0)
                return TC_ECONFIG;
        }
        sub->ncomponents = n;
    }
    if (val[K_SEVERITIES]) {
        snprintf(path, sizeof path, "%s.severities", where);
        size_t n;
        const yaml_node_item_t *items = s_list(c, val[K_SEVERITIES], path, &n);
        if (!items)
            return TC_ECONFIG;
        if (n == 0)
            return tc_yconf_fail(c, val[K_SEVERITIES],
                                 "%s: empty list (leave the key out to receive all severities)",
                                 path);
        for (size_t i = 0; i < n; i++) {
            const yaml_node_t *item = yaml_document_get_node(c->doc, items[i]);
            char ipath[S_KEY_MAX + 24];
            snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
            const char *s = tc_yconf_scalar(c, item, ipath);
            uint64_t sev;
            if (!s)
                return TC_ECONFIG;
            if (tc_u64_parse(s, 5, &sev) != 0 || sev == 0)
                return tc_yconf_fail(
                    c, item, "%s: expected a severity from 1 to 5, found \"%.80s\"", ipath, s);
            sub->severities |= (uint8_t)(1u << sev);
        }
    }
    if (val[K_DRILL]) {
        snprintf(path, sizeof path, "%s.drill", where);
        const char *s = tc_yconf_scalar(c, val[K_DRILL], path);
        if (!s)
            return TC_ECONFIG;
        bool b;
        if (strcmp(s, "only") == 0) {
            sub->drill = TC_NOTIFY_DRILL_ONLY;
        } else if (tc_yconf_bool(c, val[K_DRILL], path, &b) == 0) {
            sub->drill = b ? TC_NOTIFY_DRILL_YES : TC_NOTIFY_DRILL_NO;
        } else {
            return tc_yconf_fail(c, val[K_DRILL],
                                 "%s: expected true, false or only, found \"%.80s\"", path, s);
        }
    }
    return 0;
}

static int s_load_subs(tc_yconf_t *c, const yaml_node_t *seq, tc_notify_config_t *cfg)
{
    if (tc_yconf_is_null(seq))
        return 0;
    size_t n;
    const yaml_node_item_t *items = s_list(c, seq, "subscriptions", &n);
    if (!items)
        return TC_ECONFIG;
    if (n > TC_NOTIFY_SUBS_MAX)
        return tc_yconf_fail(c, seq, "subscriptions: at most %d", TC_NOTIFY_SUBS_MAX);
    tc_notify_sub_t *subs = n ? calloc(n, sizeof *subs) : NULL;
    if (n && !subs)
        return TC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = yaml_document_get_node(c->doc, items[i]);
        int rc = s_load_sub(c, item, i, &subs[i]);
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(subs[j].name, subs[i].name) == 0)
                rc = tc_yconf_fail(
                    c, item,
                    "subscriptions[%zu].name: duplicate subscription name \"%s\" (first "
                    "at line %d)",
                    i, subs[i].name, subs[j].line);
        if (rc != 0) {
            free(subs);
            return rc;
        }
    }
    free(cfg->subs);
    cfg->subs = subs;
    cfg->nsubs = n;
    return 0;
}

static int s_load_root(tc_yconf_t *c, const yaml_node_t *root, tc_notify_config_t *tmp)
{
    if (tc_yconf_is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(
            c, root, "top level: expected a mapping with keys notify, smtp and subscriptions");
    const yaml_node_pair_t *first = root->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < root->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, "");
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        int rc;
        if (strcmp(key, "notify") == 0)
            rc = s_load_notify(c, v, tmp);
        else if (strcmp(key, "smtp") == 0)
            rc = s_load_smtp(c, v, tmp);
        else if (strcmp(key, "subscriptions") == 0)
            rc = s_load_subs(c, v, tmp);
        else
            rc = tc_yconf_fail(c, yaml_document_get_node(c->doc, p->key),
                               "%s: unknown key (expected notify, smtp or subscriptions)", key);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Checks that need the whole file: relations between keys. */
static int s_check_whole(tc_yconf_t *c, const yaml_node_t *root, const tc_notify_config_t *t)
{
    if (t->retry_max_ms < t->retry_first_ms)
        return tc_yconf_fail(c, root,
                             "notify.retry_max must not be shorter than notify.retry_first");
    if (t->give_up_ms < t->retry_first_ms)
        return tc_yconf_fail(c, root,
                             "notify.give_up_after must not be shorter than notify.retry_first");
    for (size_t i = 0; i < t->nsubs; i++)
        if (t->subs[i].type == TC_NOTIFY_EMAIL && !t->has_smtp) {
            c->err[0] = '\0';
            snprintf(c->err, c->errlen,
                     "%s:%d: subscriptions[%zu]: type email needs an smtp section (url, from)",
                     c->path, t->subs[i].line, i);
            return TC_ECONFIG;
        }
    return 0;
}

int tc_notify_config_load(tc_notify_config_t *cfg, const char *path, char *err, size_t errlen)
{
    /* s_check_whole() writes to the buffer directly. */
    char scratch[8];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    tc_yconf_t c;
    tc_yconf_init(&c, path, err, errlen);
    int rc = tc_yconf_load(&c);
    if (rc != 0)
        return rc;

    tc_notify_config_t *tmp = malloc(sizeof *tmp);
    if (!tmp) {
        rc = TC_ENOMEM;
        goto fail_doc;
    }
    *tmp = *cfg;
    tmp->subs = NULL;
    tmp->nsubs = 0;
    yaml_node_t *root = yaml_document_get_root_node(c.doc);
    rc = root ? s_load_root(&c, root, tmp) : 0;
    if (rc == 0 && root)
        rc = s_check_whole(&c, root, tmp);
    if (rc == 0)
        rc = tc_yconf_one_document(&c);
    if (rc != 0) {
        free(tmp->subs);
        memset(tmp->smtp_password, 0, sizeof tmp->smtp_password);
        free(tmp);
        goto fail_doc;
    }
    free(cfg->subs);
    *cfg = *tmp;
    free(tmp);
fail_doc:
    tc_yconf_close(&c);
    return rc;
}

/* The coordinator's component names, for tc_notify_config_check(). */
typedef struct {
    char (*names)[TC_ID_MAX];
    size_t n, cap;
} s_names_t;

static void s_add_name(const char *key, void *arg)
{
    s_names_t *l = arg;
    if (l->n < l->cap)
        snprintf(l->names[l->n++], TC_ID_MAX, "%s", key);
}

void tc_notify_config_check(const tc_notify_config_t *cfg, const char *path, const char *key,
                            const char *server_key, const char *coordinator_config,
                            tc_cfgcheck_t *ck)
{
    /* Without subscriptions a notifier still delivers pages. */
    if (cfg->nsubs == 0 && !cfg->has_smtp)
        tc_cfgcheck_warn(ck, path, 0,
                         "no subscriptions and no smtp section: only pages to webhook, Slack and "
                         "ntfy contacts can be delivered");
    if (cfg->ack_url[0]) {
        const char *lk = tc_notify_config_link_key(cfg);
        uint8_t k[TC_ACKLINK_KEY_BYTES];
        char why[1200];
        int line = tc_cfgcheck_line(path, cfg->link_key[0] ? "notify.link_key" : "notify.ack_url");
        if (!lk)
            tc_cfgcheck_error(ck, path, line,
                              "notify.ack_url needs the link key: set notify.link_key (the "
                              "coordinator's KEYS/links.key, made by 'tocsinctl keys init')");
        else if (tc_acklink_key_load(lk, k, why, sizeof why) != 0)
            tc_cfgcheck_error(ck, path, line, "notify.link_key: %s", why);
    }
    if (!cfg->insecure) {
        if (!key)
            tc_cfgcheck_error(ck, path, 0,
                              "no client key: set notify.key or --key (make one with 'tocsinctl "
                              "keys new subscriber NAME'), or --insecure on loopback");
        else
            tc_cfgcheck_key(ck, path, tc_cfgcheck_line(path, "notify.key"), "notify.key", key,
                            true);
        if (!server_key)
            tc_cfgcheck_error(ck, path, 0,
                              "no coordinator certificate: set notify.server_key or --server-key "
                              "(coordinator.cert from its key directory)");
        else
            tc_cfgcheck_key(ck, path, tc_cfgcheck_line(path, "notify.server_key"),
                            "notify.server_key", server_key, false);
    }
    tc_cfgcheck_dir(ck, path, tc_cfgcheck_line(path, "notify.state"), "notify.state", cfg->state);
    if (!coordinator_config)
        return;
    s_names_t l = {.cap = S_COMPONENTS_MAX};
    char err[1024];
    if (!(l.names = calloc(l.cap, sizeof *l.names))) {
        tc_cfgcheck_error(ck, NULL, 0, "%s", tc_strerror(TC_ENOMEM));
        return;
    }
    if (tc_cfgcheck_keys(coordinator_config, "components", s_add_name, &l, err, sizeof err) != 0) {
        tc_cfgcheck_error(ck, NULL, 0, "--coordinator-config: %s", err);
        free(l.names);
        return;
    }
    for (size_t i = 0; i < cfg->nsubs; i++) {
        const tc_notify_sub_t *sub = &cfg->subs[i];
        for (size_t k = 0; k < sub->ncomponents; k++) {
            bool known = false;
            for (size_t j = 0; j < l.n && !known; j++)
                known = !strcmp(l.names[j], sub->components[k]);
            if (known)
                continue;
            char where[96];
            snprintf(where, sizeof where, "subscriptions[%zu].components[%zu]", i, k);
            tc_cfgcheck_error(ck, path, tc_cfgcheck_line(path, where),
                              "%s: unknown component \"%s\" (%s defines %zu component%s)", where,
                              sub->components[k], coordinator_config, l.n, l.n == 1 ? "" : "s");
        }
    }
    free(l.names);
}

const char *tc_notify_config_link_key(const tc_notify_config_t *cfg)
{
    if (cfg->link_key[0])
        return cfg->link_key;
    static const char *const defaults[] = {"var/keys/" TC_ACKLINK_KEY_FILE,
                                           "/etc/tocsin/keys/" TC_ACKLINK_KEY_FILE,
                                           "/etc/tocsin/" TC_ACKLINK_KEY_FILE, NULL};
    return tc_keys_first_existing(defaults);
}
