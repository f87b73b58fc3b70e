/*
 * commands.c - tocsinctl's tables and what is generated from them (see
 * commands.h).
 */
#include "commands.h"

#include <string.h>

#define S_STATES "triggered investigating identified monitoring resolved"
#define S_ROLES "commander deputy scribe sme customer_liaison internal_liaison dpo"

const tc_ctl_option_t tc_ctl_options[] = {
    {"api", required_argument, TC_CTL_OPT_API, 0, "EP", NULL,
     "coordinator API endpoint (default tcp://127.0.0.1:7402)"},
    {"json", no_argument, TC_CTL_OPT_JSON, 0, NULL, NULL,
     "print JSON instead of tables (errors too: {\"error\": ...} on stderr)"},
    {"output", required_argument, TC_CTL_OPT_OUTPUT, 0, "FMT", "text json",
     "text (the default) or json, the same as --json"},
    {"timeout", required_argument, TC_CTL_OPT_TIMEOUT, 0, "DUR", NULL,
     "how long to wait for an answer, e.g. 500ms, 5s (default 5s)"},
    {"as-of", required_argument, TC_CTL_OPT_AS_OF, 0, "WHEN", NULL,
     "answer incidents, show, timeline, status, updates, components and "
     "maintenances from the state after log record SEQ, at a time (RFC 3339), "
     "or -DURATION ago"},
    {"key", required_argument, TC_CTL_OPT_KEY, 0, "FILE", "@file",
     "this client's key pair (default $TOCSIN_KEY, then "
     "var/keys/private/operator-rw.local.cert as made by make run, "
     "then /etc/tocsin/keys/private/operator-rw.local.cert)"},
    {"server-key", required_argument, TC_CTL_OPT_SERVER_KEY, 0, "FILE", "@file",
     "the coordinator's certificate (default $TOCSIN_SERVER_KEY, "
     "then var/keys/coordinator.cert, /etc/tocsin/coordinator.cert, "
     "/etc/tocsin/keys/coordinator.cert)"},
    {"insecure", no_argument, TC_CTL_OPT_INSECURE, 0, NULL, NULL,
     "plaintext connection without keys; loopback endpoints only"},
    {"help", no_argument, TC_CTL_OPT_HELP, 0, NULL, NULL, "show this help"},
    {"version", no_argument, TC_CTL_OPT_VERSION, 0, NULL, NULL, "show the version"},
    {"dir", required_argument, TC_CTL_OPT_DIR, TC_CTL_G_KEYS, "DIR", "@dir",
     "key directory for 'keys' (default $TOCSIN_KEYS_DIR, then "
     "var/keys if it exists, then /etc/tocsin/keys)"},
    {"all", no_argument, TC_CTL_OPT_ALL, TC_CTL_G_ALL, NULL, NULL, "resolved incidents too"},
    {"force", no_argument, TC_CTL_OPT_FORCE, TC_CTL_G_FORCE, NULL, NULL,
     "resolve: although checks still fail (what fails opens a new incident); "
     "handoff: without the IC, who cannot be reached (recorded, the IC is told)"},
    {"service", required_argument, TC_CTL_OPT_SERVICE, TC_CTL_G_FILTER | TC_CTL_G_DRILL, "S", NULL,
     "only incidents of service S (drill: the drill's service)"},
    {"state", required_argument, TC_CTL_OPT_STATE, TC_CTL_G_FILTER | TC_CTL_G_DRAFT, "ST",
     S_STATES " scheduled in_progress verifying completed",
     "only incidents in state ST (a comma-separated list; resolved "
     "implies --all); update draft: the update's public state"},
    {"severity", required_argument, TC_CTL_OPT_SEVERITY, TC_CTL_G_FILTER | TC_CTL_G_DRILL, "N",
     "1 2 3 4 5",
     "only incidents of severity N (a list such as 1,2; 0 for not "
     "assessed); drill: the drill's severity"},
    {"since", required_argument, TC_CTL_OPT_SINCE, TC_CTL_G_FILTER, "WHEN", NULL,
     "only incidents opened at or after WHEN: RFC 3339, or a "
     "duration such as 24h meaning that long ago"},
    {"from", required_argument, TC_CTL_OPT_FROM, TC_CTL_G_RANGE, "SEQ", NULL,
     "first record (default: the start)"},
    {"limit", required_argument, TC_CTL_OPT_LIMIT, TC_CTL_G_RANGE, "N", NULL, "at most N records"},
    {"message", required_argument, TC_CTL_OPT_MESSAGE, TC_CTL_G_MESSAGE, "TEXT", NULL,
     "a message for the timeline, the update or the window"},
    {"external", no_argument, TC_CTL_OPT_EXTERNAL, TC_CTL_G_DRAFT, NULL, NULL,
     "an update for customers (the default)"},
    {"internal", no_argument, TC_CTL_OPT_INTERNAL, TC_CTL_G_DRAFT, NULL, NULL,
     "an update for staff"},
    {"scenario", required_argument, TC_CTL_OPT_SCENARIO, TC_CTL_G_DRAFT, "S",
     "outage degradation security maintenance", "the template's scenario"},
    {"title", required_argument, TC_CTL_OPT_TITLE, TC_CTL_G_DRAFT, "T", NULL, "the title"},
    {"components", required_argument, TC_CTL_OPT_COMPONENTS, TC_CTL_G_DRAFT | TC_CTL_G_WINDOW,
     "A,B", NULL, "the components affected"},
    {"next", required_argument, TC_CTL_OPT_NEXT, TC_CTL_G_DRAFT, "DUR", NULL,
     "when the next update comes"},
    {"eta", required_argument, TC_CTL_OPT_ETA, TC_CTL_G_DRAFT, "WHEN", NULL,
     "when service is expected back: RFC 3339, a duration such as 45m "
     "meaning from now, or unknown (default: what the last update said)"},
    {"start", required_argument, TC_CTL_OPT_START, TC_CTL_G_WINDOW, "WHEN", NULL,
     "the window's start: RFC 3339, now or +DURATION"},
    {"end", required_argument, TC_CTL_OPT_END, TC_CTL_G_WINDOW, "WHEN", NULL, "its end"},
    {"every", required_argument, TC_CTL_OPT_EVERY, TC_CTL_G_WINDOW, "DUR", NULL,
     "repeat the window this often"},
    {"verify", required_argument, TC_CTL_OPT_VERIFY, TC_CTL_G_WINDOW, "DUR", NULL,
     "how long the window stays verifying"},
    {"wait", required_argument, TC_CTL_OPT_WAIT, TC_CTL_G_DRILL, "DUR", NULL,
     "how long the drill waits for deliveries (default 15s)"},
    {"summary", required_argument, TC_CTL_OPT_SUMMARY, TC_CTL_G_REPORT, "TEXT", NULL,
     "public report: what happened, for customers (@FILE reads it from FILE)"},
    {"impact", required_argument, TC_CTL_OPT_IMPACT, TC_CTL_G_REPORT, "TEXT", NULL,
     "public report: who was affected, how and for how long"},
    {"cause", required_argument, TC_CTL_OPT_CAUSE, TC_CTL_G_REPORT, "TEXT", NULL,
     "public report: the root cause, in business language"},
    {"actions", required_argument, TC_CTL_OPT_ACTIONS, TC_CTL_G_REPORT, "TEXT", NULL,
     "public report: what is being done so it does not happen again"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

enum { S_QUERIES, S_ACTIONS, S_COMMS, S_KEYS, S_OTHER, S_SECTIONS };

static const char *const s_sections[S_SECTIONS] = {
    "queries",
    "incident actions (need an operator-rw key; -m TEXT adds a message)",
    "communication plan",
    "keys (files in the key directory; no coordinator needed)",
    "other",
};

#define F TC_CTL_G_FILTER
#define M TC_CTL_G_MESSAGE

const tc_ctl_command_t tc_ctl_commands[] = {
    {"status", "", "coordinator summary and hosts", S_QUERIES, 0, {0}},
    {"incidents",
     "[--all] [FILTERS]",
     "open incidents (--all: resolved ones too); FILTERS: "
     "--service S, --state ST, --severity N, --since WHEN",
     S_QUERIES,
     TC_CTL_G_ALL | F,
     {0}},
    {"show", "ID", "one incident in full", S_QUERIES, 0, {0}},
    {"log",
     "[--from SEQ] [--limit N]",
     "event-log records from SEQ (default: the start)",
     S_QUERIES,
     TC_CTL_G_RANGE,
     {0}},
    {"audit",
     "[--from SEQ] [--limit N]",
     "operator actions and refused access",
     S_QUERIES,
     TC_CTL_G_RANGE,
     {0}},
    {"timeline", "ID", "everything that happened to an incident, in order", S_QUERIES, 0, {0}},
    {"oncall", "[TEAM|ROLE]", "who is on call now, and until when", S_QUERIES, 0, {S_ROLES}},
    {"report",
     "[FILTERS]",
     "time to acknowledge, declare and resolve, per incident "
     "and aggregated (mean, median, p90, max), of every incident "
     "the FILTERS (as for incidents) let through",
     S_QUERIES,
     F,
     {0}},

    {"ack",
     "ID [ROLE]",
     "acknowledge the incident and your pages "
     "(triggered -> investigating), or one role's page",
     S_ACTIONS,
     M,
     {"", S_ROLES}},
    {"state",
     "ID STATE",
     "investigating, identified or monitoring",
     S_ACTIONS,
     M,
     {"", "investigating identified monitoring"}},
    {"resolve",
     "ID [--force]",
     "close the incident (refused while its checks fail, unless --force)",
     S_ACTIONS,
     M | TC_CTL_G_FORCE,
     {0}},
    {"reopen", "ID", "reopen it within the reopen window", S_ACTIONS, M, {0}},
    {"declare", "ID", "declare it an incident", S_ACTIONS, M, {0}},
    {"undeclare", "ID", "withdraw the declaration", S_ACTIONS, M, {0}},
    {"sev",
     "ID 1..5",
     "set the severity (SEV-1 and SEV-2 are major)",
     S_ACTIONS,
     M,
     {"", "1 2 3 4 5"}},
    {"users", "ID N", "set the number of users affected", S_ACTIONS, M, {0}},
    {"features", "ID N", "set the number of features affected", S_ACTIONS, M, {0}},
    {"security", "ID", "flag a suspected security or data breach", S_ACTIONS, M, {"", "clear"}},
    {"security",
     "ID clear",
     "the IC, and the DPO, clear it for disclosure (external updates go out)",
     S_ACTIONS,
     M,
     {0}},
    {"plan", "ID full", "out of hours: page the IC and every role", S_ACTIONS, M, {"", "full"}},
    {"assign",
     "ID ROLE PERSON",
     "commander, deputy, scribe, sme, customer_liaison, "
     "internal_liaison, dpo, or subteam.NAME",
     S_ACTIONS,
     M,
     {"", S_ROLES}},
    {"handoff",
     "ID PERSON [--force]",
     "the IC hands command to PERSON (--force: the IC cannot be reached)",
     S_ACTIONS,
     M | TC_CTL_G_FORCE,
     {0}},
    {"note", "ID TEXT", "add a note to the timeline (the scribe's job)", S_ACTIONS, M, {0}},
    {"postmortem",
     "ID",
     "a Markdown post-mortem draft, filled from the log",
     S_ACTIONS,
     M,
     {"", "done owner meeting report approve publish"}},
    {"postmortem",
     "ID done | ID owner P",
     "mark it done, or give it to another owner",
     S_ACTIONS,
     M,
     {0}},
    {"postmortem",
     "ID meeting WHEN",
     "schedule its meeting (RFC 3339, +DURATION)",
     S_ACTIONS,
     M,
     {0}},
    {"postmortem",
     "ID report --summary TEXT --impact TEXT\n--cause TEXT --actions TEXT",
     "draft the public post-mortem report of a resolved public incident "
     "(a new draft replaces one not yet published)",
     S_ACTIONS,
     TC_CTL_G_REPORT,
     {0}},
    {"postmortem",
     "ID approve | ID publish",
     "the IC approves it; publish puts it on the status page, its feed and "
     "to external subscribers",
     S_ACTIONS,
     0,
     {0}},
    {"actions", "ID", "the post-mortem's action items", S_ACTIONS, 0, {"", "add done"}},
    {"actions", "ID add OWNER TEXT", "track a follow-up action", S_ACTIONS, 0, {0}},
    {"actions", "ID done N", "mark action item N done", S_ACTIONS, 0, {0}},
    {"clock",
     "advance DURATION",
     "move the coordinator's clock (--test-clock only)",
     S_ACTIONS,
     0,
     {"advance"}},

    {"update",
     "ID draft [--external|--internal] [--scenario S]\n"
     "[--state ST] [--title T] [--components A,B]\n"
     "[--next DUR] [--eta WHEN|DURATION|unknown] [-m TEXT]",
     "draft a status update; without -m the text comes "
     "from the template SCENARIO.AUDIENCE.STATE",
     S_COMMS,
     TC_CTL_G_DRAFT | M,
     {"", "draft approve publish withdraw"}},
    {"update", "ID approve N", "the incident commander approves an external one", S_COMMS, 0, {0}},
    {"update",
     "ID publish N | ID withdraw N",
     "publish it to its audience, or drop it",
     S_COMMS,
     0,
     {0}},
    {"updates", "ID", "an incident's status updates", S_COMMS, 0, {0}},
    {"component",
     "[NAME STATUS|auto]",
     "components and their status; set or un-set one "
     "(operational, degraded_performance, partial_outage, "
     "major_outage, under_maintenance)",
     S_COMMS,
     M,
     {"", "operational degraded_performance partial_outage major_outage under_maintenance auto"}},
    {"maintenance", "", "maintenance windows", S_COMMS, 0, {"add start complete cancel"}},
    {"maintenance",
     "add TITLE --start WHEN --end WHEN\n"
     "--components A,B [--every DUR] [--verify DUR]\n"
     "[-m ANNOUNCEMENT]",
     "schedule a window; WHEN: RFC 3339, now or +DURATION",
     S_COMMS,
     TC_CTL_G_WINDOW | M,
     {0}},
    {"maintenance", "start|complete|cancel ID", "move a window along by hand", S_COMMS, 0, {0}},
    {"drill",
     "[--service S] [--severity N] [--wait DUR]",
     "a synthetic DRILL incident through the whole plan, "
     "then a report of what each channel delivered",
     S_COMMS,
     TC_CTL_G_DRILL | M,
     {0}},
    {"subscribers", "", "what notifiers delivered, per subscription", S_COMMS, 0, {0}},
    {"pages",
     "",
     "pages per person: sent, delivered, failed, acknowledged by link",
     S_COMMS,
     0,
     {0}},

    {"keys",
     "init",
     "make the key directory, the coordinator's pair and the link key",
     S_KEYS,
     TC_CTL_G_KEYS,
     {"init new list revoke", "agent operator-ro operator-rw subscriber gateway integration"}},
    {"keys",
     "new CLASS NAME",
     "make a key pair; CLASS is agent, operator-ro, "
     "operator-rw, subscriber or gateway; NAME (for an agent or a gateway: its id) "
     "is bound to the key",
     S_KEYS,
     TC_CTL_G_KEYS,
     {0}},
    {"keys",
     "new integration NAME SERVICE...",
     "a token for tocsin-gateway (Alertmanager's bearer token, the Events API's "
     "routing_key), allowed to create alerts for these services (* for any)",
     S_KEYS,
     TC_CTL_G_KEYS,
     {0}},
    {"keys", "list", "allowed and revoked keys and integrations", S_KEYS, TC_CTL_G_KEYS, {0}},
    {"keys",
     "revoke CLASS NAME",
     "revoke a key (takes effect within a second)",
     S_KEYS,
     TC_CTL_G_KEYS,
     {0}},

    {"completion", "bash", "print a bash completion script", S_OTHER, 0, {"bash"}},
    {"help", "", "this text", S_OTHER, 0, {0}},
    {NULL, NULL, NULL, 0, 0, {0}},
};

#undef F
#undef M

#define S_NOPTS (sizeof tc_ctl_options / sizeof tc_ctl_options[0])

const struct option *tc_ctl_getopt_longopts(void)
{
    static struct option opts[S_NOPTS];
    if (!opts[0].name)
        for (size_t i = 0; i < S_NOPTS; i++)
            opts[i] = (struct option){tc_ctl_options[i].name, tc_ctl_options[i].has_arg, NULL,
                                      tc_ctl_options[i].val};
    return opts;
}

const char *tc_ctl_getopt_shortopts(void)
{
    /* ':' first: missing values come back as ':', for our own messages. */
    return ":hVjo:m:";
}

const tc_ctl_option_t *tc_ctl_option(int val)
{
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++)
        if (o->val == val)
            return o;
    return NULL;
}

const tc_ctl_command_t *tc_ctl_command(const char *name)
{
    for (const tc_ctl_command_t *c = tc_ctl_commands; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

unsigned tc_ctl_command_groups(const char *name)
{
    unsigned g = 0;
    for (const tc_ctl_command_t *c = tc_ctl_commands; c->name; c++)
        if (!strcmp(c->name, name))
            g |= c->groups;
    return g;
}

#define S_LINE_MAX 79

/* Prints `text` from column `col` (the cursor is there already), wrapped at
 * word boundaries to S_LINE_MAX columns; a '\n' in it forces a break. Each
 * continuation line starts at `col`. */
static void s_wrap(FILE *out, int col, const char *text)
{
    int at = col;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            fprintf(out, "\n%*s", col, "");
            at = col;
            p++;
            continue;
        }
        size_t n = strcspn(p, " \n");
        if (at > col && at + 1 + (int)n > S_LINE_MAX) {
            fprintf(out, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', out);
            at++;
        }
        fprintf(out, "%.*s", (int)n, p);
        at += (int)n;
        p += n;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

/* Prints `left` (whose '\n's continue it two spaces deeper) and then
 * `text` in a column at `width`; when `left` is too long the text starts
 * on the next line. */
static void s_column(FILE *out, const char *indent, const char *left, int width, const char *text)
{
    const char *l = left;
    for (bool first = true;; first = false) {
        const char *nl = strchr(l, '\n');
        int n = nl ? (int)(nl - l) : (int)strlen(l);
        fprintf(out, "%s%s%.*s", indent, first ? "" : "  ", n, l);
        if (nl) {
            fputc('\n', out);
            l = nl + 1;
            continue;
        }
        int used = (int)strlen(indent) + (first ? 0 : 2) + n;
        if (used >= width - 1)
            fprintf(out, "\n%*s", width, "");
        else
            fprintf(out, "%*s", width - used, "");
        s_wrap(out, width, text);
        return;
    }
}

void tc_ctl_usage(FILE *out)
{
    fputs("usage: tocsinctl [OPTIONS] COMMAND [ARGS]\n"
          "\n"
          "Ask the tocsin coordinator about incidents, hosts and its event log, act on\n"
          "incidents, run the communication plan, and manage CURVE keys. Options may\n"
          "come before or after the command.\n",
          out);
    for (int s = 0; s < S_SECTIONS; s++) {
        fprintf(out, "\n%s:\n", s_sections[s]);
        for (const tc_ctl_command_t *c = tc_ctl_commands; c->name; c++) {
            if (c->section != s)
                continue;
            char left[256];
            snprintf(left, sizeof left, "%s%s%s", c->name, c->synopsis[0] ? " " : "", c->synopsis);
            s_column(out, "  ", left, 34, c->help);
        }
    }
    fputs("\noptions:\n", out);
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++) {
        char left[128];
        char s[8] = "    ";
        if (o->val < 256)
            snprintf(s, sizeof s, "-%c, ", o->val);
        snprintf(left, sizeof left, "%s--%s%s%s", s, o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        s_column(out, "  ", left, 25, o->help);
    }
    fputs("\nexit status: 0 success, 1 runtime failure (no answer, refused), 2 bad usage\n"
          "or configuration\n",
          out);
}

/* Every option name that applies under `groups` (global ones included),
 * with short forms, separated by spaces. */
static void s_option_words(FILE *out, unsigned groups)
{
    const char *sep = "";
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++) {
        if (o->groups && !(o->groups & groups))
            continue;
        fprintf(out, "%s--%s", sep, o->name);
        sep = " ";
        if (o->val < 256)
            fprintf(out, " -%c", o->val);
    }
}

void tc_ctl_completion_bash(FILE *out)
{
    fprintf(out, "# bash completion for tocsinctl, generated by `tocsinctl completion bash`\n"
                 "# (tocsin " TOCSIN_VERSION ") from its command table: do not edit.\n"
                 "_tocsinctl()\n"
                 "{\n"
                 "    local cur prev i w cmd= pos=0 opts words1= words2= words3=\n"
                 "    cur=${COMP_WORDS[COMP_CWORD]}\n"
                 "    prev=${COMP_WORDS[COMP_CWORD-1]}\n"
                 "    COMPREPLY=()\n"
                 "    case $prev in\n");
    /* Options whose value has words to offer, then the other valued ones. */
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++) {
        if (o->has_arg != required_argument)
            continue;
        fprintf(out, "    --%s", o->name);
        if (o->val < 256)
            fprintf(out, "|-%c", o->val);
        if (!o->values)
            fprintf(out, ") return ;;\n");
        else if (!strcmp(o->values, "@file"))
            fprintf(out, ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
        else if (!strcmp(o->values, "@dir"))
            fprintf(out, ") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n");
        else
            fprintf(out, ") COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n", o->values);
    }
    fprintf(out, "    esac\n"
                 "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
                 "        w=${COMP_WORDS[i]}\n"
                 "        case $w in\n"
                 "        ");
    const char *sep = "";
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++) {
        if (o->has_arg != required_argument)
            continue;
        fprintf(out, "%s--%s", sep, o->name);
        if (o->val < 256)
            fprintf(out, "|-%c", o->val);
        sep = "|";
    }
    fprintf(out, ") ((i++)) ;;\n"
                 "        -*) ;;\n"
                 "        *) if [[ -z $cmd ]]; then cmd=$w; else ((pos++)); fi ;;\n"
                 "        esac\n"
                 "    done\n"
                 "    case $cmd in\n"
                 "    '') opts='");
    s_option_words(out, 0);
    fprintf(out, "'\n        words1='");
    sep = "";
    for (const tc_ctl_command_t *c = tc_ctl_commands; c->name; c++) {
        if (tc_ctl_command(c->name) != c)
            continue; /* a second form */
        fprintf(out, "%s%s", sep, c->name);
        sep = " ";
    }
    fprintf(out, "'\n        pos=-1 ;;\n");
    for (const tc_ctl_command_t *c = tc_ctl_commands; c->name; c++) {
        if (tc_ctl_command(c->name) != c)
            continue;
        fprintf(out, "    %s) opts='", c->name);
        s_option_words(out, tc_ctl_command_groups(c->name));
        fprintf(out, "'\n");
        for (int k = 0; k < 3; k++)
            if (c->words[k] && c->words[k][0])
                fprintf(out, "        words%d='%s'\n", k + 1, c->words[k]);
        fprintf(out, "        ;;\n");
    }
    fprintf(out, "    *) return ;;\n"
                 "    esac\n"
                 "    if [[ $cur == -* ]]; then\n"
                 "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
                 "        return\n"
                 "    fi\n"
                 "    case $pos in\n"
                 "    -1) w=$words1 ;;\n"
                 "    0) w=$words1 ;;\n"
                 "    1) w=$words2 ;;\n"
                 "    2) w=$words3 ;;\n"
                 "    *) w= ;;\n"
                 "    esac\n"
                 "    COMPREPLY=($(compgen -W \"$w\" -- \"$cur\"))\n"
                 "}\n"
                 "complete -F _tocsinctl tocsinctl\n");
}
