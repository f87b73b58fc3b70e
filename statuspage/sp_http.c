/*
 * sp_http.c - the status site's HTTP server; see sp_http.h.
 */
#define _GNU_SOURCE
#include "sp_http.h"

#include "error.h"
#include "httpd.h"
#include "prom.h"
#include "log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct tc_sp_http {
    struct MHD_Daemon *daemon;
    int root_fd; /* the site directory; files are opened relative to it */
    /* GET /metrics: the main loop's text, swapped in under the lock, and
     * what this thread counts itself. */
    pthread_mutex_t lock;
    char *metrics;
    size_t metrics_len;
    atomic_ulong served, not_found, refused;
};

int tc_sp_http_addr_valid(const char *s)
{
    return tc_httpd_addr_valid(s) ? 0 : TC_EINVAL;
}

bool tc_sp_http_map(const char *url, char *rel, size_t cap)
{
    if (!url || url[0] != '/')
        return false;
    const char *p = url + 1;
    if (!*p)
        p = "index.html";
    if (strlen(p) >= cap || strchr(p, '\\'))
        return false;
    /* Every segment must be a plain name: not empty ("//"), not "." or
     * "..", not hidden (temporary files start with a dot). */
    const char *seg = p;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || seg[0] == '.')
            return false;
        if (!end)
            break;
        seg = end + 1;
    }
    strcpy(rel, p);
    return true;
}

const char *tc_sp_http_content_type(const char *rel)
{
    const char *dot = strrchr(rel, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".json") == 0)
        return "application/json";
    if (strcmp(dot, ".atom") == 0)
        return "application/atom+xml";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".txt") == 0)
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

/* Who may read a file from another origin, and how long it may be cached:
 * the API and the embed scripts are meant for other sites (a product's
 * banner), so they carry Access-Control-Allow-Origin: *. The page and its
 * JSON must never be served stale from a cache; banner.json is fetched by
 * every page view of a product, so caches may keep it for 15 s; the
 * scripts change only with a new version. */
const char *tc_sp_http_cache_control(const char *rel)
{
    if (!strcmp(rel, "api/v2/banner.json"))
        return "public, max-age=15";
    if (!strncmp(rel, "embed/", 6))
        return "public, max-age=300";
    return "no-cache";
}

bool tc_sp_http_cors(const char *rel)
{
    return !strncmp(rel, "api/", 4) || !strncmp(rel, "embed/", 6);
}

static enum MHD_Result s_send(struct MHD_Connection *conn, unsigned code, struct MHD_Response *resp,
                              const char *type, const char *rel)
{
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            rel ? tc_sp_http_cache_control(rel) : "no-cache");
    if (rel && tc_sp_http_cors(rel))
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* The pages run their own script only; nothing else loads. */
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
                            "frame-ancestors 'none'");
    enum MHD_Result r = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result s_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (resp && code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, OPTIONS");
    return s_send(conn, code, resp, "text/plain; charset=utf-8", NULL);
}

/* A CORS preflight: what a browser asks before a cross-origin request it
 * does not consider simple. GET and HEAD of api/ and embed/ only. */
static enum MHD_Result s_options(struct MHD_Connection *conn, const char *rel)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, OPTIONS");
    if (tc_sp_http_cors(rel)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
    }
    return s_send(conn, MHD_HTTP_NO_CONTENT, resp, "text/plain; charset=utf-8", rel);
}

static enum MHD_Result s_metrics(tc_sp_http_t *self, struct MHD_Connection *conn);

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    tc_sp_http_t *self = cls;
    bool options = strcmp(method, "OPTIONS") == 0;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && !options) {
        atomic_fetch_add(&self->refused, 1);
        return s_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if (*upload_size) {
        atomic_fetch_add(&self->refused, 1);
        return s_text(conn, MHD_HTTP_BAD_REQUEST, "bad request\n");
    }
    if (!options && !strcmp(url, "/metrics"))
        return s_metrics(self, conn);
    char rel[1024];
    if (!tc_sp_http_map(url, rel, sizeof rel)) {
        atomic_fetch_add(&self->not_found, 1);
        return s_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    if (options)
        return s_options(conn, rel);
    int fd = openat(self->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        atomic_fetch_add(&self->not_found, 1);
        return s_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    atomic_fetch_add(&self->served, 1);
    /* The response owns fd from here and closes it. */
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    return s_send(conn, MHD_HTTP_OK, resp, tc_sp_http_content_type(rel), rel);
}

/* The main loop's metrics and this thread's request counts. */
static enum MHD_Result s_metrics(tc_sp_http_t *self, struct MHD_Connection *conn)
{
    char counts[512];
    int n = snprintf(counts, sizeof counts,
                     "# HELP tocsin_statuspage_http_requests_total Requests answered by the "
                     "status page's server, by result\n"
                     "# TYPE tocsin_statuspage_http_requests_total counter\n"
                     "tocsin_statuspage_http_requests_total{result=\"served\"} %lu\n"
                     "tocsin_statuspage_http_requests_total{result=\"not_found\"} %lu\n"
                     "tocsin_statuspage_http_requests_total{result=\"refused\"} %lu\n",
                     atomic_load(&self->served), atomic_load(&self->not_found),
                     atomic_load(&self->refused));
    pthread_mutex_lock(&self->lock);
    size_t len = self->metrics_len + (size_t)n;
    char *text = malloc(len + 1);
    if (text) {
        memcpy(text, self->metrics ? self->metrics : "", self->metrics_len);
        memcpy(text + self->metrics_len, counts, (size_t)n + 1);
    }
    pthread_mutex_unlock(&self->lock);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TC_PROM_CONTENT_TYPE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

void tc_sp_http_set_metrics(tc_sp_http_t *self, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return; /* the last text stays */
    memcpy(copy, text, len);
    copy[len] = 0;
    pthread_mutex_lock(&self->lock);
    char *old = self->metrics;
    self->metrics = copy;
    self->metrics_len = len;
    pthread_mutex_unlock(&self->lock);
    free(old);
}

static void s_mhd_log(void *arg, const char *fmt, va_list ap)
{
    (void)arg;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = 0;
    tc_warn("http: %s", line);
}

int tc_sp_http_start(const char *addr, const char *root, tc_sp_http_t **out, char *url, size_t cap)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    bool v6;
    if (tc_httpd_addr_parse(addr, &ss, &len, &v6) != 0)
        return TC_EINVAL;
    tc_sp_http_t *self = calloc(1, sizeof *self);
    if (!self)
        return TC_ENOMEM;
    pthread_mutex_init(&self->lock, NULL);
    self->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->root_fd < 0) {
        free(self);
        return TC_ESYS;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* The logger first, so MHD's own complaints about later options reach
     * our log too. */
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT, 15u,
        MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
    if (!self->daemon) {
        close(self->root_fd);
        free(self);
        return TC_ESYS;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    char host[64];
    if (v6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        snprintf(url, cap, "http://[%s]:%u/", host, port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        snprintf(url, cap, "http://%s:%u/", host, port);
    }
    *out = self;
    return 0;
}

void tc_sp_http_destroy(tc_sp_http_t **pself)
{
    if (!pself || !*pself)
        return;
    MHD_stop_daemon((*pself)->daemon);
    close((*pself)->root_fd);
    pthread_mutex_destroy(&(*pself)->lock);
    free((*pself)->metrics);
    free(*pself);
    *pself = NULL;
}
