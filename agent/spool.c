/*
 * spool.c - the agent's durable outbox; see spool.h.
 *
 * Two LMDB databases: "events" maps an 8-byte big-endian seq (so LMDB's
 * byte order is numeric order) to the encoded Envelope, and "meta" holds the
 * counter ("last_seq") and the owning agent id ("agent_id"). The counter is
 * written in the same transaction as the event, so a crash can never leave
 * an event whose number is handed out again. LMDB's default flags are kept:
 * every commit is fsync'ed, which is the whole point of a spool.
 */
#include "spool.h"

#include "error.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct tc_spool_t {
    MDB_env *env;
    MDB_dbi meta;
    MDB_dbi events;
    int lock_fd;
    uint64_t last_seq; /* mirror of meta/last_seq, updated after commit */
};

static const char s_key_last_seq[] = "last_seq";
static const char s_key_agent_id[] = "agent_id";

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

/* Reads meta/last_seq inside `txn`; absent means 0. */
static int s_read_last_seq(tc_spool_t *s, MDB_txn *txn, uint64_t *out)
{
    MDB_val k = {sizeof s_key_last_seq - 1, (void *)s_key_last_seq}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
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

static int s_write_last_seq(tc_spool_t *s, MDB_txn *txn, uint64_t seq)
{
    uint8_t b[8];
    s_put_be64(b, seq);
    MDB_val k = {sizeof s_key_last_seq - 1, (void *)s_key_last_seq}, v = {8, b};
    return s_err(mdb_put(txn, s->meta, &k, &v, 0));
}

/* Checks (and records) which agent the spool belongs to. */
static int s_claim(tc_spool_t *s, MDB_txn *txn, const char *agent_id, char *why, size_t whylen)
{
    MDB_val k = {sizeof s_key_agent_id - 1, (void *)s_key_agent_id}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return s_err(rc);
    if (rc == 0 && v.mv_size == strlen(agent_id) && memcmp(v.mv_data, agent_id, v.mv_size) == 0)
        return 0;
    if (rc == 0) {
        MDB_stat st;
        rc = mdb_stat(txn, s->events, &st);
        if (rc != 0)
            return s_err(rc);
        if (st.ms_entries > 0) {
            char old[TC_ID_MAX];
            size_t n = v.mv_size < sizeof old - 1 ? v.mv_size : sizeof old - 1;
            memcpy(old, v.mv_data, n);
            old[n] = '\0';
            s_why(why, whylen,
                  "spool holds unsent events of agent \"%s\", not \"%s\"; start that agent "
                  "to deliver them or move the spool away",
                  old, agent_id);
            return TC_ECONFIG;
        }
    }
    MDB_val nv = {strlen(agent_id), (void *)agent_id};
    return s_err(mdb_put(txn, s->meta, &k, &nv, 0));
}

int tc_spool_open(const char *dir, const char *agent_id, size_t map_size, tc_spool_t **out,
                  char *why, size_t whylen)
{
    char path[4200];
    MDB_txn *txn = NULL;
    int rc;
    *out = NULL;
    if (!dir || !*dir || !agent_id || strlen(dir) > 4000)
        return TC_EINVAL;
    if (tc_mkdir_p(dir) != 0) {
        s_why(why, whylen, "cannot create spool directory %s: %s", dir, strerror(errno));
        return TC_ESYS;
    }

    tc_spool_t *s = calloc(1, sizeof *s);
    if (!s)
        return TC_ENOMEM;

    snprintf(path, sizeof path, "%s/agent.lock", dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->lock_fd < 0) {
        s_why(why, whylen, "cannot open %s: %s", path, strerror(errno));
        rc = TC_ESYS;
        goto fail_lock;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            s_why(why, whylen, "spool %s is in use by another tocsin-agent", dir);
        else
            s_why(why, whylen, "cannot lock %s: %s", path, strerror(e));
        rc = e == EWOULDBLOCK ? TC_ECONFIG : TC_ESYS;
        goto fail_flock;
    }

    rc = mdb_env_create(&s->env);
    if (rc != 0) {
        rc = s_err(rc);
        goto fail_flock;
    }
    mdb_env_set_maxdbs(s->env, 2);
    mdb_env_set_mapsize(s->env, map_size ? map_size : TC_SPOOL_DEFAULT_MAP_SIZE);
    rc = mdb_env_open(s->env, dir, 0, 0640);
    if (rc != 0) {
        s_why(why, whylen, "cannot open LMDB spool in %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_env;
    }
    /* LMDB opens its data file without O_CLOEXEC; check processes must
     * not inherit a writable descriptor of the spool. */
    int dfd;
    if (mdb_env_get_fd(s->env, &dfd) == 0)
        fcntl(dfd, F_SETFD, fcntl(dfd, F_GETFD) | FD_CLOEXEC);
    /* A reader killed mid-transaction (kill -9) leaves a slot behind that
     * would pin old pages forever; clear such slots now. */
    int dead = 0;
    mdb_reader_check(s->env, &dead);

    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0) {
        s_why(why, whylen, "cannot open LMDB spool in %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_env;
    }
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
        (rc = mdb_dbi_open(txn, "events", MDB_CREATE, &s->events)) != 0) {
        s_why(why, whylen, "cannot open LMDB spool in %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_txn;
    }
    rc = s_read_last_seq(s, txn, &s->last_seq);
    if (rc != 0) {
        s_why(why, whylen, "spool %s: corrupt sequence counter", dir);
        goto fail_txn;
    }
    rc = s_claim(s, txn, agent_id, why, whylen);
    if (rc != 0)
        goto fail_txn;
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        s_why(why, whylen, "cannot write spool %s: %s", dir, mdb_strerror(rc));
        rc = s_err(rc);
        goto fail_env;
    }
    *out = s;
    return 0;

fail_txn:
    mdb_txn_abort(txn);
fail_env:
    mdb_env_close(s->env);
fail_flock:
    close(s->lock_fd);
fail_lock:
    free(s);
    return rc;
}

void tc_spool_destroy(tc_spool_t **pspool)
{
    if (!pspool || !*pspool)
        return;
    tc_spool_t *s = *pspool;
    mdb_env_close(s->env);
    close(s->lock_fd); /* releases the flock */
    free(s);
    *pspool = NULL;
}

int tc_spool_append(tc_spool_t *s, tc_msg_t *m)
{
    uint64_t seq = s->last_seq + 1;
    uint8_t key[8];
    uint8_t *buf = NULL;
    size_t len = 0;
    MDB_txn *txn;

    m->seq = seq;
    int rc = tc_wire_encode_msg(m, &buf, &len);
    if (rc != 0)
        goto fail_encode;
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0) {
        rc = s_err(rc);
        goto fail_txn_begin;
    }
    s_put_be64(key, seq);
    MDB_val k = {8, key}, v = {len, buf};
    rc = s_err(mdb_put(txn, s->events, &k, &v, MDB_NOOVERWRITE));
    if (rc == 0)
        rc = s_write_last_seq(s, txn, seq);
    if (rc != 0)
        goto fail_txn;
    rc = s_err(mdb_txn_commit(txn));
    if (rc != 0)
        goto fail_txn_begin; /* commit frees the transaction even on failure */
    s->last_seq = seq;
    free(buf);
    return 0;

fail_txn:
    mdb_txn_abort(txn);
fail_txn_begin:
    free(buf);
fail_encode:
    m->seq = 0;
    return rc;
}

