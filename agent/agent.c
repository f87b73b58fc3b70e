/*
 * agent.c - the agent's event loop and check state; see agent.h. Delivery
 * is the outbox's (outbox/outbox.h).
 *
 * Timers and readers registered here get the agent, or a check slot of the
 * agent's fixed `checks` array, as their argument. Both live until
 * tc_agent_destroy(), which never restarts the loop, so those pointers
 * cannot dangle while zloop might still use them.
 */
#include "agent.h"

#include "checker.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    tc_agent_t *agent;
    const tc_check_def_t *def;
    tc_check_status_t status;
    uint64_t runs[TC_STATE_UNKNOWN + 1]; /* results by state, for metrics */
    double started_s;                    /* when the current run started */
} s_check_t;

struct tc_agent_t {
    const tc_agent_config_t *cfg;
    zloop_t *loop;
    tc_outbox_t *outbox;
    tc_checker_t *checker;
    s_check_t *checks;
    size_t nchecks;
    tc_histogram_t run_seconds; /* how long finished runs took */
    uint64_t left_out;          /* transitions a full spool did not take */
};

/* Seconds on a monotonic clock, finer than tc_mono_ms(): a tcp check on
 * the same host finishes well inside a millisecond. */
static double s_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- check results -------------------------------------------------------- */

/* Fills the event's check fields from the latest result `res`, the new
 * status and what the report says (check_state.h). A flapping event stands
 * for the window, so its text says so before the latest output. */
static void s_fill_event(tc_check_result_t *c, const s_check_t *ck, const tc_check_result_t *res,
                         const tc_check_status_t *st, const tc_check_report_t *rep)
{
    *c = *res;
    snprintf(c->check, sizeof c->check, "%s", ck->def->name);
    snprintf(c->service, sizeof c->service, "%s", ck->def->service);
    c->state = rep->state;
    c->max_attempts = ck->def->retries;
    /* The latest result's attempt, unless the event carries another state
     * (a flap's worst, or the hard state under a soft result). */
    c->attempt = rep->state == st->state && !rep->flapping ? st->attempt
                 : rep->state == TC_STATE_OK               ? 1
                                                           : ck->def->retries;
    c->hard = true;
    c->flapping = rep->flapping;
    c->flap_percent = rep->flap_percent;
    char text[TC_TEXT_MAX + 160];
    if (rep->flapping)
        snprintf(text, sizeof text,
                 "flapping: %u%% of the last %d results changed state (worst %s); latest: %s",
                 rep->flap_percent, TC_FLAP_WINDOW, tc_check_state_name(rep->state), res->output);
    else if (ck->status.reported_flapping)
        snprintf(text, sizeof text, "stopped flapping (%u%%): %s", rep->flap_percent, res->output);
    else
        return;
    tc_strlcpy_utf8(c->output, text, sizeof c->output);
}

/* Hands the event for a hard change to the outbox, which spools and sends
 * it. Returns 0 if the outbox kept it (spooled, or counted as left out
 * while the spool is full: either way the coordinator will hear of it). */
static int s_emit(tc_agent_t *a, s_check_t *ck, const tc_check_result_t *res,
                  const tc_check_status_t *st, const tc_check_report_t *rep)
{
    tc_msg_t m;
    memset(&m, 0, sizeof m);
    m.kind = TC_MSG_CHECK_RESULT;
    /* When the check observed the change: the event time, kept through
     * the spool, resends and restarts. */
    m.time_ms = tc_now_ms();
    tc_check_result_t *c = &m.u.check;
    s_fill_event(c, ck, res, st, rep);
    snprintf(c->host, sizeof c->host, "%s", a->cfg->id);

    int rc = tc_outbox_append(a->outbox, &m);
    if (rc != 0 && rc != TC_EFULL) {
        tc_error("cannot keep the event for check %s: %s", ck->def->name, tc_strerror(rc));
        return rc;
    }
    if (rc == TC_EFULL)
        a->left_out++;
    const char *was = !ck->status.reported ? "PENDING"
                      : ck->status.reported_flapping
                          ? "FLAPPING"
                          : tc_check_state_name(ck->status.reported_state);
    const char *how = c->flapping ? "flapping" : "hard";
    if (rc == 0)
        tc_info("check %s (service %s): %s -> %s (%s): %s [seq %" PRIu64 "]", ck->def->name,
                ck->def->service, was, tc_check_state_name(c->state), how, c->output, m.seq);
    else
        tc_info("check %s (service %s): %s -> %s (%s): %s [not spooled: reported as lost "
                "when there is room]",
                ck->def->name, ck->def->service, was, tc_check_state_name(c->state), how,
                c->output);
    return 0;
}

