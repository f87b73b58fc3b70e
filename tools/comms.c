/*
 * comms.c - tocsinctl's communication-plan commands (see comms.h).
 */
#include "comms.h"

#include "error.h"
#include "render.h"
#include "table.h"
#include "utf8.h"
#include "util.h"

#include <czmq.h>
#include <inttypes.h>
#include <string.h>

/* The drill waits this long by default for notifiers to report. */
#define S_DRILL_WAIT_MS 15000
/* ... and stops early once no new delivery came for this long. */
#define S_DRILL_QUIET_MS 3000

static const char *const s_commands[] = {"update",     "updates",     "component",
                                         "components", "maintenance", "maintenances",
                                         "drill",      "subscribers", "pages"};

bool tc_comms_command(const char *cmd)
{
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (!strcmp(cmd, s_commands[i]))
            return true;
    return false;
}

static int s_fail(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return TC_EINVAL;
}

static void s_arg(tc_api_request_t *req, size_t i, const char *v)
{
    snprintf(req->args[i], TC_API_ARG_MAX, "%s", v ? v : "");
    if (req->nargs < i + 1)
        req->nargs = i + 1;
}

static int s_id(const char *s, uint64_t *id)
{
    return s && tc_u64_parse(s, UINT64_MAX, id) == 0 && *id > 0 ? 0 : TC_EINVAL;
}

/* Titles are one line that fits whole (the coordinator checks the same). */
static int s_title(const char *title, char *why, size_t cap)
{
    if (strlen(title) >= TC_TITLE_MAX)
        return s_fail(why, cap, "the title is %zu bytes; a title holds at most %d bytes of UTF-8",
                      strlen(title), TC_TITLE_MAX - 1);
    if (tc_utf8_control(title))
        return s_fail(why, cap,
                      "the title holds a control character (CR, LF, tab...): a title "
                      "is one line");
    return 0;
}

static int s_update(const char *const *pos, size_t npos, const tc_comms_opts_t *o,
                    tc_api_request_t *req, char *why, size_t cap)
{
    const char *usage = "usage: update ID draft [--external|--internal] [--scenario S] "
                        "[--state ST] [--title T] [--components A,B] [--next DUR] "
                        "[--eta WHEN|DURATION|unknown] [-m TEXT], "
                        "or update ID approve|publish|withdraw N";
    const char *scenario = o->scenario, *state = o->state, *title = o->title,
               *components = o->components, *next = o->next, *eta = o->eta;
    bool external = o->external, internal = o->internal;
    uint64_t id, n;
    int rc;
    if (npos > 3)
        return s_fail(why, cap, "unexpected argument '%s'", pos[3]);
    if (npos < 2 || s_id(pos[0], &id))
        return s_fail(why, cap, "%s", usage);
    s_arg(req, 0, pos[0]);
    s_arg(req, 1, pos[1]);
    if (!strcmp(pos[1], "draft")) {
        int64_t ms;
        if (npos != 2 || (external && internal))
            return s_fail(why, cap, "%s", usage);
        if (next && (tc_duration_parse(next, &ms) != 0 || ms <= 0))
            return s_fail(why, cap, "--next needs a duration such as 30m");
        /* Checked here for a clear message; the coordinator resolves it
         * against its own clock. */
        if (eta && strcmp(eta, "unknown") != 0 && !(tc_duration_parse(eta, &ms) == 0 && ms > 0) &&
            tc_when_parse(eta, tc_now_ms(), &ms) != 0)
            return s_fail(why, cap,
                          "--eta needs a time (RFC 3339, 2026-12-02T15:00:00Z), a duration "
                          "from now such as 45m, or unknown");
        if (title && (rc = s_title(title, why, cap)) != 0)
            return rc;
        if ((components && strlen(components) >= TC_API_ARG_MAX) ||
            (scenario && strlen(scenario) >= TC_API_ARG_MAX) ||
            (state && strlen(state) >= TC_API_ARG_MAX))
            return s_fail(why, cap, "an option value is too long");
        s_arg(req, 2, internal ? "internal" : "external");
        s_arg(req, 3, scenario);
        s_arg(req, 4, state);
        s_arg(req, 5, title);
        s_arg(req, 6, components);
        s_arg(req, 7, next);
        s_arg(req, 8, eta);
        return 0;
    }
    if (npos != 3 || tc_u64_parse(pos[2], UINT32_MAX, &n) != 0 || n == 0 ||
        (strcmp(pos[1], "approve") && strcmp(pos[1], "publish") && strcmp(pos[1], "withdraw")) ||
        external || internal || scenario || state || title || components || next || eta)
        return s_fail(why, cap, "%s", usage);
    s_arg(req, 2, pos[2]);
    return 0;
}

