/*
 * wire_impl.h - what the files of the wire codec share (wire.c: messages,
 * records and the API; wire_config.c: the recorded configuration). Private
 * to them: they are the only files that see the protobuf-c generated code.
 */
#ifndef TC_WIRE_IMPL_H
#define TC_WIRE_IMPL_H

#include "error.h"
#include "msg.h"
#include "proto/tocsin.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Copies an identifier-like string; longer than cap-1 is TC_ETOOBIG. */
int tc_wire__copy_id(char *dst, size_t cap, const char *src);

/* Copies free text; longer text is truncated at a UTF-8 boundary, because
 * a plugin's long output is not a reason to lose the event. */
void tc_wire__copy_text(char *dst, size_t cap, const char *src);

#define COPY_ID(dst, src)                                                                          \
    do {                                                                                           \
        if (tc_wire__copy_id((dst), sizeof(dst), (src)) != 0)                                      \
            return TC_ETOOBIG;                                                                     \
    } while (0)

/* wire_fast.c: the direct reader for an Envelope with a CheckResult (and
 * its LogRecord). True if it decoded the message, exactly as the generic
 * path would; false if it is not one it reads (then use the generic path). */
bool tc_wire__fast_msg(const uint8_t *buf, size_t len, tc_msg_t *m);
bool tc_wire__fast_record(const uint8_t *buf, size_t len, tc_record_t *rec);

/* Packs `pm` into a new buffer (caller frees *out). 0 or TC_ENOMEM. */
int tc_wire__pack(const ProtobufCMessage *pm, uint8_t **out, size_t *outlen);

#endif
