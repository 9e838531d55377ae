#!/bin/sh
# The package test inside a brand-new Debian 12 system booted by systemd (tests/package/run.sh):
# installs the .deb with apt as an operator would and checks what the operator would check.
#   inside.sh /root/latchkey_VERSION_amd64.deb
# Prints "ok   ..." / "FAIL ..." lines and "N passed, N failed"; exits non-zero on a failure.
set -u
DEB=$1
URL=http://127.0.0.1:8080
DB=/var/lib/latchkey/latchkey.db
passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: the command's status decides
check() { d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; return 1; fi; }
# waits up to $1 seconds for a command to succeed
until_ok() { n=$1; shift; while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 1; n=$((n - 1)); done; return 1; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; exit $?; }

systemctl is-system-running --wait >/dev/null 2>&1 || true
export DEBIAN_FRONTEND=noninteractive

# --- install -------------------------------------------------------------------
apt-get update -qq >/dev/null 2>&1
# curl, sqlite3 and man-db are the test's tools (man-db also lets systemd-analyze verify
# find the manual pages the unit names)
if apt-get install -y -qq "$DEB" curl sqlite3 man-db >/root/apt.log 2>&1; then
    ok "apt-get install $(basename "$DEB") (its dependencies from Debian's archive)"
else
    fail "apt-get install"; tail -n 30 /root/apt.log; finish
fi
check "the system user latchkey exists, with no login shell" \
    sh -c 'getent passwd latchkey | grep -q ":/usr/sbin/nologin$"'
check "the unit is enabled" systemctl -q is-enabled latchkey.service
healthy() { curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null; }
check "the unit started on install and answers /healthz on 127.0.0.1:8080" until_ok 30 healthy ||
    { systemctl status --no-pager latchkey.service; journalctl -u latchkey.service --no-pager | tail -n 20; }
check "man finds the pages" sh -c 'man -w latchkey-serve >/dev/null && man -w latchkey >/dev/null'
pid=$(systemctl show -p MainPID --value latchkey.service)
check "the server runs as latchkey (pid $pid)" test "$(stat -c %U "/proc/$pid")" = latchkey
check "its database is in the state folder, owned by latchkey, mode 0600" \
    test "$(stat -c %U:%a "$DB" 2>/dev/null)" = latchkey:600
check "the state folder is mode 0700" test "$(stat -c %a /var/lib/latchkey)" = 700

# --- the unit --------------------------------------------------------------------
out=$(systemd-analyze verify /lib/systemd/system/latchkey.service 2>&1)
check "systemd-analyze verify latchkey.service: no complaint${out:+ ($out)}" test -z "$out"
security=$(systemd-analyze security --no-pager latchkey.service 2>&1 | sed -n 's/.*Overall exposure level for latchkey.service: \([0-9.]*\) \(.*\)/\1 \2/p')
echo "     systemd-analyze security latchkey.service: $security"
check "exposure below 2.0 (systemd calls up to 2.0 OK)" \
    awk -v s="${security%% *}" 'BEGIN { exit !(s != "" && s + 0 < 2.0) }'

