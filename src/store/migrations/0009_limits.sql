-- 0009 — limits across processes (docs/server.md#limits-across-processes): each
-- `latchkey serve` process publishes its own counts of each limited scope here, a few
-- times a second, and reads the others'. A row belongs to one process (a random id
-- drawn at its start) and holds an absolute count, so a write repeated after a failure
-- is harmless and a dead process's rows stop counting when they age out.
--   kind 'r': calls of the scope in the second `bucket` of the limiters' clock
--             (CLOCK_MONOTONIC seconds: the same for every process of one machine)
--   kind 'd': calls of the scope on the quota day `bucket` (days since 1970-01-01)
--   kind 'c': calls of the scope in flight (bucket 0), as of `at`
--   kind 't': failed authentications at the token endpoints of a throttle key in the
--             window `bucket` (epoch seconds / auth_fail_window); scope 't' + the hex
--             of a BLAKE2b-128 of the key (a client id and an address)
-- scope: 'i' the instance, 'u<id>' an API user, '' the process itself (kind 'c',
-- n = 1: a heartbeat, which tells the others it is alive).
CREATE TABLE IF NOT EXISTS limit_counts (
    scope   TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('r', 'd', 'c', 't')),
    bucket  INTEGER NOT NULL,
    process TEXT NOT NULL,
    n       INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (scope, kind, bucket, process)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS limit_counts_by_kind ON limit_counts (kind, bucket);
