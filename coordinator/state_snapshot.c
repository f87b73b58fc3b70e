/*
 * state_snapshot.c - the state machine's state as bytes, and back; see
 * tc_state_snapshot() in state.h.
 *
 * The encoding is canonical: every collection is written in a fixed order
 * (sorted by its key, or in configuration and id order), so two states are
 * equal exactly when their snapshots are equal byte for byte. That is what
 * makes `--verify-replay` a comparison of bytes.
 *
 * Layout: the magic "TCSNAP3\n", then sections, each a tag byte and its
 * items; integers are LEB128 varints (signed ones zig-zag), strings and
 * embedded objects a varint length and the bytes. Incidents, updates and
 * maintenance windows are embedded as their protobuf encodings (wire.h),
 * the same as they are broadcast.
 */
#include "state_impl.h"

#include "error.h"
#include "util.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

/* 2: subscribers say whether they are failing; 3: checks keep their last
 * failing output (for the external-text guard). */
#define S_MAGIC "TCSNAP3\n"

enum {
    S_HEADER = 1,
    S_CHECKS = 2,
    S_SERVICES = 3,
    S_HOSTS = 4,
    S_COMPONENTS = 5,
    S_MAINTS = 6,
    S_UPDATES = 7,
    S_SUBSCRIBERS = 8,
    S_ARCHIVE = 9,
    S_END = 10,
    /* After S_SUBSCRIBERS; snapshots written before pages were counted
     * have none (state_pages.c). */
    S_PAGERS = 11,
};

/* ---- writing ------------------------------------------------------------- */

typedef struct {
    tc_buf_t *b;
    int rc;
} s_w_t;

