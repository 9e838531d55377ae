-- 0007 — the trust model (docs/security.md): the mail queue learns the notice that
-- tells a person's old address that their email was changed ('email_changed'), and
-- the workspaces where a role is held are found without reading every holder (a
-- role edit needs them: core/authz.c).
--
-- SQLite cannot alter a CHECK constraint, so mail_queue is rebuilt with the same
-- columns, rows, ids and AUTOINCREMENT position (nothing refers to it by foreign key,
-- and no trigger watches it).

CREATE TABLE mail_queue_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('invitation', 'password_reset', 'expiry_notice',
                                              'admin_added', 'admin_removed', 'email_changed')),
    lang        TEXT NOT NULL DEFAULT '',
    recipient   TEXT NOT NULL,
    to_name     TEXT NOT NULL DEFAULT '',
    user_id     INTEGER,
    link_id     INTEGER,
    vars        TEXT NOT NULL DEFAULT '{}',
    message_id  TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    done_at     INTEGER,
    last_error  TEXT NOT NULL DEFAULT '',
    delivery    TEXT NOT NULL DEFAULT ''
);
INSERT INTO mail_queue_new (id, kind, lang, recipient, to_name, user_id, link_id, vars, message_id, status,
                            attempts, created_at, next_at, done_at, last_error, delivery)
    SELECT id, kind, lang, recipient, to_name, user_id, link_id, vars, message_id, status,
           attempts, created_at, next_at, done_at, last_error, delivery FROM mail_queue;
-- ids are never handed out twice: keep the old table's AUTOINCREMENT position
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'mail_queue_new', seq FROM sqlite_sequence WHERE name = 'mail_queue'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'mail_queue_new');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'mail_queue'), 0))
    WHERE name = 'mail_queue_new';
DROP TABLE mail_queue;
ALTER TABLE mail_queue_new RENAME TO mail_queue;
CREATE INDEX mail_queue_due ON mail_queue(status, next_at);

CREATE INDEX IF NOT EXISTS user_roles_by_role_workspace ON user_roles(role_id, workspace_id);
