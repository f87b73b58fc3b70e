/*
 * reaper.c - child subreaper, leftover sweeps, pidfd exit notices; see
 * reaper.h.
 *
 * Reaping is always "peek, then reap": waitid(WNOWAIT) names an exited
 * child without reaping it, so a leader's process group can be killed
 * while the zombie leader still pins the group id; only then waitpid()
 * frees it. Whatever exited is reaped in the same pass, tracked or not, so
 * no zombie lingers, and a sweep follows, because a process that died has
 * just handed its own orphans to us.
 *
 * zloop may call a poller handler once more in the iteration in which it
 * was removed, so pidfd handlers take the reaper, not a process: they only
 * run a reap pass, which is harmless when there is nothing to reap.
 */
#define _GNU_SOURCE
#include "reaper.h"

#include "error.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Safety-net sweep for orphans whose parent died without us noticing (a
 * descendant that was not our child). Cheap: a few small /proc files. */
#define S_SWEEP_MS 5000
/* Reap period when pidfds are not available. */
#define S_POLL_MS 20
/* How long shutdown waits for killed processes to die. */
#define S_DESTROY_WAIT_MS 2000

typedef struct {
    pid_t pid;
    int pidfd;             /* -1 when polling */
    tc_reaper_exit_fn *fn; /* NULL: a leftover, killed */
    void *arg;
} s_proc_t;

/* A leader's exit, held until the sweep after it is done. */
typedef struct {
    pid_t pid;
    int status;
    tc_reaper_exit_fn *fn;
    void *arg;
} s_exit_t;

struct tc_reaper_t {
    zloop_t *loop;
    s_proc_t *procs;
    size_t nprocs, cap;
    s_exit_t *exits; /* exits of one reap pass */
    size_t nexits, exitcap;
    pid_t *kids; /* scratch list for sweeps */
    size_t nkids, kidcap;
    bool polling;
    int poll_timer; /* -1 when not running */
    int sweep_timer;
    size_t killed;
};

static int s_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec by default */
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

static void s_reap_all(tc_reaper_t *r);

static int s_on_pidfd(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    s_reap_all(arg);
    return 0;
}

static int s_on_poll(zloop_t *loop, int timer_id, void *arg)
{
    tc_reaper_t *r = arg;
    s_reap_all(r);
    if (r->nprocs == 0 && r->poll_timer == timer_id) {
        zloop_timer_end(loop, timer_id);
        r->poll_timer = -1;
    }
    return 0;
}

static int s_on_sweep(zloop_t *loop, int timer_id, void *arg)
{
    tc_reaper_t *r = arg;
    s_reap_all(r);
    tc_reaper_sweep(r);
    return 0;
}

static void s_poll_timer_on(tc_reaper_t *r)
{
    if (r->polling && r->poll_timer == -1)
        r->poll_timer = zloop_timer(r->loop, S_POLL_MS, 0, s_on_poll, r);
}

tc_reaper_t *tc_reaper_new(zloop_t *loop)
{
    /* Orphans among our descendants become our children, not init's: that
     * is what lets us find and kill what a plugin left behind. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        return NULL;
    tc_reaper_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->loop = loop;
    r->poll_timer = -1;
    r->sweep_timer = zloop_timer(loop, S_SWEEP_MS, 0, s_on_sweep, r);
    if (r->sweep_timer == -1) {
        free(r);
        return NULL;
    }
    return r;
}

static s_proc_t *s_find(tc_reaper_t *r, pid_t pid)
{
    for (size_t i = 0; i < r->nprocs; i++)
        if (r->procs[i].pid == pid)
            return &r->procs[i];
    return NULL;
}

static void s_unwatch_fd(tc_reaper_t *r, s_proc_t *p)
{
    if (p->pidfd < 0)
        return;
    zmq_pollitem_t item = {NULL, p->pidfd, ZMQ_POLLIN, 0};
    zloop_poller_end(r->loop, &item);
    close(p->pidfd);
    p->pidfd = -1;
}

static int s_note_exit(tc_reaper_t *r, pid_t pid, int status, tc_reaper_exit_fn *fn, void *arg)
{
    if (r->nexits == r->exitcap) {
        size_t ncap = r->exitcap ? r->exitcap * 2 : 8;
        s_exit_t *ne = realloc(r->exits, ncap * sizeof *ne);
        if (!ne)
            return TC_ENOMEM;
        r->exits = ne;
        r->exitcap = ncap;
    }
    r->exits[r->nexits++] = (s_exit_t){pid, status, fn, arg};
    return 0;
}

static void s_forget(tc_reaper_t *r, s_proc_t *p)
{
    s_unwatch_fd(r, p);
    *p = r->procs[--r->nprocs];
}

/* Adds `pid` to the table with a pidfd (or the polling timer). */
static int s_track(tc_reaper_t *r, pid_t pid, tc_reaper_exit_fn *fn, void *arg)
{
    if (r->nprocs == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        s_proc_t *np = realloc(r->procs, ncap * sizeof *np);
        if (!np)
            return TC_ENOMEM;
        r->procs = np;
        r->cap = ncap;
    }
    s_proc_t *p = &r->procs[r->nprocs];
    p->pid = pid;
    p->fn = fn;
    p->arg = arg;
    p->pidfd = -1;
    if (!r->polling) {
        int fd = s_pidfd_open(pid);
        if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == EACCES)) {
            tc_warn("pidfd_open is not available (%s); reaping check processes every %d ms",
                    strerror(errno), S_POLL_MS);
            tc_reaper_use_polling(r);
        } else if (fd >= 0) {
            zmq_pollitem_t item = {NULL, fd, ZMQ_POLLIN, 0};
            if (zloop_poller(r->loop, &item, s_on_pidfd, r) != 0) {
                close(fd);
                return TC_ENOMEM;
            }
            zloop_poller_set_tolerant(r->loop, &item);
            p->pidfd = fd;
        }
        /* Any other failure (ESRCH cannot happen for an unreaped child):
         * the safety-net sweep timer reaps it. */
    }
    r->nprocs++;
    s_poll_timer_on(r);
    return 0;
}

