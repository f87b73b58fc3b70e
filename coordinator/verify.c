/*
 * verify.c - `tocsin-coordinator --verify-replay`: is the state start-up
 * builds from the newest snapshot the state a replay of the whole log
 * builds? See tc_coord_verify_replay() in coordinator.h.
 *
 * Both are compared as canonical snapshots (state_snapshot.c), byte for
 * byte, together with the number of broadcasts each implies, which must
 * also be the number stored. The stored snapshot itself is checked against
 * a full replay up to its own position.
 */
#include "coord_impl.h"

#include "error.h"
#include "log.h"
#include "replay.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    tc_buf_t dump;
    tc_replay_stats_t stats;
    int64_t ms;
} s_side_t;

static int s_build(tc_store_t *store, const tc_coord_config_t *cfg, const tc_templates_t *t,
                   uint64_t upto, bool snapshot, uint64_t at, s_side_t *out)
{
    int64_t t0 = tc_mono_ms();
    tc_state_t *st = NULL;
    int rc = tc_replay(store, &cfg->policy, t, upto, snapshot, &st, &out->stats);
    if (rc == 0)
        rc = tc_state_snapshot(st, at, out->stats.broadcasts, &out->dump);
    out->ms = tc_mono_ms() - t0;
    tc_state_destroy(&st);
    return rc;
}

int tc_coord_verify_replay(const tc_coord_config_t *cfg, FILE *out)
{
    char why[1024];
    tc_store_t *store = NULL;
    tc_templates_t *templates = NULL;
    s_side_t full = {0}, snap = {0}, at_snap = {0};
    int result = 1;
    int rc = tc_store_open_readonly(cfg->data, &store, why, sizeof why);
    if (rc) {
        fprintf(out, "cannot open the store: %s\n", why);
        return 1;
    }
    if ((rc = tc_coord__templates(cfg, &templates)) != 0)
        goto done;
    uint64_t last = tc_store_log_seq(store), bcasts = tc_store_bcast_seq(store);
    if ((rc = s_build(store, cfg, templates, 0, false, last, &full)) != 0) {
        fprintf(out, "replaying the whole log failed: %s\n", tc_strerror(rc));
        goto done;
    }
    fprintf(out, "full replay: %llu records in %lld ms, %llu broadcasts (%llu stored)\n",
            (unsigned long long)full.stats.records, (long long)full.ms,
            (unsigned long long)full.stats.broadcasts, (unsigned long long)bcasts);
    bool ok = full.stats.broadcasts == bcasts;
    if (!ok)
        fprintf(out, "MISMATCH: the log replays to %llu broadcasts but %llu are stored\n",
                (unsigned long long)full.stats.broadcasts, (unsigned long long)bcasts);
    if ((rc = s_build(store, cfg, templates, 0, true, last, &snap)) != 0) {
        fprintf(out, "loading the newest snapshot failed: %s\n", tc_strerror(rc));
        goto done;
    }
    if (!snap.stats.snapshot_seq) {
        fprintf(out, "no snapshot yet: nothing to compare the full replay with\n");
        result = ok ? 0 : 1;
        goto done;
    }
    uint64_t s = snap.stats.snapshot_seq;
    fprintf(out, "snapshot at record %llu + %llu records after it: %lld ms\n",
            (unsigned long long)s, (unsigned long long)snap.stats.records, (long long)snap.ms);
    if (!tc_state_snapshot_same(full.dump.data, full.dump.len, snap.dump.data, snap.dump.len, why,
                                sizeof why)) {
        fprintf(out,
                "MISMATCH: the state from the snapshot is not the state of a full replay: "
                "%s\n",
                why);
        ok = false;
    } else {
        fprintf(out, "state after record %llu: identical (%zu bytes)\n", (unsigned long long)last,
                full.dump.len);
    }
    /* The snapshot as stored, against a full replay up to it. */
    uint8_t *stored;
    size_t len;
    uint64_t seq;
    if ((rc = tc_store_get_snapshot(store, s, &seq, &stored, &len)) != 0 ||
        (rc = s_build(store, cfg, templates, s, false, s, &at_snap)) != 0) {
        fprintf(out, "reading the snapshot at %llu failed: %s\n", (unsigned long long)s,
                tc_strerror(rc));
        goto done;
    }
    if (!tc_state_snapshot_same(at_snap.dump.data, at_snap.dump.len, stored, len, why,
                                sizeof why)) {
        fprintf(out, "MISMATCH: the stored snapshot at %llu is not a full replay up to it: %s\n",
                (unsigned long long)s, why);
        ok = false;
    } else {
        fprintf(out, "stored snapshot at record %llu: identical to a full replay up to it\n",
                (unsigned long long)s);
    }
    free(stored);
    result = ok ? 0 : 1;
    fprintf(out, "%s\n", ok ? "ok" : "FAILED");
done:
    free(full.dump.data);
    free(snap.dump.data);
    free(at_snap.dump.data);
    tc_templates_destroy(&templates);
    tc_store_destroy(&store);
    return result;
}
