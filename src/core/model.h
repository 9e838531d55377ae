/*
 * model — the records of latchkey's domain (PRODUCT.md §1), as plain data.
 *
 * Shared by the core and the storage interface. Every string and array inside a
 * record returned by a core or store call lives in the caller's arena. Times are
 * seconds since the Unix epoch (UTC); 0 means "not set" for optional instants.
 */
#ifndef LK_CORE_MODEL_H
#define LK_CORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_WORKSPACE_ALLZONES 0  /* global scope, "AllZones" */
#define LK_WORKSPACE_DEFAULT 1   /* "Default", exists from the start */
#define LK_ROLE_ADMIN 1          /* the built-in system role "Admin" */

#define LK_NAME_MAX 255          /* characters: names of people, roles, services, ... */
#define LK_TEXT_MAX 1000         /* characters: reasons, descriptions */
#define LK_SECRET_LEN 32         /* client secret: alphanumeric characters */
#define LK_HASH_HEX 65           /* hex of a 32-byte hash, with NUL */
#define LK_HASH_BYTES 32         /* the same hash, raw */
#define LK_UUID_LEN 36

typedef struct lk_workspace {
    int64_t id;
    const char *name;
    const char *description;     /* "" when none */
    int64_t created_at, updated_at;
} lk_workspace;

typedef enum lk_perm_group {
    LK_GROUP_ADMIN = 0,          /* "Access Admin": console and admin API */
    LK_GROUP_API = 1,            /* "Access API": REST calls made with tokens */
} lk_perm_group;

typedef struct lk_permission {
    int64_t id;
    const char *name;
    const char *description;
    lk_perm_group group;
    bool builtin;                /* built-ins cannot be removed */
} lk_permission;

typedef struct lk_role {
    int64_t id;
    const char *name;
    const char *description;
    bool system;                 /* "system" (Admin) or "custom" */
    bool only_all_zones;         /* may be granted in workspace 0 only */
    int64_t created_at, updated_at;
    lk_permission *perms;        /* sorted by group, then name */
    size_t n_perms;
} lk_role;

/* one (role, workspace) pair held by a user */
typedef struct lk_grant {
    int64_t role_id;
    const char *role_name;
    int64_t workspace_id;
    const char *workspace_name;
} lk_grant;

typedef enum lk_user_status {
    LK_STATUS_PENDING = 0,       /* invited, not accepted */
    LK_STATUS_ACTIVE = 1,
    LK_STATUS_LOCKED = 2,
} lk_user_status;

typedef struct lk_user {
    int64_t id;
    const char *email;
    const char *userid;          /* login id; defaults to the email */
    const char *first_name;
    const char *last_name;
    const char *reason;          /* "" when none */
    int64_t expires_at;          /* 0: never */
    bool api_only;
    lk_user_status status;       /* as stored; see lk_user_effective_status() */
    const char *lock_reason;     /* "" unless locked */
    const char *password_hash;   /* Argon2id string, NULL when none (API-only, pending) */
    int failed_logins;           /* failed sign-ins in a row */
    int64_t last_login_at;       /* 0: never */
    bool must_change_password;   /* a one-time password: replace it at the next sign-in */
    const char *lang;            /* language of the mail this person gets ("en", "de"); "": the default */
    int64_t created_at, updated_at;
    lk_grant *grants;            /* sorted by role name, then workspace id */
    size_t n_grants;
} lk_user;

/* a console sign-in session; the token itself is never stored */
typedef struct lk_session {
    int64_t id;
    const char *token_hash;      /* hex BLAKE2b-256 of the cookie value */
    int64_t user_id;
    const char *address;
    int64_t created_at;
    int64_t last_seen_at;        /* for the idle timeout */
    int64_t expires_at;          /* absolute end */
} lk_session;

/* one sign-in attempt */
typedef struct lk_login_rec {
    int64_t id;
    int64_t at;
    const char *email;           /* as given */
    int64_t user_id;             /* 0: no such user */
    const char *address;
    bool success;
    const char *reason;          /* "", "wrong password", "locked", "API-only user", ... */
} lk_login_rec;

typedef struct lk_invitation {
    int64_t id;
    int64_t user_id;
    const char *token_hash;      /* hex; the token itself is never stored */
    const char *message;
    int64_t created_at;
    int64_t expires_at;
    int64_t accepted_at;         /* 0: not yet */
} lk_invitation;

typedef struct lk_service {
    int64_t id;
    const char *name;            /* display name, unique case-insensitively */
    const char *description;
    int64_t user_id;             /* owner: an API-only user */
    const char *user_email;      /* filled by reads, for display */
    const char *client_id;       /* UUID v4 */
    const char *secret_hash;     /* hex of the current secret's hash */
    const char *old_secret_hash; /* NULL unless a rotation grace period runs */
    int64_t old_secret_expires_at;
    int64_t tokens_valid_after;  /* when its tokens were last all revoked (0: never); setting it
                                  * moves token_epoch */
    int64_t token_epoch;         /* the service's tokens work while they carry this number; moved by
                                  * the store (rotation, owner locked), never written by an update */
    int64_t created_at, updated_at;
} lk_service;

typedef struct lk_audit_event {
    int64_t id;
    int64_t at;
    const char *actor;           /* "cli:root", "api:user@x/service", "user:a@x", "system" */
    const char *address;         /* "" when not over the network */
    const char *area;            /* "User", "Role", "Service", "Workspace", "Permission" */
    const char *action;          /* "Create", "Edit", "Delete", "Lock", ... */
    const char *target;          /* what was acted on, by name */
    const char *details;         /* JSON object text: a snapshot of the change, no secrets */
} lk_audit_event;

