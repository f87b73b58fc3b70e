/* Unit tests for client/follow.c: ordering, duplicates, gap filling and
 * catch-up, against an in-memory broadcast store standing in for the
 * coordinator's API (the API client itself is tested in test_client.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "follow.h"

#include <string.h>

#define S_MAX 64

typedef struct {
    /* The "coordinator": which sequences it has, up to `top`. */
    uint64_t top;
    bool missing[S_MAX];
    size_t page;     /* broadcasts per fetch */
    int fetch_error; /* returned instead of a page when non-zero */
    bool lie_more;   /* claim more even when nothing is left */
    uint64_t fetch_from[S_MAX];
    size_t nfetch;
    /* What the follower emitted. */
    uint64_t out[S_MAX];
    size_t nout;
    size_t stop_after; /* emit returns 1 at this many; 0 = never */
} s_world_t;

static tc_msg_t s_bcast(uint64_t seq)
{
    tc_msg_t m = {0};
    m.version = 1;
    strcpy(m.sender, "coordinator");
    m.seq = seq;
    m.time_ms = 1795507200000LL + (int64_t)seq;
    m.kind = TC_MSG_BROADCAST;
    m.u.bcast.kind = TC_BCAST_HOST_UP;
    strcpy(m.u.bcast.topic, "host.up");
    strcpy(m.u.bcast.host, "web-01");
    return m;
}

static int s_fetch(void *arg, uint64_t from, tc_api_reply_t **preply)
{
    s_world_t *w = arg;
    assert_true(w->nfetch < S_MAX);
    w->fetch_from[w->nfetch++] = from;
    if (w->fetch_error)
        return w->fetch_error;
    tc_api_reply_t *r = tc_api_reply_new();
    assert_non_null(r);
    uint64_t seq = from;
    for (; seq <= w->top && r->nbroadcasts < w->page; seq++) {
        if (w->missing[seq])
            continue;
        tc_msg_t m = s_bcast(seq);
        assert_int_equal(tc_api_reply_add_broadcast(r, &m), 0);
    }
    r->more = seq <= w->top || w->lie_more;
    *preply = r;
    return 0;
}

static int s_emit(void *arg, const tc_msg_t *m)
{
    s_world_t *w = arg;
    assert_true(w->nout < S_MAX);
    assert_int_equal(m->kind, TC_MSG_BROADCAST);
    w->out[w->nout++] = m->seq;
    return w->stop_after && w->nout >= w->stop_after ? 1 : 0;
}

