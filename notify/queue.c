/*
 * queue.c - tocsin-notify's LMDB state; see queue.h.
 *
 * Six databases:
 *   meta     "cursor", "qseq", "rseq" -> 8-byte big-endian counters
 *   pending  CHANNEL NUL be64(qseq) -> s_rec_t + the update as an encoded
 *            broadcast Envelope (protobuf, so the stored form survives
 *            changes to the C structs); a page's delivery (format 2) has
 *            s_rec_t, s_page_hdr_t (the contact method) and the page's
 *            broadcast as the coordinator sent it
 *   done     KEY -> be64(time done, ms)
 *   reports  be64(rseq) -> s_report_rec_t
 *   components  be32(position) -> the coordinator's components as encoded
 *            broadcast Envelopes (created when first saved)
 *   people   "contacts" -> the coordinator's `contacts` reply, encoded
 *            (created when first saved)
 * Big-endian numbers make LMDB's byte order the numeric order, so a
 * subscription's pending deliveries sort by enqueue order. The fixed
 * headers are host-endian: the state directory is local to one host.
 */
#include "queue.h"

#include "error.h"
#include "lmdb_env.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_FORMAT 1
#define S_FORMAT_PAGE 2 /* a page's delivery; reports with the page fields */

struct tc_notify_queue {
    tc_lmdb_t *env;
    MDB_dbi meta, pending, done, reports;
    bool broken;                 /* a write failed: reopen before the next one */
    uint64_t cursor, qseq, rseq; /* mirrors of meta, updated after commit */
    char why[512];
};

typedef struct {
    uint32_t format;
    uint32_t attempts;
    int64_t first_ms;
    int64_t next_try_ms;
    char key[TC_NOTIFY_KEY_MAX];
    char last_error[TC_NOTIFY_DETAIL_MAX];
} s_rec_t;

/* The contact method of a page's delivery, after s_rec_t. */
typedef struct {
    uint32_t type;
    char target[TC_CONTACT_TARGET_MAX];
    char token[TC_CONTACT_TOKEN_MAX];
    char name[TC_PERSON_NAME_MAX];
    char conference[TC_CONTACT_TARGET_MAX];
    int64_t sent_ms;
} s_page_hdr_t;

typedef struct {
    uint32_t format;
    uint32_t number;
    uint64_t incident;
    char sub[TC_ID_MAX];
    uint32_t delivered; /* a tc_delivery_result_t: 0 and 1 as older versions wrote */
    uint32_t attempts;
    int64_t latency_ms;
    char detail[TC_NOTIFY_DETAIL_MAX];
} s_report_rec_t;

/* A page's report (format 2): the same, and to whom by what. */
typedef struct {
    s_report_rec_t r;
    char person[TC_ID_MAX];
    char method[16];
} s_report_page_t;

const char *tc_delivery_result_name(tc_delivery_result_t r)
{
    switch (r) {
    case TC_DELIVERY_DELIVERED: return "delivered";
    case TC_DELIVERY_FAILING: return "failing";
    default: return "failed";
    }
}

