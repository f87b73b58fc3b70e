/* Message templates: defaults, overrides from files, placeholders, errors,
 * truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "template.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary template directory, removed after each test. */
typedef struct {
    char dir[64];
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tocsin-template-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void s_write(const s_fixture_t *f, const char *name, const char *text, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void s_write_str(const s_fixture_t *f, const char *name, const char *text)
{
    s_write(f, name, text, strlen(text));
}

/* True if s is entirely valid UTF-8 (strictly: no overlongs, surrogates). */
static bool s_valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80                  ? 1
                   : *p >= 0xc2 && *p <= 0xdf ? 2
                   : *p >= 0xe0 && *p <= 0xef ? 3
                   : *p >= 0xf0 && *p <= 0xf4 ? 4
                                              : 0;
        if (n == 0)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static const tc_template_vars_t s_vars = {
    .service = "api-gateway",
    .components = "Checkout and Payments",
    .state = "Investigating",
    .impact = "Some payments fail.",
    .next_update = "14:30 UTC",
    .incident = "INC-42",
    .severity = "SEV1",
    .started = "2026-11-24T08:00Z",
    .title = "Checkout errors",
    .summary = "db primary down",
    .window = "24 Nov 02:00-04:00 UTC",
};

typedef struct {
    const tc_templates_t *t;
    int count;
    int from_file;
} s_each_ctx_t;

static int s_check_default(const char *scenario, const char *audience, const char *state,
                           const char *text, bool from_file, void *ctx)
{
    s_each_ctx_t *c = ctx;
    c->count++;
    c->from_file += from_file;
    assert_true(tc_template_scenario_valid(scenario));
    assert_true(tc_template_audience_valid(audience));
    assert_true(tc_template_state_valid(scenario, state));
    assert_true(strlen(text) < 400);

    char out[2048];
    assert_int_equal(tc_templates_render(c->t, scenario, audience, state, &s_vars, out, sizeof out),
                     0);
    assert_null(strstr(out, "{{"));
    assert_null(strstr(out, "}}"));
    assert_non_null(
        strstr(out, strcmp(audience, "external") == 0 ? "Checkout and Payments" : "INC-42"));
    if (strcmp(audience, "external") == 0) {
        /* No internal detail can leak into an external default. */
        assert_null(strstr(out, "api-gateway"));
        assert_null(strstr(out, "db primary down"));
        bool final = strcmp(state, "resolved") == 0 || strcmp(state, "completed") == 0;
        if (final)
            assert_non_null(strstr(out, "Thank you"));
        else if (strcmp(state, "scheduled") != 0)
            assert_non_null(strstr(out, "Next update: 14:30 UTC."));
    }
    /* Without values: still no placeholder syntax, sensible fallbacks. */
    assert_int_equal(tc_templates_render(c->t, scenario, audience, state, NULL, out, sizeof out),
                     0);
    assert_null(strstr(out, "{{"));
    return 0;
}

static void test_defaults_render_for_every_combination(void **unused)
{
    (void)unused;
    char err[256] = "x";
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(NULL, &t, err, sizeof err), 0);
    assert_string_equal(err, "");
    s_each_ctx_t c = {.t = t};
    assert_int_equal(tc_templates_each(t, s_check_default, &c), 0);
    assert_int_equal(c.count, 32);
    assert_int_equal(c.from_file, 0);
    tc_templates_destroy(&t);
    assert_null(t);
    tc_templates_destroy(&t);
    tc_templates_destroy(NULL);

    assert_int_equal(tc_templates_load("", &t, err, sizeof err), 0);
    tc_templates_destroy(&t);
}

static void test_validity_helpers(void **unused)
{
    (void)unused;
    assert_true(tc_template_scenario_valid("maintenance"));
    assert_false(tc_template_scenario_valid("Outage"));
    assert_false(tc_template_scenario_valid(NULL));
    assert_true(tc_template_audience_valid("internal"));
    assert_false(tc_template_audience_valid("public"));
    assert_true(tc_template_state_valid("outage", "identified"));
    assert_true(tc_template_state_valid("maintenance", "in_progress"));
    assert_false(tc_template_state_valid("maintenance", "identified"));
    assert_false(tc_template_state_valid("outage", "scheduled"));
    assert_false(tc_template_state_valid("nope", "resolved"));
    assert_false(tc_template_state_valid("outage", NULL));
}

static void test_render_substitutes_and_rejects_bad_combinations(void **unused)
{
    (void)unused;
    char err[256], out[1024];
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(NULL, &t, err, sizeof err), 0);
    assert_int_equal(
        tc_templates_render(t, "outage", "external", "investigating", &s_vars, out, sizeof out), 0);
    assert_string_equal(out, "We are investigating an outage affecting Checkout and Payments. "
                             "Some payments fail. You do not need to contact support; we will "
                             "keep this page updated. Next update: 14:30 UTC.");
    /* NULL values: components has wording of its own; an empty impact
     * leaves no double space; without a next update its sentence goes. */
    assert_int_equal(
        tc_templates_render(t, "outage", "external", "investigating", NULL, out, sizeof out), 0);
    assert_string_equal(out, "We are investigating an outage affecting some of our services. You "
                             "do not need to contact support; we will keep this page updated.");
    /* Internal texts keep their line before the one that went. */
    assert_int_equal(tc_templates_render(t, "outage", "internal", "identified",
                                         &(tc_template_vars_t){.summary = "x"}, out, sizeof out),
                     0);
    assert_null(strstr(out, "Next update"));
    assert_non_null(strstr(out, "\nAlert: x"));
    assert_int_equal(out[strlen(out) - 1], 'x');
    /* {{eta}}: the external texts of incidents say when service is
     * expected back, or that it is not yet known, until it is fixed. */
    tc_template_vars_t ev = s_vars;
    ev.eta = "We expect service to be restored by Tue 2 Dec 2026, 15:00 UTC.";
    static const char *const scen[] = {"outage", "degradation", "security"};
    static const char *const st[] = {"investigating", "identified"};
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < 2; k++) {
            assert_int_equal(
                tc_templates_render(t, scen[i], "external", st[k], &ev, out, sizeof out), 0);
            if (!strstr(out, "Some payments fail. We expect service to be restored by Tue 2 Dec "
                             "2026, 15:00 UTC. "))
                fail_msg("%s/%s: %s", scen[i], st[k], out);
        }
    assert_int_equal(tc_templates_render(t, "outage", "external", "resolved", &ev, out, sizeof out),
                     0);
    assert_null(strstr(out, "restored by"));

    /* Maintenance: the window's description, no double space, no claim
     * of health at the end. */
    tc_template_vars_t mv = {.components = "Public API",
                             .window = "Tue 2 Dec 2026, 22:00 to 23:00 UTC",
                             .description = "Writes pause for ten minutes."};
    assert_int_equal(
        tc_templates_render(t, "maintenance", "external", "scheduled", &mv, out, sizeof out), 0);
    assert_string_equal(out, "We will carry out scheduled maintenance on Public API during Tue 2 "
                             "Dec 2026, 22:00 to 23:00 UTC. Writes pause for ten minutes. We "
                             "recommend planning around this window. We will post an update when "
                             "it starts.");
    mv.description = NULL;
    assert_int_equal(
        tc_templates_render(t, "maintenance", "external", "in_progress", &mv, out, sizeof out), 0);
    assert_null(strstr(out, "  "));
    assert_null(strstr(out, "Next update"));
    assert_int_equal(
        tc_templates_render(t, "maintenance", "external", "completed", &mv, out, sizeof out), 0);
    assert_null(strstr(out, "working normally"));

    strcpy(out, "garbage");
    assert_int_equal(tc_templates_render(t, "maintenance", "external", "investigating", &s_vars,
                                         out, sizeof out),
                     TC_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(
        tc_templates_render(t, "outage", "public", "resolved", &s_vars, out, sizeof out),
        TC_EINVAL);
    assert_int_equal(tc_templates_render(t, "fire", "internal", "resolved", NULL, out, sizeof out),
                     TC_EINVAL);
    assert_int_equal(tc_templates_render(t, NULL, "internal", "resolved", NULL, out, sizeof out),
                     TC_EINVAL);
    assert_int_equal(
        tc_templates_render(NULL, "outage", "internal", "resolved", NULL, out, sizeof out),
        TC_EINVAL);
    assert_int_equal(tc_templates_render(t, "outage", "internal", "resolved", NULL, out, 0),
                     TC_EINVAL);
    tc_templates_destroy(&t);
}

