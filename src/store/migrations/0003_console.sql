-- 0003 — what the web console keeps: sign-in sessions (hashed), the login history,
-- and whether a user must choose a new password at the next sign-in.

-- A console session: only the BLAKE2b-256 hash of its cookie value is stored.
-- last_seen_at drives the idle timeout; expires_at is the absolute end.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    address      TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

-- Every sign-in attempt. The email is the one given (so that attempts on unknown
-- addresses show too); user_id is kept without a foreign key so that the history
-- outlives the user.
CREATE TABLE login_history (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    email    TEXT NOT NULL,
    user_id  INTEGER,
    address  TEXT NOT NULL DEFAULT '',
    success  INTEGER NOT NULL CHECK (success IN (0, 1)),
    reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX login_history_by_time ON login_history(at);

-- A one-time password (latchkey admin create, a reset) must be replaced at first sign-in.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
