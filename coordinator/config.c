#include "config.h"

#include "cfgcheck.h"
#include "error.h"
#include "httpd.h"
#include "oncall.h"
#include "util.h"

#include <errno.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
    /* Start-up loads the newest snapshot and replays what follows: at
     * about a million records a second, 50 000 records are 50 ms. */
    cfg->snapshot_every = 50000;
    cfg->audit_retention_ms = 90LL * 86400000;
    cfg->snapshot_interval_ms = 10 * 60 * 1000;
    tc_policy_defaults(&cfg->policy);
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

/* In any case, as the other daemons' files (common/yconf) take them. */
static int s_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) {
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
    if (!strcmp(key, "metrics")) { /* GET /metrics here; "" = off */
        if (strlen(v) >= sizeof cfg->metrics || (*v && !tc_httpd_addr_valid(v)))
            return TC_EINVAL;
        snprintf(cfg->metrics, sizeof cfg->metrics, "%s", v);
        return 0;
    }
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
    if (!strcmp(key, "max_size_mb")) { /* 0: grow until the disk is full */
        if (tc_u64_parse(v, 1u << 24, &u))
            return TC_EINVAL;
        cfg->map_max = (size_t)u << 20;
        return 0;
    }
    if (!strcmp(key, "rate_limit")) {
        if (tc_u64_parse(v, 10000000, &u))
            return TC_EINVAL;
        cfg->rate_limit = (uint32_t)u;
        return 0;
    }
    if (!strcmp(key, "test_clock"))
        return s_bool(v, &cfg->test_clock);
    if (!strcmp(key, "audit_retention")) { /* "90d", "12h"; 0: keep forever */
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        int64_t unit = !strcmp(end, "d") ? 86400000LL : !strcmp(end, "h") ? 3600000LL : 0;
        if (errno || end == v || (!unit && !(n == 0 && !*end)) || n > 36500)
            return TC_EINVAL;
        cfg->audit_retention_ms = (int64_t)n * unit;
        return 0;
    }
    if (!strcmp(key, "snapshot_every")) { /* records; 0: not by count */
        if (tc_u64_parse(v, UINT32_MAX, &u))
            return TC_EINVAL;
        cfg->snapshot_every = (uint32_t)u;
        return 0;
    }
    if (!strcmp(key, "snapshot_interval")) { /* 0: not by time */
        int64_t ms;
        if (tc_duration_parse(v, &ms) != 0 || ms < 0)
            return TC_EINVAL;
        cfg->snapshot_interval_ms = ms;
        return 0;
    }
    if (!strcmp(key, "templates")) {
        if (strlen(v) >= sizeof cfg->templates)
            return TC_EINVAL;
        snprintf(cfg->templates, sizeof cfg->templates, "%s", v);
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

/* Reads a mapping of scalars, calling `fn` per key. */
typedef int(s_key_fn)(void *target, const char *key, const char *val);

static int s_mapping(yaml_document_t *doc, yaml_node_t *map, const char *path, const char *where,
                     s_key_fn *fn, void *target, char *err, size_t errlen)
{
    if (map->type != YAML_MAPPING_NODE)
        return s_fail(err, errlen, path, map, "%s: must be a mapping", where);
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top;
         q++) {
        yaml_node_t *k = yaml_document_get_node(doc, q->key);
        yaml_node_t *v = yaml_document_get_node(doc, q->value);
        const char *key = s_scalar(k);
        const char *val = s_scalar(v);
        if (!key)
            return s_fail(err, errlen, path, k, "%s: keys must be scalars", where);
        for (yaml_node_pair_t *r = map->data.mapping.pairs.start; r < q; r++) {
            const char *prev = s_scalar(yaml_document_get_node(doc, r->key));
            if (prev && !strcmp(prev, key))
                return s_fail(err, errlen, path, k, "%s.%s: key given twice", where, key);
        }
        if (!val)
            return s_fail(err, errlen, path, v, "%s.%s: must be a scalar", where, key);
        int rc = fn(target, key, val);
        if (rc == TC_ENOTFOUND)
            return s_fail(err, errlen, path, k, "%s: unknown key \"%s\"", where, key);
        if (rc)
            return s_fail(err, errlen, path, v, "%s.%s: invalid value \"%s\"", where, key, val);
    }
    return 0;
}

static int s_coordinator_fn(void *target, const char *key, const char *val)
{
    return s_coordinator_key(target, key, val);
}

/* A share of users, 0..1 ("0.05"). */
static int s_share(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !(d >= 0.0 && d <= 1.0))
        return TC_EINVAL;
    *out = d;
    return 0;
}

