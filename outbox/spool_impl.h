/*
 * spool_impl.h - what spool.c (opening and writing) and spool_read.c
 * (reading: wire frames, iteration, usage) share. Private to the spool;
 * nothing else includes it.
 */
#ifndef TC_OUTBOX_SPOOL_IMPL_H
#define TC_OUTBOX_SPOOL_IMPL_H

#include "lmdb_env.h"
#include "spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_SPOOL__HELD_KEY_MAX 255

struct tc_spool_t {
    tc_lmdb_t *lmdb;
    MDB_dbi main, meta, events, held;
    uint64_t last_seq; /* mirror of meta/last_seq, updated after commit */
    uint64_t offset;   /* mirror of meta/seq_offset */
    size_t max, headroom, events_limit, held_limit;
    bool reopen; /* a write failed in storage: reopen before the next one */
    uint8_t *frame;
    size_t frame_cap;
    char error[512];
};

static inline MDB_env *tc_spool__env(const tc_spool_t *s)
{
    return tc_lmdb_env(s->lmdb);
}

/* Keys are 8-byte big-endian, so LMDB's byte order is numeric order. */
static inline void tc_spool__put_be64(uint8_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static inline uint64_t tc_spool__get_be64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

/* Bytes the data occupies inside `txn`: every page of every database. */
size_t tc_spool__used(tc_spool_t *s, MDB_txn *txn);

/* Records `why` for tc_spool_error() and returns rc; a storage failure
 * makes the next write reopen the environment. */
int tc_spool__fail(tc_spool_t *s, int rc, const char *why);

#endif
