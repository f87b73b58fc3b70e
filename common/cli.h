/*
 * cli.h - command-line conventions shared by every tocsin program: getopt_long
 * error messages, exit statuses, the endpoint security rule and where a
 * client finds its keys.
 *
 * Every program parses its options with getopt_long(3), so they all accept
 * "--opt VALUE", "--opt=VALUE", "-o VALUE", "--" and option abbreviations
 * alike, and word their usage errors the same way.
 */
#ifndef TC_CLI_H
#define TC_CLI_H

#include "keys.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of every tocsin program. */
#define TC_CLI_EXIT_OK 0
#define TC_CLI_EXIT_FAIL 1  /* a runtime failure: no answer, storage, I/O */
#define TC_CLI_EXIT_USAGE 2 /* bad usage or a bad configuration */

/* The last paragraph of every --help, in the same words everywhere. */
#define TC_CLI_HELP_EXIT "exit status: 0 success, 1 runtime failure, 2 bad usage or configuration\n"

/* The one-line reason for what getopt_long() just returned as '?' (an
 * unknown option, or a value given to one that takes none) or ':' (a
 * missing value), for parsers that set opterr = 0 and start their
 * optstring with ':'. `longopts` is the table given to getopt_long().
 * Writes e.g. "unknown option '--no-such-flag'" into `why`. */
void tc_cli_getopt_reason(int c, char **argv, const struct option *longopts, char *why, size_t cap);

/* Prints "PROG: REASON (see PROG --help)" for that return value and
 * returns TC_CLI_EXIT_USAGE. */
int tc_cli_getopt_error(const char *prog, int c, char **argv, const struct option *longopts);

/* Prints "PROG: MESSAGE (see PROG --help)" on stderr, one line, and
 * returns TC_CLI_EXIT_USAGE, so that `return tc_cli_usage_error(...)` ends
 * a parser. */
int tc_cli_usage_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The rule for endpoints a tool connects to: `ep` must be a valid,
 * connectable endpoint, and with `insecure` (--insecure, plaintext) a
 * loopback one (tc_endpoint_is_loopback). `flag` is the option that named
 * it, for the message. Returns 0, or TC_EINVAL with a one-line reason (no
 * program prefix, no newline) in `why` (size `cap`). */
int tc_cli_check_endpoint(const char *flag, const char *ep, bool insecure, char *why, size_t cap);

/* The key pair a client uses: `key` (a flag or setting) if not NULL or "",
 * else $TOCSIN_KEY, else the first existing of `key_defaults`
 * (NULL-terminated); NULL if none. Borrowed from the arguments, the
 * environment or the defaults. */
const char *tc_cli_key_path(const char *key, const char *const *key_defaults);

/* The coordinator certificate a client uses: `server_key` if not NULL or
 * "", else $TOCSIN_SERVER_KEY, else the first existing of the places listed
 * under tc_cli_keys(); NULL if none. */
const char *tc_cli_server_key_path(const char *server_key);

/* Resolves how a tool secures its connections. With `insecure`: plaintext.
 * Otherwise CURVE with the pair named by `key` (--key), else $TOCSIN_KEY,
 * else the first existing of `key_defaults` (NULL-terminated), and the
 * coordinator certificate named by `server_key` (--server-key), else
 * $TOCSIN_SERVER_KEY, else ./var/keys/coordinator.cert (what `make run`
 * makes), else /etc/tocsin/coordinator.cert (the packages' place for it on
 * a client host), else /etc/tocsin/keys/coordinator.cert (the coordinator's
 * own key directory). Returns 0 or an error with a one-line reason in
 * `why`. */
int tc_cli_keys(bool insecure, const char *key, const char *server_key,
                const char *const *key_defaults, tc_client_keys_t *out, char *why, size_t cap);

#endif
