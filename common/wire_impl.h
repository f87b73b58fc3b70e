/*
 * wire_impl.h - what the files of the wire codec share (wire.c: messages,
 * records and the API; wire_config.c: the recorded configuration). Private
 * to them: they are the only files that see the protobuf-c generated code.
 */
#ifndef TC_WIRE_IMPL_H
#define TC_WIRE_IMPL_H

#include "error.h"
#include "msg.h"
#include "wire.h"
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

/* ---- wire_page.c: pages, contacts, page statistics ------------------------ */

/* Fills *pb from page `p` (strings borrowed from p). */
void tc_wire__page_to_pb(const tc_page_t *p, Tocsin__V1__Page *pb);

/* Fills *p from pb (NULL: an empty page). 0 or TC_ETOOBIG / TC_EDECODE. */
int tc_wire__page_from_pb(const Tocsin__V1__Page *pb, tc_page_t *p);

/* Points reply `pb` at the contacts and page statistics of `r`, in
 * storage allocated into *scratch (free with tc_wire__paging_free after
 * packing). 0 or TC_ENOMEM. */
typedef struct tc_wire__paging tc_wire__paging_t;
int tc_wire__paging_to_pb(const tc_api_reply_t *r, Tocsin__V1__ApiReply *pb,
                          tc_wire__paging_t **scratch);
void tc_wire__paging_free(tc_wire__paging_t **scratch);

/* Reads the contacts and page statistics of reply `pb` into `r`. 0 or an
 * error. */
int tc_wire__paging_from_pb(const Tocsin__V1__ApiReply *pb, tc_api_reply_t *r);

#endif
