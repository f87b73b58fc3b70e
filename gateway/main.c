/*
 * tocsin-gateway - takes in the alerts monitoring tools already send
 * (Prometheus Alertmanager's webhook, the PagerDuty Events API v2 that
 * Grafana, Zabbix and most tools can page), turns them into tocsin events
 * and sends them to the coordinator like an agent: numbered, spooled
 * durably before they are accepted, resent until acknowledged. It also
 * serves the acknowledgement links of pages (GET shows, POST acts), and
 * /healthz and /metrics. gw_impl.h says which file does what.
 *
 * main() reads the options and the configuration, checks everything it can
 * without starting (--check-config stops there), then opens the spool and
 * the dedup-key state, binds the HTTP listener and runs the loop. Exit
 * status: 0 after SIGINT/SIGTERM, 1 on a runtime failure, 2 on bad usage or
 * configuration.
 */
#include "gw_impl.h"

#include "cfgcheck.h"
#include "cli.h"
#include "error.h"
#include "log.h"
#include "sdnotify.h"
#include "util.h"

#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_PROG "tocsin-gateway"
/* Heartbeats to the coordinator, like an agent's. */
#define S_HEARTBEAT_MS 5000
#define S_REFRESH_MS 1000

static void s_usage(FILE *to)
{
    fprintf(
        to,
        "usage: " S_PROG " [OPTIONS]\n"
        "\n"
        "Takes alerts in over HTTP from Prometheus Alertmanager (POST /v1/alertmanager)\n"
        "and anything that speaks the PagerDuty Events API v2 (POST /v2/enqueue), spools\n"
        "them durably and sends them to the coordinator as a sequenced sender; serves\n"
        "the acknowledgement links of pages (GET /ack/TOKEN shows, POST acknowledges),\n"
        "GET /healthz and GET /metrics.\n"
        "\n"
        "options (override the configuration file):\n"
        "  -c, --config FILE       YAML configuration (gateway, alertmanager; see\n"
        "                          tocsin-gateway.yaml(5))\n"
        "      --listen ADDR:PORT  HTTP address (default " TC_GW_DEFAULT_LISTEN ")\n"
        "      --agents EP         the coordinator's agents endpoint\n"
        "                          (default " TC_GW_DEFAULT_AGENTS ")\n"
        "      --api EP            the coordinator's API, for acknowledgement links\n"
        "                          (default " TC_GW_DEFAULT_API ")\n"
        "      --id ID             sender id, the name of its key (default " TC_GW_DEFAULT_ID ")\n"
        "      --spool DIR         the event spool (default " TC_GW_DEFAULT_SPOOL ")\n"
        "      --state DIR         dedup keys of Events API alerts\n"
        "                          (default " TC_GW_DEFAULT_STATE ")\n"
        "      --integrations DIR  integration tokens (default KEYS/integrations:\n"
        "                          var/keys/integrations, /etc/tocsin/keys/integrations)\n"
        "      --key FILE          this gateway's key pair (default $TOCSIN_KEY, then\n"
        "                          var/keys/private/gateway.ID.cert, /etc/tocsin/gateway.cert)\n"
        "      --server-key FILE   the coordinator's certificate (default\n"
        "                          $TOCSIN_SERVER_KEY, then var/keys/coordinator.cert,\n"
        "                          /etc/tocsin/coordinator.cert)\n"
        "      --insecure          plaintext without keys; loopback endpoints only\n"
        "      --log-level LEVEL   debug, info, warn or error (default info)\n"
        "      --log-format FMT    text or json (default text)\n"
        "      --check-config      check the configuration, keys and directories, print\n"
        "                          \"ok\" or every problem with file and line, and exit\n"
        "  -h, --help              show this help\n"
        "  -V, --version           show the version\n"
        "\n" TC_CLI_HELP_EXIT);
}

#define s_usage_error(...) tc_cli_usage_error(S_PROG, __VA_ARGS__)

typedef struct {
    const char *config, *format;
    const char *set[16][2]; /* flags with a config key: (key, value) */
    size_t nset;
    bool insecure, check;
} s_flags_t;

