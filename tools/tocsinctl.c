/*
 * tocsinctl - ask the coordinator about incidents, hosts and its log.
 *
 * One request per run over the API socket (client/client.h); the answer is
 * printed as a readable table or, with --json, as the JSON documents of
 * DESIGN.md §3 (tools/ctl_show.h). The commands and options are one table
 * (tools/commands.h), which also makes the help and the bash completion.
 * With --json every error is a JSON object {"error": "..."} on stderr.
 * Exit status: 0 success, 1 the coordinator said no or did not answer, 2
 * bad usage.
 */
#include "cli.h"
#include "client.h"
#include "commands.h"
#include "comms.h"
#include "ctl_keys.h"
#include "ctl_show.h"
#include "error.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "render.h"
#include "table.h"
#include "utf8.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_PROG "tocsinctl"
#define S_DEFAULT_API "tcp://127.0.0.1:7402"
#define S_DEFAULT_TIMEOUT_MS 5000
#define S_EXIT_INTERRUPTED 130

/* The incidents filters (--service, --state, --severity, --since). */
typedef struct {
    const char *service;
    unsigned states;     /* bit per tc_incident_state_t; 0 = any */
    unsigned severities; /* bit per severity 0..5; 0 = any */
    int64_t since_ms;    /* 0 = any */
} s_filter_t;

typedef struct {
    const char *api;
    bool json;
    bool insecure;
    const char *key, *server_key, *dir;
    tc_client_keys_t keys;
    int64_t timeout_ms;
    uint64_t as_of_seq; /* --as-of SEQ */
    int64_t as_of_ms;   /* --as-of TIME */
    const char *command;
    /* More room than a request has: a note's or an action item's words are
     * joined into one message before sending. */
    const char *args[64];
    size_t nargs;
    bool all;
    const char *message;    /* -m: text for the incident timeline */
    char note[TC_BODY_MAX]; /* a note's words, joined (longer than a note may be: refused whole) */
    bool has_from, has_limit;
    bool draft;      /* postmortem ID: render the Markdown draft */
    bool force;      /* --force: handoff without the IC, resolve over failing checks */
    bool comms;      /* a communication-plan command (tools/comms.h) */
    bool list_items; /* actions ID: list the action items */
    const char *report[TC_REPORT_PARTS]; /* postmortem ID report: --summary ... --actions */
    uint64_t from;
    uint64_t limit;
    int given[64]; /* the command options given (getopt values), for the check */
    size_t ngiven;
    tc_comms_opts_t comms_opts;
    s_filter_t filter;
} s_opts_t;

/* ---- errors: one line of text, or {"error": ...} with --json ------------- */

static void s_verror(const s_opts_t *o, bool usage, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (o && o->json) {
        tc_json_t *j = tc_json_new();
        if (j) {
            tc_json_object_begin(j);
            tc_json_key(j, "error");
            tc_json_string(j, msg);
            tc_json_object_end(j);
        }
        if (j && tc_json_error(j) == 0) {
            fprintf(stderr, "%s\n", tc_json_data(j));
            tc_json_destroy(&j);
            return;
        }
        tc_json_destroy(&j);
    }
    fprintf(stderr, S_PROG ": %s%s\n", msg, usage ? " (see " S_PROG " --help)" : "");
}

/* A runtime failure: prints and returns exit status 1. */
__attribute__((format(printf, 2, 3))) static int s_fail(const s_opts_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(o, false, fmt, ap);
    va_end(ap);
    return TC_CLI_EXIT_FAIL;
}

/* Bad usage: prints and returns exit status 2. */
__attribute__((format(printf, 2, 3))) static int s_usage(const s_opts_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(o, true, fmt, ap);
    va_end(ap);
    return TC_CLI_EXIT_USAGE;
}

/* Prints `j` plus a newline on stdout. */
static int s_print_json(tc_json_t *j)
{
    int rc = tc_json_error(j);
    if (rc != 0)
        return rc;
    fwrite(tc_json_data(j), 1, tc_json_len(j), stdout);
    fputc('\n', stdout);
    return ferror(stdout) ? TC_EIO : 0;
}

/* ---- keys: local files, no coordinator ----------------------------------- */

/* Checks the arguments of `keys SUBCOMMAND ...`. Returns -1 to go on or a
 * usage exit status. */
