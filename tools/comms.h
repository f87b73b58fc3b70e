/*
 * comms.h - tocsinctl's communication-plan commands: status updates,
 * components, maintenance windows, drills and notifier subscriptions.
 *
 * Turning words into an API request and a reply into text or JSON are pure
 * functions; only the drill report talks to the coordinator again (it
 * waits for notifiers to report their deliveries), through a client the
 * caller owns.
 *
 *   update ID draft [--external|--internal] [--scenario S] [--state ST]
 *                   [--title T] [--components A,B] [--next DUR]
 *                   [--eta WHEN|DURATION|unknown] [-m TEXT]
 *   update ID approve|publish|withdraw N
 *   updates ID
 *   component [NAME STATUS|auto]
 *   maintenance [add TITLE --start WHEN --end WHEN --components A,B
 *                [--every DUR] [--verify DUR] [-m TEXT] | start|complete|cancel ID]
 *   drill [--service S] [--severity N] [--wait DUR] [-m TEXT]
 *   subscribers
 */
#ifndef TC_COMMS_H
#define TC_COMMS_H

#include "client.h"
#include "json.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* True if `cmd` is one of the commands above. */
bool tc_comms_command(const char *cmd);

/* The options of these commands, as tocsinctl's one getopt_long() pass
 * found them (tools/commands.h); NULL for an option not given. All
 * borrowed from argv. */
typedef struct {
    const char *scenario, *state, *title, *components, *next; /* update draft */
    const char *eta;         /* update draft: RFC 3339, DURATION from now, or "unknown" */
    bool external, internal; /* update draft */
    const char *start, *end, *every, *verify; /* maintenance add */
    const char *service, *severity, *wait;    /* drill */
} tc_comms_opts_t;

/* Builds the API request for `cmd` with its positional words `args`
 * (borrowed), its options `opts` and the -m text `message` (may be NULL)
 * into *req. *wait_ms receives the drill's --wait (0 otherwise). Returns 0,
 * or TC_EINVAL with a one-line usage reason in `why`: words or options that
 * do not fit the command's form. */
int tc_comms_request(const char *cmd, const char *const *args, size_t nargs,
                     const tc_comms_opts_t *opts, const char *message, tc_api_request_t *req,
                     int64_t *wait_ms, char *why, size_t cap);

/* Prints the reply to `cmd` to `out`: a table, or with `j` non-NULL one
 * JSON document built in `j`. Returns 0 or TC_EIO/TC_ENOMEM. */
int tc_comms_print(FILE *out, const char *cmd, const tc_api_reply_t *r, tc_json_t *j);

/* The drill's report: waits up to `wait_ms` for notifiers to report the
 * drill incident's deliveries (polling its timeline through `client`), then
 * prints what each channel delivered and how fast — pages included — as a
 * table or, with `j`, JSON. Returns 0, or the client's error. */
int tc_comms_drill_report(FILE *out, tc_client_t *client, const tc_incident_t *drill,
                          int64_t wait_ms, int64_t timeout_ms, tc_json_t *j);

#endif
