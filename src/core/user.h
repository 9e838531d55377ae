/*
 * user — people and API-only users, their (role, workspace) grants and status.
 *
 * Rules kept here, whoever calls: emails valid and unique (case-insensitive); names
 * 1..255 characters of UTF-8 without control characters; reason <= 1000; expiry in
 * the future when set; at least one grant; an API-only user holds at least one role
 * with an Access API permission, is active at once and has no password nor
 * invitation; anyone else starts pending with an invitation, emailed (core/mailq.h);
 * when someone becomes or stops being an Admin the other Admins are told; past its expiry a user
 * counts as locked ("access expired"); a user who owns services cannot be deleted;
 * the last active Admin cannot be deleted, locked or lose the Admin role; an email
 * change of someone who can sign in (not API-only) is told to the old address.
 * With a caller (op->caller), core/authz.h's rules apply on top: grants only of roles
 * the caller holds, changes only to users no more powerful than the caller, never to
 * the caller's own roles, access expiry or lock state.
 */
#ifndef LK_CORE_USER_H
#define LK_CORE_USER_H

#include "core/op.h"

#define LK_INVITE_TTL_DEFAULT (7 * 24 * 3600)
#define LK_INVITE_TOKEN_LEN 43  /* base64url of 32 random bytes */

/* a grant named by the caller: role name (or, when NULL, role_id), workspace name
 * or id (NULL: AllZones) */
typedef struct lk_grant_ref {
    const char *role;
    const char *workspace;
    int64_t role_id;
} lk_grant_ref;

/* which users a call may act on */
typedef enum lk_user_scope {
    LK_SCOPE_ANY = 0,           /* the CLI: whoever the key names */
    LK_SCOPE_ACCEPTED,          /* active or locked users (user management API) */
    LK_SCOPE_PENDING,           /* invited users who have not accepted (invite endpoints) */
} lk_user_scope;

typedef struct lk_user_input {
    const char *email;
    const char *userid;         /* NULL: the email */
    const char *first_name;
    const char *last_name;
    const char *reason;         /* NULL: none */
    const char *expires;        /* ISO-8601 (see util/timefmt.h); NULL: never */
    bool api_only;
    const lk_grant_ref *grants;
    size_t n_grants;
    const char *message;        /* invitation message; NULL: the default */
    int64_t invite_ttl;         /* seconds; 0: LK_INVITE_TTL_DEFAULT */
    const char *lang;           /* language of the person's mail ("en", "de"); NULL: the server's */
} lk_user_input;

/* result of an invitation: the single-use token, shown once, and its expiry */
typedef struct lk_invite_token {
    char token[LK_INVITE_TOKEN_LEN + 1];  /* "" when no invitation was made */
    int64_t expires_at;
} lk_invite_token;

typedef struct lk_user_change {
    const char *email;          /* NULL: keep */
    const char *userid;         /* NULL: keep, or follow a new email when it was the email */
    const char *first_name;
    const char *last_name;
    const char *reason;         /* "" clears */
    const char *expires;        /* "never" clears; NULL keeps */
    const lk_grant_ref *add;
    size_t n_add;
    const lk_grant_ref *remove;
    size_t n_remove;
    bool set_grants;            /* the user's grants become exactly `set` (add/remove unused) */
    const lk_grant_ref *set;
    size_t n_set;
} lk_user_change;

/* status as it counts now: an expired user is locked with reason "access expired";
 * reason may be NULL */
lk_user_status lk_user_effective_status(const lk_user *u, int64_t now, const char **reason);
const char *lk_user_status_name(lk_user_status s); /* "pending", "active", "locked" */

lk_code lk_user_invite(lk_op *op, const lk_user_input *in, lk_user *out, lk_invite_token *invite);
/* users in id order as f selects them (store.h "Lists"): give f a limit */
lk_code lk_user_list_page(lk_op *op, const lk_user_filter *f, lk_user **out, size_t *n);
/* how many users f selects (cursor, offset and limit aside), counting at most cap (0: all) */
lk_code lk_user_count(lk_op *op, const lk_user_filter *f, int64_t cap, int64_t *n);
/* by email or user id, case-insensitive */
lk_code lk_user_find(lk_op *op, const char *key, lk_user *out);
/* active or locked users only; pending ones change through their invitation */
lk_code lk_user_update(lk_op *op, const char *key, const lk_user_change *change, lk_user *out);
/* reason NULL or "": "locked by an administrator" */
lk_code lk_user_lock(lk_op *op, const char *key, const char *reason, lk_user *out);
/* needs a new expiry ("never" or a future instant) when the old one has passed */
lk_code lk_user_unlock(lk_op *op, const char *key, const char *expires, lk_user *out);
/* refuses while the user owns services (naming them) or is the last active Admin */
lk_code lk_user_delete(lk_op *op, const char *key);
/* the same, for users of the scope only (others: LK_ERULE naming the right call) */
lk_code lk_user_delete_scoped(lk_op *op, const char *key, lk_user_scope scope);
/* A new invitation for a pending user (the earlier link stops working) and its
 * email; message NULL keeps the previous one's, ttl 0 is the default. LK_ERULE for
 * a user who is not pending. */
lk_code lk_user_resend_invitation(lk_op *op, const char *key, const char *message, int64_t ttl,
                                  lk_invitation *out);
/* the newest invitation of a pending user */
lk_code lk_user_invitation(lk_op *op, const char *key, lk_invitation *out);

/*
 * Creates an active console user holding Admin in AllZones, with a one-time
 * password (20 alphanumeric characters, written to password, Argon2id-hashed in
 * the store) that must be changed at first sign-in.
 */
#define LK_ONETIME_PASSWORD_LEN 20
lk_code lk_admin_create(lk_op *op, const char *email, const char *first, const char *last,
                        lk_user *out, char password[LK_ONETIME_PASSWORD_LEN + 1]);

/* The same with a password the person chose (the caller checked it against the
 * password rules, core/session.h); no change is forced at first sign-in. */
lk_code lk_admin_create_password(lk_op *op, const char *email, const char *first, const char *last,
                                 const char *password, lk_user *out);
/* is there an active Admin who can sign in (not API-only, not locked or expired)? */
lk_code lk_admin_exists(lk_op *op, bool *exists);
/* is there any administrator at all: a person (not API-only) holding Admin, whatever
 * their status (pending, locked, expired included)? */
lk_code lk_admin_any(lk_op *op, bool *any);

/* true if the user holds the Admin role */
bool lk_user_is_admin(const lk_user *u);

#endif
