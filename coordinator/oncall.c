/*
 * oncall.c - the on-call roster (see oncall.h).
 *
 * Rosters are small (tens of teams, hundreds of people) and are asked once
 * per page, not once per event, so lookups are linear scans over plain
 * arrays: no hashing, no ordering that could differ between runs. Members
 * and escalation lists hold indices into the people array, which never moves
 * after loading.
 */
#include "oncall.h"

#include "contacts.h"
#include "error.h"
#include "msg.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define S_DAY_MS 86400000LL
#define S_MIN_MS 60000LL
/* Queries clamp times to +-2^60 ms so that shift arithmetic cannot overflow
 * whatever int64 the caller passes. */
#define S_TIME_LIMIT (1LL << 60)

/* The configurable roles; "sme" is the owning team's on-call instead. */
static const char *const s_role_names[] = {
    "commander", "deputy", "scribe", "customer_liaison", "internal_liaison", "dpo",
};
#define S_NROLES (sizeof s_role_names / sizeof s_role_names[0])

typedef struct {
    char id[TC_ID_MAX];
    char name[TC_ROSTER_NAME_MAX];
    char email[TC_ROSTER_EMAIL_MAX];
} s_person_t;

typedef struct {
    size_t *members; /* indices into people */
    size_t nmembers;
    int64_t first_ms; /* start of shift 0, UTC */
    int64_t shift_ms;
} s_rotation_t;

/* A team's business hours, in its own fixed zone. */
typedef struct {
    bool set;
    unsigned days;            /* bit 0 Monday ... bit 6 Sunday */
    int64_t from_min, to_min; /* [from, to) minutes after local midnight */
    int64_t zone_min;         /* minutes east of UTC */
    int64_t *holidays;        /* local days since the epoch */
    size_t nholidays;
} s_hours_t;

/* A team or a role: what is paged, in what order, how patiently. */
typedef struct {
    char name[TC_ID_MAX];
    bool configured;
    s_rotation_t rot;
    size_t *esc; /* explicit escalation list, or NULL */
    size_t nesc;
    int64_t ack_ms;
    bool has_fallback;
    size_t fallback; /* paged when the chain is exhausted */
    s_hours_t hours; /* teams only */
} s_group_t;

typedef struct {
    const s_group_t *group; /* the team or role covered */
    size_t person;
    int64_t from_ms, until_ms; /* covers [from, until) */
} s_override_t;

struct tc_roster {
    s_person_t *people;
    size_t npeople;
    s_group_t *teams;
    size_t nteams;
    s_group_t roles[S_NROLES];
    s_override_t *overrides;
    size_t noverrides;
    tc_contacts_t *contacts; /* contact methods and paging rules (contacts.c) */
};

/* ---- lifetime ----------------------------------------------------------- */

tc_roster_t *tc_roster_new_empty(void)
{
    tc_roster_t *r = calloc(1, sizeof(tc_roster_t));
    if (r && !(r->contacts = tc_contacts_new())) {
        free(r);
        return NULL;
    }
    return r;
}

const tc_contacts_t *tc_roster_contacts(const tc_roster_t *r)
{
    return r->contacts;
}

static void s_group_free(s_group_t *g)
{
    free(g->rot.members);
    free(g->esc);
    free(g->hours.holidays);
}

void tc_roster_destroy(tc_roster_t **p)
{
    if (!p || !*p)
        return;
    tc_roster_t *r = *p;
    for (size_t i = 0; i < r->nteams; i++)
        s_group_free(&r->teams[i]);
    for (size_t i = 0; i < S_NROLES; i++)
        s_group_free(&r->roles[i]);
    free(r->teams);
    free(r->people);
    free(r->overrides);
    tc_contacts_destroy(&r->contacts);
    free(r);
    *p = NULL;
}

/* ---- time arithmetic ---------------------------------------------------- */

/* Floor division: shift numbers before the first shift are negative, and
 * C's division truncates towards zero, which would give shift 0 twice. */
static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t s_clamp(int64_t t)
{
    return t < -S_TIME_LIMIT ? -S_TIME_LIMIT : t > S_TIME_LIMIT ? S_TIME_LIMIT : t;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no libc time function and no TZ variable is
 * involved. */
static int64_t s_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    const int64_t era = s_floor_div(y, 400);
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool s_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly `n` decimal digits. */
static bool s_digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses "YYYY-MM-DD" (years 1900..9999) into days since the epoch. */
static int s_parse_date(const char *s, int64_t *days)
{
    int64_t y, m, d;
    if (strlen(s) < 10 || !s_digits(s, 4, &y) || s[4] != '-' || !s_digits(s + 5, 2, &m) ||
        s[7] != '-' || !s_digits(s + 8, 2, &d))
        return TC_EINVAL;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && s_leap(y)))
        return TC_EINVAL;
    *days = s_days_from_civil(y, m, d);
    return 0;
}

/* Parses "HH:MM" (00:00..23:59) into minutes after midnight. */
static int s_parse_hhmm(const char *s, int64_t *minutes)
{
    int64_t h, m;
    if (strlen(s) != 5 || !s_digits(s, 2, &h) || s[2] != ':' || !s_digits(s + 3, 2, &m) || h > 23 ||
        m > 59)
        return TC_EINVAL;
    *minutes = h * 60 + m;
    return 0;
}