static int s_users(const char *v, uint32_t *out)
{
    uint64_t u;
    if (tc_u64_parse(v, UINT32_MAX, &u))
        return TC_EINVAL;
    *out = (uint32_t)u;
    return 0;
}

static int s_positive_duration(const char *v, int64_t *out)
{
    return tc_duration_parse(v, out) != 0 || *out <= 0 ? TC_EINVAL : 0;
}

static int s_policy_fn(void *target, const char *key, const char *v)
{
    tc_policy_t *p = target;
    uint64_t u;
    if (!strcmp(key, "declare_after"))
        return s_positive_duration(v, &p->declare_after_ms);
    if (!strcmp(key, "declare_min_users"))
        return s_users(v, &p->declare_min_users);
    if (!strcmp(key, "reopen_window"))
        return tc_duration_parse(v, &p->reopen_window_ms);
    if (!strcmp(key, "postmortem_due"))
        return s_positive_duration(v, &p->postmortem_due_ms);
    if (!strcmp(key, "reopen_on_failure"))
        return s_bool(v, &p->reopen_on_failure);
    if (!strcmp(key, "sev1_features_share"))
        return s_share(v, &p->sev1_features_share);
    if (!strcmp(key, "sev2_features_share"))
        return s_share(v, &p->sev2_features_share);
    if (!strcmp(key, "sev1_share"))
        return s_share(v, &p->sev1_share);
    if (!strcmp(key, "sev2_share"))
        return s_share(v, &p->sev2_share);
    if (!strcmp(key, "update_first"))
        return s_positive_duration(v, &p->update_first_ms);
    if (!strcmp(key, "update_every"))
        return s_positive_duration(v, &p->update_every_ms);
    if (!strcmp(key, "update_slow_after"))
        return s_positive_duration(v, &p->update_slow_after_ms);
    if (!strcmp(key, "update_every_slow"))
        return s_positive_duration(v, &p->update_every_slow_ms);
    if (!strcmp(key, "maintenance_verify"))
        return tc_duration_parse(v, &p->maintenance_verify_ms);
    if (!strcmp(key, "ic_quiet_reminder")) /* 0: never */
        return tc_duration_parse(v, &p->ic_quiet_reminder_ms) != 0 || p->ic_quiet_reminder_ms < 0
                   ? TC_EINVAL
                   : 0;
    if (!strcmp(key, "out_of_hours_full_response")) { /* 0: only when asked */
        if (tc_u64_parse(v, 5, &u))
            return TC_EINVAL;
        p->out_of_hours_full_response = (uint32_t)u;
        return 0;
    }
    if (!strcmp(key, "bridge_url")) {
        /* A link people open from a page: http(s) only, one line. */
        if (strlen(v) >= sizeof p->bridge_url ||
            (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) ||
            strpbrk(v, " \t\r\n<>\"") != NULL)
            return TC_EINVAL;
        snprintf(p->bridge_url, sizeof p->bridge_url, "%s", v);
        return 0;
    }
    if (!strcmp(key, "unknown_share_severity")) {
        if (tc_u64_parse(v, 4, &u) || u < 1)
            return TC_EINVAL;
        p->unknown_share_severity = (uint32_t)u;
        return 0;
    }
    return TC_ENOTFOUND;
}

static int s_service_fn(void *target, const char *key, const char *v)
{
    tc_service_policy_t *s = target;
    if (!strcmp(key, "team")) {
        if (!tc_id_valid(v))
            return TC_EINVAL;
        snprintf(s->team, sizeof s->team, "%s", v);
        return 0;
    }
    if (!strcmp(key, "users_per_host"))
        return s_users(v, &s->users_per_host);
    if (!strcmp(key, "features"))
        return s_users(v, &s->features);
    if (!strcmp(key, "total_users"))
        return s_users(v, &s->total_users);
    if (!strcmp(key, "declare_after"))
        return s_positive_duration(v, &s->declare_after_ms);
    if (!strcmp(key, "declare_min_users"))
        return s_users(v, &s->declare_min_users) || s->declare_min_users == 0 ? TC_EINVAL : 0;
    return TC_ENOTFOUND;
}

