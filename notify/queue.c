/*
 * queue.c - tocsin-notify's LMDB state; see queue.h.
 *
 * Four databases:
 *   meta     "cursor", "qseq", "rseq" -> 8-byte big-endian counters
 *   pending  SUB NUL be64(qseq) -> s_rec_t + the update as an encoded
 *            broadcast Envelope (protobuf, so the stored form survives
 *            changes to the C structs)
 *   done     KEY -> be64(time done, ms)
 *   reports  be64(rseq) -> s_report_rec_t
 * Big-endian numbers make LMDB's byte order the numeric order, so a
 * subscription's pending deliveries sort by enqueue order. The fixed
 * headers are host-endian: the state directory is local to one host.
 */
#include "queue.h"

#include "error.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define S_FORMAT 1

struct tc_notify_queue {
    MDB_env *env;
    MDB_dbi meta, pending, done, reports;
    int lock_fd;
    uint64_t cursor, qseq, rseq; /* mirrors of meta, updated after commit */
};

typedef struct {
    uint32_t format;
    uint32_t attempts;
    int64_t first_ms;
    int64_t next_try_ms;
    char key[TC_NOTIFY_KEY_MAX];
    char last_error[TC_NOTIFY_DETAIL_MAX];
} s_rec_t;

typedef struct {
    uint32_t format;
    uint32_t number;
    uint64_t incident;
    char sub[TC_ID_MAX];
    uint32_t delivered;
    uint32_t attempts;
    int64_t latency_ms;
    char detail[TC_NOTIFY_DETAIL_MAX];
} s_report_rec_t;

static int s_err(int mdb_rc)
{
    switch (mdb_rc) {
    case 0: return 0;
    case MDB_MAP_FULL: return TC_EFULL;
    case MDB_NOTFOUND: return TC_ENOTFOUND;
    case ENOMEM: return TC_ENOMEM;
    default: return TC_EIO;
    }
}

