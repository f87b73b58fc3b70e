/*
 * sp_store.c - the status page's LMDB store; see sp_store.h.
 *
 * Every write goes through tc_lmdb_write(), which may run the transaction
 * more than once (after growing the map), so the state is changed first
 * and the transaction only copies what the state now holds.
 */
#include "sp_store.h"

#include "error.h"
#include "lmdb_env.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FORMAT 1u
#define S_MAP_SIZE ((size_t)8 << 20) /* grows as needed */

struct tc_sp_store {
    tc_lmdb_t *env;
    MDB_dbi meta, comps, positions, history, updates, resolved, maints;
    bool broken; /* a write failed: reopen before the next one */
    char why[512];
};

static void s_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void s_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static uint32_t s_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int s_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    return mdb_put(txn, dbi, &key, &val, 0);
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
        return rc;
    if (val.mv_size != 8)
        return TC_EDECODE;
    *v = s_get64(val.mv_data);
    return 0;
}

/* Opens the databases (creating them if `create`) and checks the format. */
static int s_open_dbs(tc_sp_store_t *self, bool create)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(tc_lmdb_env(self->env), NULL, create ? 0 : MDB_RDONLY, &txn);
    if (rc)
        return tc_lmdb_error(self->env, rc, "cannot open the status page state", self->why,
                             sizeof self->why);
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {{"meta", &self->meta},           {"components", &self->comps},
               {"positions", &self->positions}, {"history", &self->history},
               {"updates", &self->updates},     {"resolved", &self->resolved},
               {"maints", &self->maints}};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0] && rc == 0; i++)
        rc = mdb_dbi_open(txn, dbs[i].name, create ? MDB_CREATE : 0, dbs[i].dbi);
    uint64_t format = 0;
    if (rc == 0)
        rc = s_get_u64(txn, self->meta, "format", &format);
    if (rc == 0 && format == 0 && create)
        rc = s_put_u64(txn, self->meta, "format", S_FORMAT);
    else if (rc == 0 && format != S_FORMAT && (create || format != 0)) {
        snprintf(self->why, sizeof self->why,
                 "the status page state in %s has format %llu; this version reads %u",
                 tc_lmdb_dir(self->env), (unsigned long long)format, S_FORMAT);
        mdb_txn_abort(txn);
        return TC_ECONFIG;
    }
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    return rc ? tc_lmdb_error(self->env, rc, "cannot open the status page state", self->why,
                              sizeof self->why)
              : 0;
}

