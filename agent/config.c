/*
 * config.c - the agent's YAML configuration.
 *
 * Uses libyaml's document API: the file is small, and having the whole tree
 * lets a check's keys be read in any order (the type decides which other
 * keys are allowed) while every node still knows its line for messages.
 * Nothing is applied until the whole file has been validated, so a bad
 * file leaves the caller's configuration untouched. Loading and the strict
 * scalar readers are common/yconf.c, shared with tocsin-notify.
 */
#include "config.h"

#include "cfgcheck.h"
#include "error.h"
#include "httpd.h"
#include "outbox.h"
#include "spool.h"
#include "util.h"
#include "yconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define S_KEY_MAX 96

const char *tc_check_type_name(tc_check_type_t t)
{
    switch (t) {
    case TC_CHECK_EXEC: return "exec";
    case TC_CHECK_TCP: return "tcp";
    case TC_CHECK_HTTP: return "http";
    }
    return "invalid";
}

char *tc_duration_format(int64_t ms, char *dst, size_t cap)
{
    if (ms != 0 && ms % 3600000 == 0)
        snprintf(dst, cap, "%" PRId64 "h", ms / 3600000);
    else if (ms != 0 && ms % 60000 == 0)
        snprintf(dst, cap, "%" PRId64 "m", ms / 60000);
    else if (ms != 0 && ms % 1000 == 0)
        snprintf(dst, cap, "%" PRId64 "s", ms / 1000);
    else
        snprintf(dst, cap, "%" PRId64 "ms", ms);
    return dst;
}

int tc_size_parse(const char *s, uint64_t *bytes)
{
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {{"", 0}, {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}};
    if (!s || *s < '0' || *s > '9')
        return TC_EINVAL;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s++ - '0');
        if (v > (UINT64_MAX - d) / 10)
            return TC_EINVAL;
        v = v * 10 + d;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(s, units[i].unit) != 0)
            continue;
        if (v > (UINT64_MAX >> units[i].shift))
            return TC_EINVAL;
        *bytes = v << units[i].shift;
        return 0;
    }
    return TC_EINVAL;
}

tc_agent_config_t *tc_agent_config_new(void)
{
    tc_agent_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    snprintf(cfg->coordinator, sizeof cfg->coordinator, "%s", TC_AGENT_DEFAULT_COORDINATOR);
    snprintf(cfg->spool, sizeof cfg->spool, "%s", TC_AGENT_DEFAULT_SPOOL);
    cfg->heartbeat_ms = TC_AGENT_DEFAULT_HEARTBEAT_MS;
    cfg->insecure = false;
    snprintf(cfg->key, sizeof cfg->key, TC_AGENT_DEFAULT_KEY);
    snprintf(cfg->server_key, sizeof cfg->server_key, TC_AGENT_DEFAULT_SERVER_KEY);
    cfg->log_level = TC_LOG_INFO;
    cfg->spool_max = TC_SPOOL_DEFAULT_MAX;
    cfg->window = TC_OUTBOX_DEFAULT_WINDOW;
    cfg->send_rate = TC_OUTBOX_DEFAULT_RATE;
    return cfg;
}

static void s_free_checks(tc_check_def_t *checks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(checks[i].arg);
    free(checks);
}

void tc_agent_config_destroy(tc_agent_config_t **pcfg)
{
    if (!pcfg || !*pcfg)
        return;
    s_free_checks((*pcfg)->checks, (*pcfg)->nchecks);
    free(*pcfg);
    *pcfg = NULL;
}

/* The agent range-checks each duration where it reads it, with a message
 * that says the range, so any value that parses is let through here. */
static int s_get_duration(tc_yconf_t *c, const yaml_node_t *n, const char *key, int64_t *ms)
{
    return tc_yconf_duration(c, n, key, 0, "250ms, 5s, 2m", ms);
}

