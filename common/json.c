#include "json.h"

#include "error.h"
#include "utf8.h"
#include "util.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_TOP, S_OBJECT, S_ARRAY } s_scope_t;

typedef struct {
    s_scope_t scope;
    size_t count; /* values (or keys, in an object) written in this scope */
} s_level_t;

struct tc_json {
    char *buf;
    size_t len, cap;
    int err;
    s_level_t stack[TC_JSON_DEPTH_MAX + 1]; /* [0] is the top level */
    size_t depth;
    bool after_key; /* a key was written; its value comes next */
};

tc_json_t *tc_json_new(void)
{
    tc_json_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 256;
    self->buf = malloc(self->cap);
    if (!self->buf) {
        free(self);
        return NULL;
    }
    tc_json_reset(self);
    return self;
}

void tc_json_destroy(tc_json_t **pself)
{
    if (!pself || !*pself)
        return;
    free((*pself)->buf);
    free(*pself);
    *pself = NULL;
}

void tc_json_reset(tc_json_t *self)
{
    self->len = 0;
    self->buf[0] = '\0';
    self->err = 0;
    self->depth = 0;
    self->stack[0].scope = S_TOP;
    self->stack[0].count = 0;
    self->after_key = false;
}

/* Makes room for `n` more bytes plus the terminating NUL. */
static bool s_reserve(tc_json_t *self, size_t n)
{
    if (self->err)
        return false;
    if (self->len + n + 1 <= self->cap)
        return true;
    size_t cap = self->cap;
    while (self->len + n + 1 > cap)
        cap *= 2;
    char *buf = realloc(self->buf, cap);
    if (!buf) {
        self->err = TC_ENOMEM;
        return false;
    }
    self->buf = buf;
    self->cap = cap;
    return true;
}

static void s_put(tc_json_t *self, const char *s, size_t n)
{
    if (!s_reserve(self, n))
        return;
    memcpy(self->buf + self->len, s, n);
    self->len += n;
    self->buf[self->len] = '\0';
}

static void s_putc(tc_json_t *self, char c)
{
    s_put(self, &c, 1);
}

/* Called before every value: writes the separating comma when needed and
 * checks that a value is allowed here. */
static void s_before_value(tc_json_t *self)
{
    s_level_t *lv = &self->stack[self->depth];
    if (lv->scope == S_OBJECT) {
        assert(self->after_key && "JSON value in an object needs a key first");
        self->after_key = false;
        return;
    }
    if (lv->scope == S_TOP)
        assert(lv->count == 0 && "JSON document already has its value");
    if (lv->count > 0)
        s_putc(self, ',');
    lv->count++;
}

static void s_push(tc_json_t *self, s_scope_t scope)
{
    assert(self->depth < TC_JSON_DEPTH_MAX && "JSON nested too deeply");
    self->depth++;
    self->stack[self->depth].scope = scope;
    self->stack[self->depth].count = 0;
}

static void s_pop(tc_json_t *self, s_scope_t scope)
{
    assert(self->depth > 0 && self->stack[self->depth].scope == scope && "unbalanced JSON end");
    assert(!self->after_key && "JSON key without a value");
    self->depth--;
}

void tc_json_object_begin(tc_json_t *self)
{
    s_before_value(self);
    s_putc(self, '{');
    s_push(self, S_OBJECT);
}

void tc_json_object_end(tc_json_t *self)
{
    s_pop(self, S_OBJECT);
    s_putc(self, '}');
}

void tc_json_array_begin(tc_json_t *self)
{
    s_before_value(self);
    s_putc(self, '[');
    s_push(self, S_ARRAY);
}

void tc_json_array_end(tc_json_t *self)
{
    s_pop(self, S_ARRAY);
    s_putc(self, ']');
}

/* Writes `s` as a quoted, escaped JSON string. */
static void s_put_string(tc_json_t *self, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    s_putc(self, '"');
    size_t i = 0;
    while (i < len) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t run = i;
        while (run < len) {
            unsigned char c = (unsigned char)s[run];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7F)
                break;
            run++;
        }
        if (run > i) {
            s_put(self, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x7F) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            switch (c) {
            case '"': s_put(self, "\\\"", 2); break;
            case '\\': s_put(self, "\\\\", 2); break;
            case '\b': s_put(self, "\\b", 2); break;
            case '\f': s_put(self, "\\f", 2); break;
            case '\n': s_put(self, "\\n", 2); break;
            case '\r': s_put(self, "\\r", 2); break;
            case '\t': s_put(self, "\\t", 2); break;
            default: s_put(self, esc, sizeof esc); break;
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = tc_utf8_next(s + i, len - i, &cp);
        if ((cp >= 0x7F && cp < 0xA0) || cp == 0x2028 || cp == 0x2029) {
            /* DEL and the C1 controls are legal raw in JSON but can drive a
             * terminal that shows the output; the two line separators
             * break JavaScript string literals. */
            char esc[7];
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
            s_put(self, esc, 6);
        } else if (cp == TC_UTF8_REPLACEMENT) {
            /* Either a genuine U+FFFD or the replacement for bad bytes:
             * writing the encoded form is right for both. */
            s_put(self, "\xEF\xBF\xBD", 3);
        } else {
            s_put(self, s + i, n);
        }
        i += n;
    }
    s_putc(self, '"');
}

void tc_json_key(tc_json_t *self, const char *key)
{
    s_level_t *lv = &self->stack[self->depth];
    assert(lv->scope == S_OBJECT && "JSON key outside an object");
    assert(!self->after_key && "JSON key after a key");
    if (lv->count > 0)
        s_putc(self, ',');
    lv->count++;
    s_put_string(self, key, strlen(key));
    s_putc(self, ':');
    self->after_key = true;
}

void tc_json_string(tc_json_t *self, const char *s)
{
    if (!s) {
        tc_json_null(self);
        return;
    }
    tc_json_string_n(self, s, strlen(s));
}

void tc_json_string_n(tc_json_t *self, const char *s, size_t len)
{
    s_before_value(self);
    s_put_string(self, s, len);
}

void tc_json_int(tc_json_t *self, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    s_before_value(self);
    s_put(self, tmp, (size_t)n);
}

void tc_json_uint(tc_json_t *self, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    s_before_value(self);
    s_put(self, tmp, (size_t)n);
}

void tc_json_double(tc_json_t *self, double v)
{
    if (!isfinite(v)) {
        tc_json_null(self);
        return;
    }
    /* The shortest of %.15g .. %.17g that parses back to the same value:
     * 0.1 stays "0.1" instead of "0.10000000000000001". */
    char tmp[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    s_before_value(self);
    s_put(self, tmp, (size_t)n);
}

void tc_json_bool(tc_json_t *self, bool v)
{
    s_before_value(self);
    if (v)
        s_put(self, "true", 4);
    else
        s_put(self, "false", 5);
}

void tc_json_null(tc_json_t *self)
{
    s_before_value(self);
    s_put(self, "null", 4);
}

void tc_json_time(tc_json_t *self, int64_t ms)
{
    if (ms == 0) {
        tc_json_null(self);
        return;
    }
    char when[40];
    tc_json_string(self, tc_time_format(ms, when, sizeof when));
}

const char *tc_json_data(const tc_json_t *self)
{
    return self->buf;
}

size_t tc_json_len(const tc_json_t *self)
{
    return self->len;
}

int tc_json_error(const tc_json_t *self)
{
    return self->err;
}

bool tc_json_complete(const tc_json_t *self)
{
    return self->depth == 0 && self->stack[0].count == 1 && !self->after_key;
}
