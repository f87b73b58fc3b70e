#include "policy.h"

#include <stdio.h>
#include <string.h>

void tc_policy_defaults(tc_policy_t *p)
{
    memset(p, 0, sizeof *p);
    p->declare_after_ms = 15 * 60 * 1000;
    p->declare_min_users = 5;
    p->reopen_window_ms = 60 * 60 * 1000;
    p->postmortem_due_ms = 24 * 60 * 60 * 1000;
    p->sev1_share = 0.25;
    p->sev2_share = 0.05;
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

uint32_t tc_policy_severity(const tc_policy_t *p, const tc_service_policy_t *svc, uint32_t users,
                            bool security)
{
    if (security)
        return 1;
    if (users == 0)
        return 4;
    if (svc->total_users == 0)
        return p->unknown_share_severity;
    double share = (double)users / (double)svc->total_users;
    if (share >= p->sev1_share)
        return 1;
    if (share >= p->sev2_share)
        return 2;
    return 3;
}
