#!/usr/bin/env bash
# bench/run.sh — `make bench`: requests/s of latchkey against Debian's nginx on the same
# core, in the same run, and latchkey's resident memory with 100,000 services and tokens.
#
# The server under test runs on CPU 0 (latchkey with --threads 1 --access-log false),
# wrk on CPU 1 (-t1 -c64 --latency, keep-alive). Everything listens on 127.0.0.1 on a free
# port, lives in one temporary folder and is stopped on exit; every load is bounded by
# wrk -d. Timings are never asserted: the table is the result, and a missed target
# prints MISS without failing.
#
#   BENCH_BIN       the latchkey binary (default build/latchkey)
#   BENCH_SECONDS   seconds of load per case (default 8)
#   BENCH_WARMUP    seconds of unmeasured load before each case (default 2)
#   BENCH_SERVICES  services and API users of case (f) and the memory figure (default 100000)
#   BENCH_KEEP=1    keep the temporary folder (databases, logs, wrk outputs)
# Cases, targets and how to read the figures: docs/benchmarks.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BENCH_BIN:-build/latchkey}
SECS=${BENCH_SECONDS:-8}
WARM=${BENCH_WARMUP:-2}
N_LARGE=${BENCH_SERVICES:-100000}
N_SMALL=1000
CONNS=64
SERVER_CPU=0
WRK_CPU=1
RSS_TARGET_MB=100

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

is_count() { case "$1" in '' | *[!0-9]*) return 1 ;; *) [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] ;; esac; }
is_count "$SECS" 1 600 || die "BENCH_SECONDS must be a whole number from 1 to 600, not '$SECS'"
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
trap cleanup EXIT
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

# busy jiffies and all jiffies of one CPU, from /proc/stat
cpu_ticks() { awk -v c="cpu$1" '$1 == c {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }

# --- the databases ------------------------------------------------------------------

LK() { "$BIN" --db "$1" "${@:2}"; }

# A database with one API-only user and service made with the CLI (BENCH_ID,
# BENCH_SECRET files), instance limits removed, and n more users and services seeded
# with sqlite3 (credentials in $dir/clients.txt).
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
    # 0 removes a limit (src/core/limits.h): no 606/607/615 can interfere
    LK "$db" limits set --rate 0 --daily 0 --concurrent 0 >/dev/null
    local role
    role=$(sqlite3 "$db" "SELECT id FROM roles WHERE name = 'Bench API'")
    python3 "$HERE/seed.py" "$n" "$role" "$dir/seed.sql" "$dir/clients.txt"
    sqlite3 "$db" <"$dir/seed.sql"
    local got
    got=$(sqlite3 "$db" "SELECT count(*) FROM services")
    [ "$got" -eq $((n + 1)) ] || die "seeding $db: $got services, expected $((n + 1))"
    # the seeded hash must be what lk_secret_hash computes: BLAKE2b-256, no key
    local id secret want have
    read -r id secret <"$dir/clients.txt"
    want=$(printf '%s' "$secret" | b2sum -l 256 | cut -d' ' -f1)
    have=$(sqlite3 "$db" "SELECT secret_hash FROM services WHERE client_id = '$id'")
    [ "$want" = "$have" ] || die "seeded secret hash differs from b2sum -l 256 ($have vs $want)"
}

# --- servers ------------------------------------------------------------------------

LK_PID=""
LK_URL=""
# starts latchkey serve on CPU 0 over $1/latchkey.db; sets LK_PID, LK_URL, LK_START_S
start_latchkey() {
    local dir=$1 err=$1/serve.err t0 t1 n
    t0=$(date +%s.%N)
    taskset -c "$SERVER_CPU" "$BIN" serve --listen 127.0.0.1:0 --db "$dir/latchkey.db" \
        --threads 1 --access-log false 2>"$err" &
    LK_PID=$!
    PIDS+=("$LK_PID")
    for n in $(seq 1 600); do
        grep -q '^listening on ' "$err" && break
        kill -0 "$LK_PID" 2>/dev/null || { cat "$err" >&2; die "latchkey serve exited at start"; }
        sleep 0.1
    done
    grep -q '^listening on ' "$err" || die "latchkey serve did not listen within 60 s"
    t1=$(date +%s.%N)
    LK_START_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
    LK_URL=$(sed -n 's/^listening on //p' "$err" | head -n1)
}

