/*
 * payload.c - idempotency keys and payload bodies; see payload.h.
 */
#include "payload.h"

#include "error.h"
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Slack rejects header blocks longer than this many characters. */
#define S_SLACK_HEADER_MAX 150
/* RFC 5322: a line is at most 998 characters; wrap well before. */
#define S_MAIL_LINE_MAX 900

int tc_notify_key(const tc_update_t *u, const char *sub, char *dst, size_t cap)
{
    int n;
    if (u->incident == 0 && u->maintenance != 0)
        n = snprintf(dst, cap, "tocsin-m%" PRIu64 "-u%" PRIu32 "-%s", u->maintenance, u->number,
                     sub);
    else
        n = snprintf(dst, cap, "tocsin-i%" PRIu64 "-u%" PRIu32 "-%s", u->incident, u->number, sub);
    return n < 0 || (size_t)n >= cap ? TC_ETOOBIG : 0;
}

int tc_notify_webhook_json(tc_json_t *j, const tc_update_t *u, const char *key)
{
    tc_json_reset(j);
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, key);
    tc_json_key(j, "incident");
    tc_json_uint(j, u->incident);
    tc_json_key(j, "maintenance");
    tc_json_uint(j, u->maintenance);
    tc_json_key(j, "update");
    tc_json_uint(j, u->number);
    tc_json_key(j, "audience");
    tc_json_string(j, u->external ? "external" : "internal");
    tc_json_key(j, "scenario");
    tc_json_string(j, u->scenario);
    tc_json_key(j, "state");
    tc_json_string(j, u->state);
    tc_json_key(j, "title");
    tc_json_string(j, u->title);
    tc_json_key(j, "body");
    tc_json_string(j, u->body);
    tc_json_key(j, "impact");
    tc_json_string(j, u->impact);
    tc_json_key(j, "severity");
    if (u->severity >= 1 && u->severity <= 5)
        tc_json_uint(j, u->severity);
    else
        tc_json_null(j);
    tc_json_key(j, "components");
    tc_json_array_begin(j);
    for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++) {
        tc_json_object_begin(j);
        tc_json_key(j, "name");
        tc_json_string(j, u->components[i].name);
        tc_json_key(j, "status");
        tc_json_string(j, tc_component_status_name(u->components[i].status));
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    /* Only a garbled update has a negative time; the webhook calls it
     * unknown, like 0. */
    tc_json_key(j, "next_update_at");
    tc_json_time(j, u->next_update_ms > 0 ? u->next_update_ms : 0);
    tc_json_key(j, "published_at");
    tc_json_time(j, u->published_ms > 0 ? u->published_ms : 0);
    tc_json_key(j, "drill");
    tc_json_bool(j, u->drill);
    tc_json_object_end(j);
    return tc_json_error(j);
}

/* A growable text buffer with sticky allocation failure. */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} s_buf_t;

static void s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void s_puts(s_buf_t *b, const char *s)
{
    s_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void s_printf(s_buf_t *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    s_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* "investigating" -> "Investigating", for people rather than programs. */
static void s_state_title(const char *state, char *dst, size_t cap)
{
    snprintf(dst, cap, "%s", state[0] ? state : "update");
    dst[0] = (char)toupper((unsigned char)dst[0]);
}

/* "[DRILL] Title — State", the line every channel leads with. */
static void s_headline(const tc_update_t *u, s_buf_t *b)
{
    char st[32];
    s_state_title(u->state, st, sizeof st);
    if (u->drill)
        s_puts(b, "[DRILL] ");
    s_puts(b, u->title[0] ? u->title : "Status update");
    s_puts(b, " \xe2\x80\x94 "); /* em dash */
    s_puts(b, st);
}

/* Slack's mrkdwn treats &, < and > as control characters. */
static void s_slack_escape(s_buf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            s_puts(b, "&amp;");
        else if (*s == '<')
            s_puts(b, "&lt;");
        else if (*s == '>')
            s_puts(b, "&gt;");
        else
            s_put(b, s, 1);
    }
}

int tc_notify_slack_json(tc_json_t *j, const tc_update_t *u)
{
    s_buf_t head = {0}, body = {0}, ctx = {0};
    char header[S_SLACK_HEADER_MAX * 4 + 1];
    char t[32];
    s_headline(u, &head);
    /* Characters, not bytes, count for Slack; a byte cut is stricter and
     * tc_strlcpy_utf8 keeps it on a character boundary. */
    tc_strlcpy_utf8(header, head.data ? head.data : "", S_SLACK_HEADER_MAX + 1);
    s_slack_escape(&body, u->body[0] ? u->body : "(no details)");
    if (u->ncomponents) {
        s_puts(&ctx, "*Affected:* ");
        for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++) {
            s_printf(&ctx, "%s", i ? ", " : "");
            s_slack_escape(&ctx, u->components[i].name);
            s_printf(&ctx, " (%s)", tc_component_status_name(u->components[i].status));
        }
        s_puts(&ctx, "  |  ");
    }
    if (u->next_update_ms > 0)
        s_printf(&ctx, "*Next update:* %s  |  ", tc_time_format(u->next_update_ms, t, sizeof t));
    if (u->incident)
        s_printf(&ctx, "incident #%" PRIu64 ", update %" PRIu32, u->incident, u->number);
    else
        s_printf(&ctx, "maintenance #%" PRIu64 ", update %" PRIu32, u->maintenance, u->number);

    tc_json_reset(j);
    tc_json_object_begin(j);
    tc_json_key(j, "text");
    tc_json_string(j, head.data ? head.data : "");
    tc_json_key(j, "blocks");
    tc_json_array_begin(j);
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "header");
    tc_json_key(j, "text");
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "plain_text");
    tc_json_key(j, "text");
    tc_json_string(j, header);
    tc_json_object_end(j);
    tc_json_object_end(j);

    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "section");
    tc_json_key(j, "text");
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "mrkdwn");
    tc_json_key(j, "text");
    tc_json_string(j, body.data ? body.data : "");
    tc_json_object_end(j);
    tc_json_object_end(j);

    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "context");
    tc_json_key(j, "elements");
    tc_json_array_begin(j);
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "mrkdwn");
    tc_json_key(j, "text");
    tc_json_string(j, ctx.data ? ctx.data : "");
    tc_json_object_end(j);
    tc_json_array_end(j);
    tc_json_object_end(j);
    tc_json_array_end(j);
    tc_json_object_end(j);

    bool failed = head.failed || body.failed || ctx.failed;
    free(head.data);
    free(body.data);
    free(ctx.data);
    return failed ? TC_ENOMEM : tc_json_error(j);
}

