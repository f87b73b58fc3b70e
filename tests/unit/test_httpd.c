/* common/httpd: libmicrohttpd on a zloop, against real sockets on
 * 127.0.0.1: a client thread speaks raw HTTP/1.1 while the test's thread
 * runs the loop. GET and POST bodies reach the handler whole; a declared
 * or streamed body over the limit is marked too big and answered 413; a
 * deferred request is answered later from a loop timer; destroying the
 * server answers what is still deferred; bad and busy addresses fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    tc_httpd_t *srv;
    int port;
    /* what the client thread sends and gets */
    const char *request;
    size_t request_len;
    char response[8192];
    volatile int done;
    /* what the handler saw */
    char method[16], path[128], body[4096], header[128];
    size_t body_len;
    bool too_big;
    int calls;
    bool defer;
    tc_http_req_t *pending;
} s_t;

static void s_handler(void *arg, tc_http_req_t *req)
{
    s_t *t = arg;
    t->calls++;
    snprintf(t->method, sizeof t->method, "%s", tc_http_req_method(req));
    snprintf(t->path, sizeof t->path, "%s", tc_http_req_path(req));
    const char *h = tc_http_req_header(req, "x-probe");
    snprintf(t->header, sizeof t->header, "%s", h ? h : "");
    size_t n;
    const char *b = tc_http_req_body(req, &n);
    t->body_len = n;
    memcpy(t->body, b, n < sizeof t->body ? n : sizeof t->body - 1);
    t->too_big = tc_http_req_too_big(req);
    if (t->too_big) {
        tc_http_respond_text(req, 413, "text/plain", "too big\n");
        return;
    }
    if (t->defer) {
        tc_http_defer(req);
        t->pending = req;
        return;
    }
    assert_int_equal(tc_http_add_header(req, "X-Answer", "yes"), 0);
    char out[64];
    snprintf(out, sizeof out, "got %zu bytes from %s\n", n, tc_http_req_peer(req));
    tc_http_respond_text(req, 200, "text/plain", out);
}

