/*
 * ctl_show.c - how tocsinctl prints each reply (see ctl_show.h).
 */
#include "ctl_show.h"

#include "error.h"
#include "postmortem.h"
#include "render.h"
#include "report.h"
#include "table.h"
#include "utf8.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the document in `j` plus a newline. Returns 0 or an error code. */
static int s_print_json(tc_json_t *j)
{
    int rc = tc_json_error(j);
    if (rc != 0)
        return rc;
    fwrite(tc_json_data(j), 1, tc_json_len(j), stdout);
    fputc('\n', stdout);
    return ferror(stdout) ? TC_EIO : 0;
}

int tc_ctl_show_status(const tc_api_reply_t *r, tc_json_t *j)
{
    if (!r->has_status)
        return TC_EDECODE;
    if (!j)
        return tc_render_status_text(stdout, &r->status, tc_now_ms());
    tc_render_status_json(j, &r->status);
    return s_print_json(j);
}

int tc_ctl_show_incidents(const tc_api_reply_t *r, bool all, tc_json_t *j)
{
    if (!j)
        return tc_render_incidents_text(stdout, r->incidents, r->nincidents, all);
    tc_json_array_begin(j);
    for (size_t i = 0; i < r->nincidents; i++)
        tc_render_incident_json(j, &r->incidents[i]);
    tc_json_array_end(j);
    return s_print_json(j);
}

int tc_ctl_show_incident(const tc_api_reply_t *r, tc_json_t *j)
{
    if (r->nincidents == 0)
        return TC_ENOTFOUND;
    if (!j)
        return tc_render_incident_text(stdout, &r->incidents[0]);
    tc_render_incident_json(j, &r->incidents[0]);
    return s_print_json(j);
}

int tc_ctl_show_log(const tc_api_reply_t *r, tc_json_t *j, uint64_t *next_from)
{
    int rc = 0;
    *next_from = 0;
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->nlog; i++)
            tc_render_record_json(j, &r->log[i]);
        tc_json_array_end(j);
        rc = s_print_json(j);
    } else if (r->nlog == 0) {
        printf("no log records\n");
    } else {
        char line[4096];
        for (size_t i = 0; i < r->nlog; i++)
            printf("%s\n", tc_render_record_line(&r->log[i], line, sizeof line));
    }
    if (rc == 0 && r->more && r->nlog > 0)
        *next_from = r->log[r->nlog - 1].seq + 1;
    return rc;
}

int tc_ctl_show_items(const tc_api_reply_t *r, tc_json_t *j)
{
    if (r->nincidents == 0)
        return TC_ENOTFOUND;
    const tc_incident_t *inc = &r->incidents[0];
    char when[40];
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < inc->nactions; i++) {
            const tc_action_item_t *it = &inc->actions[i];
            tc_json_object_begin(j);
            tc_json_key(j, "number");
            tc_json_uint(j, it->number);
            tc_json_key(j, "owner");
            tc_json_string(j, it->owner);
            tc_json_key(j, "text");
            tc_json_string(j, it->text);
            tc_json_key(j, "done_at");
            if (it->done_ms)
                tc_json_string(j, tc_time_format(it->done_ms, when, sizeof when));
            else
                tc_json_null(j);
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        return s_print_json(j);
    }
    if (inc->nactions == 0) {
        printf("incident %" PRIu64 " has no action items\n", inc->id);
        return 0;
    }
    static const char *const head[] = {"#", "OWNER", "STATE", "ACTION"};
    tc_table_t *t = tc_table_new(4, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < inc->nactions; i++) {
        char num[16], text[2 * TC_ACTION_TEXT];
        snprintf(num, sizeof num, "%" PRIu32, inc->actions[i].number);
        tc_utf8_sanitize(inc->actions[i].text, text, sizeof text);
        const char *cells[] = {num, inc->actions[i].owner,
                               inc->actions[i].done_ms ? "done" : "open", text};
        tc_table_add_row(t, cells);
    }
    int rc = tc_table_print(t, stdout);
    tc_table_destroy(&t);
    return rc;
}

