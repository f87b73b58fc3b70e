/*
 * keys.c - certificate files through czmq's zcert, so that the files are the
 * same ZPL format every czmq tool reads and writes.
 */
#include "keys.h"

#include "error.h"
#include "msg.h"
#include "util.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *s_dirs[TC_KEY_CLASSES] = {"agents", "operators-ro", "operators-rw",
                                             "subscribers", "gateways"};
static const char *s_names[TC_KEY_CLASSES] = {"agent", "operator-ro", "operator-rw", "subscriber",
                                              "gateway"};

const char *tc_key_class_dir(tc_key_class_t cls)
{
    return (unsigned)cls < TC_KEY_CLASSES ? s_dirs[cls] : "invalid";
}

const char *tc_key_class_name(tc_key_class_t cls)
{
    return (unsigned)cls < TC_KEY_CLASSES ? s_names[cls] : "invalid";
}

int tc_key_class_parse(const char *s, tc_key_class_t *out)
{
    for (int i = 0; i < TC_KEY_CLASSES; i++) {
        if (!strcmp(s, s_dirs[i]) || !strcmp(s, s_names[i])) {
            *out = (tc_key_class_t)i;
            return 0;
        }
    }
    return TC_EINVAL;
}

/* Joins path parts; TC_ETOOBIG if the result does not fit. */
static int s_path(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
    int n = c ? snprintf(dst, cap, "%s/%s/%s", a, b, c) : snprintf(dst, cap, "%s/%s", a, b);
    return n < 0 || (size_t)n >= cap ? TC_ETOOBIG : 0;
}

static int s_mkdir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return TC_ESYS;
    return 0;
}

int tc_keys_init_dir(const char *dir)
{
    char p[PATH_MAX];
    int rc = tc_mkdir_p(dir);
    if (rc)
        return rc;
    chmod(dir, 0700);
    for (int i = 0; i < TC_KEY_CLASSES; i++) {
        if ((rc = s_path(p, sizeof p, dir, s_dirs[i], NULL)) || (rc = s_mkdir(p, 0750)))
            return rc;
    }
    if ((rc = s_path(p, sizeof p, dir, "revoked", NULL)) || (rc = s_mkdir(p, 0750)))
        return rc;
    if ((rc = s_path(p, sizeof p, dir, "private", NULL)) || (rc = s_mkdir(p, 0700)))
        return rc;
    return 0;
}

int tc_keys_server(const char *dir, char public_txt[TC_KEY_TXT], char secret_txt[TC_KEY_TXT])
{
    char p[PATH_MAX];
    int rc = tc_keys_init_dir(dir);
    if (rc || (rc = s_path(p, sizeof p, dir, "coordinator.cert", NULL)))
        return rc;
    rc = tc_keys_load_file(p, public_txt, secret_txt);
    if (rc != TC_ENOTFOUND)
        return rc;
    zcert_t *cert = zcert_new();
    if (!cert)
        return TC_ENOMEM;
    zcert_set_meta(cert, "name", "coordinator");
    zcert_set_meta(cert, "class", "server");
    /* zcert_save writes the secret file with mode 0600. */
    rc = zcert_save(cert, p) == 0 ? 0 : TC_EIO;
    zcert_destroy(&cert);
    return rc ? rc : tc_keys_load_file(p, public_txt, secret_txt);
}

/* True if `file` looks like a czmq certificate (a ZPL "curve" section with
 * a public key, and a secret key when `secret`). czmq's zcert_load() leaks
 * its file object on text it cannot parse, so anything else is refused
 * before it is asked. */
static bool s_looks_like_cert(const char *file, bool secret)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return false;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "curve") && strstr(buf, "public-key") &&
           (!secret || strstr(buf, "secret-key"));
}

