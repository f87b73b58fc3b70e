/*
 * tocsin-coordinator: receives agent events, keeps the log and incident
 * state in LMDB, and publishes broadcasts.
 *
 * main() reads the options and the configuration, checks everything it can
 * without starting (s_check(): the file, the on-call roster, the status
 * update templates, their cross-references, the key directory and the data
 * directory) and then either reports (--check-config) or starts. Exit
 * status: 0 after SIGINT/SIGTERM, 1 on a runtime failure, 2 on bad usage or
 * a bad configuration.
 */
#include "cfgcheck.h"
#include "cli.h"
#include "config.h"
#include "coordinator.h"
#include "error.h"
#include "httpd.h"
#include "keys.h"
#include "log.h"
#include "oncall.h"
#include "sdnotify.h"
#include "template.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_PROG "tocsin-coordinator"

static void s_usage(FILE *to)
{
    fprintf(to,
            "usage: " S_PROG " [OPTIONS]\n"
            "\n"
            "Receives agent events, stores them in an append-only LMDB log, runs the\n"
            "incident state machine and publishes broadcasts to subscribers.\n"
            "\n"
            "options (override the configuration file):\n"
            "  -c, --config FILE       YAML configuration (see tocsin-coordinator.yaml(5))\n"
            "  -d, --data DIR          data directory (default /var/lib/tocsin)\n"
            "      --agents EP         endpoint for agents (default %s)\n"
            "      --api EP            endpoint for tocsinctl and tocsin-sub\n"
            "                          (default %s)\n"
            "      --publish EP        endpoint for broadcasts (default %s)\n"
            "      --metrics ADDR:PORT serve GET /metrics (e.g. %s; default off)\n"
            "  -k, --keys DIR          key directory (default /etc/tocsin/keys;\n"
            "                          see tocsinctl keys)\n"
            "      --insecure          plaintext without authentication; loopback only\n"
            "      --missed-heartbeats N  heartbeats missed before a host is down (default 3)\n"
            "      --test-clock        allow 'tocsinctl clock advance' (tests, drills)\n"
            "      --verify-replay     replay the whole log, compare with the snapshot-based\n"
            "                          state, report differences, exit 0 (same) or 1;\n"
            "                          starts nothing, may run beside a running coordinator\n"
            "      --log-level LEVEL   debug, info, warn or error (default info)\n"
            "      --log-format FMT    text or json (default text)\n"
            "      --check-config      check the configuration, keys and directories, print\n"
            "                          \"ok\" or every problem with file and line, and exit\n"
            "  -h, --help              show this help\n"
            "  -V, --version           show the version\n"
            "\n" TC_CLI_HELP_EXIT,
            TC_DEFAULT_AGENTS_EP, TC_DEFAULT_API_EP, TC_DEFAULT_PUBLISH_EP,
            TC_DEFAULT_METRICS_ADDR);
}

#define s_usage_error(...) tc_cli_usage_error(S_PROG, __VA_ARGS__)

typedef struct {
    const char *config, *data, *agents, *api, *publish, *missed, *level, *format, *keys, *metrics;
    bool insecure, test_clock, check, verify;
} s_flags_t;

/* Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, s_flags_t *f)
{
    enum {
        O_AGENTS = 256,
        O_API,
        O_PUBLISH,
        O_INSECURE,
        O_MISSED,
        O_LOGLEVEL,
        O_LOGFORMAT,
        O_TESTCLOCK,
        O_CHECK,
        O_VERIFY,
        O_METRICS
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"agents", required_argument, NULL, O_AGENTS},
        {"api", required_argument, NULL, O_API},
        {"publish", required_argument, NULL, O_PUBLISH},
        {"metrics", required_argument, NULL, O_METRICS},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"test-clock", no_argument, NULL, O_TESTCLOCK},
        {"verify-replay", no_argument, NULL, O_VERIFY},
        {"keys", required_argument, NULL, 'k'},
        {"missed-heartbeats", required_argument, NULL, O_MISSED},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"log-format", required_argument, NULL, O_LOGFORMAT},
        {"check-config", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:d:k:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': f->config = optarg; break;
        case 'd': f->data = optarg; break;
        case 'k': f->keys = optarg; break;
        case O_AGENTS: f->agents = optarg; break;
        case O_API: f->api = optarg; break;
        case O_PUBLISH: f->publish = optarg; break;
        case O_METRICS: f->metrics = optarg; break;
        case O_INSECURE: f->insecure = true; break;
        case O_TESTCLOCK: f->test_clock = true; break;
        case O_MISSED: f->missed = optarg; break;
        case O_LOGLEVEL: f->level = optarg; break;
        case O_LOGFORMAT: f->format = optarg; break;
        case O_CHECK: f->check = true; break;
        case O_VERIFY: f->verify = true; break;
        case 'h': s_usage(stdout); return 0;
        case 'V': printf(S_PROG " %s\n", TOCSIN_VERSION); return 0;
        default: return tc_cli_getopt_error(S_PROG, opt, argv, opts);
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument \"%s\"", argv[optind]);
    if (f->check && f->verify)
        return s_usage_error("--check-config and --verify-replay exclude each other");
    return -1;
}

/* Lays the flags over the configuration. Returns -1 or an exit status. */
static int s_apply_flags(const s_flags_t *f, tc_coord_config_t *cfg, tc_log_format_t *format)
{
    if (f->data)
        snprintf(cfg->data, sizeof cfg->data, "%s", f->data);
    if (f->keys)
        snprintf(cfg->keys, sizeof cfg->keys, "%s", f->keys);
    struct {
        const char *flag, *val;
        char *dst;
        size_t cap;
    } eps[] = {{"--agents", f->agents, cfg->agents, sizeof cfg->agents},
               {"--api", f->api, cfg->api, sizeof cfg->api},
               {"--publish", f->publish, cfg->publish, sizeof cfg->publish}};
    for (size_t i = 0; i < 3; i++) {
        if (!eps[i].val)
            continue;
        if (!tc_endpoint_valid(eps[i].val) || strlen(eps[i].val) >= eps[i].cap)
            return s_usage_error("%s: invalid endpoint \"%s\" (want tcp://HOST:PORT)", eps[i].flag,
                                 eps[i].val);
        snprintf(eps[i].dst, eps[i].cap, "%s", eps[i].val);
    }
    if (f->metrics) {
        if (!tc_httpd_addr_valid(f->metrics) || strlen(f->metrics) >= sizeof cfg->metrics)
            return s_usage_error("--metrics: invalid address \"%s\" (want IP:PORT, e.g. %s)",
                                 f->metrics, TC_DEFAULT_METRICS_ADDR);
        snprintf(cfg->metrics, sizeof cfg->metrics, "%s", f->metrics);
    }
    if (f->insecure)
        cfg->insecure = true;
    if (f->test_clock)
        cfg->test_clock = true;
    if (f->missed) {
        uint64_t n;
        if (tc_u64_parse(f->missed, 1000, &n) != 0 || n < 1)
            return s_usage_error("--missed-heartbeats wants 1..1000, not \"%s\"", f->missed);
        cfg->missed_heartbeats = (uint32_t)n;
    }
    if (f->level && tc_log_level_parse(f->level, &cfg->log_level) != 0)
        return s_usage_error("--log-level: expected debug, info, warn or error, not \"%s\"",
                             f->level);
    if (f->format && tc_log_format_parse(f->format, format) != 0)
        return s_usage_error("--log-format: expected text or json, not \"%s\"", f->format);
    /* Plaintext is for a developer's own machine: refuse it on any
     * endpoint another host could reach. */
    const char *all_eps[] = {cfg->agents, cfg->api, cfg->publish};
    for (size_t i = 0; cfg->insecure && i < 3; i++)
        if (!tc_endpoint_is_loopback(all_eps[i]))
            return s_usage_error("--insecure allows loopback endpoints only, not \"%s\"",
                                 all_eps[i]);
    return -1;
}

/* The key directory: the coordinator's pair if it is there (else it will
 * be made, so the directory must be writable), and readable class
 * directories. */
static void s_check_keys(const tc_coord_config_t *cfg, tc_cfgcheck_t *ck)
{
    const char *file = cfg->path[0] ? cfg->path : NULL;
    int line = tc_cfgcheck_line(file, "coordinator.keys");
    char pair[4200], secret[4300];
    snprintf(pair, sizeof pair, "%s/coordinator.cert", cfg->keys);
    snprintf(secret, sizeof secret, "%s_secret", pair);
    struct stat st;
    if (stat(pair, &st) == 0 || stat(secret, &st) == 0)
        tc_cfgcheck_key(ck, file, line, "the coordinator's key pair", pair, true);
    else if (!tc_cfgcheck_dir(ck, file, line, "coordinator.keys", cfg->keys))
        return;
    for (int i = 0; i < TC_KEY_CLASSES; i++) {
        char d[4200];
        snprintf(d, sizeof d, "%s/%s", cfg->keys, tc_key_class_dir((tc_key_class_t)i));
        if (stat(d, &st) == 0 && access(d, R_OK | X_OK) != 0)
            tc_cfgcheck_error(ck, file, line, "coordinator.keys: cannot read %s: %s", d,
                              strerror(errno));
    }
}

/* Everything that can be checked without starting. Appends a summary of
 * what was checked to `summary`. */
