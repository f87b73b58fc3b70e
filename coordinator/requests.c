/*
 * requests.c - the API socket: who may ask what, queries, and operator
 * actions stored as records and answered after their commit.
 */
#include "coord_impl.h"

#include "replay.h"

#include "api.h"
#include "drafts.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t s_last_seen(void *ctx, const char *host)
{
    tc_coord_t *c = ctx;
    tc_coord__peer_t *p = zhashx_lookup(c->peers, host);
    return p ? p->last_seen_wall : 0;
}

static void s_api_reply(tc_coord_t *c, zmsg_t *route, const tc_api_reply_t *r)
{
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_reply(r, &buf, &len) != 0) {
        zmsg_destroy(&route);
        return;
    }
    zmsg_addmem(route, buf, len);
    free(buf);
    zmsg_send(&route, c->api);
}

static void s_keep_last(const tc_maintenance_t *w, void *ctx)
{
    *(tc_maintenance_t *)ctx = *w;
}

/* The newest maintenance window (ids grow), into *out. */
static void s_last_window(tc_coord_t *c, tc_maintenance_t *out)
{
    tc_state_each_maintenance(c->state, s_keep_last, out);
}

/* Actions on no incident: components, maintenance windows, drills. */
static bool s_is_global(const char *command)
{
    return !strcmp(command, "component") || !strcmp(command, "maintenance") ||
           !strcmp(command, "drill");
}

/* Queries need an operator key, actions (and the test clock) a read-write
 * one; subscribers may only catch up on broadcasts. */
static bool s_api_allowed(const tc_key_t *key, const char *command)
{
    if (!key) {
        tc_warn("API %s refused: key unknown or revoked", command);
        return false;
    }
    /* A gateway redeems acknowledgement links; the token in the request is
     * what authorizes the acknowledgement (links.c). */
    if (key->cls == TC_KEY_GATEWAY)
        return !strcmp(command, "link");
    if (key->cls == TC_KEY_OPERATOR_RW)
        return strcmp(command, "link") != 0;
    if (key->cls == TC_KEY_OPERATOR_RO && !tc_api_is_action(command) &&
        strcmp(command, "clock") != 0 && strcmp(command, "link") != 0)
        return true;
    /* Subscribers catch up, read what a status page shows, and notifiers
     * read how people are paged and report their deliveries. */
    if (key->cls == TC_KEY_SUBSCRIBER &&
        (!strcmp(command, "broadcasts") || !strcmp(command, "components") ||
         !strcmp(command, "maintenances") || !strcmp(command, "delivery") ||
         !strcmp(command, "contacts") || !strcmp(command, "pagedelivery")))
        return true;
    tc_warn("API %s refused for %s key \"%s\"", command, tc_key_class_name(key->cls), key->name);
    return false;
}

/* What a global action answers: the component or window it changed. */
static int s_reply_global(tc_coord_t *c, const tc_api_request_t *q, tc_api_reply_t *reply)
{
    if (!strcmp(q->command, "component")) {
        size_t n;
        const tc_component_t *comp = tc_state_components(c->state, &n);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(comp[i].name, q->args[0]))
                return tc_api_reply_add_component(reply, &comp[i]);
        return 0;
    }
    if (!strcmp(q->command, "maintenance")) {
        uint64_t id = 0;
        if (!strcmp(q->args[0], "add")) {
            tc_maintenance_t last = {0};
            s_last_window(c, &last);
            return last.id ? tc_api_reply_add_maintenance(reply, &last) : 0;
        }
        tc_u64_parse(q->args[1], UINT64_MAX, &id);
        const tc_maintenance_t *w = tc_state_maintenance(c->state, id);
        return w ? tc_api_reply_add_maintenance(reply, w) : 0;
    }
    return 0;
}

/* Who an action names as a person: the one assigned or handed command,
 * the post-mortem's owner, an action item's owner; NULL for none. */
static const char *s_named_person(const tc_operator_action_t *a)
{
    if (!strcmp(a->action, "assign") && a->nargs >= 2)
        return a->args[1];
    if (!strcmp(a->action, "handoff") && a->nargs >= 1)
        return a->args[0];
    if ((!strcmp(a->action, "postmortem") && a->nargs == 2 && !strcmp(a->args[0], "owner")) ||
        (!strcmp(a->action, "item") && a->nargs == 2 && !strcmp(a->args[0], "add")))
        return a->args[1];
    return NULL;
}

