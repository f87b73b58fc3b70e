/*
 * nf_feed.c - tocsin-notify's side of the broadcast feed; see notify_impl.h.
 *
 * The SUB socket is subscribed before anything is fetched, and the
 * follower (client/follow.h) turns live broadcasts plus API catch-up into
 * one gap-free sequence. A published status update is matched against
 * the subscriptions; a page becomes one delivery per contact method its
 * urgency reaches. The deliveries a broadcast produces and the cursor past
 * it are committed in one transaction (queue.h), so a restart resumes at
 * cursor + 1 and loses nothing.
 *
 * The coordinator's components (display names) and contacts (how people
 * are paged) are kept in the state: pages queued while the coordinator is
 * down are delivered from the notifier's own copy.
 */
#include "notify_impl.h"

#include "error.h"
#include "feed.h"
#include "log.h"
#include "pages.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Broadcasts asked for per API request. */
#define S_PAGE 1000

int tc_nf_fetch(void *arg, uint64_t from, tc_api_reply_t **preply)
{
    tc_nf_t *ctx = arg;
    bool refused;
    int rc = tc_feed_fetch(ctx->api, from, S_PAGE, TC_NF_API_TIMEOUT_MS, preply, &refused);
    if (rc != 0 && !refused && !(rc == TC_ESYS && zsys_interrupted))
        tc_warn("cannot fetch broadcasts from %" PRIu64 " at %s: %s; will retry", from,
                ctx->cfg->api, tc_strerror(rc));
    if (rc == 0)
        ctx->heard_ms = tc_now_ms();
    return rc;
}

/* ---- components and contacts ------------------------------------------------- */

/* Takes component `c` (borrowed) into the display names, adding it if new.
 * Returns true if anything changed. */
static bool s_component_seen(tc_nf_t *ctx, const tc_component_t *c)
{
    for (size_t i = 0; i < ctx->ncomps; i++)
        if (!strcmp(ctx->comps[i].name, c->name)) {
            if (!c->description[0] || !strcmp(ctx->comps[i].description, c->description))
                return false;
            memcpy(ctx->comps[i].description, c->description, sizeof c->description);
            return true;
        }
    tc_component_t *grown = realloc(ctx->comps, (ctx->ncomps + 1) * sizeof *grown);
    if (!grown)
        return false;
    ctx->comps = grown;
    ctx->comps[ctx->ncomps++] = *c;
    return true;
}

static void s_save_components(tc_nf_t *ctx)
{
    int rc = tc_notify_queue_save_components(ctx->queue, ctx->comps, ctx->ncomps);
    if (rc != 0)
        tc_nf_store_failed(ctx, rc, "cannot save the component names");
}

/* A subscription naming a component the coordinator does not have gets
 * nothing of it, ever: said as an error each time the list is read, not
 * left for someone to notice the silence (--check-config with
 * --coordinator-config refuses it before start). */
static void s_check_subscriptions(const tc_nf_t *ctx)
{
    for (size_t i = 0; i < ctx->cfg->nsubs; i++) {
        const tc_notify_sub_t *sub = &ctx->cfg->subs[i];
        for (size_t k = 0; k < sub->ncomponents; k++) {
            bool known = false;
            for (size_t c = 0; c < ctx->ncomps && !known; c++)
                known = !strcmp(ctx->comps[c].name, sub->components[k]);
            if (!known)
                tc_error("subscription %s (line %d) names component \"%s\", which the "
                         "coordinator does not define: it receives nothing about it",
                         sub->name, sub->line, sub->components[k]);
        }
    }
}

void tc_nf_fetch_components(tc_nf_t *ctx)
{
    tc_api_request_t req = {.version = TC_PROTOCOL_VERSION};
    snprintf(req.command, sizeof req.command, "components");
    tc_api_reply_t *reply = NULL;
    int rc = tc_client_call(ctx->api, &req, TC_NF_API_TIMEOUT_MS, &reply);
    if (rc != 0)
        return; /* tried again after the next catch-up */
    ctx->need_components = false;
    if (!reply->ok) {
        tc_warn("the coordinator does not list components (%s); texts name them by their "
                "configuration names",
                reply->error);
    } else {
        tc_component_t *cs = reply->ncomponents ? calloc(reply->ncomponents, sizeof *cs) : NULL;
        if (reply->ncomponents && !cs) {
            ctx->fatal = true;
        } else {
            if (reply->ncomponents)
                memcpy(cs, reply->components, reply->ncomponents * sizeof *cs);
            free(ctx->comps);
            ctx->comps = cs;
            ctx->ncomps = reply->ncomponents;
            tc_debug("the coordinator lists %zu components", ctx->ncomps);
            s_save_components(ctx);
            s_check_subscriptions(ctx);
        }
    }
    tc_api_reply_destroy(&reply);
}