static void *s_client(void *arg)
{
    s_t *t = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        size_t off = 0;
        while (off < t->request_len) {
            ssize_t w = send(fd, t->request + off, t->request_len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        size_t got = 0;
        for (;;) {
            ssize_t r = recv(fd, t->response + got, sizeof t->response - 1 - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
            t->response[got] = 0;
            /* Responses here are small and say their length. */
            char *body = strstr(t->response, "\r\n\r\n");
            char *cl = strstr(t->response, "Content-Length: ");
            if (body && cl && got >= (size_t)(body + 4 - t->response) + (size_t)atoi(cl + 16))
                break;
        }
    }
    close(fd);
    t->done = 1;
    return NULL;
}

static int s_until_done(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_t *t = arg;
    return t->done ? -1 : 0;
}

static int s_answer_later(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_t *t = arg;
    if (t->pending) {
        tc_http_respond_text(t->pending, 202, "text/plain", "later\n");
        t->pending = NULL;
    }
    return 0;
}

/* Serves one raw request on a fresh loop and server. */
static void s_exchange(s_t *t, size_t max_body, const char *request, size_t len)
{
    zloop_t *loop = zloop_new();
    tc_httpd_config_t cfg = {.addr = "127.0.0.1:0", .max_body = max_body, .what = "test"};
    char why[256];
    assert_int_equal(tc_httpd_new(loop, &cfg, s_handler, t, &t->srv, why, sizeof why), 0);
    const char *url = tc_httpd_url(t->srv);
    assert_true(strncmp(url, "http://127.0.0.1:", 17) == 0);
    t->port = atoi(url + 17);
    assert_true(t->port > 0);
    t->request = request;
    t->request_len = len;
    t->done = 0;
    t->response[0] = 0;
    pthread_t th;
    pthread_create(&th, NULL, s_client, t);
    zloop_timer(loop, 10, 0, s_until_done, t);
    if (t->defer)
        zloop_timer(loop, 200, 1, s_answer_later, t);
    zloop_start(loop);
    pthread_join(th, NULL);
    tc_httpd_destroy(&t->srv);
    assert_null(t->srv);
    zloop_destroy(&loop);
}

static void test_get_and_post(void **unused)
{
    (void)unused;
    s_t t = {0};
    const char *get = "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nX-Probe: hello\r\n"
                      "Connection: close\r\n\r\n";
    s_exchange(&t, 0, get, strlen(get));
    assert_int_equal(t.calls, 1);
    assert_string_equal(t.method, "GET");
    assert_string_equal(t.path, "/metrics");
    assert_string_equal(t.header, "hello");
    assert_non_null(strstr(t.response, "HTTP/1.1 200"));
    assert_non_null(strstr(t.response, "X-Answer: yes"));
    assert_non_null(strstr(t.response, "got 0 bytes from 127.0.0.1"));

    s_t p = {0};
    const char *post = "POST /v2/enqueue HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
                       "Connection: close\r\n\r\nhello world";
    s_exchange(&p, 0, post, strlen(post));
    assert_int_equal(p.calls, 1);
    assert_string_equal(p.method, "POST");
    assert_int_equal(p.body_len, 11);
    assert_string_equal(p.body, "hello world");
    assert_non_null(strstr(p.response, "got 11 bytes"));
}

static void test_too_big(void **unused)
{
    (void)unused;
    /* Declared too big: refused before the body is read. */
    s_t t = {0};
    const char *post = "POST /v1/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                       "Connection: close\r\n\r\n";
    s_exchange(&t, 64, post, strlen(post));
    assert_true(t.too_big);
    assert_int_equal(t.body_len, 0);
    assert_non_null(strstr(t.response, "HTTP/1.1 413"));

    /* Streamed (chunked) past the limit: the handler sees too_big once. */
    s_t c = {0};
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n40\r\n%064d\r\n40\r\n%064d\r\n0\r\n\r\n",
                     0, 0);
    s_exchange(&c, 100, req, (size_t)n);
    assert_int_equal(c.calls, 1);
    assert_true(c.too_big);
    assert_non_null(strstr(c.response, "HTTP/1.1 413"));

    /* Just under the limit passes. */
    s_t u = {0};
    n = snprintf(req, sizeof req,
                 "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\nConnection: close\r\n\r\n"
                 "%064d",
                 7);
    s_exchange(&u, 64, req, (size_t)n);
    assert_false(u.too_big);
    assert_int_equal(u.body_len, 64);
}

static void test_deferred(void **unused)
{
    (void)unused;
    s_t t = {.defer = true};
    const char *get = "GET /ack/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    s_exchange(&t, 0, get, strlen(get));
    assert_int_equal(t.calls, 1);
    assert_non_null(strstr(t.response, "HTTP/1.1 202"));
    assert_non_null(strstr(t.response, "later"));
}

static int s_destroy_now(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_t *t = arg;
    if (!t->pending)
        return 0;
    t->pending = NULL;
    tc_httpd_destroy(&t->srv);
    return 0;
}

static void test_destroy_answers_deferred(void **unused)
{
    (void)unused;
    s_t t = {.defer = true};
    zloop_t *loop = zloop_new();
    tc_httpd_config_t cfg = {.addr = "127.0.0.1:0", .what = "test"};
    char why[256];
    assert_int_equal(tc_httpd_new(loop, &cfg, s_handler, &t, &t.srv, why, sizeof why), 0);
    t.port = atoi(tc_httpd_url(t.srv) + 17);
    t.request = "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    t.request_len = strlen(t.request);
    pthread_t th;
    pthread_create(&th, NULL, s_client, &t);
    zloop_timer(loop, 10, 0, s_until_done, &t);
    zloop_timer(loop, 20, 0, s_destroy_now, &t);
    zloop_start(loop);
    pthread_join(th, NULL);
    assert_null(t.srv);
    assert_non_null(strstr(t.response, "HTTP/1.1 503"));
    zloop_destroy(&loop);
}

static void test_addresses(void **unused)
{
    (void)unused;
    assert_true(tc_httpd_addr_valid("127.0.0.1:7405"));
    assert_true(tc_httpd_addr_valid("[::1]:7405"));
    assert_true(tc_httpd_addr_valid("0.0.0.0:0"));
    assert_false(tc_httpd_addr_valid("localhost:7405"));
    assert_false(tc_httpd_addr_valid("127.0.0.1"));
    assert_false(tc_httpd_addr_valid("127.0.0.1:65536"));
    assert_false(tc_httpd_addr_valid("127.0.0.1:-1"));
    assert_false(tc_httpd_addr_valid("127.0.0.1:12a"));
    assert_false(tc_httpd_addr_valid("[::1:80"));
    assert_false(tc_httpd_addr_valid(NULL));
    assert_true(tc_httpd_addr_is_loopback("127.0.0.1:1"));
    assert_true(tc_httpd_addr_is_loopback("127.8.0.1:1"));
    assert_true(tc_httpd_addr_is_loopback("[::1]:1"));
    assert_false(tc_httpd_addr_is_loopback("0.0.0.0:1"));
    assert_false(tc_httpd_addr_is_loopback("10.0.0.1:1"));

    zloop_t *loop = zloop_new();
    s_t t = {0};
    tc_httpd_t *a = NULL, *b = NULL;
    char why[256];
    tc_httpd_config_t bad = {.addr = "nowhere:1"};
    assert_int_equal(tc_httpd_new(loop, &bad, s_handler, &t, &a, why, sizeof why), TC_EINVAL);
    assert_non_null(strstr(why, "nowhere:1"));
    tc_httpd_config_t first = {.addr = "127.0.0.1:0"};
    assert_int_equal(tc_httpd_new(loop, &first, s_handler, &t, &a, why, sizeof why), 0);
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%d", atoi(tc_httpd_url(a) + 17));
    tc_httpd_config_t second = {.addr = busy};
    assert_int_equal(tc_httpd_new(loop, &second, s_handler, &t, &b, why, sizeof why), TC_ESYS);
    assert_null(b);
    assert_non_null(strstr(why, busy));
    tc_httpd_destroy(&a);
    tc_httpd_destroy(&a);
    zloop_destroy(&loop);
}

int main(void)
{
    zsys_init();
    zsys_set_logstream(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_post), cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_deferred),     cmocka_unit_test(test_destroy_answers_deferred),
        cmocka_unit_test(test_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
