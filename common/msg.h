/*
 * msg.h - the hand-written form of tocsin's wire messages.
 *
 * Only common/wire.c sees the protobuf-c generated types; every other module
 * works with these plain structs. Strings live in fixed-size arrays so that a
 * message can be copied with `=` and owns no heap memory; the limits below
 * are also the validation limits applied to every decoded frame (a longer
 * value is rejected, never truncated, except free-text `output`/`summary`
 * /`detail`, which are truncated at a UTF-8 boundary).
 */
#ifndef TC_MSG_H
#define TC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_PROTOCOL_VERSION 1
#define TC_ID_MAX 64       /* ids: agent, host, check, service (with NUL) */
#define TC_TEXT_MAX 512    /* free text: output, summary, detail (with NUL) */
#define TC_PERF_MAX 16     /* perfdata items kept per result */
#define TC_LABEL_MAX 64    /* perfdata label (with NUL) */
#define TC_UOM_MAX 8       /* perfdata unit (with NUL) */
#define TC_HOSTS_MAX 32    /* hosts listed in one incident */
#define TC_ROLES_MAX 16    /* roles listed in one incident */
#define TC_ACTIONS_MAX 32  /* action items per incident (security checklist included) */
#define TC_ACTION_TEXT 160 /* an action item's text (with NUL) */
/* A status update's text: 4096 bytes of UTF-8 (with NUL). Only tc_update_t
 * holds one, so the records of check results do not grow with it. */
#define TC_BODY_MAX 4097
#define TC_TITLE_MAX 160     /* titles and descriptions (with NUL) */
#define TC_COMPONENTS_MAX 16 /* components named in one update or window */
#define TC_URL_MAX 256       /* a link (the incident's conference bridge), with NUL */
#define TC_COORDINATOR_ID "coordinator"
/* PUB topic of the coordinator's heartbeat: [topic][Envelope(Heartbeat)]
 * with last_seq = newest broadcast sequence; not a broadcast itself. */
#define TC_TOPIC_HEARTBEAT "tocsin.heartbeat"

typedef enum {
    TC_STATE_OK = 0,
    TC_STATE_WARNING = 1,
    TC_STATE_CRITICAL = 2,
    TC_STATE_UNKNOWN = 3,
} tc_check_state_t;

typedef enum {
    TC_INC_TRIGGERED = 0,
    TC_INC_INVESTIGATING = 1,
    TC_INC_IDENTIFIED = 2,
    TC_INC_MONITORING = 3,
    TC_INC_RESOLVED = 4,
} tc_incident_state_t;

typedef enum {
    TC_MSG_NONE = 0,
    TC_MSG_HELLO,
    TC_MSG_HEARTBEAT,
    TC_MSG_CHECK_RESULT,
    TC_MSG_ACK,
    TC_MSG_REJECT,
    TC_MSG_BROADCAST,
    TC_MSG_HOST_STATUS,
    TC_MSG_OPERATOR_ACTION,
    TC_MSG_TIMER,
    TC_MSG_EVENTS_LOST,
    TC_MSG_CONFIG,
} tc_msg_kind_t;

typedef enum {
    TC_REJECT_UNSPECIFIED = 0,
    TC_REJECT_MALFORMED = 1,
    TC_REJECT_BAD_VERSION = 2,
    TC_REJECT_INVALID = 3,
    TC_REJECT_UNAUTHORIZED = 4,
    /* Not stored and not lost: resend from tc_reject_t.resend_from. */
    TC_REJECT_RESEND = 5,    /* the seq was not the next one expected */
    TC_REJECT_THROTTLED = 6, /* over a limit: pause retry_after_ms first */
} tc_reject_reason_t;

