/*
 * sp_http.h - a read-only HTTP server for the rendered status site.
 *
 * libmicrohttpd serves the files of one directory: GET and HEAD (and
 * OPTIONS, for CORS preflights of api/ and embed/) only, /metrics from
 * the text the main loop hands it (tc_sp_http_set_metrics), "/"
 * is index.html, no "..", no hidden names (the renderer's temporary files
 * start with a dot), regular files only, with the right Content-Type. The
 * server runs on libmicrohttpd's own thread; it shares nothing with the
 * main loop but the directory, whose files are replaced by atomic renames,
 * so a reader always gets a whole old or a whole new file.
 */
#ifndef TC_SP_HTTP_H
#define TC_SP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tc_sp_http tc_sp_http_t;

/* Checks that `s` is "IPV4:PORT" or "[IPV6]:PORT" with a numeric address
 * (no host names: the server binds exactly the address given). Returns 0
 * or TC_EINVAL. */
int tc_sp_http_addr_valid(const char *s);

/* Maps a request path ("/", "/api/v2/summary.json") to the file to serve,
 * relative to the site directory, into `rel` (size `cap`). Returns false
 * for a path that must not be served (traversal, hidden or absolute names,
 * NUL or backslash). */
bool tc_sp_http_map(const char *url, char *rel, size_t cap);

/* The Content-Type for a file name, by extension. Static text. */
const char *tc_sp_http_content_type(const char *rel);

/* The Cache-Control for a file: "no-cache" for pages and their JSON,
 * "public, max-age=15" for api/v2/banner.json (read by every page view of
 * a product), "public, max-age=300" for embed/ scripts. Static text. */
const char *tc_sp_http_cache_control(const char *rel);

/* True for files other sites may read (CORS: Access-Control-Allow-Origin
 * *): everything under api/ and embed/. */
bool tc_sp_http_cors(const char *rel);

/* Starts serving directory `root` (copied) on `addr` (tc_sp_http_addr_valid).
 * On success returns 0, sets *out (caller owns; tc_sp_http_destroy) and
 * writes the URL of the site ("http://127.0.0.1:7404/") into `url` (size
 * `cap`). Returns TC_EINVAL for a bad address, TC_ESYS if the directory
 * cannot be opened or the socket cannot be bound, TC_ENOMEM. */
int tc_sp_http_start(const char *addr, const char *root, tc_sp_http_t **out, char *url, size_t cap);

/* Replaces the text GET /metrics answers with (copied; the server adds its
 * own request counts). Any thread; the server's thread reads it under a
 * lock. */
void tc_sp_http_set_metrics(tc_sp_http_t *self, const char *text, size_t len);

/* Stops the server (waiting for its thread) and frees it; NULL-safe; nulls
 * *pself. */
void tc_sp_http_destroy(tc_sp_http_t **pself);

#endif
