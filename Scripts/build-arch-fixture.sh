#!/usr/bin/env bash
# Builds the test Arch package (Tests/Fixtures/arch/arch-hello) with Debian's makepkg,
# compressed as EXT (.pkg.tar.zst or .pkg.tar.xz), into OUT_DIR. makepkg refuses root,
# so it runs as nobody. Usage: Scripts/build-arch-fixture.sh OUT_DIR [EXT]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$1
ext=${2:-.pkg.tar.zst}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/Tests/Fixtures/arch/arch-hello/* "$work/"
mkdir -p "$out"
chown -R nobody "$work" "$out"
# PACMAN=true: with --nodeps makepkg never calls pacman, but it insists one exists.
(cd "$work" && runuser -u nobody -- env HOME="$work" PACMAN=true PKGDEST="$out" PKGEXT="$ext" \
    makepkg --force --nodeps --noconfirm >/dev/null)
ls "$out"/arch-hello-*"$ext"