typedef enum {
    TC_BCAST_UNSPECIFIED = 0,
    TC_BCAST_INCIDENT_OPENED = 1,
    TC_BCAST_INCIDENT_UPDATED = 2,
    TC_BCAST_INCIDENT_RESOLVED = 3,
    TC_BCAST_HOST_DOWN = 4,
    TC_BCAST_HOST_UP = 5,
    TC_BCAST_PAGE = 6,
    TC_BCAST_STATUS_UPDATE = 7, /* "status.external" / "status.internal" */
    TC_BCAST_COMPONENT = 8,     /* "component.updated" */
    TC_BCAST_MAINTENANCE = 9,   /* "maintenance.updated" */
    TC_BCAST_REMINDER = 10,     /* external update due: "page.<liaison>" */
} tc_bcast_kind_t;

/* Component statuses, worst last but for maintenance, as status pages name
 * them (tc_component_status_name). */
typedef enum {
    TC_COMP_OPERATIONAL = 0,
    TC_COMP_DEGRADED = 1,
    TC_COMP_PARTIAL_OUTAGE = 2,
    TC_COMP_MAJOR_OUTAGE = 3,
    TC_COMP_MAINTENANCE = 4,
} tc_component_status_t;

typedef enum {
    TC_UPD_DRAFT = 0,
    TC_UPD_APPROVED = 1,
    TC_UPD_PUBLISHED = 2,
    TC_UPD_WITHDRAWN = 3,
} tc_update_status_t;

typedef enum {
    TC_MAINT_SCHEDULED = 0,
    TC_MAINT_IN_PROGRESS = 1,
    TC_MAINT_VERIFYING = 2,
    TC_MAINT_COMPLETED = 3,
    TC_MAINT_CANCELLED = 4,
} tc_maint_state_t;

/* Bits of tc_perf_t.present. */
#define TC_PERF_WARN 0x1u
#define TC_PERF_CRIT 0x2u
#define TC_PERF_MIN 0x4u
#define TC_PERF_MAX_BIT 0x8u

typedef struct {
    char label[TC_LABEL_MAX];
    double value;
    char uom[TC_UOM_MAX];
    double warn, crit, min, max;
    unsigned present; /* TC_PERF_* bits */
} tc_perf_t;

typedef struct {
    char hostname[TC_ID_MAX];
    char agent_version[32];
    uint32_t heartbeat_ms;
} tc_hello_t;

typedef struct {
    uint32_t heartbeat_ms;
    uint64_t last_seq;
} tc_heartbeat_t;

typedef struct {
    char check[TC_ID_MAX];
    char service[TC_ID_MAX];
    char host[TC_ID_MAX];
    tc_check_state_t state;
    char output[TC_TEXT_MAX];
    tc_perf_t perf[TC_PERF_MAX];
    size_t nperf;
    uint32_t attempt;
    uint32_t max_attempts;
    bool hard;
    bool flapping;         /* stands for a check that keeps changing state */
    uint32_t flap_percent; /* weighted share of state changes, 0..100 */
    /* From an integration ("acknowledge"): the state is unchanged; the
     * alert's open incident is acknowledged with its pages. */
    bool acknowledged;
} tc_check_result_t;

/* A configuration change of the state machine, as a log record: the
 * configuration itself is stored beside the log (tc_wire_*_state_config). */
typedef struct {
    uint64_t digest; /* FNV-1a 64 of the encoded configuration */
    char source[256];
} tc_config_ref_t;

/* What an agent could not keep when its spool was full: `transitions` hard
 * changes of one check between first_ms and last_ms. Sequenced like a
 * check result; the check's latest state follows in its own result. */
typedef struct {
    char check[TC_ID_MAX];
    char service[TC_ID_MAX];
    char host[TC_ID_MAX];
    uint32_t transitions;
    int64_t first_ms, last_ms;
    char reason[TC_TITLE_MAX];
} tc_events_lost_t;

typedef struct {
    uint64_t seq;
} tc_ack_t;

typedef struct {
    tc_reject_reason_t reason;
    uint64_t seq;
    char detail[TC_TEXT_MAX];
    uint64_t resend_from;    /* RESEND, THROTTLED: the next seq it will store */
    uint32_t retry_after_ms; /* THROTTLED: pause this long before resending */
} tc_reject_t;

typedef struct {
    char host[TC_ID_MAX];
    bool up;
    uint32_t heartbeat_ms;
    char reason[TC_TEXT_MAX];
} tc_host_status_t;

