/*
 * yconf.c - strict reading of a hand-written YAML configuration file; see
 * yconf.h.
 *
 * The loaders' tests assert on these messages byte for byte: change their
 * wording only on purpose.
 */
#include "yconf.h"

#include "error.h"
#include "msg.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void tc_yconf_init(tc_yconf_t *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->err = err;
    c->errlen = errlen;
}

int tc_yconf_load(tc_yconf_t *c)
{
    int rc;
    FILE *f = fopen(c->path, "rb");
    if (!f)
        return tc_yconf_fail(c, NULL, "cannot open: %s", strerror(errno));
    /* fopen() opens a directory for reading on Linux; reading then fails
     * with a message about YAML, which would mislead. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = tc_yconf_fail(c, NULL, "is a directory, not a configuration file");
        goto fail_parser;
    }
    if (!yaml_parser_initialize(&c->parser_)) {
        rc = TC_ENOMEM;
        goto fail_parser;
    }
    yaml_parser_set_input_file(&c->parser_, f);
    if (!yaml_parser_load(&c->parser_, &c->document_)) {
        if (c->err && c->errlen)
            snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s%s%s", c->path,
                     c->parser_.problem_mark.line + 1,
                     c->parser_.problem ? c->parser_.problem : "invalid",
                     c->parser_.context ? " " : "", c->parser_.context ? c->parser_.context : "");
        rc = TC_ECONFIG;
        goto fail_load;
    }
    c->file_ = f;
    c->doc = &c->document_;
    return 0;
fail_load:
    yaml_parser_delete(&c->parser_);
fail_parser:
    fclose(f);
    return rc;
}

int tc_yconf_one_document(tc_yconf_t *c)
{
    yaml_document_t extra;
    if (!yaml_parser_load(&c->parser_, &extra))
        return 0;
    /* At the end of the stream libyaml gives an empty document. */
    bool more = yaml_document_get_root_node(&extra) != NULL;
    size_t line = extra.start_mark.line + 1;
    yaml_document_delete(&extra);
    if (!more)
        return 0;
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s:%zu: only one YAML document is allowed", c->path, line);
    return TC_ECONFIG;
}

void tc_yconf_close(tc_yconf_t *c)
{
    if (!c->file_)
        return;
    yaml_document_delete(&c->document_);
    yaml_parser_delete(&c->parser_);
    fclose(c->file_);
    c->file_ = NULL;
    c->doc = NULL;
}

int tc_yconf_fail(tc_yconf_t *c, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err && c->errlen) {
        if (node)
            snprintf(c->err, c->errlen, "%s:%zu: %s", c->path, node->start_mark.line + 1, msg);
        else
            snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
    }
    return TC_ECONFIG;
}

const char *tc_yconf_node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

const char *tc_yconf_scalar(tc_yconf_t *c, const yaml_node_t *n, const char *key)
{
    if (n->type != YAML_SCALAR_NODE) {
        tc_yconf_fail(c, n, "%s: expected a scalar value, found %s", key, tc_yconf_node_kind(n));
        return NULL;
    }
    const char *v = (const char *)n->data.scalar.value;
    /* YAML's "\0" escape can put NUL in a scalar; C strings cannot hold it. */
    if (strlen(v) != n->data.scalar.length) {
        tc_yconf_fail(c, n, "%s: value contains a NUL byte", key);
        return NULL;
    }
    return v;
}

bool tc_yconf_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0);
}