static void test_parse_from_memory_with_spaces_in_braces(void **unused)
{
    (void)unused;
    char err[256], out[256];
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(NULL, &t, err, sizeof err), 0);
    static const char text[] = "{{ title }}: {{\tcomponents}} {a} }} { } {{severity  }}\n\n";
    assert_int_equal(tc_templates_parse(t, "degradation.internal.monitoring.txt", text,
                                        sizeof text - 1, err, sizeof err),
                     0);
    assert_int_equal(
        tc_templates_render(t, "degradation", "internal", "monitoring", &s_vars, out, sizeof out),
        0);
    /* Lone braces are text; trailing newlines are gone. */
    assert_string_equal(out, "Checkout errors: Checkout and Payments {a} }} { } SEV1");

    /* Values go in verbatim: no escaping, no re-expansion of braces. */
    tc_template_vars_t v = {.title = "<b>{{title}}</b> & co"};
    assert_int_equal(
        tc_templates_render(t, "degradation", "internal", "monitoring", &v, out, sizeof out), 0);
    /* (The empty severity at the end takes the space before it.) */
    assert_string_equal(out, "<b>{{title}}</b> & co: some of our services {a} }} { }");

    /* Invalid UTF-8 in a value becomes '?', so output stays UTF-8. */
    v.title = "a\xff"
              "b";
    assert_int_equal(
        tc_templates_render(t, "degradation", "internal", "monitoring", &v, out, sizeof out), 0);
    assert_true(strncmp(out, "a?b: ", 5) == 0);

    /* A failed parse leaves the earlier text in place. */
    assert_int_equal(
        tc_templates_parse(t, "degradation.internal.monitoring.txt", "{{bad}}", 7, err, sizeof err),
        TC_ECONFIG);
    assert_int_equal(
        tc_templates_render(t, "degradation", "internal", "monitoring", &s_vars, out, sizeof out),
        0);
    assert_true(strncmp(out, "Checkout errors:", 16) == 0);

    /* Argument checks. */
    assert_int_equal(
        tc_templates_parse(NULL, "outage.internal.resolved.txt", "x", 1, err, sizeof err),
        TC_EINVAL);
    assert_int_equal(tc_templates_parse(t, NULL, "x", 1, err, sizeof err), TC_EINVAL);
    assert_int_equal(
        tc_templates_parse(t, "outage.internal.resolved.txt", NULL, 1, err, sizeof err), TC_EINVAL);
    assert_int_equal(
        tc_templates_parse(t, "outage.internal.resolved.txt", NULL, 0, err, sizeof err),
        TC_ECONFIG);
    assert_string_equal(err, "outage.internal.resolved.txt: empty template");
    tc_templates_destroy(&t);
}