typedef struct {
    char role[TC_ID_MAX];
    char person[TC_ID_MAX];
    int64_t paged_ms;
    int64_t acked_ms;       /* 0 until acknowledged */
    int64_t ack_timeout_ms; /* escalate after this long unacknowledged (0: never) */
    uint32_t level;         /* escalations so far */
    bool escalating;        /* timed out; the next person is being paged */
    bool exhausted;         /* nobody left to page */
    uint32_t repeats;       /* high-urgency pages repeated so far */
    int64_t repeated_ms;    /* when the last repeat went out (0: none) */
} tc_role_t;

typedef struct {
    uint32_t number;
    char text[TC_ACTION_TEXT];
    char owner[TC_ID_MAX];
    int64_t added_ms;
    int64_t done_ms; /* 0 while open */
    bool checklist;  /* a step of the security response checklist */
} tc_action_item_t;

/* How an incident is responded to (Hotjar): the whole team, or out of
 * business hours the on-call engineer alone until severity requires more. */
typedef enum {
    TC_PLAN_NONE = 0,         /* not decided: the owning team keeps no hours */
    TC_PLAN_BUSINESS = 1,     /* started in business hours: the full response */
    TC_PLAN_OUT_OF_HOURS = 2, /* started outside them: the reduced plan */
    TC_PLAN_FULL = 3,         /* out of hours, an operator asked for everyone */
} tc_plan_t;

typedef struct {
    uint64_t id;
    char service[TC_ID_MAX];
    tc_incident_state_t state;
    uint32_t severity; /* 1..5, 0 = not assessed */
    bool declared;
    int64_t opened_ms;
    int64_t resolved_ms; /* 0 while open */
    int64_t updated_ms;
    char summary[TC_TEXT_MAX];
    char hosts[TC_HOSTS_MAX][TC_ID_MAX]; /* the first nhosts failing hosts, sorted */
    size_t nhosts;
    uint32_t affected_hosts; /* all hosts failing now; may exceed nhosts */
    uint32_t failing_checks;
    uint32_t flapping_checks; /* of them, flapping (the agent sends one event for them) */
    uint64_t opened_log_seq;
    tc_role_t roles[TC_ROLES_MAX];
    size_t nroles;
    int64_t acknowledged_ms;          /* 0 until acknowledged */
    int64_t declared_ms;              /* 0 while not declared */
    uint32_t users;                   /* users affected, best estimate */
    bool users_pinned;                /* set by an operator */
    bool severity_pinned;             /* set by an operator */
    bool security;                    /* suspected security or data breach */
    bool declare_evaluated;           /* the declaration deadline has fired */
    bool declared_pinned;             /* an operator declared or undeclared it */
    char postmortem_owner[TC_ID_MAX]; /* the IC by default */
    int64_t postmortem_due_ms;        /* 0: none (not declared) */
    int64_t postmortem_done_ms;
    bool postmortem_reminded; /* the overdue reminder went out */
    tc_action_item_t actions[TC_ACTIONS_MAX];
    size_t nactions;
    uint32_t features;          /* features affected, as an operator reported */
    bool drill;                 /* synthetic, from `tocsinctl drill` */
    char title[TC_TITLE_MAX];   /* public title, from the first status update */
    uint32_t updates;           /* status updates drafted so far */
    uint32_t pending_update;    /* external update awaiting approval (0: none) */
    int64_t last_external_ms;   /* last external update published */
    int64_t next_update_due_ms; /* when the liaison is reminded (0: never) */
    bool is_public;             /* an external update was published */
    uint64_t maintenance;       /* window in progress when it opened (0: none) */
    /* Time spent at each severity (index 1..5) before sev_since_ms, and
     * when the current one was set (0: not counting: none, or resolved). */
    int64_t severity_ms[6];
    int64_t sev_since_ms;
    uint32_t resolved_failing; /* checks still failing when resolved by hand */
    tc_plan_t plan;
    char bridge[TC_URL_MAX]; /* conference link, set when declared ("" = none) */
    /* Security mode: disclosure cleared by the IC and by the DPO (PagerDuty:
     * communicate outside the need-to-know group only once it is safe). */
    int64_t disclosure_ic_ms;
    int64_t disclosure_dpo_ms;
    uint32_t flagged_severity;     /* severity when flagged: what components show until then */
    int64_t progress_ms;           /* last state change or published update */
    int64_t quiet_reminded_ms;     /* last reminder to the IC that nothing moved */
    int64_t postmortem_meeting_ms; /* the post-mortem meeting (0: not set) */
} tc_incident_t;

