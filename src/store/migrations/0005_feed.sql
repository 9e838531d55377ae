-- 0005 — the change feed, self-verifying access tokens and their revocations.
--
-- Every committed change of what a server keeps in memory appends a row to
-- `changes` in the same transaction (triggers, so the CLI, the APIs, the console and
-- sqlite3 are covered alike). Each server process tails the feed and re-reads only
-- the rows a change names (docs/architecture.md#the-change-feed). This replaces the
-- generation counter of 0002.
--
-- Access tokens now carry their service, times, the service's token epoch and a MAC
-- (src/core/token.h): no row is written when one is issued. The table of issued
-- tokens goes; tokens issued by an older binary stop working (their clients get 601
-- and ask for a new one, as Marketo clients do).

DROP TRIGGER gen_users_i;
DROP TRIGGER gen_users_u;
DROP TRIGGER gen_users_d;
DROP TRIGGER gen_user_roles_i;
DROP TRIGGER gen_user_roles_d;
DROP TRIGGER gen_roles_i;
DROP TRIGGER gen_roles_u;
DROP TRIGGER gen_roles_d;
DROP TRIGGER gen_role_perms_i;
DROP TRIGGER gen_role_perms_d;
DROP TRIGGER gen_perms_i;
DROP TRIGGER gen_perms_d;
DROP TRIGGER gen_services_i;
DROP TRIGGER gen_services_u;
DROP TRIGGER gen_services_d;
DROP TRIGGER gen_settings_i;
DROP TRIGGER gen_settings_u;
DROP TRIGGER gen_allowlist_i;
DROP TRIGGER gen_allowlist_d;
DROP TRIGGER gen_user_limits_i;
DROP TRIGGER gen_user_limits_u;
DROP TRIGGER gen_user_limits_d;
DROP TABLE generation;
DROP TABLE tokens;

-- The feed. seq grows with every row and is never given again (AUTOINCREMENT); with
-- one writer at a time, rows become visible in seq order. kind + id name what to
-- re-read: a user (its row, grants and limits), a service, a role's permissions, the
-- permission names, the instance settings, the allowlist, one token revocation, or
-- the key file ('keys', written by `latchkey key rotate`). id 0 for instance-wide kinds.
CREATE TABLE changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'service', 'role', 'permission', 'settings', 'allowlist',
                                       'revocation', 'keys')),
    id   INTEGER NOT NULL,
    at   INTEGER NOT NULL
);

-- The highest seq pruned so far: a process whose position is below it missed rows and
-- loads everything again.
CREATE TABLE changes_pruned (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO changes_pruned (id, seq) VALUES (1, 0);

-- A service's tokens carry the epoch they were minted in and work only while it is
-- the service's epoch. It moves when the secret is rotated (or tokens_valid_after is
-- set), when the owner is locked, and when an owner whose access had expired gets a
-- new expiry — so an unlock or a new expiry never brings old tokens back.
ALTER TABLE services ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER epoch_services_rotate AFTER UPDATE OF secret_hash, tokens_valid_after ON services
    WHEN NEW.secret_hash IS NOT OLD.secret_hash OR NEW.tokens_valid_after IS NOT OLD.tokens_valid_after
    BEGIN UPDATE services SET token_epoch = token_epoch + 1 WHERE id = NEW.id; END;
CREATE TRIGGER epoch_users_lock AFTER UPDATE OF status ON users
    WHEN NEW.status = 'locked' AND OLD.status IS NOT 'locked'
    BEGIN UPDATE services SET token_epoch = token_epoch + 1 WHERE user_id = NEW.id; END;
CREATE TRIGGER epoch_users_expiry AFTER UPDATE OF expires_at ON users
    WHEN OLD.expires_at IS NOT NULL AND OLD.expires_at <= CAST(strftime('%s', 'now') AS INTEGER)
         AND NEW.expires_at IS NOT OLD.expires_at
    BEGIN UPDATE services SET token_epoch = token_epoch + 1 WHERE user_id = NEW.id; END;

