/*
 * cfgcheck.c - the configuration check report (see cfgcheck.h).
 */
#include "cfgcheck.h"

#include "error.h"
#include "keys.h"
#include "log.h"
#include "yconf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MSG_MAX 1024
/* More than anyone reads; the rest is counted. */
#define S_KEEP_MAX 200

typedef struct {
    bool warning;
    char where[PATH_MAX + 24]; /* "FILE:LINE: ", "FILE: " or "" */
    char msg[S_MSG_MAX];
} s_entry_t;

struct tc_cfgcheck {
    const char *prog;
    s_entry_t *entries;
    size_t n, cap;
    size_t errors, dropped;
};

tc_cfgcheck_t *tc_cfgcheck_new(const char *prog)
{
    tc_cfgcheck_t *self = calloc(1, sizeof *self);
    if (self)
        self->prog = prog;
    return self;
}

void tc_cfgcheck_destroy(tc_cfgcheck_t **pself)
{
    if (!pself || !*pself)
        return;
    free((*pself)->entries);
    free(*pself);
    *pself = NULL;
}

static void s_add(tc_cfgcheck_t *self, bool warning, const char *file, int line, const char *fmt,
                  va_list ap)
{
    if (!warning)
        self->errors++;
    if (self->n == S_KEEP_MAX) {
        self->dropped++;
        return;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        s_entry_t *e = realloc(self->entries, cap * sizeof *e);
        if (!e) {
            self->dropped++;
            return;
        }
        self->entries = e;
        self->cap = cap;
    }
    s_entry_t *e = &self->entries[self->n++];
    e->warning = warning;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    if (file && line > 0)
        snprintf(e->where, sizeof e->where, "%s:%d: ", file, line);
    else if (file)
        snprintf(e->where, sizeof e->where, "%s: ", file);
    else
        e->where[0] = '\0';
}

void tc_cfgcheck_error(tc_cfgcheck_t *self, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_add(self, false, file, line, fmt, ap);
    va_end(ap);
}

void tc_cfgcheck_warn(tc_cfgcheck_t *self, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_add(self, true, file, line, fmt, ap);
    va_end(ap);
}

void tc_cfgcheck_add(tc_cfgcheck_t *self, const char *message)
{
    tc_cfgcheck_error(self, NULL, 0, "%s", message);
}

size_t tc_cfgcheck_errors(const tc_cfgcheck_t *self)
{
    return self->errors;
}

/* Follows one step of a key path: "name" in a mapping or "[N]" in a list. */
static yaml_node_t *s_step(yaml_document_t *doc, yaml_node_t *n, const char *name, size_t len,
                           long index)
{
    if (index >= 0) {
        if (n->type != YAML_SEQUENCE_NODE)
            return NULL;
        yaml_node_item_t *items = n->data.sequence.items.start;
        if (index >= n->data.sequence.items.top - items)
            return NULL;
        return yaml_document_get_node(doc, items[index]);
    }
    if (n->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == len &&
            memcmp(k->data.scalar.value, name, len) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* The node at `keypath` in the loaded document, or NULL. */
static yaml_node_t *s_find(yaml_document_t *doc, const char *keypath)
{
    yaml_node_t *n = yaml_document_get_root_node(doc);
    const char *p = keypath;
    while (n && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long index = strtol(p + 1, &end, 10);
            if (*end != ']' || index < 0)
                return NULL;
            n = s_step(doc, n, NULL, 0, index);
            p = end + 1;
            continue;
        }
        size_t len = strcspn(p, ".[");
        n = s_step(doc, n, p, len, -1);
        p += len;
    }
    return n;
}

int tc_cfgcheck_line(const char *path, const char *keypath)
{
    if (!path || !*path)
        return 0;
    tc_yconf_t c;
    tc_yconf_init(&c, path, NULL, 0);
    if (tc_yconf_load(&c) != 0)
        return 0;
    yaml_node_t *n = s_find(c.doc, keypath);
    int line = n ? (int)n->start_mark.line + 1 : 0;
    tc_yconf_close(&c);
    return line;
}

int tc_cfgcheck_keys(const char *path, const char *keypath, tc_cfgcheck_key_fn *fn, void *arg,
                     char *err, size_t errlen)
{
    tc_yconf_t c;
    tc_yconf_init(&c, path, err, errlen);
    int rc = tc_yconf_load(&c);
    if (rc != 0)
        return rc;
    yaml_node_t *n = s_find(c.doc, keypath);
    if (n && n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(c.doc, p->key);
            if (k && k->type == YAML_SCALAR_NODE)
                fn((const char *)k->data.scalar.value, arg);
        }
    }
    tc_yconf_close(&c);
    return 0;
}

