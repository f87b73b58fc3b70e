/*
 * yconf.h - strict reading of a hand-written YAML configuration file.
 *
 * The agent's and tocsin-notify's configuration loaders read their files
 * with libyaml's document API: the whole tree is in memory, so keys can be
 * read in any order, and every node keeps its line for messages. This module
 * is what they share: loading the document, refusing a second one, and
 * reading scalars strictly, so that both programs word the same mistake the
 * same way: "PATH:LINE: KEY: problem".
 *
 * Every reader takes a tc_yconf_t and, on failure, writes that message into
 * its error buffer and returns TC_ECONFIG (or NULL), so a loader can stop at
 * the first mistake with `return tc_yconf_fail(...)`. A tc_yconf_t belongs
 * to one load on one thread; nothing here keeps global state.
 */
#ifndef TC_YCONF_H
#define TC_YCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

/* One load of one file. Fill it with tc_yconf_init(); the caller keeps it
 * (usually on the stack) and passes it to every call below. */
typedef struct {
    const char *path; /* the file, for messages; borrowed */
    char *err;        /* where messages go; borrowed; may be NULL */
    size_t errlen;    /* its size; 0 means no messages */
    /* The document after tc_yconf_load(), NULL before; owned by this
     * struct, valid until tc_yconf_close(). */
    yaml_document_t *doc;
    /* Private to yconf.c: kept open after loading so that
     * tc_yconf_one_document() can look past the first document. */
    FILE *file_;
    yaml_parser_t parser_;
    yaml_document_t document_;
} tc_yconf_t;

/* Prepares *c for reading `path`, with messages going to err/errlen (err may
 * be NULL). Both strings are borrowed for as long as *c is used. */
void tc_yconf_init(tc_yconf_t *c, const char *path, char *err, size_t errlen);

/* Opens c->path and parses its first YAML document into c->doc. Returns 0;
 * TC_ECONFIG after writing "PATH: cannot open: ...", "PATH: is a directory,
 * ..." or "PATH:LINE: YAML syntax error: ..."; or TC_ENOMEM (no message).
 * After 0 the caller must call tc_yconf_close(); after an error there is
 * nothing to close (closing anyway is harmless). */
int tc_yconf_load(tc_yconf_t *c);

/* Refuses a second, non-empty document after the first, which would
 * otherwise be silently ignored: returns TC_ECONFIG after writing
 * "PATH:LINE: only one YAML document is allowed", else 0. A second document
 * that does not parse is not looked at. Call it once, after tc_yconf_load()
 * returned 0; loaders call it after validating the first document, so that
 * a mistake in the first is the one reported. */
int tc_yconf_one_document(tc_yconf_t *c);

/* Frees the document and the parser and closes the file; c->doc becomes
 * NULL and every node and string read from it is invalid. Safe to call on a
 * context that is not loaded, and more than once. */
void tc_yconf_close(tc_yconf_t *c);

/* Writes "PATH:LINE: MESSAGE" (the line of `node`), or "PATH: MESSAGE" when
 * `node` is NULL, into c->err, and returns TC_ECONFIG. MESSAGE is printf
 * formatted and cut at 511 bytes. */
__attribute__((format(printf, 3, 4))) int tc_yconf_fail(tc_yconf_t *c, const yaml_node_t *node,
                                                        const char *fmt, ...);

/* "a scalar", "a list", "a mapping" or "nothing", for "expected X, found
 * Y" messages. Returns a static string. */
const char *tc_yconf_node_kind(const yaml_node_t *n);

/* The text of scalar node `n`, the value of key `key` (the key path used in
 * messages, e.g. "agent.spool"). Returns a string borrowed from the document
 * (valid until tc_yconf_close()), or NULL after writing an error when `n` is
 * not a scalar or holds a NUL byte (YAML's "\0" escape), which C strings
 * cannot carry. */
const char *tc_yconf_scalar(tc_yconf_t *c, const yaml_node_t *n, const char *key);

/* True if `n` is YAML's null: a plain (unquoted) empty scalar, `~` or
 * `null`, as in `key:` with nothing after it. Quoted "null" is a string. */
bool tc_yconf_is_null(const yaml_node_t *n);

/* Copies non-empty scalar text into dst (`cap` bytes, NUL-terminated).
 * Returns 0, or TC_ECONFIG after writing an error (not a scalar, empty, or
 * cap bytes or longer). dst is unchanged on error. */
int tc_yconf_text(tc_yconf_t *c, const yaml_node_t *n, const char *key, char *dst, size_t cap);

/* Copies an identifier (see tc_id_valid()) into dst, which holds TC_ID_MAX
 * bytes. `noun` names what it is in the message, "KEY: invalid NOUN ..."
 * (the agent says "id", tocsin-notify "name"). Returns 0 or TC_ECONFIG after
 * writing an error. dst is unchanged on error. */
int tc_yconf_id(tc_yconf_t *c, const yaml_node_t *n, const char *key, const char *noun, char *dst);

/* Reads a duration (see tc_duration_parse()) into *ms. A value below
 * `min_ms` is refused with the same message as one that does not parse:
 * "KEY: invalid duration "V" (e.g. EXAMPLES)", where `examples` is the
 * caller's list such as "250ms, 5s, 2m". Returns 0 or TC_ECONFIG after
 * writing an error; *ms may have been written even then. */
int tc_yconf_duration(tc_yconf_t *c, const yaml_node_t *n, const char *key, int64_t min_ms,
                      const char *examples, int64_t *ms);

/* Reads true/yes/on or false/no/off, in any case, into *out. Returns 0 or
 * TC_ECONFIG after writing an error; *out is unchanged on error. */
int tc_yconf_bool(tc_yconf_t *c, const yaml_node_t *n, const char *key, bool *out);

/* The key of mapping pair `pair`, where `first` is the mapping's first pair
 * and `where` the mapping's key path ("" at the top level). Returns a string
 * borrowed from the document, or NULL after writing an error if the key is
 * not a scalar or an earlier pair has the same key: libyaml keeps
 * duplicates, and silently taking the last one would hide typos. */
const char *tc_yconf_pair_key(tc_yconf_t *c, const yaml_node_pair_t *pair,
                              const yaml_node_pair_t *first, const char *where);

/* A section of flat settings, `section:` mapping each of `keys` (ended by
 * NULL) to a scalar: the daemons' own sections, whose keys are their long
 * options. Each value goes to `set(cfg, key, text, why, cap)` as text,
 * which returns 0, or an error with the reason in `why`; except the key
 * "insecure" when `insecure` is not NULL, read as YAML booleans are. A
 * null section is empty. Errors name the file, the line and
 * "SECTION.KEY"; an unknown key is told the keys. Returns 0 or TC_ECONFIG
 * after writing the error. */
typedef int(tc_yconf_set_fn)(void *cfg, const char *key, const char *value, char *why, size_t cap);
int tc_yconf_settings(tc_yconf_t *c, const yaml_node_t *map, const char *section,
                      const char *const *keys, tc_yconf_set_fn *set, void *cfg, bool *insecure);

#endif
