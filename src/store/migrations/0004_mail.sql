-- 0004 — email: the durable queue of outgoing messages, password-reset links, the
-- expiry notices already queued, and each person's language for the mail they get.
--
-- None of these tables moves the generation counter: the mailer's bookkeeping must
-- not make a running server rebuild its catalog.

-- One outgoing message. What it says is rendered when it is sent, from kind, lang
-- and vars (a JSON object of the template's variables, never a secret); a message
-- with a link (link_id: an invitation or a password reset, by kind) gets a freshly
-- minted token at each attempt, so no usable link is ever stored.
-- status: queued → sent | failed (given up) | cancelled (its link was replaced,
-- used or deleted before it could go). next_at is when a queued message is due;
-- it is moved ahead before an attempt starts, so a crash mid-attempt means a retry
-- after the backoff (with the same Message-ID), never a message forgotten.
CREATE TABLE mail_queue (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('invitation', 'password_reset', 'expiry_notice',
                                              'admin_added', 'admin_removed')),
    lang        TEXT NOT NULL DEFAULT '',        -- 'en', 'de'; '': the server's mail_language
    recipient   TEXT NOT NULL,
    to_name     TEXT NOT NULL DEFAULT '',
    user_id     INTEGER,                     -- the recipient, when a user (no foreign key: the
                                             -- row outlives a deleted user as a record)
    link_id     INTEGER,                     -- invitations.id or password_resets.id, by kind
    vars        TEXT NOT NULL DEFAULT '{}',
    message_id  TEXT NOT NULL UNIQUE,        -- the local part of the Message-ID
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    done_at     INTEGER,                     -- sent, failed or cancelled at
    last_error  TEXT NOT NULL DEFAULT '',
    delivery    TEXT NOT NULL DEFAULT ''     -- "smtp HOST:PORT" or the .eml file written
);
CREATE INDEX mail_queue_due ON mail_queue(status, next_at);

-- A password reset link: only the hash of its token is kept.
CREATE TABLE password_resets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX password_resets_by_user ON password_resets(user_id);

-- Expiry notices queued: one row per user, expiry instant and notice (7 or 1 days
-- ahead), so that each goes out once, and again only if the expiry changes.
CREATE TABLE expiry_notices (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    days        INTEGER NOT NULL,
    queued_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, expires_at, days)
) WITHOUT ROWID;

CREATE INDEX users_by_expiry ON users(expires_at) WHERE expires_at IS NOT NULL;

-- The language of the mail a person gets ("en", "de"): the one their invitation
-- was written in. '' means the server's mail_language.
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT '';
