/*
 * integrations.c - integration tokens; see integrations.h.
 */
#include "integrations.h"

#include "error.h"
#include "util.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_HASH_HEX (2 * crypto_hash_sha256_BYTES + 1)

bool tc_integration_allows(const tc_integration_t *in, const char *service)
{
    if (in->any_service)
        return true;
    for (size_t i = 0; i < in->nservices; i++)
        if (!strcmp(in->services[i], service))
            return true;
    return false;
}

static void s_hash(const char *token, char out[S_HASH_HEX])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, S_HASH_HEX, h, sizeof h);
}

/* Reads one token file into *in and its hash into `hash`. */
static int s_read(const char *path, tc_integration_t *in, char hash[S_HASH_HEX])
{
    zconfig_t *cfg = zconfig_load(path);
    if (!cfg)
        return TC_EINVAL;
    memset(in, 0, sizeof *in);
    const char *name = zconfig_get(cfg, "integration/name", "");
    const char *services = zconfig_get(cfg, "integration/services", "");
    const char *sha = zconfig_get(cfg, "integration/sha256", "");
    int rc = 0;
    if (!tc_id_valid(name) || strlen(sha) != S_HASH_HEX - 1)
        rc = TC_EINVAL;
    snprintf(in->name, sizeof in->name, "%s", name);
    snprintf(hash, S_HASH_HEX, "%s", sha);
    if (rc == 0 && !strcmp(services, "*")) {
        in->any_service = true;
    } else if (rc == 0) {
        char buf[TC_INTEGRATION_SERVICES_MAX * TC_ID_MAX];
        snprintf(buf, sizeof buf, "%s", services);
        char *save = NULL;
        for (char *s = strtok_r(buf, ",", &save); s && rc == 0; s = strtok_r(NULL, ",", &save)) {
            if (!tc_id_valid(s) || in->nservices == TC_INTEGRATION_SERVICES_MAX)
                rc = TC_EINVAL;
            else
                snprintf(in->services[in->nservices++], TC_ID_MAX, "%s", s);
        }
        if (rc == 0 && in->nservices == 0)
            rc = TC_EINVAL;
    }
    zconfig_destroy(&cfg);
    return rc;
}

int tc_integration_new(const char *dir, const char *name, const char *const *services, size_t n,
                       char *token, char *path, size_t pathcap)
{
    if (!tc_id_valid(name) || n == 0 || n > TC_INTEGRATION_SERVICES_MAX)
        return TC_EINVAL;
    char list[TC_INTEGRATION_SERVICES_MAX * TC_ID_MAX] = "";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        bool star = !strcmp(services[i], "*");
        if ((star && n != 1) || (!star && !tc_id_valid(services[i])))
            return TC_EINVAL;
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? "," : "", services[i]);
    }
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s/%s", dir, TC_INTEGRATIONS_DIR);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return TC_ESYS;
    if (mkdir(d, 0750) != 0 && errno != EEXIST)
        return TC_ESYS;
    if (snprintf(path, pathcap, "%s/%s.token", d, name) >= (int)pathcap)
        return TC_ETOOBIG;
    if (sodium_init() < 0)
        return TC_ESYS;
    unsigned char raw[TC_INTEGRATION_TOKEN_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, TC_INTEGRATION_TOKEN_LEN + 1, raw, sizeof raw);
    char hash[S_HASH_HEX], when[40];
    s_hash(token, hash);
    /* O_EXCL: an integration is never replaced behind its users' back. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return errno == EEXIST ? TC_EINVAL : TC_ESYS;
    char text[TC_INTEGRATION_SERVICES_MAX * TC_ID_MAX + 512];
    int len = snprintf(text, sizeof text,
                       "#   tocsin integration token (only its hash is kept here)\n"
                       "integration\n    name = \"%s\"\n    services = \"%s\"\n"
                       "    sha256 = \"%s\"\n    created = \"%s\"\n",
                       name, list, hash, tc_time_format(tc_now_ms(), when, sizeof when));
    bool ok = len > 0 && write(fd, text, (size_t)len) == len && fsync(fd) == 0;
    ok &= close(fd) == 0;
    if (!ok) {
        unlink(path);
        return TC_ESYS;
    }
    return 0;
}

int tc_integration_revoke(const char *dir, const char *name)
{
    if (!tc_id_valid(name))
        return TC_EINVAL;
    char from[PATH_MAX], rdir[PATH_MAX], to[PATH_MAX + 128];
    if (snprintf(from, sizeof from, "%s/%s/%s.token", dir, TC_INTEGRATIONS_DIR, name) >=
            (int)sizeof from ||
        snprintf(rdir, sizeof rdir, "%s/revoked", dir) >= (int)sizeof rdir)
        return TC_ETOOBIG;
    snprintf(to, sizeof to, "%s/integration.%s.token", rdir, name);
    struct stat st;
    if (stat(from, &st) != 0)
        return TC_ENOTFOUND;
    if (mkdir(rdir, 0700) != 0 && errno != EEXIST)
        return TC_ESYS;
    return rename(from, to) == 0 ? 0 : TC_ESYS;
}

/* Calls fn(path, arg) for every "*.token" file of `d`. */
static int s_each(const char *d, const char *prefix, void (*fn)(const char *, void *), void *arg)
{
    DIR *dp = opendir(d);
    if (!dp)
        return errno == ENOENT ? 0 : TC_ESYS;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        size_t n = strlen(e->d_name), np = strlen(prefix);
        if (n <= 6 || strcmp(e->d_name + n - 6, ".token") != 0 ||
            strncmp(e->d_name, prefix, np) != 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", d, e->d_name) < (int)sizeof path)
            fn(path, arg);
    }
    closedir(dp);
    return 0;
}