static int s_parse_keys(s_opts_t *o)
{
    if (o->nargs == 0)
        return s_usage(o, "keys needs a subcommand: init, new, list or revoke");
    const char *subcmd = o->args[0];
    tc_key_class_t cls;
    if (!strcmp(subcmd, "list") || !strcmp(subcmd, "init")) {
        if (o->nargs != 1)
            return s_usage(o, "keys %s takes no argument", subcmd);
    } else if (o->nargs >= 2 && !strcmp(o->args[1], "integration") &&
               (!strcmp(subcmd, "new") || !strcmp(subcmd, "revoke"))) {
        /* Integration tokens (tools/ctl_keys.h): new takes the services. */
        bool add = !strcmp(subcmd, "new");
        if (add ? o->nargs < 4 : o->nargs != 3)
            return s_usage(o, add ? "keys new integration needs NAME and the SERVICEs (or *)"
                                  : "keys revoke integration needs NAME");
        if (!tc_id_valid(o->args[2]))
            return s_usage(o, "invalid integration name '%s' (letters, digits, . _ : -)",
                           o->args[2]);
    } else if (!strcmp(subcmd, "new") || !strcmp(subcmd, "revoke")) {
        if (o->nargs != 3)
            return s_usage(o, "keys %s needs CLASS and NAME", subcmd);
        if (tc_key_class_parse(o->args[1], &cls) != 0)
            return s_usage(o,
                           "unknown key class '%s' (agent, operator-ro, operator-rw, "
                           "subscriber, gateway, integration)",
                           o->args[1]);
        if (!tc_id_valid(o->args[2]))
            return s_usage(o, "invalid key name '%s' (letters, digits, . _ : -)", o->args[2]);
    } else {
        return s_usage(o, "unknown keys subcommand '%s'", subcmd);
    }
    if (!o->dir)
        o->dir = getenv("TOCSIN_KEYS_DIR");
    if (!o->dir) {
        struct stat st;
        o->dir =
            stat("var/keys", &st) == 0 && S_ISDIR(st.st_mode) ? "var/keys" : "/etc/tocsin/keys";
    }
    return -1;
}

typedef struct {
    tc_table_t *table;
    tc_json_t *json;
} s_key_list_t;

static void s_print_key(const tc_key_t *key, bool revoked, void *arg)
{
    s_key_list_t *l = arg;
    const char *state = revoked ? "revoked" : "allowed";
    if (l->json) {
        tc_json_object_begin(l->json);
        tc_json_key(l->json, "class");
        tc_json_string(l->json, tc_key_class_name(key->cls));
        tc_json_key(l->json, "name");
        tc_json_string(l->json, key->name);
        tc_json_key(l->json, "state");
        tc_json_string(l->json, state);
        tc_json_key(l->json, "public_key");
        tc_json_string(l->json, key->public_txt);
        tc_json_object_end(l->json);
        return;
    }
    const char *cells[] = {tc_key_class_name(key->cls), key->name, state, key->public_txt};
    tc_table_add_row(l->table, cells);
}

/* A JSON object of string pairs, NULL-terminated: {"k1": "v1", ...}. */
static int s_print_pairs(tc_json_t *j, const char *const *kv)
{
    tc_json_object_begin(j);
    for (; kv[0]; kv += 2) {
        tc_json_key(j, kv[0]);
        tc_json_string(j, kv[1]);
    }
    tc_json_object_end(j);
    return s_print_json(j);
}

/* Runs `keys ...` on the key directory itself: keys are files the
 * coordinator watches, so no coordinator is involved. */
static int s_keys(const s_opts_t *o, tc_json_t *j)
{
    const char *subcmd = o->args[0];
    tc_key_class_t cls = TC_KEY_AGENT;
    if (o->nargs == 3)
        tc_key_class_parse(o->args[1], &cls);
    int rc;
    if (o->nargs >= 2 && !strcmp(o->args[1], "integration")) {
        char why[512];
        rc = !strcmp(subcmd, "new")
                 ? tc_ctl_integration_new(o->dir, o->args + 2, o->nargs - 2, j, why, sizeof why)
                 : tc_ctl_integration_revoke(o->dir, o->args[2], j, why, sizeof why);
        return rc ? s_fail(o, "%s", why) : TC_CLI_EXIT_OK;
    }
    if (!strcmp(subcmd, "init")) {
        char pub[TC_KEY_TXT], sec[TC_KEY_TXT], cert[4200], why[4400];
        rc = tc_keys_server(o->dir, pub, sec);
        /* And the key that signs pages' acknowledgement links. */
        if (rc == 0 && tc_ctl_link_key(o->dir, why, sizeof why) != 0)
            return s_fail(o, "%s", why);
        snprintf(cert, sizeof cert, "%s/coordinator.cert", o->dir);
        if (rc == 0 && j) {
            const char *kv[] = {"dir", o->dir, "public_key", pub, "certificate", cert, NULL};
            rc = s_print_pairs(j, kv);
        } else if (rc == 0) {
            printf("key directory %s ready; coordinator public key %s\n"
                   "clients need %s (--server-key)\n",
                   o->dir, pub, cert);
        }
    } else if (!strcmp(subcmd, "new")) {
        char pair[4096], secret[4200], allowed[4400];
        rc = tc_keys_new(o->dir, cls, o->args[2], pair, sizeof pair);
        if (rc == TC_EINVAL)
            return s_fail(o, "a %s key named %s exists already in %s", o->args[1], o->args[2],
                          o->dir);
        snprintf(secret, sizeof secret, "%s_secret", pair);
        snprintf(allowed, sizeof allowed, "%s/%s/%s.cert", o->dir, tc_key_class_dir(cls),
                 o->args[2]);
        if (rc == 0 && j) {
            const char *kv[] = {"class",   tc_key_class_name(cls),
                                "name",    o->args[2],
                                "allowed", allowed,
                                "pair",    pair,
                                "secret",  secret,
                                NULL};
            rc = s_print_pairs(j, kv);
        } else if (rc == 0) {
            printf("made %s key %s\n  allowed:  %s\n  key pair: %s (and %s)\n"
                   "give the pair to its owner (--key %s) together with %s/coordinator.cert\n",
                   tc_key_class_name(cls), o->args[2], allowed, pair, secret, pair, o->dir);
        }
    } else if (!strcmp(subcmd, "revoke")) {
        rc = tc_keys_revoke(o->dir, cls, o->args[2]);
        if (rc == TC_ENOTFOUND)
            return s_fail(o, "no allowed %s key named %s in %s", o->args[1], o->args[2], o->dir);
        if (rc == 0 && j) {
            const char *kv[] = {
                "class", tc_key_class_name(cls), "name", o->args[2], "state", "revoked", NULL};
            rc = s_print_pairs(j, kv);
        } else if (rc == 0) {
            printf("revoked %s key %s; a running coordinator refuses it within a second\n",
                   tc_key_class_name(cls), o->args[2]);
        }
    } else {
        static const char *const headers[] = {"CLASS", "NAME", "STATE", "PUBLIC KEY"};
        s_key_list_t l = {.json = j};
        if (!j && !(l.table = tc_table_new(4, headers)))
            return s_fail(o, "%s", tc_strerror(TC_ENOMEM));
        if (j)
            tc_json_array_begin(j);
        rc = tc_keys_list(o->dir, s_print_key, &l);
        if (rc == 0)
            rc = tc_ctl_integration_list(o->dir, l.table, j);
        if (rc == 0 && j) {
            tc_json_array_end(j);
            rc = s_print_json(j);
        } else if (rc == 0) {
            rc = tc_table_print(l.table, stdout);
        }
        tc_table_destroy(&l.table);
    }
    if (rc == 0)
        return TC_CLI_EXIT_OK;
    if (rc == TC_EIO || rc == TC_ENOMEM)
        return s_fail(o, "cannot write output: %s",
                      rc == TC_EIO ? strerror(errno) : tc_strerror(rc));
    return s_fail(o, "keys in %s: %s%s%s", o->dir, tc_strerror(rc), rc == TC_ESYS ? ": " : "",
                  rc == TC_ESYS ? strerror(errno) : "");
}

