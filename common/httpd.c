/*
 * httpd.c - libmicrohttpd on a zloop; see httpd.h.
 *
 * libmicrohttpd runs in "external" mode with epoll: no thread of its own,
 * one epoll descriptor that becomes readable when any of its sockets (the
 * listener, connections, the inter-thread channel that resuming a
 * suspended connection writes to) has work. zloop polls that descriptor
 * and calls MHD_run(), which does what is ready without blocking.
 */
#include "httpd.h"

#include "error.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_HEADERS_MAX 16

typedef struct {
    char *name, *value;
} s_header_t;

struct tc_http_req {
    tc_httpd_t *srv;
    struct MHD_Connection *conn;
    char method[16];
    char *path;
    char peer[INET6_ADDRSTRLEN];
    tc_buf_t body;
    bool too_big;
    bool handled;     /* the handler has seen it */
    bool deferred;    /* answered later; the connection is suspended */
    bool in_callback; /* inside MHD's access handler: a response may be queued now */
    bool answered;
    struct MHD_Response *resp; /* a deferred answer waiting for the connection */
    unsigned status;
    s_header_t headers[S_HEADERS_MAX];
    size_t nheaders;
    tc_http_req_t *next; /* the server's list of deferred requests */
};

struct tc_httpd {
    struct MHD_Daemon *daemon;
    zloop_t *loop;
    zmq_pollitem_t item;
    int timer;
    tc_httpd_handler_fn *handler;
    void *arg;
    size_t max_body;
    char what[32];
    char url[96];
    tc_http_req_t *deferred;
};

/* ---- addresses -------------------------------------------------------------- */

int tc_httpd_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, bool *v6)
{
    char host[64];
    const char *port;
    memset(ss, 0, sizeof *ss);
    if (!s)
        return TC_EINVAL;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return TC_EINVAL;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = 0;
        port = end + 2;
        *v6 = true;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return TC_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = 0;
        port = colon + 1;
        *v6 = false;
    }
    char *endp;
    if (!*port || *port < '0' || *port > '9' || strlen(port) > 5)
        return TC_EINVAL;
    unsigned long p = strtoul(port, &endp, 10);
    if (*endp || p > 65535)
        return TC_EINVAL;
    if (*v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)p);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return TC_EINVAL;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)p);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return TC_EINVAL;
        *len = sizeof *a;
    }
    return 0;
}

bool tc_httpd_addr_valid(const char *s)
{
    struct sockaddr_storage ss;
    socklen_t len;
    bool v6;
    return tc_httpd_addr_parse(s, &ss, &len, &v6) == 0;
}

bool tc_httpd_addr_is_loopback(const char *s)
{
    struct sockaddr_storage ss;
    socklen_t len;
    bool v6;
    if (tc_httpd_addr_parse(s, &ss, &len, &v6) != 0)
        return false;
    if (v6)
        return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
    return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
}

/* ---- requests ---------------------------------------------------------------- */

const char *tc_http_req_method(const tc_http_req_t *req)
{
    return req->method;
}

const char *tc_http_req_path(const tc_http_req_t *req)
{
    return req->path;
}

const char *tc_http_req_header(const tc_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *tc_http_req_body(const tc_http_req_t *req, size_t *len)
{
    *len = req->too_big ? 0 : req->body.len;
    return req->too_big || !req->body.data ? "" : (const char *)req->body.data;
}

bool tc_http_req_too_big(const tc_http_req_t *req)
{
    return req->too_big;
}

const char *tc_http_req_peer(const tc_http_req_t *req)
{
    return req->peer;
}

int tc_http_add_header(tc_http_req_t *req, const char *name, const char *value)
{
    if (req->nheaders == S_HEADERS_MAX)
        return TC_ETOOBIG;
    s_header_t *h = &req->headers[req->nheaders];
    h->name = strdup(name);
    h->value = strdup(value);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return TC_ENOMEM;
    }
    req->nheaders++;
    return 0;
}

static void s_unlink_deferred(tc_httpd_t *srv, tc_http_req_t *req)
{
    for (tc_http_req_t **p = &srv->deferred; *p; p = &(*p)->next)
        if (*p == req) {
            *p = req->next;
            return;
        }
}