int tc_spool_ack(tc_spool_t *s, uint64_t upto, size_t *deleted)
{
    size_t n = 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    if (deleted)
        *deleted = 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return s_err(rc);
    rc = mdb_cursor_open(txn, s->events, &cur);
    if (rc != 0)
        goto fail_cursor;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size == 8 && s_get_be64(k.mv_data) <= upto) {
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0)
            break;
        n++;
        /* After a delete LMDB positions the cursor so that MDB_NEXT yields
         * the entry that followed the deleted one. */
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        goto fail_cursor;
    if (n == 0) {
        mdb_txn_abort(txn);
        return 0;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return s_err(rc);
    if (deleted)
        *deleted = n;
    return 0;

fail_cursor:
    mdb_txn_abort(txn);
    return s_err(rc);
}

int tc_spool_remove(tc_spool_t *s, uint64_t seq)
{
    MDB_txn *txn;
    uint8_t key[8];
    s_put_be64(key, seq);
    MDB_val k = {8, key};
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return s_err(rc);
    rc = mdb_del(txn, s->events, &k, NULL);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    return s_err(mdb_txn_commit(txn));
}

typedef struct {
    uint64_t seq;
    uint8_t *data;
    size_t len;
} s_item_t;

int tc_spool_rebase(tc_spool_t *s, uint64_t floor, size_t *renumbered)
{
    if (renumbered)
        *renumbered = 0;
    if (floor <= s->last_seq)
        return 0;

    MDB_txn *txn;
    MDB_cursor *cur;
    s_item_t *items = NULL;
    size_t n = 0, cap = 0;
    uint64_t next = floor;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return s_err(rc);
    rc = mdb_cursor_open(txn, s->events, &cur);
    if (rc != 0) {
        rc = s_err(rc);
        goto fail;
    }
    /* Re-encode every event under its new number, deleting the old key as
     * we go; the new keys are all above every old key, so the cursor walk
     * never meets one of them before it has passed all old ones. */
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (mrc == 0 && k.mv_size == 8 && s_get_be64(k.mv_data) <= s->last_seq) {
        tc_msg_t m;
        if (tc_wire_decode_msg(v.mv_data, v.mv_size, &m) != 0) {
            rc = TC_EIO;
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            s_item_t *ni = realloc(items, ncap * sizeof *ni);
            if (!ni) {
                rc = TC_ENOMEM;
                break;
            }
            items = ni;
            cap = ncap;
        }
        m.seq = ++next;
        items[n].seq = m.seq;
        rc = tc_wire_encode_msg(&m, &items[n].data, &items[n].len);
        if (rc != 0)
            break;
        n++;
        mrc = mdb_cursor_del(cur, 0);
        if (mrc != 0)
            break;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = s_err(mrc);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint8_t key[8];
        s_put_be64(key, items[i].seq);
        MDB_val nk = {8, key}, nv = {items[i].len, items[i].data};
        rc = s_err(mdb_put(txn, s->events, &nk, &nv, MDB_NOOVERWRITE));
    }
    if (rc == 0)
        rc = s_write_last_seq(s, txn, next);
    if (rc != 0)
        goto fail;
    rc = s_err(mdb_txn_commit(txn));
    if (rc == 0) {
        s->last_seq = next;
        if (renumbered)
            *renumbered = n;
    }
    goto done;
fail:
    mdb_txn_abort(txn);
done:
    for (size_t i = 0; i < n; i++)
        free(items[i].data);
    free(items);
    return rc;
}

