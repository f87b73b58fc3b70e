/*
 * store_blocks.c - numbered sequences as compressed LMDB blocks; see
 * store_blocks.h.
 */
#include "store_blocks.h"

#include "error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* A block is written once its records pass this many bytes. */
#define S_BLOCK_MAX (64 * 1024)
/* zstd's fastest levels compress these small, alike records well; level 1
 * costs about a microsecond a record. */
#define S_LEVEL 1

enum { S_PLAIN = 0x01, S_ZSTD = 0x02 };

/* s_block's "the limit was reached" (not a value fn may return, which is
 * passed through). */
#define S_LIMIT (INT_MIN + 7)

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

static size_t s_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static bool s_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

int tc_blocks_open(tc_blocks_t *b, MDB_txn *txn, MDB_dbi dbi)
{
    memset(b, 0, sizeof *b);
    b->dbi = dbi;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return TC_EIO;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8)
        b->seq = s_from_be64(k.mv_data);
    mdb_cursor_close(cur);
    b->txn_seq = b->seq;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : TC_EIO;
}

void tc_blocks_close(tc_blocks_t *b)
{
    free(b->pending.data);
    memset(&b->pending, 0, sizeof b->pending);
}

void tc_blocks_begin(tc_blocks_t *b)
{
    b->txn_seq = b->seq;
    b->pending.len = 0;
    b->npending = 0;
}

int tc_blocks_flush(tc_blocks_t *b, MDB_txn *txn)
{
    if (!b->npending)
        return 0;
    /* The body: varint n, then the records; written plain or compressed,
     * whichever is smaller. */
    uint8_t head[10];
    size_t hl = s_put_varint(head, b->npending);
    size_t body = hl + b->pending.len;
    size_t bound = ZSTD_compressBound(body);
    uint8_t *raw = malloc(body), *out = malloc(1 + 10 + bound);
    if (!raw || !out) {
        free(raw);
        free(out);
        return TC_ENOMEM;
    }
    memcpy(raw, head, hl);
    memcpy(raw + hl, b->pending.data, b->pending.len);
    size_t n = 0;
    size_t z = ZSTD_compress(out + 11, bound, raw, body, S_LEVEL);
    if (!ZSTD_isError(z) && z + 11 < body + 1) {
        uint8_t lenb[10];
        size_t ll = s_put_varint(lenb, body);
        out[0] = S_ZSTD;
        memcpy(out + 1, lenb, ll);
        memmove(out + 1 + ll, out + 11, z);
        n = 1 + ll + z;
    } else {
        out[0] = S_PLAIN;
        memcpy(out + 1, raw, body);
        n = 1 + body;
    }
    unsigned char kb[8];
    s_be64(b->txn_seq, kb);
    MDB_val k = {8, kb}, v = {n, out};
    int rc = mdb_put(txn, b->dbi, &k, &v, MDB_APPEND);
    free(raw);
    free(out);
    if (rc)
        return rc == MDB_MAP_FULL ? TC_EFULL : TC_EIO;
    b->pending.len = 0;
    b->npending = 0;
    return 0;
}

int tc_blocks_append(tc_blocks_t *b, MDB_txn *txn, const uint8_t *rec, size_t len)
{
    int rc = tc_buf_reserve(&b->pending, len + 10);
    if (rc)
        return rc;
    b->pending.len += s_put_varint(b->pending.data + b->pending.len, len);
    memcpy(b->pending.data + b->pending.len, rec, len);
    b->pending.len += len;
    b->npending++;
    b->txn_seq++;
    return b->pending.len >= S_BLOCK_MAX ? tc_blocks_flush(b, txn) : 0;
}

void tc_blocks_committed(tc_blocks_t *b)
{
    b->seq = b->txn_seq;
    b->pending.len = 0;
    b->npending = 0;
}

void tc_blocks_aborted(tc_blocks_t *b)
{
    tc_blocks_begin(b);
}

/* Walks the records of one block (key = its last seq). */
static int s_block(const MDB_val *k, const MDB_val *v, uint64_t from, size_t limit, size_t *n,
                   bool *more, tc_blocks_fn *fn, void *ctx)
{
    uint64_t last = s_from_be64(k->mv_data);
    const uint8_t *p = v->mv_data, *end = p + v->mv_size;
    uint8_t *raw = NULL;
    if (v->mv_size == 0)
        return TC_EDECODE;
    if (p[0] != S_PLAIN && p[0] != S_ZSTD) {
        /* A single record of an older build. */
        if (last < from)
            return 0;
        if (limit && *n == limit) {
            if (more)
                *more = true;
            return S_LIMIT;
        }
        ++*n;
        return fn(last, p, v->mv_size, ctx);
    }
    if (p[0] == S_ZSTD) {
        uint64_t body;
        p++;
        if (!s_get_varint(&p, end, &body) || body > (64u << 20))
            return TC_EDECODE;
        if (!(raw = malloc(body ? body : 1)))
            return TC_ENOMEM;
        size_t got = ZSTD_decompress(raw, body, p, (size_t)(end - p));
        if (ZSTD_isError(got) || got != body) {
            free(raw);
            return TC_EDECODE;
        }
        p = raw;
        end = raw + body;
    } else {
        p++;
    }
    uint64_t count;
    int rc = 0;
    if (!s_get_varint(&p, end, &count) || count == 0 || count > last) {
        free(raw);
        return TC_EDECODE;
    }
    uint64_t seq = last - count + 1;
    for (uint64_t i = 0; i < count && rc == 0; i++, seq++) {
        uint64_t len;
        if (!s_get_varint(&p, end, &len) || len > (uint64_t)(end - p)) {
            rc = TC_EDECODE;
            break;
        }
        if (seq >= from) {
            if (limit && *n == limit) {
                if (more)
                    *more = true;
                rc = S_LIMIT;
                break;
            }
            ++*n;
            rc = fn(seq, p, (size_t)len, ctx);
        }
        p += len;
    }
    free(raw);
    return rc;
}

int tc_blocks_scan(MDB_txn *txn, MDB_dbi dbi, uint64_t from, size_t limit, tc_blocks_fn *fn,
                   void *ctx, bool *more)
{
    if (more)
        *more = false;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return TC_EIO;
    unsigned char kb[8];
    s_be64(from, kb);
    MDB_val k = {8, kb}, v;
    size_t n = 0;
    int out = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && out == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        out = k.mv_size == 8 ? s_block(&k, &v, from, limit, &n, more, fn, ctx) : TC_EDECODE;
    mdb_cursor_close(cur);
    if (out == S_LIMIT)
        return 0; /* the limit, not the caller, stopped it */
    if (out)
        return out;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : TC_EIO;
}
