/*
 * pace.c - token bucket with back-off; see pace.h.
 */
#include "pace.h"

#include <stdlib.h>

/* The bucket holds this much sending time. */
#define S_BURST_MS 50
/* Slowest pace after repeated THROTTLED replies, events per second. */
#define S_RATE_MIN 10.0
/* Growth per tick once nothing was throttled for S_CALM_MS. */
#define S_GROWTH 1.1
#define S_CALM_MS 2000

struct tc_pace_t {
    double rate, rate_max, tokens;
    int64_t tokens_ms;
    int64_t throttled_ms;
};

tc_pace_t *tc_pace_new(double rate_max, int64_t now_ms)
{
    tc_pace_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->rate = p->rate_max = rate_max > 0 ? rate_max : 1;
    p->tokens_ms = now_ms;
    p->throttled_ms = now_ms - S_CALM_MS;
    p->tokens = 1.0;
    return p;
}

void tc_pace_destroy(tc_pace_t **ppace)
{
    if (!ppace || !*ppace)
        return;
    free(*ppace);
    *ppace = NULL;
}

uint64_t tc_pace_allowed(tc_pace_t *p, int64_t now_ms)
{
    double burst = p->rate * S_BURST_MS / 1000.0;
    if (burst < 1.0)
        burst = 1.0;
    if (now_ms > p->tokens_ms)
        p->tokens += (double)(now_ms - p->tokens_ms) * p->rate / 1000.0;
    if (p->tokens > burst)
        p->tokens = burst;
    p->tokens_ms = now_ms;
    return p->tokens >= 1.0 ? (uint64_t)p->tokens : 0;
}

void tc_pace_spend(tc_pace_t *p, uint64_t n)
{
    p->tokens -= (double)n;
}

int64_t tc_pace_wait_ms(const tc_pace_t *p)
{
    if (p->tokens >= 1.0)
        return 1;
    return (int64_t)((1.0 - p->tokens) * 1000.0 / p->rate) + 1;
}

void tc_pace_throttled(tc_pace_t *p, int64_t now_ms)
{
    p->rate = p->rate / 2 > S_RATE_MIN ? p->rate / 2 : S_RATE_MIN;
    p->tokens = 0;
    p->tokens_ms = now_ms;
    p->throttled_ms = now_ms;
}

void tc_pace_tick(tc_pace_t *p, int64_t now_ms)
{
    if (p->rate >= p->rate_max || now_ms - p->throttled_ms < S_CALM_MS)
        return;
    p->rate *= S_GROWTH;
    if (p->rate > p->rate_max)
        p->rate = p->rate_max;
}

double tc_pace_rate(const tc_pace_t *p)
{
    return p->rate;
}
