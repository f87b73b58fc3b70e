/*
 * sp_store.c - the status page's LMDB store; see sp_store.h.
 */
#include "sp_store.h"

#include "error.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FORMAT 1u
/* Generous: the store holds text of public updates, not a log. */
#define S_MAP_SIZE ((size_t)1 << 30)

struct tc_sp_store {
    MDB_env *env;
    MDB_dbi meta, comps, history, updates, resolved, maints;
};

static int s_err(int rc, const char *what)
{
    if (rc == 0)
        return 0;
    tc_error("state store: %s: %s", what, mdb_strerror(rc));
    return rc == MDB_MAP_FULL ? TC_EFULL : rc == ENOMEM ? TC_ENOMEM : TC_EIO;
}

static void s_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int s_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    return s_err(mdb_put(txn, dbi, &key, &val, 0), "write");
}

static int s_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t v)
{
    uint8_t b[8];
    s_be64(b, v);
    return s_put(txn, dbi, name, strlen(name), b, sizeof b);
}

/* Reads meta `name` into *v; leaves it alone if absent. */
static int s_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *v)
{
    MDB_val key = {strlen(name), (void *)name}, val;
    int rc = mdb_get(txn, dbi, &key, &val);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return s_err(rc, "read");
    if (val.mv_size != 8)
        return TC_EDECODE;
    *v = s_get64(val.mv_data);
    return 0;
}

int tc_sp_store_open(const char *dir, tc_sp_store_t **out)
{
    *out = NULL;
    if (tc_mkdir_p(dir) != 0) {
        tc_error("cannot create the state directory %s", dir);
        return TC_ESYS;
    }
    tc_sp_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return TC_ENOMEM;
    int rc = s_err(mdb_env_create(&self->env), "create");
    if (rc)
        goto fail_alloc;
    mdb_env_set_maxdbs(self->env, 8);
    mdb_env_set_mapsize(self->env, S_MAP_SIZE);
    rc = mdb_env_open(self->env, dir, 0, 0640);
    if (rc) {
        tc_error("cannot open the state store in %s: %s", dir, mdb_strerror(rc));
        rc = TC_EIO;
        goto fail_env;
    }
    MDB_txn *txn;
    if ((rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn), "begin")) != 0)
        goto fail_env;
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {{"meta", &self->meta},         {"components", &self->comps},
               {"history", &self->history},   {"updates", &self->updates},
               {"resolved", &self->resolved}, {"maints", &self->maints}};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        if ((rc = s_err(mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi), "open")) != 0)
            goto fail_txn;
    uint64_t format = 0;
    if ((rc = s_get_u64(txn, self->meta, "format", &format)) != 0)
        goto fail_txn;
    if (format == 0) {
        if ((rc = s_put_u64(txn, self->meta, "format", S_FORMAT)) != 0)
            goto fail_txn;
    } else if (format != S_FORMAT) {
        tc_error("the state store in %s has format %llu; this version reads %u", dir,
                 (unsigned long long)format, S_FORMAT);
        rc = TC_ECONFIG;
        goto fail_txn;
    }
    if ((rc = s_err(mdb_txn_commit(txn), "commit")) != 0)
        goto fail_env;
    *out = self;
    return 0;

fail_txn:
    mdb_txn_abort(txn);
fail_env:
    mdb_env_close(self->env);
fail_alloc:
    free(self);
    return rc;
}

void tc_sp_store_destroy(tc_sp_store_t **pself)
{
    if (!pself || !*pself)
        return;
    mdb_env_close((*pself)->env);
    free(*pself);
    *pself = NULL;
}

/* Calls `fn` for every record of `dbi` in key order. */
typedef int(s_each_fn)(tc_sp_state_t *state, const MDB_val *k, const MDB_val *v);

