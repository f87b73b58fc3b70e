/*
 * utf8.h - UTF-8 decoding and terminal-safe text for tocsin's tools.
 *
 * Everything the tools print comes from other processes (check output, host
 * names, summaries), so it may hold invalid UTF-8 or control characters. The
 * JSON writer and the table renderer both need the same strict decoder; it
 * lives here so that they agree on what a "character" is.
 */
#ifndef TC_UTF8_H
#define TC_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define TC_UTF8_REPLACEMENT 0xFFFDu

/* Decodes the character at the start of `s` (`len` > 0 bytes available).
 * Sets *cp to the code point, or to TC_UTF8_REPLACEMENT for an ill-formed
 * sequence (overlong forms, surrogates, values above U+10FFFF, truncated or
 * stray continuation bytes). Returns how many bytes were consumed, always at
 * least 1: an ill-formed sequence consumes its maximal valid prefix, as
 * Unicode recommends, so that one bad byte never swallows a good character. */
size_t tc_utf8_next(const char *s, size_t len, uint32_t *cp);

/* Encodes `cp` (at most U+10FFFF, not a surrogate) into `dst`, which must
 * have room for 4 bytes. Returns the number of bytes written. */
size_t tc_utf8_encode(uint32_t cp, char *dst);

/* Copies `src` into `dst` (capacity `cap`, > 0) for display on a terminal:
 * ill-formed UTF-8 becomes U+FFFD, every control character (C0, DEL, C1)
 * becomes a space so that no escape sequence from a remote host reaches the
 * operator's terminal. Truncates at a character boundary and always
 * NUL-terminates. Returns the number of characters (code points) written. */
size_t tc_utf8_sanitize(const char *src, char *dst, size_t cap);

/* The first control character (C0 such as CR and LF, DEL, or C1) in the
 * NUL-terminated `s`, or NULL if it has none: titles are one line of text
 * and must not carry any. Borrowed: points into `s`. */
const char *tc_utf8_control(const char *s);

/* Number of code points in the valid UTF-8 string `s` (display width as far
 * as tocsin cares: no East Asian wide characters in practice). */
size_t tc_utf8_width(const char *s);

#endif
