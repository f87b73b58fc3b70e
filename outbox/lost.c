/*
 * lost.c - discarded transitions per check; see lost.h.
 *
 * A held record is, big-endian:
 *   u8 version (1), i8 base (-1 unknown), u32 transitions,
 *   i64 first_ms, i64 prev_ms, u16 reason length, reason,
 *   u32 latest length, latest (an encoded Envelope with seq 0)
 * where `prev_ms` is when the transition before the latest was observed
 * (0 while there is only one). The key is "service/check@host", which ids
 * cannot confuse: none may contain '/' or '@'.
 */
#include "lost.h"

#include "error.h"
#include "log.h"
#include "wire.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_MAX (3 * TC_ID_MAX + 2)
#define S_VERSION 1

typedef struct {
    char key[S_KEY_MAX];
    uint32_t n; /* transitions discarded, the latest included */
    int64_t first_ms, prev_ms, latest_ms;
    int base;   /* s_state() of the last event spooled, -1 unknown */
    int latest; /* s_state() of the latest */
    char reason[TC_TITLE_MAX];
    uint8_t *msg; /* the latest, encoded, seq 0 */
    size_t len;
    bool dirty; /* not written to the spool yet */
} s_rec_t;

struct tc_lost_t {
    tc_spool_t *spool;
    zhashx_t *recs; /* key -> s_rec_t */
    zhashx_t *base; /* key -> s_state() + 1, as a pointer-sized integer */
    uint64_t transitions;
};

/* What "the same state" means: the state and whether it is flapping. */
static int s_state(const tc_check_result_t *c)
{
    return (int)c->state | (c->flapping ? 4 : 0);
}

static void s_key(char *key, const tc_check_result_t *c)
{
    snprintf(key, S_KEY_MAX, "%s/%s@%s", c->service, c->check, c->host);
}

static void s_rec_free(void **item)
{
    s_rec_t *r = *item;
    if (r) {
        free(r->msg);
        free(r);
    }
    *item = NULL;
}

