/*
 * tocsin-notify - delivers the coordinator's published status updates to
 * chat webhooks, generic webhooks and e-mail.
 *
 * Like tocsin-sub, the SUB socket is subscribed before anything is
 * fetched, and client/follow.h turns live broadcasts plus API catch-up into
 * one gap-free sequence. Every STATUS_UPDATE broadcast is matched against
 * the subscriptions; the deliveries it produces and the cursor past it are
 * committed to LMDB in one transaction (notify/queue.h), so a restart
 * resumes at cursor + 1 and loses nothing. A delivery leaves the queue only
 * when the receiver accepted it (or it finally failed), in the transaction
 * that also queues the result for the coordinator. That makes delivery
 * at-least-once: a crash between a receiver's 2xx and that commit re-sends
 * the delivery after restart, with the same idempotency key, which
 * receivers use to de-duplicate.
 *
 * One zloop holds the SUB socket and a 50 ms timer that drives libcurl's
 * multi interface (notify/sender.h), starts due deliveries (at most one per
 * subscription at a time, so each receiver sees its deliveries in order,
 * and at most `concurrency` in all), and talks to the API. API calls are
 * single attempts with a short timeout and back off when the coordinator
 * does not answer: deliveries already queued keep going while it is down,
 * because messaging must not depend on the failing system.
 *
 * No failure is silent: every attempt is bounded by `timeout`, retried with
 * back-off, and a subscription whose oldest delivery has waited longer than
 * `failing_after` is reported to the coordinator as failing (result
 * "failing", with that age and the last error) through the same delivery
 * reports, so `tocsinctl subscribers` can show it. A state that cannot be
 * written (a full disk) stops nothing: what is queued stays queued and the
 * write is tried again. A SUB socket that hears nothing for a while is
 * made again, so a notifier started before its key was allowed gets in
 * once it is. The components' display names come from the coordinator and
 * are kept in the state, for the texts people read.
 *
 * Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime failure (the state
 * cannot be written), 2 on bad usage or configuration (the checks of
 * --check-config run before every start).
 */
#include "cfgcheck.h"
#include "cli.h"
#include "client.h"
#include "notify_config.h"
#include "error.h"
#include "feed.h"
#include "follow.h"
#include "log.h"
#include "payload.h"
#include "queue.h"
#include "sdnotify.h"
#include "sender.h"
#include "util.h"
#include "wire.h"

#include <curl/curl.h>
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROG "tocsin-notify"
#define S_EXIT_FAIL 1
#define S_EXIT_USAGE 2
/* Broadcasts asked for per API request. */
#define S_PAGE 1000
/* How long one API call may take before it counts as unanswered. Short,
 * because the call blocks the loop (and so the transfers) meanwhile. */
#define S_API_TIMEOUT_MS 2000
#define S_API_BACKOFF_FIRST_MS 1000
#define S_API_BACKOFF_MAX_MS 30000
#define S_TICK_MS 50
/* Results reported per tick, so a backlog cannot stall the loop. */
#define S_REPORTS_PER_TICK 16
/* Cursor writes for broadcasts that produce no delivery are batched: losing
 * them only means re-reading broadcasts that match nothing. */
#define S_CURSOR_SAVE_MS 2000
#define S_DONE_KEEP_MS (7LL * 24 * 3600 * 1000)
#define S_PRUNE_EVERY_MS (3600LL * 1000)
#define S_DRAIN_MS 2000
/* After a failed write of the state: how soon to try again. */
#define S_STORE_RETRY_MS 5000

typedef struct {
    const char *config, *coordinator_config;
    const char *api, *publish, *state, *key, *server_key, *log_level;
    tc_log_format_t log_format;
    bool insecure, check;
} s_opts_t;

/* What main knows about one subscription besides its queue. */
typedef struct {
    bool busy;         /* a transfer is in flight */
    int64_t wake_ms;   /* wall time its head is due; INT64_MAX: nothing pending */
    tc_delivery_t cur; /* the delivery in flight (valid while busy) */
    uint64_t failing;  /* qseq of the delivery reported failing (0: none) */
} s_subst_t;

typedef struct {
    tc_notify_config_t *cfg;
    tc_client_keys_t keys;
    tc_notify_queue_t *queue;
    tc_notify_sender_t *sender;
    zsock_t *sub;
    tc_client_t *api;
    tc_follow_t *follow;
    s_subst_t *subst; /* cfg->nsubs */
    size_t rr;        /* where the next scheduling round starts */
    uint64_t seen;    /* last broadcast processed (maybe not yet saved) */
    int64_t cursor_saved_mono;
    bool need_catch_up;
    bool await_live; /* new state, no "status" allowed: the feed starts
                        with the first heartbeat or broadcast */
    int64_t api_next_mono, api_backoff;
    bool reports_waiting;
    int64_t report_next_mono, report_backoff;
    int64_t prune_next_mono;
    int64_t sub_mono;      /* last message on SUB, or when it was made */
    zsock_t *old_sub;      /* replaced by s_resubscribe(); destroyed a tick later */
    bool store_failing;    /* a write failed; logged once until one works */
    tc_component_t *comps; /* the coordinator's components, for display names */
    size_t ncomps;
    bool need_components; /* fetch them when the API answers */
    bool stopping;
    bool fatal; /* out of memory: exit 1 */
    tc_sdnotify_t *sd;
} s_ctx_t;

