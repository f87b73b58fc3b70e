/*
 * replay.c - the state machine rebuilt from the store; see replay.h.
 */
#include "replay.h"

#include "error.h"
#include "log.h"
#include "wire.h"

#include <stdlib.h>

/* Decodes a stored configuration into a new policy and template set. */
static int s_decode(const uint8_t *buf, size_t len, tc_policy_t **policy,
                    tc_templates_t **templates)
{
    char err[512];
    *policy = malloc(sizeof **policy);
    if (!*policy)
        return TC_ENOMEM;
    int rc = tc_wire_decode_state_config(buf, len, *policy, templates, err, sizeof err);
    if (rc) {
        tc_error("recorded configuration: %s", err);
        free(*policy);
        *policy = NULL;
    }
    return rc;
}

int tc_replay_configure_bytes(tc_state_t *st, const tc_record_t *rec, const uint8_t *buf,
                              size_t len, tc_state_out_t *out)
{
    if (tc_wire_digest(buf, len) != rec->event.u.config.digest) {
        tc_error("configuration of log record %llu does not match its digest",
                 (unsigned long long)rec->seq);
        return TC_EDECODE;
    }
    tc_policy_t *policy;
    tc_templates_t *templates;
    int rc = s_decode(buf, len, &policy, &templates);
    if (rc)
        return rc;
    rc = tc_state_configure(st, policy, &templates, rec, out);
    tc_templates_destroy(&templates);
    free(policy);
    return rc;
}

int tc_replay_configure(tc_store_t *store, tc_state_t *st, const tc_record_t *rec,
                        tc_state_out_t *out)
{
    uint8_t *buf;
    size_t len;
    int rc = tc_store_get_config(store, rec->seq, &buf, &len);
    if (rc) {
        tc_error("configuration of log record %llu: %s", (unsigned long long)rec->seq,
                 tc_strerror(rc));
        return rc;
    }
    rc = tc_replay_configure_bytes(st, rec, buf, len, out);
    free(buf);
    return rc;
}

typedef struct {
    tc_store_t *store;
    tc_state_t *st;
    uint64_t upto;
    tc_replay_stats_t stats;
    tc_state_out_t out;
} s_replay_t;

static int s_one(const tc_record_t *rec, void *arg)
{
    s_replay_t *r = arg;
    if (r->upto && rec->seq > r->upto)
        return 1; /* done: not an error */
    int rc = rec->event.kind == TC_MSG_CONFIG ? tc_replay_configure(r->store, r->st, rec, &r->out)
                                              : tc_state_apply(r->st, rec, &r->out);
    if (rc)
        return rc;
    r->stats.records++;
    r->stats.broadcasts += r->out.n;
    r->stats.configs += rec->event.kind == TC_MSG_CONFIG;
    r->stats.last_received_ms = rec->received_ms;
    return 0;
}

int tc_replay(tc_store_t *store, const tc_policy_t *policy, const tc_templates_t *templates,
              uint64_t upto, tc_state_t **out, tc_replay_stats_t *stats)
{
    *out = NULL;
    s_replay_t *r = calloc(1, sizeof *r);
    if (!r)
        return TC_ENOMEM;
    r->store = store;
    r->upto = upto;
    /* Records before the first configuration record (a log written before
     * configurations were recorded) are replayed with that first one: the
     * configuration that was in force when it was first recorded. */
    uint64_t first_seq;
    uint8_t *buf;
    size_t len;
    int rc = tc_store_first_config(store, &first_seq, &buf, &len);
    if (rc == 0) {
        tc_policy_t *first;
        tc_templates_t *first_templates;
        rc = s_decode(buf, len, &first, &first_templates);
        free(buf);
        if (rc)
            goto fail;
        r->st = tc_state_new(first);
        free(first);
        if (r->st)
            tc_state_configure(r->st, NULL, &first_templates, NULL, NULL);
        tc_templates_destroy(&first_templates);
    } else if (rc == TC_ENOTFOUND) {
        r->st = tc_state_new(policy);
        if (r->st && templates)
            tc_state_set_templates(r->st, templates);
    } else {
        tc_error("reading the recorded configuration failed: %s", tc_strerror(rc));
        goto fail;
    }
    if (!r->st) {
        rc = TC_ENOMEM;
        goto fail;
    }
    rc = tc_store_scan_log(store, 1, 0, s_one, r, NULL);
    if (rc < 0) {
        tc_error("replaying the event log failed: %s", tc_strerror(rc));
        goto fail;
    }
    if (stats)
        *stats = r->stats;
    *out = r->st;
    free(r);
    return 0;
fail:
    tc_state_destroy(&r->st);
    free(r);
    return rc;
}