static void s_req_free(tc_http_req_t *req)
{
    if (req->deferred)
        s_unlink_deferred(req->srv, req);
    if (req->resp)
        MHD_destroy_response(req->resp);
    for (size_t i = 0; i < req->nheaders; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    free(req->body.data);
    free(req->path);
    free(req);
}

int tc_http_respond(tc_http_req_t *req, unsigned status, const char *content_type, const void *body,
                    size_t len)
{
    if (req->answered)
        return TC_EINVAL;
    req->answered = true;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    int rc = resp ? 0 : TC_ENOMEM;
    if (resp) {
        if (content_type)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        for (size_t i = 0; i < req->nheaders; i++)
            MHD_add_response_header(resp, req->headers[i].name, req->headers[i].value);
    }
    if (req->in_callback) {
        if (resp) {
            MHD_queue_response(req->conn, status, resp);
            MHD_destroy_response(resp);
        }
        /* Without a response MHD closes the connection when the access
         * handler returns MHD_NO; s_access() sees answered without one. */
        req->status = resp ? status : 0;
        return rc;
    }
    /* A deferred answer: the connection is suspended; resuming it makes
     * MHD call the access handler again, which queues this response. */
    req->resp = resp;
    req->status = status;
    MHD_resume_connection(req->conn);
    return rc;
}

int tc_http_respond_text(tc_http_req_t *req, unsigned status, const char *content_type,
                         const char *text)
{
    return tc_http_respond(req, status, content_type, text, strlen(text));
}

bool tc_http_metrics_route(tc_http_req_t *req, const char *health)
{
    static const char text[] = "text/plain; charset=utf-8";
    const char *method = tc_http_req_method(req), *path = tc_http_req_path(req);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        tc_http_add_header(req, "Allow", "GET, HEAD");
        tc_http_respond_text(req, 405, text, "method not allowed\n");
        return false;
    }
    if (!strcmp(path, "/healthz")) {
        tc_http_respond_text(req, 200, text, health);
        return false;
    }
    if (strcmp(path, "/metrics") != 0) {
        tc_http_respond_text(req, 404, text,
                             "not found: the metrics are at /metrics, health at /healthz\n");
        return false;
    }
    return true;
}

void tc_http_defer(tc_http_req_t *req)
{
    if (req->answered || req->deferred)
        return;
    req->deferred = true;
    req->next = req->srv->deferred;
    req->srv->deferred = req;
}

/* ---- libmicrohttpd's callbacks ------------------------------------------------------ */

static void s_peer(struct MHD_Connection *conn, char *out, size_t cap)
{
    snprintf(out, cap, "?");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    tc_httpd_t *srv = cls;
    tc_http_req_t *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->srv = srv;
        req->conn = conn;
        snprintf(req->method, sizeof req->method, "%s", method);
        req->path = strdup(url ? url : "/");
        if (!req->path) {
            free(req);
            return MHD_NO;
        }
        s_peer(conn, req->peer, sizeof req->peer);
        *con_cls = req;
        /* A declared length over the limit is refused before the body is
         * read at all. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        uint64_t n;
        if (cl && tc_u64_parse(cl, UINT64_MAX, &n) == 0 && n > srv->max_body)
            req->too_big = true;
        if (!req->too_big)
            return MHD_YES;
    }
    if (*upload_size && !req->handled) {
        if (!req->too_big && req->body.len + *upload_size > srv->max_body) {
            req->too_big = true;
            free(req->body.data);
            req->body = (tc_buf_t){0};
        }
        if (!req->too_big) {
            if (tc_buf_reserve(&req->body, *upload_size + 1) != 0)
                return MHD_NO;
            memcpy(req->body.data + req->body.len, upload_data, *upload_size);
            req->body.len += *upload_size;
            req->body.data[req->body.len] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->answered && req->resp) {
        /* The deferred answer, after MHD_resume_connection(). */
        enum MHD_Result r = MHD_queue_response(conn, req->status, req->resp);
        MHD_destroy_response(req->resp);
        req->resp = NULL;
        return r;
    }
    if (req->handled) {
        /* Resumed without an answer (cannot happen) or called again after
         * the body of a request answered early: nothing more to say. */
        *upload_size = 0;
        return req->answered ? MHD_YES : MHD_NO;
    }
    req->handled = true;
    req->in_callback = true;
    srv->handler(srv->arg, req);
    req->in_callback = false;
    if (req->answered)
        return req->status ? MHD_YES : MHD_NO;
    if (req->deferred) {
        MHD_suspend_connection(conn);
        return MHD_YES;
    }
    /* The handler neither answered nor deferred: a bug, but the client
     * must not hang. */
    tc_error("%s: %s %s was not answered", srv->what, req->method, req->path);
    req->in_callback = true;
    tc_http_respond_text(req, 500, "text/plain; charset=utf-8", "internal error\n");
    req->in_callback = false;
    return MHD_YES;
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    tc_http_req_t *req = *con_cls;
    if (req)
        s_req_free(req);
    *con_cls = NULL;
}

