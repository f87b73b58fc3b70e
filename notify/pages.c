/*
 * pages.c - a page's deliveries and payloads; see pages.h.
 */
#include "pages.h"

#include "acklink.h"
#include "error.h"
#include "human.h"
#include "payload_impl.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LINE 1200

/* ---- deliveries ------------------------------------------------------------ */

size_t tc_notify_page_deliveries(const tc_msg_t *m, const tc_person_t *person, int64_t now_ms,
                                 tc_delivery_t *out, char *why, size_t whylen)
{
    const tc_broadcast_t *b = &m->u.bcast;
    const tc_page_t *pg = &b->page;
    char dummy[8];
    if (!why) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = 0;
    if (!pg->person[0])
        return 0;
    if (pg->urgency == TC_URGENCY_NONE) {
        snprintf(why, whylen, "urgency none: delivered to nobody");
        return 0;
    }
    if (!person || person->ncontacts == 0) {
        snprintf(why, whylen, "no contact methods known for %s", pg->person);
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < person->ncontacts && i < TC_CONTACTS_MAX; i++) {
        const tc_contact_t *c = &person->contacts[i];
        /* Low urgency: e-mail, once (the coordinator does not repeat it). */
        if (pg->urgency == TC_URGENCY_LOW && c->type != TC_CONTACT_EMAIL)
            continue;
        tc_delivery_t *d = &out[n];
        memset(d, 0, sizeof *d);
        snprintf(d->sub, sizeof d->sub, "%s#%zu", pg->person, i);
        snprintf(d->key, sizeof d->key, "tocsin-i%" PRIu64 "-b%" PRIu64 "-%s-%s%zu", b->incident.id,
                 m->seq, pg->person, tc_contact_type_name(c->type), i);
        d->first_ms = d->next_try_ms = now_ms;
        d->is_page = true;
        d->pg.contact = *c;
        snprintf(d->pg.name, sizeof d->pg.name, "%s", person->name);
        snprintf(d->pg.conference, sizeof d->pg.conference, "%s", b->incident.bridge);
        d->pg.bseq = m->seq;
        d->pg.sent_ms = m->time_ms;
        d->pg.page = *pg;
        d->pg.incident = b->incident;
        memcpy(d->pg.detail, b->detail, sizeof d->pg.detail);
        n++;
    }
    if (n == 0)
        snprintf(why, whylen, "low-urgency pages go to e-mail, and %s has no e-mail contact",
                 pg->person);
    return n;
}

const char *tc_notify_page_method(const tc_delivery_t *d)
{
    return tc_contact_type_name(d->pg.contact.type);
}

bool tc_notify_page_ack_url(const uint8_t *key, const char *base, int64_t ttl_ms,
                            const tc_delivery_t *d, char *out, size_t cap)
{
    out[0] = 0;
    const tc_page_t *pg = &d->pg.page;
    /* Reminders are not pages a person acknowledges: only a role's page. */
    if (!key || !base || !*base || !tc_page_waits_for_ack(pg->kind) || !pg->paged_ms)
        return false;
    tc_acklink_t link = {.incident = d->pg.incident.id,
                         .paged_ms = pg->paged_ms,
                         .expires_ms = pg->paged_ms + ttl_ms};
    snprintf(link.role, sizeof link.role, "%s", pg->role);
    snprintf(link.person, sizeof link.person, "%s", pg->person);
    char tok[TC_ACKLINK_TOKEN_MAX];
    if (tc_acklink_sign(key, &link, tok, sizeof tok) != 0)
        return false;
    int n = snprintf(out, cap, "%sack/%s", base, tok);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = 0;
        return false;
    }
    return true;
}

/* ---- what a page says ---------------------------------------------------------- */

