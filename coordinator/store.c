/*
 * store.c - LMDB behind the coordinator's store.
 *
 * Layout: one environment in the data directory with five named databases.
 *   log        u64 seq (big-endian) -> LogRecord
 *   bcast      u64 seq (big-endian) -> Envelope (Broadcast)
 *   (incidents: written by builds before 0.2; incidents now live in the state)
 *   senders    sender id            -> u64 highest stored seq, i64 time of that
 *                                      event (big-endian; older stores: seq only)
 *   audit      u64 seq (big-endian) -> AuditRecord
 *   timelog    u64 log seq, u8 index -> TimelineEntry (with its incident)
 *   timeline_idx  u64 incident -> u64 log seq, u8 index (sorted duplicates)
 *   timeline   u64 incident, u64 log seq, u8 index -> TimelineEntry: written
 *              by builds before this one, still read, never written
 *   config     u64 log seq (the ConfigRef record) -> StateConfig
 *   snapshots  u64 log seq -> the state after that record (state_snapshot.c)
 *   meta       "format"             -> u32 layout version
 * Big-endian keys make LMDB's default byte order the numeric order, so no
 * custom comparator has to be registered identically by every reader.
 */
#include "store.h"

#include "error.h"
#include "lmdb_env.h"
#include "store_blocks.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2: timeline rows in the timelog (format 1 stores are read and upgraded
 * in place; builds that know only 1 refuse a 2, rather than writing rows
 * this build would read out of order). */
#define STORE_FORMAT 2u
#define STORE_FORMAT_TIMELINE_BY_INCIDENT 1u
#define DEFAULT_MAP_SIZE ((size_t)1 << 30) /* sparse, and it grows; see tc_store_open */

struct tc_store {
    tc_lmdb_t *lmdb;
    MDB_env *env; /* tc_lmdb_env(lmdb), kept at hand */
    MDB_dbi log, bcast, senders, meta, audit, timeline, config, snapshots, timelog, tlindex;
    /* Timeline rows go in log order to `timelog` with MDB_APPEND, which
     * fills its pages (rows keyed by incident split pages half full when
     * incidents interleave); `tlindex` finds an incident's rows. False
     * only for an older store opened read-only, which has neither. */
    bool has_timelog;
    unsigned char tl_last[9], txn_tl_last[9]; /* the highest timelog key: committed, in txn */
    MDB_txn *txn;                             /* open write transaction, or NULL */
    /* The event log and the broadcasts, as compressed blocks. */
    tc_blocks_t logb, bcastb;
    uint64_t audit_seq; /* committed */
    uint64_t txn_audit_seq;
    char why[512]; /* the last write failure, with its cause */
    bool read_only;
};

static int s_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return TC_ENOTFOUND;
    case MDB_MAP_FULL: return TC_EFULL;
    case ENOMEM: return TC_ENOMEM;
    case ENOSPC: return TC_EDISKFULL;
    default: return TC_EIO;
    }
}

static void s_be64(uint64_t v, unsigned char out[8])
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)(v & 0xff);
}

static uint64_t s_from_be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

/* Highest key of a u64-keyed database, 0 if empty. */
static int s_last_key(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return s_err(rc);
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    *out = (rc == 0 && k.mv_size == 8) ? s_from_be64(k.mv_data) : 0;
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : s_err(rc);
}

static const char *const s_db_names[] = {"log",     "bcast",       "senders", "meta",
                                         "audit",   "timeline",    "config",  "snapshots",
                                         "timelog", "timeline_idx"};

static const size_t s_db_offsets[] = {
    offsetof(tc_store_t, log),    offsetof(tc_store_t, bcast),     offsetof(tc_store_t, senders),
    offsetof(tc_store_t, meta),   offsetof(tc_store_t, audit),     offsetof(tc_store_t, timeline),
    offsetof(tc_store_t, config), offsetof(tc_store_t, snapshots), offsetof(tc_store_t, timelog),
    offsetof(tc_store_t, tlindex)};
_Static_assert(sizeof s_db_names / sizeof s_db_names[0] ==
                   sizeof s_db_offsets / sizeof s_db_offsets[0],
               "one handle per database name");

/* Each database's flags, the same at every open (LMDB refuses a dupsort
 * database opened without MDB_DUPSORT). */
