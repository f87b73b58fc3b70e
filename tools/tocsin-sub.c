/*
 * tocsin-sub - follow the coordinator's broadcasts as JSON lines.
 *
 * The SUB socket is connected and subscribed to everything before anything
 * is fetched, so nothing published while catching up can fall between the
 * fetched history and the live feed ("Clone" pattern, ZeroMQ guide ch. 5).
 * Ordering, duplicates and gaps are client/follow.h's job; this file owns the
 * sockets, the retrying API fetch and stdout. --topic filters only what is
 * printed: every broadcast still advances the sequence, or a filtered one
 * would look like a gap.
 *
 * Exit status: 0 on SIGINT/SIGTERM or after --count lines, 1 on a failure
 * that retrying cannot fix, 2 on bad usage.
 */
#include "cli.h"
#include "client.h"
#include "error.h"
#include "feed.h"
#include "follow.h"
#include "json.h"
#include "log.h"
#include "render.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define S_PROG "tocsin-sub"
#define S_DEFAULT_API "tcp://127.0.0.1:7402"
#define S_DEFAULT_PUBLISH "tcp://127.0.0.1:7403"
#define S_DEFAULT_TIMEOUT_MS 5000
/* Broadcasts asked for per API request; the coordinator may send fewer. */
#define S_PAGE 1000
/* Retry back-off for an unreachable API: doubles from the first to the cap. */
#define S_BACKOFF_FIRST_MS 250
#define S_BACKOFF_MAX_MS 10000
/* Live broadcasts queued while catching up. Beyond this ZeroMQ drops them,
 * which is safe (the follower fetches the hole) but slower. */
#define S_SUB_HWM 100000
#define S_EXIT_FAIL 1
#define S_EXIT_USAGE 2
/* Returned by the emit callback once --count lines are out. */
#define S_STOP 1

typedef struct {
    const char *api;
    const char *publish;
    const char *topic;
    bool insecure;
    const char *key, *server_key;
    tc_client_keys_t keys;
    bool has_from;
    uint64_t from;
    int64_t timeout_ms;
    uint64_t count; /* 0: no limit */
} s_opts_t;

/* Everything the process has; handed to every callback. */
typedef struct {
    s_opts_t opts;
    zsock_t *sub;
    tc_client_t *api;
    tc_json_t *json;
    tc_follow_t *follow;
    uint64_t printed;
} s_ctx_t;

static void s_usage(FILE *out)
{
    fputs("usage: tocsin-sub [OPTIONS]\n"
          "\n"
          "Print the coordinator's broadcasts as JSON, one object per line, in\n"
          "sequence order with no gaps and no duplicates.\n"
          "\n"
          "options:\n"
          "      --api EP        coordinator API endpoint, used to fetch missed broadcasts\n"
          "                      (default " S_DEFAULT_API ")\n"
          "      --publish EP    coordinator publish endpoint\n"
          "                      (default " S_DEFAULT_PUBLISH ")\n"
          "      --from SEQ      first print every stored broadcast from SEQ on (0: all),\n"
          "                      then continue live; without it, start with the next one\n"
          "      --topic PREFIX  print only broadcasts whose topic starts with PREFIX\n"
          "                      (incident.opened, incident.updated, incident.resolved,\n"
          "                      host.down, host.up, page.PERSON, status.external, ...)\n"
          "      --timeout DUR   how long to wait for an API answer before retrying\n"
          "                      (default 5s)\n"
          "      --count N       exit after printing N broadcasts\n"
          "      --key FILE      this client's key pair (default $TOCSIN_KEY, then\n"
          "                      var/keys/private/subscriber.local.cert,\n"
          "                      var/keys/private/operator-rw.local.cert,\n"
          "                      /etc/tocsin/keys/private/operator-rw.local.cert)\n"
          "      --server-key FILE  the coordinator's certificate (default\n"
          "                      $TOCSIN_SERVER_KEY, then var/keys/coordinator.cert,\n"
          "                      /etc/tocsin/coordinator.cert,\n"
          "                      /etc/tocsin/keys/coordinator.cert)\n"
          "      --insecure      plaintext without keys; loopback endpoints only\n"
          "  -h, --help          show this help\n"
          "  -V, --version       show the version\n"
          "\n" TC_CLI_HELP_EXIT,
          out);
}

/* One line on stderr, exit status 2 (common/cli.h). */
#define s_usage_error(...) tc_cli_usage_error(S_PROG, __VA_ARGS__)

/* Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    enum { O_API = 256, O_PUBLISH, O_TOPIC, O_FROM, O_TIMEOUT, O_COUNT, O_KEY, O_SKEY, O_INSECURE };
    static const struct option opts[] = {
        {"api", required_argument, NULL, O_API},
        {"publish", required_argument, NULL, O_PUBLISH},
        {"topic", required_argument, NULL, O_TOPIC},
        {"from", required_argument, NULL, O_FROM},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"count", required_argument, NULL, O_COUNT},
        {"key", required_argument, NULL, O_KEY},
        {"server-key", required_argument, NULL, O_SKEY},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
        switch (c) {
        case O_API: o->api = optarg; break;
        case O_PUBLISH: o->publish = optarg; break;
        case O_TOPIC: o->topic = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_SKEY: o->server_key = optarg; break;
        case O_INSECURE: o->insecure = true; break;
        case O_FROM:
            if (tc_u64_parse(optarg, UINT64_MAX, &o->from) != 0)
                return s_usage_error("--from needs a broadcast sequence number, not '%s'", optarg);
            o->has_from = true;
            break;
        case O_TIMEOUT:
            if (tc_duration_parse(optarg, &o->timeout_ms) != 0 || o->timeout_ms <= 0)
                return s_usage_error("--timeout needs a duration such as 500ms or 5s");
            break;
        case O_COUNT:
            if (tc_u64_parse(optarg, UINT64_MAX, &o->count) != 0 || o->count == 0)
                return s_usage_error("--count needs a positive number");
            break;
        case 'h': s_usage(stdout); return 0;
        case 'V': printf(S_PROG " " TOCSIN_VERSION "\n"); return 0;
        default: return tc_cli_getopt_error(S_PROG, c, argv, opts);
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument '%s'", argv[optind]);
    char why[512];
    static const char *const key_defaults[] = {
        "var/keys/private/subscriber.local.cert", "var/keys/private/operator-rw.local.cert",
        "/etc/tocsin/keys/private/operator-rw.local.cert", NULL};
    if (tc_cli_check_endpoint("--publish", o->publish, o->insecure, why, sizeof why) != 0 ||
        tc_cli_check_endpoint("--api", o->api, o->insecure, why, sizeof why) != 0 ||
        tc_cli_keys(o->insecure, o->key, o->server_key, key_defaults, &o->keys, why, sizeof why) !=
            0) {
        fprintf(stderr, S_PROG ": %s\n", why);
        return S_EXIT_USAGE;
    }
    return -1;
}

/* Sleeps `ms` in short steps so SIGINT/SIGTERM end the wait promptly.
 * Returns false if interrupted. */
static bool s_sleep(int64_t ms)
{
    int64_t deadline = tc_mono_ms() + ms;
    while (!zsys_interrupted) {
        int64_t left = deadline - tc_mono_ms();
        if (left <= 0)
            return true;
        zclock_sleep((int)(left < 100 ? left : 100));
    }
    return false;
}

/* tc_follow_fetch_fn: one page of broadcasts from `from`, retried with
 * back-off until the coordinator answers, since a subscriber must outlive a
 * coordinator restart. Only an explicit refusal (ok == false) or SIGINT
 * ends the retries. */
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
            return 0;
        }
        char dur[32];
        tc_warn("cannot fetch broadcasts from %" PRIu64 " at %s: %s; retrying in %s", from,
                ctx->opts.api, tc_strerror(rc), tc_duration_compact(backoff, dur, sizeof dur));
        complained = true;
        if (!s_sleep(backoff))
            return TC_ESYS;
        backoff = backoff * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff * 2;
    }
}