int tc_reaper_watch(tc_reaper_t *r, pid_t pid, tc_reaper_exit_fn *fn, void *arg)
{
    assert(fn);
    return s_track(r, pid, fn, arg);
}

void tc_reaper_kill(tc_reaper_t *r, pid_t pid)
{
    s_proc_t *p = s_find(r, pid);
    if (p && p->fn)
        kill(-pid, SIGKILL); /* not reaped yet, so the group id is ours */
}

/* One pass: reap everything that has exited, killing the groups of
 * leaders among them, then sweep for orphans, then call the leaders'
 * callbacks: by the time a caller hears that its check ended, everything
 * the check left behind has been sent SIGKILL. */
static void s_reap_all(tc_reaper_t *r)
{
    bool any = false;
    r->nexits = 0;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (errno == EINTR)
                continue;
            break; /* ECHILD: no children at all */
        }
        if (si.si_pid == 0)
            break;
        pid_t pid = si.si_pid;
        s_proc_t *p = s_find(r, pid);
        if (p && p->fn)
            kill(-pid, SIGKILL); /* the check ended: nothing of it stays */
        int st = 0;
        pid_t got;
        do {
            got = waitpid(pid, &st, 0); /* a zombie: returns at once */
        } while (got < 0 && errno == EINTR);
        any = true;
        if (!p) {
            tc_debug("reaped process %d, left behind by a check", (int)pid);
            continue;
        }
        if (p->fn && s_note_exit(r, pid, st, p->fn, p->arg) != 0) {
            /* Out of memory: report it now, before the sweep. */
            tc_reaper_exit_fn *fn = p->fn;
            void *arg = p->arg;
            s_forget(r, p);
            fn(pid, st, arg);
            continue;
        }
        s_forget(r, p);
    }
    if (any)
        tc_reaper_sweep(r);
    /* Callbacks may watch new processes, which only appends to procs. */
    size_t n = r->nexits;
    r->nexits = 0;
    for (size_t i = 0; i < n; i++) {
        s_exit_t e = r->exits[i];
        e.fn(e.pid, e.status, e.arg);
    }
}

static bool s_add_kid(tc_reaper_t *r, pid_t pid)
{
    if (r->nkids == r->kidcap) {
        size_t ncap = r->kidcap ? r->kidcap * 2 : 32;
        pid_t *nk = realloc(r->kids, ncap * sizeof *nk);
        if (!nk)
            return false; /* the next sweep gets the rest */
        r->kids = nk;
        r->kidcap = ncap;
    }
    r->kids[r->nkids++] = pid;
    return true;
}

/* Appends the pids in `path` (a children file: "12 34 ") to r->kids.
 * Returns 0, or -1 if the file cannot be read. */
static int s_read_children(tc_reaper_t *r, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int pid;
    while (fscanf(f, "%d", &pid) == 1 && s_add_kid(r, (pid_t)pid))
        ;
    fclose(f);
    return 0;
}

