/* Unit tests for client/client.c and common/cli.c. The client talks to a real
 * ROUTER socket on 127.0.0.1, run by a small actor that answers like the
 * coordinator's API would, so framing, timeouts and socket replacement are
 * exercised for real. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli.h"
#include "keys.h"
#include "client.h"
#include "error.h"

#include <assert.h>
#include <stdlib.h>

/* Plaintext: these tests are about the request/reply logic. */
static const tc_client_keys_t s_plain = {.insecure = true};
#include <czmq.h>
#include <string.h>

/* The fake API: one reply per request, chosen by the command:
 *   status   -> ok with a status
 *   late     -> the same, but only after 300 ms
 *   silent   -> no answer at all
 *   garbage  -> one frame that is not an ApiReply
 *   twoframe -> a valid reply split over two frames
 *   other    -> ok == false, "unknown command 'other'"
 * It runs on its own thread, so it uses assert(), not cmocka's macros,
 * which must only be called from the test's thread. */
static void s_api_actor(zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    assert(router);
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    assert(port > 0);
    (void)args;
    zsock_signal(pipe, 0);
    zsock_send(pipe, "i", port);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    while (true) {
        void *which = zpoller_wait(poller, -1);
        if (which == pipe || !which)
            break;
        zmsg_t *msg = zmsg_recv(router);
        zframe_t *id = zmsg_pop(msg);
        zframe_t *body = zmsg_pop(msg);
        tc_api_request_t req;
        int rc = tc_wire_decode_request(zframe_data(body), zframe_size(body), &req);
        assert(rc == 0);
        assert(req.version == 1);
        tc_api_reply_t *r = tc_api_reply_new();
        if (strcmp(req.command, "status") == 0 || strcmp(req.command, "late") == 0 ||
            strcmp(req.command, "twoframe") == 0) {
            r->has_status = true;
            snprintf(r->status.version, sizeof r->status.version, "%s", req.command);
            r->status.log_seq = req.from;
        } else {
            tc_api_reply_fail(r, "unknown command '%s'", req.command);
        }
        uint8_t *buf;
        size_t len;
        rc = tc_wire_encode_reply(r, &buf, &len);
        assert(rc == 0);
        (void)rc;
        tc_api_reply_destroy(&r);
        if (strcmp(req.command, "late") == 0)
            zclock_sleep(300);
        if (strcmp(req.command, "silent") != 0) {
            zmsg_t *out = zmsg_new();
            zmsg_append(out, &id);
            if (strcmp(req.command, "garbage") == 0) {
                zmsg_addmem(out, "\xff\xff\xff", 3);
            } else if (strcmp(req.command, "twoframe") == 0) {
                zmsg_addmem(out, buf, len / 2);
                zmsg_addmem(out, buf + len / 2, len - len / 2);
            } else {
                zmsg_addmem(out, buf, len);
            }
            zmsg_send(&out, router);
        }
        free(buf);
        zframe_destroy(&id);
        zframe_destroy(&body);
        zmsg_destroy(&msg);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

typedef struct {
    zactor_t *api;
    tc_client_t *client;
} s_fixture_t;

static int s_setup(void **state)
{
    static s_fixture_t fx;
    fx.api = zactor_new(s_api_actor, NULL);
    if (!fx.api)
        return -1;
    int port = 0;
    zsock_recv(fx.api, "i", &port);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    fx.client = tc_client_new(ep, &s_plain);
    if (!fx.client)
        return -1;
    *state = &fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    tc_client_destroy(&fx->client);
    assert_null(fx->client);
    zactor_destroy(&fx->api);
    return 0;
}

static int s_call(tc_client_t *c, const char *command, uint64_t from, int64_t timeout_ms,
                  tc_api_reply_t **preply)
{
    tc_api_request_t req = {.version = 1, .from = from};
    snprintf(req.command, sizeof req.command, "%s", command);
    return tc_client_call(c, &req, timeout_ms, preply);
}

static void test_ok_reply(void **state)
{
    s_fixture_t *fx = *state;
    tc_api_reply_t *r = NULL;
    assert_int_equal(s_call(fx->client, "status", 42, 5000, &r), 0);
    assert_non_null(r);
    assert_true(r->ok);
    assert_true(r->has_status);
    assert_string_equal(r->status.version, "status");
    assert_int_equal(r->status.log_seq, 42);
    tc_api_reply_destroy(&r);
    /* The same client serves many requests. */
    assert_int_equal(s_call(fx->client, "status", 43, 5000, &r), 0);
    assert_int_equal(r->status.log_seq, 43);
    tc_api_reply_destroy(&r);
}

static void test_error_reply(void **state)
{
    s_fixture_t *fx = *state;
    tc_api_reply_t *r = NULL;
    assert_int_equal(s_call(fx->client, "frobnicate", 0, 5000, &r), 0);
    assert_false(r->ok);
    assert_string_equal(r->error, "unknown command 'frobnicate'");
    tc_api_reply_destroy(&r);
}

static void test_timeout(void **state)
{
    s_fixture_t *fx = *state;
    tc_api_reply_t *r = (tc_api_reply_t *)1;
    int64_t t0 = zclock_mono();
    assert_int_equal(s_call(fx->client, "silent", 0, 200, &r), TC_ETIMEOUT);
    assert_null(r);
    assert_true(zclock_mono() - t0 >= 200);
    /* The client is still usable afterwards. */
    assert_int_equal(s_call(fx->client, "status", 7, 5000, &r), 0);
    assert_int_equal(r->status.log_seq, 7);
    tc_api_reply_destroy(&r);
}

static void test_late_reply_is_not_taken_for_the_next(void **state)
{
    s_fixture_t *fx = *state;
    tc_api_reply_t *r = NULL;
    assert_int_equal(s_call(fx->client, "late", 1, 100, &r), TC_ETIMEOUT);
    /* The fake API is still sleeping on "late"; its answer (log_seq 1)
     * must never be returned for this request (log_seq 2). */
    assert_int_equal(s_call(fx->client, "status", 2, 5000, &r), 0);
    assert_string_equal(r->status.version, "status");
    assert_int_equal(r->status.log_seq, 2);
    tc_api_reply_destroy(&r);
}

static void test_bad_replies(void **state)
{
    s_fixture_t *fx = *state;
    tc_api_reply_t *r = NULL;
    assert_int_equal(s_call(fx->client, "garbage", 0, 5000, &r), TC_EDECODE);
    assert_null(r);
    assert_int_equal(s_call(fx->client, "twoframe", 0, 5000, &r), TC_EDECODE);
    assert_null(r);
    assert_int_equal(s_call(fx->client, "status", 9, 5000, &r), 0);
    assert_int_equal(r->status.log_seq, 9);
    tc_api_reply_destroy(&r);
}

static void test_nobody_listening(void **state)
{
    (void)state;
    /* Port 9 (discard) on loopback: nothing answers; connecting succeeds
     * anyway and the call times out. */
    tc_client_t *c = tc_client_new("tcp://127.0.0.1:9", &s_plain);
    assert_non_null(c);
    assert_string_equal(tc_client_endpoint(c), "tcp://127.0.0.1:9");
    tc_api_reply_t *r = NULL;
    assert_int_equal(s_call(c, "status", 0, 100, &r), TC_ETIMEOUT);
    tc_client_destroy(&c);
    tc_client_destroy(&c);
}

static void test_invalid_endpoint(void **state)
{
    (void)state;
    assert_null(tc_client_new("127.0.0.1:7402", &s_plain));
    assert_null(tc_client_new("tcp://127.0.0.1", &s_plain));
    assert_null(tc_client_new(NULL, &s_plain));
}

/* Runs getopt_long() over argv until it reports a problem and returns
 * the reason tc_cli_getopt_reason() gives for it. */
static const char *s_getopt_problem(int argc, char **argv, char *why, size_t cap)
{
    static const struct option opts[] = {{"api", required_argument, NULL, 'a'},
                                         {"insecure", no_argument, NULL, 256},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    optind = 0; /* glibc: start over */
    opterr = 0;
    int c;
    why[0] = '\0';
    while ((c = getopt_long(argc, argv, ":a:j", opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            tc_cli_getopt_reason(c, argv, opts, why, cap);
            break;
        }
    }
    return why;
}

static void test_cli_getopt_reason(void **state)
{
    (void)state;
    char why[256];
    char *a[] = {"prog", "--insecure", "--no-such-flag", NULL};
    assert_string_equal(s_getopt_problem(3, a, why, sizeof why), "unknown option '--no-such-flag'");
    char *b[] = {"prog", "--api", NULL};
    assert_string_equal(s_getopt_problem(2, b, why, sizeof why), "option --api needs a value");
    char *c[] = {"prog", "-a", NULL};
    assert_string_equal(s_getopt_problem(2, c, why, sizeof why), "option -a needs a value");
    char *d[] = {"prog", "-jx", NULL};
    assert_string_equal(s_getopt_problem(2, d, why, sizeof why), "unknown option -x");
    char *e[] = {"prog", "--insecure=yes", NULL};
    assert_string_equal(s_getopt_problem(2, e, why, sizeof why),
                        "option --insecure takes no value");
    char *f[] = {"prog", "--api=tcp://127.0.0.1:1", "-j", "--", "--not-an-option", NULL};
    assert_string_equal(s_getopt_problem(5, f, why, sizeof why), "");
}

static void test_cli_keys(void **state)
{
    (void)state;
    char why[512];
    tc_client_keys_t k;
    assert_int_equal(tc_cli_keys(true, NULL, NULL, NULL, &k, why, sizeof why), 0);
    assert_true(k.insecure);
    unsetenv("TOCSIN_KEY");
    unsetenv("TOCSIN_SERVER_KEY");
    static const char *const none[] = {"/nonexistent/key.cert", NULL};
    assert_int_equal(tc_cli_keys(false, NULL, NULL, none, &k, why, sizeof why), TC_ENOTFOUND);
    assert_non_null(strstr(why, "no client key"));

    char dir[] = "/tmp/tocsin-cli-keys-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pair[4096], server[4200], pub[TC_KEY_TXT], sec[TC_KEY_TXT];
    assert_int_equal(tc_keys_server(dir, pub, sec), 0);
    assert_int_equal(tc_keys_new(dir, TC_KEY_OPERATOR_RO, "alice", pair, sizeof pair), 0);
    snprintf(server, sizeof server, "%s/coordinator.cert", dir);
    assert_int_equal(tc_cli_keys(false, pair, server, none, &k, why, sizeof why), 0);
    assert_false(k.insecure);
    assert_string_equal(k.server_txt, pub);
    assert_int_equal(strlen(k.secret_txt), 40);
    /* A public certificate is not a key pair. */
    char alice_pub[4200];
    snprintf(alice_pub, sizeof alice_pub, "%s/operators-ro/alice.cert", dir);
    assert_int_equal(tc_cli_keys(false, alice_pub, server, none, &k, why, sizeof why),
                     TC_ENOTFOUND);
    /* The message names the file that is missing, not the one given. */
    char expect[4400];
    snprintf(expect, sizeof expect, "%s_secret: no such file (the secret half of a key pair)",
             alice_pub);
    assert_string_equal(why, expect);
    /* A pair that is not there at all: its first file is named. */
    char gone[4200];
    snprintf(gone, sizeof gone, "%s/private/nobody.cert", dir);
    assert_int_equal(tc_cli_keys(false, gone, server, none, &k, why, sizeof why), TC_ENOTFOUND);
    snprintf(expect, sizeof expect, "%s: no such file (the public half of a key pair)", gone);
    assert_string_equal(why, expect);
    /* A directory, and a file that is not a certificate. */
    assert_int_equal(tc_cli_keys(false, dir, server, none, &k, why, sizeof why), TC_EINVAL);
    assert_non_null(strstr(why, "is a directory"));
    char junk[4200], junk_secret[4300];
    snprintf(junk, sizeof junk, "%s/junk.cert", dir);
    snprintf(junk_secret, sizeof junk_secret, "%s_secret", junk);
    FILE *f = fopen(junk, "w");
    fputs("not a certificate\n", f);
    fclose(f);
    f = fopen(junk_secret, "w");
    fputs("not a certificate\n", f);
    fclose(f);
    assert_int_equal(tc_cli_keys(false, junk, server, none, &k, why, sizeof why), TC_EINVAL);
    snprintf(expect, sizeof expect, "%s: not a CURVE key pair (czmq certificate format)",
             junk_secret);
    assert_string_equal(why, expect);
    assert_int_equal(tc_cli_keys(false, pair, junk, none, &k, why, sizeof why), TC_EINVAL);
    snprintf(expect, sizeof expect, "%s: not a CURVE certificate (czmq certificate format)", junk);
    assert_string_equal(why, expect);
    /* The coordinator's certificate missing names that file. */
    assert_int_equal(tc_cli_keys(false, pair, "/nonexistent/c.cert", none, &k, why, sizeof why),
                     TC_ENOTFOUND);
    assert_string_equal(why, "/nonexistent/c.cert: no such file (the coordinator's certificate)");
    /* The environment is used when no flag is given. */
    setenv("TOCSIN_KEY", pair, 1);
    setenv("TOCSIN_SERVER_KEY", "/nonexistent/coordinator.cert", 1);
    assert_int_equal(tc_cli_keys(false, NULL, NULL, none, &k, why, sizeof why), TC_ENOTFOUND);
    assert_non_null(strstr(why, "/nonexistent/coordinator.cert"));
    unsetenv("TOCSIN_KEY");
    unsetenv("TOCSIN_SERVER_KEY");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_cli_endpoint_rule(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(tc_cli_check_endpoint("--api", "tcp://127.0.0.1:7402", true, why, sizeof why),
                     0);
    assert_int_equal(tc_cli_check_endpoint("--api", "ipc:///tmp/x", true, why, sizeof why), 0);
    /* With CURVE any host is fine; plaintext only on loopback. */
    assert_int_equal(tc_cli_check_endpoint("--api", "tcp://10.1.2.3:7402", false, why, sizeof why),
                     0);
    assert_int_equal(
        tc_cli_check_endpoint("--publish", "tcp://10.1.2.3:7403", true, why, sizeof why),
        TC_EINVAL);
    assert_string_equal(why, "--insecure only allows loopback endpoints; --publish "
                             "tcp://10.1.2.3:7403 is not one");
    assert_int_equal(tc_cli_check_endpoint("--api", "localhost", true, why, sizeof why), TC_EINVAL);
    assert_string_equal(why, "invalid endpoint 'localhost' for --api (expected tcp://HOST:PORT or "
                             "ipc://PATH)");
    assert_int_equal(tc_cli_check_endpoint("--api", "tcp://127.0.0.1:*", true, why, sizeof why),
                     TC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_late_reply_is_not_taken_for_the_next, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_replies, s_setup, s_teardown),
        cmocka_unit_test(test_nobody_listening),
        cmocka_unit_test(test_invalid_endpoint),
        cmocka_unit_test(test_cli_getopt_reason),
        cmocka_unit_test(test_cli_endpoint_rule),
        cmocka_unit_test(test_cli_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