static int s_parse(int argc, char **argv, s_flags_t *f)
{
    enum {
        O_LISTEN = 256,
        O_AGENTS,
        O_API,
        O_ID,
        O_SPOOL,
        O_STATE,
        O_INTEGRATIONS,
        O_KEY,
        O_SKEY,
        O_INSECURE,
        O_LOGLEVEL,
        O_LOGFORMAT,
        O_CHECK
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, O_LISTEN},
        {"agents", required_argument, NULL, O_AGENTS},
        {"api", required_argument, NULL, O_API},
        {"id", required_argument, NULL, O_ID},
        {"spool", required_argument, NULL, O_SPOOL},
        {"state", required_argument, NULL, O_STATE},
        {"integrations", required_argument, NULL, O_INTEGRATIONS},
        {"key", required_argument, NULL, O_KEY},
        {"server-key", required_argument, NULL, O_SKEY},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"log-format", required_argument, NULL, O_LOGFORMAT},
        {"check-config", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        int opt;
        const char *key;
    } keys[] = {{O_LISTEN, "listen"},
                {O_AGENTS, "agents"},
                {O_API, "api"},
                {O_ID, "id"},
                {O_SPOOL, "spool"},
                {O_STATE, "state"},
                {O_INTEGRATIONS, "integrations"},
                {O_KEY, "key"},
                {O_SKEY, "server_key"},
                {O_LOGLEVEL, "log_level"}};
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': f->config = optarg; break;
        case O_INSECURE: f->insecure = true; break;
        case O_CHECK: f->check = true; break;
        case O_LOGFORMAT: f->format = optarg; break;
        case 'h': s_usage(stdout); return 0;
        case 'V': printf(S_PROG " %s\n", TOCSIN_VERSION); return 0;
        default: {
            bool known = false;
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                if (keys[i].opt == opt && f->nset < 16) {
                    f->set[f->nset][0] = keys[i].key;
                    f->set[f->nset++][1] = optarg;
                    known = true;
                }
            if (!known)
                return tc_cli_getopt_error(S_PROG, opt, argv, opts);
        }
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument \"%s\"", argv[optind]);
    return -1;
}

/* The integrations directory: the setting, else KEYS/integrations of the
 * usual key directories, the first that exists (else the last). */
static void s_integrations_dir(const tc_gw_config_t *cfg, char *out, size_t cap)
{
    if (cfg->integrations[0]) {
        snprintf(out, cap, "%s", cfg->integrations);
        return;
    }
    const char *env = getenv("TOCSIN_KEYS_DIR");
    const char *dirs[] = {env && *env ? env : NULL, "var/keys", "/etc/tocsin/keys"};
    struct stat st;
    for (size_t i = 0; i < 3; i++) {
        if (!dirs[i])
            continue;
        snprintf(out, cap, "%s/integrations", dirs[i]);
        if (stat(out, &st) == 0)
            return;
    }
}

/* Everything that can be checked without starting. */
static void s_check(const tc_gw_config_t *cfg, const char *key, const char *server,
                    const char *idir, tc_cfgcheck_t *ck)
{
    const char *file = cfg->path[0] ? cfg->path : NULL;
    char why[1024];
    if (tc_cli_check_endpoint("--agents", cfg->agents, cfg->insecure, why, sizeof why) != 0)
        tc_cfgcheck_error(ck, file, tc_cfgcheck_line(file, "gateway.agents"), "%s", why);
    if (tc_cli_check_endpoint("--api", cfg->api, cfg->insecure, why, sizeof why) != 0)
        tc_cfgcheck_error(ck, file, tc_cfgcheck_line(file, "gateway.api"), "%s", why);
    if (!cfg->insecure) {
        if (!key)
            tc_cfgcheck_error(ck, file, tc_cfgcheck_line(file, "gateway.key"),
                              "no key pair: set gateway.key or --key (make one with 'tocsinctl "
                              "keys new gateway %s'), or --insecure on loopback",
                              cfg->id);
        else
            tc_cfgcheck_key(ck, file, tc_cfgcheck_line(file, "gateway.key"), "gateway.key", key,
                            true);
        if (!server)
            tc_cfgcheck_error(ck, file, tc_cfgcheck_line(file, "gateway.server_key"),
                              "no coordinator certificate: set gateway.server_key or "
                              "--server-key (coordinator.cert from its key directory)");
        else
            tc_cfgcheck_key(ck, file, tc_cfgcheck_line(file, "gateway.server_key"),
                            "gateway.server_key", server, false);
    }
    tc_cfgcheck_dir(ck, file, tc_cfgcheck_line(file, "gateway.spool"), "gateway.spool", cfg->spool);
    tc_cfgcheck_dir(ck, file, tc_cfgcheck_line(file, "gateway.state"), "gateway.state", cfg->state);
    struct stat st;
    if (!idir[0] || stat(idir, &st) != 0)
        tc_cfgcheck_warn(ck, file, tc_cfgcheck_line(file, "gateway.integrations"),
                         "no integrations directory%s%s: every request is refused until "
                         "'tocsinctl keys new integration NAME SERVICE...' makes one",
                         idir[0] ? " " : "", idir);
    if (!strcmp(cfg->spool, cfg->state))
        tc_cfgcheck_error(ck, file, tc_cfgcheck_line(file, "gateway.state"),
                          "gateway.state must not be the spool's directory");
}

