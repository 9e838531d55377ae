#!/bin/sh
# Boots the Debian root ROOT with systemd-nspawn until it powers off (tests/package/run.sh).
#   boot.sh ROOT TIMEOUT_SECONDS CONSOLE_LOG [own|host]
#
# systemd-nspawn needs / to be a mount point and a cgroup hierarchy it understands, and hosts
# differ: cgroup v2, v1, or hybrid (v1 with systemd's own hierarchy in v2), a bare chroot (such
# as the fresh-Debian check's) with neither a mount at / nor any cgroup. So nspawn runs in a
# mount namespace of its own (everything mounted here goes away with it):
#   own   (the default) /sys/fs/cgroup is a plain cgroup2 mount, and the container is told to
#         use it (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1): the same layout on every host;
#   host  the host's hierarchy as it is (only mounted when there is none), nspawn's own choice.
# Where / is not a mount point, it first re-roots into an rbind of / (made private).
set -eu
root=$1 timeout=$2 log=$3 cgroups=${4:-own}
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
if [ "${LATCHKEY_BOOT_NAMESPACE:-}" != 1 ]; then
    # "--propagation private" would fail where / is not a mount point (a chroot): made
    # private below instead
    exec unshare --mount --propagation unchanged env LATCHKEY_BOOT_NAMESPACE=1 sh "$self" "$@"
fi
if [ "${LATCHKEY_BOOT_REROOTED:-}" = 1 ]; then
    : # running from the rbind of /, private already
elif mountpoint -q /; then
    mount --make-rprivate /
else
    mkdir -p /run/latchkey-pkgtest-root
    mount --rbind / /run/latchkey-pkgtest-root
    mount --make-rprivate /run/latchkey-pkgtest-root
    exec chroot /run/latchkey-pkgtest-root env LATCHKEY_BOOT_REROOTED=1 sh "$self" "$@"
fi
case $cgroups in
own)
    [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || mount -t cgroup2 cgroup2 /sys/fs/cgroup
    export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 ;;
host)
    mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup ;;
*)
    echo "boot.sh: cgroups must be own or host, not $cgroups" >&2; exit 2 ;;
esac
echo "cgroups: $cgroups; /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup); this process: $(tr '\n' ' ' </proc/self/cgroup)" >"$log"
exec timeout "$timeout" systemd-nspawn --quiet --register=no --keep-unit --console=passive \
    -D "$root" --boot >>"$log" 2>&1
