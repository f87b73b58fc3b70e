/*
 * tocsinctl - ask the coordinator about incidents, hosts and its log.
 *
 * One request per run over the API socket (tools/client.h); the answer is
 * printed as a readable table or, with --json, as the JSON documents of
 * DESIGN.md §3. Exit status: 0 success, 1 the coordinator said no or did
 * not answer, 2 bad usage.
 */
#include "cli.h"
#include "client.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "render.h"
#include "utf8.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define S_PROG "tocsinctl"
#define S_DEFAULT_API "tcp://127.0.0.1:7402"
#define S_DEFAULT_TIMEOUT_MS 5000
#define S_EXIT_FAIL 1
#define S_EXIT_USAGE 2
#define S_EXIT_INTERRUPTED 130

typedef struct {
    const char *api;
    bool json;
    bool insecure;
    int64_t timeout_ms;
    const char *command;
    const char *args[TC_API_ARGS_MAX];
    size_t nargs;
    bool all;
    bool has_from, has_limit;
    uint64_t from;
    uint64_t limit;
} s_opts_t;

static void s_usage(FILE *out)
{
    fputs("usage: tocsinctl [--api EP] [--json] [--timeout DUR] --insecure COMMAND [ARGS]\n"
          "\n"
          "Ask the tocsin coordinator about incidents, hosts and its event log.\n"
          "\n"
          "commands:\n"
          "  status                         coordinator summary and hosts\n"
          "  incidents [--all]              open incidents (--all: resolved ones too)\n"
          "  show ID                        one incident in full\n"
          "  log [--from SEQ] [--limit N]   event-log records from SEQ (default: the start)\n"
          "  help                           this text\n"
          "\n"
          "options:\n"
          "  --api EP        coordinator API endpoint (default " S_DEFAULT_API ")\n"
          "  --json          print JSON instead of tables\n"
          "  --timeout DUR   how long to wait for an answer, e.g. 500ms, 5s (default 5s)\n"
          "  --insecure      plaintext connection; required until CURVE is implemented,\n"
          "                  loopback endpoints only\n"
          "  --help          this text\n"
          "\n"
          "exit status: 0 success, 1 failure or no answer, 2 usage error\n",
          out);
}

/* Prints a one-line usage error and returns the usage exit status. */
__attribute__((format(printf, 1, 2))) static int s_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(S_PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see tocsinctl --help)\n", stderr);
    va_end(ap);
    return S_EXIT_USAGE;
}

/* Parses argv into *o. Options are accepted before and after the command,
 * so "tocsinctl incidents --json" works as well as the documented order.
 * Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    const char *value = NULL;
    bool only_args = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (only_args || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (!o->command)
                o->command = arg;
            else if (o->nargs < TC_API_ARGS_MAX)
                o->args[o->nargs++] = arg;
            else
                return s_usage_error("too many arguments");
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_args = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            printf(S_PROG " " TOCSIN_VERSION "\n");
            return 0;
        } else if (strcmp(arg, "--json") == 0) {
            o->json = true;
        } else if (strcmp(arg, "--insecure") == 0) {
            o->insecure = true;
        } else if (strcmp(arg, "--all") == 0) {
            o->all = true;
        } else if ((m = tc_cli_value(argc, argv, &i, "--api", &value)) != 0) {
            if (m < 0)
                return s_usage_error("--api needs an endpoint");
            o->api = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--timeout", &value)) != 0) {
            if (m < 0 || tc_duration_parse(value, &o->timeout_ms) != 0 || o->timeout_ms <= 0)
                return s_usage_error("--timeout needs a duration such as 500ms or 5s");
        } else if ((m = tc_cli_value(argc, argv, &i, "--from", &value)) != 0) {
            if (m < 0 || tc_u64_parse(value, UINT64_MAX, &o->from) != 0)
                return s_usage_error("--from needs a log sequence number");
            o->has_from = true;
        } else if ((m = tc_cli_value(argc, argv, &i, "--limit", &value)) != 0) {
            if (m < 0 || tc_u64_parse(value, UINT32_MAX, &o->limit) != 0)
                return s_usage_error("--limit needs a number of records");
            o->has_limit = true;
        } else {
            return s_usage_error("unknown option '%s'", arg);
        }
    }

    if (!o->command)
        return s_usage_error("no command given");
    if (strcmp(o->command, "help") == 0) {
        s_usage(stdout);
        return 0;
    }
    bool is_incidents = strcmp(o->command, "incidents") == 0;
    bool is_log = strcmp(o->command, "log") == 0;
    bool is_show = strcmp(o->command, "show") == 0;
    if (!is_incidents && !is_log && !is_show && strcmp(o->command, "status") != 0)
        return s_usage_error("unknown command '%s'", o->command);
    if (o->all && !is_incidents)
        return s_usage_error("--all only applies to 'incidents'");
    if ((o->has_from || o->has_limit) && !is_log)
        return s_usage_error("--from and --limit only apply to 'log'");
    if (is_show) {
        uint64_t id;
        if (o->nargs != 1)
            return s_usage_error("show needs exactly one incident id");
        if (tc_u64_parse(o->args[0], UINT64_MAX, &id) != 0 || id == 0)
            return s_usage_error("invalid incident id '%s'", o->args[0]);
    } else if (o->nargs > 0) {
        return s_usage_error("%s takes no argument '%s'", o->command, o->args[0]);
    }

    char why[256];
    if (tc_cli_check_endpoint("--api", o->api, o->insecure, why, sizeof why) != 0) {
        fprintf(stderr, S_PROG ": %s\n", why);
        return S_EXIT_USAGE;
    }
    return -1;
}

/* Prints the document in `j` plus a newline. Returns 0 or an error code. */
static int s_print_json(tc_json_t *j)
{
    int rc = tc_json_error(j);
    if (rc != 0)
        return rc;
    fwrite(tc_json_data(j), 1, tc_json_len(j), stdout);
    fputc('\n', stdout);
    return ferror(stdout) ? TC_EIO : 0;
}

