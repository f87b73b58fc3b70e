/*
 * gw_parse.c - Alertmanager and Events v2 bodies; see gw_parse.h.
 */
#include "gw_parse.h"

#include "error.h"
#include "util.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool tc_gw_to_id(const char *s, char out[TC_ID_MAX])
{
    size_t n = 0;
    for (const char *p = s; p && *p && n < TC_ID_MAX - 1; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        out[n++] = ok ? c : '_';
    }
    out[n] = 0;
    return n > 0;
}

/* jansson with what a gateway must refuse: duplicate keys (which one
 * would count?) and anything but a single document. */
static json_t *s_load(const char *body, size_t len, char *why, size_t whylen)
{
    json_error_t e;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!root)
        snprintf(why, whylen, "invalid JSON at line %d, column %d: %.100s", e.line, e.column,
                 e.text);
    return root;
}

/* ---- Alertmanager ----------------------------------------------------------------- */

/* The first of `labels` present (a string) in `a` or then in `b`. */
static const char *s_label(json_t *a, json_t *b, const char *const *labels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(a, labels[i]);
        if (!json_is_string(v) && b)
            v = json_object_get(b, labels[i]);
        if (json_is_string(v) && json_string_length(v))
            return json_string_value(v);
    }
    return NULL;
}

/* "summary — description" from an annotations object, or "". */
static void s_annotations(json_t *ann, char *out, size_t cap)
{
    const char *sum = json_string_value(json_object_get(ann, "summary"));
    const char *desc = json_string_value(json_object_get(ann, "description"));
    if (sum && desc && *sum && *desc)
        snprintf(out, cap, "%s - %s", sum, desc);
    else
        snprintf(out, cap, "%s", sum && *sum ? sum : desc ? desc : "");
}

static bool s_fingerprint_ok(const char *f)
{
    size_t n = f ? strlen(f) : 0;
    return n > 0 && n <= 32 && strspn(f, "0123456789abcdefABCDEF") == n;
}

__attribute__((format(printf, 3, 4))) static int s_fail(char *why, size_t whylen, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return TC_EINVAL;
}

/* Every label value must be a string, as Alertmanager sends them. */
static int s_string_map(json_t *m, const char *what, size_t i, char *why, size_t whylen)
{
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        if (!json_is_string(v))
            return s_fail(why, whylen, "alerts[%zu].%s.%.60s: expected a string", i, what, k);
    }
    return 0;
}

