/*
 * sp_errpages.c - outage.html and maintenance.html, the custom error
 * content a reverse proxy in front of the product serves when the product
 * cannot answer (nginx: error_page 502 503 504 /outage.html); see
 * sp_site.h.
 *
 * They must work when everything else is down, so they are self-contained:
 * inline style, no script, no image, no font, nothing fetched. They say
 * what the status page knew when it wrote them (re-written with every
 * render) and link the status page for what happens next.
 */
#include "sp_site_impl.h"

#include "error.h"
#include "human.h"

#include <string.h>

static const char s_css[] =
    "body{font:17px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;background:#f6f7f9;color:#1f2328}"
    "main{max-width:640px;margin:0 auto;padding:48px 20px}h1{font-size:28px;margin:0 0 12px}"
    ".now{background:#fff;border:1px solid #d0d7de;border-left:4px solid #bc4c00;"
    "border-radius:8px;padding:12px 16px;margin:20px 0}.now p{margin:4px 0}"
    "a{color:#0969da}small{color:#57606a}";

static void s_begin(FILE *out, const tc_sp_page_t *page, const char *what)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<meta name=\"robots\" content=\"noindex\"><title>",
          out);
    tc_sp_escape(out, page->title);
    fprintf(out, ": %s</title><style>%s</style></head>\n<body><main>\n", what, s_css);
}

/* "Follow ... on our status page: URL" (a link when the URL is known). */
static void s_link(FILE *out, const tc_sp_page_t *page)
{
    if (!page->url[0]) {
        fputs("<p>Please check our status page for updates.</p>\n", out);
        return;
    }
    fputs("<p>Follow updates on our status page: <a href=\"", out);
    tc_sp_escape(out, page->url);
    fputs("\">", out);
    tc_sp_escape(out, page->url);
    fputs("</a></p>\n", out);
}

static void s_end(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    char when[TC_HUMAN_MAX];
    int64_t contact = tc_sp_state_contact(state);
    fprintf(out, "<p><small>Status as of %s.</small></p>\n</main></body></html>\n",
            tc_human_time(contact ? contact : page->now_ms, when, sizeof when));
}

/* What is known now: the overall status, the incident that matters most,
 * its newest words and when service is expected back. */
static void s_now(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    const char *ind = tc_sp_indicator(state);
    const tc_sp_incident_t *inc = tc_sp__lead_incident(state);
    if (!strcmp(ind, "none") && !inc)
        return;
    fprintf(out, "<div class=\"now\"><p><strong>%s</strong></p>\n", tc_sp__indicator_text(ind));
    if (inc) {
        const tc_update_t *u = tc_sp__latest(inc->updates, inc->nupdates);
        char label[32], sentence[256], when[TC_HUMAN_MAX];
        fputs("<p>", out);
        tc_sp_escape(out, inc->title);
        fprintf(out, " (%s)</p>\n", tc_sp__label(inc->state, label, sizeof label));
        if (u && u->body[0]) {
            fputs("<p>", out);
            tc_sp_escape(out, tc_sp__sentence(u->body, sentence, sizeof sentence));
            fputs("</p>\n", out);
        }
        if (inc->eta_ms)
            fprintf(out, "<p>Expected back by %s.</p>\n",
                    tc_human_time_near(inc->eta_ms, page->now_ms, when, sizeof when));
    }
    fputs("</div>\n", out);
}

int tc_sp_render_outage(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    s_begin(out, page, "temporarily unavailable");
    fputs("<h1>We&rsquo;ll be back soon</h1>\n<p>", out);
    tc_sp_escape(out, page->title);
    fputs(": this part of our service cannot answer right now. Nothing you did caused "
          "this. Please try again in a few minutes.</p>\n",
          out);
    s_now(out, state, page);
    s_link(out, page);
    s_end(out, state, page);
    return ferror(out) ? TC_EIO : 0;
}

int tc_sp_render_maintenance(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    s_begin(out, page, "down for maintenance");
    fputs("<h1>Down for scheduled maintenance</h1>\n", out);
    const tc_sp_maint_t *w = tc_sp__lead_window(state, false);
    if (w) {
        char window[2 * TC_HUMAN_MAX];
        fputs("<div class=\"now\"><p><strong>", out);
        tc_sp_escape(out, w->w.title);
        fprintf(out, "</strong></p>\n<p>%s</p>\n",
                tc_human_window(w->w.start_ms, w->w.end_ms, window, sizeof window));
        if (w->w.description[0]) {
            fputs("<p>", out);
            tc_sp_escape(out, w->w.description);
            fputs("</p>\n", out);
        }
        fputs("</div>\n<p>We are carrying out planned work and will be back when it is "
              "done. Please try again after the end of the window.</p>\n",
              out);
    } else {
        fputs("<p>We are carrying out planned work and will be back shortly. Please try "
              "again in a few minutes.</p>\n",
              out);
    }
    s_link(out, page);
    s_end(out, state, page);
    return ferror(out) ? TC_EIO : 0;
}
