/* The in-loop probes against real listeners on 127.0.0.1: tcp accepted,
 * refused, hung until its timeout, a name through the resolver; http 200,
 * 302, 500, 503, a server that never answers, a body larger than the
 * limit, a refused connection. The HTTP server runs on a thread of the
 * test (not a child process) and answers with the status it is given. A
 * hung probe must not hold up the others in the same loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_MAX 16

typedef struct {
    zloop_t *loop;
    tc_prober_t *prober;
    tc_check_def_t defs[S_MAX];
    char args[S_MAX][128];
    tc_check_result_t results[S_MAX];
    bool done[S_MAX];
    size_t order[S_MAX]; /* probe index by order of completion */
    bool running_at_done[S_MAX][S_MAX];
    size_t ndone, ndefs, want;
} s_ctx_t;

static void s_done(void *tag, const tc_check_result_t *res, void *arg)
{
    s_ctx_t *c = arg;
    size_t i = (size_t)(uintptr_t)tag;
    assert_false(c->done[i]);
    assert_false(tc_prober_running(c->prober, tag));
    c->results[i] = *res;
    c->done[i] = true;
    for (size_t j = 0; j < c->ndefs; j++)
        c->running_at_done[i][j] = tc_prober_running(c->prober, (void *)(uintptr_t)j);
    c->order[c->ndone++] = i;
}

static int s_poll_done(zloop_t *loop, int timer_id, void *arg)
{
    s_ctx_t *c = arg;
    return c->ndone >= c->want ? -1 : 0;
}

