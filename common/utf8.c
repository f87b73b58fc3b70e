#include "utf8.h"

#include <string.h>

size_t tc_utf8_next(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char b = p[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    /* Per lead byte: how many continuation bytes follow, and the allowed
     * range of the first one (which is what excludes overlongs, surrogates
     * and code points above U+10FFFF). */
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    uint32_t v;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        v = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        v = b & 0x0Fu;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        v = b & 0x07u;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        *cp = TC_UTF8_REPLACEMENT;
        return 1;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        if (i >= len) {
            *cp = TC_UTF8_REPLACEMENT;
            return i;
        }
        unsigned char c = p[i];
        if (c < lo || c > hi) {
            *cp = TC_UTF8_REPLACEMENT;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (c & 0x3Fu);
    }
    *cp = v;
    return i;
}

size_t tc_utf8_encode(uint32_t cp, char *dst)
{
    unsigned char *d = (unsigned char *)dst;
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xC0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xE0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (unsigned char)(0xF0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t tc_utf8_sanitize(const char *src, char *dst, size_t cap)
{
    size_t len = strlen(src), in = 0, out = 0, chars = 0;
    while (in < len) {
        uint32_t cp;
        in += tc_utf8_next(src + in, len - in, &cp);
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
            cp = ' ';
        char enc[4];
        size_t n = tc_utf8_encode(cp, enc);
        if (out + n >= cap)
            break;
        memcpy(dst + out, enc, n);
        out += n;
        chars++;
    }
    dst[out] = '\0';
    return chars;
}

const char *tc_utf8_control(const char *s)
{
    size_t len = strlen(s), in = 0;
    while (in < len) {
        uint32_t cp;
        size_t n = tc_utf8_next(s + in, len - in, &cp);
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
            return s + in;
        in += n;
    }
    return NULL;
}

size_t tc_utf8_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}
