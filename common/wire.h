/*
 * wire.h - encoding and decoding of tocsin's protobuf messages.
 *
 * The only module that includes the protobuf-c generated code. Encoders
 * return a heap buffer that the caller owns and frees with free(); decoders
 * fill a caller-provided struct and never keep a reference to the input.
 * Decoders do not validate semantics: call tc_msg_validate() on anything that
 * came from another process.
 */
#ifndef TC_WIRE_H
#define TC_WIRE_H

#include "msg.h"
#include "policy.h"
#include "util.h"

#include <stdint.h>
#include <stddef.h>

/* Encodes `m` as an Envelope. On success sets *out (caller owns, free())
 * and *outlen and returns 0; TC_ENOMEM otherwise. */
int tc_wire_encode_msg(const tc_msg_t *m, uint8_t **out, size_t *outlen);

/* Decodes an Envelope. Returns 0, TC_EDECODE for bytes that are not an
 * Envelope or have no payload, TC_ETOOBIG if a string field exceeds its
 * limit in msg.h. `m` is fully overwritten (zeroed first). */
int tc_wire_decode_msg(const uint8_t *buf, size_t len, tc_msg_t *m);

/* Same pair for log records (LogRecord). */
int tc_wire_encode_record(const tc_record_t *r, uint8_t **out, size_t *outlen);

/* The generic (protobuf-c) decoders alone. tc_wire_decode_msg() and
 * tc_wire_decode_record() read check results directly and fall back to
 * these for everything else; tests compare the two. */
int tc_wire_decode_msg_generic(const uint8_t *buf, size_t len, tc_msg_t *m);
int tc_wire_decode_record_generic(const uint8_t *buf, size_t len, tc_record_t *r);

/* The same, around `env`: the record's envelope as it was received (a
 * frame already decoded and validated into r->event), so that the hot path
 * stores what arrived instead of encoding it again. Caller frees *out. */
int tc_wire_encode_record_raw(const tc_record_t *r, const uint8_t *env, size_t env_len,
                              uint8_t **out, size_t *outlen);

/* Appends the Envelope of broadcast `b` (sender "coordinator", broadcast
 * sequence `seq`, time `time_ms`) to *buf, grown as needed; *off and *len
 * say where it is. Encoded once: the same bytes are stored and published.
 * Returns 0 or TC_ENOMEM. */
int tc_wire_append_bcast(tc_buf_t *buf, uint64_t seq, int64_t time_ms, const tc_broadcast_t *b,
                         size_t *off, size_t *len);
int tc_wire_decode_record(const uint8_t *buf, size_t len, tc_record_t *r);

/* Same pair for a timeline entry. */
int tc_wire_encode_timeline(const tc_timeline_t *t, uint8_t **out, size_t *outlen);
int tc_wire_decode_timeline(const uint8_t *buf, size_t len, tc_timeline_t *t);

/* Same pair for an audit record. */
int tc_wire_encode_audit(const tc_audit_t *a, uint8_t **out, size_t *outlen);
int tc_wire_decode_audit(const uint8_t *buf, size_t len, tc_audit_t *a);

/* Same pair for a bare Incident (the coordinator's incident table). */
int tc_wire_encode_incident(const tc_incident_t *inc, uint8_t **out, size_t *outlen);
int tc_wire_decode_incident(const uint8_t *buf, size_t len, tc_incident_t *inc);
int tc_wire_encode_update(const tc_update_t *u, uint8_t **out, size_t *outlen);
int tc_wire_decode_update(const uint8_t *buf, size_t len, tc_update_t *u);
int tc_wire_encode_maintenance(const tc_maintenance_t *w, uint8_t **out, size_t *outlen);
int tc_wire_decode_maintenance(const uint8_t *buf, size_t len, tc_maintenance_t *w);

/* ---- the state machine's configuration (wire_config.c) ---------------- */

typedef struct tc_templates tc_templates_t;

/* Encodes `policy` and the templates of `templates` that override the
 * built-in texts (NULL: none) as a StateConfig. Deterministic: the same
 * configuration always gives the same bytes. Caller frees *out. Returns 0,
 * TC_ETOOBIG or TC_ENOMEM. */
int tc_wire_encode_state_config(const tc_policy_t *policy, const tc_templates_t *templates,
                                uint8_t **out, size_t *outlen);

