/*
 * template.c - message templates for incident status updates.
 *
 * A set is a fixed array of 32 slots, one per (scenario, audience, state);
 * every scenario has exactly four states, so the slot index is computed and
 * every slot is always filled. Each slot keeps its raw text (for listing)
 * and the text cut into segments, literal spans and placeholder numbers, so
 * that rendering is a copy loop that cannot fail to parse. The built-in
 * texts go through the same parser as files, which is how the tests know
 * that they are well-formed.
 */
#include "template.h"

#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SCENARIOS 4
#define S_AUDIENCES 2
#define S_STATES 4
#define S_SLOTS (S_SCENARIOS * S_AUDIENCES * S_STATES)
#define S_MAINTENANCE 2 /* index of "maintenance" in s_scenarios */
#define S_EXTERNAL 1    /* index of "external" in s_audiences */

/* Longest placeholder name quoted back in an error message: a runaway
 * "{{" followed by a paragraph should not fill the message. */
#define S_QUOTE_MAX 40

static const char *const s_scenarios[S_SCENARIOS] = {"outage", "degradation", "maintenance",
                                                     "security"};
static const char *const s_audiences[S_AUDIENCES] = {"internal", "external"};
static const char *const s_incident_states[S_STATES] = {"investigating", "identified", "monitoring",
                                                        "resolved"};
static const char *const s_maintenance_states[S_STATES] = {"scheduled", "in_progress", "verifying",
                                                           "completed"};

enum {
    S_VAR_SERVICE,
    S_VAR_COMPONENTS,
    S_VAR_STATE,
    S_VAR_IMPACT,
    S_VAR_NEXT_UPDATE,
    S_VAR_INCIDENT,
    S_VAR_SEVERITY,
    S_VAR_STARTED,
    S_VAR_TITLE,
    S_VAR_SUMMARY,
    S_VAR_WINDOW,
    S_VAR_DESCRIPTION,
    S_VAR_ETA,
    S_NVARS,
    S_LITERAL = -1,
};

static const char *const s_var_names[S_NVARS] = {
    "service", "components", "state",   "impact", "next_update", "incident", "severity",
    "started", "title",      "summary", "window", "description", "eta",
};

/* Built-in texts in slot order: scenario, then audience (internal,
 * external), then state. External texts name what is affected, what
 * customers can do meanwhile and when the next update comes, and use no
 * internal detail; internal texts are terse and carry the incident id. */
