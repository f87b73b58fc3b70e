/*
 * store.c - LMDB behind the coordinator's store.
 *
 * Layout: one environment in the data directory with five named databases.
 *   log        u64 seq (big-endian) -> LogRecord
 *   bcast      u64 seq (big-endian) -> Envelope (Broadcast)
 *   incidents  u64 id  (big-endian) -> Incident
 *   senders    sender id            -> u64 highest stored seq, i64 time of that
 *                                      event (big-endian; older stores: seq only)
 *   audit      u64 seq (big-endian) -> AuditRecord
 *   timeline   u64 incident, u64 log seq, u8 index -> TimelineEntry
 *   config     u64 log seq (the ConfigRef record) -> StateConfig
 *   meta       "format"             -> u32 layout version
 * Big-endian keys make LMDB's default byte order the numeric order, so no
 * custom comparator has to be registered identically by every reader.
 */
#include "store.h"

#include "error.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define STORE_FORMAT 1u
#define DEFAULT_MAP_SIZE ((size_t)16 << 30) /* sparse; only used pages occupy disk */

struct tc_store {
    MDB_env *env;
    MDB_dbi log, bcast, incidents, senders, meta, audit, timeline, config;
    MDB_txn *txn;         /* open write transaction, or NULL */
    uint64_t log_seq;     /* committed */
    uint64_t bcast_seq;   /* committed */
    uint64_t txn_log_seq; /* inside the open transaction */
    uint64_t txn_bcast_seq;
    uint64_t audit_seq; /* committed */
    uint64_t txn_audit_seq;
    int lock_fd;
};

static int s_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return TC_ENOTFOUND;
    case MDB_MAP_FULL: return TC_EFULL;
    case ENOMEM: return TC_ENOMEM;
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

static int s_lock(const char *dir, int *fd_out)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/coordinator.lock", dir) >= (int)sizeof path)
        return TC_EINVAL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        tc_error("cannot open %s: %s", path, strerror(errno));
        return TC_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        tc_error("data directory %s is in use by another tocsin-coordinator", dir);
        close(fd);
        return TC_EIO;
    }
    *fd_out = fd;
    return 0;
}

