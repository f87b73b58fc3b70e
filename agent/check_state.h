/*
 * check_state.h - Nagios soft/hard state logic and flap detection for one
 * check: which results become events.
 *
 * Pure: no I/O, no clock, no allocation. The agent keeps one
 * tc_check_status_t per check and feeds it each result; the function says
 * whether an event is due and what it says. Keeping it pure makes the
 * rules testable table-driven and keeps them out of the I/O code.
 *
 * Soft and hard:
 * - A check starts PENDING (no result yet, no hard state).
 * - An OK result is hard at once (attempt 1).
 * - A non-OK result counts consecutive non-OK results in `attempt` (WARNING
 *   then CRITICAL counts as two); the state is soft until attempt reaches
 *   `retries`, then hard. attempt saturates at `retries`, so an event never
 *   says attempt > max_attempts.
 * - An event is due whenever the hard state differs from what was last
 *   reported, and for the first hard state after start (even OK), so the
 *   coordinator learns of recoveries that happened while the agent was down.
 *   A change between non-OK states while hard (CRITICAL -> WARNING) is a
 *   hard change too.
 *
 * Flapping (flap.h), when enabled for the check:
 * - Every result, soft or hard, goes into the flap history first.
 * - When the check starts flapping, ONE event is due: flapping, with the
 *   worst state of the window and the share of changes. While it flaps, no
 *   other event is due, whatever the soft/hard logic (which keeps running
 *   underneath) says.
 * - When it stops flapping, an event with its real current hard state is
 *   due, flapping = false, even if that state equals the flap event's.
 *   (Until the check has had a hard state at all, nothing is due.)
 *
 * An event that could not be stored is simply due again with the next
 * result: the status only counts as reported once the caller says so with
 * tc_check_status_reported().
 */
#ifndef TC_AGENT_CHECK_STATE_H
#define TC_AGENT_CHECK_STATE_H

#include "flap.h"
#include "msg.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool pending;                /* no result yet; the other fields are 0 */
    tc_check_state_t state;      /* state of the latest result */
    uint32_t attempt;            /* see the rules above */
    bool hard;                   /* latest state is hard */
    bool have_hard;              /* a hard state has been reached */
    tc_check_state_t hard_state; /* the current hard state, if have_hard */
    tc_flap_t flap;              /* history; flap.flapping is the verdict */
    /* What the coordinator has been told. */
    bool reported;                   /* an event has been stored */
    tc_check_state_t reported_state; /* its state */
    bool reported_flapping;          /* and whether it said flapping */
} tc_check_status_t;

/* What an event due says. */
typedef struct {
    tc_check_state_t state;
    bool flapping;
    uint32_t flap_percent; /* the weighted share of changes, 0..100 */
} tc_check_report_t;

/* The status of a check that has not run yet. */
tc_check_status_t tc_check_status_pending(void);

/* Applies `result` to `cur` under `retries` (>= 1) and the flap limits
 * `flap` (borrowed; flap detection off unless flap->enabled), and writes
 * the new status to *next (may alias cur). Returns true if an event is due,
 * with what it says in *report (may be NULL). */
bool tc_check_status_next(const tc_check_status_t *cur, tc_check_state_t result, uint32_t retries,
                          const tc_flap_limits_t *flap, tc_check_status_t *next,
                          tc_check_report_t *report);

/* Records that the event `report` was stored. */
void tc_check_status_reported(tc_check_status_t *st, const tc_check_report_t *report);

#endif