static int s_maintenance(const char *const *pos, size_t npos, const tc_comms_opts_t *o,
                         tc_api_request_t *req, char *why, size_t cap)
{
    const char *usage = "usage: maintenance add TITLE --start WHEN --end WHEN --components A,B "
                        "[--every DUR] [--verify DUR] [-m TEXT], or maintenance "
                        "start|complete|cancel ID";
    const char *start = o->start, *end = o->end, *components = o->components, *every = o->every,
               *verify = o->verify;
    if (npos > 2)
        return s_fail(why, cap, "unexpected argument '%s'", pos[2]);
    if (npos == 0 && !start && !end && !components && !every && !verify) {
        snprintf(req->command, sizeof req->command, "maintenances");
        return 0;
    }
    if (npos == 2 &&
        (!strcmp(pos[0], "start") || !strcmp(pos[0], "complete") || !strcmp(pos[0], "cancel"))) {
        uint64_t id;
        if (s_id(pos[1], &id) || start || end || components || every || verify)
            return s_fail(why, cap, "%s", usage);
        s_arg(req, 0, pos[0]);
        s_arg(req, 1, pos[1]);
        return 0;
    }
    if (npos != 2 || strcmp(pos[0], "add") != 0 || !start || !end || !components)
        return s_fail(why, cap, "%s", usage);
    int64_t ms, now = tc_now_ms();
    /* Checked here for a clear message; the coordinator resolves them
     * against its own clock. */
    if (tc_when_parse(start, now, &ms) || tc_when_parse(end, now, &ms))
        return s_fail(why, cap,
                      "--start and --end: RFC 3339 (2026-12-01T22:00:00Z), now, or +DURATION");
    if ((every && tc_duration_parse(every, &ms)) || (verify && tc_duration_parse(verify, &ms)))
        return s_fail(why, cap, "--every and --verify need durations such as 7d or 15m");
    int rc = s_title(pos[1], why, cap);
    if (rc)
        return rc;
    if (strlen(components) >= TC_API_ARG_MAX || strlen(start) >= TC_API_ARG_MAX ||
        strlen(end) >= TC_API_ARG_MAX)
        return s_fail(why, cap, "a value is too long");
    s_arg(req, 0, "add");
    s_arg(req, 1, start);
    s_arg(req, 2, end);
    s_arg(req, 3, components);
    s_arg(req, 4, every);
    s_arg(req, 5, verify);
    s_arg(req, 6, pos[1]);
    return 0;
}