int tc_yconf_text(tc_yconf_t *c, const yaml_node_t *n, const char *key, char *dst, size_t cap)
{
    const char *v = tc_yconf_scalar(c, n, key);
    if (!v)
        return TC_ECONFIG;
    if (*v == '\0')
        return tc_yconf_fail(c, n, "%s: must not be empty", key);
    if (strlen(v) >= cap)
        return tc_yconf_fail(c, n, "%s: value too long (at most %zu bytes)", key, cap - 1);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

int tc_yconf_id(tc_yconf_t *c, const yaml_node_t *n, const char *key, const char *noun, char *dst)
{
    const char *v = tc_yconf_scalar(c, n, key);
    if (!v)
        return TC_ECONFIG;
    if (!tc_id_valid(v))
        return tc_yconf_fail(c, n,
                             "%s: invalid %s \"%.80s\" (1..%d characters of A-Z a-z 0-9 . _ : -)",
                             key, noun, v, TC_ID_MAX - 1);
    memcpy(dst, v, strlen(v) + 1); /* fits: tc_id_valid() */
    return 0;
}

int tc_yconf_duration(tc_yconf_t *c, const yaml_node_t *n, const char *key, int64_t min_ms,
                      const char *examples, int64_t *ms)
{
    const char *v = tc_yconf_scalar(c, n, key);
    if (!v)
        return TC_ECONFIG;
    if (tc_duration_parse(v, ms) != 0 || *ms < min_ms)
        return tc_yconf_fail(c, n, "%s: invalid duration \"%.80s\" (e.g. %s)", key, v, examples);
    return 0;
}

int tc_yconf_bool(tc_yconf_t *c, const yaml_node_t *n, const char *key, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    const char *v = tc_yconf_scalar(c, n, key);
    if (!v)
        return TC_ECONFIG;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return tc_yconf_fail(c, n, "%s: expected true or false, found \"%.80s\"", key, v);
}

const char *tc_yconf_pair_key(tc_yconf_t *c, const yaml_node_pair_t *pair,
                              const yaml_node_pair_t *first, const char *where)
{
    const yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
    if (!k || k->type != YAML_SCALAR_NODE) {
        tc_yconf_fail(c, k, "%s: keys must be scalars", where);
        return NULL;
    }
    const char *name = (const char *)k->data.scalar.value;
    for (const yaml_node_pair_t *p = first; p < pair; p++) {
        const yaml_node_t *pk = yaml_document_get_node(c->doc, p->key);
        if (pk && pk->type == YAML_SCALAR_NODE &&
            strcmp((const char *)pk->data.scalar.value, name) == 0) {
            tc_yconf_fail(c, k, "%s%s%s: key given twice", where, *where ? "." : "", name);
            return NULL;
        }
    }
    return name;
}

static bool s_listed(const char *const *keys, const char *key)
{
    for (; *keys; keys++)
        if (!strcmp(*keys, key))
            return true;
    return false;
}

int tc_yconf_settings(tc_yconf_t *c, const yaml_node_t *map, const char *section,
                      const char *const *keys, tc_yconf_set_fn *set, void *cfg, bool *insecure)
{
    if (tc_yconf_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return tc_yconf_fail(c, map, "%s: expected a mapping, found %s", section,
                             tc_yconf_node_kind(map));
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++) {
        const char *key = tc_yconf_pair_key(c, p, first, section);
        if (!key)
            return TC_ECONFIG;
        const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        char path[96];
        snprintf(path, sizeof path, "%.24s.%.64s", section, key);
        if (!s_listed(keys, key)) {
            char list[512];
            size_t o = 0;
            list[0] = '\0';
            for (const char *const *k = keys; *k && o < sizeof list; k++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k == keys ? "" : ", ", *k);
            return tc_yconf_fail(c, yaml_document_get_node(c->doc, p->key),
                                 "%s: unknown key (expected %s)", path, list);
        }
        if (insecure && !strcmp(key, "insecure")) {
            if (tc_yconf_bool(c, v, path, insecure) != 0)
                return TC_ECONFIG;
            continue;
        }
        const char *val = tc_yconf_scalar(c, v, path);
        if (!val)
            return TC_ECONFIG;
        char why[256];
        if (set(cfg, key, val, why, sizeof why) != 0)
            return tc_yconf_fail(c, v, "%s: %s, not \"%.80s\"", path, why, val);
    }
    return 0;
}
