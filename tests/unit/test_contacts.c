/* coordinator/contacts through the roster loader: each person's contact
 * methods and the paging section, read from real YAML files; every kind
 * of mistake named with its file:line and key; the e-mail fallback; the
 * paging rules as they reach the state machine's policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contacts.h"
#include "error.h"
#include "oncall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **unused)
{
    (void)unused;
    snprintf(s_dir, sizeof s_dir, "/tmp/tc-contacts-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **unused)
{
    (void)unused;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *s_write(const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/roster.yaml", s_dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return path;
}

static const char s_good[] =
    "people:\n"
    "  alice:\n"
    "    name: Alice Liddell\n"
    "    contact:\n"
    "      - {type: email, to: alice@example.com}\n"
    "      - {type: ntfy, url: \"https://ntfy.example.com/alice-pages\", token: tk_secret}\n"
    "      - {type: slack, url: \"https://chat.example.com/hooks/T000\"}\n"
    "      - {type: webhook, url: \"http://127.0.0.1:9/pager\"}\n"
    "  bob: {email: bob@example.com}\n"
    "  carol: {}\n"
    "paging:\n"
    "  high_urgency: [1, 2]\n"
    "  low_urgency: [3, 4]\n"
    "  repeat_every: 2m\n";

static void test_good(void **unused)
{
    (void)unused;
    tc_roster_t *r = NULL;
    char err[512] = "";
    assert_int_equal(tc_roster_load(s_write(s_good), &r, err, sizeof err), 0);
    const tc_contacts_t *cs = tc_roster_contacts(r);
    tc_person_t p;
    assert_true(tc_contacts_person(cs, "alice", NULL, &p));
    assert_string_equal(p.id, "alice");
    assert_int_equal(p.ncontacts, 4);
    assert_int_equal(p.contacts[0].type, TC_CONTACT_EMAIL);
    assert_string_equal(p.contacts[0].target, "alice@example.com");
    assert_int_equal(p.contacts[1].type, TC_CONTACT_NTFY);
    assert_string_equal(p.contacts[1].target, "https://ntfy.example.com/alice-pages");
    assert_string_equal(p.contacts[1].token, "tk_secret");
    assert_int_equal(p.contacts[2].type, TC_CONTACT_SLACK);
    assert_int_equal(p.contacts[3].type, TC_CONTACT_WEBHOOK);
    /* bob's email is his e-mail contact. */
    const char *name, *email;
    assert_int_equal(tc_roster_person(r, "bob", &name, &email), 0);
    assert_true(tc_contacts_person(cs, "bob", email, &p));
    assert_int_equal(p.ncontacts, 1);
    assert_int_equal(p.contacts[0].type, TC_CONTACT_EMAIL);
    assert_string_equal(p.contacts[0].target, "bob@example.com");
    /* carol has nothing. */
    assert_false(tc_contacts_person(cs, "carol", "", &p));
    assert_int_equal(p.ncontacts, 0);
    /* The paging rules reach the policy. */
    tc_policy_t pol;
    tc_policy_defaults(&pol);
    tc_contacts_apply_policy(cs, &pol);
    assert_int_equal(pol.page_high_severities, 1u << 1 | 1u << 2);
    assert_int_equal(pol.page_low_severities, 1u << 3 | 1u << 4);
    assert_int_equal(pol.page_repeat_ms, 120000);
    assert_int_equal(tc_policy_page_urgency(&pol, 1), TC_URGENCY_HIGH);
    assert_int_equal(tc_policy_page_urgency(&pol, 3), TC_URGENCY_LOW);
    assert_int_equal(tc_policy_page_urgency(&pol, 5), TC_URGENCY_NONE);
    assert_int_equal(tc_policy_page_urgency(&pol, 0), TC_URGENCY_HIGH);
    /* Every person is listed once, in file order. */
    tc_roster_destroy(&r);
}

static void test_defaults(void **unused)
{
    (void)unused;
    tc_roster_t *r = NULL;
    char err[512];
    assert_int_equal(tc_roster_load(s_write("people:\n  alice: {}\n"), &r, err, sizeof err), 0);
    tc_policy_t pol;
    memset(&pol, 0, sizeof pol);
    tc_contacts_apply_policy(tc_roster_contacts(r), &pol);
    /* The severity table: SEV-1..3 high, SEV-4 low, SEV-5 nobody. */
    assert_int_equal(pol.page_high_severities, 1u << 1 | 1u << 2 | 1u << 3);
    assert_int_equal(pol.page_low_severities, 1u << 4);
    assert_int_equal(pol.page_repeat_ms, 5 * 60000);
    tc_roster_destroy(&r);
    /* An empty roster has the defaults too. */
    r = tc_roster_new_empty();
    assert_non_null(tc_roster_contacts(r));
    tc_roster_destroy(&r);
    /* repeat_every: 0s turns repeats off. */
    assert_int_equal(tc_roster_load(s_write("paging: {repeat_every: 0s}\n"), &r, err, sizeof err),
                     0);
    tc_contacts_apply_policy(tc_roster_contacts(r), &pol);
    assert_int_equal(pol.page_repeat_ms, 0);
    tc_roster_destroy(&r);
}