static void s_mhd_log(void *arg, const char *fmt, va_list ap)
{
    tc_httpd_t *srv = arg;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = 0;
    tc_warn("%s http: %s", srv->what, line);
}

/* ---- the loop ---------------------------------------------------------------------- */

static int s_on_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    tc_httpd_t *srv = arg;
    MHD_run(srv->daemon);
    return 0;
}

/* Idle connections expire only when MHD runs; nothing else may wake it. */
static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    tc_httpd_t *srv = arg;
    MHD_run(srv->daemon);
    return 0;
}

int tc_httpd_new(zloop_t *loop, const tc_httpd_config_t *cfg, tc_httpd_handler_fn *handler,
                 void *arg, tc_httpd_t **out, char *why, size_t whylen)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool v6;
    if (tc_httpd_addr_parse(cfg->addr, &ss, &sslen, &v6) != 0) {
        snprintf(why, whylen, "invalid address \"%s\" (want IP:PORT or [IPV6]:PORT)",
                 cfg->addr ? cfg->addr : "");
        return TC_EINVAL;
    }
    tc_httpd_t *srv = calloc(1, sizeof *srv);
    if (!srv)
        return TC_ENOMEM;
    srv->loop = loop;
    srv->handler = handler;
    srv->arg = arg;
    srv->max_body = cfg->max_body ? cfg->max_body : TC_HTTPD_DEFAULT_MAX_BODY;
    snprintf(srv->what, sizeof srv->what, "%s", cfg->what ? cfg->what : "http");
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* The logger first, so MHD's complaints about later options reach the
     * log too. */
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_access, srv, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, s_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 15u,
        MHD_OPTION_CONNECTION_LIMIT, cfg->connections ? cfg->connections : 64u, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(why, whylen, "cannot listen on %s (in use, or not an address of this host)",
                 cfg->addr);
        free(srv);
        return TC_ESYS;
    }
    const union MHD_DaemonInfo *ei = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[64];
    if (v6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    snprintf(srv->url, sizeof srv->url, v6 ? "http://[%s]:%u/" : "http://%s:%u/", host,
             pi ? (unsigned)pi->port : 0u);
    srv->item = (zmq_pollitem_t){.fd = ei ? ei->epoll_fd : -1, .events = ZMQ_POLLIN};
    if (!ei || zloop_poller(loop, &srv->item, s_on_ready, srv) != 0 ||
        (srv->timer = zloop_timer(loop, 1000, 0, s_on_timer, srv)) < 0) {
        snprintf(why, whylen, "cannot add the HTTP server to the event loop");
        if (ei)
            zloop_poller_end(loop, &srv->item);
        MHD_stop_daemon(srv->daemon);
        free(srv);
        return TC_ENOMEM;
    }
    *out = srv;
    return 0;
}

void tc_httpd_destroy(tc_httpd_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_httpd_t *srv = *pself;
    /* Suspended connections must be resumed before MHD stops. */
    while (srv->deferred) {
        tc_http_req_t *req = srv->deferred;
        srv->deferred = req->next;
        req->deferred = false;
        tc_http_respond_text(req, 503, "text/plain; charset=utf-8", "shutting down\n");
    }
    MHD_run(srv->daemon);
    zloop_poller_end(srv->loop, &srv->item);
    zloop_timer_end(srv->loop, srv->timer);
    MHD_stop_daemon(srv->daemon);
    free(srv);
    *pself = NULL;
}

const char *tc_httpd_url(const tc_httpd_t *self)
{
    return self->url;
}