/* Parses "UTC", "Z" or "+HH:MM" / "-HH:MM" (up to 14:00) into minutes east
 * of UTC. Zone names are refused on purpose: their rules live in a tz
 * database that differs between hosts, and two coordinators must agree. */
static int s_parse_zone(const char *s, int64_t *minutes)
{
    if (!strcmp(s, "UTC") || !strcmp(s, "Z")) {
        *minutes = 0;
        return 0;
    }
    int64_t hm;
    if ((s[0] != '+' && s[0] != '-') || s_parse_hhmm(s + 1, &hm) || hm > 14 * 60)
        return TC_EINVAL;
    *minutes = s[0] == '-' ? -hm : hm;
    return 0;
}

/* Parses an RFC 3339 time, "2026-11-24T08:00:00Z", with optional
 * milliseconds (".5", ".123") and a "Z" or "+HH:MM" / "-HH:MM" zone. */
static int s_parse_time(const char *s, int64_t *ms)
{
    int64_t days, hm, sec, frac = 0, zone;
    char hhmm[6];
    if (strlen(s) < 20 || s_parse_date(s, &days) || s[10] != 'T')
        return TC_EINVAL;
    memcpy(hhmm, s + 11, 5);
    hhmm[5] = '\0';
    if (s_parse_hhmm(hhmm, &hm) || s[16] != ':' || !s_digits(s + 17, 2, &sec) || sec > 59)
        return TC_EINVAL;
    const char *p = s + 19;
    if (*p == '.') {
        size_t n = strspn(p + 1, "0123456789");
        if (n < 1 || n > 3 || !s_digits(p + 1, n, &frac))
            return TC_EINVAL;
        for (size_t i = n; i < 3; i++)
            frac *= 10;
        p += 1 + n;
    }
    if (!strcmp(p, "UTC") || s_parse_zone(p, &zone))
        return TC_EINVAL;
    *ms = days * S_DAY_MS + hm * S_MIN_MS + sec * 1000 + frac - zone * S_MIN_MS;
    return 0;
}

/* A shift length: a duration tc_duration_parse() accepts (up to 30d), or
 * whole weeks "1w".."52w" because weekly rotations are the common case. At
 * least a minute: shorter shifts are a typo, not a rotation. */
static int s_parse_shift(const char *s, int64_t *ms)
{
    size_t n = strspn(s, "0123456789");
    if (n > 0 && n <= 2 && !strcmp(s + n, "w")) {
        int64_t w = 0;
        s_digits(s, n, &w);
        if (w < 1 || w > 52)
            return TC_EINVAL;
        *ms = w * 7 * S_DAY_MS;
        return 0;
    }
    if (tc_duration_parse(s, ms) || *ms < S_MIN_MS)
        return TC_EINVAL;
    return 0;
}

/* ---- queries ------------------------------------------------------------ */

static const s_person_t *s_person(const tc_roster_t *r, const char *id)
{
    for (size_t i = 0; id && i < r->npeople; i++)
        if (!strcmp(r->people[i].id, id))
            return &r->people[i];
    return NULL;
}

static const s_group_t *s_team(const tc_roster_t *r, const char *name)
{
    for (size_t i = 0; name && i < r->nteams; i++)
        if (!strcmp(r->teams[i].name, name))
            return &r->teams[i];
    return NULL;
}

/* The slot of a configurable role name, or -1 (also for "sme"). */
static int s_role_slot(const char *name)
{
    for (size_t i = 0; name && i < S_NROLES; i++)
        if (!strcmp(s_role_names[i], name))
            return (int)i;
    return -1;
}

/* Resolves the (team, role) pair the public queries take into one group.
 * Returns 0, TC_EINVAL (caller named neither or both, or a non-role) or
 * TC_ENOTFOUND (valid but not in the roster). */
static int s_group(const tc_roster_t *r, const char *team, const char *role, const s_group_t **out)
{
    if (!team == !role)
        return TC_EINVAL;
    if (team) {
        *out = s_team(r, team);
        return *out ? 0 : TC_ENOTFOUND;
    }
    int slot = s_role_slot(role);
    if (slot < 0)
        return TC_EINVAL;
    *out = &r->roles[slot];
    return (*out)->configured ? 0 : TC_ENOTFOUND;
}

static int64_t s_shift_number(const s_rotation_t *rot, int64_t now_ms)
{
    return s_floor_div(s_clamp(now_ms) - rot->first_ms, rot->shift_ms);
}

/* Position in members[] of whoever the rotation schedules at now_ms. */
static size_t s_scheduled(const s_rotation_t *rot, int64_t now_ms)
{
    int64_t k = s_shift_number(rot, now_ms) % (int64_t)rot->nmembers;
    return (size_t)(k < 0 ? k + (int64_t)rot->nmembers : k);
}

/* The person index on call for group g: overrides first (last listed wins,
 * so a short cover written after a long one punches a hole in it). */
static size_t s_oncall(const tc_roster_t *r, const s_group_t *g, int64_t now_ms)
{
    for (size_t i = r->noverrides; i-- > 0;) {
        const s_override_t *o = &r->overrides[i];
        if (o->group == g && o->from_ms <= now_ms && now_ms < o->until_ms)
            return o->person;
    }
    return g->rot.members[s_scheduled(&g->rot, now_ms)];
}