/* A role as people say it. */
static void s_role_words(const char *role, char *out, size_t cap)
{
    static const struct {
        const char *id, *words;
    } names[] = {{"commander", "Incident Commander"},
                 {"deputy", "Deputy"},
                 {"scribe", "Scribe"},
                 {"sme", "Subject Matter Expert"},
                 {"customer_liaison", "Customer Liaison"},
                 {"internal_liaison", "Internal Liaison"},
                 {"dpo", "Data Protection Officer"},
                 {"postmortem_owner", "post-mortem owner"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(role, names[i].id)) {
            snprintf(out, cap, "%s", names[i].words);
            return;
        }
    if (!strncmp(role, "subteam.", 8))
        snprintf(out, cap, "lead of sub-team %s", role + 8);
    else
        snprintf(out, cap, "%s", role);
}

/* One line: what, how bad. "[DRILL] SEV-2 incident 7 (api): title". */
static void s_headline(const tc_delivery_t *d, char *out, size_t cap)
{
    const tc_incident_t *inc = &d->pg.incident;
    char sev[16] = "";
    if (inc->severity)
        snprintf(sev, sizeof sev, "SEV-%u ", inc->severity);
    const char *what = inc->title[0] ? inc->title : inc->summary;
    char line[S_LINE];
    snprintf(line, sizeof line, "%s%sincident %" PRIu64 " (%s)%s%.300s",
             inc->drill ? "[DRILL] " : "", sev, inc->id, inc->service, what[0] ? ": " : "", what);
    /* One line, whatever the check said. */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    snprintf(out, cap, "%s", line);
}

/* Why this person is paged, in a sentence. */
static void s_why(const tc_delivery_t *d, char *out, size_t cap)
{
    const tc_page_t *pg = &d->pg.page;
    uint64_t id = d->pg.incident.id;
    char role[96];
    s_role_words(pg->role, role, sizeof role);
    switch (pg->kind) {
    case TC_PAGE_ESCALATED:
        snprintf(out, cap,
                 "You are now the %s for incident %" PRIu64
                 ": it was escalated to you because nobody before you acknowledged.",
                 role, id);
        break;
    case TC_PAGE_REPEATED:
        snprintf(out, cap,
                 "Page %u: you are the %s for incident %" PRIu64 " and have not acknowledged yet.",
                 pg->number, role, id);
        break;
    case TC_PAGE_EXHAUSTED:
        snprintf(out, cap,
                 "Nobody is left in the escalation chain after you: you stay paged as the %s for "
                 "incident %" PRIu64 ".",
                 role, id);
        break;
    case TC_PAGE_UPDATE_DUE:
        snprintf(out, cap,
                 "An external update for incident %" PRIu64
                 " is due: draft it with tocsinctl update %" PRIu64 " draft.",
                 id, id);
        break;
    case TC_PAGE_POSTMORTEM:
        snprintf(out, cap, "The post-mortem of incident %" PRIu64 " is overdue, and you own it.",
                 id);
        break;
    case TC_PAGE_NOTICE:
        /* What the process has to say is the coordinator's text. */
        snprintf(out, cap, "%s", d->pg.detail);
        break;
    default: snprintf(out, cap, "You are the %s for incident %" PRIu64 ".", role, id); break;
    }
}

/* The facts, one per line ("Severity: SEV-2 (major)"), with `nl` between
 * lines. */
static void s_facts(tc_notify__buf_t *b, const tc_delivery_t *d, int64_t now_ms, const char *nl)
{
    const tc_incident_t *inc = &d->pg.incident;
    char t[TC_HUMAN_MAX], rel[TC_HUMAN_MAX];
    if (inc->severity)
        tc_notify__printf(b, "Severity: SEV-%u%s%s", inc->severity,
                          inc->severity <= 2 ? " (major incident)" : "", nl);
    else
        tc_notify__printf(b, "Severity: not assessed yet%s", nl);
    tc_notify__printf(b, "State: %s%s", tc_incident_state_name(inc->state), nl);
    tc_notify__printf(b, "Since: %s (%s)%s", tc_human_time(inc->opened_ms, t, sizeof t),
                      tc_human_relative(inc->opened_ms, now_ms, rel, sizeof rel), nl);
    if (inc->nhosts) {
        tc_notify__puts(b, "Hosts: ");
        for (size_t i = 0; i < inc->nhosts && i < 8; i++)
            tc_notify__printf(b, "%s%s", i ? ", " : "", inc->hosts[i]);
        if (inc->affected_hosts > 8)
            tc_notify__printf(b, " and %u more", inc->affected_hosts - 8);
        tc_notify__puts(b, nl);
    }
    bool others = false;
    for (size_t i = 0; i < inc->nroles; i++) {
        const tc_role_t *r = &inc->roles[i];
        if (!strcmp(r->person, d->pg.page.person) && !strcmp(r->role, d->pg.page.role))
            continue;
        char role[96];
        s_role_words(r->role, role, sizeof role);
        tc_notify__printf(b, "%s%s: %s%s", others ? ", " : "Others on it: ", role, r->person,
                          r->acked_ms ? "" : " (paged)");
        others = true;
    }
    tc_notify__printf(b, "%s%s", others ? "" : "Others on it: nobody yet", nl);
}

/* ---- webhook --------------------------------------------------------------------- */

int tc_notify_page_webhook_json(tc_json_t *j, const tc_delivery_t *d, const char *ack)
{
    const tc_page_t *pg = &d->pg.page;
    const tc_incident_t *inc = &d->pg.incident;
    char head[S_LINE], why[S_LINE];
    s_headline(d, head, sizeof head);
    s_why(d, why, sizeof why);
    tc_json_reset(j);
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_string(j, d->key);
    tc_json_key(j, "type");
    tc_json_string(j, "page");
    tc_json_key(j, "kind");
    tc_json_string(j, tc_page_kind_name(pg->kind));
    tc_json_key(j, "urgency");
    tc_json_string(j, tc_urgency_name(pg->urgency));
    tc_json_key(j, "person");
    tc_json_string(j, pg->person);
    tc_json_key(j, "name");
    tc_json_string(j, d->pg.name[0] ? d->pg.name : pg->person);
    tc_json_key(j, "role");
    tc_json_string(j, pg->role);
    tc_json_key(j, "number");
    tc_json_uint(j, pg->number);
    tc_json_key(j, "level");
    tc_json_uint(j, pg->level);
    tc_json_key(j, "paged_at");
    if (pg->paged_ms)
        tc_json_time(j, pg->paged_ms);
    else
        tc_json_null(j);
    tc_json_key(j, "incident");
    tc_json_object_begin(j);
    tc_json_key(j, "id");
    tc_json_uint(j, inc->id);
    tc_json_key(j, "service");
    tc_json_string(j, inc->service);
    tc_json_key(j, "title");
    tc_json_string(j, inc->title);
    tc_json_key(j, "summary");
    tc_json_string(j, inc->summary);
    tc_json_key(j, "severity");
    if (inc->severity)
        tc_json_uint(j, inc->severity);
    else
        tc_json_null(j);
    tc_json_key(j, "state");
    tc_json_string(j, tc_incident_state_name(inc->state));
    tc_json_key(j, "opened_at");
    tc_json_time(j, inc->opened_ms);
    tc_json_key(j, "drill");
    tc_json_bool(j, inc->drill);
    tc_json_object_end(j);
    tc_json_key(j, "others");
    tc_json_array_begin(j);
    for (size_t i = 0; i < inc->nroles; i++) {
        const tc_role_t *r = &inc->roles[i];
        if (!strcmp(r->person, pg->person) && !strcmp(r->role, pg->role))
            continue;
        tc_json_object_begin(j);
        tc_json_key(j, "role");
        tc_json_string(j, r->role);
        tc_json_key(j, "person");
        tc_json_string(j, r->person);
        tc_json_key(j, "acknowledged");
        tc_json_bool(j, r->acked_ms != 0);
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    tc_json_key(j, "ack_url");
    tc_json_string(j, ack && *ack ? ack : NULL);
    tc_json_key(j, "conference_url");
    tc_json_string(j, d->pg.conference[0] ? d->pg.conference : NULL);
    tc_json_key(j, "text");
    char text[2 * S_LINE + 8];
    snprintf(text, sizeof text, "%s: %s", head, why);
    tc_json_string(j, text);
    tc_json_object_end(j);
    return tc_json_error(j);
}

/* ---- Slack ---------------------------------------------------------------------------- */

static void s_button(tc_json_t *j, const char *label, const char *url, bool primary)
{
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "button");
    tc_json_key(j, "text");
    tc_json_object_begin(j);
    tc_json_key(j, "type");
    tc_json_string(j, "plain_text");
    tc_json_key(j, "text");
    tc_json_string(j, label);
    tc_json_object_end(j);
    tc_json_key(j, "url");
    tc_json_string(j, url);
    if (primary) {
        tc_json_key(j, "style");
        tc_json_string(j, "primary");
    }
    tc_json_object_end(j);
}

int tc_notify_page_slack_json(tc_json_t *j, const tc_delivery_t *d, const char *ack)
{
    char head[S_LINE], why[S_LINE];
    s_headline(d, head, sizeof head);
    s_why(d, why, sizeof why);
    tc_notify__buf_t text = {0}, sect = {0}, facts = {0};
    tc_notify__puts(&text, d->pg.page.urgency == TC_URGENCY_HIGH ? "PAGE: " : "Page: ");
    tc_notify__slack_escape(&text, head);
    tc_notify__puts(&text, " - ");
    tc_notify__slack_escape(&text, why);
    tc_notify__puts(&sect, "*");
    tc_notify__slack_escape(&sect, head);
    tc_notify__puts(&sect, "*\n");
    tc_notify__slack_escape(&sect, why);
    s_facts(&facts, d, d->pg.sent_ms, "\n");
    if (facts.data) {
        tc_notify__puts(&sect, "\n");
        tc_notify__slack_escape(&sect, facts.data);
    }
    bool failed = text.failed || sect.failed || facts.failed;
    tc_json_reset(j);
    tc_json_object_begin(j);
    tc_json_key(j, "text");
    tc_json_string(j, text.data ? text.data : "");
    tc_json_key(j, "blocks");
    tc_json_array_begin(j);
    tc_notify__block_text(j, "section", "mrkdwn", sect.data ? sect.data : "");
    bool conf = d->pg.conference[0] != 0;
    if ((ack && *ack) || conf) {
        tc_json_object_begin(j);
        tc_json_key(j, "type");
        tc_json_string(j, "actions");
        tc_json_key(j, "elements");
        tc_json_array_begin(j);
        if (ack && *ack)
            s_button(j, "Acknowledge", ack, true);
        if (conf)
            s_button(j, "Join the call", d->pg.conference, false);
        tc_json_array_end(j);
        tc_json_object_end(j);
    }
    tc_json_array_end(j);
    tc_json_object_end(j);
    free(text.data);
    free(sect.data);
    free(facts.data);
    return failed ? TC_ENOMEM : tc_json_error(j);
}

/* ---- ntfy ------------------------------------------------------------------------------- */

/* An ntfy action's URL may hold neither ',' nor ';' (they separate the
 * action's fields and the actions). */
static bool s_action_url_ok(const char *u)
{
    return u && *u && !strpbrk(u, ",;\r\n");
}

int tc_notify_page_ntfy(const tc_delivery_t *d, const char *ack, char **body, size_t *len,
                        tc_notify_headers_t *h)
{
    char head[S_LINE], why[S_LINE];
    s_headline(d, head, sizeof head);
    s_why(d, why, sizeof why);
    tc_notify__buf_t b = {0}, title = {0};
    tc_notify__printf(&b, "%s\n", why);
    s_facts(&b, d, d->pg.sent_ms, "\n");
    if (d->pg.conference[0])
        tc_notify__printf(&b, "Conference: %s\n", d->pg.conference);
    if (ack && *ack)
        tc_notify__printf(&b, "Acknowledge: %s\n", ack);
    tc_notify__header_encoded(&title, head);
    memset(h, 0, sizeof *h);
    bool high = d->pg.page.urgency == TC_URGENCY_HIGH;
    /* Encoded words may be folded onto continuation lines for e-mail;
     * an HTTP header is one line. */
    char *t = title.data ? title.data : "";
    for (char *p = t; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    snprintf(h->lines[h->n++], S_LINE, "Title: %.1100s", t);
    snprintf(h->lines[h->n++], S_LINE, "Priority: %s", high ? "5" : "3");
    snprintf(h->lines[h->n++], S_LINE, "Tags: %s", high ? "rotating_light" : "warning");
    /* Room for the "Actions: " in front of it in a header line. */
    char actions[S_LINE - sizeof "Actions: "] = "";
    size_t o = 0;
    if (s_action_url_ok(ack))
        o += (size_t)snprintf(actions + o, sizeof actions - o, "view, Acknowledge, %s, clear=true",
                              ack);
    if (s_action_url_ok(d->pg.conference) && o < sizeof actions)
        snprintf(actions + o, sizeof actions - o, "%sview, Join the call, %s", o ? "; " : "",
                 d->pg.conference);
    if (actions[0])
        snprintf(h->lines[h->n++], S_LINE, "Actions: %s", actions);
    if (ack && *ack)
        snprintf(h->lines[h->n++], S_LINE, "Click: %s", ack);
    if (d->pg.contact.token[0])
        snprintf(h->lines[h->n++], S_LINE, "Authorization: Bearer %s", d->pg.contact.token);
    free(title.data);
    if (b.failed || title.failed) {
        free(b.data);
        return TC_ENOMEM;
    }
    *body = b.data ? b.data : strdup("");
    *len = b.len;
    return *body ? 0 : TC_ENOMEM;
}

/* ---- e-mail ------------------------------------------------------------------------------ */

char *tc_notify_page_email(const tc_delivery_t *d, const char *from, int64_t now_ms,
                           const char *ack, size_t *len)
{
    char head[S_LINE], why[S_LINE], date[64];
    s_headline(d, head, sizeof head);
    s_why(d, why, sizeof why);
    tc_notify__mail_date(now_ms, date, sizeof date);
    const char *domain = strchr(from, '@');
    domain = domain ? domain + 1 : "tocsin.invalid";
    bool high = d->pg.page.urgency == TC_URGENCY_HIGH;
    tc_notify__buf_t b = {0}, subject = {0}, facts = {0};
    tc_notify__printf(&subject, "%s %s", high ? "PAGE:" : "Page:", head);
    tc_notify__printf(&b, "Date: %s\r\n", date);
    tc_notify__printf(&b, "From: %s\r\n", from);
    tc_notify__printf(&b, "To: %s\r\n", d->pg.contact.target);
    tc_notify__puts(&b, "Subject: ");
    tc_notify__header_encoded(&b, subject.data ? subject.data : "");
    tc_notify__puts(&b, "\r\n");
    tc_notify__printf(&b, "Message-ID: <%s@%s>\r\n", d->key, domain);
    tc_notify__puts(&b, "MIME-Version: 1.0\r\n");
    tc_notify__puts(&b, "Content-Type: text/plain; charset=utf-8\r\n");
    tc_notify__puts(&b, "Content-Transfer-Encoding: 8bit\r\n");
    tc_notify__printf(&b, "X-Tocsin-Idempotency-Key: %s\r\n", d->key);
    tc_notify__printf(&b, "X-Tocsin-Incident: %" PRIu64 "\r\n", d->pg.incident.id);
    if (high)
        tc_notify__puts(&b, "Importance: high\r\nX-Priority: 1\r\n");
    tc_notify__puts(&b, "Auto-Submitted: auto-generated\r\n");
    tc_notify__puts(&b, "\r\n");
    if (d->pg.incident.drill)
        tc_notify__puts(&b, "This is a DRILL.\r\n\r\n");
    tc_notify__mail_text(&b, why);
    tc_notify__puts(&b, "\r\n\r\n");
    tc_notify__mail_text(&b, head);
    tc_notify__puts(&b, "\r\n");
    s_facts(&facts, d, now_ms, "\n");
    tc_notify__mail_text(&b, facts.data ? facts.data : "");
    if (d->pg.incident.summary[0] && strcmp(d->pg.incident.summary, d->pg.incident.title) != 0) {
        tc_notify__puts(&b, "Check: ");
        tc_notify__mail_text(&b, d->pg.incident.summary);
        tc_notify__puts(&b, "\r\n");
    }
    if (d->pg.conference[0])
        tc_notify__printf(&b, "\r\nConference: %s\r\n", d->pg.conference);
    if (ack && *ack)
        tc_notify__printf(&b, "\r\nAcknowledge (opens a page that asks you to confirm):\r\n%s\r\n",
                          ack);
    else if (tc_page_waits_for_ack(d->pg.page.kind))
        tc_notify__printf(&b, "\r\nAcknowledge with: tocsinctl ack %" PRIu64 " %s\r\n",
                          d->pg.incident.id, d->pg.page.role);
    bool failed = b.failed || subject.failed || facts.failed;
    free(subject.data);
    free(facts.data);
    if (failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
