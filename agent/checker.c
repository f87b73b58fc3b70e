/*
 * checker.c - check runs as child processes; see checker.h.
 *
 * zloop calls handlers with the `arg` given at registration, and it may
 * still call a timer or poller handler in the same iteration after the run
 * it belonged to has finished (zloop_timer_end only takes effect at the end
 * of an iteration). So no handler gets a run pointer: every handler gets
 * the checker and looks its run up by timer id or fd, and a lookup that
 * fails means "already finished", which is harmless. Timer ids are never
 * reused within a loop, and a pipe fd is only closed after its poller has
 * been removed.
 *
 * Processes are started with posix_spawn() rather than fork(): the agent
 * has ZeroMQ's I/O threads, and posix_spawn does the process-group, signal
 * and descriptor set-up in the child without running our code there.
 */
/* For posix_spawn_file_actions_addclosefrom_np (glibc >= 2.34). */
#define _GNU_SOURCE
#include "checker.h"

#include "error.h"
#include "log.h"
#include "nagios.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* How often a run's child is polled with waitpid(WNOHANG). Short, because
 * it only runs while a check is in progress and sets result latency. */
#define S_WATCH_MS 20
/* After the checked process exited, how long to wait for the pipe to close
 * before assuming a background process it left behind holds it open. */
#define S_LEFTOVER_GRACE_MS 500
/* After SIGKILL, how long to wait for the pipe to close before giving up
 * on it (a process outside the group, e.g. one that called setsid(), may
 * still hold it). */
#define S_KILL_GRACE_MS 1000
/* Bytes read from one pipe per wake-up, so a check that prints without end
 * cannot monopolise the loop. */
#define S_READ_BUDGET (64 * 1024)

typedef struct {
    void *tag;
    const tc_check_def_t *def;
    pid_t pid;
    int fd;            /* read end of the output pipe; -1 once closed */
    int timeout_timer; /* -1 once fired or not needed */
    int watch_timer;
    bool reaped;
    int status; /* waitpid status, valid once reaped */
    bool timed_out;
    int64_t exited_ms; /* when reaped (monotonic) */
    int64_t killed_ms; /* when SIGKILLed (monotonic), 0 if never */
    size_t len;
    char buf[TC_CHECKER_OUTPUT_MAX];
} s_run_t;

struct tc_checker_t {
    zloop_t *loop;
    char *self_exe;
    tc_checker_done_fn *done;
    void *arg;
    s_run_t **runs;
    size_t nruns;
    size_t cap;
};

