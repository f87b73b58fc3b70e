/*
 * contacts.h - how people are paged: each person's contact methods and the
 * paging rules by urgency, from the coordinator's roster.
 *
 *   people:
 *     alice:
 *       name: Alice Liddell
 *       contact:
 *         - {type: email, to: alice@example.com}
 *         - {type: ntfy, url: "https://ntfy.example.com/alice-pages", token: tk_...}
 *         - {type: slack, url: "https://chat.example.com/hooks/T000"}
 *         - {type: webhook, url: "https://hooks.example.com/pager"}
 *   paging:
 *     high_urgency: [1, 2, 3]   # every method at once, repeated until acknowledged
 *     low_urgency: [4]          # e-mail once
 *     repeat_every: 5m          # 0s: no repeats
 *
 * The roster loader (oncall.c) reads the rest of the file and hands each
 * person's `contact` list and the `paging` section to this module, which
 * validates them with the file and line of every problem, like the rest
 * of the configuration. A person's `email:` counts as an e-mail contact
 * when the list has none.
 *
 * Notifiers learn the contacts from the coordinator (API `contacts`) and
 * keep their own copy; the paging rules are part of the recorded policy,
 * because the state machine derives urgencies and repeats from them.
 *
 * A loaded set is never modified: any number of threads may read it.
 */
#ifndef TC_CONTACTS_H
#define TC_CONTACTS_H

#include "policy.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

typedef struct tc_contacts tc_contacts_t;

/* An empty set with the default paging rules (SEV-1..3 high, SEV-4 low,
 * repeats every 5 minutes). Caller owns it; NULL on allocation failure. */
tc_contacts_t *tc_contacts_new(void);

/* NULL-safe; nulls *pself. */
void tc_contacts_destroy(tc_contacts_t **pself);

/* Reads person `person`'s contact list, node `list` of `doc` (from file
 * `file`, at key path `path` such as "people.alice.contact"). Returns 0,
 * TC_ECONFIG with "FILE:LINE: path[i].key: reason" in `err`, or TC_ENOMEM.
 * A person's list may be given once. */
int tc_contacts_parse_person(tc_contacts_t *self, yaml_document_t *doc, yaml_node_t *list,
                             const char *file, const char *path, const char *person, char *err,
                             size_t errlen);

/* Reads the `paging` section, node `map` of `doc`. Returns 0, TC_ECONFIG
 * with "FILE:LINE: paging.key: reason" in `err`, or TC_ENOMEM. */
int tc_contacts_parse_paging(tc_contacts_t *self, yaml_document_t *doc, yaml_node_t *map,
                             const char *file, char *err, size_t errlen);

/* Person `person`'s contact methods into *out (id and contacts; the
 * caller fills in the name), with `email` (may be NULL or "") as an e-mail
 * contact when the list has none. Returns true if the person has any. */
bool tc_contacts_person(const tc_contacts_t *self, const char *person, const char *email,
                        tc_person_t *out);

/* Puts the paging rules into the policy the state machine uses. */
void tc_contacts_apply_policy(const tc_contacts_t *self, tc_policy_t *policy);

#endif