int tc_keys_load_file(const char *path, char public_txt[TC_KEY_TXT], char *secret_txt)
{
    char sp[PATH_MAX];
    if (snprintf(sp, sizeof sp, "%s_secret", path) >= (int)sizeof sp)
        return TC_ETOOBIG;
    struct stat st;
    if (stat(secret_txt ? sp : path, &st) != 0)
        return TC_ENOTFOUND;
    /* zcert_load() reads the _secret file when there is one. */
    bool has_secret = secret_txt || stat(sp, &st) == 0;
    if (!s_looks_like_cert(has_secret ? sp : path, secret_txt != NULL))
        return TC_EINVAL;
    zcert_t *cert = zcert_load(path);
    if (!cert)
        return TC_EINVAL;
    int rc = 0;
    const char *pub = zcert_public_txt(cert);
    const char *sec = zcert_secret_txt(cert);
    /* A secret of all zeros (Z85 "0000...") means only the public half was
     * in the file. */
    if (!pub || strlen(pub) != 40 ||
        (secret_txt &&
         (!sec || strlen(sec) != 40 || !strcmp(sec, "0000000000000000000000000000000000000000"))))
        rc = TC_EINVAL;
    if (rc == 0) {
        memcpy(public_txt, pub, TC_KEY_TXT);
        if (secret_txt)
            memcpy(secret_txt, sec, TC_KEY_TXT);
    }
    zcert_destroy(&cert);
    return rc;
}

int tc_keys_new(const char *dir, tc_key_class_t cls, const char *name, char *pair_path, size_t cap)
{
    if ((unsigned)cls >= TC_KEY_CLASSES || !tc_id_valid(name))
        return TC_EINVAL;
    int rc = tc_keys_init_dir(dir);
    if (rc)
        return rc;
    char file[TC_ID_MAX + 8], pub[PATH_MAX], pair[PATH_MAX], stem[TC_ID_MAX + 32];
    snprintf(file, sizeof file, "%s.cert", name);
    snprintf(stem, sizeof stem, "%s.%s.cert", s_names[cls], name);
    if ((rc = s_path(pub, sizeof pub, dir, s_dirs[cls], file)) ||
        (rc = s_path(pair, sizeof pair, dir, "private", stem)))
        return rc;
    struct stat st;
    if (stat(pub, &st) == 0)
        return TC_EINVAL;
    zcert_t *cert = zcert_new();
    if (!cert)
        return TC_ENOMEM;
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "class", "%s", s_names[cls]);
    rc = zcert_save(cert, pair) == 0 && zcert_save_public(cert, pub) == 0 ? 0 : TC_EIO;
    zcert_destroy(&cert);
    if (rc == 0 && pair_path)
        snprintf(pair_path, cap, "%s", pair);
    return rc;
}

int tc_keys_revoke(const char *dir, tc_key_class_t cls, const char *name)
{
    if ((unsigned)cls >= TC_KEY_CLASSES || !tc_id_valid(name))
        return TC_EINVAL;
    char file[TC_ID_MAX + 8], from[PATH_MAX], to[PATH_MAX], stem[TC_ID_MAX + 32];
    snprintf(file, sizeof file, "%s.cert", name);
    snprintf(stem, sizeof stem, "%s.%s.cert", s_names[cls], name);
    int rc;
    if ((rc = s_path(from, sizeof from, dir, s_dirs[cls], file)) ||
        (rc = s_path(to, sizeof to, dir, "revoked", stem)))
        return rc;
    char rdir[PATH_MAX];
    if ((rc = s_path(rdir, sizeof rdir, dir, "revoked", NULL)) || (rc = s_mkdir(rdir, 0750)))
        return rc;
    if (rename(from, to) != 0)
        return errno == ENOENT ? TC_ENOTFOUND : TC_ESYS;
    return 0;
}

/* Reads one public certificate file into *key. */
static int s_read_key(const char *path, const char *fallback_name, tc_key_class_t cls,
                      tc_key_t *key)
{
    memset(key, 0, sizeof *key);
    int rc = tc_keys_load_file(path, key->public_txt, NULL);
    if (rc)
        return rc;
    zcert_t *cert = zcert_load(path);
    const char *name = cert ? zcert_meta(cert, "name") : NULL;
    snprintf(key->name, sizeof key->name, "%s", name && *name ? name : fallback_name);
    key->cls = cls;
    zcert_destroy(&cert);
    return 0;
}

/* Calls fn for each *.cert file in DIR/sub. */
typedef void(s_file_fn)(const char *path, const char *stem, void *ctx);

