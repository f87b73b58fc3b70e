#include "msg.h"

#include "error.h"
#include "json.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *tc_check_state_name(tc_check_state_t s)
{
    switch (s) {
    case TC_STATE_OK: return "OK";
    case TC_STATE_WARNING: return "WARNING";
    case TC_STATE_CRITICAL: return "CRITICAL";
    case TC_STATE_UNKNOWN: return "UNKNOWN";
    }
    return "INVALID";
}

int tc_check_state_parse(const char *s, tc_check_state_t *out)
{
    for (int i = TC_STATE_OK; i <= TC_STATE_UNKNOWN; i++) {
        if (strcasecmp(s, tc_check_state_name((tc_check_state_t)i)) == 0) {
            *out = (tc_check_state_t)i;
            return 0;
        }
    }
    return TC_EINVAL;
}

const char *tc_incident_state_name(tc_incident_state_t s)
{
    switch (s) {
    case TC_INC_TRIGGERED: return "triggered";
    case TC_INC_INVESTIGATING: return "investigating";
    case TC_INC_IDENTIFIED: return "identified";
    case TC_INC_MONITORING: return "monitoring";
    case TC_INC_RESOLVED: return "resolved";
    }
    return "invalid";
}

const char *tc_msg_kind_name(tc_msg_kind_t k)
{
    switch (k) {
    case TC_MSG_NONE: return "none";
    case TC_MSG_HELLO: return "hello";
    case TC_MSG_HEARTBEAT: return "heartbeat";
    case TC_MSG_CHECK_RESULT: return "check_result";
    case TC_MSG_ACK: return "ack";
    case TC_MSG_REJECT: return "reject";
    case TC_MSG_BROADCAST: return "broadcast";
    case TC_MSG_HOST_STATUS: return "host_status";
    case TC_MSG_OPERATOR_ACTION: return "operator_action";
    case TC_MSG_TIMER: return "timer";
    case TC_MSG_EVENTS_LOST: return "events_lost";
    case TC_MSG_CONFIG: return "config";
    }
    return "invalid";
}

const char *tc_bcast_kind_name(tc_bcast_kind_t k)
{
    switch (k) {
    case TC_BCAST_UNSPECIFIED: return "unspecified";
    case TC_BCAST_INCIDENT_OPENED: return "incident.opened";
    case TC_BCAST_INCIDENT_UPDATED: return "incident.updated";
    case TC_BCAST_INCIDENT_RESOLVED: return "incident.resolved";
    case TC_BCAST_HOST_DOWN: return "host.down";
    case TC_BCAST_HOST_UP: return "host.up";
    case TC_BCAST_PAGE: return "page";
    case TC_BCAST_STATUS_UPDATE: return "status.update";
    case TC_BCAST_COMPONENT: return "component.updated";
    case TC_BCAST_MAINTENANCE: return "maintenance.updated";
    case TC_BCAST_REMINDER: return "reminder";
    }
    return "invalid";
}

static const char *const s_comp_names[] = {"operational", "degraded_performance", "partial_outage",
                                           "major_outage", "under_maintenance"};
static const char *const s_update_names[] = {"draft", "approved", "published", "withdrawn"};
static const char *const s_maint_names[] = {"scheduled", "in_progress", "verifying", "completed",
                                            "cancelled"};

const char *tc_component_status_name(tc_component_status_t s)
{
    return (unsigned)s <= TC_COMP_MAINTENANCE ? s_comp_names[s] : "invalid";
}

const char *tc_update_status_name(tc_update_status_t s)
{
    return (unsigned)s <= TC_UPD_WITHDRAWN ? s_update_names[s] : "invalid";
}

/* ---- public post-mortem reports ---- */

static const char *const s_report_headings[TC_REPORT_PARTS] = {"Summary", "Impact", "Root cause",
                                                               "What we are doing"};
static const char *const s_report_keys[TC_REPORT_PARTS] = {"summary", "impact", "root_cause",
                                                           "actions"};