static size_t s_push_unique(size_t *chain, size_t n, size_t person)
{
    for (size_t i = 0; i < n; i++)
        if (chain[i] == person)
            return n;
    chain[n] = person;
    return n + 1;
}

/* Fills chain (room for TC_ROSTER_MEMBERS_MAX + 1) with g's escalation
 * chain at at_ms; returns its length (at least 1). */
static size_t s_chain(const tc_roster_t *r, const s_group_t *g, int64_t at_ms, size_t *chain)
{
    size_t n = s_push_unique(chain, 0, s_oncall(r, g, at_ms));
    if (g->esc) {
        for (size_t i = 0; i < g->nesc; i++)
            n = s_push_unique(chain, n, g->esc[i]);
        return n;
    }
    const s_rotation_t *rot = &g->rot;
    size_t first = s_scheduled(rot, at_ms);
    for (size_t i = 0; i < rot->nmembers; i++)
        n = s_push_unique(chain, n, rot->members[(first + i) % rot->nmembers]);
    return n;
}

static void s_copy_id(const tc_roster_t *r, size_t person, char *out)
{
    snprintf(out, TC_ID_MAX, "%s", r->people[person].id);
}

bool tc_roster_role_valid(const char *role)
{
    return role && (s_role_slot(role) >= 0 || !strcmp(role, "sme"));
}

bool tc_roster_has_person(const tc_roster_t *r, const char *person)
{
    return s_person(r, person) != NULL;
}

bool tc_roster_has_team(const tc_roster_t *r, const char *team)
{
    return s_team(r, team) != NULL;
}

bool tc_roster_has_role(const tc_roster_t *r, const char *role)
{
    int slot = s_role_slot(role);
    return slot >= 0 && r->roles[slot].configured;
}

int tc_roster_person(const tc_roster_t *r, const char *person, const char **name,
                     const char **email)
{
    const s_person_t *p = s_person(r, person);
    if (!p)
        return TC_ENOTFOUND;
    if (name)
        *name = p->name;
    if (email)
        *email = p->email;
    return 0;
}

void tc_roster_each_person(const tc_roster_t *r, tc_roster_person_fn *fn, void *ctx)
{
    for (size_t i = 0; i < r->npeople; i++)
        fn(r->people[i].id, r->people[i].name, r->people[i].email, ctx);
}

int tc_roster_team_oncall(const tc_roster_t *r, const char *team, int64_t now_ms, char *out)
{
    const s_group_t *g;
    int rc = s_group(r, team ? team : "", NULL, &g);
    if (rc)
        return rc;
    s_copy_id(r, s_oncall(r, g, now_ms), out);
    return 0;
}

int tc_roster_role_oncall(const tc_roster_t *r, const char *role, int64_t now_ms, char *out)
{
    const s_group_t *g;
    int rc = s_group(r, NULL, role ? role : "", &g);
    if (rc)
        return rc;
    s_copy_id(r, s_oncall(r, g, now_ms), out);
    return 0;
}

int tc_roster_escalate(const tc_roster_t *r, const char *team, const char *role,
                       const char *current, int64_t at_ms, char *out)
{
    const s_group_t *g;
    int rc = s_group(r, team, role, &g);
    if (rc)
        return rc;
    size_t chain[TC_ROSTER_MEMBERS_MAX + 1];
    size_t n = s_chain(r, g, at_ms, chain);
    size_t next = 0;
    for (size_t i = 0; current && i < n; i++) {
        if (!strcmp(r->people[chain[i]].id, current)) {
            next = i + 1;
            break;
        }
    }
    if (next >= n)
        return TC_ENOTFOUND;
    s_copy_id(r, chain[next], out);
    return 0;
}

static const char *const s_day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* "Sat 14 Nov 2026 22:10" of a local time in ms. */
static void s_local_text(int64_t local_ms, char *out, size_t cap)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t day = s_floor_div(local_ms, S_DAY_MS);
    int64_t min = (local_ms - day * S_DAY_MS) / S_MIN_MS;
    /* civil_from_days (H. Hinnant), the inverse of s_days_from_civil. */
    int64_t z = day + 719468, era = s_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    int64_t wd = ((day + 3) % 7 + 7) % 7;
    static const char *const wdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    snprintf(out, cap, "%s %lld %s %lld %02lld:%02lld", wdays[wd], (long long)d, months[m - 1],
             (long long)y, (long long)(min / 60), (long long)(min % 60));
}

/* "mon-fri 09:00-18:00" or "mon, wed 09:00-18:00". */
static void s_hours_text(const s_hours_t *h, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < 7 && o < cap; i++) {
        if (!(h->days & (1u << i)))
            continue;
        int j = i;
        while (j + 1 < 7 && (h->days & (1u << (j + 1))))
            j++;
        o += (size_t)snprintf(out + o, cap - o, "%s%s%s%s", o ? ", " : "", s_day_names[i],
                              j > i ? "-" : "", j > i ? s_day_names[j] : "");
        i = j;
    }
    if (o < cap)
        snprintf(out + o, cap - o, " %02lld:%02lld-%02lld:%02lld", (long long)(h->from_min / 60),
                 (long long)(h->from_min % 60), (long long)(h->to_min / 60),
                 (long long)(h->to_min % 60));
}