static void s_put(uint8_t **p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        (*p)[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    *p += bytes;
}

static uint64_t s_get(const uint8_t **p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | (*p)[i];
    *p += bytes;
    return v;
}

/* Writes `r` to the spool; clears r->dirty when that worked. */
static int s_store(tc_lost_t *l, s_rec_t *r)
{
    size_t rlen = strlen(r->reason);
    size_t len = 1 + 1 + 4 + 8 + 8 + 2 + rlen + 4 + r->len;
    uint8_t *buf = malloc(len), *p = buf;
    if (!buf)
        return TC_ENOMEM;
    *p++ = S_VERSION;
    *p++ = (uint8_t)(int8_t)r->base;
    s_put(&p, r->n, 4);
    s_put(&p, (uint64_t)r->first_ms, 8);
    s_put(&p, (uint64_t)r->prev_ms, 8);
    s_put(&p, rlen, 2);
    memcpy(p, r->reason, rlen);
    p += rlen;
    s_put(&p, r->len, 4);
    memcpy(p, r->msg, r->len);
    int rc = tc_spool_hold(l->spool, r->key, buf, len);
    free(buf);
    if (rc == 0)
        r->dirty = false;
    return rc;
}

static int s_load_one(const char *key, const uint8_t *data, size_t len, void *arg)
{
    tc_lost_t *l = arg;
    const uint8_t *p = data, *end = data + len;
    s_rec_t *r = calloc(1, sizeof *r);
    tc_msg_t *m = malloc(sizeof *m);
    if (!r || !m) {
        free(r);
        free(m);
        return TC_ENOMEM;
    }
    if (len < 28 || p[0] != S_VERSION)
        goto bad;
    p++;
    r->base = (int8_t)*p++;
    r->n = (uint32_t)s_get(&p, 4);
    r->first_ms = (int64_t)s_get(&p, 8);
    r->prev_ms = (int64_t)s_get(&p, 8);
    size_t rlen = (size_t)s_get(&p, 2);
    if (rlen >= sizeof r->reason || (size_t)(end - p) < rlen + 4)
        goto bad;
    memcpy(r->reason, p, rlen);
    p += rlen;
    r->len = (size_t)s_get(&p, 4);
    if ((size_t)(end - p) != r->len || r->n == 0)
        goto bad;
    if (tc_wire_decode_msg(p, r->len, m) != 0 || m->kind != TC_MSG_CHECK_RESULT)
        goto bad;
    r->msg = malloc(r->len ? r->len : 1);
    if (!r->msg)
        goto bad;
    memcpy(r->msg, p, r->len);
    r->latest = s_state(&m->u.check);
    r->latest_ms = m->time_ms;
    snprintf(r->key, sizeof r->key, "%s", key);
    zhashx_update(l->recs, r->key, r);
    l->transitions += r->n;
    free(m);
    return 0;
bad:
    tc_error("spool %s: dropping an unreadable record of lost events (%s)", tc_spool_dir(l->spool),
             key);
    free(r->msg);
    free(r);
    free(m);
    return 0;
}

int tc_lost_new(tc_spool_t *spool, tc_lost_t **out)
{
    *out = NULL;
    tc_lost_t *l = calloc(1, sizeof *l);
    if (!l)
        return TC_ENOMEM;
    l->spool = spool;
    l->recs = zhashx_new();
    l->base = zhashx_new();
    if (!l->recs || !l->base) {
        tc_lost_destroy(&l);
        return TC_ENOMEM;
    }
    zhashx_set_destructor(l->recs, s_rec_free);
    int rc = tc_spool_held_foreach(spool, s_load_one, l);
    if (rc != 0) {
        tc_lost_destroy(&l);
        return rc;
    }
    *out = l;
    return 0;
}

void tc_lost_destroy(tc_lost_t **plost)
{
    if (!plost || !*plost)
        return;
    tc_lost_t *l = *plost;
    zhashx_destroy(&l->recs);
    zhashx_destroy(&l->base);
    free(l);
    *plost = NULL;
}

void tc_lost_spooled(tc_lost_t *l, const tc_msg_t *m)
{
    if (m->kind != TC_MSG_CHECK_RESULT)
        return;
    char key[S_KEY_MAX];
    s_key(key, &m->u.check);
    zhashx_update(l->base, key, (void *)(intptr_t)(s_state(&m->u.check) + 1));
}

bool tc_lost_has(const tc_lost_t *l, const tc_msg_t *m)
{
    if (m->kind != TC_MSG_CHECK_RESULT || zhashx_size(l->recs) == 0)
        return false;
    char key[S_KEY_MAX];
    s_key(key, &m->u.check);
    return zhashx_lookup(l->recs, key) != NULL;
}

int tc_lost_add(tc_lost_t *l, const tc_msg_t *m, const char *reason, bool *durable)
{
    if (durable)
        *durable = false;
    if (m->kind != TC_MSG_CHECK_RESULT)
        return TC_EINVAL;
    char key[S_KEY_MAX];
    s_key(key, &m->u.check);
    s_rec_t *r = zhashx_lookup(l->recs, key);
    if (r && r->latest == s_state(&m->u.check)) {
        /* The same state again (a restarted agent reports its first hard
         * state): no transition; the earlier event has its true time. */
        if (durable)
            *durable = !r->dirty || s_store(l, r) == 0;
        return 0;
    }
    tc_msg_t copy = *m;
    copy.seq = 0; /* numbered when it is released into the spool */
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_msg(&copy, &buf, &len) != 0)
        return TC_ENOMEM;
    if (r) {
        if (r->n < UINT32_MAX)
            r->n++;
        r->prev_ms = r->latest_ms;
        free(r->msg);
    } else {
        r = calloc(1, sizeof *r);
        if (!r) {
            free(buf);
            return TC_ENOMEM;
        }
        snprintf(r->key, sizeof r->key, "%s", key);
        r->n = 1;
        r->first_ms = m->time_ms;
        intptr_t b = (intptr_t)zhashx_lookup(l->base, key);
        r->base = b ? (int)b - 1 : -1;
        snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "spool full");
        zhashx_update(l->recs, key, r);
    }
    l->transitions++;
    r->msg = buf;
    r->len = len;
    r->latest = s_state(&m->u.check);
    r->latest_ms = m->time_ms;
    r->dirty = true;
    if (s_store(l, r) == 0 && durable)
        *durable = true;
    return 0;
}

