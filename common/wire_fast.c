/*
 * wire_fast.c - a direct reader for the one message that dominates the hot
 * path and replay: an Envelope carrying a CheckResult without perfdata
 * (and the LogRecord around it). protobuf-c's generic unpack allocates for
 * every string and then the fields are copied again; reading the wire
 * format straight into the fixed fields does the same work once.
 *
 * Conservative on purpose: anything it does not recognise exactly (another
 * payload, perfdata, an unexpected wire type, a field it does not know, a
 * truncated or overlong field) makes it answer "not mine", and the caller
 * uses protobuf-c, which decides. For what it accepts it gives exactly
 * what the generic path gives (tests/unit/test_wire.c compares them).
 */
#include "wire_impl.h"

#include <stddef.h>
#include <string.h>

typedef struct {
    const uint8_t *p, *end;
    bool bad;
} s_rd_t;

static uint64_t s_varint(s_rd_t *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = true;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

/* A length-delimited field: its bytes, borrowed. */
static const uint8_t *s_bytes(s_rd_t *r, size_t *n)
{
    uint64_t len = s_varint(r);
    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += len;
    *n = (size_t)len;
    return p;
}

/* An id field: as tc_wire__copy_id() (longer than the field: not mine, so
 * that the generic path reports it). A NUL inside would be cut by the
 * generic path's C strings; not mine either. */
static bool s_id(const uint8_t *p, size_t n, char *dst, size_t cap)
{
    if (n >= cap || memchr(p, 0, n))
        return false;
    if (dst[0]) /* a repeated field: the last one wins, and nothing of the first stays */
        memset(dst, 0, cap);
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

/* Free text: as tc_wire__copy_text() (cut at a character boundary). */
static bool s_text(const uint8_t *p, size_t n, char *dst, size_t cap)
{
    char tmp[4096];
    if (n >= sizeof tmp || memchr(p, 0, n))
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    if (dst[0])
        memset(dst, 0, cap);
    tc_wire__copy_text(dst, cap, tmp);
    return true;
}

static bool s_check(const uint8_t *buf, size_t len, tc_check_result_t *c)
{
    memset(c, 0, sizeof *c);
    s_rd_t r = {buf, buf + len, false};
    while (r.p < r.end && !r.bad) {
        uint64_t tag = s_varint(&r);
        unsigned field = (unsigned)(tag >> 3), type = (unsigned)(tag & 7);
        if (r.bad)
            return false;
        if (type == 2 && (field == 1 || field == 2 || field == 3 || field == 5)) {
            size_t n;
            const uint8_t *p = s_bytes(&r, &n);
            if (!p)
                return false;
            bool ok = field == 1   ? s_id(p, n, c->check, sizeof c->check)
                      : field == 2 ? s_id(p, n, c->service, sizeof c->service)
                      : field == 3 ? s_id(p, n, c->host, sizeof c->host)
                                   : s_text(p, n, c->output, sizeof c->output);
            if (!ok)
                return false;
        } else if (type == 0 && (field == 4 || (field >= 7 && field <= 11))) {
            uint64_t v = s_varint(&r);
            switch (field) {
            case 4:
                if (v > TC_STATE_UNKNOWN)
                    return false;
                c->state = (tc_check_state_t)v;
                break;
            case 7: c->attempt = (uint32_t)v; break;
            case 8: c->max_attempts = (uint32_t)v; break;
            case 9: c->hard = v != 0; break;
            case 10: c->flapping = v != 0; break;
            case 11: c->flap_percent = (uint32_t)v; break;
            }
        } else {
            return false; /* perfdata, or something else: the generic path */
        }
    }
    return !r.bad;
}

bool tc_wire__fast_msg(const uint8_t *buf, size_t len, tc_msg_t *m)
{
    s_rd_t r = {buf, buf + len, false};
    bool have_check = false;
    memset(m, 0, offsetof(tc_msg_t, u));
    while (r.p < r.end && !r.bad) {
        uint64_t tag = s_varint(&r);
        unsigned field = (unsigned)(tag >> 3), type = (unsigned)(tag & 7);
        if (r.bad)
            return false;
        if (type == 0 && field >= 1 && field <= 4) {
            uint64_t v = s_varint(&r);
            if (field == 1)
                m->version = (uint32_t)v;
            else if (field == 3)
                m->seq = v;
            else if (field == 4)
                m->time_ms = (int64_t)v;
            else
                return false;
        } else if (type == 2 && field == 2) {
            size_t n;
            const uint8_t *p = s_bytes(&r, &n);
            if (!p || !s_id(p, n, m->sender, sizeof m->sender))
                return false;
        } else if (type == 2 && field == 12 && !have_check) {
            size_t n;
            const uint8_t *p = s_bytes(&r, &n);
            if (!p || !s_check(p, n, &m->u.check))
                return false;
            have_check = true;
        } else {
            return false;
        }
    }
    if (r.bad || !have_check)
        return false;
    m->kind = TC_MSG_CHECK_RESULT;
    return true;
}

bool tc_wire__fast_record(const uint8_t *buf, size_t len, tc_record_t *rec)
{
    s_rd_t r = {buf, buf + len, false};
    bool have_event = false;
    memset(rec, 0, offsetof(tc_record_t, event));
    while (r.p < r.end && !r.bad) {
        uint64_t tag = s_varint(&r);
        unsigned field = (unsigned)(tag >> 3), type = (unsigned)(tag & 7);
        if (r.bad)
            return false;
        if (type == 0 && (field == 1 || field == 2 || field == 4)) {
            uint64_t v = s_varint(&r);
            if (field == 1)
                rec->seq = v;
            else if (field == 2)
                rec->received_ms = (int64_t)v;
            else
                rec->time_ms = (int64_t)v;
        } else if (type == 2 && field == 3 && !have_event) {
            size_t n;
            const uint8_t *p = s_bytes(&r, &n);
            if (!p || !tc_wire__fast_msg(p, n, &rec->event))
                return false;
            have_event = true;
        } else {
            return false;
        }
    }
    if (r.bad || !have_event)
        return false;
    if (!rec->time_ms)
        rec->time_ms = rec->received_ms;
    return true;
}