/* Decodes a StateConfig into *policy and a new template set *templates
 * (the built-in texts with the recorded overrides; caller owns it).
 * Returns 0, or TC_EDECODE / TC_ETOOBIG / TC_ECONFIG / TC_ENOMEM with a
 * reason in `err`. */
int tc_wire_decode_state_config(const uint8_t *buf, size_t len, tc_policy_t *policy,
                                tc_templates_t **templates, char *err, size_t errlen);

/* FNV-1a 64 of `len` bytes: the digest a ConfigRef record carries. */
uint64_t tc_wire_digest(const uint8_t *buf, size_t len);

/* ---- API ------------------------------------------------------------- */

#define TC_API_ARGS_MAX 9
#define TC_API_ARG_MAX 256

typedef struct {
    uint32_t version;
    char command[32];
    char args[TC_API_ARGS_MAX][TC_API_ARG_MAX];
    size_t nargs;
    uint64_t from;
    uint32_t limit;
    bool all;
    /* -m TEXT: an update's body at most (TC_BODY_MAX - 1 bytes); a longer
     * one is refused when decoded (TC_ETOOBIG), never cut. */
    char message[TC_BODY_MAX];
    uint64_t as_of_seq; /* queries: the state after this log record (0: now) */
    int64_t as_of_ms;   /* ... or after the last record stored by then (0: now) */
} tc_api_request_t;

typedef struct {
    char host[TC_ID_MAX];
    bool up;
    int64_t last_seen_ms;
    uint32_t heartbeat_ms;
} tc_host_info_t;

typedef struct {
    char version[32];
    int64_t started_ms;
    uint64_t log_seq;
    uint64_t broadcast_seq;
    uint32_t open_incidents;
    tc_host_info_t *hosts; /* array of nhosts; owned by the reply */
    size_t nhosts;
    uint64_t accepted, duplicates, rejected, denied;
    uint64_t throttled, deferred; /* refused for now; the sender resends */
    char storage[16];             /* ok, full, failed */
    char storage_error[TC_TEXT_MAX];
    uint64_t storage_used, storage_map, storage_max;
} tc_status_t;

typedef struct tc_oncall {
    char scope[TC_ID_MAX + 8]; /* "team web", "role commander" */
    char person[TC_ID_MAX];
    int64_t until_ms;
} tc_oncall_t;

/* What notifiers reported about one subscription (tocsinctl subscribers). */
typedef struct tc_sub_stat {
    char name[TC_ID_MAX];
    uint64_t delivered, failed;
    uint64_t latency_total_ms;
    int64_t last_ms;
    char last_result[16];
    char last_detail[TC_TITLE_MAX];
    /* A notifier reports the channel stalled: its oldest delivery has
     * waited since failing_since_ms; cleared by the next delivered or
     * failed report. */
    bool failing;
    int64_t failing_since_ms;
    char failing_detail[TC_TITLE_MAX];
} tc_sub_stat_t;

/* ---- paging: contact methods and page statistics (wire_page.c) -------- */

#define TC_CONTACTS_MAX 8          /* contact methods per person */
#define TC_CONTACT_TARGET_MAX 1024 /* an address or URL, with NUL */
#define TC_CONTACT_TOKEN_MAX 256   /* an ntfy access token, with NUL */
#define TC_PERSON_NAME_MAX 128     /* a display name, with NUL */

typedef enum {
    TC_CONTACT_EMAIL = 0,   /* target: an e-mail address */
    TC_CONTACT_WEBHOOK = 1, /* target: a URL that gets the page as JSON */
    TC_CONTACT_SLACK = 2,   /* target: a Slack-compatible incoming webhook */
    TC_CONTACT_NTFY = 3,    /* target: an ntfy topic URL (push to phones) */
} tc_contact_type_t;

/* "email", "webhook", "slack", "ntfy"; "invalid" otherwise. */
const char *tc_contact_type_name(tc_contact_type_t t);
/* The reverse. Returns 0 or TC_EINVAL. */
int tc_contact_type_parse(const char *s, tc_contact_type_t *out);

typedef struct {
    tc_contact_type_t type;
    char target[TC_CONTACT_TARGET_MAX];
    char token[TC_CONTACT_TOKEN_MAX]; /* ntfy: bearer token ("" = none) */
} tc_contact_t;