static int s_by_first(const void *a, const void *b)
{
    const s_rec_t *x = *(s_rec_t *const *)a, *y = *(s_rec_t *const *)b;
    if (x->first_ms != y->first_ms)
        return x->first_ms < y->first_ms ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The events `r` becomes, into m[0..2), decoding its latest state into
 * `latest` (scratch); returns how many. */
static size_t s_events(const s_rec_t *r, tc_msg_t *m, tc_msg_t *latest)
{
    /* The latest is sent unless the coordinator already has that state;
     * then it, too, only stands for transitions that are gone. */
    bool send_latest = r->base < 0 || r->base != r->latest;
    uint32_t lost = send_latest ? r->n - 1 : r->n;
    size_t k = 0;
    if (tc_wire_decode_msg(r->msg, r->len, latest) != 0 || latest->kind != TC_MSG_CHECK_RESULT) {
        tc_error("dropping an undecodable latest state of %s", r->key);
        send_latest = false;
        lost = r->n;
        /* Without the latest only the key names the check. */
        memset(latest, 0, sizeof *latest);
        latest->version = TC_PROTOCOL_VERSION;
        sscanf(r->key, "%63[^/]/%63[^@]@%63s", latest->u.check.service, latest->u.check.check,
               latest->u.check.host);
        snprintf(latest->sender, sizeof latest->sender, "%s", latest->u.check.host);
    }
    if (lost >= 1) {
        tc_msg_t *e = &m[k++];
        memset(e, 0, sizeof *e);
        e->version = latest->version;
        snprintf(e->sender, sizeof e->sender, "%s", latest->sender);
        e->kind = TC_MSG_EVENTS_LOST;
        tc_events_lost_t *el = &e->u.lost;
        snprintf(el->check, sizeof el->check, "%s", latest->u.check.check);
        snprintf(el->service, sizeof el->service, "%s", latest->u.check.service);
        snprintf(el->host, sizeof el->host, "%s", latest->u.check.host);
        el->transitions = lost;
        el->first_ms = r->first_ms;
        el->last_ms = send_latest ? r->prev_ms : r->latest_ms;
        if (el->last_ms < el->first_ms) /* the wall clock went back */
            el->last_ms = el->first_ms;
        snprintf(el->reason, sizeof el->reason, "%s", r->reason);
        /* The event time of what was lost: its last transition. */
        e->time_ms = el->last_ms;
    }
    if (send_latest)
        m[k++] = *latest;
    return k;
}

int tc_lost_release(tc_lost_t *l, size_t *released, size_t *spooled)
{
    size_t nrel = 0, nev = 0, n = zhashx_size(l->recs);
    if (released)
        *released = 0;
    if (spooled)
        *spooled = 0;
    if (n == 0)
        return 0;
    s_rec_t **order = calloc(n, sizeof *order);
    tc_msg_t *m = malloc(2 * sizeof *m), *latest = malloc(sizeof *latest);
    int rc = 0;
    if (!order || !m || !latest) {
        rc = TC_ENOMEM;
        goto done;
    }
    size_t i = 0;
    for (s_rec_t *r = zhashx_first(l->recs); r && i < n; r = zhashx_next(l->recs))
        order[i++] = r;
    qsort(order, n, sizeof *order, s_by_first);
    for (i = 0; i < n; i++) {
        s_rec_t *r = order[i];
        if (rc != 0) {
            /* No room yet: at least make sure it survives a restart. */
            if (r->dirty && rc == TC_EFULL)
                s_store(l, r);
            continue;
        }
        size_t k = s_events(r, m, latest);
        rc = tc_spool_release(l->spool, r->key, m, k);
        if (rc != 0) {
            if (r->dirty && rc == TC_EFULL)
                s_store(l, r);
            continue;
        }
        nrel++;
        nev += k;
        const tc_msg_t *last = k ? &m[k - 1] : NULL;
        int base = last && last->kind == TC_MSG_CHECK_RESULT ? r->latest : r->base;
        if (base >= 0)
            zhashx_update(l->base, r->key, (void *)(intptr_t)(base + 1));
        l->transitions -= r->n;
        zhashx_delete(l->recs, r->key);
    }
done:
    free(order);
    free(m);
    free(latest);
    if (released)
        *released = nrel;
    if (spooled)
        *spooled = nev;
    if (rc == 0 && zhashx_size(l->recs) > 0)
        rc = TC_EFULL;
    return rc;
}

size_t tc_lost_checks(const tc_lost_t *l)
{
    return zhashx_size(l->recs);
}

uint64_t tc_lost_transitions(const tc_lost_t *l)
{
    return l->transitions;
}

size_t tc_lost_volatile(const tc_lost_t *l)
{
    size_t n = 0;
    for (s_rec_t *r = zhashx_first(l->recs); r; r = zhashx_next(l->recs))
        n += r->dirty;
    return n;
}
