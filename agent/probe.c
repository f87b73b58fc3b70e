/*
 * probe.c - built-in tcp and http probes, run in a child process; see
 * probe.h. Blocking is fine here: the parent enforces the hard timeout by
 * killing the process group, and the probe's own, slightly shorter timeout
 * only exists to produce a more helpful message than "timed out".
 */
#include "probe.h"

#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_OK = 0, S_WARNING = 1, S_CRITICAL = 2, S_UNKNOWN = 3 };

/* Seconds with sub-millisecond resolution: a loopback connect takes
 * microseconds, and "0.000s" would be useless in a graph. */
static double s_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_fmt_timeout(int64_t ms, char *dst, size_t cap)
{
    if (ms % 1000 == 0)
        snprintf(dst, cap, "%" PRId64 "s", ms / 1000);
    else
        snprintf(dst, cap, "%" PRId64 "ms", ms);
}

/* Splits "host:port" or "[v6]:port". Returns false if malformed. */
static bool s_split_target(const char *target, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(target, ':');
    if (!colon || colon == target || colon[1] == '\0')
        return false;
    const char *h = target;
    size_t hl = (size_t)(colon - target);
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']')
            return false;
        h++;
        hl -= 2;
    }
    if (hl >= hcap || strlen(colon + 1) >= pcap)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* Non-blocking connect to one address, waiting at most `wait_ms`.
 * Returns 0 on success or an errno value (ETIMEDOUT on timeout). */
static int s_connect_one(const struct addrinfo *ai, int wait_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return errno;
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            goto done;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n;
        do {
            n = poll(&p, 1, wait_ms);
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            err = ETIMEDOUT;
            goto done;
        }
        if (n < 0) {
            err = errno;
            goto done;
        }
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
    }
done:
    close(fd);
    return err;
}

int tc_probe_tcp(const char *target, int64_t timeout_ms, char *out, size_t cap)
{
    char host[256], port[16], tbuf[32];
    if (!s_split_target(target, host, sizeof host, port, sizeof port)) {
        snprintf(out, cap, "TCP UNKNOWN - invalid target \"%.100s\" (expected host:port)", target);
        return S_UNKNOWN;
    }
    s_fmt_timeout(timeout_ms, tbuf, sizeof tbuf);
    double t0 = s_now_s();
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int grc = getaddrinfo(host, port, &hints, &res);
    if (grc != 0) {
        snprintf(out, cap, "TCP CRITICAL - cannot resolve %.100s: %s", host, gai_strerror(grc));
        return S_CRITICAL;
    }
    int err = ENOENT;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        double left_ms = (double)timeout_ms - (s_now_s() - t0) * 1000.0;
        if (left_ms < 1) {
            err = ETIMEDOUT;
            break;
        }
        err = s_connect_one(ai, (int)left_ms);
        if (err == 0)
            break;
    }
    freeaddrinfo(res);
    double dt = s_now_s() - t0;
    if (err == 0) {
        snprintf(out, cap, "TCP OK - %.200s connected in %.3fs|time=%.6fs;;;0", target, dt, dt);
        return S_OK;
    }
    if (err == ETIMEDOUT)
        snprintf(out, cap, "TCP CRITICAL - %.200s: no answer within %s|time=%.6fs;;;0", target,
                 tbuf, dt);
    else
        snprintf(out, cap, "TCP CRITICAL - %.200s: %s|time=%.6fs;;;0", target, strerror(err), dt);
    return S_CRITICAL;
}

typedef struct {
    size_t bytes;
    char status_line[128];
    bool have_status;
} s_http_ctx_t;

/* The body is only counted: the probe asks "does it answer", and keeping a
 * large page in memory would buy nothing. */
static size_t s_http_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_http_ctx_t *c = arg;
    (void)ptr;
    c->bytes += size * nmemb;
    return size * nmemb;
}

/* Keeps the reason phrase of the (last) status line, e.g. "Service
 * Unavailable", for the output. */
