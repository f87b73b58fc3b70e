#include "table.h"

#include "error.h"
#include "utf8.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct tc_table {
    size_t ncols;
    size_t nrows; /* including the header row */
    size_t caprows;
    char **cells;  /* nrows * ncols sanitized strings, row-major */
    size_t *width; /* widest cell per column, in characters */
};

/* Sanitizes `s` into a new heap string; stores its width in *width. */
static char *s_cell_dup(const char *s, size_t *width)
{
    char tmp[TC_TABLE_CELL_MAX];
    *width = tc_utf8_sanitize(s ? s : "-", tmp, sizeof tmp);
    return strdup(tmp);
}

static int s_add(tc_table_t *self, const char *const *cells)
{
    if (self->nrows == self->caprows) {
        size_t cap = self->caprows ? self->caprows * 2 : 8;
        char **grown = realloc(self->cells, cap * self->ncols * sizeof *grown);
        if (!grown)
            return TC_ENOMEM;
        self->cells = grown;
        self->caprows = cap;
    }
    char **row = self->cells + self->nrows * self->ncols;
    size_t widths[self->ncols];
    for (size_t c = 0; c < self->ncols; c++) {
        row[c] = s_cell_dup(cells[c], &widths[c]);
        if (!row[c]) {
            while (c-- > 0)
                free(row[c]);
            return TC_ENOMEM;
        }
    }
    for (size_t c = 0; c < self->ncols; c++)
        if (widths[c] > self->width[c])
            self->width[c] = widths[c];
    self->nrows++;
    return 0;
}

tc_table_t *tc_table_new(size_t ncols, const char *const *headers)
{
    assert(ncols >= 1);
    tc_table_t *self = calloc(1, sizeof *self);
    if (!self)
        goto fail;
    self->ncols = ncols;
    self->width = calloc(ncols, sizeof *self->width);
    if (!self->width)
        goto fail_table;
    if (s_add(self, headers) != 0)
        goto fail_width;
    return self;

fail_width:
    free(self->width);
    free(self->cells);
fail_table:
    free(self);
fail:
    return NULL;
}

void tc_table_destroy(tc_table_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_table_t *self = *pself;
    for (size_t i = 0; i < self->nrows * self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self->width);
    free(self);
    *pself = NULL;
}

int tc_table_add_row(tc_table_t *self, const char *const *cells)
{
    return s_add(self, cells);
}

size_t tc_table_rows(const tc_table_t *self)
{
    return self->nrows - 1;
}

int tc_table_print(const tc_table_t *self, FILE *out)
{
    for (size_t r = 0; r < self->nrows; r++) {
        char *const *row = self->cells + r * self->ncols;
        /* Padding is written only before a non-empty cell, so a row whose
         * last cells are empty carries no trailing blanks. */
        size_t pending = 0;
        for (size_t c = 0; c < self->ncols; c++) {
            if (row[c][0] != '\0') {
                for (; pending > 0; pending--)
                    fputc(' ', out);
                fputs(row[c], out);
            }
            pending += self->width[c] - tc_utf8_width(row[c]) + 2;
        }
        fputc('\n', out);
    }
    return ferror(out) ? TC_EIO : 0;
}
