/*
 * coordinator.h - the coordinator process: sockets, event loop, batches.
 *
 * For each batch of agent frames: validate -> store a sender's events in
 * sequence order -> append to the log -> apply to the state -> store the
 * broadcasts and timeline entries, all in one LMDB transaction -> commit ->
 * only then send Acks and publish. On start the state is the newest
 * snapshot with the log after it replayed (or the whole log).
 */
#include <stdio.h>

#ifndef TC_COORDINATOR_H
#define TC_COORDINATOR_H

#include "config.h"

#include <czmq.h>

typedef struct tc_coord tc_coord_t;

/* Opens the store, replays the log, binds the sockets. Caller owns *out.
 * Returns 0 or a TC_E* code (the reason is logged). */
int tc_coord_new(const tc_coord_config_t *cfg, tc_coord_t **out);

/* The event loop (borrowed; valid until tc_coord_destroy()), so main()
 * can add a timer of its own (the systemd watchdog) before tc_coord_run(). */
zloop_t *tc_coord_loop(tc_coord_t *c);

/* Runs the event loop until SIGINT/SIGTERM (returns 0) or a failure the
 * coordinator cannot survive (returns its code; a full disk is not one). */
int tc_coord_run(tc_coord_t *c);

/* Closes sockets and the store. NULL-safe; nulls *pc. */
void tc_coord_destroy(tc_coord_t **pc);

/* --verify-replay: replays the whole log in cfg->data (read-only, beside
 * a running coordinator too), compares the result with the state built
 * from the newest snapshot and the stored snapshot with a replay up to
 * it, and reports on `out` where they differ. Returns 0 if all agree, 1
 * otherwise. */
int tc_coord_verify_replay(const tc_coord_config_t *cfg, FILE *out);

#endif
