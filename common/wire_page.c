/*
 * wire_page.c - pages, contact methods and page statistics on the wire;
 * see wire.h and wire_impl.h.
 */
#include "wire.h"

#include "error.h"
#include "wire_impl.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_contact_types[] = {"email", "webhook", "slack", "ntfy"};

const char *tc_contact_type_name(tc_contact_type_t t)
{
    return (unsigned)t <= TC_CONTACT_NTFY ? s_contact_types[t] : "invalid";
}

int tc_contact_type_parse(const char *s, tc_contact_type_t *out)
{
    for (int i = 0; i <= TC_CONTACT_NTFY; i++)
        if (s && !strcmp(s, s_contact_types[i])) {
            *out = (tc_contact_type_t)i;
            return 0;
        }
    return TC_EINVAL;
}

void tc_wire__page_to_pb(const tc_page_t *p, Tocsin__V1__Page *pb)
{
    tocsin__v1__page__init(pb);
    pb->person = (char *)p->person;
    pb->role = (char *)p->role;
    pb->kind = (Tocsin__V1__Page__Kind)p->kind;
    pb->urgency = (Tocsin__V1__Page__Urgency)p->urgency;
    pb->paged_ms = p->paged_ms;
    pb->number = p->number;
    pb->level = p->level;
}

int tc_wire__page_from_pb(const Tocsin__V1__Page *pb, tc_page_t *p)
{
    memset(p, 0, sizeof *p);
    if (!pb)
        return 0;
    COPY_ID(p->person, pb->person);
    COPY_ID(p->role, pb->role);
    if ((unsigned)pb->kind > TC_PAGE_NOTICE || (unsigned)pb->urgency > TC_URGENCY_HIGH)
        return TC_EDECODE;
    p->kind = (tc_page_kind_t)pb->kind;
    p->urgency = (tc_urgency_t)pb->urgency;
    p->paged_ms = pb->paged_ms;
    p->number = pb->number;
    p->level = pb->level;
    return 0;
}

/* Everything a packed reply's contacts and page statistics point into. */
struct tc_wire__paging {
    Tocsin__V1__Contacts contacts;
    Tocsin__V1__Person *people;
    Tocsin__V1__Person **people_ptrs;
    Tocsin__V1__Contact *cs;
    Tocsin__V1__Contact **cs_ptrs;
    Tocsin__V1__PageStat *stats;
    Tocsin__V1__PageStat **stat_ptrs;
};

void tc_wire__paging_free(tc_wire__paging_t **scratch)
{
    if (!scratch || !*scratch)
        return;
    tc_wire__paging_t *o = *scratch;
    free(o->people);
    free(o->people_ptrs);
    free(o->cs);
    free(o->cs_ptrs);
    free(o->stats);
    free(o->stat_ptrs);
    free(o);
    *scratch = NULL;
}

