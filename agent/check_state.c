/*
 * check_state.c - Nagios soft/hard state logic; see check_state.h.
 */
#include "check_state.h"

#include <assert.h>

tc_check_status_t tc_check_status_pending(void)
{
    tc_check_status_t s = {.pending = true};
    return s;
}

bool tc_check_status_next(const tc_check_status_t *cur, tc_check_state_t result, uint32_t retries,
                          tc_check_status_t *next)
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

    bool emit = n.hard && (!cur->reported || cur->hard_state != result);
    if (emit) {
        n.reported = true;
        n.hard_state = result;
    }
    *next = n;
    return emit;
}