/* Reads "/proc/PID/stat" fields 4 (ppid) and 5 (pgrp). Returns 0 or -1. */
static int s_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: skip to the last. */
    const char *p = strrchr(buf, ')');
    int pp, pg;
    char state;
    if (!p || sscanf(p + 1, " %c %d %d", &state, &pp, &pg) != 3)
        return -1;
    *ppid = (pid_t)pp;
    *pgrp = (pid_t)pg;
    return 0;
}

/* Lists our children into r->kids: each thread's children file, or, on
 * kernels without it, every process whose parent we are. */
static void s_list_children(tc_reaper_t *r)
{
    r->nkids = 0;
    DIR *d = opendir("/proc/self/task");
    bool have = false;
    if (d) {
        struct dirent *e;
        char path[96];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9')
                continue;
            snprintf(path, sizeof path, "/proc/self/task/%.20s/children", e->d_name);
            if (s_read_children(r, path) == 0)
                have = true;
        }
        closedir(d);
    }
    if (have)
        return;
    d = opendir("/proc");
    if (!d)
        return;
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)atoi(e->d_name), pp, pg;
        if (s_stat(pid, &pp, &pg) == 0 && pp == self && !s_add_kid(r, pid))
            break;
    }
    closedir(d);
}

/* True if `pgrp` is the group of a leader that is still running. */
static bool s_running_group(const tc_reaper_t *r, pid_t pgrp)
{
    for (size_t i = 0; i < r->nprocs; i++)
        if (r->procs[i].fn && r->procs[i].pid == pgrp)
            return true;
    return false;
}

void tc_reaper_sweep(tc_reaper_t *r)
{
    s_list_children(r);
    for (size_t i = 0; i < r->nkids; i++) {
        pid_t pid = r->kids[i], pp, pg;
        const s_proc_t *p = s_find(r, pid);
        if (p)
            continue; /* a running leader, or a leftover already killed */
        if (s_stat(pid, &pp, &pg) != 0)
            continue; /* gone (and reaped by the next pass) */
        if (s_running_group(r, pg))
            continue; /* still part of a running check: dies with its group */
        kill(pid, SIGKILL);
        if (pg == pid)
            kill(-pid, SIGKILL); /* its own group: what it started goes too */
        r->killed++;
        tc_debug("killed process %d, left behind by a check", (int)pid);
        if (s_track(r, pid, NULL, NULL) != 0)
            continue; /* out of memory: the sweep timer reaps it */
    }
}

size_t tc_reaper_leftovers_killed(const tc_reaper_t *r)
{
    return r->killed;
}

size_t tc_reaper_leftovers_pending(const tc_reaper_t *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nprocs; i++)
        n += r->procs[i].fn == NULL;
    return n;
}

void tc_reaper_use_polling(tc_reaper_t *r)
{
    r->polling = true;
    for (size_t i = 0; i < r->nprocs; i++)
        s_unwatch_fd(r, &r->procs[i]);
    if (r->nprocs)
        s_poll_timer_on(r);
}

void tc_reaper_destroy(tc_reaper_t **preaper)
{
    if (!preaper || !*preaper)
        return;
    tc_reaper_t *r = *preaper;
    int64_t deadline = tc_mono_ms() + S_DESTROY_WAIT_MS;
    size_t left = 0;
    for (;;) {
        for (size_t i = 0; i < r->nprocs; i++) {
            if (r->procs[i].fn)
                kill(-r->procs[i].pid, SIGKILL);
            kill(r->procs[i].pid, SIGKILL);
        }
        /* Everything else too: orphans, and what killed processes just
         * handed to us. A child's pid names no group but its own. */
        s_list_children(r);
        for (size_t i = 0; i < r->nkids; i++) {
            kill(r->kids[i], SIGKILL);
            kill(-r->kids[i], SIGKILL);
        }
        pid_t got;
        int st;
        while ((got = waitpid(-1, &st, WNOHANG)) > 0) {
            s_proc_t *p = s_find(r, got);
            if (p)
                s_forget(r, p);
        }
        if (got < 0 && errno == ECHILD)
            break; /* no child left means no descendant left */
        if (tc_mono_ms() >= deadline) {
            s_list_children(r);
            left = r->nkids;
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (left)
        tc_warn("%zu check processes did not die after SIGKILL; leaving them", left);
    while (r->nprocs)
        s_forget(r, &r->procs[0]);
    /* The timers stay registered until zloop_destroy(): ending them here
     * would queue them on a loop that may never run again (czmq asserts
     * that queue is empty on destroy). The loop never runs again. */
    free(r->procs);
    free(r->exits);
    free(r->kids);
    free(r);
    *preaper = NULL;
}
