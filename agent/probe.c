/*
 * probe.c - tcp and http probes inside the loop; see probe.h.
 *
 * As in checker.c, zloop may call a poller or timer handler once more in
 * the iteration in which it was removed, so handlers get the prober and
 * look their probe up by fd or timer id; a failed lookup means "already
 * finished". libcurl's completion callback and the resolver's report carry
 * the probe itself: each comes exactly once, and a probe that finished
 * first detaches itself from them.
 *
 * getaddrinfo_a() resolves on a thread of glibc's and reports on a thread
 * of its own (SIGEV_THREAD); that thread only writes the request's address
 * into a pipe, which the loop reads. Nothing else crosses threads.
 */
#define _GNU_SOURCE /* getaddrinfo_a */
#include "probe.h"

#include "curl_loop.h"
#include "error.h"
#include "log.h"
#include "nagios.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How much longer than libcurl's own timeout an http probe may take
 * before we abort it ourselves; a backstop that should never fire. */
#define S_HTTP_BACKSTOP_MS 1000
/* How long destroy waits for the resolver to report. */
#define S_DNS_WAIT_MS 1000

typedef struct s_probe s_probe_t;

/* One name resolution in flight; owned by the prober's list until the
 * resolver has reported (or the request was cancelled). */
typedef struct s_dns {
    struct gaicb cb;
    struct gaicb *list[1];
    struct addrinfo hints;
    char host[256];
    char port[16];
    int wfd;          /* the prober's pipe, written by the report thread */
    s_probe_t *owner; /* NULL once the probe gave up on it */
    struct s_dns *next;
} s_dns_t;

struct s_probe {
    tc_prober_t *prober;
    void *tag;
    const tc_check_def_t *def;
    double t0;
    int timer;       /* timeout (tcp) or backstop (http); -1 if none */
    int later_timer; /* delivers a result decided inside start; -1 */
    bool starting;   /* inside tc_prober_start(): results are deferred */
    int state;
    char line[1024];
    /* tcp */
    int fd;
    struct addrinfo *ai, *cur;
    s_dns_t *dns;
    int err;
    /* http */
    CURL *easy;
    size_t bytes;
    bool body_cut;
    char status_line[128];
    char errbuf[CURL_ERROR_SIZE];
};

struct tc_prober_t {
    zloop_t *loop;
    tc_probe_done_fn *done;
    void *arg;
    s_probe_t **probes;
    size_t nprobes, cap;
    tc_curl_loop_t *curl;
    int dns_pipe[2]; /* -1 until a name is resolved */
    s_dns_t *dns;    /* requests in flight */
};

enum { S_OK = 0, S_WARNING = 1, S_CRITICAL = 2, S_UNKNOWN = 3 };

/* Seconds with sub-millisecond resolution: a loopback connect takes
 * microseconds, and "0.000s" would be useless in a graph. */
static double s_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

tc_prober_t *tc_prober_new(zloop_t *loop, tc_probe_done_fn *done, void *arg)
{
    tc_prober_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->curl = tc_curl_loop_new(loop);
    if (!p->curl) {
        free(p);
        return NULL;
    }
    p->loop = loop;
    p->done = done;
    p->arg = arg;
    p->dns_pipe[0] = p->dns_pipe[1] = -1;
    return p;
}

bool tc_prober_running(const tc_prober_t *p, const void *tag)
{
    for (size_t i = 0; i < p->nprobes; i++)
        if (p->probes[i]->tag == tag)
            return true;
    return false;
}

size_t tc_prober_active(const tc_prober_t *p)
{
    return p->nprobes;
}

static s_probe_t *s_find_timer(const tc_prober_t *p, int id)
{
    for (size_t i = 0; i < p->nprobes; i++)
        if (p->probes[i]->timer == id || p->probes[i]->later_timer == id)
            return p->probes[i];
    return NULL;
}

static s_probe_t *s_find_fd(const tc_prober_t *p, int fd)
{
    for (size_t i = 0; i < p->nprobes; i++)
        if (p->probes[i]->fd == fd)
            return p->probes[i];
    return NULL;
}

static void s_close_socket(tc_prober_t *p, s_probe_t *pr)
{
    if (pr->fd < 0)
        return;
    zmq_pollitem_t item = {NULL, pr->fd, ZMQ_POLLOUT, 0};
    zloop_poller_end(p->loop, &item);
    close(pr->fd);
    pr->fd = -1;
}