int tc_wire__paging_to_pb(const tc_api_reply_t *r, Tocsin__V1__ApiReply *pb,
                          tc_wire__paging_t **scratch)
{
    tc_wire__paging_t *o = calloc(1, sizeof *o);
    if (!o)
        return TC_ENOMEM;
    *scratch = o;
    size_t ncs = 0;
    for (size_t i = 0; i < r->npeople; i++)
        ncs += r->people[i].ncontacts;
    o->people = calloc(r->npeople + 1, sizeof *o->people);
    o->people_ptrs = calloc(r->npeople + 1, sizeof *o->people_ptrs);
    o->cs = calloc(ncs + 1, sizeof *o->cs);
    o->cs_ptrs = calloc(ncs + 1, sizeof *o->cs_ptrs);
    o->stats = calloc(r->npages + 1, sizeof *o->stats);
    o->stat_ptrs = calloc(r->npages + 1, sizeof *o->stat_ptrs);
    if (!o->people || !o->people_ptrs || !o->cs || !o->cs_ptrs || !o->stats || !o->stat_ptrs)
        return TC_ENOMEM;
    if (r->has_contacts) {
        tocsin__v1__contacts__init(&o->contacts);
        size_t k = 0;
        for (size_t i = 0; i < r->npeople; i++) {
            const tc_person_t *p = &r->people[i];
            Tocsin__V1__Person *pp = &o->people[i];
            tocsin__v1__person__init(pp);
            pp->id = (char *)p->id;
            pp->name = (char *)p->name;
            pp->contacts = &o->cs_ptrs[k];
            size_t n = p->ncontacts > TC_CONTACTS_MAX ? TC_CONTACTS_MAX : p->ncontacts;
            for (size_t j = 0; j < n; j++, k++) {
                tocsin__v1__contact__init(&o->cs[k]);
                o->cs[k].type = (char *)tc_contact_type_name(p->contacts[j].type);
                o->cs[k].target = (char *)p->contacts[j].target;
                o->cs[k].token = (char *)p->contacts[j].token;
                o->cs_ptrs[k] = &o->cs[k];
            }
            pp->n_contacts = n;
            o->people_ptrs[i] = pp;
        }
        o->contacts.n_people = r->npeople;
        o->contacts.people = o->people_ptrs;
        pb->contacts = &o->contacts;
    }
    for (size_t i = 0; i < r->npages; i++) {
        const tc_page_stat_t *s = &r->pages[i];
        Tocsin__V1__PageStat *ps = &o->stats[i];
        tocsin__v1__page_stat__init(ps);
        ps->person = (char *)s->person;
        ps->pages = s->pages;
        ps->delivered = s->delivered;
        ps->failed = s->failed;
        ps->latency_total_ms = s->latency_total_ms;
        ps->last_ms = s->last_ms;
        ps->last_result = (char *)s->last_result;
        ps->last_method = (char *)s->last_method;
        ps->last_detail = (char *)s->last_detail;
        ps->acknowledged = s->acknowledged;
        o->stat_ptrs[i] = ps;
    }
    pb->n_pages = r->npages;
    pb->pages = o->stat_ptrs;
    return 0;
}

int tc_wire__paging_from_pb(const Tocsin__V1__ApiReply *pb, tc_api_reply_t *r)
{
    int rc = 0;
    if (pb->contacts) {
        const Tocsin__V1__Contacts *c = pb->contacts;
        r->has_contacts = true;
        tc_person_t *p = malloc(sizeof *p);
        if (!p)
            return TC_ENOMEM;
        for (size_t i = 0; rc == 0 && i < c->n_people; i++) {
            const Tocsin__V1__Person *pp = c->people[i];
            memset(p, 0, sizeof *p);
            if (tc_wire__copy_id(p->id, sizeof p->id, pp->id) ||
                tc_wire__copy_id(p->name, sizeof p->name, pp->name) ||
                pp->n_contacts > TC_CONTACTS_MAX) {
                rc = TC_ETOOBIG;
                break;
            }
            for (size_t j = 0; rc == 0 && j < pp->n_contacts; j++) {
                const Tocsin__V1__Contact *cc = pp->contacts[j];
                tc_contact_t *ct = &p->contacts[j];
                if (tc_contact_type_parse(cc->type, &ct->type) != 0)
                    rc = TC_EDECODE;
                else if (tc_wire__copy_id(ct->target, sizeof ct->target, cc->target) ||
                         tc_wire__copy_id(ct->token, sizeof ct->token, cc->token))
                    rc = TC_ETOOBIG;
            }
            p->ncontacts = pp->n_contacts;
            if (rc == 0)
                rc = tc_api_reply_add_person(r, p);
        }
        free(p);
    }
    for (size_t i = 0; rc == 0 && i < pb->n_pages; i++) {
        const Tocsin__V1__PageStat *ps = pb->pages[i];
        tc_page_stat_t s = {0};
        if (tc_wire__copy_id(s.person, sizeof s.person, ps->person) ||
            tc_wire__copy_id(s.last_result, sizeof s.last_result, ps->last_result) ||
            tc_wire__copy_id(s.last_method, sizeof s.last_method, ps->last_method))
            return TC_ETOOBIG;
        s.pages = ps->pages;
        s.delivered = ps->delivered;
        s.failed = ps->failed;
        s.latency_total_ms = ps->latency_total_ms;
        s.last_ms = ps->last_ms;
        s.acknowledged = ps->acknowledged;
        tc_wire__copy_text(s.last_detail, sizeof s.last_detail, ps->last_detail);
        rc = tc_api_reply_add_page_stat(r, &s);
    }
    return rc;
}
