/*
 * flap.c - weighted share of state changes; see flap.h.
 */
#include "flap.h"

#include <assert.h>

#define S_CHANGES (TC_FLAP_WINDOW - 1)
#define S_W_OLD 0.8
#define S_W_NEW 1.2

tc_flap_limits_t tc_flap_defaults(void)
{
    tc_flap_limits_t l = {true, TC_FLAP_DEFAULT_LOW, TC_FLAP_DEFAULT_HIGH};
    return l;
}

tc_flap_t tc_flap_new(void)
{
    tc_flap_t f = {0};
    return f;
}

/* The i-th newest result held (0: the newest). */
static tc_check_state_t s_back(const tc_flap_t *f, unsigned i)
{
    unsigned idx = (f->next + TC_FLAP_WINDOW - 1u - i) % TC_FLAP_WINDOW;
    return (tc_check_state_t)f->states[idx];
}

static double s_share(const tc_flap_t *f)
{
    double sum = 0;
    /* Change j (0: between the newest and the one before) weighs from 1.2
     * down to 0.8 for the oldest of the 20. */
    for (unsigned j = 0; j + 1 < f->n; j++)
        if (s_back(f, j) != s_back(f, j + 1))
            sum += S_W_NEW - (double)j * (S_W_NEW - S_W_OLD) / (S_CHANGES - 1);
    return sum * 100.0 / S_CHANGES;
}

bool tc_flap_add(tc_flap_t *f, tc_check_state_t result, const tc_flap_limits_t *lim)
{
    assert(lim->enabled && lim->low < lim->high);
    f->states[f->next] = (uint8_t)result;
    f->next = (uint8_t)((f->next + 1) % TC_FLAP_WINDOW);
    if (f->n < TC_FLAP_WINDOW)
        f->n++;
    f->share = s_share(f);
    bool was = f->flapping;
    if (!f->flapping && f->share > (double)lim->high)
        f->flapping = true;
    else if (f->flapping && f->share < (double)lim->low)
        f->flapping = false;
    return was != f->flapping;
}

double tc_flap_share(const tc_flap_t *f)
{
    return f->share;
}

uint32_t tc_flap_percent(const tc_flap_t *f)
{
    double p = f->share + 0.5;
    return p <= 0 ? 0 : p >= 100 ? 100 : (uint32_t)p;
}

int tc_check_state_severity(tc_check_state_t s)
{
    switch (s) {
    case TC_STATE_OK: return 0;
    case TC_STATE_WARNING: return 1;
    case TC_STATE_UNKNOWN: return 2;
    case TC_STATE_CRITICAL: return 3;
    }
    return 2;
}

tc_check_state_t tc_flap_worst(const tc_flap_t *f)
{
    tc_check_state_t w = TC_STATE_OK;
    for (unsigned i = 0; i < f->n; i++) {
        tc_check_state_t s = s_back(f, i);
        if (tc_check_state_severity(s) > tc_check_state_severity(w))
            w = s;
    }
    return w;
}
