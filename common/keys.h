/*
 * keys.h - CURVE key pairs, the key directory and the coordinator's keyring.
 *
 * A key directory holds czmq certificate files (ZPL text, `NAME.cert` for the
 * public half and `NAME.cert_secret` for the pair):
 *
 *   DIR/coordinator.cert[_secret]   the coordinator's own pair
 *   DIR/agents/NAME.cert            keys allowed to send agent events; NAME
 *                                   is the agent id the key is bound to
 *   DIR/operators-ro/NAME.cert      keys allowed to query
 *   DIR/operators-rw/NAME.cert      keys allowed to query and act
 *   DIR/subscribers/NAME.cert       keys allowed to receive internal broadcasts
 *   DIR/gateways/NAME.cert          tocsin-gateway: events as sender NAME, and
 *                                   acknowledgement links on the API
 *   DIR/revoked/CLASS.NAME.cert     revoked keys, kept for the record
 *   DIR/private/CLASS.NAME.cert[_secret]  pairs made by `tocsinctl keys new`,
 *                                   to be handed to their owner
 *
 * Each public certificate carries metadata `name` and `class`. The keyring
 * is the coordinator's in-memory view of the allowed public keys; it reloads
 * when a class directory changes, which is how a revocation (moving a file
 * out) takes effect without a restart.
 */
#ifndef TC_KEYS_H
#define TC_KEYS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TC_KEY_AGENT = 0,
    TC_KEY_OPERATOR_RO = 1,
    TC_KEY_OPERATOR_RW = 2,
    TC_KEY_SUBSCRIBER = 3,
    /* tocsin-gateway: sends events like an agent (bound to its id, the
     * key's name) and may redeem acknowledgement links on the API. */
    TC_KEY_GATEWAY = 4,
    TC_KEY_CLASSES = 5,
} tc_key_class_t;

/* Directory name of a class ("agents", "operators-ro", ...); never NULL. */
const char *tc_key_class_dir(tc_key_class_t cls);
/* Short name ("agent", "operator-ro", "operator-rw", "subscriber",
 * "gateway"). */
const char *tc_key_class_name(tc_key_class_t cls);
/* Parses a short name or a directory name. 0 or TC_EINVAL. */
int tc_key_class_parse(const char *s, tc_key_class_t *out);

/* Z85 text of a CURVE key is 40 characters. */
#define TC_KEY_TXT 41

typedef struct {
    char public_txt[TC_KEY_TXT];
    char name[64];
    tc_key_class_t cls;
} tc_key_t;

/* ---- key directory operations ------------------------------------------ */

/* Creates DIR and its class directories (mode 0700 for DIR and private/). */
int tc_keys_init_dir(const char *dir);

/* Loads DIR/coordinator.cert_secret, creating the pair on first use. On
 * success fills the Z85 public and secret keys. */
int tc_keys_server(const char *dir, char public_txt[TC_KEY_TXT], char secret_txt[TC_KEY_TXT]);

/* Makes a new pair for `name` (a valid id) in class `cls`: the public
 * certificate goes to DIR/CLASS/NAME.cert (allowed at once) and the pair to
 * DIR/private/CLASS.NAME.cert(_secret), whose path is written to `pair_path`.
 * TC_EINVAL if a key of that class and name exists already. */
int tc_keys_new(const char *dir, tc_key_class_t cls, const char *name, char *pair_path, size_t cap);

/* Moves DIR/CLASS/NAME.cert to DIR/revoked/. TC_ENOTFOUND if absent. */
int tc_keys_revoke(const char *dir, tc_key_class_t cls, const char *name);

/* Calls fn for every allowed key (revoked = false) and every revoked one
 * (revoked = true). */
typedef void(tc_keys_fn)(const tc_key_t *key, bool revoked, void *ctx);
int tc_keys_list(const char *dir, tc_keys_fn *fn, void *ctx);

/* Reads a certificate file for a client: `path` names the pair (the file
 * and path + "_secret") or, for `secret_txt` == NULL, a public certificate.
 * 0, TC_ENOTFOUND (no such file) or TC_EINVAL (not a certificate). */
int tc_keys_load_file(const char *path, char public_txt[TC_KEY_TXT], char *secret_txt);

/* Says whether `path` can be read as a client's key pair (`pair`: the file
 * `path` and `path`_secret) or as a public certificate (`pair` false).
 * Returns 0, or TC_ENOTFOUND (a file is missing), TC_ESYS (cannot be read)
 * or TC_EINVAL (not a certificate), with a one-line reason in `why` that
 * names the file at fault, e.g. "/etc/tocsin/agent.cert: no such file". */
int tc_keys_check_file(const char *path, bool pair, char *why, size_t cap);

/* ---- clients ------------------------------------------------------------ */

/* How a client (agent, tocsinctl, tocsin-sub) secures its connections:
 * plaintext, or CURVE with its own pair and the coordinator's public key. */
typedef struct {
    bool insecure;
    char public_txt[TC_KEY_TXT];
    char secret_txt[TC_KEY_TXT];
    char server_txt[TC_KEY_TXT];
} tc_client_keys_t;

/* Fills *k for CURVE from `key_path` (the client's pair: the file and
 * key_path + "_secret") and `server_path` (the coordinator's public
 * certificate). On failure returns what tc_keys_check_file() returns for
 * the file at fault, with its one-line reason in `why`. */
int tc_client_keys_load(tc_client_keys_t *k, const char *key_path, const char *server_path,
                        char *why, size_t cap);

/* Makes `zsock` (a zsock_t *) a CURVE client with these keys; does nothing
 * when k->insecure. Call before connect. */
void tc_client_keys_apply(const tc_client_keys_t *k, void *zsock);

/* The first of the NULL-terminated `paths` that names an existing file, or
 * NULL. Entries may be NULL-free empty strings, which are skipped. */
const char *tc_keys_first_existing(const char *const *paths);

/* ---- keyring ------------------------------------------------------------ */

typedef struct tc_keyring tc_keyring_t;

/* Loads every class directory of DIR. Caller owns *out. */
int tc_keyring_open(const char *dir, tc_keyring_t **out);

/* Reloads when any class directory changed since the last load (cheap when
 * none did: four stat calls). Sets *changed. */
int tc_keyring_refresh(tc_keyring_t *kr, bool *changed);

/* The allowed key with this Z85 public key, or NULL. Borrowed; valid until
 * the next refresh. */
const tc_key_t *tc_keyring_lookup(const tc_keyring_t *kr, const char *public_txt);

/* Number of allowed keys. */
size_t tc_keyring_size(const tc_keyring_t *kr);

/* NULL-safe; nulls *pkr. */
void tc_keyring_destroy(tc_keyring_t **pkr);

#endif