static unsigned s_db_flags(size_t i)
{
    return !strcmp(s_db_names[i], "timeline_idx") ? MDB_DUPSORT | MDB_DUPFIXED : 0;
}

/* Databases added after the first release: an older store opened
 * read-only lacks them and is read without them. */
static bool s_db_added(size_t i)
{
    return !strcmp(s_db_names[i], "timelog") || !strcmp(s_db_names[i], "timeline_idx");
}

static MDB_dbi *s_db(tc_store_t *s, size_t i)
{
    return (MDB_dbi *)((char *)s + s_db_offsets[i]);
}

/* Reads the highest timelog key into s->tl_last (zeros if none). */
static int s_timelog_last(tc_store_t *s, MDB_txn *txn)
{
    memset(s->tl_last, 0, sizeof s->tl_last);
    if (!s->has_timelog)
        return 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->timelog, &cur);
    if (rc)
        return s_err(rc);
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == sizeof s->tl_last)
        memcpy(s->tl_last, k.mv_data, sizeof s->tl_last);
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : s_err(rc);
}

/* Opens the named databases, creating missing ones (and the format mark)
 * in a write transaction only when something is missing: a store that
 * exists opens without writing, so it opens on a full disk too. Then reads
 * the counters. */
static int s_open_dbs(tc_store_t *s, char *why, size_t whylen)
{
    MDB_env *env = tc_lmdb_env(s->lmdb);
    MDB_txn *txn;
    int mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return tc_lmdb_error(s->lmdb, mrc, "cannot read the store", why, whylen);
    bool missing = false, added_missing = false;
    for (size_t i = 0; i < sizeof s_db_names / sizeof s_db_names[0] && !mrc; i++) {
        mrc = mdb_dbi_open(txn, s_db_names[i], s_db_flags(i), s_db(s, i));
        if (mrc == MDB_NOTFOUND) {
            if (s_db_added(i) && s->read_only)
                added_missing = true;
            else
                missing = true;
            mrc = 0;
        }
    }
    s->has_timelog = !added_missing;
    MDB_val fk = {6, "format"}, fv;
    int frc = mrc || missing ? MDB_NOTFOUND : mdb_get(txn, s->meta, &fk, &fv);
    uint64_t format = frc == 0 && fv.mv_size == 8 ? s_from_be64(fv.mv_data) : 0;
    if (frc == 0 && format == STORE_FORMAT_TIMELINE_BY_INCIDENT && !s->read_only)
        missing = true; /* to be upgraded: its new databases and the mark */
    else if (frc == 0 && format != STORE_FORMAT && format != STORE_FORMAT_TIMELINE_BY_INCIDENT) {
        mdb_txn_abort(txn);
        snprintf(why, whylen, "data directory %s has an unknown store format",
                 tc_lmdb_dir(s->lmdb));
        return TC_EIO;
    }
    if ((mrc || missing || frc) && s->read_only) {
        mdb_txn_abort(txn);
        snprintf(why, whylen, "%s is not a complete coordinator store (start the coordinator once)",
                 tc_lmdb_dir(s->lmdb));
        return TC_ENOTFOUND;
    }
    if (mrc || missing || frc) {
        mdb_txn_abort(txn);
        if (mrc)
            return tc_lmdb_error(s->lmdb, mrc, "cannot open the store's databases", why, whylen);
        if ((mrc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
            return tc_lmdb_error(s->lmdb, mrc, "cannot create the store", why, whylen);
        for (size_t i = 0; i < sizeof s_db_names / sizeof s_db_names[0] && !mrc; i++)
            mrc = mdb_dbi_open(txn, s_db_names[i], MDB_CREATE | s_db_flags(i), s_db(s, i));
        unsigned char b[8];
        s_be64(STORE_FORMAT, b);
        fv.mv_size = 8;
        fv.mv_data = b;
        if (!mrc)
            mrc = mdb_put(txn, s->meta, &fk, &fv, 0);
    }
    int rc = 0;
    if (mrc == 0 && ((rc = tc_blocks_open(&s->logb, txn, s->log)) != 0 ||
                     (rc = tc_blocks_open(&s->bcastb, txn, s->bcast)) != 0 ||
                     (rc = s_last_key(txn, s->audit, &s->audit_seq)) != 0 ||
                     (rc = s_timelog_last(s, txn)) != 0)) {
        mdb_txn_abort(txn);
        snprintf(why, whylen, "cannot read the store's counters: %s", tc_strerror(rc));
        return rc;
    }
    if (mrc == 0)
        mrc = mdb_txn_commit(txn); /* a read-only one too: keeps the handles */
    else
        mdb_txn_abort(txn);
    return mrc ? tc_lmdb_error(s->lmdb, mrc, "cannot create the store", why, whylen) : 0;
}

int tc_store_open_readonly(const char *dir, tc_store_t **out, char *why, size_t whylen)
{
    *out = NULL;
    tc_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return TC_ENOMEM;
    struct stat sb;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &sb) != 0) {
        snprintf(why, whylen, "%s holds no coordinator store (%s: %s)", dir, path, strerror(errno));
        free(s);
        return TC_ENOTFOUND;
    }
    tc_lmdb_config_t cfg = {.dir = dir,
                            .what = "coordinator store",
                            .max_dbs = 16,
                            .env_flags = MDB_NOTLS | MDB_RDONLY};
    s->read_only = true;
    int rc = tc_lmdb_open(&cfg, &s->lmdb, why, whylen);
    if (rc == 0)
        rc = s_open_dbs(s, why, whylen);
    if (rc) {
        tc_lmdb_destroy(&s->lmdb);
        free(s);
        return rc;
    }
    s->env = tc_lmdb_env(s->lmdb);
    *out = s;
    return 0;
}