/* Releases what the probe holds; it stays in the table. */
static void s_release(tc_prober_t *p, s_probe_t *pr, bool in_loop)
{
    s_close_socket(p, pr);
    if (pr->dns) {
        pr->dns->owner = NULL; /* the resolver's report frees it */
        pr->dns = NULL;
    }
    if (pr->ai) {
        freeaddrinfo(pr->ai);
        pr->ai = pr->cur = NULL;
    }
    if (pr->easy) {
        tc_curl_loop_remove(p->curl, pr->easy);
        curl_easy_cleanup(pr->easy);
        pr->easy = NULL;
    }
    /* Ending timers is only safe from a loop handler (destroy may run on
     * a loop that never started); there they are ended. */
    if (in_loop) {
        if (pr->timer != -1)
            zloop_timer_end(p->loop, pr->timer);
        if (pr->later_timer != -1)
            zloop_timer_end(p->loop, pr->later_timer);
    }
    pr->timer = pr->later_timer = -1;
}

static void s_remove(tc_prober_t *p, s_probe_t *pr)
{
    for (size_t i = 0; i < p->nprobes; i++) {
        if (p->probes[i] == pr) {
            p->probes[i] = p->probes[--p->nprobes];
            return;
        }
    }
}

/* Ends the probe with pr->state and pr->line and reports it. */
static void s_finish(tc_prober_t *p, s_probe_t *pr)
{
    s_release(p, pr, true);
    s_remove(p, pr);
    tc_check_result_t res;
    memset(&res, 0, sizeof res);
    tc_nagios_parse(pr->line, strlen(pr->line), &res);
    res.state = (tc_check_state_t)pr->state;
    void *tag = pr->tag;
    free(pr);
    p->done(tag, &res, p->arg);
}

static int s_on_later(zloop_t *loop, int timer_id, void *arg)
{
    tc_prober_t *p = arg;
    s_probe_t *pr = s_find_timer(p, timer_id);
    if (pr && pr->later_timer == timer_id) {
        pr->later_timer = -1; /* one-shot: zloop removes it */
        s_finish(p, pr);
    }
    return 0;
}

/* Sets the result; reports it now, or from the loop when still inside
 * tc_prober_start(). Returns 0, or TC_ENOMEM if it cannot be deferred. */
__attribute__((format(printf, 3, 4))) static int s_complete(s_probe_t *pr, int state,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pr->line, sizeof pr->line, fmt, ap);
    va_end(ap);
    pr->state = state;
    tc_prober_t *p = pr->prober;
    if (!pr->starting) {
        s_finish(p, pr);
        return 0;
    }
    s_release(p, pr, false);
    pr->later_timer = zloop_timer(p->loop, 0, 1, s_on_later, p);
    return pr->later_timer == -1 ? TC_ENOMEM : 0;
}

static void s_fmt_timeout(int64_t ms, char *dst, size_t cap)
{
    tc_duration_format(ms, dst, cap);
}

/* ---- tcp ----------------------------------------------------------------- */

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
    for (const char *q = port; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    return true;
}

static void s_tcp_result(s_probe_t *pr)
{
    double dt = s_now_s() - pr->t0;
    const char *t = pr->def->arg;
    if (pr->err == 0)
        s_complete(pr, S_OK, "TCP OK - %.200s connected in %.3fs|time=%.6fs;;;0", t, dt, dt);
    else
        s_complete(pr, S_CRITICAL, "TCP CRITICAL - %.200s: %s|time=%.6fs;;;0", t, strerror(pr->err),
                   dt);
}

static int s_on_writable(zloop_t *loop, zmq_pollitem_t *item, void *arg);

/* Connects to the next address, or reports the last error if none is
 * left. */
static void s_tcp_next(tc_prober_t *p, s_probe_t *pr)
{
    while (pr->cur) {
        const struct addrinfo *ai = pr->cur;
        pr->cur = ai->ai_next;
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            pr->err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            close(fd);
            pr->err = 0;
            s_tcp_result(pr);
            return;
        }
        if (errno != EINPROGRESS) {
            pr->err = errno;
            close(fd);
            continue;
        }
        zmq_pollitem_t item = {NULL, fd, ZMQ_POLLOUT, 0};
        if (zloop_poller(p->loop, &item, s_on_writable, p) != 0) {
            close(fd);
            pr->err = ENOMEM;
            continue;
        }
        /* A refused connection polls as an error; the handler reads it. */
        zloop_poller_set_tolerant(p->loop, &item);
        pr->fd = fd;
        return;
    }
    if (pr->err == 0)
        pr->err = EADDRNOTAVAIL; /* no address at all */
    s_tcp_result(pr);
}

