/*
 * payload.c - idempotency keys and payload bodies; see payload.h.
 */
#include "payload.h"
#include "payload_impl.h"

#include "error.h"
#include "human.h"
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Slack rejects header blocks longer than this many characters. */
#define S_SLACK_HEADER_MAX 150
/* Slack refuses a section block whose text is longer than 3000 characters. */
#define S_SLACK_SECTION_MAX 3000
/* RFC 5322: a line is at most 998 characters; wrap well before. */
#define S_MAIL_LINE_MAX 900
#define S_LINK_MAX (TC_NOTIFY_URL_MAX + 64)

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

const char *tc_notify_component_name(const tc_notify_context_t *ctx, const char *slug)
{
    for (size_t i = 0; ctx && ctx->components && i < ctx->ncomponents; i++)
        if (!strcmp(ctx->components[i].name, slug))
            return ctx->components[i].description[0] ? ctx->components[i].description : slug;
    return slug;
}

char *tc_notify_link(const tc_notify_context_t *ctx, const tc_update_t *u, char *dst, size_t cap)
{
    const char *base = ctx && ctx->page_url ? ctx->page_url : "";
    if (!base[0])
        snprintf(dst, cap, "%s", "");
    else if (u->incident && u->external)
        snprintf(dst, cap, "%sincidents/%" PRIu64 ".html%s", base, u->incident,
                 tc_update_is_report(u) ? "#postmortem" : "");
    else
        snprintf(dst, cap, "%s", base);
    return dst;
}

/* True when `u` announces the end: nothing more to expect or estimate. */
static bool s_final(const tc_update_t *u)
{
    return !strcmp(u->state, "resolved") || !strcmp(u->state, "completed") ||
           tc_update_is_report(u);
}

/* True if the text already says when the next update comes. */
static bool s_says_next(const char *body)
{
    for (const char *p = body; *p; p++)
        if (strncasecmp(p, "next update", 11) == 0)
            return true;
    return false;
}

/* The next update is promised and not yet said in the text. */
static bool s_next_line(const tc_update_t *u)
{
    return u->next_update_ms > 0 && !s_final(u) && !s_says_next(u->body);
}

/* An estimate line belongs to incidents that are not over. */
static bool s_eta_line(const tc_update_t *u)
{
    return u->incident && !s_final(u);
}

int tc_notify_webhook_json(tc_json_t *j, const tc_update_t *u, const char *key,
                           const tc_notify_context_t *ctx)
{
    char link[S_LINK_MAX];
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
        tc_json_key(j, "id");
        tc_json_string(j, u->components[i].name);
        tc_json_key(j, "name");
        tc_json_string(j, tc_notify_component_name(ctx, u->components[i].name));
        tc_json_key(j, "status");
        tc_json_string(j, tc_component_status_name(u->components[i].status));
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    /* Only a garbled update has a negative time; the webhook calls it
     * unknown, like 0. */
    tc_json_key(j, "eta");
    tc_json_time(j, u->eta_ms > 0 ? u->eta_ms : 0);
    tc_json_key(j, "next_update_at");
    tc_json_time(j, u->next_update_ms > 0 ? u->next_update_ms : 0);
    tc_json_key(j, "published_at");
    tc_json_time(j, u->published_ms > 0 ? u->published_ms : 0);
    tc_json_key(j, "url");
    tc_notify_link(ctx, u, link, sizeof link);
    tc_json_string(j, link[0] ? link : NULL);
    tc_json_key(j, "drill");
    tc_json_bool(j, u->drill);
    /* A public post-mortem report's parts apart; null for status updates. */
    tc_json_key(j, "postmortem");
    if (tc_update_is_report(u)) {
        tc_json_object_begin(j);
        tc_report_json_parts(j, u);
        tc_json_object_end(j);
    } else {
        tc_json_null(j);
    }
    tc_json_object_end(j);
    return tc_json_error(j);
}

void tc_notify__put(tc_notify__buf_t *b, const char *s, size_t n)
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

void tc_notify__puts(tc_notify__buf_t *b, const char *s)
{
    tc_notify__put(b, s, strlen(s));
}

void tc_notify__printf(tc_notify__buf_t *b, const char *fmt, ...)
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
    tc_notify__put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* "investigating" -> "Investigating", "in_progress" -> "In progress", for
 * people rather than programs. */
