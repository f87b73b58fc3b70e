/* Check runs as real child processes in a real zloop: exit codes, signals,
 * timeouts that kill the whole process group, stderr apart from the answer,
 * output limits, and processes left behind (in the group, double-forked,
 * setsid'd) killed when the check ends, times out or the checker goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "checker.h"
#include "error.h"
#include "probe.h"

#include "log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_RUNS 16

typedef struct {
    zloop_t *loop;
    tc_checker_t *checker;
    tc_check_def_t defs[S_MAX_RUNS];
    tc_check_result_t results[S_MAX_RUNS];
    bool done[S_MAX_RUNS];
    size_t ndone;
    size_t want;
    size_t leftovers;  /* killed by the checker during the last s_run() */
    bool verify_leaks; /* s_done checks that s_leaky_command's leftovers are dead */
    char dir[64];
} s_ctx_t;

static void s_assert_leaks_dead(const s_ctx_t *c);

static void s_done(void *tag, const tc_check_result_t *res, void *arg)
{
    s_ctx_t *c = arg;
    size_t i = (size_t)(uintptr_t)tag;
    assert_false(c->done[i]); /* exactly one callback per run */
    assert_false(tc_checker_running(c->checker, tag));
    c->results[i] = *res;
    c->done[i] = true;
    c->ndone++;
    /* When a check's result is in, everything it left behind has been
     * killed: this runs before the checker is destroyed. */
    if (c->verify_leaks)
        s_assert_leaks_dead(c);
}

static int s_poll_done(zloop_t *loop, int timer_id, void *arg)
{
    s_ctx_t *c = arg;
    return c->ndone >= c->want ? -1 : 0;
}

/* A guard against a hung test, not a timing assertion: the test fails on
 * the missing results, whatever the clock says. */
