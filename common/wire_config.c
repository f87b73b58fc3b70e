/*
 * wire_config.c - the state machine's configuration (policy and template
 * overrides) as it is recorded beside the log; see wire.h.
 *
 * The encoding must be deterministic: the coordinator decides whether the
 * configuration changed by comparing bytes. protobuf-c packs fields in
 * field order and repeated fields in array order, so the same struct
 * always packs to the same bytes.
 */
#include "wire.h"

#include "template.h"
#include "util.h"
#include "wire_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything a packed StateConfig points into, allocated once. */
typedef struct {
    Tocsin__V1__StateConfig cfg;
    Tocsin__V1__Policy pol;
    Tocsin__V1__RoleList roles[6];
    Tocsin__V1__RoleList *role_ptrs[6];
    char *role_names[6][8];
    int64_t pm_due[6];
    Tocsin__V1__ServicePolicy svc[TC_POLICY_SERVICES_MAX];
    Tocsin__V1__ServicePolicy *svc_ptrs[TC_POLICY_SERVICES_MAX];
    Tocsin__V1__ComponentPolicy comp[TC_POLICY_COMPONENTS_MAX];
    Tocsin__V1__ComponentPolicy *comp_ptrs[TC_POLICY_COMPONENTS_MAX];
    char *comp_services[TC_POLICY_COMPONENTS_MAX][TC_COMPONENT_SERVICES_MAX];
    char *security_team[TC_POLICY_SECURITY_TEAM_MAX];
    Tocsin__V1__TemplateText tpl[32];
    Tocsin__V1__TemplateText *tpl_ptrs[32];
    char tpl_names[32][64];
    size_t ntpl;
} s_config_pb_t;

static int s_add_template(const char *scenario, const char *audience, const char *state,
                          const char *text, bool from_file, void *ctx)
{
    s_config_pb_t *o = ctx;
    if (!from_file)
        return 0;
    if (o->ntpl == 32)
        return TC_ETOOBIG;
    size_t i = o->ntpl++;
    tocsin__v1__template_text__init(&o->tpl[i]);
    snprintf(o->tpl_names[i], sizeof o->tpl_names[i], "%s.%s.%s", scenario, audience, state);
    o->tpl[i].name = o->tpl_names[i];
    o->tpl[i].text = (char *)text;
    o->tpl_ptrs[i] = &o->tpl[i];
    return 0;
}