static void s_u(s_w_t *w, uint64_t v)
{
    if (w->rc || (w->rc = tc_buf_reserve(w->b, 10)) != 0)
        return;
    while (v >= 0x80) {
        w->b->data[w->b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->b->data[w->b->len++] = (uint8_t)v;
}

static void s_i(s_w_t *w, int64_t v)
{
    s_u(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void s_bytes(s_w_t *w, const void *p, size_t n)
{
    s_u(w, n);
    if (w->rc || (w->rc = tc_buf_reserve(w->b, n)) != 0)
        return;
    memcpy(w->b->data + w->b->len, p, n);
    w->b->len += n;
}

static void s_str(s_w_t *w, const char *s)
{
    s_bytes(w, s, strlen(s));
}

/* An object encoded by one of the wire encoders, embedded. */
typedef int(s_enc_fn)(const void *obj, uint8_t **out, size_t *len);

static void s_obj(s_w_t *w, s_enc_fn *enc, const void *obj)
{
    uint8_t *buf;
    size_t len;
    if (w->rc)
        return;
    if ((w->rc = enc(obj, &buf, &len)) != 0)
        return;
    s_bytes(w, buf, len);
    free(buf);
}

static int s_enc_incident(const void *o, uint8_t **out, size_t *len)
{
    return tc_wire_encode_incident(o, out, len);
}

static int s_enc_update(const void *o, uint8_t **out, size_t *len)
{
    return tc_wire_encode_update(o, out, len);
}

static int s_enc_maint(const void *o, uint8_t **out, size_t *len)
{
    return tc_wire_encode_maintenance(o, out, len);
}

static int s_cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of `h`, sorted; caller frees the array (not the keys). */
static const char **s_sorted_keys(zhashx_t *h, size_t *n)
{
    *n = zhashx_size(h);
    const char **keys = calloc(*n + 1, sizeof *keys);
    if (!keys)
        return NULL;
    size_t i = 0;
    for (void *v = zhashx_first(h); v; v = zhashx_next(h))
        keys[i++] = zhashx_cursor(h);
    qsort(keys, *n, sizeof *keys, s_cmp_key);
    return keys;
}

static void s_write_checks(s_w_t *w, const tc_state_t *st)
{
    size_t n;
    const char **keys = s_sorted_keys(st->checks, &n);
    if (!keys) {
        w->rc = TC_ENOMEM;
        return;
    }
    s_u(w, S_CHECKS);
    s_u(w, n);
    for (size_t i = 0; i < n; i++) {
        const tc_state__check_t *c = zhashx_lookup(st->checks, keys[i]);
        s_str(w, c->host);
        s_str(w, c->check);
        s_str(w, c->service);
        s_u(w, (uint64_t)c->state);
        s_u(w, c->users);
        s_u(w, c->flapping);
        s_str(w, c->output);
    }
    free(keys);
}

static void s_write_services(s_w_t *w, const tc_state_t *st)
{
    size_t n;
    const char **keys = s_sorted_keys(st->services, &n);
    if (!keys) {
        w->rc = TC_ENOMEM;
        return;
    }
    s_u(w, S_SERVICES);
    s_u(w, n);
    for (size_t i = 0; i < n && !w->rc; i++) {
        const tc_state__service_t *svc = zhashx_lookup(st->services, keys[i]);
        s_str(w, svc->name);
        s_u(w, svc->failing);
        s_u(w, svc->perf_users);
        s_u(w, svc->flapping);
        size_t nh;
        const char **hosts = s_sorted_keys(svc->failing_hosts, &nh);
        if (!hosts) {
            w->rc = TC_ENOMEM;
            break;
        }
        s_u(w, nh);
        for (size_t k = 0; k < nh; k++) {
            s_str(w, hosts[k]);
            s_u(w, (uintptr_t)zhashx_lookup(svc->failing_hosts, hosts[k]));
        }
        free(hosts);
        s_u(w, (svc->open ? 1u : 0u) | (svc->resolved ? 2u : 0u));
        if (svc->open)
            s_obj(w, s_enc_incident, svc->open);
        if (svc->resolved)
            s_obj(w, s_enc_incident, svc->resolved);
    }
    free(keys);
}

static void s_write_hosts(s_w_t *w, const tc_state_t *st)
{
    size_t n;
    const char **keys = s_sorted_keys(st->hosts, &n);
    if (!keys) {
        w->rc = TC_ENOMEM;
        return;
    }
    s_u(w, S_HOSTS);
    s_u(w, n);
    for (size_t i = 0; i < n; i++) {
        const tc_state_host_t *h = zhashx_lookup(st->hosts, keys[i]);
        s_str(w, h->host);
        s_u(w, h->up);
        s_u(w, h->heartbeat_ms);
        s_i(w, h->changed_ms);
    }
    free(keys);
}

static void s_write_comms(s_w_t *w, const tc_state_t *st)
{
    s_u(w, S_COMPONENTS);
    s_u(w, st->ncomponents);
    for (size_t i = 0; i < st->ncomponents; i++) {
        const tc_component_t *c = &st->components[i];
        s_str(w, c->name);
        s_str(w, c->description);
        s_u(w, (uint64_t)c->status);
        s_u(w, (uint64_t)c->derived);
        s_u(w, c->overridden);
        s_i(w, c->changed_ms);
    }
    s_u(w, S_MAINTS);
    s_u(w, st->nmaints);
    for (size_t i = 0; i < st->nmaints; i++)
        s_obj(w, s_enc_maint, &st->maints[i]);
    size_t n;
    const char **keys = s_sorted_keys(st->updates, &n);
    if (!keys) {
        w->rc = TC_ENOMEM;
        return;
    }
    s_u(w, S_UPDATES);
    s_u(w, n);
    for (size_t i = 0; i < n; i++) {
        s_str(w, keys[i]);
        s_obj(w, s_enc_update, zhashx_lookup(st->updates, keys[i]));
    }
    free(keys);
    if (!(keys = s_sorted_keys(st->subscribers, &n))) {
        w->rc = TC_ENOMEM;
        return;
    }
    s_u(w, S_SUBSCRIBERS);
    s_u(w, n);
    for (size_t i = 0; i < n; i++) {
        const tc_state_subscriber_t *s = zhashx_lookup(st->subscribers, keys[i]);
        s_str(w, s->name);
        s_u(w, s->delivered);
        s_u(w, s->failed);
        s_u(w, s->latency_total_ms);
        s_i(w, s->last_ms);
        s_str(w, s->last_result);
        s_str(w, s->last_detail);
        s_u(w, s->failing);
        s_i(w, s->failing_since_ms);
        s_str(w, s->failing_detail);
    }
    free(keys);
    if (!(keys = s_sorted_keys(st->pagers, &n))) {
        w->rc = TC_ENOMEM;
        return;
    }
    s_u(w, S_PAGERS);
    s_u(w, n);
    for (size_t i = 0; i < n; i++) {
        const tc_state_pager_t *p = zhashx_lookup(st->pagers, keys[i]);
        s_str(w, p->person);
        s_u(w, p->pages);
        s_u(w, p->delivered);
        s_u(w, p->failed);
        s_u(w, p->latency_total_ms);
        s_i(w, p->last_ms);
        s_str(w, p->last_result);
        s_str(w, p->last_method);
        s_str(w, p->last_detail);
        s_u(w, p->acknowledged);
    }
    free(keys);
}

int tc_state_snapshot(const tc_state_t *st, uint64_t log_seq, uint64_t bcast_seq, tc_buf_t *out)
{
    if (st->thawed_id)
        return TC_EINVAL; /* only between records */
    s_w_t w = {out, 0};
    if ((w.rc = tc_buf_reserve(out, sizeof S_MAGIC)) != 0)
        return w.rc;
    memcpy(out->data + out->len, S_MAGIC, sizeof S_MAGIC - 1);
    out->len += sizeof S_MAGIC - 1;
    s_u(&w, S_HEADER);
    s_u(&w, log_seq);
    s_u(&w, bcast_seq);
    s_u(&w, st->next_id);
    s_u(&w, st->next_maint_id);
    s_u(&w, st->config_seq);
    s_write_checks(&w, st);
    s_write_services(&w, st);
    s_write_hosts(&w, st);
    s_write_comms(&w, st);
    s_u(&w, S_ARCHIVE);
    size_t narchived = 0;
    for (size_t id = 0; id < st->archive_cap; id++)
        narchived += st->archive[id].buf != NULL;
    s_u(&w, narchived);
    for (size_t id = 0; id < st->archive_cap; id++) {
        if (!st->archive[id].buf)
            continue;
        s_u(&w, id);
        s_bytes(&w, st->archive[id].buf, st->archive[id].len);
    }
    s_u(&w, S_END);
    return w.rc;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct {
    const uint8_t *p, *end;
    int rc;
} s_r_t;

static uint64_t s_ru(s_r_t *r)
{
    uint64_t v = 0;
    for (int shift = 0; !r->rc; shift += 7) {
        if (r->p == r->end || shift > 63) {
            r->rc = TC_EDECODE;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t s_ri(s_r_t *r)
{
    uint64_t v = s_ru(r);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A length-prefixed run of bytes, borrowed from the snapshot. */
static const uint8_t *s_rbytes(s_r_t *r, size_t *n)
{
    *n = (size_t)s_ru(r);
    if (r->rc || *n > (size_t)(r->end - r->p)) {
        r->rc = TC_EDECODE;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += *n;
    return p;
}

/* A string into a fixed field; too long is an error, not a cut. */
static void s_rstr(s_r_t *r, char *dst, size_t cap)
{
    size_t n;
    const uint8_t *p = s_rbytes(r, &n);
    if (!p)
        return;
    if (n >= cap) {
        r->rc = TC_ETOOBIG;
        return;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void s_expect(s_r_t *r, uint64_t tag)
{
    if (s_ru(r) != tag && !r->rc)
        r->rc = TC_EDECODE;
}

static tc_incident_t *s_rincident(s_r_t *r)
{
    size_t n;
    const uint8_t *p = s_rbytes(r, &n);
    if (!p)
        return NULL;
    tc_incident_t *inc = malloc(sizeof *inc);
    if (!inc) {
        r->rc = TC_ENOMEM;
        return NULL;
    }
    if ((r->rc = tc_wire_decode_incident(p, n, inc)) != 0) {
        free(inc);
        return NULL;
    }
    return inc;
}

static void s_read_checks(s_r_t *r, tc_state_t *st)
{
    s_expect(r, S_CHECKS);
    for (uint64_t i = 0, n = s_ru(r); i < n && !r->rc; i++) {
        tc_state__check_t *c = calloc(1, sizeof *c);
        if (!c) {
            r->rc = TC_ENOMEM;
            return;
        }
        s_rstr(r, c->host, sizeof c->host);
        s_rstr(r, c->check, sizeof c->check);
        s_rstr(r, c->service, sizeof c->service);
        c->state = (tc_check_state_t)s_ru(r);
        c->users = (uint32_t)s_ru(r);
        c->flapping = s_ru(r) != 0;
        s_rstr(r, c->output, sizeof c->output);
        char key[2 * TC_ID_MAX + 1];
        snprintf(key, sizeof key, "%s/%s", c->host, c->check);
        if (r->rc || zhashx_insert(st->checks, key, c) != 0) {
            free(c);
            r->rc = r->rc ? r->rc : TC_EDECODE;
        }
    }
}

static void s_read_services(s_r_t *r, tc_state_t *st)
{
    s_expect(r, S_SERVICES);
    for (uint64_t i = 0, n = s_ru(r); i < n && !r->rc; i++) {
        char name[TC_ID_MAX];
        s_rstr(r, name, sizeof name);
        tc_state__service_t *svc = r->rc ? NULL : tc_state__service(st, name);
        if (!svc) {
            r->rc = r->rc ? r->rc : TC_ENOMEM;
            return;
        }
        svc->failing = (uint32_t)s_ru(r);
        svc->perf_users = s_ru(r);
        svc->flapping = (uint32_t)s_ru(r);
        for (uint64_t k = 0, nh = s_ru(r); k < nh && !r->rc; k++) {
            char host[TC_ID_MAX];
            s_rstr(r, host, sizeof host);
            uintptr_t count = (uintptr_t)s_ru(r);
            if (!r->rc)
                zhashx_update(svc->failing_hosts, host, (void *)count);
        }
        uint64_t flags = s_ru(r);
        if (flags & 1)
            svc->open = s_rincident(r);
        if (flags & 2)
            svc->resolved = s_rincident(r);
        if ((svc->open && tc_state__index(st, svc->open->id, svc) != 0) ||
            (svc->resolved && tc_state__index(st, svc->resolved->id, svc) != 0))
            r->rc = TC_ENOMEM;
    }
}

static void s_read_hosts(s_r_t *r, tc_state_t *st)
{
    s_expect(r, S_HOSTS);
    for (uint64_t i = 0, n = s_ru(r); i < n && !r->rc; i++) {
        tc_state_host_t *h = calloc(1, sizeof *h);
        if (!h) {
            r->rc = TC_ENOMEM;
            return;
        }
        s_rstr(r, h->host, sizeof h->host);
        h->up = s_ru(r) != 0;
        h->heartbeat_ms = (uint32_t)s_ru(r);
        h->changed_ms = s_ri(r);
        if (r->rc || zhashx_insert(st->hosts, h->host, h) != 0) {
            free(h);
            r->rc = r->rc ? r->rc : TC_EDECODE;
        }
    }
}

static void s_read_comms(s_r_t *r, tc_state_t *st)
{
    s_expect(r, S_COMPONENTS);
    uint64_t nc = s_ru(r);
    for (uint64_t i = 0; i < nc && !r->rc; i++) {
        tc_component_t c = {0};
        s_rstr(r, c.name, sizeof c.name);
        s_rstr(r, c.description, sizeof c.description);
        c.status = (tc_component_status_t)s_ru(r);
        c.derived = (tc_component_status_t)s_ru(r);
        c.overridden = s_ru(r) != 0;
        c.changed_ms = s_ri(r);
        /* The configuration in force made the list; the snapshot says how
         * each component stands. */
        for (size_t k = 0; k < st->ncomponents; k++)
            if (!strcmp(st->components[k].name, c.name))
                st->components[k] = c;
    }
    s_expect(r, S_MAINTS);
    uint64_t nm = s_ru(r);
    if (!r->rc && nm) {
        st->maints = calloc(nm, sizeof *st->maints);
        if (!st->maints)
            r->rc = TC_ENOMEM;
    }
    for (uint64_t i = 0; i < nm && !r->rc; i++) {
        size_t n;
        const uint8_t *p = s_rbytes(r, &n);
        if (p && (r->rc = tc_wire_decode_maintenance(p, n, &st->maints[i])) == 0)
            st->nmaints++;
    }
    s_expect(r, S_UPDATES);
    for (uint64_t i = 0, n = s_ru(r); i < n && !r->rc; i++) {
        char key[48];
        s_rstr(r, key, sizeof key);
        size_t len;
        const uint8_t *p = s_rbytes(r, &len);
        tc_update_t *u = p ? malloc(sizeof *u) : NULL;
        if (!u || (r->rc = tc_wire_decode_update(p, len, u)) != 0) {
            free(u);
            r->rc = r->rc ? r->rc : TC_ENOMEM;
            return;
        }
        zhashx_update(st->updates, key, u);
    }
    s_expect(r, S_SUBSCRIBERS);
    for (uint64_t i = 0, n = s_ru(r); i < n && !r->rc; i++) {
        tc_state_subscriber_t *s = calloc(1, sizeof *s);
        if (!s) {
            r->rc = TC_ENOMEM;
            return;
        }
        s_rstr(r, s->name, sizeof s->name);
        s->delivered = s_ru(r);
        s->failed = s_ru(r);
        s->latency_total_ms = s_ru(r);
        s->last_ms = s_ri(r);
        s_rstr(r, s->last_result, sizeof s->last_result);
        s_rstr(r, s->last_detail, sizeof s->last_detail);
        s->failing = s_ru(r) != 0;
        s->failing_since_ms = s_ri(r);
        s_rstr(r, s->failing_detail, sizeof s->failing_detail);
        if (r->rc || zhashx_insert(st->subscribers, s->name, s) != 0) {
            free(s);
            r->rc = r->rc ? r->rc : TC_EDECODE;
        }
    }
    /* Optional: older snapshots go on with the archive (tags are one byte). */
    if (r->rc || r->p == r->end || *r->p != S_PAGERS)
        return;
    s_expect(r, S_PAGERS);
    for (uint64_t i = 0, n = s_ru(r); i < n && !r->rc; i++) {
        tc_state_pager_t *p = calloc(1, sizeof *p);
        if (!p) {
            r->rc = TC_ENOMEM;
            return;
        }
        s_rstr(r, p->person, sizeof p->person);
        p->pages = s_ru(r);
        p->delivered = s_ru(r);
        p->failed = s_ru(r);
        p->latency_total_ms = s_ru(r);
        p->last_ms = s_ri(r);
        s_rstr(r, p->last_result, sizeof p->last_result);
        s_rstr(r, p->last_method, sizeof p->last_method);
        s_rstr(r, p->last_detail, sizeof p->last_detail);
        p->acknowledged = s_ru(r);
        if (r->rc || zhashx_insert(st->pagers, p->person, p) != 0) {
            free(p);
            r->rc = r->rc ? r->rc : TC_EDECODE;
        }
    }
}

/* The archive, with the post-mortem reminders it owes. */
static void s_read_archive(s_r_t *r, tc_state_t *st)
{
    s_expect(r, S_ARCHIVE);
    tc_incident_t *inc = malloc(sizeof *inc);
    if (!inc) {
        r->rc = TC_ENOMEM;
        return;
    }
    for (uint64_t i = 0, n = s_ru(r); i < n && !r->rc; i++) {
        uint64_t id = s_ru(r);
        size_t len;
        const uint8_t *p = s_rbytes(r, &len);
        if (!p || (r->rc = tc_wire_decode_incident(p, len, inc)) != 0)
            break;
        if (inc->id != id) {
            r->rc = TC_EDECODE;
            break;
        }
        /* Frozen again from the decoded incident: the same bytes, since
         * the encoding is deterministic, and the reminder list with them. */
        r->rc = tc_state__freeze(st, inc);
    }
    free(inc);
}

int tc_state_snapshot_header(const uint8_t *buf, size_t len, tc_state_snapshot_header_t *h)
{
    /* A snapshot of an older format (written before an upgrade) is no
     * snapshot for this version: the log replays whole. */
    if (len >= sizeof S_MAGIC - 1 && !memcmp(buf, S_MAGIC, 6) &&
        memcmp(buf, S_MAGIC, sizeof S_MAGIC - 1) != 0)
        return TC_ENOTFOUND;
    if (len < sizeof S_MAGIC - 1 || memcmp(buf, S_MAGIC, sizeof S_MAGIC - 1) != 0)
        return TC_EDECODE;
    s_r_t r = {buf + sizeof S_MAGIC - 1, buf + len, 0};
    s_expect(&r, S_HEADER);
    h->log_seq = s_ru(&r);
    h->bcast_seq = s_ru(&r);
    s_ru(&r);
    s_ru(&r);
    h->config_seq = s_ru(&r);
    return r.rc;
}

int tc_state_restore(tc_state_t *st, const uint8_t *buf, size_t len, uint64_t *log_seq)
{
    if (len < sizeof S_MAGIC - 1 || memcmp(buf, S_MAGIC, sizeof S_MAGIC - 1) != 0)
        return TC_EDECODE;
    if (zhashx_size(st->checks) || zhashx_size(st->services) || zhashx_size(st->hosts))
        return TC_EINVAL; /* only into a fresh state */
    s_r_t r = {buf + sizeof S_MAGIC - 1, buf + len, 0};
    s_expect(&r, S_HEADER);
    *log_seq = s_ru(&r);
    s_ru(&r); /* the broadcast count is the caller's */
    st->next_id = s_ru(&r);
    st->next_maint_id = s_ru(&r);
    st->config_seq = s_ru(&r);
    s_read_checks(&r, st);
    s_read_services(&r, st);
    s_read_hosts(&r, st);
    s_read_comms(&r, st);
    s_read_archive(&r, st);
    s_expect(&r, S_END);
    if (!r.rc && r.p != r.end)
        r.rc = TC_EDECODE;
    return r.rc;
}

/* ---- comparing ------------------------------------------------------------ */

static const char *s_section_name(uint64_t tag)
{
    switch (tag) {
    case S_HEADER: return "header (log position, next ids, configuration)";
    case S_CHECKS: return "checks";
    case S_SERVICES: return "services and their open and last resolved incidents";
    case S_HOSTS: return "hosts";
    case S_COMPONENTS: return "components";
    case S_MAINTS: return "maintenance windows";
    case S_UPDATES: return "status updates";
    case S_SUBSCRIBERS: return "subscribers";
    case S_PAGERS: return "pages per person";
    case S_ARCHIVE: return "archived incidents";
    default: return "end";
    }
}

/* The section tag in force at byte `at` of a snapshot: the last tag byte
 * seen at a section boundary before it (a forward scan of the structure
 * would need a full decoder; the tags are found by decoding). */
static uint64_t s_section_at(const uint8_t *buf, size_t len, size_t at)
{
    tc_state_t *st = tc_state_new(NULL);
    if (!st)
        return 0;
    s_r_t r = {buf + sizeof S_MAGIC - 1, buf + len, 0};
    uint64_t tag = 0;
    /* Decode section by section, remembering where each starts. */
    struct {
        uint64_t tag;
        void (*fn)(s_r_t *, tc_state_t *);
    } steps[] = {{S_CHECKS, s_read_checks},   {S_SERVICES, s_read_services},
                 {S_HOSTS, s_read_hosts},     {S_COMPONENTS, s_read_comms},
                 {S_ARCHIVE, s_read_archive}, {S_END, NULL}};
    s_expect(&r, S_HEADER);
    for (int i = 0; i < 5 && !r.rc; i++)
        s_ru(&r);
    tag = S_HEADER;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && !r.rc; i++) {
        if ((size_t)(r.p - buf) > at)
            break;
        tag = steps[i].tag;
        if (steps[i].fn)
            steps[i].fn(&r, st);
    }
    tc_state_destroy(&st);
    return tag;
}

bool tc_state_snapshot_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, char *why,
                            size_t whylen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    size_t n = alen < blen ? alen : blen, at = 0;
    while (at < n && a[at] == b[at])
        at++;
    if (why && whylen)
        snprintf(why, whylen, "they differ from byte %zu of %zu/%zu, in the %s", at, alen, blen,
                 s_section_name(s_section_at(a, alen, at)));
    return false;
}