static const char *const s_defaults[S_SLOTS] = {
    /* outage, internal */
    "[{{incident}}] {{severity}} outage of {{service}}: {{title}}. Investigating since "
    "{{started}}. Affected: {{components}}.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} outage of {{service}}: cause identified, fix in progress. "
    "Affected: {{components}}.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} outage of {{service}}: fix applied, monitoring recovery.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} outage of {{service}} resolved (started {{started}}).\n"
    "Alert: {{summary}}\nRecord follow-up actions in the postmortem.",
    /* outage, external */
    "We are investigating an outage affecting {{components}}. {{impact}} {{eta}} You do not "
    "need to "
    "contact support; we will keep this page updated. Next update: {{next_update}}.",
    "We have identified the cause of the outage affecting {{components}} and are working on a "
    "fix. {{impact}} {{eta}} No action is needed on your side. Next update: {{next_update}}.",
    "A fix for the outage affecting {{components}} is in place and service is recovering. If "
    "something still does not work, please retry it. Next update: {{next_update}}.",
    "The outage affecting {{components}} has been resolved and everything is working normally "
    "again. If you still have problems, please contact our support team. Thank you for your "
    "patience, and we are sorry for the disruption.",
    /* degradation, internal */
    "[{{incident}}] {{severity}} degradation of {{service}}: {{title}}. Investigating since "
    "{{started}}. Affected: {{components}}.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} degradation of {{service}}: cause identified, fix in progress. "
    "Affected: {{components}}.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} degradation of {{service}}: fix applied, monitoring.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} degradation of {{service}} resolved (started {{started}}).\n"
    "Alert: {{summary}}\nRecord follow-up actions in the postmortem.",
    /* degradation, external */
    "We are investigating reduced performance of {{components}}. {{impact}} {{eta}} The "
    "service is "
    "available but may be slow or show occasional errors; retrying usually helps. Next "
    "update: {{next_update}}.",
    "We have identified the cause of the reduced performance of {{components}} and are "
    "working on a fix. {{impact}} {{eta}} Retrying a failed action usually helps. Next update: "
    "{{next_update}}.",
    "A fix for the reduced performance of {{components}} is in place and we are watching "
    "closely. If something still seems slow, please retry it. Next update: {{next_update}}.",
    "The reduced performance of {{components}} has been resolved and everything is working "
    "normally again. Thank you for your patience, and we are sorry for the inconvenience.",
    /* maintenance, internal */
    "[{{incident}}] Maintenance of {{service}} ({{components}}) scheduled for {{window}}: "
    "{{title}}. {{summary}}",
    "[{{incident}}] Maintenance of {{service}} ({{components}}) in progress, window "
    "{{window}}.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] Maintenance of {{service}} done, verifying.\n"
    "Alert: {{summary}}\nNext update: "
    "{{next_update}}.",
    "[{{incident}}] Maintenance of {{service}} completed. {{summary}}",
    /* maintenance, external */
    "We will carry out scheduled maintenance on {{components}} during {{window}}. "
    "{{description}} {{impact}} We recommend planning around this window. We will post an "
    "update when it starts.",
    "Scheduled maintenance on {{components}} is in progress ({{window}}). {{description}} "
    "{{impact}} Please avoid making changes until it is complete. Next update: "
    "{{next_update}}.",
    "The scheduled maintenance on {{components}} is finished and we are checking that "
    "everything works as expected. Next update: {{next_update}}.",
    /* Completed says what is known: the work is done. Whether every
     * component is healthy is for the status page to show. */
    "The scheduled maintenance on {{components}} is complete. Thank you for your patience.",
    /* security, internal */
    "[{{incident}}] {{severity}} SECURITY {{service}}: {{title}}. Investigating since "
    "{{started}}. Do not share details outside the response team.\n"
    "Alert: {{summary}}\nNext update: "
    "{{next_update}}.",
    "[{{incident}}] {{severity}} SECURITY {{service}}: cause identified, containing. Do not "
    "share details outside the response team.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} SECURITY {{service}}: contained, monitoring.\n"
    "Alert: {{summary}}\nNext update: {{next_update}}.",
    "[{{incident}}] {{severity}} SECURITY {{service}} resolved (started {{started}}).\n"
    "Alert: {{summary}}\nRecord follow-up actions in the postmortem.",
    /* security, external */
    "We are investigating a security issue that may affect {{components}}. {{impact}} {{eta}} "
    "As a "
    "precaution, watch for unexpected account activity; we will never ask for your password. "
    "Next update: {{next_update}}.",
    "We have identified the security issue affecting {{components}} and are containing it. "
    "{{impact}} {{eta}} We will contact affected customers directly if any action is needed. "
    "Next update: {{next_update}}.",
    "The security issue affecting {{components}} is contained and we are monitoring closely. "
    "{{impact}} Next update: {{next_update}}.",
    "The security issue affecting {{components}} has been resolved. We will contact affected "
    "customers directly if any action is needed. Thank you for your patience and trust.",
};

/* A literal span of the text (var == S_LITERAL) or a placeholder. */
typedef struct {
    uint32_t off;
    uint32_t len;
    int var;
} s_seg_t;

typedef struct {
    char *text; /* raw template, NUL-terminated, trailing newlines trimmed */
    s_seg_t *segs;
    size_t nsegs;
    bool from_file;
} s_tmpl_t;

struct tc_templates {
    s_tmpl_t slot[S_SLOTS];
};

static int s_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Length of the valid UTF-8 sequence at p[0..avail), or 0 if there is none
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t s_utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* Index of s[0..len) in list[0..n), or -1. */
static int s_lookup(const char *const *list, int n, const char *s, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
            return i;
    return -1;
}

static const char *const *s_states_of(int scenario)
{
    return scenario == S_MAINTENANCE ? s_maintenance_states : s_incident_states;
}

static int s_slot_index(int scenario, int audience, int state)
{
    return (scenario * S_AUDIENCES + audience) * S_STATES + state;
}

