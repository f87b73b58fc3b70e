/*
 * coordinator.c - the coordinator's life cycle: sockets, CURVE, replay and the
 * event loop, plus the small helpers every module uses (see coord_impl.h).
 */
#include "coord_impl.h"

#include "replay.h"

#include "acklink.h"
#include "api.h"
#include "contacts.h"
#include "drafts.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* True if a line may be logged now; *suppressed receives the lines left
 * out since the last one. */
static bool s_ratelog(tc_coord__ratelog_t *r, uint64_t *suppressed)
{
    int64_t now = tc_mono_ms();
    if (r->last_ms && now - r->last_ms < RATELOG_INTERVAL_MS) {
        r->suppressed++;
        return false;
    }
    *suppressed = r->suppressed;
    r->suppressed = 0;
    r->last_ms = now;
    return true;
}

/* tc_warn through a rate limiter, noting how many lines it held back. */
void tc_coord__warn_limited(tc_coord__ratelog_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tc_coord__warn_limited(tc_coord__ratelog_t *r, const char *fmt, ...)
{
    uint64_t more;
    if (!s_ratelog(r, &more))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (more)
        tc_warn("%s (%llu similar lines suppressed)", line, (unsigned long long)more);
    else
        tc_warn("%s", line);
}

/* The coordinator's clock for records and deadlines: the wall clock, moved
 * forward by `tocsinctl clock` when test_clock allows it. */
int64_t tc_coord__now(const tc_coord_t *c)
{
    return tc_now_ms() + c->clock_offset_ms;
}

/* Makes room for one more element in a growable array (doubling from 64);
 * the batch, the broadcasts and the audit queue all grow this way. */
int tc_coord__grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return TC_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Queues an audit record; it is written with the next commit (at most one
 * liveness tick away). Denials share a budget so that a flood of bad
 * handshakes cannot fill the disk; what the budget drops is counted in the
 * next denial record that gets through. */
void tc_coord__audit(tc_coord_t *c, const tc_key_t *key, const char *public_txt, const char *action,
                     bool allowed, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void tc_coord__audit(tc_coord_t *c, const tc_key_t *key, const char *public_txt, const char *action,
                     bool allowed, const char *fmt, ...)
{
    if (!allowed && !tc_ratelimit_take(c->audit_limit, "denials", tc_mono_ms())) {
        c->audit_suppressed++;
        return;
    }
    if (tc_coord__grow((void **)&c->audit, &c->audit_cap, c->naudit, sizeof *c->audit) != 0)
        return;
    tc_audit_t *a = &c->audit[c->naudit++];
    memset(a, 0, sizeof *a);
    a->time_ms = tc_now_ms();
    a->allowed = allowed;
    snprintf(a->action, sizeof a->action, "%s", action);
    if (key) {
        snprintf(a->actor, sizeof a->actor, "%s", key->name);
        snprintf(a->actor_class, sizeof a->actor_class, "%s", tc_key_class_name(key->cls));
    } else {
        snprintf(a->actor, sizeof a->actor, "%s", c->keyring ? "" : "plaintext");
        snprintf(a->actor_class, sizeof a->actor_class, "unknown");
    }
    if (public_txt)
        snprintf(a->public_key, sizeof a->public_key, "%s", public_txt);
    char detail[2 * TC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (!allowed && c->audit_suppressed && n > 0 && (size_t)n < sizeof detail)
        snprintf(detail + n, sizeof detail - (size_t)n, " (%llu earlier denials not recorded)",
                 (unsigned long long)c->audit_suppressed);
    if (!allowed)
        c->audit_suppressed = 0;
    tc_strlcpy_utf8(a->detail, detail, sizeof a->detail);
}

/* Rebuilds the state from the whole log. The broadcasts it regenerates are
 * counted against the stored ones: a mismatch means the log and the code
 * disagree, which an operator must hear about. */
int tc_coord__rebuild(tc_coord_t *c)
{
    int64_t t0 = tc_mono_ms();
    tc_replay_stats_t stats;
    tc_state_destroy(&c->state);
    int rc = tc_replay(c->store, &c->cfg.policy, c->templates, 0, true, &c->state, &stats);
    if (rc)
        return rc;
    /* A test clock that was moved forward must not run backwards across a
     * restart: it resumes from the newest record. */
    if (c->cfg.test_clock && stats.last_received_ms > tc_now_ms() + c->clock_offset_ms)
        c->clock_offset_ms = stats.last_received_ms - tc_now_ms();
    if (stats.snapshot_seq)
        tc_info("loaded the snapshot at log record %llu and replayed %llu records after it in "
                "%lld ms: %zu open incidents, %llu broadcasts",
                (unsigned long long)stats.snapshot_seq, (unsigned long long)stats.records,
                (long long)(tc_mono_ms() - t0), tc_state_open_count(c->state),
                (unsigned long long)stats.broadcasts);
    else
        tc_info("replayed %llu log records in %lld ms: %zu open incidents, %llu broadcasts",
                (unsigned long long)stats.records, (long long)(tc_mono_ms() - t0),
                tc_state_open_count(c->state), (unsigned long long)stats.broadcasts);
    c->snapshot_seq = stats.snapshot_seq;
    if (stats.broadcasts != tc_store_bcast_seq(c->store))
        tc_warn("replay produced %llu broadcasts but %llu are stored; the state logic "
                "changed since the log was written",
                (unsigned long long)stats.broadcasts,
                (unsigned long long)tc_store_bcast_seq(c->store));
    return 0;
}

/* Records the state machine's configuration (policy, templates) in the log
 * if it differs from the last one recorded: from here on the new one is in
 * force, and everything before keeps being replayed with the old one. */
static int s_record_config(tc_coord_t *c)
{
    int rc =
        tc_wire_encode_state_config(&c->cfg.policy, c->templates, &c->config_buf, &c->config_len);
    if (rc)
        return rc;
    uint8_t *last;
    size_t last_len;
    uint64_t at;
    rc = tc_store_last_config(c->store, &at, &last, &last_len);
    if (rc && rc != TC_ENOTFOUND)
        return rc;
    bool same = rc == 0 && last_len == c->config_len && !memcmp(last, c->config_buf, last_len);
    free(last);
    /* Written with the first record that needs it, so that a coordinator
     * that stored nothing leaves an empty log. */
    c->config_pending = !same;
    if (!same)
        tc_info("configuration %016llx from %s %s; recorded in the log before anything else",
                (unsigned long long)tc_wire_digest(c->config_buf, c->config_len),
                c->cfg.path[0] ? c->cfg.path : "built-in defaults",
                rc == TC_ENOTFOUND ? "in force" : "changed since the last start");
    return 0;
}

typedef struct {
    char public_txt[TC_KEY_TXT];
    char secret_txt[TC_KEY_TXT];
} s_server_key_t;

static zsock_t *s_bind(int type, const char *ep, const char *what, const char *domain,
                       const s_server_key_t *key)
{
    zsock_t *s = zsock_new(type);
    if (!s)
        return NULL;
    zsock_set_linger(s, 0);
    if (key) {
        /* Everything before bind: a socket must never be reachable in
         * plaintext, and without a ZAP answer the handshake must fail. */
        zsock_set_zap_domain(s, domain);
        zsock_set_zap_enforce_domain(s, 1);
        zsock_set_curve_server(s, 1);
        zsock_set_curve_secretkey(s, key->secret_txt);
        zsock_set_curve_publickey(s, key->public_txt);
    }
    if (type == ZMQ_ROUTER) {
        zsock_set_maxmsgsize(s, MAX_FRAME);
        zsock_set_rcvhwm(s, 100000);
    } else {
        zsock_set_sndhwm(s, 100000);
    }
    if (zsock_bind(s, "%s", ep) < 0) {
        tc_error("cannot listen for %s on %s: %s", what, ep, zmq_strerror(zmq_errno()));
        zsock_destroy(&s);
        return NULL;
    }
    tc_info("listening for %s on %s", what, ep);
    return s;
}

static void s_denied(const tc_auth_denial_t *d, void *arg)
{
    tc_coord_t *c = arg;
    c->denied++;
    tc_coord__audit(c, NULL, d->public_txt, "auth.denied", false, "connection to %s from %s: %s",
                    d->domain, d->address, d->reason);
    tc_coord__warn_limited(&c->denial_log, "connection refused on %s from %s: %s%s%s", d->domain,
                           d->address, d->reason, d->public_txt[0] ? ", key " : "", d->public_txt);
}

/* Handshakes that fail before ZAP is asked (a plaintext client, a client
 * that encrypts to the wrong server key) are only visible to a monitor. */
static int s_on_monitor(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_coord_t *c = arg;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return 0;
    char *event = zmsg_popstr(msg), *value = zmsg_popstr(msg), *addr = zmsg_popstr(msg);
    if (event && (!strcmp(event, "HANDSHAKE_FAILED_PROTOCOL") ||
                  !strcmp(event, "HANDSHAKE_FAILED_NO_DETAIL"))) {
        c->denied++;
        tc_coord__audit(c, NULL, NULL, "auth.denied", false,
                        "handshake failed on %s: not a CURVE client or wrong server key",
                        addr ? addr : "?");
        tc_coord__warn_limited(
            &c->denial_log, "handshake failed on %s (%s): not a CURVE client or wrong server key",
            addr ? addr : "?", event);
    }
    zstr_free(&event);
    zstr_free(&value);
    zstr_free(&addr);
    zmsg_destroy(&msg);
    return 0;
}

static zactor_t *s_monitor(zsock_t *sock)
{
    zactor_t *m = zactor_new(zmonitor, sock);
    if (!m)
        return NULL;
    zstr_sendx(m, "LISTEN", "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_NO_DETAIL", NULL);
    zstr_sendx(m, "START", NULL);
    zsock_wait(m);
    return m;
}

static int s_on_zap(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_auth_handle(((tc_coord_t *)arg)->auth);
    return 0;
}

static int s_on_keyring(zloop_t *loop, int timer_id, void *arg)
{
    tc_coord_t *c = arg;
    bool changed = false;
    int rc = tc_keyring_refresh(c->keyring, &changed);
    if (rc)
        tc_error("reloading keys from %s failed: %s", c->cfg.keys, tc_strerror(rc));
    else if (changed)
        tc_info("keys reloaded from %s: %zu allowed", c->cfg.keys, tc_keyring_size(c->keyring));
    return 0;
}

/* Sets up CURVE: checks libzmq, loads or makes the server key, loads the
 * allowed keys and binds the ZAP handler. Any failure refuses the start:
 * the coordinator never falls back to plaintext. */
static int s_secure(tc_coord_t *c, s_server_key_t *key)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    if (major * 10000 + minor * 100 + patch < 40303) {
        tc_error("libzmq %d.%d.%d is older than 4.3.3, which fixed CURVE and ZAP "
                 "vulnerabilities; refusing to start",
                 major, minor, patch);
        return TC_EINVAL;
    }
    if (!zsys_has_curve()) {
        tc_error("this libzmq has no CURVE support; refusing to start");
        return TC_EINVAL;
    }
    int rc = tc_keys_server(c->cfg.keys, key->public_txt, key->secret_txt);
    if (rc) {
        tc_error("cannot load or create the coordinator key in %s: %s", c->cfg.keys,
                 tc_strerror(rc));
        return rc;
    }
    if ((rc = tc_keyring_open(c->cfg.keys, &c->keyring)) != 0) {
        tc_error("cannot read the keys in %s: %s", c->cfg.keys, tc_strerror(rc));
        return rc;
    }
    if ((rc = tc_auth_new(c->keyring, c->cfg.open_publish, s_denied, c, &c->auth)) != 0) {
        tc_error("cannot start the ZAP authentication handler");
        return rc;
    }
    tc_info("CURVE on: server key %s (%s/coordinator.cert), %zu client keys allowed",
            key->public_txt, c->cfg.keys, tc_keyring_size(c->keyring));
    return 0;
}

/* The status-update templates of `cfg`: built-in, overridden by the files
 * in coordinator.templates (default: templates/ beside the configuration
 * file, if there is one). Errors are logged with the file and line. */
int tc_coord__templates(const tc_coord_config_t *cfg, tc_templates_t **out)
{
    char tdir[4096], err[1024];
    tc_coord_config_templates_dir(cfg, tdir, sizeof tdir);
    int rc = tc_templates_load(tdir, out, err, sizeof err);
    if (rc) {
        tc_error("templates: %s%s%s", tdir, tdir[0] ? ": " : "", err);
        return rc;
    }
    if (tdir[0])
        tc_info("status update templates from %s (built-in for the rest)", tdir);
    return 0;
}

/* The key acknowledgement links are signed with (acklink.h): made beside
 * the coordinator's pair when CURVE is on; with --insecure only read if it
 * is there, since the key directory may not be ours to write then. */
static int s_link_key(tc_coord_t *c)
{
    char path[4200], why[4400];
    snprintf(path, sizeof path, "%s/%s", c->cfg.keys, TC_ACKLINK_KEY_FILE);
    int rc = c->cfg.insecure ? tc_acklink_key_load(path, c->link_key, why, sizeof why)
                             : tc_acklink_key_ensure(path, c->link_key, why, sizeof why);
    if (rc == 0) {
        c->has_link_key = true;
        return 0;
    }
    if (c->cfg.insecure && rc == TC_ENOTFOUND) {
        tc_info("no %s: acknowledgement links in pages are refused", path);
        return 0;
    }
    tc_error("%s", why);
    return rc;
}

int tc_coord_new(const tc_coord_config_t *cfg, tc_coord_t **out)
{
    tc_coord_t *c = calloc(1, sizeof *c);
    if (!c)
        return TC_ENOMEM;
    c->cfg = *cfg;
    c->started_ms = tc_now_ms();
    char why[1024];
    int rc = tc_store_open(cfg->data, cfg->map_size, cfg->map_max, &c->store, why, sizeof why);
    if (rc) {
        tc_error("%s", why);
        goto fail;
    }
    c->peers = zhashx_new();
    c->read_audits = zhashx_new();
    c->sout = calloc(1, sizeof *c->sout);
    c->scratch = malloc(sizeof *c->scratch);
    if (!c->peers || !c->read_audits || !c->sout || !c->scratch) {
        rc = TC_ENOMEM;
        goto fail;
    }
    zhashx_set_destructor(c->peers, tc_coord__peer_free);
    if (!(c->audit_limit = tc_ratelimit_new(20, 100))) {
        rc = TC_ENOMEM;
        goto fail;
    }
    if (cfg->rate_limit &&
        !(c->limits = tc_ratelimit_new(cfg->rate_limit, 2.0 * cfg->rate_limit))) {
        rc = TC_ENOMEM;
        goto fail;
    }
    /* Templates before the replay: maintenance announcements are written
     * from them, like the policy an input of the state machine. */
    if ((rc = tc_coord__templates(cfg, &c->templates)) != 0)
        goto fail;
    char err[1024];
    if (cfg->path[0]) {
        if ((rc = tc_roster_load(cfg->path, &c->roster, err, sizeof err)) != 0) {
            tc_error("%s", err);
            goto fail;
        }
        /* The security team is paged by name: each must be someone the
         * roster can reach, when there is a roster. */
        for (size_t i = 0; tc_roster_npeople(c->roster) && i < cfg->policy.nsecurity_team; i++)
            if (!tc_roster_has_person(c->roster, cfg->policy.security_team[i])) {
                tc_error("%s: policy.security_team: unknown person \"%s\" (not listed under "
                         "people)",
                         cfg->path, cfg->policy.security_team[i]);
                rc = TC_ECONFIG;
                goto fail;
            }
    } else if (!(c->roster = tc_roster_new_empty())) {
        rc = TC_ENOMEM;
        goto fail;
    }
    /* The roster's paging rules are part of the state machine's policy
     * (urgencies, repeats): in it before the replay and the recorded
     * configuration. */
    tc_contacts_apply_policy(tc_roster_contacts(c->roster), &c->cfg.policy);
    if ((rc = tc_coord__rebuild(c)) != 0)
        goto fail;
    s_server_key_t key, *keyp = NULL;
    if (!cfg->insecure) {
        if ((rc = s_secure(c, &key)) != 0)
            goto fail;
        keyp = &key;
    }
    c->agents = s_bind(ZMQ_ROUTER, cfg->agents, "agents", TC_ZAP_AGENTS, keyp);
    c->api = s_bind(ZMQ_ROUTER, cfg->api, "API requests", TC_ZAP_API, keyp);
    c->pub = s_bind(ZMQ_PUB, cfg->publish, "subscribers", TC_ZAP_PUBLISH, keyp);
    c->loop = zloop_new();
    if (!c->agents || !c->api || !c->pub || !c->loop) {
        rc = TC_EIO;
        goto fail;
    }
    zloop_reader(c->loop, c->agents, tc_coord__on_agents, c);
    zloop_reader(c->loop, c->api, tc_coord__on_api, c);
    zloop_timer(c->loop, LIVENESS_TICK_MS, 0, tc_coord__on_tick, c);
    zloop_timer(c->loop, PUB_HEARTBEAT_MS, 0, tc_coord__on_pub_heartbeat, c);
    if (c->auth) {
        zloop_reader(c->loop, tc_auth_socket(c->auth), s_on_zap, c);
        zloop_timer(c->loop, KEYRING_TICK_MS, 0, s_on_keyring, c);
        zsock_t *socks[3] = {c->agents, c->api, c->pub};
        for (int i = 0; i < 3; i++) {
            if (!(c->monitors[i] = s_monitor(socks[i]))) {
                rc = TC_EIO;
                goto fail;
            }
            zloop_reader(c->loop, zactor_sock(c->monitors[i]), s_on_monitor, c);
        }
    }
    if ((rc = s_record_config(c)) != 0) {
        tc_error("cannot record the configuration in the log: %s", tc_strerror(rc));
        goto fail;
    }
    if ((rc = s_link_key(c)) != 0)
        goto fail;
    if (cfg->metrics[0]) {
        rc = tc_coord_metrics_new(c, c->loop, cfg->metrics, &c->metrics, err, sizeof err);
        if (rc) {
            tc_error("metrics: %s", err);
            goto fail;
        }
        tc_info("metrics on %s", tc_coord_metrics_url(c->metrics));
    }
    /* Requests are checked against the state before they are stored: with
     * records in the log, the new configuration is put in force now, not
     * with the first record after it (which would be checked under the old
     * one and applied under the new). */
    c->config_now = c->config_pending && tc_store_log_seq(c->store) > 0;
    if (c->config_now && (rc = tc_coord__flush(c)) != 0) {
        tc_error("cannot record the configuration in the log: %s", tc_strerror(rc));
        goto fail;
    }
    *out = c;
    return 0;
fail:
    tc_coord_destroy(&c);
    return rc;
}

zloop_t *tc_coord_loop(tc_coord_t *c)
{
    return c->loop;
}

int tc_coord_run(tc_coord_t *c)
{
    /* The first tick is measured from here: a pause before it is a pause
     * too (liveness.c). */
    c->tick_mono = tc_mono_ms();
    zloop_start(c->loop);
    if (c->fatal)
        return c->fatal;
    tc_info("stopping: log at %llu, %zu open incidents",
            (unsigned long long)tc_store_log_seq(c->store), tc_state_open_count(c->state));
    return 0;
}

void tc_coord_destroy(tc_coord_t **pc)
{
    if (!pc || !*pc)
        return;
    tc_coord_t *c = *pc;
    tc_coord_metrics_destroy(&c->metrics); /* it is on the loop */
    sodium_memzero(c->link_key, sizeof c->link_key);
    zloop_destroy(&c->loop);
    for (int i = 0; i < 3; i++)
        zactor_destroy(&c->monitors[i]);
    zsock_destroy(&c->agents);
    zsock_destroy(&c->api);
    zsock_destroy(&c->pub);
    zhashx_destroy(&c->peers);
    zhashx_destroy(&c->read_audits);
    tc_ratelimit_destroy(&c->limits);
    tc_roster_destroy(&c->roster);
    tc_ratelimit_destroy(&c->audit_limit);
    tc_templates_destroy(&c->templates);
    free(c->config_buf);
    free(c->audit);
    tc_auth_destroy(&c->auth);
    tc_keyring_destroy(&c->keyring);
    tc_state_destroy(&c->state);
    tc_store_destroy(&c->store);
    free(c->batch);
    free(c->out);
    free(c->arena.data);
    free(c->frames.data);
    free(c->sout);
    free(c->scratch);
    free(c);
    *pc = NULL;
}
