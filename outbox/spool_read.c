/*
 * spool_read.c - reading the spool: events as wire frames, in order, and
 * its state; see spool.h. Readers use their own read-only transactions and
 * never write, so they work on a full disk.
 */
#include "spool_impl.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

/* A trailing "seq" field: one tag byte and a varint of up to 10 bytes. */
#define S_SEQ_FIELD_MAX 11

uint64_t tc_spool_last_seq(const tc_spool_t *s)
{
    return s->last_seq;
}

int tc_spool_count(tc_spool_t *s, size_t *n)
{
    MDB_txn *txn;
    MDB_stat st;
    int rc = mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = mdb_stat(txn, s->events, &st);
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        char why[256];
        return tc_spool__fail(
            s, tc_lmdb_error(s->lmdb, rc, "cannot read the spool", why, sizeof why), why);
    }
    *n = st.ms_entries;
    return 0;
}

bool tc_spool_contains(tc_spool_t *s, uint64_t seq)
{
    if (seq <= s->offset || seq > s->last_seq)
        return false;
    MDB_txn *txn;
    uint8_t key[8];
    tc_spool__put_be64(key, seq - s->offset);
    MDB_val k = {8, key}, v;
    if (mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn) != 0)
        return false;
    int rc = mdb_get(txn, s->events, &k, &v);
    mdb_txn_abort(txn);
    return rc == 0;
}

/* The stored Envelope with `seq` appended as its last field, in s->frame. */
static int s_frame(tc_spool_t *s, uint64_t seq, const MDB_val *v, size_t *len)
{
    size_t need = v->mv_size + S_SEQ_FIELD_MAX;
    if (need > s->frame_cap) {
        uint8_t *nf = realloc(s->frame, need);
        if (!nf)
            return TC_ENOMEM;
        s->frame = nf;
        s->frame_cap = need;
    }
    memcpy(s->frame, v->mv_data, v->mv_size);
    size_t n = v->mv_size;
    s->frame[n++] = 0x18; /* field 3 (Envelope.seq), varint */
    do {
        uint8_t b = seq & 0x7f;
        seq >>= 7;
        s->frame[n++] = seq ? (uint8_t)(b | 0x80) : b;
    } while (seq);
    *len = n;
    return 0;
}

int tc_spool_foreach(tc_spool_t *s, uint64_t after, tc_spool_fn *fn, void *arg)
{
    if (after >= s->last_seq)
        return 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return TC_EIO;
    rc = mdb_cursor_open(txn, s->events, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return TC_EIO;
    }
    uint8_t key[8];
    tc_spool__put_be64(key, after < s->offset ? 1 : after + 1 - s->offset);
    MDB_val k = {8, key}, v;
    int result = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        if (k.mv_size == 8) {
            uint64_t seq = tc_spool__get_be64(k.mv_data) + s->offset;
            size_t len;
            result = s_frame(s, seq, &v, &len);
            if (result == 0)
                result = fn(seq, s->frame, len, arg);
            if (result != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (result != 0)
        return result;
    return rc == MDB_NOTFOUND ? 0 : TC_EIO;
}

int tc_spool_get(tc_spool_t *s, uint64_t seq, uint8_t **frame, size_t *len)
{
    if (seq <= s->offset || seq > s->last_seq)
        return TC_ENOTFOUND;
    MDB_txn *txn;
    uint8_t key[8];
    tc_spool__put_be64(key, seq - s->offset);
    MDB_val k = {8, key}, v;
    int rc = mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return TC_EIO;
    rc = mdb_get(txn, s->events, &k, &v);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc == MDB_NOTFOUND ? TC_ENOTFOUND : TC_EIO;
    }
    /* Copy out before the transaction ends: LMDB's pointer dies with it. */
    size_t n = 0;
    rc = s_frame(s, seq, &v, &n);
    mdb_txn_abort(txn);
    if (rc != 0)
        return rc;
    uint8_t *copy = malloc(n);
    if (!copy)
        return TC_ENOMEM;
    memcpy(copy, s->frame, n);
    *frame = copy;
    *len = n;
    return 0;
}

int tc_spool_held_foreach(tc_spool_t *s, tc_spool_held_fn *fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn) != 0)
        return TC_EIO;
    if (mdb_cursor_open(txn, s->held, &cur) != 0) {
        mdb_txn_abort(txn);
        return TC_EIO;
    }
    MDB_val k, v;
    int result = 0;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        char key[TC_SPOOL__HELD_KEY_MAX + 1];
        if (k.mv_size >= 1 && k.mv_size <= TC_SPOOL__HELD_KEY_MAX) {
            memcpy(key, k.mv_data, k.mv_size);
            key[k.mv_size] = '\0';
            result = fn(key, v.mv_data, v.mv_size, arg);
            if (result != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (result != 0)
        return result;
    return rc == MDB_NOTFOUND ? 0 : TC_EIO;
}

/* ---- state ------------------------------------------------------------------------ */

void tc_spool_usage(tc_spool_t *s, tc_spool_usage_t *u)
{
    memset(u, 0, sizeof *u);
    u->events_limit = s->events_limit;
    u->max = s->max;
    tc_lmdb_usage(s->lmdb, NULL, &u->file, NULL);
    MDB_txn *txn;
    if (mdb_txn_begin(tc_spool__env(s), NULL, MDB_RDONLY, &txn) == 0) {
        u->used = tc_spool__used(s, txn);
        mdb_txn_abort(txn);
    }
}

const char *tc_spool_dir(const tc_spool_t *s)
{
    return tc_lmdb_dir(s->lmdb);
}

const char *tc_spool_error(const tc_spool_t *s)
{
    return s->error;
}