static int s_get_spool_max(tc_yconf_t *c, const yaml_node_t *n, const char *key, size_t *out)
{
    const char *s = tc_yconf_scalar(c, n, key);
    if (!s)
        return TC_ECONFIG;
    uint64_t bytes;
    if (tc_size_parse(s, &bytes) != 0)
        return tc_yconf_fail(c, n, "%s: invalid size \"%.80s\" (e.g. 64MiB, 1GiB)", key, s);
    if (bytes < TC_SPOOL_MIN_MAX || bytes > TC_SPOOL_MAX_MAX)
        return tc_yconf_fail(c, n, "%s: must be between 1MiB and 1TiB, found \"%.80s\"", key, s);
    *out = (size_t)bytes;
    return 0;
}

/* A positive integer up to `max`. */
static int s_get_count(tc_yconf_t *c, const yaml_node_t *n, const char *key, uint32_t max,
                       uint32_t *out)
{
    const char *s = tc_yconf_scalar(c, n, key);
    if (!s)
        return TC_ECONFIG;
    uint64_t v;
    if (tc_u64_parse(s, max, &v) != 0 || v < 1)
        return tc_yconf_fail(c, n, "%s: expected an integer from 1 to %u, found \"%.80s\"", key,
                             max, s);
    *out = (uint32_t)v;
    return 0;
}

static bool s_endpoint_connectable(const char *ep)
{
    /* tc_endpoint_valid() also accepts bind wildcards, which cannot be
     * connected to. */
    return tc_endpoint_valid(ep) && strchr(ep, '*') == NULL;
}