/* A person of the roster and how to reach them. */
typedef struct {
    char id[TC_ID_MAX];
    char name[TC_PERSON_NAME_MAX];
    tc_contact_t contacts[TC_CONTACTS_MAX];
    size_t ncontacts;
} tc_person_t;

/* What notifiers reported about the pages to one person (tocsinctl pages). */
typedef struct {
    char person[TC_ID_MAX];
    uint64_t pages; /* pages broadcast to them */
    uint64_t delivered, failed;
    uint64_t latency_total_ms; /* over the delivered ones */
    int64_t last_ms;
    char last_result[16]; /* delivered, failed, failing */
    char last_method[16]; /* email, webhook, slack, ntfy */
    char last_detail[TC_TITLE_MAX];
    uint64_t acknowledged; /* through their link */
} tc_page_stat_t;

/* A reply holds arrays; build one with tc_api_reply_new(), fill it with the
 * add functions, and free it with tc_api_reply_destroy(). */
typedef struct {
    bool ok;
    char error[TC_TEXT_MAX];
    bool has_status;
    tc_status_t status;
    tc_incident_t *incidents;
    size_t nincidents;
    tc_record_t *log;
    size_t nlog;
    tc_msg_t *broadcasts;
    size_t nbroadcasts;
    tc_audit_t *audit;
    size_t naudit;
    tc_timeline_t *timeline;
    size_t ntimeline;
    struct tc_oncall *oncall;
    size_t noncall;
    tc_update_t *updates;
    size_t nupdates;
    tc_component_t *components;
    size_t ncomponents;
    tc_maintenance_t *maints;
    size_t nmaints;
    tc_sub_stat_t *subs;
    size_t nsubs;
    bool more;
    bool has_contacts; /* the reply to `contacts` (even with no people) */
    tc_person_t *people;
    size_t npeople;
    tc_page_stat_t *pages;
    size_t npages;
} tc_api_reply_t;

int tc_wire_encode_request(const tc_api_request_t *q, uint8_t **out, size_t *outlen);
/* TC_EDECODE, TC_ETOOBIG (too many or too long args, or a message longer
 * than TC_BODY_MAX - 1 bytes) or 0. */
int tc_wire_decode_request(const uint8_t *buf, size_t len, tc_api_request_t *q);

/* Caller owns the result; NULL on allocation failure. ok = true. */
tc_api_reply_t *tc_api_reply_new(void);
/* Frees the reply and its arrays; NULL-safe; nulls *preply. */
void tc_api_reply_destroy(tc_api_reply_t **preply);
/* Append copies. Return 0 or TC_ENOMEM. */
int tc_api_reply_add_incident(tc_api_reply_t *r, const tc_incident_t *inc);
int tc_api_reply_add_record(tc_api_reply_t *r, const tc_record_t *rec);
int tc_api_reply_add_broadcast(tc_api_reply_t *r, const tc_msg_t *m);
int tc_api_reply_add_host(tc_api_reply_t *r, const tc_host_info_t *h);
int tc_api_reply_add_audit(tc_api_reply_t *r, const tc_audit_t *a);
int tc_api_reply_add_timeline(tc_api_reply_t *r, const tc_timeline_t *t);
int tc_api_reply_add_oncall(tc_api_reply_t *r, const tc_oncall_t *o);
int tc_api_reply_add_update(tc_api_reply_t *r, const tc_update_t *u);
int tc_api_reply_add_component(tc_api_reply_t *r, const tc_component_t *c);
int tc_api_reply_add_maintenance(tc_api_reply_t *r, const tc_maintenance_t *w);
int tc_api_reply_add_sub(tc_api_reply_t *r, const tc_sub_stat_t *s);
int tc_api_reply_add_person(tc_api_reply_t *r, const tc_person_t *p);
int tc_api_reply_add_page_stat(tc_api_reply_t *r, const tc_page_stat_t *s);
/* Sets ok = false and the one-line error (printf-style). */
void tc_api_reply_fail(tc_api_reply_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int tc_wire_encode_reply(const tc_api_reply_t *r, uint8_t **out, size_t *outlen);
/* On success *preply is a new reply the caller owns. */
int tc_wire_decode_reply(const uint8_t *buf, size_t len, tc_api_reply_t **preply);

#endif
