/*
 * payload.h - what tocsin-notify sends: the idempotency key of a delivery
 * and the bodies of the three kinds of subscription.
 *
 * Everything here is a pure function of the update, the subscription and
 * (for e-mail) the clock value passed in, so a retry sends the same
 * payload with the same key and tests need no network.
 */
#ifndef TC_NOTIFY_PAYLOAD_H
#define TC_NOTIFY_PAYLOAD_H

#include "notify_config.h"
#include "json.h"
#include "msg.h"

#include <stddef.h>
#include <stdint.h>

/* Long enough for "tocsin-m<20 digits>-u<10 digits>-<63-byte name>". */
#define TC_NOTIFY_KEY_MAX 128

/* Writes the idempotency key of update `u` for subscription `sub`:
 * "tocsin-i<incident>-u<number>-<sub>", or "tocsin-m<window>-u<number>-
 * <sub>" for a maintenance window's update. The same update and
 * subscription always give the same key, across retries and restarts;
 * receivers de-duplicate on it. Returns 0 or TC_ETOOBIG. */
int tc_notify_key(const tc_update_t *u, const char *sub, char *dst, size_t cap);

/* Writes the generic webhook payload for `u` with idempotency key `key`
 * into `j` (reset first): {"id", "incident", "maintenance", "update",
 * "audience", "scenario", "state", "title", "body", "impact", "severity"
 * (null if unassessed), "components": [{"name", "status"}],
 * "next_update_at" (RFC 3339 or null), "published_at", "drill"}. Returns
 * tc_json_error(j). */
int tc_notify_webhook_json(tc_json_t *j, const tc_update_t *u, const char *key);

/* Writes a Slack incoming-webhook payload for `u` into `j` (reset first):
 * "text" (the notification fallback) and "blocks": a header with title and
 * state, a section with the body, a context line with the components and
 * the next update. Drill updates are prefixed "[DRILL]". Returns
 * tc_json_error(j). */
int tc_notify_slack_json(tc_json_t *j, const tc_update_t *u);

/* Builds the RFC 5322 message for e-mail subscription `sub`: Date (from
 * `now_ms`), From `from`, To (every address of `sub`), Subject ("[DRILL] "
 * on drills, title, " — ", state; RFC 2047-encoded when not ASCII),
 * Message-ID derived from `key`, MIME-Version, Content-Type text/plain;
 * charset=utf-8, then the body and the next update line, with CRLF line
 * ends. Returns a NUL-terminated buffer the caller owns (free()) and sets
 * *len, or NULL on allocation failure. */
char *tc_notify_email(const tc_update_t *u, const tc_notify_sub_t *sub, const char *from,
                      const char *key, int64_t now_ms, size_t *len);

#endif
