#!/usr/bin/env bash
# bench/run.sh — `make bench`: requests/s of latchkey against Debian's nginx on the same
# core, in the same run; user management writes on a large instance against a small one;
# latchkey's start time and resident memory with 1,000,000 services and tokens; how soon
# a CLI change reaches a running server; two threads against two nginx workers; nginx in
# front of an upstream with and without latchkey's auth_request, and with an auth_request
# to a service that does nothing (the ceiling of any auth service; docs/gateway.md).
#
# The server under test runs on CPU 0 (latchkey with --threads 1 --access-log false),
# wrk on CPU 1 (-t1 -c64 --latency, keep-alive); the two-thread cases put the server and
# wrk (-t2) on both CPUs. Everything listens on 127.0.0.1 on a free port, lives in one
# temporary folder and is stopped on exit; every load is bounded by wrk -d. The cases run
# in rounds (a b c d ... a b c ...) and each figure is the median of its rounds, so that a
# slow minute of the machine hits every case alike. Timings are never asserted: the table
# is the result, and a missed target prints MISS without failing.
#
#   BENCH_BIN       the latchkey binary (default build/latchkey)
#   BENCH_SECONDS   seconds of load per case and round (default 8)
#   BENCH_ROUNDS    rounds (default 3)
#   BENCH_WARMUP    seconds of unmeasured load before a case's first round (default 2)
#   BENCH_SERVICES  services and API users of cases (f), (g) and the memory figure (default 1000000)
#   BENCH_KEEP=1    keep the temporary folder (databases, logs, wrk outputs)
#   BENCH_PG=0      leave out the PostgreSQL cases (dp), (gp) (default 1: a private
#                   PostgreSQL cluster, tests/pg/cluster.sh, holds the small instance,
#                   moved there with latchkey export / import)
# Cases, targets and how to read the figures: docs/benchmarks.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BENCH_BIN:-build/latchkey}
SECS=${BENCH_SECONDS:-8}
ROUNDS=${BENCH_ROUNDS:-3}
WARM=${BENCH_WARMUP:-2}
N_LARGE=${BENCH_SERVICES:-1000000}
N_SMALL=1000
CONNS=64
SERVER_CPU=0
WRK_CPU=1
RSS_TARGET_MB=300
UM_CONNS=4

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

is_count() { case "$1" in '' | *[!0-9]*) return 1 ;; *) [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] ;; esac; }
is_count "$SECS" 1 600 || die "BENCH_SECONDS must be a whole number from 1 to 600, not '$SECS'"
is_count "$ROUNDS" 1 20 || die "BENCH_ROUNDS must be a whole number from 1 to 20, not '$ROUNDS'"
is_count "$WARM" 0 60 || die "BENCH_WARMUP must be a whole number from 0 to 60, not '$WARM'"
is_count "$N_LARGE" 1 1000000 || die "BENCH_SERVICES must be a whole number from 1 to 1000000, not '$N_LARGE'"
[ -x "$BIN" ] || die "no latchkey binary at $BIN (run 'make build' or set BENCH_BIN)"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
for t in nginx wrk taskset sqlite3 b2sum curl python3; do
    command -v "$t" >/dev/null 2>&1 || die "'$t' is missing (run 'sh scripts/deps.sh bench')"
done
[ "$(nproc --all)" -ge 2 ] || die "needs at least 2 CPUs (server on CPU $SERVER_CPU, wrk on CPU $WRK_CPU)"
# the server reads LATCHKEY_* from the environment: none of the caller's may leak in
while read -r v; do unset "$v"; done < <(compgen -e | grep '^LATCHKEY_' || true)
HZ=$(getconf CLK_TCK)

T=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-bench.XXXXXX")
PIDS=()

cleanup() {
    local pid n
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for n in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $T"; else rm -rf "$T"; fi
}
PG_DIR=""
cleanup_all() {
    cleanup
    [ -n "$PG_DIR" ] && sh "$HERE/../tests/pg/cluster.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
}
trap cleanup_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# stops one process we started: SIGTERM, then SIGKILL after 15 s
stop_pid() {
    local pid=$1 n
    kill -TERM "$pid" 2>/dev/null || true
    for n in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# busy and all clock ticks of CPUs 0 and 1 together, from /proc/stat
cpu_ticks() {
    awk '$1 == "cpu0" || $1 == "cpu1" {for (i = 2; i <= NF; i++) t += $i; idle += $5 + $6}
        END {print t - idle, t}' /proc/stat
}
# clock ticks processes have run (user + system), summed: proc_ticks PID...
proc_ticks() { local p; for p in "$@"; do cat "/proc/$p/stat"; done | awk '{t += $14 + $15} END {print t + 0}'; }
# clock ticks of this shell's finished children (user + system) into CHILD_TICKS: `times`
# must run in this shell, not in a $(subshell), whose children are not ours
children_ticks() {
    times >"$T/times.txt"
    CHILD_TICKS=$(awk -v hz="$HZ" 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); t += p[1] * 60 + p[2] }
        printf "%.0f", t * hz }' "$T/times.txt")
}

