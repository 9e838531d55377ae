#!/bin/sh
# Runs every test against one build folder (the ASan+UBSan one under `make test`):
# the cmocka unit tests, then the end-to-end tests that drive the real binary.
# Ends with the line "N passed, N failed" and exits non-zero when anything failed.
set -u
BUILD=${1:-build-asan}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$ROOT/$BUILD" && pwd)
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT     # and the PostgreSQL cluster, below

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
export LSAN_OPTIONS="exitcode=88"

passed=0
failed=0

echo "== unit tests ($BUILD)"
for t in "$BUILD"/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    name=$(basename "$t")
    if "$t" >"$LOG/$name.out" 2>&1; then rc=0; else rc=$?; fi
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$LOG/$name.out" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$LOG/$name.out" | tail -n 1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed, leaked or sanitizer report
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
        echo "FAIL $name (exit $rc)"; cat "$LOG/$name.out"
    else
        echo "ok   $name: $p"
    fi
    passed=$((passed + p)); failed=$((failed + f))
done

# The same store-backed unit tests on PostgreSQL: a private cluster (tests/pg/cluster.sh)
# in a temporary folder, stopped and removed on exit; each test gets a fresh database.
PG_DIR=""
trap 'rm -rf "$LOG"; [ -n "$PG_DIR" ] && sh "$ROOT/tests/pg/cluster.sh" stop "$PG_DIR"' EXIT
if pg=$(sh "$ROOT/tests/pg/cluster.sh" start 2>"$LOG/pg.err"); then
    PG_DIR=$(echo "$pg" | sed -n 1p)
    export LATCHKEY_TEST_PG="$(echo "$pg" | sed -n 2p)"
else
    echo "FAIL postgresql: cannot start a private cluster (make deps installs postgresql)"
    cat "$LOG/pg.err"
    failed=$((failed + 1))
