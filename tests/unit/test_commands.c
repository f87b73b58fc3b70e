/* tocsinctl's command and option tables: consistent with themselves, with
 * getopt_long's table, and with the help and completion made from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What fn writes, as a string (caller frees). */
static char *s_text(void (*fn)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f);
    fclose(f);
    return buf;
}

static void test_options(void **unused)
{
    const struct option *lo = tc_ctl_getopt_longopts();
    size_t n = 0;
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++, n++) {
        /* getopt's table follows this one, entry by entry. */
        assert_string_equal(lo[n].name, o->name);
        assert_int_equal(lo[n].has_arg, o->has_arg);
        assert_int_equal(lo[n].val, o->val);
        assert_ptr_equal(tc_ctl_option(o->val), o);
        assert_true((o->arg != NULL) == (o->has_arg == required_argument));
        assert_non_null(o->help);
        for (const tc_ctl_option_t *p = tc_ctl_options; p < o; p++) {
            assert_string_not_equal(p->name, o->name);
            assert_int_not_equal(p->val, o->val);
        }
        /* A short form is in the short-option string, with ':' if it
         * takes a value. */
        if (o->val < 256) {
            const char *at = strchr(tc_ctl_getopt_shortopts() + 1, o->val);
            assert_non_null(at);
            assert_int_equal(at[1] == ':', o->has_arg == required_argument);
        }
    }
    assert_null(lo[n].name);
    /* Every option group has a command that takes it. */
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++) {
        if (!o->groups)
            continue;
        bool taken = false;
        for (const tc_ctl_command_t *c = tc_ctl_commands; c->name; c++)
            taken |= (c->groups & o->groups) != 0;
        if (!taken)
            fail_msg("no command takes --%s", o->name);
    }
}

static void test_commands(void **unused)
{
    char *help = s_text(tc_ctl_usage);
    char *bash = s_text(tc_ctl_completion_bash);
    assert_true(strncmp(help, "usage: tocsinctl ", 17) == 0);
    assert_non_null(strstr(help, "exit status: 0 success"));
    for (const tc_ctl_command_t *c = tc_ctl_commands; c->name; c++) {
        assert_ptr_equal(tc_ctl_command(c->name)->name, c->name);
        char line[128];
        snprintf(line, sizeof line, "\n  %s", c->name);
        assert_non_null(strstr(help, line));
        snprintf(line, sizeof line, "\n    %s) opts='", c->name);
        assert_non_null(strstr(bash, line));
        assert_true((tc_ctl_command_groups(c->name) & c->groups) == c->groups);
    }
    for (const tc_ctl_option_t *o = tc_ctl_options; o->name; o++) {
        char word[64];
        snprintf(word, sizeof word, "--%s", o->name);
        assert_non_null(strstr(help, word));
        assert_non_null(strstr(bash, word));
    }
    assert_null(tc_ctl_command("frobnicate"));
    assert_int_equal(tc_ctl_command_groups("frobnicate"), 0);
    /* The help fits a terminal. */
    for (char *line = help; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > 79)
            fail_msg("help line of %zu columns: %.*s", len, (int)len, line);
        line = nl ? nl + 1 : NULL;
    }
    free(help);
    free(bash);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