static void s_check(const tc_coord_config_t *cfg, tc_cfgcheck_t *ck, char *summary, size_t cap)
{
    const char *file = cfg->path[0] ? cfg->path : NULL;
    char err[1024];
    tc_roster_t *roster = NULL;
    bool roster_failed = false;
    if (file && tc_roster_load(file, &roster, err, sizeof err) != 0) {
        tc_cfgcheck_add(ck, err);
        roster_failed = true;
    }
    char tdir[4096];
    tc_coord_config_templates_dir(cfg, tdir, sizeof tdir);
    tc_templates_t *templates = NULL;
    if (tc_templates_load(tdir, &templates, err, sizeof err) != 0)
        tc_cfgcheck_error(ck, tdir[0] ? tdir : NULL, 0, "templates: %s", err);
    tc_templates_destroy(&templates);
    tc_roster_t *empty = roster || roster_failed ? NULL : tc_roster_new_empty();
    tc_coord_config_check(cfg, roster ? roster : empty, ck);
    tc_roster_destroy(&roster);
    tc_roster_destroy(&empty);
    if (!cfg->insecure)
        s_check_keys(cfg, ck);
    tc_cfgcheck_dir(ck, file, tc_cfgcheck_line(file, "coordinator.data"), "coordinator.data",
                    cfg->data);
    snprintf(summary, cap,
             "%.1024s: %zu services, %zu components; templates %.1024s; keys %.1024s; data %.1024s",
             file ? file : "built-in defaults", cfg->policy.nservices, cfg->policy.ncomponents,
             tdir[0] ? tdir : "built-in", cfg->insecure ? "none (--insecure)" : cfg->keys,
             cfg->data);
}

int main(int argc, char **argv)
{
    /* czmq's SIGINT/SIGTERM handlers first: a stop during start-up (replaying
     * a long log) must be as clean as one later. */
    zsys_init();
    s_flags_t f = {0};
    int status = s_parse(argc, argv, &f);
    if (status >= 0)
        return status;

    tc_coord_config_t cfg;
    tc_coord_config_defaults(&cfg);
    tc_log_format_t format = TC_LOG_TEXT;
    char err[1024];
    if (f.config && tc_coord_config_load(&cfg, f.config, err, sizeof err) != 0) {
        /* A file that does not parse is reported alone: what follows would
         * check a half-read configuration. */
        return tc_cfgcheck_load_failed(S_PROG, f.check, err);
    }
    if ((status = s_apply_flags(&f, &cfg, &format)) >= 0)
        return status;
    if (f.verify) {
        tc_log_init(S_PROG, cfg.log_level);
        tc_log_set_format(format);
        return tc_coord_verify_replay(&cfg, stdout);
    }

    tc_cfgcheck_t *ck = tc_cfgcheck_new(S_PROG);
    if (!ck) {
        fprintf(stderr, S_PROG ": %s\n", tc_strerror(TC_ENOMEM));
        return TC_CLI_EXIT_FAIL;
    }
    char summary[8192];
    s_check(&cfg, ck, summary, sizeof summary);
    if (f.check) {
        status = tc_cfgcheck_report(ck, summary);
        tc_cfgcheck_destroy(&ck);
        return status;
    }
    tc_log_init(S_PROG, cfg.log_level);
    tc_log_set_format(format);
    status = tc_cfgcheck_before_start(ck);
    tc_cfgcheck_destroy(&ck);
    if (status != 0)
        return status;

    zsys_set_logstream(NULL);
    tc_sdnotify_t *sd = tc_sdnotify_new();
    if (!sd) {
        fprintf(stderr, S_PROG ": %s\n", tc_strerror(TC_ENOMEM));
        return TC_CLI_EXIT_FAIL;
    }
    tc_info("starting version %s, data in %s%s", TOCSIN_VERSION, cfg.data,
            cfg.insecure ? ", INSECURE plaintext" : "");
    tc_coord_t *c = NULL;
    int rc = tc_coord_new(&cfg, &c);
    if (rc) {
        /* tc_coord_new() logged the cause (which port, which file); this
         * line only says that nothing runs. */
        if (rc == TC_ENOMEM)
            tc_error("not started: %s", tc_strerror(rc));
        else
            tc_error("not started (the cause is logged above)");
        tc_sdnotify_destroy(&sd);
        return TC_CLI_EXIT_FAIL;
    }
    if (tc_sdnotify_watch(sd, tc_coord_loop(c)) != 0)
        tc_warn("cannot arm the systemd watchdog timer");
    char ready[1024];
    snprintf(ready, sizeof ready, "agents %s, api %s, publish %s", cfg.agents, cfg.api,
             cfg.publish);
    tc_sdnotify_ready(sd, ready);
    rc = tc_coord_run(c);
    tc_sdnotify_stopping(sd);
    tc_coord_destroy(&c);
    tc_sdnotify_destroy(&sd);
    tc_info("stopped");
    return rc ? TC_CLI_EXIT_FAIL : TC_CLI_EXIT_OK;
}