static void s_state_title(const char *state, char *dst, size_t cap)
{
    if (!strcmp(state, TC_REPORT_SCENARIO)) {
        snprintf(dst, cap, "Post-incident report");
        return;
    }
    snprintf(dst, cap, "%s", state[0] ? state : "update");
    for (char *p = dst; *p; p++)
        if (*p == '_')
            *p = ' ';
    dst[0] = (char)toupper((unsigned char)dst[0]);
}

/* "[DRILL] Title — State" on one line, the line every channel leads with.
 * A drill says DRILL once, whatever marker the title already had. */
static void s_headline(const tc_update_t *u, tc_notify__buf_t *b)
{
    char st[32], title[TC_TITLE_MAX];
    s_state_title(u->state, st, sizeof st);
    tc_human_line(u->title, title, sizeof title);
    if (u->drill) {
        tc_notify__puts(b, "[DRILL] ");
        memmove(title, tc_human_undrill(title), strlen(tc_human_undrill(title)) + 1);
    }
    if (title[0]) {
        tc_notify__puts(b, title);
    } else if (u->incident) {
        /* Untitled (an announcement made before anyone wrote a title):
         * the status page's own name for it, and for staff its severity,
         * rather than a subject that says nothing. */
        char name[64];
        if (!u->external && u->severity)
            snprintf(name, sizeof name, "SEV-%" PRIu32 " incident %" PRIu64, u->severity,
                     u->incident);
        else
            snprintf(name, sizeof name, "Incident %" PRIu64, u->incident);
        tc_notify__puts(b, name);
    } else {
        tc_notify__puts(b, "Status update");
    }
    tc_notify__puts(b, " \xe2\x80\x94 "); /* em dash */
    tc_notify__puts(b, st);
}

/* "Website: major outage, Public API: degraded performance". */
static void s_components(tc_notify__buf_t *b, const tc_update_t *u, const tc_notify_context_t *ctx,
                         void (*put)(tc_notify__buf_t *, const char *))
{
    for (size_t i = 0; i < u->ncomponents && i < TC_COMPONENTS_MAX; i++) {
        char name[TC_TITLE_MAX];
        tc_human_line(tc_notify_component_name(ctx, u->components[i].name), name, sizeof name);
        if (i)
            tc_notify__puts(b, ", ");
        put(b, name);
        /* A report comes after the incident: what it affected, not how
         * the components are now. */
        if (tc_update_is_report(u))
            continue;
        tc_notify__puts(b, ": ");
        tc_notify__puts(b, tc_human_status(u->components[i].status));
    }
}

/* ---- Slack ------------------------------------------------------------------ */

/* Slack's mrkdwn treats &, < and > as control characters: with them
 * escaped, no text can open a link, a mention (<!channel>, <@U123>) or a
 * date token. Used for every field, the top-level text included. */
void tc_notify__slack_escape(tc_notify__buf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            tc_notify__puts(b, "&amp;");
        else if (*s == '<')
            tc_notify__puts(b, "&lt;");
        else if (*s == '>')
            tc_notify__puts(b, "&gt;");
        else
            tc_notify__put(b, s, 1);
    }
}

/* A link Slack shows as "Status page": the URL was checked when the
 * configuration was read (no space, quote, bracket or '|'). */
static void s_slack_link(tc_notify__buf_t *b, const char *url)
{
    tc_notify__puts(b, "<");
    tc_notify__slack_escape(b, url);
    tc_notify__puts(b, "|Status page>");
}

void tc_notify__block_text(tc_json_t *j, const char *type, const char *text_type, const char *text)
{
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, type);
    tc_json_key(j, "text");
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, text_type);
    tc_json_key(j, "text");
    tc_json_string(j, text);
    tc_json_object_end(j);
    tc_json_object_end(j);
}

/* The body as section blocks of at most S_SLACK_SECTION_MAX characters
 * each (Slack refuses a longer one, and the delivery would fail for ever):
 * cut after the last line break or space in each piece where there is one,
 * never inside a character or an escape. */
static int s_block_sections(tc_json_t *j, const char *text)
{
    size_t len = strlen(text), at = 0;
    do {
        size_t end = at, chars = 0, brk = 0;
        while (end < len && chars < S_SLACK_SECTION_MAX) {
            do
                end++;
            while (end < len && ((unsigned char)text[end] & 0xC0) == 0x80);
            chars++;
            if (text[end - 1] == '\n' || text[end - 1] == ' ')
                brk = end;
        }
        if (end < len && brk > at)
            end = brk;
        /* Every '&' of the escaped text starts an escape: one whose ';' is
         * not in this piece starts the next one. */
        for (size_t k = end; k > at && end - k < 6; k--)
            if (text[k - 1] == ';')
                break;
            else if (text[k - 1] == '&' && k - 1 > at) {
                end = k - 1;
                break;
            }
        char *piece = strndup(text + at, end - at);
        if (!piece)
            return TC_ENOMEM;
        tc_notify__block_text(j, "section", "mrkdwn", piece);
        free(piece);
        at = end;
    } while (at < len);
    return 0;
}

