/*
 * check_state.c - soft/hard state logic and flapping; see check_state.h.
 */
#include "check_state.h"

#include <assert.h>

tc_check_status_t tc_check_status_pending(void)
{
    tc_check_status_t s = {.pending = true, .flap = tc_flap_new()};
    return s;
}

bool tc_check_status_next(const tc_check_status_t *cur, tc_check_state_t result, uint32_t retries,
                          const tc_flap_limits_t *flap, tc_check_status_t *next,
                          tc_check_report_t *report)
{
    assert(retries >= 1);
    tc_check_status_t n = *cur;
    if (result == TC_STATE_OK) {
        n.attempt = 1;
        n.hard = true;
    } else {
        bool was_failing = !cur->pending && cur->state != TC_STATE_OK;
        n.attempt = was_failing ? cur->attempt + 1 : 1;
        if (n.attempt > retries)
            n.attempt = retries;
        n.hard = n.attempt >= retries;
    }
    n.pending = false;
    n.state = result;
    if (n.hard) {
        n.have_hard = true;
        n.hard_state = result;
    }
    if (flap && flap->enabled)
        tc_flap_add(&n.flap, result, flap);
    else
        n.flap.flapping = false;

    tc_check_report_t r = {0};
    bool due;
    if (n.flap.flapping) {
        /* One event for the whole episode. */
        due = !cur->reported || !cur->reported_flapping;
        r.state = tc_flap_worst(&n.flap);
        r.flapping = true;
    } else {
        due = n.have_hard &&
              (!cur->reported || cur->reported_flapping || cur->reported_state != n.hard_state);
        r.state = n.hard_state;
    }
    r.flap_percent = tc_flap_percent(&n.flap);
    *next = n;
    if (report)
        *report = r;
    return due;
}

void tc_check_status_reported(tc_check_status_t *st, const tc_check_report_t *report)
{
    st->reported = true;
    st->reported_state = report->state;
    st->reported_flapping = report->flapping;
}
