/*
 * cfgcheck.h - what `--check-config` reports, and what a daemon checks
 * before it starts.
 *
 * Each daemon validates its configuration in one function that records
 * every problem it finds here: the loader's first error (a file that does
 * not parse stops its loader), then every cross-reference, key file and
 * directory problem, each as "FILE:LINE: message". The same function runs
 * on every start, so a daemon refuses exactly what `--check-config`
 * reports, before it opens a socket or creates a directory.
 *
 * Warnings (allowed, but probably a mistake) never change the outcome.
 *
 * A report belongs to one thread; it keeps no global state.
 */
#ifndef TC_CFGCHECK_H
#define TC_CFGCHECK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tc_cfgcheck tc_cfgcheck_t;

/* Exit status for a configuration with errors (as for bad usage). */
#define TC_CFGCHECK_EXIT_BAD 2

/* A new, empty report for program `prog` (borrowed; a literal). Caller
 * owns it (tc_cfgcheck_destroy); NULL if out of memory. */
tc_cfgcheck_t *tc_cfgcheck_new(const char *prog);

/* NULL-safe; nulls *pself. */
void tc_cfgcheck_destroy(tc_cfgcheck_t **pself);

/* Records an error about `file` (may be NULL) at `line` (0: none), as
 * "FILE:LINE: MESSAGE". */
void tc_cfgcheck_error(tc_cfgcheck_t *self, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same for a warning. */
void tc_cfgcheck_warn(tc_cfgcheck_t *self, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records a message a loader already formatted ("FILE:LINE: reason"). */
void tc_cfgcheck_add(tc_cfgcheck_t *self, const char *message);

/* Number of errors recorded so far. */
size_t tc_cfgcheck_errors(const tc_cfgcheck_t *self);

/* The 1-based line in YAML file `path` of the value at `keypath`, a path
 * of mapping keys and list indexes such as "agent.key", "checks[2].command"
 * or "components.web.services[0]"; 0 if the file does not parse or has no
 * such value (the key was not set there). */
int tc_cfgcheck_line(const char *path, const char *keypath);

/* Calls fn(KEY, arg) for every key of the mapping at `keypath` in YAML
 * file `path` (nothing if there is no such mapping): how one program reads
 * names another one's configuration defines (tocsin-notify the
 * coordinator's components). Returns 0, or TC_ECONFIG with "PATH: ..." or
 * "PATH:LINE: YAML syntax error ..." in `err`, or TC_ENOMEM. */
typedef void(tc_cfgcheck_key_fn)(const char *key, void *arg);
int tc_cfgcheck_keys(const char *path, const char *keypath, tc_cfgcheck_key_fn *fn, void *arg,
                     char *err, size_t errlen);

/* Checks a CURVE key file a daemon will read: with `pair`, `path` and
 * `path`_secret (this program's own key pair), else `path` alone (the
 * coordinator's public certificate). `what` names the setting ("agent.key",
 * "--server-key") and `file`/`line` say where it was set (NULL/0: a flag
 * or the default). Records an error naming the file that is missing,
 * unreadable or not a certificate. Returns true if the key is usable. */
bool tc_cfgcheck_key(tc_cfgcheck_t *self, const char *file, int line, const char *what,
                     const char *path, bool pair);

/* Checks a directory the daemon will write into (and create if missing):
 * if it exists it must be a directory this process can write and enter;
 * if it does not, its nearest existing parent must be. Nothing is created.
 * Returns true if usable. */
bool tc_cfgcheck_dir(tc_cfgcheck_t *self, const char *file, int line, const char *what,
                     const char *path);

/* Ends a --check-config run: prints every error and warning on stderr, one
 * per line, then "ok: SUMMARY" on stdout if there was no error, else
 * "PROG: N errors" on stderr. Returns the exit status: 0, or
 * TC_CFGCHECK_EXIT_BAD. */
int tc_cfgcheck_report(const tc_cfgcheck_t *self, const char *summary);

/* Reports a configuration file that could not be loaded (the loader's
 * "FILE:LINE: reason" in `err`): alone, because checks of a half-read file
 * would mislead. With `check` (--check-config) as tc_cfgcheck_report()
 * would, else as "PROG: FILE:LINE: reason". Returns TC_CFGCHECK_EXIT_BAD. */
int tc_cfgcheck_load_failed(const char *prog, bool check, const char *err);

/* Ends the check before a normal start: prints each error on stderr as
 * "PROG: cannot start: FILE:LINE: message" and returns TC_CFGCHECK_EXIT_BAD if there was
 * one; else logs each warning with tc_warn() (call after tc_log_init())
 * and returns 0. */
int tc_cfgcheck_before_start(const tc_cfgcheck_t *self);

#endif
