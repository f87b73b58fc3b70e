/*
 * check_state.h - Nagios soft/hard state logic for one check.
 *
 * Pure: no I/O, no clock, no allocation. The agent keeps one
 * tc_check_status_t per check and feeds it each result; the function says
 * whether the result is a hard state change worth an event. Keeping it pure
 * makes the rules testable table-driven and keeps them out of the I/O code.
 *
 * Rules:
 * - A check starts PENDING (no result yet, no hard state).
 * - An OK result is hard at once (attempt 1).
 * - A non-OK result counts consecutive non-OK results in `attempt` (WARNING
 *   then CRITICAL counts as two); the state is soft until attempt reaches
 *   `retries`, then hard. attempt saturates at `retries`, so an event never
 *   says attempt > max_attempts.
 * - An event is due whenever the hard state differs from the last hard state
 *   reported, and for the first hard state after start (even OK), so the
 *   coordinator learns of recoveries that happened while the agent was down.
 *   A change between non-OK states while hard (CRITICAL -> WARNING) is a
 *   hard change too.
 */
#ifndef TC_AGENT_CHECK_STATE_H
#define TC_AGENT_CHECK_STATE_H

#include "msg.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool pending;                /* no result yet; the other fields are 0 */
    tc_check_state_t state;      /* state of the latest result */
    uint32_t attempt;            /* see the rules above */
    bool hard;                   /* latest state is hard */
    bool reported;               /* a hard state has been reported */
    tc_check_state_t hard_state; /* last hard state reported, if reported */
} tc_check_status_t;

/* The status of a check that has not run yet. */
tc_check_status_t tc_check_status_pending(void);

/* Applies `result` to `cur` under `retries` (>= 1) and writes the new status
 * to *next (may alias cur). Returns true if the new status is a hard state
 * change that must be reported as an event. */
bool tc_check_status_next(const tc_check_status_t *cur, tc_check_state_t result, uint32_t retries,
                          tc_check_status_t *next);

#endif