static size_t s_http_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_http_ctx_t *c = arg;
    size_t n = size * nmemb;
    if (n > 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        size_t k = n < sizeof c->status_line - 1 ? n : sizeof c->status_line - 1;
        memcpy(c->status_line, ptr, k);
        c->status_line[k] = '\0';
        c->status_line[strcspn(c->status_line, "\r\n")] = '\0';
        c->have_status = true;
    }
    return n;
}

/* "HTTP/1.1 503 Service Unavailable" -> "Service Unavailable" (may be ""). */
static const char *s_reason(const char *status_line)
{
    const char *p = strchr(status_line, ' ');
    if (!p)
        return "";
    p = strchr(p + 1, ' ');
    return p ? p + 1 : "";
}

int tc_probe_http(const char *url, int64_t timeout_ms, char *out, size_t cap)
{
    char tbuf[32], errbuf[CURL_ERROR_SIZE] = "";
    s_http_ctx_t ctx = {0};
    s_fmt_timeout(timeout_ms, tbuf, sizeof tbuf);
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(out, cap, "HTTP UNKNOWN - invalid URL \"%.100s\"", url);
        return S_UNKNOWN;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        snprintf(out, cap, "HTTP UNKNOWN - cannot initialise libcurl");
        return S_UNKNOWN;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(out, cap, "HTTP UNKNOWN - cannot initialise libcurl");
        curl_global_cleanup();
        return S_UNKNOWN;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* 3xx is an answer */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tocsin-agent/" TOCSIN_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_http_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_http_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ctx);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

    double t0 = s_now_s();
    CURLcode rc = curl_easy_perform(h);
    double dt = s_now_s() - t0;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    int state;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(out, cap, "HTTP CRITICAL - no answer within %s|time=%.6fs;;;0", tbuf, dt);
        state = S_CRITICAL;
    } else if (rc != CURLE_OK) {
        snprintf(out, cap, "HTTP CRITICAL - %s|time=%.6fs;;;0",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc), dt);
        state = S_CRITICAL;
    } else {
        const char *reason = ctx.have_status ? s_reason(ctx.status_line) : "";
        state = (code >= 200 && code < 400) ? S_OK : S_CRITICAL;
        snprintf(out, cap, "HTTP %s - %ld%s%.80s in %.3fs, %zu bytes|time=%.6fs;;;0 size=%zuB;;;0",
                 state == S_OK ? "OK" : "CRITICAL", code, *reason ? " " : "", reason, dt, ctx.bytes,
                 dt, ctx.bytes);
    }
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return state;
}

bool tc_probe_requested(int argc, char **argv)
{
    return argc > 1 && strcmp(argv[1], "--probe") == 0;
}

int tc_probe_main(int argc, char **argv)
{
    char out[1024];
    int64_t timeout_ms = 5000;
    if (argc != 4 && argc != 6) {
        printf("PROBE UNKNOWN - usage: --probe tcp|http TARGET [--probe-timeout-ms N]\n");
        return S_UNKNOWN;
    }
    if (argc == 6) {
        uint64_t v;
        if (strcmp(argv[4], "--probe-timeout-ms") != 0 || tc_u64_parse(argv[5], 3600000, &v) != 0 ||
            v == 0) {
            printf("PROBE UNKNOWN - invalid --probe-timeout-ms\n");
            return S_UNKNOWN;
        }
        timeout_ms = (int64_t)v;
    }
    int rc;
    if (strcmp(argv[2], "tcp") == 0) {
        rc = tc_probe_tcp(argv[3], timeout_ms, out, sizeof out);
    } else if (strcmp(argv[2], "http") == 0) {
        rc = tc_probe_http(argv[3], timeout_ms, out, sizeof out);
    } else {
        snprintf(out, sizeof out, "PROBE UNKNOWN - unknown probe type \"%.40s\"", argv[2]);
        rc = S_UNKNOWN;
    }
    printf("%s\n", out);
    fflush(stdout);
    return rc;
}
