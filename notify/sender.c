/*
 * sender.c - libcurl multi transfers; see sender.h.
 */
#include "sender.h"

#include "error.h"
#include "json.h"
#include "log.h"
#include "pages.h"
#include "payload.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_xfer {
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *rcpt;
    char *body;
    size_t len, off;
    void *tag;
    bool smtp;
    char errbuf[CURL_ERROR_SIZE];
    struct s_xfer *next;
} s_xfer_t;

struct tc_notify_sender {
    const tc_notify_config_t *cfg;
    CURLM *multi;
    tc_json_t *json;
    s_xfer_t *xfers;
    size_t active;
};

tc_notify_sender_t *tc_notify_sender_new(const tc_notify_config_t *cfg)
{
    tc_notify_sender_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->multi = curl_multi_init();
    self->json = tc_json_new();
    if (!self->multi || !self->json) {
        if (self->multi)
            curl_multi_cleanup(self->multi);
        tc_json_destroy(&self->json);
        free(self);
        return NULL;
    }
    return self;
}

static void s_xfer_free(tc_notify_sender_t *self, s_xfer_t *x)
{
    if (x->easy) {
        curl_multi_remove_handle(self->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->rcpt);
    free(x->body);
    free(x);
}

/* Unlinks `x` from the list of transfers. */
static void s_unlink(tc_notify_sender_t *self, s_xfer_t *x)
{
    for (s_xfer_t **p = &self->xfers; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            self->active--;
            return;
        }
}

void tc_notify_sender_destroy(tc_notify_sender_t **pself)
{
    if (!pself || !*pself)
        return;
    tc_notify_sender_t *self = *pself;
    while (self->xfers) {
        s_xfer_t *x = self->xfers;
        self->xfers = x->next;
        s_xfer_free(self, x);
    }
    curl_multi_cleanup(self->multi);
    tc_json_destroy(&self->json);
    free(self);
    *pself = NULL;
}

size_t tc_notify_sender_active(const tc_notify_sender_t *self)
{
    return self->active;
}

/* Receivers' answers are not needed; counting them as read keeps curl
 * from writing them to stdout. */
static size_t s_discard(char *ptr, size_t size, size_t n, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * n;
}

static size_t s_read(char *dst, size_t size, size_t n, void *arg)
{
    s_xfer_t *x = arg;
    size_t want = size * n, left = x->len - x->off;
    if (want > left)
        want = left;
    memcpy(dst, x->body + x->off, want);
    x->off += want;
    return want;
}

static int s_add_header(s_xfer_t *x, const char *line)
{
    struct curl_slist *t = curl_slist_append(x->headers, line);
    if (!t)
        return TC_ENOMEM;
    x->headers = t;
    return 0;
}

/* The body of an HTTP delivery: a status update's (webhook or Slack JSON)
 * or a page's (webhook, Slack or ntfy), into x->body, with the headers
 * that only some of them have. */
static int s_http_body(tc_notify_sender_t *self, s_xfer_t *x, const tc_notify_sub_t *sub,
                       const tc_delivery_t *d, const tc_notify_context_t *ctx, bool *json)
{
    *json = true;
    int rc;
    if (!d->is_page)
        rc = sub->type == TC_NOTIFY_SLACK
                 ? tc_notify_slack_json(self->json, &d->update, ctx)
                 : tc_notify_webhook_json(self->json, &d->update, d->key, ctx);
    else if (d->pg.contact.type == TC_CONTACT_NTFY) {
        *json = false;
        tc_notify_headers_t h;
        if ((rc = tc_notify_page_ntfy(d, ctx->ack, &x->body, &x->len, &h)) != 0)
            return rc;
        for (size_t i = 0; i < h.n && rc == 0; i++)
            rc = s_add_header(x, h.lines[i]);
        return rc ? rc : s_add_header(x, "Content-Type: text/plain; charset=utf-8");
    } else
        rc = d->pg.contact.type == TC_CONTACT_SLACK
                 ? tc_notify_page_slack_json(self->json, d, ctx->ack)
                 : tc_notify_page_webhook_json(self->json, d, ctx->ack);
    if (rc != 0)
        return rc;
    x->len = tc_json_len(self->json);
    x->body = malloc(x->len + 1);
    if (!x->body)
        return TC_ENOMEM;
    memcpy(x->body, tc_json_data(self->json), x->len + 1);
    return s_add_header(x, "Content-Type: application/json");
}

static int s_setup_http(tc_notify_sender_t *self, s_xfer_t *x, const tc_notify_sub_t *sub,
                        const tc_delivery_t *d, const tc_notify_context_t *ctx)
{
    bool json;
    int rc = s_http_body(self, x, sub, d, ctx, &json);
    if (rc != 0)
        return rc;
    char h[TC_NOTIFY_KEY_MAX + 32];
    snprintf(h, sizeof h, "Idempotency-Key: %s", d->key);
    const char *fixed[] = {"User-Agent: tocsin-notify/" TOCSIN_VERSION, "Expect:", h};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if ((rc = s_add_header(x, fixed[i])) != 0)
            return rc;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, d->is_page ? d->pg.contact.target : sub->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_discard);
    /* A redirect could turn the POST into a GET elsewhere; a receiver that
     * moved must be reconfigured, not followed. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    return 0;
}

static int s_setup_smtp(tc_notify_sender_t *self, s_xfer_t *x, const tc_notify_sub_t *sub,
                        const tc_delivery_t *d, const tc_notify_context_t *ctx, int64_t now_ms)
{
    const tc_notify_config_t *cfg = self->cfg;
    x->smtp = true;
    x->body = d->is_page
                  ? tc_notify_page_email(d, cfg->smtp_from, now_ms, ctx->ack, &x->len)
                  : tc_notify_email(&d->update, sub, cfg->smtp_from, d->key, now_ms, ctx, &x->len);
    if (!x->body)
        return TC_ENOMEM;
    size_t nto = d->is_page ? 1 : sub->nto;
    for (size_t i = 0; i < nto; i++) {
        char addr[TC_CONTACT_TARGET_MAX + 2];
        snprintf(addr, sizeof addr, "<%s>", d->is_page ? d->pg.contact.target : sub->to[i]);
        struct curl_slist *t = curl_slist_append(x->rcpt, addr);
        if (!t)
            return TC_ENOMEM;
        x->rcpt = t;
    }
    char from[TC_NOTIFY_ADDR_MAX + 2];
    snprintf(from, sizeof from, "<%s>", cfg->smtp_from);
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt(e, CURLOPT_READDATA, x);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
    if (cfg->smtp_username[0]) {
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->smtp_username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->smtp_password);
        /* Credentials never go over plaintext: smtp:// must upgrade with
         * STARTTLS or fail. */
        if (strncmp(cfg->smtp_url, "smtp://", 7) == 0)
            curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    }
    return 0;
}

