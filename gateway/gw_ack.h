/*
 * gw_ack.h - the pages a person sees after opening a page's
 * acknowledgement link: a confirmation (GET: what the page is about and
 * one button; nothing is acknowledged yet, so link previews in chat and
 * mail scanners acknowledge nothing), the result of the POST, and what
 * went wrong.
 *
 * Self-contained HTML (inline style, no script, nothing fetched), every
 * value escaped. Pure functions: the caller owns the returned text
 * (free()); NULL when out of memory.
 */
#ifndef TC_GW_ACK_H
#define TC_GW_ACK_H

#include "acklink.h"
#include "msg.h"

#include <stddef.h>
#include <stdint.h>

/* The Content-Security-Policy every one of these pages is sent with:
 * nothing runs, nothing loads, the form posts only to this gateway. */
#define TC_GW_ACK_CSP                                                                              \
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

/* "Acknowledge this page?": the incident (`inc`, may be NULL) and the page
 * (`link`), at `now_ms`, with a form that POSTs to the same address. */
char *tc_gw_ack_confirm(const tc_incident_t *inc, const tc_acklink_t *link, int64_t now_ms,
                        size_t *len);

/* "Acknowledged": the page is the person's now. */
char *tc_gw_ack_done(const tc_incident_t *inc, const tc_acklink_t *link, int64_t now_ms,
                     size_t *len);

/* Why the link did nothing (`reason`, one line), with the incident when it
 * is known. */
char *tc_gw_ack_error(const char *title, const char *reason, const tc_incident_t *inc,
                      int64_t now_ms, size_t *len);

#endif
