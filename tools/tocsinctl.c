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
#include "comms.h"
#include "error.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "render.h"
#include "postmortem.h"
#include "report.h"
#include "table.h"
#include "utf8.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    char note[TC_TEXT_MAX]; /* a note's words, joined */
    bool has_from, has_limit;
    bool draft;      /* postmortem ID: render the Markdown draft */
    bool comms;      /* a communication-plan command (tools/comms.h) */
    bool list_items; /* actions ID: list the action items */
    bool force;      /* --force: handoff without the IC, resolve over failing checks */
    uint64_t from;
    uint64_t limit;
} s_opts_t;

static void s_usage(FILE *out)
{
    fputs("usage: tocsinctl [--api EP] [--json] [--timeout DUR] [--key FILE] [--server-key FILE]\n"
          "                 [--insecure] COMMAND [ARGS]\n"
          "\n"
          "Ask the tocsin coordinator about incidents, hosts and its event log.\n"
          "\n"
          "commands:\n"
          "  status                         coordinator summary and hosts\n"
          "  incidents [--all]              open incidents (--all: resolved ones too)\n"
          "  show ID                        one incident in full\n"
          "  log [--from SEQ] [--limit N]   event-log records from SEQ (default: the start)\n"
          "  audit [--from SEQ] [--limit N] operator actions and refused access\n"
          "  timeline ID                    everything that happened to an incident, in order\n"
          "  oncall [TEAM|ROLE]             who is on call now, and until when\n"
          "  report                         time to acknowledge, declare and resolve, per\n"
          "                                 incident and aggregated (mean, median, p90, max)\n"
          "\n"
          "incident actions (need an operator-rw key; -m TEXT adds a message):\n"
          "  ack ID [ROLE]                  acknowledge the incident and your pages\n"
          "                                 (triggered -> investigating), or one role's page\n"
          "  state ID STATE                 investigating, identified or monitoring\n"
          "  resolve ID [--force]           close it (--force: although checks still fail)\n"
          "  reopen ID                      reopen within the reopen window\n"
          "  declare ID | undeclare ID      declare it an incident, or withdraw that\n"
          "  sev ID 1..5                    set the severity (SEV-1 and SEV-2 are major)\n"
          "  users ID N                     set the number of users affected\n"
          "  features ID N                  set the number of features affected\n"
          "  security ID                    flag a suspected security or data breach\n"
          "  security ID clear              the IC, and the DPO, clear it for disclosure\n"
          "  plan ID full                   out of hours: page the IC and every role\n"
          "  assign ID ROLE PERSON          commander, deputy, scribe, sme,\n"
          "                                 customer_liaison, internal_liaison, dpo\n"
          "  handoff ID PERSON [--force]    the IC hands command to PERSON (--force: the IC\n"
          "                                 cannot be reached; recorded, the IC is told)\n"
          "  note ID TEXT                   add a note to the timeline (the scribe's job)\n"
          "  postmortem ID                  a Markdown post-mortem draft, filled from the log\n"
          "  postmortem ID done | owner P   mark it done, or give it to another owner\n"
          "  postmortem ID meeting WHEN     schedule its meeting (RFC 3339, +DURATION)\n"
          "  actions ID                     the post-mortem's action items\n"
          "  actions ID add OWNER TEXT      track a follow-up action\n"
          "  actions ID done N              mark action item N done\n"
          "  clock advance DURATION         move the coordinator's clock (--test-clock only)\n"
          "\n"
          "communication plan:\n"
          "  update ID draft [--external|--internal] [--scenario S] [--state ST]\n"
          "                  [--title T] [--components A,B] [--next DUR] [-m TEXT]\n"
          "                                 draft a status update; without -m the text comes\n"
          "                                 from the template SCENARIO.AUDIENCE.STATE\n"
          "  update ID approve N            the incident commander approves an external one\n"
          "  update ID publish N | withdraw N  publish it to its audience, or drop it\n"
          "  updates ID                     an incident's status updates\n"
          "  component [NAME STATUS|auto]   components and their status; set or un-set one\n"
          "                                 (operational, degraded_performance,\n"
          "                                 partial_outage, major_outage, under_maintenance)\n"
          "  maintenance                    maintenance windows\n"
          "  maintenance add TITLE --start WHEN --end WHEN --components A,B\n"
          "                  [--every DUR] [--verify DUR] [-m ANNOUNCEMENT]\n"
          "                                 WHEN: RFC 3339, now or +DURATION\n"
          "  maintenance start|complete|cancel ID\n"
          "  drill [--service S] [--severity N] [--wait DUR]\n"
          "                                 a synthetic DRILL incident through the whole plan,\n"
          "                                 then a report of what each channel delivered\n"
          "  subscribers                    what notifiers delivered, per subscription\n"
          "\n"
          "keys (files in the key directory; no coordinator needed):\n"
          "  keys init                      make the key directory and the coordinator's pair\n"
          "  keys new CLASS NAME            make a key pair; CLASS is agent, operator-ro,\n"
          "                                 operator-rw or subscriber; NAME (for an agent:\n"
          "                                 its id) is bound to the key\n"
          "  keys list                      allowed and revoked keys\n"
          "  keys revoke CLASS NAME         revoke a key (takes effect within a second)\n"
          "  help                           this text\n"
          "\n"
          "options:\n"
          "  --api EP        coordinator API endpoint (default " S_DEFAULT_API ")\n"
          "  --json          print JSON instead of tables\n"
          "  --timeout DUR   how long to wait for an answer, e.g. 500ms, 5s (default 5s)\n"
          "  --as-of WHEN    incidents, show, timeline, status, updates, components as they\n"
          "                  were after log record SEQ, at a time (RFC 3339), or -DUR ago\n"
          "  --key FILE      this client's key pair (default $TOCSIN_KEY, then\n"
          "                  var/keys/private/operator-rw.local.cert as made by make run)\n"
          "  --server-key FILE  the coordinator's certificate (default $TOCSIN_SERVER_KEY,\n"
          "                  then var/keys/coordinator.cert, /etc/tocsin/keys/coordinator.cert)\n"
          "  --dir DIR       key directory for 'keys' (default $TOCSIN_KEYS_DIR, then\n"
          "                  var/keys if it exists, then /etc/tocsin/keys)\n"
          "  --insecure      plaintext connection without keys; loopback endpoints only\n"
          "  --help          this text\n"
          "\n"
          "exit status: 0 success, 1 failure or no answer, 2 usage error\n",
          out);
}