static void s_bad(const char *yaml, const char *want)
{
    tc_roster_t *r = NULL;
    char err[512] = "";
    int rc = tc_roster_load(s_write(yaml), &r, err, sizeof err);
    if (rc != TC_ECONFIG || !strstr(err, want)) {
        fprintf(stderr, "yaml:\n%s\nwant: %s\ngot (%d): %s\n", yaml, want, rc, err);
        fail();
    }
    assert_null(r);
    /* Every message starts with the file name. */
    assert_non_null(strstr(err, "/roster.yaml:"));
}

static void test_mistakes(void **unused)
{
    (void)unused;
    s_bad("people:\n  a:\n    contact: {type: email}\n",
          "roster.yaml:3: people.a.contact: must be a list");
    s_bad("people:\n  a:\n    contact:\n      - email\n",
          ":4: people.a.contact[0]: must be a mapping");
    s_bad("people:\n  a:\n    contact:\n      - {to: a@b}\n",
          ":4: people.a.contact[0]: missing type");
    s_bad("people:\n  a:\n    contact:\n      - {type: sms, to: a@b}\n",
          ":4: people.a.contact[0].type: unknown type \"sms\"");
    s_bad("people:\n  a:\n    contact:\n      - {type: email, to: not-an-address}\n",
          "people.a.contact[0].to: invalid e-mail address \"not-an-address\"");
    s_bad("people:\n  a:\n    contact:\n      - {type: email, url: \"https://x\"}\n",
          "people.a.contact[0]: email contacts take to, not url");
    s_bad("people:\n  a:\n    contact:\n      - {type: ntfy, to: a@b}\n",
          "people.a.contact[0]: ntfy contacts take url, not to");
    s_bad("people:\n  a:\n    contact:\n      - {type: webhook}\n",
          "people.a.contact[0]: missing url");
    s_bad("people:\n  a:\n    contact:\n      - {type: slack, url: \"ftp://x/y\"}\n",
          "people.a.contact[0].url: invalid URL \"ftp://x/y\"");
    s_bad("people:\n  a:\n    contact:\n      - {type: slack, url: \"https://x/a b\"}\n",
          "invalid URL");
    s_bad("people:\n  a:\n    contact:\n      - {type: webhook, url: \"https://x\", token: t}\n",
          "people.a.contact[0].token: only ntfy contacts take a token");
    s_bad("people:\n  a:\n    contact:\n      - {type: email, to: a@b, colour: red}\n",
          "people.a.contact[0]: unknown key \"colour\"");
    s_bad("people:\n  a:\n    contact:\n      - {type: email, to: a@b, to: c@d}\n",
          "people.a.contact[0].to: duplicate key");
    s_bad("people:\n  a:\n    contact:\n"
          "      - {type: email, to: a@b}\n      - {type: email, to: a@b}\n"
          "      - {type: email, to: a@b}\n      - {type: email, to: a@b}\n"
          "      - {type: email, to: a@b}\n      - {type: email, to: a@b}\n"
          "      - {type: email, to: a@b}\n      - {type: email, to: a@b}\n"
          "      - {type: email, to: a@b}\n",
          "people.a.contact: at most 8 contact methods");
    s_bad("paging: [1]\n", "roster.yaml:1: paging: must be a mapping");
    s_bad("paging:\n  high_urgency: 1\n", ":2: paging.high_urgency: must be a list");
    s_bad("paging:\n  high_urgency: [1, 6]\n", "paging.high_urgency: \"6\" is not a severity");
    s_bad("paging:\n  low_urgency: [4, 4]\n", "paging.low_urgency: SEV-4 is listed twice");
    s_bad("paging:\n  high_urgency: [1, 2, 3]\n  low_urgency: [3, 4]\n",
          ":3: paging: SEV-3 is both high_urgency and low_urgency");
    s_bad("paging:\n  repeat_every: 5 minutes\n", "paging.repeat_every: invalid duration");
    s_bad("paging:\n  repeat_every: 1s\n", "paging.repeat_every: invalid duration \"1s\"");
    /* The conference link is policy.bridge_url, one way to set it. */
    s_bad("paging:\n  conference: \"https://meet.example.com/x\"\n",
          "paging: unknown key \"conference\" (expected high_urgency, low_urgency or "
          "repeat_every); the conference link is policy.bridge_url");
    s_bad("paging:\n  colour: red\n", ":2: paging: unknown key \"colour\"");
    s_bad("paging:\n  repeat_every: 1m\n  repeat_every: 2m\n",
          ":3: paging.repeat_every: duplicate key");
    s_bad("paging: {}\npaging: {}\n", "paging: duplicate key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_mistakes),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