static void s_apply_result(tc_agent_t *a, s_check_t *ck, const tc_check_result_t *res)
{
    if (res->state <= TC_STATE_UNKNOWN)
        ck->runs[res->state]++;
    tc_check_status_t next;
    tc_check_report_t rep;
    bool emit = tc_check_status_next(&ck->status, res->state, ck->def->retries, &ck->def->flap,
                                     &next, &rep);
    if (next.flap.flapping != ck->status.flap.flapping)
        tc_info("check %s: %s flapping: %.1f%% of the last %d results changed state "
                "(thresholds %u%% and %u%%)",
                ck->def->name, next.flap.flapping ? "started" : "stopped",
                tc_flap_share(&next.flap), TC_FLAP_WINDOW, ck->def->flap.low, ck->def->flap.high);
    if (!emit && (ck->status.pending || ck->status.state != next.state))
        tc_debug("check %s: %s (%s %u/%u%s): %s", ck->def->name, tc_check_state_name(next.state),
                 next.hard ? "hard" : "soft", next.attempt, ck->def->retries,
                 next.flap.flapping ? ", flapping" : "", res->output);
    /* Not stored (spool full): the same event is due with the next result. */
    if (emit && s_emit(a, ck, res, &next, &rep) == 0)
        tc_check_status_reported(&next, &rep);
    ck->status = next;
}

static void s_on_result(void *tag, const tc_check_result_t *res, void *arg)
{
    tc_agent_t *a = arg;
    s_check_t *ck = tag;
    tc_histogram_observe(&a->run_seconds, s_clock() - ck->started_s);
    s_apply_result(a, ck, res);
}

static void s_run_check(s_check_t *ck)
{
    tc_agent_t *a = ck->agent;
    if (tc_checker_running(a->checker, ck)) {
        char d[32];
        tc_warn("check %s: previous run still going (timeout %s); skipping this run", ck->def->name,
                tc_duration_format(ck->def->timeout_ms, d, sizeof d));
        return;
    }
    ck->started_s = s_clock();
    int rc = tc_checker_start(a->checker, ck->def, ck);
    if (rc != 0) {
        /* Nagios' answer to a check that cannot run: UNKNOWN, so it shows. */
        tc_check_result_t res;
        memset(&res, 0, sizeof res);
        res.state = TC_STATE_UNKNOWN;
        snprintf(res.output, sizeof res.output, "cannot start check: %s",
                 rc == TC_ESYS ? strerror(errno) : tc_strerror(rc));
        tc_error("check %s: %s", ck->def->name, res.output);
        s_apply_result(a, ck, &res);
    }
}

static int s_on_check_timer(zloop_t *loop, int timer_id, void *arg)
{
    s_run_check(arg);
    return 0;
}

static int s_on_check_first(zloop_t *loop, int timer_id, void *arg)
{
    s_check_t *ck = arg;
    s_run_check(ck);
    if (zloop_timer(loop, (size_t)ck->def->interval_ms, 0, s_on_check_timer, ck) == -1)
        tc_error("check %s: cannot schedule it (out of memory)", ck->def->name);
    return 0;
}

