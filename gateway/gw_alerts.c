/*
 * gw_alerts.c - the Events API's dedup keys; see gw_alerts.h.
 *
 * One database, "alerts": INTEGRATION NUL KEY -> tc_gw_alert_t (fixed
 * size, host-endian: the directory is local to one host).
 */
#include "gw_alerts.h"

#include "error.h"
#include "lmdb_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_gw_alerts {
    tc_lmdb_t *env;
    MDB_dbi dbi;
    bool broken; /* a write failed: reopen before the next */
};

static int s_open_db(tc_gw_alerts_t *s)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(tc_lmdb_env(s->env), NULL, 0, &txn);
    if (rc == 0 && (rc = mdb_dbi_open(txn, "alerts", MDB_CREATE, &s->dbi)) == 0)
        rc = mdb_txn_commit(txn);
    else if (rc == 0)
        mdb_txn_abort(txn);
    return rc;
}

int tc_gw_alerts_open(const char *dir, tc_gw_alerts_t **out, char *why, size_t whylen)
{
    *out = NULL;
    tc_gw_alerts_t *s = calloc(1, sizeof *s);
    if (!s)
        return TC_ENOMEM;
    tc_lmdb_config_t cfg = {.dir = dir,
                            .what = "gateway state",
                            .lock_file = "gateway.lock",
                            .map_size = (size_t)4 << 20,
                            .max_dbs = 2};
    int rc = tc_lmdb_open(&cfg, &s->env, why, whylen);
    if (rc == 0 && (rc = s_open_db(s)) != 0)
        rc = tc_lmdb_error(s->env, rc, "cannot open the gateway state", why, whylen);
    if (rc) {
        tc_gw_alerts_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

void tc_gw_alerts_destroy(tc_gw_alerts_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_lmdb_destroy(&(*pself)->env);
    free(*pself);
    *pself = NULL;
}

/* INTEGRATION NUL KEY; returns the length. */
static size_t s_key(uint8_t *dst, const char *integration, const char *key)
{
    size_t a = strnlen(integration, TC_ID_MAX - 1), b = strnlen(key, 255);
    memcpy(dst, integration, a);
    dst[a] = 0;
    memcpy(dst + a + 1, key, b);
    return a + 1 + b;
}

typedef struct {
    tc_gw_alerts_t *s;
    MDB_val k;
    const tc_gw_alert_t *a; /* NULL: delete */
} s_put_t;

static int s_put_fn(MDB_txn *txn, void *arg)
{
    s_put_t *p = arg;
    if (!p->a) {
        int rc = mdb_del(txn, p->s->dbi, &p->k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    MDB_val v = {sizeof *p->a, (void *)p->a};
    return mdb_put(txn, p->s->dbi, &p->k, &v, 0);
}

static int s_write(tc_gw_alerts_t *s, const char *integration, const char *key,
                   const tc_gw_alert_t *a, char *why, size_t whylen)
{
    char dummy[8];
    if (!why) {
        why = dummy;
        whylen = sizeof dummy;
    }
    if (s->broken) {
        int rc = tc_lmdb_reopen(s->env, why, whylen);
        if (rc == 0)
            rc = s_open_db(s);
        if (rc)
            return rc;
        s->broken = false;
    }
    uint8_t kb[TC_ID_MAX + 257];
    s_put_t p = {s, {s_key(kb, integration, key), kb}, a};
    int rc = tc_lmdb_write(s->env, s_put_fn, &p, why, whylen);
    if (rc && rc != TC_ENOMEM)
        s->broken = true;
    return rc;
}

int tc_gw_alerts_put(tc_gw_alerts_t *self, const char *integration, const char *key,
                     const tc_gw_alert_t *a, char *why, size_t whylen)
{
    return s_write(self, integration, key, a, why, whylen);
}

int tc_gw_alerts_del(tc_gw_alerts_t *self, const char *integration, const char *key)
{
    return s_write(self, integration, key, NULL, NULL, 0);
}

int tc_gw_alerts_get(tc_gw_alerts_t *self, const char *integration, const char *key,
                     tc_gw_alert_t *out)
{
    MDB_txn *txn;
    if (mdb_txn_begin(tc_lmdb_env(self->env), NULL, MDB_RDONLY, &txn) != 0)
        return TC_EIO;
    uint8_t kb[TC_ID_MAX + 257];
    MDB_val k = {s_key(kb, integration, key), kb}, v;
    int rc = mdb_get(txn, self->dbi, &k, &v);
    if (rc == 0 && v.mv_size == sizeof *out) {
        memcpy(out, v.mv_data, sizeof *out);
        out->service[TC_ID_MAX - 1] = out->host[TC_ID_MAX - 1] = out->check[TC_ID_MAX - 1] = 0;
    }
    mdb_txn_abort(txn);
    if (rc == MDB_NOTFOUND)
        return TC_ENOTFOUND;
    return rc == 0 && v.mv_size == sizeof *out ? 0 : TC_EIO;
}

size_t tc_gw_alerts_count(tc_gw_alerts_t *self)
{
    MDB_txn *txn;
    MDB_stat st;
    size_t n = 0;
    if (mdb_txn_begin(tc_lmdb_env(self->env), NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    if (mdb_stat(txn, self->dbi, &st) == 0)
        n = st.ms_entries;
    mdb_txn_abort(txn);
    return n;
}