/* limits of one scope (the instance, or one API user); 0 = no limit of that kind */
typedef struct lk_limits {
    int64_t rate_calls;          /* calls ... */
    int64_t rate_seconds;        /* ... per this many seconds (606) */
    int64_t daily;               /* calls per day in the quota time zone (607) */
    int64_t concurrent;          /* calls in flight (615) */
} lk_limits;

typedef struct lk_user_limits {
    int64_t user_id;
    const char *user_email;      /* filled by reads */
    lk_limits limits;
    int64_t updated_at;
} lk_user_limits;

/* a route of the gateway's table (migration 0008, core/gwroute.h): what a call to an
 * upstream API with this method and path needs */
typedef struct lk_gw_route {
    int64_t id;
    const char *method;          /* "GET", "POST", ... or "*" for any */
    const char *pattern;         /* core/gwpath.h */
    const char **permissions;    /* the caller needs any one of them; none: any valid token */
    size_t n_permissions;
    bool plain;                  /* refusals as plain HTTP statuses, not Marketo's envelope */
    int64_t created_at;
} lk_gw_route;

/* one revoked access token (RFC 7009), kept until the token would expire */
typedef struct lk_revocation {
    int64_t id;
    const char *token_id;        /* hex of the random id inside the token (core/token.h); not a secret */
    int64_t service_id;
    int64_t expires_at;          /* the token's own expiry: the row is useless after it */
    int64_t revoked_at;
} lk_revocation;

/* what a row of the change feed names (migration 0005): the server re-reads that */
typedef enum lk_change_kind {
    LK_CHANGE_USER,              /* an API-only user: its row, grants and own limits */
    LK_CHANGE_SERVICE,
    LK_CHANGE_ROLE,              /* a role's permissions */
    LK_CHANGE_PERMISSION,        /* the permission names */
    LK_CHANGE_SETTINGS,          /* instance limits, allowlist switch */
    LK_CHANGE_ALLOWLIST,
    LK_CHANGE_REVOCATION,        /* one token revocation, by its row id */
    LK_CHANGE_KEYS,              /* the token key file was rotated */
    LK_CHANGE_OTHER,             /* a kind this binary does not know: ignored */
} lk_change_kind;

typedef struct lk_change {
    int64_t seq;                 /* grows with every row */
    lk_change_kind kind;
    int64_t id;                  /* of the user, service, role, permission, revocation; 0 otherwise */
    int64_t at;
} lk_change;

/* calls of one API user on one day (day: "YYYY-MM-DD" in the quota time zone) */
typedef struct lk_usage_rec {
    const char *day;
    int64_t user_id;
    const char *user_email;
    int64_t count;
} lk_usage_rec;

/* one process's count of a limited scope (store: limit_counts, migration 0009) */
typedef struct lk_limit_count {
    const char *scope;           /* "i" the instance, "u<id>" an API user, "" the process */
    char kind;                   /* 'r' calls in second bucket, 'd' on day bucket, 'c' in flight,
                                  * 't' failed authentications of a throttle key in window bucket */
    int64_t bucket;
    int64_t n;
} lk_limit_count;

/* errors of one Marketo code on one day */
typedef struct lk_error_rec {
    const char *day;
    const char *code;            /* "601", "606", ... */
    int64_t count;
} lk_error_rec;

/* one outgoing email in the queue (migration 0004); its text is rendered when sent */
typedef enum lk_mail_status {
    LK_MAIL_QUEUED,              /* waiting for its next attempt at next_at */
    LK_MAIL_SENT,                /* accepted by the SMTP server, or written to the outbox */
    LK_MAIL_FAILED,              /* given up: a permanent refusal, or too many attempts */
    LK_MAIL_CANCELLED,           /* its link was replaced, used or deleted before it went */
} lk_mail_status;

typedef struct lk_mail_rec {
    int64_t id;
    const char *kind;            /* "invitation", "password_reset", "expiry_notice", "admin_added", "admin_removed", "email_changed" */
    const char *lang;            /* "en", "de"; "": the server's mail_language when sent */
    const char *recipient;       /* address */
    const char *to_name;         /* display name, "" when none */
    int64_t user_id;             /* the recipient as a user, 0 when none */
    int64_t link_id;             /* the invitation or password reset whose link it carries, 0 when none */
    const char *vars;            /* JSON object text: the template's variables (never a secret) */
    const char *message_id;      /* local part of the Message-ID, stable across attempts */
    lk_mail_status status;
    int attempts;
    int64_t created_at;
    int64_t next_at;             /* when a queued message is due */
    int64_t done_at;             /* 0 while queued */
    const char *last_error;      /* "" when none */
    const char *delivery;        /* "smtp HOST:PORT" or the .eml path; "" until sent */
} lk_mail_rec;

typedef struct lk_mail_filter {
    int status;                  /* -1: any, else an lk_mail_status */
    int64_t limit;               /* 0: no limit */
    const char *search;          /* NULL: any; else a substring of the recipient, case-insensitive (ASCII) */
    int64_t after;               /* cursor (newest first): only ids below it; 0: from the newest */
} lk_mail_filter;

/* a password-reset link: only the hash of its token is kept */
typedef struct lk_reset {
    int64_t id;
    int64_t user_id;
    const char *token_hash;
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at;             /* 0: not yet */
} lk_reset;

#endif