int tc_store_open(const char *dir, size_t map_size, size_t map_max, tc_store_t **out, char *why,
                  size_t whylen)
{
    *out = NULL;
    tc_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return TC_ENOMEM;
    /* MDB_NOTLS: read transactions are not tied to threads; data.mdb and
     * lock.mdb sit inside `dir`. */
    tc_lmdb_config_t cfg = {.dir = dir,
                            .what = "coordinator store",
                            .lock_file = "coordinator.lock",
                            .map_size = map_size ? map_size : DEFAULT_MAP_SIZE,
                            .map_max = map_max,
                            .max_dbs = 16,
                            .env_flags = MDB_NOTLS};
    int rc = tc_lmdb_open(&cfg, &s->lmdb, why, whylen);
    if (rc == 0)
        rc = s_open_dbs(s, why, whylen);
    if (rc) {
        tc_lmdb_destroy(&s->lmdb);
        free(s);
        return rc;
    }
    s->env = tc_lmdb_env(s->lmdb);
    *out = s;
    return 0;
}

void tc_store_destroy(tc_store_t **pstore)
{
    if (!pstore || !*pstore)
        return;
    tc_store_t *s = *pstore;
    tc_store_abort(s);
    tc_blocks_close(&s->logb);
    tc_blocks_close(&s->bcastb);
    tc_lmdb_destroy(&s->lmdb);
    free(s);
    *pstore = NULL;
}

int tc_store_reserve(tc_store_t *s, size_t bytes)
{
    return s->txn ? TC_EINVAL : tc_lmdb_reserve(s->lmdb, bytes);
}

void tc_store_usage(const tc_store_t *s, size_t *used, size_t *map, size_t *max)
{
    tc_lmdb_usage(s->lmdb, used, map, max);
}

const char *tc_store_error(const tc_store_t *s)
{
    return s->why;
}

/* What a disk must have free before writing is tried again: a small write
 * may fit in pages LMDB freed earlier while the next real batch does not,
 * and each failed batch costs a rebuild of the state. */
#define S_PROBE_FREE_MIN ((size_t)4 << 20)

