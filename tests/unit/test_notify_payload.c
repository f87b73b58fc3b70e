/* tocsin-notify's payloads: idempotency keys, the webhook and Slack JSON
 * (checked to parse, with the documented fields), the e-mail message
 * (headers, Message-ID, encoded subject, CRLF line ends), and what people
 * read in them: display names and status words, human times, the
 * estimate, one Next update line, DRILL once, the status page link, Slack
 * mrkdwn escaped everywhere and no line break in any header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "json_check.h"
#include "payload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_T0 1764000000000LL /* Mon 24 Nov 2025, 16:00 UTC */

static const tc_component_t s_comps[] = {
    {.name = "api", .description = "Public API"},
    {.name = "web", .description = "Website"},
};

static const tc_notify_context_t s_ctx = {
    .page_url = "https://status.example.com/", .components = s_comps, .ncomponents = 2};

static void s_assert_json(const char *doc)
{
    if (!s_json_valid(doc))
        fail_msg("not valid JSON: %s", doc);
}

static void s_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, hay);
}

static void s_lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        fail_msg("\"%s\" must not be in:\n%s", needle, hay);
}

static size_t s_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static tc_update_t s_update(void)
{
    tc_update_t u;
    memset(&u, 0, sizeof u);
    u.incident = 42;
    u.number = 3;
    u.external = true;
    snprintf(u.scenario, sizeof u.scenario, "outage");
    snprintf(u.state, sizeof u.state, "identified");
    snprintf(u.title, sizeof u.title, "API errors \"elevated\"");
    snprintf(u.body, sizeof u.body, "We found the cause <fast> & fix it.\nMore soon.");
    snprintf(u.components[0].name, TC_ID_MAX, "api");
    u.components[0].status = TC_COMP_MAJOR_OUTAGE;
    snprintf(u.components[1].name, TC_ID_MAX, "web");
    u.components[1].status = TC_COMP_DEGRADED;
    u.ncomponents = 2;
    snprintf(u.impact, sizeof u.impact, "major");
    u.next_update_ms = S_T0 + 1800000;
    u.published_ms = S_T0;
    u.eta_ms = S_T0 + 2 * 3600000;
    u.severity = 2;
    u.status = TC_UPD_PUBLISHED;
    return u;
}

static void test_keys_and_links(void **state)
{
    (void)state;
    tc_update_t u = s_update();
    char key[TC_NOTIFY_KEY_MAX], link[256];
    assert_int_equal(tc_notify_key(&u, "ops-chat", key, sizeof key), 0);
    assert_string_equal(key, "tocsin-i42-u3-ops-chat");
    assert_string_equal(tc_notify_link(&s_ctx, &u, link, sizeof link),
                        "https://status.example.com/incidents/42.html");
    u.external = false; /* internal: not on the page, so the page itself */
    assert_string_equal(tc_notify_link(&s_ctx, &u, link, sizeof link),
                        "https://status.example.com/");
    tc_notify_context_t none = {0};
    assert_string_equal(tc_notify_link(&none, &u, link, sizeof link), "");
    assert_string_equal(tc_notify_component_name(&s_ctx, "web"), "Website");
    assert_string_equal(tc_notify_component_name(&s_ctx, "billing"), "billing");
    assert_string_equal(tc_notify_component_name(NULL, "web"), "web");
    u.incident = 0;
    u.maintenance = 9;
    u.number = 1;
    assert_int_equal(tc_notify_key(&u, "customers", key, sizeof key), 0);
    assert_string_equal(key, "tocsin-m9-u1-customers");
    char small[8];
    assert_int_equal(tc_notify_key(&u, "customers", small, sizeof small), TC_ETOOBIG);
}

