/*
 * checker.h - runs checks of every type inside a zloop without blocking it.
 *
 *   exec: a Nagios plugin, as a child process (this module);
 *   tcp, http: in the loop itself, by the prober (probe.h): a non-blocking
 *   connect, or libcurl's multi interface.
 *
 * A plugin runs as the leader of its own process group with stdin on
 * /dev/null; a command without shell syntax is executed directly, as
 * Nagios does, anything else by /bin/sh -c. stdout and stderr are two
 * pipes: stdout is the plugin's answer (its first TC_CHECKER_OUTPUT_MAX
 * bytes are kept and parsed), stderr is logged at debug level and never
 * becomes status text or perfdata. A plugin that writes more than
 * TC_CHECKER_READ_MAX bytes to either is stopped (UNKNOWN), so a runaway
 * plugin costs neither memory nor much CPU.
 *
 * Nothing a plugin starts outlives its check (see reaper.h): when the
 * plugin exits, or its timeout passes, its whole process group gets
 * SIGKILL, and processes that escaped the group (double fork, setsid) are
 * found among our children and killed too. A check that times out is
 * CRITICAL "check timed out after 2s". Exit codes 0..3 are OK, WARNING,
 * CRITICAL, UNKNOWN; any other code, a signal or a command that cannot be
 * executed is UNKNOWN with an explanation.
 *
 * The checker does no soft/hard logic; it only turns a run into a raw
 * result. Single-threaded: use it from the loop's thread only.
 */
#ifndef TC_AGENT_CHECKER_H
#define TC_AGENT_CHECKER_H

#include "config.h"
#include "msg.h"

#include <czmq.h>
#include <stdbool.h>

/* Bytes of a plugin's stdout that are kept and parsed. */
#define TC_CHECKER_OUTPUT_MAX 8192
/* Bytes read from a plugin's stdout or stderr before it is stopped. */
#define TC_CHECKER_READ_MAX (1024 * 1024)

typedef struct tc_checker_t tc_checker_t;

/* Called once per finished run with the raw result: state, output and perf
 * are set, the other fields are zero. `res` is borrowed for the call only.
 * The run no longer counts as running during the call, so the callback may
 * start the same check again; it must not destroy the checker. Never called
 * from inside tc_checker_start(). */
typedef void(tc_checker_done_fn)(void *tag, const tc_check_result_t *res, void *arg);

/* Creates a checker that registers its pipes, sockets and timers in `loop`
 * (borrowed; must outlive the checker) and makes this process a child
 * subreaper (see reaper.h; one checker per process). `done` is called with
 * `arg` for each finished run. Returns NULL if out of memory or if the
 * process cannot become a subreaper. Caller owns the result. */
tc_checker_t *tc_checker_new(zloop_t *loop, tc_checker_done_fn *done, void *arg);

/* Stops every run: kills each plugin's process group and every process
 * left behind, and reaps them, waiting at most about two seconds for
 * processes that do not die at once (one stuck in the kernel cannot hold
 * up shutdown); aborts the probes. No callbacks are made. Call it once the
 * loop has stopped for good: timers it registered stay in the loop until
 * zloop_destroy(). NULL-safe; nulls *pchecker. */
void tc_checker_destroy(tc_checker_t **pchecker);

/* Starts one run of `def` (borrowed; must stay valid until the run ends),
 * identified by `tag` in the callback. Returns 0; TC_EINVAL if a run with
 * this tag is still going (the caller decides whether to log); TC_ESYS if
 * a pipe, socket or process could not be created (errno is kept);
 * TC_ENOMEM. A command that cannot be executed is not an error here: its
 * run ends UNKNOWN, like one that exits 127. */
int tc_checker_start(tc_checker_t *c, const tc_check_def_t *def, void *tag);

/* True if a run with this tag has not finished yet. */
bool tc_checker_running(const tc_checker_t *c, const void *tag);

/* Number of runs in progress. */
size_t tc_checker_active(const tc_checker_t *c);

/* Processes left behind by plugins that were killed so far. */
size_t tc_checker_leftovers_killed(const tc_checker_t *c);

#endif