/* Checks that parsing `text` as `name` fails with exactly `want`. */
static void s_parse_fails(const char *name, const char *text, const char *want)
{
    char err[256];
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(NULL, &t, err, sizeof err), 0);
    assert_int_equal(tc_templates_parse(t, name, text, strlen(text), err, sizeof err), TC_ECONFIG);
    assert_string_equal(err, want);
    tc_templates_destroy(&t);
}

static void test_parse_errors(void **unused)
{
    (void)unused;
    s_parse_fails("outage.external.investigating.txt", "Line one.\n\nWe see {{hosts}} down.",
                  "outage.external.investigating.txt:3: unknown placeholder {{hosts}}");
    s_parse_fails("outage.internal.investigating.txt", "ok {{ title }}\n{{ title ",
                  "outage.internal.investigating.txt:2: unterminated {{ (a placeholder ends "
                  "with }} on the same line)");
    s_parse_fails("outage.internal.investigating.txt", "a {{title\n}}",
                  "outage.internal.investigating.txt:1: unterminated {{ (a placeholder ends "
                  "with }} on the same line)");
    s_parse_fails("outage.internal.investigating.txt", "x {{ }}",
                  "outage.internal.investigating.txt:1: empty placeholder {{}}");
    s_parse_fails("security.external.resolved.txt", "Fixed.\nCause: {{ summary }}",
                  "security.external.resolved.txt:2: {{summary}} is not allowed in external "
                  "templates: external messages carry no internal technical detail");
    s_parse_fails("outage.external.resolved.txt", "{{service}} is back",
                  "outage.external.resolved.txt:1: {{service}} is not allowed in external "
                  "templates: external messages carry no internal technical detail");
    s_parse_fails("outage.internal.resolved.txt", "a\r\nb",
                  "outage.internal.resolved.txt:1: carriage return (save the file with Unix "
                  "line endings)");
    s_parse_fails("outage.internal.resolved.txt", "a\n\xc3(",
                  "outage.internal.resolved.txt:2: invalid UTF-8");
    s_parse_fails("outage.internal.resolved.txt", "a\x1b[1m",
                  "outage.internal.resolved.txt:1: control character 0x1b (only tab and newline "
                  "are allowed)");
    s_parse_fails("outage.internal.resolved.txt", "\n\n\n",
                  "outage.internal.resolved.txt: empty "
                  "template");
    /* Long unknown names are quoted only in part. */
    s_parse_fails("outage.internal.resolved.txt",
                  "{{abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz}}",
                  "outage.internal.resolved.txt:1: unknown placeholder "
                  "{{abcdefghijklmnopqrstuvwxyzabcdefghijklmn...}}");

    /* File names. */
    s_parse_fails("outage.external.txt", "x",
                  "outage.external.txt: not a template file name: want "
                  "SCENARIO.AUDIENCE.STATE.txt, e.g. outage.external.investigating.txt");
    s_parse_fails("outage.external.resolved.md", "x",
                  "outage.external.resolved.md: not a template file name: want "
                  "SCENARIO.AUDIENCE.STATE.txt, e.g. outage.external.investigating.txt");
    s_parse_fails("outage.external.resolved.x.txt", "x",
                  "outage.external.resolved.x.txt: not a template file name: want "
                  "SCENARIO.AUDIENCE.STATE.txt, e.g. outage.external.investigating.txt");
    s_parse_fails("fire.external.resolved.txt", "x",
                  "fire.external.resolved.txt: unknown scenario \"fire\" (outage, degradation, "
                  "maintenance, security)");
    s_parse_fails("outage.public.resolved.txt", "x",
                  "outage.public.resolved.txt: unknown audience \"public\" (internal, external)");
    s_parse_fails("maintenance.external.resolved.txt", "x",
                  "maintenance.external.resolved.txt: \"resolved\" is not a state of maintenance "
                  "(scheduled, in_progress, verifying, completed)");

    /* Size: exactly TC_TEMPLATE_MAX is fine, one more is not. */
    char *big = malloc(TC_TEMPLATE_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', TC_TEMPLATE_MAX + 1);
    big[TC_TEMPLATE_MAX + 1] = '\0';
    s_parse_fails("outage.internal.resolved.txt", big,
                  "outage.internal.resolved.txt: larger than 4096 bytes");
    char err[64];
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(NULL, &t, err, sizeof err), 0);
    assert_int_equal(tc_templates_parse(t, "outage.internal.resolved.txt", big, TC_TEMPLATE_MAX,
                                        err, sizeof err),
                     0);
    tc_templates_destroy(&t);
    free(big);
}

