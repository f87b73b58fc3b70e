/*
 * nagios.c - Nagios plugin output parser.
 *
 * Everything here works on (pointer, length) spans rather than C strings,
 * because plugin output is arbitrary bytes and may contain NUL. Nothing is
 * allocated: the output line is copied through a bounded stack buffer, so a
 * plugin printing megabytes costs one linear scan and no memory.
 */
#include "nagios.h"

#include "error.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Longest number text we convert; longer digit strings are not plausible
 * perfdata and would only exercise strtod's slow paths. */
#define S_NUMBER_MAX 64

/* Whitespace that separates perfdata items. NUL counts as a separator so
 * that a stray NUL cannot glue two items together or end parsing early. */
static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
}

static bool s_is_ctrl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the longest prefix of s[0..len) that is a decimal number:
 * [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?. Returns 0 if
 * there is none. Written by hand because strtod also accepts "inf", "nan",
 * hex floats and leading spaces, none of which is perfdata. */
static size_t s_scan_number(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < len && s_is_digit(s[i])) {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s_is_digit(s[i])) {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < len && (s[j] == '+' || s[j] == '-'))
            j++;
        size_t exp_digits = 0;
        while (j < len && s_is_digit(s[j])) {
            j++;
            exp_digits++;
        }
        /* "5e" or "5ex" is the number 5 followed by a unit starting with e;
         * only take the exponent when it has digits. */
        if (exp_digits > 0)
            i = j;
    }
    return i;
}

/* Converts the number text s[0..len) (already scanned) to a finite double.
 * Returns false for text too long to be sensible or values that overflow. */
static bool s_to_double(const char *s, size_t len, double *out)
{
    char tmp[S_NUMBER_MAX + 1];
    if (len == 0 || len > S_NUMBER_MAX)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end = NULL;
    double v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* True if s[0..len) is exactly one number; stores it. */
static bool s_parse_plain_number(const char *s, size_t len, double *out)
{
    return len > 0 && s_scan_number(s, len) == len && s_to_double(s, len, out);
}

/* One threshold, min or max field. A plain number is kept (sets `bit` in
 * *present); an empty field, a Nagios range ("10:20", "~:5", "@1:2", "10:")
 * or anything else is not kept. Thresholds never make an item malformed:
 * a value worth graphing should not be lost over an odd threshold. */
static void s_parse_limit(const char *s, size_t len, double *out, unsigned *present, unsigned bit)
{
    double v;
    if (s_parse_plain_number(s, len, &v)) {
        *out = v;
        *present |= bit;
    }
}

/* Parses the part after '=': value[uom];[warn];[crit];[min];[max].
 * Returns false if the item must be skipped. */
static bool s_parse_value_spec(const char *s, size_t len, tc_perf_t *p)
{
    const char *fields[5] = {NULL};
    size_t flen[5] = {0};
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= len && nf < 5; i++) {
        if (i == len || s[i] == ';') {
            fields[nf] = s + start;
            flen[nf] = i - start;
            nf++;
            start = i + 1;
        }
    }
    /* Fields beyond max are ignored: not part of the spec, harmless. */

    size_t numlen = s_scan_number(fields[0], flen[0]);
    if (numlen == 0 || !s_to_double(fields[0], numlen, &p->value))
        return false; /* includes "U" (undetermined): nothing to keep */

    const char *uom = fields[0] + numlen;
    size_t uomlen = flen[0] - numlen;
    if (uomlen >= TC_UOM_MAX)
        return false;
    for (size_t i = 0; i < uomlen; i++) {
        unsigned char c = (unsigned char)uom[i];
        /* Units are short ASCII words (s, ms, %, KB, c); anything else
         * means the item is garbage, not a unit we do not know. */
        if (c <= 0x20 || c >= 0x7f || c == '\'' || c == '=' || s_is_digit((char)c))
            return false;
    }
    memcpy(p->uom, uom, uomlen);
    p->uom[uomlen] = '\0';

    if (nf > 1)
        s_parse_limit(fields[1], flen[1], &p->warn, &p->present, TC_PERF_WARN);
    if (nf > 2)
        s_parse_limit(fields[2], flen[2], &p->crit, &p->present, TC_PERF_CRIT);
    if (nf > 3)
        s_parse_limit(fields[3], flen[3], &p->min, &p->present, TC_PERF_MIN);
    if (nf > 4)
        s_parse_limit(fields[4], flen[4], &p->max, &p->present, TC_PERF_MAX_BIT);
    return true;
}