int tc_comms_request(const char *cmd, const char *const *args, size_t nargs,
                     const tc_comms_opts_t *opts, const char *message, tc_api_request_t *req,
                     int64_t *wait_ms, char *why, size_t cap)
{
    static const tc_comms_opts_t none;
    if (!opts)
        opts = &none;
    memset(req, 0, sizeof *req);
    req->version = 1;
    snprintf(req->command, sizeof req->command, "%s", cmd);
    *wait_ms = 0;
    bool takes_message = !strcmp(cmd, "update") || !strcmp(cmd, "component") ||
                         !strcmp(cmd, "maintenance") || !strcmp(cmd, "drill");
    if (message && !takes_message)
        return s_fail(why, cap, "-m does not apply to %s", cmd);
    /* Texts are refused whole, never cut: an update's body holds 4096
     * bytes, every other text (a maintenance description, a reason) 511. */
    size_t limit = !strcmp(cmd, "update") && nargs >= 2 && !strcmp(args[1], "draft")
                       ? TC_BODY_MAX - 1
                       : TC_TEXT_MAX - 1;
    if (message && strlen(message) > limit)
        return s_fail(why, cap, "the text is %zu bytes; %s takes at most %zu bytes of UTF-8",
                      strlen(message),
                      limit == TC_BODY_MAX - 1      ? "an update"
                      : !strcmp(cmd, "maintenance") ? "a maintenance description"
                                                    : cmd,
                      limit);
    if (message)
        tc_strlcpy_utf8(req->message, message, sizeof req->message);
    if (!strcmp(cmd, "update"))
        return s_update(args, nargs, opts, req, why, cap);
    if (!strcmp(cmd, "maintenance"))
        return s_maintenance(args, nargs, opts, req, why, cap);
    if (!strcmp(cmd, "updates")) {
        uint64_t id;
        if (nargs != 1 || s_id(args[0], &id))
            return s_fail(why, cap, "usage: updates ID");
        s_arg(req, 0, args[0]);
        return 0;
    }
    if (!strcmp(cmd, "component")) {
        if (nargs == 0 && !message) {
            snprintf(req->command, sizeof req->command, "components");
            return 0;
        }
        if (nargs != 2 || !tc_id_valid(args[0]))
            return s_fail(why, cap,
                          "usage: component [NAME operational|degraded_performance|"
                          "partial_outage|major_outage|under_maintenance|auto]");
        s_arg(req, 0, args[0]);
        s_arg(req, 1, args[1]);
        return 0;
    }
    if (!strcmp(cmd, "drill")) {
        uint64_t sev;
        if (nargs)
            return s_fail(why, cap, "unexpected argument '%s'", args[0]);
        if (opts->service && !tc_id_valid(opts->service))
            return s_fail(why, cap, "--service needs a service name");
        if (opts->severity && (tc_u64_parse(opts->severity, 5, &sev) != 0 || sev < 1))
            return s_fail(why, cap, "--severity needs 1..5");
        *wait_ms = S_DRILL_WAIT_MS;
        if (opts->wait && tc_duration_parse(opts->wait, wait_ms) != 0)
            return s_fail(why, cap, "--wait needs a duration such as 15s");
        s_arg(req, 0, opts->service);
        s_arg(req, 1, opts->severity);
        return 0;
    }
    if (nargs) /* components, maintenances, subscribers, pages */
        return s_fail(why, cap, "%s takes no arguments", cmd);
    return 0;
}

/* ---- output ----------------------------------------------------------------- */

static int s_done(FILE *out, tc_json_t *j)
{
    if (j) {
        if (tc_json_error(j))
            return TC_ENOMEM;
        fprintf(out, "%s\n", tc_json_data(j));
    }
    return ferror(out) ? TC_EIO : 0;
}

static void s_when(int64_t ms, char *dst, size_t cap)
{
    if (!ms) {
        snprintf(dst, cap, "-");
        return;
    }
    char iso[40];
    tc_time_format(ms, iso, sizeof iso);
    snprintf(dst, cap, "%.10s %.8s", iso, iso + 11);
}

