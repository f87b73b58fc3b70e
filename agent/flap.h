/*
 * flap.h - Nagios-style flap detection for one check.
 *
 * A check flaps when it keeps changing state. As in Nagios, the detector
 * keeps the last TC_FLAP_WINDOW (21) results and computes the share of
 * the 20 possible changes between consecutive results that were changes,
 * weighted towards the recent: the newest change weighs 1.2, the oldest
 * 0.8, linearly between, so that 20 changes out of 20 are 100%. Before 21
 * results exist the missing ones count as equal to the oldest (no change),
 * as Nagios does by starting the history full of the first state.
 *
 * A check starts flapping when the share rises above `high` percent and
 * stops when it falls below `low`; in between it keeps what it was
 * (hysteresis). Every result counts, soft or hard, and any change of
 * state (OK -> CRITICAL, CRITICAL -> WARNING) is a change.
 *
 * Pure: a plain value, no I/O, no clock, no allocation; tested
 * table-driven. Treat the fields of tc_flap_t as private.
 */
#ifndef TC_AGENT_FLAP_H
#define TC_AGENT_FLAP_H

#include "msg.h"

#include <stdbool.h>
#include <stdint.h>

#define TC_FLAP_WINDOW 21
#define TC_FLAP_DEFAULT_LOW 5   /* percent; Nagios' default for services */
#define TC_FLAP_DEFAULT_HIGH 20 /* percent; Nagios' default for services */

/* A check's thresholds, from its configuration. */
typedef struct {
    bool enabled;
    uint32_t low, high; /* percent, 0 < low < high < 100 */
} tc_flap_limits_t;

/* The defaults: enabled, 5 and 20. */
tc_flap_limits_t tc_flap_defaults(void);

typedef struct {
    uint8_t states[TC_FLAP_WINDOW]; /* ring of tc_check_state_t */
    uint8_t n;                      /* results held, up to the window */
    uint8_t next;                   /* where the next result goes */
    bool flapping;
    double share; /* percent, of the results held */
} tc_flap_t;

/* An empty history, not flapping. */
tc_flap_t tc_flap_new(void);

/* Adds `result` under `lim` (which must be enabled). Returns true if the
 * flapping verdict changed with this result (started or stopped). */
bool tc_flap_add(tc_flap_t *f, tc_check_state_t result, const tc_flap_limits_t *lim);

/* The weighted share of changes now, in percent (0..100). */
double tc_flap_share(const tc_flap_t *f);

/* The share rounded to a whole percent, for events. */
uint32_t tc_flap_percent(const tc_flap_t *f);

/* The worst state among the results held (CRITICAL > UNKNOWN > WARNING >
 * OK); OK if none. */
tc_check_state_t tc_flap_worst(const tc_flap_t *f);

/* Orders states by how bad they are: OK 0, WARNING 1, UNKNOWN 2, CRITICAL 3. */
int tc_check_state_severity(tc_check_state_t s);

#endif
