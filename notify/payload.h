/*
 * payload.h - what tocsin-notify sends: the idempotency key of a delivery
 * and the bodies of the three kinds of subscription.
 *
 * Everything here is a pure function of the update, the subscription, the
 * context (the status page's address and the components' display names)
 * and, for e-mail, the clock value passed in, so a retry sends the same
 * payload with the same key and tests need no network.
 *
 * What people read says components by the names they know with their
 * status in words ("Website: major outage"), times as "Tue 2 Dec 2026,
 * 14:30 UTC", when service is expected back ("no estimate yet" until there
 * is one), when the next update comes only if one is promised and the text
 * does not already say it, DRILL once, and links the status page. Single-
 * line fields (titles in subjects and headers) never carry a line break,
 * and chat text never carries Slack's control sequences (&, <, >, and so no
 * <!channel> mention).
 */
#ifndef TC_NOTIFY_PAYLOAD_H
#define TC_NOTIFY_PAYLOAD_H

#include "json.h"
#include "msg.h"
#include "notify_config.h"

#include <stddef.h>
#include <stdint.h>

/* Long enough for "tocsin-m<20 digits>-u<10 digits>-<63-byte name>". */
#define TC_NOTIFY_KEY_MAX 128

/* What a payload needs besides the update. All borrowed. */
typedef struct {
    const char *page_url;             /* the status page, ending in '/'; "" or NULL: none */
    const tc_component_t *components; /* the coordinator's components, for their
                                         display names (description); may be NULL */
    size_t ncomponents;
    const char *ack; /* a page's acknowledgement link; "" or NULL: none */
} tc_notify_context_t;

/* Writes the idempotency key of update `u` for subscription `sub`:
 * "tocsin-i<incident>-u<number>-<sub>", or "tocsin-m<window>-u<number>-
 * <sub>" for a maintenance window's update. The same update and
 * subscription always give the same key, across retries and restarts;
 * receivers de-duplicate on it. Returns 0 or TC_ETOOBIG. */
int tc_notify_key(const tc_update_t *u, const char *sub, char *dst, size_t cap);

/* The name customers know for component `slug`: its description in `ctx`,
 * else the slug. Borrowed. */
const char *tc_notify_component_name(const tc_notify_context_t *ctx, const char *slug);

/* The link for update `u` into `dst`: the incident's page for an external
 * update of an incident, the page itself otherwise; "" without a page URL.
 * Returns dst. */
char *tc_notify_link(const tc_notify_context_t *ctx, const tc_update_t *u, char *dst, size_t cap);

/* Writes the generic webhook payload for `u` with idempotency key `key`
 * into `j` (reset first): {"id", "incident", "maintenance", "update",
 * "audience", "scenario", "state", "title", "body", "impact", "severity"
 * (null if unassessed), "components": [{"id" (the configuration name),
 * "name" (the display name), "status"}], "eta" and "next_update_at"
 * (RFC 3339 or null), "published_at", "url" (the status page link, or
 * null), "drill"}. Returns tc_json_error(j). */
int tc_notify_webhook_json(tc_json_t *j, const tc_update_t *u, const char *key,
                           const tc_notify_context_t *ctx);

/* Writes a Slack incoming-webhook payload for `u` into `j` (reset first):
 * "text" (the notification fallback: headline, affected components, link)
 * and "blocks": a header with title and state, a section with the body, a
 * context line with the components, the estimate, the next update, the
 * link and the update's number. Drills are labelled "[DRILL]" once.
 * Returns tc_json_error(j), or TC_ENOMEM. */
int tc_notify_slack_json(tc_json_t *j, const tc_update_t *u, const tc_notify_context_t *ctx);

/* Builds the RFC 5322 message for e-mail subscription `sub`: Date (from
 * `now_ms`), From `from`, To (every address of `sub`), Subject ("[DRILL] "
 * on drills, title, " — ", state; on one line, RFC 2047-encoded when not
 * ASCII), Message-ID derived from `key`, MIME-Version, Content-Type
 * text/plain; charset=utf-8; then a summary (status, affected components,
 * the estimate, the next update), the body, and the status page link, with
 * CRLF line ends. Returns a NUL-terminated buffer the caller owns (free())
 * and sets *len, or NULL on allocation failure. */
char *tc_notify_email(const tc_update_t *u, const tc_notify_sub_t *sub, const char *from,
                      const char *key, int64_t now_ms, const tc_notify_context_t *ctx, size_t *len);

#endif