static int s_print_updates(FILE *out, const tc_api_reply_t *r, tc_json_t *j)
{
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->nupdates; i++)
            tc_render_update_json(j, &r->updates[i]);
        tc_json_array_end(j);
        return s_done(out, j);
    }
    if (r->nupdates == 0)
        fprintf(out, "no status updates\n");
    for (size_t i = 0; i < r->nupdates; i++) {
        const tc_update_t *u = &r->updates[i];
        char when[40], clean[TC_BODY_MAX * 2];
        s_when(u->published_ms ? u->published_ms : u->drafted_ms, when, sizeof when);
        tc_utf8_sanitize(u->body, clean, sizeof clean);
        fprintf(out, "#%u %s %s %s/%s by %s%s%s, %s\n  %s\n", u->number,
                u->external ? "external" : "internal", tc_update_status_name(u->status),
                u->scenario, u->state, u->author, u->approver[0] ? ", approved by " : "",
                u->approver, when, clean);
    }
    return s_done(out, NULL);
}

static int s_print_components(FILE *out, const tc_api_reply_t *r, tc_json_t *j)
{
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->ncomponents; i++)
            tc_render_component_json(j, &r->components[i]);
        tc_json_array_end(j);
        return s_done(out, j);
    }
    if (r->ncomponents == 0) {
        fprintf(out, "no components configured (see README, Components)\n");
        return s_done(out, NULL);
    }
    static const char *const head[] = {"COMPONENT", "STATUS", "SINCE", "DESCRIPTION"};
    tc_table_t *t = tc_table_new(4, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < r->ncomponents; i++) {
        const tc_component_t *c = &r->components[i];
        char status[64], since[40];
        snprintf(status, sizeof status, "%s%s", tc_component_status_name(c->status),
                 c->overridden ? " (set)" : "");
        s_when(c->changed_ms, since, sizeof since);
        const char *row[] = {c->name, status, since, c->description};
        tc_table_add_row(t, row);
    }
    int rc = tc_table_print(t, out);
    tc_table_destroy(&t);
    return rc;
}

static int s_print_maintenances(FILE *out, const tc_api_reply_t *r, tc_json_t *j)
{
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->nmaints; i++)
            tc_render_maintenance_json(j, &r->maints[i]);
        tc_json_array_end(j);
        return s_done(out, j);
    }
    if (r->nmaints == 0) {
        fprintf(out, "no maintenance windows\n");
        return s_done(out, NULL);
    }
    static const char *const head[] = {"ID", "STATE", "START", "END", "COMPONENTS", "TITLE"};
    tc_table_t *t = tc_table_new(6, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < r->nmaints; i++) {
        const tc_maintenance_t *w = &r->maints[i];
        char id[24], from[40], until[40], comps[TC_TEXT_MAX] = "";
        snprintf(id, sizeof id, "%" PRIu64, w->id);
        s_when(w->start_ms, from, sizeof from);
        s_when(w->end_ms, until, sizeof until);
        size_t o = 0;
        for (size_t k = 0; k < w->ncomponents && o < sizeof comps; k++)
            o += (size_t)snprintf(comps + o, sizeof comps - o, "%s%s", k ? "," : "",
                                  w->components[k]);
        const char *row[] = {id, tc_maint_state_name(w->state), from, until, comps, w->title};
        tc_table_add_row(t, row);
    }
    int rc = tc_table_print(t, out);
    tc_table_destroy(&t);
    return rc;
}

