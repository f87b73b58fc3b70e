/*
 * table.h - column-aligned text tables for tocsin's human-readable output.
 *
 * Cells are sanitized on the way in (see tc_utf8_sanitize) so that nothing a
 * remote host sent can move the cursor or corrupt the operator's terminal,
 * and are padded by characters, not bytes, so non-ASCII names still line up.
 * Columns are separated by two spaces; the last column is not padded, so
 * lines carry no trailing blanks.
 */
#ifndef TC_TABLE_H
#define TC_TABLE_H

#include <stddef.h>
#include <stdio.h>

/* Longest cell kept, in bytes including the NUL; longer cells are cut at a
 * character boundary. */
#define TC_TABLE_CELL_MAX 1024

typedef struct tc_table tc_table_t;

/* Returns a new table with `ncols` (>= 1) columns whose header cells are
 * `headers[0..ncols-1]` (copied). Caller owns the result; NULL on allocation
 * failure. */
tc_table_t *tc_table_new(size_t ncols, const char *const *headers);

/* Frees the table; NULL-safe; nulls *pself. */
void tc_table_destroy(tc_table_t **pself);

/* Appends a row of `ncols` cells (copied; a NULL cell prints as "-").
 * Returns 0 or TC_ENOMEM (the table is unchanged then). */
int tc_table_add_row(tc_table_t *self, const char *const *cells);

/* Number of rows added, not counting the header. */
size_t tc_table_rows(const tc_table_t *self);

/* Writes the header and every row to `out`. Returns 0 or TC_EIO. */
int tc_table_print(const tc_table_t *self, FILE *out);

#endif