int tc_store_probe(tc_store_t *s)
{
    if (s->txn)
        return TC_EINVAL;
    size_t avail = tc_lmdb_disk_free(s->lmdb);
    if (avail < S_PROBE_FREE_MIN) {
        snprintf(s->why, sizeof s->why, "disk full at %s (%zu KiB free)", tc_lmdb_dir(s->lmdb),
                 avail >> 10);
        return TC_EDISKFULL;
    }
    size_t used, map, max;
    tc_lmdb_usage(s->lmdb, &used, &map, &max);
    if (max && used + S_PROBE_FREE_MIN > max) {
        snprintf(s->why, sizeof s->why,
                 "coordinator store at %s is at its maximum size (%zu MiB); raise "
                 "coordinator.max_size_mb and restart",
                 tc_lmdb_dir(s->lmdb), max >> 20);
        return TC_EFULL;
    }
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc == MDB_PANIC) {
        /* A failed commit left LMDB refusing every transaction until the
         * environment is opened again. */
        char why[512];
        int rc = tc_lmdb_reopen(s->lmdb, why, sizeof why);
        if (rc == 0)
            rc = s_open_dbs(s, why, sizeof why);
        s->env = tc_lmdb_env(s->lmdb);
        if (rc) {
            snprintf(s->why, sizeof s->why, "%s", why);
            return rc;
        }
        mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    }
    if (mrc)
        return tc_lmdb_error(s->lmdb, mrc, "cannot write to the store", s->why, sizeof s->why);
    unsigned char b[8];
    s_be64((uint64_t)tc_now_ms(), b);
    MDB_val k = {5, "probe"}, v = {8, b};
    mrc = mdb_put(txn, s->meta, &k, &v, 0);
    if (mrc) {
        mdb_txn_abort(txn);
    } else {
        mrc = mdb_txn_commit(txn);
    }
    return mrc ? tc_lmdb_error(s->lmdb, mrc, "cannot write to the store", s->why, sizeof s->why)
               : 0;
}

uint64_t tc_store_log_seq(const tc_store_t *s)
{
    return s->logb.seq;
}

uint64_t tc_store_bcast_seq(const tc_store_t *s)
{
    return s->bcastb.seq;
}

int tc_store_begin(tc_store_t *s)
{
    if (s->txn)
        return TC_EINVAL;
    int rc = mdb_txn_begin(s->env, NULL, 0, &s->txn);
    if (rc) {
        s->txn = NULL;
        return tc_lmdb_error(s->lmdb, rc, "starting a batch", s->why, sizeof s->why);
    }
    tc_blocks_begin(&s->logb);
    tc_blocks_begin(&s->bcastb);
    s->txn_audit_seq = s->audit_seq;
    memcpy(s->txn_tl_last, s->tl_last, sizeof s->tl_last);
    return 0;
}

/* Stores an encoded value under a big-endian u64 key. */
static int s_put_u64(tc_store_t *s, MDB_dbi dbi, uint64_t key, const uint8_t *buf, size_t len,
                     unsigned flags)
{
    unsigned char kb[8];
    s_be64(key, kb);
    MDB_val k = {8, kb}, v = {len, (void *)buf};
    return s_err(mdb_put(s->txn, dbi, &k, &v, flags));
}

int tc_store_append_log(tc_store_t *s, tc_record_t *rec)
{
    if (!s->txn)
        return TC_EINVAL;
    rec->seq = s->logb.txn_seq + 1;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_record(rec, &buf, &len);
    if (rc)
        return rc;
    rc = tc_blocks_append(&s->logb, s->txn, buf, len);
    free(buf);
    return rc;
}

int tc_store_append_log_raw(tc_store_t *s, tc_record_t *rec, const uint8_t *env, size_t len)
{
    if (!s->txn)
        return TC_EINVAL;
    rec->seq = s->logb.txn_seq + 1;
    uint8_t *buf;
    size_t blen;
    int rc = tc_wire_encode_record_raw(rec, env, len, &buf, &blen);
    if (rc)
        return rc;
    rc = tc_blocks_append(&s->logb, s->txn, buf, blen);
    free(buf);
    return rc;
}

uint64_t tc_store_next_bcast_seq(const tc_store_t *s)
{
    return (s->txn ? s->bcastb.txn_seq : s->bcastb.seq) + 1;
}

int tc_store_append_bcast_bytes(tc_store_t *s, uint64_t seq, const uint8_t *env, size_t len)
{
    if (!s->txn || seq != s->bcastb.txn_seq + 1)
        return TC_EINVAL;
    return tc_blocks_append(&s->bcastb, s->txn, env, len);
}

int tc_store_append_bcast(tc_store_t *s, tc_msg_t *m)
{
    if (!s->txn || m->kind != TC_MSG_BROADCAST)
        return TC_EINVAL;
    m->seq = s->bcastb.txn_seq + 1;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_msg(m, &buf, &len);
    if (rc)
        return rc;
    rc = tc_blocks_append(&s->bcastb, s->txn, buf, len);
    free(buf);
    return rc;
}

