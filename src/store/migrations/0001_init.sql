-- 0001 — the domain of PRODUCT.md §1: workspaces, permissions, roles, users,
-- invitations, custom services and the audit trail.
-- Times are INTEGER seconds since the Unix epoch (UTC). Secrets are stored only as
-- hashes (hex). Names compare case-insensitively (COLLATE NOCASE). Ids are never
-- reused (AUTOINCREMENT): caches and logs may key on them.

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE permissions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    grp         INTEGER NOT NULL CHECK (grp IN (0, 1)),   -- 0 Access Admin, 1 Access API
    builtin     INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1))
);

CREATE TABLE roles (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description    TEXT NOT NULL DEFAULT '',
    system         INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
    only_all_zones INTEGER NOT NULL DEFAULT 0 CHECK (only_all_zones IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE role_permissions (
    role_id       INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES permissions(id) ON DELETE RESTRICT,
    PRIMARY KEY (role_id, permission_id)
) WITHOUT ROWID;
CREATE INDEX role_permissions_by_permission ON role_permissions(permission_id);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    userid         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    expires_at     INTEGER,                                   -- NULL: never
    api_only       INTEGER NOT NULL CHECK (api_only IN (0, 1)),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'active', 'locked')),
    lock_reason    TEXT NOT NULL DEFAULT '',
    password_hash  TEXT,                                      -- Argon2id; NULL for API-only and pending
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    last_login_at  INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK (api_only = 0 OR password_hash IS NULL)
);

CREATE TABLE user_roles (
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id      INTEGER NOT NULL REFERENCES roles(id) ON DELETE RESTRICT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, role_id, workspace_id)
) WITHOUT ROWID;
CREATE INDEX user_roles_by_role ON user_roles(role_id);

CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    message     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER
);
CREATE INDEX invitations_by_user ON invitations(user_id);

CREATE TABLE services (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description           TEXT NOT NULL DEFAULT '',
    user_id               INTEGER NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
    client_id             TEXT NOT NULL UNIQUE,
    secret_hash           TEXT NOT NULL,
    old_secret_hash       TEXT,
    old_secret_expires_at INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX services_by_user ON services(user_id);

CREATE TABLE audit_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    address  TEXT NOT NULL DEFAULT '',
    area     TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    details  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_by_time ON audit_events(at);

-- Seed data ----------------------------------------------------------------

INSERT INTO workspaces (id, name, description, created_at, updated_at) VALUES
    (0, 'AllZones', 'Global scope: a role granted here applies everywhere', strftime('%s','now'), strftime('%s','now')),
    (1, 'Default', 'The default workspace', strftime('%s','now'), strftime('%s','now'));

INSERT INTO permissions (name, grp, builtin, description) VALUES
    ('Access Users',        0, 1, 'Manage users (not roles)'),
    ('Access Roles',        0, 1, 'Manage roles (not users)'),
    ('Access Workspaces',   0, 1, 'Manage workspaces'),
    ('Access LaunchPoint',  0, 1, 'Manage custom services'),
    ('Access Web Services', 0, 1, 'IP allowlist, limits, API usage'),
    ('Access Audit Trail',  0, 1, 'Read the audit trail'),
    ('Access Login History',0, 1, 'Read the login history'),
    ('Access User Management Api',         1, 1, 'Call the user management API (with Access Users)'),
    ('Read-Only Lead',                     1, 1, 'Read leads'),
    ('Read-Write Lead',                    1, 1, 'Read, create and update leads'),
    ('Read-Only Activity',                 1, 1, 'Read lead activities'),
    ('Read-Write Activity',                1, 1, 'Read and create lead activities'),
    ('Read-Only Activity Metadata',        1, 1, 'Read activity type metadata'),
    ('Read-Write Activity Metadata',       1, 1, 'Read and create activity type metadata'),
    ('Read-Only Assets',                   1, 1, 'Read assets'),
    ('Read-Write Assets',                  1, 1, 'Read, create and update assets'),
    ('Read-Only Campaign',                 1, 1, 'Read campaigns'),
    ('Read-Write Campaign',                1, 1, 'Read, create and update campaigns'),
    ('Read-Only Company',                  1, 1, 'Read companies'),
    ('Read-Write Company',                 1, 1, 'Read, create and update companies'),
    ('Read-Only Custom Object',            1, 1, 'Read custom object records'),
    ('Read-Write Custom Object',           1, 1, 'Read, create and update custom object records'),
    ('Read-Only Custom Object Type',       1, 1, 'Read custom object types'),
    ('Read-Write Custom Object Type',      1, 1, 'Read, create and update custom object types'),
    ('Read-Only Named Account',            1, 1, 'Read named accounts'),
    ('Read-Write Named Account',           1, 1, 'Read, create and update named accounts'),
    ('Read-Only Named Account List',       1, 1, 'Read named account lists'),
    ('Read-Write Named Account List',      1, 1, 'Read, create and update named account lists'),
    ('Read-Only Opportunity',              1, 1, 'Read opportunities'),
    ('Read-Write Opportunity',             1, 1, 'Read, create and update opportunities'),
    ('Read-Only Sales Person',             1, 1, 'Read sales persons'),
    ('Read-Write Sales Person',            1, 1, 'Read, create and update sales persons'),
    ('Read-Only Schema Standard Field',    1, 1, 'Read standard field schemas'),
    ('Read-Write Schema Standard Field',   1, 1, 'Read and change standard field schemas'),
    ('Read-Only Schema Custom Field',      1, 1, 'Read custom field schemas'),
    ('Read-Write Schema Custom Field',     1, 1, 'Read and change custom field schemas'),
    ('Read-Only Redirect Rules',           1, 1, 'Read landing page redirect rules'),
    ('Read-Write Redirect Rules',          1, 1, 'Read and change landing page redirect rules'),
    ('Approve Assets',                     1, 1, 'Approve assets'),
    ('Execute Campaign',                   1, 1, 'Request or schedule a campaign'),
    ('Activate Campaign',                  1, 1, 'Activate a smart campaign'),
    ('Deactivate Campaign',                1, 1, 'Deactivate a smart campaign');

INSERT INTO roles (id, name, description, system, only_all_zones, created_at, updated_at) VALUES
    (1, 'Admin', 'Every Access Admin permission', 1, 1, strftime('%s','now'), strftime('%s','now'));

INSERT INTO role_permissions (role_id, permission_id)
    SELECT 1, id FROM permissions WHERE grp = 0;