/* Appends the perfdata items of s[0..len) to out[*n..cap). */
static void s_parse_perf_span(const char *s, size_t len, tc_perf_t *out, size_t cap, size_t *n)
{
    size_t i = 0;
    while (i < len && *n < cap) {
        while (i < len && s_is_space(s[i]))
            i++;
        if (i >= len)
            break;
        size_t item_start = i;

        /* Label: raw bytes collected here, made UTF-8-safe below. */
        char raw[TC_LABEL_MAX];
        size_t rl = 0;
        bool bad = false;
        if (s[i] == '\'') {
            i++;
            bool closed = false;
            while (i < len) {
                if (s[i] == '\'') {
                    if (i + 1 < len && s[i + 1] == '\'') {
                        if (rl < sizeof raw - 1)
                            raw[rl++] = '\'';
                        else
                            bad = true;
                        i += 2;
                        continue;
                    }
                    i++;
                    closed = true;
                    break;
                }
                if (rl < sizeof raw - 1)
                    raw[rl++] = s[i];
                else
                    bad = true;
                i++;
            }
            if (!closed) {
                /* An unterminated quote: resume after the first separator
                 * past the quote so the following items still count. */
                i = item_start + 1;
                while (i < len && !s_is_space(s[i]))
                    i++;
                continue;
            }
        } else {
            while (i < len && s[i] != '=' && !s_is_space(s[i])) {
                if (rl < sizeof raw - 1)
                    raw[rl++] = s[i];
                else
                    bad = true;
                i++;
            }
        }
        if (i >= len || s[i] != '=')
            bad = true;

        /* The value spec runs to the next separator. Skip it whether or
         * not the label was good, so parsing resumes at the next item. */
        size_t vstart = (i < len && s[i] == '=') ? i + 1 : i;
        size_t vend = vstart;
        while (vend < len && !s_is_space(s[vend]))
            vend++;
        i = vend;
        if (bad || rl == 0)
            continue;
        for (size_t k = 0; k < rl; k++)
            if (s_is_ctrl((unsigned char)raw[k]))
                bad = true;
        if (bad)
            continue;
        raw[rl] = '\0';

        tc_perf_t p;
        memset(&p, 0, sizeof p);
        /* Cannot truncate (rl < TC_LABEL_MAX); replaces invalid UTF-8. */
        tc_strlcpy_utf8(p.label, raw, sizeof p.label);
        if (!s_parse_value_spec(s + vstart, vend - vstart, &p))
            continue;
        out[(*n)++] = p;
    }
}

/* Finds byte c in s[0..len); returns its index or len. */
static size_t s_find(const char *s, size_t len, char c)
{
    const char *p = len ? memchr(s, c, len) : NULL;
    return p ? (size_t)(p - s) : len;
}

/* Copies the text s[0..len) into dst (TC_TEXT_MAX) as a clean one-line
 * output: control characters become spaces, white space is trimmed, and the
 * copy is bounded so that huge output costs no memory. */
static void s_copy_output(const char *s, size_t len, char *dst, size_t cap)
{
    size_t a = 0;
    while (a < len && (s_is_space(s[a]) || s_is_ctrl((unsigned char)s[a])))
        a++;
    /* A few bytes beyond cap so tc_strlcpy_utf8 sees whole characters at
     * its truncation point. */
    char tmp[TC_TEXT_MAX + 8];
    size_t take = len - a;
    if (take > sizeof tmp - 1)
        take = sizeof tmp - 1;
    for (size_t k = 0; k < take; k++) {
        unsigned char c = (unsigned char)s[a + k];
        tmp[k] = s_is_ctrl(c) ? ' ' : (char)c;
    }
    while (take > 0 && tmp[take - 1] == ' ')
        take--;
    tmp[take] = '\0';
    tc_strlcpy_utf8(dst, tmp, cap);
}

int tc_nagios_parse_perfdata(const char *s, tc_perf_t *out, size_t cap, size_t *n)
{
    if (!s || !n || (cap > 0 && !out))
        return TC_EINVAL;
    *n = 0;
    s_parse_perf_span(s, strlen(s), out, cap, n);
    return 0;
}

int tc_nagios_parse(const char *buf, size_t len, tc_check_result_t *res)
{
    if (!res || (!buf && len > 0))
        return TC_EINVAL;
    res->output[0] = '\0';
    res->nperf = 0;
    if (len == 0)
        return 0;

    size_t eol = s_find(buf, len, '\n');
    size_t bar = s_find(buf, eol, '|');
    s_copy_output(buf, bar, res->output, sizeof res->output);
    if (bar < eol)
        s_parse_perf_span(buf + bar + 1, eol - bar - 1, res->perf, TC_PERF_MAX, &res->nperf);

    /* Long output: text lines until one holds '|'; from there on every
     * byte is perfdata (the plugin spec's multi-line format). */
    bool in_perf = false;
    size_t pos = eol < len ? eol + 1 : len;
    while (pos < len && res->nperf < TC_PERF_MAX) {
        const char *line = buf + pos;
        size_t ll = s_find(line, len - pos, '\n');
        if (in_perf) {
            s_parse_perf_span(line, ll, res->perf, TC_PERF_MAX, &res->nperf);
        } else {
            size_t b = s_find(line, ll, '|');
            if (b < ll) {
                in_perf = true;
                s_parse_perf_span(line + b + 1, ll - b - 1, res->perf, TC_PERF_MAX, &res->nperf);
            }
        }
        pos += ll + 1;
    }
    return 0;
}