static int s_print_subscribers(FILE *out, const tc_api_reply_t *r, tc_json_t *j)
{
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->nsubs; i++) {
            const tc_sub_stat_t *s = &r->subs[i];
            tc_json_object_begin(j);
            tc_json_key(j, "name");
            tc_json_string(j, s->name);
            tc_json_key(j, "delivered");
            tc_json_uint(j, s->delivered);
            tc_json_key(j, "failed");
            tc_json_uint(j, s->failed);
            tc_json_key(j, "mean_latency_ms");
            if (s->delivered)
                tc_json_uint(j, s->latency_total_ms / s->delivered);
            else
                tc_json_null(j);
            tc_json_key(j, "last_result");
            tc_json_string(j, s->last_result);
            tc_json_key(j, "last_detail");
            tc_json_string(j, s->last_detail);
            char when[40];
            tc_json_key(j, "last_at");
            tc_json_string(j, tc_time_format(s->last_ms, when, sizeof when));
            tc_json_key(j, "failing");
            tc_json_bool(j, s->failing);
            tc_json_key(j, "failing_since");
            if (s->failing)
                tc_json_string(j, tc_time_format(s->failing_since_ms, when, sizeof when));
            else
                tc_json_null(j);
            tc_json_key(j, "failing_detail");
            if (s->failing)
                tc_json_string(j, s->failing_detail);
            else
                tc_json_null(j);
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        return s_done(out, j);
    }
    if (r->nsubs == 0) {
        fprintf(out, "no notifier has reported a delivery yet\n");
        return s_done(out, NULL);
    }
    static const char *const head[] = {"SUBSCRIPTION", "DELIVERED", "FAILED", "MEAN LATENCY",
                                       "LAST"};
    tc_table_t *t = tc_table_new(5, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < r->nsubs; i++) {
        const tc_sub_stat_t *s = &r->subs[i];
        char d[24], f[24], lat[32] = "-", last[TC_TITLE_MAX + 64], when[40];
        snprintf(d, sizeof d, "%" PRIu64, s->delivered);
        snprintf(f, sizeof f, "%" PRIu64, s->failed);
        if (s->delivered)
            snprintf(lat, sizeof lat, "%" PRIu64 " ms", s->latency_total_ms / s->delivered);
        s_when(s->last_ms, when, sizeof when);
        if (s->failing) {
            /* How long it has been stuck, up to now (or the report, if a
             * test clock put it ahead of this host's). */
            int64_t now = tc_now_ms() > s->last_ms ? tc_now_ms() : s->last_ms;
            int64_t ms = now > s->failing_since_ms ? now - s->failing_since_ms : 0;
            char age[32];
            if (ms < 60000)
                snprintf(age, sizeof age, "%llds", (long long)(ms / 1000));
            else if (ms < 3600000)
                snprintf(age, sizeof age, "%lldm", (long long)(ms / 60000));
            else
                snprintf(age, sizeof age, "%lldh%lldm", (long long)(ms / 3600000),
                         (long long)(ms % 3600000 / 60000));
            snprintf(last, sizeof last, "FAILING for %s: %s", age, s->failing_detail);
        } else {
            snprintf(last, sizeof last, "%s %s %s", when, s->last_result, s->last_detail);
        }
        const char *row[] = {s->name, d, f, lat, last};
        tc_table_add_row(t, row);
    }
    int rc = tc_table_print(t, out);
    tc_table_destroy(&t);
    return rc;
}

