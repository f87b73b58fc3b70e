#include "cli.h"

#include "error.h"
#include "util.h"

#include <stdio.h>
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
    if (!insecure) {
        snprintf(why, cap,
                 "CURVE security is not implemented yet; pass --insecure (loopback only)");
        return TC_EINVAL;
    }
    if (!tc_endpoint_is_loopback(ep)) {
        snprintf(why, cap,
                 "--insecure only allows loopback endpoints; %s %s is not one "
                 "(CURVE security is not implemented yet)",
                 flag, ep);
        return TC_EINVAL;
    }
    return 0;
}
