/*
 * tocsin-statuspage - the public status page, kept from the coordinator's
 * broadcasts and served from its own copy.
 *
 * Customers must be told what is happening even while the thing that
 * knows is down, so this process never asks the coordinator at render
 * time. It follows the broadcasts like tocsin-sub (SUB first, then catch up
 * over the API through client/follow.h, so there is no gap and no
 * duplicate), applies each one to its own state and writes it with the
 * cursor in one LMDB transaction (statuspage/sp_store.h), and renders a
 * static site into --out (sp_site.h), optionally served by a small
 * read-only HTTP server (sp_http.h). When the coordinator is silent for
 * --stale, the pages say so and keep showing the last known state. When
 * the state cannot be written (a full disk), it keeps serving the last
 * site it wrote and tries again every few seconds; it does not exit. A SUB
 * socket that hears nothing for a while is made again, so a page started
 * before its key was allowed gets in once it is.
 *
 * Settings come from flags over an optional YAML file (statuspage/sp_config.h);
 * before anything is opened they are checked like --check-config does.
 *
 * Exit status: 0 on SIGINT/SIGTERM, 1 on a failure retrying cannot fix
 * (the state store, the HTTP socket), 2 on bad usage or configuration.
 */
#include "cfgcheck.h"
#include "cli.h"
#include "client.h"
#include "error.h"
#include "feed.h"
#include "follow.h"
#include "log.h"
#include "prom.h"
#include "sdnotify.h"
#include "sp_config.h"
#include "sp_http.h"
#include "sp_site.h"
#include "sp_state.h"
#include "sp_store.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROG "tocsin-statuspage"
#define S_PAGE 1000
#define S_BACKOFF_FIRST_MS 250
#define S_BACKOFF_MAX_MS 10000
/* After a failed write of the state: how soon to try again. */
#define S_STORE_RETRY_MS 5000
/* Re-render at most this often while broadcasts pour in... */
#define S_COALESCE_MS 200
/* ...and this often when nothing changes, so "last updated" stays true. */
#define S_REFRESH_MS 5000
/* Silence after which the next word from the coordinator counts as a
 * reconnection: the component list is fetched again then. */
#define S_RECONNECT_MS 3000
#define S_COMPONENTS_RETRY_MS 10000

/* Everything the process has; handed to every callback. */
typedef struct {
    tc_sp_config_t opts;
    tc_client_keys_t keys;
    tc_sdnotify_t *sd;
    zsock_t *sub;
    tc_client_t *api;
    tc_follow_t *follow;
    tc_sp_state_t *state;
    tc_sp_store_t *store;
    tc_sp_http_t *http;
    char http_url[128];
    bool dirty;              /* the state changed since the last render */
    int64_t rendered_mono;   /* when the site was last written */
    bool render_failing;     /* logged once until it works again */
    bool stale;              /* what the last render said */
    int64_t heard_mono;      /* last word from the coordinator (0: none yet) */
    int64_t saved_contact;   /* contact time last written to the store */
    bool need_components;    /* fetch the component list when possible */
    int64_t components_mono; /* not before this */
    zpoller_t *poller;
    int64_t sub_mono;                  /* last message on SUB, or when it was made */
    bool store_failed;                 /* a write failed during the current follow call */
    bool store_failing;                /* logged once until a write works again */
    int64_t store_retry_mono;          /* catch up again then (0: nothing to retry) */
    bool frozen;                       /* the state could not be reloaded: keep the last site */
    uint64_t renders, render_failures; /* since start, for /metrics */
    int64_t rendered_ms;               /* wall time of the last good render */
} s_ctx_t;

