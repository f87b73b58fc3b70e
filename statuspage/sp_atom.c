/*
 * sp_atom.c - history.atom, an Atom 1.0 feed of the last 50 external
 * updates; see sp_site.h.
 *
 * Atom ids must be permanent and unique across the world, so they are
 * derived from the page's public URL (--url): the feed is URL/history.atom,
 * an entry the page it links to plus "#update-N". Without a URL they fall
 * back to a tag URI naming the page's title, which is unique only if titles
 * are; the README says to set --url.
 */
#include "sp_site_impl.h"

#include "error.h"
#include "human.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_FEED_MAX 50

typedef struct {
    const tc_update_t *u;
    bool drill;
    const tc_sp_maint_t *w; /* the window occurrence, or NULL for an incident */
} s_entry_t;

static int s_entry_cmp(const void *a, const void *b)
{
    const tc_update_t *x = ((const s_entry_t *)a)->u, *y = ((const s_entry_t *)b)->u;
    if (x->published_ms != y->published_ms)
        return x->published_ms > y->published_ms ? -1 : 1;
    if (x->incident != y->incident)
        return x->incident > y->incident ? -1 : 1;
    if (x->maintenance != y->maintenance)
        return x->maintenance > y->maintenance ? -1 : 1;
    return x->number > y->number ? -1 : x->number < y->number;
}

/* The base of every id: the page's URL, or a tag URI from its title. */
static void s_base(FILE *out, const tc_sp_page_t *page)
{
    if (page->url[0]) {
        tc_sp_escape(out, page->url);
        return;
    }
    fputs("tag:tocsin.invalid,2024:statuspage:", out);
    for (const unsigned char *p = (const unsigned char *)page->title; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.')
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
    fputc('/', out);
}

/* The page an entry links to, relative to the base. */
/* The page an entry is about; `link`: with the report's own anchor. */
static void s_target(FILE *out, const s_entry_t *e, bool link)
{
    char id[48];
    if (e->w)
        fprintf(out, "index.html#%s", tc_sp__maint_id(e->w, id, sizeof id));
    else
        fprintf(out, "incidents/%" PRIu64 ".html%s", e->u->incident,
                link && tc_update_is_report(e->u) ? "#postmortem" : "");
}

int tc_sp_render_atom(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    size_t n = 0;
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++)
        n += tc_sp_state_incident(state, i)->nupdates +
             (tc_sp_state_incident(state, i)->report != 0);
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++)
        n += tc_sp_state_maint(state, i)->nupdates;
    s_entry_t *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        return TC_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        for (size_t u = 0; u < inc->nupdates; u++)
            e[k++] = (s_entry_t){&inc->updates[u], inc->drill || inc->updates[u].drill, NULL};
        if (inc->report)
            e[k++] = (s_entry_t){inc->report, inc->drill || inc->report->drill, NULL};
    }
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++) {
        const tc_sp_maint_t *w = tc_sp_state_maint(state, i);
        for (size_t u = 0; u < w->nupdates; u++)
            e[k++] = (s_entry_t){&w->updates[u], w->w.drill || w->updates[u].drill, w};
    }
    qsort(e, n, sizeof *e, s_entry_cmp);
    char buf[40];
    /* The feed changes only when an entry does. */
    int64_t updated = n ? e[0].u->published_ms : tc_sp_state_contact(state);
    if (!updated)
        updated = page->now_ms;
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
          "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<id>",
          out);
    s_base(out, page);
    fputs("history.atom</id>\n<title>", out);
    tc_sp_escape(out, page->title);
    fprintf(out, " history</title>\n<updated>%s</updated>\n<author><name>",
            tc_time_format(updated, buf, sizeof buf));
    tc_sp_escape(out, page->title);
    fputs("</name></author>\n", out);
    if (page->url[0]) {
        fputs("<link rel=\"self\" href=\"", out);
        tc_sp_escape(out, page->url);
        fputs("history.atom\"/>\n<link href=\"", out);
        tc_sp_escape(out, page->url);
        fputs("\"/>\n", out);
    }
    for (size_t i = 0; i < n && i < S_FEED_MAX; i++) {
        const tc_update_t *u = e[i].u;
        char label[32], title[TC_TITLE_MAX + 16];
        fputs("<entry>\n<id>", out);
        s_base(out, page);
        s_target(out, &e[i], false);
        fprintf(out, "#update-%" PRIu32 "</id>\n<title>", u->number);
        tc_sp_escape(out, tc_sp__drill_name(e[i].drill, u->title, title, sizeof title));
        bool report = tc_update_is_report(u);
        fprintf(out, " - %s</title>\n<updated>%s</updated>\n",
                report ? "Post-incident report" : tc_sp__label(u->state, label, sizeof label),
                tc_time_format(u->published_ms, buf, sizeof buf));
        fputs("<link href=\"", out);
        tc_sp_escape(out, page->url);
        s_target(out, &e[i], true);
        fputs("\"/>\n<content type=\"text\">", out);
        tc_sp_escape(out, u->body);
        bool final = !strcmp(u->state, "resolved") || !strcmp(u->state, "completed");
        if (u->incident && !final && !report) {
            char when[TC_HUMAN_MAX];
            if (u->eta_ms > 0)
                fprintf(out, "\n\nExpected back by %s.",
                        tc_human_time(u->eta_ms, when, sizeof when));
            else
                fputs("\n\nNo estimate yet.", out);
        }
        fputs("</content>\n</entry>\n", out);
    }
    fputs("</feed>\n", out);
    free(e);
    return ferror(out) ? TC_EIO : 0;
}