static void test_webhook(void **state)
{
    (void)state;
    tc_json_t *j = tc_json_new();
    tc_update_t u = s_update();
    assert_int_equal(tc_notify_webhook_json(j, &u, "tocsin-i42-u3-hook", &s_ctx), 0);
    const char *d = tc_json_data(j);
    s_assert_json(d);
    s_has(d, "\"id\":\"tocsin-i42-u3-hook\"");
    s_has(d, "\"incident\":42");
    s_has(d, "\"maintenance\":0");
    s_has(d, "\"update\":3");
    s_has(d, "\"audience\":\"external\"");
    s_has(d, "\"scenario\":\"outage\"");
    s_has(d, "\"state\":\"identified\"");
    s_has(d, "\"title\":\"API errors \\\"elevated\\\"\"");
    s_has(d, "\"body\":\"We found the cause <fast> & fix it.\\nMore soon.\"");
    s_has(d, "\"impact\":\"major\"");
    s_has(d, "\"severity\":2");
    s_has(d, "\"components\":[{\"id\":\"api\",\"name\":\"Public API\",\"status\":"
             "\"major_outage\"},{\"id\":\"web\",\"name\":\"Website\",\"status\":"
             "\"degraded_performance\"}]");
    s_has(d, "\"eta\":\"2025-11-24T18:00:00.000Z\"");
    s_has(d, "\"next_update_at\":\"2025-11-24T16:30:00.000Z\"");
    s_has(d, "\"published_at\":\"2025-11-24T16:00:00.000Z\"");
    s_has(d, "\"url\":\"https://status.example.com/incidents/42.html\"");
    s_has(d, "\"drill\":false");
    /* Unassessed severity, no estimate, no next update, no page: nulls. */
    u.severity = 0;
    u.next_update_ms = 0;
    u.eta_ms = 0;
    u.ncomponents = 0;
    assert_int_equal(tc_notify_webhook_json(j, &u, "k", NULL), 0);
    d = tc_json_data(j);
    s_assert_json(d);
    s_has(d, "\"severity\":null");
    s_has(d, "\"eta\":null,\"next_update_at\":null");
    s_has(d, "\"url\":null");
    s_has(d, "\"components\":[]");
    tc_json_destroy(&j);
}

static void test_slack(void **state)
{
    (void)state;
    tc_json_t *j = tc_json_new();
    tc_update_t u = s_update();
    assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
    const char *d = tc_json_data(j);
    s_assert_json(d);
    /* The notification: headline, the components by their names, a link. */
    s_has(d, "{\"text\":\"API errors \\\"elevated\\\" \xe2\x80\x94 Identified: Public API: major "
             "outage, Website: degraded performance "
             "<https://status.example.com/incidents/42.html|Status page>\",\"blocks\":[");
    s_has(d, "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\"API errors");
    /* mrkdwn escapes its control characters. */
    s_has(d, "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"We found the cause "
             "&lt;fast&gt; &amp; fix it.");
    s_has(d, "{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":\"*Affected:* "
             "Public API: major outage, Website: degraded performance");
    s_has(d, "*Expected back by:* Mon 24 Nov 2025, 18:00 UTC");
    s_has(d, "*Next update:* Mon 24 Nov 2025, 16:30 UTC");
    s_has(d, "incident #42, update 3");
    s_lacks(d, "major_outage");
    s_lacks(d, "2025-11-24T");
    /* No estimate yet says so; a body that promises the next update gets
     * no second line; resolved says neither. */
    u.eta_ms = 0;
    snprintf(u.body, sizeof u.body, "Working on it. Next update: 16:30 UTC.");
    assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
    d = tc_json_data(j);
    s_has(d, "*Expected back:* no estimate yet");
    assert_int_equal(s_count(d, "Next update"), 1);
    snprintf(u.state, sizeof u.state, "resolved");
    assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
    s_lacks(tc_json_data(j), "Expected back");
    snprintf(u.state, sizeof u.state, "identified");
    /* DRILL once, whatever the title said. */
    u.drill = true;
    snprintf(u.title, sizeof u.title, "DRILL: drill");
    assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
    d = tc_json_data(j);
    s_assert_json(d);
    s_has(d, "{\"text\":\"[DRILL] drill \xe2\x80\x94 Identified");
    s_has(d, "\"plain_text\",\"text\":\"[DRILL] drill");
    assert_int_equal(s_count(d, "DRILL"), 2); /* text and header */
    /* A title at the length limit still makes a header Slack accepts. */
    memset(u.title, 'x', sizeof u.title - 1);
    u.title[sizeof u.title - 1] = '\0';
    assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
    d = tc_json_data(j);
    s_assert_json(d);
    const char *h = strstr(d, "\"plain_text\",\"text\":\"") + 21;
    assert_true(strchr(h, '"') - h <= 150);
    tc_json_destroy(&j);
}