/* ---- life cycle -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void s_why(char *why, size_t whylen, const char *fmt,
                                                        ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

int tc_agent_new(const tc_agent_config_t *cfg, tc_agent_t **out, char *why, size_t whylen)
{
    int rc = TC_ENOMEM;
    *out = NULL;
    if (!cfg->insecure && (!cfg->keys.server_txt[0] || !cfg->keys.secret_txt[0])) {
        /* Never fall back to plaintext because keys were not loaded. */
        s_why(why, whylen, "no CURVE keys loaded (and not --insecure)");
        return TC_EINVAL;
    }
    tc_agent_t *a = calloc(1, sizeof *a);
    if (!a)
        return TC_ENOMEM;
    a->cfg = cfg;
    /* From a tcp connect on the same host to a plugin near its timeout. */
    static const double bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                    0.5,   1,     2.5,  5,     10,   30,  60};
    tc_histogram_init(&a->run_seconds, bounds, sizeof bounds / sizeof bounds[0]);
    a->loop = zloop_new();
    if (!a->loop)
        goto fail_loop;

    tc_outbox_config_t oc = {
        .sender = cfg->id,
        .endpoint = cfg->coordinator,
        .keys = cfg->insecure ? NULL : &cfg->keys,
        .spool_dir = cfg->spool,
        .spool_max = cfg->spool_max,
        .window = cfg->window,
        .send_rate = cfg->send_rate,
        .heartbeat_ms = cfg->heartbeat_ms,
    };
    if ((rc = tc_outbox_new(a->loop, &oc, &a->outbox, why, whylen)) != 0)
        goto fail_outbox;

    rc = TC_ENOMEM;
    a->checker = tc_checker_new(a->loop, s_on_result, a);
    if (!a->checker)
        goto fail_checker;
    if (cfg->nchecks) {
        a->checks = calloc(cfg->nchecks, sizeof *a->checks);
        if (!a->checks)
            goto fail_checks;
    }
    a->nchecks = cfg->nchecks;
    for (size_t i = 0; i < cfg->nchecks; i++) {
        s_check_t *ck = &a->checks[i];
        ck->agent = a;
        ck->def = &cfg->checks[i];
        ck->status = tc_check_status_pending();
        /* Spread the first runs over up to a second so a host with many
         * checks does not start them all in the same millisecond. */
        int64_t first = 1 + (int64_t)((i * 97) % 1000);
        if (first > ck->def->interval_ms)
            first = ck->def->interval_ms;
        if (zloop_timer(a->loop, (size_t)first, 1, s_on_check_first, ck) == -1)
            goto fail_checks;
    }
    *out = a;
    return 0;

fail_checks:
    s_why(why, whylen, "out of memory");
    free(a->checks);
    tc_checker_destroy(&a->checker);
fail_checker:
    s_why(why, whylen, "out of memory");
    tc_outbox_destroy(&a->outbox);
fail_outbox:
    zloop_destroy(&a->loop);
fail_loop:
    free(a);
    return rc;
}

void tc_agent_destroy(tc_agent_t **pagent)
{
    if (!pagent || !*pagent)
        return;
    tc_agent_t *a = *pagent;
    tc_checker_destroy(&a->checker);
    tc_outbox_destroy(&a->outbox);
    zloop_destroy(&a->loop);
    free(a->checks);
    free(a);
    *pagent = NULL;
}

int tc_agent_run(tc_agent_t *a)
{
    char d[32];
    tc_outbox_stats_t st;
    tc_outbox_stats(a->outbox, &st);
    tc_info("agent %s %s starting: %zu checks, heartbeat %s, spool %s (%zu events, last seq "
            "%" PRIu64 "%s), coordinator %s",
            a->cfg->id, TOCSIN_VERSION, a->nchecks,
            tc_duration_format(a->cfg->heartbeat_ms, d, sizeof d), a->cfg->spool, st.spooled,
            st.last_seq, st.lost_checks ? ", with transitions left out to report" : "",
            a->cfg->coordinator);
    zloop_start(a->loop);
    tc_outbox_stats(a->outbox, &st);
    tc_info("agent %s shutting down (%zu checks running, %zu events spooled)", a->cfg->id,
            tc_checker_active(a->checker), st.spooled);
    return 0;
}