static void s_usage(FILE *out)
{
    fputs("usage: tocsin-statuspage [OPTIONS]\n"
          "\n"
          "Keep a public status page from the coordinator's broadcasts: published\n"
          "external status updates, component statuses and maintenance windows. The\n"
          "page is rendered from this program's own copy, so it stays up, marked as\n"
          "possibly out of date, while the coordinator is unreachable.\n"
          "\n"
          "options (override the configuration file):\n"
          "  -c, --config FILE     YAML configuration (see tocsin-statuspage.yaml(5))\n"
          "      --api EP          coordinator API endpoint, for missed broadcasts and the\n"
          "                        component list (default " TC_SP_DEFAULT_API ")\n"
          "      --publish EP      coordinator publish endpoint\n"
          "                        (default " TC_SP_DEFAULT_PUBLISH ")\n"
          "      --out DIR         where the site is written\n"
          "                        (default " TC_SP_DEFAULT_OUT "):\n"
          "                        index.html, incidents/ID.html, api/v2/summary.json,\n"
          "                        api/v2/status.json, history.atom\n"
          "      --state DIR       this program's own state, an LMDB environment\n"
          "                        (default " TC_SP_DEFAULT_STATE ")\n"
          "      --http ADDR:PORT  also serve the site read-only on this address, such as\n"
          "                        127.0.0.1:7404 or [::1]:7404 (default: no HTTP server)\n"
          "      --title TEXT      the page's name (default \"" TC_SP_DEFAULT_TITLE "\")\n"
          "      --url URL         the site's public address, for links in the feed and the\n"
          "                        JSON (default: the --http address, else none)\n"
          "      --stale DUR       show the out-of-date banner after this long without word\n"
          "                        from the coordinator (default 60s)\n"
          "      --timeout DUR     how long to wait for an API answer before retrying\n"
          "                        (default 5s)\n"
          "      --key FILE        this client's key pair (default $TOCSIN_KEY, then\n"
          "                        var/keys/private/subscriber.local.cert or\n"
          "                        operator-rw.local.cert, then\n"
          "                        /etc/tocsin/statuspage.cert)\n"
          "      --server-key FILE the coordinator's certificate (default\n"
          "                        $TOCSIN_SERVER_KEY, then var/keys/coordinator.cert,\n"
          "                        /etc/tocsin/coordinator.cert,\n"
          "                        /etc/tocsin/keys/coordinator.cert)\n"
          "      --insecure        plaintext without keys; loopback endpoints only\n"
          "      --log-level LEVEL debug, info, warn or error (default info)\n"
          "      --log-format FMT  text or json (default text)\n"
          "      --check-config    check the settings, keys and directories, print \"ok\"\n"
          "                        or every problem, and exit\n"
          "  -h, --help            show this help\n"
          "  -V, --version         show the version\n"
          "\n" TC_CLI_HELP_EXIT,
          out);
}

/* One line on stderr, exit status 2 (common/cli.h). */
#define s_usage_error(...) tc_cli_usage_error(S_PROG, __VA_ARGS__)

static const char *const s_key_defaults[] = {"var/keys/private/subscriber.local.cert",
                                             "var/keys/private/operator-rw.local.cert",
                                             "/etc/tocsin/statuspage.cert", NULL};

/* Parses argv: the file first (wherever --config is), then the flags over
 * it. Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, tc_sp_config_t *o, tc_log_format_t *format, bool *check)
{
    enum { O_INSECURE = 256, O_LOGFORMAT, O_CHECK, O_SET };
    /* Every option whose flag is O_SET is a setting of the file, named by
     * the option with '-' for '_'. */
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"api", required_argument, NULL, O_SET},
        {"publish", required_argument, NULL, O_SET},
        {"out", required_argument, NULL, O_SET},
        {"state", required_argument, NULL, O_SET},
        {"http", required_argument, NULL, O_SET},
        {"title", required_argument, NULL, O_SET},
        {"url", required_argument, NULL, O_SET},
        {"stale", required_argument, NULL, O_SET},
        {"timeout", required_argument, NULL, O_SET},
        {"key", required_argument, NULL, O_SET},
        {"server-key", required_argument, NULL, O_SET},
        {"log-level", required_argument, NULL, O_SET},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"log-format", required_argument, NULL, O_LOGFORMAT},
        {"check-config", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int c, index;
    opterr = 0;
    /* Pass 1: usage errors, --help, --version and the file's name. */
    while ((c = getopt_long(argc, argv, ":c:hV", opts, &index)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'h': s_usage(stdout); return 0;
        case 'V': printf(S_PROG " " TOCSIN_VERSION "\n"); return 0;
        case O_CHECK: *check = true; break;
        case O_INSECURE:
        case O_SET: break;
        case O_LOGFORMAT:
            if (tc_log_format_parse(optarg, format) != 0)
                return s_usage_error("--log-format: expected text or json, not '%s'", optarg);
            break;
        default: return tc_cli_getopt_error(S_PROG, c, argv, opts);
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument '%s'", argv[optind]);
    char err[1024];
    if (config && tc_sp_config_load(o, config, err, sizeof err) != 0)
        return tc_cfgcheck_load_failed(S_PROG, *check, err);
    /* Pass 2: the flags, over the file. */
    optind = 0;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, &index)) != -1) {
        if (c == O_INSECURE) {
            o->insecure = true;
        } else if (c == O_SET) {
            char key[32], why[256];
            snprintf(key, sizeof key, "%s", opts[index].name);
            for (char *p = key; *p; p++)
                *p = *p == '-' ? '_' : *p;
            if (tc_sp_config_set(o, key, optarg, why, sizeof why) != 0)
                return s_usage_error("--%s %s", opts[index].name, why);
        }
    }
    return -1;
}