static int s_on_refresh(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    tc_gw_t *gw = arg;
    bool changed = false;
    int rc = tc_integrations_refresh(gw->integrations, &changed);
    if (rc)
        tc_error("reloading integrations from %s failed: %s", gw->integrations_dir,
                 tc_strerror(rc));
    else if (changed)
        tc_info("integrations reloaded from %s: %zu allowed", gw->integrations_dir,
                tc_integrations_size(gw->integrations));
    return 0;
}

static void s_free_item(void **item)
{
    free(*item);
    *item = NULL;
}

int main(int argc, char **argv)
{
    zsys_init();
    s_flags_t f = {0};
    int status = s_parse(argc, argv, &f);
    if (status >= 0)
        return status;
    tc_gw_t *gw = calloc(1, sizeof *gw);
    if (!gw) {
        fprintf(stderr, S_PROG ": %s\n", tc_strerror(TC_ENOMEM));
        return TC_CLI_EXIT_FAIL;
    }
    tc_gw_config_defaults(&gw->cfg);
    char err[1024];
    if (f.config && tc_gw_config_load(&gw->cfg, f.config, err, sizeof err) != 0) {
        free(gw);
        return tc_cfgcheck_load_failed(S_PROG, f.check, err);
    }
    for (size_t i = 0; i < f.nset; i++)
        if (tc_gw_config_set(&gw->cfg, f.set[i][0], f.set[i][1], err, sizeof err) != 0) {
            char flag[32];
            snprintf(flag, sizeof flag, "--%s", f.set[i][0]);
            for (char *p = flag; *p; p++)
                if (*p == '_')
                    *p = '-';
            free(gw);
            return s_usage_error("%s: %s, not \"%s\"", flag, err, f.set[i][1]);
        }
    if (f.insecure)
        gw->cfg.insecure = true;
    tc_log_format_t format = TC_LOG_TEXT;
    if (f.format && tc_log_format_parse(f.format, &format) != 0) {
        free(gw);
        return s_usage_error("--log-format: expected text or json, not \"%s\"", f.format);
    }
    char keyname[128];
    snprintf(keyname, sizeof keyname, "var/keys/private/gateway.%s.cert", gw->cfg.id);
    const char *key_defaults[] = {keyname, "/etc/tocsin/gateway.cert", NULL};
    const char *key = tc_cli_key_path(gw->cfg.key, key_defaults);
    const char *server = tc_cli_server_key_path(gw->cfg.server_key);
    s_integrations_dir(&gw->cfg, gw->integrations_dir, sizeof gw->integrations_dir);

    tc_cfgcheck_t *ck = tc_cfgcheck_new(S_PROG);
    if (!ck) {
        free(gw);
        return TC_CLI_EXIT_FAIL;
    }
    s_check(&gw->cfg, key, server, gw->integrations_dir, ck);
    if (f.check) {
        char summary[3072]; /* room for every part at its longest */
        snprintf(summary, sizeof summary,
                 "%.1024s: gateway %s on %s, spool %.400s, integrations %.400s",
                 f.config ? f.config : "built-in defaults", gw->cfg.id, gw->cfg.listen,
                 gw->cfg.spool, gw->integrations_dir);
        status = tc_cfgcheck_report(ck, summary);
        tc_cfgcheck_destroy(&ck);
        free(gw);
        return status;
    }
    tc_log_init(S_PROG, gw->cfg.log_level);
    tc_log_set_format(format);
    status = tc_cfgcheck_before_start(ck);
    tc_cfgcheck_destroy(&ck);
    if (status != 0) {
        free(gw);
        return status;
    }
    if (tc_cli_keys(gw->cfg.insecure, key, server, NULL, &gw->keys, err, sizeof err) != 0) {
        fprintf(stderr, S_PROG ": %s\n", err);
        free(gw);
        return TC_CLI_EXIT_USAGE;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, S_PROG ": libsodium cannot be initialised\n");
        free(gw);
        return TC_CLI_EXIT_FAIL;
    }
    zsys_set_logstream(NULL);
    status = TC_CLI_EXIT_FAIL;
    tc_sdnotify_t *sd = tc_sdnotify_new();
    gw->started_ms = tc_now_ms();
    gw->loop = zloop_new();
    gw->limits = zhashx_new();
    gw->prom = tc_prom_new();
    gw->scratch = calloc(TC_GW_ALERTS_MAX, sizeof *gw->scratch);
    if (!sd || !gw->loop || !gw->limits || !gw->prom || !gw->scratch) {
        tc_error("%s", tc_strerror(TC_ENOMEM));
        goto done;
    }
    zhashx_set_destructor(gw->limits, s_free_item);
    tc_info("starting version %s as %s%s", TOCSIN_VERSION, gw->cfg.id,
            gw->cfg.insecure ? ", INSECURE plaintext" : "");
    int rc = tc_integrations_open(gw->integrations_dir, &gw->integrations);
    if (rc) {
        tc_error("cannot read the integrations in %s: %s", gw->integrations_dir, tc_strerror(rc));
        goto done;
    }
    char why[1024];
    if ((rc = tc_gw_alerts_open(gw->cfg.state, &gw->alerts, why, sizeof why)) != 0) {
        tc_error("%s", why);
        goto done;
    }
    tc_outbox_config_t oc = {.sender = gw->cfg.id,
                             .endpoint = gw->cfg.agents,
                             .keys = gw->cfg.insecure ? NULL : &gw->keys,
                             .spool_dir = gw->cfg.spool,
                             .heartbeat_ms = S_HEARTBEAT_MS};
    if ((rc = tc_outbox_new(gw->loop, &oc, &gw->outbox, why, sizeof why)) != 0) {
        tc_error("%s", why);
        goto done;
    }
    if (!(gw->api = tc_gw_api_new(gw->loop, gw->cfg.api, &gw->keys))) {
        tc_error("cannot connect to %s", gw->cfg.api);
        goto done;
    }
    tc_httpd_config_t hc = {.addr = gw->cfg.listen,
                            .max_body = gw->cfg.max_body,
                            .connections = 256,
                            .timeout_s = 15,
                            .what = "gateway"};
    if ((rc = tc_httpd_new(gw->loop, &hc, tc_gw_handle, gw, &gw->http, why, sizeof why)) != 0) {
        tc_error("%s", why);
        goto done;
    }
    if (zloop_timer(gw->loop, S_REFRESH_MS, 0, s_on_refresh, gw) < 0 ||
        tc_sdnotify_watch(sd, gw->loop) != 0) {
        tc_error("cannot set up the event loop");
        goto done;
    }
    tc_outbox_stats_t st;
    tc_outbox_stats(gw->outbox, &st);
    tc_info("listening on %s; %zu integrations from %s; %zu events in the spool %s for %s",
            tc_httpd_url(gw->http), tc_integrations_size(gw->integrations), gw->integrations_dir,
            st.spooled, gw->cfg.spool, gw->cfg.agents);
    char ready[512];
    snprintf(ready, sizeof ready, "listening on %s", tc_httpd_url(gw->http));
    tc_sdnotify_ready(sd, ready);
    zloop_start(gw->loop);
    tc_sdnotify_stopping(sd);
    status = TC_CLI_EXIT_OK;
    tc_info("stopping");
done:
    /* The API first: requests waiting for it are answered (503) while
     * the HTTP server is still there to send the answers. */
    tc_gw_api_destroy(&gw->api);
    tc_httpd_destroy(&gw->http);
    tc_outbox_destroy(&gw->outbox);
    tc_gw_alerts_destroy(&gw->alerts);
    tc_integrations_destroy(&gw->integrations);
    zhashx_destroy(&gw->limits);
    tc_prom_destroy(&gw->prom);
    free(gw->scratch);
    zloop_destroy(&gw->loop);
    tc_sdnotify_destroy(&sd);
    sodium_memzero(&gw->keys, sizeof gw->keys);
    free(gw);
    return status;
}