/* `pages`: what notifiers reported about the pages to each person. */
static int s_print_pages(FILE *out, const tc_api_reply_t *r, tc_json_t *j)
{
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->npages; i++) {
            const tc_page_stat_t *s = &r->pages[i];
            tc_json_object_begin(j);
            tc_json_key(j, "person");
            tc_json_string(j, s->person);
            tc_json_key(j, "pages");
            tc_json_uint(j, s->pages);
            tc_json_key(j, "delivered");
            tc_json_uint(j, s->delivered);
            tc_json_key(j, "failed");
            tc_json_uint(j, s->failed);
            tc_json_key(j, "acknowledged_by_link");
            tc_json_uint(j, s->acknowledged);
            tc_json_key(j, "mean_latency_ms");
            if (s->delivered)
                tc_json_uint(j, s->latency_total_ms / s->delivered);
            else
                tc_json_null(j);
            tc_json_key(j, "last_result");
            tc_json_string(j, s->last_result[0] ? s->last_result : NULL);
            tc_json_key(j, "last_method");
            tc_json_string(j, s->last_method[0] ? s->last_method : NULL);
            tc_json_key(j, "last_detail");
            tc_json_string(j, s->last_detail);
            char when[40];
            tc_json_key(j, "last_at");
            if (s->last_ms)
                tc_json_string(j, tc_time_format(s->last_ms, when, sizeof when));
            else
                tc_json_null(j);
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        return s_done(out, j);
    }
    if (r->npages == 0) {
        fprintf(out, "nobody has been paged yet\n");
        return s_done(out, NULL);
    }
    static const char *const head[] = {"PERSON",       "PAGES",         "DELIVERED", "FAILED",
                                       "MEAN LATENCY", "ACKED BY LINK", "LAST"};
    tc_table_t *t = tc_table_new(7, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < r->npages; i++) {
        const tc_page_stat_t *s = &r->pages[i];
        char p[24], d[24], f[24], a[24], lat[32] = "-", last[TC_TITLE_MAX + 96] = "-", when[40];
        snprintf(p, sizeof p, "%" PRIu64, s->pages);
        snprintf(d, sizeof d, "%" PRIu64, s->delivered);
        snprintf(f, sizeof f, "%" PRIu64, s->failed);
        snprintf(a, sizeof a, "%" PRIu64, s->acknowledged);
        if (s->delivered)
            snprintf(lat, sizeof lat, "%" PRIu64 " ms", s->latency_total_ms / s->delivered);
        if (s->last_ms) {
            s_when(s->last_ms, when, sizeof when);
            snprintf(last, sizeof last, "%s %s by %s %s", when, s->last_result, s->last_method,
                     s->last_detail);
        }
        const char *row[] = {s->person, p, d, f, lat, a, last};
        tc_table_add_row(t, row);
    }
    int rc = tc_table_print(t, out);
    tc_table_destroy(&t);
    return rc;
}

int tc_comms_print(FILE *out, const char *cmd, const tc_api_reply_t *r, tc_json_t *j)
{
    if (!strcmp(cmd, "pages"))
        return s_print_pages(out, r, j);
    if (!strcmp(cmd, "updates"))
        return s_print_updates(out, r, j);
    if (!strcmp(cmd, "components") || (!strcmp(cmd, "component") && r->ncomponents))
        return s_print_components(out, r, j);
    if (!strcmp(cmd, "maintenances") || (!strcmp(cmd, "maintenance") && r->nmaints))
        return s_print_maintenances(out, r, j);
    if (!strcmp(cmd, "subscribers"))
        return s_print_subscribers(out, r, j);
    /* update actions answer with the incident */
    if (j) {
        if (r->nincidents)
            tc_render_incident_json(j, &r->incidents[0]);
        else
            tc_json_null(j);
        return s_done(out, j);
    }
    return r->nincidents ? tc_render_incident_text(out, &r->incidents[0]) : 0;
}

/* ---- the drill report ----------------------------------------------------------- */

typedef struct {
    char channel[TC_ID_MAX];
    unsigned update;
    char result[16];
    unsigned long long latency_ms, attempts;
} s_delivery_t;

/* Reads "update N to SUB: RESULT in X ms after A attempts..." back from a
 * delivery timeline entry (the coordinator writes them so). */
static bool s_parse_delivery(const tc_timeline_t *t, s_delivery_t *d)
{
    memset(d, 0, sizeof *d);
    return !strcmp(t->kind, "delivery") &&
           sscanf(t->text, "update %u to %63[^:]: %15s in %llu ms after %llu", &d->update,
                  d->channel, d->result, &d->latency_ms, &d->attempts) == 5;
}

static size_t s_count_deliveries(const tc_api_reply_t *r)
{
    size_t n = 0;
    s_delivery_t d;
    for (size_t i = 0; i < r->ntimeline; i++)
        n += s_parse_delivery(&r->timeline[i], &d);
    return n;
}

