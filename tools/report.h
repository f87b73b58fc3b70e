/*
 * report.h - response metrics from incidents: how long until an incident
 * was acknowledged, declared and resolved, per incident and aggregated.
 *
 * Pure: computed from the incidents' own timestamps, so `tocsinctl report`
 * needs nothing but `incidents --all`.
 */
#ifndef TC_REPORT_H
#define TC_REPORT_H

#include "json.h"
#include "msg.h"

#include <stdint.h>
#include <stdio.h>

/* One metric over many incidents; -1 where no incident had it. */
typedef struct {
    size_t n;
    int64_t mean_ms, median_ms, p90_ms, max_ms;
} tc_metric_t;

typedef struct {
    size_t incidents, resolved, declared, major;
    tc_metric_t tta; /* opened -> acknowledged */
    tc_metric_t ttd; /* opened -> declared */
    tc_metric_t ttr; /* opened -> resolved */
} tc_report_t;

/* Fills *out from `n` incidents. Returns 0 or TC_ENOMEM. */
int tc_report_compute(const tc_incident_t *incs, size_t n, tc_report_t *out);

/* Per-incident table then the aggregate. Returns 0 or TC_EIO. */
int tc_report_text(FILE *out, const tc_incident_t *incs, size_t n, const tc_report_t *r);

/* {"incidents":[{"id":..,"service":..,"severity":..,"tta_ms":..,"ttd_ms":..,
 *  "ttr_ms":..}],"summary":{"incidents":N,...,"tta":{"n":..,"mean_ms":..,
 *  "median_ms":..,"p90_ms":..,"max_ms":..},...}}; absent values are null. */
void tc_report_json(tc_json_t *j, const tc_incident_t *incs, size_t n, const tc_report_t *r);

#endif
