#!/usr/bin/env python3
"""seed — many API-only users, each owning one custom service, for `make bench`.

Writes SQL for the sqlite3 tool (one transaction) and a credentials file for the
wrk scripts (one "client_id secret" a line). Creating thousands of services with
the CLI would take minutes; the rows written here are the ones the CLI writes:
users (api_only = 1, active), a grant of ROLE in AllZones (workspace 0), and a
service whose secret_hash is BLAKE2b-256 (no key, 32-byte digest) in lower-case
hex of the secret, as lk_secret_hash() computes it (src/core/secret.c).
run.sh checks that hash against `b2sum -l 256` and against the server itself.

usage: seed.py COUNT ROLE_ID SQL_OUT CREDS_OUT
"""
import hashlib
import secrets
import string
import sys
import time

ALNUM = string.ascii_letters + string.digits


def secret_hash(secret: str) -> str:
    return hashlib.blake2b(secret.encode(), digest_size=32).hexdigest()


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    count, role_id = int(sys.argv[1]), int(sys.argv[2])
    sql_out, creds_out = sys.argv[3], sys.argv[4]
    now = int(time.time())
    # one random prefix per run, a counter for the rest: 32 alphanumerics like the CLI's
    prefix = "".join(secrets.choice(ALNUM) for _ in range(20))
    with open(sql_out, "w") as sql, open(creds_out, "w") as creds:
        sql.write("PRAGMA foreign_keys = ON;\nBEGIN;\n")
        sql.write("CREATE TEMP TABLE seed (n INTEGER PRIMARY KEY, client_id TEXT, secret_hash TEXT);\n")
        for n in range(1, count + 1):
            client_id = "b0000000-0000-4000-8000-%012d" % n
            secret = "%s%012d" % (prefix, n)
            sql.write("INSERT INTO seed VALUES (%d,'%s','%s');\n" % (n, client_id, secret_hash(secret)))
            creds.write("%s %s\n" % (client_id, secret))
        sql.write(
            "INSERT INTO users (email, userid, first_name, last_name, api_only, status, created_at, updated_at)\n"
            "  SELECT 'bench-' || n || '@bench.test', 'bench-' || n || '@bench.test', 'Bench', 'User ' || n,"
            " 1, 'active', %d, %d FROM seed ORDER BY n;\n" % (now, now))
        sql.write(
            "INSERT INTO user_roles (user_id, role_id, workspace_id)\n"
            "  SELECT u.id, %d, 0 FROM seed JOIN users u ON u.email = 'bench-' || seed.n || '@bench.test';\n"
            % role_id)
        sql.write(
            "INSERT INTO services (name, description, user_id, client_id, secret_hash, created_at, updated_at)\n"
            "  SELECT 'bench-' || n, '', u.id, seed.client_id, seed.secret_hash, %d, %d\n"
            "  FROM seed JOIN users u ON u.email = 'bench-' || seed.n || '@bench.test' ORDER BY n;\n" % (now, now))
        # an instance this large grew over time: its change feed has long been pruned
        # (docs/architecture.md#the-change-feed); a server starting on it loads everything
        sql.write("DELETE FROM changes;\n")
        sql.write("UPDATE changes_pruned SET seq = coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0);\n")
        sql.write("COMMIT;\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