int tc_ctl_show_oncall(const tc_api_reply_t *r, tc_json_t *j)
{
    char when[40];
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->noncall; i++) {
            tc_json_object_begin(j);
            tc_json_key(j, "scope");
            tc_json_string(j, r->oncall[i].scope);
            tc_json_key(j, "person");
            tc_json_string(j, r->oncall[i].person);
            tc_json_key(j, "until");
            if (r->oncall[i].until_ms)
                tc_json_string(j, tc_time_format(r->oncall[i].until_ms, when, sizeof when));
            else
                tc_json_null(j);
            tc_json_object_end(j);
        }
        tc_json_array_end(j);
        return s_print_json(j);
    }
    if (r->noncall == 0) {
        printf("nobody is on call (no on-call roster in the coordinator's configuration)\n");
        return 0;
    }
    static const char *const head[] = {"WHO FOR", "ON CALL", "UNTIL"};
    tc_table_t *t = tc_table_new(3, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < r->noncall; i++) {
        const char *cells[] = {
            r->oncall[i].scope, r->oncall[i].person,
            r->oncall[i].until_ms ? tc_time_format(r->oncall[i].until_ms, when, sizeof when) : "-"};
        tc_table_add_row(t, cells);
    }
    int rc = tc_table_print(t, stdout);
    tc_table_destroy(&t);
    return rc;
}

int tc_ctl_show_report(const tc_api_reply_t *r, tc_json_t *j)
{
    tc_report_t rep;
    int rc = tc_report_compute(r->incidents, r->nincidents, &rep);
    if (rc)
        return rc;
    if (!j)
        return tc_report_text(stdout, r->incidents, r->nincidents, &rep);
    tc_report_json(j, r->incidents, r->nincidents, &rep);
    return s_print_json(j);
}

int tc_ctl_show_timeline(const tc_api_reply_t *r, tc_json_t *j)
{
    if (r->nincidents == 0)
        return TC_ENOTFOUND;
    if (j) {
        tc_json_object_begin(j);
        tc_json_key(j, "incident");
        tc_render_incident_json(j, &r->incidents[0]);
        tc_json_key(j, "timeline");
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->ntimeline; i++)
            tc_render_timeline_json(j, &r->timeline[i]);
        tc_json_array_end(j);
        tc_json_object_end(j);
        return s_print_json(j);
    }
    const tc_incident_t *inc = &r->incidents[0];
    printf("incident %" PRIu64 " (%s), %s\n", inc->id, inc->service,
           tc_incident_state_name(inc->state));
    char line[4096];
    for (size_t i = 0; i < r->ntimeline; i++)
        printf("%s\n", tc_render_timeline_line(&r->timeline[i], line, sizeof line));
    return 0;
}

int tc_ctl_show_audit(const tc_api_reply_t *r, tc_json_t *j, uint64_t *next_from)
{
    int rc = 0;
    *next_from = 0;
    if (j) {
        tc_json_array_begin(j);
        for (size_t i = 0; i < r->naudit; i++)
            tc_render_audit_json(j, &r->audit[i]);
        tc_json_array_end(j);
        rc = s_print_json(j);
    } else if (r->naudit == 0) {
        printf("no audit records\n");
    } else {
        char line[4096];
        for (size_t i = 0; i < r->naudit; i++)
            printf("%s\n", tc_render_audit_line(&r->audit[i], line, sizeof line));
    }
    if (rc == 0 && r->more && r->naudit > 0)
        *next_from = r->audit[r->naudit - 1].seq + 1;
    return rc;
}

int tc_ctl_show_postmortem(const tc_api_reply_t *r, tc_json_t *j)
{
    if (r->nincidents == 0)
        return TC_ENOTFOUND;
    const tc_incident_t *inc = &r->incidents[0];
    if (!j)
        return tc_postmortem_markdown(stdout, inc, r->timeline, r->ntimeline, r->updates,
                                      r->nupdates);
    /* The same Markdown, as one string of a JSON object. */
    char *md = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&md, &len);
    if (!mem)
        return TC_ENOMEM;
    int rc = tc_postmortem_markdown(mem, inc, r->timeline, r->ntimeline, r->updates, r->nupdates);
    if (fclose(mem) != 0 && rc == 0)
        rc = TC_ENOMEM;
    if (rc == 0) {
        tc_json_object_begin(j);
        tc_json_key(j, "incident");
        tc_json_uint(j, inc->id);
        tc_json_key(j, "markdown");
        tc_json_string_n(j, md, len);
        tc_json_object_end(j);
        rc = s_print_json(j);
    }
    free(md);
    return rc;
}
