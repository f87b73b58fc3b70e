/*
 * metrics.h - tocsin-agent's GET /metrics (Prometheus text format) and
 * GET /healthz on `--metrics ADDR:PORT` (agent.metrics; off by default).
 *
 * The server is libmicrohttpd on the agent's own zloop (common/httpd.h),
 * not a thread: a scrape reads the agent's check state and the outbox's
 * counters directly, between two events of the loop, and changes nothing,
 * so delivery behaves the same with metrics on or off.
 *
 * What is served: checks configured; results by check and state; the
 * current hard state of each check; how long runs take (a histogram); the
 * spool's events and bytes; events not yet acknowledged; the last seq
 * given and acknowledged; transitions a full spool left out (since start,
 * and still to be reported); whether the
 * coordinator answers; heartbeats sent; the version and start time.
 * /healthz answers 200 "ok" while the loop runs.
 *
 * The loop's thread only.
 */
#ifndef TC_AGENT_METRICS_H
#define TC_AGENT_METRICS_H

#include "agent.h"

#include <stddef.h>

typedef struct tc_agent_metrics tc_agent_metrics_t;

/* Serves /metrics for agent `a` (borrowed; outlives the server) on `addr`
 * (IP:PORT) with the agent's loop. Returns 0 and sets *out (caller owns),
 * or an error with a one-line reason in `why` (TC_EINVAL bad address,
 * TC_ESYS cannot listen, TC_ENOMEM). */
int tc_agent_metrics_new(tc_agent_t *a, const char *addr, tc_agent_metrics_t **out, char *why,
                         size_t whylen);

/* Stops the server. NULL-safe; nulls *pself. */
void tc_agent_metrics_destroy(tc_agent_metrics_t **pself);

/* "http://127.0.0.1:7409/metrics". Borrowed, valid as long as the server. */
const char *tc_agent_metrics_url(const tc_agent_metrics_t *self);

#endif