bool tc_api_is_action(const char *command)
{
    static const char *const actions[] = {
        "ack",         "state", "resolve",  "reopen",      "declare",  "undeclare",
        "sev",         "users", "security", "assign",      "handoff",  "note",
        "postmortem",  "item",  "features", "update",      "delivery", "component",
        "maintenance", "drill", "plan",     "pagedelivery"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(command, actions[i]))
            return true;
    return false;
}

bool tc_update_is_report(const tc_update_t *u)
{
    return !strcmp(u->scenario, TC_REPORT_SCENARIO);
}

const char *tc_report_heading(tc_report_part_t k)
{
    return (unsigned)k < TC_REPORT_PARTS ? s_report_headings[k] : "";
}

const char *tc_report_key(tc_report_part_t k)
{
    return (unsigned)k < TC_REPORT_PARTS ? s_report_keys[k] : "";
}

int tc_report_compose(tc_update_t *u, const char *const parts[TC_REPORT_PARTS])
{
    size_t o = 0;
    for (int k = 0; k < TC_REPORT_PARTS; k++) {
        size_t head = strlen(s_report_headings[k]), len = strlen(parts[k]);
        /* "\n\n" before every heading but the first, "\n" after it */
        size_t need = (k ? 2 : 0) + head + 1 + len;
        if (o + need >= sizeof u->body)
            return TC_ETOOBIG;
        o += (size_t)snprintf(u->body + o, sizeof u->body - o, "%s%s\n", k ? "\n\n" : "",
                              s_report_headings[k]);
        u->part_at[k] = (uint16_t)o;
        u->part_len[k] = (uint16_t)len;
        memcpy(u->body + o, parts[k], len);
        o += len;
        u->body[o] = '\0';
    }
    return 0;
}

const char *tc_report_part(const tc_update_t *u, tc_report_part_t k, size_t *len)
{
    *len = 0;
    if (!tc_update_is_report(u) || (unsigned)k >= TC_REPORT_PARTS)
        return NULL;
    size_t body = strnlen(u->body, sizeof u->body);
    if ((size_t)u->part_at[k] + u->part_len[k] > body)
        return NULL;
    *len = u->part_len[k];
    return u->body + u->part_at[k];
}

const char *tc_maint_state_name(tc_maint_state_t s)
{
    return (unsigned)s <= TC_MAINT_CANCELLED ? s_maint_names[s] : "invalid";
}

const char *tc_page_kind_name(tc_page_kind_t k)
{
    static const char *const names[] = {"assigned",   "escalated", "repeated", "update-due",
                                        "postmortem", "exhausted", "notice"};
    return (unsigned)k <= TC_PAGE_NOTICE ? names[k] : "invalid";
}

bool tc_page_waits_for_ack(tc_page_kind_t k)
{
    return k == TC_PAGE_ASSIGNED || k == TC_PAGE_ESCALATED || k == TC_PAGE_REPEATED ||
           k == TC_PAGE_EXHAUSTED;
}

const char *tc_urgency_name(tc_urgency_t u)
{
    static const char *const names[] = {"none", "low", "high"};
    return (unsigned)u <= TC_URGENCY_HIGH ? names[u] : "invalid";
}

int tc_component_status_parse(const char *s, tc_component_status_t *out)
{
    for (int i = TC_COMP_OPERATIONAL; i <= TC_COMP_MAINTENANCE; i++) {
        if (!strcmp(s, s_comp_names[i])) {
            *out = (tc_component_status_t)i;
            return 0;
        }
    }
    return TC_EINVAL;
}

int tc_maint_state_parse(const char *s, tc_maint_state_t *out)
{
    for (int i = TC_MAINT_SCHEDULED; i <= TC_MAINT_CANCELLED; i++) {
        if (!strcmp(s, s_maint_names[i])) {
            *out = (tc_maint_state_t)i;
            return 0;
        }
    }
    return TC_EINVAL;
}

bool tc_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!(isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':'))
            return false;
    }
    return n > 0 && n < TC_ID_MAX;
}

/* Length of the valid UTF-8 sequence starting at p (at most `avail` bytes),
 * or 0 if the bytes there are not valid UTF-8. */
