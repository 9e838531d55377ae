-- 0006 — lists that stay small: what the console, the CLI and the APIs need to page,
-- search and count users and services without reading them all (docs/storage.md#lists).
--
-- Search indexes are FTS5 tables with the trigram tokenizer: a MATCH of a word of
-- three or more characters finds, through the index, every row containing it as a
-- substring, case-insensitively. Triggers keep them in the same transaction as the
-- rows they index. None of these tables appends to the change feed (0005): a running
-- server's catalog does not read them.

-- Users by email, user id, first and last name. The content is the users table itself
-- (external content): the index holds only the trigrams, and a deleted or changed row
-- is taken out of it with its old values, as FTS5 requires.
CREATE VIRTUAL TABLE users_search USING fts5(
    email, userid, first_name, last_name,
    content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_i AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, userid, first_name, last_name)
        VALUES (new.id, new.email, new.userid, new.first_name, new.last_name);
END;
CREATE TRIGGER users_search_d AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, userid, first_name, last_name)
        VALUES ('delete', old.id, old.email, old.userid, old.first_name, old.last_name);
END;
-- a store update writes every column: only a change of an indexed one re-indexes
-- (compared byte for byte, not NOCASE)
CREATE TRIGGER users_search_u AFTER UPDATE OF email, userid, first_name, last_name ON users
    WHEN old.email IS NOT new.email COLLATE BINARY OR old.userid IS NOT new.userid COLLATE BINARY
      OR old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name
BEGIN
    INSERT INTO users_search (users_search, rowid, email, userid, first_name, last_name)
        VALUES ('delete', old.id, old.email, old.userid, old.first_name, old.last_name);
    INSERT INTO users_search (rowid, email, userid, first_name, last_name)
        VALUES (new.id, new.email, new.userid, new.first_name, new.last_name);
END;

-- Services by display name and the owner's email. A table of its own (the owner's
-- email is not a column of services), so a row leaves it by rowid alone. Client ids
-- are found whole, through their unique index: the trigrams of a million random UUIDs
-- would double the size of this index for a search nobody types piecemeal.
CREATE VIRTUAL TABLE services_search USING fts5(name, owner, tokenize = 'trigram');
INSERT INTO services_search (rowid, name, owner)
    SELECT s.id, s.name, u.email FROM services s JOIN users u ON u.id = s.user_id;

CREATE TRIGGER services_search_i AFTER INSERT ON services BEGIN
    INSERT INTO services_search (rowid, name, owner)
        VALUES (new.id, new.name, (SELECT email FROM users WHERE id = new.user_id));
END;
CREATE TRIGGER services_search_d AFTER DELETE ON services BEGIN
    DELETE FROM services_search WHERE rowid = old.id;
END;
CREATE TRIGGER services_search_u AFTER UPDATE OF name, user_id ON services
    WHEN old.name IS NOT new.name COLLATE BINARY OR old.user_id IS NOT new.user_id
BEGIN
    DELETE FROM services_search WHERE rowid = old.id;
    INSERT INTO services_search (rowid, name, owner)
        VALUES (new.id, new.name, (SELECT email FROM users WHERE id = new.user_id));
END;
CREATE TRIGGER services_search_owner AFTER UPDATE OF email ON users
    WHEN old.email IS NOT new.email COLLATE BINARY
BEGIN
    UPDATE services_search SET owner = new.email
        WHERE rowid IN (SELECT id FROM services WHERE user_id = new.id);
END;

-- How many users hold each role (in any workspace), kept as grants come and go, so
-- that the roles list shows it without counting a million grants.
CREATE TABLE role_holders (
    role_id INTEGER PRIMARY KEY REFERENCES roles(id) ON DELETE CASCADE,
    n       INTEGER NOT NULL CHECK (n >= 0)
);
INSERT INTO role_holders (role_id, n)
    SELECT role_id, count(DISTINCT user_id) FROM user_roles GROUP BY role_id;

-- the user's first grant of the role counts, a second workspace does not
CREATE TRIGGER role_holders_i AFTER INSERT ON user_roles
    WHEN (SELECT count(*) FROM user_roles WHERE user_id = new.user_id AND role_id = new.role_id) = 1
BEGIN
    INSERT OR IGNORE INTO role_holders (role_id, n) VALUES (new.role_id, 0);
    UPDATE role_holders SET n = n + 1 WHERE role_id = new.role_id;
END;
CREATE TRIGGER role_holders_d AFTER DELETE ON user_roles
    WHEN NOT EXISTS (SELECT 1 FROM user_roles WHERE user_id = old.user_id AND role_id = old.role_id)
BEGIN
    UPDATE role_holders SET n = n - 1 WHERE role_id = old.role_id;
END;

-- People among a million API-only users (or the reverse): a page of them is a seek,
-- not a scan of every user (the index ends in the rowid, so it keeps id order).
CREATE INDEX users_by_api_only ON users(api_only);
