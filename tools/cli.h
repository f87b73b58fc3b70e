/*
 * cli.h - command-line pieces shared by tocsinctl and tocsin-sub: option
 * scanning and the endpoint security rule.
 */
#ifndef TC_CLI_H
#define TC_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Recognises option `name` ("--api") at argv[*i], in both the forms
 * "--api EP" and "--api=EP". Returns 1 and sets *value (borrowed from argv)
 * and advances *i past the value if it matched; 0 if argv[*i] is another
 * option; -1 if it matched but the value is missing. */
int tc_cli_value(int argc, char **argv, int *i, const char *name, const char **value);

/* The rule for endpoints a tool connects to, while CURVE is not
 * implemented: `insecure` (--insecure) must be given and `ep` must be a
 * valid, connectable loopback endpoint (tc_endpoint_is_loopback). `flag` is
 * the option that named it, for the message. Returns 0, or TC_EINVAL with a
 * one-line reason (no program prefix, no newline) in `why` (size `cap`). */
int tc_cli_check_endpoint(const char *flag, const char *ep, bool insecure, char *why, size_t cap);

#endif
