/*
 * contacts.c - contact methods and paging rules; see contacts.h.
 *
 * Rosters are small, so people's lists are a plain array searched by id.
 */
#include "contacts.h"

#include "error.h"
#include "msg.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char person[TC_ID_MAX];
    tc_contact_t contacts[TC_CONTACTS_MAX];
    size_t n;
} s_list_t;

struct tc_contacts {
    s_list_t *lists;
    size_t nlists, cap;
    unsigned high, low; /* bit n: SEV-n */
    int64_t repeat_ms;
};

tc_contacts_t *tc_contacts_new(void)
{
    tc_contacts_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    tc_policy_t defaults;
    tc_policy_defaults(&defaults);
    self->high = defaults.page_high_severities;
    self->low = defaults.page_low_severities;
    self->repeat_ms = defaults.page_repeat_ms;
    return self;
}

void tc_contacts_destroy(tc_contacts_t **pself)
{
    if (!pself || !*pself)
        return;
    free((*pself)->lists);
    free(*pself);
    *pself = NULL;
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
} s_ld_t;

__attribute__((format(printf, 3, 4))) static int s_fail(s_ld_t *ld, const yaml_node_t *n,
                                                        const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%zu: %s", ld->file, n ? n->start_mark.line + 1 : 0, msg);
    return TC_ECONFIG;
}

static const char *s_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *s_node(s_ld_t *ld, int id)
{
    return yaml_document_get_node(ld->doc, id);
}

/* An http(s) URL without spaces or control characters: what a webhook,
 * Slack or ntfy target must be. */
static bool s_url_ok(const char *s)
{
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return false;
    const char *host = s + (s[4] == 's' ? 8 : 7);
    if (!*host || *host == '/')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

static bool s_address_ok(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] && !strchr(at + 1, '@') && !strpbrk(s, " \t\r\n<>,;\"\\");
}

/* One entry of a contact list: {type: ..., to: ... | url: ...[, token: ...]}. */
static int s_contact(s_ld_t *ld, yaml_node_t *n, const char *path, tc_contact_t *c)
{
    if (n->type != YAML_MAPPING_NODE)
        return s_fail(ld, n, "%s: must be a mapping such as {type: email, to: ADDRESS}", path);
    yaml_node_t *type = NULL, *to = NULL, *url = NULL, *token = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = s_node(ld, p->key), *v = s_node(ld, p->value);
        const char *key = s_scalar(k);
        yaml_node_t **slot = !key                    ? NULL
                             : !strcmp(key, "type")  ? &type
                             : !strcmp(key, "to")    ? &to
                             : !strcmp(key, "url")   ? &url
                             : !strcmp(key, "token") ? &token
                                                     : NULL;
        if (!slot)
            return s_fail(ld, k, "%s: unknown key \"%.64s\" (type, to, url, token)", path,
                          key ? key : "?");
        if (*slot)
            return s_fail(ld, k, "%s.%s: duplicate key", path, key);
        if (!s_scalar(v))
            return s_fail(ld, v, "%s.%s: must be a scalar", path, key);
        *slot = v;
    }
    if (!type)
        return s_fail(ld, n, "%s: missing type (email, webhook, slack or ntfy)", path);
    memset(c, 0, sizeof *c);
    if (tc_contact_type_parse(s_scalar(type), &c->type) != 0)
        return s_fail(ld, type, "%s.type: unknown type \"%.64s\" (email, webhook, slack or ntfy)",
                      path, s_scalar(type));
    bool email = c->type == TC_CONTACT_EMAIL;
    yaml_node_t *target = email ? to : url;
    yaml_node_t *wrong = email ? url : to;
    const char *want = email ? "to" : "url";
    if (wrong)
        return s_fail(ld, wrong, "%s: %s contacts take %s, not %s", path,
                      tc_contact_type_name(c->type), want, email ? "url" : "to");
    if (token && c->type != TC_CONTACT_NTFY)
        return s_fail(ld, token, "%s.token: only ntfy contacts take a token", path);
    if (!target)
        return s_fail(ld, n, "%s: missing %s", path, want);
    const char *val = s_scalar(target);
    if (strlen(val) >= sizeof c->target)
        return s_fail(ld, target, "%s.%s: longer than %zu bytes", path, want, sizeof c->target - 1);
    if (email ? !s_address_ok(val) : !s_url_ok(val))
        return s_fail(ld, target,
                      email ? "%s.%s: invalid e-mail address \"%.64s\""
                            : "%s.%s: invalid URL \"%.64s\" (http:// or https://)",
                      path, want, val);
    snprintf(c->target, sizeof c->target, "%s", val);
    if (token) {
        const char *t = s_scalar(token);
        if (!*t || strlen(t) >= sizeof c->token || strpbrk(t, " \t\r\n"))
            return s_fail(ld, token, "%s.token: must be 1..%zu bytes without spaces", path,
                          sizeof c->token - 1);
        snprintf(c->token, sizeof c->token, "%s", t);
    }
    return 0;
}