/* "1".."5" as a severity. */
static int s_severity_key(const char *k, int *out)
{
    uint64_t u;
    if (tc_u64_parse(k, 5, &u) || u < 1)
        return TC_EINVAL;
    *out = (int)u;
    return 0;
}

static const char *const s_role_names[] = {"commander",        "deputy",           "scribe", "sme",
                                           "customer_liaison", "internal_liaison", "dpo"};

/* policy.roles_by_severity: {1: [commander, ...], ...} and
 * policy.postmortem_due_by_severity: {1: 24h, ...}. */
static int s_by_severity(tc_policy_t *p, yaml_document_t *doc, yaml_node_t *map, const char *path,
                         const char *key, char *err, size_t errlen)
{
    bool roles = !strcmp(key, "roles_by_severity");
    if (map->type != YAML_MAPPING_NODE)
        return s_fail(err, errlen, path, map, "policy.%s: must map severities 1..5", key);
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top;
         q++) {
        yaml_node_t *k = yaml_document_get_node(doc, q->key);
        yaml_node_t *v = yaml_document_get_node(doc, q->value);
        int sev;
        if (!s_scalar(k) || s_severity_key(s_scalar(k), &sev))
            return s_fail(err, errlen, path, k, "policy.%s: keys are severities 1..5", key);
        if (!roles) {
            if (!s_scalar(v) ||
                s_positive_duration(s_scalar(v), &p->postmortem_due_by_severity[sev]))
                return s_fail(err, errlen, path, v, "policy.%s.%d: invalid duration", key, sev);
            continue;
        }
        if (v->type != YAML_SEQUENCE_NODE)
            return s_fail(err, errlen, path, v, "policy.%s.%d: must be a list of roles", key, sev);
        size_t n = 0;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *r = yaml_document_get_node(doc, *it);
            const char *name = s_scalar(r);
            bool known = false;
            for (size_t i = 0; name && i < sizeof s_role_names / sizeof s_role_names[0]; i++)
                known |= !strcmp(name, s_role_names[i]);
            if (!known)
                return s_fail(err, errlen, path, r,
                              "policy.%s.%d: unknown role \"%s\" (commander, deputy, scribe, sme, "
                              "customer_liaison, internal_liaison, dpo)",
                              key, sev, name ? name : "?");
            if (n == 8)
                return s_fail(err, errlen, path, r, "policy.%s.%d: at most 8 roles", key, sev);
            snprintf(p->roles_by_severity[sev][n++], TC_ID_MAX, "%s", name);
        }
        p->nroles_by_severity[sev] = n;
    }
    return 0;
}

/* policy.public_severities, auto_publish_severities and
 * internal_announce_severities: [1, 2]. */
static int s_severity_set(yaml_document_t *doc, yaml_node_t *seq, const char *path, const char *key,
                          unsigned *out, char *err, size_t errlen)
{
    if (seq->type != YAML_SEQUENCE_NODE)
        return s_fail(err, errlen, path, seq, "policy.%s: must be a list of severities 1..5", key);
    unsigned set = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *n = yaml_document_get_node(doc, *it);
        int sev;
        if (!s_scalar(n) || s_severity_key(s_scalar(n), &sev))
            return s_fail(err, errlen, path, n, "policy.%s: \"%s\" is not a severity 1..5", key,
                          s_scalar(n) ? s_scalar(n) : "?");
        set |= 1u << sev;
    }
    *out = set;
    return 0;
}

/* policy.security_team: [kate, leo], people ids (checked against the
 * roster's people by tc_coord_config_check_people). */
