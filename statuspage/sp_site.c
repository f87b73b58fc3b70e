/*
 * sp_site.c - what the site's renderers share, and writing the site into
 * its directory; see sp_site.h. The pages are in sp_html.c, the JSON in
 * sp_json.c, the feed in sp_atom.c, the scripts in sp_assets.c.
 */
#define _GNU_SOURCE
#include "sp_site_impl.h"

#include "error.h"
#include "human.h"
#include "utf8.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

bool tc_sp_stale(const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    int64_t contact = tc_sp_state_contact(state);
    return contact == 0 || page->now_ms - contact > page->stale_ms;
}

void tc_sp_escape(FILE *out, const char *s)
{
    if (!s)
        return;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tc_utf8_next(s + i, len - i, &cp);
        switch (cp) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        case '\t':
        case '\n': fputc((int)cp, out); break;
        default:
            /* Control characters and U+FFFE/U+FFFF are not allowed in XML
             * 1.0 and mean nothing to a reader. */
            if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xfffe || cp == 0xffff)
                break;
            if (cp == TC_UTF8_REPLACEMENT) {
                fputs("\xef\xbf\xbd", out);
                break;
            }
            fwrite(s + i, 1, n, out);
        }
        i += n;
    }
}

/* ---- shared helpers --------------------------------------------------------- */

const char *tc_sp__indicator_text(const char *ind)
{
    if (strcmp(ind, "critical") == 0)
        return "Major System Outage";
    if (strcmp(ind, "major") == 0)
        return "Partial System Outage";
    if (strcmp(ind, "minor") == 0)
        return "Minor Service Outage";
    if (strcmp(ind, "maintenance") == 0)
        return "Service Under Maintenance";
    return "All Systems Operational";
}

char *tc_sp__label(const char *state, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; state[i] && o + 1 < cap; i++) {
        char c = state[i];
        if (c == '_')
            c = ' ';
        else if (c < 'a' || c > 'z')
            continue;
        if (o == 0 && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        dst[o++] = c;
    }
    dst[o] = '\0';
    return dst;
}

const char *tc_sp__component_name(const tc_sp_state_t *state, const char *slug)
{
    const tc_sp_component_t *c = tc_sp_state_find_component(state, slug);
    return c && c->c.description[0] ? c->c.description : slug;
}

char *tc_sp__drill_name(bool drill, const char *title, char *dst, size_t cap)
{
    if (drill)
        snprintf(dst, cap, "[DRILL] %s", tc_human_undrill(title));
    else
        snprintf(dst, cap, "%s", title);
    return dst;
}

bool tc_sp__says_next_update(const char *body)
{
    for (const char *p = body; *p; p++)
        if (strncasecmp(p, "next update", 11) == 0)
            return true;
    return false;
}

char *tc_sp__sentence(const char *body, char *dst, size_t cap)
{
    char line[TC_BODY_MAX];
    tc_human_line(body, line, sizeof line);
    size_t end = strcspn(body, "\r\n");
    /* The first line break ends the sentence too: tc_human_line made it a
     * space, so measure on the original. */
    size_t n = 0, limit = cap > 201 ? 200 : cap - 1;
    for (; line[n] && n < end; n++) {
        if ((line[n] == '.' || line[n] == '!' || line[n] == '?') &&
            (line[n + 1] == ' ' || !line[n + 1])) {
            n++;
            break;
        }
    }
    if (n > limit) {
        n = limit;
        while (n > 0 && line[n] != ' ')
            n--;
        if (n == 0)
            n = limit;
        while (n > 0 && ((unsigned char)line[n] & 0xc0) == 0x80)
            n--;
        snprintf(dst, cap, "%.*s\xe2\x80\xa6", (int)n, line);
        return dst;
    }
    snprintf(dst, cap, "%.*s", (int)n, line);
    return dst;
}

bool tc_sp__maint_open(const tc_sp_maint_t *w)
{
    return w->announced && (w->w.state == TC_MAINT_SCHEDULED ||
                            w->w.state == TC_MAINT_IN_PROGRESS || w->w.state == TC_MAINT_VERIFYING);
}