int tc_contacts_parse_person(tc_contacts_t *self, yaml_document_t *doc, yaml_node_t *list,
                             const char *file, const char *path, const char *person, char *err,
                             size_t errlen)
{
    s_ld_t ld = {doc, file, err, errlen};
    if (list->type != YAML_SEQUENCE_NODE)
        return s_fail(&ld, list, "%s: must be a list of contact methods", path);
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n > TC_CONTACTS_MAX)
        return s_fail(&ld, list, "%s: at most %d contact methods", path, TC_CONTACTS_MAX);
    for (size_t i = 0; i < self->nlists; i++)
        if (!strcmp(self->lists[i].person, person))
            return s_fail(&ld, list, "%s: given twice", path);
    if (self->nlists == self->cap) {
        size_t cap = self->cap ? 2 * self->cap : 16;
        s_list_t *p = realloc(self->lists, cap * sizeof *p);
        if (!p)
            return TC_ENOMEM;
        self->lists = p;
        self->cap = cap;
    }
    s_list_t *l = &self->lists[self->nlists];
    memset(l, 0, sizeof *l);
    snprintf(l->person, sizeof l->person, "%s", person);
    for (size_t i = 0; i < n; i++) {
        char ipath[400];
        snprintf(ipath, sizeof ipath, "%.300s[%zu]", path, i);
        int rc =
            s_contact(&ld, s_node(&ld, list->data.sequence.items.start[i]), ipath, &l->contacts[i]);
        if (rc)
            return rc;
    }
    l->n = n;
    /* Counted only when whole, so a list that fails is never visible. */
    self->nlists++;
    return 0;
}

/* [1, 2, 3]: severities 1..5 into a bit set. */
static int s_severities(s_ld_t *ld, yaml_node_t *v, const char *key, unsigned *out)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return s_fail(ld, v, "paging.%s: must be a list of severities 1..5, such as [1, 2, 3]",
                      key);
    unsigned set = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *n = s_node(ld, *it);
        const char *s = s_scalar(n);
        uint64_t sev;
        if (!s || tc_u64_parse(s, 5, &sev) != 0 || sev < 1)
            return s_fail(ld, n, "paging.%s: \"%.16s\" is not a severity 1..5", key, s ? s : "?");
        if (set & (1u << sev))
            return s_fail(ld, n, "paging.%s: SEV-%llu is listed twice", key,
                          (unsigned long long)sev);
        set |= 1u << sev;
    }
    *out = set;
    return 0;
}

int tc_contacts_parse_paging(tc_contacts_t *self, yaml_document_t *doc, yaml_node_t *map,
                             const char *file, char *err, size_t errlen)
{
    s_ld_t ld = {doc, file, err, errlen};
    if (map->type != YAML_MAPPING_NODE)
        return s_fail(&ld, map,
                      "paging: must be a mapping (high_urgency, low_urgency, "
                      "repeat_every)");
    unsigned high = self->high, low = self->low;
    yaml_node_t *high_node = NULL, *low_node = NULL, *seen[3] = {NULL};
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = s_node(&ld, p->key), *v = s_node(&ld, p->value);
        const char *key = s_scalar(k);
        /* The conference link is the policy's bridge_url, set on an
         * incident when it is declared: pages carry the incident's. */
        static const char *const s_paging_keys[] = {"high_urgency", "low_urgency", "repeat_every"};
        int which = -1;
        for (int i = 0; key && i < 3; i++)
            if (!strcmp(key, s_paging_keys[i]))
                which = i;
        if (which < 0)
            return s_fail(&ld, k,
                          "paging: unknown key \"%.64s\" (expected high_urgency, low_urgency "
                          "or repeat_every); the conference link is policy.bridge_url",
                          key ? key : "?");
        if (seen[which])
            return s_fail(&ld, k, "paging.%s: duplicate key", key);
        seen[which] = k;
        int rc = 0;
        if (which == 0) {
            rc = s_severities(&ld, v, key, &high);
            high_node = v;
        } else if (which == 1) {
            rc = s_severities(&ld, v, key, &low);
            low_node = v;
        } else {
            const char *s = s_scalar(v);
            int64_t ms;
            if (!s || tc_duration_parse(s, &ms) != 0 || (ms != 0 && ms < 10000))
                return s_fail(&ld, v,
                              "paging.repeat_every: invalid duration \"%.64s\" (0s for no "
                              "repeats, else 10s..30d)",
                              s ? s : "?");
            self->repeat_ms = ms;
        }
        if (rc)
            return rc;
    }
    if (high & low) {
        unsigned both = high & low;
        int sev = 1;
        while (!(both & (1u << sev)))
            sev++;
        return s_fail(&ld, high_node && low_node ? low_node : map,
                      "paging: SEV-%d is both high_urgency and low_urgency", sev);
    }
    self->high = high;
    self->low = low;
    return 0;
}

/* ---- queries ------------------------------------------------------------- */

bool tc_contacts_person(const tc_contacts_t *self, const char *person, const char *email,
                        tc_person_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", person);
    for (size_t i = 0; i < self->nlists; i++) {
        if (strcmp(self->lists[i].person, person) != 0)
            continue;
        memcpy(out->contacts, self->lists[i].contacts, self->lists[i].n * sizeof(tc_contact_t));
        out->ncontacts = self->lists[i].n;
    }
    bool has_email = false;
    for (size_t i = 0; i < out->ncontacts; i++)
        has_email |= out->contacts[i].type == TC_CONTACT_EMAIL;
    /* The person's `email:` was parsed and never used: it is an e-mail
     * contact unless the list names one. */
    if (email && *email && !has_email && out->ncontacts < TC_CONTACTS_MAX) {
        tc_contact_t *c = &out->contacts[out->ncontacts++];
        memset(c, 0, sizeof *c);
        c->type = TC_CONTACT_EMAIL;
        snprintf(c->target, sizeof c->target, "%s", email);
    }
    return out->ncontacts > 0;
}

void tc_contacts_apply_policy(const tc_contacts_t *self, tc_policy_t *policy)
{
    policy->page_high_severities = self->high;
    policy->page_low_severities = self->low;
    policy->page_repeat_ms = self->repeat_ms;
}