/* Every field a hostile or careless text reaches: no mention, link or
 * line break gets through as such, the top-level text included. */
static void test_slack_escaping(void **state)
{
    (void)state;
    tc_json_t *j = tc_json_new();
    tc_update_t u = s_update();
    snprintf(u.title, sizeof u.title, "<!channel> down <@U123> & <https://evil.example|click>");
    snprintf(u.body, sizeof u.body, "<!here> see <http://x|y>");
    static const tc_component_t evil[] = {{.name = "api", .description = "<!everyone> API"}};
    tc_notify_context_t ctx = {
        .page_url = "https://status.example.com/a&b/", .components = evil, .ncomponents = 1};
    assert_int_equal(tc_notify_slack_json(j, &u, &ctx), 0);
    const char *d = tc_json_data(j);
    s_assert_json(d);
    s_lacks(d, "<!");
    s_lacks(d, "<@");
    s_lacks(d, "<https://evil");
    s_lacks(d, "<http://x");
    s_has(d, "{\"text\":\"&lt;!channel&gt; down &lt;@U123&gt; &amp; &lt;https://evil.example|click"
             "&gt;");
    s_has(d, "&lt;!everyone&gt; API: major outage");
    s_has(d, "&lt;!here&gt; see &lt;http://x|y&gt;");
    /* Our own link stays a link, its URL escaped. */
    s_has(d, "<https://status.example.com/a&amp;b/incidents/42.html|Status page>");
    /* A line break in a title never reaches the one-line fields. */
    snprintf(u.title, sizeof u.title, "Down\r\n*bold*\nagain");
    assert_int_equal(tc_notify_slack_json(j, &u, &ctx), 0);
    d = tc_json_data(j);
    s_has(d, "{\"text\":\"Down *bold* again \xe2\x80\x94 Identified");
    s_has(d, "\"plain_text\",\"text\":\"Down *bold* again");
    tc_json_destroy(&j);
}

/* A body of 4096 bytes whose escaped form is twice that: Slack takes at
 * most 3000 characters in a section, so the body goes out as several, cut
 * between words and never inside an escape, and nothing is lost. */
static void test_slack_long_body(void **state)
{
    (void)state;
    tc_json_t *j = tc_json_new();
    tc_update_t u = s_update();
    for (size_t i = 0; i + 4 <= 4096; i += 4)
        memcpy(u.body + i, "a&b ", 4);
    u.body[4096] = '\0';
    assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
    const char *d = tc_json_data(j);
    s_assert_json(d);
    static char joined[4 * TC_BODY_MAX];
    size_t n = 0, sections = 0;
    const char *key = "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"";
    for (const char *p = strstr(d, key); p; p = strstr(p, key)) {
        p += strlen(key);
        const char *q = strchr(p, '"');
        assert_non_null(q);
        assert_true(q - p <= 3000); /* ASCII here: bytes are characters */
        assert_true(q > p);
        /* Each piece ends at a word: the escape it holds is whole. */
        assert_true(q[-1] == ' ' || q[-1] == 'b');
        memcpy(joined + n, p, (size_t)(q - p));
        n += (size_t)(q - p);
        sections++;
        p = q;
    }
    joined[n] = '\0';
    assert_int_equal(sections, 3);
    assert_int_equal(n, 8 * 1024);
    for (size_t i = 0; i < n; i += 8)
        assert_memory_equal(joined + i, "a&amp;b ", 8);
    tc_json_destroy(&j);
}

