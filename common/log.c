#include "log.h"

#include "error.h"
#include "json.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Written once by tc_log_init() before threads exist; see log.h. */
static const char *s_program = "tocsin";
static tc_log_level_t s_threshold = TC_LOG_INFO;
static tc_log_format_t s_format = TC_LOG_TEXT;
static bool s_journal = false;

static const char *const s_names[] = {"debug", "info", "warn", "error"};

/* True if JOURNAL_STREAM ("DEV:INODE") names what fd 2 is. systemd sets it
 * for the service's stdout/stderr; a program whose stderr was redirected
 * elsewhere (a file, a pipe to another logger) keeps the variable but not
 * the stream, and must then keep its own timestamps. */
static bool s_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js || !*js)
        return false;
    unsigned long long dev, ino;
    char tail;
    if (sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
        return false;
    struct stat st;
    if (fstat(2, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void tc_log_init(const char *program, tc_log_level_t threshold)
{
    s_program = program;
    s_threshold = threshold;
    s_journal = s_stderr_is_journal();
}

void tc_log_set_format(tc_log_format_t format)
{
    s_format = format;
}

bool tc_log_to_journal(void)
{
    return s_journal;
}

int tc_log_level_parse(const char *s, tc_log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, s_names[i]) == 0) {
            *out = (tc_log_level_t)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = TC_LOG_WARN;
        return 0;
    }
    return TC_EINVAL;
}

int tc_log_format_parse(const char *s, tc_log_format_t *out)
{
    if (strcmp(s, "text") == 0) {
        *out = TC_LOG_TEXT;
        return 0;
    }
    if (strcmp(s, "json") == 0) {
        *out = TC_LOG_JSON;
        return 0;
    }
    return TC_EINVAL;
}

/* One JSON object for the line; false if the writer could not allocate,
 * and the caller falls back to text rather than lose the line. */
static bool s_print_json(const char *prefix, tc_log_level_t level, int64_t now, const char *msg)
{
    tc_json_t *j = tc_json_new();
    if (!j)
        return false;
    tc_json_object_begin(j);
    tc_json_key(j, "time");
    tc_json_time(j, now);
    tc_json_key(j, "level");
    tc_json_string(j, s_names[level]);
    tc_json_key(j, "program");
    tc_json_string(j, s_program);
    tc_json_key(j, "message");
    tc_json_string(j, msg);
    tc_json_object_end(j);
    bool ok = tc_json_error(j) == 0;
    if (ok)
        fprintf(stderr, "%s%s\n", prefix, tc_json_data(j));
    tc_json_destroy(&j);
    return ok;
}

void tc_log(tc_log_level_t level, const char *fmt, ...)
{
    static const char *tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    /* syslog(3) priorities: LOG_DEBUG 7, LOG_INFO 6, LOG_WARNING 4, LOG_ERR 3. */
    static const char *prio[] = {"<7>", "<6>", "<4>", "<3>"};
    if (level < s_threshold || (unsigned)level > TC_LOG_ERROR)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int64_t now = tc_now_ms();
    const char *prefix = s_journal ? prio[level] : "";
    /* One fprintf per line so concurrent writers never interleave mid-line. */
    if (s_format == TC_LOG_JSON && s_print_json(prefix, level, now, line))
        return;
    if (s_journal) {
        fprintf(stderr, "%s%s\n", prefix, line);
        return;
    }
    char when[40];
    tc_time_format(now, when, sizeof when);
    fprintf(stderr, "%s %s %s: %s\n", when, tags[level], s_program, line);
}