/* Slot of a (scenario, audience, state) given as C strings, or -1. */
static int s_slot(const char *scenario, const char *audience, const char *state)
{
    if (!scenario || !audience || !state)
        return -1;
    int sc = s_lookup(s_scenarios, S_SCENARIOS, scenario, strlen(scenario));
    int au = s_lookup(s_audiences, S_AUDIENCES, audience, strlen(audience));
    if (sc < 0 || au < 0)
        return -1;
    int st = s_lookup(s_states_of(sc), S_STATES, state, strlen(state));
    return st < 0 ? -1 : s_slot_index(sc, au, st);
}

bool tc_template_scenario_valid(const char *scenario)
{
    return scenario && s_lookup(s_scenarios, S_SCENARIOS, scenario, strlen(scenario)) >= 0;
}

bool tc_template_audience_valid(const char *audience)
{
    return audience && s_lookup(s_audiences, S_AUDIENCES, audience, strlen(audience)) >= 0;
}

bool tc_template_state_valid(const char *scenario, const char *state)
{
    if (!scenario || !state)
        return false;
    int sc = s_lookup(s_scenarios, S_SCENARIOS, scenario, strlen(scenario));
    return sc >= 0 && s_lookup(s_states_of(sc), S_STATES, state, strlen(state)) >= 0;
}

/* Maps a file name SCENARIO.AUDIENCE.STATE.txt to its slot. */
static int s_parse_name(const char *name, int *slot, char *err, size_t errlen)
{
    static const char suffix[] = ".txt";
    size_t len = strlen(name), sl = sizeof suffix - 1;
    const char *dot1 = NULL, *dot2 = NULL;
    if (len > sl && memcmp(name + len - sl, suffix, sl) == 0) {
        len -= sl;
        dot1 = memchr(name, '.', len);
        dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - name)) : NULL;
    }
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - name)))
        return s_fail(err, errlen, TC_ECONFIG,
                      "%s: not a template file name: want SCENARIO.AUDIENCE.STATE.txt, e.g. "
                      "outage.external.investigating.txt",
                      name);
    int sc = s_lookup(s_scenarios, S_SCENARIOS, name, (size_t)(dot1 - name));
    if (sc < 0)
        return s_fail(err, errlen, TC_ECONFIG,
                      "%s: unknown scenario \"%.*s\" (outage, degradation, maintenance, "
                      "security)",
                      name, (int)(dot1 - name), name);
    int au = s_lookup(s_audiences, S_AUDIENCES, dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (au < 0)
        return s_fail(err, errlen, TC_ECONFIG, "%s: unknown audience \"%.*s\" (internal, external)",
                      name, (int)(dot2 - dot1 - 1), dot1 + 1);
    const char *const *states = s_states_of(sc);
    int st = s_lookup(states, S_STATES, dot2 + 1, (size_t)(name + len - dot2 - 1));
    if (st < 0)
        return s_fail(err, errlen, TC_ECONFIG, "%s: \"%.*s\" is not a state of %s (%s, %s, %s, %s)",
                      name, (int)(name + len - dot2 - 1), dot2 + 1, s_scenarios[sc], states[0],
                      states[1], states[2], states[3]);
    *slot = s_slot_index(sc, au, st);
    return 0;
}

static void s_tmpl_free(s_tmpl_t *tp)
{
    free(tp->text);
    free(tp->segs);
    memset(tp, 0, sizeof *tp);
}

static int s_push(s_tmpl_t *tp, size_t *cap, size_t off, size_t len, int var)
{
    if (var == S_LITERAL && len == 0)
        return 0;
    if (tp->nsegs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        s_seg_t *n = realloc(tp->segs, ncap * sizeof *n);
        if (!n)
            return TC_ENOMEM;
        tp->segs = n;
        *cap = ncap;
    }
    tp->segs[tp->nsegs++] = (s_seg_t){.off = (uint32_t)off, .len = (uint32_t)len, .var = var};
    return 0;
}

/* Checks that text[0..len) is UTF-8 without control characters other than
 * tab and newline: rendered text goes into protobuf strings and onto status
 * pages, where neither invalid bytes nor stray control codes belong. */
static int s_check_bytes(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t line = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c == '\n') {
            line++;
            i++;
            continue;
        }
        if (c == '\r')
            return s_fail(err, errlen, TC_ECONFIG,
                          "%s:%zu: carriage return (save the file with Unix line endings)", name,
                          line);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return s_fail(err, errlen, TC_ECONFIG,
                          "%s:%zu: control character 0x%02x (only tab and newline are allowed)",
                          name, line, c);
        size_t n = s_utf8_len(p + i, len - i);
        if (n == 0)
            return s_fail(err, errlen, TC_ECONFIG, "%s:%zu: invalid UTF-8", name, line);
        i += n;
    }
    return 0;
}