uint64_t tc_spool_last_seq(const tc_spool_t *s)
{
    return s->last_seq;
}

int tc_spool_count(tc_spool_t *s, size_t *n)
{
    MDB_txn *txn;
    MDB_stat st;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return s_err(rc);
    rc = mdb_stat(txn, s->events, &st);
    mdb_txn_abort(txn);
    if (rc != 0)
        return s_err(rc);
    *n = st.ms_entries;
    return 0;
}

bool tc_spool_contains(tc_spool_t *s, uint64_t seq)
{
    MDB_txn *txn;
    uint8_t key[8];
    s_put_be64(key, seq);
    MDB_val k = {8, key}, v;
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return false;
    int rc = mdb_get(txn, s->events, &k, &v);
    mdb_txn_abort(txn);
    return rc == 0;
}

int tc_spool_foreach(tc_spool_t *s, uint64_t after, tc_spool_fn *fn, void *arg)
{
    if (after == UINT64_MAX)
        return 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return s_err(rc);
    rc = mdb_cursor_open(txn, s->events, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    uint8_t key[8];
    s_put_be64(key, after + 1);
    MDB_val k = {8, key}, v;
    int result = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        if (k.mv_size == 8) {
            result = fn(s_get_be64(k.mv_data), v.mv_data, v.mv_size, arg);
            if (result != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (result != 0)
        return result;
    return rc == MDB_NOTFOUND ? 0 : s_err(rc);
}

int tc_spool_get(tc_spool_t *s, uint64_t seq, uint8_t **data, size_t *len)
{
    MDB_txn *txn;
    uint8_t key[8];
    s_put_be64(key, seq);
    MDB_val k = {8, key}, v;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return s_err(rc);
    rc = mdb_get(txn, s->events, &k, &v);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return s_err(rc);
    }
    /* Copy out before the transaction ends: LMDB's pointer dies with it. */
    uint8_t *copy = malloc(v.mv_size ? v.mv_size : 1);
    if (copy)
        memcpy(copy, v.mv_data, v.mv_size);
    mdb_txn_abort(txn);
    if (!copy)
        return TC_ENOMEM;
    *data = copy;
    *len = v.mv_size;
    return 0;
}
