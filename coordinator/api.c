#include "api.h"

#include "error.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    tc_api_reply_t *reply;
    bool all;
    int rc;
} s_collect_t;

static void s_add_incident(const tc_incident_t *inc, void *ctx)
{
    s_collect_t *c = ctx;
    if (c->rc || (!c->all && inc->state == TC_INC_RESOLVED))
        return;
    c->rc = tc_api_reply_add_incident(c->reply, inc);
}

static int s_add_record(const tc_record_t *rec, void *ctx)
{
    return tc_api_reply_add_record(ctx, rec);
}

static int s_add_audit(const tc_audit_t *a, void *ctx)
{
    return tc_api_reply_add_audit(ctx, a);
}

typedef struct {
    tc_api_reply_t *reply;
    uint64_t upto; /* 0: every entry */
} s_timeline_t;

static int s_add_timeline(const tc_timeline_t *t, void *ctx)
{
    s_timeline_t *tl = ctx;
    if (tl->upto && t->log_seq > tl->upto)
        return 0;
    return tc_api_reply_add_timeline(tl->reply, t);
}

static int s_add_bcast(const tc_msg_t *m, void *ctx)
{
    return tc_api_reply_add_broadcast(ctx, m);
}

typedef struct {
    tc_api_reply_t *reply;
    const tc_api_env_t *env;
    int rc;
} s_hosts_t;

static void s_add_host(const tc_state_host_t *h, void *ctx)
{
    s_hosts_t *c = ctx;
    tc_host_info_t info = {0};
    snprintf(info.host, sizeof info.host, "%s", h->host);
    info.up = h->up;
    info.heartbeat_ms = h->heartbeat_ms;
    info.last_seen_ms = c->env->last_seen ? c->env->last_seen(c->env->last_seen_ctx, h->host) : 0;
    if (c->rc == 0)
        c->rc = tc_api_reply_add_host(c->reply, &info);
}

typedef struct {
    tc_api_reply_t *reply;
    int rc;
} s_each_t;

static void s_add_update(const tc_update_t *u, void *ctx)
{
    s_each_t *e = ctx;
    if (e->rc == 0)
        e->rc = tc_api_reply_add_update(e->reply, u);
}

static void s_add_maint(const tc_maintenance_t *w, void *ctx)
{
    s_each_t *e = ctx;
    if (e->rc == 0)
        e->rc = tc_api_reply_add_maintenance(e->reply, w);
}

static void s_add_sub(const tc_state_subscriber_t *sub, void *ctx)
{
    s_each_t *e = ctx;
    tc_sub_stat_t st = {0};
    snprintf(st.name, sizeof st.name, "%s", sub->name);
    st.delivered = sub->delivered;
    st.failed = sub->failed;
    st.latency_total_ms = sub->latency_total_ms;
    st.last_ms = sub->last_ms;
    snprintf(st.last_result, sizeof st.last_result, "%s", sub->last_result);
    snprintf(st.last_detail, sizeof st.last_detail, "%s", sub->last_detail);
    st.failing = sub->failing;
    st.failing_since_ms = sub->failing_since_ms;
    snprintf(st.failing_detail, sizeof st.failing_detail, "%s", sub->failing_detail);
    if (e->rc == 0)
        e->rc = tc_api_reply_add_sub(e->reply, &st);
}

static void s_add_pager(const tc_state_pager_t *p, void *ctx)
{
    s_each_t *e = ctx;
    tc_page_stat_t st = {0};
    snprintf(st.person, sizeof st.person, "%s", p->person);
    st.pages = p->pages;
    st.delivered = p->delivered;
    st.failed = p->failed;
    st.latency_total_ms = p->latency_total_ms;
    st.last_ms = p->last_ms;
    st.acknowledged = p->acknowledged;
    snprintf(st.last_result, sizeof st.last_result, "%s", p->last_result);
    snprintf(st.last_method, sizeof st.last_method, "%s", p->last_method);
    snprintf(st.last_detail, sizeof st.last_detail, "%s", p->last_detail);
    if (e->rc == 0)
        e->rc = tc_api_reply_add_page_stat(e->reply, &st);
}

static size_t s_page(uint32_t limit)
{
    if (limit == 0)
        return TC_API_PAGE_DEFAULT;
    return limit > TC_API_PAGE_MAX ? TC_API_PAGE_MAX : limit;
}