int tc_store_append_audit(tc_store_t *s, tc_audit_t *a)
{
    if (!s->txn)
        return TC_EINVAL;
    a->seq = s->txn_audit_seq + 1;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_audit(a, &buf, &len);
    if (rc)
        return rc;
    rc = s_put_u64(s, s->audit, a->seq, buf, len, MDB_APPEND);
    free(buf);
    if (rc == 0)
        s->txn_audit_seq = a->seq;
    return rc;
}

int tc_store_put_timeline(tc_store_t *s, const tc_timeline_t *t, unsigned idx)
{
    if (!s->txn || !s->has_timelog)
        return TC_EINVAL;
    unsigned char kb[9], ib[8];
    s_be64(t->log_seq, kb);
    kb[8] = (unsigned char)idx;
    s_be64(t->incident, ib);
    /* The log record is in the key: not again in the value (proto3 leaves
     * zero fields out). */
    tc_timeline_t lean = *t;
    lean.log_seq = 0;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_timeline(&lean, &buf, &len);
    if (rc)
        return rc;
    /* Rows come in log order, so this is an append; a row written again
     * (a batch retried after a failed commit, whose keys the in-memory
     * mark had passed) is a plain put, never a refused append. */
    bool append = memcmp(kb, s->txn_tl_last, sizeof kb) > 0;
    MDB_val k = {sizeof kb, kb}, v = {len, buf}, ik = {sizeof ib, ib}, iv = {sizeof kb, kb};
    rc = s_err(mdb_put(s->txn, s->timelog, &k, &v, append ? MDB_APPEND : 0));
    if (rc == 0) {
        /* The pair may be there already (the row written again). */
        int mrc = mdb_put(s->txn, s->tlindex, &ik, &iv, MDB_NODUPDATA);
        rc = mrc == MDB_KEYEXIST ? 0 : s_err(mrc);
    }
    if (rc == 0 && append)
        memcpy(s->txn_tl_last, kb, sizeof kb);
    free(buf);
    return rc;
}

int tc_store_sender(tc_store_t *s, const char *sender, uint64_t *seq, int64_t *time_ms)
{
    *seq = 0;
    *time_ms = 0;
    if (!s->txn)
        return TC_EINVAL;
    MDB_val k = {strlen(sender), (void *)sender}, v;
    int rc = mdb_get(s->txn, s->senders, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return s_err(rc);
    if (v.mv_size != 8 && v.mv_size != 16)
        return TC_EDECODE;
    *seq = s_from_be64(v.mv_data);
    if (v.mv_size == 16)
        *time_ms = (int64_t)s_from_be64((const unsigned char *)v.mv_data + 8);
    return 0;
}

uint64_t tc_store_sender_seq(tc_store_t *s, const char *sender)
{
    uint64_t seq;
    int64_t t;
    return tc_store_sender(s, sender, &seq, &t) == 0 ? seq : 0;
}

int tc_store_set_sender(tc_store_t *s, const char *sender, uint64_t seq, int64_t time_ms)
{
    if (!s->txn)
        return TC_EINVAL;
    unsigned char b[16];
    s_be64(seq, b);
    s_be64((uint64_t)time_ms, b + 8);
    MDB_val k = {strlen(sender), (void *)sender}, v = {16, b};
    return s_err(mdb_put(s->txn, s->senders, &k, &v, 0));
}

int tc_store_commit(tc_store_t *s)
{
    if (!s->txn)
        return TC_EINVAL;
    int rc = tc_blocks_flush(&s->logb, s->txn);
    if (rc == 0)
        rc = tc_blocks_flush(&s->bcastb, s->txn);
    if (rc) {
        tc_store_abort(s);
        snprintf(s->why, sizeof s->why, "storing a batch: %s at %s", tc_strerror(rc),
                 tc_lmdb_dir(s->lmdb));
        return rc;
    }
    rc = mdb_txn_commit(s->txn);
    s->txn = NULL;
    if (rc) {
        tc_blocks_aborted(&s->logb);
        tc_blocks_aborted(&s->bcastb);
        return tc_lmdb_error(s->lmdb, rc, "storing a batch", s->why, sizeof s->why);
    }
    tc_blocks_committed(&s->logb);
    tc_blocks_committed(&s->bcastb);
    s->audit_seq = s->txn_audit_seq;
    memcpy(s->tl_last, s->txn_tl_last, sizeof s->tl_last);
    return 0;
}

void tc_store_abort(tc_store_t *s)
{
    if (s->txn) {
        mdb_txn_abort(s->txn);
        s->txn = NULL;
    }
    tc_blocks_aborted(&s->logb);
    tc_blocks_aborted(&s->bcastb);
}

/* Walks a u64-keyed database from `from` on, decoding each value with
 * `visit`; shared by the log and broadcast scans. */
typedef int(s_visit_fn)(const MDB_val *v, void *scratch, void *fn, void *ctx);

static int s_scan(tc_store_t *s, MDB_dbi dbi, uint64_t from, size_t limit, s_visit_fn *visit,
                  void *scratch, void *fn, void *ctx, bool *more)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (more)
        *more = false;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_err(rc);
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    unsigned char kb[8];
    s_be64(from, kb);
    MDB_val k = {8, kb}, v;
    size_t n = 0;
    int out = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (limit && n == limit) {
            if (more)
                *more = true;
            break;
        }
        if ((out = visit(&v, scratch, fn, ctx)) != 0)
            break;
        n++;
    }
    if (out == 0 && rc != 0 && rc != MDB_NOTFOUND)
        out = s_err(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return out;
}