static tc_notify_sub_t s_sub(void)
{
    tc_notify_sub_t sub;
    memset(&sub, 0, sizeof sub);
    snprintf(sub.name, sizeof sub.name, "customers");
    sub.type = TC_NOTIFY_EMAIL;
    snprintf(sub.to[0], sizeof sub.to[0], "alice@example.com");
    snprintf(sub.to[1], sizeof sub.to[1], "bob@example.org");
    sub.nto = 2;
    return sub;
}

/* The headers: everything before the first empty line. */
static char *s_headers(const char *m)
{
    const char *end = strstr(m, "\r\n\r\n");
    assert_non_null(end);
    return strndup(m, (size_t)(end - m) + 2);
}

static void test_email(void **state)
{
    (void)state;
    tc_update_t u = s_update();
    tc_notify_sub_t sub = s_sub();
    size_t len = 0;
    char *m = tc_notify_email(&u, &sub, "status@example.com", "tocsin-i42-u3-customers", S_T0,
                              &s_ctx, &len);
    assert_non_null(m);
    assert_int_equal(strlen(m), len);
    s_has(m, "Date: Mon, 24 Nov 2025 16:00:00 +0000\r\n");
    s_has(m, "From: status@example.com\r\n");
    s_has(m, "To: alice@example.com,\r\n bob@example.org\r\n");
    /* The em dash makes the subject non-ASCII: RFC 2047 base64. */
    s_has(m, "Subject: =?UTF-8?B?");
    s_has(m, "Message-ID: <tocsin-i42-u3-customers@example.com>\r\n");
    s_has(m, "MIME-Version: 1.0\r\n");
    s_has(m, "Content-Type: text/plain; charset=utf-8\r\n");
    s_has(m, "\r\n\r\nStatus: Identified\r\n"
             "Affected: Public API: major outage, Website: degraded performance\r\n"
             "Expected back by: Mon 24 Nov 2025, 18:00 UTC\r\n"
             "Next update: Mon 24 Nov 2025, 16:30 UTC\r\n\r\n");
    s_has(m, "We found the cause <fast> & fix it.\r\nMore soon.");
    s_has(m, "\r\nStatus page: https://status.example.com/incidents/42.html\r\n");
    assert_int_equal(s_count(m, "Next update"), 1);
    s_lacks(m, "when there is news");
    s_lacks(m, "major_outage");
    /* Every line ends in CRLF: no bare LF. */
    for (const char *p = m; *p; p++)
        if (*p == '\n')
            assert_true(p > m && p[-1] == '\r');
    free(m);

    /* Nothing promised: no Next update line at all; a body that says it
     * already: none added. */
    u.next_update_ms = 0;
    u.eta_ms = 0;
    m = tc_notify_email(&u, &sub, "status@example.com", "k", S_T0, &s_ctx, &len);
    s_lacks(m, "Next update");
    s_has(m, "Expected back: no estimate yet\r\n");
    free(m);
    u.next_update_ms = S_T0 + 1800000;
    snprintf(u.body, sizeof u.body, "Fixing. Next update: 16:30 UTC.");
    m = tc_notify_email(&u, &sub, "status@example.com", "k", S_T0, &s_ctx, &len);
    assert_int_equal(s_count(m, "Next update"), 1);
    free(m);

    /* DRILL once: "[DRILL] Down — Identified" whatever the title said. */
    u.drill = true;
    snprintf(u.title, sizeof u.title, "DRILL: Down");
    m = tc_notify_email(&u, &sub, "status@example.com", "k", S_T0, NULL, &len);
    assert_non_null(m);
    s_has(m, "Subject: =?UTF-8?B?W0RSSUxMXSBEb3duIOKAlCBJZGVudGlmaWVk?=\r\n");
    s_has(m, "This is a DRILL");
    s_lacks(m, "Status page:"); /* no page configured */
    free(m);
}

