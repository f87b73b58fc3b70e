#include "postmortem.h"

#include "error.h"
#include "render.h"
#include "utf8.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_OWNER_WRITES "_To be written by the post-mortem owner._"

/* Markdown-safe text: control characters and invalid UTF-8 cleaned, and
 * pipes escaped so a plugin's output cannot break the timeline table. */
static void s_md(FILE *out, const char *s)
{
    /* Whole, however long (an update holds 4096 bytes): each ill-formed
     * byte may grow to the three of U+FFFD. */
    size_t cap = 3 * strlen(s) + 1;
    char small[2 * TC_TEXT_MAX], *clean = cap <= sizeof small ? small : malloc(cap);
    if (!clean) {
        clean = small;
        cap = sizeof small;
    }
    tc_utf8_sanitize(s, clean, cap);
    for (const char *p = clean; *p; p++) {
        if (*p == '|')
            fputs("\\|", out);
        else
            fputc(*p, out);
    }
    if (clean != small)
        free(clean);
}

static const char *s_when(int64_t ms, char *buf, size_t cap)
{
    return ms ? tc_time_format(ms, buf, cap) : "-";
}

/* The text of the last timeline entry of `kind`, or NULL. */
static const tc_timeline_t *s_last(const tc_timeline_t *tl, size_t n, const char *kind)
{
    for (size_t i = n; i-- > 0;)
        if (!strcmp(tl[i].kind, kind))
            return &tl[i];
    return NULL;
}

static int s_cmp_update(const void *x, const void *y)
{
    const tc_update_t *a = *(const tc_update_t *const *)x, *b = *(const tc_update_t *const *)y;
    if (a->published_ms != b->published_ms)
        return a->published_ms < b->published_ms ? -1 : 1;
    return a->number < b->number ? -1 : a->number > b->number;
}

/* The Messaging section: what was told to whom, when, from the published
 * updates, oldest first. */
static void s_messaging(FILE *out, const tc_update_t *updates, size_t nupdates)
{
    fputs("## Messaging\n\nInternal and external status updates sent during the incident:\n\n",
          out);
    const tc_update_t **v = calloc(nupdates + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < nupdates; i++)
        if (updates[i].status == TC_UPD_PUBLISHED)
            v[k++] = &updates[i];
    if (v)
        qsort(v, k, sizeof *v, s_cmp_update);
    if (k)
        fputs("| published (UTC) | # | audience | state | by | text |\n|---|---|---|---|---|---|\n",
              out);
    for (size_t i = 0; i < k; i++) {
        const tc_update_t *u = v[i];
        char when[40];
        fprintf(out, "| %s | %" PRIu32 " | %s | ", s_when(u->published_ms, when, sizeof when),
                u->number,
                u->external     ? "external"
                : u->restricted ? "internal, need to know"
                                : "internal");
        s_md(out, u->state);
        fputs(" | ", out);
        s_md(out, u->approver[0] && u->external ? u->approver : u->author);
        fputs(" | ", out);
        s_md(out, u->body);
        fputs(" |\n", out);
    }
    if (!k)
        fputs("- none published\n", out);
    free(v);
    fputs("\n" S_OWNER_WRITES "\n", out);
}

/* The Public report section: what customers read after the incident
 * (Hotjar step 8), or what is owed. The newest report counts. */