/* Prints a one-line usage error and returns the usage exit status. */
/* One line on stderr, exit status 2 (tools/cli.h). */
#define s_usage_error(...) tc_cli_usage_error(S_PROG, __VA_ARGS__)

/* Checks the arguments of `keys SUBCOMMAND ...`. Returns -1 to go on or a
 * usage exit status. */
static int s_parse_keys(s_opts_t *o)
{
    if (o->nargs == 0)
        return s_usage_error("keys needs a subcommand: init, new, list or revoke");
    const char *subcmd = o->args[0];
    tc_key_class_t cls;
    if (!strcmp(subcmd, "list") || !strcmp(subcmd, "init")) {
        if (o->nargs != 1)
            return s_usage_error("keys %s takes no argument", subcmd);
    } else if (!strcmp(subcmd, "new") || !strcmp(subcmd, "revoke")) {
        if (o->nargs != 3)
            return s_usage_error("keys %s needs CLASS and NAME", subcmd);
        if (tc_key_class_parse(o->args[1], &cls) != 0)
            return s_usage_error("unknown key class '%s' (agent, operator-ro, operator-rw, "
                                 "subscriber)",
                                 o->args[1]);
        if (!tc_id_valid(o->args[2]))
            return s_usage_error("invalid key name '%s' (letters, digits, . _ : -)", o->args[2]);
    } else {
        return s_usage_error("unknown keys subcommand '%s'", subcmd);
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

static void s_print_key(const tc_key_t *key, bool revoked, void *arg)
{
    tc_table_t *t = arg;
    const char *cells[] = {tc_key_class_name(key->cls), key->name, revoked ? "revoked" : "allowed",
                           key->public_txt};
    tc_table_add_row(t, cells);
}

/* Runs `keys ...` on the key directory itself: keys are files the
 * coordinator watches, so no coordinator is involved. */
static int s_keys(const s_opts_t *o)
{
    const char *subcmd = o->args[0];
    tc_key_class_t cls = TC_KEY_AGENT;
    if (o->nargs == 3)
        tc_key_class_parse(o->args[1], &cls);
    int rc;
    if (!strcmp(subcmd, "init")) {
        char pub[TC_KEY_TXT], sec[TC_KEY_TXT];
        rc = tc_keys_server(o->dir, pub, sec);
        if (rc == 0) {
            printf("key directory %s ready; coordinator public key %s\n"
                   "clients need %s/coordinator.cert (--server-key)\n",
                   o->dir, pub, o->dir);
            return 0;
        }
    } else if (!strcmp(subcmd, "new")) {
        char pair[4096];
        rc = tc_keys_new(o->dir, cls, o->args[2], pair, sizeof pair);
        if (rc == TC_EINVAL) {
            fprintf(stderr, S_PROG ": a %s key named %s exists already in %s\n", o->args[1],
                    o->args[2], o->dir);
            return S_EXIT_FAIL;
        }
        if (rc == 0) {
            printf("made %s key %s\n  allowed:  %s/%s/%s.cert\n  key pair: %s (and %s_secret)\n"
                   "give the pair to its owner (--key %s) together with %s/coordinator.cert\n",
                   tc_key_class_name(cls), o->args[2], o->dir, tc_key_class_dir(cls), o->args[2],
                   pair, pair, pair, o->dir);
            return 0;
        }
    } else if (!strcmp(subcmd, "revoke")) {
        rc = tc_keys_revoke(o->dir, cls, o->args[2]);
        if (rc == TC_ENOTFOUND) {
            fprintf(stderr, S_PROG ": no allowed %s key named %s in %s\n", o->args[1], o->args[2],
                    o->dir);
            return S_EXIT_FAIL;
        }
        if (rc == 0) {
            printf("revoked %s key %s; a running coordinator refuses it within a second\n",
                   tc_key_class_name(cls), o->args[2]);
            return 0;
        }
    } else {
        static const char *const headers[] = {"CLASS", "NAME", "STATE", "PUBLIC KEY"};
        tc_table_t *t = tc_table_new(4, headers);
        if (!t)
            return S_EXIT_FAIL;
        rc = tc_keys_list(o->dir, s_print_key, t);
        if (rc == 0)
            tc_table_print(t, stdout);
        tc_table_destroy(&t);
        if (rc == 0)
            return 0;
    }
    fprintf(stderr, S_PROG ": keys in %s: %s\n", o->dir, tc_strerror(rc));
    return S_EXIT_FAIL;
}

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

/* Checks an incident action's arguments; a note's words become its
 * message. Returns -1 to go on or a usage exit status. */
static int s_check_action(s_opts_t *o, int nargs)
{
    if (!strcmp(o->command, "clock")) {
        int64_t ms;
        if (o->nargs != 2 || strcmp(o->args[0], "advance") != 0 ||
            tc_duration_parse(o->args[1], &ms) != 0)
            return s_usage_error("usage: clock advance DURATION (e.g. 20m)");
        return -1;
    }
    uint64_t id;
    if (o->nargs < 1 || tc_u64_parse(o->args[0], UINT64_MAX, &id) != 0 || id == 0)
        return s_usage_error("%s needs an incident id first", o->command);
    if (!strcmp(o->command, "note")) {
        if (o->nargs < 2 && !o->message)
            return s_usage_error("note needs text: note ID TEXT");
        /* The words after the id are the note; joined with spaces. */
        char *text = o->note;
        size_t len = 0;
        text[0] = '\0';
        for (size_t i = 1; i < o->nargs && len < sizeof o->note; i++)
            len += (size_t)snprintf(text + len, sizeof o->note - len, "%s%s", i > 1 ? " " : "",
                                    o->args[i]);
        if (o->nargs >= 2)
            o->message = text;
        o->nargs = 1;
        return -1;
    }
    if (nargs == 97) { /* ack ID [ROLE] */
        if (o->nargs > 2)
            return s_usage_error("ack takes an incident id and, for one page, a role");
        return -1;
    }
    if (nargs == 98 && o->nargs == 1) {
        o->draft = true;
        return -1;
    }
    if (nargs == 98) { /* postmortem ID done | owner PERSON; bare ID is the draft */
        if (o->nargs == 2 && !strcmp(o->args[1], "done"))
            return -1;
        if (o->nargs == 3 && (!strcmp(o->args[1], "owner") || !strcmp(o->args[1], "meeting")))
            return -1;
        return s_usage_error(
            "postmortem takes ID (the draft), ID done, ID owner PERSON or ID meeting WHEN");
    }
    /* Optional words: security ID clear; --force of handoff and resolve. */
    if (!strcmp(o->command, "security") && o->nargs == 2 && !strcmp(o->args[1], "clear"))
        return -1;
    if (o->force && (!strcmp(o->command, "handoff") || !strcmp(o->command, "resolve")) &&
        (int)o->nargs - 1 == nargs) {
        o->args[o->nargs++] = "force";
        return -1;
    }
    if ((int)o->nargs - 1 == nargs && nargs == 1) {
        uint64_t v;
        bool number = !strcmp(o->command, "sev") || !strcmp(o->command, "users") ||
                      !strcmp(o->command, "features");
        if (number && (tc_u64_parse(o->args[1], UINT32_MAX, &v) != 0 ||
                       (!strcmp(o->command, "sev") && (v < 1 || v > 5))))
            return s_usage_error("%s wants %s, not '%s'", o->command,
                                 !strcmp(o->command, "sev") ? "a severity from 1 to 5" : "a number",
                                 o->args[1]);
        if (!strcmp(o->command, "plan") && strcmp(o->args[1], "full") != 0)
            return s_usage_error("plan takes ID full");
    }
    if ((int)o->nargs - 1 != nargs)
        return s_usage_error("%s takes an incident id%s", o->command,
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
        return s_usage_error("actions needs an incident id first");
    if (o->nargs == 1) {
        o->list_items = true;
        o->command = "show";
        return -1;
    }
    if (!strcmp(o->args[1], "add")) {
        if (o->nargs < 4)
            return s_usage_error("usage: actions ID add OWNER TEXT");
        size_t len = 0;
        o->note[0] = '\0';
        for (size_t i = 3; i < o->nargs && len < sizeof o->note; i++)
            len += (size_t)snprintf(o->note + len, sizeof o->note - len, "%s%s", i > 3 ? " " : "",
                                    o->args[i]);
        o->message = o->note;
        o->nargs = 3;
    } else if (!strcmp(o->args[1], "done")) {
        if (o->nargs != 3)
            return s_usage_error("usage: actions ID done N");
    } else {
        return s_usage_error("actions takes ID, ID add OWNER TEXT, or ID done N");
    }
    o->command = "item";
    return -1;
}

/* Parses argv into *o. Options are accepted before and after the command,
 * so "tocsinctl incidents --json" works as well as the documented order.
 * Returns -1 to go on, or an exit status (0 after --help). */
static int s_parse(int argc, char **argv, s_opts_t *o)
{
    const char *value = NULL, *missing = NULL;
    tc_cli_common_t common = {.api = o->api};
    bool only_args = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (only_args || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (!o->command)
                o->command = arg;
            else if (o->nargs < sizeof o->args / sizeof o->args[0])
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
        } else if (strcmp(arg, "--all") == 0) {
            o->all = true;
        } else if (strcmp(arg, "--force") == 0) {
            o->force = true;
        } else if ((m = tc_cli_common(argc, argv, &i, &common, &missing)) != 0) {
            if (m < 0)
                return s_usage_error("%s", missing);
        } else if ((m = tc_cli_value(argc, argv, &i, "--dir", &value)) != 0) {
            if (m < 0)
                return s_usage_error("--dir needs a directory");
            o->dir = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--message", &value)) != 0 ||
                   (m = tc_cli_value(argc, argv, &i, "-m", &value)) != 0) {
            if (m < 0)
                return s_usage_error("-m needs a message");
            o->message = value;
        } else if ((m = tc_cli_value(argc, argv, &i, "--as-of", &value)) != 0) {
            /* A log sequence, a time (RFC 3339, now), or -DURATION ago. */
            int64_t d;
            if (m < 0)
                return s_usage_error("--as-of needs a log sequence or a time");
            if (tc_u64_parse(value, UINT64_MAX, &o->as_of_seq) == 0 && o->as_of_seq > 0) {
                /* a sequence */
            } else if (value[0] == '-' && tc_duration_parse(value + 1, &d) == 0) {
                o->as_of_ms = tc_now_ms() - d;
            } else if (tc_when_parse(value, tc_now_ms(), &o->as_of_ms) != 0) {
                return s_usage_error("--as-of wants a log sequence (42), a time "
                                     "(2026-12-01T14:05Z) or how long ago (-2h), not '%s'",
                                     value);
            }
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
        } else if (o->command && tc_comms_command(o->command) &&
                   o->nargs < sizeof o->args / sizeof o->args[0]) {
            /* Their own options (--external, --start ...) are theirs to read. */
            o->args[o->nargs++] = arg;
        } else {
            return s_usage_error("unknown option '%s'", arg);
        }
    }
    o->api = common.api;
    o->key = common.key;
    o->server_key = common.server_key;
    o->insecure = common.insecure;

    if (!o->command)
        return s_usage_error("no command given");
    if (strcmp(o->command, "help") == 0) {
        s_usage(stdout);
        return 0;
    }
    if (strcmp(o->command, "keys") == 0)
        return s_parse_keys(o);
    if (!strcmp(o->command, "actions")) {
        int rc = s_parse_items(o);
        if (rc >= 0)
            return rc;
    }
    if (tc_comms_command(o->command)) {
        o->comms = true;
        if (o->all || o->has_from || o->has_limit || o->force)
            return s_usage_error("--all, --from, --limit and --force do not apply to %s",
                                 o->command);
        goto endpoint; /* its words are checked when the request is built */
    }
    bool is_incidents = strcmp(o->command, "incidents") == 0 || strcmp(o->command, "report") == 0;
    bool is_log = strcmp(o->command, "log") == 0 || strcmp(o->command, "audit") == 0;
    bool is_show = strcmp(o->command, "show") == 0 || strcmp(o->command, "timeline") == 0;
    if (!strcmp(o->command, "oncall")) {
        if (o->nargs > 1)
            return s_usage_error("oncall takes at most one team or role");
        is_show = true;
    }
    int nargs = s_action_args(o->command);
    if (nargs >= 0 || !strcmp(o->command, "clock")) {
        int rc = s_check_action(o, nargs);
        if (rc >= 0)
            return rc;
        is_show = true; /* the id and arguments were checked */
    } else if (!is_incidents && !is_log && !is_show && strcmp(o->command, "status") != 0) {
        return s_usage_error("unknown command '%s'", o->command);
    }
    if (o->message && nargs < 0)
        return s_usage_error("-m only applies to incident actions");
    if (o->force && strcmp(o->command, "handoff") != 0 && strcmp(o->command, "resolve") != 0)
        return s_usage_error("--force only applies to 'handoff' and 'resolve'");
    if (o->all && !is_incidents)
        return s_usage_error("--all only applies to 'incidents'");
    if ((o->has_from || o->has_limit) && !is_log)
        return s_usage_error("--from and --limit only apply to 'log' and 'audit'");
    if (is_show && (nargs >= 0 || !strcmp(o->command, "clock") || !strcmp(o->command, "oncall"))) {
        /* checked above */
    } else if (is_show) {
        uint64_t id;
        if (o->nargs != 1)
            return s_usage_error("%s needs exactly one incident id", o->command);
        if (tc_u64_parse(o->args[0], UINT64_MAX, &id) != 0 || id == 0)
            return s_usage_error("invalid incident id '%s'", o->args[0]);
    } else if (o->nargs > 0) {
        return s_usage_error("%s takes no argument '%s'", o->command, o->args[0]);
    }

endpoint:;
    char why[512];
    if (tc_cli_check_endpoint("--api", o->api, o->insecure, why, sizeof why) != 0) {
        fprintf(stderr, S_PROG ": %s\n", why);
        return S_EXIT_USAGE;
    }
    static const char *const key_defaults[] = {"var/keys/private/operator-rw.local.cert", NULL};
    if (tc_cli_keys(o->insecure, o->key, o->server_key, key_defaults, &o->keys, why, sizeof why) !=
        0) {
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

static int s_show_items(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    if (r->nincidents == 0)
        return TC_ENOTFOUND;
    const tc_incident_t *inc = &r->incidents[0];
    char when[40];
    if (o->json) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < inc->nactions; i++) {
            const tc_action_item_t *it = &inc->actions[i];
            tc_json_object_begin(j);
            tc_json_key(j, "number");
            tc_json_uint(j, it->number);
            tc_json_key(j, "owner");
            tc_json_string(j, it->owner);
            tc_json_key(j, "text");
            tc_json_string(j, it->text);
            tc_json_key(j, "done_at");
            if (it->done_ms)
                tc_json_string(j, tc_time_format(it->done_ms, when, sizeof when));
            else
                tc_json_null(j);
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        return s_print_json(j);
    }
    if (inc->nactions == 0) {
        printf("incident %" PRIu64 " has no action items\n", inc->id);
        return 0;
    }
    static const char *const head[] = {"#", "OWNER", "STATE", "ACTION"};
    tc_table_t *t = tc_table_new(4, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < inc->nactions; i++) {
        char num[16], text[2 * TC_ACTION_TEXT];
        snprintf(num, sizeof num, "%" PRIu32, inc->actions[i].number);
        tc_utf8_sanitize(inc->actions[i].text, text, sizeof text);
        const char *cells[] = {num, inc->actions[i].owner,
                               inc->actions[i].done_ms ? "done" : "open", text};
        tc_table_add_row(t, cells);
    }
    int rc = tc_table_print(t, stdout);
    tc_table_destroy(&t);
    return rc;
}

static int s_show_oncall(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    char when[40];
    if (o->json) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->noncall; i++) {
            tc_json_object_begin(j);
            tc_json_key(j, "scope");
            tc_json_string(j, r->oncall[i].scope);
            tc_json_key(j, "person");
            tc_json_string(j, r->oncall[i].person);
            tc_json_key(j, "until");
            if (r->oncall[i].until_ms)
                tc_json_string(j, tc_time_format(r->oncall[i].until_ms, when, sizeof when));
            else
                tc_json_null(j);
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        return s_print_json(j);
    }
    if (r->noncall == 0) {
        printf("nobody is on call (no on-call roster in the coordinator's configuration)\n");
        return 0;
    }
    static const char *const head[] = {"WHO FOR", "ON CALL", "UNTIL"};
    tc_table_t *t = tc_table_new(3, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < r->noncall; i++) {
        const char *cells[] = {
            r->oncall[i].scope, r->oncall[i].person,
            r->oncall[i].until_ms ? tc_time_format(r->oncall[i].until_ms, when, sizeof when) : "-"};
        tc_table_add_row(t, cells);
    }
    int rc = tc_table_print(t, stdout);
    tc_table_destroy(&t);
    return rc;
}

static int s_show_report(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    tc_report_t rep;
    int rc = tc_report_compute(r->incidents, r->nincidents, &rep);
    if (rc)
        return rc;
    if (!o->json)
        return tc_report_text(stdout, r->incidents, r->nincidents, &rep);
    tc_report_json(j, r->incidents, r->nincidents, &rep);
    return s_print_json(j);
}

static int s_show_timeline(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    if (r->nincidents == 0) {
        fprintf(stderr, S_PROG ": no incident %s\n", o->args[0]);
        return TC_ENOTFOUND;
    }
    if (o->json) {
        tc_json_object_begin(j);
        tc_json_key(j, "incident");
        tc_render_incident_json(j, &r->incidents[0]);
        tc_json_key(j, "timeline");
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->ntimeline; i++)
            tc_render_timeline_json(j, &r->timeline[i]);
        tc_json_array_end(j);
        tc_json_object_end(j);
        return s_print_json(j);
    }
    const tc_incident_t *inc = &r->incidents[0];
    printf("incident %" PRIu64 " (%s), %s\n", inc->id, inc->service,
           tc_incident_state_name(inc->state));
    char line[4096];
    for (size_t i = 0; i < r->ntimeline; i++)
        printf("%s\n", tc_render_timeline_line(&r->timeline[i], line, sizeof line));
    return 0;
}

static int s_show_audit(const s_opts_t *o, const tc_api_reply_t *r, tc_json_t *j)
{
    int rc = 0;
    if (o->json) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->naudit; i++)
            tc_render_audit_json(j, &r->audit[i]);
        tc_json_array_end(j);
        rc = s_print_json(j);
    } else if (r->naudit == 0) {
        printf("no audit records\n");
    } else {
        char line[4096];
        for (size_t i = 0; i < r->naudit; i++)
            printf("%s\n", tc_render_audit_line(&r->audit[i], line, sizeof line));
    }
    if (rc == 0 && r->more && r->naudit > 0)
        fprintf(stderr, S_PROG ": more records follow; continue with --from %" PRIu64 "\n",
                r->audit[r->naudit - 1].seq + 1);
    return rc;
}