/* What --check-config reports, and what is refused before a start. */
static void s_check(const tc_sp_config_t *o, tc_cfgcheck_t *ck, tc_client_keys_t *keys)
{
    const char *file = o->path[0] ? o->path : NULL;
    char why[512];
    if (tc_cli_check_endpoint("--publish", o->publish, o->insecure, why, sizeof why) != 0)
        tc_cfgcheck_error(ck, file, tc_cfgcheck_line(file, "statuspage.publish"), "%s", why);
    if (tc_cli_check_endpoint("--api", o->api, o->insecure, why, sizeof why) != 0)
        tc_cfgcheck_error(ck, file, tc_cfgcheck_line(file, "statuspage.api"), "%s", why);
    if (!o->insecure) {
        const char *key = tc_cli_key_path(o->key, s_key_defaults);
        const char *server = tc_cli_server_key_path(o->server_key);
        bool ok = true;
        if (!key)
            tc_cfgcheck_error(ck, file, 0,
                              "no client key: set statuspage.key or --key (make one with "
                              "'tocsinctl keys new subscriber NAME'), or --insecure on loopback");
        else
            ok = tc_cfgcheck_key(ck, file, tc_cfgcheck_line(file, "statuspage.key"),
                                 "statuspage.key", key, true);
        if (!server)
            tc_cfgcheck_error(ck, file, 0,
                              "no coordinator certificate: set statuspage.server_key or "
                              "--server-key (coordinator.cert from its key directory)");
        else
            ok = tc_cfgcheck_key(ck, file, tc_cfgcheck_line(file, "statuspage.server_key"),
                                 "statuspage.server_key", server, false) &&
                 ok;
        if (key && server && ok &&
            tc_cli_keys(false, key, server, NULL, keys, why, sizeof why) != 0)
            tc_cfgcheck_error(ck, file, 0, "%s", why);
    } else {
        keys->insecure = true;
    }
    tc_cfgcheck_dir(ck, file, tc_cfgcheck_line(file, "statuspage.state"), "statuspage.state",
                    o->state);
    tc_cfgcheck_dir(ck, file, tc_cfgcheck_line(file, "statuspage.out"), "statuspage.out", o->out);
}

/* Something came from the coordinator: it is alive. */
static void s_heard(s_ctx_t *ctx)
{
    int64_t mono = tc_mono_ms();
    if (!ctx->heard_mono || mono - ctx->heard_mono > S_RECONNECT_MS) {
        if (ctx->heard_mono)
            tc_info("the coordinator is reachable again");
        ctx->need_components = true;
        ctx->components_mono = 0;
    }
    ctx->heard_mono = mono;
    tc_sp_state_set_contact(ctx->state, tc_now_ms());
}

/* What GET /metrics says, handed to the HTTP thread after each render. */
static void s_publish_metrics(s_ctx_t *ctx)
{
    if (!ctx->http)
        return;
    tc_prom_t *p = tc_prom_new();
    if (!p)
        return;
    tc_prom_family(p, "tocsin_build_info", "gauge", "The running version");
    tc_prom_label_t v = {"version", TOCSIN_VERSION};
    tc_prom_sample(p, "tocsin_build_info", &v, 1, 1);
    tc_prom_gauge(p, "tocsin_statuspage_broadcast_cursor", "The last broadcast applied",
                  (double)tc_sp_state_cursor(ctx->state));
    tc_prom_gauge(p, "tocsin_statuspage_coordinator_last_contact_timestamp_seconds",
                  "When the coordinator was last heard from (0: never)",
                  (double)tc_sp_state_contact(ctx->state) / 1000.0);
    tc_prom_gauge(p, "tocsin_statuspage_stale", "1 while the page says it may be out of date",
                  ctx->stale);
    tc_prom_counter(p, "tocsin_statuspage_renders_total", "Site renders since start",
                    (double)ctx->renders);
    tc_prom_counter(p, "tocsin_statuspage_render_failures_total",
                    "Site renders that could not be written", (double)ctx->render_failures);
    tc_prom_gauge(p, "tocsin_statuspage_last_render_timestamp_seconds",
                  "When the site was last written", (double)ctx->rendered_ms / 1000.0);
    tc_prom_gauge(p, "tocsin_statuspage_components", "Components shown",
                  (double)tc_sp_state_ncomponents(ctx->state));
    tc_prom_gauge(p, "tocsin_statuspage_incidents", "Public incidents kept",
                  (double)tc_sp_state_nincidents(ctx->state));
    tc_prom_gauge(p, "tocsin_statuspage_maintenances", "Maintenance windows kept",
                  (double)tc_sp_state_nmaints(ctx->state));
    tc_prom_gauge(p, "tocsin_statuspage_state_failing",
                  "1 while the state cannot be written (a full disk)", ctx->store_failing);
    size_t len;
    const char *text = tc_prom_text(p, &len);
    if (!tc_prom_error(p))
        tc_sp_http_set_metrics(ctx->http, text, len);
    tc_prom_destroy(&p);
}