/* ---- incident actions ------------------------------------------------------ */

/* Arguments after the incident id of each incident action, or -1 for a
 * command that is not one; "note" takes its text as arguments (-1 = any). */
static int s_action_args(const char *cmd)
{
    static const struct {
        const char *name;
        int args;
    } actions[] = {{"ack", 97},        {"resolve", 0},  {"reopen", 0},   {"declare", 0},
                   {"undeclare", 0},   {"security", 0}, {"state", 1},    {"sev", 1},
                   {"users", 1},       {"assign", 2},   {"handoff", 1},  {"note", 99},
                   {"postmortem", 98}, {"item", 2},     {"features", 1}, {"plan", 1}};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(cmd, actions[i].name))
            return actions[i].args;
    return -1;
}

/* Joins args[first..] with spaces into o->note. */
static void s_join(s_opts_t *o, size_t first)
{
    size_t len = 0;
    o->note[0] = '\0';
    for (size_t i = first; i < o->nargs && len < sizeof o->note; i++)
        len += (size_t)snprintf(o->note + len, sizeof o->note - len, "%s%s", i > first ? " " : "",
                                o->args[i]);
}

/* Checks an incident action's arguments; a note's words become its
 * message. Returns -1 to go on or a usage exit status. */
static int s_check_action(s_opts_t *o, int nargs)
{
    if (!strcmp(o->command, "clock")) {
        int64_t ms;
        if (o->nargs != 2 || strcmp(o->args[0], "advance") != 0 ||
            tc_duration_parse(o->args[1], &ms) != 0)
            return s_usage(o, "usage: clock advance DURATION (e.g. 20m)");
        return -1;
    }
    uint64_t id;
    if (o->nargs < 1 || tc_u64_parse(o->args[0], UINT64_MAX, &id) != 0 || id == 0)
        return s_usage(o, "%s needs an incident id first", o->command);
    if (!strcmp(o->command, "note")) {
        if (o->nargs < 2 && !o->message)
            return s_usage(o, "note needs text: note ID TEXT");
        /* The words after the id are the note. */
        s_join(o, 1);
        if (o->nargs >= 2)
            o->message = o->note;
        o->nargs = 1;
        return -1;
    }
    if (nargs == 97) { /* ack ID [ROLE] */
        if (o->nargs > 2)
            return s_usage(o, "ack takes an incident id and, for one page, a role");
        return -1;
    }
    if (nargs == 98 && o->nargs == 1) {
        o->draft = true;
        return -1;
    }
    if (nargs == 98) { /* postmortem ID done | owner PERSON; bare ID is the draft */
        bool report = o->nargs == 2 && !strcmp(o->args[1], "report");
        for (int k = 0; k < TC_REPORT_PARTS; k++)
            if (report && !o->report[k])
                return s_usage(o, "postmortem ID report needs --summary, --impact, --cause and "
                                  "--actions");
            else if (!report && o->report[k])
                return s_usage(o, "--summary, --impact, --cause and --actions go with "
                                  "postmortem ID report");
        if (report ||
            (o->nargs == 2 && (!strcmp(o->args[1], "done") || !strcmp(o->args[1], "approve") ||
                               !strcmp(o->args[1], "publish"))))
            return -1;
        if (o->nargs == 3 && (!strcmp(o->args[1], "owner") || !strcmp(o->args[1], "meeting")))
            return -1;
        return s_usage(o, "postmortem takes ID (the draft), ID done, ID owner PERSON, ID meeting "
                          "WHEN, ID report ..., ID approve or ID publish");
    }
    /* Optional words: security ID clear; --force of handoff and resolve. */
    if (!strcmp(o->command, "security") && o->nargs == 2 && !strcmp(o->args[1], "clear"))
        return -1;
    if (o->force && (int)o->nargs - 1 == nargs) {
        o->args[o->nargs++] = "force"; /* only handoff and resolve take it (their group) */
        return -1;
    }
    if ((int)o->nargs - 1 == nargs && nargs == 1) {
        uint64_t v;
        bool number = !strcmp(o->command, "sev") || !strcmp(o->command, "users") ||
                      !strcmp(o->command, "features");
        if (number && (tc_u64_parse(o->args[1], UINT32_MAX, &v) != 0 ||
                       (!strcmp(o->command, "sev") && (v < 1 || v > 5))))
            return s_usage(o, "%s wants %s, not '%s'", o->command,
                           !strcmp(o->command, "sev") ? "a severity from 1 to 5" : "a number",
                           o->args[1]);
        if (!strcmp(o->command, "plan") && strcmp(o->args[1], "full") != 0)
            return s_usage(o, "plan takes ID full");
    }
    if ((int)o->nargs - 1 != nargs)
        return s_usage(o, "%s takes an incident id%s", o->command,
                       nargs == 0   ? " and nothing else"
                       : nargs == 1 ? " and one value"
                                    : ", a role and a person");
    return -1;
}

