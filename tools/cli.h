/*
 * cli.h - command-line pieces shared by tocsinctl and tocsin-sub: option
 * scanning and the endpoint security rule.
 */
#ifndef TC_CLI_H
#define TC_CLI_H

#include "keys.h"

#include <stdbool.h>
#include <stddef.h>

/* Recognises option `name` ("--api") at argv[*i], in both the forms
 * "--api EP" and "--api=EP". Returns 1 and sets *value (borrowed from argv)
 * and advances *i past the value if it matched; 0 if argv[*i] is another
 * option; -1 if it matched but the value is missing. */
int tc_cli_value(int argc, char **argv, int *i, const char *name, const char **value);

/* Exit status of a usage error, for every tocsin program. */
#define TC_CLI_EXIT_USAGE 2

/* Prints "PROG: MESSAGE (see PROG --help)" on stderr, one line, and
 * returns TC_CLI_EXIT_USAGE, so that `return tc_cli_usage_error(...)` ends
 * a parser. */
int tc_cli_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The options every client of the coordinator takes. */
typedef struct {
    const char *api;
    const char *key, *server_key;
    bool insecure;
} tc_cli_common_t;

/* Recognises one of --insecure, --api, --key, --server-key at argv[*i]
 * (advancing *i past a value). Returns 1 if it matched, 0 if argv[*i] is
 * another option, -1 if its value is missing, with the one-line reason in
 * *why (static text). */
int tc_cli_common(int argc, char **argv, int *i, tc_cli_common_t *c, const char **why);

/* The rule for endpoints a tool connects to: `ep` must be a valid,
 * connectable endpoint, and with `insecure` (--insecure, plaintext) a
 * loopback one (tc_endpoint_is_loopback). `flag` is the option that named
 * it, for the message. Returns 0, or TC_EINVAL with a one-line reason (no
 * program prefix, no newline) in `why` (size `cap`). */
int tc_cli_check_endpoint(const char *flag, const char *ep, bool insecure, char *why, size_t cap);

/* Resolves how a tool secures its connections. With `insecure`: plaintext.
 * Otherwise CURVE with the pair named by `key` (--key), else $TOCSIN_KEY,
 * else the first existing of `key_defaults` (NULL-terminated), and the
 * coordinator certificate named by `server_key` (--server-key), else
 * $TOCSIN_SERVER_KEY, else ./var/keys/coordinator.cert (what `make run`
 * makes), else /etc/tocsin/keys/coordinator.cert. Returns 0 or an error
 * with a one-line reason in `why`. */
int tc_cli_keys(bool insecure, const char *key, const char *server_key,
                const char *const *key_defaults, tc_client_keys_t *out, char *why, size_t cap);

#endif