tc_checker_t *tc_checker_new(zloop_t *loop, const char *self_exe, tc_checker_done_fn *done,
                             void *arg)
{
    tc_checker_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->self_exe = strdup(self_exe);
    if (!c->self_exe) {
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->done = done;
    c->arg = arg;
    return c;
}

static s_run_t *s_find_fd(const tc_checker_t *c, int fd)
{
    for (size_t i = 0; i < c->nruns; i++)
        if (c->runs[i]->fd == fd)
            return c->runs[i];
    return NULL;
}

static s_run_t *s_find_timer(const tc_checker_t *c, int timer_id)
{
    for (size_t i = 0; i < c->nruns; i++)
        if (c->runs[i]->watch_timer == timer_id || c->runs[i]->timeout_timer == timer_id)
            return c->runs[i];
    return NULL;
}

bool tc_checker_running(const tc_checker_t *c, const void *tag)
{
    for (size_t i = 0; i < c->nruns; i++)
        if (c->runs[i]->tag == tag)
            return true;
    return false;
}

size_t tc_checker_active(const tc_checker_t *c)
{
    return c->nruns;
}

static void s_close_pipe(tc_checker_t *c, s_run_t *r)
{
    if (r->fd < 0)
        return;
    zmq_pollitem_t item = {NULL, r->fd, ZMQ_POLLIN, 0};
    zloop_poller_end(c->loop, &item);
    close(r->fd);
    r->fd = -1;
}

static void s_poll_child(s_run_t *r)
{
    if (r->reaped)
        return;
    int st;
    pid_t p;
    do {
        p = waitpid(r->pid, &st, WNOHANG);
    } while (p < 0 && errno == EINTR);
    if (p == r->pid || (p < 0 && errno == ECHILD)) {
        /* ECHILD: someone else reaped it (should not happen); report it as
         * a signal-less unknown rather than waiting forever. */
        r->reaped = true;
        r->status = p == r->pid ? st : -1;
        r->exited_ms = tc_mono_ms();
    }
}

/* Reads what the pipe has now. Returns true at end of file or on error. */
static bool s_drain(s_run_t *r)
{
    char scratch[4096];
    size_t budget = S_READ_BUDGET;
    while (budget > 0) {
        char *dst = scratch;
        size_t room = sizeof scratch;
        if (r->len < sizeof r->buf) {
            dst = r->buf + r->len;
            room = sizeof r->buf - r->len;
        }
        ssize_t n = read(r->fd, dst, room);
        if (n > 0) {
            if (dst != scratch)
                r->len += (size_t)n;
            /* else: beyond the cap, drained and dropped */
            budget -= (size_t)n < budget ? (size_t)n : budget;
            continue;
        }
        if (n == 0)
            return true;
        if (errno == EINTR)
            continue;
        return errno != EAGAIN && errno != EWOULDBLOCK;
    }
    return false;
}

/* Appends the plugin's own text (already in res->output) after `prefix`. */
static void s_prefix_output(tc_check_result_t *res, const char *prefix)
{
    /* Room for both, so the UTF-8-aware copy below does the truncating. */
    char tmp[TC_TEXT_MAX + 256];
    if (res->output[0])
        snprintf(tmp, sizeof tmp, "%s: %s", prefix, res->output);
    else
        snprintf(tmp, sizeof tmp, "%s", prefix);
    tc_strlcpy_utf8(res->output, tmp, sizeof res->output);
}

static void s_make_result(const s_run_t *r, tc_check_result_t *res)
{
    char why[160];
    memset(res, 0, sizeof *res);
    if (r->timed_out) {
        char d[32];
        res->state = TC_STATE_CRITICAL;
        snprintf(res->output, sizeof res->output, "check timed out after %s",
                 tc_duration_format(r->def->timeout_ms, d, sizeof d));
        return;
    }
    tc_nagios_parse(r->buf, r->len, res);
    if (r->status == -1) {
        res->state = TC_STATE_UNKNOWN;
        s_prefix_output(res, "check process vanished (its exit status was lost)");
    } else if (WIFEXITED(r->status)) {
        int code = WEXITSTATUS(r->status);
        if (code <= 3) {
            res->state = (tc_check_state_t)code;
            if (!res->output[0])
                snprintf(res->output, sizeof res->output, "(no output from check, exit code %d)",
                         code);
            return;
        }
        res->state = TC_STATE_UNKNOWN;
        res->nperf = 0; /* a broken plugin's numbers are not to be trusted */
        if (code == 126)
            snprintf(why, sizeof why, "command cannot be executed (exit code 126)");
        else if (code == 127)
            snprintf(why, sizeof why, "command not found (exit code 127)");
        else
            snprintf(why, sizeof why, "check exited with code %d, not a Nagios state 0..3", code);
        s_prefix_output(res, why);
    } else if (WIFSIGNALED(r->status)) {
        int sig = WTERMSIG(r->status);
        res->state = TC_STATE_UNKNOWN;
        res->nperf = 0;
        snprintf(why, sizeof why, "check killed by signal %d (%s)", sig, strsignal(sig));
        s_prefix_output(res, why);
    } else {
        res->state = TC_STATE_UNKNOWN;
        s_prefix_output(res, "check ended in an unexpected way");
    }
}

static void s_remove(tc_checker_t *c, s_run_t *r)
{
    for (size_t i = 0; i < c->nruns; i++) {
        if (c->runs[i] == r) {
            c->runs[i] = c->runs[--c->nruns];
            return;
        }
    }
}

/* Completes the run once both the pipe is closed and the child reaped. */
static void s_try_finish(tc_checker_t *c, s_run_t *r)
{
    if (r->fd >= 0)
        return;
    s_poll_child(r);
    if (!r->reaped)
        return; /* the watch timer will come back */
    /* Always called from a loop handler, so ending timers is safe here. */
    if (r->timeout_timer != -1)
        zloop_timer_end(c->loop, r->timeout_timer);
    zloop_timer_end(c->loop, r->watch_timer);
    s_remove(c, r);

    tc_check_result_t res;
    s_make_result(r, &res);
    void *tag = r->tag;
    free(r);
    c->done(tag, &res, c->arg);
}

static int s_on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    tc_checker_t *c = arg;
    s_run_t *r = s_find_fd(c, item->fd);
    if (!r)
        return 0;
    if (s_drain(r)) {
        s_close_pipe(c, r);
        s_try_finish(c, r);
    }
    return 0;
}