static int s_on_writable(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    tc_prober_t *p = arg;
    s_probe_t *pr = s_find_fd(p, item->fd);
    if (!pr)
        return 0;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(pr->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err == 0) {
        struct pollfd pf = {.fd = pr->fd, .events = POLLOUT};
        if (poll(&pf, 1, 0) == 1 && !(pf.revents & POLLOUT))
            return 0; /* a stale wake-up: not connected yet */
    }
    s_close_socket(p, pr);
    pr->err = err;
    if (err == 0)
        s_tcp_result(pr);
    else
        s_tcp_next(p, pr);
    return 0;
}

static int s_on_dns(zloop_t *loop, zmq_pollitem_t *item, void *arg);

static int s_dns_pipe(tc_prober_t *p)
{
    if (p->dns_pipe[0] >= 0)
        return 0;
    if (pipe2(p->dns_pipe, O_CLOEXEC) != 0)
        return TC_ESYS;
    fcntl(p->dns_pipe[0], F_SETFL, O_NONBLOCK);
    zmq_pollitem_t item = {NULL, p->dns_pipe[0], ZMQ_POLLIN, 0};
    if (zloop_poller(p->loop, &item, s_on_dns, p) != 0) {
        close(p->dns_pipe[0]);
        close(p->dns_pipe[1]);
        p->dns_pipe[0] = p->dns_pipe[1] = -1;
        return TC_ENOMEM;
    }
    return 0;
}

/* On glibc's notification thread: only hand the request to the loop. */
static void s_dns_notify(union sigval sv)
{
    s_dns_t *d = sv.sival_ptr;
    ssize_t n;
    do {
        n = write(d->wfd, &d, sizeof d); /* < PIPE_BUF: atomic */
    } while (n < 0 && errno == EINTR);
}

static void s_dns_unlink(tc_prober_t *p, s_dns_t *d)
{
    for (s_dns_t **pp = &p->dns; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            return;
        }
    }
}

/* The resolver's report for `d`: free it, or go on with its probe. */
static void s_dns_done(tc_prober_t *p, s_dns_t *d)
{
    s_dns_unlink(p, d);
    int rc = gai_error(&d->cb);
    s_probe_t *pr = d->owner;
    if (!pr) {
        if (rc == 0)
            freeaddrinfo(d->cb.ar_result);
        free(d);
        return;
    }
    pr->dns = NULL;
    if (rc != 0) {
        char host[256];
        snprintf(host, sizeof host, "%s", d->host);
        free(d);
        s_complete(pr, S_CRITICAL, "TCP CRITICAL - cannot resolve %.100s: %s|time=%.6fs;;;0", host,
                   gai_strerror(rc), s_now_s() - pr->t0);
        return;
    }
    pr->ai = pr->cur = d->cb.ar_result;
    free(d);
    s_tcp_next(p, pr);
}

static int s_on_dns(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    tc_prober_t *p = arg;
    s_dns_t *d;
    while (read(p->dns_pipe[0], &d, sizeof d) == (ssize_t)sizeof d)
        s_dns_done(p, d);
    return 0;
}

/* Starts resolving pr's host off the loop's thread. */
static int s_resolve(tc_prober_t *p, s_probe_t *pr, const char *host, const char *port)
{
    int rc = s_dns_pipe(p);
    if (rc != 0)
        return rc;
    s_dns_t *d = calloc(1, sizeof *d);
    if (!d)
        return TC_ENOMEM;
    snprintf(d->host, sizeof d->host, "%s", host);
    snprintf(d->port, sizeof d->port, "%s", port);
    d->hints.ai_family = AF_UNSPEC;
    d->hints.ai_socktype = SOCK_STREAM;
    d->cb.ar_name = d->host;
    d->cb.ar_service = d->port;
    d->cb.ar_request = &d->hints;
    d->list[0] = &d->cb;
    d->wfd = p->dns_pipe[1];
    d->owner = pr;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = s_dns_notify;
    sev.sigev_value.sival_ptr = d;
    int grc = getaddrinfo_a(GAI_NOWAIT, d->list, 1, &sev);
    if (grc != 0) {
        free(d);
        return s_complete(pr, S_CRITICAL, "TCP CRITICAL - cannot resolve %.100s: %s", host,
                          gai_strerror(grc));
    }
    d->next = p->dns;
    p->dns = d;
    pr->dns = d;
    return 0;
}