/* What the coordinator adds to an operator's action before the state
 * machine sees it, so that a replay needs neither the roster nor the
 * clock: how long a page waits (a page from an operator escalates like one
 * from tocsin), and the meeting time of `postmortem ID meeting WHEN` as
 * milliseconds. Refuses people the roster does not know, when there is a
 * roster. Returns 0, or TC_EINVAL with the reason in `why`. */
static int s_normalize(tc_coord_t *c, tc_operator_action_t *a, char *why, size_t whylen)
{
    const char *who = s_named_person(a);
    if (who && tc_roster_npeople(c->roster) && tc_id_valid(who) &&
        !tc_roster_has_person(c->roster, who)) {
        snprintf(why, whylen, "%s is not in the on-call roster (people: in the configuration)",
                 who);
        return TC_EINVAL;
    }
    const tc_incident_t *cur = tc_state_incident(c->state, a->incident);
    bool assign = !strcmp(a->action, "assign") && a->nargs == 2;
    bool handoff = !strcmp(a->action, "handoff") &&
                   (a->nargs == 1 || (a->nargs == 2 && !strcmp(a->args[1], "force")));
    if (cur && (assign || handoff)) {
        /* handoff PERSON [force] -> handoff PERSON TIMEOUT [force] */
        size_t at = assign ? 2 : 1;
        if (handoff && a->nargs == 2)
            memcpy(a->args[2], a->args[1], sizeof a->args[2]);
        snprintf(a->args[at], TC_ID_MAX, "%lld",
                 (long long)tc_coord__page_timeout(c, cur, assign ? a->args[0] : "commander"));
        a->nargs++;
    }
    if (!strcmp(a->action, "postmortem") && a->nargs == 2 && !strcmp(a->args[0], "meeting")) {
        int64_t at;
        if (tc_when_parse(a->args[1], tc_coord__now(c), &at) != 0 || at <= 0) {
            snprintf(why, whylen,
                     "meeting wants a time: RFC 3339 (2026-12-02T10:00:00Z), now "
                     "or +DURATION");
            return TC_EINVAL;
        }
        snprintf(a->args[1], TC_ID_MAX, "%lld", (long long)at);
    }
    return 0;
}

/* The guard against internal detail on each part of a report, not on
 * its body: the headings tocsin wrote there are not the author's words
 * (a check named "impact" must not refuse every report). Returns 0,
 * TC_EINVAL with the reason, TC_ENOMEM. */
static int s_guard_report(tc_coord_t *c, uint64_t id, const tc_update_t *r, char *why, size_t cap)
{
    tc_update_t *part = malloc(sizeof *part);
    if (!part) {
        snprintf(why, cap, "%s", tc_strerror(TC_ENOMEM));
        return TC_ENOMEM;
    }
    *part = *r;
    int rc = 0;
    for (tc_report_part_t k = 0; rc == 0 && k < TC_REPORT_PARTS; k++) {
        tc_report_part_text(r, k, part->body, sizeof part->body);
        rc = tc_state_guard(c->state, id, part, why, cap);
    }
    free(part);
    return rc;
}

/* An incident action: checked by the state machine, stored as an
 * OperatorAction record, and answered only after it is committed, with
 * the incident as it is now. */