static int s_on_timeout(zloop_t *loop, int timer_id, void *arg)
{
    tc_checker_t *c = arg;
    s_run_t *r = s_find_timer(c, timer_id);
    if (!r || r->timeout_timer != timer_id)
        return 0;
    r->timeout_timer = -1; /* one-shot: zloop removes it */
    s_poll_child(r);
    if (!r->reaped)
        r->timed_out = true; /* the check itself had not finished */
    /* Kill the whole group: a shell's children and a plugin's helpers. */
    kill(-r->pid, SIGKILL);
    r->killed_ms = tc_mono_ms();
    return 0;
}

static int s_on_watch(zloop_t *loop, int timer_id, void *arg)
{
    tc_checker_t *c = arg;
    s_run_t *r = s_find_timer(c, timer_id);
    if (!r || r->watch_timer != timer_id) {
        zloop_timer_end(loop, timer_id);
        return 0;
    }
    s_poll_child(r);
    if (r->fd >= 0) {
        int64_t now = tc_mono_ms();
        bool leftover = r->reaped && now - r->exited_ms >= S_LEFTOVER_GRACE_MS;
        bool stuck = r->killed_ms != 0 && now - r->killed_ms >= S_KILL_GRACE_MS;
        if (leftover || stuck) {
            /* Something outside our control holds the pipe open; take
             * what was written and stop listening. */
            s_drain(r);
            if (leftover && r->killed_ms == 0) {
                kill(-r->pid, SIGKILL);
                r->killed_ms = now;
            }
            tc_debug("check %s: output pipe still open after the check ended; closing it",
                     r->def->name);
            s_close_pipe(c, r);
        }
    }
    s_try_finish(c, r);
    return 0;
}

/* A check must not inherit the agent's descriptors (the LMDB files, sockets
 * of libraries that forgot O_CLOEXEC): a plugin could write to them, and a
 * leftover background process would keep them open. */
static int s_close_others(posix_spawn_file_actions_t *fa)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(fa, 3);
#else
    (void)fa;
    return 0; /* our own descriptors are close-on-exec */
#endif
}

/* Starts the child for `r`. Returns 0 or TC_ESYS with errno set. */
static int s_spawn(tc_checker_t *c, s_run_t *r)
{
    int fds[2];
    char tmo[32];
    const char *argv[8];
    const char *path;
    int rc = TC_ESYS, err = 0;

    switch (r->def->type) {
    case TC_CHECK_EXEC:
        path = "/bin/sh";
        argv[0] = "sh";
        argv[1] = "-c";
        argv[2] = r->def->arg;
        argv[3] = NULL;
        break;
    case TC_CHECK_TCP:
    case TC_CHECK_HTTP:
        /* The probe's own timeout is a little shorter than ours so that it
         * usually reports what it was waiting for before we kill it. */
        snprintf(tmo, sizeof tmo, "%" PRId64,
                 r->def->timeout_ms > 10 ? r->def->timeout_ms * 9 / 10 : r->def->timeout_ms);
        path = c->self_exe;
        argv[0] = c->self_exe;
        argv[1] = "--probe";
        argv[2] = r->def->type == TC_CHECK_TCP ? "tcp" : "http";
        argv[3] = r->def->arg;
        argv[4] = "--probe-timeout-ms";
        argv[5] = tmo;
        argv[6] = NULL;
        break;
    default: errno = EINVAL; return TC_ESYS;
    }

    /* Both ends close-on-exec so no other check's child inherits them; the
     * dup2 onto 1 and 2 in the child clears the flag on the copies. */
    if (pipe(fds) != 0)
        return TC_ESYS;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
        err = errno;
        goto fail_pipe;
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    if ((err = posix_spawn_file_actions_init(&fa)) != 0)
        goto fail_pipe;
    if ((err = posix_spawnattr_init(&at)) != 0)
        goto fail_fa;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&dfl, sigs[i]);
    if ((err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (err = posix_spawn_file_actions_adddup2(&fa, fds[1], 1)) != 0 ||
        (err = posix_spawn_file_actions_adddup2(&fa, fds[1], 2)) != 0 ||
        (err = s_close_others(&fa)) != 0 ||
        /* setpgid(0, 0) in the child: the group can be killed as a whole. */
        (err = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
        (err = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
        (err = posix_spawnattr_setsigdefault(&at, &dfl)) != 0 ||
        (err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF)) != 0)
        goto fail_attr;
    err = posix_spawn(&r->pid, path, &fa, &at, (char *const *)argv, environ);
    if (err != 0)
        goto fail_attr;
    rc = 0;
fail_attr:
    posix_spawnattr_destroy(&at);
fail_fa:
    posix_spawn_file_actions_destroy(&fa);
fail_pipe:
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = err;
        return rc;
    }
    r->fd = fds[0];
    return 0;
}