static size_t s_utf8_len(const unsigned char *p, size_t avail)
{
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
        n = 2;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3;
    else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* Overlong 3/4-byte forms, surrogates and values above U+10FFFF. */
    if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

bool tc_strlcpy_utf8(char *dst, const char *src, size_t cap)
{
    if (cap == 0)
        return false;
    /* Invalid bytes become '?': protobuf strings must be UTF-8, and a
     * plugin printing Latin-1 must not make its event undeliverable. */
    const unsigned char *p = (const unsigned char *)src;
    /* The common case, plain ASCII, copied in one go. */
    size_t o = 0;
    while (p[o] && p[o] < 0x80 && o + 1 < cap)
        o++;
    memcpy(dst, p, o);
    if (!p[o]) {
        dst[o] = '\0';
        return true;
    }
    p += o;
    size_t avail = strlen((const char *)p);
    while (avail > 0) {
        size_t n = s_utf8_len(p, avail);
        size_t take = n ? n : 1;
        if (o + take >= cap) {
            dst[o] = '\0';
            return false;
        }
        if (n)
            memcpy(dst + o, p, n);
        else
            dst[o] = '?';
        o += take;
        p += take;
        avail -= take;
    }
    dst[o] = '\0';
    return true;
}

static int s_fail(char *why, size_t whylen, int code, const char *reason)
{
    if (why && whylen)
        snprintf(why, whylen, "%s", reason);
    return code;
}

static bool s_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p && *p < 0x80)
        p++;
    size_t avail = strlen((const char *)p);
    while (avail > 0) {
        size_t n = s_utf8_len(p, avail);
        if (n == 0)
            return false;
        p += n;
        avail -= n;
    }
    return true;
}