static int s_security_team(tc_policy_t *p, yaml_document_t *doc, yaml_node_t *seq, const char *path,
                           char *err, size_t errlen)
{
    if (seq->type != YAML_SEQUENCE_NODE)
        return s_fail(err, errlen, path, seq, "policy.security_team: must be a list of people");
    p->nsecurity_team = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *n = yaml_document_get_node(doc, *it);
        const char *who = s_scalar(n);
        if (!who || !tc_id_valid(who))
            return s_fail(err, errlen, path, n, "policy.security_team: \"%s\" is not a person id",
                          who ? who : "?");
        for (size_t i = 0; i < p->nsecurity_team; i++)
            if (!strcmp(p->security_team[i], who))
                return s_fail(err, errlen, path, n, "policy.security_team: %s is listed twice",
                              who);
        if (p->nsecurity_team == TC_POLICY_SECURITY_TEAM_MAX)
            return s_fail(err, errlen, path, n, "policy.security_team: at most %d people",
                          TC_POLICY_SECURITY_TEAM_MAX);
        snprintf(p->security_team[p->nsecurity_team++], TC_ID_MAX, "%s", who);
    }
    return 0;
}

/* The policy section: scalars, plus the two per-severity mappings. */
static int s_policy(tc_coord_config_t *cfg, yaml_document_t *doc, yaml_node_t *map,
                    const char *path, char *err, size_t errlen)
{
    if (map->type != YAML_MAPPING_NODE)
        return s_fail(err, errlen, path, map, "policy: must be a mapping");
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top;
         q++) {
        yaml_node_t *k = yaml_document_get_node(doc, q->key);
        yaml_node_t *v = yaml_document_get_node(doc, q->value);
        const char *key = s_scalar(k);
        if (!key)
            return s_fail(err, errlen, path, k, "policy: keys must be scalars");
        for (yaml_node_pair_t *r = map->data.mapping.pairs.start; r < q; r++) {
            const char *prev = s_scalar(yaml_document_get_node(doc, r->key));
            if (prev && !strcmp(prev, key))
                return s_fail(err, errlen, path, k, "policy.%s: key given twice", key);
        }
        int rc;
        if (!strcmp(key, "public_severities") || !strcmp(key, "auto_publish_severities") ||
            !strcmp(key, "internal_announce_severities")) {
            rc = s_severity_set(doc, v, path, key,
                                key[0] == 'p'   ? &cfg->policy.public_severities
                                : key[0] == 'a' ? &cfg->policy.auto_publish_severities
                                                : &cfg->policy.internal_announce_severities,
                                err, errlen);
            if (rc)
                return rc;
            continue;
        }
        if (!strcmp(key, "security_team")) {
            if ((rc = s_security_team(&cfg->policy, doc, v, path, err, errlen)) != 0)
                return rc;
            continue;
        }
        if (!strcmp(key, "roles_by_severity") || !strcmp(key, "postmortem_due_by_severity")) {
            rc = s_by_severity(&cfg->policy, doc, v, path, key, err, errlen);
            if (rc)
                return rc;
            continue;
        }
        const char *val = s_scalar(v);
        if (!val)
            return s_fail(err, errlen, path, v, "policy.%s: must be a scalar", key);
        rc = s_policy_fn(&cfg->policy, key, val);
        if (rc == TC_ENOTFOUND)
            return s_fail(err, errlen, path, k, "policy: unknown key \"%s\"", key);
        if (rc)
            return s_fail(err, errlen, path, v, "policy.%s: invalid value \"%s\"", key, val);
    }
    return 0;
}

static int s_services(tc_coord_config_t *cfg, yaml_document_t *doc, yaml_node_t *map,
                      const char *path, char *err, size_t errlen)
{
    if (map->type != YAML_MAPPING_NODE)
        return s_fail(err, errlen, path, map, "services: must be a mapping of service names");
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top;
         q++) {
        yaml_node_t *k = yaml_document_get_node(doc, q->key);
        const char *name = s_scalar(k);
        if (!name || !tc_id_valid(name))
            return s_fail(err, errlen, path, k, "services: \"%s\" is not a valid service name",
                          name ? name : "?");
        for (size_t i = 0; i < cfg->policy.nservices; i++)
            if (!strcmp(cfg->policy.services[i].name, name))
                return s_fail(err, errlen, path, k, "services.%s: given twice", name);
        if (cfg->policy.nservices == TC_POLICY_SERVICES_MAX)
            return s_fail(err, errlen, path, k, "services: more than %d", TC_POLICY_SERVICES_MAX);
        tc_service_policy_t *sp = &cfg->policy.services[cfg->policy.nservices];
        memset(sp, 0, sizeof *sp);
        snprintf(sp->name, sizeof sp->name, "%s", name);
        char where[TC_ID_MAX + 16];
        snprintf(where, sizeof where, "services.%s", name);
        int rc = s_mapping(doc, yaml_document_get_node(doc, q->value), path, where, s_service_fn,
                           sp, err, errlen);
        if (rc)
            return rc;
        cfg->policy.nservices++;
    }
    return 0;
}

