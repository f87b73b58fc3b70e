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
    r->out.n = 0;
    r->out.quiet = true;
    int rc = rec->event.kind == TC_MSG_CONFIG ? tc_replay_configure(r->store, r->st, rec, &r->out)
                                              : tc_state_replay(r->st, rec, &r->out);
    if (rc)
        return rc;
    r->stats.records++;
    r->stats.broadcasts += r->out.n;
    r->stats.configs += rec->event.kind == TC_MSG_CONFIG;
    r->stats.last_received_ms = rec->received_ms;
    return 0;
}

/* A state with the configuration a replay starts with: the first one
 * recorded in the log (records before it, in a log written before
 * configurations were recorded, are replayed with it), else `policy` and
 * `templates`. */
static int s_initial(tc_store_t *store, const tc_policy_t *policy, const tc_templates_t *templates,
                     tc_state_t **out)
{
    *out = NULL;
    uint64_t first_seq;
    uint8_t *buf;
    size_t len;
    int rc = tc_store_first_config(store, &first_seq, &buf, &len);
    if (rc == TC_ENOTFOUND) {
        if (!(*out = tc_state_new(policy)))
            return TC_ENOMEM;
        if (templates)
            tc_state_set_templates(*out, templates);
        return 0;
    }
    if (rc) {
        tc_error("reading the recorded configuration failed: %s", tc_strerror(rc));
        return rc;
    }
    tc_policy_t *first;
    tc_templates_t *first_templates;
    rc = s_decode(buf, len, &first, &first_templates);
    free(buf);
    if (rc)
        return rc;
    *out = tc_state_new(first);
    free(first);
    if (*out)
        tc_state_configure(*out, NULL, &first_templates, NULL, NULL);
    tc_templates_destroy(&first_templates);
    return *out ? 0 : TC_ENOMEM;
}

static int s_received(const tc_record_t *rec, void *arg)
{
    *(int64_t *)arg = rec->received_ms;
    return 0;
}

/* The state of the newest snapshot at or before `upto`, or TC_ENOTFOUND. */
static int s_from_snapshot(tc_store_t *store, const tc_policy_t *policy,
                           const tc_templates_t *templates, uint64_t upto, tc_state_t **out,
                           tc_replay_stats_t *stats)
{
    uint64_t at;
    uint8_t *buf;
    size_t len;
    int rc = tc_store_get_snapshot(store, upto ? upto : UINT64_MAX, &at, &buf, &len);
    if (rc)
        return rc;
    tc_state_snapshot_header_t h;
    tc_state_t *st = NULL;
    if ((rc = tc_state_snapshot_header(buf, len, &h)) != 0 ||
        (rc = s_initial(store, policy, templates, &st)) != 0)
        goto out;
    if (h.config_seq) {
        /* The configuration in force at the snapshot first: it makes the
         * component list the snapshot's statuses fill. */
        tc_record_t ref = {.seq = h.config_seq};
        uint8_t *cbuf;
        size_t clen;
        if ((rc = tc_store_get_config(store, h.config_seq, &cbuf, &clen)) != 0)
            goto out;
        ref.event.kind = TC_MSG_CONFIG;
        ref.event.u.config.digest = tc_wire_digest(cbuf, clen);
        rc = tc_replay_configure_bytes(st, &ref, cbuf, clen, NULL);
        free(cbuf);
        if (rc)
            goto out;
    }
    uint64_t seq;
    if ((rc = tc_state_restore(st, buf, len, &seq)) != 0) {
        tc_error("snapshot at log record %llu cannot be loaded: %s", (unsigned long long)at,
                 tc_strerror(rc));
        goto out;
    }
    stats->snapshot_seq = seq;
    stats->broadcasts = h.bcast_seq;
    /* The snapshot's own record, for when nothing follows it. */
    tc_store_scan_log(store, seq, 1, s_received, &stats->last_received_ms, NULL);
out:
    free(buf);
    if (rc)
        tc_state_destroy(&st);
    *out = st;
    return rc;
}

int tc_replay(tc_store_t *store, const tc_policy_t *policy, const tc_templates_t *templates,
              uint64_t upto, bool use_snapshot, tc_state_t **out, tc_replay_stats_t *stats)
{
    *out = NULL;
    s_replay_t *r = calloc(1, sizeof *r);
    if (!r)
        return TC_ENOMEM;
    r->store = store;
    r->upto = upto;
    int rc = use_snapshot ? s_from_snapshot(store, policy, templates, upto, &r->st, &r->stats)
                          : TC_ENOTFOUND;
    if (rc == TC_ENOTFOUND)
        rc = s_initial(store, policy, templates, &r->st);
    if (rc)
        goto fail;
    rc = tc_store_scan_log(store, r->stats.snapshot_seq + 1, 0, s_one, r, NULL);
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