int tc_api_handle(tc_store_t *store, const tc_state_t *state, const tc_api_env_t *env,
                  const tc_api_request_t *q, tc_api_reply_t *reply)
{
    if (q->version != 1) {
        tc_api_reply_fail(reply, "unsupported API version %u", q->version);
        return 0;
    }
    if (!strcmp(q->command, "status")) {
        reply->has_status = true;
        snprintf(reply->status.version, sizeof reply->status.version, "%s", TOCSIN_VERSION);
        reply->status.started_ms = env->started_ms;
        reply->status.log_seq = env->as_of_seq ? env->as_of_seq : tc_store_log_seq(store);
        reply->status.broadcast_seq = tc_store_bcast_seq(store);
        reply->status.open_incidents = (uint32_t)tc_state_open_count(state);
        reply->status.accepted = env->accepted;
        reply->status.duplicates = env->duplicates;
        reply->status.rejected = env->rejected;
        reply->status.denied = env->denied;
        reply->status.throttled = env->throttled;
        reply->status.deferred = env->deferred;
        snprintf(reply->status.storage, sizeof reply->status.storage, "%s",
                 env->storage ? env->storage : "ok");
        tc_strlcpy_utf8(reply->status.storage_error, env->storage_error ? env->storage_error : "",
                        sizeof reply->status.storage_error);
        size_t used, map, max;
        tc_store_usage(store, &used, &map, &max);
        reply->status.storage_used = used;
        reply->status.storage_map = map;
        reply->status.storage_max = max;
        s_hosts_t hc = {reply, env, 0};
        tc_state_each_host(state, s_add_host, &hc);
        return hc.rc;
    }
    if (!strcmp(q->command, "incidents")) {
        /* From the state, which holds every incident: what queries say is
         * what the state machine works with. */
        s_collect_t c = {reply, q->all, 0};
        if (q->all)
            tc_state_each_incident(state, s_add_incident, &c);
        else
            tc_state_each_open(state, s_add_incident, &c);
        return c.rc;
    }
    if (!strcmp(q->command, "show")) {
        uint64_t id;
        if (q->nargs != 1 || tc_u64_parse(q->args[0], UINT64_MAX, &id) != 0) {
            tc_api_reply_fail(reply, "show needs one incident id");
            return 0;
        }
        const tc_incident_t *inc = tc_state_incident(state, id);
        if (!inc) {
            tc_api_reply_fail(reply, "no incident %llu", (unsigned long long)id);
            return 0;
        }
        return tc_api_reply_add_incident(reply, inc);
    }
    if (!strcmp(q->command, "log"))
        return tc_store_scan_log(store, q->from, s_page(q->limit), s_add_record, reply,
                                 &reply->more);
    if (!strcmp(q->command, "timeline")) {
        uint64_t id;
        if (q->nargs != 1 || tc_u64_parse(q->args[0], UINT64_MAX, &id) != 0) {
            tc_api_reply_fail(reply, "timeline needs one incident id");
            return 0;
        }
        const tc_incident_t *inc = tc_state_incident(state, id);
        if (!inc) {
            tc_api_reply_fail(reply, "no incident %llu", (unsigned long long)id);
            return 0;
        }
        int rc = tc_api_reply_add_incident(reply, inc);
        if (rc)
            return rc;
        s_timeline_t tl = {reply, env->as_of_seq};
        if ((rc = tc_store_scan_timeline(store, id, s_add_timeline, &tl)) != 0)
            return rc;
        /* Its status updates too: what the post-mortem's Messaging is. */
        s_each_t e = {reply, 0};
        tc_state_each_update(state, id, s_add_update, &e);
        return e.rc;
    }
    if (!strcmp(q->command, "audit"))
        return tc_store_scan_audit(store, q->from, s_page(q->limit), s_add_audit, reply,
                                   &reply->more);
    if (!strcmp(q->command, "broadcasts"))
        return tc_store_scan_bcast(store, q->from, s_page(q->limit), s_add_bcast, reply,
                                   &reply->more);
    /* The communication plan: status updates of an incident, components,
     * maintenance windows, what notifiers delivered. */
    s_each_t e = {reply, 0};
    if (!strcmp(q->command, "updates")) {
        uint64_t id;
        if (q->nargs != 1 || tc_u64_parse(q->args[0], UINT64_MAX, &id) != 0 || id == 0) {
            tc_api_reply_fail(reply, "updates needs one incident id");
            return 0;
        }
        tc_state_each_update(state, id, s_add_update, &e);
        return e.rc;
    }
    if (!strcmp(q->command, "components")) {
        size_t n;
        const tc_component_t *c = tc_state_components(state, &n);
        for (size_t i = 0; e.rc == 0 && i < n; i++)
            e.rc = tc_api_reply_add_component(reply, &c[i]);
        return e.rc;
    }
    if (!strcmp(q->command, "maintenances")) {
        tc_state_each_maintenance(state, s_add_maint, &e);
        return e.rc;
    }
    if (!strcmp(q->command, "subscribers")) {
        tc_state_each_subscriber(state, s_add_sub, &e);
        return e.rc;
    }
    if (!strcmp(q->command, "pages")) {
        tc_state_each_pager(state, s_add_pager, &e);
        return e.rc;
    }
    tc_api_reply_fail(reply, "unknown command \"%s\"", q->command);
    return 0;
}
