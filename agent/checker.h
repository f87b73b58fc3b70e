/*
 * checker.h - runs checks as child processes inside a zloop.
 *
 * Every check run, whatever its type, is a child process so that nothing a
 * check does (a hung NFS mount, a slow DNS server, a plugin that never
 * exits) can block the agent's event loop:
 *   exec: /bin/sh -c COMMAND
 *   tcp:  SELF --probe tcp HOST:PORT --probe-timeout-ms N
 *   http: SELF --probe http URL --probe-timeout-ms N
 * The child leads its own process group, stdin is /dev/null, stdout and
 * stderr go to one non-blocking pipe that the loop reads (at most
 * TC_CHECKER_OUTPUT_MAX bytes are kept, the rest is drained and dropped).
 * When `timeout` passes the whole group gets SIGKILL and the result is
 * CRITICAL "check timed out after 2s". Exit codes 0..3 are OK, WARNING,
 * CRITICAL, UNKNOWN; any other code, a signal or a failed exec is UNKNOWN
 * with an explanation. Children are reaped with WNOHANG on a short timer,
 * never with a blocking wait.
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

#define TC_CHECKER_OUTPUT_MAX 8192

typedef struct tc_checker_t tc_checker_t;

/* Called once per finished run with the raw result: state, output and perf
 * are set, the other fields are zero. `res` is borrowed for the call only.
 * The run no longer counts as running during the call, so the callback may
 * start the same check again; it must not destroy the checker. */
typedef void(tc_checker_done_fn)(void *tag, const tc_check_result_t *res, void *arg);

/* Creates a checker that registers its pipes and timers in `loop`
 * (borrowed; must outlive the checker) and runs probes by executing
 * `self_exe` (copied; normally "/proc/self/exe", whose main() must hand
 * "--probe" argv to tc_probe_main()). `done` is called with `arg` for each
 * finished run. Returns NULL if out of memory. Caller owns the result. */
tc_checker_t *tc_checker_new(zloop_t *loop, const char *self_exe, tc_checker_done_fn *done,
                             void *arg);

/* Kills every running child's process group with SIGKILL, closes the pipes
 * and reaps the children, waiting at most about a second in total for
 * processes that do not die at once (a process stuck in the kernel cannot
 * hold up shutdown; it is left to init). No callbacks are made. Call it once
 * the loop has stopped for good: timers it registered stay in the loop until
 * zloop_destroy(). NULL-safe; nulls *pchecker. */
void tc_checker_destroy(tc_checker_t **pchecker);

/* Starts one run of `def` (borrowed; must stay valid until the run ends),
 * identified by `tag` in the callback. Returns 0; TC_EINVAL if a run with
 * this tag is still going (the caller decides whether to log); TC_ESYS if
 * the pipe or the process could not be created (errno is kept), TC_ENOMEM. */
int tc_checker_start(tc_checker_t *c, const tc_check_def_t *def, void *tag);

/* True if a run with this tag has not finished yet. */
bool tc_checker_running(const tc_checker_t *c, const void *tag);

/* Number of runs in progress. */
size_t tc_checker_active(const tc_checker_t *c);

#endif