typedef struct {
    char name[TC_ID_MAX];
    tc_component_status_t status;
} tc_component_ref_t;

/* A component customers know ("API") and its status. */
typedef struct {
    char name[TC_ID_MAX];
    char description[TC_TITLE_MAX];
    tc_component_status_t status;  /* shown: the override, else derived */
    tc_component_status_t derived; /* from incidents and maintenance */
    bool overridden;
    int64_t changed_ms; /* when `status` last changed */
} tc_component_t;

/* A status update of an incident (or of a maintenance window). */
typedef struct {
    uint64_t incident;    /* 0 for a window's update */
    uint64_t maintenance; /* window id, or 0 */
    uint32_t number;      /* 1, 2, ... within the incident or window */
    bool external;        /* audience */
    char scenario[16];    /* outage, degradation, maintenance, security */
    char state[16];       /* public state announced */
    char title[TC_TITLE_MAX];
    char body[TC_BODY_MAX];
    tc_component_ref_t components[TC_COMPONENTS_MAX];
    size_t ncomponents;
    char impact[16];        /* none, minor, major, critical */
    int64_t next_update_ms; /* 0: none promised */
    tc_update_status_t status;
    char author[TC_ID_MAX];
    int64_t drafted_ms;
    char approver[TC_ID_MAX];
    int64_t approved_ms;
    int64_t published_ms;
    bool drill;
    uint32_t severity;
    int64_t started_ms; /* when the incident opened (the window starts) */
    int64_t eta_ms;     /* when service is expected back; 0: not yet known */
    bool restricted;    /* internal, to a security incident's need-to-know group only */
    /* A public post-mortem report (scenario "postmortem"): its four parts
     * are in `body`, each under its heading, so every channel that shows a
     * body shows the whole report; these say where each part's own text
     * lies in `body`, so the page and the JSON can show them apart
     * (tc_report_part). Zero for every other update. */
    uint16_t part_at[4], part_len[4];
} tc_update_t;

/* The parts of a public post-mortem report, in the order they are shown. */
typedef enum {
    TC_REPORT_SUMMARY = 0,
    TC_REPORT_IMPACT = 1,
    TC_REPORT_CAUSE = 2,   /* the root cause, in business language */
    TC_REPORT_ACTIONS = 3, /* what is being done so it does not happen again */
    TC_REPORT_PARTS = 4,
} tc_report_part_t;

/* A maintenance window. */
typedef struct {
    uint64_t id;
    char title[TC_TITLE_MAX];
    tc_maint_state_t state;
    int64_t start_ms, end_ms;
    int64_t every_ms;    /* recurring: next occurrence this much later (0: once) */
    uint32_t occurrence; /* 1, 2, ... */
    char components[TC_COMPONENTS_MAX][TC_ID_MAX];
    size_t ncomponents;
    char description[TC_TEXT_MAX]; /* the public announcement */
    char created_by[TC_ID_MAX];
    int64_t created_ms;
    int64_t verify_ms; /* how long verifying lasts before completed */
    bool drill;
} tc_maintenance_t;

#define TC_ACTION_ARGS_MAX 6

typedef struct {
    char actor[TC_ID_MAX];
    char action[32];
    uint64_t incident;
    char args[TC_ACTION_ARGS_MAX][TC_ID_MAX];
    size_t nargs;
    char message[TC_TEXT_MAX];
    tc_update_t update;     /* "update draft" */
    tc_maintenance_t maint; /* "maintenance add" */
} tc_operator_action_t;