/* A guard against a hung test, not a timing assertion. */
static int s_guard(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static int s_setup(void **state)
{
    s_ctx_t *c = calloc(1, sizeof *c);
    c->loop = zloop_new();
    c->prober = tc_prober_new(c->loop, s_done, c);
    if (!c->loop || !c->prober)
        return -1;
    *state = c;
    return 0;
}

static int s_teardown(void **state)
{
    s_ctx_t *c = *state;
    tc_prober_destroy(&c->prober);
    assert_null(c->prober);
    zloop_destroy(&c->loop);
    free(c);
    return 0;
}

static size_t s_add(s_ctx_t *c, tc_check_type_t type, const char *arg, int64_t timeout_ms)
{
    size_t i = c->ndefs++;
    assert_true(i < S_MAX);
    tc_check_def_t *d = &c->defs[i];
    snprintf(d->name, sizeof d->name, "probe-%zu", i);
    snprintf(d->service, sizeof d->service, "svc");
    snprintf(c->args[i], sizeof c->args[i], "%s", arg);
    d->type = type;
    d->arg = c->args[i];
    d->interval_ms = 10000;
    d->timeout_ms = timeout_ms;
    d->retries = 1;
    assert_int_equal(tc_prober_start(c->prober, d, (void *)(uintptr_t)i), 0);
    assert_true(tc_prober_running(c->prober, (void *)(uintptr_t)i));
    /* Never reported from inside start, even when the answer is known. */
    assert_false(c->done[i]);
    return i;
}

static void s_run(s_ctx_t *c)
{
    c->want = c->ndefs;
    zloop_timer(c->loop, 5, 0, s_poll_done, c);
    zloop_timer(c->loop, 60000, 1, s_guard, c);
    zloop_start(c->loop);
    assert_int_equal(c->ndone, c->want);
    assert_int_equal(tc_prober_active(c->prober), 0);
}

static int s_listen(uint16_t *port, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port where nothing listens (it was free a moment ago). */
static uint16_t s_closed_port(void)
{
    uint16_t port;
    close(s_listen(&port, 1));
    return port;
}

/* A listener whose accept queue is full: further SYNs are dropped, so a
 * connect hangs until the prober's timeout. `*filler` keeps the queue
 * full. */
static int s_hung_listener(uint16_t *port, int *filler)
{
    int fd = s_listen(port, 0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(*port)};
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    *filler = c;
    return fd;
}

/* ---- tcp -------------------------------------------------------------------- */

static void test_tcp_accepted_refused_invalid(void **state)
{
    s_ctx_t *c = *state;
    uint16_t port;
    int lfd = s_listen(&port, 16);
    char up[64], down[64], named[64];
    snprintf(up, sizeof up, "127.0.0.1:%u", port);
    snprintf(down, sizeof down, "127.0.0.1:%u", s_closed_port());
    snprintf(named, sizeof named, "localhost:%u", port); /* through the resolver */
    size_t a = s_add(c, TC_CHECK_TCP, up, 5000);
    size_t b = s_add(c, TC_CHECK_TCP, down, 5000);
    size_t n = s_add(c, TC_CHECK_TCP, named, 5000);
    size_t bad = s_add(c, TC_CHECK_TCP, "no-port-here", 5000);
    size_t badport = s_add(c, TC_CHECK_TCP, "127.0.0.1:http", 5000);
    s_run(c);
    close(lfd);
    assert_int_equal(c->results[a].state, TC_STATE_OK);
    assert_non_null(strstr(c->results[a].output, "TCP OK - 127.0.0.1:"));
    assert_non_null(strstr(c->results[a].output, " connected in "));
    assert_int_equal(c->results[a].nperf, 1);
    assert_string_equal(c->results[a].perf[0].label, "time");
    assert_string_equal(c->results[a].perf[0].uom, "s");
    assert_int_equal(c->results[b].state, TC_STATE_CRITICAL);
    assert_non_null(strstr(c->results[b].output, "Connection refused"));
    /* localhost may be ::1 first, where nothing listens: the next address
     * is tried. */
    assert_int_equal(c->results[n].state, TC_STATE_OK);
    assert_non_null(strstr(c->results[n].output, "TCP OK - localhost:"));
    assert_int_equal(c->results[bad].state, TC_STATE_UNKNOWN);
    assert_non_null(strstr(c->results[bad].output, "invalid target"));
    assert_int_equal(c->results[badport].state, TC_STATE_UNKNOWN);
}

static void test_tcp_hung_until_timeout_blocks_nothing(void **state)
{
    s_ctx_t *c = *state;
    uint16_t hung_port, port;
    int filler;
    int hfd = s_hung_listener(&hung_port, &filler);
    int lfd = s_listen(&port, 16);
    char hung[64], up[64];
    snprintf(hung, sizeof hung, "127.0.0.1:%u", hung_port);
    snprintf(up, sizeof up, "127.0.0.1:%u", port);
    size_t h = s_add(c, TC_CHECK_TCP, hung, 1500);
    size_t a = s_add(c, TC_CHECK_TCP, up, 5000);
    s_run(c);
    close(filler);
    close(hfd);
    close(lfd);
    assert_int_equal(c->results[h].state, TC_STATE_CRITICAL);
    char want[128];
    snprintf(want, sizeof want, "TCP CRITICAL - %s: no answer within 1500ms", hung);
    assert_non_null(strstr(c->results[h].output, want));
    /* The healthy one was not held up: it finished while the hung one
     * was still running. */
    assert_int_equal(c->order[0], a);
    assert_true(c->running_at_done[a][h]);
    assert_int_equal(c->results[a].state, TC_STATE_OK);
}

static void test_tcp_unresolvable_name(void **state)
{
    s_ctx_t *c = *state;
    /* .invalid never resolves (RFC 6761); whether the resolver says so at
     * once or the timeout passes first, the check is CRITICAL. */
    size_t i = s_add(c, TC_CHECK_TCP, "no-such-host.invalid:80", 2000);
    s_run(c);
    assert_int_equal(c->results[i].state, TC_STATE_CRITICAL);
    assert_true(strstr(c->results[i].output, "cannot resolve no-such-host.invalid") ||
                strstr(c->results[i].output, "name not resolved within 2s"));
}

static void test_destroy_aborts_probes(void **state)
{
    s_ctx_t *c = *state;
    uint16_t hung_port;
    int filler;
    int hfd = s_hung_listener(&hung_port, &filler);
    char hung[64];
    snprintf(hung, sizeof hung, "127.0.0.1:%u", hung_port);
    s_add(c, TC_CHECK_TCP, hung, 60000);
    s_add(c, TC_CHECK_TCP, "localhost:9", 60000);
    tc_prober_destroy(&c->prober); /* before the loop ever ran */
    assert_int_equal(c->ndone, 0);
    close(filler);
    close(hfd);
}

/* ---- http -------------------------------------------------------------------- */

typedef enum { S_ANSWER, S_HANG, S_BIG } s_mode_t;

/* A tiny HTTP/1.1 server on its own thread: one connection at a time. */
typedef struct {
    int lfd;
    int stop[2];
    uint16_t port;
    s_mode_t mode;
    const char *status_line;
    pthread_t thread;
    char req[4096];
    int requests;
} s_http_t;

static bool s_wait_readable(s_http_t *h, int fd)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = h->stop[0], .events = POLLIN}};
    return poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN) && (p[0].revents & (POLLIN | POLLHUP));
}

