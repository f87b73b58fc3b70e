/*
 * tocsin-statuspage - the public status page, kept from the coordinator's
 * broadcasts and served from its own copy.
 *
 * Customers must be told what is happening even while the thing that
 * knows is down, so this process never asks the coordinator at render
 * time. It follows the broadcasts like tocsin-sub (SUB first, then catch up
 * over the API through tools/follow.h, so there is no gap and no
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
 * Exit status: 0 on SIGINT/SIGTERM, 1 on a failure retrying cannot fix
 * (the state store, the HTTP socket), 2 on bad usage.
 */
#include "cli.h"
#include "client.h"
#include "error.h"
#include "feed.h"
#include "follow.h"
#include "log.h"
#include "render.h"
#include "sp_http.h"
#include "sp_site.h"
#include "sp_state.h"
#include "sp_store.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROG "tocsin-statuspage"
#define S_DEFAULT_API "tcp://127.0.0.1:7402"
#define S_DEFAULT_PUBLISH "tcp://127.0.0.1:7403"
#define S_DEFAULT_OUT "./var/statuspage/site"
#define S_DEFAULT_STATE "./var/statuspage/state"
#define S_DEFAULT_TITLE "Status"
#define S_DEFAULT_STALE_MS 60000
#define S_DEFAULT_TIMEOUT_MS 5000
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
#define S_EXIT_FAIL 1
#define S_EXIT_USAGE 2

typedef struct {
    const char *api;
    const char *publish;
    const char *out;
    const char *state;
    const char *http;
    const char *title;
    const char *url;
    int64_t stale_ms;
    int64_t timeout_ms;
    tc_log_level_t level;
    bool insecure;
    const char *key, *server_key;
    tc_client_keys_t keys;
} s_opts_t;

/* Everything the process has; handed to every callback. */
typedef struct {
    s_opts_t opts;
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
    int64_t sub_mono;         /* last message on SUB, or when it was made */
    bool store_failed;        /* a write failed during the current follow call */
    bool store_failing;       /* logged once until a write works again */
    int64_t store_retry_mono; /* catch up again then (0: nothing to retry) */
    bool frozen;              /* the state could not be reloaded: keep the last site */
} s_ctx_t;

static void s_usage(FILE *out)
{
    fputs("usage: tocsin-statuspage [--api EP] [--publish EP] [--out DIR] [--state DIR]\n"
          "                         [--http ADDR:PORT] [--title TEXT] [--url URL] [--stale DUR]\n"
          "                         [--timeout DUR] [--key FILE] [--server-key FILE]\n"
          "                         [--insecure] [--log-level LEVEL]\n"
          "\n"
          "Keep a public status page from the coordinator's broadcasts: published\n"
          "external status updates, component statuses and maintenance windows. The\n"
          "page is rendered from this program's own copy, so it stays up, marked as\n"
          "possibly out of date, while the coordinator is unreachable.\n"
          "\n"
          "options:\n"
          "  --api EP        coordinator API endpoint, for missed broadcasts and the\n"
          "                  component list (default " S_DEFAULT_API ")\n"
          "  --publish EP    coordinator publish endpoint (default " S_DEFAULT_PUBLISH ")\n"
          "  --out DIR       where the site is written (default " S_DEFAULT_OUT "):\n"
          "                  index.html, incidents/ID.html, api/v2/summary.json,\n"
          "                  api/v2/status.json, history.atom\n"
          "  --state DIR     this program's own state, an LMDB environment\n"
          "                  (default " S_DEFAULT_STATE ")\n"
          "  --http ADDR:PORT  also serve the site read-only on this address, such as\n"
          "                  127.0.0.1:7404 or [::1]:7404 (default: no HTTP server)\n"
          "  --title TEXT    the page's name (default \"" S_DEFAULT_TITLE "\")\n"
          "  --url URL       the site's public address, for links in the feed and the\n"
          "                  JSON (default: the --http address, else none)\n"
          "  --stale DUR     show the out-of-date banner after this long without word\n"
          "                  from the coordinator (default 60s)\n"
          "  --timeout DUR   how long to wait for an API answer before retrying (default 5s)\n"
          "  --key FILE      this client's key pair (default $TOCSIN_KEY, then\n"
          "                  var/keys/private/subscriber.local.cert or operator-rw.local.cert)\n"
          "  --server-key FILE  the coordinator's certificate (default $TOCSIN_SERVER_KEY,\n"
          "                  then var/keys/coordinator.cert, /etc/tocsin/keys/coordinator.cert)\n"
          "  --insecure      plaintext connections without keys; loopback endpoints only\n"
          "  --log-level L   debug, info, warn or error (default info)\n"
          "  --help          this text\n",
          out);
}

/* One line on stderr, exit status 2 (tools/cli.h). */
#define s_usage_error(...) tc_cli_usage_error(S_PROG, __VA_ARGS__)

/* Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    const char *value = NULL, *missing = NULL;
    tc_cli_common_t common = {.api = o->api};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            printf(S_PROG " " TOCSIN_VERSION "\n");
            return 0;
        } else if ((m = tc_cli_common(argc, argv, &i, &common, &missing)) != 0) {
            if (m < 0)
                return s_usage_error("%s", missing);
        } else if ((m = tc_cli_value(argc, argv, &i, "--publish", &value)) != 0) {
            if (m < 0)
                return s_usage_error("--publish needs an endpoint");
            o->publish = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--out", &value)) != 0) {
            if (m < 0 || !*value)
                return s_usage_error("--out needs a directory");
            o->out = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--state", &value)) != 0) {
            if (m < 0 || !*value)
                return s_usage_error("--state needs a directory");
            o->state = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--http", &value)) != 0) {
            if (m < 0 || tc_sp_http_addr_valid(value) != 0)
                return s_usage_error("--http needs a numeric ADDR:PORT such as 127.0.0.1:7404");
            o->http = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--title", &value)) != 0) {
            if (m < 0 || !*value || strlen(value) >= TC_TITLE_MAX)
                return s_usage_error("--title needs a text of 1 to %d bytes", TC_TITLE_MAX - 1);
            o->title = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--url", &value)) != 0) {
            size_t n = m > 0 ? strlen(value) : 0;
            if (m < 0 || n == 0 || n > 256 || value[n - 1] != '/' ||
                (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0))
                return s_usage_error("--url needs an http(s) address ending in '/'");
            o->url = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--stale", &value)) != 0) {
            if (m < 0 || tc_duration_parse(value, &o->stale_ms) != 0 || o->stale_ms <= 0)
                return s_usage_error("--stale needs a duration such as 60s");
        } else if ((m = tc_cli_value(argc, argv, &i, "--timeout", &value)) != 0) {
            if (m < 0 || tc_duration_parse(value, &o->timeout_ms) != 0 || o->timeout_ms <= 0)
                return s_usage_error("--timeout needs a duration such as 500ms or 5s");
        } else if ((m = tc_cli_value(argc, argv, &i, "--log-level", &value)) != 0) {
            if (m < 0 || tc_log_level_parse(value, &o->level) != 0)
                return s_usage_error("--log-level needs debug, info, warn or error");
        } else if (arg[0] == '-') {
            return s_usage_error("unknown option '%s'", arg);
        } else {
            return s_usage_error("unexpected argument '%s'", arg);
        }
    }
    o->api = common.api;
    o->key = common.key;
    o->server_key = common.server_key;
    o->insecure = common.insecure;
    char why[512];
    static const char *const key_defaults[] = {"var/keys/private/subscriber.local.cert",
                                               "var/keys/private/operator-rw.local.cert", NULL};
    if (tc_cli_check_endpoint("--publish", o->publish, o->insecure, why, sizeof why) != 0 ||
        tc_cli_check_endpoint("--api", o->api, o->insecure, why, sizeof why) != 0 ||
        tc_cli_keys(o->insecure, o->key, o->server_key, key_defaults, &o->keys, why, sizeof why) !=
            0) {
        fprintf(stderr, S_PROG ": %s\n", why);
        return S_EXIT_USAGE;
    }
    return -1;
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

static void s_render(s_ctx_t *ctx)
{
    if (ctx->frozen)
        return; /* the last site written stays up */
    tc_sp_page_t page = {.title = ctx->opts.title,
                         .url = ctx->opts.url ? ctx->opts.url : ctx->http_url,
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
    zsock_t *sub = tc_feed_subscribe(ctx->opts.publish, &ctx->opts.keys);
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
                ctx->opts.api, tc_strerror(rc), tc_render_duration(backoff, dur, sizeof dur));
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
    s_ctx_t ctx = {.opts = {.api = S_DEFAULT_API,
                            .publish = S_DEFAULT_PUBLISH,
                            .out = S_DEFAULT_OUT,
                            .state = S_DEFAULT_STATE,
                            .title = S_DEFAULT_TITLE,
                            .stale_ms = S_DEFAULT_STALE_MS,
                            .timeout_ms = S_DEFAULT_TIMEOUT_MS,
                            .level = TC_LOG_INFO}};
    int status = s_parse(argc, argv, &ctx.opts);
    if (status >= 0)
        return status;
    tc_log_init(S_PROG, ctx.opts.level);
    status = S_EXIT_FAIL;

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
    if (ctx.opts.http) {
        rc = tc_sp_http_start(ctx.opts.http, ctx.opts.out, &ctx.http, ctx.http_url,
                              sizeof ctx.http_url);
        if (rc != 0) {
            tc_error("cannot serve HTTP on %s: %s", ctx.opts.http,
                     rc == TC_ESYS ? "the address cannot be bound or the directory opened"
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
    ctx.sub = tc_feed_subscribe(ctx.opts.publish, &ctx.opts.keys);
    if (!ctx.sub)
        goto fail_follow;
    ctx.sub_mono = tc_mono_ms();
    ctx.api = tc_client_new(ctx.opts.api, &ctx.opts.keys);
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
    return status;
}
