-- 0011 (PostgreSQL only: SQLite's services_search is the FTS5 table of 0006) — the
-- services' search through an index (store/postgres/pg_services.c, SVCS_WHERE's $7): a
-- trigram index on the display name, the expression the search's longest word is
-- matched against; the owners' emails are found through users_search (0007). Before
-- it, a search read every service. Built once, in the migration's transaction (about
-- half a minute for a million services); writes to services keep it up to date.
CREATE INDEX services_search ON services USING gin ((lower(name::text)) gin_trgm_ops);
