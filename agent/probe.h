/*
 * probe.h - the built-in tcp and http checks.
 *
 * A probe blocks (DNS, connect, an HTTP exchange), so it never runs inside
 * the agent's event loop: the checker re-executes the agent binary with the
 * hidden flags
 *
 *     tocsin-agent --probe tcp HOST:PORT --probe-timeout-ms N
 *     tocsin-agent --probe http URL --probe-timeout-ms N
 *
 * and the child prints one Nagios-style line and exits 0..3, exactly like a
 * plugin. That keeps one code path (child process, pipe, timeout, parse)
 * for every check type and lets an SRE run a probe by hand.
 */
#ifndef TC_AGENT_PROBE_H
#define TC_AGENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if argv asks for probe mode (argv[1] is "--probe"). */
bool tc_probe_requested(int argc, char **argv);

/* Runs the probe described by argv (see above), prints its result line to
 * stdout and returns the process exit code (0 OK, 2 CRITICAL, 3 UNKNOWN for
 * bad arguments). Only for a freshly started child process: it may block
 * for up to the timeout and initialises libcurl. */
int tc_probe_main(int argc, char **argv);

/* The probes themselves; each writes its Nagios output line (with
 * perfdata) into out[cap] and returns the plugin exit code. Blocking. */
int tc_probe_tcp(const char *target, int64_t timeout_ms, char *out, size_t cap);
int tc_probe_http(const char *url, int64_t timeout_ms, char *out, size_t cap);

#endif
