/*
 * acklink.c - acknowledgement link tokens; see acklink.h.
 */
#include "acklink.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_VERSION 1
#define S_MAC_BYTES 16
#define S_CONTEXT "tocsin-ack-link-v1"
/* version, incident, paged, expires, two lengths, two ids, the MAC */
#define S_RAW_MAX (1 + 8 + 8 + 8 + 2 + 2 * (TC_ID_MAX - 1) + S_MAC_BYTES)

static void s_put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void s_mac(const uint8_t key[TC_ACKLINK_KEY_BYTES], const uint8_t *msg, size_t len,
                  uint8_t out[S_MAC_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, TC_ACKLINK_KEY_BYTES, S_MAC_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)S_CONTEXT, sizeof S_CONTEXT - 1);
    crypto_generichash_update(&st, msg, len);
    crypto_generichash_final(&st, out, S_MAC_BYTES);
}

int tc_acklink_key_load(const char *path, uint8_t key[TC_ACKLINK_KEY_BYTES], char *why,
                        size_t whylen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(why, whylen, "%s: cannot read the link key: %s", path, strerror(e));
        return e == ENOENT ? TC_ENOTFOUND : TC_ESYS;
    }
    char hex[2 * TC_ACKLINK_KEY_BYTES + 4] = "";
    size_t n = fread(hex, 1, sizeof hex - 1, f);
    fclose(f);
    hex[n] = 0;
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
        hex[--n] = 0;
    size_t got = 0;
    if (n != 2 * TC_ACKLINK_KEY_BYTES ||
        sodium_hex2bin(key, TC_ACKLINK_KEY_BYTES, hex, n, NULL, &got, NULL) != 0 ||
        got != TC_ACKLINK_KEY_BYTES) {
        snprintf(why, whylen, "%s: not a link key (64 hexadecimal characters)", path);
        return TC_EINVAL;
    }
    return 0;
}

int tc_acklink_key_ensure(const char *path, uint8_t key[TC_ACKLINK_KEY_BYTES], char *why,
                          size_t whylen)
{
    int rc = tc_acklink_key_load(path, key, why, whylen);
    if (rc != TC_ENOTFOUND)
        return rc;
    if (sodium_init() < 0) {
        snprintf(why, whylen, "libsodium cannot be initialised");
        return TC_ESYS;
    }
    randombytes_buf(key, TC_ACKLINK_KEY_BYTES);
    char hex[2 * TC_ACKLINK_KEY_BYTES + 2];
    sodium_bin2hex(hex, sizeof hex, key, TC_ACKLINK_KEY_BYTES);
    strcat(hex, "\n");
    /* O_EXCL: two processes making the key at once keep one of them, the
     * other reads it. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return tc_acklink_key_load(path, key, why, whylen);
        snprintf(why, whylen, "%s: cannot create the link key: %s", path, strerror(errno));
        return TC_ESYS;
    }
    size_t len = strlen(hex);
    bool ok = write(fd, hex, len) == (ssize_t)len && fsync(fd) == 0;
    ok &= close(fd) == 0;
    sodium_memzero(hex, sizeof hex);
    if (!ok) {
        snprintf(why, whylen, "%s: cannot write the link key: %s", path, strerror(errno));
        unlink(path);
        return TC_ESYS;
    }
    return 0;
}

int tc_acklink_sign(const uint8_t key[TC_ACKLINK_KEY_BYTES], const tc_acklink_t *link, char *out,
                    size_t cap)
{
    size_t np = strlen(link->person), nr = strlen(link->role);
    if (!tc_id_valid(link->person) || !tc_id_valid(link->role) || link->incident == 0 ||
        cap < TC_ACKLINK_TOKEN_MAX)
        return TC_EINVAL;
    uint8_t raw[S_RAW_MAX];
    size_t n = 0;
    raw[n++] = S_VERSION;
    s_put64(raw + n, link->incident);
    s_put64(raw + n + 8, (uint64_t)link->paged_ms);
    s_put64(raw + n + 16, (uint64_t)link->expires_ms);
    n += 24;
    raw[n++] = (uint8_t)np;
    memcpy(raw + n, link->person, np);
    n += np;
    raw[n++] = (uint8_t)nr;
    memcpy(raw + n, link->role, nr);
    n += nr;
    s_mac(key, raw, n, raw + n);
    n += S_MAC_BYTES;
    sodium_bin2base64(out, cap, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

/* Decodes `token` into raw bytes and the fields; *maclen_at says where the
 * MAC starts. */
static int s_decode(const char *token, uint8_t raw[S_RAW_MAX], size_t *mac_at, tc_acklink_t *out)
{
    size_t len = 0, tlen = token ? strlen(token) : 0;
    if (tlen == 0 || tlen >= TC_ACKLINK_TOKEN_MAX ||
        sodium_base642bin(raw, S_RAW_MAX, token, tlen, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return TC_EINVAL;
    if (len < 1 + 24 + 2 + S_MAC_BYTES || raw[0] != S_VERSION)
        return TC_EINVAL;
    memset(out, 0, sizeof *out);
    size_t n = 1;
    out->incident = s_get64(raw + n);
    out->paged_ms = (int64_t)s_get64(raw + n + 8);
    out->expires_ms = (int64_t)s_get64(raw + n + 16);
    n += 24;
    size_t np = raw[n++];
    if (np == 0 || np >= TC_ID_MAX || n + np + 1 > len)
        return TC_EINVAL;
    memcpy(out->person, raw + n, np);
    n += np;
    size_t nr = raw[n++];
    if (nr == 0 || nr >= TC_ID_MAX || n + nr + S_MAC_BYTES != len)
        return TC_EINVAL;
    memcpy(out->role, raw + n, nr);
    n += nr;
    if (!tc_id_valid(out->person) || !tc_id_valid(out->role) || out->incident == 0)
        return TC_EINVAL;
    *mac_at = n;
    return 0;
}

int tc_acklink_parse(const char *token, tc_acklink_t *out)
{
    uint8_t raw[S_RAW_MAX];
    size_t mac_at;
    return s_decode(token, raw, &mac_at, out);
}

int tc_acklink_verify(const uint8_t key[TC_ACKLINK_KEY_BYTES], const char *token, tc_acklink_t *out)
{
    uint8_t raw[S_RAW_MAX], mac[S_MAC_BYTES];
    size_t mac_at;
    int rc = s_decode(token, raw, &mac_at, out);
    if (rc)
        return rc;
    s_mac(key, raw, mac_at, mac);
    /* Constant time: the comparison must not tell how much of a forged
     * MAC was right. */
    return sodium_memcmp(mac, raw + mac_at, S_MAC_BYTES) == 0 ? 0 : TC_EAUTH;
}