NGINX_PID=""
NGINX_URL=""
# starts Debian's nginx on CPU 0: one process, returning $1 as application/json
start_nginx() {
    local body=$1 dir=$T/nginx port n
    case "$body" in *[\'\\]*) die "the reference body cannot be quoted for nginx" ;; esac
    mkdir -p "$dir"
    port=$(free_port)
    cat >"$dir/nginx.conf" <<EOF
# generated by bench/run.sh: the reference server of case (a)
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
    server {
        listen 127.0.0.1:$port;
        default_type application/json;
        location / { return 200 '$body'; }
    }
}
EOF
    taskset -c "$SERVER_CPU" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" 2>>"$dir/stderr" &
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

# --- load ---------------------------------------------------------------------------

# wrk on CPU 1, keep-alive unless the case says otherwise: wrk_run SECONDS OUT ARGS...
wrk_run() {
    local secs=$1 out=$2
    shift 2
    timeout $((secs + 30)) taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" --latency "$@" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk failed"; }
}

# case NAME LABEL URL [wrk args]: a warm-up, then the measured run; one row of results
ROWS=()
declare -A RPS P99 ERRS
run_case() {
    local name=$1 label=$2 url=$3 out=$T/wrk-$1.txt c0 c1 w0 w1
    shift 3
    [ "$WARM" -gt 0 ] && wrk_run "$WARM" "$T/warm-$name.txt" "$@" "$url"
    read -r -a c0 < <(cpu_ticks "$SERVER_CPU")
    read -r -a w0 < <(cpu_ticks "$WRK_CPU")
    wrk_run "$SECS" "$out" "$@" "$url"
    read -r -a c1 < <(cpu_ticks "$SERVER_CPU")
    read -r -a w1 < <(cpu_ticks "$WRK_CPU")
    RPS[$name]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    # p99 in milliseconds, from wrk's "99%  1.23ms" (units us, ms, s)
    P99[$name]=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1; printf "%.2f", v * f}' "$out")
    ERRS[$name]=$(awk '/Non-2xx or 3xx responses:/ {e += $NF}
        /Socket errors:/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10} END {print e + 0}' "$out")
    [ -n "${RPS[$name]}" ] || { cat "$out" >&2; die "cannot read wrk's output for case $name"; }
    local busy0 busy1
    busy0=$(awk -v a="${c0[0]}" -v b="${c1[0]}" -v x="${c0[1]}" -v y="${c1[1]}" 'BEGIN {printf "%.0f", (y > x) ? 100 * (b - a) / (y - x) : 0}')
    busy1=$(awk -v a="${w0[0]}" -v b="${w1[0]}" -v x="${w0[1]}" -v y="${w1[1]}" 'BEGIN {printf "%.0f", (y > x) ? 100 * (b - a) / (y - x) : 0}')
    ROWS+=("$name|$label|$busy0|$busy1")
    note "$(printf '(%s) %-46s %9s req/s  p99 %7s ms  errors %s' "$name" "$label" "${RPS[$name]}" "${P99[$name]}" "${ERRS[$name]}")"
}

# share of both CPUs busy over one second, in %
busy_now() {
    local a b
    a=$(awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat)
    sleep 1
    b=$(awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat)
    echo "$a $b" | awk '{printf "%.0f", ($4 > $2) ? 100 * ($3 - $1) / ($4 - $2) : 0}'
}

# ================================================================================

note "latchkey $("$BIN" --version | awk '{print $2}'), $(nginx -v 2>&1 | sed 's/.*nginx\///') and wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}') in $T"
note "$SECS s per case after $WARM s of warm-up; server on CPU $SERVER_CPU, wrk -t1 -c$CONNS on CPU $WRK_CPU"

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
note "seeding: 1 + $N_SMALL services, then 1 + $N_LARGE services and API users (sqlite3)"
make_db "$SMALL" "$N_SMALL"
make_db "$LARGE" "$N_LARGE"