static int s_api_action(tc_coord_t *c, const tc_key_t *key, const tc_api_request_t *q,
                        tc_api_reply_t *reply)
{
    uint64_t id = 0;
    bool global = s_is_global(q->command);
    size_t first = global ? 0 : 1;
    if (c->storage_rc) {
        tc_api_reply_fail(reply, "not accepting changes while storage is failing: %s",
                          tc_store_error(c->store));
        return 0;
    }
    if (!global && (q->nargs < 1 || tc_u64_parse(q->args[0], UINT64_MAX, &id) != 0)) {
        tc_api_reply_fail(reply, "%s needs an incident id", q->command);
        return 0;
    }
    bool draft = !strcmp(q->command, "update") && q->nargs >= 2 && !strcmp(q->args[1], "draft");
    bool add = !strcmp(q->command, "maintenance") && q->nargs >= 1 && !strcmp(q->args[0], "add");
    bool report =
        !strcmp(q->command, "postmortem") && q->nargs == 2 && !strcmp(q->args[1], "report");
    if (!draft && !add && q->nargs - first > TC_ACTION_ARGS_MAX) {
        tc_api_reply_fail(reply, "too many arguments for %s", q->command);
        return 0;
    }
    tc_record_t *rec = calloc(1, sizeof *rec);
    if (!rec)
        return TC_ENOMEM;
    tc_msg_t *m = &rec->event;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, TC_COORDINATOR_ID);
    m->kind = TC_MSG_OPERATOR_ACTION;
    tc_operator_action_t *a = &m->u.action;
    snprintf(a->actor, sizeof a->actor, "%s", key ? key->name : "plaintext");
    snprintf(a->action, sizeof a->action, "%s", q->command);
    a->incident = id;
    char bad[TC_TEXT_MAX] = "";
    if (draft || add) {
        /* Their fields do not fit in arguments: they travel in the record's
         * update or window, and the template is rendered here, once, so a
         * replay never reads template files. */
        snprintf(a->args[a->nargs++], TC_ID_MAX, "%s", draft ? "draft" : "add");
        if (draft ? tc_draft_update(c->state, &c->cfg.policy, c->templates, tc_coord__now(c), id, q,
                                    &a->update, bad, sizeof bad)
                  : tc_draft_window(tc_coord__now(c), q, &a->maint, bad, sizeof bad)) {
            free(rec);
            tc_api_reply_fail(reply, "%s", bad);
            return 0;
        }
        if (draft && tc_state_guard(c->state, id, &a->update, bad, sizeof bad) != 0) {
            free(rec);
            tc_api_reply_fail(reply, "%s", bad);
            return 0;
        }
    } else if (report) {
        /* The four parts travel in the record's update, composed here. */
        snprintf(a->args[a->nargs++], TC_ID_MAX, "report");
        if (tc_draft_report(c->state, id, q, &a->update, bad, sizeof bad) != 0 ||
            s_guard_report(c, id, &a->update, bad, sizeof bad) != 0) {
            free(rec);
            tc_api_reply_fail(reply, "%s", bad);
            return 0;
        }
    } else {
        for (size_t i = first; i < q->nargs; i++) {
            if (strlen(q->args[i]) >= TC_ID_MAX) {
                free(rec);
                tc_api_reply_fail(reply, "argument \"%.40s...\" is too long", q->args[i]);
                return 0;
            }
            memcpy(a->args[a->nargs++], q->args[i], strlen(q->args[i]) + 1); /* length checked */
        }
    }
    /* An update's text travels in a->update; every other text must fit
     * the action's message whole. */
    if (!draft && !report && strlen(q->message) >= sizeof a->message) {
        free(rec);
        tc_api_reply_fail(reply, "the text is %zu bytes; %s takes at most %zu bytes of UTF-8",
                          strlen(q->message), add ? "a maintenance description" : q->command,
                          sizeof a->message - 1);
        return 0;
    }
    if (!draft && !report)
        tc_strlcpy_utf8(a->message, q->message, sizeof a->message);
    if (s_normalize(c, a, bad, sizeof bad) != 0) {
        free(rec);
        tc_api_reply_fail(reply, "%s", bad);
        return 0;
    }
    char why[TC_TEXT_MAX];
    int rc = tc_state_check(c->state, a, tc_coord__now(c), why, sizeof why);
    if (rc) {
        free(rec);
        tc_api_reply_fail(reply, "%s", why);
        return 0;
    }
    tc_record_t *slot = tc_coord__queue(c);
    if (!slot) {
        free(rec);
        return TC_ENOMEM;
    }
    *slot = *rec;
    free(rec);
    uint64_t ticket = c->batch[c->nbatch - 1].ticket;
    if ((rc = tc_coord__flush(c)) != 0)
        return rc;
    if (c->dropped_ticket == ticket) {
        tc_api_reply_fail(reply, "%s", c->dropped_why);
        return 0;
    }
    if (c->storage_rc) {
        tc_api_reply_fail(reply, "not stored: %s", tc_store_error(c->store));
        return 0;
    }
    if (global)
        return s_reply_global(c, q, reply);
    const tc_incident_t *inc = tc_state_incident(c->state, id);
    return inc ? tc_api_reply_add_incident(reply, inc) : 0;
}