# share of both CPUs busy over one second, in %
busy_now() {
    local a b
    read -r -a a < <(cpu_ticks)
    sleep 1
    read -r -a b < <(cpu_ticks)
    awk -v a="${a[0]}" -v b="${b[0]}" -v x="${a[1]}" -v y="${b[1]}" 'BEGIN {printf "%.0f", (y > x) ? 100 * (b - a) / (y - x) : 0}'
}

# --- the databases ------------------------------------------------------------------

LK() { "$BIN" --db "$1" "${@:2}"; }

# A database with one API-only user and service made with the CLI (files client_id,
# client_secret), instance limits removed, and n more users and services seeded with
# sqlite3 (credentials in $dir/clients.txt, one "client_id secret" a line).
make_db() {
    local dir=$1 n=$2 db=$1/latchkey.db
    mkdir -p "$dir"
    LK "$db" role create --name "Bench API" --description "make bench" --permission "Read-Only Lead" >/dev/null
    LK "$db" user invite --email bench@bench.test --first Bench --last Main --role "Bench API" \
        --api-only >/dev/null
    LK "$db" --json service create --name bench --user bench@bench.test >"$dir/service.json"
    sed -n 's/.*"clientId": *"\([^"]*\)".*/\1/p' "$dir/service.json" >"$dir/client_id"
    sed -n 's/.*"clientSecret": *"\([^"]*\)".*/\1/p' "$dir/service.json" >"$dir/client_secret"
    if [ ! -s "$dir/client_id" ] || [ ! -s "$dir/client_secret" ]; then
        die "cannot read the new service from $dir/service.json"
    fi
    # the API user of case (g): the user management API needs both of these permissions
    LK "$db" role create --name "Bench UM" --description "make bench (g)" --permission "Read-Only Lead" \
        --permission "Access User Management Api" --permission "Access Users" >/dev/null
    LK "$db" user invite --email um@bench.test --first Bench --last UM --role "Bench UM" --api-only >/dev/null
    LK "$db" --json service create --name bench-um --user um@bench.test >"$dir/um.json"
    sed -n 's/.*"clientId": *"\([^"]*\)".*/\1/p' "$dir/um.json" >"$dir/um_client_id"
    sed -n 's/.*"clientSecret": *"\([^"]*\)".*/\1/p' "$dir/um.json" >"$dir/um_client_secret"
    # the gateway cases (h, i, j): Marketo's route map, GET /rest/v1/leads.json needs Read-Only Lead
    LK "$db" route import marketo >/dev/null
    # 0 removes a limit (src/core/limits.h): no 606/607/615 can interfere
    LK "$db" limits set --rate 0 --daily 0 --concurrent 0 >/dev/null
    local role
    role=$(sqlite3 "$db" "SELECT id FROM roles WHERE name = 'Bench API'")
    python3 "$HERE/seed.py" "$n" "$role" "$dir/seed.sql" "$dir/clients.txt"
    sqlite3 "$db" <"$dir/seed.sql"
    local got
    got=$(sqlite3 "$db" "SELECT count(*) FROM services")
    [ "$got" -eq $((n + 2)) ] || die "seeding $db: $got services, expected $((n + 2))"
    # the seeded hash must be what lk_secret_hash computes: BLAKE2b-256, no key
    local id secret want have
    read -r id secret <"$dir/clients.txt"
    want=$(printf '%s' "$secret" | b2sum -l 256 | cut -d' ' -f1)
    have=$(sqlite3 "$db" "SELECT secret_hash FROM services WHERE client_id = '$id'")
    [ "$want" = "$have" ] || die "seeded secret hash differs from b2sum -l 256 ($have vs $want)"
}

# --- servers ------------------------------------------------------------------------

# starts latchkey serve over $1/latchkey.db, on CPU 0 with one thread (or on the CPUs
# $3 with $2 threads), with the options of the array LK_EXTRA; sets LK_PID, LK_URL, LK_START_S
LK_EXTRA=()
start_latchkey() {
    local dir=$1 threads=${2:-1} cpus=${3:-$SERVER_CPU} err=$1/serve-${2:-1}${LK_EXTRA[*]:+-gw}.err t0 t1 n
    t0=$(date +%s.%N)
    # every load comes from 127.0.0.1, (fg) with 64 + 4 connections at once: no cap per
    # address (per_ip_connection_limit, 64 by default, would close the ones beyond it)
    taskset -c "$cpus" "$BIN" serve --listen 127.0.0.1:0 --db "$dir/latchkey.db" \
        --threads "$threads" --access-log false --per-ip-connection-limit 0 "${LK_EXTRA[@]}" 2>"$err" &
    LK_PID=$!
    PIDS+=("$LK_PID")
    for n in $(seq 1 600); do
        grep -q 'msg="listening on ' "$err" && break
        kill -0 "$LK_PID" 2>/dev/null || { cat "$err" >&2; die "latchkey serve exited at start"; }
        sleep 0.1
    done
    grep -q 'msg="listening on ' "$err" || die "latchkey serve did not listen within 60 s"
    t1=$(date +%s.%N)
    LK_START_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
    LK_URL=$(sed -n 's/.*msg="listening on \([^"]*\)".*/\1/p' "$err" | head -n1)
}

