/*
 * lmdb_env.h - the one way tocsin opens, grows and reports on an LMDB
 * environment: the coordinator's store, the agent's spool, the notifier's
 * queue and the status page's copy all go through it.
 *
 * What it adds to LMDB:
 *  - opening: the directory is created, a lock file in it is held with
 *    flock() so two processes never share one environment, and the map
 *    starts at a configured size;
 *  - growth: the map grows (doubling, up to a configured maximum) when it
 *    fills, which LMDB allows only while no transaction is active, so it
 *    happens between transactions: either ahead of need (tc_lmdb_reserve)
 *    or after a transaction failed with MDB_MAP_FULL (tc_lmdb_write retries
 *    it once the map is bigger);
 *  - errors with their cause: a full disk (ENOSPC, EDQUOT) is "disk full at
 *    DIR", a full map names its size and limit, so an operator reads what
 *    to do instead of "input/output error".
 *
 * Threading: an environment is used by the thread that opened it; growing
 * requires that no transaction of this process is open.
 */
#ifndef TC_LMDB_ENV_H
#define TC_LMDB_ENV_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tc_lmdb tc_lmdb_t;

typedef struct {
    const char *dir;       /* created with its parents if missing */
    const char *what;      /* for messages: "coordinator store", "agent spool" */
    const char *lock_file; /* name of a file in `dir` held with flock(); NULL: none */
    size_t map_size;       /* initial map size in bytes (0: 1 MiB) */
    size_t map_max;        /* largest the map may grow to (0: no limit but the disk) */
    unsigned max_dbs;      /* named databases */
    unsigned env_flags;    /* extra mdb_env_open() flags, e.g. MDB_NOTLS */
} tc_lmdb_config_t;

/* Opens the environment described by `cfg` (strings are copied). An
 * existing environment whose map is larger than cfg->map_size keeps its
 * size. On success *out is the caller's (tc_lmdb_destroy()). Returns 0, or
 * TC_ECONFIG (the lock is held by another process), TC_ESYS (directory or
 * lock file), TC_EDISKFULL, TC_EIO, TC_ENOMEM, with a one-line reason
 * naming the directory in `why` (may be NULL). */
int tc_lmdb_open(const tc_lmdb_config_t *cfg, tc_lmdb_t **out, char *why, size_t whylen);

/* Closes the environment and releases the lock. NULL-safe; nulls *pl. */
void tc_lmdb_destroy(tc_lmdb_t **pl);

/* The environment, borrowed; valid until tc_lmdb_destroy() or
 * tc_lmdb_reopen(). */
MDB_env *tc_lmdb_env(const tc_lmdb_t *l);

/* The directory, borrowed. */
const char *tc_lmdb_dir(const tc_lmdb_t *l);

/* Closes and opens the environment again (the lock stays held): after a
 * commit failed while writing its meta page LMDB refuses every further
 * transaction (MDB_PANIC) until then. Every database handle the caller had
 * must be opened again. Returns 0 or an error like tc_lmdb_open(). */
int tc_lmdb_reopen(tc_lmdb_t *l, char *why, size_t whylen);

/* Turns `rc` into a TC_E* code and writes "DOING: CAUSE" into `why` (may
 * be NULL). `rc` may be 0, an LMDB code (MDB_*), an errno value, or already
 * a TC_E* code (passed through). MDB_MAP_FULL gives TC_EFULL, ENOSPC and
 * EDQUOT give TC_EDISKFULL, MDB_NOTFOUND TC_ENOTFOUND, ENOMEM TC_ENOMEM,
 * anything else TC_EIO. */
int tc_lmdb_error(const tc_lmdb_t *l, int rc, const char *doing, char *why, size_t whylen);

/* Makes the map at least `bytes` larger than the pages in use, growing it
 * (no transaction may be open) up to the maximum. Returns 0, or TC_EFULL
 * when the maximum does not allow it (the map is as large as it may get). */
int tc_lmdb_reserve(tc_lmdb_t *l, size_t bytes);

/* Bytes of the map in use (the highest page written; freed pages inside
 * are reused by LMDB but still counted), the map size and its maximum
 * (0: none). */
void tc_lmdb_usage(const tc_lmdb_t *l, size_t *used, size_t *map, size_t *max);

/* Bytes free for this process on the file system holding the environment
 * (statvfs f_bavail); SIZE_MAX if that cannot be told. */
size_t tc_lmdb_disk_free(const tc_lmdb_t *l);

/* A write transaction's work: returns 0 to commit, anything else (an LMDB
 * code, an errno value or a TC_E* code) to abort. Must have no effect
 * outside the transaction, because it may run more than once. */
typedef int(tc_lmdb_txn_fn)(MDB_txn *txn, void *arg);

/* Runs `fn` in a write transaction and commits. When the map is full (in
 * `fn` or at commit) the transaction is aborted, the map grown and `fn`
 * run again, until it fits or the maximum is reached. Returns 0 when
 * committed (durably: LMDB syncs on commit), else the tc_lmdb_error() code
 * with its reason in `why` (may be NULL). */
int tc_lmdb_write(tc_lmdb_t *l, tc_lmdb_txn_fn *fn, void *arg, char *why, size_t whylen);

#endif