typedef struct {
    void *scratch, *fn, *ctx;
} s_blockvisit_t;

static int s_block_record(uint64_t seq, const uint8_t *p, size_t len, void *arg)
{
    s_blockvisit_t *b = arg;
    tc_record_t *rec = b->scratch;
    int rc = tc_wire_decode_record(p, len, rec);
    if (rc) {
        tc_error("event log record %llu cannot be decoded: %s", (unsigned long long)seq,
                 tc_strerror(rc));
        return rc;
    }
    return ((tc_store_record_fn *)b->fn)(rec, b->ctx);
}

static int s_block_msg(uint64_t seq, const uint8_t *p, size_t len, void *arg)
{
    s_blockvisit_t *b = arg;
    tc_msg_t *m = b->scratch;
    int rc = tc_wire_decode_msg(p, len, m);
    if (rc) {
        tc_error("broadcast %llu cannot be decoded: %s", (unsigned long long)seq, tc_strerror(rc));
        return rc;
    }
    return ((tc_store_msg_fn *)b->fn)(m, b->ctx);
}

/* A block sequence walked in its own read transaction. */
static int s_scan_blocks(tc_store_t *s, MDB_dbi dbi, uint64_t from, size_t limit,
                         tc_blocks_fn *visit, s_blockvisit_t *bv, bool *more)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_err(rc);
    rc = tc_blocks_scan(txn, dbi, from, limit, visit, bv, more);
    mdb_txn_abort(txn);
    return rc;
}

int tc_store_scan_log(tc_store_t *s, uint64_t from, size_t limit, tc_store_record_fn *fn, void *ctx,
                      bool *more)
{
    tc_record_t *rec = malloc(sizeof *rec);
    if (!rec)
        return TC_ENOMEM;
    s_blockvisit_t bv = {rec, (void *)fn, ctx};
    int rc = s_scan_blocks(s, s->log, from, limit, s_block_record, &bv, more);
    free(rec);
    return rc;
}

int tc_store_scan_bcast(tc_store_t *s, uint64_t from, size_t limit, tc_store_msg_fn *fn, void *ctx,
                        bool *more)
{
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    s_blockvisit_t bv = {m, (void *)fn, ctx};
    int rc = s_scan_blocks(s, s->bcast, from, limit, s_block_msg, &bv, more);
    free(m);
    return rc;
}

static int s_visit_audit(const MDB_val *v, void *scratch, void *fn, void *ctx)
{
    tc_audit_t *a = scratch;
    int rc = tc_wire_decode_audit(v->mv_data, v->mv_size, a);
    if (rc)
        return rc;
    return ((tc_store_audit_fn *)fn)(a, ctx);
}

int tc_store_scan_audit(tc_store_t *s, uint64_t from, size_t limit, tc_store_audit_fn *fn,
                        void *ctx, bool *more)
{
    tc_audit_t *a = malloc(sizeof *a);
    if (!a)
        return TC_ENOMEM;
    int rc = s_scan(s, s->audit, from, limit, s_visit_audit, a, (void *)fn, ctx, more);
    free(a);
    return rc;
}