zloop_t *tc_agent_loop(tc_agent_t *a)
{
    return a->loop;
}

tc_outbox_t *tc_agent_outbox(tc_agent_t *a)
{
    return a->outbox;
}

const tc_check_status_t *tc_agent_check_status(const tc_agent_t *a, size_t index)
{
    return index < a->nchecks ? &a->checks[index].status : NULL;
}

size_t tc_agent_nchecks(const tc_agent_t *a)
{
    return a->nchecks;
}

int tc_agent_check_info(const tc_agent_t *a, size_t index, tc_agent_check_info_t *info)
{
    if (index >= a->nchecks)
        return TC_EINVAL;
    const s_check_t *ck = &a->checks[index];
    info->def = ck->def;
    info->status = &ck->status;
    memcpy(info->runs, ck->runs, sizeof info->runs);
    return 0;
}

const tc_histogram_t *tc_agent_run_seconds(const tc_agent_t *a)
{
    return &a->run_seconds;
}

uint64_t tc_agent_left_out(const tc_agent_t *a)
{
    return a->left_out;
}

/* ---- --once ------------------------------------------------------------- */

typedef struct {
    tc_check_result_t res;
    bool done;
} s_once_slot_t;

typedef struct {
    s_once_slot_t *slots;
    size_t remaining;
} s_once_t;

static void s_once_done(void *tag, const tc_check_result_t *res, void *arg)
{
    s_once_t *o = arg;
    s_once_slot_t *slot = tag;
    slot->res = *res;
    slot->done = true;
    o->remaining--;
}

static int s_once_poll(zloop_t *loop, int timer_id, void *arg)
{
    const s_once_t *o = arg;
    return o->remaining == 0 ? -1 : 0;
}

int tc_agent_run_once(const tc_agent_config_t *cfg, FILE *out)
{
    int rc = TC_ENOMEM;
    s_once_t o = {0};
    o.slots = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof *o.slots);
    if (!o.slots)
        return TC_ENOMEM;
    zloop_t *loop = zloop_new();
    if (!loop)
        goto fail_loop;
    tc_checker_t *checker = tc_checker_new(loop, s_once_done, &o);
    if (!checker)
        goto fail_checker;
    for (size_t i = 0; i < cfg->nchecks; i++) {
        o.remaining++;
        int src = tc_checker_start(checker, &cfg->checks[i], &o.slots[i]);
        if (src != 0) {
            o.remaining--;
            o.slots[i].done = true;
            o.slots[i].res.state = TC_STATE_UNKNOWN;
            snprintf(o.slots[i].res.output, sizeof o.slots[i].res.output, "cannot start check: %s",
                     src == TC_ESYS ? strerror(errno) : tc_strerror(src));
        }
    }
    if (o.remaining > 0) {
        if (zloop_timer(loop, 10, 0, s_once_poll, &o) == -1)
            goto fail_run;
        zloop_start(loop);
    }
    rc = o.remaining == 0 ? 0 : TC_EIO; /* not all done: interrupted */
    for (size_t i = 0; i < cfg->nchecks; i++) {
        const s_once_slot_t *s = &o.slots[i];
        fprintf(out, "%s %s %s %s\n", cfg->checks[i].name, cfg->checks[i].service,
                s->done ? tc_check_state_name(s->res.state) : "UNKNOWN",
                s->done ? s->res.output : "(interrupted)");
    }
    fflush(out);
fail_run:
    tc_checker_destroy(&checker);
fail_checker:
    zloop_destroy(&loop);
fail_loop:
    free(o.slots);
    return rc;
}