/* `actions ID` lists; `actions ID add OWNER TEXT...` and `actions ID done
 * N` become the incident action "item". Returns -1 to go on or a usage
 * exit status. */
static int s_parse_items(s_opts_t *o)
{
    uint64_t id;
    if (o->nargs < 1 || tc_u64_parse(o->args[0], UINT64_MAX, &id) != 0 || id == 0)
        return s_usage(o, "actions needs an incident id first");
    if (o->nargs == 1) {
        o->list_items = true;
        o->command = "show";
        return -1;
    }
    if (!strcmp(o->args[1], "add")) {
        if (o->nargs < 4)
            return s_usage(o, "usage: actions ID add OWNER TEXT");
        s_join(o, 3);
        o->message = o->note;
        o->nargs = 3;
    } else if (!strcmp(o->args[1], "done")) {
        if (o->nargs != 3)
            return s_usage(o, "usage: actions ID done N");
    } else {
        return s_usage(o, "actions takes ID, ID add OWNER TEXT, or ID done N");
    }
    o->command = "item";
    return -1;
}

/* ---- filters ----------------------------------------------------------------- */

/* Parses a comma-separated list with `parse` into a bit set. */
static int s_bits(const char *list, int (*parse)(const char *, size_t), unsigned *out)
{
    *out = 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        int bit = n ? parse(p, n) : -1;
        if (bit < 0)
            return TC_EINVAL;
        *out |= 1u << bit;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

static int s_state_bit(const char *s, size_t n)
{
    for (int i = TC_INC_TRIGGERED; i <= TC_INC_RESOLVED; i++) {
        const char *name = tc_incident_state_name((tc_incident_state_t)i);
        if (strlen(name) == n && !strncmp(name, s, n))
            return i;
    }
    return -1;
}

static int s_severity_bit(const char *s, size_t n)
{
    return n == 1 && s[0] >= '0' && s[0] <= '5' ? s[0] - '0' : -1;
}

static bool s_filter_pass(const s_filter_t *f, const tc_incident_t *inc)
{
    if (f->service && strcmp(f->service, inc->service) != 0)
        return false;
    if (f->states && !(f->states & (1u << inc->state)))
        return false;
    if (f->severities && (inc->severity > 5 || !(f->severities & (1u << inc->severity))))
        return false;
    return !f->since_ms || inc->opened_ms >= f->since_ms;
}

/* Keeps, in place, the incidents of the reply the filters let through. */
static void s_filter_reply(const s_filter_t *f, tc_api_reply_t *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->nincidents; i++) {
        if (!s_filter_pass(f, &r->incidents[i]))
            continue;
        if (kept != i)
            memcpy(&r->incidents[kept], &r->incidents[i], sizeof r->incidents[i]);
        kept++;
    }
    r->nincidents = kept;
}

/* ---- the command line ------------------------------------------------------------ */

/* Takes in one option getopt_long() returned. Returns -1 to go on, 0 after
 * --help/--version, or the usage exit status. */