/* Parses text[0..len) (already trimmed) into *tp, which must be zeroed.
 * On failure *tp is left empty. */
static int s_compile(const char *name, const char *text, size_t len, bool external, s_tmpl_t *tp,
                     char *err, size_t errlen)
{
    int rc = s_check_bytes(name, text, len, err, errlen);
    if (rc)
        return rc;
    size_t cap = 0, line = 1, lit = 0, i = 0;
    while (i < len) {
        if (text[i] == '\n')
            line++;
        if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{') {
            i++;
            continue;
        }
        /* A placeholder ends on its own line: an unclosed "{{" should be
         * reported where it is, not swallow the rest of the file. */
        size_t j = i + 2;
        while (j + 1 < len && text[j] != '\n' && !(text[j] == '}' && text[j + 1] == '}'))
            j++;
        if (j + 1 >= len || text[j] != '}' || text[j + 1] != '}') {
            rc = s_fail(err, errlen, TC_ECONFIG,
                        "%s:%zu: unterminated {{ (a placeholder ends with }} on the same line)",
                        name, line);
            goto fail;
        }
        size_t a = i + 2, b = j;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t'))
            b--;
        int var = s_lookup(s_var_names, S_NVARS, text + a, b - a);
        if (var < 0) {
            size_t q = b - a;
            if (q > S_QUOTE_MAX) {
                /* Cut the quote at a character boundary; the text is
                 * known to be valid UTF-8 by now. */
                q = S_QUOTE_MAX;
                while (q > 0 && ((unsigned char)text[a + q] & 0xc0) == 0x80)
                    q--;
            }
            rc = s_fail(err, errlen, TC_ECONFIG, "%s:%zu: %s placeholder {{%.*s%s}}", name, line,
                        a == b ? "empty" : "unknown", (int)q, text + a, q < b - a ? "..." : "");
            goto fail;
        }
        if (external && (var == S_VAR_SUMMARY || var == S_VAR_SERVICE)) {
            rc = s_fail(err, errlen, TC_ECONFIG,
                        "%s:%zu: {{%s}} is not allowed in external templates: external "
                        "messages carry no internal technical detail",
                        name, line, s_var_names[var]);
            goto fail;
        }
        if ((rc = s_push(tp, &cap, lit, i - lit, S_LITERAL)) || (rc = s_push(tp, &cap, 0, 0, var)))
            goto fail;
        i = j + 2;
        lit = i;
    }
    if ((rc = s_push(tp, &cap, lit, len - lit, S_LITERAL)))
        goto fail;
    tp->text = malloc(len + 1);
    if (!tp->text) {
        rc = TC_ENOMEM;
        goto fail;
    }
    if (len)
        memcpy(tp->text, text, len);
    tp->text[len] = '\0';
    return 0;
fail:
    if (rc == TC_ENOMEM)
        s_fail(err, errlen, rc, "%s: out of memory", name);
    s_tmpl_free(tp);
    return rc;
}

int tc_templates_parse(tc_templates_t *t, const char *name, const char *text, size_t len, char *err,
                       size_t errlen)
{
    if (!t || !name || (!text && len > 0))
        return s_fail(err, errlen, TC_EINVAL, "invalid argument");
    int slot;
    int rc = s_parse_name(name, &slot, err, errlen);
    if (rc)
        return rc;
    if (len > TC_TEMPLATE_MAX)
        return s_fail(err, errlen, TC_ECONFIG, "%s: larger than %d bytes", name, TC_TEMPLATE_MAX);
    /* Editors end files with a newline; it is not part of the message. */
    while (len > 0 && text[len - 1] == '\n')
        len--;
    if (len == 0)
        return s_fail(err, errlen, TC_ECONFIG, "%s: empty template", name);
    bool external = (slot / S_STATES) % S_AUDIENCES == S_EXTERNAL;
    s_tmpl_t nt = {0};
    rc = s_compile(name, text, len, external, &nt, err, errlen);
    if (rc)
        return rc;
    nt.from_file = true;
    s_tmpl_free(&t->slot[slot]);
    t->slot[slot] = nt;
    return 0;
}