static void s_public_report(FILE *out, const tc_incident_t *inc, const tc_update_t *updates,
                            size_t nupdates)
{
    const tc_update_t *r = NULL;
    for (size_t i = 0; i < nupdates; i++)
        if (tc_update_is_report(&updates[i]) && updates[i].status != TC_UPD_WITHDRAWN &&
            (!r || updates[i].number > r->number))
            r = &updates[i];
    fputs("## Public report\n\n", out);
    if (!r) {
        fprintf(out,
                inc->is_public
                    ? "Customers were told of this incident: they are owed a report. Draft it "
                      "with `tocsinctl postmortem %" PRIu64 " report --summary ... --impact ... "
                      "--cause ... --actions ...`.\n\n"
                    : "None: customers were not told of this incident (%" PRIu64 ").\n\n",
                inc->id);
        return;
    }
    char a[40];
    if (r->status == TC_UPD_PUBLISHED)
        fprintf(out, "Published %s (update %" PRIu32 ", approved by %s).\n\n",
                s_when(r->published_ms, a, sizeof a), r->number, r->approver);
    else
        fprintf(out, "%s (update %" PRIu32 ", by %s); not yet published.\n\n",
                r->status == TC_UPD_APPROVED ? "Approved" : "Drafted", r->number, r->author);
    char text[TC_BODY_MAX];
    for (tc_report_part_t k = 0; k < TC_REPORT_PARTS; k++) {
        fprintf(out, "- %s: ", tc_report_heading(k));
        s_md(out, tc_report_part_text(r, k, text, sizeof text));
        fputs("\n", out);
    }
    fputs("\n", out);
}

