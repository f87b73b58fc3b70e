/*
 * human.h - what people read: times, durations and component statuses in
 * words, and one-line titles.
 *
 * Customers read the status page, e-mails and chat messages during an
 * outage, often on a phone, from any time zone. So every time written for
 * them is UTC with the date spelled out ("Tue 2 Dec 2026, 22:37 UTC"),
 * never a bare RFC 3339 stamp, and where it helps a relative phrase ("in 20
 * minutes", "20 minutes ago"). The words are fixed English, spelled here
 * rather than through strftime() so that no locale can change them.
 *
 * The status page's browser script (statuspage/sp_assets.c) computes the
 * same relative phrases with the same rules, so a page keeps reading right
 * while it sits open in a browser.
 *
 * Every function is pure and thread-safe.
 */
#ifndef TC_HUMAN_H
#define TC_HUMAN_H

#include "msg.h"

#include <stddef.h>
#include <stdint.h>

/* Room for any text below, with its NUL. */
#define TC_HUMAN_MAX 48

/* Writes `ms` as "Tue 2 Dec 2026, 22:37 UTC" into `dst` (`cap` at least
 * TC_HUMAN_MAX). Returns dst. */
char *tc_human_time(int64_t ms, char *dst, size_t cap);

/* Like tc_human_time(), but only "22:37 UTC" when `ms` falls on the same
 * UTC day as `ref_ms` (the time the text is written): the short form the
 * reader needs for "Expected back by 15:30 UTC". Returns dst. */
char *tc_human_time_near(int64_t ms, int64_t ref_ms, char *dst, size_t cap);

/* A window from `start_ms` to `end_ms`: "Tue 2 Dec 2026, 22:00 to 23:00
 * UTC", or with both dates when it ends on another day ("Tue 2 Dec 2026,
 * 23:00 UTC to Wed 3 Dec 2026, 01:00 UTC"). For maintenance templates'
 * {{window}}. `cap` at least 2 * TC_HUMAN_MAX. Returns dst. */
char *tc_human_window(int64_t start_ms, int64_t end_ms, char *dst, size_t cap);

/* Writes how far `ms` is from `now_ms` in words: "just now" and "in less
 * than a minute" within a minute; then minutes ("in 1 minute", "40 minutes
 * ago") up to 90 minutes, hours up to 48 hours, then days, each rounded to
 * the nearest unit. `cap` at least TC_HUMAN_MAX. Returns dst. */
char *tc_human_relative(int64_t ms, int64_t now_ms, char *dst, size_t cap);

/* A status in words for a sentence: "operational", "degraded performance",
 * "partial outage", "major outage", "under maintenance". Static text. */
const char *tc_human_status(tc_component_status_t s);

/* The same, capitalised for a label: "Major outage". Static text. */
const char *tc_human_status_label(tc_component_status_t s);

/* Copies `src` into `dst` (size `cap` > 0) as one line: every control
 * character (CR, LF, tab, C1) becomes a space, runs of spaces become one,
 * leading and trailing spaces go, and the result is cut at a UTF-8
 * character boundary; bytes that are not UTF-8 become '?' (see
 * tc_strlcpy_utf8). For titles and other single-line fields, where a line
 * break could start a new e-mail header or a chat command. Returns dst. */
char *tc_human_line(const char *src, char *dst, size_t cap);

/* `title` without a leading drill marker the coordinator may have put there
 * ("DRILL: ", "[DRILL] ", "DRILL - ", any case), so that a channel that
 * labels drills itself says DRILL once. Borrowed from `title`. */
const char *tc_human_undrill(const char *title);

#endif
