/*
 * spool_fill - prefills a sender's spool with check results, through the
 * real spool module, for tests that need a backlog (built only with the
 * tests, never installed).
 *
 *   spool_fill --dir DIR --id ID (--count N | --until-full) [--spool-max SIZE]
 *              [--checks K] [--service S] [--flip] [--time-base MS] [--batch N]
 *
 * Event i (0-based) is a CheckResult of check "fill-(i mod K)" of service S
 * (default "filler") on host ID, state OK (with --flip: alternately OK and
 * CRITICAL per check), output "fill i", observed at time-base + i ms
 * (default: now), so a test can recognise every event and its time in the
 * coordinator's log. --until-full appends until the spool refuses
 * (TC_EFULL). Prints one JSON line: {"count":N,"first":A,"last":B,
 * "time_base":T}. Exit status 0, 1 on a spool error, 2 on bad usage.
 */
#include "config.h"
#include "error.h"
#include "spool.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_usage(const char *msg)
{
    fprintf(stderr,
            "spool_fill: %s\nusage: spool_fill --dir DIR --id ID (--count N | --until-full) "
            "[--spool-max SIZE] [--checks K] [--service S] [--flip] [--time-base MS] "
            "[--batch N]\n",
            msg);
    return 2;
}

static void s_event(tc_msg_t *m, const char *id, const char *service, uint64_t i, uint64_t checks,
                    bool flip, int64_t time_base)
{
    memset(m, 0, sizeof *m);
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "%s", id);
    m->kind = TC_MSG_CHECK_RESULT;
    m->time_ms = time_base + (int64_t)i;
    tc_check_result_t *c = &m->u.check;
    snprintf(c->check, sizeof c->check, "fill-%" PRIu64, i % checks);
    snprintf(c->service, sizeof c->service, "%s", service);
    snprintf(c->host, sizeof c->host, "%s", id);
    c->state = flip && (i / checks) % 2 ? TC_STATE_CRITICAL : TC_STATE_OK;
    snprintf(c->output, sizeof c->output, "fill %" PRIu64, i);
    c->attempt = c->max_attempts = 1;
    c->hard = true;
}

int main(int argc, char **argv)
{
    enum {
        O_DIR = 256,
        O_ID,
        O_COUNT,
        O_FULL,
        O_MAX,
        O_CHECKS,
        O_SERVICE,
        O_FLIP,
        O_TIME,
        O_BATCH
    };
    static const struct option opts[] = {
        {"dir", required_argument, NULL, O_DIR},
        {"id", required_argument, NULL, O_ID},
        {"count", required_argument, NULL, O_COUNT},
        {"until-full", no_argument, NULL, O_FULL},
        {"spool-max", required_argument, NULL, O_MAX},
        {"checks", required_argument, NULL, O_CHECKS},
        {"service", required_argument, NULL, O_SERVICE},
        {"flip", no_argument, NULL, O_FLIP},
        {"time-base", required_argument, NULL, O_TIME},
        {"batch", required_argument, NULL, O_BATCH},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *id = NULL, *service = "filler";
    uint64_t count = 0, spool_max = 0, checks = 10, batch = 512, tb;
    bool until_full = false, flip = false;
    int64_t time_base = tc_now_ms();
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DIR: dir = optarg; break;
        case O_ID: id = optarg; break;
        case O_COUNT:
            if (tc_u64_parse(optarg, UINT32_MAX, &count) != 0)
                return s_usage("--count needs a number");
            break;
        case O_FULL: until_full = true; break;
        case O_MAX:
            if (tc_size_parse(optarg, &spool_max) != 0)
                return s_usage("--spool-max needs a size such as 1MiB");
            break;
        case O_CHECKS:
            if (tc_u64_parse(optarg, 100000, &checks) != 0 || checks == 0)
                return s_usage("--checks needs a number from 1");
            break;
        case O_SERVICE: service = optarg; break;
        case O_FLIP: flip = true; break;
        case O_TIME:
            if (tc_u64_parse(optarg, INT64_MAX, &tb) != 0)
                return s_usage("--time-base needs milliseconds since the epoch");
            time_base = (int64_t)tb;
            break;
        case O_BATCH:
            if (tc_u64_parse(optarg, 100000, &batch) != 0 || batch == 0)
                return s_usage("--batch needs a number from 1");
            break;
        default: return s_usage("unknown option");
        }
    }
    if (!dir || !id || (!count && !until_full) || optind < argc)
        return s_usage("--dir, --id and --count or --until-full are required");

    char why[512] = "";
    tc_spool_t *s = NULL;
    int rc = tc_spool_open(dir, id, (size_t)spool_max, &s, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "spool_fill: %s\n", why[0] ? why : tc_strerror(rc));
        return 1;
    }
    tc_msg_t *m = calloc(batch, sizeof *m);
    if (!m) {
        tc_spool_destroy(&s);
        return 1;
    }
    uint64_t done = 0, first = 0, last = 0;
    for (;;) {
        uint64_t n = batch;
        if (!until_full && count - done < n)
            n = count - done;
        if (n == 0)
            break;
        for (uint64_t k = 0; k < n; k++)
            s_event(&m[k], id, service, done + k, checks, flip, time_base);
        rc = tc_spool_append_batch(s, m, (size_t)n);
        if (rc == TC_EFULL && n > 1) {
            batch = 1; /* near the limit: one at a time to the last one */
            continue;
        }
        if (rc != 0)
            break;
        if (!first)
            first = m[0].seq;
        last = m[n - 1].seq;
        done += n;
    }
    free(m);
    tc_spool_destroy(&s);
    bool ok = rc == 0 || (until_full && rc == TC_EFULL);
    if (!ok) {
        fprintf(stderr, "spool_fill: after %" PRIu64 " events: %s\n", done, tc_strerror(rc));
        return 1;
    }
    printf("{\"count\":%" PRIu64 ",\"first\":%" PRIu64 ",\"last\":%" PRIu64
           ",\"time_base\":%" PRId64 "}\n",
           done, first, last, time_base);
    return 0;
}