static void s_usage(FILE *out)
{
    fputs("usage: tocsin-notify --config FILE [OPTIONS]\n"
          "\n"
          "Deliver the coordinator's published status updates to Slack-compatible\n"
          "chat webhooks, generic JSON webhooks and e-mail, as the subscriptions in\n"
          "the configuration file say. Deliveries are queued durably and retried\n"
          "with back-off; each carries an idempotency key so receivers can drop\n"
          "the rare duplicate after a crash.\n"
          "\n"
          "options (override the configuration file):\n"
          "  -c, --config FILE     YAML configuration (notify, smtp, subscriptions; see\n"
          "                        tocsin-notify.yaml(5)); required\n"
          "      --api EP          coordinator API endpoint (default " TC_NOTIFY_DEFAULT_API ")\n"
          "      --publish EP      coordinator publish endpoint\n"
          "                        (default " TC_NOTIFY_DEFAULT_PUBLISH ")\n"
          "      --state DIR       LMDB state: cursor, delivery queue, unreported results\n"
          "                        (default " TC_NOTIFY_DEFAULT_STATE ")\n"
          "      --key FILE        this client's key pair (default $TOCSIN_KEY, then\n"
          "                        var/keys/private/subscriber.notify.cert,\n"
          "                        subscriber.local.cert, then /etc/tocsin/notify.cert)\n"
          "      --server-key FILE the coordinator's certificate (default\n"
          "                        $TOCSIN_SERVER_KEY, then var/keys/coordinator.cert,\n"
          "                        /etc/tocsin/coordinator.cert,\n"
          "                        /etc/tocsin/keys/coordinator.cert)\n"
          "      --insecure        plaintext without keys; loopback endpoints only\n"
          "      --log-level LEVEL debug, info, warn or error (default info)\n"
          "      --log-format FMT  text or json (default text)\n"
          "      --check-config    check the configuration, keys and state directory, print\n"
          "                        \"ok\" or every problem with file and line, and exit\n"
          "      --coordinator-config FILE  with --check-config: also check that every\n"
          "                        subscription's components are defined in this file\n"
          "  -h, --help            show this help\n"
          "  -V, --version         show the version\n"
          "\n" TC_CLI_HELP_EXIT,
          out);
}

/* One line on stderr, exit status 2 (common/cli.h). */
#define s_usage_error(...) tc_cli_usage_error(S_PROG, __VA_ARGS__)

static const char *const s_key_defaults[] = {"var/keys/private/subscriber.notify.cert",
                                             "var/keys/private/subscriber.local.cert",
                                             "/etc/tocsin/notify.cert", NULL};

/* Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    enum {
        O_API = 256,
        O_PUBLISH,
        O_STATE,
        O_KEY,
        O_SKEY,
        O_INSECURE,
        O_LOGLEVEL,
        O_LOGFORMAT,
        O_CHECK,
        O_COORDCONFIG
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"api", required_argument, NULL, O_API},
        {"publish", required_argument, NULL, O_PUBLISH},
        {"state", required_argument, NULL, O_STATE},
        {"key", required_argument, NULL, O_KEY},
        {"server-key", required_argument, NULL, O_SKEY},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"log-format", required_argument, NULL, O_LOGFORMAT},
        {"check-config", no_argument, NULL, O_CHECK},
        {"coordinator-config", required_argument, NULL, O_COORDCONFIG},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    tc_log_level_t l;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case O_API: o->api = optarg; break;
        case O_PUBLISH: o->publish = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_SKEY: o->server_key = optarg; break;
        case O_INSECURE: o->insecure = true; break;
        case O_CHECK: o->check = true; break;
        case O_COORDCONFIG: o->coordinator_config = optarg; break;
        case O_STATE:
            if (!*optarg)
                return s_usage_error("--state needs a directory");
            o->state = optarg;
            break;
        case O_LOGLEVEL:
            if (tc_log_level_parse(optarg, &l) != 0)
                return s_usage_error("--log-level needs debug, info, warn or error");
            o->log_level = optarg;
            break;
        case O_LOGFORMAT:
            if (tc_log_format_parse(optarg, &o->log_format) != 0)
                return s_usage_error("--log-format: expected text or json, not '%s'", optarg);
            break;
        case 'h': s_usage(stdout); return 0;
        case 'V': printf(S_PROG " " TOCSIN_VERSION "\n"); return 0;
        default: return tc_cli_getopt_error(S_PROG, c, argv, opts);
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->config)
        return s_usage_error("--config FILE is required");
    if (o->coordinator_config && !o->check)
        return s_usage_error("--coordinator-config only applies to --check-config");
    return -1;
}

/* Loads the file, lays the flags over it and checks the result. Returns
 * -1 or an exit status (after --check-config, always one). */