/* Read paths: LMDB codes to TC_E* without a reason. */
static int s_err(int mdb_rc)
{
    switch (mdb_rc) {
    case 0: return 0;
    case MDB_MAP_FULL: return TC_EFULL;
    case MDB_NOTFOUND: return TC_ENOTFOUND;
    case ENOMEM: return TC_ENOMEM;
    default: return mdb_rc < 0 && mdb_rc > -100 ? mdb_rc : TC_EIO;
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

static int s_meta_get(tc_notify_queue_t *q, MDB_txn *txn, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, q->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc != 0)
        return rc;
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
    return mdb_put(txn, q->meta, &k, &v, 0);
}

/* CHANNEL NUL be64(qseq); returns the key length. */
static size_t s_pending_key(uint8_t *dst, const char *sub, uint64_t qseq)
{
    size_t n = strnlen(sub, TC_NOTIFY_CHANNEL_MAX - 1);
    memcpy(dst, sub, n);
    dst[n] = 0;
    s_put_be64(dst + n + 1, qseq);
    return n + 9;
}

/* Opens the databases (creating them on a write transaction) and reads the
 * counters. */
static int s_open_dbs(tc_notify_queue_t *q, bool create)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(tc_lmdb_env(q->env), NULL, create ? 0 : MDB_RDONLY, &txn);
    unsigned flags = create ? MDB_CREATE : 0;
    if (rc == 0 && ((rc = mdb_dbi_open(txn, "meta", flags, &q->meta)) != 0 ||
                    (rc = mdb_dbi_open(txn, "pending", flags, &q->pending)) != 0 ||
                    (rc = mdb_dbi_open(txn, "done", flags, &q->done)) != 0 ||
                    (rc = mdb_dbi_open(txn, "reports", flags, &q->reports)) != 0)) {
        mdb_txn_abort(txn);
    } else if (rc == 0) {
        if (((rc = s_meta_get(q, txn, "cursor", &q->cursor)) != 0 ||
             (rc = s_meta_get(q, txn, "qseq", &q->qseq)) != 0 ||
             (rc = s_meta_get(q, txn, "rseq", &q->rseq)) != 0))
            snprintf(q->why, sizeof q->why, "state %s: corrupt counters", tc_lmdb_dir(q->env));
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    return rc ? tc_lmdb_error(q->env, rc, "cannot open the notifier state", q->why, sizeof q->why)
              : 0;
}

int tc_notify_queue_open(const char *dir, size_t map_size, tc_notify_queue_t **out, char *why,
                         size_t whylen)
{
    *out = NULL;
    if (!dir || !*dir || strlen(dir) > 4000)
        return TC_EINVAL;
    tc_notify_queue_t *q = calloc(1, sizeof *q);
    if (!q)
        return TC_ENOMEM;
    tc_lmdb_config_t cfg = {.dir = dir,
                            .what = "notifier state",
                            .lock_file = "notify.lock",
                            .map_size = map_size ? map_size : TC_NOTIFY_QUEUE_DEFAULT_MAP_SIZE,
                            .max_dbs = 6};
    int rc = tc_lmdb_open(&cfg, &q->env, q->why, sizeof q->why);
    if (rc == 0) {
        int dfd;
        /* curl does not fork, but keep the data file out of any child. */
        if (mdb_env_get_fd(tc_lmdb_env(q->env), &dfd) == 0)
            fcntl(dfd, F_SETFD, fcntl(dfd, F_GETFD) | FD_CLOEXEC);
        int dead = 0;
        mdb_reader_check(tc_lmdb_env(q->env), &dead);
        rc = s_open_dbs(q, true);
    }
    if (rc) {
        if (why && whylen)
            snprintf(why, whylen, "%s", q->why);
        tc_notify_queue_destroy(&q);
        return rc;
    }
    *out = q;
    return 0;
}

void tc_notify_queue_destroy(tc_notify_queue_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_lmdb_destroy(&(*pself)->env);
    free(*pself);
    *pself = NULL;
}

const char *tc_notify_queue_why(const tc_notify_queue_t *self)
{
    return self->why;
}

/* After a failed write LMDB may refuse every transaction until the
 * environment is opened again. */
static int s_mend(tc_notify_queue_t *q)
{
    q->why[0] = 0;
    if (!q->broken)
        return 0;
    int rc = tc_lmdb_reopen(q->env, q->why, sizeof q->why);
    if (rc == 0)
        rc = s_open_dbs(q, false);
    if (rc == 0)
        q->broken = false;
    return rc;
}

/* Runs `fn` in a write transaction (growing the map if it must). */
static int s_write(tc_notify_queue_t *q, tc_lmdb_txn_fn *fn, void *arg)
{
    int rc = s_mend(q);
    if (rc)
        return rc;
    rc = tc_lmdb_write(q->env, fn, arg, q->why, sizeof q->why);
    if (rc && rc != TC_ENOMEM && rc != TC_ENOTFOUND)
        q->broken = true;
    return rc;
}

/* A read transaction. */
static int s_read(tc_notify_queue_t *q, MDB_txn **txn)
{
    int rc = s_mend(q);
    if (rc)
        return rc;
    rc = mdb_txn_begin(tc_lmdb_env(q->env), NULL, MDB_RDONLY, txn);
    return rc ? tc_lmdb_error(q->env, rc, "cannot read the notifier state", q->why, sizeof q->why)
              : 0;
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
    if (d->is_page) {
        /* The page as the coordinator broadcast it. */
        m->seq = d->pg.bseq;
        m->u.bcast.kind =
            tc_page_waits_for_ack(d->pg.page.kind) ? TC_BCAST_PAGE : TC_BCAST_REMINDER;
        m->u.bcast.incident = d->pg.incident;
        m->u.bcast.page = d->pg.page;
        memcpy(m->u.bcast.detail, d->pg.detail, sizeof m->u.bcast.detail);
    } else {
        m->u.bcast.kind = TC_BCAST_STATUS_UPDATE;
        m->u.bcast.update = d->update;
    }
    uint8_t *env = NULL;
    size_t envlen = 0;
    int rc = tc_wire_encode_msg(m, &env, &envlen);
    free(m);
    if (rc != 0)
        return rc;
    size_t hdr = d->is_page ? sizeof(s_page_hdr_t) : 0;
    uint8_t *buf = malloc(sizeof(s_rec_t) + hdr + envlen);
    s_page_hdr_t *ph = hdr ? calloc(1, sizeof *ph) : NULL;
    if (!buf || (hdr && !ph)) {
        free(buf);
        free(env);
        return TC_ENOMEM;
    }
    s_rec_t rec = {.format = d->is_page ? S_FORMAT_PAGE : S_FORMAT,
                   .attempts = d->attempts,
                   .first_ms = d->first_ms,
                   .next_try_ms = d->next_try_ms};
    snprintf(rec.key, sizeof rec.key, "%s", d->key);
    snprintf(rec.last_error, sizeof rec.last_error, "%s", d->last_error);
    memcpy(buf, &rec, sizeof rec);
    if (ph) {
        ph->type = (uint32_t)d->pg.contact.type;
        memcpy(ph->target, d->pg.contact.target, sizeof ph->target);
        memcpy(ph->token, d->pg.contact.token, sizeof ph->token);
        memcpy(ph->name, d->pg.name, sizeof ph->name);
        memcpy(ph->conference, d->pg.conference, sizeof ph->conference);
        ph->sent_ms = d->pg.sent_ms;
        memcpy(buf + sizeof rec, ph, sizeof *ph);
        free(ph);
    }
    memcpy(buf + sizeof rec + hdr, env, envlen);
    free(env);
    *out = buf;
    *outlen = sizeof rec + hdr + envlen;
    return 0;
}

static int s_decode(const MDB_val *k, const MDB_val *v, tc_delivery_t *d)
{
    if (v->mv_size < sizeof(s_rec_t) || k->mv_size < 10 || k->mv_size > TC_NOTIFY_CHANNEL_MAX + 8)
        return TC_EIO;
    s_rec_t rec;
    memcpy(&rec, v->mv_data, sizeof rec);
    bool page = rec.format == S_FORMAT_PAGE;
    size_t hdr = page ? sizeof(s_page_hdr_t) : 0;
    if ((rec.format != S_FORMAT && !page) || v->mv_size < sizeof rec + hdr)
        return TC_EIO;
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    int rc = tc_wire_decode_msg((const uint8_t *)v->mv_data + sizeof rec + hdr,
                                v->mv_size - sizeof rec - hdr, m);
    if (rc == 0 && m->kind != TC_MSG_BROADCAST)
        rc = TC_EDECODE;
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
        if (page) {
            s_page_hdr_t *ph = malloc(sizeof *ph);
            if (!ph) {
                free(m);
                return TC_ENOMEM;
            }
            memcpy(ph, (const uint8_t *)v->mv_data + sizeof rec, sizeof *ph);
            ph->target[sizeof ph->target - 1] = ph->token[sizeof ph->token - 1] = 0;
            ph->name[sizeof ph->name - 1] = ph->conference[sizeof ph->conference - 1] = 0;
            d->is_page = true;
            d->pg.contact.type =
                ph->type <= TC_CONTACT_NTFY ? (tc_contact_type_t)ph->type : TC_CONTACT_EMAIL;
            memcpy(d->pg.contact.target, ph->target, sizeof ph->target);
            memcpy(d->pg.contact.token, ph->token, sizeof ph->token);
            memcpy(d->pg.name, ph->name, sizeof ph->name);
            memcpy(d->pg.conference, ph->conference, sizeof ph->conference);
            d->pg.sent_ms = ph->sent_ms;
            d->pg.bseq = m->seq;
            d->pg.page = m->u.bcast.page;
            d->pg.incident = m->u.bcast.incident;
            memcpy(d->pg.detail, m->u.bcast.detail, sizeof d->pg.detail);
            free(ph);
        }
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
    uint8_t kb[TC_NOTIFY_CHANNEL_MAX + 9];
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

typedef struct {
    tc_notify_queue_t *q;
    uint64_t seq;
    tc_delivery_t *ds;
    size_t n;
    size_t count;  /* out */
    uint64_t qseq; /* out */
} s_enqueue_t;

static int s_enqueue_fn(MDB_txn *txn, void *arg)
{
    s_enqueue_t *e = arg;
    tc_notify_queue_t *q = e->q;
    int rc = 0;
    e->count = 0;
    e->qseq = q->qseq;
    for (size_t i = 0; i < e->n && rc == 0; i++) {
        tc_delivery_t *d = &e->ds[i];
        if (s_has_key(q, txn, d->key) || s_pending_has(q, txn, d->sub, d->key))
            continue;
        d->qseq = ++e->qseq;
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = s_encode(d, &buf, &len);
        if (rc != 0)
            break;
        uint8_t kb[TC_NOTIFY_CHANNEL_MAX + 9];
        MDB_val k = {s_pending_key(kb, d->sub, d->qseq), kb}, v = {len, buf};
        rc = mdb_put(txn, q->pending, &k, &v, MDB_NOOVERWRITE);
        free(buf);
        e->count++;
    }
    if (rc == 0 && e->count)
        rc = s_meta_put(q, txn, "qseq", e->qseq);
    if (rc == 0 && e->seq > q->cursor)
        rc = s_meta_put(q, txn, "cursor", e->seq);
    return rc;
}

int tc_notify_queue_enqueue(tc_notify_queue_t *self, uint64_t seq, tc_delivery_t *ds, size_t n,
                            size_t *added)
{
    if (added)
        *added = 0;
    s_enqueue_t e = {.q = self, .seq = seq, .ds = ds, .n = n};
    int rc = s_write(self, s_enqueue_fn, &e);
    if (rc != 0)
        return rc;
    self->qseq = e.qseq;
    if (seq > self->cursor)
        self->cursor = seq;
    if (added)
        *added = e.count;
    return 0;
}

int tc_notify_queue_head(tc_notify_queue_t *self, const char *sub, tc_delivery_t *out)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_read(self, &txn);
    if (rc != 0)
        return rc;
    rc = s_err(mdb_cursor_open(txn, self->pending, &cur));
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    uint8_t kb[TC_NOTIFY_CHANNEL_MAX + 9];
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

typedef struct {
    tc_notify_queue_t *q;
    const tc_delivery_t *d;
} s_retry_t;

static int s_retry_fn(MDB_txn *txn, void *arg)
{
    s_retry_t *r = arg;
    uint8_t kb[TC_NOTIFY_CHANNEL_MAX + 9];
    MDB_val k = {s_pending_key(kb, r->d->sub, r->d->qseq), kb}, v;
    int rc = mdb_get(txn, r->q->pending, &k, &v);
    if (rc == MDB_NOTFOUND)
        return TC_ENOTFOUND;
    if (rc != 0)
        return rc;
    uint8_t *buf = NULL;
    size_t len = 0;
    rc = s_encode(r->d, &buf, &len);
    if (rc == 0) {
        MDB_val nv = {len, buf};
        rc = mdb_put(txn, r->q->pending, &k, &nv, 0);
        free(buf);
    }
    return rc;
}

int tc_notify_queue_retry(tc_notify_queue_t *self, const tc_delivery_t *d)
{
    s_retry_t r = {self, d};
    return s_write(self, s_retry_fn, &r);
}

/* Appends report `r` under number `rseq`. */
static int s_put_report(tc_notify_queue_t *q, MDB_txn *txn, const tc_delivery_report_t *r,
                        uint64_t rseq)
{
    s_report_page_t rec = {.r = {.format = r->page ? S_FORMAT_PAGE : S_FORMAT,
                                 .number = r->number,
                                 .incident = r->incident,
                                 .delivered = (uint32_t)r->result,
                                 .attempts = r->attempts,
                                 .latency_ms = r->latency_ms}};
    snprintf(rec.r.sub, sizeof rec.r.sub, "%.63s", r->sub);
    snprintf(rec.r.detail, sizeof rec.r.detail, "%s", r->detail);
    snprintf(rec.person, sizeof rec.person, "%s", r->person);
    snprintf(rec.method, sizeof rec.method, "%s", r->method);
    uint8_t rk[8];
    s_put_be64(rk, rseq);
    /* A status update's report keeps the format older versions read. */
    MDB_val k = {8, rk}, v = {r->page ? sizeof rec : sizeof rec.r, &rec};
    int rc = mdb_put(txn, q->reports, &k, &v, 0);
    return rc ? rc : s_meta_put(q, txn, "rseq", rseq);
}

typedef struct {
    tc_notify_queue_t *q;
    const tc_delivery_t *d; /* NULL: a report alone */
    const tc_delivery_report_t *report;
    int64_t now_ms;
} s_finish_t;

static int s_finish_fn(MDB_txn *txn, void *arg)
{
    s_finish_t *f = arg;
    tc_notify_queue_t *q = f->q;
    int rc = 0;
    if (f->d) {
        uint8_t kb[TC_NOTIFY_CHANNEL_MAX + 9];
        MDB_val k = {s_pending_key(kb, f->d->sub, f->d->qseq), kb};
        rc = mdb_del(txn, q->pending, &k, NULL);
        if (rc == MDB_NOTFOUND)
            return TC_ENOTFOUND;
        uint8_t when[8];
        s_put_be64(when, (uint64_t)f->now_ms);
        MDB_val dk = {strlen(f->d->key), (void *)f->d->key}, dv = {8, when};
        if (rc == 0)
            rc = mdb_put(txn, q->done, &dk, &dv, 0);
    }
    if (rc == 0 && f->report)
        rc = s_put_report(q, txn, f->report, q->rseq + 1);
    return rc;
}

int tc_notify_queue_finish(tc_notify_queue_t *self, const tc_delivery_t *d,
                           tc_delivery_report_t *report, int64_t now_ms)
{
    s_finish_t f = {self, d, report, now_ms};
    int rc = s_write(self, s_finish_fn, &f);
    if (rc != 0)
        return rc;
    if (report)
        report->rseq = ++self->rseq;
    return 0;
}

int tc_notify_queue_report(tc_notify_queue_t *self, tc_delivery_report_t *report)
{
    return tc_notify_queue_finish(self, NULL, report, 0);
}

bool tc_notify_queue_is_done(tc_notify_queue_t *self, const char *key)
{
    MDB_txn *txn;
    if (s_read(self, &txn) != 0)
        return false;
    bool done = s_has_key(self, txn, key);
    mdb_txn_abort(txn);
    return done;
}

int tc_notify_queue_report_first(tc_notify_queue_t *self, tc_delivery_report_t *out)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_read(self, &txn);
    if (rc != 0)
        return rc;
    rc = s_err(mdb_cursor_open(txn, self->reports, &cur));
    if (rc == 0) {
        MDB_val k, v;
        rc = s_err(mdb_cursor_get(cur, &k, &v, MDB_FIRST));
        if (rc == 0 && (k.mv_size != 8 || (v.mv_size != sizeof(s_report_rec_t) &&
                                           v.mv_size != sizeof(s_report_page_t))))
            rc = TC_EIO;
        if (rc == 0) {
            s_report_page_t pr;
            memset(&pr, 0, sizeof pr);
            memcpy(&pr, v.mv_data, v.mv_size);
            s_report_rec_t rec = pr.r;
            memset(out, 0, sizeof *out);
            if (v.mv_size == sizeof pr && rec.format == S_FORMAT_PAGE) {
                out->page = true;
                pr.person[sizeof pr.person - 1] = pr.method[sizeof pr.method - 1] = 0;
                memcpy(out->person, pr.person, sizeof out->person);
                memcpy(out->method, pr.method, sizeof out->method);
            }
            out->rseq = s_get_be64(k.mv_data);
            out->incident = rec.incident;
            out->number = rec.number;
            out->result = rec.delivered <= TC_DELIVERY_FAILING ? (tc_delivery_result_t)rec.delivered
                                                               : TC_DELIVERY_FAILED;
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

typedef struct {
    tc_notify_queue_t *q;
    uint64_t rseq;
} s_drop_t;

static int s_drop_fn(MDB_txn *txn, void *arg)
{
    s_drop_t *d = arg;
    uint8_t rk[8];
    s_put_be64(rk, d->rseq);
    MDB_val k = {8, rk};
    int rc = mdb_del(txn, d->q->reports, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tc_notify_queue_report_drop(tc_notify_queue_t *self, uint64_t rseq)
{
    s_drop_t d = {self, rseq};
    return s_write(self, s_drop_fn, &d);
}

typedef struct {
    tc_notify_queue_t *q;
    int64_t before_ms;
    size_t n; /* out */
} s_prune_t;

static int s_prune_fn(MDB_txn *txn, void *arg)
{
    s_prune_t *p = arg;
    MDB_cursor *cur;
    p->n = 0;
    int rc = mdb_cursor_open(txn, p->q->done, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (v.mv_size == 8 && (int64_t)s_get_be64(v.mv_data) < p->before_ms) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            p->n++;
            /* MDB_NEXT after a delete lands on the entry after the deleted
             * one (see agent/spool.c). */
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tc_notify_queue_prune(tc_notify_queue_t *self, int64_t before_ms, size_t *pruned)
{
    if (pruned)
        *pruned = 0;
    s_prune_t p = {self, before_ms, 0};
    int rc = s_write(self, s_prune_fn, &p);
    if (rc == 0 && pruned)
        *pruned = p.n;
    return rc;
}

int tc_notify_queue_counts(tc_notify_queue_t *self, size_t *pending, size_t *reports)
{
    MDB_txn *txn;
    MDB_stat st;
    int rc = s_read(self, &txn);
    if (rc != 0)
        return rc;
    if (pending && (rc = s_err(mdb_stat(txn, self->pending, &st))) == 0)
        *pending = st.ms_entries;
    if (rc == 0 && reports && (rc = s_err(mdb_stat(txn, self->reports, &st))) == 0)
        *reports = st.ms_entries;
    mdb_txn_abort(txn);
    return rc;
}

int tc_notify_queue_subs(tc_notify_queue_t *self, char (*names)[TC_NOTIFY_CHANNEL_MAX], size_t cap,
                         size_t *n)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    *n = 0;
    int rc = s_read(self, &txn);
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
        if (k.mv_size < 10 || k.mv_size > TC_NOTIFY_CHANNEL_MAX + 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        size_t len = k.mv_size - 9;
        memcpy(names[*n], k.mv_data, len);
        names[*n][len] = '\0';
        (*n)++;
        /* Skip the rest of this subscription: seek past SUB NUL ff..ff. */
        uint8_t kb[TC_NOTIFY_CHANNEL_MAX + 9];
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

/* ---- components ---------------------------------------------------------------- */

typedef struct {
    tc_notify_queue_t *q;
    const tc_component_t *cs;
    size_t n;
} s_comps_t;

/* be32 position -> Envelope(Broadcast COMPONENT): the coordinator's own
 * encoding, so it reads back across versions. */
static int s_comps_fn(MDB_txn *txn, void *arg)
{
    s_comps_t *c = arg;
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, "components", MDB_CREATE, &dbi);
    if (rc == 0)
        rc = mdb_drop(txn, dbi, 0);
    tc_msg_t *m = rc == 0 ? calloc(1, sizeof *m) : NULL;
    if (rc == 0 && !m)
        rc = TC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        m->version = TC_PROTOCOL_VERSION;
        snprintf(m->sender, sizeof m->sender, "tocsin-notify");
        m->kind = TC_MSG_BROADCAST;
        m->u.bcast.kind = TC_BCAST_COMPONENT;
        m->u.bcast.component = c->cs[i];
        uint8_t *buf = NULL,
                key[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        size_t len = 0;
        rc = tc_wire_encode_msg(m, &buf, &len);
        if (rc == 0) {
            MDB_val k = {4, key}, v = {len, buf};
            rc = mdb_put(txn, dbi, &k, &v, 0);
        }
        free(buf);
    }
    free(m);
    return rc;
}

int tc_notify_queue_save_components(tc_notify_queue_t *self, const tc_component_t *cs, size_t n)
{
    s_comps_t c = {self, cs, n};
    return s_write(self, s_comps_fn, &c);
}

int tc_notify_queue_components(tc_notify_queue_t *self, tc_component_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    MDB_txn *txn;
    int rc = s_read(self, &txn);
    if (rc != 0)
        return rc;
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn, "components", 0, &dbi);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return 0;
    }
    MDB_stat st;
    MDB_cursor *cur = NULL;
    tc_msg_t *m = malloc(sizeof *m);
    if (rc == 0)
        rc = mdb_stat(txn, dbi, &st);
    if (rc == 0 && !m)
        rc = ENOMEM;
    if (rc == 0 && st.ms_entries && !(*out = calloc(st.ms_entries, sizeof **out)))
        rc = ENOMEM;
    if (rc == 0)
        rc = mdb_cursor_open(txn, dbi, &cur);
    MDB_val k, v;
    int mrc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
    while (rc == 0 && mrc == 0 && *n < st.ms_entries) {
        if (tc_wire_decode_msg(v.mv_data, v.mv_size, m) == 0 && m->kind == TC_MSG_BROADCAST &&
            m->u.bcast.kind == TC_BCAST_COMPONENT)
            (*out)[(*n)++] = m->u.bcast.component;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    free(m);
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc == ENOMEM ? TC_ENOMEM : TC_EIO;
    }
    return 0;
}

int tc_notify_queue_oldest(tc_notify_queue_t *self, int64_t *first_ms)
{
    *first_ms = 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = s_read(self, &txn);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_open(txn, self->pending, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        s_rec_t rec;
        if (v.mv_size < sizeof rec)
            continue;
        memcpy(&rec, v.mv_data, sizeof rec);
        if (*first_ms == 0 || rec.first_ms < *first_ms)
            *first_ms = rec.first_ms;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND ? 0 : TC_EIO;
}

/* ---- contacts -------------------------------------------------------------- */

typedef struct {
    const uint8_t *buf;
    size_t len;
} s_contacts_t;

static int s_contacts_fn(MDB_txn *txn, void *arg)
{
    s_contacts_t *c = arg;
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, "people", MDB_CREATE, &dbi);
    MDB_val k = {8, (void *)"contacts"}, v = {c->len, (void *)c->buf};
    return rc ? rc : mdb_put(txn, dbi, &k, &v, 0);
}

int tc_notify_queue_save_contacts(tc_notify_queue_t *self, const uint8_t *buf, size_t len)
{
    s_contacts_t c = {buf, len};
    return s_write(self, s_contacts_fn, &c);
}

int tc_notify_queue_contacts(tc_notify_queue_t *self, tc_api_reply_t **out)
{
    *out = NULL;
    MDB_txn *txn;
    int rc = s_read(self, &txn);
    if (rc != 0)
        return rc;
    MDB_dbi dbi;
    rc = mdb_dbi_open(txn, "people", 0, &dbi);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return 0;
    }
    MDB_val k = {8, (void *)"contacts"}, v;
    if (rc == 0)
        rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        /* Decoded inside the transaction: LMDB's pages are only valid
         * until it ends. */
        rc = tc_wire_decode_reply(v.mv_data, v.mv_size, out);
        mdb_txn_abort(txn);
        return rc == TC_ENOMEM ? rc : rc ? TC_EIO : 0;
    }
    mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND ? 0 : TC_EIO;
}