int tc_notify_slack_json(tc_json_t *j, const tc_update_t *u, const tc_notify_context_t *ctx)
{
    tc_notify__buf_t raw = {0}, head = {0}, text = {0}, body = {0}, info = {0};
    char header[S_SLACK_HEADER_MAX * 4 + 1], t[TC_HUMAN_MAX], link[S_LINK_MAX];
    tc_notify_link(ctx, u, link, sizeof link);
    s_headline(u, &raw);
    tc_notify__slack_escape(&head, raw.data ? raw.data : "");
    /* Characters, not bytes, count for Slack; a byte cut is stricter and
     * tc_strlcpy_utf8 keeps it on a character boundary. An escape cut in
     * half would show as text, so cut before it. */
    tc_strlcpy_utf8(header, head.data ? head.data : "", S_SLACK_HEADER_MAX + 1);
    char *amp = strrchr(header, '&');
    if (amp && !strchr(amp, ';'))
        *amp = '\0';

    /* The notification: what happened, to what, where to read more. */
    tc_notify__puts(&text, head.data ? head.data : "");
    if (u->ncomponents) {
        tc_notify__puts(&text, ": ");
        s_components(&text, u, ctx, tc_notify__slack_escape);
    }
    if (link[0]) {
        tc_notify__puts(&text, " ");
        s_slack_link(&text, link);
    }

    tc_notify__slack_escape(&body, u->body[0] ? u->body : "(no details)");
    if (u->ncomponents) {
        tc_notify__puts(&info, "*Affected:* ");
        s_components(&info, u, ctx, tc_notify__slack_escape);
        tc_notify__puts(&info, "  |  ");
    }
    if (s_eta_line(u)) {
        if (u->eta_ms > 0)
            tc_notify__printf(&info, "*Expected back by:* %s  |  ",
                              tc_human_time(u->eta_ms, t, sizeof t));
        else
            tc_notify__puts(&info, "*Expected back:* no estimate yet  |  ");
    }
    if (s_next_line(u))
        tc_notify__printf(&info, "*Next update:* %s  |  ",
                          tc_human_time(u->next_update_ms, t, sizeof t));
    if (link[0]) {
        s_slack_link(&info, link);
        tc_notify__puts(&info, "  |  ");
    }
    if (u->incident)
        tc_notify__printf(&info, "incident #%" PRIu64 ", update %" PRIu32, u->incident, u->number);
    else
        tc_notify__printf(&info, "maintenance #%" PRIu64 ", update %" PRIu32, u->maintenance,
                          u->number);

    tc_json_reset(j);
    tc_json_object_begin(j);
    tc_json_key(j, "text");
    tc_json_string(j, text.data ? text.data : "");
    tc_json_key(j, "blocks");
    tc_json_array_begin(j);
    tc_notify__block_text(j, "header", "plain_text", header);
    int sections = s_block_sections(j, body.data ? body.data : "");
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "context");
    tc_json_key(j, "elements");
    tc_json_array_begin(j);
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "mrkdwn");
    tc_json_key(j, "text");
    tc_json_string(j, info.data ? info.data : "");
    tc_json_object_end(j);
    tc_json_array_end(j);
    tc_json_object_end(j);
    tc_json_array_end(j);
    tc_json_object_end(j);

    bool failed =
        raw.failed || head.failed || text.failed || body.failed || info.failed || sections != 0;
    free(raw.data);
    free(head.data);
    free(text.data);
    free(body.data);
    free(info.data);
    return failed ? TC_ENOMEM : tc_json_error(j);
}

/* ---- e-mail ------------------------------------------------------------------ */

static bool s_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
            return false;
    return true;
}

static void s_base64(tc_notify__buf_t *b, const unsigned char *p, size_t n)
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
        tc_notify__put(b, out, 4);
    }
}

/* A header value as RFC 2047 encoded-words of at most 45 bytes of text
 * each (60 base64 characters, within the 75-character limit), cut at
 * UTF-8 character boundaries and folded onto continuation lines. `s` is
 * one line already (s_headline); control characters never reach a header
 * as they are. */