/* s_api_action, with an audit record saying whether it was done or
 * refused (and why). */
static int s_api_action_audited(tc_coord_t *c, const tc_key_t *key, const char *user,
                                const tc_api_request_t *q, tc_api_reply_t *reply)
{
    int rc = !strcmp(q->command, "drill") ? tc_coord__api_drill(c, key, q, reply)
                                          : s_api_action(c, key, q, reply);
    char detail[TC_TEXT_MAX];
    tc_coord__request_detail(q, detail, sizeof detail);
    if (rc == 0 && !reply->ok)
        tc_coord__audit(c, key, user, q->command, false, "%s: refused: %s", detail, reply->error);
    else
        tc_coord__audit(c, key, user, q->command, rc == 0, "%s", detail);
    return rc;
}

/* Adds who is on call for a team or role now, if anyone. */
static int s_oncall_one(tc_coord_t *c, const char *team, const char *role, tc_api_reply_t *reply)
{
    tc_oncall_t o = {0};
    int64_t now = tc_coord__now(c);
    int rc = team ? tc_roster_team_oncall(c->roster, team, now, o.person)
                  : tc_roster_role_oncall(c->roster, role, now, o.person);
    if (rc)
        return 0;
    snprintf(o.scope, sizeof o.scope, "%s %s", team ? "team" : "role", team ? team : role);
    if (tc_roster_next_handoff(c->roster, team, team ? NULL : role, now, &o.until_ms) != 0)
        o.until_ms = 0;
    return tc_api_reply_add_oncall(reply, &o);
}

/* `oncall [TEAM|ROLE]`: who is on call now, for one team or role, or for
 * every role and every team that owns a configured service. */
static int s_api_oncall(tc_coord_t *c, const tc_api_request_t *q, tc_api_reply_t *reply)
{
    static const char *const roles[] = {"commander",        "deputy",           "scribe",
                                        "customer_liaison", "internal_liaison", "dpo"};
    if (q->nargs > 1) {
        tc_api_reply_fail(reply, "oncall takes at most one team or role");
        return 0;
    }
    if (q->nargs == 1) {
        const char *what = q->args[0];
        if (tc_roster_has_team(c->roster, what))
            return s_oncall_one(c, what, NULL, reply);
        if (tc_roster_has_role(c->roster, what))
            return s_oncall_one(c, NULL, what, reply);
        tc_api_reply_fail(reply, "no team or role \"%s\" in the on-call roster", what);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof roles / sizeof roles[0]; i++)
        rc = s_oncall_one(c, NULL, roles[i], reply);
    for (size_t i = 0; rc == 0 && i < c->cfg.policy.nservices; i++) {
        const char *team = c->cfg.policy.services[i].team;
        bool dup = !team[0];
        for (size_t k = 0; k < i && !dup; k++)
            dup = !strcmp(c->cfg.policy.services[k].team, team);
        if (!dup)
            rc = s_oncall_one(c, team, NULL, reply);
    }
    return rc;
}

/* `clock advance DUR`: moves the coordinator's clock forward, so tests and
 * drills can let 15 minutes pass in a second. Refused unless test_clock. */
static int s_api_clock(tc_coord_t *c, const tc_api_request_t *q, tc_api_reply_t *reply)
{
    int64_t ms;
    if (!c->cfg.test_clock) {
        tc_api_reply_fail(reply, "the clock can only be moved when coordinator.test_clock is "
                                 "set (tests and drills)");
        return 0;
    }
    if (q->nargs != 2 || strcmp(q->args[0], "advance") != 0 ||
        tc_duration_parse(q->args[1], &ms) != 0) {
        tc_api_reply_fail(reply, "usage: clock advance DURATION");
        return 0;
    }
    c->clock_offset_ms += ms;
    tc_warn("test clock moved forward by %lld ms (offset now %lld ms)", (long long)ms,
            (long long)c->clock_offset_ms);
    /* Stored as a record, dated on the moved clock, so that a restart
     * resumes from it (replay takes the clock from the newest record) even
     * if nothing else happens before it. */
    const char *args[] = {"advance", q->args[1]};
    int rc = tc_coord__queue_action(c, "tocsin", 0, "clock", args, 2, NULL, NULL, NULL, NULL, 0);
    return rc ? rc : tc_coord__flush(c);
}

