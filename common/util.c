#include "util.h"

#include "error.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int64_t tc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *tc_time_format(int64_t ms, char *dst, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(dst, cap, "%s.%03dZ", base, frac);
    return dst;
}

int tc_u64_parse(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return TC_EINVAL;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return TC_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        /* v * 10 + d > max, without overflow (and d may exceed max). */
        if (d > max || v > (max - d) / 10)
            return TC_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int tc_duration_parse(const char *s, int64_t *ms)
{
    if (!s)
        return TC_EINVAL;
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 12)
        return TC_EINVAL;
    char digits[16];
    memcpy(digits, s, n);
    digits[n] = '\0';
    uint64_t v;
    if (tc_u64_parse(digits, UINT64_MAX, &v) != 0)
        return TC_EINVAL;
    const char *unit = s + n;
    uint64_t mult;
    if (strcmp(unit, "ms") == 0)
        mult = 1;
    else if (strcmp(unit, "s") == 0 || *unit == '\0')
        mult = 1000;
    else if (strcmp(unit, "m") == 0)
        mult = 60000;
    else if (strcmp(unit, "h") == 0)
        mult = 3600000;
    else if (strcmp(unit, "d") == 0)
        mult = 86400000;
    else
        return TC_EINVAL;
    const uint64_t limit = 30ull * 86400000ull;
    if (v > limit / mult)
        return TC_EINVAL;
    *ms = (int64_t)(v * mult);
    return 0;
}

bool tc_endpoint_valid(const char *ep)
{
    if (!ep)
        return false;
    if (strncmp(ep, "ipc://", 6) == 0)
        return ep[6] != '\0';
    if (strncmp(ep, "tcp://", 6) != 0)
        return false;
    const char *host = ep + 6;
    const char *colon = strrchr(host, ':');
    if (!colon || colon == host)
        return false;
    uint64_t port;
    if (strcmp(colon + 1, "*") == 0)
        return true;
    return tc_u64_parse(colon + 1, 65535, &port) == 0 && port > 0;
}

/* True if `s` (length n) is a dotted IPv4 address in 127.0.0.0/8. */
static bool s_ipv4_loopback(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (parts == 0 && v != 127))
            return false;
        parts++;
        if (i < n && s[i++] != '.')
            return false;
        if (i == n && s[n - 1] == '.')
            return false;
    }
    return parts == 4;
}

bool tc_endpoint_is_loopback(const char *ep)
{
    if (!tc_endpoint_valid(ep))
        return false;
    if (strncmp(ep, "ipc://", 6) == 0)
        return true;
    /* The whole host must be a loopback address: a prefix test would let
     * "tcp://127.example.com:1" through. */
    const char *host = ep + 6;
    size_t n = (size_t)(strrchr(host, ':') - host);
    return (n == 9 && strncmp(host, "localhost", 9) == 0) ||
           (n == 5 && strncmp(host, "[::1]", 5) == 0) || s_ipv4_loopback(host, n);
}

int tc_mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (!path || strlen(path) >= sizeof buf)
        return TC_EINVAL;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST)
            return TC_ESYS;
        *p = '/';
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return TC_ESYS;
    return 0;
}

int tc_when_parse(const char *s, int64_t now_ms, int64_t *ms)
{
    if (!s)
        return TC_EINVAL;
    if (!strcmp(s, "now")) {
        *ms = now_ms;
        return 0;
    }
    if (s[0] == '+') {
        int64_t d;
        if (tc_duration_parse(s + 1, &d) != 0)
            return TC_EINVAL;
        *ms = now_ms + d;
        return 0;
    }
    int y, mo, d, h, mi, sec = 0, n = 0;
    char sep;
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &n) != 6 ||
        (sep != 'T' && sep != ' '))
        return TC_EINVAL;
    const char *p = s + n;
    int frac_ms = 0;
    if (*p == ':') {
        int k = 0;
        if (sscanf(p, ":%2d%n", &sec, &k) != 1)
            return TC_EINVAL;
        p += k;
        /* Fractions of a second, as tocsin writes times (".123"). */
        if (*p == '.') {
            int digits = 0;
            for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                if (digits < 3)
                    frac_ms = frac_ms * 10 + (*p - '0');
            if (digits == 0)
                return TC_EINVAL;
            for (; digits < 3; digits++)
                frac_ms *= 10;
        }
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        h < 0 || mi < 0 || sec < 0)
        return TC_EINVAL;
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59)
            return TC_EINVAL;
        offset_s = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 1 + k;
    } else {
        return TC_EINVAL; /* a time without a zone means nothing to a fleet */
    }
    if (*p)
        return TC_EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d)
        return TC_EINVAL;
    *ms = ((int64_t)t - offset_s) * 1000 + frac_ms;
    return 0;
}

int tc_buf_reserve(tc_buf_t *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return TC_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

char *tc_duration_compact(int64_t ms, char *dst, size_t cap)
{
    if (ms < 0)
        ms = 0;
    /* Sub-second detail matters for short intervals (a 2500ms heartbeat),
     * not for ages measured in minutes. */
    if (ms % 1000 != 0 && ms < 60000) {
        snprintf(dst, cap, "%" PRId64 "ms", ms);
        return dst;
    }
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf(dst, cap, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(dst, cap, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(dst, cap, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(dst, cap, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
    return dst;
}