int main(int argc, char **argv)
{
    s_opts_t o = {.api = S_DEFAULT_API, .timeout_ms = S_DEFAULT_TIMEOUT_MS};
    int status = s_parse(argc, argv, &o);
    if (status >= 0)
        return status;
    tc_log_init(S_PROG, TC_LOG_WARN);
    if (strcmp(o.command, "keys") == 0)
        return s_keys(&o);

    tc_api_request_t req = {.version = TC_PROTOCOL_VERSION};
    int64_t drill_wait_ms = 0;
    if (o.comms) {
        char why[512];
        if (tc_comms_request(o.command, o.args, o.nargs, o.message, &req, &drill_wait_ms, why,
                             sizeof why) != 0)
            return s_usage_error("%s", why);
        o.nargs = 0; /* in req already */
        o.message = NULL;
    }
    if (o.nargs > TC_API_ARGS_MAX)
        return s_usage_error("too many arguments for %s", o.command);
    if (!o.comms) {
        snprintf(req.command, sizeof req.command, "%s", o.command);
        for (size_t i = 0; i < o.nargs; i++)
            snprintf(req.args[i], sizeof req.args[i], "%s", o.args[i]);
        req.nargs = o.nargs;
    }
    req.all = o.all;
    req.from = o.from;
    req.as_of_seq = o.as_of_seq;
    req.as_of_ms = o.as_of_ms;
    req.limit = (uint32_t)o.limit;
    /* The draft is rendered here from the incident and its timeline. */
    if (o.draft)
        snprintf(req.command, sizeof req.command, "timeline");
    /* A report covers every incident: it asks for incidents --all. */
    if (!strcmp(o.command, "report")) {
        snprintf(req.command, sizeof req.command, "incidents");
        req.all = true;
    }
    if (o.message)
        tc_strlcpy_utf8(req.message, o.message, sizeof req.message);

    status = S_EXIT_FAIL;
    tc_api_reply_t *reply = NULL;
    tc_json_t *j = tc_json_new();
    if (!j) {
        fprintf(stderr, S_PROG ": %s\n", tc_strerror(TC_ENOMEM));
        goto done;
    }
    tc_client_t *client = tc_client_new(o.api, &o.keys);
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
    if (rc == TC_EAUTH) {
        fprintf(stderr, S_PROG ": %s refused the connection: %s\n", o.api,
                o.insecure ? "it expects CURVE keys (drop --insecure)"
                           : "key unknown, revoked or not allowed, or wrong --server-key");
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

    if (o.comms && !strcmp(o.command, "drill") && reply->nincidents)
        rc = tc_comms_drill_report(stdout, client, &reply->incidents[0], drill_wait_ms,
                                   o.timeout_ms, o.json ? j : NULL);
    else if (o.comms)
        rc = tc_comms_print(stdout, req.command, reply, o.json ? j : NULL);
    else if (strcmp(o.command, "status") == 0)
        rc = s_show_status(&o, reply, j);
    else if (strcmp(o.command, "incidents") == 0)
        rc = s_show_incidents(&o, reply, j);
    else if (strcmp(o.command, "report") == 0)
        rc = s_show_report(&o, reply, j);
    else if (strcmp(o.command, "oncall") == 0)
        rc = s_show_oncall(&o, reply, j);
    else if (o.list_items)
        rc = s_show_items(&o, reply, j);
    else if (strcmp(o.command, "show") == 0)
        rc = s_show_one(&o, reply, j);
    else if (strcmp(o.command, "audit") == 0)
        rc = s_show_audit(&o, reply, j);
    else if (strcmp(o.command, "timeline") == 0)
        rc = s_show_timeline(&o, reply, j);
    else if (o.draft)
        rc = reply->nincidents
                 ? tc_postmortem_markdown(stdout, &reply->incidents[0], reply->timeline,
                                          reply->ntimeline, reply->updates, reply->nupdates)
                 : TC_ENOTFOUND;
    else if (strcmp(o.command, "clock") == 0)
        rc = 0;
    else if (s_action_args(o.command) >= 0)
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
