/*
 * drill.c - `tocsinctl drill`: a synthetic incident walked through the whole
 * plan by the roster's people, marked as a drill everywhere.
 */
#include "coord_impl.h"

#include "api.h"
#include "drafts.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One step of a drill: an action by `actor` on incident `id`, stored and
 * applied at once so that the next step is checked against its result. */
static int s_drill_step(tc_coord_t *c, const char *actor, uint64_t id, const char *action,
                        const char *const *args, size_t nargs, const tc_update_t *u,
                        const char *message)
{
    char why[TC_TEXT_MAX];
    bool queued;
    int rc = tc_coord__queue_action(c, actor, id, action, args, nargs, u, message, &queued, why,
                                    sizeof why);
    if (rc == 0 && !queued) {
        tc_warn("drill of incident %llu: step %s %s skipped: %s", (unsigned long long)id, action,
                nargs ? args[0] : "", why);
        return 0;
    }
    return rc ? rc : tc_coord__flush(c);
}

/* Drafts (and for external ones approves and publishes) an update of the
 * drill incident from its template. */
static int s_drill_update(tc_coord_t *c, const char *actor, uint64_t id, bool external,
                          const char *state)
{
    tc_api_request_t *q = calloc(1, sizeof *q);
    tc_update_t *u = malloc(sizeof *u);
    int rc = TC_ENOMEM;
    if (!q || !u)
        goto out;
    q->version = 1;
    const char *args[] = {"", "draft", external ? "external" : "internal", "outage", state, "",
                          "", ""};
    for (size_t i = 0; i < 8; i++)
        snprintf(q->args[q->nargs++], TC_API_ARG_MAX, "%s", args[i]);
    char why[TC_TEXT_MAX];
    if ((rc = tc_draft_update(c->state, &c->cfg.policy, c->templates, tc_coord__now(c), id, q, u,
                              why, sizeof why)) != 0) {
        tc_warn("drill of incident %llu: %s", (unsigned long long)id, why);
        rc = 0;
        goto out;
    }
    const char *draft[] = {"draft"};
    if ((rc = s_drill_step(c, actor, id, "update", draft, 1, u, NULL)) != 0 || !external)
        goto out;
    const tc_incident_t *inc = tc_state_incident(c->state, id);
    if (!inc || !inc->pending_update)
        goto out; /* published at once (auto-publish for this severity) */
    char n[16];
    snprintf(n, sizeof n, "%u", inc->pending_update);
    const char *approve[] = {"approve", n}, *publish[] = {"publish", n};
    /* tocsin approves in the drill: the IC may be asleep; the page they
     * got says DRILL. */
    if ((rc = s_drill_step(c, "tocsin", id, "update", approve, 2, NULL, NULL)) == 0)
        rc = s_drill_step(c, actor, id, "update", publish, 2, NULL, NULL);
out:
    free(q);
    free(u);
    return rc;
}

/* `drill [SERVICE [SEVERITY]]`: a synthetic incident through the whole
 * plan — declared, roles paged from on-call, external and internal updates
 * drafted from templates, approved and published to every channel, then
 * resolved and announced. Every step is in the log like a real one, marked
 * DRILL. Notifiers report their deliveries to the incident's timeline,
 * which `tocsinctl drill` turns into its report. */
int tc_coord__api_drill(tc_coord_t *c, const tc_key_t *key, const tc_api_request_t *q,
                        tc_api_reply_t *reply)
{
    const char *service = q->nargs >= 1 && q->args[0][0] ? q->args[0] : "drill";
    const char *sev = q->nargs >= 2 && q->args[1][0] ? q->args[1] : "2";
    const char *actor = key ? key->name : "plaintext";
    uint64_t id = tc_state_next_incident_id(c->state);
    const char *args[] = {service, sev};
    tc_operator_action_t probe = {0};
    snprintf(probe.action, sizeof probe.action, "drill");
    snprintf(probe.args[0], TC_ID_MAX, "%.63s", service);
    snprintf(probe.args[1], TC_ID_MAX, "%.63s", sev);
    probe.nargs = 2;
    char why[TC_TEXT_MAX];
    if (strlen(q->message) >= TC_TEXT_MAX) {
        tc_api_reply_fail(reply, "the text is %zu bytes; drill takes at most %d bytes of UTF-8",
                          strlen(q->message), TC_TEXT_MAX - 1);
        return 0;
    }
    if (strlen(service) >= TC_ID_MAX ||
        tc_state_check(c->state, &probe, tc_coord__now(c), why, sizeof why) != 0) {
        tc_api_reply_fail(reply, "%s",
                          strlen(service) >= TC_ID_MAX ? "service name too long" : why);
        return 0;
    }
    int rc = s_drill_step(c, actor, 0, "drill", args, 2, NULL, q->message);
    if (rc == 0)
        rc = s_drill_update(c, actor, id, true, "investigating");
    if (rc == 0)
        rc = s_drill_update(c, actor, id, false, "investigating");
    const char *none[] = {NULL};
    if (rc == 0)
        rc = s_drill_step(c, actor, id, "resolve", none, 0, NULL, "drill complete");
    if (rc == 0)
        rc = s_drill_update(c, actor, id, true, "resolved");
    if (rc)
        return rc;
    const tc_incident_t *inc = tc_state_incident(c->state, id);
    return inc ? tc_api_reply_add_incident(reply, inc) : 0;
}