int tc_checker_start(tc_checker_t *c, const tc_check_def_t *def, void *tag)
{
    if (tc_checker_running(c, tag))
        return TC_EINVAL;
    if (c->nruns == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        s_run_t **nr = realloc(c->runs, ncap * sizeof *nr);
        if (!nr)
            return TC_ENOMEM;
        c->runs = nr;
        c->cap = ncap;
    }
    s_run_t *r = calloc(1, sizeof *r);
    if (!r)
        return TC_ENOMEM;
    r->tag = tag;
    r->def = def;
    r->fd = -1;
    r->timeout_timer = -1;
    r->watch_timer = -1;

    int rc = s_spawn(c, r);
    if (rc != 0) {
        int e = errno;
        free(r);
        errno = e;
        return rc;
    }
    zmq_pollitem_t item = {NULL, r->fd, ZMQ_POLLIN, 0};
    if (zloop_poller(c->loop, &item, s_on_readable, c) != 0)
        goto fail_registered;
    /* POLLHUP arrives as an error; the handler deals with it (EOF). */
    zloop_poller_set_tolerant(c->loop, &item);
    r->timeout_timer = zloop_timer(c->loop, (size_t)def->timeout_ms, 1, s_on_timeout, c);
    r->watch_timer = zloop_timer(c->loop, S_WATCH_MS, 0, s_on_watch, c);
    if (r->timeout_timer == -1 || r->watch_timer == -1)
        goto fail_registered;
    c->runs[c->nruns++] = r;
    tc_debug("check %s: started pid %d", def->name, (int)r->pid);
    return 0;

fail_registered:
    /* Out of memory inside zloop: undo what we can; timers that were
     * registered find no run and end themselves. */
    s_close_pipe(c, r);
    kill(-r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0); /* SIGKILLed child of ours: returns promptly */
    free(r);
    return TC_ENOMEM;
}

void tc_checker_destroy(tc_checker_t **pchecker)
{
    if (!pchecker || !*pchecker)
        return;
    tc_checker_t *c = *pchecker;
    for (size_t i = 0; i < c->nruns; i++) {
        s_run_t *r = c->runs[i];
        s_poll_child(r);
        if (!r->reaped || r->fd >= 0)
            kill(-r->pid, SIGKILL);
        s_close_pipe(c, r);
    }
    /* Bounded wait: SIGKILL is normally immediate, but a process in
     * uninterruptible sleep must not hang the agent's shutdown. */
    for (int tries = 0; tries < 100; tries++) {
        bool all = true;
        for (size_t i = 0; i < c->nruns; i++) {
            s_poll_child(c->runs[i]);
            all = all && c->runs[i]->reaped;
        }
        if (all)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < c->nruns; i++) {
        if (!c->runs[i]->reaped)
            tc_warn("check %s: pid %d did not die after SIGKILL; leaving it", c->runs[i]->def->name,
                    (int)c->runs[i]->pid);
        free(c->runs[i]);
    }
    free(c->runs);
    free(c->self_exe);
    free(c);
    *pchecker = NULL;
}
