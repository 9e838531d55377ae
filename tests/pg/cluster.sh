#!/bin/sh
# A private PostgreSQL cluster for the tests: initdb + pg_ctl in a temporary folder,
# reached over a Unix socket in that folder only (no TCP port, no system service).
#   sh tests/pg/cluster.sh start     prints two lines: the folder, then the URL of
#                                    its 'postgres' database (superuser 'postgres')
#   sh tests/pg/cluster.sh stop DIR  stops it and removes the folder
#   sh tests/pg/cluster.sh pause DIR / resume DIR   stop and start it again (same data)
# PostgreSQL refuses to run as root: as root, the server runs as 'nobody' (runuser).
# Durability settings are relaxed (fsync off): the tests check latchkey's behaviour,
# not PostgreSQL's disk; a test cluster never holds anything to keep.
set -eu

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "cluster: PostgreSQL is not installed (make deps installs Debian's postgresql)" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

start_server() {
    dir=$1
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start \
        -o "-k $dir -c listen_addresses= -p 5432" >/dev/null
}

case "${1:-}" in
    start)
        dir=$(mktemp -d /tmp/lk-pg-XXXXXX)
        chmod 0755 "$dir"
        [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
        as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --locale=C.UTF-8 --encoding=UTF8 \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
        cat >>"$dir/data/postgresql.conf" <<CONF
fsync = off
full_page_writes = off
max_connections = 400
shared_buffers = 64MB
log_min_messages = warning
CONF
        start_server "$dir" || { cat "$dir/log" >&2; rm -rf "$dir"; exit 1; }
        echo "$dir"
        echo "postgresql://postgres@/postgres?host=$dir&port=5432"
        ;;
    stop)
        dir=${2:?cluster: stop DIR}
        case "$dir" in /tmp/lk-pg-*) ;; *) echo "cluster: not a test cluster: $dir" >&2; exit 1 ;; esac
        if [ -f "$dir/data/postmaster.pid" ]; then
            as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$dir"
        ;;
    pause)
        dir=${2:?cluster: pause DIR}
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
        ;;
    resume)
        dir=${2:?cluster: resume DIR}
        start_server "$dir"
        ;;
    *)
        echo "usage: cluster.sh start | stop DIR | pause DIR | resume DIR" >&2
        exit 1
        ;;
esac
