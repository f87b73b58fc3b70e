/*
 * checker.c - check runs as contained child processes; see checker.h.
 *
 * zloop calls handlers with the `arg` given at registration, and it may
 * still call a timer or poller handler in the same iteration after the run
 * it belonged to has finished (zloop_timer_end only takes effect at the end
 * of an iteration). So pipe and timer handlers get the checker and look
 * their run up by fd or timer id, and a lookup that fails means "already
 * finished", which is harmless. Timer ids are never reused within a loop,
 * and a pipe fd is only closed after its poller has been removed. The
 * reaper's exit callback is made exactly once per process and never after
 * destroy, so it gets the run itself.
 *
 * tcp and http checks are handed to the prober (probe.c) and never leave
 * the loop; only plugins are processes.
 *
 * Processes are started with posix_spawn() rather than fork(): the agent
 * has ZeroMQ's I/O threads, and posix_spawn does the process-group, signal
 * and descriptor set-up in the child without running our code there.
 */
/* For posix_spawn_file_actions_addclosefrom_np (glibc >= 2.34), pipe2. */
#define _GNU_SOURCE
#include "checker.h"

#include "error.h"
#include "log.h"
#include "nagios.h"
#include "probe.h"
#include "reaper.h"
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
#include <unistd.h>

extern char **environ;

/* After the plugin exited (and its group was killed), how long to wait for
 * its pipes to close before taking what was written: something we could
 * not kill (a process stuck in the kernel) may hold them. */
#define S_PIPE_GRACE_MS 1000
/* Bytes read from one pipe per wake-up, so a check that prints without end
 * cannot monopolise the loop. */
#define S_READ_BUDGET (64 * 1024)
/* Bytes of stderr kept for the debug log. */
#define S_STDERR_KEEP 1024
/* Most words of a command run without a shell. */
#define S_ARGV_MAX 64

typedef struct {
    int fd; /* read end; -1 once closed */
    size_t total;
    size_t len, cap;
    char *buf; /* points into the run */
} s_pipe_t;

typedef struct {
    tc_checker_t *checker;
    void *tag;
    const tc_check_def_t *def;
    pid_t pid; /* 0 if it never started */
    s_pipe_t out, err;
    int timeout_timer; /* -1 once fired or ended */
    int grace_timer;   /* -1 if not armed */
    int start_error;   /* errno of a command that could not be executed */
    bool exited;
    int status; /* waitpid status, valid once exited */
    bool timed_out;
    bool overflow; /* stopped for writing too much */
    char outbuf[TC_CHECKER_OUTPUT_MAX];
    char errbuf[S_STDERR_KEEP];
} s_run_t;

struct tc_checker_t {
    zloop_t *loop;
    tc_reaper_t *reaper;
    tc_prober_t *prober;
    tc_checker_done_fn *done;
    void *arg;
    s_run_t **runs;
    size_t nruns;
    size_t cap;
};

/* The prober's results go out the same way as the plugins'. */
static void s_probe_done(void *tag, const tc_check_result_t *res, void *arg)
{
    tc_checker_t *c = arg;
    c->done(tag, res, c->arg);
}