/* components: {NAME: {description: TEXT, services: [a, b]}}. */
static int s_components(tc_coord_config_t *cfg, yaml_document_t *doc, yaml_node_t *map,
                        const char *path, char *err, size_t errlen)
{
    tc_policy_t *p = &cfg->policy;
    if (map->type != YAML_MAPPING_NODE)
        return s_fail(err, errlen, path, map, "components: must be a mapping of component names");
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < map->data.mapping.pairs.top;
         q++) {
        yaml_node_t *k = yaml_document_get_node(doc, q->key);
        yaml_node_t *v = yaml_document_get_node(doc, q->value);
        const char *name = s_scalar(k);
        if (!name || !tc_id_valid(name))
            return s_fail(err, errlen, path, k, "components: \"%s\" is not a valid name",
                          name ? name : "?");
        if (tc_policy_component(p, name))
            return s_fail(err, errlen, path, k, "components.%s: given twice", name);
        if (p->ncomponents == TC_POLICY_COMPONENTS_MAX)
            return s_fail(err, errlen, path, k, "components: more than %d",
                          TC_POLICY_COMPONENTS_MAX);
        tc_component_policy_t *c = &p->components[p->ncomponents];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", name);
        if (v->type != YAML_MAPPING_NODE)
            return s_fail(err, errlen, path, v, "components.%s: must be a mapping", name);
        for (yaml_node_pair_t *r = v->data.mapping.pairs.start; r < v->data.mapping.pairs.top;
             r++) {
            yaml_node_t *kk = yaml_document_get_node(doc, r->key);
            yaml_node_t *vv = yaml_document_get_node(doc, r->value);
            const char *key = s_scalar(kk);
            if (key && !strcmp(key, "description") && s_scalar(vv)) {
                if (strlen(s_scalar(vv)) >= sizeof c->description)
                    return s_fail(err, errlen, path, vv, "components.%s.description: too long",
                                  name);
                snprintf(c->description, sizeof c->description, "%s", s_scalar(vv));
            } else if (key && !strcmp(key, "services") && vv->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = vv->data.sequence.items.start;
                     it < vv->data.sequence.items.top; it++) {
                    yaml_node_t *sn = yaml_document_get_node(doc, *it);
                    const char *svc = s_scalar(sn);
                    if (!svc || !tc_id_valid(svc))
                        return s_fail(err, errlen, path, sn,
                                      "components.%s.services: \"%s\" is not a service name", name,
                                      svc ? svc : "?");
                    if (c->nservices == TC_COMPONENT_SERVICES_MAX)
                        return s_fail(err, errlen, path, sn, "components.%s.services: more than %d",
                                      name, TC_COMPONENT_SERVICES_MAX);
                    snprintf(c->services[c->nservices++], TC_ID_MAX, "%s", svc);
                }
            } else {
                return s_fail(err, errlen, path, kk,
                              "components.%s: unknown key or wrong type \"%s\" (expected "
                              "description: TEXT, services: [LIST])",
                              name, key ? key : "?");
            }
        }
        p->ncomponents++;
    }
    return 0;
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
        int rc;
        /* A section given twice would silently replace the first. */
        for (yaml_node_pair_t *q = root->data.mapping.pairs.start; key && q < p; q++) {
            const char *prev = s_scalar(yaml_document_get_node(doc, q->key));
            if (prev && !strcmp(prev, key))
                return s_fail(err, errlen, path, k, "%s: section given twice", key);
        }
        if (key && !strcmp(key, "coordinator"))
            rc = s_mapping(doc, v, path, "coordinator", s_coordinator_fn, cfg, err, errlen);
        else if (key && !strcmp(key, "policy"))
            rc = s_policy(cfg, doc, v, path, err, errlen);
        else if (key && !strcmp(key, "services"))
            rc = s_services(cfg, doc, v, path, err, errlen);
        else if (key && !strcmp(key, "components"))
            rc = s_components(cfg, doc, v, path, err, errlen);
        else if (key && (!strcmp(key, "people") || !strcmp(key, "teams") || !strcmp(key, "roles") ||
                         !strcmp(key, "overrides") || !strcmp(key, "paging")))
            rc = 0; /* the on-call roster, read by its own loader */
        else
            rc = s_fail(err, errlen, path, k,
                        "unknown key \"%s\" (expected coordinator, policy, services, "
                        "components, people, teams, roles, overrides, paging)",
                        key ? key : "?");
        if (rc)
            return rc;
    }
    return 0;
}

