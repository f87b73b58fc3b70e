/* libFuzzer target: tocsin-notify's configuration, a file an operator
 * writes by hand; any content must give a config or an error message. */
#include "notify/notify_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tocsin-fuzz-notify-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    char err[512];
    tc_notify_config_t *cfg = tc_notify_config_new();
    if (cfg) {
        (void)tc_notify_config_load(cfg, path, err, sizeof err);
        tc_notify_config_destroy(&cfg);
    }
    unlink(path);
    return 0;
}