tc_checker_t *tc_checker_new(zloop_t *loop, tc_checker_done_fn *done, void *arg)
{
    tc_checker_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->reaper = tc_reaper_new(loop);
    c->prober = tc_prober_new(loop, s_probe_done, c);
    if (!c->reaper || !c->prober) {
        tc_prober_destroy(&c->prober);
        tc_reaper_destroy(&c->reaper);
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
        if (c->runs[i]->out.fd == fd || c->runs[i]->err.fd == fd)
            return c->runs[i];
    return NULL;
}

static s_run_t *s_find_timer(const tc_checker_t *c, int timer_id)
{
    for (size_t i = 0; i < c->nruns; i++)
        if (c->runs[i]->timeout_timer == timer_id || c->runs[i]->grace_timer == timer_id)
            return c->runs[i];
    return NULL;
}

bool tc_checker_running(const tc_checker_t *c, const void *tag)
{
    for (size_t i = 0; i < c->nruns; i++)
        if (c->runs[i]->tag == tag)
            return true;
    return tc_prober_running(c->prober, tag);
}

size_t tc_checker_active(const tc_checker_t *c)
{
    return c->nruns + tc_prober_active(c->prober);
}

size_t tc_checker_leftovers_killed(const tc_checker_t *c)
{
    return tc_reaper_leftovers_killed(c->reaper);
}

static void s_close_pipe(tc_checker_t *c, s_pipe_t *p)
{
    if (p->fd < 0)
        return;
    zmq_pollitem_t item = {NULL, p->fd, ZMQ_POLLIN, 0};
    zloop_poller_end(c->loop, &item);
    close(p->fd);
    p->fd = -1;
}

/* Reads what the pipe has now, keeping up to its cap. Returns true at end
 * of file, on error, or once TC_CHECKER_READ_MAX bytes came through. */
static bool s_drain(s_pipe_t *p)
{
    char scratch[4096];
    size_t budget = S_READ_BUDGET;
    while (budget > 0) {
        char *dst = scratch;
        size_t room = sizeof scratch;
        if (p->len < p->cap) {
            dst = p->buf + p->len;
            room = p->cap - p->len;
        }
        ssize_t n = read(p->fd, dst, room);
        if (n > 0) {
            if (dst != scratch)
                p->len += (size_t)n;
            /* else: beyond the cap, counted and dropped */
            p->total += (size_t)n;
            if (p->total > TC_CHECKER_READ_MAX)
                return true;
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
    char why[200];
    memset(res, 0, sizeof *res);
    if (r->timed_out) {
        char d[32];
        res->state = TC_STATE_CRITICAL;
        snprintf(res->output, sizeof res->output, "check timed out after %s",
                 tc_duration_format(r->def->timeout_ms, d, sizeof d));
        return;
    }
    if (r->start_error) {
        /* The first word is what could not be executed. */
        const char *cmd = r->def->arg;
        int len = (int)strcspn(cmd, " \t");
        res->state = TC_STATE_UNKNOWN;
        if (r->start_error == ENOMEM)
            snprintf(res->output, sizeof res->output, "cannot start check: out of memory");
        else if (r->start_error == ENOENT)
            snprintf(res->output, sizeof res->output, "command not found: %.*s", len, cmd);
        else
            snprintf(res->output, sizeof res->output, "command cannot be executed: %.*s: %s", len,
                     cmd, strerror(r->start_error));
        return;
    }
    tc_nagios_parse(r->out.buf, r->out.len, res);
    if (r->overflow) {
        res->state = TC_STATE_UNKNOWN;
        res->nperf = 0;
        snprintf(why, sizeof why, "check stopped: it wrote more than %d KiB to %s",
                 TC_CHECKER_READ_MAX / 1024,
                 r->out.total > TC_CHECKER_READ_MAX ? "stdout" : "stderr");
        s_prefix_output(res, why);
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

/* Logs what the plugin wrote to stderr, on one line, at debug level. */
static void s_log_stderr(const s_run_t *r)
{
    if (r->err.total == 0)
        return;
    /* Line breaks as "\n", so the log keeps one line per event. */
    char flat[2 * S_STDERR_KEEP + 1], text[2 * S_STDERR_KEEP + 1];
    size_t n = r->err.len, k = 0;
    while (n > 0 && (r->err.buf[n - 1] == '\n' || r->err.buf[n - 1] == '\r'))
        n--;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)r->err.buf[i];
        if (ch == '\n') {
            flat[k++] = '\\';
            flat[k++] = 'n';
        } else {
            flat[k++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
        }
    }
    flat[k] = '\0';
    tc_strlcpy_utf8(text, flat, sizeof text);
    tc_debug("check %s: stderr (%zu bytes%s): %s", r->def->name, r->err.total,
             r->err.total > r->err.len ? ", first ones" : "", text);
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

/* Completes the run once the process was reaped and both pipes closed. */
static void s_try_finish(tc_checker_t *c, s_run_t *r)
{
    if (!r->exited || r->out.fd >= 0 || r->err.fd >= 0)
        return;
    /* Always called from a loop handler, so ending timers is safe here. */
    if (r->timeout_timer != -1)
        zloop_timer_end(c->loop, r->timeout_timer);
    if (r->grace_timer != -1)
        zloop_timer_end(c->loop, r->grace_timer);
    s_remove(c, r);

    tc_check_result_t res;
    s_make_result(r, &res);
    s_log_stderr(r);
    void *tag = r->tag;
    free(r);
    c->done(tag, &res, c->arg);
}

/* Stops a plugin that wrote too much: its whole group is killed. */
static void s_overflow(tc_checker_t *c, s_run_t *r)
{
    if (!r->overflow && !r->exited) {
        r->overflow = true;
        tc_reaper_kill(c->reaper, r->pid);
    }
}

static int s_on_readable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    tc_checker_t *c = arg;
    s_run_t *r = s_find_fd(c, item->fd);
    if (!r)
        return 0;
    s_pipe_t *p = r->out.fd == item->fd ? &r->out : &r->err;
    if (s_drain(p)) {
        if (p->total > TC_CHECKER_READ_MAX)
            s_overflow(c, r);
        s_close_pipe(c, p);
        s_try_finish(c, r);
    }
    return 0;
}

static int s_on_grace(zloop_t *loop, int timer_id, void *arg)
{
    tc_checker_t *c = arg;
    s_run_t *r = s_find_timer(c, timer_id);
    if (!r || r->grace_timer != timer_id)
        return 0;
    r->grace_timer = -1; /* one-shot: zloop removes it */
    /* Something we could not kill holds a pipe open; take what was
     * written and stop listening. */
    tc_debug("check %s: output pipe still open %d ms after the check ended; closing it",
             r->def->name, S_PIPE_GRACE_MS);
    s_pipe_t *pipes[] = {&r->out, &r->err};
    for (size_t i = 0; i < 2; i++) {
        if (pipes[i]->fd >= 0) {
            s_drain(pipes[i]);
            s_close_pipe(c, pipes[i]);
        }
    }
    s_try_finish(c, r);
    return 0;
}

static int s_on_timeout(zloop_t *loop, int timer_id, void *arg)
{
    tc_checker_t *c = arg;
    s_run_t *r = s_find_timer(c, timer_id);
    if (!r || r->timeout_timer != timer_id)
        return 0;
    r->timeout_timer = -1; /* one-shot: zloop removes it */
    if (!r->exited) {
        r->timed_out = true;
        tc_reaper_kill(c->reaper, r->pid);
    }
    return 0;
}

/* The reaper: the plugin exited and its group has been killed. */
static void s_on_exit(pid_t pid, int status, void *arg)
{
    s_run_t *r = arg;
    tc_checker_t *c = r->checker;
    r->exited = true;
    r->status = status;
    if (r->timeout_timer != -1) {
        zloop_timer_end(c->loop, r->timeout_timer);
        r->timeout_timer = -1;
    }
    if (r->out.fd >= 0 || r->err.fd >= 0) {
        r->grace_timer = zloop_timer(c->loop, S_PIPE_GRACE_MS, 1, s_on_grace, c);
        if (r->grace_timer == -1) {
            /* Out of memory: do not wait for the pipes at all. */
            s_close_pipe(c, &r->out);
            s_close_pipe(c, &r->err);
        }
    }
    s_try_finish(c, r);
}

/* A failed start reported like a finished run, from the loop, so that the
 * callback never runs inside tc_checker_start(). */
static int s_on_start_failed(zloop_t *loop, int timer_id, void *arg)
{
    tc_checker_t *c = arg;
    s_run_t *r = s_find_timer(c, timer_id);
    if (!r || r->grace_timer != timer_id)
        return 0;
    r->grace_timer = -1;
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

/* Splits `cmd` into words in `words` (a copy, NUL-separated) if it uses no
 * shell syntax at all: only letters, digits, white space and - _ . / : , +
 * = @ % ^, and the command is a path (with a '/': a bare word may be a
 * shell builtin such as `exit`). Nagios runs such commands without a shell
 * too; it saves starting one on every run. Returns the number of words, or
 * 0 if a shell is needed. */
static size_t s_split_simple(const char *cmd, char *words, size_t cap, char **argv)
{
    size_t n = strlen(cmd);
    if (n == 0 || n >= cap)
        return 0;
    for (const char *p = cmd; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            !strchr(" \t-_./:,+=@%^", ch))
            return 0;
    }
    memcpy(words, cmd, n + 1);
    size_t argc = 0;
    for (char *save = NULL, *w = strtok_r(words, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        if (argc == S_ARGV_MAX)
            return 0;
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    if (argc == 0 || !strchr(argv[0], '/') || strchr(argv[0], '='))
        return 0; /* a builtin, a PATH search or VAR=value: the shell's business */
    return argc;
}

/* Starts the child for `r` with stdout on out[1] and stderr on err[1].
 * Returns 0 or an errno value. */
static int s_spawn_with(s_run_t *r, int out, int err_w)
{
    char words[TC_CHECK_ARG_MAX];
    char *argv[S_ARGV_MAX + 2];
    const char *path;
    bool shell = false;

    switch (r->def->type) {
    case TC_CHECK_EXEC:
        if (s_split_simple(r->def->arg, words, sizeof words, argv) > 0) {
            path = argv[0];
        } else {
            path = "/bin/sh";
            shell = true;
            argv[0] = "sh";
            argv[1] = "-c";
            argv[2] = r->def->arg;
            argv[3] = NULL;
        }
        break;
    default: return EINVAL;
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int e;
    if ((e = posix_spawn_file_actions_init(&fa)) != 0)
        return e;
    if ((e = posix_spawnattr_init(&at)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return e;
    }
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&dfl, sigs[i]);
    if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, out, 1)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) != 0 ||
        (e = s_close_others(&fa)) != 0 ||
        /* setpgid(0, 0) in the child: the group can be killed as a whole. */
        (e = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
        (e = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
        (e = posix_spawnattr_setsigdefault(&at, &dfl)) != 0 ||
        (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF)) != 0)
        goto done;
    e = posix_spawn(&r->pid, path, &fa, &at, argv, environ);
    if (e == ENOEXEC && !shell && r->def->type == TC_CHECK_EXEC) {
        /* A script without "#!": the shell runs it, as execvp() would. */
        char *shv[] = {"sh", "-c", r->def->arg, NULL};
        e = posix_spawn(&r->pid, "/bin/sh", &fa, &at, shv, environ);
    }
done:
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return e;
}

/* Creates the pipes and the child. Returns 0, or TC_ESYS with errno set.
 * A command that cannot be executed is 0 with r->start_error set. */
static int s_spawn(s_run_t *r)
{
    int out[2], err[2];
    /* Close-on-exec, so no other check's child inherits them; the dup2
     * onto 1 and 2 in the child clears the flag on the copies. */
    if (pipe2(out, O_CLOEXEC) != 0)
        return TC_ESYS;
    if (pipe2(err, O_CLOEXEC) != 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        errno = e;
        return TC_ESYS;
    }
    int e = 0;
    if (fcntl(out[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(err[0], F_SETFL, O_NONBLOCK) != 0)
        e = errno;
    else
        e = s_spawn_with(r, out[1], err[1]);
    close(out[1]);
    close(err[1]);
    if (e == ENOENT || e == EACCES || e == ENOEXEC || e == ENOTDIR || e == ELOOP) {
        close(out[0]);
        close(err[0]);
        r->pid = 0;
        r->start_error = e;
        return 0;
    }
    if (e != 0) {
        close(out[0]);
        close(err[0]);
        errno = e;
        return TC_ESYS;
    }
    r->out.fd = out[0];
    r->err.fd = err[0];
    return 0;
}

static int s_add_poller(tc_checker_t *c, int fd)
{
    zmq_pollitem_t item = {NULL, fd, ZMQ_POLLIN, 0};
    if (zloop_poller(c->loop, &item, s_on_readable, c) != 0)
        return -1;
    /* POLLHUP arrives as an error; the handler deals with it (EOF). */
    zloop_poller_set_tolerant(c->loop, &item);
    return 0;
}

int tc_checker_start(tc_checker_t *c, const tc_check_def_t *def, void *tag)
{
    if (tc_checker_running(c, tag))
        return TC_EINVAL;
    if (def->type != TC_CHECK_EXEC)
        return tc_prober_start(c->prober, def, tag);
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
    r->checker = c;
    r->tag = tag;
    r->def = def;
    r->out = (s_pipe_t){.fd = -1, .cap = sizeof r->outbuf, .buf = r->outbuf};
    r->err = (s_pipe_t){.fd = -1, .cap = sizeof r->errbuf, .buf = r->errbuf};
    r->timeout_timer = -1;
    r->grace_timer = -1;

    int rc = s_spawn(r);
    if (rc != 0) {
        int e = errno;
        free(r);
        errno = e;
        return rc;
    }
    if (r->start_error) {
        r->exited = true;
        r->grace_timer = zloop_timer(c->loop, 0, 1, s_on_start_failed, c);
        if (r->grace_timer == -1) {
            free(r);
            return TC_ENOMEM;
        }
        c->runs[c->nruns++] = r;
        tc_debug("check %s: cannot execute: %s", def->name, strerror(r->start_error));
        return 0;
    }
    if (tc_reaper_watch(c->reaper, r->pid, s_on_exit, r) != 0)
        goto fail_unwatched;
    if (s_add_poller(c, r->out.fd) != 0 || s_add_poller(c, r->err.fd) != 0)
        goto fail_watched;
    r->timeout_timer = zloop_timer(c->loop, (size_t)def->timeout_ms, 1, s_on_timeout, c);
    if (r->timeout_timer == -1)
        goto fail_watched;
    c->runs[c->nruns++] = r;
    tc_debug("check %s: started pid %d", def->name, (int)r->pid);
    return 0;

fail_watched:
    /* Out of memory inside zloop. The reaper holds the run for its exit
     * callback, so the run stays registered and ends UNKNOWN when the
     * killed child has been reaped. */
    r->start_error = ENOMEM;
    tc_reaper_kill(c->reaper, r->pid);
    s_close_pipe(c, &r->out);
    s_close_pipe(c, &r->err);
    c->runs[c->nruns++] = r;
    return 0;
fail_unwatched:
    s_close_pipe(c, &r->out);
    s_close_pipe(c, &r->err);
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
        s_close_pipe(c, &c->runs[i]->out);
        s_close_pipe(c, &c->runs[i]->err);
    }
    /* Kills every group and leftover and reaps them, without callbacks. */
    tc_reaper_destroy(&c->reaper);
    tc_prober_destroy(&c->prober);
    for (size_t i = 0; i < c->nruns; i++)
        free(c->runs[i]);
    free(c->runs);
    free(c);
    *pchecker = NULL;
}