int tc_roster_business_hours(const tc_roster_t *r, const char *team, int64_t at_ms, bool *inside,
                             char *why, size_t whylen)
{
    const s_group_t *g = s_team(r, team);
    if (!g || !g->hours.set)
        return TC_ENOTFOUND;
    const s_hours_t *h = &g->hours;
    int64_t local = s_clamp(at_ms) + h->zone_min * S_MIN_MS;
    int64_t day = s_floor_div(local, S_DAY_MS);
    int64_t min = (local - day * S_DAY_MS) / S_MIN_MS;
    int wd = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    bool holiday = false;
    for (size_t i = 0; i < h->nholidays; i++)
        holiday |= h->holidays[i] == day;
    *inside = !holiday && (h->days & (1u << wd)) && min >= h->from_min && min < h->to_min;
    if (why && whylen) {
        char when[48], hours[96], zone[48];
        s_local_text(local, when, sizeof when);
        s_hours_text(h, hours, sizeof hours);
        int64_t z = h->zone_min < 0 ? -h->zone_min : h->zone_min;
        if (h->zone_min)
            snprintf(zone, sizeof zone, "%c%02lld:%02lld", h->zone_min < 0 ? '-' : '+',
                     (long long)(z / 60), (long long)(z % 60));
        else
            snprintf(zone, sizeof zone, "UTC");
        snprintf(why, whylen, "%s at %s, %s business hours (%s)%s", when, zone,
                 *inside ? "within" : "outside", hours, holiday ? "; a holiday" : "");
    }
    return 0;
}

int tc_roster_fallback(const tc_roster_t *r, const char *team, const char *role, char *out)
{
    const s_group_t *g;
    int rc = s_group(r, team, role, &g);
    if (rc)
        return rc;
    if (!g->has_fallback)
        return TC_ENOTFOUND;
    s_copy_id(r, g->fallback, out);
    return 0;
}

size_t tc_roster_npeople(const tc_roster_t *r)
{
    return r ? r->npeople : 0;
}

int64_t tc_roster_ack_timeout_ms(const tc_roster_t *r, const char *team, const char *role)
{
    const s_group_t *g;
    if (s_group(r, team, role, &g) || !g->ack_ms)
        return TC_ROSTER_ACK_TIMEOUT_MS;
    return g->ack_ms;
}

int tc_roster_next_handoff(const tc_roster_t *r, const char *team, const char *role, int64_t now_ms,
                           int64_t *out_ms)
{
    const s_group_t *g;
    int rc = s_group(r, team, role, &g);
    if (rc)
        return rc;
    now_ms = s_clamp(now_ms);
    const s_rotation_t *rot = &g->rot;
    int64_t next = rot->first_ms + (s_shift_number(rot, now_ms) + 1) * rot->shift_ms;
    for (size_t i = 0; i < r->noverrides; i++) {
        const s_override_t *o = &r->overrides[i];
        if (o->group != g)
            continue;
        if (o->from_ms > now_ms && o->from_ms < next)
            next = o->from_ms;
        if (o->until_ms > now_ms && o->until_ms < next)
            next = o->until_ms;
    }
    *out_ms = next;
    return 0;
}

/* ---- loading ------------------------------------------------------------ */

typedef struct {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
    tc_roster_t *r;
} s_load_t;

static int s_fail(s_load_t *ld, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_fail(s_load_t *ld, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%zu: %s", ld->file, n ? n->start_mark.line + 1 : 0, msg);
    return TC_ECONFIG;
}

static yaml_node_t *s_node(s_load_t *ld, int id)
{
    return yaml_document_get_node(ld->doc, id);
}

static const char *s_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A YAML null: "key:" with nothing after it, "~" or "null". */
static bool s_is_null(const yaml_node_t *n)
{
    const char *v = s_scalar(n);
    return v && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*v || !strcmp(v, "~") || !strcmp(v, "null"));
}

/* Iterates over mapping node n's pairs as p. */
#define S_EACH_PAIR(n, p)                                                                          \
    for (yaml_node_pair_t *p = (n)->data.mapping.pairs.start; p < (n)->data.mapping.pairs.top; p++)

