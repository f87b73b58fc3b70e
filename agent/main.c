/*
 * main.c - tocsin-agent's command line.
 *
 * Exit status: 0 on success (and after SIGINT/SIGTERM), 1 on a runtime
 * error, 2 on bad usage or a bad configuration file. Every failure is one
 * line on stderr.
 */
#include "agent.h"

#include <czmq.h>
#include "config.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "tocsin-agent"

static const char s_usage[] =
    "Usage: " PROG " [OPTIONS]\n"
    "       " PROG " --once [--config FILE]\n"
    "\n"
    "Runs checks on this host and reports hard state changes to the tocsin\n"
    "coordinator, keeping every event in a local spool until it is acknowledged.\n"
    "\n"
    "Options (override the configuration file):\n"
    "  --config FILE        YAML configuration (agent settings and checks)\n"
    "  --id ID              agent id (default: the host name)\n"
    "  --coordinator EP     coordinator endpoint (default " TC_AGENT_DEFAULT_COORDINATOR ")\n"
    "  --spool DIR          spool directory (default " TC_AGENT_DEFAULT_SPOOL ")\n"
    "  --key FILE           this agent's key pair (default " TC_AGENT_DEFAULT_KEY ";\n"
    "                       make one with: tocsinctl keys new agent ID)\n"
    "  --server-key FILE    the coordinator's certificate\n"
    "                       (default " TC_AGENT_DEFAULT_SERVER_KEY ")\n"
    "  --insecure           plaintext, no authentication; loopback coordinator only\n"
    "  --heartbeat DUR      heartbeat interval, e.g. 5s (default 5s)\n"
    "  --log-level LEVEL    debug, info, warn or error (default info)\n"
    "  --once               run every check once, print NAME SERVICE STATE OUTPUT, exit\n"
    "  --help               show this help\n"
    "  --version            show the version\n"
    "\n"
    "Exit status: 0 success, 1 runtime error, 2 bad usage or configuration.\n";

/* Prints one line "tocsin-agent: REASON (see --help)" and returns 2. */
__attribute__((format(printf, 1, 2))) static int s_usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, PROG ": %s (see --help)\n", msg);
    return 2;
}

typedef struct {
    const char *config;
    const char *id;
    const char *coordinator;
    const char *spool;
    const char *heartbeat;
    const char *log_level;
    const char *key, *server_key;
    bool insecure;
    bool once;
} s_flags_t;

int main(int argc, char **argv)
{
    /* czmq turns SIGINT/SIGTERM into a clean stop, but only once its
     * handlers are installed; do it first, so a stop during start-up
     * (reading the config, opening the spool) is clean too. */
    zsys_init();

    enum {
        O_CONFIG = 256,
        O_ID,
        O_COORD,
        O_SPOOL,
        O_INSECURE,
        O_HB,
        O_LOG,
        O_ONCE,
        O_HELP,
        O_VER,
        O_KEY,
        O_SKEY
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, O_CONFIG},
        {"id", required_argument, NULL, O_ID},
        {"coordinator", required_argument, NULL, O_COORD},
        {"spool", required_argument, NULL, O_SPOOL},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"key", required_argument, NULL, O_KEY},
        {"server-key", required_argument, NULL, O_SKEY},
        {"heartbeat", required_argument, NULL, O_HB},
        {"log-level", required_argument, NULL, O_LOG},
        {"once", no_argument, NULL, O_ONCE},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VER},
        {NULL, 0, NULL, 0},
    };
    s_flags_t f = {0};
    opterr = 0; /* our own one-line messages */
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: f.config = optarg; break;
        case O_ID: f.id = optarg; break;
        case O_COORD: f.coordinator = optarg; break;
        case O_SPOOL: f.spool = optarg; break;
        case O_INSECURE: f.insecure = true; break;
        case O_KEY: f.key = optarg; break;
        case O_SKEY: f.server_key = optarg; break;
        case O_HB: f.heartbeat = optarg; break;
        case O_LOG: f.log_level = optarg; break;
        case O_ONCE: f.once = true; break;
        case 'h':
        case O_HELP: fputs(s_usage, stdout); return 0;
        case O_VER: printf(PROG " %s\n", TOCSIN_VERSION); return 0;
        case ':': return s_usage_error("option %s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256 && optopt != '?')
                return s_usage_error("unknown option -%c", optopt);
            return s_usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument \"%s\"", argv[optind]);

    /* Validate flag values before touching any file. */
    int64_t hb_ms = 0;
    tc_log_level_t level = TC_LOG_INFO;
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
    if (f.log_level && tc_log_level_parse(f.log_level, &level) != 0)
        return s_usage_error("--log-level: expected debug, info, warn or error, not \"%s\"",
                             f.log_level);

    char err[1024] = "";
    int status = 1;
    tc_agent_config_t *cfg = tc_agent_config_new();
    if (!cfg) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    /* A configuration the operator got wrong is bad usage, as with the
     * coordinator: exit 2, naming file, line and key. */
    if (f.config && tc_agent_config_load(cfg, f.config, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        status = 2;
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
    if (f.insecure)
        cfg->insecure = true;
    if ((f.key && snprintf(cfg->key, sizeof cfg->key, "%s", f.key) >= (int)sizeof cfg->key) ||
        (f.server_key && snprintf(cfg->server_key, sizeof cfg->server_key, "%s", f.server_key) >=
                             (int)sizeof cfg->server_key)) {
        status = s_usage_error("--key/--server-key: path too long");
        goto done;
    }
    if (f.log_level)
        cfg->log_level = level;
    if (tc_agent_config_finish(cfg, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        status = 2;
        goto done;
    }
    tc_log_init(PROG, cfg->log_level);

    if (f.once) {
        int rc = tc_agent_run_once(cfg, stdout);
        if (rc != 0)
            fprintf(stderr, PROG ": %s\n",
                    rc == TC_EIO ? "interrupted before every check finished" : tc_strerror(rc));
        status = rc == 0 ? 0 : 1;
        goto done;
    }

    if (cfg->insecure) {
        if (!tc_endpoint_is_loopback(cfg->coordinator)) {
            fprintf(stderr,
                    PROG ": --insecure only allows a loopback coordinator endpoint, not %s\n",
                    cfg->coordinator);
            status = 2;
            goto done;
        }
        cfg->keys.insecure = true;
    } else if (tc_client_keys_load(&cfg->keys, cfg->key, cfg->server_key, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s (use --key and --server-key, or --insecure on loopback)\n", err);
        goto done;
    }

    tc_agent_t *agent = NULL;
    int rc = tc_agent_new(cfg, &agent, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s\n", err[0] ? err : tc_strerror(rc));
        goto done;
    }
    if (cfg->insecure)
        tc_warn("running with --insecure: plaintext, no authentication (loopback only)");
    tc_agent_run(agent);
    tc_agent_destroy(&agent);
    status = 0;
done:
    tc_agent_config_destroy(&cfg);
    return status;
}