static int s_option(s_opts_t *o, int c, const char *arg)
{
    const tc_ctl_option_t *opt = tc_ctl_option(c);
    /* Whether it applies is decided once the command is known. */
    if (opt && opt->groups && o->ngiven < sizeof o->given / sizeof o->given[0])
        o->given[o->ngiven++] = c;
    tc_comms_opts_t *co = &o->comms_opts;
    switch (c) {
    case TC_CTL_OPT_HELP: tc_ctl_usage(stdout); return 0;
    case TC_CTL_OPT_VERSION: printf(S_PROG " " TOCSIN_VERSION "\n"); return 0;
    case TC_CTL_OPT_JSON: o->json = true; break;
    case TC_CTL_OPT_OUTPUT:
        if (strcmp(arg, "json") && strcmp(arg, "text"))
            return s_usage(o, "--output takes text or json, not '%s'", arg);
        o->json = !strcmp(arg, "json");
        break;
    case TC_CTL_OPT_API: o->api = arg; break;
    case TC_CTL_OPT_KEY: o->key = arg; break;
    case TC_CTL_OPT_SERVER_KEY: o->server_key = arg; break;
    case TC_CTL_OPT_INSECURE: o->insecure = true; break;
    case TC_CTL_OPT_DIR: o->dir = arg; break;
    case TC_CTL_OPT_ALL: o->all = true; break;
    case TC_CTL_OPT_FORCE: o->force = true; break;
    case TC_CTL_OPT_MESSAGE: o->message = arg; break;
    case TC_CTL_OPT_AS_OF: {
        /* A log sequence, a time (RFC 3339, now), or -DURATION ago. */
        int64_t d;
        if (tc_u64_parse(arg, UINT64_MAX, &o->as_of_seq) == 0 && o->as_of_seq > 0)
            break;
        o->as_of_seq = 0;
        if (arg[0] == '-' && tc_duration_parse(arg + 1, &d) == 0)
            o->as_of_ms = tc_now_ms() - d;
        else if (tc_when_parse(arg, tc_now_ms(), &o->as_of_ms) != 0)
            return s_usage(o,
                           "--as-of wants a log sequence (42), a time (2026-12-01T14:05Z) or how "
                           "long ago (-2h), not '%s'",
                           arg);
        break;
    }
    case TC_CTL_OPT_TIMEOUT:
        if (tc_duration_parse(arg, &o->timeout_ms) != 0 || o->timeout_ms <= 0)
            return s_usage(o, "--timeout needs a duration such as 500ms or 5s");
        break;
    case TC_CTL_OPT_FROM:
        if (tc_u64_parse(arg, UINT64_MAX, &o->from) != 0)
            return s_usage(o, "--from needs a log sequence number");
        o->has_from = true;
        break;
    case TC_CTL_OPT_LIMIT:
        if (tc_u64_parse(arg, UINT32_MAX, &o->limit) != 0)
            return s_usage(o, "--limit needs a number of records");
        o->has_limit = true;
        break;
    /* Options shared by a filter and a comms command keep both readings;
     * the command decides which applies. */
    case TC_CTL_OPT_SERVICE:
        o->filter.service = arg;
        co->service = arg;
        break;
    case TC_CTL_OPT_STATE:
        co->state = arg;
        if (s_bits(arg, s_state_bit, &o->filter.states) != 0)
            o->filter.states = ~0u; /* checked if it is a filter */
        break;
    case TC_CTL_OPT_SEVERITY:
        co->severity = arg;
        if (s_bits(arg, s_severity_bit, &o->filter.severities) != 0)
            o->filter.severities = ~0u;
        break;
    case TC_CTL_OPT_SINCE: {
        int64_t ms, now = tc_now_ms();
        if (tc_duration_parse(arg, &ms) == 0)
            o->filter.since_ms = now - ms;
        else if (tc_when_parse(arg, now, &ms) == 0)
            o->filter.since_ms = ms;
        else
            return s_usage(o,
                           "--since needs RFC 3339 (2026-12-01T08:00:00Z) or a duration "
                           "such as 24h, not '%s'",
                           arg);
        if (o->filter.since_ms <= 0)
            o->filter.since_ms = 1;
        break;
    }
    case TC_CTL_OPT_EXTERNAL: co->external = true; break;
    case TC_CTL_OPT_INTERNAL: co->internal = true; break;
    case TC_CTL_OPT_SCENARIO: co->scenario = arg; break;
    case TC_CTL_OPT_TITLE: co->title = arg; break;
    case TC_CTL_OPT_COMPONENTS: co->components = arg; break;
    case TC_CTL_OPT_NEXT: co->next = arg; break;
    case TC_CTL_OPT_ETA: co->eta = arg; break;
    case TC_CTL_OPT_START: co->start = arg; break;
    case TC_CTL_OPT_END: co->end = arg; break;
    case TC_CTL_OPT_EVERY: co->every = arg; break;
    case TC_CTL_OPT_VERIFY: co->verify = arg; break;
    case TC_CTL_OPT_WAIT: co->wait = arg; break;
    case TC_CTL_OPT_SUMMARY: o->report[TC_REPORT_SUMMARY] = arg; break;
    case TC_CTL_OPT_IMPACT: o->report[TC_REPORT_IMPACT] = arg; break;
    case TC_CTL_OPT_CAUSE: o->report[TC_REPORT_CAUSE] = arg; break;
    case TC_CTL_OPT_ACTIONS: o->report[TC_REPORT_ACTIONS] = arg; break;
    default: return s_usage(o, "option %d is not handled", c); /* a table bug */
    }
    return -1;
}

/* Every command option given must belong to one of the command's groups
 * (an option in several groups, such as --state, to any of them). */
