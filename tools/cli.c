#include "cli.h"

#include "error.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tc_cli_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *i += 1;
    *value = argv[*i];
    return 1;
}

int tc_cli_common(int argc, char **argv, int *i, tc_cli_common_t *c, const char **why)
{
    static const struct {
        const char *name, *missing;
    } opts[] = {{"--api", "--api needs an endpoint"},
                {"--key", "--key needs a file"},
                {"--server-key", "--server-key needs a file"}};
    if (strcmp(argv[*i], "--insecure") == 0) {
        c->insecure = true;
        return 1;
    }
    const char **dst[] = {&c->api, &c->key, &c->server_key};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        int m = tc_cli_value(argc, argv, i, opts[k].name, dst[k]);
        if (m < 0)
            *why = opts[k].missing;
        if (m != 0)
            return m;
    }
    return 0;
}

int tc_cli_check_endpoint(const char *flag, const char *ep, bool insecure, char *why, size_t cap)
{
    size_t len = strlen(ep);
    /* tc_endpoint_valid() also accepts a wildcard port, which only means
     * something to bind(). */
    if (!tc_endpoint_valid(ep) || (len >= 2 && strcmp(ep + len - 2, ":*") == 0)) {
        snprintf(why, cap, "invalid endpoint '%s' for %s (expected tcp://HOST:PORT or ipc://PATH)",
                 ep, flag);
        return TC_EINVAL;
    }
    if (insecure && !tc_endpoint_is_loopback(ep)) {
        snprintf(why, cap, "--insecure only allows loopback endpoints; %s %s is not one", flag, ep);
        return TC_EINVAL;
    }
    return 0;
}

int tc_cli_keys(bool insecure, const char *key, const char *server_key,
                const char *const *key_defaults, tc_client_keys_t *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (insecure) {
        out->insecure = true;
        return 0;
    }
    if (!key)
        key = getenv("TOCSIN_KEY");
    if (!key)
        key = tc_keys_first_existing(key_defaults);
    if (!key) {
        snprintf(why, cap,
                 "no client key: pass --key FILE (make one with 'tocsinctl keys new "
                 "CLASS NAME') or --insecure for plaintext on loopback");
        return TC_ENOTFOUND;
    }
    if (!server_key)
        server_key = getenv("TOCSIN_SERVER_KEY");
    if (!server_key) {
        static const char *const servers[] = {"var/keys/coordinator.cert",
                                              "/etc/tocsin/keys/coordinator.cert", NULL};
        server_key = tc_keys_first_existing(servers);
    }
    if (!server_key) {
        snprintf(why, cap,
                 "no coordinator certificate: pass --server-key FILE (the "
                 "coordinator.cert from the coordinator's key directory)");
        return TC_ENOTFOUND;
    }
    return tc_client_keys_load(out, key, server_key, why, cap);
}

int tc_cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see %s --help)\n", prog);
    va_end(ap);
    return TC_CLI_EXIT_USAGE;
}
