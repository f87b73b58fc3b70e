/*
 * prom.c - the Prometheus text format; see prom.h.
 */
#include "prom.h"

#include "error.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tc_prom {
    tc_buf_t buf;
    int error;
};

tc_prom_t *tc_prom_new(void)
{
    tc_prom_t *self = calloc(1, sizeof *self);
    if (self && tc_buf_reserve(&self->buf, 4096) != 0) {
        free(self);
        return NULL;
    }
    if (self)
        self->buf.data[0] = 0;
    return self;
}

void tc_prom_destroy(tc_prom_t **pself)
{
    if (!pself || !*pself)
        return;
    free((*pself)->buf.data);
    free(*pself);
    *pself = NULL;
}

void tc_prom_reset(tc_prom_t *self)
{
    self->buf.len = 0;
    self->error = 0;
    if (self->buf.data)
        self->buf.data[0] = 0;
}

static void s_put(tc_prom_t *self, const char *s, size_t n)
{
    if (self->error)
        return;
    if (tc_buf_reserve(&self->buf, n + 1) != 0) {
        self->error = TC_ENOMEM;
        return;
    }
    memcpy(self->buf.data + self->buf.len, s, n);
    self->buf.len += n;
    self->buf.data[self->buf.len] = 0;
}

static void s_puts(tc_prom_t *self, const char *s)
{
    s_put(self, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void s_printf(tc_prom_t *self, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        self->error = TC_ETOOBIG;
        return;
    }
    s_put(self, tmp, (size_t)n);
}

static bool s_name_valid(const char *name)
{
    if (!name || !*name || (*name >= '0' && *name <= '9'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == ':'))
            return false;
    return true;
}

/* Escapes `s` for a HELP line (backslash, line feed) or, with `quote`, a
 * label value (also the double quote). */
static void s_escaped(tc_prom_t *self, const char *s, bool quote)
{
    for (const char *p = s; p && *p; p++) {
        if (*p == '\\')
            s_puts(self, "\\\\");
        else if (*p == '\n')
            s_puts(self, "\\n");
        else if (quote && *p == '"')
            s_puts(self, "\\\"");
        else
            s_put(self, p, 1);
    }
}

void tc_prom_family(tc_prom_t *self, const char *name, const char *type, const char *help)
{
    if (!s_name_valid(name)) {
        self->error = TC_EINVAL;
        return;
    }
    s_puts(self, "# HELP ");
    s_puts(self, name);
    s_puts(self, " ");
    s_escaped(self, help, false);
    s_puts(self, "\n# TYPE ");
    s_puts(self, name);
    s_puts(self, " ");
    s_puts(self, type);
    s_puts(self, "\n");
}

static void s_value(tc_prom_t *self, double v)
{
    if (isnan(v))
        s_puts(self, "NaN");
    else if (isinf(v))
        s_puts(self, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        s_printf(self, "%.0f", v);
    else
        s_printf(self, "%.17g", v);
}

void tc_prom_sample(tc_prom_t *self, const char *name, const tc_prom_label_t *labels,
                    size_t nlabels, double value)
{
    if (!s_name_valid(name)) {
        self->error = TC_EINVAL;
        return;
    }
    s_puts(self, name);
    if (nlabels) {
        s_puts(self, "{");
        for (size_t i = 0; i < nlabels; i++) {
            if (!s_name_valid(labels[i].name))
                self->error = TC_EINVAL;
            if (i)
                s_puts(self, ",");
            s_puts(self, labels[i].name);
            s_puts(self, "=\"");
            s_escaped(self, labels[i].value, true);
            s_puts(self, "\"");
        }
        s_puts(self, "}");
    }
    s_puts(self, " ");
    s_value(self, value);
    s_puts(self, "\n");
}

void tc_prom_gauge(tc_prom_t *self, const char *name, const char *help, double value)
{
    tc_prom_family(self, name, "gauge", help);
    tc_prom_sample(self, name, NULL, 0, value);
}

void tc_prom_counter(tc_prom_t *self, const char *name, const char *help, double value)
{
    tc_prom_family(self, name, "counter", help);
    tc_prom_sample(self, name, NULL, 0, value);
}

void tc_histogram_init(tc_histogram_t *h, const double *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    if (n > TC_HISTOGRAM_BUCKETS_MAX)
        n = TC_HISTOGRAM_BUCKETS_MAX;
    memcpy(h->bounds, bounds, n * sizeof *bounds);
    h->nbounds = n;
}

void tc_histogram_observe(tc_histogram_t *h, double v)
{
    size_t i = 0;
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

void tc_prom_histogram(tc_prom_t *self, const char *name, const char *help, const tc_histogram_t *h)
{
    char sample[128];
    tc_prom_family(self, name, "histogram", help);
    snprintf(sample, sizeof sample, "%s_bucket", name);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        cum += h->counts[i];
        char le[40];
        if (i < h->nbounds)
            snprintf(le, sizeof le, "%g", h->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        tc_prom_label_t l = {"le", le};
        tc_prom_sample(self, sample, &l, 1, (double)cum);
    }
    snprintf(sample, sizeof sample, "%s_sum", name);
    tc_prom_sample(self, sample, NULL, 0, h->sum);
    snprintf(sample, sizeof sample, "%s_count", name);
    tc_prom_sample(self, sample, NULL, 0, (double)h->count);
}

const char *tc_prom_text(const tc_prom_t *self, size_t *len)
{
    if (len)
        *len = self->buf.len;
    return self->buf.data ? (const char *)self->buf.data : "";
}

int tc_prom_error(const tc_prom_t *self)
{
    return self->error;
}
