/*
 * state_guard.c - the guard against internal detail in external texts (see
 * tc_state_guard() in state.h).
 *
 * Customers read business language (Hotjar step 6, AWS OPS10-BP05): a host
 * name, an address, a port, a check name or a line of plugin output in an
 * external update is almost always a paste from the timeline. The guard
 * reads the state (the incident's hosts, its service's checks and their
 * last failing output) and changes nothing. It runs when an update is
 * drafted, not when the record is replayed: a text stored once was
 * accepted, and a guard that learns new words must not make published
 * history disappear on the next start.
 */
#include "state_impl.h"

#include "error.h"
#include "template.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Part of a name: a word ends where none of these follows. */
static bool s_name_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '_';
}

/* `word` (n bytes) in `text` as a whole word, case-insensitive: neither
 * the byte before nor the one after is part of a name. NULL if absent. */
static const char *s_find_word(const char *text, const char *word, size_t n)
{
    if (n == 0)
        return NULL;
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, word, n) != 0)
            continue;
        if ((p == text || !s_name_char(p[-1])) && !s_name_char(p[n]))
            return p;
    }
    return NULL;
}

/* Copies the token at p (up to the next space or end) into out. */
static void s_token(const char *p, size_t n, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

/* An IPv4 address starting at p: four numbers 0..255 joined by dots, not
 * inside a longer number. Returns its length, 0 if there is none. */
static size_t s_ipv4(const char *text, const char *p)
{
    if (p > text && (isdigit((unsigned char)p[-1]) || p[-1] == '.'))
        return 0;
    const char *q = p;
    for (int part = 0; part < 4; part++) {
        if (part && *q++ != '.')
            return 0;
        int v = 0, digits = 0;
        while (isdigit((unsigned char)*q) && digits < 4)
            v = v * 10 + (*q++ - '0'), digits++;
        if (digits == 0 || digits > 3 || v > 255)
            return 0;
    }
    if (isdigit((unsigned char)*q) || (*q == '.' && isdigit((unsigned char)q[1])))
        return 0;
    return (size_t)(q - p);
}

/* An IPv6 address starting at p: hex groups of at most four digits and
 * colons, with "::" or at least three colons (so that a time such as
 * 14:05:30 is not one), optionally ending in an IPv4 address. */
static size_t s_ipv6(const char *text, const char *p)
{
    if (p > text && (isxdigit((unsigned char)p[-1]) || p[-1] == ':'))
        return 0;
    const char *q = p;
    int colons = 0, group = 0, hex = 0;
    bool dbl = false;
    while (isxdigit((unsigned char)*q) || *q == ':') {
        if (*q == ':') {
            colons++;
            if (q[1] == ':')
                dbl = true;
            group = 0;
        } else if (++group > 4) {
            return 0;
        } else {
            hex++;
        }
        q++;
    }
    if (*q == '.' && group) { /* ::ffff:10.0.0.5 */
        size_t v4 = s_ipv4(text, q - group);
        if (v4)
            q = q - group + v4;
    }
    if (s_name_char(*q) || hex == 0 || colons < 2 || (!dbl && colons < 3))
        return 0;
    return (size_t)(q - p);
}

/* A port at p (a ':'): one to five digits after it, where what comes before
 * is nothing, a space or a bracket (":5432"), or a name with a letter in it
 * or an address ("db:5432", "10.0.0.5:8080") - not a clock ("14:05").
 * Returns the length from ':' on, 0 if it is not a port; *start is where
 * the name or address before it starts. */
static size_t s_port(const char *text, const char *p, const char **start)
{
    size_t digits = 0;
    while (isdigit((unsigned char)p[1 + digits]))
        digits++;
    if (digits == 0 || digits > 5 || s_name_char(p[1 + digits]) ||
        (p[1 + digits] == '.' && isdigit((unsigned char)p[2 + digits])))
        return 0;
    const char *s = p;
    while (s > text && (s_name_char(s[-1]) || s[-1] == '.' || s[-1] == ']'))
        s--;
    *start = s;
    if (s == p)
        return digits + 1;
    for (const char *c = s; c < p; c++)
        if (isalpha((unsigned char)*c) || *c == ']')
            return digits + 1;
    return s_ipv4(text, s) == (size_t)(p - s) ? digits + 1 : 0;
}

/* The first address or port in `text`, described into `what`. */
static bool s_find_address(const char *text, char *what, size_t cap)
{
    char tok[64];
    for (const char *p = text; *p; p++) {
        size_t n;
        if ((n = s_ipv4(text, p)) != 0) {
            s_token(p, n, tok, sizeof tok);
            snprintf(what, cap, "the IP address %s", tok);
            return true;
        }
        if ((isxdigit((unsigned char)*p) || *p == ':') && (n = s_ipv6(text, p)) != 0) {
            s_token(p, n, tok, sizeof tok);
            snprintf(what, cap, "the IP address %s", tok);
            return true;
        }
        const char *from;
        if (*p == ':' && (n = s_port(text, p, &from)) != 0) {
            s_token(from, (size_t)(p - from) + n, tok, sizeof tok);
            snprintf(what, cap, "the port %s", tok);
            return true;
        }
    }
    return false;
}

typedef struct {
    const char *word;
    size_t n;
    bool found;
} s_vocab_t;

static int s_in_template(const char *scenario, const char *audience, const char *state,
                         const char *text, bool from_file, void *ctx)
{
    (void)scenario, (void)state, (void)from_file;
    s_vocab_t *v = ctx;
    v->found = !strcmp(audience, "external") && text && s_find_word(text, v->word, v->n);
    return v->found;
}

/* Words customers read anyway: a component's name or a word of its
 * description, or a word of an approved external template. A host or a
 * check named like one gives nothing away ("api" beside the component
 * "Public API", a check "support" beside "contact our support team"). */
static bool s_public(const tc_state_t *st, const char *word, size_t n)
{
    for (size_t i = 0; i < st->policy->ncomponents; i++) {
        const tc_component_policy_t *cp = &st->policy->components[i];
        if (s_find_word(cp->name, word, n) || s_find_word(cp->description, word, n))
            return true;
    }
    s_vocab_t v = {word, n, false};
    if (st->templates)
        tc_templates_each(st->templates, s_in_template, &v);
    return v.found;
}

/* `word` (n bytes) in `text`, unless customers read it anyway. */
static bool s_find_private(const tc_state_t *st, const char *text, const char *word, size_t n)
{
    return s_find_word(text, word, n) && !s_public(st, word, n);
}

/* A host's name and its short form (up to the first dot). */
static bool s_find_host(const tc_state_t *st, const char *text, const char *host, char *what,
                        size_t cap)
{
    const char *dot = strchr(host, '.');
    size_t full = strlen(host), shrt = dot ? (size_t)(dot - host) : full;
    bool whole = s_find_private(st, text, host, full);
    if (whole || (shrt < full && s_find_private(st, text, host, shrt))) {
        snprintf(what, cap, "the host %.*s", (int)(whole ? full : shrt), host);
        return true;
    }
    return false;
}

/* A token of plugin output that only a machine writes: three or more bytes
 * with a digit or one of / _ = @ \ in it ("503", "HTTP/1.1", "0.002s",
 * "/var/lib", "errno=111"). */
static bool s_technical(const char *w, size_t n)
{
    if (n < 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)w[i]) || strchr("/_=@\\", w[i]))
            return true;
    return false;
}

