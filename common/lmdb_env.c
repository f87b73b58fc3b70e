/*
 * lmdb_env.c - opening, growing and explaining LMDB environments; see
 * lmdb_env.h.
 */
#include "lmdb_env.h"

#include "error.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define S_MIB ((size_t)1 << 20)
#define S_DEFAULT_MAP S_MIB

struct tc_lmdb {
    MDB_env *env;
    char dir[PATH_MAX];
    char what[64];
    size_t map_max;
    unsigned max_dbs, env_flags;
    int lock_fd;
};

static void s_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_why(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static size_t s_mapsize(const tc_lmdb_t *l)
{
    MDB_envinfo info;
    return mdb_env_info(l->env, &info) == 0 ? info.me_mapsize : 0;
}

/* LMDB reports a short write, which is how a full file system usually
 * shows, as EIO ("short write, filesystem full?"); telling that from a
 * failing device takes a look at the free space. */
static bool s_disk_nearly_full(const char *dir)
{
    struct statvfs vfs;
    if (statvfs(dir, &vfs) != 0)
        return false;
    return (uint64_t)vfs.f_bavail * vfs.f_frsize < ((uint64_t)8 << 20);
}

int tc_lmdb_error(const tc_lmdb_t *l, int rc, const char *doing, char *why, size_t whylen)
{
    const char *dir = l ? l->dir : "?";
    if (rc == 0)
        return 0;
    if (rc == EIO && l && s_disk_nearly_full(dir))
        rc = ENOSPC;
    if (rc < 0 && rc > -100) { /* already a TC_E* code */
        s_why(why, whylen, "%s: %s", doing, tc_strerror(rc));
        return rc;
    }
    switch (rc) {
    case MDB_MAP_FULL: {
        size_t map = l ? s_mapsize(l) : 0;
        if (l && l->map_max)
            s_why(why, whylen, "%s: %s at %s is full (%zu MiB, the configured maximum)", doing,
                  l->what, dir, map / S_MIB);
        else
            s_why(why, whylen, "%s: %s at %s is full (%zu MiB)", doing, l ? l->what : "LMDB", dir,
                  map / S_MIB);
        return TC_EFULL;
    }
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        s_why(why, whylen, "%s: disk full at %s (%s)", doing, dir, strerror(rc));
        return TC_EDISKFULL;
    case MDB_NOTFOUND: s_why(why, whylen, "%s: not found", doing); return TC_ENOTFOUND;
    case ENOMEM: s_why(why, whylen, "%s: out of memory", doing); return TC_ENOMEM;
    default: s_why(why, whylen, "%s: %s at %s", doing, mdb_strerror(rc), dir); return TC_EIO;
    }
}

static int s_lock(tc_lmdb_t *l, const char *name, char *why, size_t whylen)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", l->dir, name) >= (int)sizeof path) {
        s_why(why, whylen, "%s: path too long", l->dir);
        return TC_EINVAL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        int e = errno;
        s_why(why, whylen, "cannot open %s: %s", path, strerror(e));
        return e == ENOSPC ? TC_EDISKFULL : TC_ESYS;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        s_why(why, whylen, "%s is in use by another process (%s is locked)", l->dir, path);
        close(fd);
        return TC_ECONFIG;
    }
    l->lock_fd = fd;
    return 0;
}

/* mdb_env_create .. mdb_env_open with the stored settings. */
static int s_env_open(tc_lmdb_t *l, size_t map_size, char *why, size_t whylen)
{
    int rc = mdb_env_create(&l->env);
    if (rc)
        return tc_lmdb_error(l, rc, "cannot create the LMDB environment", why, whylen);
    if ((rc = mdb_env_set_maxdbs(l->env, l->max_dbs)) != 0 ||
        (rc = mdb_env_set_mapsize(l->env, map_size)) != 0 ||
        (rc = mdb_env_open(l->env, l->dir, l->env_flags, 0640)) != 0) {
        char doing[PATH_MAX + 64];
        snprintf(doing, sizeof doing, "cannot open the %s", l->what);
        int code = tc_lmdb_error(l, rc, doing, why, whylen);
        mdb_env_close(l->env);
        l->env = NULL;
        return code;
    }
    /* An environment made earlier with a bigger map keeps it: LMDB then
     * reports the size from the file. */
    return 0;
}