static size_t s_pairs(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static size_t s_items(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* Fails on a key given twice in mapping n: libyaml keeps both, and taking
 * either silently would hide a mistake. */
static int s_unique_keys(s_load_t *ld, yaml_node_t *n, const char *path)
{
    S_EACH_PAIR(n, p)
    {
        yaml_node_t *k = s_node(ld, p->key);
        const char *key = s_scalar(k);
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; key && q < p; q++) {
            const char *prev = s_scalar(s_node(ld, q->key));
            if (prev && !strcmp(prev, key))
                return s_fail(ld, k, "%s.%.64s: duplicate key", path, key);
        }
    }
    return 0;
}

/* Reads a scalar key; fails naming `path` when it is not one. */
static int s_key(s_load_t *ld, yaml_node_pair_t *p, const char *path, const char **key)
{
    yaml_node_t *k = s_node(ld, p->key);
    *key = s_scalar(k);
    if (!*key) {
        /* Said outright so the compiler knows *key is set whenever 0 is. */
        s_fail(ld, k, "%s: keys must be scalars", path);
        return TC_ECONFIG;
    }
    return 0;
}

/* Reads a scalar value of `path`. */
static int s_value(s_load_t *ld, yaml_node_t *v, const char *path, const char **val)
{
    *val = s_scalar(v);
    if (!*val)
        return s_fail(ld, v, "%s: must be a scalar", path);
    return 0;
}

/* Looks up a person named at `path`, for members, escalation and overrides. */
static int s_person_ref(s_load_t *ld, yaml_node_t *v, const char *path, size_t *out)
{
    const char *id;
    int rc = s_value(ld, v, path, &id);
    if (rc)
        return rc;
    const s_person_t *p = s_person(ld->r, id);
    if (!p)
        return s_fail(ld, v, "%s: unknown person \"%.64s\" (not listed under people)", path, id);
    *out = (size_t)(p - ld->r->people);
    return 0;
}

/* Reads a non-empty sequence of people at `path` into a new array. */
static int s_person_list(s_load_t *ld, yaml_node_t *v, const char *path, bool allow_dups,
                         size_t **out, size_t *nout)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return s_fail(ld, v, "%s: must be a list of people", path);
    size_t n = s_items(v);
    if (n == 0)
        return s_fail(ld, v, "%s: must not be empty", path);
    if (n > TC_ROSTER_MEMBERS_MAX)
        return s_fail(ld, v, "%s: more than %d people", path, TC_ROSTER_MEMBERS_MAX);
    size_t *list = calloc(n, sizeof *list);
    if (!list)
        return TC_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char ipath[300];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        yaml_node_t *item = s_node(ld, v->data.sequence.items.start[i]);
        rc = s_person_ref(ld, item, ipath, &list[i]);
        for (size_t j = 0; !rc && !allow_dups && j < i; j++)
            if (list[j] == list[i])
                rc = s_fail(ld, item, "%s: \"%s\" is listed twice", ipath,
                            ld->r->people[list[i]].id);
    }
    if (rc) {
        free(list);
        return rc;
    }
    *out = list;
    *nout = n;
    return 0;
}

static int s_rotation(s_load_t *ld, yaml_node_t *n, const char *path, s_rotation_t *rot)
{
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "%s: must be a mapping", path);
    int rc0 = s_unique_keys(ld, n, path);
    if (rc0)
        return rc0;
    int64_t handoff = 9 * 60, zone = 0, start_day = s_days_from_civil(1970, 1, 5);
    rot->shift_ms = 7 * S_DAY_MS;
    S_EACH_PAIR(n, p)
    {
        const char *key, *val;
        char kpath[400];
        yaml_node_t *v = s_node(ld, p->value);
        int rc = s_key(ld, p, path, &key);
        if (rc)
            return rc;
        snprintf(kpath, sizeof kpath, "%.300s.%.64s", path, key);
        if (!strcmp(key, "members")) {
            rc = s_person_list(ld, v, kpath, true, &rot->members, &rot->nmembers);
            if (rc)
                return rc;
            continue;
        }
        bool shift = !strcmp(key, "shift"), hand = !strcmp(key, "handoff"),
             tz = !strcmp(key, "timezone"), start = !strcmp(key, "start");
        if (!shift && !hand && !tz && !start)
            return s_fail(ld, s_node(ld, p->key), "%s: unknown key \"%.64s\"", path, key);
        if ((rc = s_value(ld, v, kpath, &val)))
            return rc;
        if (shift && s_parse_shift(val, &rot->shift_ms))
            return s_fail(ld, v, "%s: invalid shift \"%.64s\" (1m..30d, or 1w..52w)", kpath, val);
        if (hand && s_parse_hhmm(val, &handoff))
            return s_fail(ld, v, "%s: invalid time of day \"%.64s\" (HH:MM)", kpath, val);
        if (tz && s_parse_zone(val, &zone))
            return s_fail(ld, v,
                          "%s: invalid timezone \"%.64s\" (UTC, +HH:MM or -HH:MM; zone "
                          "names are not supported)",
                          kpath, val);
        if (start && (strlen(val) != 10 || s_parse_date(val, &start_day)))
            return s_fail(ld, v, "%s: invalid date \"%.64s\" (YYYY-MM-DD)", kpath, val);
    }
    if (!rot->members)
        return s_fail(ld, n, "%s: missing members", path);
    rot->first_ms = start_day * S_DAY_MS + (handoff - zone) * S_MIN_MS;
    return 0;
}

/* Reads a team's business_hours: {days: [mon, ...], from: "09:00", to:
 * "18:00", timezone: "+01:00", holidays: [2026-12-25]}. */
