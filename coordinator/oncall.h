/*
 * oncall.h - the on-call roster: who is on call for a team or an incident
 * role at a given time, and who is next in the escalation chain.
 *
 * Pure: every query takes the time as int64 milliseconds since the Unix
 * epoch (UTC) and reads no clock, so the coordinator replaying its log gets
 * the same answers as it did live. Only tc_roster_load() does I/O. Time
 * zones are fixed offsets (UTC, +HH:MM, -HH:MM), never a tz database, so an
 * answer does not depend on the host it is computed on.
 *
 * The roster comes from four top-level sections of the coordinator's YAML;
 * other top-level keys belong to other modules and are ignored here:
 *
 *   people:                       # everyone who can be paged
 *     alice: {name: "Alice Liddell", email: alice@example.com}
 *     bob: {}
 *   teams:                        # teams own services; their on-call is the SME
 *     web:
 *       rotation:
 *         members: [alice, bob]   # in order; a person may appear twice
 *         shift: 1w               # 1m..30d, or 1w..52w; default 1w
 *         handoff: "09:00"        # HH:MM in `timezone`; default 09:00
 *         timezone: "+01:00"      # UTC, +HH:MM or -HH:MM; default UTC
 *         start: 2026-01-05       # members[0]'s first shift; default 1970-01-05
 *       escalation: [carol, dave] # optional, see tc_roster_escalate()
 *       ack_timeout: 5m           # optional, default 5m
 *       fallback: erin            # optional: paged when the chain is exhausted
 *       business_hours:           # optional (teams only), see
 *         days: [mon, tue, wed, thu, fri]   # tc_roster_business_hours()
 *         from: "09:00"
 *         to: "18:00"             # after from; "24:00" is the end of the day
 *         timezone: "+01:00"      # UTC, +HH:MM or -HH:MM
 *         holidays: [2026-12-25]  # whole days off, in that zone
 *   roles:                        # commander, deputy, scribe,
 *     commander:                  # customer_liaison, internal_liaison, dpo
 *       rotation: {members: [carol, dave], shift: 1d}
 *   overrides:                    # someone covers a rotation for a while
 *     - {team: web, person: dave,
 *        from: "2026-11-24T08:00:00Z", until: "2026-11-24T20:00:00Z"}
 *   paging: {high_urgency: [1, 2, 3], low_urgency: [4], repeat_every: 5m}
 *
 * A person's `contact` list and the `paging` section are read by
 * contacts.h (contact methods and paging rules by urgency).
 *
 * Rotation arithmetic: the first shift starts on `start` at `handoff` in
 * `timezone`; shift k (k may be negative: the rotation also runs backwards
 * before `start`) covers [first + k*shift, first + (k+1)*shift) and belongs
 * to members[k mod n]. An override covers [from, until); when overrides of
 * the same rotation overlap, the one listed last wins.
 *
 * Threads: a loaded roster is never modified, so any number of threads may
 * query one roster at once. Times beyond +-2^60 ms (36 million years) are
 * clamped.
 */
#ifndef TC_ONCALL_H
#define TC_ONCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_roster tc_roster_t;

/* Default page acknowledgement timeout, when a team or role sets none. */
#define TC_ROSTER_ACK_TIMEOUT_MS (5 * 60 * 1000)

/* Limits, checked by the loader. */
#define TC_ROSTER_MEMBERS_MAX 256 /* people in one rotation or escalation list */
#define TC_ROSTER_NAME_MAX 128    /* display name, with NUL */
#define TC_ROSTER_EMAIL_MAX 256   /* e-mail address, with NUL */

/* Reads the people, teams, roles and overrides sections of YAML file `path`.
 * A file without them (or an empty file) gives an empty roster. Validation
 * is strict: an unknown key, a value of the wrong type, an unknown person,
 * team or role, an empty member list, a bad duration, time, date or zone, an
 * override whose until is not after its from, or a duplicate name fails.
 * Returns 0 and sets *out (caller owns it; free with tc_roster_destroy()),
 * or TC_ECONFIG with "FILE:LINE: path.to.key: reason" in err (errlen >= 256
 * recommended; err may be NULL when errlen is 0) and *out unchanged, or
 * TC_ENOMEM. Nothing is half-loaded. */
int tc_roster_load(const char *path, tc_roster_t **out, char *err, size_t errlen);

/* A roster with no one in it: every query answers TC_ENOTFOUND. Caller owns
 * the result; NULL on allocation failure. */
tc_roster_t *tc_roster_new_empty(void);

/* NULL-safe; nulls *p. */
void tc_roster_destroy(tc_roster_t **p);

/* The people's contact methods and the paging rules (the people's
 * `contact` lists and the `paging` section, read by contacts.h). Borrowed,
 * valid as long as the roster. */
struct tc_contacts;
const struct tc_contacts *tc_roster_contacts(const tc_roster_t *r);

/* True if `role` is an incident role name: commander, deputy, scribe, sme,
 * customer_liaison, internal_liaison or dpo. */