int tc_store_prune_audit(tc_store_t *s, int64_t before_ms, size_t max, size_t *deleted)
{
    *deleted = 0;
    if (s->txn)
        return TC_EINVAL;
    MDB_txn *txn;
    MDB_cursor *cur;
    int mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc)
        return tc_lmdb_error(s->lmdb, mrc, "pruning the audit trail", s->why, sizeof s->why);
    if ((mrc = mdb_cursor_open(txn, s->audit, &cur)) != 0) {
        mdb_txn_abort(txn);
        return tc_lmdb_error(s->lmdb, mrc, "pruning the audit trail", s->why, sizeof s->why);
    }
    tc_audit_t *a = malloc(sizeof *a);
    MDB_val k, v;
    int rc = a ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : ENOMEM;
    /* Oldest first, and only the audit trail: the event log is never
     * touched. */
    while (rc == 0 && *deleted < max && tc_wire_decode_audit(v.mv_data, v.mv_size, a) == 0 &&
           a->time_ms < before_ms) {
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        ++*deleted;
        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
        if (rc == EINVAL) /* deleted the last one */
            rc = MDB_NOTFOUND;
    }
    free(a);
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return tc_lmdb_error(s->lmdb, rc, "pruning the audit trail", s->why, sizeof s->why);
    }
    mrc = mdb_txn_commit(txn);
    if (mrc)
        *deleted = 0;
    return mrc ? tc_lmdb_error(s->lmdb, mrc, "pruning the audit trail", s->why, sizeof s->why) : 0;
}

/* The timelog rows of `incident`, in log order (its index's duplicates
 * sort as big-endian (seq, index)). */
static int s_scan_timelog(tc_store_t *s, MDB_txn *txn, uint64_t incident, tc_store_timeline_fn *fn,
                          void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->tlindex, &cur);
    if (rc)
        return s_err(rc);
    unsigned char ib[8];
    s_be64(incident, ib);
    MDB_val ik = {sizeof ib, ib}, iv;
    tc_timeline_t t;
    int out = 0;
    for (rc = mdb_cursor_get(cur, &ik, &iv, MDB_SET_KEY); rc == 0 && out == 0;
         rc = mdb_cursor_get(cur, &ik, &iv, MDB_NEXT_DUP)) {
        MDB_val k = iv, v;
        if (iv.mv_size != 9) {
            out = TC_EDECODE;
            break;
        }
        if ((rc = mdb_get(txn, s->timelog, &k, &v)) != 0) {
            out = s_err(rc); /* an index without its row: the store is damaged */
            break;
        }
        if ((out = tc_wire_decode_timeline(v.mv_data, v.mv_size, &t)) != 0)
            break;
        t.incident = incident;
        t.log_seq = s_from_be64(iv.mv_data);
        out = fn(&t, ctx);
    }
    mdb_cursor_close(cur);
    return out;
}