static int s_check_groups(s_opts_t *o)
{
    unsigned takes = tc_ctl_command_groups(o->command);
    for (size_t i = 0; i < o->ngiven; i++) {
        const tc_ctl_option_t *opt = tc_ctl_option(o->given[i]);
        if (!(opt->groups & takes))
            return s_usage(o, "--%s does not apply to '%s'", opt->name, o->command);
    }
    if ((takes & TC_CTL_G_FILTER) && (o->filter.states == ~0u || o->filter.severities == ~0u))
        return s_usage(o, o->filter.states == ~0u
                              ? "--state takes triggered, investigating, identified, monitoring "
                                "or resolved (a comma-separated list)"
                              : "--severity takes 0..5 (a comma-separated list)");
    if (!(takes & TC_CTL_G_FILTER))
        memset(&o->filter, 0, sizeof o->filter);
    return -1;
}

/* Parses argv into *o with one getopt_long() pass: options before and
 * after the command alike. Returns -1 to go on, or an exit status (0 after
 * --help). */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    const struct option *longopts = tc_ctl_getopt_longopts();
    /* '-': words come back in order as option 1, whatever POSIXLY_CORRECT
     * says, so "incidents --json" and "--json incidents" both work. */
    char shortopts[32];
    snprintf(shortopts, sizeof shortopts, "-%s", tc_ctl_getopt_shortopts());
    char first_error[512] = "";
    int c, rc;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (c == 1) {
            if (!o->command)
                o->command = optarg;
            else if (o->nargs < sizeof o->args / sizeof o->args[0])
                o->args[o->nargs++] = optarg;
            else if (!first_error[0])
                snprintf(first_error, sizeof first_error, "too many arguments");
            continue;
        }
        if (c == '?' || c == ':') {
            /* Reported once every option is read, so that a --json later
             * on the line still shapes the message. */
            if (!first_error[0])
                tc_cli_getopt_reason(c, argv, longopts, first_error, sizeof first_error);
            continue;
        }
        if (first_error[0] && c != TC_CTL_OPT_JSON && c != TC_CTL_OPT_OUTPUT)
            continue;
        if ((rc = s_option(o, c, optarg)) >= 0)
            return rc;
    }
    /* Words after "--" are arguments, even if they start with '-'. */
    for (; optind < argc; optind++) {
        if (!o->command)
            o->command = argv[optind];
        else if (o->nargs < sizeof o->args / sizeof o->args[0])
            o->args[o->nargs++] = argv[optind];
    }
    if (first_error[0])
        return s_usage(o, "%s", first_error);
    if (!o->command)
        return s_usage(o, "no command given");
    if (!strcmp(o->command, "help")) {
        tc_ctl_usage(stdout);
        return 0;
    }
    if (!tc_ctl_command(o->command))
        return s_usage(o, "unknown command '%s'", o->command);
    if ((rc = s_check_groups(o)) >= 0)
        return rc;
    if (!strcmp(o->command, "completion")) {
        if (o->nargs != 1 || strcmp(o->args[0], "bash") != 0)
            return s_usage(o, "usage: completion bash");
        return -1;
    }
    if (!strcmp(o->command, "keys"))
        return s_parse_keys(o);
    if (!strcmp(o->command, "actions") && (rc = s_parse_items(o)) >= 0)
        return rc;
    if (tc_comms_command(o->command)) {
        o->comms = true;
        goto endpoint; /* its words are checked when the request is built */
    }
    bool is_show = !strcmp(o->command, "show") || !strcmp(o->command, "timeline");
    if (!strcmp(o->command, "oncall") && o->nargs > 1)
        return s_usage(o, "oncall takes at most one team or role");
    int nargs = s_action_args(o->command);
    if (nargs >= 0 || !strcmp(o->command, "clock")) {
        if ((rc = s_check_action(o, nargs)) >= 0)
            return rc;
    } else if (is_show && !o->list_items) {
        uint64_t id;
        if (o->nargs != 1)
            return s_usage(o, "%s needs exactly one incident id", o->command);
        if (tc_u64_parse(o->args[0], UINT64_MAX, &id) != 0 || id == 0)
            return s_usage(o, "invalid incident id '%s'", o->args[0]);
    } else if (o->nargs > 0 && !o->list_items && strcmp(o->command, "oncall") != 0) {
        return s_usage(o, "%s takes no argument '%s'", o->command, o->args[0]);
    }
    /* `--state resolved` means resolved incidents: they are in --all. */
    if (o->filter.states & (1u << TC_INC_RESOLVED))
        o->all = true;

endpoint:;
    char why[512];
    if (tc_cli_check_endpoint("--api", o->api, o->insecure, why, sizeof why) != 0)
        return s_usage(o, "%s", why);
    static const char *const key_defaults[] = {"var/keys/private/operator-rw.local.cert",
                                               "/etc/tocsin/keys/private/operator-rw.local.cert",
                                               NULL};
    if (tc_cli_keys(o->insecure, o->key, o->server_key, key_defaults, &o->keys, why, sizeof why) !=
        0)
        return s_usage(o, "%s", why);
    return -1;
}

/* A public report's part: the text, or with @FILE the file's content
 * (without its last newline), into `dst`. Returns -1 to go on or a usage
 * exit status. */