static int s_configure(const s_opts_t *o, s_ctx_t *ctx)
{
    char err[1024];
    ctx->cfg = tc_notify_config_new();
    if (!ctx->cfg) {
        fprintf(stderr, S_PROG ": out of memory\n");
        return S_EXIT_FAIL;
    }
    tc_notify_config_t *cfg = ctx->cfg;
    int rc = tc_notify_config_load(cfg, o->config, err, sizeof err);
    if (rc != 0) {
        if (rc == TC_ECONFIG)
            return tc_cfgcheck_load_failed(S_PROG, o->check, err);
        fprintf(stderr, S_PROG ": %s\n", tc_strerror(rc));
        return S_EXIT_FAIL;
    }
    if (o->api)
        snprintf(cfg->api, sizeof cfg->api, "%s", o->api);
    if (o->publish)
        snprintf(cfg->publish, sizeof cfg->publish, "%s", o->publish);
    if (o->state)
        snprintf(cfg->state, sizeof cfg->state, "%s", o->state);
    if (o->key)
        snprintf(cfg->key, sizeof cfg->key, "%s", o->key);
    if (o->server_key)
        snprintf(cfg->server_key, sizeof cfg->server_key, "%s", o->server_key);
    if (o->insecure)
        cfg->insecure = true;
    if (o->log_level)
        tc_log_level_parse(o->log_level, &cfg->log_level);
    tc_cfgcheck_t *ck = tc_cfgcheck_new(S_PROG);
    if (!ck) {
        fprintf(stderr, S_PROG ": out of memory\n");
        return S_EXIT_FAIL;
    }
    if (tc_cli_check_endpoint("--publish", cfg->publish, cfg->insecure, err, sizeof err) != 0)
        tc_cfgcheck_error(ck, o->config, tc_cfgcheck_line(o->config, "notify.publish"), "%s", err);
    if (tc_cli_check_endpoint("--api", cfg->api, cfg->insecure, err, sizeof err) != 0)
        tc_cfgcheck_error(ck, o->config, tc_cfgcheck_line(o->config, "notify.api"), "%s", err);
    const char *key = tc_cli_key_path(cfg->key, s_key_defaults);
    const char *server = tc_cli_server_key_path(cfg->server_key);
    tc_notify_config_check(cfg, o->config, key, server, o->coordinator_config, ck);
    if (o->check) {
        char summary[2048];
        snprintf(summary, sizeof summary, "%.1024s: %zu subscriptions, state %.900s", o->config,
                 cfg->nsubs, cfg->state);
        rc = tc_cfgcheck_report(ck, summary);
        tc_cfgcheck_destroy(&ck);
        return rc;
    }
    tc_log_init(S_PROG, cfg->log_level);
    tc_log_set_format(o->log_format);
    rc = tc_cfgcheck_before_start(ck);
    tc_cfgcheck_destroy(&ck);
    if (rc != 0)
        return rc;
    if (tc_cli_keys(cfg->insecure, key, server, NULL, &ctx->keys, err, sizeof err) != 0) {
        fprintf(stderr, S_PROG ": %s\n", err);
        return S_EXIT_USAGE;
    }
    return -1;
}

static void s_api_failed(int64_t *next, int64_t *backoff)
{
    *next = tc_mono_ms() + *backoff;
    *backoff = *backoff * 2 > S_API_BACKOFF_MAX_MS ? S_API_BACKOFF_MAX_MS : *backoff * 2;
}

/* A write of the state failed with `rc`. Out of memory ends the process;
 * anything else (a full disk, named in the reason) is logged once and the
 * write tried again later: what is queued stays queued. */
static void s_store_failed(s_ctx_t *ctx, int rc, const char *doing)
{
    if (rc == TC_ENOMEM) {
        tc_error("%s: %s", doing, tc_strerror(rc));
        ctx->fatal = true;
        return;
    }
    const char *why = tc_notify_queue_why(ctx->queue);
    if (!ctx->store_failing)
        tc_error("%s: %s; deliveries stay queued and the state is written again in %d s", doing,
                 why[0] ? why : tc_strerror(rc), S_STORE_RETRY_MS / 1000);
    ctx->store_failing = true;
}

static void s_store_ok(s_ctx_t *ctx)
{
    if (ctx->store_failing)
        tc_info("the state is written again");
    ctx->store_failing = false;
}

static tc_notify_context_t s_payload_ctx(const s_ctx_t *ctx)
{
    return (tc_notify_context_t){
        .page_url = ctx->cfg->page_url, .components = ctx->comps, .ncomponents = ctx->ncomps};
}

/* Takes component `c` (borrowed) into the display names, adding it if new.
 * Returns true if anything changed. */
static bool s_component_seen(s_ctx_t *ctx, const tc_component_t *c)
{
    for (size_t i = 0; i < ctx->ncomps; i++)
        if (!strcmp(ctx->comps[i].name, c->name)) {
            if (!c->description[0] || !strcmp(ctx->comps[i].description, c->description))
                return false;
            memcpy(ctx->comps[i].description, c->description, sizeof c->description);
            return true;
        }
    tc_component_t *grown = realloc(ctx->comps, (ctx->ncomps + 1) * sizeof *grown);
    if (!grown)
        return false;
    ctx->comps = grown;
    ctx->comps[ctx->ncomps++] = *c;
    return true;
}

static void s_save_components(s_ctx_t *ctx)
{
    int rc = tc_notify_queue_save_components(ctx->queue, ctx->comps, ctx->ncomps);
    if (rc != 0)
        s_store_failed(ctx, rc, "cannot save the component names");
}

/* Asks the coordinator for its components and their display names. */
static void s_fetch_components(s_ctx_t *ctx)
{
    tc_api_request_t req = {.version = TC_PROTOCOL_VERSION};
    snprintf(req.command, sizeof req.command, "components");
    tc_api_reply_t *reply = NULL;
    int rc = tc_client_call(ctx->api, &req, S_API_TIMEOUT_MS, &reply);
    if (rc != 0)
        return; /* tried again after the next catch-up */
    ctx->need_components = false;
    if (!reply->ok) {
        tc_warn("the coordinator does not list components (%s); texts name them by their "
                "configuration names",
                reply->error);
    } else {
        tc_component_t *cs = reply->ncomponents ? calloc(reply->ncomponents, sizeof *cs) : NULL;
        if (reply->ncomponents && !cs) {
            ctx->fatal = true;
        } else {
            if (reply->ncomponents)
                memcpy(cs, reply->components, reply->ncomponents * sizeof *cs);
            free(ctx->comps);
            ctx->comps = cs;
            ctx->ncomps = reply->ncomponents;
            tc_debug("the coordinator lists %zu components", ctx->ncomps);
            s_save_components(ctx);
        }
    }
    tc_api_reply_destroy(&reply);
}

