/*
 * tocsin-notify - delivers the coordinator's published status updates to
 * chat webhooks, generic webhooks and e-mail, and every page to the paged
 * person's contact methods (notify_impl.h says which file does what).
 *
 * Like tocsin-sub, the SUB socket is subscribed before anything is
 * fetched, and client/follow.h turns live broadcasts plus API catch-up into
 * one gap-free sequence (nf_feed.c). Every published status update is
 * matched against the subscriptions, every page becomes a delivery per
 * contact method its urgency reaches (pages.c); the deliveries and the
 * cursor past the broadcast are committed to LMDB in one transaction
 * (notify/queue.h), so a restart resumes at cursor + 1 and loses nothing.
 * Delivery is at-least-once with an idempotency key per delivery
 * (nf_deliver.c).
 *
 * One zloop holds the SUB socket, a 50 ms timer that drives libcurl's
 * multi interface (notify/sender.h), starts due deliveries and talks to
 * the API, and, with --metrics, the HTTP server for /metrics. API calls
 * are single attempts with a short timeout and back off when the
 * coordinator does not answer: deliveries already queued keep going while
 * it is down, from the notifier's own copy of the components and the
 * contacts, because messaging must not depend on the failing system.
 *
 * Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime failure (the state
 * cannot be written), 2 on bad usage or configuration (the checks of
 * --check-config run before every start).
 */
#include "notify_impl.h"

#include "cfgcheck.h"
#include "cli.h"
#include "error.h"
#include "feed.h"
#include "log.h"
#include "util.h"

#include <curl/curl.h>
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_PROG "tocsin-notify"
#define S_EXIT_FAIL 1
#define S_EXIT_USAGE 2
#define S_TICK_MS 50
/* Cursor writes for broadcasts that produce no delivery are batched: losing
 * them only means re-reading broadcasts that match nothing. */
#define S_CURSOR_SAVE_MS 2000
#define S_DONE_KEEP_MS (7LL * 24 * 3600 * 1000)
#define S_PRUNE_EVERY_MS (3600LL * 1000)
#define S_DRAIN_MS 2000

typedef struct {
    const char *config, *coordinator_config;
    const char *api, *publish, *state, *key, *server_key, *log_level, *metrics;
    tc_log_format_t log_format;
    bool insecure, check;
} s_opts_t;

static void s_usage(FILE *out)
{
    fputs("usage: tocsin-notify --config FILE [OPTIONS]\n"
          "\n"
          "Deliver the coordinator's published status updates to Slack-compatible\n"
          "chat webhooks, generic JSON webhooks and e-mail, as the subscriptions in\n"
          "the configuration file say, and every page to the paged person's contact\n"
          "methods (e-mail, ntfy push, Slack, webhook) by its urgency. Deliveries are\n"
          "queued durably and retried with back-off; each carries an idempotency key\n"
          "so receivers can drop the rare duplicate after a crash.\n"
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
          "      --metrics ADDR:PORT  serve GET /metrics there (e.g. " TC_NOTIFY_DEFAULT_METRICS
          ")\n"
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
        O_COORDCONFIG,
        O_METRICS
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
        {"metrics", required_argument, NULL, O_METRICS},
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
        case O_METRICS:
            if (!tc_httpd_addr_valid(optarg))
                return s_usage_error("--metrics: invalid address '%s' (want IP:PORT, e.g. %s)",
                                     optarg, TC_NOTIFY_DEFAULT_METRICS);
            o->metrics = optarg;
            break;
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
static int s_configure(const s_opts_t *o, tc_nf_t *ctx)
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
    if (o->metrics)
        snprintf(cfg->metrics, sizeof cfg->metrics, "%s", o->metrics);
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

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void)timer_id;
    tc_nf_t *ctx = arg;
    zsock_destroy(&ctx->old_sub);
    if (tc_notify_sender_run(ctx->sender, tc_nf_on_done, ctx) != 0)
        return -1;
    if (ctx->fatal)
        return -1;
    int64_t mono = tc_mono_ms();
    if (ctx->need_catch_up && mono >= ctx->api_next_mono) {
        int rc = 0;
        if (!tc_follow_started(ctx->follow) && !ctx->await_live)
            rc = tc_nf_start_feed(ctx);
        /* Contacts before the catch-up: pages it brings are delivered to
         * the roster as it is now. */
        if (rc == 0 && ctx->need_contacts)
            tc_nf_fetch_contacts(ctx);
        if (rc == 0)
            rc = tc_follow_catch_up(ctx->follow);
        if (ctx->fatal || (rc == TC_ESYS && zsys_interrupted))
            return -1;
        if (rc == 0) {
            ctx->need_catch_up = false;
            ctx->api_backoff = TC_NF_API_BACKOFF_FIRST_MS;
            if (ctx->need_components)
                tc_nf_fetch_components(ctx);
        } else if (ctx->store_failing) {
            ctx->api_next_mono = mono + TC_NF_STORE_RETRY_MS;
        } else {
            tc_nf_api_failed(&ctx->api_next_mono, &ctx->api_backoff);
            ctx->need_components = true;
            ctx->need_contacts = true;
        }
    } else if (!ctx->need_catch_up && mono - ctx->contacts_mono >= TC_NF_CONTACTS_EVERY_MS) {
        tc_nf_fetch_contacts(ctx);
    }
    if (mono - ctx->sub_mono >= TC_FEED_RESUBSCRIBE_MS && !ctx->stopping) {
        if (tc_nf_resubscribe(loop, ctx) != 0)
            return -1;
    }
    tc_nf_schedule(ctx);
    tc_nf_report(ctx);
    if (ctx->fatal)
        return -1;
    if (mono - ctx->cursor_saved_mono >= S_CURSOR_SAVE_MS && tc_nf_save_cursor(ctx) != 0)
        return -1;
    if (mono >= ctx->prune_next_mono) {
        size_t pruned = 0;
        if (tc_notify_queue_prune(ctx->queue, tc_now_ms() - S_DONE_KEEP_MS, &pruned) == 0 && pruned)
            tc_info("forgot %zu delivered keys older than 7 days", pruned);
        ctx->prune_next_mono =
            mono + (ctx->store_failing ? TC_NF_STORE_RETRY_MS : S_PRUNE_EVERY_MS);
    }
    return 0;
}