void tc_nf_fetch_contacts(tc_nf_t *ctx)
{
    tc_api_request_t req = {.version = TC_PROTOCOL_VERSION};
    snprintf(req.command, sizeof req.command, "contacts");
    tc_api_reply_t *reply = NULL;
    ctx->contacts_mono = tc_mono_ms();
    int rc = tc_client_call(ctx->api, &req, TC_NF_API_TIMEOUT_MS, &reply);
    if (rc != 0)
        return; /* the saved contacts stay in force; asked again later */
    ctx->need_contacts = false;
    if (!reply->ok || !reply->has_contacts) {
        tc_warn("the coordinator does not tell contacts (%s); pages are delivered to the contacts "
                "saved before",
                reply->ok ? "an older coordinator" : reply->error);
        tc_api_reply_destroy(&reply);
        return;
    }
    /* Kept as the coordinator encodes it: the saved copy reads back with
     * the same decoder, whatever changes in the C structs. */
    uint8_t *buf = NULL;
    size_t len = 0;
    if ((rc = tc_wire_encode_reply(reply, &buf, &len)) != 0) {
        ctx->fatal = rc == TC_ENOMEM;
        tc_api_reply_destroy(&reply);
        return;
    }
    bool changed = true;
    if (ctx->contacts) {
        uint8_t *old = NULL;
        size_t oldlen = 0;
        if (tc_wire_encode_reply(ctx->contacts, &old, &oldlen) == 0)
            changed = oldlen != len || memcmp(old, buf, len) != 0;
        free(old);
    }
    if (changed) {
        rc = tc_notify_queue_save_contacts(ctx->queue, buf, len);
        if (rc != 0)
            tc_nf_store_failed(ctx, rc, "cannot save the contacts");
        size_t methods = 0;
        for (size_t i = 0; i < reply->npeople; i++)
            methods += reply->people[i].ncontacts;
        tc_info("contacts from the coordinator: %zu people, %zu contact methods", reply->npeople,
                methods);
    }
    free(buf);
    tc_api_reply_destroy(&ctx->contacts);
    ctx->contacts = reply;
}

const tc_person_t *tc_nf_person(const tc_nf_t *ctx, const char *id)
{
    for (size_t i = 0; ctx->contacts && i < ctx->contacts->npeople; i++)
        if (!strcmp(ctx->contacts->people[i].id, id))
            return &ctx->contacts->people[i];
    return NULL;
}

/* ---- broadcasts into deliveries ---------------------------------------------- */

/* True if `u` is a published update (not a draft or a withdrawal). */
static bool s_deliverable(const tc_update_t *u)
{
    if (u->status == TC_UPD_WITHDRAWN)
        return false;
    return u->status == TC_UPD_PUBLISHED || u->published_ms > 0;
}

/* The deliveries of status update broadcast `m`, one per subscription
 * that wants it, into `ds` (room for every subscription). */
static size_t s_update_deliveries(tc_nf_t *ctx, const tc_msg_t *m, tc_delivery_t *ds)
{
    const tc_broadcast_t *b = &m->u.bcast;
    tc_notify_config_t *cfg = ctx->cfg;
    size_t n = 0;
    int64_t now = tc_now_ms();
    for (size_t i = 0; i < cfg->nsubs; i++) {
        if (!tc_notify_matches(&cfg->subs[i], &b->update))
            continue;
        tc_delivery_t *d = &ds[n];
        memset(d, 0, sizeof *d);
        snprintf(d->sub, sizeof d->sub, "%s", cfg->subs[i].name);
        if (tc_notify_key(&b->update, d->sub, d->key, sizeof d->key) != 0)
            continue;
        d->first_ms = now;
        d->next_try_ms = now;
        d->update = b->update;
        n++;
    }
    return n;
}

/* The deliveries of page broadcast `m`. A person the saved contacts do
 * not know makes the notifier ask the coordinator first (the roster may
 * have changed); e-mail contacts need the smtp section. What cannot be
 * delivered at all is reported, so the incident's timeline says so. */