/* ---- the feed ------------------------------------------------------------ */

/* tc_follow_fetch_fn: one attempt; the tick retries later on failure. */
static int s_fetch(void *arg, uint64_t from, tc_api_reply_t **preply)
{
    s_ctx_t *ctx = arg;
    bool refused;
    int rc = tc_feed_fetch(ctx->api, from, S_PAGE, S_API_TIMEOUT_MS, preply, &refused);
    if (rc != 0 && !refused && !(rc == TC_ESYS && zsys_interrupted))
        tc_warn("cannot fetch broadcasts from %" PRIu64 " at %s: %s; will retry", from,
                ctx->cfg->api, tc_strerror(rc));
    return rc;
}

/* True if `u` is a published update (not a draft or a withdrawal). */
static bool s_deliverable(const tc_update_t *u)
{
    if (u->status == TC_UPD_WITHDRAWN)
        return false;
    return u->status == TC_UPD_PUBLISHED || u->published_ms > 0;
}

/* tc_follow_emit_fn: enqueues the deliveries `m` produces, with the cursor,
 * in one transaction. */
static int s_emit(void *arg, const tc_msg_t *m)
{
    s_ctx_t *ctx = arg;
    const tc_broadcast_t *b = &m->u.bcast;
    ctx->seen = m->seq;
    if (b->kind == TC_BCAST_COMPONENT && s_component_seen(ctx, &b->component))
        s_save_components(ctx);
    if (b->kind != TC_BCAST_STATUS_UPDATE)
        return 0;
    if (!s_deliverable(&b->update)) {
        tc_debug("broadcast %" PRIu64 ": update %" PRIu32 " is %s; not delivered", m->seq,
                 b->update.number, tc_update_status_name(b->update.status));
        return 0;
    }
    tc_notify_config_t *cfg = ctx->cfg;
    tc_delivery_t *ds = calloc(cfg->nsubs, sizeof *ds);
    if (!ds) {
        ctx->fatal = true;
        return TC_ENOMEM;
    }
    size_t n = 0;
    int64_t now = tc_now_ms();
    for (size_t i = 0; i < cfg->nsubs; i++) {
        if (!tc_notify_matches(&cfg->subs[i], &b->update))
            continue;
        tc_delivery_t *d = &ds[n];
        snprintf(d->sub, sizeof d->sub, "%s", cfg->subs[i].name);
        if (tc_notify_key(&b->update, d->sub, d->key, sizeof d->key) != 0)
            continue;
        d->first_ms = now;
        d->next_try_ms = now;
        d->update = b->update;
        n++;
    }
    size_t added = 0;
    int rc = tc_notify_queue_enqueue(ctx->queue, m->seq, ds, n, &added);
    if (rc != 0) {
        char doing[96];
        snprintf(doing, sizeof doing, "cannot enqueue the deliveries of broadcast %" PRIu64,
                 m->seq);
        s_store_failed(ctx, rc, doing);
        free(ds);
        /* Fetched again from the stored cursor: nothing is skipped. */
        ctx->seen = tc_notify_queue_cursor(ctx->queue);
        tc_follow_start_at(ctx->follow, ctx->seen + 1);
        return rc;
    }
    s_store_ok(ctx);
    ctx->cursor_saved_mono = tc_mono_ms();
    tc_info("broadcast %" PRIu64 ": %s update %" PRIu32 " of %s %" PRIu64
            " (%s): %zu deliveries queued",
            m->seq, b->update.external ? "external" : "internal", b->update.number,
            b->update.incident ? "incident" : "maintenance",
            b->update.incident ? b->update.incident : b->update.maintenance, b->update.state,
            added);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < cfg->nsubs; j++)
            if (strcmp(cfg->subs[j].name, ds[i].sub) == 0 && !ctx->subst[j].busy)
                ctx->subst[j].wake_ms = 0;
    free(ds);
    return 0;
}

/* A follower call ended with `rc`. Returns -1 to end the loop (fatal),
 * else 0, scheduling a catch-up if the API did not answer. */
static int s_after_follow(s_ctx_t *ctx, int rc)
{
    if (ctx->fatal)
        return -1;
    if (rc != 0) {
        if (rc == TC_ESYS && zsys_interrupted)
            return -1;
        ctx->need_catch_up = true;
        if (ctx->store_failing)
            ctx->api_next_mono = tc_mono_ms() + S_STORE_RETRY_MS;
        else
            s_api_failed(&ctx->api_next_mono, &ctx->api_backoff);
    }
    return 0;
}

static int s_save_cursor(s_ctx_t *ctx);

static int s_on_sub(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    s_ctx_t *ctx = arg;
    zmsg_t *msg = zmsg_recv(reader);
    if (!msg)
        return zsys_interrupted ? -1 : 0;
    ctx->sub_mono = tc_mono_ms();
    int rc = 0;
    if (zmsg_size(msg) != 2 || ctx->stopping ||
        (!tc_follow_started(ctx->follow) && !ctx->await_live))
        goto done;
    zframe_t *body = zmsg_last(msg);
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        goto done;
    if (tc_wire_decode_msg(zframe_data(body), zframe_size(body), m) == 0) {
        bool was_started = tc_follow_started(ctx->follow);
        if (m->kind == TC_MSG_HEARTBEAT && strcmp(m->sender, TC_COORDINATOR_ID) == 0) {
            rc = s_after_follow(ctx, tc_follow_heartbeat(ctx->follow, m->u.heartbeat.last_seq));
            if (!was_started) {
                ctx->seen = tc_follow_last(ctx->follow);
                tc_info("new state: following broadcasts after %" PRIu64, ctx->seen);
                if (s_save_cursor(ctx) != 0)
                    rc = -1;
            }
        } else if (tc_feed_usable(m, ctx->cfg->publish)) {
            rc = s_after_follow(ctx, tc_follow_live(ctx->follow, m));
        }
    }
    free(m);
done:
    zmsg_destroy(&msg);
    return rc;
}