static int s_count_files(const char *scenario, const char *audience, const char *state,
                         const char *text, bool from_file, void *ctx)
{
    (void)scenario;
    (void)audience;
    (void)state;
    (void)text;
    *(int *)ctx += from_file;
    return 0;
}

static int s_stop_at_third(const char *scenario, const char *audience, const char *state,
                           const char *text, bool from_file, void *ctx)
{
    (void)scenario;
    (void)audience;
    (void)state;
    (void)text;
    (void)from_file;
    return ++*(int *)ctx == 3 ? 7 : 0;
}

static void test_files_override_defaults(void **state)
{
    s_fixture_t *f = *state;
    s_write_str(f, "outage.external.investigating.txt",
                "{{components}} are down.\nNext update by {{ next_update }}.\n\n");
    s_write_str(f, "maintenance.internal.scheduled.txt", "{{service}} {{window}}");
    s_write_str(f, "README", "{{not a template}}");
    s_write_str(f, "README.md", "notes");
    s_write_str(f, ".outage.external.resolved.txt.swp", "\xff\xfe");

    char err[256], out[512];
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(f->dir, &t, err, sizeof err), 0);
    assert_int_equal(
        tc_templates_render(t, "outage", "external", "investigating", &s_vars, out, sizeof out), 0);
    assert_string_equal(out, "Checkout and Payments are down.\nNext update by 14:30 UTC.");
    assert_int_equal(
        tc_templates_render(t, "maintenance", "internal", "scheduled", &s_vars, out, sizeof out),
        0);
    assert_string_equal(out, "api-gateway 24 Nov 02:00-04:00 UTC");
    /* Others keep their defaults. */
    assert_int_equal(
        tc_templates_render(t, "outage", "external", "resolved", &s_vars, out, sizeof out), 0);
    assert_non_null(strstr(out, "has been resolved"));

    int n = 0;
    assert_int_equal(tc_templates_each(t, s_count_files, &n), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(tc_templates_each(t, s_stop_at_third, &n), 7);
    assert_int_equal(n, 3);
    assert_int_equal(tc_templates_each(t, NULL, &n), TC_EINVAL);
    tc_templates_destroy(&t);
}

