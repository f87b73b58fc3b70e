/* The post-mortem draft: every template section, the log's facts filled
 * in, and hostile text unable to break the Markdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "postmortem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_draft(void **state)
{
    (void)state;
    tc_incident_t inc;
    memset(&inc, 0, sizeof inc);
    inc.id = 7;
    snprintf(inc.service, sizeof inc.service, "checkout");
    inc.severity = 2;
    inc.declared = true;
    inc.opened_ms = 1764000000000;
    inc.declared_ms = inc.opened_ms + 900000;
    inc.resolved_ms = inc.opened_ms + 3600000;
    inc.users = 120;
    inc.nroles = 1;
    snprintf(inc.roles[0].role, TC_ID_MAX, "commander");
    snprintf(inc.roles[0].person, TC_ID_MAX, "alice");
    snprintf(inc.postmortem_owner, TC_ID_MAX, "alice");
    tc_timeline_t tl[3];
    memset(tl, 0, sizeof tl);
    snprintf(tl[0].actor, TC_ID_MAX, "web-01");
    snprintf(tl[0].kind, sizeof tl[0].kind, "opened");
    snprintf(tl[0].text, TC_TEXT_MAX, "http@web-01 CRITICAL: a|b");
    snprintf(tl[1].actor, TC_ID_MAX, "bob");
    snprintf(tl[1].kind, sizeof tl[1].kind, "note");
    snprintf(tl[1].text, TC_TEXT_MAX, "line\nbreak");
    snprintf(tl[2].actor, TC_ID_MAX, "alice");
    snprintf(tl[2].kind, sizeof tl[2].kind, "resolve");
    snprintf(tl[2].text, TC_TEXT_MAX, "resolved by alice: rolled back");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    /* Forty minutes at SEV-2 after twenty at SEV-3; a meeting slot. */
    inc.severity_ms[3] = 20 * 60000;
    inc.severity_ms[2] = 40 * 60000;
    inc.postmortem_meeting_ms = inc.resolved_ms + 3 * 3600000;
    tc_update_t up[3];
    memset(up, 0, sizeof up);
    for (int i = 0; i < 3; i++) {
        up[i].incident = 7;
        up[i].number = (uint32_t)(3 - i);
        up[i].status = TC_UPD_PUBLISHED;
        up[i].published_ms = inc.opened_ms + (3 - i) * 600000;
        snprintf(up[i].author, TC_ID_MAX, "carol");
        snprintf(up[i].approver, TC_ID_MAX, "alice");
        snprintf(up[i].state, sizeof up[i].state, "investigating");
    }
    up[0].external = true; /* number 3 */
    snprintf(up[0].body, TC_BODY_MAX, "Checkout works again | thanks");
    snprintf(up[1].body, TC_BODY_MAX, "db-01 rolled back");
    up[2].external = true;
    snprintf(up[2].body, TC_BODY_MAX, "We are looking into checkout errors.");
    tc_update_t draft = up[2];
    draft.number = 4;
    draft.status = TC_UPD_DRAFT;
    snprintf(draft.body, TC_BODY_MAX, "never sent");
    tc_update_t all[4] = {up[0], up[1], up[2], draft};
    assert_int_equal(tc_postmortem_markdown(f, &inc, tl, 3, all, 4), 0);
    fclose(f);
    static const char *const sections[] = {"# Post-mortem: incident 7, checkout\n",
                                           "## Overview\n",
                                           "## What happened\n",
                                           "## Contributing factors\n",
                                           "## Resolution\n",
                                           "## Impact\n",
                                           "## Responders\n",
                                           "## Timeline\n",
                                           "## What went well\n",
                                           "## What went badly\n",
                                           "## Action items\n",
                                           "## Messaging\n"};
    const char *at = buf;
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        const char *p = strstr(at, sections[i]);
        if (!p)
            fail_msg("section %s missing or out of order", sections[i]);
        at = p;
    }
    assert_non_null(strstr(buf, "- Severity: SEV-2 (Major, major incident)\n"));
    assert_non_null(strstr(buf, "- Time at SEV-1: none\n- Time at SEV-2: 40m0s\n"));
    assert_non_null(strstr(buf, "meeting: 2025-11-24T20:00:00.000Z."));
    assert_non_null(strstr(buf, "(1h0m)"));
    assert_non_null(strstr(buf, "- Users affected (estimate, most at once): 120\n"));
    /* Messaging: the published updates, oldest first, who and to whom;
     * the draft never sent is not there. */
    const char *m = strstr(buf, "## Messaging\n");
    assert_non_null(m);
    const char *u1 = strstr(m, "| 1 | external | investigating | alice | We are looking");
    const char *u2 = strstr(m, "| 2 | internal | investigating | carol | db-01 rolled back |");
    const char *u3 = strstr(m, "| 3 | external | investigating | alice | Checkout works again \\| "
                               "thanks |");
    assert_non_null(u1);
    assert_non_null(u2);
    assert_non_null(u3);
    assert_true(u1 < u2 && u2 < u3);
    assert_null(strstr(m, "never sent"));
    assert_null(strstr(buf, "none recorded by tocsin yet"));
    assert_null(strstr(buf, "Security response checklist"));
    assert_non_null(strstr(buf, "- commander: alice\n- took part: bob\n\n"));
    assert_non_null(strstr(buf, "resolved by alice: rolled back\n"));
    /* A pipe in plugin output is escaped; a newline does not end the row. */
    assert_non_null(strstr(buf, "| web-01 | opened | http@web-01 CRITICAL: a\\|b |\n"));
    assert_non_null(strstr(buf, "| bob | note | line break |\n"));
    free(buf);
}