# starts Debian's nginx returning $1 as application/json: one process on CPU 0, or (with
# $2 workers) a master and its workers on the CPUs $3; sets NGINX_PID, NGINX_URL
start_nginx() {
    local body=$1 workers=${2:-1} cpus=${3:-$SERVER_CPU} dir=$T/nginx-${2:-1} port n master=off
    [ "$workers" -gt 1 ] && master=on
    case "$body" in *[\'\\]*) die "the reference body cannot be quoted for nginx" ;; esac
    mkdir -p "$dir"
    port=$(free_port)
    cat >"$dir/nginx.conf" <<EOF
# generated by bench/run.sh: the reference server of case (a)
worker_processes $workers;
daemon off;
master_process $master;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        default_type application/json;
        location / { return 200 '$body'; }
        # the no-op auth service of case (i0): 200 without a body, as latchkey answers
        # (nginx keeps an auth subrequest's connection only when the answer has no body)
        location = /auth/check { return 200; }
    }
}
EOF
    taskset -c "$cpus" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" 2>>"$dir/stderr" &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    NGINX_URL=http://127.0.0.1:$port
    for n in $(seq 1 100); do
        curl -fs -o /dev/null "$NGINX_URL/" && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/stderr" "$dir/error.log" >&2 2>/dev/null || true
    die "nginx did not start"
}

# starts nginx on CPU 0 with contrib/nginx/latchkey-gateway.conf (asking latchkey on
# port $1) in front of an upstream that nginx itself serves ($2 as application/json),
# a second server proxying to the same upstream without asking anyone, and a third
# with the same configuration asking a no-op auth service instead of latchkey: the
# nginx on port $3 (the reference of case a), whose /auth/check is an empty 200; sets GW_PID,
# GW_URL (guarded), GWH_URL (unguarded), GW0_URL (guarded by the no-op)
start_gateway() {
    local lk_port=$1 body=$2 noop_port=$3 dir=$T/gateway gport g0port hport uport n f
    mkdir -p "$dir"
    gport=$(free_port)
    g0port=$(free_port)
    hport=$(free_port)
    uport=$(free_port)
    for f in latchkey-gateway.conf latchkey-proxy.conf; do
        sed -e "s/listen 127\.0\.0\.1:8000;/listen 127.0.0.1:$gport;/" -e "s/127\.0\.0\.1:8080/127.0.0.1:$lk_port/" \
            -e "s/127\.0\.0\.1:9000/127.0.0.1:$uport/" "$HERE/../contrib/nginx/$f" >"$dir/$f"
    done
    # the no-op's copy: its own upstream names (nginx allows each name once)
    sed -e "s/listen 127\.0\.0\.1:8000;/listen 127.0.0.1:$g0port;/" -e "s/127\.0\.0\.1:8080/127.0.0.1:$noop_port/" \
        -e "s/127\.0\.0\.1:9000/127.0.0.1:$uport/" -e 's/\(upstream \|http:\/\/\)latchkey\b/\1noop_auth/' \
        -e 's/\(upstream \|http:\/\/\)team_api\b/\1team_api_noop/' \
        "$HERE/../contrib/nginx/latchkey-gateway.conf" >"$dir/noop-gateway.conf"
    cat >"$dir/nginx.conf" <<EOF
# generated by bench/run.sh: the gateway of cases (h) and (i)
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/latchkey-gateway.conf;
    include $dir/noop-gateway.conf;
    server {
        listen 127.0.0.1:$uport;
        default_type application/json;
        location / { return 200 '$body'; }
    }
    server {
        listen 127.0.0.1:$hport;
        location / {
            proxy_pass http://team_api;
            include $dir/latchkey-proxy.conf;
        }
    }
}
EOF
    taskset -c "$SERVER_CPU" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" 2>>"$dir/stderr" &
    GW_PID=$!
    PIDS+=("$GW_PID")
    GW_URL=http://127.0.0.1:$gport
    GWH_URL=http://127.0.0.1:$hport
    GW0_URL=http://127.0.0.1:$g0port
    for n in $(seq 1 100); do
        curl -fs -o /dev/null "$GWH_URL/" && return 0
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/stderr" "$dir/error.log" >&2 2>/dev/null || true
    die "the gateway nginx did not start"
}

# --- load ---------------------------------------------------------------------------

# wrk on CPU 1 with one thread (or on the CPUs and threads $WRK_CPUS / $WRK_THREADS),
# keep-alive unless the case says otherwise: wrk_run SECONDS OUT ARGS...
wrk_run() {
    local secs=$1 out=$2
    shift 2
    timeout $((secs + 30)) taskset -c "${WRK_CPUS:-$WRK_CPU}" wrk -t"${WRK_THREADS:-1}" -c"$CONNS" -d"${secs}s" \
        --latency "$@" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
}

# a case: define_case NAME LABEL SERVER_PID URL [wrk args...]
ORDER=()
declare -A LABEL SRV URL ARGS RPS P99 ERRS OTHER WCPUS WTHREADS DURING
define_case() {
    local name=$1
    LABEL[$name]=$2
    SRV[$name]=$3
    URL[$name]=$4
    shift 4
    ARGS[$name]=$(printf '%s\n' "$@")
    ORDER+=("$name")
}

