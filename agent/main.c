/*
 * main.c - tocsin-agent's command line.
 *
 * Exit status: 0 on success (and after SIGINT/SIGTERM), 1 on a runtime
 * error, 2 on bad usage or a bad configuration file (including key files
 * and plugins that are missing: the same checks as --check-config run
 * before every start). Every failure is one line on stderr.
 */
#include "agent.h"

#include <czmq.h>
#include "cfgcheck.h"
#include "cli.h"
#include "config.h"
#include "error.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "sdnotify.h"
#include "spool.h"
#include "util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "tocsin-agent"

static const char s_usage[] =
    "usage: " PROG " [OPTIONS]\n"
    "       " PROG " --once [--config FILE]\n"
    "\n"
    "Runs checks on this host and reports hard state changes to the tocsin\n"
    "coordinator, keeping every event in a local spool until it is acknowledged.\n"
    "\n"
    "options (override the configuration file):\n"
    "  -c, --config FILE       YAML configuration (see tocsin-agent.yaml(5))\n"
    "      --id ID             agent id (default: the host name)\n"
    "      --coordinator EP    coordinator endpoint (default " TC_AGENT_DEFAULT_COORDINATOR ")\n"
    "      --spool DIR         spool directory (default " TC_AGENT_DEFAULT_SPOOL ")\n"
    "      --key FILE          this agent's key pair (default " TC_AGENT_DEFAULT_KEY ";\n"
    "                          make one with: tocsinctl keys new agent ID)\n"
    "      --server-key FILE   the coordinator's certificate\n"
    "                          (default " TC_AGENT_DEFAULT_SERVER_KEY ")\n"
    "      --insecure          plaintext, no authentication (loopback only)\n"
    "      --heartbeat DUR     heartbeat interval, e.g. 5s (default 5s)\n"
    "      --spool-max SIZE    largest the spool may grow, e.g. 64MiB, 1GiB\n"
    "                          (default 128MiB)\n"
    "      --metrics ADDR:PORT serve GET /metrics and /healthz there\n"
    "                          (e.g. " TC_AGENT_DEFAULT_METRICS "; default off)\n"
    "      --log-level LEVEL   debug, info, warn or error (default info)\n"
    "      --log-format FMT    text or json (default text)\n"
    "      --once              run every check once, print NAME SERVICE STATE\n"
    "                          OUTPUT for each, and exit\n"
    "      --check-config      check the configuration, keys, plugins and spool\n"
    "                          without running anything; print \"ok\" or every\n"
    "                          problem, and exit\n"
    "  -h, --help              show this help\n"
    "  -V, --version           show the version\n"
    "\n" TC_CLI_HELP_EXIT;

#define s_usage_error(...) tc_cli_usage_error(PROG, __VA_ARGS__)

typedef struct {
    const char *config;
    const char *id;
    const char *coordinator;
    const char *spool;
    const char *heartbeat;
    const char *log_level;
    const char *spool_max;
    const char *log_format;
    const char *key, *server_key;
    const char *metrics;
    bool insecure;
    bool once;
    bool check;
} s_flags_t;

/* Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, s_flags_t *f)
{
    enum {
        O_ID = 256,
        O_COORD,
        O_SPOOL,
        O_INSECURE,
        O_HB,
        O_LOG,
        O_LOGFORMAT,
        O_ONCE,
        O_KEY,
        O_SKEY,
        O_CHECK,
        O_SPOOL_MAX,
        O_METRICS
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, O_ID},
        {"coordinator", required_argument, NULL, O_COORD},
        {"spool", required_argument, NULL, O_SPOOL},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"key", required_argument, NULL, O_KEY},
        {"server-key", required_argument, NULL, O_SKEY},
        {"heartbeat", required_argument, NULL, O_HB},
        {"spool-max", required_argument, NULL, O_SPOOL_MAX},
        {"metrics", required_argument, NULL, O_METRICS},
        {"log-level", required_argument, NULL, O_LOG},
        {"log-format", required_argument, NULL, O_LOGFORMAT},
        {"once", no_argument, NULL, O_ONCE},
        {"check-config", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* our own one-line messages */
    int c;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': f->config = optarg; break;
        case O_ID: f->id = optarg; break;
        case O_COORD: f->coordinator = optarg; break;
        case O_SPOOL: f->spool = optarg; break;
        case O_INSECURE: f->insecure = true; break;
        case O_KEY: f->key = optarg; break;
        case O_SKEY: f->server_key = optarg; break;
        case O_HB: f->heartbeat = optarg; break;
        case O_SPOOL_MAX: f->spool_max = optarg; break;
        case O_METRICS: f->metrics = optarg; break;
        case O_LOG: f->log_level = optarg; break;
        case O_LOGFORMAT: f->log_format = optarg; break;
        case O_ONCE: f->once = true; break;
        case O_CHECK: f->check = true; break;
        case 'h': fputs(s_usage, stdout); return 0;
        case 'V': printf(PROG " %s\n", TOCSIN_VERSION); return 0;
        default: return tc_cli_getopt_error(PROG, c, argv, opts);
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument \"%s\"", argv[optind]);
    if (f->once && f->check)
        return s_usage_error("--once and --check-config exclude each other");
    return -1;
}