static int s_report_part(const s_opts_t *o, int k, char *dst, size_t cap)
{
    static const char *const flags[TC_REPORT_PARTS] = {"--summary", "--impact", "--cause",
                                                       "--actions"};
    const char *arg = o->report[k];
    if (arg[0] != '@') {
        if (strlen(arg) >= cap)
            return s_usage(o, "%s is %zu bytes; a whole report holds at most %d", flags[k],
                           strlen(arg), TC_BODY_MAX - 1);
        snprintf(dst, cap, "%s", arg);
        return -1;
    }
    FILE *f = fopen(arg + 1, "r");
    if (!f)
        return s_usage(o, "%s %s: %s", flags[k], arg, strerror(errno));
    size_t n = fread(dst, 1, cap, f);
    bool err = ferror(f) != 0;
    fclose(f);
    if (err)
        return s_usage(o, "%s %s: cannot read it", flags[k], arg);
    if (n == cap)
        return s_usage(o, "%s %s: longer than a whole report (%d bytes)", flags[k], arg,
                       TC_BODY_MAX - 1);
    while (n > 0 && dst[n - 1] == '\n')
        n--;
    dst[n] = '\0';
    if (memchr(dst, '\0', n))
        return s_usage(o, "%s %s: not text (it holds a NUL byte)", flags[k], arg);
    return -1;
}

/* `postmortem ID report`: the four parts in one message, separated by
 * TC_REPORT_SEPARATOR (the coordinator composes and checks them). */
static int s_report_message(const s_opts_t *o, tc_api_request_t *req)
{
    size_t len = 0;
    for (int k = 0; k < TC_REPORT_PARTS; k++) {
        char part[TC_BODY_MAX];
        int rc = s_report_part(o, k, part, sizeof part);
        if (rc >= 0)
            return rc;
        if (strchr(part, TC_REPORT_SEPARATOR))
            return s_usage(o, "the report holds a control character (0x1f)");
        size_t n = strlen(part);
        if (len + n + 1 >= sizeof req->message)
            return s_usage(o,
                           "the report is longer than %d bytes; a report holds at most that "
                           "with its headings",
                           TC_BODY_MAX - 1);
        if (k)
            req->message[len++] = TC_REPORT_SEPARATOR;
        memcpy(req->message + len, part, n + 1);
        len += n;
    }
    return -1;
}

/* Builds the request the command asks. Returns -1 to go on or a usage
 * exit status. */
static int s_request(s_opts_t *o, tc_api_request_t *req, int64_t *drill_wait_ms)
{
    memset(req, 0, sizeof *req);
    req->version = TC_PROTOCOL_VERSION;
    if (o->comms) {
        char why[512];
        if (tc_comms_request(o->command, o->args, o->nargs, &o->comms_opts, o->message, req,
                             drill_wait_ms, why, sizeof why) != 0)
            return s_usage(o, "%s", why);
        return -1;
    }
    if (o->nargs > TC_API_ARGS_MAX)
        return s_usage(o, "too many arguments for %s", o->command);
    snprintf(req->command, sizeof req->command, "%s", o->command);
    for (size_t i = 0; i < o->nargs; i++)
        snprintf(req->args[i], sizeof req->args[i], "%s", o->args[i]);
    req->nargs = o->nargs;
    req->all = o->all;
    req->from = o->from;
    req->limit = (uint32_t)o->limit;
    req->as_of_seq = o->as_of_seq;
    req->as_of_ms = o->as_of_ms;
    /* The draft is rendered here from the incident and its timeline. */
    if (o->draft)
        snprintf(req->command, sizeof req->command, "timeline");
    /* A report covers every incident: it asks for incidents --all. */
    if (!strcmp(o->command, "report")) {
        snprintf(req->command, sizeof req->command, "incidents");
        req->all = true;
    }
    if (o->report[0])
        return s_report_message(o, req);
    /* Other commands' texts (notes, reasons, action items) hold 511
     * bytes: refused whole, never cut. */
    if (o->message && strlen(o->message) >= TC_TEXT_MAX)
        return s_usage(o, "the text is %zu bytes; %s takes at most %d bytes of UTF-8",
                       strlen(o->message), o->command, TC_TEXT_MAX - 1);
    if (o->message)
        tc_strlcpy_utf8(req->message, o->message, sizeof req->message);
    return -1;
}

/* Prints where the next page starts, if the coordinator has more. */
static void s_more(const s_opts_t *o, uint64_t next_from)
{
    if (!next_from)
        return;
    /* A page boundary is worth knowing even in JSON mode; stderr keeps
     * stdout a single document. */
    if (o->json)
        fprintf(stderr,
                "{\"more\":true,\"next_from\":%" PRIu64
                ",\"note\":\"more records follow; continue with --from %" PRIu64 "\"}\n",
                next_from, next_from);
    else
        fprintf(stderr, S_PROG ": more records follow; continue with --from %" PRIu64 "\n",
                next_from);
}

/* Prints the reply. Returns 0 or an error code (TC_ENOTFOUND: no such
 * incident, already worded by the caller). */