void tc_notify__header_encoded(tc_notify__buf_t *b, const char *s)
{
    if (s_ascii(s)) {
        tc_notify__puts(b, s);
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
            tc_notify__puts(b, "\r\n ");
        tc_notify__puts(b, "=?UTF-8?B?");
        s_base64(b, (const unsigned char *)s + at, n);
        tc_notify__puts(b, "?=");
        at += n;
        first = false;
    }
}

/* Appends text with CRLF line ends, wrapping lines longer than SMTP
 * allows and dropping other control characters. */
void tc_notify__mail_text(tc_notify__buf_t *b, const char *s)
{
    size_t col = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\r')
            continue;
        if (ch == '\n') {
            tc_notify__puts(b, "\r\n");
            col = 0;
            continue;
        }
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            continue;
        if (col >= S_MAIL_LINE_MAX && (ch & 0xc0) != 0x80) {
            tc_notify__puts(b, "\r\n");
            col = 0;
        }
        tc_notify__put(b, s, 1);
        col++;
    }
}

static void s_mail_puts(tc_notify__buf_t *b, const char *s)
{
    tc_notify__puts(b, s);
}

void tc_notify__mail_date(int64_t now_ms, char *date, size_t cap)
{
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* Spelled out rather than strftime("%a %b") so the locale cannot
     * change an RFC 5322 date. */
    snprintf(date, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *tc_notify_email(const tc_update_t *u, const tc_notify_sub_t *sub, const char *from,
                      const char *key, int64_t now_ms, const tc_notify_context_t *ctx, size_t *len)
{
    tc_notify__buf_t b = {0}, subject = {0};
    char date[64], t[TC_HUMAN_MAX], link[S_LINK_MAX];
    tc_notify__mail_date(now_ms, date, sizeof date);
    const char *domain = strchr(from, '@');
    domain = domain ? domain + 1 : "tocsin.invalid";
    tc_notify_link(ctx, u, link, sizeof link);

    tc_notify__printf(&b, "Date: %s\r\n", date);
    tc_notify__printf(&b, "From: %s\r\n", from);
    tc_notify__puts(&b, "To: ");
    for (size_t i = 0; i < sub->nto; i++) {
        if (i)
            tc_notify__puts(&b, ",\r\n ");
        tc_notify__puts(&b, sub->to[i]);
    }
    tc_notify__puts(&b, "\r\n");
    s_headline(u, &subject);
    tc_notify__puts(&b, "Subject: ");
    tc_notify__header_encoded(&b, subject.data ? subject.data : "");
    tc_notify__puts(&b, "\r\n");
    tc_notify__printf(&b, "Message-ID: <%s@%s>\r\n", key, domain);
    tc_notify__puts(&b, "MIME-Version: 1.0\r\n");
    tc_notify__puts(&b, "Content-Type: text/plain; charset=utf-8\r\n");
    tc_notify__puts(&b, "Content-Transfer-Encoding: 8bit\r\n");
    tc_notify__printf(&b, "X-Tocsin-Idempotency-Key: %s\r\n", key);
    tc_notify__puts(&b, "Auto-Submitted: auto-generated\r\n");
    tc_notify__puts(&b, "\r\n");

    char st[32];
    s_state_title(u->state, st, sizeof st);
    if (u->drill)
        tc_notify__puts(&b, "This is a DRILL. No action is needed.\r\n\r\n");
    if (tc_update_is_report(u))
        tc_notify__puts(&b, "Post-incident report of a resolved incident\r\n");
    else
        tc_notify__printf(&b, "Status: %s\r\n", st);
    if (u->ncomponents) {
        tc_notify__puts(&b, "Affected: ");
        s_components(&b, u, ctx, s_mail_puts);
        tc_notify__puts(&b, "\r\n");
    }
    if (s_eta_line(u)) {
        if (u->eta_ms > 0)
            tc_notify__printf(&b, "Expected back by: %s\r\n",
                              tc_human_time(u->eta_ms, t, sizeof t));
        else
            tc_notify__puts(&b, "Expected back: no estimate yet\r\n");
    }
    if (s_next_line(u))
        tc_notify__printf(&b, "Next update: %s\r\n", tc_human_time(u->next_update_ms, t, sizeof t));
    tc_notify__puts(&b, "\r\n");
    tc_notify__mail_text(&b, u->body);
    tc_notify__puts(&b, "\r\n");
    if (link[0])
        tc_notify__printf(&b, "\r\nStatus page: %s\r\n", link);

    free(subject.data);
    if (b.failed || subject.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
