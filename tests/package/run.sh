#!/bin/sh
# The package test (make package-test, after make deb): lintian at every level, then the
# .deb installed with apt into a brand-new Debian 12 system booted with systemd-nspawn,
# where tests/package/inside.sh checks it as an operator would (docs/testing.md#the-package).
#
# Needs root, debootstrap and systemd-container (scripts/deps.sh package) and a few
# minutes. The clean root is cached as a tarball in /var/tmp (debootstrap minbase plus
# systemd) and unpacked afresh for every run. Prints the inside log; exit 0 when every
# check passed.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build-deb
BASE=/var/tmp/latchkey-pkgtest-bookworm.tar
BOOT_TIMEOUT=${PACKAGE_TEST_TIMEOUT:-900}

[ "$(id -u)" -eq 0 ] || { echo "package-test: needs root (debootstrap, systemd-nspawn)" >&2; exit 1; }
deb=$(ls "$OUT"/latchkey_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "package-test: no package in $OUT; run make deb" >&2; exit 1; }

echo "== lintian $(basename "$OUT"/latchkey_*.changes)"
lintian --pedantic -I --fail-on error,warning,info,pedantic "$OUT"/latchkey_*.changes 2>&1 |
    grep -v '^running with root privileges' || true
lintian --pedantic -I --fail-on error,warning,info,pedantic "$OUT"/latchkey_*.changes >/dev/null 2>&1 ||
    { echo "FAIL lintian"; exit 1; }
echo "ok   lintian: no tag at any level"

echo "== make install PREFIX=/usr DESTDIR=…: the files of the package"
stage=$(mktemp -d /var/tmp/latchkey-stage.XXXXXX)
# what both install, with the package's /lib/systemd, compressed pages and docs set aside
files() { sed -e 's|^\./||' -e 's|^lib/systemd/|usr/lib/systemd/|' -e 's|\.gz$||' | grep -v -e '^usr/share/doc/' -e '^usr/share/lintian/' | sort; }
if make -C "$ROOT" --no-print-directory install PREFIX=/usr DESTDIR="$stage" >"$stage.log" 2>&1 &&
   [ "$(cd "$stage" && find . -type f | files)" = "$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | files)" ]; then
    echo "ok   make install: $(cd "$stage" && find . -type f | wc -l) files, the same as the package's"
    rm -rf "$stage" "$stage.log"
else
    cat "$stage.log"; (cd "$stage" && find . -type f | files); dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | files
    echo "FAIL make install and the package differ"
    rm -rf "$stage" "$stage.log"
    exit 1
fi

if [ ! -f "$BASE" ]; then
    echo "== a Debian 12 root (debootstrap, once; cached in $BASE)"
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    tmp=$(mktemp -d /var/tmp/latchkey-pkgtest-base.XXXXXX)
    if ! debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates \
            bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1; then
        tail -n 30 "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        echo "package-test: debootstrap failed" >&2
        exit 1
    fi
    tar -C "$tmp" -cf "$BASE.part" . && mv "$BASE.part" "$BASE"
    rm -rf "$tmp" "$tmp.log"
fi

root=$(mktemp -d /var/tmp/latchkey-pkgtest.XXXXXX)
trap 'rm -rf "$root" "$root.boot.log"' EXIT

# a fresh root from the cached tarball, with the package and the checks in it
prepare_root() {
    find "$root" -mindepth 1 -delete
    tar -C "$root" -xf "$BASE"
    chmod 755 "$root"   # the new system's / (mktemp made it 0700; services run as other users)
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
    cp "$deb" "$ROOT/tests/package/inside.sh" "$root/root/"
    # the checks run as a service of the booted system, which powers off when they end
    cat >"$root/etc/systemd/system/latchkey-package-test.service" <<EOF
[Unit]
Description=latchkey package test (tests/package/inside.sh)

[Service]
Type=simple
ExecStart=/bin/sh -c '/bin/sh /root/inside.sh /root/$(basename "$deb") >/root/package-test.log 2>&1; echo \$? >/root/package-test.rc'
ExecStopPost=/bin/systemctl poweroff --no-block

[Install]
WantedBy=multi-user.target
EOF
    mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
    ln -s ../latchkey-package-test.service "$root/etc/systemd/system/multi-user.target.wants/"
    # Run from a chroot (as the fresh-Debian check does), the container cannot make user
    # namespaces (the kernel refuses them to chrooted processes), so PrivateUsers= cannot work
    # there: the unit then runs with a drop-in that turns it off, and the test says so.
    if ! unshare --user true 2>/dev/null; then
        mkdir -p "$root/etc/systemd/system/latchkey.service.d"
        printf '[Service]\nPrivateUsers=no\n' >"$root/etc/systemd/system/latchkey.service.d/chroot.conf"
        echo "NOTE this machine cannot make user namespaces here (a chroot: the kernel refuses them):"
        echo "     the unit runs with a drop-in PrivateUsers=no; everything else as the package ships it"
    fi
    # a machine id, so that the journal and systemd-analyze work as on an installed system
    rm -f "$root/etc/machine-id" && systemd-machine-id-setup --root="$root" >/dev/null 2>&1 || true
}

# Boots the root (tests/package/boot.sh) with the cgroup layout $1. Fails when the checks
# inside wrote nothing, after printing the container's console: with 2 when nspawn gave up
# by itself, with 1 when it was still running at the timeout.
boot() {
    prepare_root
    echo "== booting it (systemd-nspawn, cgroups: $1), installing $(basename "$deb") with apt, checking"
    status=0
    sh "$ROOT/tests/package/boot.sh" "$root" "$BOOT_TIMEOUT" "$root.boot.log" "$1" || status=$?
    case $status in
    0) ;;
    124) echo "package-test: systemd-nspawn was still running after $BOOT_TIMEOUT s" >&2 ;;
    *) echo "package-test: the boot ended with status $status" >&2 ;;
    esac
    [ -s "$root/root/package-test.log" ] && return 0
    echo "the checks inside wrote nothing; the container's console:"
    tail -n 40 "$root.boot.log"
    [ "$status" -eq 124 ] && return 1
    return 2
}

# nspawn may refuse a host's cgroups in one layout and take them in the other (CI saw it
# give up at once on its compat systemd cgroup): then the checks run in the other layout.
result=0
boot own || result=$?
if [ "$result" -eq 2 ]; then
    echo "== booting again with the host's own cgroup hierarchy"
    boot host || true
fi
[ -s "$root/root/package-test.log" ] && cat "$root/root/package-test.log"
rc=$(cat "$root/root/package-test.rc" 2>/dev/null || echo 99)
[ "$rc" -eq 0 ] && echo "package-test: passed" || echo "package-test: FAILED (inside exit $rc)"
exit "$rc"