/* Reads by the same key and command are audited once per this long. */
#define S_READ_AUDIT_MS (3600 * 1000)

static bool s_read_audit_due(tc_coord_t *c, const char *who, const char *command)
{
    char k[TC_ID_MAX + 40];
    snprintf(k, sizeof k, "%s/%s", who, command);
    int64_t now = tc_mono_ms();
    uintptr_t last = (uintptr_t)zhashx_lookup(c->read_audits, k);
    if (last && now - (int64_t)last < S_READ_AUDIT_MS)
        return false;
    zhashx_update(c->read_audits, k, (void *)(uintptr_t)(now ? now : 1));
    return true;
}

/* A query about the past (`tocsinctl --as-of SEQ|TIME`): the state as it
 * was after that log record, rebuilt from the nearest snapshot before it
 * and the log in between, in read transactions that never block the
 * writer, and thrown away after the answer. What a post-mortem asks: what
 * did we know at 14:05? */
static int s_api_as_of(tc_coord_t *c, tc_api_env_t *env, const tc_api_request_t *q,
                       tc_api_reply_t *reply)
{
    static const char *const queries[] = {"incidents", "show",       "timeline",    "status",
                                          "updates",   "components", "maintenances"};
    bool ok = false;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
        ok |= !strcmp(q->command, queries[i]);
    if (!ok) {
        tc_api_reply_fail(reply,
                          "--as-of works with incidents, show, timeline, status, updates, "
                          "components and maintenances, not %s",
                          q->command);
        return 0;
    }
    uint64_t seq = q->as_of_seq;
    int rc = 0;
    if (!seq && (rc = tc_store_seq_at(c->store, q->as_of_ms, &seq)) != 0)
        return rc;
    if (seq == 0) {
        tc_api_reply_fail(reply, "nothing was stored by then (the log starts later)");
        return 0;
    }
    if (seq > tc_store_log_seq(c->store)) {
        tc_api_reply_fail(reply, "log record %llu is not stored yet (the log is at %llu)",
                          (unsigned long long)seq, (unsigned long long)tc_store_log_seq(c->store));
        return 0;
    }
    int64_t t0 = tc_mono_ms();
    tc_state_t *past = NULL;
    tc_replay_stats_t stats;
    if ((rc = tc_replay(c->store, &c->cfg.policy, c->templates, seq, true, &past, &stats)) != 0)
        return rc;
    env->as_of_seq = seq;
    rc = tc_api_handle(c->store, past, env, q, reply);
    tc_debug("as of %llu: snapshot %llu + %llu records in %lld ms", (unsigned long long)seq,
             (unsigned long long)stats.snapshot_seq, (unsigned long long)stats.records,
             (long long)(tc_mono_ms() - t0));
    tc_state_destroy(&past);
    return rc;
}

/* The arguments of a request, for the audit trail. */
const char *tc_coord__request_detail(const tc_api_request_t *q, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < q->nargs && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " " : "", q->args[i]);
    if (q->from && o < cap)
        o += (size_t)snprintf(out + o, cap - o, "%sfrom=%llu", o ? " " : "",
                              (unsigned long long)q->from);
    if (q->all && o < cap)
        snprintf(out + o, cap - o, "%sall", o ? " " : "");
    return out;
}