/* Starts the feed: at cursor + 1 after a restart; on a new state
 * directory after the newest broadcast the coordinator has, since an
 * installation must not notify everyone about its whole history. */
static int s_start_feed(s_ctx_t *ctx)
{
    uint64_t cursor = tc_notify_queue_cursor(ctx->queue);
    if (cursor == 0) {
        tc_api_request_t req = {.version = TC_PROTOCOL_VERSION};
        snprintf(req.command, sizeof req.command, "status");
        tc_api_reply_t *reply = NULL;
        int rc = tc_client_call(ctx->api, &req, S_API_TIMEOUT_MS, &reply);
        if (rc == 0 && (!reply->ok || !reply->has_status)) {
            /* A subscriber key may not ask for status; the coordinator's
             * heartbeat names the newest broadcast just as well. */
            tc_info("the coordinator refused status (%s); starting with its next heartbeat",
                    reply->error);
            tc_api_reply_destroy(&reply);
            ctx->await_live = true;
            return 0;
        }
        if (rc != 0) {
            tc_api_reply_destroy(&reply);
            return rc;
        }
        cursor = reply->status.broadcast_seq;
        tc_api_reply_destroy(&reply);
        rc = tc_notify_queue_enqueue(ctx->queue, cursor, NULL, 0, NULL);
        if (rc != 0) {
            s_store_failed(ctx, rc, "cannot write the state");
            return rc;
        }
        tc_info("new state: following broadcasts after %" PRIu64, cursor);
    } else {
        tc_info("resuming after broadcast %" PRIu64, cursor);
    }
    ctx->seen = cursor;
    tc_follow_start_at(ctx->follow, cursor + 1);
    return 0;
}

/* ---- deliveries ---------------------------------------------------------- */

/* The head delivery `d` of subscription `i` failed again: once it has
 * waited longer than failing_after, the channel is reported failing (once
 * per delivery), with the delivery's age and the last error. */
static void s_maybe_failing(s_ctx_t *ctx, size_t i, const tc_delivery_t *d, int64_t now)
{
    s_subst_t *st = &ctx->subst[i];
    int64_t age = now - d->first_ms;
    if (age < ctx->cfg->failing_ms || st->failing == d->qseq)
        return;
    tc_delivery_report_t rep = {.incident = d->update.incident,
                                .number = d->update.number,
                                .result = TC_DELIVERY_FAILING,
                                .latency_ms = age,
                                .attempts = d->attempts};
    snprintf(rep.sub, sizeof rep.sub, "%s", d->sub);
    snprintf(rep.detail, sizeof rep.detail, "%s", d->last_error);
    int rc = tc_notify_queue_report(ctx->queue, &rep);
    if (rc != 0) {
        s_store_failed(ctx, rc, "cannot queue a failing report");
        return;
    }
    st->failing = d->qseq;
    ctx->reports_waiting = true;
    char dur[32];
    tc_warn("subscription %s is failing: %s undelivered for %s after %" PRIu32
            " attempts; last error: %s",
            d->sub, d->key, tc_duration_compact(age, dur, sizeof dur), d->attempts, d->last_error);
}

static void s_on_done(void *arg, void *tag, const tc_notify_result_t *r)
{
    s_ctx_t *ctx = arg;
    size_t i = (size_t)(uintptr_t)tag;
    s_subst_t *st = &ctx->subst[i];
    const tc_notify_sub_t *sub = &ctx->cfg->subs[i];
    tc_delivery_t *d = &st->cur;
    st->busy = false;
    st->wake_ms = 0;
    d->attempts++;
    int64_t now = tc_now_ms();
    bool give_up = !r->ok && (r->permanent || now - d->first_ms >= ctx->cfg->give_up_ms);
    if (!r->ok && !give_up) {
        int64_t wait =
            tc_notify_backoff_ms(ctx->cfg->retry_first_ms, ctx->cfg->retry_max_ms, d->attempts);
        /* Up to 10% jitter, so receivers that failed together do not all
         * come back at the same instant. */
        wait += wait >= 10 ? (int64_t)(random() % (wait / 10)) : 0;
        d->next_try_ms = now + wait;
        snprintf(d->last_error, sizeof d->last_error, "%s", r->detail);
        /* If this cannot be written, the wait still holds (in memory);
         * only the attempt count is behind after a restart. */
        int rc = tc_notify_queue_retry(ctx->queue, d);
        if (rc != 0)
            s_store_failed(ctx, rc, "cannot record a retry");
        st->wake_ms = d->next_try_ms;
        tc_warn("delivery %s to %s failed (attempt %" PRIu32 "): %s; retrying in %" PRId64 " ms",
                d->key, sub->name, d->attempts, r->detail, wait);
        s_maybe_failing(ctx, i, d, now);
        return;
    }
    tc_delivery_report_t rep = {.incident = d->update.incident,
                                .number = d->update.number,
                                .result = r->ok ? TC_DELIVERY_DELIVERED : TC_DELIVERY_FAILED,
                                .attempts = d->attempts};
    snprintf(rep.sub, sizeof rep.sub, "%s", d->sub);
    rep.latency_ms = d->update.published_ms > 0 ? now - d->update.published_ms : 0;
    if (rep.latency_ms < 0)
        rep.latency_ms = 0;
    if (r->ok || d->attempts == 1)
        snprintf(rep.detail, sizeof rep.detail, "%s", r->detail);
    else
        snprintf(rep.detail, sizeof rep.detail, "%.120s after %" PRIu32 " attempts", r->detail,
                 d->attempts);
    /* Window updates belong to no incident timeline; but one that was
     * reported failing is reported over, so the channel is not left
     * failing. */
    bool report = d->update.incident != 0 || st->failing == d->qseq;
    int rc = tc_notify_queue_finish(ctx->queue, d, report ? &rep : NULL, now);
    if (rc != 0) {
        /* Still queued: it is sent again (same key) once the state can be
         * written; receivers drop the duplicate. */
        s_store_failed(ctx, rc, "cannot record the result of a delivery");
        st->wake_ms = now + S_STORE_RETRY_MS;
        return;
    }
    s_store_ok(ctx);
    if (st->failing == d->qseq) {
        st->failing = 0;
        tc_info("subscription %s %s", sub->name,
                r->ok ? "works again" : "moves on to its next delivery");
    }
    if (report)
        ctx->reports_waiting = true;
    if (r->ok)
        tc_info("delivered %s to %s (%s): %s, attempt %" PRIu32 ", %" PRId64
                " ms after publication",
                d->key, sub->name, tc_notify_type_name(sub->type), r->detail, d->attempts,
                rep.latency_ms);
    else
        tc_error("gave up on %s to %s (%s): %s%s", d->key, sub->name,
                 tc_notify_type_name(sub->type), rep.detail,
                 r->permanent ? " (refused)" : " (give_up_after reached)");
}