int tc_store_open(const char *dir, size_t map_size, tc_store_t **out)
{
    int rc = tc_mkdir_p(dir);
    if (rc) {
        tc_error("cannot create data directory %s: %s", dir, strerror(errno));
        return rc;
    }
    tc_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return TC_ENOMEM;
    s->lock_fd = -1;
    if ((rc = s_lock(dir, &s->lock_fd)) != 0)
        goto fail_lock;

    int mrc = mdb_env_create(&s->env);
    if (mrc)
        goto fail_env;
    mdb_env_set_maxdbs(s->env, 16);
    mdb_env_set_mapsize(s->env, map_size ? map_size : DEFAULT_MAP_SIZE);
    /* MDB_NOTLS: read transactions are not tied to threads; MDB_NOSUBDIR is
     * not used, so data.mdb and lock.mdb sit inside `dir`. */
    mrc = mdb_env_open(s->env, dir, MDB_NOTLS, 0640);
    if (mrc) {
        tc_error("cannot open LMDB environment in %s: %s", dir, mdb_strerror(mrc));
        goto fail_open;
    }

    MDB_txn *txn;
    if ((mrc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        goto fail_open;
    if ((mrc = mdb_dbi_open(txn, "log", MDB_CREATE, &s->log)) ||
        (mrc = mdb_dbi_open(txn, "bcast", MDB_CREATE, &s->bcast)) ||
        (mrc = mdb_dbi_open(txn, "incidents", MDB_CREATE, &s->incidents)) ||
        (mrc = mdb_dbi_open(txn, "senders", MDB_CREATE, &s->senders)) ||
        (mrc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) ||
        (mrc = mdb_dbi_open(txn, "audit", MDB_CREATE, &s->audit)) ||
        (mrc = mdb_dbi_open(txn, "timeline", MDB_CREATE, &s->timeline)) ||
        (mrc = mdb_dbi_open(txn, "config", MDB_CREATE, &s->config)))
        goto fail_txn;

    /* Refuse a store written in a layout this build does not know. */
    MDB_val fk = {6, "format"}, fv;
    mrc = mdb_get(txn, s->meta, &fk, &fv);
    if (mrc == MDB_NOTFOUND) {
        unsigned char b[8];
        s_be64(STORE_FORMAT, b);
        fv.mv_size = 8;
        fv.mv_data = b;
        if ((mrc = mdb_put(txn, s->meta, &fk, &fv, 0)) != 0)
            goto fail_txn;
    } else if (mrc) {
        goto fail_txn;
    } else if (fv.mv_size != 8 || s_from_be64(fv.mv_data) != STORE_FORMAT) {
        tc_error("data directory %s has an unknown store format", dir);
        mdb_txn_abort(txn);
        rc = TC_EIO;
        goto fail_open_rc;
    }
    if ((rc = s_last_key(txn, s->log, &s->log_seq)) != 0 ||
        (rc = s_last_key(txn, s->bcast, &s->bcast_seq)) != 0 ||
        (rc = s_last_key(txn, s->audit, &s->audit_seq)) != 0) {
        mdb_txn_abort(txn);
        goto fail_open_rc;
    }
    if ((mrc = mdb_txn_commit(txn)) != 0)
        goto fail_open;
    *out = s;
    return 0;

fail_txn:
    mdb_txn_abort(txn);
fail_open:
    rc = s_err(mrc ? mrc : EIO);
    if (rc == 0)
        rc = TC_EIO;
fail_open_rc:
    mdb_env_close(s->env);
    goto fail_unlock;
fail_env:
    rc = TC_EIO;
fail_unlock:
    close(s->lock_fd);
fail_lock:
    free(s);
    return rc;
}

void tc_store_destroy(tc_store_t **pstore)
{
    if (!pstore || !*pstore)
        return;
    tc_store_t *s = *pstore;
    tc_store_abort(s);
    mdb_env_close(s->env);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
    *pstore = NULL;
}

uint64_t tc_store_log_seq(const tc_store_t *s)
{
    return s->log_seq;
}

uint64_t tc_store_bcast_seq(const tc_store_t *s)
{
    return s->bcast_seq;
}

int tc_store_begin(tc_store_t *s)
{
    if (s->txn)
        return TC_EINVAL;
    int rc = mdb_txn_begin(s->env, NULL, 0, &s->txn);
    if (rc) {
        s->txn = NULL;
        return s_err(rc);
    }
    s->txn_log_seq = s->log_seq;
    s->txn_bcast_seq = s->bcast_seq;
    s->txn_audit_seq = s->audit_seq;
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
    rec->seq = s->txn_log_seq + 1;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_record(rec, &buf, &len);
    if (rc)
        return rc;
    rc = s_put_u64(s, s->log, rec->seq, buf, len, MDB_APPEND);
    free(buf);
    if (rc == 0)
        s->txn_log_seq = rec->seq;
    return rc;
}

int tc_store_append_bcast(tc_store_t *s, tc_msg_t *m)
{
    if (!s->txn || m->kind != TC_MSG_BROADCAST)
        return TC_EINVAL;
    m->seq = s->txn_bcast_seq + 1;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_msg(m, &buf, &len);
    if (rc)
        return rc;
    rc = s_put_u64(s, s->bcast, m->seq, buf, len, MDB_APPEND);
    free(buf);
    if (rc == 0)
        s->txn_bcast_seq = m->seq;
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
    if (!s->txn)
        return TC_EINVAL;
    unsigned char kb[17];
    s_be64(t->incident, kb);
    s_be64(t->log_seq, kb + 8);
    kb[16] = (unsigned char)idx;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_timeline(t, &buf, &len);
    if (rc)
        return rc;
    MDB_val k = {sizeof kb, kb}, v = {len, buf};
    rc = s_err(mdb_put(s->txn, s->timeline, &k, &v, 0));
    free(buf);
    return rc;
}

int tc_store_put_incident(tc_store_t *s, const tc_incident_t *inc)
{
    if (!s->txn)
        return TC_EINVAL;
    uint8_t *buf;
    size_t len;
    int rc = tc_wire_encode_incident(inc, &buf, &len);
    if (rc)
        return rc;
    rc = s_put_u64(s, s->incidents, inc->id, buf, len, 0);
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
    int rc = mdb_txn_commit(s->txn);
    s->txn = NULL;
    if (rc)
        return s_err(rc);
    s->log_seq = s->txn_log_seq;
    s->bcast_seq = s->txn_bcast_seq;
    s->audit_seq = s->txn_audit_seq;
    return 0;
}

void tc_store_abort(tc_store_t *s)
{
    if (s->txn) {
        mdb_txn_abort(s->txn);
        s->txn = NULL;
    }
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

static int s_visit_record(const MDB_val *v, void *scratch, void *fn, void *ctx)
{
    tc_record_t *rec = scratch;
    int rc = tc_wire_decode_record(v->mv_data, v->mv_size, rec);
    if (rc) {
        tc_error("event log record cannot be decoded: %s", tc_strerror(rc));
        return rc;
    }
    return ((tc_store_record_fn *)fn)(rec, ctx);
}

static int s_visit_msg(const MDB_val *v, void *scratch, void *fn, void *ctx)
{
    tc_msg_t *m = scratch;
    int rc = tc_wire_decode_msg(v->mv_data, v->mv_size, m);
    if (rc) {
        tc_error("broadcast log entry cannot be decoded: %s", tc_strerror(rc));
        return rc;
    }
    return ((tc_store_msg_fn *)fn)(m, ctx);
}

int tc_store_scan_log(tc_store_t *s, uint64_t from, size_t limit, tc_store_record_fn *fn, void *ctx,
                      bool *more)
{
    tc_record_t *rec = malloc(sizeof *rec);
    if (!rec)
        return TC_ENOMEM;
    int rc = s_scan(s, s->log, from, limit, s_visit_record, rec, (void *)fn, ctx, more);
    free(rec);
    return rc;
}

int tc_store_scan_bcast(tc_store_t *s, uint64_t from, size_t limit, tc_store_msg_fn *fn, void *ctx,
                        bool *more)
{
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    int rc = s_scan(s, s->bcast, from, limit, s_visit_msg, m, (void *)fn, ctx, more);
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
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 17 || s_from_be64(k.mv_data) != incident)
            break;
        if ((out = tc_wire_decode_timeline(v.mv_data, v.mv_size, &t)) != 0 ||
            (out = fn(&t, ctx)) != 0)
            break;
    }
    mdb_cursor_close(cur);
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

int tc_store_get_incident(tc_store_t *s, uint64_t id, tc_incident_t *out)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return s_err(rc);
    unsigned char kb[8];
    s_be64(id, kb);
    MDB_val k = {8, kb}, v;
    rc = mdb_get(txn, s->incidents, &k, &v);
    int out_rc = rc ? s_err(rc) : tc_wire_decode_incident(v.mv_data, v.mv_size, out);
    mdb_txn_abort(txn);
    return out_rc;
}

static int s_visit_incident(const MDB_val *v, void *scratch, void *fn, void *ctx)
{
    tc_incident_t *inc = scratch;
    int rc = tc_wire_decode_incident(v->mv_data, v->mv_size, inc);
    if (rc)
        return rc;
    return ((tc_store_incident_fn *)fn)(inc, ctx);
}

int tc_store_scan_incidents(tc_store_t *s, tc_store_incident_fn *fn, void *ctx)
{
    tc_incident_t *inc = malloc(sizeof *inc);
    if (!inc)
        return TC_ENOMEM;
    int rc = s_scan(s, s->incidents, 0, 0, s_visit_incident, inc, (void *)fn, ctx, NULL);
    free(inc);
    return rc;
}