# measure NAME ROUND: one measured run (after a warm-up in round 1); fills RPS, P99,
# ERRS and OTHER (the share of both CPUs that went neither to the server nor to wrk:
# other work on the machine, which makes that run unreliable) under "NAME,ROUND"
measure() {
    local name=$1 round=$2 out=$T/wrk-$1-$2.txt args=() c0 c1 s0 s1 k0 k1 bg=""
    [ -n "${ARGS[$name]}" ] && mapfile -t args <<<"${ARGS[$name]}"
    local WRK_CPUS=${WCPUS[$name]:-} WRK_THREADS=${WTHREADS[$name]:-}
    if [ "$round" = 1 ] && [ "$WARM" -gt 0 ]; then
        wrk_run "$WARM" "$T/warm-$name.txt" "${args[@]}" "${URL[$name]}"
    fi
    # a case measured while another load runs (its own wrk, on the same CPU as the measuring one)
    if [ -n "${DURING[$name]:-}" ]; then
        eval "${DURING[$name]}" >"$T/during-$name-$round.txt" 2>&1 &
        bg=$!
        PIDS+=("$bg")
        sleep 0.5
    fi
    read -r -a c0 < <(cpu_ticks)
    # shellcheck disable=SC2086 # SRV may name several processes (the gateway cases)
    s0=$(proc_ticks ${SRV[$name]})
    children_ticks
    k0=$CHILD_TICKS
    wrk_run "$SECS" "$out" "${args[@]}" "${URL[$name]}"
    read -r -a c1 < <(cpu_ticks)
    # shellcheck disable=SC2086
    s1=$(proc_ticks ${SRV[$name]})
    children_ticks
    k1=$CHILD_TICKS
    local key=$name,$round
    if [ -n "$bg" ]; then
        wait "$bg" 2>/dev/null || true
        forget_pid "$bg"
    fi
    RPS[$key]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    [ -n "${RPS[$key]}" ] || { cat "$out" >&2; die "cannot read wrk's output for case $name"; }
    # p99 in milliseconds, from wrk's "99%  1.23ms" (units us, ms, s, m)
    P99[$key]=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.2f", v * f}' "$out")
    ERRS[$key]=$(awk '/Non-2xx or 3xx responses:/ {e += $NF}
        /Socket errors:/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10} END {print e + 0}' "$out")
    OTHER[$key]=$(awk -v b="$((c1[0] - c0[0]))" -v t="$((c1[1] - c0[1]))" -v s="$((s1 - s0))" -v k="$((k1 - k0))" \
        'BEGIN {o = (t > 0) ? 100 * (b - s - k) / t : 0; printf "%.0f", (o < 0) ? 0 : o}')
    note "$(printf 'round %s (%s) %-46s %7s req/s  p99 %6s ms  errors %s  other load %s %%' "$round" "$name" \
        "${LABEL[$name]}" "${RPS[$key]}" "${P99[$key]}" "${ERRS[$key]}" "${OTHER[$key]}")"
}

# the median round of a case (its index), by requests/s
median_round() {
    local name=$1 r
    for r in $(seq 1 "$2"); do echo "${RPS[$name,$r]} $r"; done | sort -n | awk '{a[NR] = $2} END {print a[int((NR + 1) / 2)]}'
}

# ================================================================================

note "latchkey $("$BIN" --version | awk '{print $2}'), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}'); temporary folder $T"
note "$ROUNDS rounds of $SECS s per case ($WARM s warm-up first); server on CPU $SERVER_CPU, wrk -t1 -c$CONNS on CPU $WRK_CPU"

# other work on the machine makes every figure noisy: wait up to 60 s for quiet
BUSY=$(busy_now)
for n in $(seq 1 30); do
    [ "$BUSY" -le 10 ] && break
    [ "$n" = 1 ] && note "the CPUs are $BUSY % busy with other work; waiting up to 60 s for quiet"
    sleep 1
    BUSY=$(busy_now)
done
[ "$BUSY" -le 10 ] || note "still $BUSY % busy: the figures of this run are noisy"

SMALL=$T/small
LARGE=$T/large
note "seeding: 1 + $N_SMALL services, and 1 + $N_LARGE services and API users (sqlite3)"
make_db "$SMALL" "$N_SMALL"
make_db "$LARGE" "$N_LARGE"