static void s_put_be64(uint8_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t s_get_be64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

__attribute__((format(printf, 3, 4))) static void s_why(char *why, size_t whylen, const char *fmt,
                                                        ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static int s_meta_get(tc_notify_queue_t *q, MDB_txn *txn, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, q->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc != 0)
        return s_err(rc);
    if (v.mv_size != 8)
        return TC_EIO;
    *out = s_get_be64(v.mv_data);
    return 0;
}

static int s_meta_put(tc_notify_queue_t *q, MDB_txn *txn, const char *name, uint64_t value)
{
    uint8_t b[8];
    s_put_be64(b, value);
    MDB_val k = {strlen(name), (void *)name}, v = {8, b};
    return s_err(mdb_put(txn, q->meta, &k, &v, 0));
}

/* SUB NUL be64(qseq); returns the key length. */
static size_t s_pending_key(uint8_t *dst, const char *sub, uint64_t qseq)
{
    size_t n = strnlen(sub, TC_ID_MAX - 1);
    memcpy(dst, sub, n);
    dst[n] = 0;
    s_put_be64(dst + n + 1, qseq);
    return n + 9;
}

int tc_notify_queue_open(const char *dir, size_t map_size, tc_notify_queue_t **out, char *why,
                         size_t whylen)
{
    char path[4200];
    MDB_txn *txn = NULL;
    int rc;
    *out = NULL;
    if (!dir || !*dir || strlen(dir) > 4000)
        return TC_EINVAL;
    if (tc_mkdir_p(dir) != 0) {
        s_why(why, whylen, "cannot create state directory %s: %s", dir, strerror(errno));
        return TC_ESYS;
    }
    tc_notify_queue_t *q = calloc(1, sizeof *q);
    if (!q)
        return TC_ENOMEM;
    snprintf(path, sizeof path, "%s/notify.lock", dir);
    q->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (q->lock_fd < 0) {
        s_why(why, whylen, "cannot open %s: %s", path, strerror(errno));
        rc = TC_ESYS;
        goto fail_lock;
    }
    if (flock(q->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            s_why(why, whylen, "state directory %s is in use by another tocsin-notify", dir);
        else
            s_why(why, whylen, "cannot lock %s: %s", path, strerror(e));
        rc = e == EWOULDBLOCK ? TC_ECONFIG : TC_ESYS;
        goto fail_flock;
    }
    rc = mdb_env_create(&q->env);
    if (rc != 0) {
        rc = s_err(rc);
        goto fail_flock;
    }
    mdb_env_set_maxdbs(q->env, 4);
    mdb_env_set_mapsize(q->env, map_size ? map_size : TC_NOTIFY_QUEUE_DEFAULT_MAP_SIZE);
    rc = mdb_env_open(q->env, dir, 0, 0640);
    if (rc != 0) {
        s_why(why, whylen, "cannot open LMDB state in %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_env;
    }
    int dfd;
    /* curl does not fork, but keep the data file out of any child anyway. */
    if (mdb_env_get_fd(q->env, &dfd) == 0)
        fcntl(dfd, F_SETFD, fcntl(dfd, F_GETFD) | FD_CLOEXEC);
    int dead = 0;
    mdb_reader_check(q->env, &dead);
    rc = mdb_txn_begin(q->env, NULL, 0, &txn);
    if (rc != 0) {
        s_why(why, whylen, "cannot open LMDB state in %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_env;
    }
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &q->meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "pending", MDB_CREATE, &q->pending)) != 0 ||
        (rc = mdb_dbi_open(txn, "done", MDB_CREATE, &q->done)) != 0 ||
        (rc = mdb_dbi_open(txn, "reports", MDB_CREATE, &q->reports)) != 0) {
        s_why(why, whylen, "cannot open LMDB state in %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_txn;
    }
    if ((rc = s_meta_get(q, txn, "cursor", &q->cursor)) != 0 ||
        (rc = s_meta_get(q, txn, "qseq", &q->qseq)) != 0 ||
        (rc = s_meta_get(q, txn, "rseq", &q->rseq)) != 0) {
        s_why(why, whylen, "state %s: corrupt counters", dir);
        goto fail_txn;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        s_why(why, whylen, "cannot write state %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_env;
    }
    *out = q;
    return 0;

fail_txn:
    mdb_txn_abort(txn);
fail_env:
    mdb_env_close(q->env);
fail_flock:
    close(q->lock_fd);
fail_lock:
    free(q);
    return rc;
}

void tc_notify_queue_destroy(tc_notify_queue_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_notify_queue_t *q = *pself;
    mdb_env_close(q->env);
    close(q->lock_fd);
    free(q);
    *pself = NULL;
}

uint64_t tc_notify_queue_cursor(const tc_notify_queue_t *self)
{
    return self->cursor;
}

static bool s_has_key(tc_notify_queue_t *q, MDB_txn *txn, const char *key)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    return mdb_get(txn, q->done, &k, &v) == 0;
}

/* Encodes `d` as a pending value. Caller frees *out. */
static int s_encode(const tc_delivery_t *d, uint8_t **out, size_t *outlen)
{
    tc_msg_t *m = calloc(1, sizeof *m);
    if (!m)
        return TC_ENOMEM;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "tocsin-notify");
    m->kind = TC_MSG_BROADCAST;
    m->u.bcast.kind = TC_BCAST_STATUS_UPDATE;
    m->u.bcast.update = d->update;
    uint8_t *env = NULL;
    size_t envlen = 0;
    int rc = tc_wire_encode_msg(m, &env, &envlen);
    free(m);
    if (rc != 0)
        return rc;
    uint8_t *buf = malloc(sizeof(s_rec_t) + envlen);
    if (!buf) {
        free(env);
        return TC_ENOMEM;
    }
    s_rec_t rec = {.format = S_FORMAT,
                   .attempts = d->attempts,
                   .first_ms = d->first_ms,
                   .next_try_ms = d->next_try_ms};
    snprintf(rec.key, sizeof rec.key, "%s", d->key);
    snprintf(rec.last_error, sizeof rec.last_error, "%s", d->last_error);
    memcpy(buf, &rec, sizeof rec);
    memcpy(buf + sizeof rec, env, envlen);
    free(env);
    *out = buf;
    *outlen = sizeof rec + envlen;
    return 0;
}

static int s_decode(const MDB_val *k, const MDB_val *v, tc_delivery_t *d)
{
    if (v->mv_size < sizeof(s_rec_t) || k->mv_size < 10 || k->mv_size > TC_ID_MAX + 8)
        return TC_EIO;
    s_rec_t rec;
    memcpy(&rec, v->mv_data, sizeof rec);
    if (rec.format != S_FORMAT)
        return TC_EIO;
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    int rc =
        tc_wire_decode_msg((const uint8_t *)v->mv_data + sizeof rec, v->mv_size - sizeof rec, m);
    if (rc == 0) {
        memset(d, 0, sizeof *d);
        memcpy(d->sub, k->mv_data, k->mv_size - 9);
        d->sub[k->mv_size - 9] = '\0';
        d->qseq = s_get_be64((const uint8_t *)k->mv_data + k->mv_size - 8);
        rec.key[sizeof rec.key - 1] = '\0';
        rec.last_error[sizeof rec.last_error - 1] = '\0';
        memcpy(d->key, rec.key, sizeof d->key);
        memcpy(d->last_error, rec.last_error, sizeof d->last_error);
        d->attempts = rec.attempts;
        d->first_ms = rec.first_ms;
        d->next_try_ms = rec.next_try_ms;
        d->update = m->u.bcast.update;
    }
    free(m);
    return rc == 0 ? 0 : TC_EIO;
}

/* True if a delivery with `key` is pending for `sub`. Pending entries of
 * one subscription are few; a scan is fine. */
static bool s_pending_has(tc_notify_queue_t *q, MDB_txn *txn, const char *sub, const char *key)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, q->pending, &cur) != 0)
        return false;
    uint8_t kb[TC_ID_MAX + 9];
    MDB_val k = {s_pending_key(kb, sub, 0), kb}, v;
    size_t prefix = k.mv_size - 8;
    bool found = false;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && !found && k.mv_size == prefix + 8 && memcmp(k.mv_data, kb, prefix) == 0) {
        s_rec_t rec;
        if (v.mv_size >= sizeof rec) {
            memcpy(&rec, v.mv_data, sizeof rec);
            rec.key[sizeof rec.key - 1] = '\0';
            found = strcmp(rec.key, key) == 0;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return found;
}

int tc_notify_queue_enqueue(tc_notify_queue_t *self, uint64_t seq, tc_delivery_t *ds, size_t n,
                            size_t *added)
{
    MDB_txn *txn;
    size_t count = 0;
    uint64_t qseq = self->qseq;
    if (added)
        *added = 0;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (s_has_key(self, txn, ds[i].key) || s_pending_has(self, txn, ds[i].sub, ds[i].key))
            continue;
        ds[i].qseq = ++qseq;
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = s_encode(&ds[i], &buf, &len);
        if (rc != 0)
            break;
        uint8_t kb[TC_ID_MAX + 9];
        MDB_val k = {s_pending_key(kb, ds[i].sub, ds[i].qseq), kb}, v = {len, buf};
        rc = s_err(mdb_put(txn, self->pending, &k, &v, MDB_NOOVERWRITE));
        free(buf);
        count++;
    }
    if (rc == 0 && count)
        rc = s_meta_put(self, txn, "qseq", qseq);
    if (rc == 0 && seq > self->cursor)
        rc = s_meta_put(self, txn, "cursor", seq);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = s_err(mdb_txn_commit(txn));
    if (rc != 0)
        return rc;
    self->qseq = qseq;
    if (seq > self->cursor)
        self->cursor = seq;
    if (added)
        *added = count;
    return 0;
}

