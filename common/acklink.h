/*
 * acklink.h - the acknowledgement links in pages: a token that names one
 * page (incident, role, person, the moment it was paged) and an expiry,
 * signed with the link key of the key directory.
 *
 * tocsin-notify signs a token for every page it delivers and puts it in
 * the page's link (https://GATEWAY/ack/TOKEN); tocsin-gateway serves the
 * link and hands the token to the coordinator, which verifies it and acts
 * as the person, for that page only. The gateway holds no secret: it can
 * redeem a link somebody opened, never make one.
 *
 * Token: base64url (no padding) of
 *   version (1) | incident (8) | paged_ms (8) | expires_ms (8) |
 *   person length (1) | person | role length (1) | role | MAC (16)
 * with integers big-endian and MAC = BLAKE2b-128 keyed with the 32-byte
 * link key over "tocsin-ack-link-v1" and everything before it. The fields
 * are readable by anyone holding the link (they say nothing secret);
 * without the key none can be changed or made up. Single use comes from
 * the page itself: once it is acknowledged, the coordinator refuses its
 * link, and a later page of the same role is another page with another
 * token.
 *
 * The key file is 64 hexadecimal characters and a newline, mode 0600;
 * `tocsinctl keys init` and the coordinator make it (DIR/links.key).
 */
#ifndef TC_ACKLINK_H
#define TC_ACKLINK_H

#include "msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_ACKLINK_KEY_BYTES 32
#define TC_ACKLINK_TOKEN_MAX 256 /* with NUL; a token is about 100 characters */
#define TC_ACKLINK_KEY_FILE "links.key"

typedef struct {
    uint64_t incident;
    char role[TC_ID_MAX];
    char person[TC_ID_MAX];
    int64_t paged_ms;
    int64_t expires_ms;
} tc_acklink_t;

/* Reads the key in file `path`. Returns 0, TC_ENOTFOUND (no such file),
 * TC_ESYS (unreadable) or TC_EINVAL (not a key), with a one-line reason
 * naming the file in `why`. */
int tc_acklink_key_load(const char *path, uint8_t key[TC_ACKLINK_KEY_BYTES], char *why,
                        size_t whylen);

/* Loads the key in `path`, making a new random one (mode 0600) if the file
 * does not exist. Returns 0 or an error with a reason in `why`. */
int tc_acklink_key_ensure(const char *path, uint8_t key[TC_ACKLINK_KEY_BYTES], char *why,
                          size_t whylen);

/* Writes the token for `link` into `out` (cap >= TC_ACKLINK_TOKEN_MAX).
 * Returns 0, or TC_EINVAL for a link with invalid ids. */
int tc_acklink_sign(const uint8_t key[TC_ACKLINK_KEY_BYTES], const tc_acklink_t *link, char *out,
                    size_t cap);

/* Reads the fields of `token` without checking its MAC: enough to refuse
 * what is not a token at all, and to say what a token claims. Returns 0 or
 * TC_EINVAL. */
int tc_acklink_parse(const char *token, tc_acklink_t *out);

/* Verifies `token` with `key` and reads its fields. Returns 0, TC_EINVAL
 * (not a token) or TC_EAUTH (the MAC does not match: forged or changed, or
 * signed with another key). Expiry is the caller's business. */
int tc_acklink_verify(const uint8_t key[TC_ACKLINK_KEY_BYTES], const char *token,
                      tc_acklink_t *out);

#endif