static int s_show(const s_opts_t *o, tc_client_t *client, tc_api_request_t *req,
                  tc_api_reply_t *reply, int64_t drill_wait_ms, tc_json_t *j)
{
    tc_json_t *jj = o->json ? j : NULL;
    uint64_t next = 0;
    int rc;
    const char *cmd = o->command;
    if (o->comms && !strcmp(cmd, "drill") && reply->nincidents)
        return tc_comms_drill_report(stdout, client, &reply->incidents[0], drill_wait_ms,
                                     o->timeout_ms, jj);
    if (o->comms)
        return tc_comms_print(stdout, req->command, reply, jj);
    if (!strcmp(cmd, "status"))
        return tc_ctl_show_status(reply, jj);
    if (!strcmp(cmd, "incidents") || !strcmp(cmd, "report")) {
        s_filter_reply(&o->filter, reply);
        return !strcmp(cmd, "report") ? tc_ctl_show_report(reply, jj)
                                      : tc_ctl_show_incidents(reply, o->all, jj);
    }
    if (!strcmp(cmd, "oncall"))
        return tc_ctl_show_oncall(reply, jj);
    if (o->list_items)
        return tc_ctl_show_items(reply, jj);
    if (!strcmp(cmd, "timeline"))
        return tc_ctl_show_timeline(reply, jj);
    if (o->draft)
        return tc_ctl_show_postmortem(reply, jj);
    if (!strcmp(cmd, "clock")) {
        if (jj) {
            tc_json_object_begin(jj);
            tc_json_key(jj, "advanced");
            tc_json_string(jj, o->args[1]);
            tc_json_object_end(jj);
            return s_print_json(jj);
        }
        printf("the coordinator's clock moved forward by %s\n", o->args[1]);
        return 0;
    }
    if (!strcmp(cmd, "show") || s_action_args(cmd) >= 0)
        return tc_ctl_show_incident(reply, jj);
    if (!strcmp(cmd, "audit")) {
        rc = tc_ctl_show_audit(reply, jj, &next);
    } else {
        rc = tc_ctl_show_log(reply, jj, &next);
    }
    if (rc == 0)
        s_more(o, next);
    return rc;
}

int main(int argc, char **argv)
{
    s_opts_t o = {.api = S_DEFAULT_API, .timeout_ms = S_DEFAULT_TIMEOUT_MS};
    int status = s_parse(argc, argv, &o);
    if (status >= 0)
        return status;
    tc_log_init(S_PROG, TC_LOG_WARN);
    if (!strcmp(o.command, "completion")) {
        tc_ctl_completion_bash(stdout);
        return fflush(stdout) == 0 ? TC_CLI_EXIT_OK : TC_CLI_EXIT_FAIL;
    }
    tc_json_t *j = tc_json_new();
    if (!j)
        return s_fail(&o, "%s", tc_strerror(TC_ENOMEM));
    if (!strcmp(o.command, "keys")) {
        status = s_keys(&o, o.json ? j : NULL);
        tc_json_destroy(&j);
        return status;
    }
    tc_api_request_t req;
    int64_t drill_wait_ms = 0;
    if ((status = s_request(&o, &req, &drill_wait_ms)) >= 0) {
        tc_json_destroy(&j);
        return status;
    }

    status = TC_CLI_EXIT_FAIL;
    tc_api_reply_t *reply = NULL;
    tc_client_t *client = tc_client_new(o.api, &o.keys);
    if (!client) {
        s_fail(&o, "cannot open a socket to %s", o.api);
        goto done_json;
    }
    int rc = tc_client_call(client, &req, o.timeout_ms, &reply);
    if (rc == TC_ETIMEOUT) {
        char dur[32];
        /* The request may have arrived: a coordinator whose commit waits on
         * a slow disk answers after it is stored. Repeating an action
         * blindly could do it twice (a second note, a second page). */
        s_fail(&o, "no answer from %s within %s (is tocsin-coordinator running?)%s", o.api,
               tc_duration_compact(o.timeout_ms, dur, sizeof dur),
               tc_api_is_action(req.command)
                   ? "; if it is only slow the action may still take effect: check (show, "
                     "updates, timeline) before repeating it, or allow longer with --timeout"
                   : "");
        goto done_client;
    }
    if (rc == TC_EAUTH) {
        s_fail(&o, "%s refused the connection: %s", o.api,
               o.insecure ? "it expects CURVE keys (drop --insecure)"
                          : "key unknown, revoked or not allowed, or wrong --server-key");
        goto done_client;
    }
    if (rc == TC_ESYS && zsys_interrupted) {
        status = S_EXIT_INTERRUPTED;
        goto done_client;
    }
    if (rc != 0) {
        s_fail(&o, "bad answer from %s: %s", o.api, tc_strerror(rc));
        goto done_client;
    }
    if (!reply->ok) {
        char clean[TC_TEXT_MAX];
        tc_utf8_sanitize(reply->error[0] ? reply->error : "request failed", clean, sizeof clean);
        s_fail(&o, "%s", clean);
        goto done_reply;
    }
    rc = s_show(&o, client, &req, reply, drill_wait_ms, j);
    if (rc == 0 && fflush(stdout) != 0)
        rc = TC_EIO;
    if (rc == TC_ENOTFOUND)
        s_fail(&o, "no incident %s", o.nargs ? o.args[0] : "");
    else if (rc == TC_EDECODE)
        s_fail(&o, "the coordinator's reply holds no %s", o.command);
    else if (rc == TC_EIO || rc == TC_ENOMEM)
        s_fail(&o, "cannot write output: %s", rc == TC_EIO ? strerror(errno) : tc_strerror(rc));
    else if (rc != 0)
        s_fail(&o, "%s", tc_strerror(rc));
    if (rc == 0)
        status = TC_CLI_EXIT_OK;
done_reply:
    tc_api_reply_destroy(&reply);
done_client:
    tc_client_destroy(&client);
done_json:
    tc_json_destroy(&j);
    return status;
}