int tc_lmdb_open(const tc_lmdb_config_t *cfg, tc_lmdb_t **out, char *why, size_t whylen)
{
    *out = NULL;
    tc_lmdb_t *l = calloc(1, sizeof *l);
    if (!l) {
        s_why(why, whylen, "out of memory");
        return TC_ENOMEM;
    }
    l->lock_fd = -1;
    snprintf(l->dir, sizeof l->dir, "%s", cfg->dir);
    snprintf(l->what, sizeof l->what, "%s", cfg->what ? cfg->what : "LMDB environment");
    l->max_dbs = cfg->max_dbs;
    l->env_flags = cfg->env_flags;
    size_t map = cfg->map_size ? cfg->map_size : S_DEFAULT_MAP;
    l->map_max = cfg->map_max && cfg->map_max < map ? map : cfg->map_max;
    int rc = tc_mkdir_p(cfg->dir);
    if (rc) {
        int e = errno;
        s_why(why, whylen, "cannot create directory %s: %s", cfg->dir, strerror(e));
        rc = e == ENOSPC ? TC_EDISKFULL : TC_ESYS;
        goto fail;
    }
    if (cfg->lock_file && (rc = s_lock(l, cfg->lock_file, why, whylen)) != 0)
        goto fail;
    if ((rc = s_env_open(l, map, why, whylen)) != 0)
        goto fail;
    *out = l;
    return 0;
fail:
    tc_lmdb_destroy(&l);
    return rc;
}

void tc_lmdb_destroy(tc_lmdb_t **pl)
{
    if (!pl || !*pl)
        return;
    tc_lmdb_t *l = *pl;
    if (l->env)
        mdb_env_close(l->env);
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    free(l);
    *pl = NULL;
}

MDB_env *tc_lmdb_env(const tc_lmdb_t *l)
{
    return l->env;
}

const char *tc_lmdb_dir(const tc_lmdb_t *l)
{
    return l->dir;
}

int tc_lmdb_reopen(tc_lmdb_t *l, char *why, size_t whylen)
{
    size_t map = s_mapsize(l);
    mdb_env_close(l->env);
    l->env = NULL;
    return s_env_open(l, map ? map : S_DEFAULT_MAP, why, whylen);
}

size_t tc_lmdb_disk_free(const tc_lmdb_t *l)
{
    struct statvfs vfs;
    if (statvfs(l->dir, &vfs) != 0)
        return SIZE_MAX;
    uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    return free_bytes > SIZE_MAX ? SIZE_MAX : (size_t)free_bytes;
}

void tc_lmdb_usage(const tc_lmdb_t *l, size_t *used, size_t *map, size_t *max)
{
    MDB_envinfo info;
    MDB_stat st;
    size_t u = 0, m = 0;
    if (mdb_env_info(l->env, &info) == 0 && mdb_env_stat(l->env, &st) == 0) {
        u = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
        m = info.me_mapsize;
    }
    if (used)
        *used = u;
    if (map)
        *map = m;
    if (max)
        *max = l->map_max;
}

/* Grows the map so that `need` bytes fit: doubling, at least by `need`,
 * capped at the maximum. TC_EFULL when it is at the maximum already. */
static int s_grow(tc_lmdb_t *l, size_t need)
{
    size_t map = s_mapsize(l);
    if (l->map_max && map >= l->map_max)
        return TC_EFULL;
    size_t next = map < SIZE_MAX / 2 ? map * 2 : SIZE_MAX;
    if (next < map + need)
        next = map + need;
    if (l->map_max && next > l->map_max)
        next = l->map_max;
    int rc = mdb_env_set_mapsize(l->env, next);
    if (rc) {
        char why[256];
        int code = tc_lmdb_error(l, rc, "cannot grow the map", why, sizeof why);
        tc_error("%s", why);
        return code;
    }
    tc_info("%s at %s: map grown from %zu to %zu MiB", l->what, l->dir, map / S_MIB, next / S_MIB);
    return 0;
}

int tc_lmdb_reserve(tc_lmdb_t *l, size_t bytes)
{
    size_t used, map, max;
    tc_lmdb_usage(l, &used, &map, &max);
    if (used + bytes <= map)
        return 0;
    return s_grow(l, used + bytes - map);
}

int tc_lmdb_write(tc_lmdb_t *l, tc_lmdb_txn_fn *fn, void *arg, char *why, size_t whylen)
{
    for (;;) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
        if (rc)
            return tc_lmdb_error(l, rc, "cannot begin a write transaction", why, whylen);
        rc = fn(txn, arg);
        if (rc) {
            mdb_txn_abort(txn);
        } else {
            rc = mdb_txn_commit(txn);
            if (rc == 0)
                return 0;
        }
        if (rc != MDB_MAP_FULL)
            return tc_lmdb_error(l, rc, "write failed", why, whylen);
        /* Full: with the transaction gone the map may grow; then again. */
        int grc = s_grow(l, S_MIB);
        if (grc)
            return tc_lmdb_error(l, grc == TC_EFULL ? MDB_MAP_FULL : grc, "write failed", why,
                                 whylen);
    }
}