/* Starts every due head delivery while there is room. */
static void s_schedule(s_ctx_t *ctx)
{
    size_t n = ctx->cfg->nsubs;
    int64_t now = tc_now_ms();
    for (size_t k = 0; k < n && !ctx->stopping; k++) {
        if (tc_notify_sender_active(ctx->sender) >= ctx->cfg->concurrency)
            break;
        size_t i = (ctx->rr + k) % n;
        s_subst_t *st = &ctx->subst[i];
        if (st->busy || st->wake_ms > now)
            continue;
        const tc_notify_sub_t *sub = &ctx->cfg->subs[i];
        int rc = tc_notify_queue_head(ctx->queue, sub->name, &st->cur);
        if (rc == TC_ENOTFOUND) {
            st->wake_ms = INT64_MAX;
            continue;
        }
        if (rc != 0) {
            tc_error("cannot read the queue of %s: %s", sub->name, tc_strerror(rc));
            st->wake_ms = now + 5000;
            continue;
        }
        if (st->cur.next_try_ms > now) {
            st->wake_ms = st->cur.next_try_ms;
            continue;
        }
        tc_notify_context_t pctx = s_payload_ctx(ctx);
        rc = tc_notify_sender_start(ctx->sender, sub, &st->cur, &pctx, now, (void *)(uintptr_t)i);
        if (rc != 0) {
            tc_error("cannot start delivery %s to %s: %s", st->cur.key, sub->name, tc_strerror(rc));
            st->wake_ms = now + 1000;
            continue;
        }
        st->busy = true;
        tc_debug("sending %s to %s (attempt %" PRIu32 ")", st->cur.key, sub->name,
                 st->cur.attempts + 1);
    }
    ctx->rr++;
}

/* Sends queued results to the coordinator, oldest first. */
static void s_report(s_ctx_t *ctx)
{
    if (!ctx->reports_waiting || tc_mono_ms() < ctx->report_next_mono)
        return;
    for (int k = 0; k < S_REPORTS_PER_TICK; k++) {
        tc_delivery_report_t r;
        int rc = tc_notify_queue_report_first(ctx->queue, &r);
        if (rc == TC_ENOTFOUND) {
            ctx->reports_waiting = false;
            return;
        }
        if (rc != 0) {
            s_store_failed(ctx, rc, "cannot read unreported results");
            ctx->report_next_mono = tc_mono_ms() + S_STORE_RETRY_MS;
            return;
        }
        tc_api_request_t req = {.version = TC_PROTOCOL_VERSION, .nargs = 6};
        snprintf(req.command, sizeof req.command, "delivery");
        snprintf(req.args[0], TC_API_ARG_MAX, "%" PRIu64, r.incident);
        snprintf(req.args[1], TC_API_ARG_MAX, "%" PRIu32, r.number);
        snprintf(req.args[2], TC_API_ARG_MAX, "%s", r.sub);
        snprintf(req.args[3], TC_API_ARG_MAX, "%s", tc_delivery_result_name(r.result));
        snprintf(req.args[4], TC_API_ARG_MAX, "%" PRId64, r.latency_ms);
        snprintf(req.args[5], TC_API_ARG_MAX, "%" PRIu32, r.attempts);
        snprintf(req.message, sizeof req.message, "%s", r.detail);
        tc_api_reply_t *reply = NULL;
        rc = tc_client_call(ctx->api, &req, S_API_TIMEOUT_MS, &reply);
        if (rc != 0) {
            if (!(rc == TC_ESYS && zsys_interrupted))
                tc_warn("cannot report the result for incident %" PRIu64 " update %" PRIu32
                        " to %s: %s; will retry",
                        r.incident, r.number, r.sub, tc_strerror(rc));
            s_api_failed(&ctx->report_next_mono, &ctx->report_backoff);
            return;
        }
        if (!reply->ok)
            tc_warn("the coordinator refused the %s report for incident %" PRIu64 " update %" PRIu32
                    " to %s: %s; dropping it%s",
                    tc_delivery_result_name(r.result), r.incident, r.number, r.sub, reply->error,
                    r.result == TC_DELIVERY_FAILING ? " (a coordinator older than failing "
                                                      "reports)"
                                                    : "");
        else
            tc_debug("reported incident %" PRIu64 " update %" PRIu32 " to %s: %s", r.incident,
                     r.number, r.sub, tc_delivery_result_name(r.result));
        tc_api_reply_destroy(&reply);
        ctx->report_backoff = S_API_BACKOFF_FIRST_MS;
        rc = tc_notify_queue_report_drop(ctx->queue, r.rseq);
        if (rc != 0) {
            /* Reported again later: the coordinator counts it twice at
             * worst, which is better than stopping deliveries. */
            s_store_failed(ctx, rc, "cannot drop a reported result");
            ctx->report_next_mono = tc_mono_ms() + S_STORE_RETRY_MS;
            return;
        }
    }
}

