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
    assert_int_equal(tc_postmortem_markdown(f, &inc, tl, 3), 0);
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
    assert_non_null(strstr(buf, "- Severity: SEV-2 (major incident)\n"));
    assert_non_null(strstr(buf, "(1h0m)"));
    assert_non_null(strstr(buf, "- Users affected (estimate): 120\n"));
    assert_non_null(strstr(buf, "- commander: alice\n- took part: bob\n\n"));
    assert_non_null(strstr(buf, "resolved by alice: rolled back\n"));
    /* A pipe in plugin output is escaped; a newline does not end the row. */
    assert_non_null(strstr(buf, "| web-01 | opened | http@web-01 CRITICAL: a\\|b |\n"));
    assert_non_null(strstr(buf, "| bob | note | line break |\n"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_draft)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