/* Loads f->dir expecting failure `code` with message `want`. */
static void s_load_fails(const char *dir, int code, const char *want)
{
    char err[256];
    tc_templates_t *t = (void *)err; /* must be reset to NULL */
    assert_int_equal(tc_templates_load(dir, &t, err, sizeof err), code);
    assert_null(t);
    assert_string_equal(err, want);
}

static void test_load_errors(void **state)
{
    s_fixture_t *f = *state;
    char want[512], path[256];

    s_write_str(f, "outage.external.identified.txt", "ok");
    s_write_str(f, "outage.external.investigating.txt", "Hi.\n\nWe see {{hosts}} down.\n");
    s_load_fails(f->dir, TC_ECONFIG,
                 "outage.external.investigating.txt:3: unknown placeholder {{hosts}}");

    s_write_str(f, "outage.external.investigating.txt", "{{summary}}");
    s_load_fails(f->dir, TC_ECONFIG,
                 "outage.external.investigating.txt:1: {{summary}} is not allowed in external "
                 "templates: external messages carry no internal technical detail");

    s_write_str(f, "outage.external.investigating.txt", "We are {{ on it");
    s_load_fails(f->dir, TC_ECONFIG,
                 "outage.external.investigating.txt:1: unterminated {{ (a placeholder ends with "
                 "}} on the same line)");
    s_write_str(f, "outage.external.investigating.txt", "ok");

    /* Bad names are reported before anything else is read. */
    s_write_str(f, "notes.txt", "hello");
    s_load_fails(f->dir, TC_ECONFIG,
                 "notes.txt: not a template file name: want SCENARIO.AUDIENCE.STATE.txt, e.g. "
                 "outage.external.investigating.txt");
    snprintf(path, sizeof path, "%s/notes.txt", f->dir);
    assert_int_equal(unlink(path), 0);

    /* A directory where a template should be. */
    snprintf(path, sizeof path, "%s/outage.internal.resolved.txt", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    s_load_fails(f->dir, TC_ECONFIG, "outage.internal.resolved.txt: not a regular file");
    assert_int_equal(rmdir(path), 0);

    /* Oversized file; trailing newlines count towards the limit. */
    char *big = malloc(TC_TEMPLATE_MAX + 1);
    assert_non_null(big);
    memset(big, '\n', TC_TEMPLATE_MAX + 1);
    big[0] = 'x';
    s_write(f, "security.external.monitoring.txt", big, TC_TEMPLATE_MAX + 1);
    s_load_fails(f->dir, TC_ECONFIG, "security.external.monitoring.txt: larger than 4096 bytes");
    s_write(f, "security.external.monitoring.txt", big, TC_TEMPLATE_MAX);
    free(big);

    /* Everything fixed: loads. */
    char err[256];
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(f->dir, &t, err, sizeof err), 0);
    int n = 0;
    assert_int_equal(tc_templates_each(t, s_count_files, &n), 0);
    assert_int_equal(n, 3);
    tc_templates_destroy(&t);

    /* A missing directory is an error, not "defaults only". */
    snprintf(path, sizeof path, "%s/missing", f->dir);
    snprintf(want, sizeof want, "%s: cannot open template directory: No such file or directory",
             path);
    s_load_fails(path, TC_ECONFIG, want);
    assert_int_equal(tc_templates_load(NULL, NULL, err, sizeof err), TC_EINVAL);
}