int tc_notify_queue_head(tc_notify_queue_t *self, const char *sub, tc_delivery_t *out)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_err(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        return rc;
    rc = s_err(mdb_cursor_open(txn, self->pending, &cur));
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    uint8_t kb[TC_ID_MAX + 9];
    MDB_val k = {s_pending_key(kb, sub, 0), kb}, v;
    size_t prefix = k.mv_size - 8;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == prefix + 8 && memcmp(k.mv_data, kb, prefix) == 0)
        rc = s_decode(&k, &v, out);
    else
        rc = rc == 0 || rc == MDB_NOTFOUND ? TC_ENOTFOUND : s_err(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc;
}

int tc_notify_queue_retry(tc_notify_queue_t *self, const tc_delivery_t *d)
{
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    uint8_t kb[TC_ID_MAX + 9];
    MDB_val k = {s_pending_key(kb, d->sub, d->qseq), kb}, v;
    rc = s_err(mdb_get(txn, self->pending, &k, &v));
    if (rc == 0) {
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = s_encode(d, &buf, &len);
        if (rc == 0) {
            MDB_val nv = {len, buf};
            rc = s_err(mdb_put(txn, self->pending, &k, &nv, 0));
            free(buf);
        }
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return s_err(mdb_txn_commit(txn));
}

int tc_notify_queue_finish(tc_notify_queue_t *self, const tc_delivery_t *d,
                           tc_delivery_report_t *report, int64_t now_ms)
{
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    uint8_t kb[TC_ID_MAX + 9];
    MDB_val k = {s_pending_key(kb, d->sub, d->qseq), kb};
    rc = s_err(mdb_del(txn, self->pending, &k, NULL));
    uint8_t when[8];
    s_put_be64(when, (uint64_t)now_ms);
    if (rc == 0) {
        MDB_val dk = {strlen(d->key), (void *)d->key}, dv = {8, when};
        rc = s_err(mdb_put(txn, self->done, &dk, &dv, 0));
    }
    uint64_t rseq = self->rseq;
    if (rc == 0 && report) {
        s_report_rec_t rec = {.format = S_FORMAT,
                              .number = report->number,
                              .incident = report->incident,
                              .delivered = report->delivered,
                              .attempts = report->attempts,
                              .latency_ms = report->latency_ms};
        snprintf(rec.sub, sizeof rec.sub, "%s", report->sub);
        snprintf(rec.detail, sizeof rec.detail, "%s", report->detail);
        uint8_t rk[8];
        s_put_be64(rk, ++rseq);
        MDB_val k2 = {8, rk}, v2 = {sizeof rec, &rec};
        rc = s_err(mdb_put(txn, self->reports, &k2, &v2, 0));
        if (rc == 0)
            rc = s_meta_put(self, txn, "rseq", rseq);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = s_err(mdb_txn_commit(txn));
    if (rc != 0)
        return rc;
    if (report) {
        self->rseq = rseq;
        report->rseq = rseq;
    }
    return 0;
}

bool tc_notify_queue_is_done(tc_notify_queue_t *self, const char *key)
{
    MDB_txn *txn;
    if (mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn) != 0)
        return false;
    bool done = s_has_key(self, txn, key);
    mdb_txn_abort(txn);
    return done;
}

int tc_notify_queue_report_first(tc_notify_queue_t *self, tc_delivery_report_t *out)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_err(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        return rc;
    rc = s_err(mdb_cursor_open(txn, self->reports, &cur));
    if (rc == 0) {
        MDB_val k, v;
        rc = s_err(mdb_cursor_get(cur, &k, &v, MDB_FIRST));
        if (rc == 0 && (k.mv_size != 8 || v.mv_size != sizeof(s_report_rec_t)))
            rc = TC_EIO;
        if (rc == 0) {
            s_report_rec_t rec;
            memcpy(&rec, v.mv_data, sizeof rec);
            memset(out, 0, sizeof *out);
            out->rseq = s_get_be64(k.mv_data);
            out->incident = rec.incident;
            out->number = rec.number;
            out->delivered = rec.delivered != 0;
            out->attempts = rec.attempts;
            out->latency_ms = rec.latency_ms;
            rec.sub[sizeof rec.sub - 1] = '\0';
            rec.detail[sizeof rec.detail - 1] = '\0';
            memcpy(out->sub, rec.sub, sizeof out->sub);
            memcpy(out->detail, rec.detail, sizeof out->detail);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return rc;
}

int tc_notify_queue_report_drop(tc_notify_queue_t *self, uint64_t rseq)
{
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    uint8_t rk[8];
    s_put_be64(rk, rseq);
    MDB_val k = {8, rk};
    rc = mdb_del(txn, self->reports, &k, NULL);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return 0;
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    return s_err(mdb_txn_commit(txn));
}

int tc_notify_queue_prune(tc_notify_queue_t *self, int64_t before_ms, size_t *pruned)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    size_t n = 0;
    if (pruned)
        *pruned = 0;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    rc = mdb_cursor_open(txn, self->done, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (v.mv_size == 8 && (int64_t)s_get_be64(v.mv_data) < before_ms) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            n++;
            /* After a delete, MDB_GET_CURRENT would be the next entry, but
             * MDB_NEXT after a delete also lands on it (see agent/spool.c). */
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    rc = s_err(mdb_txn_commit(txn));
    if (rc == 0 && pruned)
        *pruned = n;
    return rc;
}

int tc_notify_queue_counts(tc_notify_queue_t *self, size_t *pending, size_t *reports)
{
    MDB_txn *txn;
    MDB_stat st;
    int rc = s_err(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        return rc;
    if (pending && (rc = s_err(mdb_stat(txn, self->pending, &st))) == 0)
        *pending = st.ms_entries;
    if (rc == 0 && reports && (rc = s_err(mdb_stat(txn, self->reports, &st))) == 0)
        *reports = st.ms_entries;
    mdb_txn_abort(txn);
    return rc;
}

int tc_notify_queue_subs(tc_notify_queue_t *self, char (*names)[TC_ID_MAX], size_t cap, size_t *n)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    *n = 0;
    int rc = s_err(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        return rc;
    rc = mdb_cursor_open(txn, self->pending, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && *n < cap) {
        if (k.mv_size < 10 || k.mv_size > TC_ID_MAX + 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        size_t len = k.mv_size - 9;
        memcpy(names[*n], k.mv_data, len);
        names[*n][len] = '\0';
        (*n)++;
        /* Skip the rest of this subscription: seek past SUB NUL ff..ff. */
        uint8_t kb[TC_ID_MAX + 9];
        memcpy(kb, k.mv_data, len + 1);
        memset(kb + len + 1, 0xff, 8);
        k.mv_size = len + 9;
        k.mv_data = kb;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size == len + 9 && memcmp(k.mv_data, kb, len + 9) == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : TC_EIO;
}
