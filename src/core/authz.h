/*
 * authz — who may grant and change what: the one rule every front end that acts for
 * an authenticated caller goes through (the console, the user management API), and
 * the one answer to "does P hold permission X in workspace W" (docs/security.md).
 * The CLI, run by whoever owns the database, has no caller (op->caller NULL) and may
 * do everything; every check below then says yes.
 *
 * Holdings:
 *  - A console person holds exactly the (permission, workspace) pairs of their roles.
 *    The system role Admin (granted in AllZones only) makes a superuser, who holds
 *    every permission of the catalog, Access API ones included, in every workspace.
 *  - A token caller holds only what applies to tokens: the Access API permissions of
 *    its roles, plus Access Users (the one Access Admin key the user management API
 *    uses) -- never the superuser rule, even when its API-only user holds Admin.
 *  - A pair in AllZones (workspace 0) covers every workspace.
 *
 * Rules kept here, whoever calls:
 *  - No one grants what they do not hold: giving role R in workspace W needs every
 *    permission of R in W. Creating, changing or deleting a role needs every
 *    permission it has before and after, in each workspace where someone holds the
 *    role (in some workspace when nobody does): a role edit changes its holders.
 *  - No one acts on someone more powerful: acting on user T (change, lock, unlock,
 *    delete, reset the password, resend or delete the invitation, change the roles,
 *    and creating, rotating, getting a token for or deleting a service T owns) needs
 *    T's holdings -- counted as a person's, whatever T is -- to be a subset of the
 *    caller's.
 *  - No one raises or extends themselves: nobody changes their own roles, access
 *    expiry or lock state.
 *
 * A refusal returns LK_EDENIED with a message that names what is missing ("Access
 * denied: you do not hold 'Access Roles' in workspace 'Default' ...") and leaves an
 * audit event of area "Denied" (action: what was attempted; target; details: the
 * message and what was missing). That event survives the refusal: lk_tx_end records
 * it in a transaction of its own once the refused change has rolled back, or the
 * check records it at once when no transaction is open.
 */
#ifndef LK_CORE_AUTHZ_H
#define LK_CORE_AUTHZ_H

#include "core/op.h"

#define LK_WORKSPACE_ANY (-1)     /* lk_holds(): in some workspace, whichever */

typedef struct lk_holding {
    const char *perm;             /* permission name */
    lk_perm_group group;
    int64_t workspace_id;
    const char *workspace;        /* its name */
} lk_holding;

typedef struct lk_holdings {
    lk_holding *items;            /* arena; a superuser's: every permission in AllZones */
    size_t n;
    bool superuser;
} lk_holdings;

/* Can a caller of this kind hold permission p at all? A person any; a token only
 * Access API permissions and Access Users. The server's catalog builds its token
 * bitsets with this rule. */
bool lk_authz_applies(lk_caller_kind kind, lk_perm_group group, const char *perm);

/* The holdings of user u as a caller of this kind (grants read from u, roles and the
 * permission catalog from the store), in the op's arena. */
lk_code lk_holdings_of(lk_op *op, const lk_user *u, lk_caller_kind kind, lk_holdings *out);

/* THE question: does h hold permission perm (case-insensitive name) in workspace ws?
 * ws LK_WORKSPACE_ANY: in some workspace. */
bool lk_holds(const lk_holdings *h, const char *perm, int64_t ws);

/* The names of the permissions of group g that h holds in some workspace, each once,
 * in the catalog's order (arena); *n their count. */
const char **lk_holdings_names(lk_op *op, const lk_holdings *h, lk_perm_group g, size_t *n);

/* The caller's holdings (read once per transaction). LK_OK with *out NULL when the op
 * has no caller. */
lk_code lk_authz_caller(lk_op *op, const lk_holdings **out);

/* ---- the checks: LK_OK without a caller; LK_EDENIED (recorded) or a store error --- */

/* The caller holds perm, or alt (may be NULL), in some workspace: a console page's
 * Access Admin key. attempt names the call for the Denied event. */
lk_code lk_authz_require(lk_op *op, const char *attempt, const char *perm, const char *alt);

/* The caller may give role r in workspace (ws_id, ws_name) to target (an email, for
 * the record). */
lk_code lk_authz_grant(lk_op *op, const char *attempt, const char *target, const lk_role *r, int64_t ws_id,
                       const char *ws_name);

/* The caller may act on user t: t's holdings are a subset of the caller's. */
lk_code lk_authz_act_on(lk_op *op, const char *attempt, const lk_user *t);

/* t is not the caller: nobody changes their own `what` ("roles", "access expiry",
 * "lock state"). */
lk_code lk_authz_not_self(lk_op *op, const char *attempt, const lk_user *t, const char *what);

/* The caller holds every permission of role r as it is (r->perms; NULL for a role
 * being created) and as it will be (after, n_after), in each workspace where
 * someone holds r. */
lk_code lk_authz_role(lk_op *op, const char *attempt, const char *role_name, const lk_role *r,
                      const lk_permission *after, size_t n_after);

#endif