static int s_each_cert(const char *dir, const char *sub, s_file_fn *fn, void *ctx)
{
    char d[PATH_MAX];
    int rc = s_path(d, sizeof d, dir, sub, NULL);
    if (rc)
        return rc;
    DIR *dp = opendir(d);
    if (!dp)
        return errno == ENOENT ? 0 : TC_ESYS;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".cert") != 0)
            continue;
        char path[PATH_MAX], stem[256];
        if (s_path(path, sizeof path, d, e->d_name, NULL) != 0)
            continue;
        snprintf(stem, sizeof stem, "%.*s", (int)(n - 5), e->d_name);
        fn(path, stem, ctx);
    }
    closedir(dp);
    return 0;
}

typedef struct {
    tc_keys_fn *fn;
    void *ctx;
    tc_key_class_t cls;
    bool revoked;
} s_list_t;

static void s_list_one(const char *path, const char *stem, void *arg)
{
    s_list_t *l = arg;
    tc_key_t key;
    tc_key_class_t cls = l->cls;
    char name[256];
    snprintf(name, sizeof name, "%s", stem);
    if (l->revoked) {
        /* revoked/CLASS.NAME.cert */
        char *dot = strchr(name, '.');
        if (!dot)
            return;
        *dot = '\0';
        if (tc_key_class_parse(name, &cls) != 0)
            return;
        memmove(name, dot + 1, strlen(dot + 1) + 1);
    }
    if (s_read_key(path, name, cls, &key) == 0)
        l->fn(&key, l->revoked, l->ctx);
}

int tc_keys_list(const char *dir, tc_keys_fn *fn, void *ctx)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < TC_KEY_CLASSES; i++) {
        s_list_t l = {fn, ctx, (tc_key_class_t)i, false};
        rc = s_each_cert(dir, s_dirs[i], s_list_one, &l);
    }
    s_list_t l = {fn, ctx, TC_KEY_AGENT, true};
    return rc ? rc : s_each_cert(dir, "revoked", s_list_one, &l);
}

/* ---- clients ------------------------------------------------------------ */

/* One file of a key: present, a regular file, readable. */
static int s_check_one(const char *path, const char *role, char *why, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            snprintf(why, cap, "%s: no such file (%s)", path, role);
        else
            snprintf(why, cap, "%s: cannot read: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? TC_ENOTFOUND : TC_ESYS;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(why, cap, "%s: is a directory, not a certificate file (%s)", path, role);
        return TC_EINVAL;
    }
    if (access(path, R_OK) != 0) {
        snprintf(why, cap, "%s: cannot read: %s (%s)", path, strerror(errno), role);
        return TC_ESYS;
    }
    return 0;
}

int tc_keys_check_file(const char *path, bool pair, char *why, size_t cap)
{
    char sp[PATH_MAX];
    if (snprintf(sp, sizeof sp, "%s_secret", path) >= (int)sizeof sp) {
        snprintf(why, cap, "%.200s...: path too long", path);
        return TC_ETOOBIG;
    }
    int rc = s_check_one(
        path, pair ? "the public half of a key pair" : "the coordinator's certificate", why, cap);
    if (rc == 0 && pair)
        rc = s_check_one(sp, "the secret half of a key pair", why, cap);
    if (rc)
        return rc;
    char pub[TC_KEY_TXT], sec[TC_KEY_TXT];
    rc = tc_keys_load_file(path, pub, pair ? sec : NULL);
    if (rc)
        snprintf(why, cap, "%s: not a CURVE %s (czmq certificate format)", pair ? sp : path,
                 pair ? "key pair" : "certificate");
    return rc ? TC_EINVAL : 0;
}

int tc_client_keys_load(tc_client_keys_t *k, const char *key_path, const char *server_path,
                        char *why, size_t cap)
{
    memset(k, 0, sizeof *k);
    int rc = tc_keys_check_file(key_path, true, why, cap);
    if (rc == 0 && tc_keys_load_file(key_path, k->public_txt, k->secret_txt) != 0)
        rc = TC_EINVAL; /* changed under us: same message as a bad file */
    if (rc)
        return rc;
    rc = tc_keys_check_file(server_path, false, why, cap);
    if (rc == 0 && tc_keys_load_file(server_path, k->server_txt, NULL) != 0)
        rc = TC_EINVAL;
    return rc;
}