static int s_tcp_start(tc_prober_t *p, s_probe_t *pr)
{
    char host[256], port[16];
    if (!s_split_target(pr->def->arg, host, sizeof host, port, sizeof port))
        return s_complete(pr, S_UNKNOWN,
                          "TCP UNKNOWN - invalid target \"%.100s\" (expected host:port)",
                          pr->def->arg);
    /* An address needs no resolver: the common case costs no thread. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int grc = getaddrinfo(host, port, &hints, &res);
    if (grc == 0) {
        pr->ai = pr->cur = res;
        s_tcp_next(p, pr);
        return 0;
    }
    if (grc != EAI_NONAME)
        return s_complete(pr, S_UNKNOWN, "TCP UNKNOWN - invalid target \"%.100s\": %s",
                          pr->def->arg, gai_strerror(grc));
    return s_resolve(p, pr, host, port);
}

/* ---- http ---------------------------------------------------------------- */

/* The body is only counted: the probe asks "does it answer", and keeping a
 * large page in memory would buy nothing. */
static size_t s_http_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_probe_t *pr = arg;
    (void)ptr;
    size_t n = size * nmemb;
    if (pr->bytes + n > TC_PROBE_BODY_MAX) {
        pr->body_cut = true;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    pr->bytes += n;
    return n;
}

/* Keeps the (last) status line, e.g. "HTTP/1.1 503 Service Unavailable". */
static size_t s_http_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_probe_t *pr = arg;
    size_t n = size * nmemb;
    if (n > 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        size_t k = n < sizeof pr->status_line - 1 ? n : sizeof pr->status_line - 1;
        memcpy(pr->status_line, ptr, k);
        pr->status_line[k] = '\0';
        pr->status_line[strcspn(pr->status_line, "\r\n")] = '\0';
    }
    return n;
}

/* "HTTP/1.1 503 Service Unavailable" -> "Service Unavailable" (may be ""). */
static const char *s_reason(const char *status_line)
{
    const char *q = strchr(status_line, ' ');
    if (!q)
        return "";
    q = strchr(q + 1, ' ');
    return q ? q + 1 : "";
}

static void s_http_done(CURL *easy, CURLcode rc, void *arg)
{
    s_probe_t *pr = arg;
    double dt = s_now_s() - pr->t0;
    char tbuf[32];
    s_fmt_timeout(pr->def->timeout_ms, tbuf, sizeof tbuf);
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(easy); /* already out of the multi handle */
    pr->easy = NULL;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        s_complete(pr, S_CRITICAL, "HTTP CRITICAL - no answer within %s|time=%.6fs;;;0", tbuf, dt);
    } else if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && pr->body_cut && code > 0)) {
        s_complete(pr, S_CRITICAL, "HTTP CRITICAL - %s|time=%.6fs;;;0",
                   pr->errbuf[0] ? pr->errbuf : curl_easy_strerror(rc), dt);
    } else {
        const char *reason = s_reason(pr->status_line);
        int state = (code >= 200 && code < 400) ? S_OK : S_CRITICAL;
        s_complete(pr, state,
                   "HTTP %s - %ld%s%.80s in %.3fs, %s%zu bytes|time=%.6fs;;;0 size=%zuB;;;0",
                   state == S_OK ? "OK" : "CRITICAL", code, *reason ? " " : "", reason, dt,
                   pr->body_cut ? "more than " : "", pr->bytes, dt, pr->bytes);
    }
}

static int s_on_http_backstop(zloop_t *loop, int timer_id, void *arg)
{
    tc_prober_t *p = arg;
    s_probe_t *pr = s_find_timer(p, timer_id);
    if (!pr || pr->timer != timer_id)
        return 0;
    pr->timer = -1; /* one-shot: zloop removes it */
    char tbuf[32];
    s_fmt_timeout(pr->def->timeout_ms, tbuf, sizeof tbuf);
    tc_warn("check %s: libcurl did not end the transfer within its timeout; aborting it",
            pr->def->name);
    s_complete(pr, S_CRITICAL, "HTTP CRITICAL - no answer within %s|time=%.6fs;;;0", tbuf,
               s_now_s() - pr->t0);
    return 0;
}

static int s_http_start(tc_prober_t *p, s_probe_t *pr)
{
    const char *url = pr->def->arg;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return s_complete(pr, S_UNKNOWN, "HTTP UNKNOWN - invalid URL \"%.100s\"", url);
    CURL *h = curl_easy_init();
    if (!h)
        return TC_ENOMEM;
    long tmo = (long)pr->def->timeout_ms;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, tmo);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, tmo);
    /* Every run tests a connection of its own, as a user's would be. */
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* 3xx is an answer */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tocsin-agent/" TOCSIN_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_http_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, pr);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_http_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, pr);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, pr->errbuf);
    int rc = tc_curl_loop_add(p->curl, h, s_http_done, pr);
    if (rc != 0) {
        curl_easy_cleanup(h);
        return rc;
    }
    pr->easy = h;
    pr->timer = zloop_timer(p->loop, (size_t)pr->def->timeout_ms + S_HTTP_BACKSTOP_MS, 1,
                            s_on_http_backstop, p);
    return pr->timer == -1 ? TC_ENOMEM : 0;
}

