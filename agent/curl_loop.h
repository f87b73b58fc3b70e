/*
 * curl_loop.h - libcurl's multi interface driven by a zloop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to call it back (CURLMOPT_TIMERFUNCTION); this module turns those into
 * zloop pollers and one zloop timer, and hands each finished transfer to
 * its owner. Nothing polls: the loop sleeps until a socket is ready or
 * libcurl's next deadline. Name resolution is libcurl's (its threaded
 * resolver), so no transfer can block the loop.
 *
 * libcurl is initialised on the first tc_curl_loop_add(), so a process
 * that never makes a transfer never loads TLS state. Single-threaded: use
 * it from the loop's thread only.
 */
#ifndef TC_AGENT_CURL_LOOP_H
#define TC_AGENT_CURL_LOOP_H

#include <curl/curl.h>
#include <czmq.h>

typedef struct tc_curl_loop_t tc_curl_loop_t;

/* Called once when `easy`'s transfer has finished with `rc`; `easy` has
 * been removed from the multi handle and is the caller's again (to read
 * CURLINFO_* from and clean up). The callback may add transfers; it must
 * not destroy the curl loop. */
typedef void(tc_curl_done_fn)(CURL *easy, CURLcode rc, void *arg);

/* Creates a curl loop whose pollers and timer live in `loop` (borrowed;
 * must outlive it). Returns NULL if out of memory. Caller owns it. */
tc_curl_loop_t *tc_curl_loop_new(zloop_t *loop);

/* Removes every transfer still running (no callbacks; the easy handles stay
 * the callers') and frees libcurl's multi handle. Call it after the loop has
 * stopped for good. NULL-safe; nulls *pcl. */
void tc_curl_loop_destroy(tc_curl_loop_t **pcl);

/* Starts the transfer set up in `easy` (borrowed until its callback or
 * tc_curl_loop_remove()); `fn` gets `arg` when it ends. The easy handle's
 * CURLOPT_PRIVATE is ours while it runs. Returns 0, TC_ENOMEM, or TC_EIO
 * if libcurl cannot be initialised or refuses the handle. */
int tc_curl_loop_add(tc_curl_loop_t *cl, CURL *easy, tc_curl_done_fn *fn, void *arg);

/* Aborts a running transfer without calling its callback. No-op if `easy`
 * is not running here. */
void tc_curl_loop_remove(tc_curl_loop_t *cl, CURL *easy);

/* Transfers in progress. */
size_t tc_curl_loop_active(const tc_curl_loop_t *cl);

#endif