static void s_render(s_ctx_t *ctx)
{
    if (ctx->frozen)
        return; /* the last site written stays up */
    tc_sp_page_t page = {.title = ctx->opts.title,
                         .url = ctx->opts.url[0] ? ctx->opts.url : ctx->http_url,
                         .now_ms = tc_now_ms(),
                         .stale_ms = ctx->opts.stale_ms};
    bool stale = tc_sp_stale(ctx->state, &page);
    if (stale != ctx->stale) {
        char when[40];
        int64_t contact = tc_sp_state_contact(ctx->state);
        if (stale)
            tc_warn("no contact with the coordinator since %s: the page now says it may be "
                    "out of date",
                    contact ? tc_time_format(contact, when, sizeof when) : "start-up");
        else
            tc_info("contact with the coordinator is back: the out-of-date banner is gone");
        ctx->stale = stale;
    }
    int rc = tc_sp_site_write(ctx->opts.out, ctx->state, &page);
    ctx->rendered_mono = tc_mono_ms();
    if (rc != 0) {
        ctx->render_failures++;
        s_publish_metrics(ctx);
        if (!ctx->render_failing)
            tc_error("cannot write the site into %s: %s%s%s; retrying", ctx->opts.out,
                     tc_strerror(rc), rc == TC_ESYS ? ": " : "",
                     rc == TC_ESYS ? strerror(errno) : "");
        ctx->render_failing = true;
        return;
    }
    if (ctx->render_failing)
        tc_info("the site is written again");
    ctx->render_failing = false;
    ctx->dirty = false;
    ctx->renders++;
    ctx->rendered_ms = tc_now_ms();
    s_publish_metrics(ctx);
    tc_debug("rendered the site (cursor %" PRIu64 ")", tc_sp_state_cursor(ctx->state));
}

/* A write of the state failed with `rc`: the state in memory may be ahead
 * of the disk, so it is loaded again from the disk, and the broadcasts
 * after the stored cursor are fetched again later. Nothing here is fatal:
 * the site already written stays up meanwhile. */
static void s_store_failed(s_ctx_t *ctx, int rc)
{
    if (!ctx->store_failing)
        tc_error("cannot write the state: %s; serving the last site written and retrying "
                 "every %d s",
                 tc_sp_store_why(ctx->store)[0] ? tc_sp_store_why(ctx->store) : tc_strerror(rc),
                 S_STORE_RETRY_MS / 1000);
    ctx->store_failing = true;
    ctx->store_failed = true;
    ctx->store_retry_mono = tc_mono_ms() + S_STORE_RETRY_MS;
    tc_sp_state_t *fresh = tc_sp_state_new();
    int lrc = fresh ? tc_sp_store_load(ctx->store, fresh) : TC_ENOMEM;
    if (lrc != 0) {
        if (!ctx->frozen)
            tc_error("cannot reload the state: %s; the site stays as it was",
                     tc_sp_store_why(ctx->store)[0] ? tc_sp_store_why(ctx->store)
                                                    : tc_strerror(lrc));
        tc_sp_state_destroy(&fresh);
        ctx->frozen = true;
        return;
    }
    tc_sp_state_set_contact(fresh, tc_sp_state_contact(ctx->state));
    tc_sp_state_destroy(&ctx->state);
    ctx->state = fresh;
    ctx->frozen = false;
    tc_follow_start_at(ctx->follow, tc_sp_state_cursor(ctx->state) + 1);
}

