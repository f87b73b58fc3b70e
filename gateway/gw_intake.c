/*
 * gw_intake.c - alerts in: the Prometheus Alertmanager webhook and the
 * PagerDuty Events API v2; see gw_impl.h.
 *
 * Every request is read and checked whole (gw_parse.c), its token and its
 * services authorized, before anything is spooled; it is answered as
 * accepted only once each of its events is in the spool (committed and
 * synced by outbox/spool.c). A spool that cannot take an event (full, or
 * its disk) gets 503 with Retry-After: the tool sends again, and what was
 * spooled before is harmless to send twice (the same state again changes
 * nothing).
 */
#include "gw_impl.h"

#include "error.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_RETRY_AFTER_FULL "30"

bool tc_gw_bucket_take(tc_gw_bucket_t *b, double rate, int64_t now_ms)
{
    /* Full at first, refilled at `rate` per second up to twice that: a
     * tool that sends a burst after a quiet spell is not refused. */
    double burst = 2 * rate;
    if (b->last_ms == 0)
        b->tokens = burst;
    else
        b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
    if (b->tokens > burst)
        b->tokens = burst;
    b->last_ms = now_ms;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}

bool tc_gw_rate_ok(tc_gw_t *gw, const char *name)
{
    if (!gw->cfg.rate_limit)
        return true;
    tc_gw_bucket_t *b = zhashx_lookup(gw->limits, name);
    if (!b) {
        if (!(b = calloc(1, sizeof *b)))
            return true; /* out of memory is not the client's fault */
        zhashx_insert(gw->limits, name, b);
    }
    return tc_gw_bucket_take(b, gw->cfg.rate_limit, tc_mono_ms());
}

/* {"status": status, "message": message[, "errors": [...]][, more]}. */
static void s_json(tc_gw_t *gw, tc_http_req_t *req, tc_gw_ep_t ep, unsigned code,
                   const char *status, const char *message, char errors[][160], size_t nerrors,
                   const char *key, const char *value)
{
    tc_json_t *j = tc_json_new();
    if (!j) {
        tc_http_respond_text(req, 500, "text/plain", "out of memory\n");
        return;
    }
    tc_json_object_begin(j);
    tc_json_key(j, "status");
    tc_json_string(j, status);
    tc_json_key(j, "message");
    tc_json_string(j, message);
    if (errors) {
        tc_json_key(j, "errors");
        tc_json_array_begin(j);
        for (size_t i = 0; i < nerrors; i++)
            tc_json_string(j, errors[i]);
        tc_json_array_end(j);
    }
    if (key) {
        /* "alerts" is a count, anything else text. */
        tc_json_key(j, key);
        uint64_t n;
        if (!strcmp(key, "alerts") && tc_u64_parse(value, UINT64_MAX, &n) == 0)
            tc_json_uint(j, n);
        else
            tc_json_string(j, value);
    }
    tc_json_object_end(j);
    tc_gw_reply_json(gw, req, ep, code, tc_json_data(j), tc_json_len(j));
    tc_json_destroy(&j);
}

/* Spools events `ev[0..n)`. Returns 0, or the first failure (TC_EFULL: the
 * spool or its disk is full). */
static int s_spool(tc_gw_t *gw, const tc_gw_event_t *ev, size_t n, const char *integration)
{
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        memset(m, 0, offsetof(tc_msg_t, u));
        m->kind = TC_MSG_CHECK_RESULT;
        m->time_ms = ev[i].time_ms;
        m->u.check = ev[i].check;
        rc = tc_outbox_append(gw->outbox, m);
        if (rc == 0)
            tc_debug("spooled %s %s@%s (%s) from %s as %" PRIu64,
                     ev[i].check.acknowledged ? "acknowledgement of"
                                              : tc_check_state_name(ev[i].check.state),
                     ev[i].check.check, ev[i].check.host, ev[i].check.service, integration, m->seq);
    }
    free(m);
    bool full = rc == TC_EFULL || rc == TC_EDISKFULL;
    if (full && !gw->spool_full)
        tc_error("the spool in %s cannot take events (%s): requests are answered 503 until it can",
                 tc_outbox_spool_dir(gw->outbox), tc_strerror(rc));
    else if (rc == 0 && gw->spool_full)
        tc_info("the spool takes events again");
    if (rc == 0 || full)
        gw->spool_full = full;
    return rc;
}