static void s_expect(const s_world_t *w, const uint64_t *want, size_t n)
{
    assert_int_equal(w->nout, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(w->out[i], want[i]);
}

#define EXPECT(w, ...)                                                                             \
    do {                                                                                           \
        const uint64_t want_[] = {__VA_ARGS__};                                                    \
        s_expect((w), want_, sizeof want_ / sizeof want_[0]);                                      \
    } while (0)

static int s_live(tc_follow_t *f, uint64_t seq)
{
    tc_msg_t m = s_bcast(seq);
    return tc_follow_live(f, &m);
}

static void test_live_only_drops_duplicates(void **state)
{
    (void)state;
    s_world_t w = {.top = 20, .page = 5};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    assert_non_null(f);
    assert_false(tc_follow_started(f));
    assert_int_equal(tc_follow_catch_up(f), 0); /* no position: nothing */
    assert_int_equal(s_live(f, 5), 0);
    assert_true(tc_follow_started(f));
    assert_int_equal(s_live(f, 6), 0);
    assert_int_equal(s_live(f, 6), 0);
    assert_int_equal(s_live(f, 4), 0);
    assert_int_equal(s_live(f, 7), 0);
    EXPECT(&w, 5, 6, 7);
    assert_int_equal(w.nfetch, 0);
    assert_int_equal(tc_follow_last(f), 7);
    tc_follow_destroy(&f);
    assert_null(f);
}

/* Broadcasts lost while reconnecting, with nothing published after them,
 * are noticed through the publisher's heartbeat. */
static void test_heartbeat_fills_silent_gap(void **state)
{
    (void)state;
    s_world_t w = {.top = 9, .page = 5};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    assert_non_null(f);
    assert_int_equal(s_live(f, 3), 0);
    assert_int_equal(s_live(f, 4), 0);
    assert_int_equal(tc_follow_heartbeat(f, 4), 0); /* nothing new */
    assert_int_equal(w.nfetch, 0);
    assert_int_equal(tc_follow_heartbeat(f, 9), 0);
    EXPECT(&w, 3, 4, 5, 6, 7, 8, 9);
    assert_int_equal(tc_follow_last(f), 9);
    assert_int_equal(s_live(f, 9), 0); /* the late live copy is a duplicate */
    assert_int_equal(w.nout, 7);
    tc_follow_destroy(&f);

    /* Without a position, a heartbeat sets one: the feed starts after it. */
    s_world_t w2 = {.top = 9, .page = 5};
    f = tc_follow_new(s_fetch, s_emit, &w2);
    assert_int_equal(tc_follow_heartbeat(f, 8), 0);
    assert_true(tc_follow_started(f));
    assert_int_equal(w2.nout, 0);
    assert_int_equal(s_live(f, 9), 0);
    EXPECT(&w2, 9);
    assert_int_equal(w2.nfetch, 0);
    tc_follow_destroy(&f);
}

static void test_live_gap_is_filled_in_pages(void **state)
{
    (void)state;
    s_world_t w = {.top = 10, .page = 2};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    assert_int_equal(s_live(f, 5), 0);
    assert_int_equal(s_live(f, 9), 0);
    /* 6,7 then 8,9: the second page already holds the live one. */
    EXPECT(&w, 5, 6, 7, 8, 9);
    assert_int_equal(w.nfetch, 2);
    assert_int_equal(w.fetch_from[0], 6);
    assert_int_equal(w.fetch_from[1], 8);
    assert_int_equal(s_live(f, 9), 0);
    assert_int_equal(s_live(f, 10), 0);
    EXPECT(&w, 5, 6, 7, 8, 9, 10);
    tc_follow_destroy(&f);
}

static void test_catch_up_then_live(void **state)
{
    (void)state;
    s_world_t w = {.top = 7, .page = 2};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    tc_follow_start_at(f, 3);
    assert_int_equal(tc_follow_last(f), 2);
    assert_int_equal(tc_follow_catch_up(f), 0);
    EXPECT(&w, 3, 4, 5, 6, 7);
    assert_int_equal(w.nfetch, 3);
    assert_int_equal(w.fetch_from[2], 7);
    /* Published while we were catching up: already printed. */
    assert_int_equal(s_live(f, 6), 0);
    assert_int_equal(s_live(f, 7), 0);
    assert_int_equal(s_live(f, 8), 0);
    EXPECT(&w, 3, 4, 5, 6, 7, 8);
    assert_int_equal(w.nfetch, 3);
    tc_follow_destroy(&f);
}

static void test_from_zero_means_everything(void **state)
{
    (void)state;
    s_world_t w = {.top = 3, .page = 10};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    tc_follow_start_at(f, 0);
    assert_int_equal(tc_follow_catch_up(f), 0);
    EXPECT(&w, 1, 2, 3);
    assert_int_equal(w.fetch_from[0], 1);
    tc_follow_destroy(&f);
}

static void test_catch_up_empty_store(void **state)
{
    (void)state;
    s_world_t w = {.top = 0, .page = 10};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    tc_follow_start_at(f, 1);
    assert_int_equal(tc_follow_catch_up(f), 0);
    assert_int_equal(w.nout, 0);
    assert_int_equal(w.nfetch, 1);
    /* The first live one after an empty history is seq 1: no gap. */
    assert_int_equal(s_live(f, 1), 0);
    EXPECT(&w, 1);
    assert_int_equal(w.nfetch, 1);
    tc_follow_destroy(&f);
}

static void test_lost_range_is_skipped_in_order(void **state)
{
    (void)state;
    s_world_t w = {.top = 7, .page = 2};
    w.missing[4] = w.missing[5] = true;
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    tc_follow_start_at(f, 1);
    assert_int_equal(tc_follow_catch_up(f), 0);
    EXPECT(&w, 1, 2, 3, 6, 7);
    tc_follow_destroy(&f);
}

static void test_unfillable_live_gap(void **state)
{
    (void)state;
    /* The coordinator lags behind its own publisher: it has only 1..3 when
     * 5 arrives. The follower takes what there is and moves on. */
    s_world_t w = {.top = 3, .page = 10};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    assert_int_equal(s_live(f, 1), 0);
    assert_int_equal(s_live(f, 5), 0);
    EXPECT(&w, 1, 2, 3, 5);
    assert_int_equal(w.nfetch, 1);
    tc_follow_destroy(&f);
}

static void test_more_without_progress_ends(void **state)
{
    (void)state;
    s_world_t w = {.top = 2, .page = 10, .lie_more = true};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    tc_follow_start_at(f, 1);
    assert_int_equal(tc_follow_catch_up(f), 0);
    EXPECT(&w, 1, 2);
    assert_int_equal(w.nfetch, 2);
    tc_follow_destroy(&f);
}

static void test_stop_from_emit(void **state)
{
    (void)state;
    s_world_t w = {.top = 10, .page = 4, .stop_after = 3};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    tc_follow_start_at(f, 1);
    assert_int_equal(tc_follow_catch_up(f), 1);
    EXPECT(&w, 1, 2, 3);
    assert_int_equal(tc_follow_last(f), 3);
    tc_follow_destroy(&f);
}

static void test_fetch_error_keeps_position(void **state)
{
    (void)state;
    s_world_t w = {.top = 10, .page = 4};
    tc_follow_t *f = tc_follow_new(s_fetch, s_emit, &w);
    assert_int_equal(s_live(f, 2), 0);
    w.fetch_error = TC_ETIMEOUT;
    assert_int_equal(s_live(f, 5), TC_ETIMEOUT);
    EXPECT(&w, 2);
    assert_int_equal(tc_follow_last(f), 2);
    /* Once the API answers again the gap is filled on the next message. */
    w.fetch_error = 0;
    assert_int_equal(s_live(f, 6), 0);
    EXPECT(&w, 2, 3, 4, 5, 6);
    tc_follow_destroy(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_only_drops_duplicates),
        cmocka_unit_test(test_live_gap_is_filled_in_pages),
        cmocka_unit_test(test_heartbeat_fills_silent_gap),
        cmocka_unit_test(test_catch_up_then_live),
        cmocka_unit_test(test_from_zero_means_everything),
        cmocka_unit_test(test_catch_up_empty_store),
        cmocka_unit_test(test_lost_range_is_skipped_in_order),
        cmocka_unit_test(test_unfillable_live_gap),
        cmocka_unit_test(test_more_without_progress_ends),
        cmocka_unit_test(test_stop_from_emit),
        cmocka_unit_test(test_fetch_error_keeps_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