/* A write worked: say so once. */
static void s_store_ok(s_ctx_t *ctx)
{
    if (ctx->store_failing)
        tc_info("the state is written again");
    ctx->store_failing = false;
    ctx->frozen = false;
}

/* Asks the coordinator for its configured components: the ones that never
 * changed have no broadcast, and their descriptions come only from here. */
static int s_fetch_components(s_ctx_t *ctx)
{
    tc_api_request_t req = {.version = TC_PROTOCOL_VERSION};
    snprintf(req.command, sizeof req.command, "components");
    tc_api_reply_t *reply = NULL;
    int rc = tc_client_call(ctx->api, &req, ctx->opts.timeout_ms, &reply);
    if (rc != 0) {
        ctx->components_mono = tc_mono_ms() + S_COMPONENTS_RETRY_MS;
        tc_debug("cannot fetch the component list: %s; retrying later", tc_strerror(rc));
        return rc == TC_ESYS && zsys_interrupted ? rc : 0;
    }
    ctx->need_components = false;
    s_heard(ctx);
    ctx->need_components = false;
    if (!reply->ok) {
        tc_warn("the coordinator does not list components: %s; the page shows those seen in "
                "broadcasts",
                reply->error);
        tc_api_reply_destroy(&reply);
        return 0;
    }
    bool changed = false;
    rc = tc_sp_store_merge_components(ctx->store, ctx->state, reply->components, reply->ncomponents,
                                      tc_now_ms(), &changed);
    if (rc == 0) {
        tc_info("the coordinator lists %zu component%s", reply->ncomponents,
                reply->ncomponents == 1 ? "" : "s");
        ctx->saved_contact = tc_sp_state_contact(ctx->state);
        ctx->dirty = ctx->dirty || changed;
    } else {
        s_store_failed(ctx, rc);
        ctx->need_components = true;
        ctx->components_mono = tc_mono_ms() + S_STORE_RETRY_MS;
        rc = 0;
    }
    tc_api_reply_destroy(&reply);
    return rc;
}

/* Makes the SUB socket again after a silence (see TC_FEED_RESUBSCRIBE_MS);
 * whatever was published meanwhile is fetched through the follower. */
static int s_resubscribe(s_ctx_t *ctx)
{
    ctx->sub_mono = tc_mono_ms();
    zsock_t *sub = tc_feed_subscribe(ctx->opts.publish, &ctx->keys);
    if (!sub)
        return 0; /* tried again after the next silence */
    tc_debug("nothing heard on %s for %d s: subscribing again", ctx->opts.publish,
             TC_FEED_RESUBSCRIBE_MS / 1000);
    if (ctx->poller)
        zpoller_remove(ctx->poller, ctx->sub);
    zsock_destroy(&ctx->sub);
    ctx->sub = sub;
    if (ctx->poller && zpoller_add(ctx->poller, ctx->sub) != 0)
        return TC_ENOMEM;
    return 0;
}

/* The timers: renders when due, fetches the component list, saves the
 * contact time. `in_fetch` is set when called from inside a broadcast fetch,
 * where the API client is busy. Returns 0 or a fatal error. */