/* Words of `s` are runs of bytes other than spaces, with leading and
 * trailing punctuation left off; returns the next word at or after *p
 * (its length in *n), or NULL. */
static const char *s_next_word(const char **p, size_t *n)
{
    static const char *const punct = " \t\r\n.,;:!?()[]{}\"'<>";
    const char *s = *p;
    while (*s && strchr(punct, *s))
        s++;
    if (!*s)
        return NULL;
    const char *e = s;
    while (*e && !strchr(" \t\r\n", *e))
        e++;
    *p = e;
    while (e > s && strchr(punct, e[-1]))
        e--;
    *n = (size_t)(e - s);
    return s;
}

/* Case-insensitive substring search. */
static const char *s_find_text(const char *text, const char *needle, size_t n)
{
    for (const char *p = text; *p; p++)
        if (!strncasecmp(p, needle, n))
            return p;
    return NULL;
}

/* Text of check output `out` in `text`: a technical token of it, or three
 * of its words in a row (as they stand in the output, spaces normalised to
 * one). The offending words go into `what`. */
static bool s_find_output(const char *text, const char *out, const char *from, char *what,
                          size_t cap)
{
    const char *p = out, *w[3] = {0};
    size_t n[3] = {0}, count = 0;
    const char *word;
    size_t len;
    while ((word = s_next_word(&p, &len)) != NULL) {
        if (s_technical(word, len) && s_find_word(text, word, len)) {
            snprintf(what, cap, "\"%.*s\" from the check output of %s", (int)(len < 60 ? len : 60),
                     word, from);
            return true;
        }
        w[0] = w[1], n[0] = n[1];
        w[1] = w[2], n[1] = n[2];
        w[2] = word, n[2] = len;
        if (++count < 3)
            continue;
        char run[3 * 64 + 3];
        int k = snprintf(run, sizeof run, "%.*s %.*s %.*s", (int)(n[0] < 64 ? n[0] : 64), w[0],
                         (int)(n[1] < 64 ? n[1] : 64), w[1], (int)(n[2] < 64 ? n[2] : 64), w[2]);
        if (k > 0 && s_find_text(text, run, (size_t)k)) {
            snprintf(what, cap, "\"%s\" from the check output of %s", run, from);
            return true;
        }
    }
    return false;
}

