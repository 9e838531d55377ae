-- 0010 (PostgreSQL) — console sign-in throttles across nodes; meaning as in SQLite's
-- src/store/migrations/0010_signin.sql (read the comments there): limit_counts learns
-- the kind 's' (sign-in buckets of 10 wall-clock seconds, keyed by BLAKE2b digests —
-- no email or address in the clear). Its buckets are epoch seconds, as every time
-- compared between nodes is. PostgreSQL alters a CHECK constraint in place.
ALTER TABLE limit_counts DROP CONSTRAINT IF EXISTS limit_counts_kind_check;
ALTER TABLE limit_counts ADD CONSTRAINT limit_counts_kind_check CHECK (kind IN ('r', 'd', 'c', 't', 's'));
