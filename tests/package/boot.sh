#!/bin/sh
# Boots the Debian root ROOT with systemd-nspawn until it powers off (tests/package/run.sh).
#   boot.sh ROOT TIMEOUT_SECONDS CONSOLE_LOG
# systemd-nspawn needs / to be a mount point and a cgroup hierarchy mounted. A bare chroot
# (such as the one the fresh-Debian check makes) has neither: there it runs from an rbind of
# / in a mount namespace of its own, with cgroup2 mounted on /sys/fs/cgroup, all of which go
# away with that namespace.
set -eu
root=$1 timeout=$2 log=$3
if [ "${LATCHKEY_BOOT_REROOTED:-}" != 1 ] && ! { mountpoint -q / && mountpoint -q /sys/fs/cgroup; }; then
    self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
    exec unshare --mount --propagation unchanged sh -c '
        mkdir -p /run/latchkey-pkgtest-root
        mount --rbind / /run/latchkey-pkgtest-root
        mount --make-rprivate /run/latchkey-pkgtest-root
        exec chroot /run/latchkey-pkgtest-root env LATCHKEY_BOOT_REROOTED=1 sh -c "
            mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
            exec sh \"\$0\" \"\$@\"" "$0" "$@"' "$self" "$root" "$timeout" "$log"
fi
exec timeout "$timeout" systemd-nspawn --quiet --register=no --keep-unit --console=passive \
    -D "$root" --boot >"$log" 2>&1
