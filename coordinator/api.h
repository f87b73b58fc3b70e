/*
 * api.h - answers operator and subscriber queries on the API socket.
 *
 * Read-only: every answer comes from committed data in the store or from the
 * in-memory state, so a query never sees half a batch.
 */
#ifndef TC_API_H
#define TC_API_H

#include "state.h"
#include "store.h"
#include "wire.h"

/* Default and maximum number of log records or broadcasts per reply. */
#define TC_API_PAGE_DEFAULT 1000
#define TC_API_PAGE_MAX 10000

/* What the coordinator knows beyond the store and the state, for `status`. */
typedef struct {
    int64_t started_ms;
    uint64_t accepted, duplicates, rejected, denied;
    uint64_t throttled, deferred;
    const char *storage;       /* ok, full, failed */
    const char *storage_error; /* "" while ok */
    /* Wall-clock time a host was last heard from, 0 if not since start. */
    int64_t (*last_seen)(void *ctx, const char *host);
    void *last_seen_ctx;
} tc_api_env_t;

/* Fills `reply` (ok, or ok = false with a one-line error) for request `q`.
 * Returns 0, or TC_ENOMEM / TC_EIO if the reply could not be built (then
 * the caller answers with a generic error). */
int tc_api_handle(tc_store_t *store, const tc_state_t *state, const tc_api_env_t *env,
                  const tc_api_request_t *q, tc_api_reply_t *reply);

#endif
