-- 0002 — what the server keeps: access tokens (hashed), instance settings (limits,
-- allowlist switch), the IP allowlist, per-user limits, daily usage and error
-- counts, and a generation counter that tells a running server the domain changed.

-- Access tokens: only the BLAKE2b-256 hash of a token is stored. No foreign key to
-- services: a token of a deleted service simply stops matching one.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT NOT NULL UNIQUE,
    service_id  INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX tokens_by_expiry ON tokens(expires_at);

-- Tokens issued before this instant are revoked (set by rotate-secret).
ALTER TABLE services ADD COLUMN tokens_valid_after INTEGER NOT NULL DEFAULT 0;

-- Instance-wide settings as key/value text (see docs/storage.md for the keys).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO settings (key, value, updated_at) VALUES
    ('limits.rate_calls',   '100',   strftime('%s','now')),
    ('limits.rate_seconds', '20',    strftime('%s','now')),
    ('limits.daily',        '50000', strftime('%s','now')),
    ('limits.concurrent',   '10',    strftime('%s','now')),
    ('allowlist.enabled',   '0',     strftime('%s','now'));

-- The IP allowlist: normalised CIDR text ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1/32").
CREATE TABLE allowlist (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    cidr       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Per-API-user limits; 0 means "no limit of its own" for that dimension.
CREATE TABLE user_limits (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    rate_calls   INTEGER NOT NULL DEFAULT 0,
    rate_seconds INTEGER NOT NULL DEFAULT 0,
    daily        INTEGER NOT NULL DEFAULT 0,
    concurrent   INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);

-- Calls per day (YYYY-MM-DD in the quota time zone) per API user; the email is kept
-- so that the history survives the user's deletion.
CREATE TABLE usage_daily (
    day        TEXT NOT NULL,
    user_id    INTEGER NOT NULL,
    user_email TEXT NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (day, user_id)
) WITHOUT ROWID;

-- Errors per day per Marketo error code.
CREATE TABLE errors_daily (
    day   TEXT NOT NULL,
    code  TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, code)
) WITHOUT ROWID;

-- Generation: bumped by every change to what the server reads from the domain, so a
-- running server notices a CLI change with one cheap read.
CREATE TABLE generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO generation (id, n) VALUES (1, 1);

CREATE TRIGGER gen_users_i AFTER INSERT ON users BEGIN UPDATE generation SET n = n + 1; END;
-- only the columns the server reads: sign-in bookkeeping (failed_logins, last_login_at)
-- must not make a running server reload
CREATE TRIGGER gen_users_u AFTER UPDATE OF email, api_only, status, expires_at ON users
    BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_users_d AFTER DELETE ON users BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_user_roles_i AFTER INSERT ON user_roles BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_user_roles_d AFTER DELETE ON user_roles BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_roles_i AFTER INSERT ON roles BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_roles_u AFTER UPDATE ON roles BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_roles_d AFTER DELETE ON roles BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_role_perms_i AFTER INSERT ON role_permissions BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_role_perms_d AFTER DELETE ON role_permissions BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_perms_i AFTER INSERT ON permissions BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_perms_d AFTER DELETE ON permissions BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_services_i AFTER INSERT ON services BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_services_u AFTER UPDATE ON services BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_services_d AFTER DELETE ON services BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_settings_i AFTER INSERT ON settings BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_settings_u AFTER UPDATE ON settings BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_allowlist_i AFTER INSERT ON allowlist BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_allowlist_d AFTER DELETE ON allowlist BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_user_limits_i AFTER INSERT ON user_limits BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_user_limits_u AFTER UPDATE ON user_limits BEGIN UPDATE generation SET n = n + 1; END;
CREATE TRIGGER gen_user_limits_d AFTER DELETE ON user_limits BEGIN UPDATE generation SET n = n + 1; END;