int main(int argc, char **argv)
{
    /* czmq turns SIGINT/SIGTERM into a clean stop, but only once its
     * handlers are installed; do it first, so a stop during start-up
     * (reading the config, opening the spool) is clean too. */
    zsys_init();

    s_flags_t f = {0};
    int status = s_parse(argc, argv, &f);
    if (status >= 0)
        return status;

    /* Validate flag values before touching any file. */
    int64_t hb_ms = 0;
    tc_log_level_t level = TC_LOG_INFO;
    tc_log_format_t format = TC_LOG_TEXT;
    if (f.id && !tc_id_valid(f.id))
        return s_usage_error("--id: invalid id \"%s\" (1..63 characters of A-Z a-z 0-9 . _ : -)",
                             f.id);
    if (f.coordinator && (!tc_endpoint_valid(f.coordinator) || strchr(f.coordinator, '*')))
        return s_usage_error("--coordinator: invalid endpoint \"%s\" (e.g. tcp://127.0.0.1:7401)",
                             f.coordinator);
    if (f.spool && !*f.spool)
        return s_usage_error("--spool: must not be empty");
    if (f.heartbeat && (tc_duration_parse(f.heartbeat, &hb_ms) != 0 ||
                        hb_ms < TC_HEARTBEAT_MIN_MS || hb_ms > TC_HEARTBEAT_MAX_MS))
        return s_usage_error("--heartbeat: invalid duration \"%s\" (100ms..1h, e.g. 5s)",
                             f.heartbeat);
    uint64_t spool_max = 0;
    if (f.spool_max && (tc_size_parse(f.spool_max, &spool_max) != 0 ||
                        spool_max < TC_SPOOL_MIN_MAX || spool_max > TC_SPOOL_MAX_MAX))
        return s_usage_error("--spool-max: invalid size \"%s\" (1MiB..1TiB, e.g. 64MiB, 1GiB)",
                             f.spool_max);
    if (f.metrics && (!tc_httpd_addr_valid(f.metrics) || strlen(f.metrics) >= TC_AGENT_METRICS_MAX))
        return s_usage_error("--metrics: invalid address \"%s\" (want IP:PORT, e.g. %s)", f.metrics,
                             TC_AGENT_DEFAULT_METRICS);
    if (f.log_level && tc_log_level_parse(f.log_level, &level) != 0)
        return s_usage_error("--log-level: expected debug, info, warn or error, not \"%s\"",
                             f.log_level);
    if (f.log_format && tc_log_format_parse(f.log_format, &format) != 0)
        return s_usage_error("--log-format: expected text or json, not \"%s\"", f.log_format);

    char err[1024] = "";
    status = TC_CLI_EXIT_FAIL;
    tc_cfgcheck_t *ck = NULL;
    tc_sdnotify_t *sd = NULL;
    tc_agent_config_t *cfg = tc_agent_config_new();
    if (!cfg) {
        fprintf(stderr, PROG ": out of memory\n");
        return TC_CLI_EXIT_FAIL;
    }
    /* A configuration the operator got wrong is bad usage, as with the
     * coordinator: exit 2, naming file, line and key. */
    if (f.config && tc_agent_config_load(cfg, f.config, err, sizeof err) != 0) {
        status = tc_cfgcheck_load_failed(PROG, f.check, err);
        goto done;
    }
    if (f.id)
        snprintf(cfg->id, sizeof cfg->id, "%s", f.id);
    if (f.coordinator)
        snprintf(cfg->coordinator, sizeof cfg->coordinator, "%s", f.coordinator);
    if (f.spool &&
        snprintf(cfg->spool, sizeof cfg->spool, "%s", f.spool) >= (int)sizeof cfg->spool) {
        status = s_usage_error("--spool: path too long");
        goto done;
    }
    if (f.heartbeat)
        cfg->heartbeat_ms = hb_ms;
    if (f.spool_max)
        cfg->spool_max = (size_t)spool_max;
    if (f.insecure)
        cfg->insecure = true;
    if ((f.key && snprintf(cfg->key, sizeof cfg->key, "%s", f.key) >= (int)sizeof cfg->key) ||
        (f.server_key && snprintf(cfg->server_key, sizeof cfg->server_key, "%s", f.server_key) >=
                             (int)sizeof cfg->server_key)) {
        status = s_usage_error("--key/--server-key: path too long");
        goto done;
    }
    if (f.metrics)
        snprintf(cfg->metrics, sizeof cfg->metrics, "%s", f.metrics);
    if (f.log_level)
        cfg->log_level = level;
    if (tc_agent_config_finish(cfg, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        status = TC_CLI_EXIT_USAGE;
        goto done;
    }
    tc_log_init(PROG, cfg->log_level);
    tc_log_set_format(format);

    if (f.once) {
        int rc = tc_agent_run_once(cfg, stdout);
        if (rc != 0)
            fprintf(stderr, PROG ": %s\n",
                    rc == TC_EIO ? "interrupted before every check finished" : tc_strerror(rc));
        status = rc == 0 ? TC_CLI_EXIT_OK : TC_CLI_EXIT_FAIL;
        goto done;
    }

    if (cfg->insecure && !tc_endpoint_is_loopback(cfg->coordinator)) {
        status = s_usage_error("--insecure only allows a loopback coordinator endpoint, not %s",
                               cfg->coordinator);
        goto done;
    }
    if (!(ck = tc_cfgcheck_new(PROG))) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    tc_agent_config_check(cfg, f.config, ck);
    if (f.check) {
        char summary[4400];
        snprintf(summary, sizeof summary, "%.2048s: agent %s, %zu checks, coordinator %s",
                 f.config ? f.config : "built-in defaults", cfg->id, cfg->nchecks,
                 cfg->coordinator);
        status = tc_cfgcheck_report(ck, summary);
        goto done;
    }
    if ((status = tc_cfgcheck_before_start(ck)) != 0)
        goto done;
    status = TC_CLI_EXIT_FAIL;
    if (cfg->insecure) {
        cfg->keys.insecure = true;
    } else if (tc_client_keys_load(&cfg->keys, cfg->key, cfg->server_key, err, sizeof err) != 0) {
        /* Checked above; only a file changing meanwhile gets here. */
        fprintf(stderr, PROG ": %s\n", err);
        goto done;
    }
    if (!(sd = tc_sdnotify_new())) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }

    tc_agent_t *agent = NULL;
    int rc = tc_agent_new(cfg, &agent, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s\n", err[0] ? err : tc_strerror(rc));
        goto done;
    }
    tc_agent_metrics_t *metrics = NULL;
    if (cfg->metrics[0]) {
        if (tc_agent_metrics_new(agent, cfg->metrics, &metrics, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": metrics: %s\n", err[0] ? err : "cannot start");
            tc_agent_destroy(&agent);
            goto done;
        }
        tc_info("metrics on %s", tc_agent_metrics_url(metrics));
    }
    if (cfg->insecure)
        tc_warn("running with --insecure: plaintext, no authentication (loopback only)");
    if (tc_sdnotify_watch(sd, tc_agent_loop(agent)) != 0)
        tc_warn("cannot arm the systemd watchdog timer");
    char ready[512];
    snprintf(ready, sizeof ready, "agent %s, %zu checks, coordinator %s", cfg->id, cfg->nchecks,
             cfg->coordinator);
    tc_sdnotify_ready(sd, ready);
    tc_agent_run(agent);
    tc_sdnotify_stopping(sd);
    tc_agent_metrics_destroy(&metrics);
    tc_agent_destroy(&agent);
    status = TC_CLI_EXIT_OK;
done:
    tc_sdnotify_destroy(&sd);
    tc_cfgcheck_destroy(&ck);
    tc_agent_config_destroy(&cfg);
    return status;
}