static bool s_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
            return false;
    return true;
}

static void s_base64(s_buf_t *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char out[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
                       i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
        s_put(b, out, 4);
    }
}

/* A header value as RFC 2047 encoded-words of at most 45 bytes of text
 * each (60 base64 characters, within the 75-character limit), cut at
 * UTF-8 character boundaries and folded onto continuation lines. */
static void s_header_encoded(s_buf_t *b, const char *s)
{
    if (s_ascii(s)) {
        s_puts(b, s);
        return;
    }
    size_t len = strlen(s), at = 0;
    bool first = true;
    while (at < len) {
        size_t n = len - at < 45 ? len - at : 45;
        /* Back off to a character start (not a continuation byte). */
        while (n > 1 && at + n < len && ((unsigned char)s[at + n] & 0xc0) == 0x80)
            n--;
        if (!first)
            s_puts(b, "\r\n ");
        s_puts(b, "=?UTF-8?B?");
        s_base64(b, (const unsigned char *)s + at, n);
        s_puts(b, "?=");
        at += n;
        first = false;
    }
}

/* Appends text with CRLF line ends, wrapping lines longer than SMTP
 * allows and dropping other control characters. */
static void s_mail_text(s_buf_t *b, const char *s)
{
    size_t col = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\r')
            continue;
        if (ch == '\n') {
            s_puts(b, "\r\n");
            col = 0;
            continue;
        }
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            continue;
        if (col >= S_MAIL_LINE_MAX && (ch & 0xc0) != 0x80) {
            s_puts(b, "\r\n");
            col = 0;
        }
        s_put(b, s, 1);
        col++;
    }
}

char *tc_notify_email(const tc_update_t *u, const tc_notify_sub_t *sub, const char *from,
                      const char *key, int64_t now_ms, size_t *len)
{
    s_buf_t b = {0}, subject = {0};
    char date[64], t[32];
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* Spelled out rather than strftime("%a %b") so the locale cannot
     * change an RFC 5322 date. */
    snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
    const char *domain = strchr(from, '@');
    domain = domain ? domain + 1 : "tocsin.invalid";

    s_printf(&b, "Date: %s\r\n", date);
    s_printf(&b, "From: %s\r\n", from);
    s_puts(&b, "To: ");
    for (size_t i = 0; i < sub->nto; i++) {
        if (i)
            s_puts(&b, ",\r\n ");
        s_puts(&b, sub->to[i]);
    }
    s_puts(&b, "\r\n");
    s_headline(u, &subject);
    s_puts(&b, "Subject: ");
    s_header_encoded(&b, subject.data ? subject.data : "");
    s_puts(&b, "\r\n");
    s_printf(&b, "Message-ID: <%s@%s>\r\n", key, domain);
    s_puts(&b, "MIME-Version: 1.0\r\n");
    s_puts(&b, "Content-Type: text/plain; charset=utf-8\r\n");
    s_puts(&b, "Content-Transfer-Encoding: 8bit\r\n");
    s_printf(&b, "X-Tocsin-Idempotency-Key: %s\r\n", key);
    s_puts(&b, "Auto-Submitted: auto-generated\r\n");
    s_puts(&b, "\r\n");

    char st[32];
    s_state_title(u->state, st, sizeof st);
    if (u->drill)
        s_puts(&b, "This is a DRILL. No action is needed.\r\n\r\n");
    s_printf(&b, "Status: %s\r\n", st);
    if (u->ncomponents) {
        s_puts(&b, "Affected: ");
        for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++) {
            s_printf(&b, "%s%s (%s)", i ? ", " : "", u->components[i].name,
                     tc_component_status_name(u->components[i].status));
        }
        s_puts(&b, "\r\n");
    }
    s_puts(&b, "\r\n");
    s_mail_text(&b, u->body);
    s_puts(&b, "\r\n\r\n");
    if (u->next_update_ms > 0)
        s_printf(&b, "Next update: %s\r\n", tc_time_format(u->next_update_ms, t, sizeof t));
    else
        s_puts(&b, "Next update: when there is news.\r\n");

    free(subject.data);
    if (b.failed || subject.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
