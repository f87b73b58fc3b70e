#include "cli.h"

#include "error.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tc_cli_getopt_reason(int c, char **argv, const struct option *longopts, char *why, size_t cap)
{
    /* getopt_long() has moved optind past the offending word, unless it
     * was inside a group of short options ("-jx"). */
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    bool is_long = arg && arg[0] == '-' && arg[1] == '-';
    if (!is_long) {
        snprintf(why, cap, c == ':' ? "option -%c needs a value" : "unknown option -%c",
                 optopt > 0 && optopt < 256 ? optopt : '?');
        return;
    }
    size_t n = strcspn(arg + 2, "=");
    if (c == ':') {
        snprintf(why, cap, "option --%.*s needs a value", (int)n, arg + 2);
        return;
    }
    if (arg[2 + n] == '=') {
        for (const struct option *o = longopts; o && o->name; o++) {
            if (o->has_arg == no_argument && strlen(o->name) == n &&
                !strncmp(o->name, arg + 2, n)) {
                snprintf(why, cap, "option --%s takes no value", o->name);
                return;
            }
        }
    }
    snprintf(why, cap, "unknown option '%s'", arg);
}

int tc_cli_getopt_error(const char *prog, int c, char **argv, const struct option *longopts)
{
    char why[512];
    tc_cli_getopt_reason(c, argv, longopts, why, sizeof why);
    return tc_cli_usage_error(prog, "%s", why);
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

const char *tc_cli_key_path(const char *key, const char *const *key_defaults)
{
    if (key && *key)
        return key;
    key = getenv("TOCSIN_KEY");
    if (key && *key)
        return key;
    return key_defaults ? tc_keys_first_existing(key_defaults) : NULL;
}

const char *tc_cli_server_key_path(const char *server_key)
{
    if (server_key && *server_key)
        return server_key;
    server_key = getenv("TOCSIN_SERVER_KEY");
    if (server_key && *server_key)
        return server_key;
    static const char *const servers[] = {"var/keys/coordinator.cert",
                                          "/etc/tocsin/coordinator.cert",
                                          "/etc/tocsin/keys/coordinator.cert", NULL};
    return tc_keys_first_existing(servers);
}

int tc_cli_keys(bool insecure, const char *key, const char *server_key,
                const char *const *key_defaults, tc_client_keys_t *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (insecure) {
        out->insecure = true;
        return 0;
    }
    key = tc_cli_key_path(key, key_defaults);
    if (!key) {
        snprintf(why, cap,
                 "no client key: pass --key FILE (make one with 'tocsinctl keys new "
                 "CLASS NAME') or --insecure for plaintext on loopback");
        return TC_ENOTFOUND;
    }
    server_key = tc_cli_server_key_path(server_key);
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
