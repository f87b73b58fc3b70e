/*
 * reaper.h - the agent's child processes, and everything they leave behind.
 *
 * A Nagios plugin may start processes that outlive it: `sleep 300 &` stays
 * in its process group, a double fork orphans a grandchild, `setsid` moves
 * one into a session of its own where no group kill reaches it. The reaper
 * makes sure none of them outlives its check:
 *
 *   - tc_reaper_new() makes the process a child subreaper
 *     (prctl(PR_SET_CHILD_SUBREAPER)), so every orphan among the
 *     descendants becomes our child instead of init's.
 *   - The caller starts each check as the leader of its own process group
 *     and watches it with tc_reaper_watch(). When the leader exits, its
 *     group gets SIGKILL while the leader is still a zombie (so the group
 *     id cannot have been reused), then the leader is reaped and the
 *     caller's callback gets the wait status.
 *   - Every child that is neither a watched leader nor in a watched
 *     leader's process group is a leftover: it gets SIGKILL (with its group,
 *     if it leads one) and is reaped when it dies. Children are listed from
 *     /proc/self/task/TID/children (or, where the kernel lacks that file, by
 *     scanning /proc for our parent id) after every reap (a dying process's
 *     orphans have been handed to us by then), and every few seconds as a
 *     safety net.
 *   - Exits are noticed through a pidfd per process (poll-readable when it
 *     ends), so nothing polls while checks run. Without pidfd support
 *     (Linux < 5.3, some seccomp profiles) a 20 ms timer reaps instead while
 *     anything is being waited for.
 *
 * The process must not start children of its own outside the reaper while
 * one exists: any child nobody watches is killed. The leaders' callbacks
 * run from loop handlers; single-threaded, use it from the loop's thread.
 */
#ifndef TC_AGENT_REAPER_H
#define TC_AGENT_REAPER_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct tc_reaper_t tc_reaper_t;

/* Called once when watched leader `pid` has exited and been reaped, with
 * its waitpid() status; its process group has been sent SIGKILL. The
 * callback may watch new processes; it must not destroy the reaper. */
typedef void(tc_reaper_exit_fn)(pid_t pid, int status, void *arg);

/* Makes this process a child subreaper and creates a reaper whose pidfds
 * and timers live in `loop` (borrowed; must outlive the reaper). Returns
 * NULL if out of memory or if prctl() fails (errno is kept). Caller owns
 * the result. One per process. */
tc_reaper_t *tc_reaper_new(zloop_t *loop);

/* Kills every watched group and every child with SIGKILL and reaps them,
 * repeating while killed processes hand their orphans to us, for at most
 * about two seconds (a process stuck in the kernel cannot hold up
 * shutdown; a warning names how many were left). No callbacks are made.
 * Call it after the loop has stopped for good. NULL-safe; nulls *preaper. */
void tc_reaper_destroy(tc_reaper_t **preaper);

/* Watches child `pid`, which the caller just started as the leader of a
 * process group of its own; `fn` gets `arg` when it has exited (see
 * tc_reaper_exit_fn). Returns 0, or TC_ENOMEM (then the caller still owns
 * the child and must kill and reap it). */
int tc_reaper_watch(tc_reaper_t *r, pid_t pid, tc_reaper_exit_fn *fn, void *arg);

/* Sends SIGKILL to the process group of watched leader `pid` (a timeout,
 * a plugin that writes without end). Its exit is reported as usual. No-op
 * if `pid` is not watched. */
void tc_reaper_kill(tc_reaper_t *r, pid_t pid);

/* Kills and starts reaping every leftover child now (see above). Called by
 * the reaper itself after each reap; exposed for the caller's own moments
 * (a check that finished). */
void tc_reaper_sweep(tc_reaper_t *r);

/* Leftover processes killed so far (for logs and tests). */
size_t tc_reaper_leftovers_killed(const tc_reaper_t *r);

/* Leftovers killed but not reaped yet. */
size_t tc_reaper_leftovers_pending(const tc_reaper_t *r);

/* Stops using pidfds and reaps from a 20 ms timer instead, as on kernels
 * without pidfd support; for tests of that path. */
void tc_reaper_use_polling(tc_reaper_t *r);

#endif
