/*
 * payload_impl.h - the text helpers the notifier's payloads share
 * (payload.c: status updates; pages.c: pages). Private to notify/.
 */
#ifndef TC_NOTIFY_PAYLOAD_IMPL_H
#define TC_NOTIFY_PAYLOAD_IMPL_H

#include "json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable text buffer with sticky allocation failure; zero it to
 * start, free(data) when done. */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} tc_notify__buf_t;

void tc_notify__put(tc_notify__buf_t *b, const char *s, size_t n);
void tc_notify__puts(tc_notify__buf_t *b, const char *s);
void tc_notify__printf(tc_notify__buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Slack's control characters (&, <, >) escaped, so no text can open a
 * link or a mention. */
void tc_notify__slack_escape(tc_notify__buf_t *b, const char *s);

/* A one-line header value, RFC 2047-encoded when it is not ASCII. */
void tc_notify__header_encoded(tc_notify__buf_t *b, const char *s);

/* Text with CRLF line ends, long lines wrapped, controls dropped. */
void tc_notify__mail_text(tc_notify__buf_t *b, const char *s);

/* An RFC 5322 date for `now_ms`, independent of the locale. */
void tc_notify__mail_date(int64_t now_ms, char *date, size_t cap);

/* A Slack block {"type": type, "text": {"type": text_type, "text": text}}. */
void tc_notify__block_text(tc_json_t *j, const char *type, const char *text_type, const char *text);

#endif