static int s_business_hours(s_load_t *ld, yaml_node_t *n, const char *path, s_hours_t *h)
{
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "%s: must be a mapping (days, from, to, timezone, holidays)", path);
    int rc = s_unique_keys(ld, n, path);
    if (rc)
        return rc;
    bool have_days = false, have_from = false, have_to = false;
    h->from_min = 0;
    h->to_min = 24 * 60;
    S_EACH_PAIR(n, p)
    {
        const char *key, *val;
        char kpath[400];
        yaml_node_t *k = s_node(ld, p->key), *v = s_node(ld, p->value);
        if ((rc = s_key(ld, p, path, &key)))
            return rc;
        snprintf(kpath, sizeof kpath, "%.300s.%.64s", path, key);
        if (!strcmp(key, "days") || !strcmp(key, "holidays")) {
            bool days = key[0] == 'd';
            if (v->type != YAML_SEQUENCE_NODE)
                return s_fail(ld, v, "%s: must be a list of %s", kpath,
                              days ? "days (mon, tue, ...)" : "dates (YYYY-MM-DD)");
            size_t count = s_items(v);
            if (!days && count && !(h->holidays = calloc(count, sizeof *h->holidays)))
                return TC_ENOMEM;
            for (size_t i = 0; i < count; i++) {
                yaml_node_t *item = s_node(ld, v->data.sequence.items.start[i]);
                char ipath[440];
                snprintf(ipath, sizeof ipath, "%.400s[%zu]", kpath, i);
                if ((rc = s_value(ld, item, ipath, &val)))
                    return rc;
                if (!days) {
                    if (strlen(val) != 10 || s_parse_date(val, &h->holidays[h->nholidays]))
                        return s_fail(ld, item, "%s: invalid date \"%.64s\" (YYYY-MM-DD)", ipath,
                                      val);
                    h->nholidays++;
                    continue;
                }
                int d = -1;
                for (int j = 0; j < 7; j++)
                    if (!strcmp(val, s_day_names[j]))
                        d = j;
                if (d < 0)
                    return s_fail(ld, item,
                                  "%s: unknown day \"%.64s\" (mon, tue, wed, thu, fri, sat, sun)",
                                  ipath, val);
                if (h->days & (1u << d))
                    return s_fail(ld, item, "%s: \"%s\" is listed twice", ipath, val);
                h->days |= 1u << d;
            }
            if (days && !h->days)
                return s_fail(ld, v, "%s: must not be empty", kpath);
            have_days |= days;
            continue;
        }
        bool from = !strcmp(key, "from"), to = !strcmp(key, "to"), tz = !strcmp(key, "timezone");
        if (!from && !to && !tz)
            return s_fail(ld, k, "%s: unknown key \"%.64s\" (days, from, to, timezone, holidays)",
                          path, key);
        if ((rc = s_value(ld, v, kpath, &val)))
            return rc;
        if (tz && s_parse_zone(val, &h->zone_min))
            return s_fail(ld, v,
                          "%s: invalid timezone \"%.64s\" (UTC, +HH:MM or -HH:MM; zone "
                          "names are not supported)",
                          kpath, val);
        int64_t *dst = from ? &h->from_min : &h->to_min;
        if ((from || to) && !(to && !strcmp(val, "24:00")) && s_parse_hhmm(val, dst))
            return s_fail(ld, v, "%s: invalid time of day \"%.64s\" (HH:MM)", kpath, val);
        if (to && !strcmp(val, "24:00"))
            *dst = 24 * 60;
        have_from |= from;
        have_to |= to;
    }
    if (!have_days)
        return s_fail(ld, n, "%s: missing days", path);
    if (!have_from || !have_to)
        return s_fail(ld, n, "%s: missing %s", path, have_from ? "to" : "from");
    if (h->to_min <= h->from_min)
        return s_fail(ld, n, "%s: to must be after from (hours across midnight are not supported)",
                      path);
    h->set = true;
    return 0;
}

/* Reads a team's or a role's body: rotation, escalation, ack_timeout,
 * fallback, and for a team its business_hours. */
static int s_group_body(s_load_t *ld, yaml_node_t *n, const char *path, s_group_t *g)
{
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "%s: must be a mapping", path);
    int rc0 = s_unique_keys(ld, n, path);
    if (rc0)
        return rc0;
    bool have_rotation = false;
    S_EACH_PAIR(n, p)
    {
        const char *key, *val;
        char kpath[400];
        yaml_node_t *k = s_node(ld, p->key), *v = s_node(ld, p->value);
        int rc = s_key(ld, p, path, &key);
        if (rc)
            return rc;
        snprintf(kpath, sizeof kpath, "%.300s.%.64s", path, key);
        if (!strcmp(key, "rotation")) {
            have_rotation = true;
            rc = s_rotation(ld, v, kpath, &g->rot);
        } else if (!strcmp(key, "escalation")) {
            rc = s_person_list(ld, v, kpath, false, &g->esc, &g->nesc);
        } else if (!strcmp(key, "ack_timeout")) {
            rc = s_value(ld, v, kpath, &val);
            if (!rc && (tc_duration_parse(val, &g->ack_ms) || g->ack_ms < 1000))
                rc = s_fail(ld, v, "%s: invalid duration \"%.64s\" (1s..30d)", kpath, val);
        } else if (!strcmp(key, "fallback")) {
            rc = s_person_ref(ld, v, kpath, &g->fallback);
            g->has_fallback = rc == 0;
        } else if (!strcmp(key, "business_hours") && !strncmp(path, "teams.", 6)) {
            rc = s_business_hours(ld, v, kpath, &g->hours);
        } else {
            rc = s_fail(ld, k, "%s: unknown key \"%.64s\"", path, key);
        }
        if (rc)
            return rc;
    }
    if (!have_rotation)
        return s_fail(ld, n, "%s: missing rotation", path);
    g->configured = true;
    return 0;
}

