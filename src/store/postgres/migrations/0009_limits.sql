-- 0009 (PostgreSQL) — limits across processes and nodes; meaning as in SQLite's
-- src/store/migrations/0009_limits.sql (read the comments there), with one
-- difference in what the numbers count (docs/server.md#limits-across-nodes): on
-- PostgreSQL the processes are nodes of a cluster, on different machines, so every
-- time compared between them is the wall clock (epoch seconds): kind 'r' buckets are
-- epoch seconds, not CLOCK_MONOTONIC ones, and `at` is epoch seconds as on SQLite.
-- Not in the change feed: the rows are rewritten several times a second.
-- UNLOGGED would be cheaper but is not replicated: a promoted replica would start
-- with no counts, so the table is an ordinary one.
CREATE TABLE IF NOT EXISTS limit_counts (
    scope   text NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('r', 'd', 'c', 't')),
    bucket  bigint NOT NULL,
    process text NOT NULL,
    n       bigint NOT NULL,
    at      bigint NOT NULL,
    PRIMARY KEY (scope, kind, bucket, process)
);
CREATE INDEX IF NOT EXISTS limit_counts_by_kind ON limit_counts (kind, bucket);
