/*
 * sp_store.h - the status page's state on disk, in an LMDB environment
 * opened through common/lmdb_env.h.
 *
 * The page must keep working from its own copy when the coordinator is
 * down, and must resume after its own restart with neither a gap nor a
 * duplicate. So each broadcast is applied to the state and written, with
 * the cursor (the last broadcast sequence applied) and the last contact
 * time, in one LMDB transaction: after a crash either both or neither are
 * on disk, and catch-up restarts at cursor + 1.
 *
 * Databases (keys are big-endian so LMDB's order is numeric order):
 *   meta        "format" u32, "cursor" u64, "contact" i64
 *   components  name -> be64 created_ms + Envelope(Broadcast COMPONENT)
 *   positions   name -> be32 position (configuration order; absent: none)
 *   history     name NUL be64 ms -> 1 byte status (one row per change of
 *               the shown status)
 *   updates     be64 incident, be64 window, be32 number -> Envelope(Broadcast)
 *   resolved    be64 incident -> be64 resolved_ms
 *   maints      be64 window, be32 occurrence -> Envelope(Broadcast
 *               MAINTENANCE); stores written before occurrences were kept
 *               apart have be64 window keys, which still load
 * Records are the coordinator's own wire encoding, so the store reads back
 * across versions as the protocol does.
 *
 * The map grows as needed. A write that fails (a full disk, named as such
 * by tc_sp_store_why()) changes nothing on disk; the environment is
 * reopened before the next write, since LMDB may refuse every transaction
 * after a failed commit.
 *
 * A store is used from the thread that opened it. The directory is locked
 * against a second process.
 */
#ifndef TC_SP_STORE_H
#define TC_SP_STORE_H

#include "msg.h"
#include "sp_state.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tc_sp_store tc_sp_store_t;

/* Opens (creating if needed, with parents) the store in directory `dir`.
 * On success returns 0 and sets *out (caller owns; tc_sp_store_destroy).
 * Errors, with a one-line reason naming the directory in `why` (may be
 * NULL): TC_ECONFIG (another process holds the directory, or it was written
 * by an incompatible format version), TC_ESYS, TC_EDISKFULL, TC_EIO,
 * TC_ENOMEM. */
int tc_sp_store_open(const char *dir, tc_sp_store_t **out, char *why, size_t whylen);

/* Closes the store and releases the lock; NULL-safe; nulls *pself. */
void tc_sp_store_destroy(tc_sp_store_t **pself);

/* Why the last failed call failed, one line naming the directory ("" after
 * a success). Borrowed; valid until the next call. */
const char *tc_sp_store_why(const tc_sp_store_t *self);

/* Fills the empty `state` from disk: cursor, contact, components with
 * their positions and history, windows, external updates and resolutions.
 * Returns 0, TC_EIO, TC_EDECODE (a damaged record) or TC_ENOMEM. */
int tc_sp_store_load(tc_sp_store_t *self, tc_sp_state_t *state);

/* Applies broadcast `m` (borrowed; seq > 0) to `state`, and in one
 * transaction writes what changed, the cursor m->seq and the contact time
 * `contact_ms`. Sets *changed if the page's content changed. Returns 0,
 * TC_EDISKFULL, TC_EIO, TC_EFULL or TC_ENOMEM; after an error `state` may
 * be ahead of the disk: the caller must load a fresh state before going
 * on. */
int tc_sp_store_apply(tc_sp_store_t *self, tc_sp_state_t *state, const tc_msg_t *m,
                      int64_t contact_ms, bool *changed);

/* Merges the API's component list `cs` (`n` items, borrowed, in the
 * coordinator's order) as tc_sp_state_merge_component() does, giving each
 * its place in the list as position, in one transaction with the contact
 * time. Same results as tc_sp_store_apply(). */
int tc_sp_store_merge_components(tc_sp_store_t *self, tc_sp_state_t *state,
                                 const tc_component_t *cs, size_t n, int64_t now_ms, bool *changed);

/* Writes the contact time alone (heartbeats). Returns 0, TC_EDISKFULL,
 * TC_EIO or TC_EFULL. */
int tc_sp_store_save_contact(tc_sp_store_t *self, int64_t contact_ms);

#endif