int tc_msg_validate(const tc_msg_t *m, char *why, size_t whylen)
{
    if (m->version != TC_PROTOCOL_VERSION)
        return s_fail(why, whylen, TC_EVERSION, "unsupported protocol version");
    if (!tc_id_valid(m->sender))
        return s_fail(why, whylen, TC_EINVAL, "sender is not a valid id");
    switch (m->kind) {
    case TC_MSG_HELLO:
        if (m->seq != 0)
            return s_fail(why, whylen, TC_EINVAL, "hello must be unsequenced (seq 0)");
        if (m->u.hello.heartbeat_ms < 100 || m->u.hello.heartbeat_ms > 3600000)
            return s_fail(why, whylen, TC_EINVAL, "heartbeat_ms out of range 100..3600000");
        return 0;
    case TC_MSG_HEARTBEAT:
        if (m->seq != 0)
            return s_fail(why, whylen, TC_EINVAL, "heartbeat must be unsequenced (seq 0)");
        if (m->u.heartbeat.heartbeat_ms < 100 || m->u.heartbeat.heartbeat_ms > 3600000)
            return s_fail(why, whylen, TC_EINVAL, "heartbeat_ms out of range 100..3600000");
        return 0;
    case TC_MSG_CHECK_RESULT: {
        const tc_check_result_t *c = &m->u.check;
        if (m->seq == 0)
            return s_fail(why, whylen, TC_EINVAL, "check result needs seq >= 1");
        if (!tc_id_valid(c->check) || !tc_id_valid(c->service) || !tc_id_valid(c->host))
            return s_fail(why, whylen, TC_EINVAL, "check, service and host must be valid ids");
        if ((unsigned)c->state > TC_STATE_UNKNOWN)
            return s_fail(why, whylen, TC_EINVAL, "state out of range");
        if (c->max_attempts < 1 || c->attempt < 1 || c->nperf > TC_PERF_MAX)
            return s_fail(why, whylen, TC_EINVAL, "attempt and max_attempts must be >= 1");
        if (c->flap_percent > 100)
            return s_fail(why, whylen, TC_EINVAL, "flap_percent out of range 0..100");
        if (!s_text_ok(c->output))
            return s_fail(why, whylen, TC_EINVAL, "output is not UTF-8");
        for (size_t i = 0; i < c->nperf; i++) {
            if (!isfinite(c->perf[i].value))
                return s_fail(why, whylen, TC_EINVAL, "perfdata value is not finite");
            if (!s_text_ok(c->perf[i].label) || !s_text_ok(c->perf[i].uom))
                return s_fail(why, whylen, TC_EINVAL, "perfdata label or unit is not UTF-8");
        }
        return 0;
    }
    case TC_MSG_EVENTS_LOST: {
        const tc_events_lost_t *l = &m->u.lost;
        if (m->seq == 0)
            return s_fail(why, whylen, TC_EINVAL, "events_lost needs seq >= 1");
        if (!tc_id_valid(l->check) || !tc_id_valid(l->service) || !tc_id_valid(l->host))
            return s_fail(why, whylen, TC_EINVAL, "check, service and host must be valid ids");
        if (l->transitions < 1)
            return s_fail(why, whylen, TC_EINVAL, "events_lost needs transitions >= 1");
        if (l->first_ms < 0 || l->last_ms < l->first_ms)
            return s_fail(why, whylen, TC_EINVAL, "events_lost needs 0 <= first_ms <= last_ms");
        if (!s_text_ok(l->reason))
            return s_fail(why, whylen, TC_EINVAL, "reason is not UTF-8");
        return 0;
    }
    case TC_MSG_BROADCAST:
        if (m->seq == 0)
            return s_fail(why, whylen, TC_EINVAL, "broadcast needs seq >= 1");
        if (m->u.bcast.kind == TC_BCAST_UNSPECIFIED || m->u.bcast.kind > TC_BCAST_REMINDER)
            return s_fail(why, whylen, TC_EINVAL, "broadcast kind out of range");
        if (!s_text_ok(m->u.bcast.detail) || !s_text_ok(m->u.bcast.incident.summary) ||
            !s_text_ok(m->u.bcast.incident.title) || !s_text_ok(m->u.bcast.update.body) ||
            !s_text_ok(m->u.bcast.update.title) || !s_text_ok(m->u.bcast.maint.title) ||
            !s_text_ok(m->u.bcast.maint.description) ||
            !s_text_ok(m->u.bcast.component.description))
            return s_fail(why, whylen, TC_EINVAL, "broadcast text is not UTF-8");
        return 0;
    case TC_MSG_HOST_STATUS:
        if (!tc_id_valid(m->u.host_status.host))
            return s_fail(why, whylen, TC_EINVAL, "host is not a valid id");
        return 0;
    case TC_MSG_OPERATOR_ACTION:
        if (m->u.action.actor[0] && !tc_id_valid(m->u.action.actor))
            return s_fail(why, whylen, TC_EINVAL, "actor is not a valid id");
        if (!s_text_ok(m->u.action.message) || !s_text_ok(m->u.action.update.body) ||
            !s_text_ok(m->u.action.update.title) || !s_text_ok(m->u.action.maint.title) ||
            !s_text_ok(m->u.action.maint.description))
            return s_fail(why, whylen, TC_EINVAL, "message is not UTF-8");
        return 0;
    case TC_MSG_CONFIG:
        if (!s_text_ok(m->u.config.source))
            return s_fail(why, whylen, TC_EINVAL, "source is not UTF-8");
        return 0;
    case TC_MSG_TIMER:
    case TC_MSG_ACK:
    case TC_MSG_REJECT: return 0;
    case TC_MSG_NONE: break;
    }
    return s_fail(why, whylen, TC_EINVAL, "no payload");
}

char *tc_report_part_text(const tc_update_t *u, tc_report_part_t k, char *dst, size_t cap)
{
    size_t len;
    const char *part = tc_report_part(u, k, &len);
    snprintf(dst, cap, "%.*s", (int)len, part ? part : "");
    return dst;
}

void tc_report_json_parts(tc_json_t *j, const tc_update_t *u)
{
    for (int k = 0; k < TC_REPORT_PARTS; k++) {
        size_t len;
        const char *part = tc_report_part(u, (tc_report_part_t)k, &len);
        tc_json_key(j, tc_report_key((tc_report_part_t)k));
        tc_json_string_n(j, part ? part : "", len);
    }
}