/* Looks for every kind of internal detail of `inc` in `text`. */
static bool s_scan(const tc_state_t *st, const tc_incident_t *inc, const char *text, char *what,
                   size_t cap)
{
    for (size_t i = 0; i < inc->nhosts; i++)
        if (s_find_host(st, text, inc->hosts[i], what, cap))
            return true;
    if (s_find_address(text, what, cap))
        return true;
    for (const tc_state__check_t *c = zhashx_first(st->checks); c; c = zhashx_next(st->checks)) {
        if (strcmp(c->service, inc->service) != 0)
            continue;
        if (s_find_host(st, text, c->host, what, cap))
            return true;
        if (s_find_private(st, text, c->check, strlen(c->check))) {
            snprintf(what, cap, "the check %s", c->check);
            return true;
        }
        char from[2 * TC_ID_MAX + 2];
        snprintf(from, sizeof from, "%s@%s", c->check, c->host);
        if (c->output[0] && s_find_output(text, c->output, from, what, cap))
            return true;
    }
    /* The output that opened the incident, kept in its summary after
     * "check@host STATE: ", for when its checks are OK again. */
    const char *colon = strstr(inc->summary, ": ");
    const char *at = strchr(inc->summary, '@'), *sp = strchr(inc->summary, ' ');
    if (colon && at && (!sp || at < sp) &&
        s_find_output(text, colon + 2, "the incident's summary", what, cap))
        return true;
    return false;
}

int tc_state_guard(const tc_state_t *st, uint64_t incident, const tc_update_t *u, char *why,
                   size_t whylen)
{
    if (!u->external)
        return 0;
    const tc_incident_t *inc = tc_state_incident(st, incident);
    if (!inc)
        return 0; /* tc_state_check() says so */
    char what[TC_TITLE_MAX + 64];
    const char *field = "title";
    bool found = s_scan(st, inc, u->title, what, sizeof what);
    if (!found) {
        field = "text";
        found = s_scan(st, inc, u->body, what, sizeof what);
    }
    if (!found)
        return 0;
    return tc_state__refuse(why, whylen, TC_EINVAL,
                            "external updates carry no internal detail: the %s names %s", field,
                            what);
}