-- One revoked token (RFC 7009), kept until the token would have expired anyway. The
-- token id is the random id inside the token: not a secret, and no token can be made
-- from it. Written before /oauth2/revoke answers.
CREATE TABLE token_revocations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id   TEXT NOT NULL UNIQUE,
    service_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX token_revocations_by_expiry ON token_revocations(expires_at);

-- The feed's triggers: only changes a server reads. Users and grants matter only for
-- API-only users (the server never checks a person), and only the columns it reads;
-- the store's updates write every column, hence the comparisons.
CREATE TRIGGER feed_users_i AFTER INSERT ON users WHEN NEW.api_only
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', NEW.id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_users_u AFTER UPDATE ON users
    WHEN (NEW.api_only OR OLD.api_only)
         AND (NEW.email IS NOT OLD.email OR NEW.api_only IS NOT OLD.api_only OR NEW.status IS NOT OLD.status
              OR NEW.expires_at IS NOT OLD.expires_at)
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', NEW.id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_users_d AFTER DELETE ON users WHEN OLD.api_only
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', OLD.id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_user_roles_i AFTER INSERT ON user_roles
    WHEN (SELECT api_only FROM users WHERE id = NEW.user_id)
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', NEW.user_id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_user_roles_d AFTER DELETE ON user_roles
    WHEN (SELECT api_only FROM users WHERE id = OLD.user_id)
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', OLD.user_id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_user_limits_i AFTER INSERT ON user_limits
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', NEW.user_id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_user_limits_u AFTER UPDATE ON user_limits
    WHEN NEW.rate_calls IS NOT OLD.rate_calls OR NEW.rate_seconds IS NOT OLD.rate_seconds
         OR NEW.daily IS NOT OLD.daily OR NEW.concurrent IS NOT OLD.concurrent OR NEW.user_id IS NOT OLD.user_id
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', NEW.user_id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_user_limits_d AFTER DELETE ON user_limits
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('user', OLD.user_id, strftime('%s', 'now')); END;

-- a role matters only through its permissions (a deleted role's go with it; nobody
-- can hold a role while it is deleted)
CREATE TRIGGER feed_role_perms_i AFTER INSERT ON role_permissions
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('role', NEW.role_id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_role_perms_d AFTER DELETE ON role_permissions
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('role', OLD.role_id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_perms_i AFTER INSERT ON permissions
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('permission', NEW.id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_perms_u AFTER UPDATE OF name ON permissions WHEN NEW.name IS NOT OLD.name
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('permission', NEW.id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_perms_d AFTER DELETE ON permissions
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('permission', OLD.id, strftime('%s', 'now')); END;

CREATE TRIGGER feed_services_i AFTER INSERT ON services
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('service', NEW.id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_services_u AFTER UPDATE ON services
    WHEN NEW.user_id IS NOT OLD.user_id OR NEW.client_id IS NOT OLD.client_id
         OR NEW.secret_hash IS NOT OLD.secret_hash OR NEW.old_secret_hash IS NOT OLD.old_secret_hash
         OR NEW.old_secret_expires_at IS NOT OLD.old_secret_expires_at
         OR NEW.token_epoch IS NOT OLD.token_epoch
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('service', NEW.id, strftime('%s', 'now')); END;
CREATE TRIGGER feed_services_d AFTER DELETE ON services
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('service', OLD.id, strftime('%s', 'now')); END;

CREATE TRIGGER feed_settings_i AFTER INSERT ON settings
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('settings', 0, strftime('%s', 'now')); END;
CREATE TRIGGER feed_settings_u AFTER UPDATE ON settings WHEN NEW.value IS NOT OLD.value OR NEW.key IS NOT OLD.key
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('settings', 0, strftime('%s', 'now')); END;
CREATE TRIGGER feed_settings_d AFTER DELETE ON settings
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('settings', 0, strftime('%s', 'now')); END;
CREATE TRIGGER feed_allowlist_i AFTER INSERT ON allowlist
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('allowlist', 0, strftime('%s', 'now')); END;
CREATE TRIGGER feed_allowlist_d AFTER DELETE ON allowlist
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('allowlist', 0, strftime('%s', 'now')); END;

CREATE TRIGGER feed_revocations_i AFTER INSERT ON token_revocations
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('revocation', NEW.id, strftime('%s', 'now')); END;