bool tc_cfgcheck_key(tc_cfgcheck_t *self, const char *file, int line, const char *what,
                     const char *path, bool pair)
{
    char why[S_MSG_MAX];
    if (!path || !*path) {
        tc_cfgcheck_error(self, file, line, "%s: no key file given", what);
        return false;
    }
    if (tc_keys_check_file(path, pair, why, sizeof why) == 0)
        return true;
    tc_cfgcheck_error(self, file, line, "%s: %s", what, why);
    return false;
}

/* Can this process create entries in and enter directory `dir`? */
static bool s_writable(const char *dir)
{
    return access(dir, W_OK | X_OK) == 0;
}

bool tc_cfgcheck_dir(tc_cfgcheck_t *self, const char *file, int line, const char *what,
                     const char *path)
{
    struct stat st;
    if (!path || !*path) {
        tc_cfgcheck_error(self, file, line, "%s: no directory given", what);
        return false;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            tc_cfgcheck_error(self, file, line, "%s: %s exists and is not a directory", what, path);
            return false;
        }
        if (!s_writable(path)) {
            tc_cfgcheck_error(self, file, line, "%s: cannot write into %s: %s", what, path,
                              strerror(errno));
            return false;
        }
        return true;
    }
    if (errno != ENOENT) {
        tc_cfgcheck_error(self, file, line, "%s: %s: %s", what, path, strerror(errno));
        return false;
    }
    /* Missing: it will be made, if its nearest existing parent allows. */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    for (;;) {
        char *slash = strrchr(parent, '/');
        if (!slash) {
            snprintf(parent, sizeof parent, ".");
        } else if (slash == parent) {
            parent[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (stat(parent, &st) == 0)
            break;
        if (errno != ENOENT || !strcmp(parent, ".") || !strcmp(parent, "/")) {
            tc_cfgcheck_error(self, file, line, "%s: %s: %s", what, parent, strerror(errno));
            return false;
        }
    }
    if (!S_ISDIR(st.st_mode) || !s_writable(parent)) {
        tc_cfgcheck_error(self, file, line, "%s: %s does not exist and cannot be created in %s: %s",
                          what, path, parent,
                          S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
        return false;
    }
    return true;
}

int tc_cfgcheck_report(const tc_cfgcheck_t *self, const char *summary)
{
    for (size_t i = 0; i < self->n; i++)
        fprintf(stderr, "%s%s%s\n", self->entries[i].where,
                self->entries[i].warning ? "warning: " : "", self->entries[i].msg);
    if (self->dropped)
        fprintf(stderr, "%s: %zu more problems not shown\n", self->prog, self->dropped);
    if (self->errors) {
        fprintf(stderr, "%s: %zu error%s\n", self->prog, self->errors,
                self->errors == 1 ? "" : "s");
        return TC_CFGCHECK_EXIT_BAD;
    }
    printf("ok: %s\n", summary ? summary : "configuration is valid");
    fflush(stdout);
    return 0;
}

int tc_cfgcheck_load_failed(const char *prog, bool check, const char *err)
{
    if (check)
        fprintf(stderr, "%s\n%s: 1 error\n", err, prog);
    else
        fprintf(stderr, "%s: %s\n", prog, err);
    return TC_CFGCHECK_EXIT_BAD;
}

int tc_cfgcheck_before_start(const tc_cfgcheck_t *self)
{
    if (self->errors) {
        for (size_t i = 0; i < self->n; i++)
            if (!self->entries[i].warning)
                fprintf(stderr, "%s: cannot start: %s%s\n", self->prog, self->entries[i].where,
                        self->entries[i].msg);
        if (self->dropped)
            fprintf(stderr, "%s: %zu more problems (see --check-config)\n", self->prog,
                    self->dropped);
        return TC_CFGCHECK_EXIT_BAD;
    }
    for (size_t i = 0; i < self->n; i++)
        tc_warn("%s%s", self->entries[i].where, self->entries[i].msg);
    return 0;
}