static int s_save_cursor(s_ctx_t *ctx)
{
    if (ctx->seen <= tc_notify_queue_cursor(ctx->queue))
        return 0;
    int rc = tc_notify_queue_enqueue(ctx->queue, ctx->seen, NULL, 0, NULL);
    if (rc != 0)
        s_store_failed(ctx, rc, "cannot save the cursor"); /* tried again later */
    else
        s_store_ok(ctx);
    ctx->cursor_saved_mono = tc_mono_ms();
    return ctx->fatal ? rc : 0;
}

static int s_on_sub(zloop_t *loop, zsock_t *reader, void *arg);

/* Makes the SUB socket again after a silence (see TC_FEED_RESUBSCRIBE_MS);
 * whatever was published meanwhile comes through the follower. */
static int s_resubscribe(zloop_t *loop, s_ctx_t *ctx)
{
    ctx->sub_mono = tc_mono_ms();
    zsock_t *sub = tc_feed_subscribe(ctx->cfg->publish, &ctx->keys);
    if (!sub)
        return 0; /* tried again after the next silence */
    tc_debug("nothing heard on %s for %d s: subscribing again", ctx->cfg->publish,
             TC_FEED_RESUBSCRIBE_MS / 1000);
    /* zloop may still hand the old socket to s_on_sub() in the iteration
     * under way, so it lives until the next tick. */
    zloop_reader_end(loop, ctx->sub);
    zsock_destroy(&ctx->old_sub);
    ctx->old_sub = ctx->sub;
    ctx->sub = sub;
    ctx->need_components = true;
    if (zloop_reader(loop, ctx->sub, s_on_sub, ctx) != 0) {
        tc_error("cannot set up the event loop");
        return -1;
    }
    return 0;
}

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void)timer_id;
    s_ctx_t *ctx = arg;
    zsock_destroy(&ctx->old_sub);
    if (tc_notify_sender_run(ctx->sender, s_on_done, ctx) != 0)
        return -1;
    if (ctx->fatal)
        return -1;
    int64_t mono = tc_mono_ms();
    if (ctx->need_catch_up && mono >= ctx->api_next_mono) {
        int rc = 0;
        if (!tc_follow_started(ctx->follow) && !ctx->await_live)
            rc = s_start_feed(ctx);
        if (rc == 0)
            rc = tc_follow_catch_up(ctx->follow);
        if (ctx->fatal || (rc == TC_ESYS && zsys_interrupted))
            return -1;
        if (rc == 0) {
            ctx->need_catch_up = false;
            ctx->api_backoff = S_API_BACKOFF_FIRST_MS;
            if (ctx->need_components)
                s_fetch_components(ctx);
        } else if (ctx->store_failing) {
            ctx->api_next_mono = mono + S_STORE_RETRY_MS;
        } else {
            s_api_failed(&ctx->api_next_mono, &ctx->api_backoff);
            ctx->need_components = true;
        }
    }
    if (mono - ctx->sub_mono >= TC_FEED_RESUBSCRIBE_MS && !ctx->stopping) {
        if (s_resubscribe(loop, ctx) != 0)
            return -1;
    }
    s_schedule(ctx);
    s_report(ctx);
    if (ctx->fatal)
        return -1;
    if (mono - ctx->cursor_saved_mono >= S_CURSOR_SAVE_MS && s_save_cursor(ctx) != 0)
        return -1;
    if (mono >= ctx->prune_next_mono) {
        size_t pruned = 0;
        if (tc_notify_queue_prune(ctx->queue, tc_now_ms() - S_DONE_KEEP_MS, &pruned) == 0 && pruned)
            tc_info("forgot %zu delivered keys older than 7 days", pruned);
        ctx->prune_next_mono = mono + (ctx->store_failing ? S_STORE_RETRY_MS : S_PRUNE_EVERY_MS);
    }
    return 0;
}

/* Deliveries queued for subscriptions no longer in the file cannot be
 * sent; report them failed rather than keep them forever. */