static size_t s_page_deliveries(tc_nf_t *ctx, const tc_msg_t *m, tc_delivery_t *ds)
{
    const tc_page_t *pg = &m->u.bcast.page;
    if (!pg->person[0] || pg->urgency == TC_URGENCY_NONE)
        return 0;
    ctx->pages++;
    if (!tc_nf_person(ctx, pg->person))
        tc_nf_fetch_contacts(ctx);
    const tc_person_t *p = tc_nf_person(ctx, pg->person);
    char why[160];
    size_t n = tc_notify_page_deliveries(m, p, tc_now_ms(), ds, why, sizeof why);
    if (n == 0) {
        tc_warn("broadcast %" PRIu64 ": the %s page to %s of incident %" PRIu64
                " cannot be delivered: %s",
                m->seq, pg->role, pg->person, m->u.bcast.incident.id, why);
        tc_nf_report_undeliverable(ctx, m, "email", why);
        return 0;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (ds[i].pg.contact.type == TC_CONTACT_EMAIL && !ctx->cfg->has_smtp) {
            tc_nf_report_undeliverable(ctx, m, "email",
                                       "this notifier has no smtp section to send e-mail");
            continue;
        }
        if (kept != i)
            ds[kept] = ds[i];
        kept++;
    }
    return kept;
}

int tc_nf_emit(void *arg, const tc_msg_t *m)
{
    tc_nf_t *ctx = arg;
    const tc_broadcast_t *b = &m->u.bcast;
    ctx->seen = m->seq;
    if (b->kind == TC_BCAST_COMPONENT && s_component_seen(ctx, &b->component))
        s_save_components(ctx);
    bool update = b->kind == TC_BCAST_STATUS_UPDATE;
    bool page = (b->kind == TC_BCAST_PAGE || b->kind == TC_BCAST_REMINDER) && b->page.person[0];
    if (!update && !page)
        return 0;
    if (update && !s_deliverable(&b->update)) {
        tc_debug("broadcast %" PRIu64 ": update %" PRIu32 " is %s; not delivered", m->seq,
                 b->update.number, tc_update_status_name(b->update.status));
        return 0;
    }
    size_t cap = update ? ctx->cfg->nsubs : TC_CONTACTS_MAX;
    tc_delivery_t *ds = calloc(cap + 1, sizeof *ds);
    if (!ds) {
        ctx->fatal = true;
        return TC_ENOMEM;
    }
    size_t n = update ? s_update_deliveries(ctx, m, ds) : s_page_deliveries(ctx, m, ds);
    size_t added = 0;
    int rc = tc_notify_queue_enqueue(ctx->queue, m->seq, ds, n, &added);
    if (rc != 0) {
        char doing[96];
        snprintf(doing, sizeof doing, "cannot enqueue the deliveries of broadcast %" PRIu64,
                 m->seq);
        tc_nf_store_failed(ctx, rc, doing);
        free(ds);
        /* Fetched again from the stored cursor: nothing is skipped. */
        ctx->seen = tc_notify_queue_cursor(ctx->queue);
        tc_follow_start_at(ctx->follow, ctx->seen + 1);
        return rc;
    }
    tc_nf_store_ok(ctx);
    ctx->cursor_saved_mono = tc_mono_ms();
    if (update)
        tc_info("broadcast %" PRIu64 ": %s update %" PRIu32 " of %s %" PRIu64
                " (%s): %zu deliveries queued",
                m->seq, b->update.external ? "external" : "internal", b->update.number,
                b->update.incident ? "incident" : "maintenance",
                b->update.incident ? b->update.incident : b->update.maintenance, b->update.state,
                added);
    else
        tc_info("broadcast %" PRIu64 ": %s %s page %" PRIu32 " to %s (%s) of incident %" PRIu64
                ": %zu deliveries queued",
                m->seq, tc_urgency_name(b->page.urgency), tc_page_kind_name(b->page.kind),
                b->page.number, b->page.person, b->page.role, b->incident.id, added);
    ctx->page_deliveries += page ? added : 0;
    tc_nf_wake(ctx, ds, n);
    free(ds);
    return 0;
}

/* ---- the SUB socket and the follower ----------------------------------------------- */

/* A follower call ended with `rc`. Returns -1 to end the loop (fatal),
 * else 0, scheduling a catch-up if the API did not answer. */