/* tc_follow_emit_fn: prints `m` as one JSON line if its topic matches. */
static int s_emit(void *arg, const tc_msg_t *m)
{
    s_ctx_t *ctx = arg;
    const char *prefix = ctx->opts.topic;
    const char *topic =
        m->u.bcast.topic[0] ? m->u.bcast.topic : tc_bcast_kind_name(m->u.bcast.kind);
    if (prefix && strncmp(topic, prefix, strlen(prefix)) != 0)
        return 0;
    tc_json_reset(ctx->json);
    tc_render_broadcast_json(ctx->json, m);
    int rc = tc_json_error(ctx->json);
    if (rc != 0) {
        tc_error("cannot render broadcast %" PRIu64 ": %s", m->seq, tc_strerror(rc));
        return rc;
    }
    fwrite(tc_json_data(ctx->json), 1, tc_json_len(ctx->json), stdout);
    fputc('\n', stdout);
    /* Flushed per line: a consumer on a pipe must see each event when it
     * happens, not when a buffer fills. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        tc_error("cannot write to stdout: %s", strerror(errno));
        return TC_EIO;
    }
    ctx->printed++;
    return ctx->opts.count && ctx->printed >= ctx->opts.count ? S_STOP : 0;
}

/* Reads one [topic][Envelope] message from the SUB socket and hands it to
 * the follower. Returns 0 or the follower's stop/error value. */
static int s_on_live(s_ctx_t *ctx)
{
    zmsg_t *msg = zmsg_recv(ctx->sub);
    if (!msg)
        return zsys_interrupted ? TC_ESYS : 0;
    int rc = 0;
    if (zmsg_size(msg) != 2) {
        tc_warn("ignoring a published message of %zu frames (expected 2)", zmsg_size(msg));
        goto done;
    }
    zframe_t *body = zmsg_last(msg);
    tc_msg_t m;
    int drc = tc_wire_decode_msg(zframe_data(body), zframe_size(body), &m);
    if (drc != 0) {
        tc_warn("ignoring an undecodable broadcast from %s: %s", ctx->opts.publish,
                tc_strerror(drc));
        goto done;
    }
    if (m.kind == TC_MSG_HEARTBEAT && !strcmp(m.sender, TC_COORDINATOR_ID)) {
        rc = tc_follow_heartbeat(ctx->follow, m.u.heartbeat.last_seq);
        goto done;
    }
    if (!tc_feed_usable(&m, ctx->opts.publish))
        goto done;
    rc = tc_follow_live(ctx->follow, &m);
done:
    zmsg_destroy(&msg);
    return rc;
}

int main(int argc, char **argv)
{
    s_ctx_t ctx = {.opts = {.api = S_DEFAULT_API,
                            .publish = S_DEFAULT_PUBLISH,
                            .timeout_ms = S_DEFAULT_TIMEOUT_MS}};
    int status = s_parse(argc, argv, &ctx.opts);
    if (status >= 0)
        return status;
    tc_log_init(S_PROG, TC_LOG_INFO);
    status = S_EXIT_FAIL;

    ctx.json = tc_json_new();
    if (!ctx.json)
        goto fail_nomem;
    ctx.follow = tc_follow_new(s_fetch, s_emit, &ctx);
    if (!ctx.follow) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_json;
    }
    /* Subscribe first, fetch second: see the top of this file. */
    ctx.sub = zsock_new(ZMQ_SUB);
    if (!ctx.sub) {
        tc_error("cannot create a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        goto fail_follow;
    }
    zsock_set_linger(ctx.sub, 0);
    zsock_set_rcvhwm(ctx.sub, S_SUB_HWM);
    zsock_set_subscribe(ctx.sub, "");
    /* A broadcast is a few KiB; anything near this is not the coordinator. */
    zsock_set_maxmsgsize(ctx.sub, 1 << 20);
    tc_client_keys_apply(&ctx.opts.keys, ctx.sub);
    if (zsock_connect(ctx.sub, "%s", ctx.opts.publish) != 0) {
        tc_error("cannot connect to %s", ctx.opts.publish);
        goto fail_sub;
    }
    ctx.api = tc_client_new(ctx.opts.api, &ctx.opts.keys);
    if (!ctx.api) {
        tc_error("cannot connect to %s", ctx.opts.api);
        goto fail_sub;
    }
    zpoller_t *poller = zpoller_new(ctx.sub, NULL);
    if (!poller) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto fail_api;
    }

    int rc = 0;
    if (ctx.opts.has_from) {
        tc_follow_start_at(ctx.follow, ctx.opts.from);
        rc = tc_follow_catch_up(ctx.follow);
    }
    while (rc == 0) {
        void *which = zpoller_wait(poller, -1);
        if (!which) {
            if (zpoller_terminated(poller) && zsys_interrupted)
                break;
            continue; /* another signal interrupted the wait */
        }
        rc = s_on_live(&ctx);
    }
    /* Interrupted (TC_ESYS with zsys_interrupted), stopped by --count or
     * ended by a signal in the loop: all normal ends. */
    if (rc == 0 || rc == S_STOP || (rc == TC_ESYS && zsys_interrupted))
        status = 0;

    zpoller_destroy(&poller);
fail_api:
    tc_client_destroy(&ctx.api);
fail_sub:
    zsock_destroy(&ctx.sub);
fail_follow:
    tc_follow_destroy(&ctx.follow);
fail_json:
    tc_json_destroy(&ctx.json);
    return status;

fail_nomem:
    tc_error("%s", tc_strerror(TC_ENOMEM));
    return status;
}