int tc_coord__on_api(zloop_t *loop, zsock_t *sock, void *arg)
{
    tc_coord_t *c = arg;
    zmsg_t *msg = tc_coord__recv_guarded(c, sock, "API");
    if (!msg)
        return 0;
    /* Route: identity, plus an empty delimiter when the client is a REQ. */
    zmsg_t *route = zmsg_new();
    zframe_t *f = zmsg_pop(msg);
    zmsg_append(route, &f);
    if (zmsg_size(msg) == 2 && zframe_size(zmsg_first(msg)) == 0) {
        f = zmsg_pop(msg);
        zmsg_append(route, &f);
    }
    tc_api_reply_t *reply = tc_api_reply_new();
    tc_api_request_t *q = malloc(sizeof *q);
    if (!reply || !q)
        goto out;
    zframe_t *body = zmsg_first(msg);
    const char *user = body ? zframe_meta(body, "User-Id") : NULL;
    const tc_key_t *key = NULL;
    int drc = zmsg_size(msg) != 1 ? TC_EDECODE
                                  : tc_wire_decode_request(zframe_data(body), zframe_size(body), q);
    if (drc == TC_ETOOBIG) {
        /* Well formed but over a limit: the sender learns which. */
        c->rejected++;
        tc_api_reply_fail(reply,
                          "request too large: a text (-m) holds at most %d bytes of UTF-8, an "
                          "argument at most %d bytes, and a request at most %d arguments",
                          TC_BODY_MAX - 1, TC_API_ARG_MAX - 1, TC_API_ARGS_MAX);
    } else if (drc) {
        c->rejected++;
        tc_coord__warn_limited(&c->reject_log, "API request rejected: not a tocsin v1 request");
        tc_api_reply_fail(reply, "malformed request");
    } else if (q->version != 1) {
        c->rejected++;
        tc_coord__warn_limited(&c->reject_log, "API request rejected: version %u", q->version);
        tc_api_reply_fail(reply, "unsupported API version %u", q->version);
    } else if (c->keyring &&
               !s_api_allowed(key = tc_keyring_lookup(c->keyring, user), q->command)) {
        c->denied++;
        tc_coord__audit(c, key, user, q->command, false, "%s", "not authorized for this command");
        tc_api_reply_fail(reply, "not authorized");
    } else {
        /* Catch-up reads by subscribers are traffic, not actions; incident
         * actions are audited below, with their outcome; link checks by
         * the gateway are part of an acknowledgement, audited as one; other
         * reads once per key and command an hour, so that a health probe or
         * a drill's polling does not write a row every few seconds. */
        if (strcmp(q->command, "broadcasts") != 0 && strcmp(q->command, "link") != 0 &&
            !tc_api_is_action(q->command) &&
            s_read_audit_due(c, key ? key->name : "plaintext", q->command)) {
            char detail[TC_TEXT_MAX];
            tc_coord__audit(c, key, user, q->command, true, "%s",
                            tc_coord__request_detail(q, detail, sizeof detail));
        }
        tc_api_env_t env = {.started_ms = c->started_ms,
                            .accepted = c->accepted,
                            .duplicates = c->duplicates,
                            .rejected = c->rejected,
                            .denied = c->denied,
                            .throttled = c->throttled,
                            .deferred = c->deferred,
                            .storage = !c->storage_rc ? "ok"
                                       : c->storage_rc == TC_EFULL || c->storage_rc == TC_EDISKFULL
                                           ? "full"
                                           : "failed",
                            .storage_error = c->storage_rc ? tc_store_error(c->store) : "",
                            .last_seen = s_last_seen,
                            .last_seen_ctx = c};
        int rc = (q->as_of_seq || q->as_of_ms)     ? s_api_as_of(c, &env, q, reply)
                 : !strcmp(q->command, "oncall")   ? s_api_oncall(c, q, reply)
                 : !strcmp(q->command, "link")     ? tc_coord__api_link(c, key, user, q, reply)
                 : !strcmp(q->command, "contacts") ? tc_coord__api_contacts(c, reply)
                 : tc_api_is_action(q->command)    ? s_api_action_audited(c, key, user, q, reply)
                 : !strcmp(q->command, "clock")    ? s_api_clock(c, q, reply)
                                                : tc_api_handle(c->store, c->state, &env, q, reply);
        if (rc) {
            tc_error("API %s failed: %s", q->command, tc_strerror(rc));
            tc_api_reply_destroy(&reply);
            reply = tc_api_reply_new();
            if (reply)
                tc_api_reply_fail(reply, "internal error");
        }
        tc_debug("API %s", q->command);
    }
    if (reply)
        s_api_reply(c, route, reply);
    route = NULL;
out:
    zmsg_destroy(&route);
    tc_api_reply_destroy(&reply);
    free(q);
    zmsg_destroy(&msg);
    return 0;
}
