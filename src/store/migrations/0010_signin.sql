-- 0010 — console sign-in throttles across processes (docs/server.md#limits-across-processes,
-- docs/security.md#console-sign-in): limit_counts learns the kind 's'.
--   kind 's': sign-in attempts of a throttle key in the 10-second bucket that starts at
--             `bucket` (wall-clock epoch seconds), or a clear of a key at the second
--             `bucket` (n = 1). scope: a letter and the hex of BLAKE2b-128 digests —
--             'a'/'f' + address (sign-ins / forgot-password requests of an address),
--             'p' + account + (account, address), 'A' + account, 'x' + account (a
--             completed password reset), 'y' + (account, address) (a success). No email
--             or address is stored in the clear. Read for the last hour, pruned after it.
--
-- SQLite cannot alter a CHECK constraint, so the table is made again with the same rows
-- (nothing refers to it by foreign key, and no trigger watches it). Through a temporary
-- copy rather than a RENAME, which would re-check every trigger of the schema.
CREATE TEMP TABLE limit_counts_keep AS SELECT scope, kind, bucket, process, n, at FROM limit_counts;
DROP TABLE limit_counts;
CREATE TABLE limit_counts (
    scope   TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('r', 'd', 'c', 't', 's')),
    bucket  INTEGER NOT NULL,
    process TEXT NOT NULL,
    n       INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (scope, kind, bucket, process)
) WITHOUT ROWID;
INSERT INTO limit_counts (scope, kind, bucket, process, n, at)
    SELECT scope, kind, bucket, process, n, at FROM limit_counts_keep;
DROP TABLE limit_counts_keep;
CREATE INDEX limit_counts_by_kind ON limit_counts (kind, bucket);
