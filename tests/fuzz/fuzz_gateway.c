/* libFuzzer target: the gateway's request bodies come from anything that
 * can reach its port (Alertmanager, Grafana, curl, or not a monitoring tool
 * at all). Both parsers must refuse bad bodies with a reason and never read
 * or write out of bounds; the first byte picks the parser. */
#include "gateway/gw_parse.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char why[256];
    if (data[0] & 1) {
        static const char *const svc[] = {"service", "job"};
        static const char *const host[] = {"instance"};
        tc_gw_am_config_t cfg = {.service_labels = svc,
                                 .nservice_labels = 2,
                                 .host_labels = host,
                                 .nhost_labels = 1,
                                 .default_host = "gateway"};
        tc_gw_event_t *out = calloc(TC_GW_ALERTS_MAX, sizeof *out);
        size_t n = 0;
        if (out)
            (void)tc_gw_alertmanager_parse(body, len, &cfg, 1767225600000, out, &n, why,
                                           sizeof why);
        free(out);
    } else {
        tc_gw_pd_event_t *ev = calloc(1, sizeof *ev);
        char errors[TC_GW_PD_ERRORS_MAX][160];
        size_t nerrors = 0;
        if (ev && tc_gw_pd_parse(body, len, 1767225600000, ev, errors, &nerrors) == 0) {
            char check[TC_ID_MAX];
            tc_gw_pd_check(ev->dedup_key, check);
            (void)tc_gw_pd_state(ev->severity);
        }
        free(ev);
    }
    return 0;
}
