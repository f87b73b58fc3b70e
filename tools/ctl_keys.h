/*
 * ctl_keys.h - tocsinctl's keys that are not CURVE pairs: integration
 * tokens for tocsin-gateway (common/integrations.h) and the link key that
 * signs pages' acknowledgement links (common/acklink.h). Local files, no
 * coordinator needed, like the rest of `tocsinctl keys`.
 */
#ifndef TC_CTL_KEYS_H
#define TC_CTL_KEYS_H

#include "json.h"
#include "table.h"

#include <stddef.h>

/* `keys new integration NAME SERVICE...` (args after "integration") in key
 * directory `dir`: prints the token once (JSON with `j`). Returns 0, or an
 * error with a one-line reason in `why`. */
int tc_ctl_integration_new(const char *dir, const char *const *args, size_t nargs, tc_json_t *j,
                           char *why, size_t cap);

/* `keys revoke integration NAME`. */
int tc_ctl_integration_revoke(const char *dir, const char *name, tc_json_t *j, char *why,
                              size_t cap);

/* Adds the integrations of `dir` to `keys list`'s table (4 columns: class,
 * name, state, detail) or JSON array (one of the two is NULL). */
int tc_ctl_integration_list(const char *dir, tc_table_t *table, tc_json_t *j);

/* Makes DIR/links.key if it is missing (keys init). Returns 0 or an error
 * with a reason in `why`. */
int tc_ctl_link_key(const char *dir, char *why, size_t cap);

#endif