static int s_each(MDB_txn *txn, MDB_dbi dbi, tc_sp_state_t *state, s_each_fn *fn)
{
    MDB_cursor *cur;
    int rc = s_err(mdb_cursor_open(txn, dbi, &cur), "cursor");
    if (rc)
        return rc;
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (mrc == 0 && rc == 0) {
        rc = fn(state, &k, &v);
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = s_err(mrc, "read");
    return rc;
}

static int s_decode(const void *p, size_t n, tc_msg_t *m)
{
    int rc = tc_wire_decode_msg(p, n, m);
    if (rc == 0 && m->kind != TC_MSG_BROADCAST)
        rc = TC_EDECODE;
    if (rc)
        tc_error("state store: a damaged record (%s)", tc_strerror(rc));
    return rc;
}

static int s_load_comp(tc_sp_state_t *state, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    if (v->mv_size < 8)
        return TC_EDECODE;
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    int rc = s_decode((const uint8_t *)v->mv_data + 8, v->mv_size - 8, m);
    if (rc == 0)
        rc = tc_sp_state_restore_component(state, &m->u.bcast.component,
                                           (int64_t)s_get64(v->mv_data));
    free(m);
    return rc;
}

static int s_load_change(tc_sp_state_t *state, const MDB_val *k, const MDB_val *v)
{
    const char *key = k->mv_data;
    size_t nlen = strnlen(key, k->mv_size);
    if (nlen + 9 != k->mv_size || v->mv_size != 1 || nlen >= TC_ID_MAX)
        return TC_EDECODE;
    char name[TC_ID_MAX];
    memcpy(name, key, nlen);
    name[nlen] = 0;
    tc_sp_change_t ch = {.ms = (int64_t)s_get64((const uint8_t *)key + nlen + 1),
                         .status = *(const uint8_t *)v->mv_data};
    return tc_sp_state_restore_change(state, name, ch);
}

static int s_load_msg(tc_sp_state_t *state, const MDB_val *k, const MDB_val *v)
{
    (void)k;
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    tc_sp_applied_t a;
    int rc = s_decode(v->mv_data, v->mv_size, m);
    if (rc == 0)
        rc = tc_sp_state_apply(state, m, &a);
    free(m);
    return rc;
}

static int s_load_resolved(tc_sp_state_t *state, const MDB_val *k, const MDB_val *v)
{
    if (k->mv_size != 8 || v->mv_size != 8)
        return TC_EDECODE;
    tc_msg_t *m = calloc(1, sizeof *m);
    if (!m)
        return TC_ENOMEM;
    m->kind = TC_MSG_BROADCAST;
    m->u.bcast.kind = TC_BCAST_INCIDENT_RESOLVED;
    m->u.bcast.incident.id = s_get64(k->mv_data);
    m->u.bcast.incident.resolved_ms = (int64_t)s_get64(v->mv_data);
    m->time_ms = m->u.bcast.incident.resolved_ms;
    tc_sp_applied_t a;
    int rc = tc_sp_state_apply(state, m, &a);
    free(m);
    return rc;
}

int tc_sp_store_load(tc_sp_store_t *self, tc_sp_state_t *state)
{
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn), "begin");
    if (rc)
        return rc;
    uint64_t cursor = 0, contact = 0;
    if ((rc = s_get_u64(txn, self->meta, "cursor", &cursor)) != 0 ||
        (rc = s_get_u64(txn, self->meta, "contact", &contact)) != 0)
        goto done;
    tc_sp_state_set_cursor(state, cursor);
    tc_sp_state_set_contact(state, (int64_t)contact);
    /* Windows before updates, so a window's updates find their window;
     * updates before resolutions, which apply only to public incidents. */
    if ((rc = s_each(txn, self->comps, state, s_load_comp)) != 0 ||
        (rc = s_each(txn, self->history, state, s_load_change)) != 0 ||
        (rc = s_each(txn, self->maints, state, s_load_msg)) != 0 ||
        (rc = s_each(txn, self->updates, state, s_load_msg)) != 0 ||
        (rc = s_each(txn, self->resolved, state, s_load_resolved)) != 0)
        goto done;
done:
    mdb_txn_abort(txn);
    return rc;
}

static int s_put_msg(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, const uint8_t *prefix,
                     size_t plen, const tc_msg_t *m)
{
    uint8_t *enc = NULL;
    size_t n = 0;
    int rc = tc_wire_encode_msg(m, &enc, &n);
    if (rc)
        return rc;
    uint8_t *buf = malloc(plen + n);
    if (!buf) {
        free(enc);
        return TC_ENOMEM;
    }
    if (plen)
        memcpy(buf, prefix, plen);
    memcpy(buf + plen, enc, n);
    rc = s_put(txn, dbi, k, klen, buf, plen + n);
    free(buf);
    free(enc);
    return rc;
}

/* Writes the component `name` as the state now has it, and its newest
 * status change if `a` recorded one. */
