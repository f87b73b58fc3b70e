/*
 * policy.h - the incident policy: when an alert becomes a declared incident,
 * how severe it is, how long a resolved incident may be reopened.
 *
 * Defaults follow the source documents: an incident is declared when a
 * problem has lasted more than 15 minutes and affects at least 5 users;
 * SEV-1 and SEV-2 are major; when unsure, pick the higher severity.
 * Per-service settings override the defaults. Plain data plus pure
 * functions: the state machine calls them while replaying the log.
 */
#ifndef TC_POLICY_H
#define TC_POLICY_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_POLICY_SERVICES_MAX 256
#define TC_POLICY_COMPONENTS_MAX 64
#define TC_COMPONENT_SERVICES_MAX 16
#define TC_POLICY_SECURITY_TEAM_MAX 8
#define TC_POLICY_URL_MAX 256 /* bridge_url, with NUL */

/* A component customers know ("API", "Web app") and the services whose
 * incidents affect it. */
typedef struct {
    char name[TC_ID_MAX];
    char description[TC_TITLE_MAX];
    char services[TC_COMPONENT_SERVICES_MAX][TC_ID_MAX];
    size_t nservices;
} tc_component_policy_t;

typedef struct {
    char name[TC_ID_MAX];
    char team[TC_ID_MAX];       /* owning team ("" = none) */
    uint32_t users_per_host;    /* users affected per failing host (0 = unknown) */
    uint32_t total_users;       /* all users of the service (0 = unknown) */
    int64_t declare_after_ms;   /* 0 = the default */
    uint32_t declare_min_users; /* 0 = the default */
    uint32_t features;          /* features of the service (0 = unknown) */
} tc_service_policy_t;

/* The state machine's rules a configuration is written under (see Policy.rules
 * in proto/tocsin.proto): a log replays under the rules of its time. */
#define TC_POLICY_RULES 3

typedef struct {
    /* TC_POLICY_RULES for a configuration this coordinator loads; what was
     * recorded for one read back from the log (0 in logs written before
     * rules were recorded, which means 1). */
    uint32_t rules;
    int64_t declare_after_ms;   /* 15 min */
    uint32_t declare_min_users; /* 5 */
    int64_t reopen_window_ms;   /* 1 h */
    int64_t postmortem_due_ms;  /* 24 h after resolution of a declared incident */
    /* A new failure within the window reopens the service's last incident
     * instead of opening another (off: flapping stays visible as
     * separate incidents unless an operator reopens). */
    bool reopen_on_failure;
    /* Share of a service's users affected at or above which an incident is
     * SEV-1 and SEV-2; below, with users affected, SEV-3; none, SEV-4. */
    double sev1_share; /* 0.25 */
    double sev2_share; /* 0.05 */
    /* The same for the share of the service's features affected. */
    double sev1_features_share; /* 0.5 */
    double sev2_features_share; /* 0.2 */
    /* Severity when the share cannot be computed (total_users unknown) but
     * users are affected: the higher of the candidates, SEV-2. */
    uint32_t unknown_share_severity;
    /* Roles each severity (index 1..5) needs, filled from on-call when an
     * incident is declared; a suspected breach adds the DPO. */
    char roles_by_severity[6][8][TC_ID_MAX];
    size_t nroles_by_severity[6];
    /* Post-mortem due time per severity (0: postmortem_due). */
    int64_t postmortem_due_by_severity[6];
    tc_service_policy_t services[TC_POLICY_SERVICES_MAX];
    size_t nservices;
    /* The communication cadence (AWS, Hotjar): the first external update
     * within update_first of declaration, then every update_every, and
     * every update_every_slow once the incident is older than
     * update_slow_after. The Customer Liaison is reminded when one is due. */
    int64_t update_first_ms;      /* 5 min */
    int64_t update_every_ms;      /* 20 min */
    int64_t update_slow_after_ms; /* 2 h */
    int64_t update_every_slow_ms; /* 1 h */
    /* Bit n set: declared SEV-n incidents owe customers external updates
     * (default SEV-1 and SEV-2), and with auto_publish an external draft is
     * published without the IC's approval (default: none). */
    unsigned public_severities;
    unsigned auto_publish_severities;
    /* Bit n set: a SEV-n incident is announced internally by tocsin when it
     * is declared, changes public state or severity, and resolves (Hotjar
     * steps 2, 5-7: staff never learn of it from customers). Default SEV-1
     * to SEV-3; 0 in a configuration record written before the key
     * existed, so that an old log replays as it was. */
    unsigned internal_announce_severities;
    int64_t maintenance_verify_ms; /* how long a window stays verifying: 15 min */
    tc_component_policy_t components[TC_POLICY_COMPONENTS_MAX];
    size_t ncomponents;
    /* The conference call of an incident (Hotjar step 1: the incident
     * manager opens a call): "{{incident}}" becomes its id; "" = none. */
    char bridge_url[TC_POLICY_URL_MAX];
    /* Hotjar's reduced plan out of business hours: the on-call engineer
     * alone, unless the severity is this or worse (default SEV-2; 0: the
     * full response only when an operator asks). */
    uint32_t out_of_hours_full_response;
    /* The security team paged with the IC and the DPO when an incident is
     * flagged as a security incident (PagerDuty: a need-to-know group). */
    char security_team[TC_POLICY_SECURITY_TEAM_MAX][TC_ID_MAX];
    size_t nsecurity_team;
    /* A major incident with no state change and no status update for this
     * long reminds its IC (0: never; default 30 min). */
    int64_t ic_quiet_reminder_ms;
    /* Paging (the roster's `paging:` section): bit n set = SEV-n pages at
     * high urgency (every contact method at once, repeated every
     * page_repeat_ms until acknowledged; default SEV-1..3) or at low
     * urgency (e-mail once; default SEV-4). A severity in neither pages
     * nobody (SEV-5). */
    unsigned page_high_severities;
    unsigned page_low_severities;
    int64_t page_repeat_ms; /* 5 min; 0: no repeats */
} tc_policy_t;