bool tc_roster_role_valid(const char *role);

/* True if the roster lists this person / team / configured role ("sme" is
 * never configured: it is the owning team's on-call). */
bool tc_roster_has_person(const tc_roster_t *r, const char *person);
bool tc_roster_has_team(const tc_roster_t *r, const char *team);
bool tc_roster_has_role(const tc_roster_t *r, const char *role);

/* Sets *name and *email (either pointer may be NULL) to the person's display
 * name and e-mail address, "" when not configured. Borrowed: valid until the
 * roster is destroyed. Returns 0 or TC_ENOTFOUND. */
int tc_roster_person(const tc_roster_t *r, const char *person, const char **name,
                     const char **email);

/* Calls fn(id, name, email, ctx) for every person, in file order (all
 * borrowed for the call). */
typedef void(tc_roster_person_fn)(const char *id, const char *name, const char *email, void *ctx);
void tc_roster_each_person(const tc_roster_t *r, tc_roster_person_fn *fn, void *ctx);

/* Who is on call for team `team` at now_ms: the last-listed override covering
 * now_ms, else the rotation's member for the shift containing now_ms. Copies
 * the person's id into `out` (TC_ID_MAX bytes). Returns 0 or TC_ENOTFOUND
 * (no such team). */
int tc_roster_team_oncall(const tc_roster_t *r, const char *team, int64_t now_ms, char *out);

/* The same for incident role `role` ("commander", ...). Returns 0,
 * TC_ENOTFOUND (a valid role the roster does not configure) or TC_EINVAL
 * (not a role name, or "sme": ask tc_roster_team_oncall() for the owning
 * team). */
int tc_roster_role_oncall(const tc_roster_t *r, const char *role, int64_t now_ms, char *out);

/* The next person to page after `current` in the escalation chain of team
 * `team` (role NULL), or of role `role` (team NULL), as the chain stands at
 * at_ms.
 *
 * The chain starts with whoever is on call at at_ms (an override's person,
 * else the rotation's member). Then come the `escalation` list in order when
 * one is configured, else the rotation's members from the scheduled on-call
 * onwards, wrapping round once. Nobody appears twice. The chain ends: after
 * its last person there is nobody, and a single-member chain escalates to
 * nobody.
 *
 * `current` NULL, "", or someone not in the chain gives the chain's first
 * person. Pass as at_ms the time the first page of this escalation went out,
 * not the time of each step, so a hand-off during the escalation does not
 * reshuffle the chain under it.
 *
 * Copies the person's id into `out` (TC_ID_MAX bytes). Returns 0,
 * TC_ENOTFOUND (no one left, or no such team / configured role) or TC_EINVAL
 * (neither or both of team and role given, or role not a role name / "sme"). */
int tc_roster_escalate(const tc_roster_t *r, const char *team, const char *role,
                       const char *current, int64_t at_ms, char *out);

/* Whether at_ms falls in the business hours of team `team`: on one of its
 * days, from `from` (inclusive) to `to` (exclusive) in its zone, and not on
 * one of its holidays. Sets *inside and writes what applied into `why`
 * (may be NULL), e.g. "Sat 14 Nov 2026 22:10 at +01:00, outside business
 * hours (mon-fri 09:00-18:00)". Returns 0, or TC_ENOTFOUND when there is
 * no such team or it keeps no business hours (then every hour is one). */
int tc_roster_business_hours(const tc_roster_t *r, const char *team, int64_t at_ms, bool *inside,
                             char *why, size_t whylen);

/* Who is paged when the escalation chain of team `team` (role NULL) or of
 * role `role` (team NULL) is exhausted: its `fallback`. Copies the id into
 * `out` (TC_ID_MAX bytes). Returns 0, TC_ENOTFOUND (none configured, or no
 * such team or role) or TC_EINVAL as tc_roster_escalate(). */
int tc_roster_fallback(const tc_roster_t *r, const char *team, const char *role, char *out);

/* How many people the roster lists (0: no roster). */
size_t tc_roster_npeople(const tc_roster_t *r);

/* How long a page to team `team` (role NULL) or role `role` (team NULL) waits
 * for acknowledgement before escalating: its ack_timeout, or
 * TC_ROSTER_ACK_TIMEOUT_MS when it sets none or is not configured. */
int64_t tc_roster_ack_timeout_ms(const tc_roster_t *r, const char *team, const char *role);

/* The earliest time after now_ms at which the on-call of team `team` (role
 * NULL) or role `role` (team NULL) may change: the next rotation hand-off, or
 * the start or end of one of its overrides, whichever is first. Tells
 * operators when shifts change. Sets *out_ms; returns 0, TC_ENOTFOUND or
 * TC_EINVAL as tc_roster_escalate(). */
int tc_roster_next_handoff(const tc_roster_t *r, const char *team, const char *role, int64_t now_ms,
                           int64_t *out_ms);

#endif