static int s_load_agent(tc_yconf_t *c, const yaml_node_t *map, tc_agent_config_t *cfg)
{
    if (tc_yconf_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(c, map, "agent: expected a mapping, found %s",
                             tc_yconf_node_kind(map));
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, "agent");
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        char path[S_KEY_MAX];
        snprintf(path, sizeof path, "agent.%s", key);
        int rc = 0;
        if (strcmp(key, "id") == 0) {
            rc = tc_yconf_id(c, v, path, "id", cfg->id);
        } else if (strcmp(key, "coordinator") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->coordinator, sizeof cfg->coordinator);
            if (rc == 0 && !s_endpoint_connectable(cfg->coordinator))
                rc = tc_yconf_fail(c, v,
                                   "%s: invalid endpoint \"%.80s\" (e.g. tcp://127.0.0.1:7401)",
                                   path, cfg->coordinator);
        } else if (strcmp(key, "spool") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->spool, sizeof cfg->spool);
        } else if (strcmp(key, "heartbeat") == 0) {
            rc = s_get_duration(c, v, path, &cfg->heartbeat_ms);
            if (rc == 0 && (cfg->heartbeat_ms < TC_HEARTBEAT_MIN_MS ||
                            cfg->heartbeat_ms > TC_HEARTBEAT_MAX_MS))
                rc = tc_yconf_fail(c, v, "%s: must be between 100ms and 1h", path);
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
        } else if (strcmp(key, "spool_max") == 0) {
            rc = s_get_spool_max(c, v, path, &cfg->spool_max);
        } else if (strcmp(key, "window") == 0) {
            rc = s_get_count(c, v, path, TC_OUTBOX_MAX_WINDOW, &cfg->window);
        } else if (strcmp(key, "send_rate") == 0) {
            rc = s_get_count(c, v, path, TC_OUTBOX_MAX_RATE, &cfg->send_rate);
        } else if (strcmp(key, "metrics") == 0) {
            rc = tc_yconf_text(c, v, path, cfg->metrics, sizeof cfg->metrics);
            if (rc == 0 && cfg->metrics[0] && !tc_httpd_addr_valid(cfg->metrics))
                rc = tc_yconf_fail(c, v,
                                   "%s: expected IP:PORT such as " TC_AGENT_DEFAULT_METRICS
                                   ", found \"%.80s\"",
                                   path, cfg->metrics);
        } else {
            const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            rc = tc_yconf_fail(
                c, k,
                "%s: unknown key (expected id, coordinator, spool, heartbeat, insecure, "
                "key, server_key, log_level, spool_max, window, send_rate, metrics)",
                path);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* host:port or [v6]:port with a port in 1..65535. */
static bool s_target_valid(const char *t)
{
    const char *colon = strrchr(t, ':');
    if (!colon || colon == t)
        return false;
    if (t[0] == '[' && colon[-1] != ']')
        return false;
    if (t[0] != '[' && memchr(t, ':', (size_t)(colon - t)) != NULL)
        return false; /* bare IPv6 without brackets is ambiguous */
    for (const char *p = t; p < colon; p++)
        if ((unsigned char)*p <= 0x20 || *p == '/')
            return false;
    uint64_t port;
    return tc_u64_parse(colon + 1, 65535, &port) == 0 && port > 0;
}

static bool s_url_valid(const char *u)
{
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
        return false;
    const char *host = u + (u[4] == 's' ? 8 : 7);
    if (*host == '\0' || *host == '/')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

enum {
    K_NAME,
    K_SERVICE,
    K_TYPE,
    K_URL,
    K_TARGET,
    K_COMMAND,
    K_INTERVAL,
    K_TIMEOUT,
    K_RETRIES,
    K_FLAP,
    K_N
};
static const char *s_check_keys[K_N] = {"name",    "service",  "type",    "url",     "target",
                                        "command", "interval", "timeout", "retries", "flap"};

/* `flap: false`, `flap: true` (the defaults) or `flap: {low: 5, high: 20}`
 * (percent; either may be left out). */
static int s_load_flap(tc_yconf_t *c, const yaml_node_t *v, const char *where,
                       tc_flap_limits_t *out)
{
    char path[S_KEY_MAX];
    tc_flap_limits_t lim = tc_flap_defaults();
    snprintf(path, sizeof path, "%s.flap", where);
    if (v->type == YAML_SCALAR_NODE) {
        bool on;
        if (tc_yconf_bool(c, v, path, &on) != 0)
            return TC_ECONFIG;
        lim.enabled = on;
        *out = lim;
        return 0;
    }
    if (v->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(c, v,
                             "%s: expected false, true or {low: PERCENT, high: PERCENT}, found %s",
                             path, tc_yconf_node_kind(v));
    const yaml_node_pair_t *first = v->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < v->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, path);
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *val = yaml_document_get_node(c->doc, p->value);
        char kpath[S_KEY_MAX + 8];
        snprintf(kpath, sizeof kpath, "%s.%s", path, key);
        uint32_t *dst;
        if (strcmp(key, "low") == 0)
            dst = &lim.low;
        else if (strcmp(key, "high") == 0)
            dst = &lim.high;
        else
            return tc_yconf_fail(c, yaml_document_get_node(c->doc, p->key),
                                 "%s: unknown key (expected low, high)", kpath);
        const char *s = tc_yconf_scalar(c, val, kpath);
        if (!s)
            return TC_ECONFIG;
        uint64_t pct;
        if (tc_u64_parse(s, 100, &pct) != 0 || pct < 1 || pct > 99)
            return tc_yconf_fail(c, val, "%s: expected a percentage from 1 to 99, found \"%.80s\"",
                                 kpath, s);
        *dst = (uint32_t)pct;
    }
    if (lim.low >= lim.high)
        return tc_yconf_fail(c, v, "%s: low (%u) must be below high (%u)", path, lim.low, lim.high);
    *out = lim;
    return 0;
}

static int s_load_check(tc_yconf_t *c, const yaml_node_t *map, size_t idx, tc_check_def_t *def)
{
    char where[32], path[S_KEY_MAX];
    snprintf(where, sizeof where, "checks[%zu]", idx);
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
        while (k < K_N && strcmp(key, s_check_keys[k]) != 0)
            k++;
        if (k == K_N)
            return tc_yconf_fail(c, yaml_document_get_node(c->doc, p->key),
                                 "%s.%s: unknown key (expected name, service, type, url, target, "
                                 "command, interval, timeout, retries, flap)",
                                 where, key);
        val[k] = yaml_document_get_node(c->doc, p->value);
    }

    memset(def, 0, sizeof *def);
    def->line = (int)map->start_mark.line + 1;
    def->interval_ms = TC_CHECK_DEFAULT_INTERVAL_MS;
    def->timeout_ms = TC_CHECK_DEFAULT_TIMEOUT_MS;
    def->retries = TC_CHECK_DEFAULT_RETRIES;
    def->flap = tc_flap_defaults();

    static const int required[] = {K_NAME, K_SERVICE, K_TYPE};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!val[required[i]])
            return tc_yconf_fail(c, map, "%s: missing required key \"%s\"", where,
                                 s_check_keys[required[i]]);

    snprintf(path, sizeof path, "%s.name", where);
    if (tc_yconf_id(c, val[K_NAME], path, "id", def->name) != 0)
        return TC_ECONFIG;
    snprintf(path, sizeof path, "%s.service", where);
    if (tc_yconf_id(c, val[K_SERVICE], path, "id", def->service) != 0)
        return TC_ECONFIG;

    snprintf(path, sizeof path, "%s.type", where);
    const char *type = tc_yconf_scalar(c, val[K_TYPE], path);
    if (!type)
        return TC_ECONFIG;
    int argkey;
    if (strcmp(type, "exec") == 0) {
        def->type = TC_CHECK_EXEC;
        argkey = K_COMMAND;
    } else if (strcmp(type, "tcp") == 0) {
        def->type = TC_CHECK_TCP;
        argkey = K_TARGET;
    } else if (strcmp(type, "http") == 0) {
        def->type = TC_CHECK_HTTP;
        argkey = K_URL;
    } else {
        return tc_yconf_fail(c, val[K_TYPE],
                             "%s: unknown check type \"%.80s\" (expected http, tcp or exec)", path,
                             type);
    }
    for (int k = K_URL; k <= K_COMMAND; k++)
        if (k != argkey && val[k])
            return tc_yconf_fail(c, val[k], "%s.%s: not valid for type %s (use %s)", where,
                                 s_check_keys[k], type, s_check_keys[argkey]);
    if (!val[argkey])
        return tc_yconf_fail(c, map, "%s: missing required key \"%s\" for type %s", where,
                             s_check_keys[argkey], type);

    snprintf(path, sizeof path, "%s.%s", where, s_check_keys[argkey]);
    char *arg = malloc(TC_CHECK_ARG_MAX);
    if (!arg)
        return TC_ENOMEM;
    int rc = tc_yconf_text(c, val[argkey], path, arg, TC_CHECK_ARG_MAX);
    if (rc == 0 && def->type == TC_CHECK_HTTP && !s_url_valid(arg))
        rc = tc_yconf_fail(c, val[argkey], "%s: invalid URL \"%.120s\" (http:// or https://)", path,
                           arg);
    if (rc == 0 && def->type == TC_CHECK_TCP && !s_target_valid(arg))
        rc = tc_yconf_fail(c, val[argkey], "%s: invalid target \"%.120s\" (host:port)", path, arg);
    if (rc != 0) {
        free(arg);
        return rc;
    }
    def->arg = arg;

    /* From here on def->arg is owned by def; the caller frees it on error. */
    if (val[K_INTERVAL]) {
        snprintf(path, sizeof path, "%s.interval", where);
        if (s_get_duration(c, val[K_INTERVAL], path, &def->interval_ms) != 0)
            return TC_ECONFIG;
        if (def->interval_ms < TC_CHECK_MIN_INTERVAL_MS)
            return tc_yconf_fail(c, val[K_INTERVAL], "%s: must be at least 100ms", path);
    }
    if (val[K_TIMEOUT]) {
        snprintf(path, sizeof path, "%s.timeout", where);
        if (s_get_duration(c, val[K_TIMEOUT], path, &def->timeout_ms) != 0)
            return TC_ECONFIG;
        if (def->timeout_ms <= 0 || def->timeout_ms >= TC_CHECK_MAX_TIMEOUT_MS)
            return tc_yconf_fail(c, val[K_TIMEOUT], "%s: must be more than 0 and less than 1h",
                                 path);
    }
    if (val[K_RETRIES]) {
        snprintf(path, sizeof path, "%s.retries", where);
        const char *s = tc_yconf_scalar(c, val[K_RETRIES], path);
        if (!s)
            return TC_ECONFIG;
        uint64_t r;
        if (tc_u64_parse(s, UINT32_MAX, &r) != 0 || r < 1 || r > TC_CHECK_MAX_RETRIES)
            return tc_yconf_fail(c, val[K_RETRIES],
                                 "%s: expected an integer from 1 to %d, found \"%.80s\"", path,
                                 TC_CHECK_MAX_RETRIES, s);
        def->retries = (uint32_t)r;
    }
    if (val[K_FLAP] && s_load_flap(c, val[K_FLAP], where, &def->flap) != 0)
        return TC_ECONFIG;
    return 0;
}

