/*
 * agent.h - the tocsin agent: schedules checks, keeps their soft/hard
 * state and hands each hard state change to its outbox, which spools it
 * and delivers it to the coordinator (outbox/outbox.h: Hello/Ack, resend,
 * window and pace, heartbeats, a full spool).
 *
 * One tc_agent_t per process, driven by one zloop on the main thread that
 * holds the outbox's socket and timers, the check timers and the check
 * processes' pipes. Each event carries, as its time, the moment the check
 * reported the change; it keeps that time through the spool, resends and
 * restarts.
 */
#ifndef TC_AGENT_AGENT_H
#define TC_AGENT_AGENT_H

#include "check_state.h"
#include "config.h"
#include "outbox.h"
#include "prom.h"

#include <czmq.h>
#include <stdio.h>

typedef struct tc_agent_t tc_agent_t;

/* Creates the agent for `cfg` (borrowed; must outlive the agent): a new
 * loop, the outbox on it (spool in cfg->spool, link to cfg->coordinator)
 * and the check timers.
 * On success *out is a new agent the caller owns. Returns 0, or an error
 * code with a one-line reason in `why` (may be NULL). */
int tc_agent_new(const tc_agent_config_t *cfg, tc_agent_t **out, char *why, size_t whylen);

/* Kills running checks, closes the outbox (socket and spool). NULL-safe; nulls
 * *pagent. */
void tc_agent_destroy(tc_agent_t **pagent);

/* Runs the loop until SIGINT/SIGTERM or until a handler added by the caller
 * returns -1. Returns 0. */
int tc_agent_run(tc_agent_t *a);

/* The agent's loop (borrowed, valid until tc_agent_destroy), so a caller
 * (a test) can add its own sockets and timers. */
zloop_t *tc_agent_loop(tc_agent_t *a);

/* The agent's outbox (borrowed, valid until tc_agent_destroy), for its
 * state (tc_outbox_stats()). */
tc_outbox_t *tc_agent_outbox(tc_agent_t *a);

/* The soft/hard status of check `index` (0-based, config order), or NULL
 * if there is no such check. Borrowed; valid until the next loop event. */
const tc_check_status_t *tc_agent_check_status(const tc_agent_t *a, size_t index);

/* The number of checks configured. */
size_t tc_agent_nchecks(const tc_agent_t *a);

/* What a scrape shows of one check (agent/metrics.h). */
typedef struct {
    const tc_check_def_t *def;           /* borrowed from the configuration */
    const tc_check_status_t *status;     /* borrowed; valid until the next loop event */
    uint64_t runs[TC_STATE_UNKNOWN + 1]; /* results since start, by state */
} tc_agent_check_info_t;

/* Fills *info for check `index` (0-based, config order). Returns 0, or
 * TC_EINVAL if there is no such check. */
int tc_agent_check_info(const tc_agent_t *a, size_t index, tc_agent_check_info_t *info);

/* How long the finished check runs took, in seconds (every check;
 * runs that could not start are not in it). Borrowed, valid until
 * tc_agent_destroy. */
const tc_histogram_t *tc_agent_run_seconds(const tc_agent_t *a);

/* Hard changes since start that a full spool (or disk) did not take: the
 * outbox keeps each check's latest and reports the count as EventsLost
 * when there is room. */
uint64_t tc_agent_left_out(const tc_agent_t *a);

/* Runs every check of `cfg` once, in parallel, waits for all of them and
 * prints one line per check in configuration order to `out`:
 *   NAME SERVICE STATE OUTPUT
 * No spool, no socket, no soft/hard logic: the raw result, for testing a
 * configuration by hand. Returns 0, or TC_EIO if interrupted. */
int tc_agent_run_once(const tc_agent_config_t *cfg, FILE *out);

#endif