static int s_after_follow(tc_nf_t *ctx, int rc)
{
    if (ctx->fatal)
        return -1;
    if (rc != 0) {
        if (rc == TC_ESYS && zsys_interrupted)
            return -1;
        ctx->need_catch_up = true;
        if (ctx->store_failing)
            ctx->api_next_mono = tc_mono_ms() + TC_NF_STORE_RETRY_MS;
        else
            tc_nf_api_failed(&ctx->api_next_mono, &ctx->api_backoff);
    }
    return 0;
}

int tc_nf_save_cursor(tc_nf_t *ctx)
{
    if (ctx->seen <= tc_notify_queue_cursor(ctx->queue))
        return 0;
    int rc = tc_notify_queue_enqueue(ctx->queue, ctx->seen, NULL, 0, NULL);
    if (rc != 0)
        tc_nf_store_failed(ctx, rc, "cannot save the cursor"); /* tried again later */
    else
        tc_nf_store_ok(ctx);
    ctx->cursor_saved_mono = tc_mono_ms();
    return ctx->fatal ? rc : 0;
}

int tc_nf_on_sub(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    tc_nf_t *ctx = arg;
    zmsg_t *msg = zmsg_recv(reader);
    if (!msg)
        return zsys_interrupted ? -1 : 0;
    ctx->sub_mono = tc_mono_ms();
    ctx->heard_ms = tc_now_ms();
    int rc = 0;
    if (zmsg_size(msg) != 2 || ctx->stopping ||
        (!tc_follow_started(ctx->follow) && !ctx->await_live))
        goto done;
    zframe_t *body = zmsg_last(msg);
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        goto done;
    if (tc_wire_decode_msg(zframe_data(body), zframe_size(body), m) == 0) {
        bool was_started = tc_follow_started(ctx->follow);
        uint64_t first = 0; /* the broadcast a new state starts with, if one */
        if (m->kind == TC_MSG_HEARTBEAT && strcmp(m->sender, TC_COORDINATOR_ID) == 0) {
            rc = s_after_follow(ctx, tc_follow_heartbeat(ctx->follow, m->u.heartbeat.last_seq));
        } else if (tc_feed_usable(m, ctx->cfg->publish)) {
            first = m->seq;
            rc = s_after_follow(ctx, tc_follow_live(ctx->follow, m));
        }
        /* A new state starts with whichever comes first, the heartbeat or
         * a broadcast (which was delivered above). */
        if (!was_started && tc_follow_started(ctx->follow)) {
            uint64_t after = first ? first - 1 : tc_follow_last(ctx->follow);
            tc_info("new state: following broadcasts after %" PRIu64, after);
            if (ctx->seen < after)
                ctx->seen = after;
            if (tc_nf_save_cursor(ctx) != 0)
                rc = -1;
        }
    }
    free(m);
done:
    zmsg_destroy(&msg);
    return rc;
}

int tc_nf_start_feed(tc_nf_t *ctx)
{
    uint64_t cursor = tc_notify_queue_cursor(ctx->queue);
    if (cursor == 0) {
        /* A new state starts from now, at the coordinator's next heartbeat
         * (once a second), which names its newest broadcast. Asking for
         * "status" instead needs an operator key, which a notifier has no
         * business holding: with its subscriber key it was refused, and
         * every first start left a warning in the coordinator's log. */
        tc_info("new state: starting with the coordinator's next heartbeat");
        ctx->await_live = true;
        return 0;
    }
    tc_info("resuming after broadcast %" PRIu64, cursor);
    ctx->seen = cursor;
    tc_follow_start_at(ctx->follow, cursor + 1);
    return 0;
}

int tc_nf_resubscribe(zloop_t *loop, tc_nf_t *ctx)
{
    ctx->sub_mono = tc_mono_ms();
    zsock_t *sub = tc_feed_subscribe(ctx->cfg->publish, &ctx->keys);
    if (!sub)
        return 0; /* tried again after the next silence */
    tc_debug("nothing heard on %s for %d s: subscribing again", ctx->cfg->publish,
             TC_FEED_RESUBSCRIBE_MS / 1000);
    /* zloop may still hand the old socket to tc_nf_on_sub() in the
     * iteration under way, so it lives until the next tick. */
    zloop_reader_end(loop, ctx->sub);
    zsock_destroy(&ctx->old_sub);
    ctx->old_sub = ctx->sub;
    ctx->sub = sub;
    ctx->need_components = true;
    ctx->need_contacts = true;
    if (zloop_reader(loop, ctx->sub, tc_nf_on_sub, ctx) != 0) {
        tc_error("cannot set up the event loop");
        return -1;
    }
    return 0;
}
