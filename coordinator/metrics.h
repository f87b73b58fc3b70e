/*
 * metrics.h - the coordinator's GET /metrics (Prometheus text format) on
 * `--metrics ADDR:PORT` (coordinator.metrics).
 *
 * The server is libmicrohttpd on the coordinator's own zloop
 * (common/httpd.h), not a thread: a scrape reads the coordinator's
 * counters and state directly, with no lock and no copy, between two
 * batches of the loop, and costs well under a millisecond. A thread would
 * need the loop to publish a snapshot of everything for it, for no gain:
 * libmicrohttpd never blocks the loop (non-blocking sockets, a connection
 * limit and timeouts), so a slow scraper delays nothing.
 *
 * What is served: events accepted, duplicates, rejected, denied,
 * throttled and deferred; batch sizes and commit latency as histograms;
 * the log and broadcast positions; open incidents by severity and state;
 * storage state and use; senders connected; hosts known and down.
 *
 * The loop's thread only.
 */
#ifndef TC_COORD_METRICS_H
#define TC_COORD_METRICS_H

#include <czmq.h>
#include <stddef.h>

typedef struct tc_coord_metrics tc_coord_metrics_t;
struct tc_coord;

/* Serves /metrics for coordinator `c` (borrowed; outlives the server) on
 * `addr` with `loop`. Returns 0 and sets *out (caller owns), or an error
 * with a one-line reason in `why` (TC_EINVAL bad address, TC_ESYS cannot
 * listen, TC_ENOMEM). */
int tc_coord_metrics_new(struct tc_coord *c, zloop_t *loop, const char *addr,
                         tc_coord_metrics_t **out, char *why, size_t whylen);

/* NULL-safe; nulls *pself. */
void tc_coord_metrics_destroy(tc_coord_metrics_t **pself);

/* "http://127.0.0.1:7406/metrics". Borrowed. */
const char *tc_coord_metrics_url(const tc_coord_metrics_t *self);

/* A monotonic clock in seconds, for timing commits. */
double tc_coord_metrics_clock(void);

/* One committed batch of `records` log records whose commit took
 * `seconds`. NULL-safe (metrics off): the ingest path calls it always. */
void tc_coord_metrics_commit(tc_coord_metrics_t *self, size_t records, double seconds);

#endif
