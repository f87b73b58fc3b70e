/*
 * spool.c - a sender's durable outbox: opening and writing; see spool.h
 * (reading is spool_read.c).
 *
 * Three LMDB databases. "events" maps an 8-byte big-endian key (so LMDB's
 * byte order is numeric order) to the encoded Envelope; the event's
 * sequence number is key + seq_offset. "meta" holds the counter
 * ("last_seq", the last number handed out), "seq_offset" (absent: 0) and
 * the owning sender ("agent_id"). "held" holds the outbox's opaque records.
 * The counter is written in the same transaction as the event, so a crash
 * can never leave an event whose number is handed out again. LMDB's default
 * flags are kept: every commit is fsync'ed, which is the whole point of a
 * spool.
 *
 * Why an offset: renumbering the events (tc_spool_rebase) by rewriting
 * them would need twice their space in one transaction, which a full spool
 * does not have. Instead the number goes on the wire as a trailing seq
 * field appended to the stored Envelope: protobuf lets the last occurrence
 * of a field win, so the stored bytes (which carry the number they were
 * stored under, readable by earlier versions) need no rewrite.
 */
#include "spool_impl.h"

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

#define S_KIB ((size_t)1 << 10)
#define S_MIB ((size_t)1 << 20)

static const char s_key_last_seq[] = "last_seq";
static const char s_key_offset[] = "seq_offset";
static const char s_key_agent_id[] = "agent_id";

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

/* Reads an 8-byte meta value; absent means 0. */
static int s_meta_u64(tc_spool_t *s, MDB_txn *txn, const char *key, uint64_t *out)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc != 0)
        return rc;
    if (v.mv_size != 8)
        return MDB_CORRUPTED;
    *out = tc_spool__get_be64(v.mv_data);
    return 0;
}

