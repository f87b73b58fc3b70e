/*
 * probe.h - the built-in tcp and http checks, run inside the agent's loop.
 *
 *   tcp:  a non-blocking connect() watched by a zloop poller, each address
 *         of the target in turn; host names are resolved with
 *         getaddrinfo_a(), off the loop's thread. Connected = OK.
 *   http: libcurl's multi interface on the same zloop (curl_loop.h), a
 *         fresh connection per run; 2xx/3xx = OK. The body is counted, not
 *         kept, and no more than TC_PROBE_BODY_MAX bytes of it are read.
 *
 * A probe never blocks the loop, and each ends within its check's timeout
 * (CRITICAL "no answer within 2s"). Results are Nagios-style lines with
 * perfdata, parsed like a plugin's:
 *
 *     TCP OK - 127.0.0.1:5432 connected in 0.000s|time=0.000089s;;;0
 *     HTTP CRITICAL - 503 Service Unavailable in 0.002s, 5 bytes|time=...
 *
 * Single-threaded: use it from the loop's thread only.
 */
#ifndef TC_AGENT_PROBE_H
#define TC_AGENT_PROBE_H

#include "config.h"
#include "msg.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

/* Body bytes an http probe reads before it stops listening. */
#define TC_PROBE_BODY_MAX (1024 * 1024)

typedef struct tc_prober_t tc_prober_t;

/* Called once per finished probe with its raw result (state, output,
 * perf), borrowed for the call. The probe no longer counts as running
 * during the call. Never called from inside tc_prober_start(). */
typedef void(tc_probe_done_fn)(void *tag, const tc_check_result_t *res, void *arg);

/* Creates a prober whose sockets and timers live in `loop` (borrowed; must
 * outlive it). Returns NULL if out of memory. Caller owns the result. */
tc_prober_t *tc_prober_new(zloop_t *loop, tc_probe_done_fn *done, void *arg);

/* Aborts every probe without callbacks. A host name still being resolved
 * is waited for, at most about a second, because the resolver's thread
 * reports to us; one that takes longer is left to finish on its own (its
 * memory and one pipe are not freed). Call it after the loop has stopped
 * for good. NULL-safe; nulls *pprober. */
void tc_prober_destroy(tc_prober_t **pprober);

/* Starts a probe of `def` (type tcp or http; borrowed until the probe
 * ends), identified by `tag`. Returns 0; TC_EINVAL if `tag` is running or
 * the type is not a probe; TC_ENOMEM; TC_ESYS (errno kept) if a socket or
 * pipe cannot be made. A target that is malformed or cannot be resolved is
 * not an error here: the probe ends UNKNOWN or CRITICAL. */
int tc_prober_start(tc_prober_t *p, const tc_check_def_t *def, void *tag);

/* True if a probe with this tag has not finished yet. */
bool tc_prober_running(const tc_prober_t *p, const void *tag);

/* Probes in progress. */
size_t tc_prober_active(const tc_prober_t *p);

#endif