# --- (b) to (e): 1 + 1,000 services -------------------------------------------------
start_latchkey "$SMALL"
ID=$(cat "$SMALL/client_id")
SECRET=$(cat "$SMALL/client_secret")
TOKEN_PATH="/identity/oauth/token?grant_type=client_credentials&client_id=$ID&client_secret=$SECRET"
BODY=$(curl -fsS "$LK_URL$TOKEN_PATH") || die "the identity endpoint refused the CLI's service"
TOKEN=$(printf '%s' "$BODY" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || die "no access_token in $BODY"
read -r SEED_ID SEED_SECRET <"$SMALL/clients.txt"
curl -fsS -o /dev/null "$LK_URL/identity/oauth/token?grant_type=client_credentials&client_id=$SEED_ID&client_secret=$SEED_SECRET" ||
    die "the identity endpoint refused a seeded service: its secret hash is not what latchkey computes"
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$LK_URL/rest/v1/stats/usage.json" ||
    die "GET /rest/v1/stats/usage.json refused the token"
note "identity response: ${#BODY} bytes; the reference body is the same text"

# (a) first, with latchkey idle
start_nginx "$BODY"
run_case a "nginx, return 200 (reference)" "$NGINX_URL/"
run_case ae "nginx, new connection per request (for e)" "$NGINX_URL/" -H "Connection: close"
stop_pid "$NGINX_PID"

run_case b "identity, existing token" "$LK_URL$TOKEN_PATH"
export BENCH_CLIENTS=$SMALL/clients.txt
run_case c "identity, $N_SMALL services in turn" "$LK_URL" -s "$HERE/clients.lua"
run_case d "stats/usage.json, Bearer token" "$LK_URL/rest/v1/stats/usage.json" -H "Authorization: Bearer $TOKEN"
run_case e "identity, new connection per request" "$LK_URL$TOKEN_PATH" -H "Connection: close"
stop_pid "$LK_PID"

# --- memory and (f): 1 + 100,000 services -------------------------------------------
start_latchkey "$LARGE"
START_LARGE_S=$LK_START_S
RSS_START=$(rss_kb "$LK_PID" VmRSS)
LARGE_TOKEN_PATH="/identity/oauth/token?grant_type=client_credentials&client_id=$(cat "$LARGE/client_id")&client_secret=$(cat "$LARGE/client_secret")"
BIG_BODY=$(curl -fsS "$LK_URL$LARGE_TOKEN_PATH") || die "the identity endpoint refused the CLI's service ($N_LARGE services)"
BIG_TOKEN=$(printf '%s' "$BIG_BODY" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
# the same before the other services have tokens: separates the size of the catalog
# from what minting 100,000 tokens leaves behind
run_case f0 "(f) before the other tokens are issued (info)" "$LK_URL/rest/v1/stats/usage.json" \
    -H "Authorization: Bearer $BIG_TOKEN"
# one token per service: every client id once; clients.lua creates $BENCH_DONE when
# all have answered, then wrk is ended early with SIGINT (it prints its figures)
export BENCH_CLIENTS=$LARGE/clients.txt BENCH_ONCE=1 BENCH_DONE=$T/issue.done
ISSUE_SECS=$((N_LARGE / 1000 + 10))
t0=$(date +%s.%N)
taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${ISSUE_SECS}s" -s "$HERE/clients.lua" "$LK_URL" >"$T/wrk-issue.txt" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")
for n in $(seq 1 $((ISSUE_SECS * 10))); do
    [ -e "$BENCH_DONE" ] && break
    kill -0 "$WRK_PID" 2>/dev/null || break
    sleep 0.1
done
kill -INT "$WRK_PID" 2>/dev/null || true
for n in $(seq 1 100); do kill -0 "$WRK_PID" 2>/dev/null || break; sleep 0.1; done
stop_pid "$WRK_PID"
unset BENCH_ONCE BENCH_DONE
[ -e "$T/issue.done" ] || note "token issuing did not finish within $ISSUE_SECS s"
ISSUE_ERRS=$(awk '/Non-2xx or 3xx responses:/ {e += $NF} END {print e + 0}' "$T/wrk-issue.txt")
ISSUED=$(awk '/requests in/ {print $1}' "$T/wrk-issue.txt")
# the store catches up within a second or two (background writer); wait for it, bounded
for n in $(seq 1 300); do
    STORED=$(sqlite3 -cmd ".timeout 2000" "$LARGE/latchkey.db" "SELECT count(*) FROM tokens" 2>/dev/null || echo 0)
    [ "$STORED" -gt "$N_LARGE" ] && break
    sleep 0.1
done
ISSUE_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
sleep 1
RSS_TOKENS=$(rss_kb "$LK_PID" VmRSS)
HWM_TOKENS=$(rss_kb "$LK_PID" VmHWM)
note "$N_LARGE services: listening after ${START_LARGE_S} s, RSS $((RSS_START / 1024)) MB; $ISSUED token requests ($ISSUE_ERRS not 2xx), $STORED tokens stored after ${ISSUE_S} s; RSS $((RSS_TOKENS / 1024)) MB, peak $((HWM_TOKENS / 1024)) MB"

run_case f "(d) with $N_LARGE users and services" "$LK_URL/rest/v1/stats/usage.json" -H "Authorization: Bearer $BIG_TOKEN"
stop_pid "$LK_PID"

# the reference again: how far the machine drifted during the run
start_nginx "$BODY"
run_case a2 "nginx again (drift check, not a target)" "$NGINX_URL/"
stop_pid "$NGINX_PID"

# --- the table ----------------------------------------------------------------------
A=${RPS[a]}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.2f", (y > 0) ? x / y : 0}'; }
echo
echo "latchkey make bench — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc --all) CPUs ($(lscpu | sed -n 's/^Model name: *//p' | head -n1)), kernel $(uname -r)"
echo "server on CPU $SERVER_CPU, wrk -t1 -c$CONNS --latency on CPU $WRK_CPU, $SECS s per case after $WARM s warm-up;" \
    "CPUs $BUSY % busy with other work before the start"
echo
printf '| %-4s | %-46s | %10s | %9s | %11s | %6s | %s |\n' case "what" "req/s" "p99 (ms)" "ratio to a" errors "CPU0/CPU1 busy %"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------ ------------------------------------------------ ------------: ----------: ------------: -------: ------------------
for row in "${ROWS[@]}"; do
    IFS='|' read -r name label b0 b1 <<<"$row"
    printf '| %-4s | %-46s | %10s | %9s | %11s | %6s | %s |\n' "($name)" "$label" "${RPS[$name]}" "${P99[$name]}" \
        "$(ratio "${RPS[$name]}" "$A")" "${ERRS[$name]}" "$b0/$b1"
done
echo
echo "memory (VmRSS) of latchkey with $N_LARGE services and API users: $((RSS_START / 1024)) MB after start," \
    "$((RSS_TOKENS / 1024)) MB with $STORED tokens issued (peak VmHWM $((HWM_TOKENS / 1024)) MB)"
echo

verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
ge() { awk -v x="$1" -v y="$2" 'BEGIN {print (x >= y) ? 1 : 0}'; }
half=$(awk -v a="$A" 'BEGIN {print 0.5 * a}')
echo "targets (timings are not asserted; compare only within one run):"
for c in b c d; do
    printf '  %s  (%s) >= 0.5 x nginx: %s req/s vs %s (ratio %s)\n' "$(verdict "$(ge "${RPS[$c]}" "$half")")" "$c" \
        "${RPS[$c]}" "${A}" "$(ratio "${RPS[$c]}" "$A")"
done
printf '  %s  (f) within 10 %% of (d): %s vs %s req/s (ratio %s)\n' \
    "$(verdict "$(awk -v f="${RPS[f]}" -v d="${RPS[d]}" 'BEGIN {print (f >= 0.9 * d) ? 1 : 0}')")" \
    "${RPS[f]}" "${RPS[d]}" "$(ratio "${RPS[f]}" "${RPS[d]}")"
printf '  %s  RSS with %s services and tokens < %s MB: %s MB\n' \
    "$(verdict "$([ $((RSS_TOKENS / 1024)) -lt "$RSS_TARGET_MB" ] && echo 1 || echo 0)")" "$N_LARGE" \
    "$RSS_TARGET_MB" "$((RSS_TOKENS / 1024))"
if [ "$ISSUE_ERRS" -ne 0 ] || [ "$STORED" -le "$N_LARGE" ]; then
    echo "  note: the memory figure is incomplete ($ISSUE_ERRS token requests failed, $STORED of $((N_LARGE + 1)) tokens stored)"
fi
errs=0
for row in "${ROWS[@]}"; do errs=$((errs + ${ERRS[${row%%|*}]})); done
[ "$errs" -eq 0 ] || echo "  note: some requests failed (errors column): those rows do not measure what they say"