/* An announcement made before anyone wrote a title is named as the status
 * page names it, and for staff with its severity: never a bare "Status
 * update" that says nothing of which incident. */
static void test_untitled(void **state)
{
    (void)state;
    tc_update_t u = s_update();
    u.title[0] = '\0';
    struct {
        bool external;
        uint32_t severity;
        const char *headline;
    } cases[] = {
        {false, 2, "{\"text\":\"SEV-2 incident 42 \xe2\x80\x94 Identified: "},
        {false, 0, "{\"text\":\"Incident 42 \xe2\x80\x94 Identified: "},
        {true, 2, "{\"text\":\"Incident 42 \xe2\x80\x94 Identified: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        u.external = cases[i].external;
        u.severity = cases[i].severity;
        tc_json_t *j = tc_json_new();
        assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
        s_has(tc_json_data(j), cases[i].headline);
        s_lacks(tc_json_data(j), "Status update");
        tc_json_destroy(&j);
    }
    /* A maintenance window's update has no incident to name. */
    u.incident = 0;
    u.maintenance = 7;
    tc_json_t *j = tc_json_new();
    assert_int_equal(tc_notify_slack_json(j, &u, &s_ctx), 0);
    s_has(tc_json_data(j), "{\"text\":\"Status update \xe2\x80\x94 ");
    tc_json_destroy(&j);
}

/* A title with CR/LF (or any control) must not start a new header: the
 * subject stays one (encoded) line and no line of the headers is one the
 * title made up. */
static void test_email_header_injection(void **state)
{
    (void)state;
    tc_update_t u = s_update();
    tc_notify_sub_t sub = s_sub();
    static const char *const titles[] = {
        "Down\r\nBcc: victim@example.net", "Down\nBcc: victim@example.net",
        "Down\rBcc: victim@example.net",   "Down\r\n\r\n<html>injected body",
        "ASCII\x0b\x0c\x1b[31mcontrol",
    };
    for (size_t i = 0; i < sizeof titles / sizeof *titles; i++) {
        snprintf(u.title, sizeof u.title, "%s", titles[i]);
        size_t len;
        char *m = tc_notify_email(&u, &sub, "status@example.com", "k", S_T0, &s_ctx, &len);
        assert_non_null(m);
        char *h = s_headers(m);
        s_lacks(h, "Bcc:");
        s_lacks(h, "\nBcc");
        s_lacks(h, "injected");
        s_lacks(h, "\x1b");
        /* Every header line is a known header or a folded continuation. */
        for (char *line = h; *line;) {
            char *end = strstr(line, "\r\n");
            assert_non_null(end);
            static const char *const known[] = {"Date: ",
                                                "From: ",
                                                "To: ",
                                                "Subject: ",
                                                "Message-ID: ",
                                                "MIME-Version: ",
                                                "Content-Type: ",
                                                "Content-Transfer-Encoding: ",
                                                "X-Tocsin-Idempotency-Key: ",
                                                "Auto-Submitted: ",
                                                " "};
            bool ok = false;
            for (size_t k = 0; k < sizeof known / sizeof *known; k++)
                ok = ok || strncmp(line, known[k], strlen(known[k])) == 0;
            if (!ok)
                fail_msg("unexpected header line \"%.*s\" for title %zu", (int)(end - line), line,
                         i);
            line = end + 2;
        }
        free(h);
        /* The body's summary has no line break from the title either. */
        s_lacks(m, "\r\nBcc:");
        free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_links),  cmocka_unit_test(test_webhook),
        cmocka_unit_test(test_slack),           cmocka_unit_test(test_slack_escaping),
        cmocka_unit_test(test_slack_long_body), cmocka_unit_test(test_email),
        cmocka_unit_test(test_untitled),        cmocka_unit_test(test_email_header_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
