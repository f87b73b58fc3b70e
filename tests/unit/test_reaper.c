/* The reaper with real processes in a real zloop: a watched leader's exit
 * and status, its group killed when it exits, orphans that escaped into
 * sessions of their own found and killed, the same without pidfds, and
 * shutdown that leaves nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reaper.h"

#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    zloop_t *loop;
    tc_reaper_t *reaper;
    char dir[64];
    int exits;
    pid_t pid;
    int status;
    bool stop_when_no_pending; /* stop only once leftovers are reaped too */
} s_ctx_t;

static int s_setup(void **state)
{
    s_ctx_t *c = calloc(1, sizeof *c);
    c->loop = zloop_new();
    c->reaper = tc_reaper_new(c->loop);
    snprintf(c->dir, sizeof c->dir, "/tmp/tc-reaper-XXXXXX");
    if (!c->loop || !c->reaper || !mkdtemp(c->dir))
        return -1;
    *state = c;
    return 0;
}

static int s_teardown(void **state)
{
    s_ctx_t *c = *state;
    tc_reaper_destroy(&c->reaper);
    zloop_destroy(&c->loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
    int rc = system(cmd);
    free(c);
    return rc == 0 ? 0 : -1;
}

static void s_exit(pid_t pid, int status, void *arg)
{
    s_ctx_t *c = arg;
    c->exits++;
    c->pid = pid;
    c->status = status;
}

static int s_poll(zloop_t *loop, int timer_id, void *arg)
{
    s_ctx_t *c = arg;
    if (c->exits == 0)
        return 0;
    if (c->stop_when_no_pending && tc_reaper_leftovers_pending(c->reaper) > 0)
        return 0;
    return -1;
}

/* A guard against a hung test, not a timing assertion. */
static int s_guard(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static void s_loop(s_ctx_t *c)
{
    zloop_timer(c->loop, 5, 0, s_poll, c);
    zloop_timer(c->loop, 60000, 1, s_guard, c);
    zloop_start(c->loop);
}

/* Starts `script` under sh as the leader of its own group, as the checker
 * does, and watches it. */
static pid_t s_start(s_ctx_t *c, const char *script)
{
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, "/bin/sh", NULL, &at, argv, environ), 0);
    posix_spawnattr_destroy(&at);
    assert_int_equal(tc_reaper_watch(c->reaper, pid, s_exit, c), 0);
    return pid;
}

static pid_t s_read_pid(const s_ctx_t *c, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int pid = 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

/* Gone, or a zombie nobody reaped yet. */
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

/* Gone for good: not even a zombie (it was reaped). */
static bool s_gone(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    return access(path, F_OK) != 0;
}

static void s_wait_dead(pid_t pid)
{
    assert_true(pid > 0);
    for (int i = 0; i < 500 && !s_dead(pid); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(s_dead(pid));
}

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

/* A script that leaves one process in its group and one in a session of
 * its own, waits until both wrote their pids, then exits with 3. */
static void s_leaky(const s_ctx_t *c, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "cd %s; sh -c 'echo $$ > grp.pid; exec sleep 300' & "
             "setsid sh -c 'echo $$ > ses.pid; exec sleep 300' & "
             "while [ ! -s grp.pid ] || [ ! -s ses.pid ]; do sleep 0.01; done; exit 3",
             c->dir);
}

static void s_exit_kills_group_and_orphans(s_ctx_t *c)
{
    char script[512];
    s_leaky(c, script, sizeof script);
    pid_t pid = s_start(c, script);
    c->stop_when_no_pending = true;
    s_loop(c);
    assert_int_equal(c->exits, 1);
    assert_int_equal(c->pid, pid);
    assert_true(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 3);
    s_wait_dead(s_read_pid(c, "grp.pid"));
    s_wait_dead(s_read_pid(c, "ses.pid"));
    assert_true(tc_reaper_leftovers_killed(c->reaper) >= 1);
    /* Reaped while the loop ran, not at destroy. */
    assert_int_equal(tc_reaper_leftovers_pending(c->reaper), 0);
    assert_true(s_gone(s_read_pid(c, "ses.pid")));
    assert_true(s_gone(pid));
}

static void test_exit_kills_group_and_orphans(void **state)
{
    s_exit_kills_group_and_orphans(*state);
}

static void test_without_pidfd(void **state)
{
    s_ctx_t *c = *state;
    tc_reaper_use_polling(c->reaper);
    s_exit_kills_group_and_orphans(c);
}

static void test_kill_stops_a_running_group(void **state)
{
    s_ctx_t *c = *state;
    char script[256];
    snprintf(
        script, sizeof script,
        "cd %s; sleep 300 & echo $! > bg.pid; while [ ! -s bg.pid ]; do :; done; exec sleep 300",
        c->dir);
    pid_t pid = s_start(c, script);
    for (int i = 0; i < 500 && s_read_pid(c, "bg.pid") == 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    tc_reaper_kill(c->reaper, pid);
    tc_reaper_kill(c->reaper, 12345678); /* not watched: nothing happens */
    s_loop(c);
    assert_int_equal(c->exits, 1);
    assert_true(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGKILL);
    s_wait_dead(s_read_pid(c, "bg.pid"));
}

static void test_destroy_leaves_nothing(void **state)
{
    s_ctx_t *c = *state;
    char script[512];
    snprintf(script, sizeof script,
             "cd %s; setsid sh -c 'echo $$ > ses.pid; exec sleep 300' & "
             "( sh -c 'echo $$ > df.pid; exec sleep 300' & ); exec sleep 300",
             c->dir);
    s_start(c, script);
    for (int i = 0; i < 500 && (s_read_pid(c, "ses.pid") == 0 || s_read_pid(c, "df.pid") == 0);
         i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pid_t ses = s_read_pid(c, "ses.pid"), df = s_read_pid(c, "df.pid");
    assert_true(ses > 0 && df > 0);
    tc_reaper_destroy(&c->reaper);
    assert_null(c->reaper);
    assert_int_equal(c->exits, 0); /* no callbacks */
    /* Killed and reaped, all of them: nothing is left, not even zombies. */
    assert_true(s_gone(ses));
    assert_true(s_gone(df));
    assert_int_equal(s_children(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_kills_group_and_orphans, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_without_pidfd, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kill_stops_a_running_group, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_leaves_nothing, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