static void s_policy_to_pb(const tc_policy_t *p, s_config_pb_t *o)
{
    Tocsin__V1__Policy *pb = &o->pol;
    tocsin__v1__policy__init(pb);
    pb->declare_after_ms = p->declare_after_ms;
    pb->declare_min_users = p->declare_min_users;
    pb->reopen_window_ms = p->reopen_window_ms;
    pb->postmortem_due_ms = p->postmortem_due_ms;
    pb->reopen_on_failure = p->reopen_on_failure;
    pb->sev1_share = p->sev1_share;
    pb->sev2_share = p->sev2_share;
    pb->sev1_features_share = p->sev1_features_share;
    pb->sev2_features_share = p->sev2_features_share;
    pb->unknown_share_severity = p->unknown_share_severity;
    for (size_t sev = 0; sev < 6; sev++) {
        Tocsin__V1__RoleList *rl = &o->roles[sev];
        tocsin__v1__role_list__init(rl);
        size_t n = p->nroles_by_severity[sev] < 8 ? p->nroles_by_severity[sev] : 8;
        for (size_t i = 0; i < n; i++)
            o->role_names[sev][i] = (char *)p->roles_by_severity[sev][i];
        rl->n_roles = n;
        rl->roles = o->role_names[sev];
        o->role_ptrs[sev] = rl;
        o->pm_due[sev] = p->postmortem_due_by_severity[sev];
    }
    pb->n_roles_by_severity = 6;
    pb->roles_by_severity = o->role_ptrs;
    pb->n_postmortem_due_by_severity = 6;
    pb->postmortem_due_by_severity = o->pm_due;
    size_t ns = p->nservices < TC_POLICY_SERVICES_MAX ? p->nservices : TC_POLICY_SERVICES_MAX;
    for (size_t i = 0; i < ns; i++) {
        const tc_service_policy_t *s = &p->services[i];
        Tocsin__V1__ServicePolicy *sp = &o->svc[i];
        tocsin__v1__service_policy__init(sp);
        sp->name = (char *)s->name;
        sp->team = (char *)s->team;
        sp->users_per_host = s->users_per_host;
        sp->total_users = s->total_users;
        sp->declare_after_ms = s->declare_after_ms;
        sp->declare_min_users = s->declare_min_users;
        sp->features = s->features;
        o->svc_ptrs[i] = sp;
    }
    pb->n_services = ns;
    pb->services = o->svc_ptrs;
    pb->update_first_ms = p->update_first_ms;
    pb->update_every_ms = p->update_every_ms;
    pb->update_slow_after_ms = p->update_slow_after_ms;
    pb->update_every_slow_ms = p->update_every_slow_ms;
    pb->public_severities = p->public_severities;
    pb->auto_publish_severities = p->auto_publish_severities;
    pb->internal_announce_severities = p->internal_announce_severities;
    pb->maintenance_verify_ms = p->maintenance_verify_ms;
    pb->page_high_severities = p->page_high_severities;
    pb->page_low_severities = p->page_low_severities;
    pb->page_repeat_ms = p->page_repeat_ms;
    size_t nc =
        p->ncomponents < TC_POLICY_COMPONENTS_MAX ? p->ncomponents : TC_POLICY_COMPONENTS_MAX;
    for (size_t i = 0; i < nc; i++) {
        const tc_component_policy_t *c = &p->components[i];
        Tocsin__V1__ComponentPolicy *cp = &o->comp[i];
        tocsin__v1__component_policy__init(cp);
        cp->name = (char *)c->name;
        cp->description = (char *)c->description;
        size_t n =
            c->nservices < TC_COMPONENT_SERVICES_MAX ? c->nservices : TC_COMPONENT_SERVICES_MAX;
        for (size_t k = 0; k < n; k++)
            o->comp_services[i][k] = (char *)c->services[k];
        cp->n_services = n;
        cp->services = o->comp_services[i];
        o->comp_ptrs[i] = cp;
    }
    pb->n_components = nc;
    pb->components = o->comp_ptrs;
    pb->bridge_url = (char *)p->bridge_url;
    pb->out_of_hours_full_response = p->out_of_hours_full_response;
    size_t nt = p->nsecurity_team < TC_POLICY_SECURITY_TEAM_MAX ? p->nsecurity_team
                                                                : TC_POLICY_SECURITY_TEAM_MAX;
    for (size_t i = 0; i < nt; i++)
        o->security_team[i] = (char *)p->security_team[i];
    pb->n_security_team = nt;
    pb->security_team = o->security_team;
    pb->ic_quiet_reminder_ms = p->ic_quiet_reminder_ms;
    pb->rules = p->rules;
}

int tc_wire_encode_state_config(const tc_policy_t *policy, const tc_templates_t *templates,
                                uint8_t **out, size_t *outlen)
{
    s_config_pb_t *o = calloc(1, sizeof *o);
    if (!o)
        return TC_ENOMEM;
    tocsin__v1__state_config__init(&o->cfg);
    s_policy_to_pb(policy, o);
    o->cfg.policy = &o->pol;
    int rc = templates ? tc_templates_each(templates, s_add_template, o) : 0;
    if (rc == 0) {
        o->cfg.n_templates = o->ntpl;
        o->cfg.templates = o->tpl_ptrs;
        rc = tc_wire__pack(&o->cfg.base, out, outlen);
    }
    free(o);
    return rc;
}

