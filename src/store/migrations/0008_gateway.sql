-- 0008 — the gateway's route table (docs/gateway.md): which Access API permission a
-- call to an upstream API needs, by method and path pattern. /auth/check reads it
-- from the catalog; a gateway (nginx auth_request, Caddy forward_auth) asks it.
--
-- method: an upper-case HTTP method, or '*' for any. pattern: '/'-separated
-- segments, literal, with one '{name}' (matching a non-empty part of one segment),
-- or a last segment '*' (the rest of the path); core/gwpath.c checks the syntax.
-- permissions: the names of the permissions of which the caller needs any one, one
-- per line; '' means none (any valid token). style: how a refusal is answered,
-- Marketo's envelope ('marketo') or a plain HTTP status ('plain').
--
-- Written to apply again over its own tables (IF NOT EXISTS), as a database whose record
-- of it was lost would have it.
--
-- A change reaches every server through the change feed as a 'settings' row: the
-- table is small and read whole, like the instance settings.
CREATE TABLE IF NOT EXISTS gateway_routes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    method      TEXT NOT NULL,
    pattern     TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '',
    style       TEXT NOT NULL DEFAULT 'marketo' CHECK (style IN ('marketo', 'plain')),
    created_at  INTEGER NOT NULL,
    UNIQUE (method, pattern)
);

CREATE TRIGGER IF NOT EXISTS feed_gateway_routes_i AFTER INSERT ON gateway_routes
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('settings', 0, strftime('%s', 'now')); END;
CREATE TRIGGER IF NOT EXISTS feed_gateway_routes_u AFTER UPDATE ON gateway_routes
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('settings', 0, strftime('%s', 'now')); END;
CREATE TRIGGER IF NOT EXISTS feed_gateway_routes_d AFTER DELETE ON gateway_routes
    BEGIN INSERT INTO changes (kind, id, at) VALUES ('settings', 0, strftime('%s', 'now')); END;
