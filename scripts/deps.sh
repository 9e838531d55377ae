#!/bin/sh
# Installs the Debian packages latchkey needs to build and test, only those missing.
# Idempotent and silent when everything is present.
#   sh scripts/deps.sh          what building and testing need
#   sh scripts/deps.sh bench    only what `make bench` needs besides (reference server, load tool)
#   sh scripts/deps.sh package  only what `make deb` and `make package-test` need besides
set -eu

# What building needs: the Build-Depends of debian/control, word for word, besides the
# compiler and C library Debian's build-essential stands for there (tests/e2e/install.test.mjs
# compares the two lists)
BUILD_DEPS="meson ninja-build pkgconf libsqlite3-dev libpq-dev libsodium-dev libjansson-dev \
libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev python3 python3-yaml"

case "${1:-}" in
    "")
        PACKAGES="$BUILD_DEPS gcc libc6-dev libcmocka-dev \
nodejs valgrind sqlite3 clang libclang-rt-14-dev tzdata chromium \
python3-aiosmtpd openssl groff-base nginx caddy faketime \
postgresql postgresql-client" ;;
    bench)
        PACKAGES="nginx wrk util-linux procps sqlite3 coreutils curl" ;;
    package)
        # debhelper: debian/control's debhelper-compat
        PACKAGES="dpkg-dev debhelper lintian debootstrap systemd-container" ;;
    *)
        echo "deps: unknown group '$1' (known: bench, package)" >&2
        exit 1 ;;
esac

# one run at a time (make -j bench deb, or two make runs): a second apt-get would fail on
# the lock of the first, and the check below must see what the first installed
if command -v flock >/dev/null 2>&1; then
    exec 9<"$0"
    flock 9
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
# node may come from outside Debian's packages (the base image ships its own)
if command -v node >/dev/null 2>&1; then
    missing=$(echo "$missing" | sed 's/ nodejs//')
fi
# chromium: the headless browser of the console tests (tests/e2e/browser, playwright-core
# drives /usr/bin/chromium); it is listed above and so installed only when missing
# npm installs the test-only client libraries of tests/e2e/clients (tests/run.sh); a node
# from elsewhere usually brings its own npm, and Debian's npm would pull Debian's nodejs
if [ -z "${1:-}" ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi
[ -z "$(echo "$missing" | tr -d ' ')" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "deps: missing packages:$missing — run as root: apt-get install$missing" >&2
        exit 1
    fi
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