int tc_postmortem_markdown(FILE *out, const tc_incident_t *inc, const tc_timeline_t *tl, size_t n,
                           const tc_update_t *updates, size_t nupdates)
{
    char a[40], b[40], dur[32];
    fprintf(out, "# Post-mortem: incident %" PRIu64 ", %s\n\n", inc->id, inc->service);
    fprintf(out,
            "_Draft generated by tocsin from the event log. Post-mortem owner: %s; due %s%s; "
            "meeting: %s._\n\n",
            inc->postmortem_owner[0] ? inc->postmortem_owner : "not assigned",
            s_when(inc->postmortem_due_ms, a, sizeof a), inc->postmortem_done_ms ? " (done)" : "",
            inc->postmortem_meeting_ms ? s_when(inc->postmortem_meeting_ms, b, sizeof b)
                                       : "not scheduled (tocsinctl postmortem ID meeting WHEN)");

    fputs("## Overview\n\n", out);
    fprintf(out, "- Service: %s\n", inc->service);
    if (inc->severity)
        fprintf(out, "- Severity: SEV-%" PRIu32 " (%s%s)\n", inc->severity,
                tc_severity_meaning(inc->severity),
                tc_severity_major(inc->severity) ? ", major incident" : "");
    else
        fputs("- Severity: not assessed\n", out);
    for (uint32_t sev = 1; sev <= 2; sev++) {
        int64_t ms = tc_render_severity_ms(inc, sev);
        fprintf(out, "- Time at SEV-%" PRIu32 ": %s\n", sev,
                ms ? tc_duration_compact(ms, dur, sizeof dur) : "none");
    }
    fprintf(out, "- Opened: %s; resolved: %s", s_when(inc->opened_ms, a, sizeof a),
            s_when(inc->resolved_ms, b, sizeof b));
    if (inc->resolved_ms > inc->opened_ms && inc->opened_ms)
        fprintf(out, " (%s)",
                tc_duration_compact(inc->resolved_ms - inc->opened_ms, dur, sizeof dur));
    fputs("\n", out);
    fprintf(out, "- Declared: %s\n", inc->declared ? s_when(inc->declared_ms, a, sizeof a) : "no");
    fprintf(out, "- Acknowledged: %s\n", s_when(inc->acknowledged_ms, a, sizeof a));
    if (inc->security)
        fprintf(out, "- Suspected security or data breach; disclosure %s\n",
                inc->disclosure_ic_ms && inc->disclosure_dpo_ms
                    ? "cleared by the IC and the DPO"
                    : "not cleared (nothing went outside the need-to-know group)");
    if (inc->bridge[0])
        fprintf(out, "- Conference bridge: %s\n", inc->bridge);
    if (inc->plan == TC_PLAN_OUT_OF_HOURS || inc->plan == TC_PLAN_FULL)
        fprintf(out, "- Started out of business hours%s\n",
                inc->plan == TC_PLAN_FULL ? "; the full response was requested" : "");
    fputs("\n", out);

    fputs("## What happened\n\nFirst signal: ", out);
    s_md(out, inc->summary[0] ? inc->summary : "-");
    fputs("\n\n" S_OWNER_WRITES "\n\n", out);

    fputs("## Contributing factors\n\n" S_OWNER_WRITES "\n\n", out);

    fputs("## Resolution\n\n", out);
    const tc_timeline_t *res = s_last(tl, n, "resolved");
    if (!res)
        res = s_last(tl, n, "resolve");
    if (res) {
        s_md(out, res->text);
        fputs("\n\n", out);
    }
    fputs(S_OWNER_WRITES "\n\n", out);

    fputs("## Impact\n\n", out);
    fprintf(out, "- Users affected (estimate, most at once): %" PRIu32 "\n", inc->users);
    fprintf(out, "- Hosts failing at the end: %" PRIu32 "; checks failing: %" PRIu32 "\n\n",
            inc->affected_hosts, inc->failing_checks);

    fputs("## Responders\n\n", out);
    for (size_t i = 0; i < inc->nroles; i++)
        fprintf(out, "- %s: %s\n", inc->roles[i].role, inc->roles[i].person);
    /* Every person who acted, in order of first appearance; entries made by
     * agents (check changes) and by tocsin itself are not people. */
    static const char *const machine[] = {"opened", "check", "resolved", "reopened"};
    for (size_t i = 0; i < n; i++) {
        bool seen = !strcmp(tl[i].actor, "tocsin");
        for (size_t k = 0; k < sizeof machine / sizeof machine[0] && !seen; k++)
            seen = !strcmp(tl[i].kind, machine[k]);
        for (size_t k = 0; k < i && !seen; k++)
            seen = !strcmp(tl[k].actor, tl[i].actor);
        for (size_t k = 0; k < inc->nroles && !seen; k++)
            seen = !strcmp(inc->roles[k].person, tl[i].actor);
        if (!seen)
            fprintf(out, "- took part: %s\n", tl[i].actor);
    }
    if (inc->nroles == 0 && n == 0)
        fputs("- none recorded\n", out);
    fputs("\n", out);

    fputs("## Timeline\n\n| time (UTC) | who | what | details |\n|---|---|---|---|\n", out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "| %s | ", s_when(tl[i].time_ms, a, sizeof a));
        s_md(out, tl[i].actor);
        fputs(" | ", out);
        s_md(out, tl[i].kind);
        fputs(" | ", out);
        s_md(out, tl[i].text);
        fputs(" |\n", out);
    }
    fputs("\n", out);

    fputs("## What went well\n\n" S_OWNER_WRITES "\n\n", out);
    fputs("## What went badly\n\n" S_OWNER_WRITES "\n\n", out);
    size_t follow = 0, steps = 0;
    for (size_t i = 0; i < inc->nactions; i++)
        inc->actions[i].checklist ? steps++ : follow++;
    fputs("## Action items\n\n| # | action | owner | state |\n|---|---|---|---|\n", out);
    for (size_t i = 0; i < inc->nactions; i++) {
        if (inc->actions[i].checklist)
            continue;
        fprintf(out, "| %" PRIu32 " | ", inc->actions[i].number);
        s_md(out, inc->actions[i].text);
        fprintf(out, " | %s | %s |\n", inc->actions[i].owner,
                inc->actions[i].done_ms ? "done" : "open");
    }
    if (follow == 0)
        fputs("| | | | |\n", out);
    fputs("\n", out);
    if (steps) {
        fputs("### Security response checklist\n\n| # | step | owner | state |\n"
              "|---|---|---|---|\n",
              out);
        for (size_t i = 0; i < inc->nactions; i++) {
            if (!inc->actions[i].checklist)
                continue;
            fprintf(out, "| %" PRIu32 " | ", inc->actions[i].number);
            s_md(out, inc->actions[i].text);
            fprintf(out, " | %s | %s |\n", inc->actions[i].owner,
                    inc->actions[i].done_ms ? "done" : "open");
        }
        fputs("\n", out);
    }
    s_messaging(out, updates, nupdates);
    s_public_report(out, inc, updates, nupdates);
    return ferror(out) ? TC_EIO : 0;
}