/* The link key pages are signed with, when they carry links. */
static int s_link_key(tc_nf_t *ctx)
{
    if (!ctx->cfg->ack_url[0])
        return 0;
    const char *path = tc_notify_config_link_key(ctx->cfg);
    char why[1200];
    int rc = path ? tc_acklink_key_load(path, ctx->link_key, why, sizeof why) : TC_ENOTFOUND;
    if (rc != 0) {
        tc_error("%s", path ? why : "notify.ack_url is set but there is no link key");
        return rc;
    }
    ctx->has_link_key = true;
    tc_info("pages carry acknowledgement links %sack/... (key %s, valid for %lld min)",
            ctx->cfg->ack_url, path, (long long)(ctx->cfg->link_ttl_ms / 60000));
    return 0;
}

int main(int argc, char **argv)
{
    s_opts_t opts = {0};
    tc_nf_t ctx = {.api_backoff = TC_NF_API_BACKOFF_FIRST_MS,
                   .report_backoff = TC_NF_API_BACKOFF_FIRST_MS};
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
    if (s_link_key(&ctx) != 0)
        goto fail_cfg;

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
    ctx.sender = tc_notify_sender_new(ctx.cfg);
    ctx.follow = tc_follow_new(tc_nf_fetch, tc_nf_emit, &ctx);
    if (!ctx.sender || !ctx.follow) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_parts;
    }
    if (tc_nf_drop_orphans(&ctx) != 0) {
        tc_error("cannot clean up the queue of removed subscriptions");
        goto fail_parts;
    }
    if (tc_nf_chans_init(&ctx) != 0) {
        tc_error("cannot read the queued deliveries");
        goto fail_parts;
    }
    size_t pending = 0, reports = 0;
    tc_notify_queue_counts(ctx.queue, &pending, &reports);
    if (reports)
        ctx.reports_waiting = true;

    if (tc_notify_queue_components(ctx.queue, &ctx.comps, &ctx.ncomps) != 0)
        tc_warn("cannot read the saved component names; waiting for the coordinator's");
    if (tc_notify_queue_contacts(ctx.queue, &ctx.contacts) != 0)
        tc_warn("cannot read the saved contacts; waiting for the coordinator's");
    ctx.need_components = true;
    ctx.need_contacts = true;

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
    if (ctx.cfg->metrics[0]) {
        char mwhy[512] = "";
        if (tc_nf_metrics_start(&ctx, loop, ctx.cfg->metrics, mwhy, sizeof mwhy) != 0) {
            tc_error("metrics: %s", mwhy[0] ? mwhy : "cannot start");
            goto fail_loop;
        }
        tc_info("metrics on %smetrics", tc_httpd_url(ctx.metrics));
    }
    tc_info("started: %zu subscriptions, %zu deliveries and %zu results queued, %zu people's "
            "contacts saved, state %s",
            ctx.cfg->nsubs, pending, reports, ctx.contacts ? ctx.contacts->npeople : 0,
            ctx.cfg->state);
    ctx.need_catch_up = true;
    ctx.cursor_saved_mono = tc_mono_ms();
    if (zloop_reader(loop, ctx.sub, tc_nf_on_sub, &ctx) != 0 ||
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
        tc_notify_sender_drain(ctx.sender, S_DRAIN_MS, tc_nf_on_done, &ctx);
    }
    if (!ctx.fatal)
        tc_nf_save_cursor(&ctx);
    if (!ctx.fatal) {
        status = 0;
        tc_info("stopped after broadcast %" PRIu64, tc_notify_queue_cursor(ctx.queue));
    }
fail_loop:
    tc_httpd_destroy(&ctx.metrics);
    tc_prom_destroy(&ctx.prom);
    zloop_destroy(&loop);
fail_api:
    tc_client_destroy(&ctx.api);
fail_sub:
    zsock_destroy(&ctx.sub);
    zsock_destroy(&ctx.old_sub);
fail_parts:
    tc_notify_sender_destroy(&ctx.sender);
    tc_follow_destroy(&ctx.follow);
    for (size_t i = 0; i < ctx.nchans; i++)
        free(ctx.chans[i]);
    free(ctx.chans);
    free(ctx.comps);
    tc_api_reply_destroy(&ctx.contacts);
    tc_notify_queue_destroy(&ctx.queue);
fail_curl:
    curl_global_cleanup();
fail_cfg:
    sodium_memzero(ctx.link_key, sizeof ctx.link_key);
    tc_sdnotify_destroy(&ctx.sd);
    tc_notify_config_destroy(&ctx.cfg);
    return status;
}