bool tc_sp__maint_recent(const tc_sp_maint_t *w, int64_t now_ms)
{
    return w->announced && w->closed_ms &&
           (w->w.state == TC_MAINT_COMPLETED || w->w.state == TC_MAINT_CANCELLED) &&
           now_ms - w->closed_ms <= TC_SP_PAST_MAINT_MS;
}

char *tc_sp__maint_id(const tc_sp_maint_t *w, char *dst, size_t cap)
{
    snprintf(dst, cap, "m-%" PRIu64 "-%" PRIu32, w->w.id, w->w.occurrence);
    return dst;
}

const tc_update_t *tc_sp__latest(const tc_update_t *ups, size_t n)
{
    return n ? &ups[n - 1] : NULL;
}

static int s_impact_rank(const char *impact)
{
    return !strcmp(impact, "critical") ? 3
           : !strcmp(impact, "major")  ? 2
           : !strcmp(impact, "minor")  ? 1
                                       : 0;
}

const tc_sp_incident_t *tc_sp__lead_incident(const tc_sp_state_t *state)
{
    const tc_sp_incident_t *best = NULL;
    for (size_t i = 0; i < tc_sp_state_nincidents(state); i++) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        if (inc->drill || inc->resolved_ms)
            continue;
        if (!best || s_impact_rank(inc->impact) > s_impact_rank(best->impact) ||
            (s_impact_rank(inc->impact) == s_impact_rank(best->impact) &&
             inc->updated_ms >= best->updated_ms))
            best = inc;
    }
    return best;
}

const tc_sp_maint_t *tc_sp__lead_window(const tc_sp_state_t *state, bool in_progress_only)
{
    const tc_sp_maint_t *next = NULL;
    for (size_t i = 0; i < tc_sp_state_nmaints(state); i++) {
        const tc_sp_maint_t *w = tc_sp_state_maint(state, i);
        if (w->w.drill || !w->announced)
            continue;
        if (w->w.state == TC_MAINT_IN_PROGRESS)
            return w;
        if (!in_progress_only && w->w.state == TC_MAINT_SCHEDULED &&
            (!next || w->w.start_ms < next->w.start_ms))
            next = w;
    }
    return next;
}

void tc_sp__html_time(FILE *out, int64_t ms)
{
    char a[40], b[TC_HUMAN_MAX];
    fprintf(out, "<time datetime=\"%s\">%s</time>", tc_time_format(ms, a, sizeof a),
            tc_human_time(ms, b, sizeof b));
}

void tc_sp__html_time_near(FILE *out, int64_t ms, int64_t now_ms)
{
    char a[40], b[TC_HUMAN_MAX];
    fprintf(out, "<time datetime=\"%s\">%s</time>", tc_time_format(ms, a, sizeof a),
            tc_human_time_near(ms, now_ms, b, sizeof b));
}

void tc_sp__html_rel(FILE *out, int64_t ms, int64_t now_ms)
{
    char b[TC_HUMAN_MAX];
    fprintf(out, "<span class=\"rel\" data-t=\"%" PRId64 "\">%s</span>", ms,
            tc_human_relative(ms, now_ms, b, sizeof b));
}

/* ---- files ------------------------------------------------------------------ */

/* True if `path` holds exactly `len` bytes `data`: then rewriting it (and
 * its fsync) can be skipped, which is most files on most renders. */
static bool s_same(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len;
    char buf[8192];
    for (size_t off = 0; same && off < len;) {
        ssize_t n = read(fd, buf, len - off < sizeof buf ? len - off : sizeof buf);
        if (n <= 0 || memcmp(buf, (const char *)data + off, (size_t)n) != 0)
            same = false;
        else
            off += (size_t)n;
    }
    close(fd);
    return same;
}

