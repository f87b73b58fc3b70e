#include "policy.h"

#include <stdio.h>
#include <string.h>

void tc_policy_defaults(tc_policy_t *p)
{
    memset(p, 0, sizeof *p);
    p->rules = TC_POLICY_RULES;
    p->declare_after_ms = 15 * 60 * 1000;
    p->declare_min_users = 5;
    p->reopen_window_ms = 60 * 60 * 1000;
    p->postmortem_due_ms = 24 * 60 * 60 * 1000;
    p->sev1_share = 0.25;
    p->sev2_share = 0.05;
    p->sev1_features_share = 0.5;
    p->sev2_features_share = 0.2;
    p->unknown_share_severity = 2;
    /* The source practice: major incidents get the whole response team,
     * SEV-3 and SEV-4 the owning team's on-call engineer, SEV-5 nobody. */
    static const char *const major[] = {"commander", "deputy",           "scribe",
                                        "sme",       "customer_liaison", "internal_liaison"};
    for (int sev = 1; sev <= 2; sev++) {
        for (size_t i = 0; i < sizeof major / sizeof major[0]; i++)
            snprintf(p->roles_by_severity[sev][i], TC_ID_MAX, "%s", major[i]);
        p->nroles_by_severity[sev] = sizeof major / sizeof major[0];
    }
    for (int sev = 3; sev <= 4; sev++) {
        snprintf(p->roles_by_severity[sev][0], TC_ID_MAX, "sme");
        p->nroles_by_severity[sev] = 1;
    }
    p->update_first_ms = 5 * 60 * 1000;
    p->update_every_ms = 20 * 60 * 1000;
    p->update_slow_after_ms = 2 * 60 * 60 * 1000;
    p->update_every_slow_ms = 60 * 60 * 1000;
    p->public_severities = 1u << 1 | 1u << 2;
    p->auto_publish_severities = 0;
    p->internal_announce_severities = 1u << 1 | 1u << 2 | 1u << 3;
    p->maintenance_verify_ms = 15 * 60 * 1000;
    /* The severity table: SEV-1..3 page at high urgency, SEV-4 at low,
     * SEV-5 nobody. */
    p->page_high_severities = 1u << 1 | 1u << 2 | 1u << 3;
    p->page_low_severities = 1u << 4;
    p->page_repeat_ms = 5 * 60 * 1000;
    p->out_of_hours_full_response = 2;
    p->ic_quiet_reminder_ms = 30 * 60 * 1000;
}

tc_urgency_t tc_policy_page_urgency(const tc_policy_t *p, uint32_t severity)
{
    if (severity == 0 || severity > 5)
        return TC_URGENCY_HIGH;
    if (p->page_high_severities & (1u << severity))
        return TC_URGENCY_HIGH;
    if (p->page_low_severities & (1u << severity))
        return TC_URGENCY_LOW;
    return TC_URGENCY_NONE;
}

const char *tc_severity_meaning(uint32_t severity)
{
    /* PagerDuty's levels with Hotjar's names for the first three. */
    static const char *const names[] = {"not assessed", "Critical",           "Major",
                                        "Minor",        "no customer impact", "cosmetic"};
    return severity <= 5 ? names[severity] : "unknown";
}

bool tc_severity_major(uint32_t severity)
{
    return severity == 1 || severity == 2;
}

void tc_policy_bridge(const tc_policy_t *p, uint64_t id, char *dst, size_t cap)
{
    static const char mark[] = "{{incident}}";
    size_t o = 0;
    if (cap == 0)
        return;
    dst[0] = '\0';
    for (const char *s = p->bridge_url; *s && o + 1 < cap;) {
        if (!strncmp(s, mark, sizeof mark - 1)) {
            int n = snprintf(dst + o, cap - o, "%llu", (unsigned long long)id);
            o = n < 0 ? o : (size_t)n + o >= cap ? cap - 1 : o + (size_t)n;
            s += sizeof mark - 1;
        } else {
            dst[o++] = *s++;
        }
    }
    dst[o] = '\0';
}

const tc_component_policy_t *tc_policy_component(const tc_policy_t *p, const char *name)
{
    for (size_t i = 0; i < p->ncomponents; i++)
        if (!strcmp(p->components[i].name, name))
            return &p->components[i];
    return NULL;
}

bool tc_component_has_service(const tc_component_policy_t *c, const char *service)
{
    for (size_t i = 0; i < c->nservices; i++)
        if (!strcmp(c->services[i], service))
            return true;
    return false;
}

int64_t tc_policy_update_interval(const tc_policy_t *p, int64_t declared_ms, int64_t now_ms)
{
    return now_ms - declared_ms >= p->update_slow_after_ms ? p->update_every_slow_ms
                                                           : p->update_every_ms;
}

void tc_policy_service(const tc_policy_t *p, const char *service, tc_service_policy_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < p->nservices; i++) {
        if (strcmp(p->services[i].name, service) == 0) {
            *out = p->services[i];
            break;
        }
    }
    snprintf(out->name, sizeof out->name, "%s", service);
    if (!out->declare_after_ms)
        out->declare_after_ms = p->declare_after_ms;
    if (!out->declare_min_users)
        out->declare_min_users = p->declare_min_users;
}

int64_t tc_policy_postmortem_due(const tc_policy_t *p, uint32_t severity)
{
    if (severity >= 1 && severity <= 5 && p->postmortem_due_by_severity[severity])
        return p->postmortem_due_by_severity[severity];
    return p->postmortem_due_ms;
}

/* The severity that `n` of `total` affected means (total 0: unknown). */
static uint32_t s_share_severity(const tc_policy_t *p, uint32_t n, uint32_t total, double s1,
                                 double s2)
{
    if (n == 0)
        return 4;
    if (total == 0)
        return p->unknown_share_severity;
    double share = (double)n / (double)total;
    return share >= s1 ? 1 : share >= s2 ? 2 : 3;
}

uint32_t tc_policy_severity(const tc_policy_t *p, const tc_service_policy_t *svc, uint32_t users,
                            uint32_t features, bool security)
{
    if (security)
        return 1;
    uint32_t by_users = s_share_severity(p, users, svc->total_users, p->sev1_share, p->sev2_share);
    if (features == 0)
        return by_users;
    uint32_t by_features = s_share_severity(p, features, svc->features, p->sev1_features_share,
                                            p->sev2_features_share);
    return by_features < by_users ? by_features : by_users;
}
