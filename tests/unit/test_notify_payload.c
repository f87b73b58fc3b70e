/* tocsin-notify's payloads: idempotency keys, the webhook and Slack JSON
 * (checked to parse, with the expected fields) and the e-mail message
 * (headers, Message-ID, encoded subject, CRLF line ends). */
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
    u.next_update_ms = 1764000000000 + 1800000;
    u.published_ms = 1764000000000;
    u.severity = 2;
    u.status = TC_UPD_PUBLISHED;
    return u;
}

static void test_keys(void **state)
{
    (void)state;
    tc_update_t u = s_update();
    char key[TC_NOTIFY_KEY_MAX];
    assert_int_equal(tc_notify_key(&u, "ops-chat", key, sizeof key), 0);
    assert_string_equal(key, "tocsin-i42-u3-ops-chat");
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
    assert_int_equal(tc_notify_webhook_json(j, &u, "tocsin-i42-u3-hook"), 0);
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
    s_has(d, "\"components\":[{\"name\":\"api\",\"status\":\"major_outage\"},{\"name\":\"web\","
             "\"status\":\"degraded_performance\"}]");
    s_has(d, "\"next_update_at\":\"2025-11-24T16:30:00.000Z\"");
    s_has(d, "\"published_at\":\"2025-11-24T16:00:00.000Z\"");
    s_has(d, "\"drill\":false");
    /* Unassessed severity and no next update are nulls. */
    u.severity = 0;
    u.next_update_ms = 0;
    u.ncomponents = 0;
    assert_int_equal(tc_notify_webhook_json(j, &u, "k"), 0);
    d = tc_json_data(j);
    s_assert_json(d);
    s_has(d, "\"severity\":null");
    s_has(d, "\"next_update_at\":null");
    s_has(d, "\"components\":[]");
    tc_json_destroy(&j);
}

static void test_slack(void **state)
{
    (void)state;
    tc_json_t *j = tc_json_new();
    tc_update_t u = s_update();
    assert_int_equal(tc_notify_slack_json(j, &u), 0);
    const char *d = tc_json_data(j);
    s_assert_json(d);
    s_has(d, "{\"text\":\"API errors \\\"elevated\\\" \xe2\x80\x94 Identified\",\"blocks\":[");
    s_has(d, "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\"API errors");
    /* mrkdwn escapes its control characters. */
    s_has(d, "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"We found the cause "
             "&lt;fast&gt; &amp; fix it.");
    s_has(d, "{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":\"*Affected:* "
             "api (major_outage), web (degraded_performance)");
    s_has(d, "*Next update:* 2025-11-24T16:30:00.000Z");
    s_has(d, "incident #42, update 3");
    u.drill = true;
    assert_int_equal(tc_notify_slack_json(j, &u), 0);
    d = tc_json_data(j);
    s_assert_json(d);
    s_has(d, "{\"text\":\"[DRILL] API errors");
    s_has(d, "\"plain_text\",\"text\":\"[DRILL] API errors");
    /* A title at the length limit still makes a header Slack accepts. */
    memset(u.title, 'x', sizeof u.title - 1);
    u.title[sizeof u.title - 1] = '\0';
    assert_int_equal(tc_notify_slack_json(j, &u), 0);
    d = tc_json_data(j);
    s_assert_json(d);
    const char *h = strstr(d, "\"plain_text\",\"text\":\"") + 21;
    assert_true(strchr(h, '"') - h <= 150);
    tc_json_destroy(&j);
}

static void test_email(void **state)
{
    (void)state;
    tc_update_t u = s_update();
    tc_notify_sub_t sub;
    memset(&sub, 0, sizeof sub);
    snprintf(sub.name, sizeof sub.name, "customers");
    sub.type = TC_NOTIFY_EMAIL;
    snprintf(sub.to[0], sizeof sub.to[0], "alice@example.com");
    snprintf(sub.to[1], sizeof sub.to[1], "bob@example.org");
    sub.nto = 2;
    size_t len = 0;
    char *m = tc_notify_email(&u, &sub, "status@example.com", "tocsin-i42-u3-customers",
                              1764000000000, &len);
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
    s_has(m, "\r\n\r\nStatus: Identified\r\n");
    s_has(m, "We found the cause <fast> & fix it.\r\nMore soon.");
    s_has(m, "Next update: 2025-11-24T16:30:00.000Z\r\n");
    /* Every line ends in CRLF: no bare LF. */
    for (const char *p = m; *p; p++)
        if (*p == '\n')
            assert_true(p > m && p[-1] == '\r');
    /* Headers end at the first empty line. */
    assert_non_null(strstr(m, "\r\n\r\n"));
    free(m);

    /* The encoded subject decodes back to the headline. */
    u.drill = true;
    snprintf(u.title, sizeof u.title, "Down");
    m = tc_notify_email(&u, &sub, "status@example.com", "k", 1764000000000, &len);
    assert_non_null(m);
    /* "[DRILL] Down — Identified" in base64. */
    s_has(m, "Subject: =?UTF-8?B?W0RSSUxMXSBEb3duIOKAlCBJZGVudGlmaWVk?=\r\n");
    s_has(m, "This is a DRILL");
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_webhook),
        cmocka_unit_test(test_slack),
        cmocka_unit_test(test_email),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
