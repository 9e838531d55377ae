#!/bin/sh
# Builds the Debian package of latchkey into build-deb/ (make deb): dpkg-buildpackage on a
# copy of the source tree, so that the build leaves the tree as it was. The copy is what
# git tracks plus files git does not ignore (a tree without git is copied whole, minus the
# build folders). Prints the path of the .deb.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build-deb
version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$ROOT/meson.build")
deb_version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
if [ "$version" != "$deb_version" ]; then
    echo "deb: meson.build says $version but debian/changelog $deb_version: add a changelog entry" >&2
    exit 1
fi
rm -rf "$OUT"
src=$OUT/src/latchkey-$version
mkdir -p "$src"
cd "$ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$src" -xf -
else
    tar --exclude='./build*' --exclude='./data' --exclude=node_modules -cf - . | tar -C "$src" -xf -
fi
cd "$src"
if ! dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$OUT/build.log" 2>&1; then
    tail -n 60 "$OUT/build.log" >&2
    echo "deb: dpkg-buildpackage failed (whole log: $OUT/build.log)" >&2
    exit 1
fi
mv "$OUT"/src/*.deb "$OUT"/src/*.buildinfo "$OUT"/src/*.changes "$OUT"/
ls "$OUT"/latchkey_"$version"_*.deb