/* SEV-4 and SEV-5 say what they mean; a security incident's checklist is
 * its own table, apart from the follow-up actions; no updates, said so. */
static void test_meanings_and_checklist(void **state)
{
    (void)state;
    static const struct {
        uint32_t sev;
        const char *line;
    } rows[] = {
        {1, "- Severity: SEV-1 (Critical, major incident)\n"},
        {3, "- Severity: SEV-3 (Minor)\n"},
        {4, "- Severity: SEV-4 (no customer impact)\n"},
        {5, "- Severity: SEV-5 (cosmetic)\n"},
        {0, "- Severity: not assessed\n"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        tc_incident_t inc;
        memset(&inc, 0, sizeof inc);
        inc.id = 9;
        snprintf(inc.service, sizeof inc.service, "auth");
        inc.severity = rows[r].sev;
        inc.security = r == 0;
        inc.nactions = 2;
        inc.actions[0].number = 1;
        inc.actions[0].checklist = true;
        snprintf(inc.actions[0].text, TC_ACTION_TEXT, "Stop the attack in progress.");
        snprintf(inc.actions[0].owner, TC_ID_MAX, "kate");
        inc.actions[1].number = 2;
        snprintf(inc.actions[1].text, TC_ACTION_TEXT, "rotate the keys");
        snprintf(inc.actions[1].owner, TC_ID_MAX, "bob");
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(tc_postmortem_markdown(f, &inc, NULL, 0, NULL, 0), 0);
        fclose(f);
        if (!strstr(buf, rows[r].line))
            fail_msg("severity %u: no line %s", rows[r].sev, rows[r].line);
        const char *items = strstr(buf, "## Action items\n");
        const char *steps = strstr(buf, "### Security response checklist\n");
        assert_non_null(items);
        assert_non_null(steps);
        assert_non_null(strstr(items, "| 2 | rotate the keys | bob | open |"));
        assert_true(strstr(items, "| 2 | rotate the keys |") < steps);
        assert_non_null(strstr(steps, "| 1 | Stop the attack in progress. | kate | open |"));
        /* The step is in the checklist only, not among the follow-ups. */
        assert_true(strstr(buf, "Stop the attack") > steps);
        assert_non_null(strstr(buf, "## Messaging\n"));
        assert_non_null(strstr(buf, "- none published\n"));
        assert_non_null(strstr(buf, "meeting: not scheduled"));
        free(buf);
    }
}

/* Public report: owed, drafted or published, with its parts; a long
 * update is in the messaging table whole. */
static void test_public_report_section(void **state)
{
    (void)state;
    tc_incident_t inc;
    memset(&inc, 0, sizeof inc);
    inc.id = 9;
    snprintf(inc.service, sizeof inc.service, "checkout");
    inc.is_public = true;
    tc_update_t *up = calloc(2, sizeof *up);
    up[0].incident = 9;
    up[0].number = 1;
    up[0].external = true;
    up[0].status = TC_UPD_PUBLISHED;
    snprintf(up[0].state, sizeof up[0].state, "investigating");
    memset(up[0].body, 'w', 3000);
    memcpy(up[0].body + 2990, " the end.", 10);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(tc_postmortem_markdown(f, &inc, NULL, 0, up, 1), 0);
    fclose(f);
    assert_non_null(strstr(buf, "wwwwwwwwww the end. |"));
    assert_non_null(strstr(buf, "## Public report\n\nCustomers were told of this incident: "
                                "they are owed a report. Draft it with `tocsinctl postmortem 9 "
                                "report"));
    free(buf);

    up[1] = up[0];
    up[1].number = 2;
    snprintf(up[1].scenario, sizeof up[1].scenario, "%s", TC_REPORT_SCENARIO);
    snprintf(up[1].state, sizeof up[1].state, "%s", TC_REPORT_SCENARIO);
    snprintf(up[1].approver, sizeof up[1].approver, "alice");
    up[1].published_ms = 1764000000000;
    memset(up[1].body, 0, sizeof up[1].body);
    const char *parts[TC_REPORT_PARTS] = {"Checkout failed.", "A third | of orders.",
                                          "A full disk.", "Alerts on disk space."};
    assert_int_equal(tc_report_compose(&up[1], parts), 0);
    f = open_memstream(&buf, &len);
    assert_int_equal(tc_postmortem_markdown(f, &inc, NULL, 0, up, 2), 0);
    fclose(f);
    assert_non_null(strstr(buf, "## Public report\n\nPublished 2025-11-24T16:00:00.000Z (update 2, "
                                "approved by alice).\n\n- Summary: Checkout failed.\n- Impact: A "
                                "third \\| of orders.\n- Root cause: A full disk.\n- What we are "
                                "doing: Alerts on disk space.\n"));
    free(buf);
    free(up);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_draft),
                                       cmocka_unit_test(test_meanings_and_checklist),
                                       cmocka_unit_test(test_public_report_section)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