fi
pg_started=$(date +%s)
if [ -n "$PG_DIR" ]; then
    echo "== unit tests on PostgreSQL ($BUILD)"
    # every unit test that works through the store (test_store_open is about SQLite files)
    for name in test_store test_store_lists test_workspace test_permission test_role test_user test_service \
                test_audit test_limits test_allowlist test_catalog test_session test_mailq test_authz test_gwroute \
                test_worker test_peers; do
        t="$BUILD/$name"
        [ -x "$t" ] || continue
        if "$t" >"$LOG/$name.pg.out" 2>&1; then rc=0; else rc=$?; fi
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$LOG/$name.pg.out" | tail -n 1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$LOG/$name.pg.out" | tail -n 1)
        p=${p:-0}; f=${f:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
            echo "FAIL $name on PostgreSQL (exit $rc)"; cat "$LOG/$name.pg.out"
        else
            echo "ok   $name on PostgreSQL: $p"
        fi
        passed=$((passed + p)); failed=$((failed + f))
    done
fi
pg_seconds=$(( $(date +%s) - pg_started ))

if [ -n "${FUZZ_BUILD:-}" ] && [ -d "$ROOT/$FUZZ_BUILD" ]; then
    echo "== fuzz targets (${FUZZ_TEST_SECONDS:-5} s each; 'make fuzz' runs them longer)"
    for f in "$ROOT/$FUZZ_BUILD"/fuzz_*; do
        [ -f "$f" ] && [ -x "$f" ] || continue
        name=$(basename "$f"); corpus="$LOG/corpus-$name"
        mkdir -p "$corpus"
        cp "$ROOT/tests/fuzz/corpus/${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
        if "$f" -max_total_time="${FUZZ_TEST_SECONDS:-5}" "$corpus" >"$LOG/$name.out" 2>&1; then rc=0; else rc=$?; fi
        if [ "$rc" -eq 0 ]; then
            echo "ok   $name"; passed=$((passed + 1))
        else
            echo "FAIL $name (exit $rc)"
            grep -v '^#[0-9]' "$LOG/$name.out" | tail -n 60
            failed=$((failed + 1))
        fi
    done
fi

echo "== end-to-end tests"
export LATCHKEY_BIN="$BUILD/latchkey"
# tests/e2e/clients drives latchkey with client libraries from npm (test-only). They are
# installed from the committed lockfile, only when node_modules is missing or the lockfile
# changed since the last install (a copy of it is kept in node_modules as the stamp).
set -- "$ROOT"/tests/e2e/*.test.mjs
# tests/e2e/browser drives the web console in Debian's chromium with playwright-core
# (test-only, same lockfile scheme).
# tests/e2e/openapi lints docs/openapi.yaml and checks answers against it (same scheme);
# its tests run after the others, on the answers they captured (LATCHKEY_CAPTURE_DIR).
export LATCHKEY_CAPTURE_DIR="$LOG/capture"
mkdir -p "$LATCHKEY_CAPTURE_DIR"
openapi_ready=false
for dir in "$ROOT/tests/e2e/clients" "$ROOT/tests/e2e/browser" "$ROOT/tests/e2e/openapi"; do
    [ -f "$dir/package-lock.json" ] || continue
    rel=${dir#"$ROOT"/}
    stamp="$dir/node_modules/.latchkey-installed-lock.json"
    if ! cmp -s "$dir/package-lock.json" "$stamp"; then
        echo "npm ci --prefix $rel"
        if npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >"$LOG/npm.out" 2>&1; then
            cp "$dir/package-lock.json" "$stamp"
        else
            echo "FAIL npm ci --prefix $rel (its tests cannot run)"
            cat "$LOG/npm.out"
            failed=$((failed + 1))
        fi
    fi
    if ! cmp -s "$dir/package-lock.json" "$stamp"; then continue; fi
    if [ "$rel" = tests/e2e/openapi ]; then openapi_ready=true; else set -- "$@" "$dir"/*.test.mjs; fi
done
if ls "$@" >/dev/null 2>&1; then
    if node --test --test-reporter=tap "$@" >"$LOG/e2e.tap" 2>&1; then rc=0; else rc=$?; fi
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOG/e2e.tap" | tail -n 1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOG/e2e.tap" | tail -n 1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    grep -E '^(not ok|# (pass|fail|tests))' "$LOG/e2e.tap" | grep -v '^# tests' || true
    if [ "$f" -ne 0 ]; then
        echo "--- failing end-to-end output"; grep -B2 -A30 '^not ok\|^    not ok' "$LOG/e2e.tap" | head -n 400
    fi
    passed=$((passed + p)); failed=$((failed + f))
fi

# The server, user management and limits suites again on PostgreSQL, and the cluster
# test (three nodes on one PostgreSQL); the e2e libs make a database per test.
if [ -n "$PG_DIR" ]; then
    echo "== end-to-end tests on PostgreSQL"
    pg_started=$(date +%s)
    set -- "$ROOT"/tests/e2e/server-*.test.mjs "$ROOT"/tests/e2e/usermgmt-*.test.mjs "$ROOT"/tests/e2e/limits.test.mjs \
        "$ROOT"/tests/e2e/pg-*.test.mjs
    if LATCHKEY_TEST_DB=postgres LATCHKEY_PG_DIR="$PG_DIR" node --test --test-reporter=tap "$@" >"$LOG/e2e-pg.tap" 2>&1; then
        rc=0; else rc=$?; fi
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOG/e2e-pg.tap" | tail -n 1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOG/e2e-pg.tap" | tail -n 1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    grep -E '^(not ok|# (pass|fail|tests))' "$LOG/e2e-pg.tap" | grep -v '^# tests' || true
    if [ "$f" -ne 0 ]; then
        echo "--- failing end-to-end output (PostgreSQL)"; grep -B2 -A30 '^not ok\|^    not ok' "$LOG/e2e-pg.tap" | head -n 400
    fi
    passed=$((passed + p)); failed=$((failed + f))
    # the run's added time on PostgreSQL (the unit tests again, these suites, the cluster)
    echo "   PostgreSQL part: $((pg_seconds + $(date +%s) - pg_started)) s"
fi

if $openapi_ready; then
    echo "== docs/openapi.yaml against the answers captured above"
    if node --test --test-reporter=tap "$ROOT"/tests/e2e/openapi/*.test.mjs >"$LOG/openapi.tap" 2>&1; then rc=0; else rc=$?; fi
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOG/openapi.tap" | tail -n 1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOG/openapi.tap" | tail -n 1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    grep -E '^(not ok|# (pass|fail|Subtest)|    # [0-9]+ captured)' "$LOG/openapi.tap" || true
    if [ "$f" -ne 0 ]; then
        echo "--- failing openapi output"; grep -B2 -A40 '^not ok\|^    not ok' "$LOG/openapi.tap" | head -n 200
    fi
    passed=$((passed + p)); failed=$((failed + f))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
