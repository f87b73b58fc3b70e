/*
 * gw_ack.c - the acknowledgement link's pages; see gw_ack.h.
 */
#include "gw_ack.h"

#include "human.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        size_t cap = b->cap ? b->cap : 4096;
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
    b->data[b->len] = 0;
}

static void s_puts(s_buf_t *b, const char *s)
{
    s_put(b, s, strlen(s));
}

/* Text into HTML: the five characters that mean something there. */
static void s_text(s_buf_t *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': s_puts(b, "&amp;"); break;
        case '<': s_puts(b, "&lt;"); break;
        case '>': s_puts(b, "&gt;"); break;
        case '"': s_puts(b, "&quot;"); break;
        case '\'': s_puts(b, "&#39;"); break;
        default: s_put(b, s, 1);
        }
    }
}

__attribute__((format(printf, 2, 3))) static void s_textf(s_buf_t *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    s_text(b, tmp);
}

static void s_head(s_buf_t *b, const char *title)
{
    s_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<meta name=\"robots\" content=\"noindex\"><title>");
    s_text(b, title);
    s_puts(b, " - tocsin</title><style>"
              "body{font-family:system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em;"
              "color:#1a1a1a;line-height:1.45}"
              "h1{font-size:1.4em}dt{font-weight:600;margin-top:.5em}dd{margin:0}"
              "button{font-size:1.1em;padding:.6em 1.4em;border:0;border-radius:.3em;"
              "background:#b3261e;color:#fff;cursor:pointer}"
              ".ok{color:#1b5e20}.no{color:#8a1c12}.small{color:#555;font-size:.9em}"
              "</style></head><body>\n");
}

static void s_incident(s_buf_t *b, const tc_incident_t *inc, const tc_acklink_t *link,
                       int64_t now_ms)
{
    char t[TC_HUMAN_MAX], rel[TC_HUMAN_MAX];
    s_puts(b, "<dl>");
    if (inc) {
        s_puts(b, "<dt>Incident</dt><dd>");
        s_textf(b, "%s%" PRIu64 " (%s)%s%s", inc->drill ? "DRILL " : "", inc->id, inc->service,
                inc->title[0] || inc->summary[0] ? ": " : "",
                inc->title[0] ? inc->title : inc->summary);
        s_puts(b, "</dd><dt>Severity</dt><dd>");
        if (inc->severity)
            s_textf(b, "SEV-%u%s", inc->severity, inc->severity <= 2 ? " (major)" : "");
        else
            s_puts(b, "not assessed yet");
        s_puts(b, "</dd><dt>State</dt><dd>");
        s_text(b, tc_incident_state_name(inc->state));
        s_puts(b, "</dd><dt>Since</dt><dd>");
        s_textf(b, "%s (%s)", tc_human_time(inc->opened_ms, t, sizeof t),
                tc_human_relative(inc->opened_ms, now_ms, rel, sizeof rel));
        s_puts(b, "</dd>");
        bool others = false;
        for (size_t i = 0; i < inc->nroles; i++) {
            const tc_role_t *r = &inc->roles[i];
            if (link && !strcmp(r->role, link->role))
                continue;
            s_puts(b, others ? ", " : "<dt>Others on it</dt><dd>");
            s_textf(b, "%s: %s%s", r->role, r->person, r->acked_ms ? "" : " (paged)");
            others = true;
        }
        if (others)
            s_puts(b, "</dd>");
    }
    if (link) {
        s_puts(b, "<dt>Page</dt><dd>");
        s_textf(b, "%s as %s, paged %s", link->person, link->role,
                tc_human_relative(link->paged_ms, now_ms, rel, sizeof rel));
        s_puts(b, "</dd>");
    }
    s_puts(b, "</dl>\n");
}

static char *s_done(s_buf_t *b, size_t *len)
{
    s_puts(b, "</body></html>\n");
    if (b->failed) {
        free(b->data);
        return NULL;
    }
    *len = b->len;
    return b->data;
}

char *tc_gw_ack_confirm(const tc_incident_t *inc, const tc_acklink_t *link, int64_t now_ms,
                        size_t *len)
{
    s_buf_t b = {0};
    s_head(&b, "Acknowledge this page?");
    s_puts(&b, "<h1>Acknowledge this page?</h1>\n<p>");
    s_textf(&b, "You are paged as %s for incident %" PRIu64 ".", link->role, link->incident);
    s_puts(&b, " Acknowledging says you are on it: the page stops repeating and does not "
               "escalate to the next person.</p>\n");
    s_incident(&b, inc, link, now_ms);
    /* An empty action posts back to this very address; nothing happens
     * until a person presses the button. */
    s_puts(&b, "<form method=\"post\" action=\"\"><button type=\"submit\">");
    s_textf(&b, "I am on it: acknowledge as %s", link->person);
    s_puts(&b, "</button></form>\n<p class=\"small\">Opening this link acknowledged nothing. "
               "The link works once and only for this page.</p>\n");
    return s_done(&b, len);
}

char *tc_gw_ack_done(const tc_incident_t *inc, const tc_acklink_t *link, int64_t now_ms,
                     size_t *len)
{
    s_buf_t b = {0};
    s_head(&b, "Acknowledged");
    s_puts(&b, "<h1 class=\"ok\">Acknowledged</h1>\n<p>");
    s_textf(&b,
            "%s, the %s page of incident %" PRIu64 " is yours: it stops repeating and will "
            "not escalate.",
            link->person, link->role, link->incident);
    s_puts(&b, " The incident's timeline says you acknowledged it through the link.</p>\n");
    s_incident(&b, inc, link, now_ms);
    return s_done(&b, len);
}

char *tc_gw_ack_error(const char *title, const char *reason, const tc_incident_t *inc,
                      int64_t now_ms, size_t *len)
{
    s_buf_t b = {0};
    s_head(&b, title);
    s_puts(&b, "<h1 class=\"no\">");
    s_text(&b, title);
    s_puts(&b, "</h1>\n<p>");
    s_text(&b, reason);
    s_puts(&b, "</p>\n");
    if (inc)
        s_incident(&b, inc, NULL, now_ms);
    s_puts(&b, "<p class=\"small\">Nothing was acknowledged. You can still acknowledge with "
               "<code>tocsinctl ack</code>.</p>\n");
    return s_done(&b, len);
}