int tc_sp_write_atomic(const char *dir, const char *rel, const void *data, size_t len)
{
    if (!rel[0] || rel[0] == '/' || strstr(rel, ".."))
        return TC_EINVAL;
    char path[4096], tmp[4096 + 32], parent[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return TC_EINVAL;
    if (s_same(path, data, len))
        return 0;
    const char *slash = strrchr(path, '/');
    size_t plen = (size_t)(slash - path);
    memcpy(parent, path, plen);
    parent[plen] = 0;
    if (tc_mkdir_p(parent) != 0)
        return TC_ESYS;
    /* Same directory, so rename() is atomic; a dot name, so a crash's
     * leftover is never served as a page. */
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", parent, slash + 1) >= sizeof tmp)
        return TC_EINVAL;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return TC_ESYS;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    /* The rename itself is durable only once the directory is synced. */
    int dfd = open(parent, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
fail:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return TC_ESYS;
}

/* Closes the memory stream `mem` that a renderer wrote (returning `rc`),
 * then writes its bytes to `rel`. */
static int s_flush(const char *dir, const char *rel, FILE *mem, char **buf, size_t *len, int rc)
{
    if (fclose(mem) != 0 && rc == 0)
        rc = TC_EIO;
    if (rc == 0)
        rc = tc_sp_write_atomic(dir, rel, *buf, *len);
    free(*buf);
    *buf = NULL;
    return rc;
}

typedef int(s_page_fn)(FILE *out, const tc_sp_state_t *state, const tc_sp_page_t *page);

static int s_page(const char *dir, const char *rel, s_page_fn *fn, const tc_sp_state_t *state,
                  const tc_sp_page_t *page)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return TC_ENOMEM;
    return s_flush(dir, rel, mem, &buf, &len, fn(mem, state, page));
}

typedef void(s_json_fn)(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page);

static void s_summary(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    tc_sp_render_json(j, state, page, true);
}

static void s_status(tc_json_t *j, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    tc_sp_render_json(j, state, page, false);
}

int tc_sp_site_write(const char *dir, const tc_sp_state_t *state, const tc_sp_page_t *page)
{
    int rc = s_page(dir, "index.html", tc_sp_render_index, state, page);
    for (size_t i = 0; rc == 0 && i < tc_sp_state_nincidents(state); i++) {
        const tc_sp_incident_t *inc = tc_sp_state_incident(state, i);
        char rel[64], *buf = NULL;
        size_t len = 0;
        snprintf(rel, sizeof rel, "incidents/%" PRIu64 ".html", inc->id);
        FILE *mem = open_memstream(&buf, &len);
        if (!mem)
            return TC_ENOMEM;
        rc = s_flush(dir, rel, mem, &buf, &len, tc_sp_render_incident(mem, state, inc, page));
    }
    if (rc == 0)
        rc = s_page(dir, "history.atom", tc_sp_render_atom, state, page);
    if (rc == 0)
        rc = s_page(dir, "outage.html", tc_sp_render_outage, state, page);
    if (rc == 0)
        rc = s_page(dir, "maintenance.html", tc_sp_render_maintenance, state, page);
    if (rc == 0)
        rc = tc_sp_write_atomic(dir, "embed/page.js", tc_sp_page_js, strlen(tc_sp_page_js));
    if (rc == 0)
        rc = tc_sp_write_atomic(dir, "embed/banner.js", tc_sp_banner_js, strlen(tc_sp_banner_js));
    static const struct {
        const char *rel;
        s_json_fn *fn;
    } docs[] = {{"api/v2/summary.json", s_summary},
                {"api/v2/status.json", s_status},
                {"api/v2/incidents.json", tc_sp_render_incidents},
                {"api/v2/banner.json", tc_sp_render_banner}};
    tc_json_t *j = rc == 0 ? tc_json_new() : NULL;
    if (rc == 0 && !j)
        rc = TC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < sizeof docs / sizeof *docs; i++) {
        docs[i].fn(j, state, page);
        rc = tc_json_error(j);
        if (rc == 0)
            rc = tc_sp_write_atomic(dir, docs[i].rel, tc_json_data(j), tc_json_len(j));
    }
    tc_json_destroy(&j);
    return rc;
}