int tc_sp_store_open(const char *dir, tc_sp_store_t **out, char *why, size_t whylen)
{
    *out = NULL;
    tc_sp_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(why, why ? whylen : 0, "out of memory");
        return TC_ENOMEM;
    }
    tc_lmdb_config_t cfg = {.dir = dir,
                            .what = "status page state",
                            .lock_file = "statuspage.lock",
                            .map_size = S_MAP_SIZE,
                            .max_dbs = 8};
    int rc = tc_lmdb_open(&cfg, &self->env, self->why, sizeof self->why);
    if (rc == 0)
        rc = s_open_dbs(self, true);
    if (rc) {
        if (why)
            snprintf(why, whylen, "%s", self->why);
        tc_sp_store_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

void tc_sp_store_destroy(tc_sp_store_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_lmdb_destroy(&(*pself)->env);
    free(*pself);
    *pself = NULL;
}

const char *tc_sp_store_why(const tc_sp_store_t *self)
{
    return self->why;
}

/* ---- loading --------------------------------------------------------------- */

/* Calls `fn` for every record of `dbi` in key order. */
typedef int(s_each_fn)(tc_sp_store_t *self, MDB_txn *txn, tc_sp_state_t *state, const MDB_val *k,
                       const MDB_val *v);

static int s_each(tc_sp_store_t *self, MDB_txn *txn, MDB_dbi dbi, tc_sp_state_t *state,
                  s_each_fn *fn)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (mrc == 0 && rc == 0) {
        rc = fn(self, txn, state, &k, &v);
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = mrc;
    return rc;
}

static int s_decode(const void *p, size_t n, tc_msg_t *m)
{
    int rc = tc_wire_decode_msg(p, n, m);
    if (rc == 0 && m->kind != TC_MSG_BROADCAST)
        rc = TC_EDECODE;
    if (rc)
        tc_error("status page state: a damaged record (%s)", tc_strerror(rc));
    return rc;
}

static int s_load_comp(tc_sp_store_t *self, MDB_txn *txn, tc_sp_state_t *state, const MDB_val *k,
                       const MDB_val *v)
{
    if (v->mv_size < 8)
        return TC_EDECODE;
    uint32_t position = 0;
    MDB_val pv;
    int rc = mdb_get(txn, self->positions, (MDB_val *)k, &pv);
    if (rc == 0 && pv.mv_size == 4)
        position = s_get32(pv.mv_data);
    else if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    tc_msg_t *m = malloc(sizeof *m);
    if (!m)
        return TC_ENOMEM;
    rc = s_decode((const uint8_t *)v->mv_data + 8, v->mv_size - 8, m);
    if (rc == 0)
        rc = tc_sp_state_restore_component(state, &m->u.bcast.component,
                                           (int64_t)s_get64(v->mv_data), position);
    free(m);
    return rc;
}

static int s_load_change(tc_sp_store_t *self, MDB_txn *txn, tc_sp_state_t *state, const MDB_val *k,
                         const MDB_val *v)
{
    (void)self;
    (void)txn;
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

static int s_load_msg(tc_sp_store_t *self, MDB_txn *txn, tc_sp_state_t *state, const MDB_val *k,
                      const MDB_val *v)
{
    (void)self;
    (void)txn;
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

static int s_load_resolved(tc_sp_store_t *self, MDB_txn *txn, tc_sp_state_t *state,
                           const MDB_val *k, const MDB_val *v)
{
    (void)self;
    (void)txn;
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

/* After a failed write LMDB may refuse every transaction until the
 * environment is opened again. */
static int s_mend(tc_sp_store_t *self)
{
    if (!self->broken)
        return 0;
    int rc = tc_lmdb_reopen(self->env, self->why, sizeof self->why);
    if (rc == 0)
        rc = s_open_dbs(self, false);
    if (rc == 0)
        self->broken = false;
    return rc;
}

int tc_sp_store_load(tc_sp_store_t *self, tc_sp_state_t *state)
{
    self->why[0] = 0;
    int rc = s_mend(self);
    if (rc)
        return rc;
    MDB_txn *txn;
    rc = mdb_txn_begin(tc_lmdb_env(self->env), NULL, MDB_RDONLY, &txn);
    if (rc)
        return tc_lmdb_error(self->env, rc, "cannot read the status page state", self->why,
                             sizeof self->why);
    uint64_t cursor = 0, contact = 0;
    if ((rc = s_get_u64(txn, self->meta, "cursor", &cursor)) != 0 ||
        (rc = s_get_u64(txn, self->meta, "contact", &contact)) != 0)
        goto done;
    tc_sp_state_set_cursor(state, cursor);
    tc_sp_state_set_contact(state, (int64_t)contact);
    /* Windows before updates, so a window's updates find their window;
     * updates before resolutions, which apply only to public incidents.
     * Re-applying them records no history: the history of the shown
     * statuses comes from the saved rows alone. */
    tc_sp_state_set_loading(state, true);
    if ((rc = s_each(self, txn, self->comps, state, s_load_comp)) != 0 ||
        (rc = s_each(self, txn, self->history, state, s_load_change)) != 0 ||
        (rc = s_each(self, txn, self->maints, state, s_load_msg)) != 0 ||
        (rc = s_each(self, txn, self->updates, state, s_load_msg)) != 0 ||
        (rc = s_each(self, txn, self->resolved, state, s_load_resolved)) != 0)
        goto done;
done:
    mdb_txn_abort(txn);
    tc_sp_state_set_loading(state, false);
    if (rc > 0)
        rc = tc_lmdb_error(self->env, rc, "cannot read the status page state", self->why,
                           sizeof self->why);
    return rc;
}

/* ---- writing ---------------------------------------------------------------- */

/* The history length of each component before a change, by name. */
typedef struct {
    char name[TC_ID_MAX];
    size_t n;
} s_count_t;

/* What one write transaction copies from the state. */
typedef struct {
    tc_sp_store_t *self;
    const tc_sp_state_t *state;
    const tc_msg_t *m;        /* the broadcast behind the change, or NULL */
    const tc_sp_applied_t *a; /* what it changed, or NULL */
    bool components;          /* write every component record and position */
    const s_count_t *before;  /* history lengths before the change */
    size_t nbefore;
    uint64_t cursor; /* 0: leave it */
    int64_t contact;
} s_write_t;

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

/* Writes component `sc` as the state now has it, with its position. */
static int s_write_component(tc_sp_store_t *self, MDB_txn *txn, const tc_sp_component_t *sc)
{
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
    const char *name = sc->c.name;
    int rc = s_put_msg(txn, self->comps, name, strlen(name), created, 8, m);
    free(m);
    if (rc == 0 && sc->position) {
        uint8_t pos[4];
        s_be32(pos, sc->position);
        rc = s_put(txn, self->positions, name, strlen(name), pos, 4);
    }
    return rc;
}

static size_t s_before(const s_write_t *w, const char *name)
{
    for (size_t i = 0; i < w->nbefore; i++)
        if (!strcmp(w->before[i].name, name))
            return w->before[i].n;
    return 0;
}

/* The history rows the change added, for every component. */
static int s_write_history(const s_write_t *w, MDB_txn *txn)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < tc_sp_state_ncomponents(w->state); i++) {
        const tc_sp_component_t *sc = tc_sp_state_component(w->state, i);
        size_t nlen = strlen(sc->c.name);
        for (size_t h = s_before(w, sc->c.name); rc == 0 && h < sc->nhistory; h++) {
            uint8_t key[TC_ID_MAX + 9];
            memcpy(key, sc->c.name, nlen + 1);
            s_be64(key + nlen + 1, (uint64_t)sc->history[h].ms);
            uint8_t st = (uint8_t)sc->history[h].status;
            rc = s_put(txn, w->self->history, key, nlen + 9, &st, 1);
        }
    }
    return rc;
}

static int s_write_change(const s_write_t *w, MDB_txn *txn)
{
    const tc_broadcast_t *b = &w->m->u.bcast;
    tc_sp_store_t *self = w->self;
    switch (w->a->kind) {
    case TC_SP_UPDATE: {
        uint8_t key[20];
        s_be64(key, b->update.incident);
        s_be64(key + 8, b->update.maintenance);
        s_be32(key + 16, b->update.number);
        return s_put_msg(txn, self->updates, key, sizeof key, NULL, 0, w->m);
    }
    case TC_SP_MAINT: {
        uint8_t key[12];
        s_be64(key, w->a->id);
        s_be32(key + 8, w->a->occurrence);
        return s_put_msg(txn, self->maints, key, sizeof key, NULL, 0, w->m);
    }
    case TC_SP_RESOLVED: {
        uint8_t key[8], val[8];
        s_be64(key, w->a->id);
        s_be64(val, (uint64_t)w->a->ms);
        return s_put(txn, self->resolved, key, 8, val, 8);
    }
    default: return 0;
    }
}

/* tc_lmdb_txn_fn: copies what `arg` (an s_write_t) names. */
static int s_write_fn(MDB_txn *txn, void *arg)
{
    const s_write_t *w = arg;
    int rc = 0;
    if (w->m && w->a)
        rc = s_write_change(w, txn);
    for (size_t i = 0; rc == 0 && w->components && i < tc_sp_state_ncomponents(w->state); i++)
        rc = s_write_component(w->self, txn, tc_sp_state_component(w->state, i));
    if (rc == 0 && w->before)
        rc = s_write_history(w, txn);
    if (rc == 0 && w->cursor)
        rc = s_put_u64(txn, w->self->meta, "cursor", w->cursor);
    if (rc == 0)
        rc = s_put_u64(txn, w->self->meta, "contact", (uint64_t)w->contact);
    return rc;
}

/* Runs one write, reopening the environment first if the last one
 * failed. */
static int s_write(tc_sp_store_t *self, s_write_t *w)
{
    self->why[0] = 0;
    int rc = s_mend(self);
    if (rc)
        return rc;
    rc = tc_lmdb_write(self->env, s_write_fn, w, self->why, sizeof self->why);
    if (rc && rc != TC_ENOMEM)
        self->broken = true;
    return rc;
}

/* Takes the history lengths of every component, before a change. Caller
 * frees *out. */
static int s_counts(const tc_sp_state_t *state, s_count_t **out, size_t *n)
{
    *n = tc_sp_state_ncomponents(state);
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return TC_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        const tc_sp_component_t *sc = tc_sp_state_component(state, i);
        memcpy((*out)[i].name, sc->c.name, sizeof(*out)[i].name);
        (*out)[i].n = sc->nhistory;
    }
    return 0;
}

int tc_sp_store_apply(tc_sp_store_t *self, tc_sp_state_t *state, const tc_msg_t *m,
                      int64_t contact_ms, bool *changed)
{
    *changed = false;
    s_count_t *before;
    size_t nbefore;
    if (s_counts(state, &before, &nbefore) != 0)
        return TC_ENOMEM;
    tc_sp_applied_t a;
    int rc = tc_sp_state_apply(state, m, &a);
    if (rc == 0) {
        s_write_t w = {.self = self,
                       .state = state,
                       .m = m,
                       .a = &a,
                       .components = a.kind == TC_SP_COMPONENT,
                       .before = before,
                       .nbefore = nbefore,
                       .cursor = m->seq,
                       .contact = contact_ms};
        rc = s_write(self, &w);
    }
    free(before);
    if (rc)
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
    s_count_t *before;
    size_t nbefore;
    if (s_counts(state, &before, &nbefore) != 0)
        return TC_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        tc_sp_applied_t a;
        rc = tc_sp_state_merge_component(state, &cs[i], (uint32_t)(i + 1), now_ms, &a);
        *changed = *changed || a.kind != TC_SP_NOTHING;
    }
    if (rc == 0) {
        s_write_t w = {.self = self,
                       .state = state,
                       .components = *changed,
                       .before = before,
                       .nbefore = nbefore,
                       .contact = now_ms};
        rc = s_write(self, &w);
    }
    free(before);
    if (rc)
        return rc;
    tc_sp_state_set_contact(state, now_ms);
    return 0;
}

int tc_sp_store_save_contact(tc_sp_store_t *self, int64_t contact_ms)
{
    s_write_t w = {.self = self, .contact = contact_ms};
    return s_write(self, &w);
}