static int s_policy_from_pb(const Tocsin__V1__Policy *pb, tc_policy_t *p)
{
    memset(p, 0, sizeof *p);
    p->declare_after_ms = pb->declare_after_ms;
    p->declare_min_users = pb->declare_min_users;
    p->reopen_window_ms = pb->reopen_window_ms;
    p->postmortem_due_ms = pb->postmortem_due_ms;
    p->reopen_on_failure = pb->reopen_on_failure;
    p->sev1_share = pb->sev1_share;
    p->sev2_share = pb->sev2_share;
    p->sev1_features_share = pb->sev1_features_share;
    p->sev2_features_share = pb->sev2_features_share;
    p->unknown_share_severity = pb->unknown_share_severity;
    if (pb->n_roles_by_severity > 6 || pb->n_postmortem_due_by_severity > 6 ||
        pb->n_services > TC_POLICY_SERVICES_MAX || pb->n_components > TC_POLICY_COMPONENTS_MAX)
        return TC_ETOOBIG;
    for (size_t sev = 0; sev < pb->n_roles_by_severity; sev++) {
        const Tocsin__V1__RoleList *rl = pb->roles_by_severity[sev];
        if (rl->n_roles > 8)
            return TC_ETOOBIG;
        for (size_t i = 0; i < rl->n_roles; i++)
            COPY_ID(p->roles_by_severity[sev][i], rl->roles[i]);
        p->nroles_by_severity[sev] = rl->n_roles;
    }
    for (size_t sev = 0; sev < pb->n_postmortem_due_by_severity; sev++)
        p->postmortem_due_by_severity[sev] = pb->postmortem_due_by_severity[sev];
    for (size_t i = 0; i < pb->n_services; i++) {
        const Tocsin__V1__ServicePolicy *sp = pb->services[i];
        tc_service_policy_t *s = &p->services[i];
        COPY_ID(s->name, sp->name);
        COPY_ID(s->team, sp->team);
        s->users_per_host = sp->users_per_host;
        s->total_users = sp->total_users;
        s->declare_after_ms = sp->declare_after_ms;
        s->declare_min_users = sp->declare_min_users;
        s->features = sp->features;
    }
    p->nservices = pb->n_services;
    p->update_first_ms = pb->update_first_ms;
    p->update_every_ms = pb->update_every_ms;
    p->update_slow_after_ms = pb->update_slow_after_ms;
    p->update_every_slow_ms = pb->update_every_slow_ms;
    p->public_severities = pb->public_severities;
    p->auto_publish_severities = pb->auto_publish_severities;
    p->internal_announce_severities = pb->internal_announce_severities;
    p->maintenance_verify_ms = pb->maintenance_verify_ms;
    p->page_high_severities = pb->page_high_severities & 0x3eu;
    p->page_low_severities = pb->page_low_severities & 0x3eu;
    p->page_repeat_ms = pb->page_repeat_ms;
    for (size_t i = 0; i < pb->n_components; i++) {
        const Tocsin__V1__ComponentPolicy *cp = pb->components[i];
        tc_component_policy_t *c = &p->components[i];
        COPY_ID(c->name, cp->name);
        tc_wire__copy_text(c->description, sizeof c->description, cp->description);
        if (cp->n_services > TC_COMPONENT_SERVICES_MAX)
            return TC_ETOOBIG;
        for (size_t k = 0; k < cp->n_services; k++)
            COPY_ID(c->services[k], cp->services[k]);
        c->nservices = cp->n_services;
    }
    p->ncomponents = pb->n_components;
    if (pb->bridge_url && strlen(pb->bridge_url) >= sizeof p->bridge_url)
        return TC_ETOOBIG;
    snprintf(p->bridge_url, sizeof p->bridge_url, "%s", pb->bridge_url ? pb->bridge_url : "");
    p->out_of_hours_full_response = pb->out_of_hours_full_response;
    if (pb->n_security_team > TC_POLICY_SECURITY_TEAM_MAX)
        return TC_ETOOBIG;
    for (size_t i = 0; i < pb->n_security_team; i++)
        COPY_ID(p->security_team[i], pb->security_team[i]);
    p->nsecurity_team = pb->n_security_team;
    p->ic_quiet_reminder_ms = pb->ic_quiet_reminder_ms;
    p->rules = pb->rules;
    return 0;
}

int tc_wire_decode_state_config(const uint8_t *buf, size_t len, tc_policy_t *policy,
                                tc_templates_t **templates, char *err, size_t errlen)
{
    *templates = NULL;
    Tocsin__V1__StateConfig *cfg = tocsin__v1__state_config__unpack(NULL, len, buf);
    if (!cfg) {
        snprintf(err, errlen, "recorded configuration cannot be decoded");
        return TC_EDECODE;
    }
    int rc = cfg->policy ? s_policy_from_pb(cfg->policy, policy) : TC_EDECODE;
    if (rc) {
        snprintf(err, errlen, "recorded policy cannot be decoded: %s", tc_strerror(rc));
        goto out;
    }
    if ((rc = tc_templates_load(NULL, templates, err, errlen)) != 0)
        goto out;
    for (size_t i = 0; i < cfg->n_templates; i++) {
        const Tocsin__V1__TemplateText *t = cfg->templates[i];
        char name[96];
        snprintf(name, sizeof name, "%s.txt", t->name ? t->name : "");
        const char *text = t->text ? t->text : "";
        if ((rc = tc_templates_parse(*templates, name, text, strlen(text), err, errlen)) != 0) {
            tc_templates_destroy(templates);
            goto out;
        }
    }
out:
    tocsin__v1__state_config__free_unpacked(cfg, NULL);
    return rc;
}

uint64_t tc_wire_digest(const uint8_t *buf, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        h ^= buf[i];
        h *= 1099511628211ull;
    }
    return h;
}
