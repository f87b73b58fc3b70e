/*
 * nagios.h - parser for Nagios plugin output (plugin API, "Plugin Output
 * Spec" of the Nagios/Monitoring Plugins guidelines).
 *
 * A plugin prints
 *
 *     TEXT OUTPUT | OPTIONAL PERFDATA
 *     LONG TEXT LINE 1
 *     LONG TEXT LINE 2 | PERFDATA LINE 2
 *     PERFDATA LINE 3
 *
 * and exits 0..3. The first line's text becomes the check's output; perfdata
 * may follow the first '|' of the first line and the first '|' of the long
 * text, after which every further line is perfdata. The parser takes raw
 * bytes from a child process, so it accepts anything: NUL bytes, invalid
 * UTF-8, endless lines and malformed items never make it fail or read out of
 * bounds. The agent and, later, the coordinator's tools share it.
 */
#ifndef TC_NAGIOS_H
#define TC_NAGIOS_H

#include "msg.h"

#include <stddef.h>

/* Parses `len` bytes of plugin output at `buf` (need not be NUL-terminated;
 * may be NULL when len is 0) into res->output and res->perf/res->nperf.
 *
 * res->output: the first line up to its first '|', with control characters
 * turned into spaces, leading and trailing white space removed, invalid
 * UTF-8 replaced by '?', truncated at a character boundary to fit. Empty if
 * the plugin printed nothing.
 * res->perf: up to TC_PERF_MAX well-formed perfdata items in order of
 * appearance; malformed items and items beyond the limit are skipped.
 * No other field of `res` is touched. Nothing is kept from `buf`.
 * Returns 0, or TC_EINVAL if res is NULL or buf is NULL with len > 0. */
int tc_nagios_parse(const char *buf, size_t len, tc_check_result_t *res);

/* Parses one perfdata string such as
 *   "time=0.001s;;;0 'free space'=12.5GB;10:;@5:8;0;100"
 * into out[0..cap), setting *n to the number of items kept. Each item is
 * `label=value[uom];[warn];[crit];[min];[max]`; the label may be quoted with
 * single quotes ('' inside quotes is one quote). warn/crit/min/max are kept
 * only when they are plain numbers (present bits TC_PERF_*); Nagios ranges
 * such as "10:20", "~:5" or "@10:20" are accepted and not kept. An item is
 * skipped when its label is empty, too long or holds control characters,
 * when '=' is missing, when the value is not a finite number (e.g. "U"), or
 * when its unit is longer than TC_UOM_MAX - 1 bytes.
 * `s` is borrowed (NUL-terminated); `out` is caller-owned.
 * Returns 0, or TC_EINVAL if s, n or (with cap > 0) out is NULL. */
int tc_nagios_parse_perfdata(const char *s, tc_perf_t *out, size_t cap, size_t *n);

#endif