static void s_unavailable(tc_gw_t *gw, tc_http_req_t *req, tc_gw_ep_t ep, int rc)
{
    tc_http_add_header(req, "Retry-After", S_RETRY_AFTER_FULL);
    char msg[200];
    snprintf(msg, sizeof msg, "not stored: %s; send it again later",
             rc == TC_EFULL || rc == TC_EDISKFULL ? "the gateway's spool is full"
                                                  : tc_strerror(rc));
    s_json(gw, req, ep, 503, "error", msg, NULL, 0, NULL, NULL);
}

static void s_throttled(tc_gw_t *gw, tc_http_req_t *req, tc_gw_ep_t ep, const char *status)
{
    tc_http_add_header(req, "Retry-After", "1");
    s_json(gw, req, ep, 429, status, "too many requests for this integration; slow down", NULL, 0,
           NULL, NULL);
}

/* ---- Alertmanager ---------------------------------------------------------------- */

/* The token of an Authorization header: "Bearer TOKEN", or Basic with the
 * token as the password (Alertmanager's basic_auth). */
static bool s_bearer(const char *h, char *out, size_t cap)
{
    out[0] = 0;
    if (!h)
        return false;
    if (!strncasecmp(h, "Bearer ", 7)) {
        h += 7;
        while (*h == ' ')
            h++;
        snprintf(out, cap, "%s", h);
        return out[0] != 0;
    }
    if (!strncasecmp(h, "Basic ", 6)) {
        unsigned char raw[512];
        size_t n = 0;
        const char *b = h + 6;
        if (sodium_base642bin(raw, sizeof raw - 1, b, strlen(b), NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return false;
        raw[n] = 0;
        const char *colon = strchr((const char *)raw, ':');
        snprintf(out, cap, "%s", colon ? colon + 1 : "");
        sodium_memzero(raw, sizeof raw);
        return out[0] != 0;
    }
    return false;
}

void tc_gw_alertmanager(tc_gw_t *gw, tc_http_req_t *req)
{
    const tc_gw_ep_t ep = TC_GW_EP_ALERTMANAGER;
    char token[300];
    if (!s_bearer(tc_http_req_header(req, "Authorization"), token, sizeof token)) {
        tc_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"tocsin\"");
        s_json(gw, req, ep, 401, "error",
               "no token: send the integration's token as a bearer token "
               "(tocsinctl keys new integration NAME SERVICE...)",
               NULL, 0, NULL, NULL);
        return;
    }
    const tc_integration_t *in = tc_integrations_lookup(gw->integrations, token);
    sodium_memzero(token, sizeof token);
    if (!in) {
        tc_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"tocsin\"");
        s_json(gw, req, ep, 401, "error", "unknown or revoked integration token", NULL, 0, NULL,
               NULL);
        return;
    }
    if (!tc_gw_rate_ok(gw, in->name)) {
        s_throttled(gw, req, ep, "error");
        return;
    }
    size_t len, n = 0;
    const char *body = tc_http_req_body(req, &len);
    const char *const *sl = NULL, *const *hl = NULL;
    const char *svc[TC_GW_LABELS_MAX], *host[TC_GW_LABELS_MAX];
    for (size_t i = 0; i < gw->cfg.nservice_labels; i++)
        svc[i] = gw->cfg.service_labels[i];
    for (size_t i = 0; i < gw->cfg.nhost_labels; i++)
        host[i] = gw->cfg.host_labels[i];
    sl = svc;
    hl = host;
    tc_gw_am_config_t am = {.service_labels = sl,
                            .nservice_labels = gw->cfg.nservice_labels,
                            .host_labels = hl,
                            .nhost_labels = gw->cfg.nhost_labels,
                            .default_host = gw->cfg.id};
    char why[256];
    if (tc_gw_alertmanager_parse(body, len, &am, tc_now_ms(), gw->scratch, &n, why, sizeof why) !=
        0) {
        tc_warn("alertmanager request from %s (integration %s) refused: %s", tc_http_req_peer(req),
                in->name, why);
        s_json(gw, req, ep, 400, "error", why, NULL, 0, NULL, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!tc_integration_allows(in, gw->scratch[i].check.service)) {
            snprintf(why, sizeof why, "integration %s may not create alerts for service %s",
                     in->name, gw->scratch[i].check.service);
            s_json(gw, req, ep, 403, "error", why, NULL, 0, NULL, NULL);
            return;
        }
    int rc = s_spool(gw, gw->scratch, n, in->name);
    if (rc != 0) {
        s_unavailable(gw, req, ep, rc);
        return;
    }
    gw->events[0] += n;
    tc_info("alertmanager (integration %s): %zu alerts spooled", in->name, n);
    char count[32];
    snprintf(count, sizeof count, "%zu", n);
    s_json(gw, req, ep, 200, "success", "alerts stored", NULL, 0, "alerts", count);
}

/* ---- Events API v2 ---------------------------------------------------------------- */

/* The output of a trigger: its summary, then what else it says. */
static void s_output(const tc_gw_pd_event_t *e, char *out, size_t cap)
{
    char extra[600] = "";
    size_t o = 0;
    const char *names[] = {"component", "class", "group"};
    const char *values[] = {e->component, e->klass, e->group};
    for (size_t i = 0; i < 3; i++)
        if (values[i][0] && o < sizeof extra)
            o += (size_t)snprintf(extra + o, sizeof extra - o, "%s%s: %.100s", o ? ", " : "",
                                  names[i], values[i]);
    char text[2 * TC_TEXT_MAX + 700];
    snprintf(text, sizeof text, "%.1024s%s%.600s%s [%.15s]", e->summary, extra[0] ? " (" : "",
             extra, extra[0] ? ")" : "", e->severity);
    tc_strlcpy_utf8(out, text, cap);
}

void tc_gw_enqueue(tc_gw_t *gw, tc_http_req_t *req)
{
    const tc_gw_ep_t ep = TC_GW_EP_EVENTS;
    size_t len, nerr = 0;
    const char *body = tc_http_req_body(req, &len);
    tc_gw_pd_event_t *e = malloc(sizeof *e);
    char(*errors)[160] = calloc(TC_GW_PD_ERRORS_MAX, 160);
    if (!e || !errors) {
        free(e);
        free(errors);
        tc_http_respond_text(req, 500, "text/plain", "out of memory\n");
        return;
    }
    int64_t now = tc_now_ms();
    int prc = tc_gw_pd_parse(body, len, now, e, errors, &nerr);
    /* The key first, as PagerDuty does: an unknown one is told so even
     * when the rest is wrong too. */
    const tc_integration_t *in =
        e->routing_key[0] ? tc_integrations_lookup(gw->integrations, e->routing_key) : NULL;
    if (e->routing_key[0] && !in) {
        snprintf(errors[0], 160, "routing_key is not a known integration token");
        s_json(gw, req, ep, 401, "invalid event", "Invalid routing key", errors, 1, NULL, NULL);
        goto done;
    }
    if (prc != 0) {
        s_json(gw, req, ep, 400, "invalid event", "Event object is invalid", errors, nerr, NULL,
               NULL);
        goto done;
    }
    if (!tc_gw_rate_ok(gw, in->name)) {
        s_throttled(gw, req, ep, "throttle event");
        goto done;
    }
    tc_gw_event_t *ev = &gw->scratch[0];
    memset(ev, 0, sizeof *ev);
    tc_check_result_t *c = &ev->check;
    c->hard = true;
    c->attempt = c->max_attempts = 1;
    ev->time_ms = now;
    tc_gw_alert_t known;
    memset(&known, 0, sizeof known);
    char why[256];
    if (e->action == TC_GW_PD_TRIGGER) {
        if (!e->dedup_key[0]) {
            /* PagerDuty makes one when none is given, and says which. */
            unsigned char raw[16];
            randombytes_buf(raw, sizeof raw);
            sodium_bin2hex(e->dedup_key, sizeof e->dedup_key, raw, sizeof raw);
        }
        const char *service = e->group[0] ? e->group : NULL;
        char sid[TC_ID_MAX];
        if (!service && !in->any_service && in->nservices == 1)
            service = in->services[0];
        if (!service) {
            snprintf(errors[0], 160,
                     "'payload.group' must name the service: integration %s may create alerts "
                     "for more than one",
                     in->name);
            s_json(gw, req, ep, 400, "invalid event", "Event object is invalid", errors, 1, NULL,
                   NULL);
            goto done;
        }
        if (!tc_gw_to_id(service, sid) || !tc_integration_allows(in, sid)) {
            snprintf(why, sizeof why, "integration %s may not create alerts for service %s",
                     in->name, sid);
            s_json(gw, req, ep, 403, "invalid event", why, NULL, 0, NULL, NULL);
            goto done;
        }
        snprintf(known.service, sizeof known.service, "%s", sid);
        if (!tc_gw_to_id(e->source, known.host))
            snprintf(known.host, sizeof known.host, "%s", gw->cfg.id);
        tc_gw_pd_check(e->dedup_key, known.check);
        /* Remembered before it is spooled: a resolve can always find it. */
        if (tc_gw_alerts_put(gw->alerts, in->name, e->dedup_key, &known, why, sizeof why) != 0) {
            tc_error("cannot remember dedup key %s: %s", e->dedup_key, why);
            s_unavailable(gw, req, ep, TC_EDISKFULL);
            goto done;
        }
        c->state = tc_gw_pd_state(e->severity);
        s_output(e, c->output, sizeof c->output);
        if (e->timestamp_ms > 0 && e->timestamp_ms <= now)
            ev->time_ms = e->timestamp_ms;
    } else if (tc_gw_alerts_get(gw->alerts, in->name, e->dedup_key, &known) != 0) {
        /* Nothing triggered under this key: nothing to change, as
         * PagerDuty answers such an event. */
        tc_info("events API (integration %s): %s of unknown dedup key %s: nothing to do", in->name,
                e->action == TC_GW_PD_RESOLVE ? "resolve" : "acknowledge", e->dedup_key);
        s_json(gw, req, ep, 202, "success", "Event processed", NULL, 0, "dedup_key", e->dedup_key);
        goto done;
    } else if (e->action == TC_GW_PD_RESOLVE) {
        c->state = TC_STATE_OK;
        snprintf(c->output, sizeof c->output, "resolved in %s", in->name);
    } else {
        c->state = TC_STATE_CRITICAL; /* not read: an acknowledgement changes no state */
        c->acknowledged = true;
        snprintf(c->output, sizeof c->output, "acknowledged in %s", in->name);
    }
    snprintf(c->service, sizeof c->service, "%s", known.service);
    snprintf(c->host, sizeof c->host, "%s", known.host);
    snprintf(c->check, sizeof c->check, "%s", known.check);
    int rc = s_spool(gw, ev, 1, in->name);
    if (rc != 0) {
        s_unavailable(gw, req, ep, rc);
        goto done;
    }
    if (e->action == TC_GW_PD_RESOLVE)
        tc_gw_alerts_del(gw->alerts, in->name, e->dedup_key);
    gw->events[1]++;
    tc_info("events API (integration %s): %s %s (%s@%s, service %s)", in->name,
            e->action == TC_GW_PD_TRIGGER   ? "trigger"
            : e->action == TC_GW_PD_RESOLVE ? "resolve"
                                            : "acknowledge",
            e->dedup_key, c->check, c->host, c->service);
    s_json(gw, req, ep, 202, "success", "Event processed", NULL, 0, "dedup_key", e->dedup_key);
done:
    free(e);
    free(errors);
}
