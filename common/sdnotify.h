/*
 * sdnotify.h - telling systemd how a daemon is doing (sd_notify(3)).
 *
 * A service with Type=notify is "started" only when it says READY=1, which
 * tocsin's daemons do once their sockets are bound and their state is
 * loaded; STOPPING=1 says a clean stop has begun; and with WatchdogSec= set,
 * WATCHDOG=1 must come at least that often or systemd kills and restarts
 * the service. The protocol is one datagram of "KEY=VALUE" lines to the
 * AF_UNIX socket named in $NOTIFY_SOCKET ("@" for the abstract namespace),
 * small enough to speak directly rather than link libsystemd.
 *
 * The watchdog ping runs as a timer of the daemon's own event loop, so a
 * loop that stops turning (a stuck disk write, a deadlock) stops the pings
 * and systemd restarts the daemon.
 *
 * Outside systemd (no $NOTIFY_SOCKET) every call is a no-op returning 0.
 * A notifier belongs to the main thread.
 */
#ifndef TC_SDNOTIFY_H
#define TC_SDNOTIFY_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct tc_sdnotify tc_sdnotify_t;

/* Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID, then removes them
 * from the environment, so that child processes (an agent's check plugins)
 * neither inherit nor misuse them. Returns a notifier the caller owns (free
 * with tc_sdnotify_destroy()), or NULL only if out of memory. Call it once,
 * in main(), before any thread starts (it changes the environment). */
tc_sdnotify_t *tc_sdnotify_new(void);

/* Closes the socket. NULL-safe; nulls *pself. */
void tc_sdnotify_destroy(tc_sdnotify_t **pself);

/* True if systemd asked for notifications. */
bool tc_sdnotify_enabled(const tc_sdnotify_t *self);

/* Sends `state` (one or more "KEY=VALUE" lines, e.g. "READY=1\nSTATUS=up")
 * as one datagram. Returns 0 (also when not enabled), or TC_ESYS with errno
 * set. A failure is logged once as a warning; the daemon goes on. */
int tc_sdnotify_send(tc_sdnotify_t *self, const char *state);

/* READY=1 with STATUS=`status` (may be NULL). */
int tc_sdnotify_ready(tc_sdnotify_t *self, const char *status);

/* STOPPING=1: a clean stop has begun. */
int tc_sdnotify_stopping(tc_sdnotify_t *self);

/* How often to send WATCHDOG=1: half of $WATCHDOG_USEC, in milliseconds
 * (at least 1); 0 when systemd runs no watchdog for this process. */
int64_t tc_sdnotify_watchdog_ms(const tc_sdnotify_t *self);

/* Sends WATCHDOG=1 if at least tc_sdnotify_watchdog_ms() passed since the
 * last one (monotonic clock); for loops that poll rather than use zloop
 * timers. Returns what tc_sdnotify_send() returns, or 0 if not due. */
int tc_sdnotify_tick(tc_sdnotify_t *self);

/* Adds a timer to `loop` that sends WATCHDOG=1 every
 * tc_sdnotify_watchdog_ms(). Does nothing when there is no watchdog.
 * `self` is borrowed and must outlive the loop. Returns 0 or TC_ENOMEM. */
int tc_sdnotify_watch(tc_sdnotify_t *self, zloop_t *loop);

#endif
