/*
 * store_blocks.h - a numbered sequence (the event log, the broadcasts)
 * stored in LMDB as compressed blocks.
 *
 * One LMDB value holds the records a commit appended (up to about 64 KiB
 * of them), keyed by the sequence of its LAST record, so that the highest
 * key is the highest sequence and the block holding record N is the first
 * whose key is at or above N. Records within a block are contiguous, so
 * each one's sequence follows from the key and the count. A block is
 * compressed with zstd when that makes it smaller: records of one batch
 * are alike (the same checks, services, hosts), and this is what keeps the
 * store near 100 bytes per event instead of 600.
 *
 * Value layout: 0x01, varint n, then n records each as varint length and
 * bytes; or 0x02, varint raw length, then a zstd frame of the same
 * (varint n, records). A value starting with anything else is a single
 * record written by an older build (a protobuf message never starts with
 * 0x01 or 0x02), so old stores keep working.
 *
 * Private to the coordinator's store (store.c); LMDB types appear here.
 */
#ifndef TC_STORE_BLOCKS_H
#define TC_STORE_BLOCKS_H

#include "util.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    MDB_dbi dbi;
    uint64_t seq;     /* highest committed sequence */
    uint64_t txn_seq; /* highest inside the open transaction */
    tc_buf_t pending; /* records appended and not yet written (varint-prefixed) */
    size_t npending;
} tc_blocks_t;

/* The committed sequence from the store (the highest key's block). */
int tc_blocks_open(tc_blocks_t *b, MDB_txn *txn, MDB_dbi dbi);

/* Frees the pending buffer. */
void tc_blocks_close(tc_blocks_t *b);

/* Starts a transaction's appends. */
void tc_blocks_begin(tc_blocks_t *b);

/* Appends record `txn_seq + 1` (the caller numbered it so). A block that
 * grows past its size is written at once. Returns 0 or an LMDB/TC code. */
int tc_blocks_append(tc_blocks_t *b, MDB_txn *txn, const uint8_t *rec, size_t len);

/* Writes what is pending (before the commit). */
int tc_blocks_flush(tc_blocks_t *b, MDB_txn *txn);

/* After the commit: the transaction's records are the committed ones. */
void tc_blocks_committed(tc_blocks_t *b);

/* After an abort: nothing of the transaction remains. */
void tc_blocks_aborted(tc_blocks_t *b);

/* Called for each record with its sequence; the bytes are borrowed for the
 * call. Non-zero stops the walk (and is returned). */
typedef int(tc_blocks_fn)(uint64_t seq, const uint8_t *rec, size_t len, void *ctx);

/* Calls fn for each record with seq >= from, in order, up to `limit` (0:
 * no limit), in read transaction `txn`; *more (may be NULL) says whether
 * records remain. Returns 0, fn's value, TC_EDECODE (a damaged block),
 * TC_ENOMEM or an LMDB error mapped to TC_EIO. */
int tc_blocks_scan(MDB_txn *txn, MDB_dbi dbi, uint64_t from, size_t limit, tc_blocks_fn *fn,
                   void *ctx, bool *more);

#endif