typedef struct {
    uint64_t incident;
    char kind[32];
    int64_t due_ms;
    char key[TC_ID_MAX]; /* escalate: the role */
} tc_timer_t;

typedef struct {
    uint64_t incident;
    int64_t time_ms;
    uint64_t log_seq;
    char actor[TC_ID_MAX];
    char kind[32];
    char text[TC_TEXT_MAX];
} tc_timeline_t;

/* Why a person is paged (proto Page.Kind). */
typedef enum {
    TC_PAGE_ASSIGNED = 0,
    TC_PAGE_ESCALATED = 1,
    TC_PAGE_REPEATED = 2,
    TC_PAGE_UPDATE_DUE = 3,
    TC_PAGE_POSTMORTEM = 4,
    TC_PAGE_EXHAUSTED = 5,
    TC_PAGE_NOTICE = 6, /* the process tells one person something */
} tc_page_kind_t;

/* How a page is delivered (proto Page.Urgency): high to every contact
 * method at once and again until acknowledged, low by e-mail once, none
 * to nobody. */
typedef enum {
    TC_URGENCY_NONE = 0,
    TC_URGENCY_LOW = 1,
    TC_URGENCY_HIGH = 2,
} tc_urgency_t;

/* What a page asks of whom (PAGE and REMINDER broadcasts). The page is
 * named by (incident, role, person, paged_ms): what an acknowledgement
 * link is bound to. */
typedef struct {
    char person[TC_ID_MAX];
    char role[TC_ID_MAX];
    tc_page_kind_t kind;
    tc_urgency_t urgency;
    int64_t paged_ms;
    uint32_t number; /* 1, then 2, 3 ... for repeats */
    uint32_t level;  /* escalations before this person */
} tc_page_t;

typedef struct {
    tc_bcast_kind_t kind;
    char topic[TC_ID_MAX + 8]; /* room for "page." + a person id */
    uint64_t log_seq;
    tc_incident_t incident; /* valid for TC_BCAST_INCIDENT_* */
    char host[TC_ID_MAX];   /* valid for TC_BCAST_HOST_* */
    char detail[TC_TEXT_MAX];
    tc_update_t update;       /* valid for TC_BCAST_STATUS_UPDATE */
    tc_component_t component; /* valid for TC_BCAST_COMPONENT */
    tc_maintenance_t maint;   /* valid for TC_BCAST_MAINTENANCE */
    tc_page_t page;           /* valid for TC_BCAST_PAGE and TC_BCAST_REMINDER */
} tc_broadcast_t;

/* One decoded Envelope. `kind` says which member of `u` is valid. */
typedef struct {
    uint32_t version;
    char sender[TC_ID_MAX];
    uint64_t seq;
    int64_t time_ms;
    tc_msg_kind_t kind;
    union {
        tc_hello_t hello;
        tc_heartbeat_t heartbeat;
        tc_check_result_t check;
        tc_ack_t ack;
        tc_reject_t reject;
        tc_broadcast_t bcast;
        tc_host_status_t host_status;
        tc_operator_action_t action;
        tc_timer_t timer;
        tc_events_lost_t lost;
        tc_config_ref_t config;
    } u;
} tc_msg_t;

/* One entry of the coordinator's audit trail. */
typedef struct {
    uint64_t seq;
    int64_t time_ms;
    char actor[TC_ID_MAX];
    char actor_class[16];
    char public_key[41];
    char action[32];
    char detail[TC_TEXT_MAX];
    bool allowed;
} tc_audit_t;

/* One entry of the coordinator's event log. */
typedef struct {
    uint64_t seq;
    int64_t received_ms; /* the coordinator's clock when it was stored */
    /* When it happened (see LogRecord.time_ms): what the state machine
     * dates incidents and timelines by. */
    int64_t time_ms;
    tc_msg_t event;
} tc_record_t;

