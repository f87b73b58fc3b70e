/*
 * prom.h - metrics in the Prometheus text exposition format (version
 * 0.0.4), what every tocsin daemon serves on GET /metrics.
 *
 * A tc_prom_t is a text buffer with a writer: each metric family is
 * started once with its # HELP and # TYPE lines, then its samples follow,
 * with label values escaped as the format requires (backslash, double
 * quote, line feed). Names are the caller's literals and must be valid
 * metric names ([a-zA-Z_:][a-zA-Z0-9_:]*); an invalid one is not written
 * and makes tc_prom_error() say TC_EINVAL, so a typo cannot produce text
 * a scraper refuses.
 *
 * A tc_histogram_t counts observations into cumulative buckets with fixed
 * upper bounds, as Prometheus histograms do; it is plain data owned by the
 * daemon's context and updated on its loop.
 *
 * Used from one thread.
 */
#ifndef TC_PROM_H
#define TC_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct tc_prom tc_prom_t;

/* One label of a sample. */
typedef struct {
    const char *name;
    const char *value;
} tc_prom_label_t;

/* An empty text. Caller owns the result; NULL on allocation failure. */
tc_prom_t *tc_prom_new(void);

/* NULL-safe; nulls *pself. */
void tc_prom_destroy(tc_prom_t **pself);

/* Empties the text for the next scrape. */
void tc_prom_reset(tc_prom_t *self);

/* Starts family `name` of `type` ("counter", "gauge", "histogram") with
 * its help text (one line; escaped). Call once per name, before its
 * samples. */
void tc_prom_family(tc_prom_t *self, const char *name, const char *type, const char *help);

/* One sample "name{labels} value"; `labels` may be NULL when nlabels is 0.
 * Integral values within 2^53 are written without a fraction. */
void tc_prom_sample(tc_prom_t *self, const char *name, const tc_prom_label_t *labels,
                    size_t nlabels, double value);

/* A family with one unlabelled sample: the common case. */
void tc_prom_gauge(tc_prom_t *self, const char *name, const char *help, double value);
void tc_prom_counter(tc_prom_t *self, const char *name, const char *help, double value);

/* A histogram with fixed bucket bounds (increasing; +Inf is implied). */
#define TC_HISTOGRAM_BUCKETS_MAX 16
typedef struct {
    double bounds[TC_HISTOGRAM_BUCKETS_MAX];
    size_t nbounds;
    uint64_t counts[TC_HISTOGRAM_BUCKETS_MAX + 1]; /* per bucket, not cumulative */
    uint64_t count;
    double sum;
} tc_histogram_t;

/* Sets up *h with the `n` bounds (at most TC_HISTOGRAM_BUCKETS_MAX; more
 * are dropped) and no observations. */
void tc_histogram_init(tc_histogram_t *h, const double *bounds, size_t n);

/* Counts one observation of `v`. */
void tc_histogram_observe(tc_histogram_t *h, double v);

/* Writes histogram family `name` (its _bucket, _sum and _count samples). */
void tc_prom_histogram(tc_prom_t *self, const char *name, const char *help,
                       const tc_histogram_t *h);

/* The text so far (NUL-terminated) and its length. Borrowed, valid until
 * the next write or reset. */
const char *tc_prom_text(const tc_prom_t *self, size_t *len);

/* 0, or TC_ENOMEM if a write could not grow the text, or TC_EINVAL if a
 * name was invalid (the text is then incomplete and must not be served). */
int tc_prom_error(const tc_prom_t *self);

#endif