/* Fills *p with the defaults and no services. */
void tc_policy_defaults(tc_policy_t *p);

/* The urgency of a page about an incident of `severity` (0: not assessed
 * yet, which pages at high urgency: when unsure, the higher). */
tc_urgency_t tc_policy_page_urgency(const tc_policy_t *p, uint32_t severity);

/* The configured component named `name`, or NULL. Borrowed from `p`. */
const tc_component_policy_t *tc_policy_component(const tc_policy_t *p, const char *name);

/* True if component `c` covers service `service`. */
bool tc_component_has_service(const tc_component_policy_t *c, const char *service);

/* How long after `now_ms` the next external update of an incident declared
 * at `declared_ms` is due: update_every, or update_every_slow once the
 * incident is older than update_slow_after. */
int64_t tc_policy_update_interval(const tc_policy_t *p, int64_t declared_ms, int64_t now_ms);

/* The settings for `service`, with defaults filled in; never NULL (an
 * unknown service gets the defaults). Copies into *out. */
void tc_policy_service(const tc_policy_t *p, const char *service, tc_service_policy_t *out);

/* When the post-mortem of an incident of `severity` is due after its
 * resolution. */
int64_t tc_policy_postmortem_due(const tc_policy_t *p, uint32_t severity);

/* What a severity means, in words for people: "Critical", "Major",
 * "Minor", "no customer impact", "cosmetic"; "not assessed" for 0. Static. */
const char *tc_severity_meaning(uint32_t severity);

/* True for SEV-1 and SEV-2, the major incidents. */
bool tc_severity_major(uint32_t severity);

/* Writes the conference link of incident `id` (policy bridge_url with
 * "{{incident}}" replaced) into dst; "" when none is configured. */
void tc_policy_bridge(const tc_policy_t *p, uint64_t id, char *dst, size_t cap);

/* The rules `p` was written under: 1 for configurations recorded before
 * rules were (see TC_POLICY_RULES). */
static inline uint32_t tc_policy_rules(const tc_policy_t *p)
{
    return p->rules ? p->rules : 1;
}

/* Severity 1..4 for `users` and `features` affected of a service (SEV-5 is
 * only ever set by an operator); each gives a severity and the higher one
 * wins, as the source documents ask when unsure; a security or data
 * incident is SEV-1. */
uint32_t tc_policy_severity(const tc_policy_t *p, const tc_service_policy_t *svc, uint32_t users,
                            uint32_t features, bool security);

#endif