static int s_write_component(tc_sp_store_t *self, MDB_txn *txn, const tc_sp_state_t *state,
                             const char *name, const tc_sp_applied_t *a)
{
    const tc_sp_component_t *sc = tc_sp_state_find_component(state, name);
    if (!sc)
        return 0;
    tc_msg_t *m = calloc(1, sizeof *m);
    if (!m)
        return TC_ENOMEM;
    m->version = TC_PROTOCOL_VERSION;
    snprintf(m->sender, sizeof m->sender, "%s", TC_COORDINATOR_ID);
    m->kind = TC_MSG_BROADCAST;
    m->time_ms = sc->c.changed_ms;
    m->u.bcast.kind = TC_BCAST_COMPONENT;
    snprintf(m->u.bcast.topic, sizeof m->u.bcast.topic, "component.updated");
    m->u.bcast.component = sc->c;
    uint8_t created[8];
    s_be64(created, (uint64_t)sc->created_ms);
    int rc = s_put_msg(txn, self->comps, name, strlen(name), created, 8, m);
    free(m);
    if (rc == 0 && a->history) {
        size_t nlen = strlen(name);
        uint8_t key[TC_ID_MAX + 9];
        memcpy(key, name, nlen + 1);
        s_be64(key + nlen + 1, (uint64_t)a->change.ms);
        uint8_t st = (uint8_t)a->change.status;
        rc = s_put(txn, self->history, key, nlen + 9, &st, 1);
    }
    return rc;
}

static int s_write(tc_sp_store_t *self, MDB_txn *txn, const tc_sp_state_t *state, const tc_msg_t *m,
                   const tc_sp_applied_t *a)
{
    const tc_broadcast_t *b = &m->u.bcast;
    switch (a->kind) {
    case TC_SP_COMPONENT: return s_write_component(self, txn, state, b->component.name, a);
    case TC_SP_UPDATE: {
        uint8_t key[20];
        s_be64(key, b->update.incident);
        s_be64(key + 8, b->update.maintenance);
        for (int i = 0; i < 4; i++)
            key[16 + i] = (uint8_t)(b->update.number >> (24 - 8 * i));
        return s_put_msg(txn, self->updates, key, sizeof key, NULL, 0, m);
    }
    case TC_SP_MAINT: {
        uint8_t key[8];
        s_be64(key, b->maint.id);
        return s_put_msg(txn, self->maints, key, sizeof key, NULL, 0, m);
    }
    case TC_SP_RESOLVED: {
        uint8_t key[8], val[8];
        s_be64(key, a->id);
        s_be64(val, (uint64_t)a->ms);
        return s_put(txn, self->resolved, key, 8, val, 8);
    }
    default: return 0;
    }
}

int tc_sp_store_apply(tc_sp_store_t *self, tc_sp_state_t *state, const tc_msg_t *m,
                      int64_t contact_ms, bool *changed)
{
    *changed = false;
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn), "begin");
    if (rc)
        return rc;
    tc_sp_applied_t a;
    if ((rc = tc_sp_state_apply(state, m, &a)) != 0 || (rc = s_write(self, txn, state, m, &a)) ||
        (rc = s_put_u64(txn, self->meta, "cursor", m->seq)) != 0 ||
        (rc = s_put_u64(txn, self->meta, "contact", (uint64_t)contact_ms)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = s_err(mdb_txn_commit(txn), "commit")) != 0)
        return rc;
    tc_sp_state_set_cursor(state, m->seq);
    tc_sp_state_set_contact(state, contact_ms);
    *changed = a.kind != TC_SP_NOTHING;
    return 0;
}

int tc_sp_store_merge_components(tc_sp_store_t *self, tc_sp_state_t *state,
                                 const tc_component_t *cs, size_t n, int64_t now_ms, bool *changed)
{
    *changed = false;
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn), "begin");
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        tc_sp_applied_t a;
        rc = tc_sp_state_merge_component(state, &cs[i], now_ms, &a);
        if (rc == 0 && a.kind != TC_SP_NOTHING) {
            *changed = true;
            rc = s_write_component(self, txn, state, cs[i].name, &a);
        }
    }
    if (rc == 0)
        rc = s_put_u64(txn, self->meta, "contact", (uint64_t)now_ms);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = s_err(mdb_txn_commit(txn), "commit")) != 0)
        return rc;
    tc_sp_state_set_contact(state, now_ms);
    return 0;
}

int tc_sp_store_save_contact(tc_sp_store_t *self, int64_t contact_ms)
{
    MDB_txn *txn;
    int rc = s_err(mdb_txn_begin(self->env, NULL, 0, &txn), "begin");
    if (rc)
        return rc;
    if ((rc = s_put_u64(txn, self->meta, "contact", (uint64_t)contact_ms)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return s_err(mdb_txn_commit(txn), "commit");
}
