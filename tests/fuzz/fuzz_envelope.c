/* libFuzzer target: every decoder that reads bytes from the network or the
 * disk, followed by validation, must return an error, never crash. */
#include "wire.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_msg_t *m = malloc(sizeof *m);
    tc_record_t *r = malloc(sizeof *r);
    if (m && tc_wire_decode_msg(data, size, m) == 0) {
        char why[128];
        (void)tc_msg_validate(m, why, sizeof why);
        /* What decodes must encode again. */
        uint8_t *buf;
        size_t len;
        if (tc_wire_encode_msg(m, &buf, &len) == 0)
            free(buf);
    }
    if (r)
        (void)tc_wire_decode_record(data, size, r);
    tc_api_request_t q;
    (void)tc_wire_decode_request(data, size, &q);
    tc_api_reply_t *reply = NULL;
    if (tc_wire_decode_reply(data, size, &reply) == 0)
        tc_api_reply_destroy(&reply);
    free(m);
    free(r);
    return 0;
}