static int s_tick(s_ctx_t *ctx, bool in_fetch)
{
    /* Every wait of the process passes here (the poller's and the
     * back-off's), so the systemd watchdog hears from each. */
    tc_sdnotify_tick(ctx->sd);
    int64_t mono = tc_mono_ms();
    if (!in_fetch && ctx->need_components && mono >= ctx->components_mono) {
        int rc = s_fetch_components(ctx);
        if (rc != 0)
            return rc;
    }
    tc_sp_page_t page = {.now_ms = tc_now_ms(), .stale_ms = ctx->opts.stale_ms};
    bool stale_flip = tc_sp_stale(ctx->state, &page) != ctx->stale;
    if ((ctx->dirty && mono - ctx->rendered_mono >= S_COALESCE_MS) || stale_flip ||
        mono - ctx->rendered_mono >= S_REFRESH_MS)
        s_render(ctx);
    /* Heartbeats come every second; writing each would fsync for nothing.
     * The contact time on disk only has to be right to within a refresh. */
    int64_t contact = tc_sp_state_contact(ctx->state);
    if (contact - ctx->saved_contact >= S_REFRESH_MS && !ctx->store_retry_mono) {
        int rc = tc_sp_store_save_contact(ctx->store, contact);
        if (rc != 0)
            s_store_failed(ctx, rc);
        else
            s_store_ok(ctx);
        ctx->saved_contact = contact;
    }
    if (!in_fetch && ctx->store_retry_mono && mono >= ctx->store_retry_mono) {
        ctx->store_retry_mono = 0;
        ctx->store_failed = false;
        int rc = tc_follow_catch_up(ctx->follow);
        if (rc != 0 && !ctx->store_failed)
            return rc;
        if (!ctx->store_failed)
            s_store_ok(ctx);
        ctx->store_failed = false;
    }
    if (!in_fetch && mono - ctx->sub_mono >= TC_FEED_RESUBSCRIBE_MS) {
        int rc = s_resubscribe(ctx);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Milliseconds until s_tick() has something to do, for the poller. */
static int s_next_tick(const s_ctx_t *ctx)
{
    int64_t mono = tc_mono_ms();
    int64_t due = ctx->rendered_mono + (ctx->dirty ? S_COALESCE_MS : S_REFRESH_MS);
    if (ctx->need_components && ctx->components_mono < due)
        due = ctx->components_mono;
    int64_t wait = due - mono;
    /* Wake at least once a second so the stale banner appears on time. */
    return wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
}

/* Sleeps `ms` in short steps, keeping the page fresh, so SIGINT/SIGTERM end
 * the wait promptly. Returns false if interrupted or the tick failed. */
static bool s_sleep(s_ctx_t *ctx, int64_t ms)
{
    int64_t deadline = tc_mono_ms() + ms;
    while (!zsys_interrupted) {
        if (s_tick(ctx, true) != 0)
            return false;
        int64_t left = deadline - tc_mono_ms();
        if (left <= 0)
            return true;
        zclock_sleep((int)(left < 100 ? left : 100));
    }
    return false;
}

/* tc_follow_fetch_fn: one page of broadcasts from `from`, retried with
 * back-off until the coordinator answers; the page keeps being rendered
 * (with its stale banner) meanwhile. */
static int s_fetch(void *arg, uint64_t from, tc_api_reply_t **preply)
{
    s_ctx_t *ctx = arg;
    int64_t backoff = S_BACKOFF_FIRST_MS;
    bool complained = false, refused;
    for (;;) {
        int rc = tc_feed_fetch(ctx->api, from, S_PAGE, ctx->opts.timeout_ms, preply, &refused);
        if (refused || (rc == TC_ESYS && zsys_interrupted))
            return rc;
        if (rc == 0) {
            if (complained)
                tc_info("API at %s answers again", ctx->opts.api);
            s_heard(ctx);
            return 0;
        }
        char dur[32];
        tc_warn("cannot fetch broadcasts from %" PRIu64 " at %s: %s; retrying in %s", from,
                ctx->opts.api, tc_strerror(rc), tc_duration_compact(backoff, dur, sizeof dur));
        complained = true;
        if (!s_sleep(ctx, backoff))
            return TC_ESYS;
        backoff = backoff * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff * 2;
    }
}

/* tc_follow_emit_fn: applies `m` to the state and stores it with the
 * cursor. A storage failure ends the follow call (the cursor and the page
 * must not disagree) and is retried from the stored cursor later. */
static int s_emit(void *arg, const tc_msg_t *m)
{
    s_ctx_t *ctx = arg;
    bool changed = false;
    int rc = tc_sp_store_apply(ctx->store, ctx->state, m, tc_now_ms(), &changed);
    if (rc != 0) {
        /* Stops this follow call; s_tick() catches up again later. */
        s_store_failed(ctx, rc);
        return rc;
    }
    s_store_ok(ctx);
    ctx->saved_contact = tc_sp_state_contact(ctx->state);
    if (!changed) {
        tc_debug("broadcast %" PRIu64 " (%s) does not change the page", m->seq, m->u.bcast.topic);
        return 0;
    }
    ctx->dirty = true;
    const tc_broadcast_t *b = &m->u.bcast;
    switch (b->kind) {
    case TC_BCAST_STATUS_UPDATE:
        if (b->update.incident)
            tc_info("broadcast %" PRIu64 ": incident %" PRIu64 " update %" PRIu32
                    " (%s%s) is on the page",
                    m->seq, b->update.incident, b->update.number, b->update.state,
                    b->update.drill ? ", drill" : "");
        else
            tc_info("broadcast %" PRIu64 ": maintenance %" PRIu64 " update %" PRIu32
                    " (%s) is on the page",
                    m->seq, b->update.maintenance, b->update.number, b->update.state);
        break;
    case TC_BCAST_COMPONENT:
        tc_info("broadcast %" PRIu64 ": component %s is %s", m->seq, b->component.name,
                tc_component_status_name(b->component.status));
        break;
    case TC_BCAST_MAINTENANCE:
        tc_info("broadcast %" PRIu64 ": maintenance %" PRIu64 " is %s", m->seq, b->maint.id,
                tc_maint_state_name(b->maint.state));
        break;
    case TC_BCAST_INCIDENT_RESOLVED:
        tc_info("broadcast %" PRIu64 ": incident %" PRIu64 " is resolved", m->seq, b->incident.id);
        break;
    default: break;
    }
    return 0;
}

/* Reads one [topic][Envelope] message from the SUB socket. */
static int s_on_live(s_ctx_t *ctx)
{
    zmsg_t *msg = zmsg_recv(ctx->sub);
    if (!msg)
        return zsys_interrupted ? TC_ESYS : 0;
    ctx->sub_mono = tc_mono_ms();
    int rc = 0;
    if (zmsg_size(msg) != 2) {
        tc_warn("ignoring a published message of %zu frames (expected 2)", zmsg_size(msg));
        goto done;
    }
    zframe_t *body = zmsg_last(msg);
    tc_msg_t *m = malloc(sizeof *m);
    if (!m) {
        rc = TC_ENOMEM;
        goto done;
    }
    int drc = tc_wire_decode_msg(zframe_data(body), zframe_size(body), m);
    if (drc != 0) {
        tc_warn("ignoring an undecodable broadcast from %s: %s", ctx->opts.publish,
                tc_strerror(drc));
    } else if (m->kind == TC_MSG_HEARTBEAT && !strcmp(m->sender, TC_COORDINATOR_ID)) {
        s_heard(ctx);
        rc = tc_follow_heartbeat(ctx->follow, m->u.heartbeat.last_seq);
    } else if (tc_feed_usable(m, ctx->opts.publish)) {
        s_heard(ctx);
        rc = tc_follow_live(ctx->follow, m);
    }
    free(m);
done:
    zmsg_destroy(&msg);
    if (ctx->store_failed) {
        ctx->store_failed = false;
        rc = 0; /* retried by s_tick() */
    }
    return rc;
}

int main(int argc, char **argv)
{
    static s_ctx_t ctx; /* large (the settings' paths); one per process */
    tc_sp_config_defaults(&ctx.opts);
    tc_log_format_t format = TC_LOG_TEXT;
    bool check = false;
    int status = s_parse(argc, argv, &ctx.opts, &format, &check);
    if (status >= 0)
        return status;
    tc_cfgcheck_t *ck = tc_cfgcheck_new(S_PROG);
    if (!ck) {
        fprintf(stderr, S_PROG ": %s\n", tc_strerror(TC_ENOMEM));
        return TC_CLI_EXIT_FAIL;
    }
    s_check(&ctx.opts, ck, &ctx.keys);
    if (check) {
        char summary[2400];
        snprintf(summary, sizeof summary, "%.1024s: site %.1024s, HTTP %s",
                 ctx.opts.path[0] ? ctx.opts.path : "built-in defaults", ctx.opts.out,
                 ctx.opts.http[0] ? ctx.opts.http : "off");
        status = tc_cfgcheck_report(ck, summary);
        tc_cfgcheck_destroy(&ck);
        return status;
    }
    tc_log_init(S_PROG, ctx.opts.log_level);
    tc_log_set_format(format);
    status = tc_cfgcheck_before_start(ck);
    tc_cfgcheck_destroy(&ck);
    if (status != 0)
        return status;
    status = TC_CLI_EXIT_FAIL;
    if (!(ctx.sd = tc_sdnotify_new())) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        return status;
    }

    ctx.state = tc_sp_state_new();
    if (!ctx.state) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        return status;
    }
    char why[512];
    int rc = tc_sp_store_open(ctx.opts.state, &ctx.store, why, sizeof why);
    if (rc != 0) {
        tc_error("cannot open the state store: %s", why);
        goto fail_state;
    }
    if ((rc = tc_sp_store_load(ctx.store, ctx.state)) != 0) {
        tc_error("cannot load the state from %s: %s", ctx.opts.state,
                 tc_sp_store_why(ctx.store)[0] ? tc_sp_store_why(ctx.store) : tc_strerror(rc));
        goto fail_store;
    }
    ctx.saved_contact = tc_sp_state_contact(ctx.state);
    tc_info("state from %s: cursor %" PRIu64 ", %zu components, %zu public incidents, %zu "
            "maintenance windows",
            ctx.opts.state, tc_sp_state_cursor(ctx.state), tc_sp_state_ncomponents(ctx.state),
            tc_sp_state_nincidents(ctx.state), tc_sp_state_nmaints(ctx.state));
    if (tc_mkdir_p(ctx.opts.out) != 0) {
        tc_error("cannot create %s: %s", ctx.opts.out, strerror(errno));
        goto fail_store;
    }
    if (ctx.opts.http[0]) {
        rc = tc_sp_http_start(ctx.opts.http, ctx.opts.out, &ctx.http, ctx.http_url,
                              sizeof ctx.http_url);
        if (rc != 0) {
            tc_error("cannot serve HTTP on %s: %s", ctx.opts.http,
                     rc == TC_ESYS ? "cannot bind the address (the reason is logged above) or "
                                     "open the site directory"
                                   : tc_strerror(rc));
            goto fail_store;
        }
    }
    /* What we had before anything else: the page is up at once, stale
     * until the coordinator answers. */
    ctx.stale = tc_sp_stale(ctx.state,
                            &(tc_sp_page_t){.now_ms = tc_now_ms(), .stale_ms = ctx.opts.stale_ms});
    s_render(&ctx);
    if (ctx.http)
        tc_info("serving the status page on %s", ctx.http_url);
    tc_info("writing the site into %s", ctx.opts.out);

    ctx.follow = tc_follow_new(s_fetch, s_emit, &ctx);
    if (!ctx.follow) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_http;
    }
    /* Subscribe first, fetch second, so nothing falls in between. */
    ctx.sub = tc_feed_subscribe(ctx.opts.publish, &ctx.keys);
    if (!ctx.sub)
        goto fail_follow;
    ctx.sub_mono = tc_mono_ms();
    ctx.api = tc_client_new(ctx.opts.api, &ctx.keys);
    if (!ctx.api) {
        tc_error("cannot connect to %s", ctx.opts.api);
        goto fail_sub;
    }
    zpoller_t *poller = ctx.poller = zpoller_new(ctx.sub, NULL);
    if (!poller) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_api;
    }
    tc_info("following %s from broadcast %" PRIu64, ctx.opts.publish,
            tc_sp_state_cursor(ctx.state) + 1);
    /* Ready once the page is served: from here on it stays up whether or
     * not the coordinator answers. */
    char ready[512];
    snprintf(ready, sizeof ready, "site %.200s%s%.100s", ctx.opts.out, ctx.http ? ", HTTP " : "",
             ctx.http ? ctx.http_url : "");
    tc_sdnotify_ready(ctx.sd, ready);

    ctx.need_components = true;
    rc = s_fetch_components(&ctx);
    if (rc == 0) {
        tc_follow_start_at(ctx.follow, tc_sp_state_cursor(ctx.state) + 1);
        rc = tc_follow_catch_up(ctx.follow);
        if (ctx.store_failed) {
            ctx.store_failed = false;
            rc = 0; /* retried by s_tick() */
        }
    }
    while (rc == 0 && !zsys_interrupted) {
        rc = s_tick(&ctx, false);
        if (rc != 0)
            break;
        void *which = zpoller_wait(poller, s_next_tick(&ctx));
        if (which)
            rc = s_on_live(&ctx);
        else if (zpoller_terminated(poller) && zsys_interrupted)
            break;
    }
    tc_sdnotify_stopping(ctx.sd);
    if (rc == 0 || (rc == TC_ESYS && zsys_interrupted)) {
        status = 0;
        /* The last contact time and a final render, so a restart and the
         * page agree on when the coordinator was last heard. */
        if (tc_sp_store_save_contact(ctx.store, tc_sp_state_contact(ctx.state)) != 0)
            tc_warn("cannot save the last contact time: %s", tc_sp_store_why(ctx.store));
        s_render(&ctx);
        tc_info("stopping at broadcast %" PRIu64, tc_sp_state_cursor(ctx.state));
    }

    zpoller_destroy(&ctx.poller);
fail_api:
    tc_client_destroy(&ctx.api);
fail_sub:
    zsock_destroy(&ctx.sub);
fail_follow:
    tc_follow_destroy(&ctx.follow);
fail_http:
    tc_sp_http_destroy(&ctx.http);
fail_store:
    tc_sp_store_destroy(&ctx.store);
fail_state:
    tc_sp_state_destroy(&ctx.state);
    tc_sdnotify_destroy(&ctx.sd);
    return status;
}
