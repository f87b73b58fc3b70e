/*
 * human.c - times, statuses and titles in words; see human.h.
 */
#include "human.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_MINUTE_MS 60000LL
#define S_HOUR_MS (60 * S_MINUTE_MS)
#define S_DAY_MS (24 * S_HOUR_MS)

static const char *const s_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const s_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static void s_tm(int64_t ms, struct tm *tm)
{
    /* Floor, so 1 ms before midnight is still the day before. */
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    time_t t = (time_t)secs;
    gmtime_r(&t, tm);
}

char *tc_human_time(int64_t ms, char *dst, size_t cap)
{
    struct tm tm;
    s_tm(ms, &tm);
    snprintf(dst, cap, "%s %d %s %04d, %02d:%02d UTC", s_days[tm.tm_wday % 7], tm.tm_mday,
             s_months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
    return dst;
}

char *tc_human_time_near(int64_t ms, int64_t ref_ms, char *dst, size_t cap)
{
    struct tm a, b;
    s_tm(ms, &a);
    s_tm(ref_ms, &b);
    if (a.tm_year != b.tm_year || a.tm_yday != b.tm_yday)
        return tc_human_time(ms, dst, cap);
    snprintf(dst, cap, "%02d:%02d UTC", a.tm_hour, a.tm_min);
    return dst;
}

char *tc_human_window(int64_t start_ms, int64_t end_ms, char *dst, size_t cap)
{
    char a[TC_HUMAN_MAX], b[TC_HUMAN_MAX];
    tc_human_time(start_ms, a, sizeof a);
    tc_human_time_near(end_ms, start_ms, b, sizeof b);
    if (strlen(b) < 10) {
        /* Same day: "Tue 2 Dec 2026, 22:00 to 23:00 UTC". */
        a[strlen(a) - 4] = '\0';
        snprintf(dst, cap, "%s to %s", a, b);
    } else {
        snprintf(dst, cap, "%s to %s", a, b);
    }
    return dst;
}

char *tc_human_relative(int64_t ms, int64_t now_ms, char *dst, size_t cap)
{
    int64_t d = ms - now_ms;
    bool future = d > 0;
    int64_t a = future ? d : -d;
    if (a < S_MINUTE_MS) {
        snprintf(dst, cap, "%s", future ? "in less than a minute" : "just now");
        return dst;
    }
    const char *unit;
    int64_t n;
    if (a < 90 * S_MINUTE_MS) {
        n = (a + S_MINUTE_MS / 2) / S_MINUTE_MS;
        unit = "minute";
    } else if (a < 48 * S_HOUR_MS) {
        n = (a + S_HOUR_MS / 2) / S_HOUR_MS;
        unit = "hour";
    } else {
        n = (a + S_DAY_MS / 2) / S_DAY_MS;
        unit = "day";
    }
    snprintf(dst, cap, "%s%" PRId64 " %s%s%s", future ? "in " : "", n, unit, n == 1 ? "" : "s",
             future ? "" : " ago");
    return dst;
}

const char *tc_human_status(tc_component_status_t s)
{
    switch (s) {
    case TC_COMP_OPERATIONAL: return "operational";
    case TC_COMP_DEGRADED: return "degraded performance";
    case TC_COMP_PARTIAL_OUTAGE: return "partial outage";
    case TC_COMP_MAJOR_OUTAGE: return "major outage";
    case TC_COMP_MAINTENANCE: return "under maintenance";
    }
    return "unknown";
}

const char *tc_human_status_label(tc_component_status_t s)
{
    switch (s) {
    case TC_COMP_OPERATIONAL: return "Operational";
    case TC_COMP_DEGRADED: return "Degraded performance";
    case TC_COMP_PARTIAL_OUTAGE: return "Partial outage";
    case TC_COMP_MAJOR_OUTAGE: return "Major outage";
    case TC_COMP_MAINTENANCE: return "Under maintenance";
    }
    return "Unknown";
}

char *tc_human_line(const char *src, char *dst, size_t cap)
{
    /* UTF-8 first (at most as long as src), then the controls: a C1
     * control is two bytes, 0xC2 0x80..0x9F. */
    tc_strlcpy_utf8(dst, src ? src : "", cap);
    size_t o = 0;
    bool space = true; /* drops leading spaces */
    for (size_t i = 0; dst[i];) {
        unsigned char c = (unsigned char)dst[i];
        size_t n = 1;
        bool ctl = c < 0x20 || c == 0x7f;
        if (c == 0xc2 && (unsigned char)dst[i + 1] >= 0x80 && (unsigned char)dst[i + 1] <= 0x9f) {
            ctl = true;
            n = 2;
        }
        if (ctl || c == ' ') {
            if (!space)
                dst[o++] = ' ';
            space = true;
        } else {
            memmove(dst + o, dst + i, n);
            o += n;
            space = false;
        }
        i += n;
    }
    if (o && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
    return dst;
}

const char *tc_human_undrill(const char *title)
{
    const char *p = title;
    while (*p == ' ')
        p++;
    if (*p == '[' && strncasecmp(p + 1, "DRILL]", 6) == 0)
        p += 7;
    else if (strncasecmp(p, "DRILL", 5) == 0 && (p[5] == ':' || p[5] == ' ' || p[5] == '-'))
        p += 5;
    else
        return title;
    while (*p == ' ' || *p == ':' || *p == '-')
        p++;
    return *p ? p : title;
}