void tc_client_keys_apply(const tc_client_keys_t *k, void *zsock)
{
    if (k->insecure)
        return;
    zsock_set_curve_serverkey(zsock, k->server_txt);
    zsock_set_curve_publickey(zsock, k->public_txt);
    zsock_set_curve_secretkey(zsock, k->secret_txt);
}

const char *tc_keys_first_existing(const char *const *paths)
{
    struct stat st;
    for (; *paths; paths++)
        if (**paths && stat(*paths, &st) == 0 && S_ISREG(st.st_mode))
            return *paths;
    return NULL;
}

/* ---- keyring ------------------------------------------------------------ */

struct tc_keyring {
    char dir[PATH_MAX];
    zhashx_t *keys; /* public_txt -> tc_key_t */
    struct timespec mtime[TC_KEY_CLASSES];
};

static void s_key_free(void **item)
{
    free(*item);
    *item = NULL;
}

typedef struct {
    tc_keyring_t *kr;
    tc_key_class_t cls;
} s_ring_load_t;

static void s_ring_add(const char *path, const char *stem, void *arg)
{
    s_ring_load_t *l = arg;
    tc_key_t *key = malloc(sizeof *key);
    if (!key)
        return;
    /* The class comes from the directory, which the operator controls, not
     * from the metadata inside the file. */
    if (s_read_key(path, stem, l->cls, key) != 0 || zhashx_lookup(l->kr->keys, key->public_txt)) {
        /* A key listed in two classes keeps the first (lowest) class. */
        free(key);
        return;
    }
    zhashx_insert(l->kr->keys, key->public_txt, key);
}

static void s_mtimes(const tc_keyring_t *kr, struct timespec out[TC_KEY_CLASSES])
{
    for (int i = 0; i < TC_KEY_CLASSES; i++) {
        char d[PATH_MAX];
        struct stat st;
        memset(&out[i], 0, sizeof out[i]);
        if (s_path(d, sizeof d, kr->dir, s_dirs[i], NULL) == 0 && stat(d, &st) == 0)
            out[i] = st.st_mtim;
    }
}

static int s_load(tc_keyring_t *kr)
{
    zhashx_purge(kr->keys);
    s_mtimes(kr, kr->mtime);
    for (int i = 0; i < TC_KEY_CLASSES; i++) {
        s_ring_load_t l = {kr, (tc_key_class_t)i};
        int rc = s_each_cert(kr->dir, s_dirs[i], s_ring_add, &l);
        if (rc)
            return rc;
    }
    return 0;
}

int tc_keyring_open(const char *dir, tc_keyring_t **out)
{
    tc_keyring_t *kr = calloc(1, sizeof *kr);
    if (!kr)
        return TC_ENOMEM;
    if (strlen(dir) >= sizeof kr->dir) {
        free(kr);
        return TC_ETOOBIG;
    }
    snprintf(kr->dir, sizeof kr->dir, "%s", dir);
    kr->keys = zhashx_new();
    if (!kr->keys) {
        free(kr);
        return TC_ENOMEM;
    }
    zhashx_set_destructor(kr->keys, s_key_free);
    int rc = s_load(kr);
    if (rc) {
        tc_keyring_destroy(&kr);
        return rc;
    }
    *out = kr;
    return 0;
}

int tc_keyring_refresh(tc_keyring_t *kr, bool *changed)
{
    struct timespec now[TC_KEY_CLASSES];
    s_mtimes(kr, now);
    *changed = memcmp(now, kr->mtime, sizeof now) != 0;
    return *changed ? s_load(kr) : 0;
}

const tc_key_t *tc_keyring_lookup(const tc_keyring_t *kr, const char *public_txt)
{
    return public_txt ? zhashx_lookup(kr->keys, public_txt) : NULL;
}

size_t tc_keyring_size(const tc_keyring_t *kr)
{
    return zhashx_size(kr->keys);
}

void tc_keyring_destroy(tc_keyring_t **pkr)
{
    if (!pkr || !*pkr)
        return;
    zhashx_destroy(&(*pkr)->keys);
    free(*pkr);
    *pkr = NULL;
}