int tc_notify_sender_start(tc_notify_sender_t *self, const tc_notify_sub_t *sub,
                           const tc_delivery_t *d, const tc_notify_context_t *ctx, int64_t now_ms,
                           void *tag)
{
    s_xfer_t *x = calloc(1, sizeof *x);
    if (!x)
        return TC_ENOMEM;
    x->tag = tag;
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(x);
        return TC_ENOMEM;
    }
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)self->cfg->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)self->cfg->timeout_ms);
    bool mail = d->is_page ? d->pg.contact.type == TC_CONTACT_EMAIL : sub->type == TC_NOTIFY_EMAIL;
    int rc = mail ? s_setup_smtp(self, x, sub, d, ctx, now_ms) : s_setup_http(self, x, sub, d, ctx);
    if (rc == 0 && curl_multi_add_handle(self->multi, e) != CURLM_OK)
        rc = TC_EIO;
    if (rc != 0) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        s_xfer_free(self, x);
        return rc;
    }
    x->next = self->xfers;
    self->xfers = x;
    self->active++;
    return 0;
}

static void s_result(s_xfer_t *x, CURLcode code, tc_notify_result_t *r)
{
    memset(r, 0, sizeof *r);
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    r->code = status;
    if (x->smtp) {
        r->ok = code == CURLE_OK;
        r->permanent = !r->ok && status >= 500 && status < 600;
        if (r->ok)
            snprintf(r->detail, sizeof r->detail, "SMTP %ld", status ? status : 250L);
        else if (status)
            snprintf(r->detail, sizeof r->detail, "SMTP %ld: %.120s", status,
                     x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
        else
            snprintf(r->detail, sizeof r->detail, "%.150s",
                     x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
        return;
    }
    if (code != CURLE_OK) {
        snprintf(r->detail, sizeof r->detail, "%.150s",
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
        return;
    }
    r->ok = status >= 200 && status < 300;
    r->permanent = status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
    snprintf(r->detail, sizeof r->detail, "HTTP %ld", status);
}

int tc_notify_sender_run(tc_notify_sender_t *self, tc_notify_done_fn *done, void *arg)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(self->multi, &running);
    if (mc != CURLM_OK) {
        tc_error("libcurl: %s", curl_multi_strerror(mc));
        return TC_EIO;
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(self->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_xfer_t *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (!x)
            continue;
        tc_notify_result_t r;
        s_result(x, msg->data.result, &r);
        void *tag = x->tag;
        s_unlink(self, x);
        s_xfer_free(self, x);
        done(arg, tag, &r);
    }
    return 0;
}

void tc_notify_sender_drain(tc_notify_sender_t *self, int64_t ms, tc_notify_done_fn *done,
                            void *arg)
{
    int64_t deadline = tc_mono_ms() + ms;
    while (self->active > 0) {
        int64_t left = deadline - tc_mono_ms();
        if (left <= 0)
            break;
        if (tc_notify_sender_run(self, done, arg) != 0)
            break;
        if (self->active == 0)
            break;
        int numfds;
        curl_multi_poll(self->multi, NULL, 0, (int)(left < 50 ? left : 50), &numfds);
    }
}
