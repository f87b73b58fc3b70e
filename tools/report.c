#include "report.h"

#include "error.h"
#include "render.h"
#include "table.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Time from opening to `at`, or -1 when `at` never happened. */
static int64_t s_since_open(const tc_incident_t *inc, int64_t at)
{
    return at > 0 && inc->opened_ms > 0 && at >= inc->opened_ms ? at - inc->opened_ms : -1;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void s_metric(int64_t *v, size_t n, tc_metric_t *m)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    if (n == 0) {
        m->mean_ms = m->median_ms = m->p90_ms = m->max_ms = -1;
        return;
    }
    qsort(v, n, sizeof *v, s_cmp);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    m->mean_ms = sum / (int64_t)n;
    m->median_ms = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    /* Nearest rank: the smallest value with at least 90% at or below it. */
    size_t rank = (9 * n + 9) / 10;
    m->p90_ms = v[rank - 1];
    m->max_ms = v[n - 1];
}

int tc_report_compute(const tc_incident_t *incs, size_t n, tc_report_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t *a = calloc(n + 1, sizeof *a), *d = calloc(n + 1, sizeof *d),
            *r = calloc(n + 1, sizeof *r);
    if (!a || !d || !r) {
        free(a);
        free(d);
        free(r);
        return TC_ENOMEM;
    }
    size_t na = 0, nd = 0, nr = 0;
    for (size_t i = 0; i < n; i++) {
        const tc_incident_t *inc = &incs[i];
        int64_t v;
        out->incidents++;
        out->resolved += inc->state == TC_INC_RESOLVED;
        out->declared += inc->declared;
        out->major += tc_severity_major(inc->severity);
        if ((v = s_since_open(inc, inc->acknowledged_ms)) >= 0)
            a[na++] = v;
        if ((v = s_since_open(inc, inc->declared_ms)) >= 0)
            d[nd++] = v;
        if ((v = s_since_open(inc, inc->resolved_ms)) >= 0)
            r[nr++] = v;
    }
    s_metric(a, na, &out->tta);
    s_metric(d, nd, &out->ttd);
    s_metric(r, nr, &out->ttr);
    free(a);
    free(d);
    free(r);
    return 0;
}

static const char *s_dur(int64_t ms, char *buf, size_t cap)
{
    if (ms < 0)
        return "-";
    return tc_duration_compact(ms, buf, cap);
}

int tc_report_text(FILE *out, const tc_incident_t *incs, size_t n, const tc_report_t *r)
{
    static const char *const head[] = {"ID", "SERVICE", "SEV", "STATE", "TTA", "TTD", "TTR"};
    tc_table_t *t = tc_table_new(7, head);
    if (!t)
        return TC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const tc_incident_t *inc = &incs[i];
        char id[24], sev[48], a[32], d[32], rr[32];
        snprintf(id, sizeof id, "%" PRIu64, inc->id);
        snprintf(sev, sizeof sev, "%s", inc->severity ? "" : "-");
        if (inc->severity)
            snprintf(sev, sizeof sev, "%" PRIu32 " %s", inc->severity,
                     tc_severity_meaning(inc->severity));
        const char *cells[] = {id,
                               inc->service,
                               sev,
                               tc_incident_state_name(inc->state),
                               s_dur(s_since_open(inc, inc->acknowledged_ms), a, sizeof a),
                               s_dur(s_since_open(inc, inc->declared_ms), d, sizeof d),
                               s_dur(s_since_open(inc, inc->resolved_ms), rr, sizeof rr)};
        if (tc_table_add_row(t, cells) != 0) {
            tc_table_destroy(&t);
            return TC_ENOMEM;
        }
    }
    int rc = n ? tc_table_print(t, out) : 0;
    tc_table_destroy(&t);
    if (rc)
        return rc;
    fprintf(out, "%s%zu incidents, %zu resolved, %zu declared, %zu major\n", n ? "\n" : "",
            r->incidents, r->resolved, r->declared, r->major);
    const struct {
        const char *name;
        const tc_metric_t *m;
    } rows[] = {{"time to acknowledge", &r->tta},
                {"time to declare", &r->ttd},
                {"time to resolve", &r->ttr}};
    for (size_t i = 0; i < 3; i++) {
        char m1[32], m2[32], m3[32], m4[32];
        const tc_metric_t *m = rows[i].m;
        if (m->n == 0)
            fprintf(out, "%-20s -\n", rows[i].name);
        else
            fprintf(out, "%-20s mean %s, median %s, p90 %s, max %s (%zu incidents)\n", rows[i].name,
                    s_dur(m->mean_ms, m1, sizeof m1), s_dur(m->median_ms, m2, sizeof m2),
                    s_dur(m->p90_ms, m3, sizeof m3), s_dur(m->max_ms, m4, sizeof m4), m->n);
    }
    return ferror(out) ? TC_EIO : 0;
}

static void s_json_ms(tc_json_t *j, const char *key, int64_t ms)
{
    tc_json_key(j, key);
    if (ms < 0)
        tc_json_null(j);
    else
        tc_json_uint(j, (uint64_t)ms);
}

static void s_json_metric(tc_json_t *j, const char *key, const tc_metric_t *m)
{
    tc_json_key(j, key);
    tc_json_object_begin(j);
    tc_json_key(j, "n");
    tc_json_uint(j, m->n);
    s_json_ms(j, "mean_ms", m->mean_ms);
    s_json_ms(j, "median_ms", m->median_ms);
    s_json_ms(j, "p90_ms", m->p90_ms);
    s_json_ms(j, "max_ms", m->max_ms);
    tc_json_object_end(j);
}

void tc_report_json(tc_json_t *j, const tc_incident_t *incs, size_t n, const tc_report_t *r)
{
    tc_json_object_begin(j);
    tc_json_key(j, "incidents");
    tc_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const tc_incident_t *inc = &incs[i];
        tc_json_object_begin(j);
        tc_json_key(j, "id");
        tc_json_uint(j, inc->id);
        tc_json_key(j, "service");
        tc_json_string(j, inc->service);
        tc_json_key(j, "severity");
        if (inc->severity)
            tc_json_uint(j, inc->severity);
        else
            tc_json_null(j);
        tc_json_key(j, "severity_meaning");
        if (inc->severity)
            tc_json_string(j, tc_severity_meaning(inc->severity));
        else
            tc_json_null(j);
        s_json_ms(j, "sev1_ms", tc_render_severity_ms(inc, 1));
        s_json_ms(j, "sev2_ms", tc_render_severity_ms(inc, 2));
        s_json_ms(j, "tta_ms", s_since_open(inc, inc->acknowledged_ms));
        s_json_ms(j, "ttd_ms", s_since_open(inc, inc->declared_ms));
        s_json_ms(j, "ttr_ms", s_since_open(inc, inc->resolved_ms));
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    tc_json_key(j, "summary");
    tc_json_object_begin(j);
    tc_json_key(j, "incidents");
    tc_json_uint(j, r->incidents);
    tc_json_key(j, "resolved");
    tc_json_uint(j, r->resolved);
    tc_json_key(j, "declared");
    tc_json_uint(j, r->declared);
    tc_json_key(j, "major");
    tc_json_uint(j, r->major);
    s_json_metric(j, "tta", &r->tta);
    s_json_metric(j, "ttd", &r->ttd);
    s_json_metric(j, "ttr", &r->ttr);
    tc_json_object_end(j);
    tc_json_object_end(j);
}