static int s_meta_put_u64(tc_spool_t *s, MDB_txn *txn, const char *key, uint64_t val)
{
    uint8_t b[8];
    tc_spool__put_be64(b, val);
    MDB_val k = {strlen(key), (void *)key}, v = {8, b};
    return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Bytes the data occupies: every page of every database. Free pages are
 * not counted: LMDB reuses them, which is why an Ack makes room at once. */
size_t tc_spool__used(tc_spool_t *s, MDB_txn *txn)
{
    MDB_dbi dbis[4] = {s->main, s->meta, s->events, s->held};
    size_t pages = 2; /* the two meta pages */
    size_t psize = 4096;
    for (int i = 0; i < 4; i++) {
        MDB_stat st;
        if (mdb_stat(txn, dbis[i], &st) == 0) {
            pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
            psize = st.ms_psize;
        }
    }
    return pages * psize;
}

/* Records the reason of a failure for tc_spool_error(); a storage failure
 * makes the next write reopen the environment (LMDB may refuse every
 * transaction after a failed commit). */
int tc_spool__fail(tc_spool_t *s, int rc, const char *why)
{
    snprintf(s->error, sizeof s->error, "%s", why);
    if (rc == TC_EIO || rc == TC_EDISKFULL)
        s->reopen = true;
    return rc;
}

static int s_open_dbis(tc_spool_t *s, MDB_txn *txn, unsigned flags)
{
    int rc;
    if ((rc = mdb_dbi_open(txn, NULL, 0, &s->main)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", flags, &s->meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "events", flags, &s->events)) != 0 ||
        (rc = mdb_dbi_open(txn, "held", flags, &s->held)) != 0)
        return rc;
    return 0;
}

/* LMDB opens its data file without O_CLOEXEC; check processes must not
 * inherit a writable descriptor of the spool. */
static void s_cloexec(tc_spool_t *s)
{
    int fd;
    if (mdb_env_get_fd(tc_spool__env(s), &fd) == 0)
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

/* Before a write after a storage failure: a fresh environment, and the
 * database handles again. */
static int s_prepare_write(tc_spool_t *s)
{
    if (!s->reopen)
        return 0;
    char why[512];
    int rc = tc_lmdb_reopen(s->lmdb, why, sizeof why);
    if (rc != 0)
        return tc_spool__fail(s, rc, why);
    s_cloexec(s);
    MDB_txn *txn;
    int mrc = mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn);
    if (mrc == 0) {
        mrc = s_open_dbis(s, txn, 0);
        if (mrc == 0)
            mrc = mdb_txn_commit(txn); /* keeps the handles */
        else
            mdb_txn_abort(txn);
    }
    if (mrc != 0) {
        rc = tc_lmdb_error(s->lmdb, mrc, "cannot reopen the spool", why, sizeof why);
        return tc_spool__fail(s, rc, why);
    }
    s->reopen = false;
    return 0;
}

/* tc_lmdb_write() with the spool's error bookkeeping. */
static int s_write(tc_spool_t *s, tc_lmdb_txn_fn *fn, void *arg)
{
    int rc = s_prepare_write(s);
    if (rc != 0)
        return rc;
    char why[512];
    rc = tc_lmdb_write(s->lmdb, fn, arg, why, sizeof why);
    if (rc == TC_EFULL)
        snprintf(why, sizeof why, "spool %s is full (%zu MiB)", tc_lmdb_dir(s->lmdb),
                 s->max / S_MIB);
    return rc ? tc_spool__fail(s, rc, why) : 0;
}

/* ---- open ------------------------------------------------------------------ */

typedef struct {
    tc_spool_t *s;
    const char *sender;
    char *why;
    size_t whylen;
    uint64_t last_seq, offset;
} s_open_t;

/* Checks (and records) which sender the spool belongs to. */
static int s_claim(tc_spool_t *s, MDB_txn *txn, const char *sender, char *why, size_t whylen)
{
    MDB_val k = {sizeof s_key_agent_id - 1, (void *)s_key_agent_id}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (rc == 0 && v.mv_size == strlen(sender) && memcmp(v.mv_data, sender, v.mv_size) == 0)
        return 0; /* nothing to write: opens on a full disk too */
    if (rc == 0) {
        MDB_stat st;
        rc = mdb_stat(txn, s->events, &st);
        if (rc != 0)
            return rc;
        if (st.ms_entries > 0) {
            char old[TC_ID_MAX];
            size_t n = v.mv_size < sizeof old - 1 ? v.mv_size : sizeof old - 1;
            memcpy(old, v.mv_data, n);
            old[n] = '\0';
            s_why(why, whylen,
                  "spool %s holds unsent events of agent \"%s\", not \"%s\"; start that agent "
                  "to deliver them or move the spool away",
                  tc_lmdb_dir(s->lmdb), old, sender);
            return TC_ECONFIG;
        }
    }
    MDB_val nv = {strlen(sender), (void *)sender};
    return mdb_put(txn, s->meta, &k, &nv, 0);
}

static int s_open_fn(MDB_txn *txn, void *arg)
{
    s_open_t *o = arg;
    tc_spool_t *s = o->s;
    int rc = s_open_dbis(s, txn, MDB_CREATE);
    if (rc == 0)
        rc = s_meta_u64(s, txn, s_key_last_seq, &o->last_seq);
    if (rc == 0)
        rc = s_meta_u64(s, txn, s_key_offset, &o->offset);
    if (rc == 0)
        rc = s_claim(s, txn, o->sender, o->why, o->whylen);
    return rc;
}

int tc_spool_open(const char *dir, const char *sender, size_t spool_max, tc_spool_t **out,
                  char *why, size_t whylen)
{
    *out = NULL;
    if (!dir || !*dir || !sender || !tc_id_valid(sender))
        return TC_EINVAL;
    tc_spool_t *s = calloc(1, sizeof *s);
    if (!s)
        return TC_ENOMEM;
    s->max = spool_max ? spool_max : TC_SPOOL_DEFAULT_MAX;
    if (s->max < TC_SPOOL_MIN_MAX)
        s->max = TC_SPOOL_MIN_MAX;
    /* Deleting acknowledged events copies the pages it touches before it
     * frees them, and LMDB reuses freed pages only two transactions later:
     * a sixteenth keeps both possible on a full spool with a wide margin. */
    s->headroom = s->max / 16 > 256 * S_KIB ? s->max / 16 : 256 * S_KIB;
    s->events_limit = s->max - s->headroom;
    s->held_limit = s->max - s->headroom / 4;

    tc_lmdb_config_t cfg = {
        .dir = dir,
        .what = "spool",
        .lock_file = "agent.lock",
        .map_size = s->max < S_MIB ? s->max : S_MIB,
        .map_max = s->max,
        .max_dbs = 3,
    };
    char reason[512] = "";
    int rc = tc_lmdb_open(&cfg, &s->lmdb, reason, sizeof reason);
    if (rc != 0) {
        s_why(why, whylen, "%s", reason);
        goto fail;
    }
    s_cloexec(s);
    /* A reader killed mid-transaction (kill -9) leaves a slot behind that
     * would pin old pages forever; clear such slots now. */
    int dead = 0;
    mdb_reader_check(tc_spool__env(s), &dead);

    /* A spool that holds more than the limit allows (written by an older
     * version, or the limit was lowered) gets room to drain: deletes need
     * fresh pages, so the map may exceed the limit by the headroom. */
    size_t used, map, maxmap;
    tc_lmdb_usage(s->lmdb, &used, &map, &maxmap);
    if (used + s->headroom > s->max && used + s->headroom > map) {
        int mrc = mdb_env_set_mapsize(tc_spool__env(s), used + s->headroom);
        if (mrc != 0) {
            rc = tc_lmdb_error(s->lmdb, mrc, "cannot grow the spool's map", why, whylen);
            goto fail;
        }
    }

    s_open_t o = {.s = s, .sender = sender, .why = why, .whylen = whylen};
    rc = tc_lmdb_write(s->lmdb, s_open_fn, &o, reason, sizeof reason);
    if (rc == TC_ECONFIG)
        goto fail; /* `why` says whose events they are */
    if (rc != 0) {
        s_why(why, whylen, "%s", reason);
        goto fail;
    }
    s->last_seq = o.last_seq;
    s->offset = o.offset;
    *out = s;
    return 0;
fail:
    tc_lmdb_destroy(&s->lmdb);
    free(s);
    return rc;
}

void tc_spool_destroy(tc_spool_t **pspool)
{
    if (!pspool || !*pspool)
        return;
    tc_spool_t *s = *pspool;
    tc_lmdb_destroy(&s->lmdb); /* releases the flock */
    free(s->frame);
    free(s);
    *pspool = NULL;
}

/* ---- appending ---------------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t len;
} s_enc_t;

typedef struct {
    tc_spool_t *s;
    s_enc_t *enc;
    size_t n;
    const char *held_key; /* release: delete this held record too */
    size_t limit;
} s_append_t;

static int s_append_fn(MDB_txn *txn, void *arg)
{
    s_append_t *a = arg;
    tc_spool_t *s = a->s;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        uint8_t key[8];
        tc_spool__put_be64(key, s->last_seq + 1 + i - s->offset);
        MDB_val k = {8, key}, v = {a->enc[i].len, a->enc[i].buf};
        /* Keys only grow, so LMDB may append without searching. */
        rc = mdb_put(txn, s->events, &k, &v, MDB_APPEND);
    }
    if (rc == 0 && a->n)
        rc = s_meta_put_u64(s, txn, s_key_last_seq, s->last_seq + a->n);
    if (rc == 0 && a->held_key) {
        MDB_val k = {strlen(a->held_key), (void *)a->held_key};
        rc = mdb_del(txn, s->held, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc == 0 && a->n && tc_spool__used(s, txn) > a->limit)
        rc = TC_EFULL; /* over the events limit: abort, nothing stored */
    return rc;
}

/* Numbers and encodes m[0..n), stores them (and deletes `held_key`). */
static int s_append(tc_spool_t *s, tc_msg_t *m, size_t n, const char *held_key)
{
    int rc = 0;
    s_enc_t *enc = n ? calloc(n, sizeof *enc) : NULL;
    if (n && !enc)
        return tc_spool__fail(s, TC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        m[i].seq = s->last_seq + 1 + i;
        if (tc_wire_encode_msg(&m[i], &enc[i].buf, &enc[i].len) != 0)
            rc = tc_spool__fail(s, TC_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        s_append_t a = {.s = s, .enc = enc, .n = n, .held_key = held_key, .limit = s->events_limit};
        rc = s_write(s, s_append_fn, &a);
    }
    if (rc == 0)
        s->last_seq += n;
    for (size_t i = 0; i < n; i++) {
        free(enc[i].buf);
        if (rc != 0)
            m[i].seq = 0;
    }
    free(enc);
    return rc;
}

int tc_spool_append(tc_spool_t *s, tc_msg_t *m)
{
    return s_append(s, m, 1, NULL);
}

int tc_spool_append_batch(tc_spool_t *s, tc_msg_t *m, size_t n)
{
    return n ? s_append(s, m, n, NULL) : 0;
}

int tc_spool_release(tc_spool_t *s, const char *key, tc_msg_t *m, size_t n)
{
    return s_append(s, m, n, key);
}

/* ---- deleting --------------------------------------------------------------- */

typedef struct {
    tc_spool_t *s;
    uint64_t upto_key;
    size_t n;
} s_ack_t;

static int s_ack_fn(MDB_txn *txn, void *arg)
{
    s_ack_t *a = arg;
    MDB_cursor *cur;
    a->n = 0;
    int rc = mdb_cursor_open(txn, a->s->events, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size == 8 && tc_spool__get_be64(k.mv_data) <= a->upto_key) {
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0)
            break;
        a->n++;
        /* After a delete LMDB positions the cursor so that MDB_NEXT yields
         * the entry that followed the deleted one. */
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The key of the first stored event, or 0 if the spool is empty. */
static uint64_t s_first_key(tc_spool_t *s)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    uint64_t key = 0;
    if (mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    if (mdb_cursor_open(txn, s->events, &cur) == 0) {
        MDB_val k, v;
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8)
            key = tc_spool__get_be64(k.mv_data);
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return key;
}

int tc_spool_ack(tc_spool_t *s, uint64_t upto, size_t *deleted)
{
    if (deleted)
        *deleted = 0;
    if (upto <= s->offset)
        return 0;
    /* Most Acks find nothing new to delete (the spool was pruned up to an
     * earlier one): no write transaction, no fsync then. */
    uint64_t first = s_first_key(s);
    if (first == 0 || first > upto - s->offset)
        return 0;
    s_ack_t a = {.s = s, .upto_key = upto - s->offset};
    int rc = s_write(s, s_ack_fn, &a);
    if (rc == 0 && deleted)
        *deleted = a.n;
    return rc;
}

typedef struct {
    tc_spool_t *s;
    uint8_t key[8];
    int found;
} s_remove_t;

static int s_remove_fn(MDB_txn *txn, void *arg)
{
    s_remove_t *r = arg;
    MDB_val k = {8, r->key};
    int rc = mdb_del(txn, r->s->events, &k, NULL);
    r->found = rc != MDB_NOTFOUND;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tc_spool_remove(tc_spool_t *s, uint64_t seq)
{
    if (seq <= s->offset || seq > s->last_seq)
        return TC_ENOTFOUND;
    s_remove_t r = {.s = s};
    tc_spool__put_be64(r.key, seq - s->offset);
    int rc = s_write(s, s_remove_fn, &r);
    if (rc == 0 && !r.found)
        return TC_ENOTFOUND;
    return rc;
}

/* ---- renumbering ----------------------------------------------------------- */

typedef struct {
    tc_spool_t *s;
    uint64_t floor;
    uint64_t last_seq, offset;
    size_t n;
} s_rebase_t;

static int s_rebase_fn(MDB_txn *txn, void *arg)
{
    s_rebase_t *r = arg;
    tc_spool_t *s = r->s;
    MDB_cursor *cur;
    MDB_stat st;
    int rc = mdb_stat(txn, s->events, &st);
    if (rc != 0)
        return rc;
    r->n = st.ms_entries;
    if (r->n == 0) {
        /* Nothing to renumber: only the counter moves. */
        r->offset = s->offset + (r->floor - s->last_seq);
        r->last_seq = r->floor;
    } else {
        rc = mdb_cursor_open(txn, s->events, &cur);
        if (rc != 0)
            return rc;
        MDB_val k, v;
        uint64_t first = 0, last = 0;
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc == 0)
            first = tc_spool__get_be64(k.mv_data);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        if (rc == 0)
            last = tc_spool__get_be64(k.mv_data);
        mdb_cursor_close(cur);
        if (rc != 0)
            return rc;
        /* The oldest event becomes floor+1; the counter continues after the
         * newest one present. */
        r->offset = r->floor + 1 - first;
        r->last_seq = last + r->offset;
    }
    rc = s_meta_put_u64(s, txn, s_key_offset, r->offset);
    if (rc == 0)
        rc = s_meta_put_u64(s, txn, s_key_last_seq, r->last_seq);
    return rc;
}

int tc_spool_rebase(tc_spool_t *s, uint64_t floor, size_t *renumbered)
{
    if (renumbered)
        *renumbered = 0;
    if (floor <= s->last_seq)
        return 0;
    s_rebase_t r = {.s = s, .floor = floor};
    int rc = s_write(s, s_rebase_fn, &r);
    if (rc != 0)
        return rc;
    s->offset = r.offset;
    s->last_seq = r.last_seq;
    if (renumbered)
        *renumbered = r.n;
    return 0;
}

/* ---- held records ------------------------------------------------------------ */

typedef struct {
    tc_spool_t *s;
    const char *key;
    const uint8_t *data;
    size_t len;
} s_hold_t;

static int s_hold_fn(MDB_txn *txn, void *arg)
{
    s_hold_t *h = arg;
    MDB_val k = {strlen(h->key), (void *)h->key}, v = {h->len, (void *)h->data};
    int rc = mdb_put(txn, h->s->held, &k, &v, 0);
    if (rc == 0 && tc_spool__used(h->s, txn) > h->s->held_limit)
        rc = TC_EFULL;
    return rc;
}

int tc_spool_hold(tc_spool_t *s, const char *key, const uint8_t *data, size_t len)
{
    size_t klen = key ? strlen(key) : 0;
    if (klen == 0 || klen > TC_SPOOL__HELD_KEY_MAX)
        return TC_EINVAL;
    s_hold_t h = {.s = s, .key = key, .data = data, .len = len};
    return s_write(s, s_hold_fn, &h);
}