static int s_guard(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static int s_setup(void **state)
{
    s_ctx_t *c = calloc(1, sizeof *c);
    c->loop = zloop_new();
    c->checker = tc_checker_new(c->loop, s_done, c);
    snprintf(c->dir, sizeof c->dir, "/tmp/tc-checker-XXXXXX");
    if (!c->loop || !c->checker || !mkdtemp(c->dir))
        return -1;
    *state = c;
    return 0;
}

static int s_teardown(void **state)
{
    s_ctx_t *c = *state;
    tc_checker_destroy(&c->checker);
    zloop_destroy(&c->loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
    int rc = system(cmd);
    free(c);
    return rc == 0 ? 0 : -1;
}

static size_t s_add(s_ctx_t *c, tc_check_type_t type, const char *arg, int64_t timeout_ms)
{
    size_t i = 0;
    while (c->defs[i].arg)
        i++;
    assert_true(i < S_MAX_RUNS);
    tc_check_def_t *d = &c->defs[i];
    snprintf(d->name, sizeof d->name, "check-%zu", i);
    snprintf(d->service, sizeof d->service, "svc");
    d->type = type;
    d->arg = (char *)arg;
    d->interval_ms = 10000;
    d->timeout_ms = timeout_ms;
    d->retries = 1;
    assert_int_equal(tc_checker_start(c->checker, d, (void *)(uintptr_t)i), 0);
    assert_true(tc_checker_running(c->checker, (void *)(uintptr_t)i));
    return i;
}

/* Runs the loop until `want` results are in, then replaces loop and
 * checker: czmq's zloop must not be started a second time (it keeps its
 * "terminated" flag, and timer cancellation from handlers then frees timers
 * it is still iterating). */
static void s_run(s_ctx_t *c, size_t want)
{
    c->want = want;
    zloop_timer(c->loop, 5, 0, s_poll_done, c);
    zloop_timer(c->loop, 60000, 1, s_guard, c);
    zloop_start(c->loop);
    assert_int_equal(c->ndone, want);
    c->leftovers = tc_checker_leftovers_killed(c->checker);
    tc_checker_destroy(&c->checker);
    zloop_destroy(&c->loop);
    c->loop = zloop_new();
    c->checker = tc_checker_new(c->loop, s_done, c);
    assert_non_null(c->checker);
}

static const tc_check_result_t *s_one(s_ctx_t *c, tc_check_type_t type, const char *arg,
                                      int64_t timeout_ms)
{
    size_t i = s_add(c, type, arg, timeout_ms);
    s_run(c, c->ndone + 1);
    assert_true(c->done[i]);
    return &c->results[i];
}

static void test_exit_codes_map_to_states(void **state)
{
    s_ctx_t *c = *state;
    size_t ok =
        s_add(c, TC_CHECK_EXEC, "echo 'DISK OK - fine|used=12MB;80;90;0;100'; exit 0", 5000);
    size_t warn = s_add(c, TC_CHECK_EXEC, "echo 'LOAD WARNING - 5.0'; exit 1", 5000);
    size_t crit = s_add(c, TC_CHECK_EXEC, "echo oops >&2; exit 2", 5000);
    size_t direct = s_add(c, TC_CHECK_EXEC, "/bin/echo   OK   -  without a shell", 5000);
    size_t unk = s_add(c, TC_CHECK_EXEC, "echo 'who knows'; exit 3", 5000);
    size_t silent = s_add(c, TC_CHECK_EXEC, "exit 0", 5000);
    s_run(c, 6);
    assert_int_equal(c->results[ok].state, TC_STATE_OK);
    assert_string_equal(c->results[ok].output, "DISK OK - fine");
    assert_int_equal(c->results[ok].nperf, 1);
    assert_string_equal(c->results[ok].perf[0].label, "used");
    assert_true(c->results[ok].perf[0].value == 12);
    assert_int_equal(c->results[warn].state, TC_STATE_WARNING);
    assert_string_equal(c->results[warn].output, "LOAD WARNING - 5.0");
    assert_int_equal(c->results[crit].state, TC_STATE_CRITICAL);
    /* stderr is not the plugin's answer: */
    assert_string_equal(c->results[crit].output, "(no output from check, exit code 2)");
    assert_int_equal(c->results[direct].state, TC_STATE_OK);
    assert_string_equal(c->results[direct].output, "OK - without a shell");
    assert_int_equal(c->results[direct].nperf, 0);
    assert_int_equal(c->results[unk].state, TC_STATE_UNKNOWN);
    assert_string_equal(c->results[unk].output, "who knows");
    assert_int_equal(c->results[silent].state, TC_STATE_OK);
    assert_string_equal(c->results[silent].output, "(no output from check, exit code 0)");
    assert_int_equal(tc_checker_active(c->checker), 0);
}

static void test_bad_exits_are_unknown(void **state)
{
    s_ctx_t *c = *state;
    size_t four = s_add(c, TC_CHECK_EXEC, "echo 'text|a=1'; exit 4", 5000);
    size_t nf = s_add(c, TC_CHECK_EXEC, "/nonexistent/plugin --flag", 5000);
    size_t nfsh = s_add(c, TC_CHECK_EXEC, "/nonexistent/plugin --flag; exit $?", 5000);
    size_t nfpath = s_add(c, TC_CHECK_EXEC, "no-such-plugin-anywhere -w 1", 5000);
    size_t sig = s_add(c, TC_CHECK_EXEC, "kill -TERM $$", 5000);
    char noexec[128];
    snprintf(noexec, sizeof noexec, "%s/plugin.txt", c->dir);
    FILE *f = fopen(noexec, "w");
    assert_non_null(f);
    fputs("echo hello\n", f);
    fclose(f); /* mode 0644: not executable */
    size_t perm = s_add(c, TC_CHECK_EXEC, noexec, 5000);
    s_run(c, 6);
    assert_int_equal(c->results[four].state, TC_STATE_UNKNOWN);
    assert_string_equal(c->results[four].output,
                        "check exited with code 4, not a Nagios state 0..3: text");
    assert_int_equal(c->results[four].nperf, 0);
    assert_int_equal(c->results[nf].state, TC_STATE_UNKNOWN);
    assert_string_equal(c->results[nf].output, "command not found: /nonexistent/plugin");
    assert_int_equal(c->results[nfsh].state, TC_STATE_UNKNOWN);
    assert_non_null(strstr(c->results[nfsh].output, "command not found (exit code 127)"));
    assert_int_equal(c->results[nfpath].state, TC_STATE_UNKNOWN);
    assert_non_null(strstr(c->results[nfpath].output, "command not found (exit code 127)"));
    assert_int_equal(c->results[perm].state, TC_STATE_UNKNOWN);
    assert_non_null(strstr(c->results[perm].output, "command cannot be executed: "));
    assert_non_null(strstr(c->results[perm].output, "Permission denied"));
    assert_int_equal(c->results[sig].state, TC_STATE_UNKNOWN);
    assert_non_null(strstr(c->results[sig].output, "check killed by signal 15"));
}

/* True once `pid` is gone or a zombie (an orphan whose reaper is slow). */
static bool s_dead(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] == 'Z';
}

static pid_t s_read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int pid = 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

static void s_wait_dead(pid_t pid)
{
    /* Bounded polling for the kernel to finish the kill; the assertion is
     * about the state reached, not about how long it took. */
    for (int i = 0; i < 500 && !s_dead(pid); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(s_dead(pid));
}

static void test_timeout_kills_process_group(void **state)
{
    s_ctx_t *c = *state;
    char cmd[256], pidfile[128];
    snprintf(pidfile, sizeof pidfile, "%s/bg.pid", c->dir);
    /* A grandchild in the background, then the shell waits: both must die. */
    snprintf(cmd, sizeof cmd, "sleep 300 & echo $! > %s; echo started; wait", pidfile);
    const tc_check_result_t *r = s_one(c, TC_CHECK_EXEC, cmd, 300);
    assert_int_equal(r->state, TC_STATE_CRITICAL);
    assert_string_equal(r->output, "check timed out after 300ms");
    pid_t bg = s_read_pid(pidfile);
    assert_true(bg > 0);
    s_wait_dead(bg);
}

static void test_child_has_own_group_and_no_stdin(void **state)
{
    s_ctx_t *c = *state;
    const tc_check_result_t *r =
        s_one(c, TC_CHECK_EXEC,
              "cat; set -- $(cat /proc/$$/stat); [ \"$5\" = \"$$\" ] && echo own-group || echo "
              "shared-group",
              5000);
    assert_int_equal(r->state, TC_STATE_OK);
    assert_string_equal(r->output, "own-group");
}

static void test_output_is_capped(void **state)
{
    s_ctx_t *c = *state;
    /* 512 KiB on one line: drained to the end (the child must not block on
     * a full pipe), kept only up to the cap, output truncated. */
    const tc_check_result_t *r = s_one(
        c, TC_CHECK_EXEC, "head -c 524288 /dev/zero | tr '\\0' x; echo '|a=1'; exit 1", 10000);
    assert_int_equal(r->state, TC_STATE_WARNING);
    assert_int_equal(strlen(r->output), TC_TEXT_MAX - 1);
    assert_int_equal(r->nperf, 0); /* the perfdata was beyond the cap */
}

static void test_endless_output_is_stopped(void **state)
{
    s_ctx_t *c = *state;
    /* Without end, on either stream: stopped once the read limit is
     * passed, long before the timeout. */
    size_t out = s_add(c, TC_CHECK_EXEC, "yes 'OK - spam'", 60000);
    size_t err = s_add(c, TC_CHECK_EXEC, "echo 'OK - quiet'; yes 'noise' >&2", 60000);
    s_run(c, 2);
    assert_int_equal(c->results[out].state, TC_STATE_UNKNOWN);
    assert_string_equal(c->results[out].output,
                        "check stopped: it wrote more than 1024 KiB to stdout: OK - spam");
    assert_int_equal(c->results[err].state, TC_STATE_UNKNOWN);
    assert_string_equal(c->results[err].output,
                        "check stopped: it wrote more than 1024 KiB to stderr: OK - quiet");
}

static void test_script_without_shebang_runs(void **state)
{
    s_ctx_t *c = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/plugin", c->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("echo 'OK - no shebang line'\nexit 1\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
    /* No shell syntax: executed directly, which fails with ENOEXEC; the
     * shell runs it then, as it would have from the start. */
    const tc_check_result_t *r = s_one(c, TC_CHECK_EXEC, path, 5000);
    assert_int_equal(r->state, TC_STATE_WARNING);
    assert_string_equal(r->output, "OK - no shebang line");
}

static void test_stderr_is_apart_and_logged(void **state)
{
    s_ctx_t *c = *state;
    char logpath[128];
    snprintf(logpath, sizeof logpath, "%s/log", c->dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    close(fd);
    tc_log_init("test", TC_LOG_DEBUG);
    /* Interleaved on purpose: stderr between the status line and the
     * perfdata of the long text. */
    const tc_check_result_t *r =
        s_one(c, TC_CHECK_EXEC,
              "echo 'DISK OK - 40% free|free=40%'; echo 'EEEE first|bad=1' >&2; echo 'long text'; "
              "printf 'EEEE second\\n' >&2; echo '|used=60%'; exit 0",
              5000);
    fflush(stderr);
    tc_log_init("test", TC_LOG_INFO);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);

    assert_int_equal(r->state, TC_STATE_OK);
    assert_string_equal(r->output, "DISK OK - 40% free");
    assert_int_equal(r->nperf, 2);
    assert_string_equal(r->perf[0].label, "free");
    assert_string_equal(r->perf[1].label, "used");

    char log[8192];
    FILE *f = fopen(logpath, "r");
    assert_non_null(f);
    size_t n = fread(log, 1, sizeof log - 1, f);
    fclose(f);
    log[n] = '\0';
    /* One debug line with both stderr lines, the line break escaped. */
    assert_non_null(strstr(log, "DEBUG test: check check-0: stderr (29 bytes): "
                                "EEEE first|bad=1\\nEEEE second\n"));
}

static void test_background_leftover_does_not_hold_result(void **state)
{
    s_ctx_t *c = *state;
    char cmd[256], pidfile[128];
    snprintf(pidfile, sizeof pidfile, "%s/left.pid", c->dir);
    /* The plugin exits at once but leaves a process holding our pipe. */
    snprintf(cmd, sizeof cmd, "sleep 300 & echo $! > %s; echo 'OK - done'; exit 0", pidfile);
    const tc_check_result_t *r = s_one(c, TC_CHECK_EXEC, cmd, 30000);
    assert_int_equal(r->state, TC_STATE_OK); /* not "timed out" */
    assert_string_equal(r->output, "OK - done");
    s_wait_dead(s_read_pid(pidfile));
}

/* Our children right now: every thread's /proc children file. */
static size_t s_children(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        int pid;
        while (fscanf(f, "%d", &pid) == 1)
            n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

/* A plugin that leaves four processes behind in four ways, waits until
 * each has written its pid to DIR/NAME.pid, and prints its answer. */
static void s_leaky_command(const s_ctx_t *c, char *cmd, size_t cap, const char *tail)
{
    const char *d = c->dir;
    snprintf(cmd, cap,
             /* in the group, in the background */
             "sh -c 'echo $$ > %s/bg.pid; exec sleep 300' >/dev/null 2>&1 & "
             /* double fork: orphaned, still in the group */
             "( sh -c 'echo $$ > %s/df.pid; exec sleep 300' >/dev/null 2>&1 & ); "
             /* a session of its own, output elsewhere */
             "setsid sh -c 'echo $$ > %s/ss.pid; exec sleep 300' >/dev/null 2>&1 & "
             /* a session of its own, holding our pipes */
             "setsid sh -c 'echo $$ > %s/sp.pid; exec sleep 300' & "
             "for f in bg df ss sp; do while [ ! -s %s/$f.pid ]; do sleep 0.01; done; done; %s",
             d, d, d, d, d, tail);
}

static void s_assert_leaks_dead(const s_ctx_t *c)
{
    static const char *names[] = {"bg", "df", "ss", "sp"};
    for (size_t i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s.pid", c->dir, names[i]);
        pid_t pid = s_read_pid(path);
        if (pid <= 0)
            fail_msg("%s: no pid", path);
        s_wait_dead(pid);
    }
}

static void test_leftovers_die_when_the_check_ends(void **state)
{
    s_ctx_t *c = *state;
    char cmd[2048];
    s_leaky_command(c, cmd, sizeof cmd, "echo 'OK - done'; exit 0");
    c->verify_leaks = true;
    const tc_check_result_t *r = s_one(c, TC_CHECK_EXEC, cmd, 30000);
    assert_int_equal(r->state, TC_STATE_OK); /* not "timed out": the pipe holder died */
    assert_string_equal(r->output, "OK - done");
    /* The two in their own sessions escaped the group kill; the sweep
     * found and killed them (the other two died with the group). */
    assert_true(c->leftovers >= 2);
    s_assert_leaks_dead(c);
    assert_int_equal(s_children(), 0); /* and nothing is left to reap */
}

static void test_timeout_kills_escaped_processes(void **state)
{
    s_ctx_t *c = *state;
    char cmd[2048];
    s_leaky_command(c, cmd, sizeof cmd, "echo started; exec sleep 300");
    c->verify_leaks = true;
    const tc_check_result_t *r = s_one(c, TC_CHECK_EXEC, cmd, 2000);
    assert_int_equal(r->state, TC_STATE_CRITICAL);
    assert_string_equal(r->output, "check timed out after 2s");
    s_assert_leaks_dead(c);
    assert_int_equal(s_children(), 0);
}

static void test_destroy_kills_escaped_processes(void **state)
{
    s_ctx_t *c = *state;
    char cmd[2048], ready[128], tail[200];
    snprintf(ready, sizeof ready, "%s/READY", c->dir);
    snprintf(tail, sizeof tail, "echo ready > %s; exec sleep 300", ready);
    s_leaky_command(c, cmd, sizeof cmd, tail);
    s_add(c, TC_CHECK_EXEC, cmd, 60000);
    /* Wait (without the loop: nothing needs it) until the plugin is ready:
     * its leftovers are alive, the escaped ones still children of the
     * plugin's shell, not ours. */
    for (int i = 0; i < 1000 && access(ready, F_OK) != 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(access(ready, F_OK), 0);
    tc_checker_destroy(&c->checker);
    assert_int_equal(c->ndone, 0); /* no callbacks on destroy */
    s_assert_leaks_dead(c);
    assert_int_equal(s_children(), 0);
}

static void test_same_tag_not_started_twice(void **state)
{
    s_ctx_t *c = *state;
    size_t i = s_add(c, TC_CHECK_EXEC, "sleep 0.2; echo ok", 5000);
    assert_int_equal(tc_checker_start(c->checker, &c->defs[i], (void *)(uintptr_t)i), TC_EINVAL);
    assert_int_equal(tc_checker_active(c->checker), 1);
    s_run(c, 1);
    assert_int_equal(c->results[i].state, TC_STATE_OK);
    /* Finished: it may run again. */
    c->done[i] = false;
    assert_int_equal(tc_checker_start(c->checker, &c->defs[i], (void *)(uintptr_t)i), 0);
    s_run(c, 2);
}

static void test_destroy_kills_running_children(void **state)
{
    s_ctx_t *c = *state;
    char cmd[512], pidfile[96];
    snprintf(pidfile, sizeof pidfile, "%s/run.pid", c->dir);
    snprintf(cmd, sizeof cmd, "echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 300", pidfile, pidfile,
             pidfile);
    s_add(c, TC_CHECK_EXEC, cmd, 60000);
    pid_t pid = 0;
    for (int i = 0; i < 1000 && pid == 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pid = s_read_pid(pidfile);
    }
    assert_true(pid > 0);
    tc_checker_destroy(&c->checker);
    assert_null(c->checker);
    assert_true(s_dead(pid));      /* destroy reaps what it killed */
    assert_int_equal(c->ndone, 0); /* no callbacks on destroy */
}

/* tcp and http checks are not processes: the checker hands them to the
 * prober (test_probe.c covers the probes themselves). */
static void test_probes_run_in_the_loop(void **state)
{
    s_ctx_t *c = *state;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", ntohs(a.sin_port));
    size_t i = s_add(c, TC_CHECK_TCP, target, 5000);
    assert_int_equal(tc_checker_active(c->checker), 1);
    assert_int_equal(s_children(), 0); /* no process was started */
    s_run(c, 1);
    close(fd);
    assert_int_equal(c->results[i].state, TC_STATE_OK);
    assert_non_null(strstr(c->results[i].output, "TCP OK - 127.0.0.1:"));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_codes_map_to_states, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_exits_are_unknown, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_process_group, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_child_has_own_group_and_no_stdin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_output_is_capped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_endless_output_is_stopped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_script_without_shebang_runs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stderr_is_apart_and_logged, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_leftovers_die_when_the_check_ends, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_escaped_processes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_kills_escaped_processes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_background_leftover_does_not_hold_result, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_same_tag_not_started_twice, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_kills_running_children, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_probes_run_in_the_loop, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