static int s_load_checks(tc_yconf_t *c, const yaml_node_t *seq, tc_check_def_t **pchecks,
                         size_t *pn)
{
    *pchecks = NULL;
    *pn = 0;
    if (tc_yconf_is_null(seq))
        return 0;
    if (seq->type != YAML_SEQUENCE_NODE)
        return tc_yconf_fail(c, seq, "checks: expected a list, found %s", tc_yconf_node_kind(seq));
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n == 0)
        return 0;
    tc_check_def_t *checks = calloc(n, sizeof *checks);
    if (!checks)
        return TC_ENOMEM;
    int rc = 0;
    size_t done = 0;
    for (; done < n; done++) {
        const yaml_node_t *item =
            yaml_document_get_node(c->doc, seq->data.sequence.items.start[done]);
        rc = s_load_check(c, item, done, &checks[done]);
        if (rc != 0) {
            done++; /* its arg may already be set */
            goto fail;
        }
        for (size_t j = 0; j < done; j++) {
            if (strcmp(checks[j].name, checks[done].name) == 0) {
                const yaml_node_t *name = NULL;
                for (const yaml_node_pair_t *p = item->data.mapping.pairs.start;
                     p < item->data.mapping.pairs.top; p++) {
                    const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
                    if (strcmp((const char *)k->data.scalar.value, "name") == 0)
                        name = yaml_document_get_node(c->doc, p->value);
                }
                rc = tc_yconf_fail(
                    c, name ? name : item,
                    "checks[%zu].name: duplicate check name \"%s\" (first at line %d)", done,
                    checks[done].name, checks[j].line);
                done++;
                goto fail;
            }
        }
    }
    *pchecks = checks;
    *pn = n;
    return 0;