int tc_store_scan_timeline(tc_store_t *s, uint64_t incident, tc_store_timeline_fn *fn, void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_err(rc);
    if ((rc = mdb_cursor_open(txn, s->timeline, &cur)) != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    unsigned char kb[8];
    s_be64(incident, kb);
    MDB_val k = {8, kb}, v;
    tc_timeline_t t;
    int out = 0;
    /* The rows older builds wrote come first: every one of them is older
     * than any row in the timelog. */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 17 || s_from_be64(k.mv_data) != incident)
            break;
        if ((out = tc_wire_decode_timeline(v.mv_data, v.mv_size, &t)) != 0)
            break;
        t.incident = incident;
        t.log_seq = s_from_be64((const unsigned char *)k.mv_data + 8);
        if ((out = fn(&t, ctx)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (out == 0 && s->has_timelog)
        out = s_scan_timelog(s, txn, incident, fn, ctx);
    mdb_txn_abort(txn);
    return out;
}

int tc_store_put_config(tc_store_t *s, uint64_t log_seq, const uint8_t *buf, size_t len)
{
    if (!s->txn)
        return TC_EINVAL;
    unsigned char kb[8];
    s_be64(log_seq, kb);
    MDB_val k = {8, kb}, v = {len, (void *)buf};
    return s_err(mdb_put(s->txn, s->config, &k, &v, 0));
}

/* The config entry at `log_seq`, or with MDB_FIRST / MDB_LAST the first or
 * last one (log_seq ignored), copied out. */
static int s_get_config(tc_store_t *s, MDB_cursor_op op, uint64_t log_seq, uint64_t *at,
                        uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_err(rc);
    if ((rc = mdb_cursor_open(txn, s->config, &cur)) != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    unsigned char kb[8];
    s_be64(log_seq, kb);
    MDB_val k = {8, kb}, v;
    rc = mdb_cursor_get(cur, &k, &v, op);
    int out = s_err(rc);
    if (rc == 0 && k.mv_size == 8) {
        if (at)
            *at = s_from_be64(k.mv_data);
        if (!(*buf = malloc(v.mv_size ? v.mv_size : 1)))
            out = TC_ENOMEM;
        else {
            memcpy(*buf, v.mv_data, v.mv_size);
            *len = v.mv_size;
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return out;
}

static int s_received_of(const tc_record_t *rec, void *arg)
{
    *(int64_t *)arg = rec->received_ms;
    return 0;
}

int tc_store_seq_at(tc_store_t *s, int64_t time_ms, uint64_t *seq)
{
    /* Receive times grow with the sequence (one clock reading per batch,
     * a clock that only the test clock moves, and only forward): binary
     * search, a record read per step. */
    uint64_t lo = 0, hi = s->logb.seq;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        int64_t t = 0;
        int rc = tc_store_scan_log(s, mid, 1, s_received_of, &t, NULL);
        if (rc < 0)
            return rc;
        if (t <= time_ms)
            lo = mid;
        else
            hi = mid - 1;
    }
    *seq = lo;
    return 0;
}

int tc_store_put_snapshot(tc_store_t *s, uint64_t log_seq, const uint8_t *buf, size_t len,
                          unsigned keep)
{
    if (s->txn)
        return TC_EINVAL;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (mrc)
        return tc_lmdb_error(s->lmdb, mrc, "writing a snapshot", s->why, sizeof s->why);
    unsigned char kb[8];
    s_be64(log_seq, kb);
    MDB_val k = {8, kb}, v = {len, (void *)buf};
    mrc = mdb_put(txn, s->snapshots, &k, &v, 0);
    /* Older snapshots beyond the newest `keep` are deleted. */
    MDB_cursor *cur;
    if (!mrc && !(mrc = mdb_cursor_open(txn, s->snapshots, &cur))) {
        unsigned seen = 0;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0 && !mrc;
             rc = mdb_cursor_get(cur, &k, &v, MDB_PREV))
            if (++seen > keep)
                mrc = mdb_cursor_del(cur, 0);
        mdb_cursor_close(cur);
    }
    if (mrc)
        mdb_txn_abort(txn);
    else
        mrc = mdb_txn_commit(txn);
    return mrc ? tc_lmdb_error(s->lmdb, mrc, "writing a snapshot", s->why, sizeof s->why) : 0;
}

int tc_store_get_snapshot(tc_store_t *s, uint64_t upto, uint64_t *log_seq, uint8_t **buf,
                          size_t *len)
{
    *buf = NULL;
    *len = 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_err(rc);
    if ((rc = mdb_cursor_open(txn, s->snapshots, &cur)) != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    /* The newest snapshot at or before `upto`: the first at or after
     * upto + 1, then one back; or the last of all. */
    unsigned char kb[8];
    s_be64(upto == UINT64_MAX ? upto : upto + 1, kb);
    MDB_val k = {8, kb}, v;
    rc = upto == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) : mdb_cursor_get(cur, &k, &v, MDB_LAST);
    int out = s_err(rc);
    if (rc == 0 && k.mv_size == 8) {
        *log_seq = s_from_be64(k.mv_data);
        if (!(*buf = malloc(v.mv_size ? v.mv_size : 1)))
            out = TC_ENOMEM;
        else {
            memcpy(*buf, v.mv_data, v.mv_size);
            *len = v.mv_size;
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return out;
}

int tc_store_get_config(tc_store_t *s, uint64_t log_seq, uint8_t **buf, size_t *len)
{
    return s_get_config(s, MDB_SET_KEY, log_seq, NULL, buf, len);
}

int tc_store_first_config(tc_store_t *s, uint64_t *log_seq, uint8_t **buf, size_t *len)
{
    return s_get_config(s, MDB_FIRST, 0, log_seq, buf, len);
}

int tc_store_last_config(tc_store_t *s, uint64_t *log_seq, uint8_t **buf, size_t *len)
{
    return s_get_config(s, MDB_LAST, 0, log_seq, buf, len);
}