typedef struct {
    tc_integration_fn *fn;
    void *ctx;
    bool revoked;
} s_list_t;

static void s_list_one(const char *path, void *arg)
{
    s_list_t *l = arg;
    tc_integration_t in;
    char hash[S_HASH_HEX];
    if (s_read(path, &in, hash) == 0)
        l->fn(&in, l->revoked, l->ctx);
}

int tc_integrations_list(const char *dir, tc_integration_fn *fn, void *ctx)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s/%s", dir, TC_INTEGRATIONS_DIR);
    s_list_t l = {fn, ctx, false};
    int rc = s_each(d, "", s_list_one, &l);
    if (rc)
        return rc;
    snprintf(d, sizeof d, "%s/revoked", dir);
    l.revoked = true;
    return s_each(d, "integration.", s_list_one, &l);
}

/* ---- the gateway's set ---------------------------------------------------------- */

typedef struct {
    tc_integration_t in;
    char hash[S_HASH_HEX];
} s_entry_t;

struct tc_integrations {
    char dir[PATH_MAX];
    s_entry_t *v;
    size_t n, cap;
    struct timespec mtime;
    bool loaded_dir; /* the directory existed at the last load */
};

static void s_add(const char *path, void *arg)
{
    tc_integrations_t *self = arg;
    s_entry_t e;
    if (s_read(path, &e.in, e.hash) != 0) {
        /* An unreadable or damaged file admits nobody. */
        return;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? 2 * self->cap : 16;
        s_entry_t *p = realloc(self->v, cap * sizeof *p);
        if (!p)
            return;
        self->v = p;
        self->cap = cap;
    }
    self->v[self->n++] = e;
}

static int s_load(tc_integrations_t *self)
{
    struct stat st;
    self->n = 0;
    self->loaded_dir = stat(self->dir, &st) == 0;
    memset(&self->mtime, 0, sizeof self->mtime);
    if (self->loaded_dir)
        self->mtime = st.st_mtim;
    return s_each(self->dir, "", s_add, self);
}

int tc_integrations_open(const char *idir, tc_integrations_t **out)
{
    tc_integrations_t *self = calloc(1, sizeof *self);
    if (!self)
        return TC_ENOMEM;
    snprintf(self->dir, sizeof self->dir, "%s", idir);
    int rc = s_load(self);
    if (rc) {
        tc_integrations_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

int tc_integrations_refresh(tc_integrations_t *self, bool *changed)
{
    *changed = false;
    struct stat st;
    bool exists = stat(self->dir, &st) == 0;
    /* Adding or moving a file out changes the directory's mtime; an
     * edited file in place does not, but tocsinctl never edits one. */
    if (exists == self->loaded_dir && (!exists || (st.st_mtim.tv_sec == self->mtime.tv_sec &&
                                                   st.st_mtim.tv_nsec == self->mtime.tv_nsec)))
        return 0;
    *changed = true;
    return s_load(self);
}

const tc_integration_t *tc_integrations_lookup(const tc_integrations_t *self, const char *token)
{
    if (!token || strlen(token) > 256)
        return NULL;
    char hash[S_HASH_HEX];
    s_hash(token, hash);
    const tc_integration_t *found = NULL;
    /* Every entry compared, in constant time each: the answer's timing
     * says nothing about how close a guess was. */
    for (size_t i = 0; i < self->n; i++)
        if (sodium_memcmp(hash, self->v[i].hash, S_HASH_HEX - 1) == 0)
            found = &self->v[i].in;
    return found;
}

size_t tc_integrations_size(const tc_integrations_t *self)
{
    return self->n;
}

void tc_integrations_destroy(tc_integrations_t **pself)
{
    if (!pself || !*pself)
        return;
    free((*pself)->v);
    free(*pself);
    *pself = NULL;
}