fail:
    s_free_checks(checks, done);
    return rc;
}

static int s_load_root(tc_yconf_t *c, const yaml_node_t *root, tc_agent_config_t *tmp)
{
    if (tc_yconf_is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(c, root, "top level: expected a mapping with keys agent and checks");
    const yaml_node_pair_t *first = root->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < root->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, "");
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        int rc;
        if (strcmp(key, "agent") == 0)
            rc = s_load_agent(c, v, tmp);
        else if (strcmp(key, "checks") == 0)
            rc = s_load_checks(c, v, &tmp->checks, &tmp->nchecks);
        else
            rc = tc_yconf_fail(c, yaml_document_get_node(c->doc, p->key),
                               "%s: unknown key (expected agent or checks)", key);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tc_agent_config_load(tc_agent_config_t *cfg, const char *path, char *err, size_t errlen)
{
    tc_yconf_t c;
    tc_yconf_init(&c, path, err, errlen);
    int rc = tc_yconf_load(&c);
    if (rc != 0)
        return rc;

    /* Copy scalars from the current configuration, drop its checks: the
     * file replaces the check list but overlays agent settings. */
    tc_agent_config_t tmp = *cfg;
    tmp.checks = NULL;
    tmp.nchecks = 0;
    yaml_node_t *root = yaml_document_get_root_node(c.doc);
    rc = root ? s_load_root(&c, root, &tmp) : 0;
    if (rc == 0)
        rc = tc_yconf_one_document(&c);
    if (rc != 0) {
        /* A later key may fail after the checks were loaded. */
        s_free_checks(tmp.checks, tmp.nchecks);
        goto fail_doc;
    }

    s_free_checks(cfg->checks, cfg->nchecks);
    *cfg = tmp;
fail_doc:
    tc_yconf_close(&c);
    return rc;
}

int tc_agent_config_finish(tc_agent_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->id[0] == '\0') {
        char host[256];
        if (gethostname(host, sizeof host) != 0) {
            snprintf(err, errlen, "cannot read the host name (%s); set agent.id or --id",
                     strerror(errno));
            return TC_ECONFIG;
        }
        host[sizeof host - 1] = '\0';
        if (!tc_id_valid(host)) {
            snprintf(err, errlen,
                     "host name \"%.80s\" is not a valid agent id; set agent.id or --id", host);
            return TC_ECONFIG;
        }
        memcpy(cfg->id, host, strlen(host) + 1); /* fits: tc_id_valid() */
    }
    if (!tc_id_valid(cfg->id)) {
        snprintf(err, errlen, "invalid agent id \"%.80s\"", cfg->id);
        return TC_ECONFIG;
    }
    if (!s_endpoint_connectable(cfg->coordinator)) {
        snprintf(err, errlen, "invalid coordinator endpoint \"%.80s\"", cfg->coordinator);
        return TC_ECONFIG;
    }
    if (cfg->heartbeat_ms < TC_HEARTBEAT_MIN_MS || cfg->heartbeat_ms > TC_HEARTBEAT_MAX_MS) {
        snprintf(err, errlen, "heartbeat must be between 100ms and 1h");
        return TC_ECONFIG;
    }
    if (cfg->spool[0] == '\0') {
        snprintf(err, errlen, "spool directory must not be empty");
        return TC_ECONFIG;
    }
    return 0;
}

