/*
 * ctl_show.h - how tocsinctl prints the coordinator's replies.
 *
 * Each function prints reply `r` (borrowed) to stdout: as text, or, when
 * `j` is not NULL, as one JSON document built in `j` (an empty writer the
 * caller owns) followed by a newline. They print nothing on stderr: the
 * caller words every error, as text or as JSON. Returns 0, TC_ENOTFOUND (the
 * reply holds no incident), TC_EDECODE (it holds no status), TC_EIO
 * (stdout failed) or TC_ENOMEM.
 */
#ifndef TC_CTL_SHOW_H
#define TC_CTL_SHOW_H

#include "json.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

int tc_ctl_show_status(const tc_api_reply_t *r, tc_json_t *j);

/* `all`: the list includes resolved incidents (for the text's heading). */
int tc_ctl_show_incidents(const tc_api_reply_t *r, bool all, tc_json_t *j);

/* The reply's first incident in full (show and the incident actions). */
int tc_ctl_show_incident(const tc_api_reply_t *r, tc_json_t *j);

/* Log and audit records; *next_from is set to where the next page starts
 * when the coordinator has more, else 0. */
int tc_ctl_show_log(const tc_api_reply_t *r, tc_json_t *j, uint64_t *next_from);
int tc_ctl_show_audit(const tc_api_reply_t *r, tc_json_t *j, uint64_t *next_from);

/* The first incident's post-mortem action items. */
int tc_ctl_show_items(const tc_api_reply_t *r, tc_json_t *j);

int tc_ctl_show_oncall(const tc_api_reply_t *r, tc_json_t *j);

/* The response metrics of the reply's incidents. */
int tc_ctl_show_report(const tc_api_reply_t *r, tc_json_t *j);

/* The first incident and its timeline. */
int tc_ctl_show_timeline(const tc_api_reply_t *r, tc_json_t *j);

/* The Markdown post-mortem draft of the first incident; in JSON
 * {"incident": ID, "markdown": TEXT}. */
int tc_ctl_show_postmortem(const tc_api_reply_t *r, tc_json_t *j);

#endif
