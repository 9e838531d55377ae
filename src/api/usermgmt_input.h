/*
 * usermgmt_input — the JSON request bodies of the user management API (reference §8),
 * read into the core's input records.
 *
 * Outside input: any byte string is accepted without crashing; a body that is not
 * JSON, has a member twice or nests deeper than the shapes allow is "Invalid JSON"
 * (609); a required field that is absent, null or "" is 701 "<field> cannot be
 * blank"; a field of the wrong type is 1003 naming the field. Members not listed
 * are ignored, as Marketo's API does. Every string returned is in the arena; the
 * core checks the values themselves (email syntax, lengths, dates, ids).
 */
#ifndef LK_API_USERMGMT_INPUT_H
#define LK_API_USERMGMT_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/user.h"
#include "util/arena.h"

#define LK_UM_BAD_JSON 609
#define LK_UM_BLANK 701
#define LK_UM_INVALID 1003

typedef struct lk_um_problem {
    int code;               /* LK_UM_BAD_JSON, LK_UM_BLANK or LK_UM_INVALID */
    char message[160];
} lk_um_problem;

/* invite.json: emailAddress, firstName, lastName, userRoleWorkspaces (required);
 * userid, apiOnly, expiresAt, reason (optional) */
bool lk_um_parse_invite(lk_arena *a, const char *body, size_t len, lk_user_input *out, lk_um_problem *p);

/* update.json: any of emailAddress, firstName, lastName, expiresAt (null or "":
 * never; the change record's "never"), apiOnly (*api_only: -1 absent, 0, 1) */
bool lk_um_parse_update(lk_arena *a, const char *body, size_t len, lk_user_change *out, int *api_only,
                        lk_um_problem *p);

/* roles/create.json and roles/delete.json: [{accessRoleId, workspaceId}, ...] or
 * {"input": [...]}; at least one pair */
bool lk_um_parse_grants(lk_arena *a, const char *body, size_t len, lk_grant_ref **out, size_t *n,
                        lk_um_problem *p);

#endif