int tc_gw_alertmanager_parse(const char *body, size_t len, const tc_gw_am_config_t *cfg,
                             int64_t now_ms, tc_gw_event_t *out, size_t *n, char *why,
                             size_t whylen)
{
    static const char *const def_service[] = {"service", "job"};
    static const char *const def_host[] = {"instance"};
    const char *const *sl = cfg && cfg->nservice_labels ? cfg->service_labels : def_service;
    size_t nsl = cfg && cfg->nservice_labels ? cfg->nservice_labels : 2;
    const char *const *hl = cfg && cfg->nhost_labels ? cfg->host_labels : def_host;
    size_t nhl = cfg && cfg->nhost_labels ? cfg->nhost_labels : 1;
    const char *def_host_name = cfg && cfg->default_host ? cfg->default_host : "alertmanager";
    *n = 0;
    json_t *root = s_load(body, len, why, whylen);
    if (!root)
        return TC_EINVAL;
    int rc = 0;
    json_t *alerts = json_object_get(root, "alerts");
    json_t *version = json_object_get(root, "version");
    json_t *common_labels = json_object_get(root, "commonLabels");
    json_t *common_ann = json_object_get(root, "commonAnnotations");
    if (!json_is_object(root))
        rc = s_fail(why, whylen, "expected a JSON object (the Alertmanager webhook payload)");
    else if (!json_is_string(version) || strcmp(json_string_value(version), "4") != 0)
        rc = s_fail(why, whylen, "version: expected \"4\" (Alertmanager's webhook payload)");
    else if (!json_is_array(alerts))
        rc = s_fail(why, whylen, "alerts: expected a list");
    else if (json_array_size(alerts) > TC_GW_ALERTS_MAX)
        rc = s_fail(why, whylen, "alerts: %zu alerts, at most %d in one notification",
                    json_array_size(alerts), TC_GW_ALERTS_MAX);
    else if (common_labels && !json_is_object(common_labels))
        rc = s_fail(why, whylen, "commonLabels: expected an object");
    else if (common_ann && !json_is_object(common_ann))
        rc = s_fail(why, whylen, "commonAnnotations: expected an object");
    char common_text[TC_TEXT_MAX] = "";
    if (rc == 0 && common_ann)
        s_annotations(common_ann, common_text, sizeof common_text);
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        if (rc)
            break;
        json_t *status = json_object_get(a, "status");
        json_t *labels = json_object_get(a, "labels");
        json_t *ann = json_object_get(a, "annotations");
        json_t *fp = json_object_get(a, "fingerprint");
        const char *st = json_string_value(status);
        if (!json_is_object(a)) {
            rc = s_fail(why, whylen, "alerts[%zu]: expected an object", i);
            break;
        }
        if (!st || (strcmp(st, "firing") != 0 && strcmp(st, "resolved") != 0)) {
            rc = s_fail(why, whylen, "alerts[%zu].status: expected firing or resolved", i);
            break;
        }
        if (!json_is_object(labels) || (ann && !json_is_object(ann))) {
            rc = s_fail(why, whylen, "alerts[%zu].%s: expected an object", i,
                        !json_is_object(labels) ? "labels" : "annotations");
            break;
        }
        if ((rc = s_string_map(labels, "labels", i, why, whylen)) != 0)
            break;
        if (!s_fingerprint_ok(json_string_value(fp))) {
            rc = s_fail(why, whylen,
                        "alerts[%zu].fingerprint: expected the alert's hexadecimal fingerprint", i);
            break;
        }
        const char *service = s_label(labels, common_labels, sl, nsl);
        if (!service) {
            rc = s_fail(why, whylen, "alerts[%zu]: no %s label to name the service", i,
                        nsl > 1 ? "service or job" : sl[0]);
            break;
        }
        tc_gw_event_t *e = &out[*n];
        memset(e, 0, sizeof *e);
        tc_check_result_t *c = &e->check;
        if (!tc_gw_to_id(service, c->service)) {
            rc = s_fail(why, whylen, "alerts[%zu]: the service label is empty", i);
            break;
        }
        const char *host = s_label(labels, common_labels, hl, nhl);
        if (!tc_gw_to_id(host ? host : def_host_name, c->host))
            tc_gw_to_id(def_host_name, c->host);
        const char *name = json_string_value(json_object_get(labels, "alertname"));
        char aname[TC_ID_MAX] = "";
        tc_gw_to_id(name, aname);
        const char *f = json_string_value(fp);
        /* Name and fingerprint, cut so the fingerprint always fits. */
        snprintf(c->check, sizeof c->check, "%.*s%s%s", (int)(TC_ID_MAX - 2 - strlen(f)), aname,
                 aname[0] ? "-" : "", f);
        bool firing = !strcmp(st, "firing");
        c->state = firing ? TC_STATE_CRITICAL : TC_STATE_OK;
        c->hard = true;
        c->attempt = c->max_attempts = 1;
        char text[TC_TEXT_MAX] = "";
        if (common_text[0])
            snprintf(text, sizeof text, "%s", common_text);
        else if (ann)
            s_annotations(ann, text, sizeof text);
        if (!text[0])
            snprintf(text, sizeof text, "%s %s", name ? name : "alert", st);
        tc_strlcpy_utf8(c->output, text, sizeof c->output);
        const char *when = json_string_value(json_object_get(a, firing ? "startsAt" : "endsAt"));
        int64_t t = 0;
        if (!when || tc_when_parse(when, now_ms, &t) != 0 || t <= 0 || t > now_ms)
            t = now_ms;
        e->time_ms = t;
        (*n)++;
    }
    json_decref(root);
    if (rc)
        *n = 0;
    return rc;
}

/* ---- Events API v2 ------------------------------------------------------------------- */

tc_check_state_t tc_gw_pd_state(const char *severity)
{
    if (!strcmp(severity, "critical") || !strcmp(severity, "error"))
        return TC_STATE_CRITICAL;
    if (!strcmp(severity, "warning"))
        return TC_STATE_WARNING;
    return TC_STATE_OK;
}

void tc_gw_pd_check(const char *dedup_key, char out[TC_ID_MAX])
{
    size_t n = strlen(dedup_key);
    if (n > 0 && n <= 60 && tc_id_valid(dedup_key)) {
        snprintf(out, TC_ID_MAX, "%s", dedup_key);
        return;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)dedup_key, n);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, h, 8);
    snprintf(out, TC_ID_MAX, "pd-%s", hex);
}

/* Copies string field `key` of `o` into dst; absent is "". Adds an error
 * when it is not a string or longer than `max` characters. */