static int s_people(s_load_t *ld, yaml_node_t *n)
{
    tc_roster_t *r = ld->r;
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "people: must be a mapping of person id to details");
    if (s_pairs(n) && !(r->people = calloc(s_pairs(n), sizeof *r->people)))
        return TC_ENOMEM;
    S_EACH_PAIR(n, p)
    {
        const char *id = "";
        char path[128];
        yaml_node_t *k = s_node(ld, p->key), *v = s_node(ld, p->value);
        int rc = s_key(ld, p, "people", &id);
        if (rc)
            return rc;
        snprintf(path, sizeof path, "people.%.64s", id);
        if (!tc_id_valid(id))
            return s_fail(ld, k, "%s: invalid id (1..%d characters of A-Z a-z 0-9 . _ : -)", path,
                          TC_ID_MAX - 1);
        if (s_person(r, id))
            return s_fail(ld, k, "%s: duplicate person", path);
        if (v->type != YAML_MAPPING_NODE)
            return s_fail(ld, v, "%s: must be a mapping (use {} for no details)", path);
        if ((rc = s_unique_keys(ld, v, path)))
            return rc;
        s_person_t *person = &r->people[r->npeople];
        snprintf(person->id, sizeof person->id, "%s", id);
        S_EACH_PAIR(v, q)
        {
            const char *key, *val;
            char kpath[400];
            yaml_node_t *k2 = s_node(ld, q->key), *v2 = s_node(ld, q->value);
            if ((rc = s_key(ld, q, path, &key)))
                return rc;
            snprintf(kpath, sizeof kpath, "%.300s.%.64s", path, key);
            if (!strcmp(key, "contact")) {
                /* Contact methods: contacts.c reads and checks them. */
                rc = tc_contacts_parse_person(r->contacts, ld->doc, v2, ld->file, kpath, id,
                                              ld->err, ld->errlen);
                if (rc)
                    return rc;
                continue;
            }
            char *dst;
            size_t cap;
            if (!strcmp(key, "name")) {
                dst = person->name;
                cap = sizeof person->name;
            } else if (!strcmp(key, "email")) {
                dst = person->email;
                cap = sizeof person->email;
            } else {
                return s_fail(ld, k2, "%s: unknown key \"%.64s\"", path, key);
            }
            if ((rc = s_value(ld, v2, kpath, &val)))
                return rc;
            if (!*val || strlen(val) >= cap)
                return s_fail(ld, v2, "%s: must be 1..%zu bytes", kpath, cap - 1);
            if (dst == person->email && (!strchr(val, '@') || strpbrk(val, " \t\r\n<>")))
                return s_fail(ld, v2, "%s: invalid e-mail address \"%.64s\"", kpath, val);
            snprintf(dst, cap, "%s", val);
        }
        /* Counted only once read in full, so a person whose details fail
         * never becomes visible to the lookups. */
        r->npeople++;
    }
    return 0;
}

static int s_teams(s_load_t *ld, yaml_node_t *n)
{
    tc_roster_t *r = ld->r;
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "teams: must be a mapping of team name to team");
    if (s_pairs(n) && !(r->teams = calloc(s_pairs(n), sizeof *r->teams)))
        return TC_ENOMEM;
    S_EACH_PAIR(n, p)
    {
        const char *name;
        char path[128];
        yaml_node_t *k = s_node(ld, p->key);
        int rc = s_key(ld, p, "teams", &name);
        if (rc)
            return rc;
        snprintf(path, sizeof path, "teams.%.64s", name);
        if (!tc_id_valid(name))
            return s_fail(ld, k, "%s: invalid name (1..%d characters of A-Z a-z 0-9 . _ : -)", path,
                          TC_ID_MAX - 1);
        if (s_team(r, name))
            return s_fail(ld, k, "%s: duplicate team", path);
        s_group_t *g = &r->teams[r->nteams];
        /* Counted before parsing so that destroy frees whatever the body
         * allocated if it fails half-way. */
        r->nteams++;
        if ((rc = s_group_body(ld, s_node(ld, p->value), path, g)))
            return rc;
        snprintf(g->name, sizeof g->name, "%s", name);
    }
    return 0;
}

static int s_roles(s_load_t *ld, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "roles: must be a mapping of role name to role");
    S_EACH_PAIR(n, p)
    {
        const char *name;
        char path[128];
        yaml_node_t *k = s_node(ld, p->key);
        int rc = s_key(ld, p, "roles", &name);
        if (rc)
            return rc;
        snprintf(path, sizeof path, "roles.%.64s", name);
        if (!strcmp(name, "sme"))
            return s_fail(ld, k,
                          "%s: the SME is the owning team's on-call; configure the team "
                          "instead",
                          path);
        int slot = s_role_slot(name);
        if (slot < 0)
            return s_fail(ld, k,
                          "roles: unknown role \"%.64s\" (commander, deputy, scribe, "
                          "customer_liaison, internal_liaison, dpo)",
                          name);
        s_group_t *g = &ld->r->roles[slot];
        if (g->configured)
            return s_fail(ld, k, "%s: duplicate role", path);
        if ((rc = s_group_body(ld, s_node(ld, p->value), path, g)))
            return rc;
        snprintf(g->name, sizeof g->name, "%s", name);
    }
    return 0;
}

