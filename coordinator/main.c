/*
 * tocsin-coordinator: receives agent events, keeps the log and incident
 * state in LMDB, and publishes broadcasts.
 */
#include "config.h"
#include "coordinator.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void s_usage(FILE *to)
{
    fprintf(to,
            "usage: tocsin-coordinator [OPTIONS]\n"
            "\n"
            "Receives agent events, stores them in an append-only LMDB log, runs the\n"
            "incident state machine and publishes broadcasts to subscribers.\n"
            "\n"
            "  -c, --config FILE     YAML configuration (flags override it)\n"
            "  -d, --data DIR        data directory (default /var/lib/tocsin)\n"
            "      --agents EP       endpoint for agents (default %s)\n"
            "      --api EP          endpoint for tocsinctl/tocsin-sub (default %s)\n"
            "      --publish EP      endpoint for broadcasts (default %s)\n"
            "  -k, --keys DIR        key directory (default /etc/tocsin/keys; see tocsinctl keys)\n"
            "      --insecure        plaintext without authentication; loopback only\n"
            "      --missed-heartbeats N  heartbeats missed before a host is down (3)\n"
            "      --test-clock      allow 'tocsinctl clock advance' (tests and drills only)\n"
            "      --verify-replay   replay the whole log, compare with the snapshot-based\n"
            "                        state, report differences, exit 0 (same) or 1; starts\n"
            "                        nothing and may run beside a running coordinator\n"
            "      --log-level L     debug, info, warn or error (default info)\n"
            "  -h, --help            this text\n"
            "  -V, --version         print the version\n",
            TC_DEFAULT_AGENTS_EP, TC_DEFAULT_API_EP, TC_DEFAULT_PUBLISH_EP);
}

static int s_bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "tocsin-coordinator: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

int main(int argc, char **argv)
{
    /* czmq's SIGINT/SIGTERM handlers first: a stop during start-up (replaying
     * a long log) must be as clean as one later. */
    zsys_init();
    enum {
        O_AGENTS = 256,
        O_API,
        O_PUBLISH,
        O_INSECURE,
        O_MISSED,
        O_LOGLEVEL,
        O_TESTCLOCK,
        O_VERIFY
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"agents", required_argument, NULL, O_AGENTS},
        {"api", required_argument, NULL, O_API},
        {"publish", required_argument, NULL, O_PUBLISH},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"test-clock", no_argument, NULL, O_TESTCLOCK},
        {"verify-replay", no_argument, NULL, O_VERIFY},
        {"keys", required_argument, NULL, 'k'},
        {"missed-heartbeats", required_argument, NULL, O_MISSED},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* Flags are collected first and applied after the file, so that they
     * override it whatever their order on the command line. */
    const char *config = NULL, *data = NULL, *agents = NULL, *api = NULL, *publish = NULL,
               *missed = NULL, *level = NULL, *keys = NULL;
    bool insecure = false, test_clock = false, verify = false;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:d:k:hV", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 'd': data = optarg; break;
        case 'k': keys = optarg; break;
        case O_AGENTS: agents = optarg; break;
        case O_API: api = optarg; break;
        case O_PUBLISH: publish = optarg; break;
        case O_INSECURE: insecure = true; break;
        case O_TESTCLOCK: test_clock = true; break;
        case O_VERIFY: verify = true; break;
        case O_MISSED: missed = optarg; break;
        case O_LOGLEVEL: level = optarg; break;
        case 'h': s_usage(stdout); return 0;
        case 'V': printf("tocsin-coordinator %s\n", TOCSIN_VERSION); return 0;
        case ':': return s_bad("option %s needs a value", argv[optind - 1]);
        default: return s_bad("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return s_bad("unexpected argument \"%s\"", argv[optind]);

    tc_coord_config_t cfg;
    tc_coord_config_defaults(&cfg);
    char err[1024];
    if (config && tc_coord_config_load(&cfg, config, err, sizeof err) != 0) {
        fprintf(stderr, "tocsin-coordinator: %s\n", err);
        return 2;
    }
    if (data)
        snprintf(cfg.data, sizeof cfg.data, "%s", data);
    if (keys)
        snprintf(cfg.keys, sizeof cfg.keys, "%s", keys);
    struct {
        const char *flag, *val;
        char *dst;
        size_t cap;
    } eps[] = {{"--agents", agents, cfg.agents, sizeof cfg.agents},
               {"--api", api, cfg.api, sizeof cfg.api},
               {"--publish", publish, cfg.publish, sizeof cfg.publish}};
    for (size_t i = 0; i < 3; i++) {
        if (!eps[i].val)
            continue;
        if (!tc_endpoint_valid(eps[i].val) || strlen(eps[i].val) >= eps[i].cap)
            return s_bad("invalid endpoint \"%s\" (want tcp://HOST:PORT)", eps[i].val);
        snprintf(eps[i].dst, eps[i].cap, "%s", eps[i].val);
    }
    if (insecure)
        cfg.insecure = true;
    if (test_clock)
        cfg.test_clock = true;
    if (missed) {
        uint64_t n;
        if (tc_u64_parse(missed, 1000, &n) != 0 || n < 1)
            return s_bad("--missed-heartbeats wants 1..1000, not \"%s\"", missed);
        cfg.missed_heartbeats = (uint32_t)n;
    }
    if (level && tc_log_level_parse(level, &cfg.log_level) != 0)
        return s_bad("unknown log level \"%s\"", level);

    /* Plaintext is for a developer's own machine: refuse it on any
     * endpoint another host could reach. */
    const char *all_eps[] = {cfg.agents, cfg.api, cfg.publish};
    for (size_t i = 0; cfg.insecure && i < 3; i++)
        if (!tc_endpoint_is_loopback(all_eps[i]))
            return s_bad("--insecure allows loopback endpoints only, not \"%s\"", all_eps[i]);

    tc_log_init("tocsin-coordinator", cfg.log_level);
    if (verify)
        return tc_coord_verify_replay(&cfg, stdout);
    /* czmq's own handlers turn SIGINT/SIGTERM into a clean zloop exit. */
    zsys_init();
    zsys_set_logstream(NULL);
    tc_info("starting version %s, data in %s%s", TOCSIN_VERSION, cfg.data,
            cfg.insecure ? ", INSECURE plaintext" : "");
    tc_coord_t *c = NULL;
    int rc = tc_coord_new(&cfg, &c);
    if (rc) {
        fprintf(stderr, "tocsin-coordinator: cannot start: %s\n", tc_strerror(rc));
        return 1;
    }
    rc = tc_coord_run(c);
    tc_coord_destroy(&c);
    tc_info("stopped");
    return rc ? 1 : 0;
}
