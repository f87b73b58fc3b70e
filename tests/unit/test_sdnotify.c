/* The sd_notify datagram protocol against a real AF_UNIX socket, as
 * systemd would listen on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "sdnotify.h"

#include <czmq.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
    char dir[64];
    char path[128];
    int fd;
} s_listener_t;

/* A datagram socket bound to a file in a new temporary directory, or, with
 * `abstract`, to an abstract name; $NOTIFY_SOCKET names it. */
static void s_listen(s_listener_t *l, bool abstract)
{
    memset(l, 0, sizeof *l);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    socklen_t len;
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    if (abstract) {
        snprintf(l->path, sizeof l->path, "@tocsin-test-%d", (int)getpid());
        memcpy(a.sun_path, l->path, strlen(l->path));
        a.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->path));
    } else {
        snprintf(l->dir, sizeof l->dir, "/tmp/tocsin-test-notify-XXXXXX");
        assert_non_null(mkdtemp(l->dir));
        snprintf(l->path, sizeof l->path, "%s/notify", l->dir);
        assert_true(strlen(l->path) < sizeof a.sun_path);
        memcpy(a.sun_path, l->path, strlen(l->path) + 1);
        len = sizeof a;
    }
    assert_int_equal(bind(l->fd, (struct sockaddr *)&a, len), 0);
    setenv("NOTIFY_SOCKET", l->path, 1);
}

/* The next datagram, waiting up to 5 s; "" if none came. */
static void s_recv(s_listener_t *l, char *buf, size_t cap)
{
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    buf[0] = '\0';
    if (poll(&p, 1, 5000) != 1)
        return;
    ssize_t n = recv(l->fd, buf, cap - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
}

static bool s_pending(s_listener_t *l)
{
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static void s_close(s_listener_t *l)
{
    close(l->fd);
    if (l->dir[0]) {
        unlink(l->path);
        rmdir(l->dir);
    }
}

static void test_outside_systemd(void **unused)
{
    unsetenv("NOTIFY_SOCKET");
    setenv("WATCHDOG_USEC", "2000000", 1);
    tc_sdnotify_t *n = tc_sdnotify_new();
    assert_non_null(n);
    assert_false(tc_sdnotify_enabled(n));
    assert_int_equal(tc_sdnotify_watchdog_ms(n), 0);
    assert_int_equal(tc_sdnotify_ready(n, "up"), 0);
    assert_int_equal(tc_sdnotify_tick(n), 0);
    tc_sdnotify_destroy(&n);
    assert_null(n);
    tc_sdnotify_destroy(&n);
}

static void s_ready_stopping(bool abstract)
{
    s_listener_t l;
    s_listen(&l, abstract);
    unsetenv("WATCHDOG_USEC");
    tc_sdnotify_t *n = tc_sdnotify_new();
    assert_true(tc_sdnotify_enabled(n));
    /* The variables are gone, so check plugins do not inherit them. */
    assert_null(getenv("NOTIFY_SOCKET"));
    assert_int_equal(tc_sdnotify_watchdog_ms(n), 0);
    char buf[1024];
    assert_int_equal(tc_sdnotify_ready(n, "listening on tcp://127.0.0.1:7401"), 0);
    s_recv(&l, buf, sizeof buf);
    assert_string_equal(buf, "READY=1\nSTATUS=listening on tcp://127.0.0.1:7401");
    assert_int_equal(tc_sdnotify_stopping(n), 0);
    s_recv(&l, buf, sizeof buf);
    assert_string_equal(buf, "STOPPING=1\nSTATUS=stopping");
    tc_sdnotify_destroy(&n);
    s_close(&l);
}

static void test_ready_stopping_path(void **unused)
{
    s_ready_stopping(false);
}

static void test_ready_stopping_abstract(void **unused)
{
    s_ready_stopping(true);
}

static int s_stop_loop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static void test_watchdog(void **unused)
{
    s_listener_t l;
    s_listen(&l, false);
    setenv("WATCHDOG_USEC", "100000", 1); /* 100 ms: ping every 50 ms */
    unsetenv("WATCHDOG_PID");
    tc_sdnotify_t *n = tc_sdnotify_new();
    assert_int_equal(tc_sdnotify_watchdog_ms(n), 50);
    assert_null(getenv("WATCHDOG_USEC"));
    /* The zloop timer pings until the loop ends. */
    zloop_t *loop = zloop_new();
    assert_int_equal(tc_sdnotify_watch(n, loop), 0);
    zloop_timer(loop, 400, 1, s_stop_loop, NULL);
    zloop_start(loop);
    zloop_destroy(&loop);
    char buf[256];
    int pings = 0;
    while (s_pending(&l)) {
        s_recv(&l, buf, sizeof buf);
        assert_string_equal(buf, "WATCHDOG=1");
        pings++;
    }
    assert_true(pings >= 1);
    /* tick(), for polling loops, sends once the interval has passed... */
    zclock_sleep(60);
    assert_int_equal(tc_sdnotify_tick(n), 0);
    s_recv(&l, buf, sizeof buf);
    assert_string_equal(buf, "WATCHDOG=1");
    tc_sdnotify_destroy(&n);
    /* ...and not before: with a 10-minute watchdog nothing is due yet. */
    setenv("NOTIFY_SOCKET", l.path, 1);
    setenv("WATCHDOG_USEC", "600000000", 1);
    n = tc_sdnotify_new();
    assert_int_equal(tc_sdnotify_watchdog_ms(n), 300000);
    assert_int_equal(tc_sdnotify_tick(n), 0);
    assert_false(s_pending(&l));
    tc_sdnotify_destroy(&n);
    s_close(&l);
}

static void test_watchdog_for_another_pid(void **unused)
{
    s_listener_t l;
    s_listen(&l, false);
    setenv("WATCHDOG_USEC", "100000", 1);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    tc_sdnotify_t *n = tc_sdnotify_new();
    assert_true(tc_sdnotify_enabled(n));
    assert_int_equal(tc_sdnotify_watchdog_ms(n), 0);
    tc_sdnotify_destroy(&n);
    /* Nonsense values mean no watchdog, never a crash. */
    setenv("NOTIFY_SOCKET", l.path, 1);
    setenv("WATCHDOG_USEC", "soon", 1);
    unsetenv("WATCHDOG_PID");
    n = tc_sdnotify_new();
    assert_int_equal(tc_sdnotify_watchdog_ms(n), 0);
    tc_sdnotify_destroy(&n);
    s_close(&l);
}

static void test_bad_socket(void **unused)
{
    /* Not a path or abstract name: disabled. */
    setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
    tc_sdnotify_t *n = tc_sdnotify_new();
    assert_false(tc_sdnotify_enabled(n));
    tc_sdnotify_destroy(&n);
    /* A path nobody listens on: sending fails, the daemon goes on. */
    setenv("NOTIFY_SOCKET", "/nonexistent/tocsin-notify", 1);
    n = tc_sdnotify_new();
    assert_true(tc_sdnotify_enabled(n));
    assert_int_equal(tc_sdnotify_ready(n, NULL), TC_ESYS);
    assert_int_equal(tc_sdnotify_ready(n, NULL), TC_ESYS);
    tc_sdnotify_destroy(&n);
}

int main(void)
{
    zsys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outside_systemd),          cmocka_unit_test(test_ready_stopping_path),
        cmocka_unit_test(test_ready_stopping_abstract),  cmocka_unit_test(test_watchdog),
        cmocka_unit_test(test_watchdog_for_another_pid), cmocka_unit_test(test_bad_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
