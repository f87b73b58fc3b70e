/*
 * ctl_keys.c - integration tokens and the link key; see ctl_keys.h.
 */
#include "ctl_keys.h"

#include "acklink.h"
#include "error.h"
#include "integrations.h"
#include "msg.h"

#include <stdio.h>
#include <string.h>

int tc_ctl_integration_new(const char *dir, const char *const *args, size_t nargs, tc_json_t *j,
                           char *why, size_t cap)
{
    char token[TC_INTEGRATION_TOKEN_LEN + 1], path[4200];
    int rc = tc_integration_new(dir, args[0], args + 1, nargs - 1, token, path, sizeof path);
    if (rc == TC_EINVAL) {
        snprintf(why, cap,
                 "cannot make integration %s: it exists already, or a service is not a name "
                 "(or * alone)",
                 args[0]);
        return rc;
    }
    if (rc) {
        snprintf(why, cap, "cannot write %s/%s: %s", dir, TC_INTEGRATIONS_DIR, tc_strerror(rc));
        return rc;
    }
    char services[TC_INTEGRATION_SERVICES_MAX * TC_ID_MAX] = "";
    size_t o = 0;
    for (size_t i = 1; i < nargs && o < sizeof services; i++)
        o += (size_t)snprintf(services + o, sizeof services - o, "%s%s", i > 1 ? "," : "", args[i]);
    if (j) {
        tc_json_object_begin(j);
        tc_json_key(j, "class");
        tc_json_string(j, "integration");
        tc_json_key(j, "name");
        tc_json_string(j, args[0]);
        tc_json_key(j, "services");
        tc_json_string(j, services);
        tc_json_key(j, "token");
        tc_json_string(j, token);
        tc_json_key(j, "file");
        tc_json_string(j, path);
        tc_json_object_end(j);
        if (tc_json_error(j))
            return TC_ENOMEM;
        printf("%s\n", tc_json_data(j));
    } else {
        printf("made integration %s for %s\n  token: %s\n  file:  %s\n"
               "the token is shown once (only its hash is kept): Alertmanager sends it as a "
               "bearer token,\nanything that pages PagerDuty as the routing_key (integration "
               "key)\n",
               args[0], services, token, path);
    }
    return 0;
}

int tc_ctl_integration_revoke(const char *dir, const char *name, tc_json_t *j, char *why,
                              size_t cap)
{
    int rc = tc_integration_revoke(dir, name);
    if (rc == TC_ENOTFOUND) {
        snprintf(why, cap, "no allowed integration named %s in %s", name, dir);
        return rc;
    }
    if (rc) {
        snprintf(why, cap, "cannot revoke integration %s: %s", name, tc_strerror(rc));
        return rc;
    }
    if (j) {
        tc_json_object_begin(j);
        tc_json_key(j, "class");
        tc_json_string(j, "integration");
        tc_json_key(j, "name");
        tc_json_string(j, name);
        tc_json_key(j, "state");
        tc_json_string(j, "revoked");
        tc_json_object_end(j);
        printf("%s\n", tc_json_data(j));
    } else {
        printf("revoked integration %s; a running gateway refuses its token within a second\n",
               name);
    }
    return 0;
}

typedef struct {
    tc_table_t *table;
    tc_json_t *json;
} s_list_t;

static void s_one(const tc_integration_t *in, bool revoked, void *arg)
{
    s_list_t *l = arg;
    char services[TC_INTEGRATION_SERVICES_MAX * TC_ID_MAX + 16] = "services: ";
    size_t o = strlen(services);
    if (in->any_service)
        snprintf(services + o, sizeof services - o, "*");
    for (size_t i = 0; i < in->nservices && o < sizeof services; i++)
        o += (size_t)snprintf(services + o, sizeof services - o, "%s%s", i ? "," : "",
                              in->services[i]);
    const char *state = revoked ? "revoked" : "allowed";
    if (l->json) {
        tc_json_object_begin(l->json);
        tc_json_key(l->json, "class");
        tc_json_string(l->json, "integration");
        tc_json_key(l->json, "name");
        tc_json_string(l->json, in->name);
        tc_json_key(l->json, "state");
        tc_json_string(l->json, state);
        tc_json_key(l->json, "services");
        tc_json_string(l->json, services + 10);
        tc_json_object_end(l->json);
        return;
    }
    const char *cells[] = {"integration", in->name, state, services};
    tc_table_add_row(l->table, cells);
}

int tc_ctl_integration_list(const char *dir, tc_table_t *table, tc_json_t *j)
{
    s_list_t l = {table, j};
    return tc_integrations_list(dir, s_one, &l);
}

int tc_ctl_link_key(const char *dir, char *why, size_t cap)
{
    char path[4200];
    uint8_t key[TC_ACKLINK_KEY_BYTES];
    snprintf(path, sizeof path, "%s/%s", dir, TC_ACKLINK_KEY_FILE);
    int rc = tc_acklink_key_ensure(path, key, why, cap);
    memset(key, 0, sizeof key);
    return rc;
}