static int s_override(s_load_t *ld, yaml_node_t *n, const char *path, s_override_t *o)
{
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "%s: must be a mapping", path);
    int rc0 = s_unique_keys(ld, n, path);
    if (rc0)
        return rc0;
    bool have_person = false, have_from = false, have_until = false;
    yaml_node_t *until_node = NULL;
    S_EACH_PAIR(n, p)
    {
        const char *key, *val;
        char kpath[400];
        yaml_node_t *k = s_node(ld, p->key), *v = s_node(ld, p->value);
        int rc = s_key(ld, p, path, &key);
        if (rc)
            return rc;
        snprintf(kpath, sizeof kpath, "%.300s.%.64s", path, key);
        if (strcmp(key, "team") && strcmp(key, "role") && strcmp(key, "person") &&
            strcmp(key, "from") && strcmp(key, "until"))
            return s_fail(ld, k, "%s: unknown key \"%.64s\"", path, key);
        if ((rc = s_value(ld, v, kpath, &val)))
            return rc;
        if (!strcmp(key, "team") || !strcmp(key, "role")) {
            if (o->group)
                return s_fail(ld, k, "%s: give one of team or role", path);
            const s_group_t *g;
            rc = key[0] == 't' ? s_group(ld->r, val, NULL, &g) : s_group(ld->r, NULL, val, &g);
            if (rc && key[0] == 't')
                return s_fail(ld, v, "%s: unknown team \"%.64s\"", kpath, val);
            if (rc == TC_ENOTFOUND)
                return s_fail(ld, v, "%s: role \"%.64s\" is not configured under roles", kpath,
                              val);
            if (rc)
                return s_fail(ld, v,
                              "%s: \"%.64s\" is not a configurable role (the SME is the "
                              "team's on-call: override the team)",
                              kpath, val);
            o->group = g;
        } else if (!strcmp(key, "person")) {
            have_person = true;
            if ((rc = s_person_ref(ld, v, kpath, &o->person)))
                return rc;
        } else {
            bool from = !strcmp(key, "from");
            if (s_parse_time(val, from ? &o->from_ms : &o->until_ms))
                return s_fail(ld, v, "%s: invalid time \"%.64s\" (RFC 3339, e.g. %s)", kpath, val,
                              "2026-11-24T08:00:00Z");
            if (from) {
                have_from = true;
            } else {
                have_until = true;
                until_node = v;
            }
        }
    }
    if (!o->group)
        return s_fail(ld, n, "%s: missing team or role", path);
    if (!have_person)
        return s_fail(ld, n, "%s: missing person", path);
    if (!have_from)
        return s_fail(ld, n, "%s: missing from", path);
    if (!have_until)
        return s_fail(ld, n, "%s: missing until", path);
    if (o->until_ms <= o->from_ms)
        return s_fail(ld, until_node, "%s.until: must be after from", path);
    return 0;
}

static int s_overrides(s_load_t *ld, yaml_node_t *n)
{
    tc_roster_t *r = ld->r;
    if (n->type != YAML_SEQUENCE_NODE)
        return s_fail(ld, n, "overrides: must be a list");
    size_t count = s_items(n);
    if (count && !(r->overrides = calloc(count, sizeof *r->overrides)))
        return TC_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        char path[64];
        snprintf(path, sizeof path, "overrides[%zu]", i);
        int rc =
            s_override(ld, s_node(ld, n->data.sequence.items.start[i]), path, &r->overrides[i]);
        if (rc)
            return rc;
        r->noverrides++;
    }
    return 0;
}

/* The paging rules by urgency (contacts.c). */
static int s_paging(s_load_t *ld, yaml_node_t *n)
{
    return tc_contacts_parse_paging(ld->r->contacts, ld->doc, n, ld->file, ld->err, ld->errlen);
}

/* Finds the roster's sections at the top level and reads them in dependency
 * order (people before the lists that name them), whatever order the file
 * has them in. */
static int s_walk(s_load_t *ld)
{
    static const char *const names[] = {"people", "teams", "roles", "overrides", "paging"};
    static int (*const readers[])(s_load_t *, yaml_node_t *) = {s_people, s_teams, s_roles,
                                                                s_overrides, s_paging};
    yaml_node_t *sections[5] = {NULL};
    yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (!root || s_is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return s_fail(ld, root, "top level must be a mapping");
    S_EACH_PAIR(root, p)
    {
        const char *key = s_scalar(s_node(ld, p->key));
        for (size_t i = 0; key && i < 5; i++) {
            if (strcmp(key, names[i]) != 0)
                continue;
            if (sections[i])
                return s_fail(ld, s_node(ld, p->key), "%s: duplicate key", key);
            sections[i] = s_node(ld, p->value);
        }
    }
    for (size_t i = 0; i < 5; i++) {
        if (!sections[i] || s_is_null(sections[i]))
            continue;
        int rc = readers[i](ld, sections[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int tc_roster_load(const char *path, tc_roster_t **out, char *err, size_t errlen)
{
    int rc;
    yaml_parser_t parser;
    yaml_document_t doc;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return TC_ECONFIG;
    }
    tc_roster_t *r = tc_roster_new_empty();
    if (!r) {
        rc = TC_ENOMEM;
        goto fail_roster;
    }
    if (!yaml_parser_initialize(&parser)) {
        rc = TC_ENOMEM;
        goto fail_parser;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML syntax error");
        rc = parser.error == YAML_MEMORY_ERROR ? TC_ENOMEM : TC_ECONFIG;
        goto fail_load;
    }
    s_load_t ld = {.doc = &doc, .file = path, .err = err, .errlen = errlen, .r = r};
    rc = s_walk(&ld);
    yaml_document_delete(&doc);
    if (rc)
        goto fail_load;
    yaml_parser_delete(&parser);
    fclose(f);
    *out = r;
    return 0;

fail_load:
    yaml_parser_delete(&parser);
fail_parser:
    tc_roster_destroy(&r);
fail_roster:
    fclose(f);
    if (rc == TC_ENOMEM)
        snprintf(err, errlen, "%s: out of memory", path);
    return rc;
}