static void test_truncation_at_character_boundary(void **unused)
{
    (void)unused;
    char err[256];
    tc_templates_t *t = NULL;
    assert_int_equal(tc_templates_load(NULL, &t, err, sizeof err), 0);
    /* "é" is 2 bytes, "€" 3, "😀" 4. */
    static const char text[] = "ab\xc3\xa9{{title}}\xe2\x82\xac!";
    assert_int_equal(tc_templates_parse(t, "outage.external.resolved.txt", text, sizeof text - 1,
                                        err, sizeof err),
                     0);
    tc_template_vars_t v = {.title = "\xf0\x9f\x98\x80"};
    char out[32];
    /* Full text: ab é 😀 € ! = 2+2+4+3+1 = 12 bytes. */
    assert_int_equal(tc_templates_render(t, "outage", "external", "resolved", &v, out, 13), 0);
    assert_string_equal(out, "ab\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac!");
    assert_int_equal(tc_templates_render(t, "outage", "external", "resolved", &v, out, 12),
                     TC_ETOOBIG);
    assert_string_equal(out, "ab\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac");

    /* Every capacity: NUL-terminated, valid UTF-8, a prefix of the whole. */
    static const char *const whole = "ab\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac!";
    static const size_t expect_len[] = {0, 0, 1, 2, 2, 4, 4, 4, 4, 8, 8, 8, 11};
    for (size_t cap = 1; cap <= 12; cap++) {
        memset(out, 'Z', sizeof out);
        assert_int_equal(tc_templates_render(t, "outage", "external", "resolved", &v, out, cap),
                         TC_ETOOBIG);
        assert_int_equal(strlen(out), expect_len[cap]);
        assert_true(s_valid_utf8(out));
        assert_memory_equal(out, whole, strlen(out));
        assert_int_equal(out[cap], 'Z'); /* nothing written past cap */
    }
    tc_templates_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_render_for_every_combination),
        cmocka_unit_test(test_validity_helpers),
        cmocka_unit_test(test_render_substitutes_and_rejects_bad_combinations),
        cmocka_unit_test(test_parse_from_memory_with_spaces_in_braces),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test_setup_teardown(test_files_override_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, s_setup, s_teardown),
        cmocka_unit_test(test_truncation_at_character_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