# --- the servers: latchkey with 1 + 1,000 services, nginx, latchkey with 1 + N_LARGE ----
start_latchkey "$SMALL"
S_PID=$LK_PID
S_URL=$LK_URL
TOKEN_PATH="/identity/oauth/token?grant_type=client_credentials&client_id=$(cat "$SMALL/client_id")&client_secret=$(cat "$SMALL/client_secret")"
BODY=$(curl -fsS "$S_URL$TOKEN_PATH") || die "the identity endpoint refused the CLI's service"
TOKEN=$(printf '%s' "$BODY" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || die "no access_token in $BODY"
read -r SEED_ID SEED_SECRET <"$SMALL/clients.txt"
curl -fsS -o /dev/null "$S_URL/identity/oauth/token?grant_type=client_credentials&client_id=$SEED_ID&client_secret=$SEED_SECRET" ||
    die "the identity endpoint refused a seeded service: its secret hash is not what latchkey computes"
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$S_URL/rest/v1/stats/usage.json" ||
    die "GET /rest/v1/stats/usage.json refused the token"
note "identity response: ${#BODY} bytes; nginx answers the same text"

start_nginx "$BODY"
A_PID=$NGINX_PID
A_URL=$NGINX_URL

start_latchkey "$LARGE"
L_PID=$LK_PID
L_URL=$LK_URL
START_LARGE_S=$LK_START_S
RSS_START=$(rss_kb "$L_PID" VmRSS)
HWM_START=$(rss_kb "$L_PID" VmHWM)
note "$N_LARGE services and API users: listening after $START_LARGE_S s; RSS $((RSS_START / 1024)) MB, peak $((HWM_START / 1024)) MB"
BIG_BODY=$(curl -fsS "$L_URL/identity/oauth/token?grant_type=client_credentials&client_id=$(cat "$LARGE/client_id")&client_secret=$(cat "$LARGE/client_secret")") ||
    die "the identity endpoint refused the CLI's service ($N_LARGE services)"
BIG_TOKEN=$(printf '%s' "$BIG_BODY" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')

# the PostgreSQL cases: the small instance moved into a private PostgreSQL cluster
# (export / import), served by a third latchkey on CPU 0 sharing the small one's key file
PG=${BENCH_PG:-1}
if [ "$PG" = 1 ]; then
    pg=$(sh "$HERE/../tests/pg/cluster.sh" start) || die "cannot start a PostgreSQL cluster (BENCH_PG=0 leaves it out)"
    PG_DIR=$(echo "$pg" | sed -n 1p)
    PG_ADMIN=$(echo "$pg" | sed -n 2p)
    psql -X -q -d "$PG_ADMIN" -c "CREATE DATABASE lk_bench" >/dev/null
    PG_URL=$(echo "$PG_ADMIN" | sed 's#/postgres?#/lk_bench?#')
    LK "$SMALL/latchkey.db" export "$SMALL/export.json" >/dev/null
    LK "$PG_URL" migrate >/dev/null
    LK "$PG_URL" import "$SMALL/export.json" >/dev/null
    mkdir -p "$T/pg"
    t0=$(date +%s.%N)
    LATCHKEY_TOKEN_KEY_FILE="$SMALL/latchkey.db.keys" taskset -c "$SERVER_CPU" "$BIN" serve --listen 127.0.0.1:0 \
        --db "$PG_URL" --threads 1 --access-log false 2>"$T/pg/serve.err" &
    P_PID=$!
    PIDS+=("$P_PID")
    for n in $(seq 1 600); do
        grep -q 'msg="listening on ' "$T/pg/serve.err" && break
        kill -0 "$P_PID" 2>/dev/null || { cat "$T/pg/serve.err" >&2; die "latchkey serve on PostgreSQL exited at start"; }
        sleep 0.1
    done
    P_URL=$(sed -n 's/.*msg="listening on \([^"]*\)".*/\1/p' "$T/pg/serve.err" | head -n1)
    [ -n "$P_URL" ] || die "latchkey serve on PostgreSQL did not listen within 60 s"
    P_BODY=$(curl -fsS "$P_URL$TOKEN_PATH") || die "the PostgreSQL instance refused the moved service"
    P_TOKEN=$(printf '%s' "$P_BODY" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    curl -fsS -o /dev/null -H "Authorization: Bearer $P_TOKEN" "$P_URL/rest/v1/stats/usage.json" ||
        die "the PostgreSQL instance refused its own token"
    note "PostgreSQL $(psql -X -A -t -d "$PG_ADMIN" -c 'SHOW server_version'): the small instance imported, served at $P_URL"
fi

# the two-thread cases: latchkey (a second process on the small database) and nginx
# with two workers, each on both CPUs, wrk -t2 on both CPUs too
start_latchkey "$SMALL" 2 0,1
S2_PID=$LK_PID
S2_URL=$LK_URL
start_nginx "$BODY" 2 0,1
A2_PID=$NGINX_PID
A2_URL=$NGINX_URL

# the gateway cases: latchkey trusting nginx (a third process on the small database) and
# nginx in front of an upstream, all on CPU 0
LK_EXTRA=(--trusted-proxies 127.0.0.1)
start_latchkey "$SMALL"
LK_EXTRA=()
G_LK_PID=$LK_PID
G_LK_URL=$LK_URL
start_gateway "${G_LK_URL##*:}" "$BODY" "${A_URL##*:}"
GW_CHECK=$(curl -sS -H "Authorization: Bearer $TOKEN" "$GW_URL/rest/v1/leads.json")
[ "$GW_CHECK" = "$BODY" ] || die "the gateway did not pass GET /rest/v1/leads.json to the upstream: $GW_CHECK"
GW0_CHECK=$(curl -sS -H "Authorization: Bearer $TOKEN" "$GW0_URL/rest/v1/leads.json")
[ "$GW0_CHECK" = "$BODY" ] || die "the gateway asking the no-op did not pass the call to the upstream: $GW0_CHECK"

# the user management API's token on both instances, and the roles case (g) grants
um_token() {
    curl -fsS "$2/identity/oauth/token?grant_type=client_credentials&client_id=$(cat "$1/um_client_id")&client_secret=$(cat "$1/um_client_secret")" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
S_UM=$(um_token "$SMALL" "$S_URL")
L_UM=$(um_token "$LARGE" "$L_URL")
[ -n "$S_UM" ] && [ -n "$L_UM" ] || die "no user management token"
S_ROLE=$(sqlite3 "$SMALL/latchkey.db" "SELECT id FROM roles WHERE name = 'Bench API'")
if [ "$PG" = 1 ]; then
    P_UM=$(um_token "$SMALL" "$P_URL")
    P_ROLE=$(psql -X -A -t -d "$PG_URL" -c "SELECT id FROM roles WHERE name = 'Bench API'")
    [ -n "$P_UM" ] && [ -n "$P_ROLE" ] || die "no user management token on PostgreSQL"
fi
L_ROLE=$(sqlite3 "$LARGE/latchkey.db" "SELECT id FROM roles WHERE name = 'Bench API'")
RUN=$(date +%s)

export BENCH_CLIENTS=$SMALL/clients.txt
define_case a "nginx, return 200 (reference)" "$A_PID" "$A_URL/"
define_case ae "nginx, new connection per request (for e)" "$A_PID" "$A_URL/" -H "Connection: close"
define_case b "identity, existing token" "$S_PID" "$S_URL$TOKEN_PATH"
define_case c "identity, $N_SMALL services in turn" "$S_PID" "$S_URL" -s "$HERE/clients.lua"
define_case d "stats/usage.json, Bearer token" "$S_PID" "$S_URL/rest/v1/stats/usage.json" \
    -H "Authorization: Bearer $TOKEN"
define_case e "identity, new connection per request" "$S_PID" "$S_URL$TOKEN_PATH" -H "Connection: close"
define_case f0 "(f) before the other tokens are issued (info)" "$L_PID" "$L_URL/rest/v1/stats/usage.json" \
    -H "Authorization: Bearer $BIG_TOKEN"
define_case f "(d) with $N_LARGE users, services, tokens" "$L_PID" "$L_URL/rest/v1/stats/usage.json" \
    -H "Authorization: Bearer $BIG_TOKEN"
define_case fg "(f) while (g) runs on the same server" "$L_PID" "$L_URL/rest/v1/stats/usage.json" \
    -H "Authorization: Bearer $BIG_TOKEN"
DURING[fg]="timeout \$((SECS + 30)) taskset -c $WRK_CPU wrk -t1 -c$UM_CONNS -d\$((SECS + 1))s -s $HERE/um.lua $L_URL -- $L_UM $L_ROLE $L_ROLE fg\$RANDOM"
# (g): the URL goes before the script's arguments (after --), so the case's URL is empty
define_case gs "(g) invite + role change, $N_SMALL services" "$S_PID" "" -c"$UM_CONNS" -s "$HERE/um.lua" \
    "$S_URL" -- "$S_UM" "$S_ROLE" "$S_ROLE" "gs$RUN"
define_case gl "(g) invite + role change, $N_LARGE services" "$L_PID" "" -c"$UM_CONNS" -s "$HERE/um.lua" \
    "$L_URL" -- "$L_UM" "$L_ROLE" "$L_ROLE" "gl$RUN"
define_case h "gateway: nginx -> upstream, no auth" "$GW_PID" "$GWH_URL/rest/v1/leads.json" \
    -H "Authorization: Bearer $TOKEN"
define_case i "gateway: (h) with auth_request to latchkey" "$GW_PID $G_LK_PID" "$GW_URL/rest/v1/leads.json" \
    -H "Authorization: Bearer $TOKEN"
define_case i0 "gateway: (i) asking a no-op (nginx's 200)" "$GW_PID $A_PID" "$GW0_URL/rest/v1/leads.json" \
    -H "Authorization: Bearer $TOKEN"
define_case j "/auth/check alone (as nginx asks it)" "$G_LK_PID" "$G_LK_URL/auth/check" \
    -H "Authorization: Bearer $TOKEN" -H "X-Original-Method: GET" -H "X-Original-URI: /rest/v1/leads.json"
define_case a2 "nginx, 2 workers, wrk -t2 (both CPUs)" "$A2_PID" "$A2_URL/"
WCPUS[a2]=0,1
WTHREADS[a2]=2
define_case d2 "(d) with --threads 2, wrk -t2 (both CPUs)" "$S2_PID" "$S2_URL/rest/v1/stats/usage.json" \
    -H "Authorization: Bearer $TOKEN"
WCPUS[d2]=0,1
WTHREADS[d2]=2
CASES="a ae b c d e f fg gs gl h i i0 j a2 d2"
if [ "$PG" = 1 ]; then
    define_case dp "(d) on PostgreSQL" "$P_PID" "$P_URL/rest/v1/stats/usage.json" -H "Authorization: Bearer $P_TOKEN"
    define_case gp "(g) on PostgreSQL, $N_SMALL services" "$P_PID" "" -c"$UM_CONNS" -s "$HERE/um.lua" \
        "$P_URL" -- "$P_UM" "$P_ROLE" "$P_ROLE" "gp$RUN"
    CASES="$CASES dp gp"
fi

# (f0) once: the size of the catalog alone, before its services hand out tokens
measure f0 1

# --- memory: one token per service ---------------------------------------------------
# every client id once; clients.lua creates $BENCH_DONE when all have answered, then wrk
# is ended early with SIGINT (it still prints its figures)
ISSUE_SECS=$((N_LARGE / 1000 + 10))
t0=$(date +%s.%N)
BENCH_CLIENTS=$LARGE/clients.txt BENCH_ONCE=1 BENCH_DONE=$T/issue.done \
    taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${ISSUE_SECS}s" -s "$HERE/clients.lua" "$L_URL" >"$T/wrk-issue.txt" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")
for n in $(seq 1 $((ISSUE_SECS * 10))); do
    [ -e "$T/issue.done" ] && break
    kill -0 "$WRK_PID" 2>/dev/null || break
    sleep 0.1
done
kill -INT "$WRK_PID" 2>/dev/null || true
for n in $(seq 1 100); do kill -0 "$WRK_PID" 2>/dev/null || break; sleep 0.1; done
stop_pid "$WRK_PID"
[ -e "$T/issue.done" ] || note "token issuing did not finish within $ISSUE_SECS s"
ISSUE_ERRS=$(awk '/Non-2xx or 3xx responses:/ {e += $NF} END {print e + 0}' "$T/wrk-issue.txt")
ISSUED=$(awk '/requests in/ {print $1}' "$T/wrk-issue.txt")
ISSUE_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
sleep 1
RSS_TOKENS=$(rss_kb "$L_PID" VmRSS)
HWM_TOKENS=$(rss_kb "$L_PID" VmHWM)
note "$ISSUED token requests in $ISSUE_S s ($ISSUE_ERRS not 2xx); RSS $((RSS_TOKENS / 1024)) MB, peak $((HWM_TOKENS / 1024)) MB"

# --- a CLI change reaching the running server (1,000,000 services) --------------------
read -r VIS_ID VIS_SECRET < <(sed -n '7p' "$LARGE/clients.txt")
VISIBLE_MS=$(python3 "$HERE/visible.py" "$BIN" "$LARGE/latchkey.db" "$L_URL" "$VIS_ID" "$VIS_SECRET" bench-7@bench.test) ||
    die "could not measure how soon a CLI change is visible"
note "a user locked with the CLI: its token refused by the server ${VISIBLE_MS} ms after the CLI returned"

# --- the rounds (the memory of the large server is sampled throughout) ----------------
rss_sampler() {
    local max=0 v
    while kill -0 "$L_PID" 2>/dev/null; do
        v=$(rss_kb "$L_PID" VmRSS)
        [ -n "$v" ] && [ "$v" -gt "$max" ] && { max=$v; echo "$max" >"$T/rss.max"; }
        sleep 0.1
    done
}
echo "$RSS_TOKENS" >"$T/rss.max"
rss_sampler &
SAMPLER=$!
PIDS+=("$SAMPLER")
for r in $(seq 1 "$ROUNDS"); do
    for name in $CASES; do measure "$name" "$r"; done
done
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
forget_pid "$SAMPLER"
RSS_END=$(rss_kb "$L_PID" VmRSS)
RSS_MAX=$(cat "$T/rss.max")
USERS_END=$(sqlite3 -cmd ".timeout 5000" "$LARGE/latchkey.db" "SELECT count(*) FROM users")

# --- the table ----------------------------------------------------------------------
declare -A MED SPREAD MAXOTHER ERRSUM MEDP99
for name in "${ORDER[@]}"; do
    n=$ROUNDS
    [ "$name" = f0 ] && n=1
    m=$(median_round "$name" "$n")
    MED[$name]=${RPS[$name,$m]}
    MEDP99[$name]=${P99[$name,$m]}
    lo=${RPS[$name,1]} hi=${RPS[$name,1]} mo=0 es=0
    for r in $(seq 1 "$n"); do
        v=${RPS[$name,$r]}
        [ "$v" -lt "$lo" ] && lo=$v
        [ "$v" -gt "$hi" ] && hi=$v
        [ "${OTHER[$name,$r]}" -gt "$mo" ] && mo=${OTHER[$name,$r]}
        es=$((es + ERRS[$name,$r]))
    done
    SPREAD[$name]=$(awk -v lo="$lo" -v hi="$hi" -v m="${MED[$name]}" 'BEGIN {printf "%.0f", (m > 0) ? 100 * (hi - lo) / m : 0}')
    MAXOTHER[$name]=$mo
    ERRSUM[$name]=$es
done

A=${MED[a]}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.2f", (y > 0) ? x / y : 0}'; }
echo
echo "latchkey make bench — $(date -u +%Y-%m-%dT%H:%MZ); $(nproc --all) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), kernel $(uname -r)"
echo "server on CPU $SERVER_CPU, wrk -t1 -c$CONNS --latency on CPU $WRK_CPU (a2, d2: both on CPUs 0,1, wrk -t2);" \
    "(g) wrk -c$UM_CONNS; median of $ROUNDS rounds of $SECS s; CPUs $BUSY % busy with other work at the start"
echo
printf '| %-4s | %-46s | %8s | %8s | %10s | %8s | %6s | %10s |\n' case what "req/s" "p99 ms" "ratio to a" "spread %" errors "other load"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------ ------------------------------------------------ ---------: ---------: -----------: ---------: -------: -----------:
for name in "${ORDER[@]}"; do
    printf '| %-4s | %-46s | %8s | %8s | %10s | %8s | %6s | %9s%% |\n' "($name)" "${LABEL[$name]}" "${MED[$name]}" \
        "${MEDP99[$name]}" "$(ratio "${MED[$name]}" "$A")" "${SPREAD[$name]}" "${ERRSUM[$name]}" "${MAXOTHER[$name]}"
done
echo
echo "start with $N_LARGE services and API users: $START_LARGE_S s to listening"
echo "memory (VmRSS) with $N_LARGE services and API users: $((RSS_START / 1024)) MB after start (peak $((HWM_START / 1024)) MB" \
    "during the load), $((RSS_TOKENS / 1024)) MB with a token issued for each service ($ISSUED token requests," \
    "$ISSUE_ERRS not 2xx), $((RSS_MAX / 1024)) MB at most during the rounds (user management writes included), $((RSS_END / 1024)) MB at the end"
echo "a CLI change (user lock) refused by the server with $N_LARGE services: $VISIBLE_MS ms after the CLI returned;" \
    "$USERS_END users in the large database after the (g) rounds"
echo

verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
ge() { awk -v x="$1" -v y="$2" 'BEGIN {print (x >= y) ? 1 : 0}'; }
ratio_target() { # label x y min
    printf '  %s  %s: %s vs %s (ratio %s, target >= %s)\n' "$(verdict "$(awk -v x="$2" -v y="$3" -v m="$4" 'BEGIN {print (y > 0 && x >= m * y) ? 1 : 0}')")" \
        "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"
}
half=$(awk -v a="$A" 'BEGIN {print 0.5 * a}')
echo "targets (timings are not asserted; compare only within one run):"
for c in b c; do
    printf '  %s  (%s) >= 0.5 x nginx: %s req/s vs %s (ratio %s)\n' "$(verdict "$(ge "${MED[$c]}" "$half")")" "$c" \
        "${MED[$c]}" "$A" "$(ratio "${MED[$c]}" "$A")"
done
ratio_target "(d) against nginx (a), req/s" "${MED[d]}" "$A" 0.7
ratio_target "(f) against (d), req/s" "${MED[f]}" "${MED[d]}" 0.9
ratio_target "(f) while (g) runs against (d), req/s" "${MED[fg]}" "${MED[d]}" 0.9
ratio_target "(g) with $N_LARGE services against $N_SMALL, writes/s" "${MED[gl]}" "${MED[gs]}" 0.5
ratio_target "two threads: (d2) against nginx with 2 workers (a2), req/s" "${MED[d2]}" "${MED[a2]}" 0.7
if [ "$PG" = 1 ]; then
    # the hot path never touches the database: (d) does not care which store is behind it
    ratio_target "(d) on PostgreSQL (dp) against (d) on SQLite, req/s" "${MED[dp]}" "${MED[d]}" 0.9
    printf '  info  (g) on PostgreSQL (gp) against (g) on SQLite (gs), writes/s: %s vs %s (ratio %s)\n' \
        "${MED[gp]}" "${MED[gs]}" "$(ratio "${MED[gp]}" "${MED[gs]}")"
fi
ratio_target "gateway: (i) with latchkey's auth_request against (h) without, req/s" "${MED[i]}" "${MED[h]}" 0.6
# what any auth service answering over HTTP leaves of (h) here, and latchkey's part of it
printf '  info  (i0) asking a no-op against (h): %s vs %s req/s (ratio %s); (i) against (i0): ratio %s\n' \
    "${MED[i0]}" "${MED[h]}" "$(ratio "${MED[i0]}" "${MED[h]}")" "$(ratio "${MED[i]}" "${MED[i0]}")"
printf '  info  (j) /auth/check alone against nginx (a): %s vs %s req/s (ratio %s)\n' "${MED[j]}" "$A" "$(ratio "${MED[j]}" "$A")"
printf '  %s  a CLI change visible within 200 ms with %s services: %s ms\n' \
    "$(verdict "$([ "$VISIBLE_MS" -ge 0 ] && [ "$VISIBLE_MS" -le 200 ] && echo 1 || echo 0)")" "$N_LARGE" "$VISIBLE_MS"
printf '  %s  RSS with %s services and tokens < %s MB: %s MB\n' \
    "$(verdict "$([ $((RSS_TOKENS / 1024)) -lt "$RSS_TARGET_MB" ] && echo 1 || echo 0)")" "$N_LARGE" \
    "$RSS_TARGET_MB" "$((RSS_TOKENS / 1024))"
printf '  %s  no RSS spike above 1.2 x rest during changes: at most %s MB against %s MB (x %s)\n' \
    "$(verdict "$(awk -v m="$RSS_MAX" -v r="$RSS_TOKENS" 'BEGIN {print (m <= 1.2 * r) ? 1 : 0}')")" \
    "$((RSS_MAX / 1024))" "$((RSS_TOKENS / 1024))" "$(ratio "$RSS_MAX" "$RSS_TOKENS")"
[ "$ISSUE_ERRS" -eq 0 ] || echo "  note: $ISSUE_ERRS token requests failed while issuing one token per service"
errs=0
noisy=0
for name in "${ORDER[@]}"; do
    errs=$((errs + ERRSUM[$name]))
    [ "${MAXOTHER[$name]}" -gt 5 ] && noisy=1
done
[ "$errs" -eq 0 ] || echo "  note: some requests failed (errors column): those rows do not measure what they say"
[ "$noisy" -eq 0 ] || echo "  note: other work ran during some rounds (other load > 5 %): run again on a quiet machine"