static void s_str(json_t *o, const char *key, const char *path, char *dst, size_t cap, size_t max,
                  char errors[][160], size_t *ne)
{
    dst[0] = 0;
    json_t *v = json_object_get(o, key);
    if (!v)
        return;
    if (!json_is_string(v)) {
        if (*ne < TC_GW_PD_ERRORS_MAX)
            snprintf(errors[(*ne)++], 160, "'%s' must be a string", path);
        return;
    }
    if (json_string_length(v) > max || json_string_length(v) >= cap) {
        if (*ne < TC_GW_PD_ERRORS_MAX)
            snprintf(errors[(*ne)++], 160, "'%s' is longer than %zu characters", path, max);
        return;
    }
    snprintf(dst, cap, "%s", json_string_value(v));
}

static void s_err(char errors[][160], size_t *ne, const char *msg)
{
    if (*ne < TC_GW_PD_ERRORS_MAX)
        snprintf(errors[(*ne)++], 160, "%s", msg);
}

int tc_gw_pd_parse(const char *body, size_t len, int64_t now_ms, tc_gw_pd_event_t *out,
                   char errors[][160], size_t *nerrors)
{
    memset(out, 0, sizeof *out);
    *nerrors = 0;
    char why[160];
    json_t *root = s_load(body, len, why, sizeof why);
    if (!root) {
        s_err(errors, nerrors, why);
        return TC_EINVAL;
    }
    if (!json_is_object(root)) {
        s_err(errors, nerrors, "Event object is invalid: expected a JSON object");
        json_decref(root);
        return TC_EINVAL;
    }
    s_str(root, "routing_key", "routing_key", out->routing_key, sizeof out->routing_key, 256,
          errors, nerrors);
    if (!out->routing_key[0] && !json_object_get(root, "routing_key"))
        s_err(errors, nerrors, "'routing_key' is missing");
    char action[32];
    bool known = true;
    s_str(root, "event_action", "event_action", action, sizeof action, 31, errors, nerrors);
    if (!strcmp(action, "trigger"))
        out->action = TC_GW_PD_TRIGGER;
    else if (!strcmp(action, "acknowledge"))
        out->action = TC_GW_PD_ACKNOWLEDGE;
    else if (!strcmp(action, "resolve"))
        out->action = TC_GW_PD_RESOLVE;
    else
        known = false;
    if (!known)
        s_err(errors, nerrors, "'event_action' must be one of trigger, acknowledge, resolve");
    s_str(root, "dedup_key", "dedup_key", out->dedup_key, sizeof out->dedup_key, 255, errors,
          nerrors);
    if (known && out->action != TC_GW_PD_TRIGGER && !out->dedup_key[0])
        s_err(errors, nerrors, "'dedup_key' is required for acknowledge and resolve");
    json_t *p = json_object_get(root, "payload");
    if (!known) {
        /* What the payload must hold depends on the action. */
    } else if (out->action == TC_GW_PD_TRIGGER) {
        if (!json_is_object(p)) {
            s_err(errors, nerrors, "'payload' is missing or not an object");
        } else {
            s_str(p, "summary", "payload.summary", out->summary, sizeof out->summary, 1024, errors,
                  nerrors);
            s_str(p, "source", "payload.source", out->source, sizeof out->source, 255, errors,
                  nerrors);
            s_str(p, "severity", "payload.severity", out->severity, sizeof out->severity, 15,
                  errors, nerrors);
            s_str(p, "component", "payload.component", out->component, sizeof out->component, 255,
                  errors, nerrors);
            s_str(p, "group", "payload.group", out->group, sizeof out->group, 255, errors, nerrors);
            s_str(p, "class", "payload.class", out->klass, sizeof out->klass, 255, errors, nerrors);
            if (!out->summary[0])
                s_err(errors, nerrors, "'payload.summary' is missing or blank");
            if (!out->source[0])
                s_err(errors, nerrors, "'payload.source' is missing or blank");
            if (strcmp(out->severity, "critical") != 0 && strcmp(out->severity, "error") != 0 &&
                strcmp(out->severity, "warning") != 0 && strcmp(out->severity, "info") != 0)
                s_err(errors, nerrors,
                      "'payload.severity' must be one of critical, error, warning, info");
            char ts[64];
            s_str(p, "timestamp", "payload.timestamp", ts, sizeof ts, 63, errors, nerrors);
            if (ts[0] && tc_when_parse(ts, now_ms, &out->timestamp_ms) != 0)
                s_err(errors, nerrors, "'payload.timestamp' must be an ISO 8601 time with a zone");
            json_t *cd = json_object_get(p, "custom_details");
            if (cd) {
                char *dump = json_dumps(cd, JSON_COMPACT | JSON_ENSURE_ASCII);
                if (dump)
                    tc_strlcpy_utf8(out->details, dump, sizeof out->details);
                free(dump);
            }
        }
    } else if (p && !json_is_object(p)) {
        s_err(errors, nerrors, "'payload' must be an object");
    }
    json_decref(root);
    return *nerrors ? TC_EINVAL : 0;
}
