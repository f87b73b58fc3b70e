/*
 * agent.h - the tocsin agent: schedules checks, keeps their soft/hard
 * state, spools hard state changes and delivers them to the coordinator.
 *
 * One tc_agent_t per process, driven by one zloop on the main thread that
 * holds the DEALER socket, its monitor, the check timers and the check
 * processes' pipes. The delivery protocol:
 *
 *   - Hello (seq 0) after every (re)connection; the coordinator answers with
 *     an Ack carrying the highest seq it stored for us. Events up to it leave
 *     the spool, the rest is sent in seq order.
 *   - New events are spooled (durably) first and sent at once while the link
 *     is in sync. Events only ever go out in seq order within a connection:
 *     the coordinator drops a seq that is not above the highest it stored, so
 *     sending 7 before a lost 6 would lose 6 for good. After a failed send or
 *     a disconnection nothing new is sent until the next Hello/Ack.
 *   - A Heartbeat (seq 0) every `heartbeat`.
 *   - If events are outstanding (or a Hello is unanswered) and no Ack came
 *     for max(3 s, 2 x heartbeat), Hello again and resend the whole spool;
 *     the coordinator drops duplicates by (agent id, seq).
 *   - An Ack prunes the spool; a Reject naming a spooled seq deletes that
 *     event (it can never be accepted, and resending it forever would wedge
 *     the spool).
 */
#ifndef TC_AGENT_AGENT_H
#define TC_AGENT_AGENT_H

#include "check_state.h"
#include "config.h"
#include "spool.h"

#include <czmq.h>
#include <stdio.h>

typedef struct tc_agent_t tc_agent_t;

/* Creates the agent for `cfg` (borrowed; must outlive the agent): opens the
 * spool in cfg->spool, creates the DEALER socket connecting to
 * cfg->coordinator, and registers the heartbeat and check timers in a new
 * loop. On success *out is a new agent the caller owns. Returns 0, or an error
 * code with a one-line reason in `why` (may be NULL). */
int tc_agent_new(const tc_agent_config_t *cfg, tc_agent_t **out, char *why, size_t whylen);

/* Kills running checks, closes the socket and the spool. NULL-safe; nulls
 * *pagent. */
void tc_agent_destroy(tc_agent_t **pagent);

/* Runs the loop until SIGINT/SIGTERM or until a handler added by the caller
 * returns -1. Returns 0. */
int tc_agent_run(tc_agent_t *a);

/* The agent's loop (borrowed, valid until tc_agent_destroy), so a caller
 * (a test) can add its own sockets and timers. */
zloop_t *tc_agent_loop(tc_agent_t *a);

/* The agent's spool (borrowed, valid until tc_agent_destroy). */
tc_spool_t *tc_agent_spool(tc_agent_t *a);

/* The soft/hard status of check `index` (0-based, config order), or NULL
 * if there is no such check. Borrowed; valid until the next loop event. */
const tc_check_status_t *tc_agent_check_status(const tc_agent_t *a, size_t index);

/* Runs every check of `cfg` once, in parallel, waits for all of them and
 * prints one line per check in configuration order to `out`:
 *   NAME SERVICE STATE OUTPUT
 * No spool, no socket, no soft/hard logic: the raw result, for testing a
 * configuration by hand. Returns 0, or TC_EIO if interrupted. */
int tc_agent_run_once(const tc_agent_config_t *cfg, FILE *out);

#endif