# the unit's system call filter lets the store worker and the password pool lower their own
# priority (background_nice, password_nice)
thread_nice() { for t in /proc/"$pid"/task/*; do [ "$(cat "$t/comm")" = "$1" ] && sed 's/.*) //' "$t/stat" | cut -d' ' -f17; done; }
check "under the unit the store worker runs at niceness 19 (lk-store: $(thread_nice lk-store))" test "$(thread_nice lk-store)" = 19
check "... the password pool at 10 (lk-password: $(thread_nice lk-password | tr '\n' ' '))" test "$(thread_nice lk-password | sort -u)" = 10
check "... and the writer at the process's own (lk-writer: $(thread_nice lk-writer))" test "$(thread_nice lk-writer)" = 0

systemctl reload latchkey.service
reloaded() { journalctl -u latchkey.service -o cat | grep -q "SIGHUP: token keys read again, usage counts written; TLS is not configured"; }
check "systemctl reload: the server gets its SIGHUP (no TLS: it reads the keys again and writes the counts)" until_ok 10 reloaded
check "... and the same server goes on answering" \
    sh -c "[ \"\$(systemctl show -p MainPID --value latchkey.service)\" = $pid ] && curl -fsS -o /dev/null $URL/healthz"

# --- a token round trip with the installed binary and its default configuration -----
latchkey role create --name "API Only" --permission "Read-Only Lead" >/dev/null 2>&1 &&
latchkey user invite --email crm@example.com --first CRM --last Sync --role "API Only" --api-only >/dev/null 2>&1
check "root's CLI works on the service's database (no --db: the default configuration's)" test $? -eq 0
svc=$(latchkey --json service create --name "CRM Sync" --user crm@example.com 2>&1)
id=$(echo "$svc" | sed -n 's/.*"clientId": "\([^"]*\)".*/\1/p')
secret=$(echo "$svc" | sed -n 's/.*"clientSecret": "\([^"]*\)".*/\1/p')
check "service create printed a client id and secret" test -n "$id" -a -n "$secret"
check "every file next to the database still belongs to latchkey" \
    test -z "$(find /var/lib/latchkey ! -user latchkey)"
token() { tok=$(curl -fsS "$URL/identity/oauth/token?grant_type=client_credentials&client_id=$id&client_secret=$secret" 2>/dev/null |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'); [ -n "$tok" ]; }
check "the identity endpoint hands out a token for the new service" until_ok 10 token
rest() { curl -fsS -H "Authorization: Bearer $1" "$URL/rest/v1/stats/usage.json" | grep -q '"success":true'; }
check "the token works on /rest/v1/stats/usage.json" rest "$tok"

latchkey user invite --email person@example.com --first Per --last Son --role "API Only" >/dev/null 2>&1
mailed() { ls /var/lib/latchkey/outbox/*.eml >/dev/null 2>&1; }
check "an invitation is written to the outbox in the state folder (no smtp_host)" until_ok 15 mailed
check "... owned by latchkey" test -z "$(find /var/lib/latchkey ! -user latchkey)"

# --- backup while serving, a clean stop, restore ----------------------------------
# tokens verify themselves under the key file next to the database: the service's own,
# unreadable to anyone else (docs/security.md#token-keys)
check "the token signing key file is next to the database, owned by latchkey, mode 0600" \
    test "$(stat -c '%U %a' "$DB.keys" 2>/dev/null)" = "latchkey 600"
check "latchkey backup while the server runs" latchkey backup /var/lib/latchkey/drill.db
latchkey restore /var/lib/latchkey/drill.db >/root/restore.out 2>&1
check "latchkey restore is refused while the server runs" grep -q "stop it before restoring" /root/restore.out
t0=$(date +%s)
systemctl stop latchkey.service
t1=$(date +%s)
result=$(systemctl show -p Result --value latchkey.service)
status=$(systemctl show -p ExecMainStatus --value latchkey.service)
check "systemctl stop: a clean exit (result $result, status $status) in $((t1 - t0)) s, within TimeoutStopSec" \
    test "$result" = success -a "$status" = 0
check "the journal has the server's last record" sh -c 'journalctl -u latchkey.service -o cat | grep -q "msg=stopped"'
latchkey service delete "CRM Sync" >/dev/null 2>&1
check "latchkey restore into the stopped instance" latchkey restore /var/lib/latchkey/drill.db
check "the restored database belongs to latchkey" test -z "$(find /var/lib/latchkey ! -user latchkey)"
systemctl start latchkey.service
check "the server starts again on the restored database" until_ok 30 healthy
check "the token issued before the backup works after the restore" until_ok 10 rest "$tok"
check "the restored service still trades its secret for a token" until_ok 10 token

# --- what else the package installs ------------------------------------------------
check "a manual page per command group" test -f /usr/share/man/man1/latchkey-user.1.gz -a \
    -f /usr/share/man/man1/latchkey-serve.1.gz -a -f /usr/share/man/man1/latchkey-backup.1.gz
check "the default configuration file, every line commented out" \
    sh -c '! grep -v "^#" /etc/latchkey/latchkey.conf | grep -q .'
completion() { bash -c '. /usr/share/bash-completion/completions/latchkey; COMP_WORDS=(latchkey us); COMP_CWORD=1; _latchkey; echo "${COMPREPLY[*]}"'; }
check "bash completion completes nouns" test "$(completion)" = "user usage"

# --- removal -------------------------------------------------------------------------
apt-get remove -y -qq latchkey >/root/apt-remove.log 2>&1
check "apt-get remove stops the service" sh -c '! systemctl -q is-active latchkey.service'
check "the database stays after remove" test -f "$DB"
apt-get purge -y -qq latchkey >>/root/apt-remove.log 2>&1
check "purge removes /etc/latchkey" test ! -e /etc/latchkey/latchkey.conf
finish