/* ---- both ------------------------------------------------------------------ */

static int s_on_tcp_timeout(zloop_t *loop, int timer_id, void *arg)
{
    tc_prober_t *p = arg;
    s_probe_t *pr = s_find_timer(p, timer_id);
    if (!pr || pr->timer != timer_id)
        return 0;
    pr->timer = -1; /* one-shot: zloop removes it */
    char tbuf[32];
    s_fmt_timeout(pr->def->timeout_ms, tbuf, sizeof tbuf);
    s_complete(pr, S_CRITICAL, "TCP CRITICAL - %.200s: %s within %s|time=%.6fs;;;0", pr->def->arg,
               pr->dns ? "name not resolved" : "no answer", tbuf, s_now_s() - pr->t0);
    return 0;
}

int tc_prober_start(tc_prober_t *p, const tc_check_def_t *def, void *tag)
{
    if ((def->type != TC_CHECK_TCP && def->type != TC_CHECK_HTTP) || tc_prober_running(p, tag))
        return TC_EINVAL;
    if (p->nprobes == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 8;
        s_probe_t **np = realloc(p->probes, ncap * sizeof *np);
        if (!np)
            return TC_ENOMEM;
        p->probes = np;
        p->cap = ncap;
    }
    s_probe_t *pr = calloc(1, sizeof *pr);
    if (!pr)
        return TC_ENOMEM;
    pr->prober = p;
    pr->tag = tag;
    pr->def = def;
    pr->fd = -1;
    pr->timer = pr->later_timer = -1;
    pr->starting = true;
    pr->t0 = s_now_s();
    p->probes[p->nprobes++] = pr;

    int rc;
    if (def->type == TC_CHECK_TCP) {
        rc = s_tcp_start(p, pr);
        if (rc == 0 && pr->later_timer == -1) {
            pr->timer = zloop_timer(p->loop, (size_t)def->timeout_ms, 1, s_on_tcp_timeout, p);
            if (pr->timer == -1)
                rc = TC_ENOMEM;
        }
    } else {
        rc = s_http_start(p, pr);
    }
    if (rc != 0) {
        int e = errno;
        s_release(p, pr, true);
        s_remove(p, pr);
        free(pr);
        errno = e;
        return rc;
    }
    pr->starting = false;
    return 0;
}

void tc_prober_destroy(tc_prober_t **pprober)
{
    if (!pprober || !*pprober)
        return;
    tc_prober_t *p = *pprober;
    for (size_t i = 0; i < p->nprobes; i++) {
        s_release(p, p->probes[i], false);
        free(p->probes[i]);
    }
    free(p->probes);
    tc_curl_loop_destroy(&p->curl);

    /* Requests still queued are cancelled; those being resolved report
     * through the pipe, so it must stay open until they have. */
    for (s_dns_t *d = p->dns, *next; d; d = next) {
        next = d->next;
        if (gai_cancel(&d->cb) == EAI_CANCELED) {
            s_dns_unlink(p, d);
            free(d);
        }
    }
    int64_t deadline = tc_mono_ms() + S_DNS_WAIT_MS;
    while (p->dns) {
        int64_t left = deadline - tc_mono_ms();
        struct pollfd pf = {.fd = p->dns_pipe[0], .events = POLLIN};
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            break;
        s_dns_t *d;
        while (read(p->dns_pipe[0], &d, sizeof d) == (ssize_t)sizeof d) {
            d->owner = NULL;
            s_dns_done(p, d);
        }
    }
    if (p->dns_pipe[0] >= 0) {
        zmq_pollitem_t item = {NULL, p->dns_pipe[0], ZMQ_POLLIN, 0};
        zloop_poller_end(p->loop, &item);
    }
    if (p->dns) {
        /* Leave the requests and the pipe to the resolver: closing it now
         * could make its report write into a reused descriptor. */
        tc_warn("a host name lookup did not finish in time; leaving it to the resolver");
    } else if (p->dns_pipe[0] >= 0) {
        close(p->dns_pipe[0]);
        close(p->dns_pipe[1]);
    }
    free(p);
    *pprober = NULL;
}
