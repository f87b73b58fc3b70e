/*
 * links.c - acknowledgement links and contacts on the API: what a page's
 * link names and its acknowledgement as the person it was for (asked by
 * tocsin-gateway), and the roster's contact methods (asked by notifiers).
 *
 * Authorization of a link is the token itself: the gateway's key may ask
 * `link` and nothing else, and only a token signed with this
 * coordinator's link key (acklink.h), not expired, naming a page that is
 * still pending, acknowledges anything, and then only that page, recorded
 * as an `ack` by the person ("via link"). Tokens are never written to the
 * log or the audit trail.
 */
#include "coord_impl.h"

#include "acklink.h"
#include "contacts.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The page a valid token names, or a reason why there is none. Returns
 * the incident (borrowed, valid until the next apply) and its role in *r,
 * or NULL with the reason in reply. */
static const tc_incident_t *s_page_of(tc_coord_t *c, const char *token, tc_acklink_t *link,
                                      const tc_role_t **role, tc_api_reply_t *reply)
{
    if (!c->has_link_key) {
        tc_api_reply_fail(reply, "acknowledgement links are not set up on this coordinator (no "
                                 "links.key in its key directory)");
        return NULL;
    }
    int rc = tc_acklink_verify(c->link_key, token, link);
    if (rc == TC_EINVAL) {
        tc_api_reply_fail(reply, "not an acknowledgement link");
        return NULL;
    }
    if (rc != 0) {
        tc_api_reply_fail(reply, "this link is not valid (it was not made by this tocsin, or it "
                                 "was changed)");
        return NULL;
    }
    const tc_incident_t *inc = tc_state_incident(c->state, link->incident);
    if (!inc) {
        tc_api_reply_fail(reply, "incident %" PRIu64 " does not exist", link->incident);
        return NULL;
    }
    /* From here the reply names the incident, so the page can say what it
     * was about even when the link no longer acknowledges anything. */
    tc_api_reply_add_incident(reply, inc);
    char when[40];
    if (tc_coord__now(c) > link->expires_ms) {
        tc_api_reply_fail(reply, "this link expired at %s",
                          tc_time_format(link->expires_ms, when, sizeof when));
        return NULL;
    }
    const tc_role_t *r = NULL;
    for (size_t i = 0; i < inc->nroles; i++)
        if (!strcmp(inc->roles[i].role, link->role))
            r = &inc->roles[i];
    if (!r || strcmp(r->person, link->person) != 0 || r->paged_ms != link->paged_ms) {
        tc_api_reply_fail(reply,
                          "this link is for an earlier page: %s is no longer paged as %s of "
                          "incident %" PRIu64,
                          link->person, link->role, link->incident);
        return NULL;
    }
    if (r->acked_ms) {
        tc_api_reply_fail(reply, "the %s page to %s was already acknowledged at %s", link->role,
                          link->person, tc_time_format(r->acked_ms, when, sizeof when));
        return NULL;
    }
    if (inc->state == TC_INC_RESOLVED) {
        tc_api_reply_fail(reply, "incident %" PRIu64 " is resolved", link->incident);
        return NULL;
    }
    *role = r;
    return inc;
}

int tc_coord__api_link(tc_coord_t *c, const tc_key_t *key, const char *user,
                       const tc_api_request_t *q, tc_api_reply_t *reply)
{
    bool ack = q->nargs == 2 && !strcmp(q->args[0], "ack");
    if (q->nargs != 2 || (!ack && strcmp(q->args[0], "check") != 0)) {
        tc_api_reply_fail(reply, "link wants check TOKEN or ack TOKEN");
        return 0;
    }
    tc_acklink_t link = {0};
    const tc_role_t *r = NULL;
    const tc_incident_t *inc = s_page_of(c, q->args[1], &link, &r, reply);
    /* The audit names the page, not the token: a token is as good as the
     * person's acknowledgement until it is used or expires. */
    char detail[TC_TEXT_MAX];
    snprintf(detail, sizeof detail, "%.8s incident %" PRIu64 " %.63s %.63s%s%.300s", q->args[0],
             link.incident, link.role[0] ? link.role : "?", link.person[0] ? link.person : "?",
             reply->ok ? "" : ": refused: ", reply->ok ? "" : reply->error);
    if (!inc || !ack) {
        tc_coord__audit(c, key, user, "link", reply->ok, "%s", detail);
        return 0;
    }
    if (c->storage_rc) {
        tc_api_reply_fail(reply, "not accepting changes while storage is failing: %s",
                          tc_store_error(c->store));
        tc_coord__audit(c, key, user, "link", false, "%s: refused: storage failing", detail);
        return 0;
    }
    char paged[24], why[TC_TEXT_MAX] = "";
    snprintf(paged, sizeof paged, "%" PRId64, r->paged_ms);
    const char *args[] = {link.role, paged, "link"};
    bool queued = false;
    uint64_t id = link.incident;
    int rc = tc_coord__queue_action(c, link.person, id, "ack", args, 3, NULL, NULL, &queued, why,
                                    sizeof why);
    if (rc)
        return rc;
    if (!queued) {
        tc_api_reply_fail(reply, "%s", why);
        tc_coord__audit(c, key, user, "link", false, "%s: refused: %s", detail, why);
        return 0;
    }
    uint64_t ticket = c->batch[c->nbatch - 1].ticket;
    if ((rc = tc_coord__flush(c)) != 0)
        return rc;
    if (c->dropped_ticket == ticket || c->storage_rc) {
        tc_api_reply_fail(reply, "%s",
                          c->dropped_ticket == ticket ? c->dropped_why : tc_store_error(c->store));
        tc_coord__audit(c, key, user, "link", false, "%s: refused: %s", detail, reply->error);
        return 0;
    }
    tc_info("incident %" PRIu64 ": the %s page to %s acknowledged through its link", id, link.role,
            link.person);
    tc_coord__audit(c, key, user, "link", true, "%s: acknowledged", detail);
    /* Answer with the incident as it is now. */
    tc_api_reply_t *fresh = tc_api_reply_new();
    if (!fresh)
        return TC_ENOMEM;
    const tc_incident_t *now = tc_state_incident(c->state, id);
    rc = now ? tc_api_reply_add_incident(fresh, now) : 0;
    if (rc == 0) {
        free(reply->incidents);
        reply->incidents = fresh->incidents;
        reply->nincidents = fresh->nincidents;
        fresh->incidents = NULL;
        fresh->nincidents = 0;
    }
    tc_api_reply_destroy(&fresh);
    return rc;
}

typedef struct {
    tc_coord_t *c;
    tc_api_reply_t *reply;
    tc_person_t *p;
    int rc;
} s_people_t;

static void s_person(const char *id, const char *name, const char *email, void *ctx)
{
    s_people_t *e = ctx;
    if (e->rc)
        return;
    tc_contacts_person(tc_roster_contacts(e->c->roster), id, email, e->p);
    snprintf(e->p->name, sizeof e->p->name, "%s", name);
    e->rc = tc_api_reply_add_person(e->reply, e->p);
}

int tc_coord__api_contacts(tc_coord_t *c, tc_api_reply_t *reply)
{
    reply->has_contacts = true;
    s_people_t e = {c, reply, malloc(sizeof(tc_person_t)), 0};
    if (!e.p)
        return TC_ENOMEM;
    tc_roster_each_person(c->roster, s_person, &e);
    free(e.p);
    return e.rc;
}
