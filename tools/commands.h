/*
 * commands.h - tocsinctl's command and option tables, and what is made
 * from them: the getopt_long() option list, the --help text and the bash
 * completion script. One table, so the three never disagree.
 *
 * Options are parsed by one getopt_long() over the whole command line
 * (before or after the command word, GNU style); each option then belongs
 * to groups, and a command accepts the options of its groups plus the
 * global ones.
 */
#ifndef TC_COMMANDS_H
#define TC_COMMANDS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Groups of command options. 0 = a global option. */
enum {
    TC_CTL_G_ALL = 1u << 0,     /* --all */
    TC_CTL_G_FILTER = 1u << 1,  /* --service --state --severity --since */
    TC_CTL_G_RANGE = 1u << 2,   /* --from --limit */
    TC_CTL_G_MESSAGE = 1u << 3, /* -m */
    TC_CTL_G_DRAFT = 1u << 4,   /* update draft's options */
    TC_CTL_G_WINDOW = 1u << 5,  /* maintenance add's options */
    TC_CTL_G_DRILL = 1u << 6,   /* drill's options */
    TC_CTL_G_KEYS = 1u << 7,    /* --dir */
    TC_CTL_G_FORCE = 1u << 8,   /* --force */
    TC_CTL_G_REPORT = 1u << 9,  /* postmortem ID report's parts */
};

/* The `val` getopt_long() returns for each option. */
enum {
    TC_CTL_OPT_HELP = 'h',
    TC_CTL_OPT_VERSION = 'V',
    TC_CTL_OPT_JSON = 'j',
    TC_CTL_OPT_OUTPUT = 'o',
    TC_CTL_OPT_MESSAGE = 'm',
    TC_CTL_OPT_API = 256,
    TC_CTL_OPT_TIMEOUT,
    TC_CTL_OPT_AS_OF,
    TC_CTL_OPT_KEY,
    TC_CTL_OPT_SERVER_KEY,
    TC_CTL_OPT_INSECURE,
    TC_CTL_OPT_DIR,
    TC_CTL_OPT_ALL,
    TC_CTL_OPT_SERVICE,
    TC_CTL_OPT_STATE,
    TC_CTL_OPT_SEVERITY,
    TC_CTL_OPT_SINCE,
    TC_CTL_OPT_FROM,
    TC_CTL_OPT_LIMIT,
    TC_CTL_OPT_EXTERNAL,
    TC_CTL_OPT_INTERNAL,
    TC_CTL_OPT_SCENARIO,
    TC_CTL_OPT_TITLE,
    TC_CTL_OPT_COMPONENTS,
    TC_CTL_OPT_NEXT,
    TC_CTL_OPT_ETA,
    TC_CTL_OPT_START,
    TC_CTL_OPT_END,
    TC_CTL_OPT_EVERY,
    TC_CTL_OPT_VERIFY,
    TC_CTL_OPT_WAIT,
    TC_CTL_OPT_FORCE,
    TC_CTL_OPT_SUMMARY, /* the four parts of a public report, in order */
    TC_CTL_OPT_IMPACT,
    TC_CTL_OPT_CAUSE,
    TC_CTL_OPT_ACTIONS,
};

typedef struct {
    const char *name;   /* long name, without "--" */
    int has_arg;        /* no_argument or required_argument */
    int val;            /* TC_CTL_OPT_*; a letter for options with a short form */
    unsigned groups;    /* TC_CTL_G_* it belongs to; 0 = global */
    const char *arg;    /* the value's name in the help ("EP"), NULL if none */
    const char *values; /* completion words for the value, NULL: any (a file: "@file") */
    const char *help;
} tc_ctl_option_t;

typedef struct {
    const char *name;     /* the command word */
    const char *synopsis; /* what follows it; '\n' continues the line */
    const char *help;     /* '\n' continues it */
    int section;          /* for the help text */
    unsigned groups;      /* the options it takes */
    /* Completion words for the first three words after the command ("" or
     * NULL: nothing to offer, such as an incident id). */
    const char *words[3];
} tc_ctl_command_t;

/* The tables, each ended by an entry with name NULL. Static. A command
 * with several forms has one entry per form, all with the same name;
 * tc_ctl_command() finds the first, tc_ctl_command_groups() unites them. */
extern const tc_ctl_option_t tc_ctl_options[];
extern const tc_ctl_command_t tc_ctl_commands[];

/* The getopt_long() table built from tc_ctl_options (static storage, built
 * on first use; main thread only), and its short-option string. */
const struct option *tc_ctl_getopt_longopts(void);
const char *tc_ctl_getopt_shortopts(void);

/* The option with getopt value `val`, or NULL. */
const tc_ctl_option_t *tc_ctl_option(int val);

/* The command named `name`, or NULL. */
const tc_ctl_command_t *tc_ctl_command(const char *name);

/* The groups of every form of command `name` (0 if unknown). */
unsigned tc_ctl_command_groups(const char *name);

/* Writes the --help text. */
void tc_ctl_usage(FILE *out);

/* Writes a bash completion script for tocsinctl (complete -F), made from
 * the tables. */
void tc_ctl_completion_bash(FILE *out);

#endif
