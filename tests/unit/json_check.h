/*
 * json_check.h - a minimal JSON validator for unit tests.
 *
 * Says whether a document follows RFC 8259's grammar, so that a test of
 * something that writes JSON (webhook and Slack payloads, the status page)
 * can check that the output parses before looking for fields in it with
 * strstr(). It checks syntax only: no duplicate-key, UTF-8 or number-range
 * checks. Header-only because unit tests are one executable per
 * tests/unit/test_*.c; the functions are static inline so a test that does
 * not call one does not warn.
 */
#ifndef TC_TEST_JSON_CHECK_H
#define TC_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <string.h>

/* Deeper nesting than this is refused rather than recursed into. */
#define S_JSON_DEPTH_MAX 64

static inline const char *s_json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* A string starting at p; returns the byte after its closing quote, or NULL. */
static inline const char *s_json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                /* strchr() finds the terminating NUL too: test it first. */
                for (int i = 1; i <= 4; i++)
                    if (!p[i] || !strchr("0123456789abcdefABCDEF", p[i]))
                        return NULL;
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static inline const char *s_json_digits(const char *p)
{
    const char *start = p;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > start ? p : NULL;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? : strtod() would also take
 * "inf", "0x10" or "+1", which a JSON parser refuses. */
static inline const char *s_json_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (!(p = s_json_digits(p)))
        return NULL;
    if (*p == '.' && !(p = s_json_digits(p + 1)))
        return NULL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(p = s_json_digits(p)))
            return NULL;
    }
    return p;
}

/* A value with optional leading white space; returns the byte after it, or
 * NULL. */
static inline const char *s_json_value(const char *p, int depth)
{
    if (depth > S_JSON_DEPTH_MAX)
        return NULL;
    p = s_json_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = s_json_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = s_json_string(s_json_ws(p));
                if (!p)
                    return NULL;
                p = s_json_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = s_json_value(p, depth + 1);
            if (!p)
                return NULL;
            p = s_json_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (*p == '"')
        return s_json_string(p);
    if (!strncmp(p, "true", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    if (!strncmp(p, "null", 4))
        return p + 4;
    return s_json_number(p);
}

/* True if `doc` (NUL-terminated) is exactly one JSON value, with optional
 * white space around it. */
static inline bool s_json_valid(const char *doc)
{
    const char *end = s_json_value(doc, 0);
    return end && *s_json_ws(end) == '\0';
}

#endif
