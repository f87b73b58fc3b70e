/* common/acklink: a token signed for one page verifies and says what it
 * names; changing any byte, another key, garbage and truncation are all
 * refused; the key file is made once (mode 0600), read back, and a bad one
 * named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "acklink.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **unused)
{
    (void)unused;
    snprintf(s_dir, sizeof s_dir, "/tmp/tc-acklink-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **unused)
{
    (void)unused;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const tc_acklink_t s_link = {.incident = 42,
                                    .role = "sme",
                                    .person = "alice",
                                    .paged_ms = 1796250000123LL,
                                    .expires_ms = 1796336400123LL};

static void test_round_trip(void **unused)
{
    (void)unused;
    uint8_t key[TC_ACKLINK_KEY_BYTES], other[TC_ACKLINK_KEY_BYTES];
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    char tok[TC_ACKLINK_TOKEN_MAX];
    assert_int_equal(tc_acklink_sign(key, &s_link, tok, sizeof tok), 0);
    /* URL-safe: nothing that needs escaping in a path. */
    assert_int_equal(
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        strlen(tok));
    tc_acklink_t got;
    assert_int_equal(tc_acklink_verify(key, tok, &got), 0);
    assert_int_equal(got.incident, 42);
    assert_string_equal(got.role, "sme");
    assert_string_equal(got.person, "alice");
    assert_int_equal(got.paged_ms, s_link.paged_ms);
    assert_int_equal(got.expires_ms, s_link.expires_ms);
    /* The same page signs to the same token; another page to another. */
    char tok2[TC_ACKLINK_TOKEN_MAX];
    assert_int_equal(tc_acklink_sign(key, &s_link, tok2, sizeof tok2), 0);
    assert_string_equal(tok, tok2);
    tc_acklink_t later = s_link;
    later.paged_ms += 1;
    assert_int_equal(tc_acklink_sign(key, &later, tok2, sizeof tok2), 0);
    assert_string_not_equal(tok, tok2);
    /* Readable without the key. */
    memset(&got, 0, sizeof got);
    assert_int_equal(tc_acklink_parse(tok, &got), 0);
    assert_string_equal(got.person, "alice");
    /* Another key's token is refused. */
    assert_int_equal(tc_acklink_verify(other, tok, &got), TC_EAUTH);
}

static void test_tampering(void **unused)
{
    (void)unused;
    uint8_t key[TC_ACKLINK_KEY_BYTES];
    memset(key, 7, sizeof key);
    char tok[TC_ACKLINK_TOKEN_MAX];
    assert_int_equal(tc_acklink_sign(key, &s_link, tok, sizeof tok), 0);
    size_t n = strlen(tok);
    tc_acklink_t got;
    /* Every character changed, one at a time: never accepted. The last
     * character may carry unused bits, so a change there may decode to
     * the same bytes; everything else must fail. */
    for (size_t i = 0; i + 1 < n; i++) {
        char t[TC_ACKLINK_TOKEN_MAX];
        memcpy(t, tok, n + 1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_int_not_equal(tc_acklink_verify(key, t, &got), 0);
    }
    /* Truncated, extended, garbage, empty. */
    char t[TC_ACKLINK_TOKEN_MAX + 8]; /* room to extend it */
    memcpy(t, tok, n + 1);
    t[n - 4] = 0;
    assert_int_not_equal(tc_acklink_verify(key, t, &got), 0);
    snprintf(t, sizeof t, "%sAAAA", tok);
    assert_int_not_equal(tc_acklink_verify(key, t, &got), 0);
    assert_int_equal(tc_acklink_verify(key, "hello", &got), TC_EINVAL);
    assert_int_equal(tc_acklink_verify(key, "a/b", &got), TC_EINVAL);
    assert_int_equal(tc_acklink_verify(key, "", &got), TC_EINVAL);
    assert_int_equal(tc_acklink_verify(key, NULL, &got), TC_EINVAL);
    assert_int_equal(tc_acklink_parse("!!!", &got), TC_EINVAL);
    char huge[TC_ACKLINK_TOKEN_MAX + 10];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    assert_int_equal(tc_acklink_verify(key, huge, &got), TC_EINVAL);
    /* Invalid ids cannot be signed. */
    tc_acklink_t bad = s_link;
    snprintf(bad.person, sizeof bad.person, "al ice");
    assert_int_equal(tc_acklink_sign(key, &bad, t, sizeof t), TC_EINVAL);
    bad = s_link;
    bad.incident = 0;
    assert_int_equal(tc_acklink_sign(key, &bad, t, sizeof t), TC_EINVAL);
    /* The longest ids fit. */
    bad = s_link;
    memset(bad.person, 'p', TC_ID_MAX - 1);
    bad.person[TC_ID_MAX - 1] = 0;
    memset(bad.role, 'r', TC_ID_MAX - 1);
    bad.role[TC_ID_MAX - 1] = 0;
    assert_int_equal(tc_acklink_sign(key, &bad, t, sizeof t), 0);
    assert_int_equal(tc_acklink_verify(key, t, &got), 0);
    assert_string_equal(got.person, bad.person);
}

static void test_key_file(void **unused)
{
    (void)unused;
    char path[128], why[256];
    snprintf(path, sizeof path, "%s/links.key", s_dir);
    uint8_t a[TC_ACKLINK_KEY_BYTES], b[TC_ACKLINK_KEY_BYTES];
    assert_int_equal(tc_acklink_key_load(path, a, why, sizeof why), TC_ENOTFOUND);
    assert_non_null(strstr(why, path));
    assert_int_equal(tc_acklink_key_ensure(path, a, why, sizeof why), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);
    /* Made once: a second ensure reads the same key. */
    assert_int_equal(tc_acklink_key_ensure(path, b, why, sizeof why), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(tc_acklink_key_load(path, b, why, sizeof why), 0);
    assert_memory_equal(a, b, sizeof a);
    /* A file that is not a key. */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.key", s_dir);
    FILE *f = fopen(bad, "w");
    fputs("not hex at all\n", f);
    fclose(f);
    assert_int_equal(tc_acklink_key_load(bad, b, why, sizeof why), TC_EINVAL);
    assert_non_null(strstr(why, "not a link key"));
    assert_int_equal(tc_acklink_key_ensure(bad, b, why, sizeof why), TC_EINVAL);
    /* A directory that cannot hold it. */
    assert_int_equal(tc_acklink_key_ensure("/nonexistent-dir/links.key", b, why, sizeof why),
                     TC_ESYS);
    assert_non_null(strstr(why, "/nonexistent-dir/links.key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
