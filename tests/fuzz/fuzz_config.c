/* libFuzzer target: the configuration loaders (the agent's, the
 * coordinator's and its on-call roster with business hours) read files an
 * operator wrote by hand; any content must give a config or an error
 * message. */
#include "agent/config.h"
#include "coordinator/config.h"
#include "coordinator/oncall.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tocsin-fuzz-config-XXXXXX";
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
    tc_coord_config_t cc;
    tc_coord_config_defaults(&cc);
    (void)tc_coord_config_load(&cc, path, err, sizeof err);
    tc_roster_t *roster = NULL;
    if (tc_roster_load(path, &roster, err, sizeof err) == 0) {
        bool inside;
        (void)tc_roster_business_hours(roster, "web", 1764000000000LL, &inside, err, sizeof err);
        tc_roster_destroy(&roster);
    }
    tc_agent_config_t *ac = tc_agent_config_new();
    if (ac) {
        if (tc_agent_config_load(ac, path, err, sizeof err) == 0)
            (void)tc_agent_config_finish(ac, err, sizeof err);
        tc_agent_config_destroy(&ac);
    }
    unlink(path);
    return 0;
}
