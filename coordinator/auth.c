#include "auth.h"

#include "error.h"

#include <string.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

struct tc_auth {
    zsock_t *rep;
    const tc_keyring_t *kr;
    bool open_publish;
    tc_auth_denied_fn *denied;
    void *ctx;
};

bool tc_auth_allows(const char *domain, tc_key_class_t cls, bool open_publish)
{
    /* A gateway is a sender like an agent, and redeems acknowledgement
     * links on the API (requests.c allows it nothing else there). */
    if (!strcmp(domain, TC_ZAP_AGENTS))
        return cls == TC_KEY_AGENT || cls == TC_KEY_GATEWAY;
    if (!strcmp(domain, TC_ZAP_API))
        return cls == TC_KEY_OPERATOR_RO || cls == TC_KEY_OPERATOR_RW || cls == TC_KEY_SUBSCRIBER ||
               cls == TC_KEY_GATEWAY;
    if (!strcmp(domain, TC_ZAP_PUBLISH))
        return open_publish || cls == TC_KEY_SUBSCRIBER || cls == TC_KEY_OPERATOR_RO ||
               cls == TC_KEY_OPERATOR_RW;
    return false;
}

int tc_auth_new(const tc_keyring_t *kr, bool open_publish, tc_auth_denied_fn *denied, void *ctx,
                tc_auth_t **out)
{
    tc_auth_t *a = calloc(1, sizeof *a);
    if (!a)
        return TC_ENOMEM;
    a->rep = zsock_new(ZMQ_REP);
    if (!a->rep || zsock_bind(a->rep, ZAP_ENDPOINT) != 0) {
        zsock_destroy(&a->rep);
        free(a);
        return TC_EIO;
    }
    a->kr = kr;
    a->open_publish = open_publish;
    a->denied = denied;
    a->ctx = ctx;
    *out = a;
    return 0;
}

zsock_t *tc_auth_socket(tc_auth_t *a)
{
    return a->rep;
}

static void s_reply(tc_auth_t *a, const char *id, const char *code, const char *text,
                    const char *user)
{
    zstr_sendx(a->rep, "1.0", id, code, text, user, "", NULL);
}

void tc_auth_handle(tc_auth_t *a)
{
    zmsg_t *req = zmsg_recv(a->rep);
    if (!req)
        return;
    /* RFC 27: version, request id, domain, address, identity, mechanism,
     * credentials... A REP socket must answer whatever arrived. */
    char *version = zmsg_popstr(req), *id = zmsg_popstr(req), *domain = zmsg_popstr(req),
         *address = zmsg_popstr(req), *identity = zmsg_popstr(req), *mech = zmsg_popstr(req);
    zframe_t *cred = zmsg_pop(req);
    tc_auth_denial_t d = {0};
    snprintf(d.domain, sizeof d.domain, "%s", domain ? domain : "");
    snprintf(d.address, sizeof d.address, "%s", address ? address : "");
    if (!version || strcmp(version, "1.0") != 0 || !id || !mech) {
        d.reason = "malformed ZAP request";
    } else if (strcmp(mech, "CURVE") != 0) {
        d.reason = "not a CURVE connection";
    } else if (!cred || zframe_size(cred) != 32) {
        d.reason = "no CURVE key";
    } else {
        zmq_z85_encode(d.public_txt, zframe_data(cred), 32);
        const tc_key_t *key = tc_keyring_lookup(a->kr, d.public_txt);
        if (!key && !(a->open_publish && !strcmp(d.domain, TC_ZAP_PUBLISH)))
            d.reason = "unknown or revoked key";
        else if (key && !tc_auth_allows(d.domain, key->cls, a->open_publish))
            d.reason = "key class not allowed on this socket";
    }
    if (d.reason) {
        s_reply(a, id ? id : "", "400", "access denied", "");
        if (a->denied)
            a->denied(&d, a->ctx);
    } else {
        s_reply(a, id, "200", "OK", d.public_txt);
    }
    zframe_destroy(&cred);
    zstr_free(&version);
    zstr_free(&id);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&identity);
    zstr_free(&mech);
    zmsg_destroy(&req);
}

void tc_auth_destroy(tc_auth_t **pa)
{
    if (!pa || !*pa)
        return;
    zsock_destroy(&(*pa)->rep);
    free(*pa);
    *pa = NULL;
}