void tc_agent_config_check(const tc_agent_config_t *cfg, const char *path, tc_cfgcheck_t *ck)
{
    char key[64];
    for (size_t i = 0; i < cfg->nchecks; i++) {
        const tc_check_def_t *d = &cfg->checks[i];
        if (d->type != TC_CHECK_EXEC || d->arg[0] != '/')
            continue;
        /* The program is the first word; /bin/sh -c runs the rest. */
        char prog[TC_CHECK_ARG_MAX];
        size_t n = strcspn(d->arg, " \t;|&<>()$`\\\"'");
        snprintf(prog, sizeof prog, "%.*s", (int)n, d->arg);
        snprintf(key, sizeof key, "checks[%zu].command", i);
        struct stat st;
        const char *why = NULL;
        if (stat(prog, &st) != 0)
            why = strerror(errno);
        else if (S_ISDIR(st.st_mode))
            why = "is a directory";
        else if (access(prog, X_OK) != 0)
            why = "not executable";
        if (why)
            tc_cfgcheck_error(ck, path, path ? tc_cfgcheck_line(path, key) : 0,
                              "%s (check %s): %s: %s", key, d->name, prog, why);
    }
    if (cfg->nchecks == 0)
        tc_cfgcheck_warn(ck, path, 0, "no checks: the agent only sends heartbeats");
    if (!cfg->insecure) {
        tc_cfgcheck_key(ck, path, path ? tc_cfgcheck_line(path, "agent.key") : 0, "agent.key",
                        cfg->key, true);
        tc_cfgcheck_key(ck, path, path ? tc_cfgcheck_line(path, "agent.server_key") : 0,
                        "agent.server_key", cfg->server_key, false);
    }
    tc_cfgcheck_dir(ck, path, path ? tc_cfgcheck_line(path, "agent.spool") : 0, "agent.spool",
                    cfg->spool);
}