int tc_coord_config_load(tc_coord_config_t *cfg, const char *path, char *err, size_t errlen)
{
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
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

void tc_coord_config_templates_dir(const tc_coord_config_t *cfg, char *dst, size_t cap)
{
    dst[0] = '\0';
    if (cfg->templates[0]) {
        snprintf(dst, cap, "%s", cfg->templates);
    } else if (cfg->path[0]) {
        const char *slash = strrchr(cfg->path, '/');
        snprintf(dst, cap, "%.*stemplates", slash ? (int)(slash - cfg->path + 1) : 0, cfg->path);
        if (access(dst, F_OK) != 0)
            dst[0] = '\0';
    }
}

void tc_coord_config_check(const tc_coord_config_t *cfg, const tc_roster_t *roster,
                           tc_cfgcheck_t *ck)
{
    const tc_policy_t *p = &cfg->policy;
    const char *path = cfg->path[0] ? cfg->path : NULL;
    bool has_teams = path && tc_cfgcheck_line(path, "teams") > 0;
    bool has_services = path && tc_cfgcheck_line(path, "services") > 0;
    char key[3 * TC_ID_MAX + 32];
    for (size_t i = 0; i < p->nservices; i++) {
        const tc_service_policy_t *sp = &p->services[i];
        if (!roster || !sp->team[0] || tc_roster_has_team(roster, sp->team))
            continue;
        snprintf(key, sizeof key, "services.%s.team", sp->name);
        int line = tc_cfgcheck_line(path, key);
        if (has_teams)
            tc_cfgcheck_error(ck, path, line, "%s: unknown team \"%s\" (not listed under teams)",
                              key, sp->team);
        else
            tc_cfgcheck_warn(ck, path, line,
                             "%s: team \"%s\" has no on-call rotation (no teams section): "
                             "incidents of %s page no SME",
                             key, sp->team, sp->name);
    }
    for (size_t i = 0; i < p->ncomponents; i++) {
        const tc_component_policy_t *c = &p->components[i];
        if (c->nservices == 0) {
            snprintf(key, sizeof key, "components.%s", c->name);
            tc_cfgcheck_warn(ck, path, tc_cfgcheck_line(path, key),
                             "%s: names no services: its status changes only by hand", key);
        }
        for (size_t k = 0; k < c->nservices; k++) {
            bool listed = false;
            for (size_t j = 0; j < p->nservices && !listed; j++)
                listed = !strcmp(p->services[j].name, c->services[k]);
            if (listed)
                continue;
            snprintf(key, sizeof key, "components.%s.services[%zu]", c->name, k);
            /* With a services section, that is the list of services: a
             * name missing from it is a typo that would leave the
             * component green through every outage. Without one there is
             * no list to hold it against. */
            if (has_services)
                tc_cfgcheck_error(ck, path, tc_cfgcheck_line(path, key),
                                  "%s: unknown service \"%s\" (not listed under services; add "
                                  "\"%s: {}\" there if agents report it)",
                                  key, c->services[k], c->services[k]);
            else
                tc_cfgcheck_warn(ck, path, tc_cfgcheck_line(path, key),
                                 "%s: service \"%s\" is not checked against a list (there is no "
                                 "services section): the component follows incidents of services "
                                 "with that name only",
                                 key, c->services[k]);
        }
    }
    /* The security team is paged by name: with a roster, each must be
     * someone it can reach (the coordinator refuses to start otherwise). */
    for (size_t i = 0; roster && tc_roster_npeople(roster) && i < p->nsecurity_team; i++)
        if (!tc_roster_has_person(roster, p->security_team[i]))
            tc_cfgcheck_error(ck, path, tc_cfgcheck_line(path, "policy.security_team"),
                              "policy.security_team: unknown person \"%s\" (not listed under "
                              "people)",
                              p->security_team[i]);
}
