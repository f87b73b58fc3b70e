/*
 * httpd.h - a small HTTP server on the caller's zloop (libmicrohttpd).
 *
 * Daemons that answer HTTP besides their ZeroMQ work (the gateway's
 * intake, every /metrics) run libmicrohttpd without a thread of its own:
 * its epoll descriptor is one more poller of the process's one event loop,
 * and a one-second timer expires idle connections. Handlers therefore run
 * on the loop's thread, between the loop's other work, and may read and
 * change the daemon's state without locks; libmicrohttpd itself never
 * blocks (sockets are non-blocking, every connection has a timeout), so a
 * slow or hostile client cannot stall the loop.
 *
 * A request reaches the handler once, when its body is complete (or has
 * grown past `max_body`: tc_http_req_too_big() then says so and the body
 * is not kept). The handler answers with tc_http_respond() at once, or
 * calls tc_http_defer() and answers later from another callback of the
 * same loop (the gateway waits for the coordinator's API that way); a
 * deferred request that is never answered is answered 503 when the server
 * is destroyed.
 *
 * Threading: the loop's thread only.
 */
#ifndef TC_HTTPD_H
#define TC_HTTPD_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct tc_httpd tc_httpd_t;
typedef struct tc_http_req tc_http_req_t;

/* Bodies larger than this are refused unless the configuration says less. */
#define TC_HTTPD_DEFAULT_MAX_BODY ((size_t)1 << 20)

/* Parses "IPV4:PORT" or "[IPV6]:PORT" with a numeric address (no host
 * names: a server binds exactly the address given) into *ss / *len, and
 * sets *v6. Returns 0 or TC_EINVAL. */
int tc_httpd_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, bool *v6);

/* True if `s` is an address tc_httpd_addr_parse() accepts. */
bool tc_httpd_addr_valid(const char *s);

/* True if the address names a loopback interface (127.0.0.0/8, ::1). */
bool tc_httpd_addr_is_loopback(const char *s);

/* Called once per request on the loop's thread; `req` is valid until it is
 * answered (tc_http_respond), which the handler does before it returns
 * unless it called tc_http_defer(). */
typedef void(tc_httpd_handler_fn)(void *arg, tc_http_req_t *req);

typedef struct {
    const char *addr;     /* tc_httpd_addr_parse(); copied */
    size_t max_body;      /* 0: TC_HTTPD_DEFAULT_MAX_BODY */
    unsigned connections; /* at most this many at once; 0: 64 */
    unsigned timeout_s;   /* idle connections are closed after this; 0: 15 */
    const char *what;     /* for log lines ("metrics", "gateway"); copied */
} tc_httpd_config_t;

/* Binds `cfg->addr` and registers the server on `loop` (borrowed; must
 * outlive the server). `handler(arg, req)` answers requests. On success
 * sets *out (caller owns; tc_httpd_destroy) and returns 0; TC_EINVAL for a
 * bad address, TC_ESYS when the address cannot be bound (a one-line reason
 * in `why`), TC_ENOMEM. */
int tc_httpd_new(zloop_t *loop, const tc_httpd_config_t *cfg, tc_httpd_handler_fn *handler,
                 void *arg, tc_httpd_t **out, char *why, size_t whylen);

/* Answers deferred requests 503, stops the server, takes it off the loop
 * and frees it. NULL-safe; nulls *pself. */
void tc_httpd_destroy(tc_httpd_t **pself);

/* "http://127.0.0.1:7405/" for the bound address (the real port when the
 * address said 0). Borrowed, valid as long as the server. */
const char *tc_httpd_url(const tc_httpd_t *self);

/* ---- a request --------------------------------------------------------------
 * Borrowed values below stay valid until the request is answered. */

const char *tc_http_req_method(const tc_http_req_t *req); /* "GET", "POST", ... */
const char *tc_http_req_path(const tc_http_req_t *req);   /* "/v2/enqueue", no query */

/* A request header by name (case-insensitive), or NULL. */
const char *tc_http_req_header(const tc_http_req_t *req, const char *name);

/* The body (NUL-terminated, may hold NULs) and its length in *len; "" for
 * none. Empty when the body was too big. */
const char *tc_http_req_body(const tc_http_req_t *req, size_t *len);

/* True if the body was larger than max_body (and was not kept). */
bool tc_http_req_too_big(const tc_http_req_t *req);

/* The client's address as text ("127.0.0.1"), for log lines and limits. */
const char *tc_http_req_peer(const tc_http_req_t *req);

/* Adds a response header (copied) to the answer that follows. Returns 0 or
 * TC_ENOMEM. */
int tc_http_add_header(tc_http_req_t *req, const char *name, const char *value);

/* Answers with `status`, `content_type` and `len` bytes of `body` (copied)
 * and the headers added so far. Ends the request: `req` is not valid
 * afterwards. Returns 0, or TC_ENOMEM (the connection is then closed). */
int tc_http_respond(tc_http_req_t *req, unsigned status, const char *content_type, const void *body,
                    size_t len);

/* The same with a NUL-terminated text body. */
int tc_http_respond_text(tc_http_req_t *req, unsigned status, const char *content_type,
                         const char *text);

/* The routing every daemon's metrics listener shares: other methods than
 * GET and HEAD get 405, GET /healthz gets 200 with `health` (liveness: the
 * loop answers; no key, nothing written), other paths 404. Returns true,
 * with `req` still open, only for /metrics, which the caller answers. */
bool tc_http_metrics_route(tc_http_req_t *req, const char *health);

/* Keeps the request open after the handler returns: it is answered later
 * with tc_http_respond(), from the same loop. The connection waits
 * meanwhile (libmicrohttpd suspends it). */
void tc_http_defer(tc_http_req_t *req);

#endif