static void *s_http_main(void *arg)
{
    s_http_t *h = arg;
    while (s_wait_readable(h, h->lfd)) {
        int fd = accept(h->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        size_t len = 0;
        while (!strstr(h->req, "\r\n\r\n") && len < sizeof h->req - 1 && s_wait_readable(h, fd)) {
            ssize_t n = read(fd, h->req + len, sizeof h->req - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
            h->req[len] = '\0';
        }
        h->requests++;
        if (h->mode == S_HANG) {
            s_wait_readable(h, h->stop[0]); /* until the test ends */
        } else if (h->mode == S_BIG) {
            const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 8388608\r\n\r\n";
            if (write(fd, head, strlen(head)) < 0)
                break;
            static char chunk[65536];
            memset(chunk, 'x', sizeof chunk);
            for (int i = 0; i < 128; i++)
                if (write(fd, chunk, sizeof chunk) < 0)
                    break; /* the probe stopped reading: EPIPE */
        } else {
            char resp[256];
            int m = snprintf(resp, sizeof resp,
                             "HTTP/1.1 %s\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                             h->status_line);
            if (write(fd, resp, (size_t)m) != m)
                break;
        }
        close(fd);
    }
    return NULL;
}

static void s_http_start(s_http_t *h, s_mode_t mode, const char *status_line)
{
    memset(h, 0, sizeof *h);
    h->lfd = s_listen(&h->port, 16);
    h->mode = mode;
    h->status_line = status_line;
    assert_int_equal(pipe(h->stop), 0);
    assert_int_equal(pthread_create(&h->thread, NULL, s_http_main, h), 0);
}

static void s_http_stop(s_http_t *h)
{
    assert_int_equal(write(h->stop[1], "x", 1), 1);
    pthread_join(h->thread, NULL);
    close(h->lfd);
    close(h->stop[0]);
    close(h->stop[1]);
}

static void s_url(const s_http_t *h, char *buf, size_t cap)
{
    snprintf(buf, cap, "http://127.0.0.1:%u/health", h->port);
}

static void test_http_statuses(void **state)
{
    s_ctx_t *c = *state;
    static const char *lines[] = {"200 OK", "302 Found", "500 Internal Server Error",
                                  "503 Service Unavailable"};
    s_http_t srv[4];
    size_t idx[4];
    for (size_t i = 0; i < 4; i++) {
        char url[64];
        s_http_start(&srv[i], S_ANSWER, lines[i]);
        s_url(&srv[i], url, sizeof url);
        idx[i] = s_add(c, TC_CHECK_HTTP, url, 5000);
    }
    char refused[64];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%u/", s_closed_port());
    size_t nf = s_add(c, TC_CHECK_HTTP, refused, 5000);
    s_run(c);
    for (size_t i = 0; i < 4; i++) {
        s_http_stop(&srv[i]);
        assert_non_null(strstr(srv[i].req, "GET /health HTTP/1.1\r\n"));
        assert_non_null(strstr(srv[i].req, "User-Agent: tocsin-agent/"));
    }
    const tc_check_result_t *r = &c->results[idx[0]];
    assert_int_equal(r->state, TC_STATE_OK);
    assert_non_null(strstr(r->output, "HTTP OK - 200 OK in "));
    assert_non_null(strstr(r->output, ", 5 bytes"));
    assert_int_equal(r->nperf, 2);
    assert_string_equal(r->perf[0].label, "time");
    assert_string_equal(r->perf[1].label, "size");
    assert_true(r->perf[1].value == 5);
    assert_int_equal(c->results[idx[1]].state, TC_STATE_OK); /* 3xx is an answer */
    assert_non_null(strstr(c->results[idx[1]].output, "HTTP OK - 302 Found"));
    assert_int_equal(c->results[idx[2]].state, TC_STATE_CRITICAL);
    assert_non_null(strstr(c->results[idx[2]].output, "HTTP CRITICAL - 500 Internal Server Error"));
    assert_int_equal(c->results[idx[3]].state, TC_STATE_CRITICAL);
    assert_non_null(strstr(c->results[idx[3]].output, "HTTP CRITICAL - 503 Service Unavailable"));
    assert_int_equal(c->results[nf].state, TC_STATE_CRITICAL);
    assert_non_null(strstr(c->results[nf].output, "HTTP CRITICAL - "));
}

static void test_http_hung_until_timeout_blocks_nothing(void **state)
{
    s_ctx_t *c = *state;
    s_http_t hung, ok;
    char hurl[64], ourl[64];
    s_http_start(&hung, S_HANG, NULL);
    s_http_start(&ok, S_ANSWER, "200 OK");
    s_url(&hung, hurl, sizeof hurl);
    s_url(&ok, ourl, sizeof ourl);
    size_t h = s_add(c, TC_CHECK_HTTP, hurl, 1500);
    size_t a = s_add(c, TC_CHECK_HTTP, ourl, 5000);
    s_run(c);
    s_http_stop(&hung);
    s_http_stop(&ok);
    assert_int_equal(hung.requests, 1); /* it got the request and never answered */
    assert_int_equal(c->results[h].state, TC_STATE_CRITICAL);
    assert_non_null(strstr(c->results[h].output, "HTTP CRITICAL - no answer within 1500ms"));
    assert_int_equal(c->order[0], a);
    assert_true(c->running_at_done[a][h]);
    assert_int_equal(c->results[a].state, TC_STATE_OK);
}

static void test_http_body_is_bounded(void **state)
{
    s_ctx_t *c = *state;
    s_http_t big;
    char url[64];
    s_http_start(&big, S_BIG, NULL);
    s_url(&big, url, sizeof url);
    size_t i = s_add(c, TC_CHECK_HTTP, url, 30000);
    s_run(c);
    s_http_stop(&big);
    assert_int_equal(c->results[i].state, TC_STATE_OK);
    assert_non_null(strstr(c->results[i].output, "HTTP OK - 200 OK in "));
    assert_non_null(strstr(c->results[i].output, ", more than "));
    assert_true(c->results[i].perf[1].value <= TC_PROBE_BODY_MAX);
}

static void test_not_a_probe_type(void **state)
{
    s_ctx_t *c = *state;
    tc_check_def_t d = {.type = TC_CHECK_EXEC, .arg = "true", .timeout_ms = 1000};
    assert_int_equal(tc_prober_start(c->prober, &d, NULL), TC_EINVAL);
    assert_int_equal(tc_prober_active(c->prober), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the big-body server writes after we stop */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_accepted_refused_invalid, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_hung_until_timeout_blocks_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_unresolvable_name, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_aborts_probes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_http_statuses, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_http_hung_until_timeout_blocks_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_http_body_is_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_probe_type, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