static int s_show_status(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    if (!r->has_status) {
        fprintf(stderr, S_PROG ": the coordinator's reply holds no status\n");
        return TC_EDECODE;
    }
    if (!o->json)
        return tc_render_status_text(stdout, &r->status, tc_now_ms());
    tc_render_status_json(j, &r->status);
    return s_print_json(j);
}

static int s_show_incidents(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    if (!o->json)
        return tc_render_incidents_text(stdout, r->incidents, r->nincidents, o->all);
    tc_json_array_begin(j);
    for (size_t i = 0; i < r->nincidents; i++)
        tc_render_incident_json(j, &r->incidents[i]);
    tc_json_array_end(j);
    return s_print_json(j);
}

static int s_show_one(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    if (r->nincidents == 0) {
        fprintf(stderr, S_PROG ": no incident %s\n", o->args[0]);
        return TC_ENOTFOUND;
    }
    if (!o->json)
        return tc_render_incident_text(stdout, &r->incidents[0]);
    tc_render_incident_json(j, &r->incidents[0]);
    return s_print_json(j);
}

static int s_show_log(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    int rc = 0;
    if (o->json) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->nlog; i++)
            tc_render_record_json(j, &r->log[i]);
        tc_json_array_end(j);
        rc = s_print_json(j);
    } else if (r->nlog == 0) {
        printf("no log records\n");
    } else {
        char line[4096];
        for (size_t i = 0; i < r->nlog; i++)
            printf("%s\n", tc_render_record_line(&r->log[i], line, sizeof line));
    }
    /* A page boundary is worth knowing even in JSON mode; stderr keeps
     * stdout a single document. */
    if (rc == 0 && r->more && r->nlog > 0)
        fprintf(stderr, S_PROG ": more records follow; continue with --from %" PRIu64 "\n",
                r->log[r->nlog - 1].seq + 1);
    return rc;
}

int main(int argc, char **argv)
{
    s_opts_t o = {.api = S_DEFAULT_API, .timeout_ms = S_DEFAULT_TIMEOUT_MS};
    int status = s_parse(argc, argv, &o);
    if (status >= 0)
        return status;
    tc_log_init(S_PROG, TC_LOG_WARN);

    tc_api_request_t req = {.version = TC_PROTOCOL_VERSION};
    snprintf(req.command, sizeof req.command, "%s", o.command);
    for (size_t i = 0; i < o.nargs; i++)
        snprintf(req.args[i], sizeof req.args[i], "%s", o.args[i]);
    req.nargs = o.nargs;
    req.all = o.all;
    req.from = o.from;
    req.limit = (uint32_t)o.limit;

    status = S_EXIT_FAIL;
    tc_api_reply_t *reply = NULL;
    tc_json_t *j = tc_json_new();
    if (!j) {
        fprintf(stderr, S_PROG ": %s\n", tc_strerror(TC_ENOMEM));
        goto done;
    }
    tc_client_t *client = tc_client_new(o.api);
    if (!client) {
        fprintf(stderr, S_PROG ": cannot open a socket to %s\n", o.api);
        goto done_json;
    }

    int rc = tc_client_call(client, &req, o.timeout_ms, &reply);
    if (rc == TC_ETIMEOUT) {
        char dur[32];
        fprintf(stderr, S_PROG ": no answer from %s within %s (is tocsin-coordinator running?)\n",
                o.api, tc_render_duration(o.timeout_ms, dur, sizeof dur));
        goto done_client;
    }
    if (rc == TC_ESYS && zsys_interrupted) {
        status = S_EXIT_INTERRUPTED;
        goto done_client;
    }
    if (rc != 0) {
        fprintf(stderr, S_PROG ": bad answer from %s: %s\n", o.api, tc_strerror(rc));
        goto done_client;
    }
    if (!reply->ok) {
        char clean[TC_TEXT_MAX];
        tc_utf8_sanitize(reply->error[0] ? reply->error : "request failed", clean, sizeof clean);
        fprintf(stderr, S_PROG ": %s\n", clean);
        goto done_reply;
    }

    if (strcmp(o.command, "status") == 0)
        rc = s_show_status(&o, reply, j);
    else if (strcmp(o.command, "incidents") == 0)
        rc = s_show_incidents(&o, reply, j);
    else if (strcmp(o.command, "show") == 0)
        rc = s_show_one(&o, reply, j);
    else
        rc = s_show_log(&o, reply, j);
    if (rc == 0 && fflush(stdout) != 0)
        rc = TC_EIO;
    if (rc == TC_EIO || rc == TC_ENOMEM)
        fprintf(stderr, S_PROG ": cannot write output: %s\n",
                rc == TC_EIO ? strerror(errno) : tc_strerror(rc));
    if (rc == 0)
        status = 0;

done_reply:
    tc_api_reply_destroy(&reply);
done_client:
    tc_client_destroy(&client);
done_json:
    tc_json_destroy(&j);
done:
    return status;
}