static int s_drop_orphans(s_ctx_t *ctx)
{
    char(*names)[TC_ID_MAX] = calloc(TC_NOTIFY_SUBS_MAX * 4, TC_ID_MAX);
    size_t n = 0;
    if (!names)
        return TC_ENOMEM;
    int rc = tc_notify_queue_subs(ctx->queue, names, TC_NOTIFY_SUBS_MAX * 4, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (tc_notify_config_find(ctx->cfg, names[i]))
            continue;
        tc_delivery_t *d = malloc(sizeof *d);
        if (!d) {
            rc = TC_ENOMEM;
            break;
        }
        size_t dropped = 0;
        while (rc == 0 && (rc = tc_notify_queue_head(ctx->queue, names[i], d)) == 0) {
            tc_delivery_report_t rep = {.incident = d->update.incident,
                                        .number = d->update.number,
                                        .attempts = d->attempts};
            snprintf(rep.sub, sizeof rep.sub, "%s", d->sub);
            snprintf(rep.detail, sizeof rep.detail, "subscription no longer configured");
            rc = tc_notify_queue_finish(ctx->queue, d, d->update.incident ? &rep : NULL,
                                        tc_now_ms());
            if (rc == 0 && d->update.incident)
                ctx->reports_waiting = true;
            dropped++;
        }
        if (rc == TC_ENOTFOUND)
            rc = 0;
        free(d);
        tc_warn("subscription %s is no longer configured: %zu queued deliveries reported failed",
                names[i], dropped);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    s_opts_t opts = {0};
    s_ctx_t ctx = {.api_backoff = S_API_BACKOFF_FIRST_MS, .report_backoff = S_API_BACKOFF_FIRST_MS};
    int status = s_parse(argc, argv, &opts);
    if (status >= 0)
        return status;
    status = s_configure(&opts, &ctx);
    if (status >= 0) {
        tc_notify_config_destroy(&ctx.cfg);
        return status;
    }
    status = S_EXIT_FAIL;
    if (!(ctx.sd = tc_sdnotify_new())) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_cfg;
    }
    srandom((unsigned)(tc_now_ms() ^ getpid()));

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        tc_error("cannot initialise libcurl");
        goto fail_cfg;
    }
    char why[512] = "";
    int rc = tc_notify_queue_open(ctx.cfg->state, 0, &ctx.queue, why, sizeof why);
    if (rc != 0) {
        tc_error("%s", why[0] ? why : tc_strerror(rc));
        if (rc == TC_ECONFIG)
            status = S_EXIT_USAGE;
        goto fail_curl;
    }
    ctx.subst = calloc(ctx.cfg->nsubs, sizeof *ctx.subst);
    ctx.sender = tc_notify_sender_new(ctx.cfg);
    ctx.follow = tc_follow_new(s_fetch, s_emit, &ctx);
    if (!ctx.subst || !ctx.sender || !ctx.follow) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_parts;
    }
    if (s_drop_orphans(&ctx) != 0) {
        tc_error("cannot clean up the queue of removed subscriptions");
        goto fail_parts;
    }
    size_t pending = 0, reports = 0;
    tc_notify_queue_counts(ctx.queue, &pending, &reports);
    if (reports)
        ctx.reports_waiting = true;

    if (tc_notify_queue_components(ctx.queue, &ctx.comps, &ctx.ncomps) != 0)
        tc_warn("cannot read the saved component names; waiting for the coordinator's");
    ctx.need_components = true;

    /* Subscribe first, fetch second (see tools/tocsin-sub.c). */
    ctx.sub = tc_feed_subscribe(ctx.cfg->publish, &ctx.keys);
    if (!ctx.sub)
        goto fail_parts;
    ctx.sub_mono = tc_mono_ms();
    ctx.api = tc_client_new(ctx.cfg->api, &ctx.keys);
    if (!ctx.api) {
        tc_error("cannot connect to %s", ctx.cfg->api);
        goto fail_sub;
    }
    zloop_t *loop = zloop_new();
    if (!loop) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_api;
    }
    tc_info("started: %zu subscriptions, %zu deliveries and %zu results queued, state %s",
            ctx.cfg->nsubs, pending, reports, ctx.cfg->state);
    ctx.need_catch_up = true;
    ctx.cursor_saved_mono = tc_mono_ms();
    if (zloop_reader(loop, ctx.sub, s_on_sub, &ctx) != 0 ||
        zloop_timer(loop, S_TICK_MS, 0, s_on_tick, &ctx) < 0 ||
        tc_sdnotify_watch(ctx.sd, loop) != 0) {
        tc_error("cannot set up the event loop");
        goto fail_loop;
    }
    char ready[512];
    snprintf(ready, sizeof ready, "%zu subscriptions, %zu deliveries queued", ctx.cfg->nsubs,
             pending);
    tc_sdnotify_ready(ctx.sd, ready);
    zloop_start(loop);
    tc_sdnotify_stopping(ctx.sd);

    /* Stop taking work; let transfers in flight finish and record them. */
    ctx.stopping = true;
    if (!ctx.fatal && tc_notify_sender_active(ctx.sender) > 0) {
        tc_info("stopping: waiting up to 2s for %zu deliveries in flight",
                tc_notify_sender_active(ctx.sender));
        tc_notify_sender_drain(ctx.sender, S_DRAIN_MS, s_on_done, &ctx);
    }
    if (!ctx.fatal)
        s_save_cursor(&ctx);
    if (!ctx.fatal) {
        status = 0;
        tc_info("stopped after broadcast %" PRIu64, tc_notify_queue_cursor(ctx.queue));
    }
fail_loop:
    zloop_destroy(&loop);
fail_api:
    tc_client_destroy(&ctx.api);
fail_sub:
    zsock_destroy(&ctx.sub);
    zsock_destroy(&ctx.old_sub);
fail_parts:
    tc_notify_sender_destroy(&ctx.sender);
    tc_follow_destroy(&ctx.follow);
    free(ctx.subst);
    free(ctx.comps);
    tc_notify_queue_destroy(&ctx.queue);
fail_curl:
    curl_global_cleanup();
fail_cfg:
    tc_sdnotify_destroy(&ctx.sd);
    tc_notify_config_destroy(&ctx.cfg);
    return status;
}
