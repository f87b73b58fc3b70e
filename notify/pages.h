/*
 * pages.h - what tocsin-notify does with a page: the deliveries it makes
 * (one per contact method its urgency reaches), their idempotency keys,
 * the acknowledgement link, and the four payloads (e-mail, ntfy push,
 * Slack-compatible chat, generic webhook).
 *
 * Urgency decides the methods: high reaches every contact method at once
 * (the coordinator repeats the page until it is acknowledged), low only
 * the person's e-mail contacts, none nobody. A page says what (the
 * service, the incident's title or summary), how bad (the severity), since
 * when, who else is on it (the other roles), why the person is paged
 * (assigned, escalated, repeated, ...), the conference link when one is
 * configured, and the acknowledgement link when the notifier has one to
 * give (notify.ack_url).
 *
 * Everything here is a pure function of its arguments (the clock is
 * passed in), so retries send the same payload with the same key, and the
 * tests need no network.
 */
#ifndef TC_NOTIFY_PAGES_H
#define TC_NOTIFY_PAGES_H

#include "json.h"
#include "msg.h"
#include "queue.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

/* The deliveries page broadcast `m` (a PAGE or a REMINDER with a page)
 * makes for `person` (its contact methods; NULL when the notifier knows
 * none), enqueued at `now_ms`, with the incident's conference link (its
 * bridge, set when it was declared): written into `out` (room for
 * TC_CONTACTS_MAX), their number returned. Zero for an urgency of none,
 * or when no contact method matches (`why` then says why, for the
 * report; it may be NULL). */
size_t tc_notify_page_deliveries(const tc_msg_t *m, const tc_person_t *person, int64_t now_ms,
                                 tc_delivery_t *out, char *why, size_t whylen);

/* The acknowledgement link of page delivery `d` into `out`: `base` (the
 * gateway's address, ending in '/') + "ack/" + a token signed with `key`,
 * valid for `ttl_ms` after the page. "" (and false) for pages nothing can
 * acknowledge (a post-mortem or update reminder) or without a base. */
bool tc_notify_page_ack_url(const uint8_t *key, const char *base, int64_t ttl_ms,
                            const tc_delivery_t *d, char *out, size_t cap);

/* The method of a page delivery as the coordinator's reports name it
 * ("email", "ntfy", ...). */
const char *tc_notify_page_method(const tc_delivery_t *d);

/* The payloads, with `ack` the acknowledgement link ("" for none). */

/* The generic webhook's JSON: {"id" (the key), "type": "page", "kind",
 * "urgency", "person", "name", "role", "number", "level", "paged_at",
 * "incident": {"id", "service", "title", "summary", "severity" (null if
 * unassessed), "state", "opened_at", "drill"}, "others": [{"role",
 * "person"}], "ack_url", "conference_url" (null when none), "text"}.
 * Returns tc_json_error(j). */
int tc_notify_page_webhook_json(tc_json_t *j, const tc_delivery_t *d, const char *ack);

/* A Slack-compatible message: "text" (the notification: who, what, how
 * bad) and "blocks" (a section with the page, a context line, and buttons
 * linking the acknowledgement and the conference). Returns tc_json_error(j). */
int tc_notify_page_slack_json(tc_json_t *j, const tc_delivery_t *d, const char *ack);

/* An ntfy publish: the message body (plain text, the caller's: free())
 * and the headers (Title, Priority 5 for high urgency and 3 for low, Tags,
 * Actions with the acknowledgement and conference links, Click), each
 * "Name: value" on one line, ASCII (the title RFC 2047-encoded when it is
 * not), at most 6. Returns 0 or TC_ENOMEM. */
typedef struct {
    char lines[6][1200];
    size_t n;
} tc_notify_headers_t;
int tc_notify_page_ntfy(const tc_delivery_t *d, const char *ack, char **body, size_t *len,
                        tc_notify_headers_t *headers);

/* The RFC 5322 message to d's e-mail contact, From `from`, dated `now_ms`,
 * Message-ID from the key; high urgency adds "Importance: high". Returns a
 * NUL-terminated buffer the caller owns (free()), or NULL. */
char *tc_notify_page_email(const tc_delivery_t *d, const char *from, int64_t now_ms,
                           const char *ack, size_t *len);

#endif