/* Names used in logs, JSON and tables; never NULL. */
const char *tc_check_state_name(tc_check_state_t s);           /* "OK", ... */
const char *tc_incident_state_name(tc_incident_state_t s);     /* "triggered"... */
const char *tc_msg_kind_name(tc_msg_kind_t k);                 /* "check_result"... */
const char *tc_bcast_kind_name(tc_bcast_kind_t k);             /* "incident.opened"... */
const char *tc_component_status_name(tc_component_status_t s); /* "major_outage"... */
const char *tc_update_status_name(tc_update_status_t s);       /* "draft"... */

/* ---- public post-mortem reports ------------------------------------------- */

#define TC_REPORT_SCENARIO "postmortem" /* an update's scenario and state */
/* How `postmortem ID report` sends the four parts in one API message:
 * ASCII unit separator between them (never in a part). */
#define TC_REPORT_SEPARATOR '\x1f'

/* True if `u` is a public post-mortem report, not a status update. */
bool tc_update_is_report(const tc_update_t *u);

/* True if API `command` changes incidents, components or windows (each
 * becomes an OperatorAction record), false for queries. The coordinator
 * authorizes by it; tocsinctl warns by it that an action it got no answer
 * for may still take effect. */
bool tc_api_is_action(const char *command);

/* The heading of part `k` as customers read it ("Root cause"). */
const char *tc_report_heading(tc_report_part_t k);

/* The JSON name of part `k` ("root_cause"). */
const char *tc_report_key(tc_report_part_t k);

/* Writes report `parts` (TC_REPORT_PARTS texts) into `u`'s body, each
 * under its heading, and records where each lies. Returns 0, or
 * TC_ETOOBIG if the whole does not fit a body (nothing is cut). */
int tc_report_compose(tc_update_t *u, const char *const parts[TC_REPORT_PARTS]);

/* Part `k` of report `u`: a pointer into its body and the length in *len;
 * NULL (and *len 0) when `u` is not a report or the part does not lie
 * within its body. */
const char *tc_report_part(const tc_update_t *u, tc_report_part_t k, size_t *len);

/* Part `k` of report `u` copied into `dst` (capacity `cap`, NUL-terminated;
 * "" when there is none); returns `dst`. */
char *tc_report_part_text(const tc_update_t *u, tc_report_part_t k, char *dst, size_t cap);

/* Writes report `u`'s parts as members {"summary", "impact", "root_cause",
 * "actions"} of the JSON object open in `j` (empty strings for a part not
 * in its body). */
struct tc_json;
void tc_report_json_parts(struct tc_json *j, const tc_update_t *u);
const char *tc_maint_state_name(tc_maint_state_t s); /* "in_progress"... */
const char *tc_page_kind_name(tc_page_kind_t k);     /* "assigned"... */
/* True for the pages of a role, which wait for its acknowledgement (and
 * repeat, and carry an acknowledgement link); false for reminders and
 * notices. */
bool tc_page_waits_for_ack(tc_page_kind_t k);
const char *tc_urgency_name(tc_urgency_t u); /* "high"... */

/* Parse the names above. Return 0 or TC_EINVAL. */
int tc_component_status_parse(const char *s, tc_component_status_t *out);
int tc_maint_state_parse(const char *s, tc_maint_state_t *out);

/* Parses "OK"/"WARNING"/... (case-insensitive). Returns 0 or TC_EINVAL. */
int tc_check_state_parse(const char *s, tc_check_state_t *out);

/* True if `s` is a valid id: 1..TC_ID_MAX-1 bytes of [A-Za-z0-9._:-]. */
bool tc_id_valid(const char *s);

/* Copies `src` into `dst` of size `cap`, truncating at a UTF-8 character
 * boundary if needed; each byte that is not part of valid UTF-8 becomes '?'.
 * Always NUL-terminates when cap > 0. Returns true if the whole string
 * fitted. */
bool tc_strlcpy_utf8(char *dst, const char *src, size_t cap);

/* Checks everything a receiver must check before using a message from the
 * wire: version, sender id, the kind-specific fields and their ranges.
 * Returns 0, or TC_EVERSION / TC_EINVAL with a short reason in `why`
 * (may be NULL; at least 128 bytes). */
int tc_msg_validate(const tc_msg_t *m, char *why, size_t whylen);

#endif