/* Reads one template file, checking name and size before reading so that a
 * stray large file is refused for what it is, without reading it. */
static int s_load_file(tc_templates_t *t, const char *dir, const char *name, char *err,
                       size_t errlen)
{
    int slot, rc = s_parse_name(name, &slot, err, errlen);
    if (rc)
        return rc;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return s_fail(err, errlen, TC_ECONFIG, "%s/%s: path too long", dir, name);
    struct stat st;
    if (stat(path, &st) != 0)
        return s_fail(err, errlen, TC_EIO, "%s: cannot read: %s", name, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return s_fail(err, errlen, TC_ECONFIG, "%s: not a regular file", name);
    if (st.st_size > TC_TEMPLATE_MAX)
        return s_fail(err, errlen, TC_ECONFIG, "%s: larger than %d bytes", name, TC_TEMPLATE_MAX);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_fail(err, errlen, TC_EIO, "%s: cannot open: %s", name, strerror(errno));
    /* One byte more than allowed, to notice a file that grew since stat. */
    char buf[TC_TEMPLATE_MAX + 1];
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t r = read(fd, buf + got, sizeof buf - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = s_fail(err, errlen, TC_EIO, "%s: cannot read: %s", name, strerror(errno));
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return tc_templates_parse(t, name, buf, got, err, errlen);
}

/* scandir filter: hidden files and READMEs live next to templates on
 * purpose (editor files, notes for whoever approves the texts). */
static int s_wanted(const struct dirent *d)
{
    return d->d_name[0] != '.' && strcmp(d->d_name, "README") != 0 &&
           strcmp(d->d_name, "README.md") != 0;
}

static int s_load_dir(tc_templates_t *t, const char *dir, char *err, size_t errlen)
{
    struct dirent **ents = NULL;
    /* Sorted, so that with several bad files the same one is reported
     * every time. */
    int n = scandir(dir, &ents, s_wanted, alphasort);
    if (n < 0)
        return s_fail(err, errlen, errno == ENOMEM ? TC_ENOMEM : TC_ECONFIG,
                      "%s: cannot open template directory: %s", dir, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = s_load_file(t, dir, ents[i]->d_name, err, errlen);
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int tc_templates_load(const char *dir, tc_templates_t **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return s_fail(err, errlen, TC_EINVAL, "invalid argument");
    *out = NULL;
    tc_templates_t *t = calloc(1, sizeof *t);
    if (!t)
        return s_fail(err, errlen, TC_ENOMEM, "out of memory");
    int rc = 0;
    for (int i = 0; i < S_SLOTS; i++) {
        bool external = (i / S_STATES) % S_AUDIENCES == S_EXTERNAL;
        rc = s_compile("built-in template", s_defaults[i], strlen(s_defaults[i]), external,
                       &t->slot[i], err, errlen);
        if (rc)
            goto fail;
    }
    if (dir && *dir && (rc = s_load_dir(t, dir, err, errlen)))
        goto fail;
    *out = t;
    return 0;
fail:
    tc_templates_destroy(&t);
    return rc;
}

/* Bounded output that only ever stops between whole characters. */
typedef struct {
    char *buf;
    size_t cap;
    size_t n;
    bool full;
} s_out_t;

/* Appends s[0..len), replacing bytes that are not valid UTF-8 with '?'. */
static void s_emit(s_out_t *o, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len && !o->full;) {
        size_t k = s_utf8_len(p + i, len - i);
        const char *src = k ? s + i : "?";
        size_t take = k ? k : 1;
        if (o->n + take > o->cap - 1) {
            o->full = true;
            break;
        }
        memcpy(o->buf + o->n, src, take);
        o->n += take;
        i += take;
    }
}

static const char *s_value(const tc_template_vars_t *v, int var)
{
    const char *s = NULL;
    switch (var) {
    case S_VAR_SERVICE: s = v->service; break;
    case S_VAR_COMPONENTS: s = v->components ? v->components : "some of our services"; break;
    case S_VAR_STATE: s = v->state; break;
    case S_VAR_IMPACT: s = v->impact; break;
    case S_VAR_NEXT_UPDATE: s = v->next_update; break;
    case S_VAR_INCIDENT: s = v->incident; break;
    case S_VAR_SEVERITY: s = v->severity; break;
    case S_VAR_STARTED: s = v->started; break;
    case S_VAR_TITLE: s = v->title; break;
    case S_VAR_SUMMARY: s = v->summary; break;
    case S_VAR_WINDOW: s = v->window; break;
    case S_VAR_DESCRIPTION: s = v->description; break;
    case S_VAR_ETA: s = v->eta; break;
    default: break;
    }
    return s ? s : "";
}

int tc_templates_render(const tc_templates_t *t, const char *scenario, const char *audience,
                        const char *state, const tc_template_vars_t *vars, char *out, size_t cap)
{
    if (!out || cap == 0)
        return TC_EINVAL;
    out[0] = '\0';
    int slot = s_slot(scenario, audience, state);
    if (!t || slot < 0)
        return TC_EINVAL;
    static const tc_template_vars_t none = {0};
    if (!vars)
        vars = &none;
    const s_tmpl_t *tp = &t->slot[slot];
    s_out_t o = {.buf = out, .cap = cap};
    /* What an empty or missing value leaves to tidy in the literal after
     * it: its leading spaces (no double space where {{impact}} was empty),
     * or the rest of a sentence that promised what is not known. */
    enum { S_KEEP, S_SQUEEZE, S_END_SENTENCE } tidy = S_KEEP;
    bool left_out = false; /* the text so far ends where something was left out */
    for (size_t i = 0; i < tp->nsegs && !o.full; i++) {
        const s_seg_t *sg = &tp->segs[i];
        if (sg->var == S_LITERAL) {
            const char *lit = tp->text + sg->off;
            size_t len = sg->len;
            if (tidy == S_END_SENTENCE) {
                size_t k = 0;
                while (k < len && lit[k] != '.' && lit[k] != '\n')
                    k++;
                if (k < len && lit[k] == '.')
                    k++;
                lit += k;
                len -= k;
                tidy = o.n == 0 || o.buf[o.n - 1] == ' ' || o.buf[o.n - 1] == '\n' ? S_SQUEEZE
                                                                                   : S_KEEP;
            }
            if (tidy == S_SQUEEZE && (o.n == 0 || o.buf[o.n - 1] == ' ' || o.buf[o.n - 1] == '\n'))
                while (len && lit[0] == ' ') {
                    lit++;
                    len--;
                }
            tidy = S_KEEP;
            s_emit(&o, lit, len);
            left_out = left_out && len == 0;
        } else if (sg->var == S_VAR_NEXT_UPDATE && !vars->next_update) {
            /* No next update promised: the sentence holding the
             * placeholder goes, rather than saying "soon". */
            while (o.n > 0 && !(o.buf[o.n - 1] == '\n' || (o.n >= 2 && o.buf[o.n - 1] == ' ' &&
                                                           strchr(".!?", o.buf[o.n - 2]))))
                o.n--;
            tidy = S_END_SENTENCE;
            left_out = true;
        } else {
            const char *v = s_value(vars, sg->var);
            s_emit(&o, v, strlen(v));
            if (!*v)
                tidy = S_SQUEEZE;
            left_out = !*v;
        }
    }
    /* What was left out at the end may leave spaces or line ends. */
    while (left_out && o.n > 0 && (o.buf[o.n - 1] == ' ' || o.buf[o.n - 1] == '\n'))
        o.n--;
    out[o.n] = '\0';
    return o.full ? TC_ETOOBIG : 0;
}

int tc_templates_each(const tc_templates_t *t, tc_template_fn *fn, void *ctx)
{
    if (!t || !fn)
        return TC_EINVAL;
    for (int sc = 0; sc < S_SCENARIOS; sc++)
        for (int au = 0; au < S_AUDIENCES; au++)
            for (int st = 0; st < S_STATES; st++) {
                const s_tmpl_t *tp = &t->slot[s_slot_index(sc, au, st)];
                int rc = fn(s_scenarios[sc], s_audiences[au], s_states_of(sc)[st], tp->text,
                            tp->from_file, ctx);
                if (rc)
                    return rc;
            }
    return 0;
}

void tc_templates_destroy(tc_templates_t **t)
{
    if (!t || !*t)
        return;
    for (int i = 0; i < S_SLOTS; i++)
        s_tmpl_free(&(*t)->slot[i]);
    free(*t);
    *t = NULL;
}