int tc_comms_drill_report(FILE *out, tc_client_t *client, const tc_incident_t *drill,
                          int64_t wait_ms, int64_t timeout_ms, tc_json_t *j)
{
    tc_api_request_t q = {.version = 1};
    snprintf(q.command, sizeof q.command, "timeline");
    snprintf(q.args[0], sizeof q.args[0], "%" PRIu64, drill->id);
    q.nargs = 1;
    tc_api_reply_t *r = NULL;
    int64_t start = tc_mono_ms(), changed = start;
    size_t seen = 0;
    if (!j)
        fprintf(out, "DRILL incident %" PRIu64 " (%s): waiting up to %lld s for deliveries...\n",
                drill->id, drill->service, (long long)(wait_ms / 1000));
    fflush(out);
    for (;;) {
        tc_api_reply_destroy(&r);
        int rc = tc_client_call(client, &q, timeout_ms, &r);
        if (rc)
            return rc;
        if (!r->ok)
            break;
        size_t n = s_count_deliveries(r);
        int64_t now = tc_mono_ms();
        if (n != seen) {
            seen = n;
            changed = now;
        }
        if (now - start >= wait_ms || (seen && now - changed >= S_DRILL_QUIET_MS) ||
            zsys_interrupted)
            break;
        zclock_sleep(250);
    }
    const tc_incident_t *inc = r->nincidents ? &r->incidents[0] : drill;
    if (j) {
        tc_json_object_begin(j);
        tc_json_key(j, "incident");
        tc_render_incident_json(j, inc);
        tc_json_key(j, "pages");
        tc_json_array_begin(j);
        for (size_t i = 0; i < inc->nroles; i++) {
            tc_json_object_begin(j);
            tc_json_key(j, "role");
            tc_json_string(j, inc->roles[i].role);
            tc_json_key(j, "person");
            tc_json_string(j, inc->roles[i].person);
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        tc_json_key(j, "deliveries");
        tc_json_array_begin(j);
    } else {
        fprintf(out, "pages (topic page.PERSON):");
        for (size_t i = 0; i < inc->nroles; i++)
            fprintf(out, " %s=%s", inc->roles[i].role, inc->roles[i].person);
        fprintf(out, "%s\n", inc->nroles ? "" : " nobody (no on-call roster configured)");
    }
    tc_table_t *t = NULL;
    if (!j) {
        static const char *const head[] = {"CHANNEL", "UPDATE", "RESULT", "LATENCY", "ATTEMPTS"};
        if (!(t = tc_table_new(5, head))) {
            tc_api_reply_destroy(&r);
            return TC_ENOMEM;
        }
    }
    s_delivery_t d;
    for (size_t i = 0; r->ok && i < r->ntimeline; i++) {
        if (!s_parse_delivery(&r->timeline[i], &d))
            continue;
        if (j) {
            tc_json_object_begin(j);
            tc_json_key(j, "channel");
            tc_json_string(j, d.channel);
            tc_json_key(j, "update");
            tc_json_uint(j, d.update);
            tc_json_key(j, "result");
            tc_json_string(j, d.result);
            tc_json_key(j, "latency_ms");
            tc_json_uint(j, d.latency_ms);
            tc_json_key(j, "attempts");
            tc_json_uint(j, d.attempts);
            tc_json_object_end(j);
            continue;
        }
        char upd[16], lat[32], att[16];
        snprintf(upd, sizeof upd, "%u", d.update);
        snprintf(lat, sizeof lat, "%llu ms", d.latency_ms);
        snprintf(att, sizeof att, "%llu", d.attempts);
        const char *row[] = {d.channel, upd, d.result, lat, att};
        tc_table_add_row(t, row);
    }
    int rc = 0;
    if (j) {
        tc_json_array_end(j);
        tc_json_object_end(j);
        rc = s_done(out, j);
    } else if (seen == 0) {
        fprintf(out, "no channel reported a delivery: is tocsin-notify running with "
                     "subscriptions that take drills (drill: true)?\n");
    } else {
        rc = tc_table_print(t, out);
    }
    tc_table_destroy(&t);
    tc_api_reply_destroy(&r);
    return rc;
}
